"""Separable PINN (SPINN, Cho et al., NeurIPS 2023; seed 000, section 4.3).

One plain tanh MLP per input axis a maps a coordinate x_a to ``d_out * rank`` features
f_a[k, j]; output k is u_k(x) = sum_j prod_a f_a[k, j](x_a). Feature index ``k * rank + j``.
Each axis network is a ``PINN`` of one input (its own interval mapped to [-1, 1]), so it converts,
quantizes and exports like any PINN. On a tensor grid of n_1 x ... x n_d points the network runs
n_1 + ... + n_d axis passes instead of n_1 * ... * n_d: ``grid``, and ``GridField`` for the
derivatives a physics loss needs (forward mode, ``torch.func.jvp``, per axis).
"""
from __future__ import annotations

import string

import torch
from torch import nn
from torch.func import jvp

from loihi_pinn.errors import InputError

from .mlp import PINN


def combine(features: list[torch.Tensor]) -> torch.Tensor:
    """Axis features ``[(n_a, d_out, rank)]`` -> the grid ``(n_1, ..., n_d, d_out)``:
    u[i_1.., k] = sum_j prod_a f_a[i_a, k, j]."""
    letters = string.ascii_lowercase[:len(features)]
    spec = ",".join(f"{c}KR" for c in letters) + f"->{letters}K"
    return torch.einsum(spec, *features)


class SPINN(nn.Module):
    """``nets[a]``: an MLP of 1 input and ``d_out * rank`` outputs for axis a of the box
    ``lower`` .. ``upper`` (physical units, one bound per axis)."""

    def __init__(self, nets: list[nn.Sequential], lower, upper, d_out: int, rank: int):
        super().__init__()
        if len(nets) != len(lower) or len(lower) != len(upper) or len(nets) < 2:
            raise InputError(f"a separable PINN needs one axis network per input (at least 2); got {len(nets)} "
                             f"networks for a box of {len(lower)} inputs")
        self.axes = nn.ModuleList(PINN(net, (lo,), (hi,)) for net, lo, hi in zip(nets, lower, upper))
        for a, axis in enumerate(self.axes):
            sizes = axis.architecture["layer_sizes"]
            if sizes[0] != 1 or sizes[-1] != d_out * rank:
                raise InputError(f"axis network {a} is {sizes[0]} -> ... -> {sizes[-1]}; a separable PINN with "
                                 f"{d_out} outputs of rank {rank} needs 1 -> ... -> {d_out * rank}")
        self.d_out, self.rank = d_out, rank

    @property
    def lower(self) -> torch.Tensor:
        return torch.cat([axis.lower for axis in self.axes])

    @property
    def upper(self) -> torch.Tensor:
        return torch.cat([axis.upper for axis in self.axes])

    @property
    def n_parameters(self) -> int:
        return sum(axis.n_parameters for axis in self.axes)

    def features(self, a: int, coords: torch.Tensor) -> torch.Tensor:
        """Axis ``a``'s features ``(n, d_out, rank)`` at coordinates ``(n,)`` (physical)."""
        return self.axes[a](coords[:, None]).view(-1, self.d_out, self.rank)

    def grid(self, coords: list[torch.Tensor]) -> torch.Tensor:
        """Outputs ``(n_1, ..., n_d, d_out)`` on the tensor grid of per-axis ``coords`` ``[(n_a,)]``."""
        return combine([self.features(a, c) for a, c in enumerate(coords)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs ``(n, d_out)`` at scattered points ``(n, d_in)``."""
        product = self.features(0, x[:, 0])
        for a in range(1, len(self.axes)):
            product = product * self.features(a, x[:, a])
        return product.sum(-1)


def axis_derivatives(spinn: SPINN, a: int, coords: torch.Tensor, max_order: int) -> list[torch.Tensor]:
    """Features of axis ``a`` and their derivatives d^m/dx_a^m, m = 0..``max_order`` (physical
    units), each ``(n, d_out, rank)``, by nested forward-mode products (``torch.func.jvp``)."""
    x, ones = coords[:, None], torch.ones(len(coords), 1, dtype=coords.dtype)
    fns = [lambda x: spinn.axes[a](x)]
    for _ in range(max_order):
        fns.append(lambda x, f=fns[-1]: jvp(f, (x,), (ones,))[1])
    return [f(x).view(-1, spinn.d_out, spinn.rank) for f in fns]


class GridField:
    """A separable network's values and partial derivatives on one tensor grid, for physics
    losses: ``d(x=1, t=0)`` (orders by input name, missing ones 0) -> ``(n_1, ..., n_d, d_out)``;
    ``points()`` the grid's points ``(N, d)`` in the same order (C order, first axis slowest)."""

    def __init__(self, spinn: SPINN, coords: list[torch.Tensor], names, max_order: int = 2):
        self.coords, self.names = coords, tuple(names)
        self.shape = tuple(len(c) for c in coords)
        self._derivs = [axis_derivatives(spinn, a, c, max_order) for a, c in enumerate(coords)]
        self._cache: dict[tuple, torch.Tensor] = {}

    def d(self, **orders: int) -> torch.Tensor:
        unknown = set(orders) - set(self.names)
        if unknown:
            raise InputError(f"no input named {sorted(unknown)}; the inputs are {', '.join(self.names)}")
        key = tuple(orders.get(n, 0) for n in self.names)
        if key not in self._cache:
            self._cache[key] = combine([derivs[m] for derivs, m in zip(self._derivs, key)])
        return self._cache[key]

    def points(self) -> torch.Tensor:
        mesh = torch.meshgrid(*self.coords, indexing="ij")
        return torch.stack([m.reshape(-1) for m in mesh], dim=1)
