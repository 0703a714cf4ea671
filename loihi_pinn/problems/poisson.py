"""Poisson -lap u = 1 on [-1, 1]^2 with u = 0 on the boundary (seed 000, eq. 4): 3 x 100 tanh.

Reference: the separable series u = (1 - x^2)/2 - sum_k c_k cos(k pi x / 2) cosh(k pi y / 2) /
cosh(k pi / 2) over odd k, c_k = 16 (-1)^((k-1)/2) / (k pi)^3. Every truncation satisfies
-lap u = 1 and u(+-1, y) = 0 exactly; the error sits on y = +-1 and decays like K^-2 in the number
of terms K (about 4e-7 at K = 500), and exponentially inside.
"""
import math

import torch

from .base import Condition, Problem, box_faces, gradient, numpy_reference, uniform

LOWER, UPPER = (-1.0, -1.0), (1.0, 1.0)
SERIES_TERMS = 500


def exact(x: torch.Tensor, n_terms: int = SERIES_TERMS) -> torch.Tensor:
    """Series solution at points ``(n, 2)``; returns ``(n, 1)``."""
    X, Y = x[:, 0], x[:, 1]
    u = (1 - X**2) / 2
    k = torch.arange(1, 2 * n_terms, 2, dtype=x.dtype)[:, None]          # odd k, (K, 1)
    c = 16 * (-1.0) ** ((k - 1) // 2) / (k * math.pi) ** 3
    a = k * math.pi / 2
    # cosh(a y) / cosh(a) written without overflow
    ratio = torch.exp(a * (Y.abs() - 1)) * (1 + torch.exp(-2 * a * Y.abs())) / (1 + torch.exp(-2 * a))
    u = u - (c * torch.cos(a * X) * ratio).sum(dim=0)
    return u[:, None]


def pde_residual(u, x):
    x = x.requires_grad_(True)
    ux = gradient(u(x), x)
    uxx = gradient(ux[:, 0], x)[:, 0]
    uyy = gradient(ux[:, 1], x)[:, 1]
    return (-(uxx + uyy) - 1)[:, None]


def build() -> Problem:
    return Problem(
        name="poisson", equation="-(u_xx + u_yy) = 1, u = 0 on the boundary",
        input_names=("x", "y"), output_names=("u",), lower=LOWER, upper=UPPER,
        conditions=(
            Condition("pde", uniform(LOWER, UPPER), pde_residual, n_points=2000),
            Condition("boundary", box_faces(LOWER, UPPER, axes=(0, 1)), lambda u, x: u(x),
                      n_points=400, weight=10.0),
        ),
        reference=numpy_reference(exact), reference_method=f"separable series, {SERIES_TERMS} odd terms",
        grid_shape=(101, 101),
    )
