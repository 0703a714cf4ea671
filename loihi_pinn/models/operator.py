"""Seed 001's operator network y -> u: an MLP from the p parameters to the 10,201 grid values,
0.2-LeakyReLU, as a ``PINN`` (the parameter box mapped to [-1, 1]^p), so it converts through the
same pipeline as any PINN."""
from __future__ import annotations

from .mlp import PINN, build_mlp

FULL_WIDTH, FULL_LAYERS = 300, 11
"""The seed's network: (p, 300, ..., 300, 10201) with L = 11 affine layers."""
NEGATIVE_SLOPE = 0.2


def operator_sizes(p: int, outputs: int, width: int = FULL_WIDTH, layers: int = FULL_LAYERS) -> list[int]:
    """Layer sizes ``[p, width x (layers - 1), outputs]``."""
    return [p, *[width] * (layers - 1), outputs]


def build_operator(p: int, outputs: int, lower, upper, width: int = FULL_WIDTH, layers: int = FULL_LAYERS) -> PINN:
    """The LeakyReLU(0.2) operator network on the parameter box [lower, upper] ``(p,)``."""
    net = build_mlp(operator_sizes(p, outputs, width, layers), "leaky_relu", NEGATIVE_SLOPE)
    return PINN(net, list(lower), list(upper))
