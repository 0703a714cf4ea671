"""A spiking MLP of integrate-and-fire neurons trained directly (seed 002, section 3).

Per hidden layer l and step t = 1..T (no leak, threshold theta = 1, the input held every step):

    Z[t] = W S^{l-1}[t] + B          (S^0[t] = x, the input normalized to [-1, 1])
    U[t] = U[t-1] + Z[t];  S[t] = H(U[t] - theta)
    reset "subtract" (the seed's):   U[t] -= theta S[t]        (H(0) = 1: fires at U >= theta)
    reset "hard" (Loihi's CUBA):     U[t] = 0 where S[t] = 1   (fires at U > theta)

The readout is a non-firing integrator: output = (1/T) sum_t (W S^{L-1}[t] + B). These are the
float dynamics of the project's ``signed_if`` (with unsigned layers) and ``if_hard`` neurons, so
a trained network exports with the existing quantizers (``conversion.direct_snn``).

The Heaviside has a surrogate derivative (H stays exact in the forward pass, for reverse and
forward-mode AD alike): ``"sg"`` the Gaussian f_sg(x) = exp(-x^2 / 2 sigma^2) / (sigma sqrt(2 pi));
``"wsg"`` its weak form by Stein's lemma, f_wsg(x) = (1/K) sum_k delta_k / sigma^2
(H(x + delta_k) - H(x)), delta_k ~ N(0, sigma^2), drawn afresh each call.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from loihi_pinn.errors import InputError

from .mlp import to_unit_box

SURROGATES = ("sg", "wsg")
RESETS = {"subtract": "signed_if", "hard": "if_hard"}    # reset -> the project's neuron model that runs it
THRESHOLD = 1.0


def surrogate_derivative(x: torch.Tensor, kind: str, sigma: float, samples: int) -> torch.Tensor:
    """dH/dx as the surrogate ``kind`` defines it, elementwise on ``x`` (no gradient flows through it)."""
    x = x.detach()
    if kind == "sg":
        return torch.exp(-x**2 / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))
    delta = sigma * torch.randn((samples, *x.shape), dtype=x.dtype)
    return (delta / sigma**2 * ((x + delta >= 0).to(x.dtype) - (x >= 0).to(x.dtype))).mean(0)


class _Heaviside(torch.autograd.Function):
    """H(v - theta) forward; the given surrogate ``derivative`` in reverse and forward mode. (A custom
    function rather than H + (x - x.detach()) f: forward-mode AD of ops that mix dual and plain
    tensors is ~100x slower in torch 2.3.)"""

    @staticmethod
    def forward(v, derivative, strict):
        return ((v > THRESHOLD) if strict else (v >= THRESHOLD)).to(v.dtype)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[1])
        ctx.save_for_forward(inputs[1])

    @staticmethod
    def backward(ctx, grad):
        derivative, = ctx.saved_tensors
        return grad * derivative, None, None

    @staticmethod
    def jvp(ctx, v_tangent, derivative_tangent, strict_tangent):
        derivative, = ctx.saved_tensors
        return v_tangent * derivative


def spike(v: torch.Tensor, kind: str = "sg", sigma: float = 0.5, samples: int = 8,
          strict: bool = False) -> torch.Tensor:
    """H(v - theta) (1 at v = theta, or 0 with ``strict``) whose derivative is the surrogate ``kind``."""
    return _Heaviside.apply(v, surrogate_derivative(v.detach() - THRESHOLD, kind, sigma, samples), strict)


class SpikingMLP(nn.Module):
    """IF network ``sizes`` = (d_in, hidden..., d_out) over ``timesteps`` T on the box
    ``lower``/``upper`` (physical inputs, mapped to [-1, 1]). ``surrogate`` "sg" or "wsg" with
    width ``sigma``; ``reset`` "subtract" (seed 002) or "hard"; ``local_heads``: a linear
    projection of each hidden layer's spike rate to the output, for the layer-local loss (LL)."""

    def __init__(self, sizes, *, timesteps: int = 32, lower=None, upper=None, surrogate: str = "sg",
                 sigma: float = 0.5, wsg_samples: int = 8, reset: str = "subtract", local_heads: bool = False):
        super().__init__()
        if surrogate not in SURROGATES:
            raise InputError(f"unknown surrogate {surrogate!r}; choose one of: {', '.join(SURROGATES)}")
        if reset not in RESETS:
            raise InputError(f"unknown reset {reset!r}; choose one of: {', '.join(RESETS)}")
        if len(sizes) < 3 or timesteps < 1 or sigma <= 0:
            raise InputError(f"a spiking MLP needs >= 1 hidden layer, T >= 1 and sigma > 0; got sizes {sizes}, "
                             f"T = {timesteps}, sigma = {sigma}")
        self.sizes, self.timesteps = tuple(int(s) for s in sizes), int(timesteps)
        self.surrogate, self.sigma, self.wsg_samples, self.reset = surrogate, float(sigma), int(wsg_samples), reset
        d_in = self.sizes[0]
        self.register_buffer("lower", torch.as_tensor(lower if lower is not None else [-1.0] * d_in, dtype=torch.float32))
        self.register_buffer("upper", torch.as_tensor(upper if upper is not None else [1.0] * d_in, dtype=torch.float32))
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(self.sizes[:-1], self.sizes[1:]))
        self.heads = nn.ModuleList(nn.Linear(h, self.sizes[-1]) for h in self.sizes[1:-1]) if local_heads else None

    @property
    def neuron(self) -> str:
        """The registered neuron model that runs these dynamics in fixed point."""
        return RESETS[self.reset]

    def layer_groups(self) -> list[list[str]]:
        """Parameter names by layer (a hidden layer with its local head): the blocks of layer-wise RFG."""
        groups = [[f"layers.{i}.weight", f"layers.{i}.bias"] for i in range(len(self.layers))]
        if self.heads is not None:
            for i in range(len(self.heads)):
                groups[i] += [f"heads.{i}.weight", f"heads.{i}.bias"]
        return groups

    def _run_layer(self, currents: torch.Tensor) -> torch.Tensor:
        """Spikes ``(T, n, width)`` of one IF layer from its currents ``(T, n, width)``, or
        ``(n, width)`` held for all T steps (the first layer)."""
        constant = currents.ndim == 2
        v, spikes = torch.zeros_like(currents if constant else currents[0]), []
        hard = self.reset == "hard"
        for t in range(self.timesteps):
            v = v + (currents if constant else currents[t])
            s = spike(v, self.surrogate, self.sigma, self.wsg_samples, strict=hard)
            v = v - v * s if hard else v - s                   # theta = 1: a spike removes 1
            spikes.append(s)
        return torch.stack(spikes)

    def forward(self, x: torch.Tensor, *, with_local: bool = False):
        """Outputs ``(n, d_out)`` for physical inputs ``(n, d_in)``; with ``with_local`` also the
        local heads' predictions (a list of ``(n, d_out)``, one per hidden layer)."""
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise InputError(f"this spiking MLP takes inputs of shape (n, {self.sizes[0]}); got {tuple(x.shape)}")
        h = to_unit_box(x, self.lower.to(x.dtype), self.upper.to(x.dtype))
        values = self.layers[0](h)
        local = []
        for i, layer in enumerate(self.layers[1:]):
            spikes = self._run_layer(values)
            if with_local and self.heads is not None:
                local.append(self.heads[i](spikes.mean(0)))
            values = layer(spikes)
        out = values.mean(0)
        return (out, local) if with_local else out

    def spike_rates(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each hidden layer's mean spike rate ``(n, width)`` in [0, 1] (diagnostics)."""
        with torch.no_grad():
            values = self.layers[0](to_unit_box(x, self.lower.to(x.dtype), self.upper.to(x.dtype)))
            rates = []
            for layer in self.layers[1:]:
                spikes = self._run_layer(values)
                rates.append(spikes.mean(0))
                values = layer(spikes)
        return rates
