"""The time-to-first-spike neuron (seed 001): its SNN equals its ReLU / LeakyReLU network with every
hidden activation rounded to the time resolution Delta = theta / K, at most one spike a neuron, in
float, in fixed point (== its integer network) and on the Lava simulator."""
import numpy as np
import pytest
import torch

from loihi_pinn.conversion import convert, emulate
from loihi_pinn.errors import InputError
from loihi_pinn.export import write_netx
from loihi_pinn.loihi import quantize
from loihi_pinn.models import PINN, build_mlp
from loihi_pinn.neurons.ttfs import integer_reference
from loihi_pinn.runtime import Runner

LOWER, UPPER = [0.0, -1.0], [2.0, 1.0]


def random_pinn(activation, sizes=(2, 16, 12, 3), seed=0) -> PINN:
    torch.manual_seed(seed)
    return PINN(build_mlp(list(sizes), activation, negative_slope=0.2), LOWER, UPPER).double()


def points(n, seed=1):
    return np.random.default_rng(seed).uniform(LOWER, UPPER, (n, 2))


def rounded_ann(pinn, snn, x):
    """The source network evaluated with each hidden ReLU neuron's output rounded to the nearest
    multiple of its layer's Delta = theta / K and clipped at theta (written independently of the
    neuron model: relu(z) and, for LeakyReLU, -slope * relu(-z) as two neurons)."""
    h = pinn.normalize(torch.as_tensor(x, dtype=torch.float64))
    linears = [m for m in pinn.net if isinstance(m, torch.nn.Linear)]
    slope = next((m.negative_slope for m in pinn.net if isinstance(m, torch.nn.LeakyReLU)), None)
    for lin, layer in zip(linears[:-1], snn.layers[:-1]):
        z = lin(h)
        delta = layer.threshold / snn.timesteps

        def r(v):
            return torch.clamp(torch.floor(v / delta + 0.5), 0, snn.timesteps) * delta
        h = r(z) if slope is None else r(z) - slope * r(-z)
    return linears[-1](h).detach().numpy()


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_float_ttfs_equals_its_network_rounded_to_the_time_resolution(activation):
    pinn, x = random_pinn(activation), points(400)
    snn = convert(pinn, "ttfs", 16, x, percentile=100.0)
    out, stats = emulate(snn, x)
    assert np.allclose(out, rounded_ann(pinn, snn, x), atol=1e-10)
    neurons = [l.neurons for l in snn.layers[:-1]]
    assert all(0 < m <= n * len(x) for m, n in zip(stats.messages, neurons))       # at most one spike a neuron


def test_error_against_the_relu_network_shrinks_with_the_time_resolution():
    pinn, x = random_pinn("leaky_relu"), points(400)
    exact = pinn(torch.as_tensor(x)).detach().numpy()
    errors = []
    for window in (4, 16, 64):
        snn = convert(pinn, "ttfs", window, x, percentile=100.0)
        errors.append(np.abs(emulate(snn, x)[0] - exact).max())
    assert errors[0] > 2.5 * errors[1] > 6 * errors[2] > 0          # ~1/K: 4x per step of 4x in K


@pytest.mark.slow
def test_fixed_point_is_its_integer_network_with_one_spike_per_neuron_at_most(tmp_path):
    pinn, x = random_pinn("leaky_relu"), points(300)
    snn = convert(pinn, "ttfs", 32, x, percentile=100.0)
    qnet = quantize(snn, x)
    messages = qnet.encode(x)
    raw, stats = qnet.run_integers(messages, keep_states=True)
    assert np.array_equal(raw, integer_reference(qnet.layers, messages, 32))
    for delivered in stats.sent:                                        # spikes per neuron and point
        assert delivered.min() == 0 and delivered.max() == 1
    float_out = emulate(snn, x)[0]
    assert np.abs(qnet.decode(raw) - float_out).max() < 0.05 * np.abs(float_out).max()
    assert stats.steps == 2 + 1 + 2 * 32 + 1     # L + 1 + (L - 1) K with L = 3 dense layers, K = 32


@pytest.mark.slow
def test_lava_runs_the_ttfs_file_bit_exactly(tmp_path):
    pinn, x = random_pinn("leaky_relu", sizes=(2, 6, 5, 2)), points(64)
    snn = convert(pinn, "ttfs", 8, x, percentile=100.0)
    path = write_netx(quantize(snn, x), tmp_path / "ttfs.net")
    few = points(3, seed=5)
    assert np.array_equal(Runner(path, "lava-sim", progress=False).predict(few), Runner(path, "emulator").predict(few))


def test_calibration_and_tanh_are_refused_with_the_fix():
    x = points(64)
    with pytest.raises(InputError, match="cannot convert a network with tanh"):
        convert(random_pinn("tanh"), "ttfs", 8, x)
    from loihi_pinn.neurons import get_neuron
    with pytest.raises(InputError, match="use --calibration none and more --timesteps"):
        get_neuron("time-to-first-spike").check_calibration("advanced")
