"""The bit-serial neuron (seed 003): B-bit activations, their error-free conversion at T = B in
float, fixed point and on the Lava simulator, and the bit-sparsity regularizer."""
import numpy as np
import pytest
import torch

from loihi_pinn.conversion import convert, emulate
from loihi_pinn.errors import InputError
from loihi_pinn.loihi import quantize
from loihi_pinn.neurons.bitserial import bitserial_spikes, integer_reference, levels_of
from loihi_pinn.models import PINN, BitSerialQCFS, build_mlp
from loihi_pinn.training.distill import forward_with_bits


def random_pinn(activation="bitserial", params=None, sizes=(2, 12, 10, 1), seed=0) -> PINN:
    torch.manual_seed(seed)
    net = build_mlp(list(sizes), activation, params=params)
    for m in net:
        if isinstance(m, BitSerialQCFS) and m.shape == "linear":
            m.theta.data.fill_(1.7)
    return PINN(net, [0.0, -1.0], [2.0, 1.0]).double()


def random_points(n, seed=1):
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(0, 2, n), rng.uniform(-1, 1, n)])


@pytest.mark.parametrize("bits", [1, 3, 6])
def test_linear_table_is_seed_003_qcfs(bits):
    theta, shift = 1.3, 0.5
    act = BitSerialQCFS(bits, shift, "linear", theta).double()
    z = (torch.rand(20000, dtype=torch.float64) * 2 - 1) * 1.5 * theta
    m = np.minimum(2 ** bits - 1, np.floor(2 ** bits * np.abs(z.numpy()) / theta + shift))
    expected = np.sign(z.numpy()) * theta * m / 2 ** bits
    assert np.allclose(act(z).detach().numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("shape", ["linear", "tanh"])
def test_spikes_are_the_bits_of_the_level_most_significant_first(shape):
    bits = 5
    act = BitSerialQCFS(bits, 0.5, shape, 1.3).double()
    u = torch.randn(4000, dtype=torch.float64) * 1.5
    spikes = bitserial_spikes(u, act.thresholds(), bits)                      # (bits, n)
    place = torch.tensor([2.0 ** (bits - 1 - t) for t in range(bits)], dtype=torch.float64)
    assert set(spikes.unique().tolist()) <= {-1.0, 0.0, 1.0}
    assert torch.equal((place[:, None] * spikes).sum(0), torch.sign(u) * act.magnitude(u))


@pytest.mark.parametrize("shape,bits", [("linear", 1), ("linear", 4), ("tanh", 3), ("tanh", 6)])
def test_bitserial_snn_equals_its_source_network_at_T_equal_B(shape, bits):
    model = random_pinn(params={"bits": bits, "shape": shape})
    points = random_points(3000)
    snn = convert(model, "bitserial", bits, points)
    assert snn.layers[0].weight.dtype == torch.float64
    out, stats = emulate(snn, points)
    with torch.no_grad():
        expected = model(torch.as_tensor(points)).numpy()
    assert np.abs(out - expected).max() < 1e-10 * max(1.0, np.abs(expected).max())
    assert stats.timesteps == bits and 0 < stats.spike_rate < 1


def test_a_tanh_pinn_converts_as_tanh_rounded_to_T_bits():
    model = random_pinn("tanh")
    rounded = random_pinn("bitserial", {"bits": 7, "shape": "tanh"})
    rounded.load_state_dict(model.state_dict(), strict=False)
    points = random_points(2000)
    snn = convert(model, "bitserial", 7, points)
    with torch.no_grad():
        expected, smooth = rounded(torch.as_tensor(points)).numpy(), model(torch.as_tensor(points)).numpy()
    out = emulate(snn, points)[0]
    assert np.abs(out - expected).max() < 1e-5                  # float32 weights in the SNN
    assert 0 < np.abs(out - smooth).max() < 0.05                 # 7 bits of tanh: close to the PINN, not equal


def test_fixed_point_equals_the_integer_network_to_the_last_bit():
    model = random_pinn(params={"bits": 4, "shape": "tanh"}, seed=3)
    points = random_points(1500, seed=4)
    qnet = quantize(convert(model, "bitserial", 4, points), points)
    messages = qnet.encode(random_points(700, seed=5))
    raw, stats = qnet.run_integers(messages)
    assert np.array_equal(raw, integer_reference(qnet.layers, messages))
    assert stats.steps == 2 + 2 * 4                               # two hidden layers of 4 steps, input, readout
    snn_out = emulate(convert(model, "bitserial", 4, points), random_points(700, seed=5))[0]
    # only the rounding of weights and inputs differs (a rare level flip): a small rel L2 difference
    assert np.linalg.norm(qnet.decode(raw) - snn_out) < 0.03 * np.linalg.norm(snn_out)


def test_levels_of_counts_thresholds_reached():
    table = np.array([3, 7, 12])
    assert levels_of(np.array([0, 2, 3, -7, 11, 12, -100]), table).tolist() == [0, 0, 1, -2, 2, 3, -3]


def test_lava_simulator_equals_the_fixed_point_emulator():
    from loihi_pinn.runtime.lava_graph import run_lava

    model = random_pinn(params={"bits": 3, "shape": "linear"}, sizes=(2, 6, 5, 1), seed=7)
    points = random_points(400, seed=8)
    qnet = quantize(convert(model, "bitserial", 3, points), points)
    messages = qnet.encode(random_points(7, seed=9))
    emulated, _ = qnet.run_integers(messages)
    assert np.array_equal(run_lava(qnet, messages, progress=False), emulated)


def test_netx_round_trip_and_loihi2_refusal(tmp_path):
    from loihi_pinn.export import read_netx, write_netx
    from loihi_pinn.runtime import HardwareUnavailable, Runner

    model = random_pinn(params={"bits": 2, "shape": "tanh"})
    points = random_points(500)
    qnet = quantize(convert(model, "bitserial", 2, points), points)
    path = write_netx(qnet, tmp_path / "b.net")
    back = read_netx(path)
    assert back.neuron == "bitserial" and back.timesteps == 2 and back.steps == qnet.steps
    for a, b in zip(qnet.layers, back.layers):
        assert np.array_equal(a.weight, b.weight) and np.array_equal(a.bias, b.bias)
        assert (a.levels is None and b.levels is None) or np.array_equal(a.levels, b.levels)
    with pytest.raises(HardwareUnavailable, match="custom microcode"):
        Runner(path, "loihi2")


def test_conversion_errors_name_the_fix():
    with pytest.raises(InputError, match="--timesteps 4"):
        convert(random_pinn(params={"bits": 4}), "bitserial", 3, random_points(100))
    with pytest.raises(InputError, match="bit-serial"):
        convert(random_pinn("relu"), "bitserial", 3, random_points(100))
    with pytest.raises(InputError, match="--neuron bitserial"):
        convert(random_pinn(params={"bits": 4}), "signed_if", 4, random_points(100))


def test_sparsity_regularizer_lowers_the_fraction_of_one_bits():
    x = torch.as_tensor(random_points(2048), dtype=torch.float64)
    fractions = {}
    for weight in (0.0, 0.05):
        model = random_pinn(params={"bits": 4, "shape": "tanh"}, seed=11)
        with torch.no_grad():
            target = model(x)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(150):
            out, ones = forward_with_bits(model, x)
            loss = torch.mean((out - target) ** 2) + weight * ones
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        fractions[weight] = float(forward_with_bits(model, x)[1])
    assert fractions[0.05] < 0.8 * fractions[0.0]


@pytest.mark.slow
@pytest.mark.parametrize("activation,neuron", [(["--activation", "bitserial", "--bits", "3"], "bitserial"),
                                               (["--activation", "qcfs", "--levels", "4"], "qcfs-if")])
def test_cli_trains_converts_exports_and_runs_on_the_lava_simulator(tmp_path, capsys, activation, neuron):
    from loihi_pinn.cli import main

    ckpt, snn, net = tmp_path / "q", tmp_path / "q.snn", tmp_path / "q.net"
    assert main(["train", "sin", *activation, "--init-from", "sin", "--steps", "40", "--out", str(ckpt), "--quiet"]) == 0
    extra = ["--timesteps", "4", "--calibration", "none"] if neuron == "qcfs-if" else []
    assert main(["convert", str(ckpt), "--neuron", neuron, *extra, "--out", str(snn), "--quiet"]) == 0
    assert main(["export", str(snn), "--out", str(net)]) == 0
    assert main(["inspect", str(net)]) == 0 and main(["check", str(net)]) == 0
    capsys.readouterr()
    assert main(["run", str(net), "--backend", "lava-sim", "--points", "8"]) == 0
    out = capsys.readouterr().out
    assert "lava-sim" in out and "rel L2" in out
    if neuron == "bitserial":                     # T defaults to the checkpoint's bits, calibration to none
        from loihi_pinn.conversion import SpikingNetwork
        converted = SpikingNetwork.load(snn)
        assert converted.timesteps == 3 and converted.metadata["calibration"] == "none"
