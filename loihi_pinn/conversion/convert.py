"""ANN -> SNN conversion: each hidden layer becomes the layer its neuron model builds.

How a model realizes a hidden activation f (``NeuronModel.hidden_layer``):

| f \\ neuron | signed_if | if_hard | sigma_delta | bitserial |
|---|---|---|---|---|
| relu, leaky_relu, hardtanh | exact ReLU pieces, no negative spikes | exact ReLU pieces | exact ReLU pieces | - |
| tanh, sin | one signed neuron (ClipFloor ~ f, seed 000) | +/- pair (clip ~ f) | K-piece PWL of f | tanh rounded to T bits |
| slip (QCFS, SlipReLU) | one signed neuron, theta and v(0) = delta theta from training (seed 004) | - | - | - |
| bitserial (B-bit) | - | - | - | exact at T = B (seed 003) |

Thresholds: theta_l is the ``percentile`` of the ideal neuron outputs of layer l on the
calibration points (seed 000 / Li et al.: a percentile rather than the max, robust to outliers);
a SlipReLU layer brings its trained theta, a bit-serial layer its level table.
For sigma-delta, theta_l is the delta threshold: ``delta_fraction`` times that percentile
(default ``DELTA_FRACTION`` for networks realized by pieces, 0 for ReLU networks: their conversion
is exact, so a threshold only adds error, and in a stream it holds back small changes, which makes
the drift grow as points get closer: poisson, 2x finer grid, 1.9e-3 -> 4.7e-3 at theta 1e-3, 1.1e-3
-> 1.0e-3 at 0).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from loihi_pinn.errors import InputError
from loihi_pinn.models import PINN, describe_mlp
from loihi_pinn.models.mlp import ACTIVATIONS
from loihi_pinn.neurons.registry import NEURON_MODELS, get_neuron

from .network import SpikingLayer, SpikingNetwork


MAX_TIMESTEPS = 4096
"""T beyond this is refused: the emulator holds (T, points, neurons) values at once (T = 10^6
would need ~160 GB for a 3 x 100 network), and rate codes gain little past a few hundred steps."""


def check_convertible(net: nn.Module) -> dict:
    """The architecture of a convertible MLP; a clear error naming any unsupported module
    (BatchNorm: fold it into the Linear before it; Conv, custom modules: not an MLP)."""
    if isinstance(net, PINN):
        net = net.net
    for i, m in enumerate(net.modules() if isinstance(net, nn.Sequential) else [net]):
        if m is net:
            continue
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm)):
            raise InputError(f"cannot convert module {type(m).__name__} at position {i - 1}: fold the "
                             f"normalization into the preceding Linear first")
        if not isinstance(m, (nn.Linear, *ACTIVATIONS.values())):
            raise InputError(f"cannot convert module {type(m).__name__} at position {i - 1}: only Linear "
                             f"layers and the activations {', '.join(ACTIVATIONS)} are supported")
    return describe_mlp(net)


def ann_values(net: nn.Sequential, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Pre-activations z_l and activations u_l ``(batch, n_l)`` of every hidden layer, plus the
    output as the last z; ``x`` is normalized input ``(batch, d_in)``."""
    zs, us = [], []
    h = x
    for m in net:
        h = m(h)
        (zs if isinstance(m, nn.Linear) else us).append(h)
    return zs, us


def check_realizable(model, activation: str) -> None:
    """Refuse an activation the neuron ``model`` cannot realize, naming the models that can."""
    if activation not in model.activations:
        able = [m.name for m in NEURON_MODELS.values() if activation in m.activations]
        raise InputError(f"the {model.name} neuron ({model.description}) cannot convert a network with "
                         f"{activation} activations; convert it with --neuron {' or '.join(able) or '(none registered)'}")


DELTA_FRACTION = 1e-3          # sigma-delta threshold / activation percentile, for networks realized by pieces


def convert(model: PINN, neuron: str, timesteps: int, calibration_points: np.ndarray, *,
            percentile: float = 99.9, pieces: int = 8, delta_fraction: float | None = None,
            metadata: dict | None = None) -> SpikingNetwork:
    """Convert a PINN to a (float) spiking network, uncalibrated: expansions, thresholds from
    the ``percentile`` of neuron activity on ``calibration_points`` ``(n, d_in)`` (physical),
    v0 = 0 (the paper's ClipFloor; v0 = delta theta for SlipReLU layers)."""
    neuron_model = get_neuron(neuron)
    if isinstance(timesteps, bool) or not isinstance(timesteps, int) or not 1 <= timesteps <= MAX_TIMESTEPS:
        raise InputError(f"timesteps must be a whole number from 1 to {MAX_TIMESTEPS}, got {timesteps!r}")
    arch = check_convertible(model)
    check_realizable(neuron_model, arch["activation"])
    if delta_fraction is None:
        delta_fraction = 0.0 if arch["activation"] == "relu" else DELTA_FRACTION
    if not 0 < percentile <= 100:
        raise InputError(f"percentile must be in (0, 100], got {percentile}")
    x = model.normalize(torch.as_tensor(calibration_points, dtype=torch.float32))
    with torch.no_grad():
        zs, us = ann_values(model.net, x)
    linears = [m for m in model.net if isinstance(m, nn.Linear)]
    activations = [m for m in model.net if not isinstance(m, nn.Linear)]
    layers = [neuron_model.hidden_layer(lin.weight.detach().clone(), lin.bias.detach().clone(), act, z, u, arch,
                                        timesteps=timesteps, percentile=percentile, pieces=pieces,
                                        delta_fraction=delta_fraction)
              for lin, act, z, u in zip(linears[:-1], activations, zs, us)]
    out = linears[-1]
    layers.append(SpikingLayer(out.weight.detach().clone(), out.bias.detach().clone()))
    meta = {"activation": arch["activation"], "percentile": percentile, "calibration": "none",
            **neuron_model.conversion_metadata(pieces=pieces, delta_fraction=delta_fraction),
            **(metadata or {})}
    return SpikingNetwork(neuron_model.name, timesteps, layers, model.lower.tolist(), model.upper.tolist(), meta)
