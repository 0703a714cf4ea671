"""The contract every registered neuron model must meet, run over the whole registry.

A model added with ``register_neuron`` gets all of these checks without writing a test: its own
worked example by hand, conversion of a small PINN, fixed point == Lava to the bit, the netx file
written and read back field by field, loading by stock netx (stock types) or refusal by the
loihi2 backend with the model's reason (custom types). ``ReluSigmaDelta`` below is a model written
here, registered only for these tests, to show that nothing else has to change.
"""
import re

import h5py
import numpy as np
import pytest
import torch

from loihi_pinn.conversion import convert, emulate
from loihi_pinn.conversion.expansion import SINGLE
from loihi_pinn.conversion.network import SpikingLayer
from loihi_pinn.errors import InputError
from loihi_pinn.export import read_model_card, read_netx, write_netx
from loihi_pinn.loihi import best_weight_max, quantize
from loihi_pinn.loihi.lava_env import import_netx
from loihi_pinn.models import PINN, build_mlp
from loihi_pinn.neurons import NEURON_MODELS, get_neuron, register_neuron, unregister_neuron
from loihi_pinn.neurons.sigma_delta import SigmaDelta
from loihi_pinn.runtime import HardwareUnavailable, Runner

LOWER, UPPER = [-1.0, 0.0], [1.0, 2.0]
TIMESTEPS = 6                   # bit-serial: 6 bits; rate-coded: a short run


class ReluSigmaDelta(SigmaDelta):
    """Plain ReLU sigma-delta: one neuron a unit, no expansion (ReLU networks only)."""

    name = "relu_sigma_delta"
    description = "sigma-delta ReLU without expansion (a test model)"
    activations = frozenset({"relu"})


EXTRA = ReluSigmaDelta()
MODELS = [*NEURON_MODELS, EXTRA.name]


@pytest.fixture(params=MODELS)
def model(request):
    """Each registered model, and the test model registered for the duration of one test."""
    if request.param == EXTRA.name:
        register_neuron(EXTRA)
        yield EXTRA
        unregister_neuron(EXTRA.name)
    else:
        yield get_neuron(request.param)


def _network(model, tmp_path):
    """A random 2-8-8-1 PINN of an activation the model converts, converted (uncalibrated),
    quantized and written to netx; returns (float SNN, quantized network, file, points)."""
    activation = "tanh" if "tanh" in model.activations else sorted(model.activations)[0]
    torch.manual_seed(3)
    pinn = PINN(build_mlp([2, 8, 8, 1], activation), LOWER, UPPER)
    points = np.random.default_rng(0).uniform(LOWER, UPPER, (256, 2))
    snn = convert(pinn, model.name, TIMESTEPS, points, pieces=4, metadata={"problem": "contract"})
    weight_max, trials = best_weight_max(snn, points, calibrate=False)
    assert weight_max in model.weight_max_candidates and all(1 <= w <= 254 for w in model.weight_max_candidates)
    assert len(trials) == (len(model.weight_max_candidates) if len(model.weight_max_candidates) > 1 else 0)
    qnet = quantize(snn, points, weight_max=weight_max)
    return snn, qnet, write_netx(qnet, tmp_path / f"{model.name}.net"), points


def test_float_layer_reproduces_the_worked_example(model):
    example = model.hand_example
    levels = example.get("levels")
    layer = SpikingLayer(torch.ones(1, 1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64), SINGLE,
                         example["threshold"], signed=model.signed,
                         levels=None if levels is None else torch.tensor(levels, dtype=torch.float64))
    currents = torch.tensor(example["currents"], dtype=torch.float64).reshape(-1, 1, 1, 1)   # (T, batch, unit, P)
    outputs, sent = model.run_layer(layer, currents)
    assert outputs.reshape(-1).tolist() == pytest.approx(example["outputs"], abs=1e-12)
    assert sent is not None and int(sent.sum()) > 0


def test_conversion_and_fixed_point_track_the_float_network(model, tmp_path):
    snn, qnet, _, points = _network(model, tmp_path)
    assert snn.neuron == model.name and snn.model is model
    float_out = emulate(snn, points)[0]
    fixed_out, stats = qnet.run(points)
    assert np.all(np.isfinite(float_out))
    assert np.linalg.norm(fixed_out - float_out) / np.linalg.norm(float_out) < 0.25
    assert stats.steps == model.steps_per_inference(qnet.timesteps, len(qnet.layers)) and stats.synops > 0
    exact = model.integer_reference(qnet.layers, qnet.encode(points))
    if exact is not None:
        assert np.array_equal(qnet.run_integers(qnet.encode(points))[0], exact)


@pytest.mark.slow
def test_fixed_point_equals_lava_to_the_bit(model, tmp_path):
    _, qnet, path, _ = _network(model, tmp_path)
    points = np.random.default_rng(1).uniform(LOWER, UPPER, (5, 2))
    lava = Runner(path, "lava-sim", progress=False).predict(points)
    assert np.array_equal(lava, Runner(path, "emulator").predict(points))
    assert np.array_equal(lava, qnet.run(points)[0])


def test_netx_file_reads_back_field_by_field(model, tmp_path):
    _, qnet, path, _ = _network(model, tmp_path)
    back = read_netx(path)
    assert (back.neuron, back.timesteps, back.steps) == (qnet.neuron, qnet.timesteps, qnet.steps)
    assert (back.input_scale, back.output_scale, back.output_offset, back.lower, back.upper) == (
        qnet.input_scale, qnet.output_scale, qnet.output_offset, qnet.lower, qnet.upper)
    for a, b in zip(qnet.layers, back.layers, strict=True):
        assert np.array_equal(a.weight, b.weight) and np.array_equal(a.bias, b.bias)
        assert (a.vth, a.readout, a.signed) == (b.vth, b.readout, b.signed)
        for field in ("v0", "levels"):
            x, y = getattr(a, field), getattr(b, field)
            assert (x is None or not np.any(x)) if y is None else np.array_equal(x, y)
    with h5py.File(path, "r") as f:
        assert f["layer/1/neuron/type"][0].decode() == model.netx_type
        assert f[f"layer/{len(qnet.layers)}/neuron/type"][0].decode() == model.readout_netx_type
    assert read_model_card(path)["netx_args"] == model.netx_args


def test_loaded_by_stock_netx_or_refused_by_loihi2_with_the_reason(model, tmp_path):
    _, qnet, path, _ = _network(model, tmp_path)
    if model.loihi_native:
        net = import_netx().hdf5.Network(str(path), **model.netx_args)
        assert [l.neuron.a_in.shape[0] for l in net.layers] == [l.size for l in qnet.layers]
        with pytest.raises(HardwareUnavailable, match="lava-loihi"):     # no INRC system here
            Runner(path, "loihi2")
    else:
        assert model.hardware_note
        with pytest.raises(HardwareUnavailable, match=re.escape(model.hardware_note)):
            Runner(path, "loihi2")
        net = model.lava_network_class()(str(path), **model.netx_args)
        assert len(net.layers) == len(qnet.layers)


def test_registry_names_and_errors():
    assert get_neuron("qcfs-if") is get_neuron("signed_if")
    with pytest.raises(InputError, match="unknown neuron model 'lif'; choose one of: sigma_delta, if_hard"):
        get_neuron("lif")
    with pytest.raises(InputError, match="already registered"):
        register_neuron(get_neuron("if_hard"))
    register_neuron(EXTRA)
    try:
        assert EXTRA.name in NEURON_MODELS
    finally:
        unregister_neuron(EXTRA.name)
    assert EXTRA.name not in NEURON_MODELS


def test_a_model_refuses_activations_it_cannot_realize():
    torch.manual_seed(0)
    pinn = PINN(build_mlp([2, 4, 1], "tanh"), LOWER, UPPER)
    register_neuron(EXTRA)
    try:
        with pytest.raises(InputError, match="cannot convert a network with tanh activations; convert it with "
                                             "--neuron sigma_delta or if_hard or signed_if or bitserial"):
            convert(pinn, EXTRA.name, 4, np.random.default_rng(0).uniform(LOWER, UPPER, (64, 2)))
    finally:
        unregister_neuron(EXTRA.name)
