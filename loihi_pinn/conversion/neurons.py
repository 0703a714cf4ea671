"""Spiking neuron models as pure steps over explicit state (float; Loihi fixed point comes later).

Each model maps an input current ``i`` of shape ``(batch, neurons)`` and state to an output
value ``y`` (what the next layer receives this step) and the new state. Per layer a model has a
threshold ``theta`` (scalar) and a per-neuron initial potential ``v0`` ``(neurons,)``.

| model | spikes | y per step | rate transfer (constant i, T steps) |
|---|---|---|---|
| ``signed_if``   | {-1, 0, +1} | theta * spike | ClipFloor: theta * clip(trunc(T i / theta) / T, -1, 1) for v0 = 0 (seed 000) |
| ``if_hard``     | {0, 1}      | theta * spike | theta / ceil(theta / i) for 0 < i <= theta (Loihi CUBA, du = 4095, dv = 0) |
| ``sigma_delta`` | graded      | reconstructed relu(i): changes only by deltas >= theta | relu(i) within theta (Loihi 2 SDNN) |

``step(i, v, theta, surrogate, signed)`` with ``surrogate=True`` gives spikes a straight-through
gradient (boxcar of width theta around the threshold), used by calibration; ``signed`` matters
only to ``signed_if`` (False: no negative spikes, for ReLU pieces).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from loihi_pinn.errors import InputError


def _heaviside_ste(x: torch.Tensor, width: float) -> torch.Tensor:
    """(x >= 0) forward; backward 1/width for |x| < width/2 (boxcar surrogate)."""
    hard = (x >= 0).to(x.dtype)
    soft = torch.clamp(x / width + 0.5, 0.0, 1.0)
    return soft + (hard - soft).detach()


def signed_if_step(i, v, theta, surrogate=False, signed=True):
    """Signed IF, reset by subtraction, thresholds +-theta (only +theta if not ``signed``):
    returns (y, v)."""
    v = v + i
    if surrogate:
        spike = _heaviside_ste(v - theta, theta) - signed * _heaviside_ste(-v - theta, theta)
    else:
        spike = (v >= theta).to(v.dtype) - signed * (v <= -theta).to(v.dtype)
    return theta * spike, v - theta * spike


def if_hard_step(i, v, theta, surrogate=False, signed=False):
    """IF with hard reset to 0, binary spikes when v > theta (Loihi's strict comparison)."""
    v = v + i
    if surrogate:
        spike = _heaviside_ste(v - theta, theta)
    else:
        spike = (v > theta).to(v.dtype)
    return theta * spike, v * (1 - spike)


def sigma_delta_step(i, y, theta, surrogate=False, signed=False):
    """Sigma-delta with ReLU: the state is the last sent value y; sends relu(i) - y when that
    change reaches theta. Returns (y, y) (output and state are the reconstructed activation)."""
    a = torch.relu(i)
    change = a - y
    send = (change.abs() >= theta).to(a.dtype) if theta > 0 else torch.ones_like(a)
    y_new = y + send * change
    if surrogate:                       # straight through: d y / d i = relu'(i)
        y_new = a + (y_new - a).detach()
    return y_new, y_new


@dataclass(frozen=True)
class NeuronModel:
    """A registered neuron model: its step, how it is expanded per unit, how it is read."""

    name: str
    step: Callable
    description: str
    signed: bool                 # carries a signed value per neuron (no population split needed)
    graded: bool                 # spike payload is graded (sigma-delta) rather than +-theta
    loihi_native: bool           # runs on Loihi 2 with stock microcode (netx type exists)

    def spikes(self, y: torch.Tensor, y_prev: torch.Tensor) -> torch.Tensor:
        """Boolean mask of neurons that sent a message this step, shape of ``y``."""
        return (y != y_prev) if self.graded else (y != 0)


NEURON_MODELS: dict[str, NeuronModel] = {
    "signed_if": NeuronModel("signed_if", signed_if_step,
                             "signed IF, reset by subtraction, ternary spikes (seed 000)",
                             signed=True, graded=False, loihi_native=False),
    "if_hard": NeuronModel("if_hard", if_hard_step,
                           "IF with hard reset, binary spikes, +/- populations (Loihi CUBA)",
                           signed=False, graded=False, loihi_native=True),
    "sigma_delta": NeuronModel("sigma_delta", sigma_delta_step,
                               "sigma-delta ReLU, graded spikes, PWL expansion of the activation (Loihi 2 SDNN)",
                               signed=False, graded=True, loihi_native=True),
}


def get_neuron_model(name: str) -> NeuronModel:
    try:
        return NEURON_MODELS[name]
    except KeyError:
        raise InputError(f"unknown neuron model {name!r}; choose one of: {', '.join(NEURON_MODELS)}") from None
