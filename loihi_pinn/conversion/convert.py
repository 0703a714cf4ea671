"""ANN -> SNN conversion: expansions per layer and thresholds from activation statistics.

Which neurons realize a hidden activation f:

| f \\ neuron | signed_if | if_hard | sigma_delta |
|---|---|---|---|
| relu, leaky_relu, hardtanh | exact ReLU pieces, no negative spikes | exact ReLU pieces | exact ReLU pieces |
| tanh, sin | one signed neuron (ClipFloor ~ f, seed 000) | +/- pair (clip ~ f) | K-piece PWL of f |
| slip (QCFS, SlipReLU) | one signed neuron, theta and v(0) = delta theta from training (seed 004) | - | - |

and ``bitserial`` neurons realize a B-bit activation exactly at T = B (seed 003): a network
trained with the ``bitserial`` activation brings its level table; a tanh network is converted
as tanh rounded to T bits (no training; ``BitSerialQCFS(shape="tanh")``).

Thresholds: theta_l is the ``percentile`` of the ideal neuron outputs of layer l on the
calibration points (seed 000 / Li et al.: a percentile rather than the max, robust to outliers);
a SlipReLU layer brings its trained theta.
For sigma-delta, theta_l is the delta threshold: ``delta_fraction`` times that percentile.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from loihi_pinn.errors import InputError
from loihi_pinn.models import PINN, BitSerialQCFS, SlipReLU, describe_mlp
from loihi_pinn.models.mlp import ACTIVATIONS

from .expansion import IDENTITY_PAIR, SINGLE, Expansion, exact_relu_form, pwl_expansion
from .network import SpikingLayer, SpikingNetwork
from .neurons import get_neuron_model


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


class Realization(NamedTuple):
    """How a hidden layer's units become neurons: the ``expansion``; whether the neurons are
    ``signed`` (signed IF firing both ways); whether they encode the activation f(z) itself
    (``encodes_activation``: a clip-like rate approximating a smooth f) rather than z."""

    expansion: Expansion
    signed: bool
    encodes_activation: bool


def choose_realization(neuron: str, activation: str, negative_slope, z: torch.Tensor,
                       pieces: int) -> Realization:
    """The realization of a hidden layer with pre-activations ``z`` on calibration data."""
    bitserial_neuron, bitserial_net = neuron == "bitserial", activation == "bitserial"
    if (bitserial_neuron and activation not in ("bitserial", "tanh")) or (bitserial_net and not bitserial_neuron):
        raise InputError("the bit-serial neuron runs B-bit activations: convert a network trained with "
                         "--activation bitserial, or a tanh network (rounded to T bits), with --neuron bitserial; "
                         "bit-serial networks convert only with --neuron bitserial")
    if neuron == "bitserial":
        return Realization(SINGLE, signed=True, encodes_activation=True)
    exact = exact_relu_form(activation, negative_slope)
    if exact is not None:
        return Realization(exact, signed=False, encodes_activation=False)
    if activation == "slip":
        if neuron != "signed_if":
            raise InputError("QCFS/SlipReLU networks convert with --neuron signed_if: the signed IF neuron with "
                             "threshold theta and v(0) = delta * theta is what they were trained for (seed 004)")
        return Realization(SINGLE, signed=True, encodes_activation=True)
    if neuron == "sigma_delta":
        q = float(torch.quantile(z.abs().flatten()[:100_000].double(), 0.999))
        lim = min(max(q, 1.0), 4.0) if activation == "tanh" else max(q, 1e-3)
        return Realization(pwl_expansion(activation, pieces, (-lim, lim)), signed=False, encodes_activation=False)
    if neuron == "signed_if":
        return Realization(SINGLE, signed=True, encodes_activation=True)
    return Realization(IDENTITY_PAIR, signed=False, encodes_activation=True)


def ideal_neuron_outputs(realization: Realization, z: torch.Tensor, f_z: torch.Tensor) -> torch.Tensor:
    """What each neuron should output, ``(batch, n, P)``, for pre-activations and activations
    ``(batch, n)``: its input ``sign * value - offset`` (rectified unless signed)."""
    sign, offset, _ = realization.expansion.tensors(z.dtype)
    value = f_z if realization.encodes_activation else z
    inputs = sign * value[..., None] - offset
    return inputs if realization.signed else torch.relu(inputs)


def _bitserial_layer(weight: torch.Tensor, bias: torch.Tensor, act: nn.Module, timesteps: int) -> SpikingLayer:
    """A bit-serial layer running ``act`` (a trained B-bit activation, or tanh rounded to T bits)."""
    if not isinstance(act, BitSerialQCFS):
        act = BitSerialQCFS(timesteps, shape="tanh")
    if act.bits != timesteps:
        raise InputError(f"this network's activations have {act.bits} bits: the bit-serial neuron sends them "
                         f"in T = {act.bits} steps (convert with --timesteps {act.bits}, or train with --bits {timesteps})")
    return SpikingLayer(weight, bias, SINGLE, act.scale, signed=True, levels=act.thresholds(weight.dtype))


def convert(model: PINN, neuron: str, timesteps: int, calibration_points: np.ndarray, *,
            percentile: float = 99.9, pieces: int = 8, delta_fraction: float = 1e-3,
            metadata: dict | None = None) -> SpikingNetwork:
    """Convert a PINN to a (float) spiking network, uncalibrated: expansions, thresholds from
    the ``percentile`` of neuron activity on ``calibration_points`` ``(n, d_in)`` (physical),
    v0 = 0 (the paper's ClipFloor; v0 = delta theta for SlipReLU layers)."""
    model_def = get_neuron_model(neuron)
    arch = check_convertible(model)
    if not 0 < percentile <= 100:
        raise InputError(f"percentile must be in (0, 100], got {percentile}")
    x = model.normalize(torch.as_tensor(calibration_points, dtype=torch.float32))
    with torch.no_grad():
        zs, us = ann_values(model.net, x)
    linears = [m for m in model.net if isinstance(m, nn.Linear)]
    activations = [m for m in model.net if not isinstance(m, nn.Linear)]
    layers = []
    for lin, act, z, u in zip(linears[:-1], activations, zs, us):
        realization = choose_realization(neuron, arch["activation"], arch["negative_slope"], z, pieces)
        weight, bias = lin.weight.detach().clone(), lin.bias.detach().clone()
        if neuron == "bitserial":
            layers.append(_bitserial_layer(weight, bias, act, timesteps))
            continue
        if isinstance(act, SlipReLU):             # trained threshold, v(0) = delta * theta (seed 004, Thm. 1)
            theta = float(act.theta.detach().abs())
            layers.append(SpikingLayer(weight, bias, realization.expansion, theta,
                                       torch.full((len(bias), 1), act.shift * theta), signed=True))
            continue
        ideal = ideal_neuron_outputs(realization, z, u)
        scale = float(np.percentile(ideal.abs().flatten().numpy(), percentile))
        if not scale > 0:
            raise InputError("a hidden layer is silent on the calibration points (all activations 0); "
                             "check the points lie in the problem's domain")
        theta = scale * delta_fraction if model_def.graded else scale
        layers.append(SpikingLayer(weight, bias, realization.expansion, theta, signed=realization.signed))
    out = linears[-1]
    layers.append(SpikingLayer(out.weight.detach().clone(), out.bias.detach().clone()))
    meta = {"activation": arch["activation"], "percentile": percentile, "calibration": "none",
            **({"pwl_pieces": pieces, "delta_fraction": delta_fraction} if model_def.graded else {}),
            **(metadata or {})}
    return SpikingNetwork(neuron, timesteps, layers, model.lower.tolist(), model.upper.tolist(), meta)
