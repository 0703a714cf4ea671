"""Spiking neuron models as pure steps over explicit state (float; Loihi fixed point comes later).

Each model maps an input current ``i`` of shape ``(batch, neurons)`` and state to an output
value ``y`` (what the next layer receives this step) and the new state. Per layer a model has a
threshold ``theta`` (scalar) and a per-neuron initial potential ``v0`` ``(neurons,)``.

| model | spikes | y per step | rate transfer (constant i, T steps) |
|---|---|---|---|
| ``signed_if``   | {-1, 0, +1} | theta * spike | ClipFloor: theta * clip(trunc(T i / theta) / T, -1, 1) for v0 = 0 (seed 000) |
| ``if_hard``     | {0, 1}      | theta * spike | theta / ceil(theta / i) for 0 < i <= theta (Loihi CUBA, du = 4095, dv = 0) |
| ``sigma_delta`` | graded      | reconstructed relu(i): changes only by deltas >= theta | relu(i) within theta (Loihi 2 SDNN) |
| ``bitserial``   | {-1, 0, +1} | the bits of a B-bit level, most significant first | exact: the B-bit activation at T = B (seed 003) |

The bit-serial neuron is two-phase: it accumulates its input over the T steps before it fires
(step t's input weighted 2^(T - t), the place of the bit it carries), then sends the B = T bits
of its level (``bitserial_spikes``), so it has no per-step ``step``.

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


def bitserial_spikes(u: torch.Tensor, thresholds: torch.Tensor, bits: int) -> torch.Tensor:
    """Spikes ``(bits, *u.shape)`` in {-1, 0, +1} of bit-serial neurons with accumulated
    potentials ``u``: the bits of m = #{k : |u| >= thresholds[k-1]}, most significant first,
    each with the sign of u. Bit t is one comparison, |u| >= tau at the midpoint of the levels
    still possible (a binary search); for seed 003's table tau_k = theta (k - delta) / 2^B it is
    its ladder: fire when the remainder reaches theta / 2^t, then subtract theta / 2^t."""
    if thresholds.shape != (2 ** bits - 1,):
        raise InputError(f"a {bits}-bit neuron needs {2 ** bits - 1} thresholds, got {tuple(thresholds.shape)}")
    magnitude, sign = u.abs(), torch.sign(u)
    level = torch.zeros(u.shape, dtype=torch.long)
    spikes = []
    for t in range(bits):
        candidate = level + 2 ** (bits - 1 - t)
        bit = magnitude >= thresholds.to(u.dtype)[candidate - 1]
        level = torch.where(bit, candidate, level)
        spikes.append(sign * bit.to(u.dtype))
    return torch.stack(spikes)


@dataclass(frozen=True)
class NeuronModel:
    """A registered neuron model: its step, how it is expanded per unit, how it is read."""

    name: str
    step: Callable | None
    description: str
    signed: bool                 # carries a signed value per neuron (no population split needed)
    graded: bool                 # spike payload is graded (sigma-delta) rather than +-theta
    loihi_native: bool           # runs on Loihi 2 with stock microcode (netx type exists)
    two_phase: bool = False      # accumulates all T steps, then fires (bit-serial): no per-step ``step``

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
    "bitserial": NeuronModel("bitserial", None,
                             "bit-serial, accumulate then send B bits MSB first, ternary spikes (seed 003)",
                             signed=True, graded=False, loihi_native=False, two_phase=True),
}


def get_neuron_model(name: str) -> NeuronModel:
    try:
        return NEURON_MODELS[name]
    except KeyError:
        raise InputError(f"unknown neuron model {name!r}; choose one of: {', '.join(NEURON_MODELS)}") from None
