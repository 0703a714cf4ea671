"""Quantization-aware activations for low-latency conversion: QCFS and SlipReLU (seed 004), in a
signed form for tanh-like PINNs.

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
