"""Quantization-aware activations for low-latency conversion: QCFS and SlipReLU (seed 004), in a
signed form for tanh-like PINNs, and the B-bit QCFS that the bit-serial neuron (seed 003) runs
without error.

Seed 004, eq. (8), for ReLU networks:

    SlipReLU(z) = c theta clip(z / theta + delta1, 0, 1) + (1 - c) theta clip(floor(N z / theta + delta) / N, 0, 1)

with slope c, quasi-latency N, shifts delta and delta1 and a trainable threshold theta; c = 0 is
QCFS (Bu et al. 2022). A PINN's hidden values are signed, so our step is what seed 000's signed
IF neuron (threshold theta, reset by subtraction, v(0) = delta * theta) sends in N steps of a
constant input z, times theta / N: trunc(N z / theta + delta) spikes (toward zero: positive
spikes for a positive count, negative ones otherwise), except near saturation, where one spike
a step at most can shave a spike off the side opposite to the shift. The step is computed by
running the neuron for N steps, so

    step(z)     = theta / N * (spike count of the signed IF in N steps)
    SlipReLU(z) = c theta clip(z / theta + delta1, -1, 1) + (1 - c) step(z)

and at T = N the converted network's first layer reproduces the c = 0 network exactly.
Why this form rather than a positive/negative population split: it is one neuron per unit (half
the neurons and synapses) and it is the neuron the rest of the pipeline already runs on Lava.
Gradient: the step passes the gradient of theta clip((N z / theta + delta) / N, -1, 1) (straight-
through estimator), so dSlipReLU/dz is c inside the ramp's range plus 1 - c inside the step's;
theta learns through both terms.
"""
from __future__ import annotations

import torch
from torch import nn

from loihi_pinn.errors import InputError


class SlipReLU(nn.Module):
    """Signed SlipReLU with ``levels`` N, ``slope`` c in [0, 1], shifts ``shift`` (delta) and
    ``shift1`` (delta1) and a trainable scalar threshold ``theta``; c = 0 is QCFS."""

    def __init__(self, levels: int = 4, slope: float = 0.0, shift: float = 0.5, shift1: float = 0.0,
                 theta: float = 1.0):
        super().__init__()
        if levels < 1:
            raise InputError(f"SlipReLU needs levels (quasi-latency N) >= 1, got {levels}")
        if not 0.0 <= slope <= 1.0:
            raise InputError(f"SlipReLU slope c must lie in [0, 1], got {slope}")
        self.levels, self.slope, self.shift, self.shift1 = int(levels), float(slope), float(shift), float(shift1)
        self.theta = nn.Parameter(torch.tensor(float(theta)))

    def params(self) -> dict:
        """The hyper-parameters (theta is a weight, saved with the state dict)."""
        return {"levels": self.levels, "slope": self.slope, "shift": self.shift, "shift1": self.shift1}

    def step(self, z: torch.Tensor) -> torch.Tensor:
        """theta / N times the signed IF's spike count in N steps, straight-through in z and theta."""
        surrogate = self.theta * torch.clamp((self.levels * z / self.theta + self.shift) / self.levels, -1.0, 1.0)
        with torch.no_grad():
            theta = self.theta.abs()
            v, count = torch.full_like(z, self.shift) * theta, torch.zeros_like(z)
            for _ in range(self.levels):
                v = v + z
                spikes = (v >= theta).to(z.dtype) - (v <= -theta).to(z.dtype)
                v = v - spikes * theta
                count += spikes
        return surrogate + (theta * count / self.levels - surrogate).detach()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = self.step(z)
        if self.slope:
            ramp = self.theta * torch.clamp(z / self.theta + self.shift1, -1.0, 1.0)
            out = self.slope * ramp + (1.0 - self.slope) * out
        return out

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.params().items())


def qcfs(levels: int = 4, shift: float = 0.5) -> SlipReLU:
    """The signed QCFS activation: SlipReLU with slope 0."""
    return SlipReLU(levels, 0.0, shift)


class BitSerialQCFS(nn.Module):
    """A signed B-bit activation, the source of the bit-serial neuron (seed 003):

        a = sign(z) * scale * m,   m = #{k in 1 .. 2^B - 1 : |z| >= tau_k}   (a B-bit magnitude)

    ``shape="linear"`` is seed 003's QCFS: tau_k = theta (k - delta) / 2^B, scale = theta / 2^B,
    so m = min(2^B - 1, floor(2^B |z| / theta + delta)), trainable theta. ``shape="tanh"`` is
    tanh rounded to B bits: tau_k = atanh((k - delta) / (2^B - 1)), scale = 1 / (2^B - 1), so a
    tanh PINN converts as it is. The bit-serial neuron finds m by sending its bits most
    significant first, each a comparison with one threshold of the table (a binary search; for
    the linear table it is seed 003's ladder theta / 2^t), as spikes carrying the sign of z: one
    neuron per unit. ``shift`` delta = 1/2 rounds. Gradient: straight through theta * clip(z /
    theta, -1, 1) (linear) or tanh(z)."""

    SHAPES = ("linear", "tanh")

    def __init__(self, bits: int = 4, shift: float = 0.5, shape: str = "linear", theta: float = 1.0):
        super().__init__()
        if not 1 <= bits <= 16:
            raise InputError(f"bit-serial activation needs 1 <= bits <= 16, got {bits}")
        if not 0.0 <= shift < 1.0:
            raise InputError(f"bit-serial shift delta must lie in [0, 1), got {shift}")
        if shape not in self.SHAPES:
            raise InputError(f"bit-serial activation shape must be one of {self.SHAPES}, got {shape!r}")
        self.bits, self.shift, self.shape = int(bits), float(shift), shape
        self.theta = nn.Parameter(torch.tensor(float(theta)), requires_grad=shape == "linear")

    def params(self) -> dict:
        return {"bits": self.bits, "shift": self.shift, "shape": self.shape}

    @property
    def scale(self) -> float:
        """Value of one level: a = sign(z) * scale * m."""
        if self.shape == "tanh":
            return 1.0 / (2 ** self.bits - 1)
        return float(self.theta.detach().abs()) / 2 ** self.bits

    def thresholds(self, dtype=torch.float64) -> torch.Tensor:
        """tau_k, k = 1 .. 2^B - 1, increasing ``(2^B - 1,)``."""
        k = torch.arange(1, 2 ** self.bits, dtype=torch.float64) - self.shift
        if self.shape == "tanh":
            return torch.atanh(k / (2 ** self.bits - 1)).to(dtype)
        return (float(self.theta.detach().abs()) * k / 2 ** self.bits).to(dtype)

    def magnitude(self, z: torch.Tensor) -> torch.Tensor:
        """The level m in [0, 2^B - 1] of each element (float tensor of integers, no gradient)."""
        with torch.no_grad():
            tau = self.thresholds(z.dtype).to(z.device)
            return torch.searchsorted(tau, z.abs().contiguous(), right=True).to(z.dtype)

    def _surrogate(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(z) if self.shape == "tanh" else self.theta * torch.clamp(z / self.theta, -1.0, 1.0)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        surrogate = self._surrogate(z)
        value = torch.sign(z) * self.scale * self.magnitude(z)
        return surrogate + (value - surrogate).detach()

    def one_bit_fraction(self, z: torch.Tensor) -> torch.Tensor:
        """Fraction of one-bits in the magnitudes of ``z``'s activations: the bit-sparsity
        regularizer of seed 003, eq. (11), as a mean rather than a sum. Its gradient is that of
        eq. (12): each bit moves with |a| where a is inside its range (0 < |a| < max)."""
        m = self.magnitude(z).long()
        ones = sum(((m >> k) & 1) for k in range(self.bits)).to(z.dtype).mean() / self.bits
        a = self._surrogate(z).abs()
        top = 1.0 if self.shape == "tanh" else self.theta.detach().abs()
        live = ((a > 0) & (a < top)).to(z.dtype)
        return ones + (live * (a - a.detach()) / top).mean()

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.params().items())
