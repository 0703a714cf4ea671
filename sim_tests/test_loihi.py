"""Loihi 2 fixed point, netx export and the Runner: bit-exactness against Lava, files, bad input."""
import h5py
import numpy as np
import pytest
import torch

from loihi_pinn.conversion import calibrate, convert, emulate
from loihi_pinn.errors import InputError
from loihi_pinn.export import read_model_card, read_netx, write_netx
from loihi_pinn.loihi import FixedPointLayer, QuantizedNetwork, StateOverflow, calibrate_fixed_point, quantize, run_integers
from loihi_pinn.loihi.lava_env import import_netx
from loihi_pinn.loihi.resources import estimate
from loihi_pinn.models import PINN, build_mlp
from loihi_pinn.neurons import get_neuron
from loihi_pinn.neurons.sigma_delta import NETX_ARGS
from loihi_pinn.runtime import HardwareUnavailable, Runner

LOWER, UPPER = [-1.0, 0.0], [1.0, 2.0]
SIGMA_DELTA = get_neuron("sigma_delta")


@pytest.fixture(scope="module")
def small_snn():
    """A random 2-16-16-1 tanh PINN converted to sigma-delta with 4 ReLU pieces a unit."""
    torch.manual_seed(1)
    model = PINN(build_mlp([2, 16, 16, 1], "tanh"), LOWER, UPPER)
    points = np.random.default_rng(0).uniform(LOWER, UPPER, (512, 2))
    net = convert(model, "sigma_delta", 8, points, pieces=4, metadata={"problem": "poisson"})
    return net, points


def test_the_relay_form_equals_the_dense_form_in_float(small_snn):
    from loihi_pinn.neurons.sigma_delta import float_pass
    net, points = small_snn
    assert net.relay                                           # the sigma-delta default
    x = net.normalize(torch.as_tensor(points))
    dense, relay = net.neuron_level(relay=False), net.neuron_level()
    # the first layer (fan-in 2) keeps its pieces; the second gets a relay pair per unit
    assert [tuple(w.shape) for w, _ in dense] == [(64, 2), (64, 64), (1, 64)]
    assert [tuple(w.shape) for w, _ in relay] == [(64, 2), (32, 64), (64, 32), (1, 64)]
    assert sum(int((w != 0).sum()) for w, _ in relay) < 0.6 * sum(int((w != 0).sum()) for w, _ in dense)
    torch.testing.assert_close(float_pass(relay, x)[-1]["pre"], float_pass(dense, x)[-1]["pre"], rtol=0, atol=1e-12)
    assert len(net.neuron_level_thresholds()) == len(relay)


@pytest.fixture(scope="module")
def small_file(small_snn, tmp_path_factory):
    net, points = small_snn
    qnet = calibrate_fixed_point(quantize(net, points), net, points)
    return write_netx(qnet, tmp_path_factory.mktemp("netx") / "small.net"), qnet


def _rate_coded_file(neuron: str, folder):
    """The same kind of PINN converted to a rate-coded IF model, light calibration, exported."""
    torch.manual_seed(1)
    model = PINN(build_mlp([2, 16, 16, 1], "tanh"), LOWER, UPPER)
    points = np.random.default_rng(0).uniform(LOWER, UPPER, (512, 2))
    net = convert(model, neuron, 16, points, metadata={"problem": "poisson"})
    calibrate(net, model, points, "light", iterations=20, progress=False)
    qnet = calibrate_fixed_point(quantize(net, points), net, points)
    return write_netx(qnet, folder / f"{neuron}.net"), qnet, net


@pytest.fixture(scope="module")
def small_cuba_file(tmp_path_factory):
    """IF with hard reset: Loihi's CUBA LIF."""
    return _rate_coded_file("if_hard", tmp_path_factory.mktemp("netx"))


@pytest.fixture(scope="module")
def small_signed_file(tmp_path_factory):
    """Seed 000's signed IF: our SIGNED_IF netx type and Lava process."""
    return _rate_coded_file("signed_if", tmp_path_factory.mktemp("netx"))


def test_fixed_point_by_hand():
    # one SigmaDelta neuron (w = 3, bias 1 -> 64 in state, vth 0) and a Sigma readout (w = 2).
    # Rest (zero input, settled before the point): hidden act = relu(0 + 64) = 64 -> sent 64 >> 6 = 1,
    # readout sigma = 2 * 1 = 2. The point: step 1: input buffered; step 2: hidden sigma = 3 * 100 = 300,
    # act 364, delta 300 -> sends 300 >> 6 = 4; step 3: readout += 2 * 4 -> 10. One message for the point
    # (the bias's was sent once, at rest). Exact: 2 * 364 / 64 = 11.4: the floors show.
    layers = [FixedPointLayer([[3]], [1], 0), FixedPointLayer([[2]], [0], 0, readout=True)]
    sigma, stats = run_integers(SIGMA_DELTA, layers, np.array([[100]]), 1)
    assert sigma.tolist() == [[10]]
    assert stats.steps == 3 and stats.messages == [1] and stats.input_messages == 1
    assert stats.synops == 1 * 1 + 1 * 1


def test_a_zero_weight_is_no_synaptic_op():
    # two hidden neurons, the second without a synapse to the readout; the input reaches only the first
    layers = [FixedPointLayer([[3, 0], [0, 0]], [0, 1], 0), FixedPointLayer([[2, 0]], [0], 0, readout=True)]
    _, stats = run_integers(SIGMA_DELTA, layers, np.array([[100, 100]]), 1)
    assert stats.input_messages == 2 and stats.messages == [1]
    assert stats.synops == 1 + 1                     # input 1 -> neuron 1, neuron 1 -> readout; not 2 * 2 + 1 * 1


def test_delta_threshold_holds_back_small_changes():
    layers = [FixedPointLayer([[1]], [0], 2), FixedPointLayer([[1]], [0], 0, readout=True)]
    sigma, stats = run_integers(SIGMA_DELTA, layers, np.array([[100], [200]]), 1)   # vth 2 -> 128 in state
    assert sigma.ravel().tolist() == [0, 3]                          # 100 < 128 is never sent
    assert stats.messages == [1]


def test_folded_network_equals_expansion(small_snn):
    net, points = small_snn
    x = net.normalize(torch.tensor(points))
    h = x
    for w, b in net.neuron_level()[:-1]:
        h = torch.relu(h @ w.T + b)
    w, b = net.neuron_level()[-1]
    folded = h @ w.T + b
    h = x
    for layer in net.layers[:-1]:
        h = layer.expansion.relu_readout(h @ layer.weight.double().T + layer.bias.double())
    units = h @ net.layers[-1].weight.double().T + net.layers[-1].bias.double()
    assert torch.allclose(folded, units, atol=1e-10)


def test_quantized_close_to_float_and_calibration_helps(small_snn):
    net, points = small_snn
    test = np.random.default_rng(5).uniform(LOWER, UPPER, (400, 2))
    float_out = emulate(net, test)[0]
    qnet = quantize(net, points)
    before = np.linalg.norm(qnet.run(test)[0] - float_out)
    calibrate_fixed_point(qnet, net, points)
    after = np.linalg.norm(qnet.run(test)[0] - float_out)
    assert after <= before * 1.05
    assert after / np.linalg.norm(float_out) < 0.05
    assert all(l.weight.dtype == np.int64 for l in qnet.layers)


def test_signed_if_layers_load_with_the_netx_extension(small_signed_file):
    from loihi_pinn.runtime.netx_ext import Network
    path, qnet, _ = small_signed_file
    net = Network(str(path), **read_model_card(path)["netx_args"])
    assert [type(l.neuron).__name__ for l in net.layers] == ["SignedIF", "SignedIF", "LIF"]
    assert int(net.layers[0].neuron.signed.init) == 1 and qnet.layers[0].signed


def test_overflow_of_24_bit_state_is_refused():
    layers = [FixedPointLayer([[254, 254]], [0], 0), FixedPointLayer([[1]], [0], 0, readout=True)]
    with pytest.raises(StateOverflow, match="24-bit"):
        run_integers(SIGMA_DELTA, layers, np.array([[20000, 20000]]), 1)         # 254 * 40000 > 2^23


def test_stock_netx_loads_export(small_file, small_cuba_file):
    netx = import_netx()
    path, qnet = small_file
    net = netx.hdf5.Network(str(path), **NETX_ARGS)          # pieces, relay pairs, pieces, readout
    assert [type(l.neuron).__name__ for l in net.layers] == ["SigmaDelta", "SigmaDelta", "SigmaDelta", "Sigma"]
    assert [l.neuron.shape[0] for l in net.layers] == [l.size for l in qnet.layers]
    path, qnet, _ = small_cuba_file
    net = netx.hdf5.Network(str(path), **read_model_card(path)["netx_args"])
    assert [type(l.neuron).__name__ for l in net.layers] == ["LIF", "LIF", "LIF"]
    assert int(net.layers[0].neuron.du.init) == 4095 and int(net.layers[0].neuron.dv.init) == 0


def test_export_round_trip_gives_same_content(small_file, tmp_path):
    path, _ = small_file
    again = write_netx(read_netx(path), tmp_path / "again.net")

    def content(p):
        items = {}
        with h5py.File(p, "r") as f:
            f.visititems(lambda name, obj: items.__setitem__(name, obj[()].tolist())
                         if isinstance(obj, h5py.Dataset) else None)
            items["card"] = f.attrs["loihi_pinn_model_card"]
        return items
    assert content(path) == content(again)


def test_cuba_by_hand():
    # IF neuron: bias 0, w = 1, threshold mantissa 2 (128 in v), input message 50 every step:
    # u = 50 << 6 = 3200 from step 2 on; v 3200 > 128 fires at once each step (hard reset), so the
    # readout (w = 3) gets 3 * 64 = 192 a step from step 3: after T + 2 = 6 steps v = 4 * 192.
    from loihi_pinn.neurons.integrate_fire import READOUT_VTH
    layers = [FixedPointLayer([[1]], [0], 2), FixedPointLayer([[3]], [0], READOUT_VTH, readout=True)]
    v, stats = run_integers(get_neuron("if_hard"), layers, np.array([[50]]), 4)
    assert v.tolist() == [[4 * 192]] and stats.steps == 6 and stats.messages == [5]
    # v0 = 100 and a small input 1 (64 a step); v > 128 fires, and only spikes before the last step arrive
    layers[0] = FixedPointLayer([[1]], [0], 2, v0=[100])
    v, _ = run_integers(get_neuron("if_hard"), layers, np.array([[1]]), 4)
    assert v.tolist() == [[2 * 192]]      # fires at steps 2 and 5 (v: 100, 164 -> 0, 64, 128, 192 -> 0, 64)


def test_cuba_quantization_close_to_float(small_cuba_file):
    _, qnet, net = small_cuba_file
    test = np.random.default_rng(5).uniform(LOWER, UPPER, (300, 2))
    float_out = emulate(net, test)[0]
    assert np.linalg.norm(qnet.run(test)[0] - float_out) / np.linalg.norm(float_out) < 0.2
    assert qnet.layers[0].v0 is not None and qnet.steps == 16 + len(qnet.layers)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["sigma_delta", "if_hard", "signed_if"])
def test_lava_simulator_is_bit_exact_with_emulator(which, small_file, small_cuba_file, small_signed_file):
    path, qnet = {"sigma_delta": small_file, "if_hard": small_cuba_file[:2], "signed_if": small_signed_file[:2]}[which]
    points = np.random.default_rng(3).uniform(LOWER, UPPER, (7, 2))
    emulated = Runner(path, "emulator").predict(points)
    for copies in (1, 3):                            # 3 copies: the last batch is padded
        lava = Runner(path, "lava-sim", copies=copies, progress=False)
        assert np.array_equal(lava.predict(points), emulated)
        assert lava.stats.points == 7 and lava.stats.steps_per_point == qnet.steps


def test_loihi2_backend_says_what_is_missing(small_file, small_signed_file):
    with pytest.raises(HardwareUnavailable, match="lava-loihi"):
        Runner(small_file[0], "loihi2")
    with pytest.raises(HardwareUnavailable, match="microcode"):
        Runner(small_signed_file[0], "loihi2")


def test_bad_files_and_points_give_clear_errors(small_file, tmp_path):
    path, _ = small_file
    truncated = tmp_path / "truncated.net"
    truncated.write_bytes(path.read_bytes()[:300])
    with pytest.raises(InputError, match="not an HDF5|corrupted|truncated"):
        Runner(truncated)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("x", data=[1, 2])
    with pytest.raises(InputError, match="not a netx network"):
        Runner(other)
    nan = tmp_path / "nan.net"
    nan.write_bytes(path.read_bytes())
    with h5py.File(nan, "a") as f:
        w = f["layer/1/weight"][()].astype(float)
        w[0, 0] = np.nan
        del f["layer/1/weight"]
        f["layer/1/weight"] = w
    with pytest.raises(InputError, match="NaN"):
        Runner(nan)
    runner = Runner(path)
    with pytest.raises(InputError, match="shape"):
        runner.predict(np.zeros((4, 3)))
    with pytest.raises(InputError, match="NaN"):
        runner.predict(np.full((4, 2), np.nan))


def test_chip_estimate(small_file):
    _, qnet = small_file
    est = estimate(qnet, synops_per_point=1000)
    assert est.fits_one_chip and est.cores == len(qnet.layers)
    assert est.neurons == sum(l.size for l in qnet.layers) and est.energy_uj > 0
    wide = QuantizedNetwork([FixedPointLayer(np.ones((20000, 1000), np.int64), np.zeros(20000, np.int64), 0),
                             FixedPointLayer(np.ones((1, 20000), np.int64), [0], 0, readout=True)],
                            1.0, 1.0, [0.0], [0.0] * 1000, [1.0] * 1000)
    assert not estimate(wide).fits_one_chip


def test_cli_export_inspect_check_run(small_snn, tmp_path, capsys):
    from loihi_pinn.cli import main
    net, _ = small_snn
    converted = net.save(tmp_path / "small.snn")
    out = tmp_path / "small.net"
    assert main(["export", str(converted), "--out", str(out), "--calibration-points", "256"]) == 0
    assert "fixed point" in capsys.readouterr().out and out.is_file()
    assert main(["inspect", str(out)]) == 0
    assert "model card" in capsys.readouterr().out
    assert main(["check", str(out)]) == 0
    assert "fits one Loihi 2 chip" in capsys.readouterr().out
    assert main(["run", str(out), "--backend", "emulator", "--points", "20"]) == 0
    assert "rel L2" in capsys.readouterr().out
    assert main(["run", str(out), "--backend", "loihi2"]) == 2
    assert "lava-loihi" in capsys.readouterr().err
