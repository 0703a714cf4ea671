"""Neuron models against hand-computed spike trains; conversion, calibration, file round trip."""

import numpy as np
import pytest
import torch
from torch import nn

from loihi_pinn.conversion import SpikingNetwork, calibrate, convert, emulate, layer_mismatch
from loihi_pinn.conversion.expansion import exact_relu_form, pwl_expansion
from loihi_pinn.neurons import NEURON_MODELS
from loihi_pinn.neurons.integrate_fire import if_hard_step, signed_if_step
from loihi_pinn.neurons.sigma_delta import sigma_delta_step
from loihi_pinn.errors import InputError
from loihi_pinn.models import PINN, build_mlp


def run_steps(step, currents, theta, state=0.0, **kw):
    v = torch.tensor([state], dtype=torch.float64)
    ys = []
    for i in currents:
        y, v = step(torch.tensor([i], dtype=torch.float64), v, theta, **kw)
        ys.append(float(y))
    return ys


def test_signed_if_spike_train_by_hand():
    # v: .375 .75 1.125->.125 .5 .875 1.25->.25 .625 1.0->0 .375 .75
    assert run_steps(signed_if_step, [0.375] * 10, 1.0) == [0, 0, 1, 0, 0, 1, 0, 1, 0, 0]
    assert run_steps(signed_if_step, [-0.375] * 10, 1.0) == [0, 0, -1, 0, 0, -1, 0, -1, 0, 0]
    assert run_steps(signed_if_step, [-0.375] * 10, 1.0, signed=False) == [0] * 10
    assert run_steps(signed_if_step, [0.5, 0.5], 2.0, state=1.0) == [0.0, 2.0]   # v 1.5, then 2.0: fires theta


def test_if_hard_reset_spike_train_by_hand():
    # Loihi fires on v > theta (strict) and resets to 0: v .5 1.0 1.5->0 .5 1.0 1.5->0 ...
    assert run_steps(if_hard_step, [0.5] * 9, 1.0) == [0, 0, 1, 0, 0, 1, 0, 0, 1]
    assert run_steps(if_hard_step, [-0.5] * 4, 1.0) == [0, 0, 0, 0]


def test_sigma_delta_sends_only_changes_above_threshold():
    y = torch.zeros(1, dtype=torch.float64)
    sent = []
    for i in [0.5, 0.55, 0.7, -0.2, -0.3]:
        y_new, _ = sigma_delta_step(torch.tensor([i], dtype=torch.float64), y, 0.1)
        sent.append(round(float(y_new - y), 10))
        y = y_new
    assert sent == [0.5, 0.0, 0.2, -0.7, 0.0]


@pytest.mark.parametrize("T", [16, 64, 256])
def test_signed_if_rate_is_clipfloor_and_converges(T):
    theta = 1.0
    i = torch.linspace(-1.6, 1.6, 321, dtype=torch.float64)
    v = torch.zeros_like(i)
    total = torch.zeros_like(i)
    for _ in range(T):
        y, v = signed_if_step(i, v, theta)
        total += y
    rate = total / T
    clipfloor = theta * torch.sign(i) * torch.clamp(torch.floor(T * i.abs() / theta + 1e-9), max=T) / T
    assert torch.allclose(rate, clipfloor, atol=1e-12)
    assert (rate - i.clamp(-theta, theta)).abs().max() <= theta / T + 1e-12


@pytest.mark.parametrize("pieces", [4, 8, 16, 32])
def test_pwl_expansion_matches_tanh_within_its_bound(pieces):
    e = pwl_expansion("tanh", pieces, (-3.0, 3.0))
    z = torch.linspace(-10, 10, 40001, dtype=torch.float64)
    err = (e.relu_readout(z) - torch.tanh(z)).abs().max()
    assert err <= e.max_error and e.max_error < {4: 0.6, 8: 0.1, 16: 0.02, 32: 0.01}[pieces]


@pytest.mark.parametrize("activation, torch_fn", [
    ("relu", torch.relu), ("hardtanh", nn.functional.hardtanh),
    ("leaky_relu", lambda z: nn.functional.leaky_relu(z, 0.1))])
def test_exact_relu_forms_are_exact(activation, torch_fn):
    z = torch.linspace(-3, 3, 601, dtype=torch.float64)
    assert torch.allclose(exact_relu_form(activation, 0.1).relu_readout(z), torch_fn(z), atol=1e-12)


@pytest.fixture(scope="module")
def small_tanh_pinn():
    """A 2 -> 24 -> 24 -> 1 tanh network with weights scaled so units reach saturation."""
    torch.manual_seed(0)
    net = build_mlp([2, 24, 24, 1])
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                m.weight.mul_(2.0)
    return PINN(net, (-1.0, -1.0), (1.0, 1.0))


def points(n, seed):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 2))


@pytest.mark.parametrize("neuron", [name for name, m in NEURON_MODELS.items() if m.default_calibration != "none"])  # bit-serial: exact
def test_calibration_lowers_the_held_out_mismatch_for_every_neuron_model(neuron, small_tanh_pinn):
    cal, held = points(1024, 1), points(512, 2)
    before = layer_mismatch(convert(small_tanh_pinn, neuron, 16, cal), small_tanh_pinn, held)
    mismatch = {}
    for mode in ("light", "advanced"):
        net = calibrate(convert(small_tanh_pinn, neuron, 16, cal), small_tanh_pinn, cal, mode,
                        iterations=150, progress=False)
        mismatch[mode] = layer_mismatch(net, small_tanh_pinn, held)
    assert mismatch["light"][-1] < before[-1], (before, mismatch)
    assert mismatch["advanced"][-1] < 0.8 * before[-1], (before, mismatch)


def test_uncalibrated_signed_if_network_converges_to_its_clip_network(small_tanh_pinn):
    """As T grows the emulated network approaches the ANN with activation clip(z, -theta, theta)."""
    x = points(256, 3)
    net = convert(small_tanh_pinn, "signed_if", 8, points(1024, 1))
    h = net.normalize(torch.as_tensor(x, dtype=torch.float32))
    for layer in net.layers[:-1]:
        h = torch.clamp(h @ layer.weight.T + layer.bias, -layer.threshold, layer.threshold)
    clip_net = (h @ net.layers[-1].weight.T + net.layers[-1].bias).double().numpy()
    errors = [np.abs(emulate(net, x, timesteps=T)[0] - clip_net).max() for T in (4, 32, 256)]
    assert errors[2] < errors[1] < errors[0] and errors[2] < 0.05 * np.abs(clip_net).max()


def test_converted_network_file_round_trip(tmp_path, small_tanh_pinn):
    cal = points(512, 1)
    net = calibrate(convert(small_tanh_pinn, "if_hard", 8, cal), small_tanh_pinn, cal, "light",
                    iterations=20, progress=False)
    path = net.save(tmp_path / "net.snn")
    loaded = SpikingNetwork.load(path)
    x = points(64, 5)
    out_a, stats_a = emulate(net, x)
    out_b, stats_b = emulate(loaded, x)
    assert np.array_equal(out_a, out_b) and stats_a.messages == stats_b.messages
    assert loaded.metadata["calibration"] == "light"


def test_not_a_converted_network_file_is_rejected(tmp_path):
    bad = tmp_path / "x.snn"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(InputError, match="not a converted loihi-pinn network"):
        SpikingNetwork.load(bad)


class Custom(nn.Module):
    def forward(self, x):
        return x


@pytest.mark.parametrize("module, name", [(nn.Conv2d(1, 1, 1), "Conv2d"), (nn.BatchNorm1d(8), "BatchNorm1d"),
                                          (Custom(), "Custom")])
def test_unsupported_modules_are_named(module, name):
    net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), module, nn.Linear(8, 1))
    with pytest.raises(InputError, match=f"cannot convert module {name}"):
        convert(net, "signed_if", 8, points(16, 0))
