"""Realizing an activation f with populations of simple neurons.

A unit with pre-activation z becomes P neurons; neuron p receives ``sign[p] * z - offset[p]``
and its output y_p is read back as ``f(z) ~ const + sum_p coeff[p] * y_p``. Folded into the
weights, this is an ordinary layer of P times as many neurons.

- ``identity_pair`` - a + and a - neuron: y+ - y- = z for ReLU-like neurons (IF populations).
- ``pwl_expansion(f, K)`` - K ReLU pieces interpolating f at K breakpoints, constant beyond
  them: the construction behind seed 000's Theorem 1. Breakpoints equidistribute |f''|^(1/2)
  (the density that minimizes the worst interpolation error), so they crowd where f bends.
- exact ReLU forms of relu, leaky_relu and hardtanh (hardtanh(z) = relu(z+1) - relu(z-1) - 1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from loihi_pinn.errors import InputError


@dataclass(frozen=True)
class Expansion:
    """P neurons per unit: input ``sign * z - offset``, read back as ``const + coeff . y``
    (all vectors of shape ``(P,)``); ``max_error`` bounds |f(z) - readout| for exact ReLUs
    on ``valid_range`` (0 for exact forms)."""

    sign: tuple[float, ...]
    offset: tuple[float, ...]
    coeff: tuple[float, ...]
    const: float
    max_error: float = 0.0
    valid_range: tuple[float, float] = (-math.inf, math.inf)

    @property
    def pieces(self) -> int:
        return len(self.sign)

    def tensors(self, dtype=torch.float32):
        """(sign, offset, coeff) as tensors of shape ``(P,)``."""
        return tuple(torch.tensor(v, dtype=dtype) for v in (self.sign, self.offset, self.coeff))

    def relu_readout(self, z: torch.Tensor) -> torch.Tensor:
        """What the expansion computes with exact ReLU neurons, elementwise on ``z``."""
        sign, offset, coeff = self.tensors(z.dtype)
        return self.const + (coeff * torch.relu(sign * z[..., None] - offset)).sum(-1)

    def to_dict(self) -> dict:
        return {"sign": list(self.sign), "offset": list(self.offset), "coeff": list(self.coeff),
                "const": self.const, "max_error": self.max_error, "valid_range": list(self.valid_range)}

    @classmethod
    def from_dict(cls, d: dict) -> "Expansion":
        return cls(tuple(d["sign"]), tuple(d["offset"]), tuple(d["coeff"]), d["const"],
                   d["max_error"], tuple(d["valid_range"]))


class Realization(NamedTuple):
    """How a hidden layer's units become neurons: the ``expansion``; whether the neurons are
    ``signed`` (firing both ways); whether they encode the activation f(z) itself
    (``encodes_activation``: a clip-like rate approximating a smooth f) rather than z."""

    expansion: Expansion
    signed: bool
    encodes_activation: bool


SINGLE = Expansion((1.0,), (0.0,), (1.0,), 0.0)
IDENTITY_PAIR = Expansion((1.0, -1.0), (0.0, 0.0), (1.0, -1.0), 0.0)


def exact_relu_form(activation: str, negative_slope: float | None = None) -> Expansion | None:
    """The exact ReLU-population form of a piecewise-linear activation, or None for smooth ones."""
    if activation == "relu":
        return SINGLE
    if activation == "leaky_relu":
        a = 0.01 if negative_slope is None else negative_slope
        return Expansion((1.0, -1.0), (0.0, 0.0), (1.0, -a), 0.0)
    if activation == "hardtanh":
        return Expansion((1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), -1.0)
    return None


SMOOTH = {"tanh": (torch.tanh, lambda z: -2 * torch.tanh(z) / torch.cosh(z) ** 2),
          "sin": (torch.sin, lambda z: -torch.sin(z))}


def _equidistributed_knots(f2, lo: float, hi: float, n: int) -> torch.Tensor:
    """n points in [lo, hi] with density proportional to |f''|^(1/2) (plus 5 % uniform floor)."""
    z = torch.linspace(lo, hi, 4001, dtype=torch.float64)
    density = f2(z).abs().sqrt()
    density = density + 0.05 * density.mean()
    cdf = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum((density[1:] + density[:-1]) / 2, 0)])
    targets = torch.linspace(0, float(cdf[-1]), n, dtype=torch.float64)
    return torch.from_numpy(np.interp(targets.numpy(), cdf.numpy(), z.numpy()))


def pwl_expansion(activation: str, pieces: int, z_range: tuple[float, float] = (-3.0, 3.0)) -> Expansion:
    """Interpolate a smooth activation with ``pieces`` ReLUs (breakpoints b_1 < ... < b_K inside
    ``z_range``), flat beyond the end breakpoints. ``max_error`` is the interpolation bound
    max_j h_j^2 / 8 max|f''| on [b_1, b_K] plus, for tanh, the tail 1 - tanh(b_K); valid on
    ``z_range`` (everywhere for tanh)."""
    if activation not in SMOOTH:
        raise InputError(f"no PWL expansion for {activation!r}; smooth activations: {', '.join(SMOOTH)}")
    if pieces < 2:
        raise InputError(f"a PWL expansion needs at least 2 pieces, got {pieces}")
    f, f2 = SMOOTH[activation]
    lo, hi = z_range
    b = _equidistributed_knots(f2, lo, hi, pieces)
    fb = f(b)
    slopes = torch.diff(fb) / torch.diff(b)                        # (K-1,)
    coeff = torch.diff(torch.cat([torch.zeros(1), slopes, torch.zeros(1)]))   # (K,) slope changes
    # interpolation error bound per segment, with |f''| maximized on a fine sample of the segment
    bound = 0.0
    for j in range(pieces - 1):
        zz = torch.linspace(float(b[j]), float(b[j + 1]), 65, dtype=torch.float64)
        bound = max(bound, float((b[j + 1] - b[j]) ** 2 / 8 * f2(zz).abs().max()))
    valid = (-math.inf, math.inf) if activation == "tanh" else (float(b[0]), float(b[-1]))
    if activation == "tanh":
        bound += 1 - math.tanh(float(b[-1]))
    return Expansion(tuple([1.0] * pieces), tuple(b.tolist()), tuple(coeff.tolist()), float(fb[0]),
                     max_error=bound, valid_range=valid)
