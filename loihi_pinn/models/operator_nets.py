"""Spiking neural operators (seed 002): DeepONet and SepONet with spiking-MLP branch and trunks.

    DeepONet  G(g)(y)        ~ sum_i Branch_i(g) Trunk_i(y) + b0
    SepONet   G(f)(y_1..y_d) ~ sum_i Branch_i(f) prod_n Trunk_{i,n}(y_n)

Branch and trunks are ``SpikingMLP`` networks, each of which runs on Loihi as it is; the
product of their outputs (and b0) is a host step after the chip: no Loihi 2 neuron multiplies
two outputs. ``host_macs`` counts it.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .spiking_mlp import SpikingMLP


class SpikingDeepONet(nn.Module):
    """``branch`` (m sensor values -> p) and ``trunk`` (d coordinates -> p) spiking MLPs and a bias."""

    def __init__(self, branch: SpikingMLP, trunk: SpikingMLP):
        super().__init__()
        if branch.sizes[-1] != trunk.sizes[-1]:
            raise ValueError(f"branch ({branch.sizes[-1]}) and trunk ({trunk.sizes[-1]}) outputs differ")
        self.branch, self.trunk = branch, trunk
        self.bias = nn.Parameter(torch.zeros(()))

    @property
    def nets(self) -> dict[str, SpikingMLP]:
        return {"branch": self.branch, "trunk": self.trunk}

    def layer_groups(self) -> list[list[str]]:
        """Parameter names by layer, branch then trunk (the bias joins the trunk's readout)."""
        groups = [[f"{name}.{p}" for p in g] for name, net in self.nets.items() for g in net.layer_groups()]
        groups[-1].append("bias")
        return groups

    def forward(self, g: torch.Tensor, y: torch.Tensor, *, with_local: bool = False):
        """``(n_f, n_y)`` for sensor values ``g`` ``(n_f, m)`` and points ``y`` ``(n_y, d)``; with
        ``with_local`` also the local predictions (branch head i times the trunk, and so on)."""
        b, b_local = self.branch(g, with_local=True)
        t, t_local = self.trunk(y, with_local=True)
        out = combine_deeponet(b, t) + self.bias
        if not with_local:
            return out
        return out, [combine_deeponet(h, t) + self.bias for h in b_local] + [combine_deeponet(b, h) + self.bias
                                                                            for h in t_local]


class SpikingSepONet(nn.Module):
    """``branch`` (m -> r) and one trunk per coordinate (1 -> r) spiking MLPs."""

    def __init__(self, branch: SpikingMLP, trunks: list[SpikingMLP]):
        super().__init__()
        if any(t.sizes[-1] != branch.sizes[-1] or t.sizes[0] != 1 for t in trunks):
            raise ValueError("every trunk must map one coordinate to the branch's rank")
        self.branch, self.trunks = branch, nn.ModuleList(trunks)

    @property
    def nets(self) -> dict[str, SpikingMLP]:
        return {"branch": self.branch, **{f"trunk_{i}": t for i, t in enumerate(self.trunks)}}

    def layer_groups(self) -> list[list[str]]:
        return [[f"{name}.{p}" for p in g] for name, net in
                {"branch": self.branch, **{f"trunks.{i}": t for i, t in enumerate(self.trunks)}}.items()
                for g in net.layer_groups()]

    def forward(self, f: torch.Tensor, coords: list[torch.Tensor], *, with_local: bool = False):
        """``(n_f, n_1, ..., n_d)`` on the tensor grid of ``coords`` (one ``(n_a,)`` each)."""
        b, b_local = self.branch(f, with_local=True)
        runs = [t(c[:, None], with_local=True) for t, c in zip(self.trunks, coords)]
        features = [r[0] for r in runs]
        out = combine_seponet(b, features)
        if not with_local:
            return out
        local = [combine_seponet(h, features) for h in b_local]
        for a, (_, heads) in enumerate(runs):
            local += [combine_seponet(b, features[:a] + [h] + features[a + 1:]) for h in heads]
        return out, local


def combine_deeponet(branch: torch.Tensor, trunk: torch.Tensor) -> torch.Tensor:
    """sum_i branch[f, i] trunk[y, i]: ``(n_f, p)``, ``(n_y, p)`` -> ``(n_f, n_y)`` (torch or numpy)."""
    return branch @ trunk.T


def combine_seponet(branch, trunks: list):
    """sum_i branch[f, i] prod_a trunk_a[y_a, i] on the grid: ``(n_f, r)``, ``[(n_a, r)]`` -> ``(n_f, n_1, ..)``."""
    letters = "abcdefgh"[:len(trunks)]
    einsum = torch.einsum if isinstance(branch, torch.Tensor) else np.einsum
    return einsum(f"zr,{','.join(c + 'r' for c in letters)}->z{letters}", branch, *trunks)


def deeponet_host_macs(n_f: int, n_y: int, p: int) -> int:
    """Multiply-accumulates of the host's branch-trunk product."""
    return n_f * n_y * p


def seponet_host_macs(n_f: int, grid: list[int], r: int) -> int:
    """Multiply-accumulates of the host's SepONet product, evaluated as einsum does: the trunks'
    outer product once (r per grid point and factor beyond the first) and the sum over r per output."""
    points = 1
    for n in grid:
        points *= n
    return r * points * (len(grid) - 1) + n_f * points * r
