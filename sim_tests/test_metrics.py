"""Conversion metrics: the low-pass filter, synaptic-operation counting, Theorem 1 terms."""
import numpy as np
import pytest
import torch

from loihi_pinn.conversion import SpikingLayer, SpikingNetwork, convert, emulate, lowpass_smooth, theorem1_terms
from loihi_pinn.conversion.expansion import SINGLE
from loihi_pinn.errors import InputError
from loihi_pinn.models import PINN, build_mlp


def test_lowpass_keeps_everything_at_keep_one_and_removes_noise():
    x, y = np.meshgrid(np.linspace(0, 1, 64), np.linspace(0, 1, 48), indexing="ij")
    smooth = (np.sin(2 * x) * np.cos(3 * y)).reshape(-1, 1)
    noisy = smooth + 0.05 * np.random.default_rng(0).standard_normal(smooth.shape)
    np.testing.assert_allclose(lowpass_smooth(noisy, (64, 48), 1.0), noisy, atol=1e-12)
    filtered = lowpass_smooth(noisy, (64, 48), 0.15)
    assert np.linalg.norm(filtered - smooth) < 0.3 * np.linalg.norm(noisy - smooth)


def test_synaptic_operations_are_messages_times_fan_out():
    """2 inputs -> 3 signed-IF neurons -> 1 readout; currents 0.5, 0 and -0.25 per step with theta 1."""
    hidden = SpikingLayer(torch.tensor([[0.5, 0.0], [0.0, 0.0], [0.0, -0.25]]), torch.zeros(3), SINGLE, 1.0)
    out = SpikingLayer(torch.ones(1, 3), torch.zeros(1))
    net = SpikingNetwork("signed_if", 8, [hidden, out], [0.0, 0.0], [1.0, 1.0])
    y, stats = emulate(net, np.array([[1.0, 1.0]]))                     # normalized input (1, 1)
    # neuron 0 fires every 2nd step (4 spikes), neuron 2 every 4th, negative (2 spikes)
    assert stats.messages == [6]
    assert stats.synops == 8 * 2 * 3 + 6 * 1                           # input each step + spikes
    assert np.isclose(y[0, 0], (4 - 2) / 8)
    assert np.isclose(stats.spike_rate, 6 / (3 * 8))


def test_theorem1_terms_vanish_with_T_for_an_exactly_realized_activation():
    """hardtanh is realized exactly by ReLU pieces, so the local errors e_c shrink like 1/T
    (for tanh they would keep the tanh - clip mismatch until calibration removes it)."""
    torch.manual_seed(0)
    model = PINN(build_mlp([1, 16, 16, 1], "hardtanh"), (-1.0,), (1.0,))
    pts = np.linspace(-1, 1, 257)[:, None]
    terms = [theorem1_terms(convert(model, "signed_if", T, pts, percentile=100), model, pts)
             for T in (8, 64, 512)]
    for t in terms:                                                     # n = 3 layers: 2^3 e_1 + 2^2 e_2
        assert len(t["local"]) == 2 and t["rhs"] == pytest.approx(8 * t["local"][0] + 4 * t["local"][1])
    assert terms[2]["rhs"] < 0.1 * terms[0]["rhs"]
    assert terms[2]["output"] < 0.1 * terms[0]["output"]


def test_theorem1_terms_by_hand_for_one_hidden_unit():
    """x -> hardtanh(0.5 x) -> copied to the readout (weight 1, no biases), two points. The local
    error is the mean of (hardtanh(0.5 x) - SNN rate)^2; the readout copies the unit, so the output
    error is the same number, and rhs = 2^(n - l + 1) e_1 = 4 e_1 with n = 2 layers."""
    model = PINN(build_mlp([1, 1, 1], "hardtanh"), (-1.0,), (1.0,))
    with torch.no_grad():
        for linear, weight in ((model.net[0], 0.5), (model.net[2], 1.0)):
            linear.weight.fill_(weight)
            linear.bias.zero_()
    pts = np.array([[1.0], [0.6]])
    net = convert(model, "signed_if", 8, pts, percentile=100)
    rates = emulate(net, pts)[0].ravel()                                # the unit's rate, through weight 1
    by_hand = float(np.mean((0.5 * pts.ravel() - rates) ** 2))
    assert by_hand > 1e-3                                               # T = 8 cannot represent 0.3 exactly
    terms = theorem1_terms(net, model, pts)
    assert terms["local"] == [pytest.approx(by_hand)]
    assert terms["output"] == pytest.approx(by_hand) and terms["rhs"] == pytest.approx(4 * by_hand)


def test_emulate_rejects_bad_points_with_a_clear_error():
    hidden = SpikingLayer(torch.ones(2, 2), torch.zeros(2), SINGLE, 1.0)
    net = SpikingNetwork("signed_if", 4, [hidden, SpikingLayer(torch.ones(1, 2), torch.zeros(1))], [0, 0], [1, 1])
    with pytest.raises(InputError, match=r"must have shape \(n, 2\)"):
        emulate(net, np.zeros((3, 3)))
    with pytest.raises(InputError, match="contain NaN"):
        emulate(net, np.array([[0.1, np.nan]]))


def test_network_size_counts_the_folded_neurons_and_synapses():
    model = PINN(build_mlp([2, 10, 10, 1]), (-1.0, -1.0), (1.0, 1.0))
    pts = np.random.default_rng(0).uniform(-1, 1, (64, 2))
    sd = convert(model, "sigma_delta", 8, pts, pieces=4)
    assert sd.neuron_count() == 40 + 40 + 1
    assert sd.synapse_count() == 2 * 40 + 40 * 40 + 40 * 1
    assert convert(model, "signed_if", 8, pts).synapse_count() == 2 * 10 + 10 * 10 + 10 == sd.ann_macs()
