"""Wave u_tt = u_xx on [-1, 1] x [0, 0.5], u(+-1, t) = 0, u_t(x, 0) = 0 and the piecewise-linear
initial profile of seed 000, eq. 6 (1 on |x| <= 0.245, 0 on |x| >= 0.6, linear between): 3 x 100.

Reference: d'Alembert, u = (F(x - t) + F(x + t)) / 2 with F the odd reflection of the profile about
x = +-1 (period 4), exact.
"""
import torch

from .base import Condition, Problem, box_faces, gradient, numpy_reference, uniform

LOWER, UPPER = (-1.0, 0.0), (1.0, 0.5)
PLATEAU, FOOT = 0.245, 0.6


def initial_profile(x: torch.Tensor) -> torch.Tensor:
    """The eq. 6 profile on [-1, 1]: 1 on the plateau, 0 beyond the foot, linear between."""
    return torch.clamp((FOOT - x.abs()) / (FOOT - PLATEAU), 0.0, 1.0)


def reflected_profile(x: torch.Tensor) -> torch.Tensor:
    """Odd extension of the profile about x = 1 and x = -1 (period 4), for any real x."""
    y = torch.remainder(x + 1, 4.0) - 1                    # in [-1, 3)
    return torch.where(y <= 1, initial_profile(y), -initial_profile(2 - y))


def exact(x: torch.Tensor) -> torch.Tensor:
    """d'Alembert solution at points ``(n, 2)`` = (x, t); returns ``(n, 1)``."""
    X, t = x[:, 0], x[:, 1]
    return ((reflected_profile(X - t) + reflected_profile(X + t)) / 2)[:, None]


def pde_residual(u, x):
    x = x.requires_grad_(True)
    du = gradient(u(x), x)
    uxx = gradient(du[:, 0], x)[:, 0]
    utt = gradient(du[:, 1], x)[:, 1]
    return (utt - uxx)[:, None]


def initial_velocity(u, x):
    x = x.requires_grad_(True)
    return gradient(u(x), x)[:, 1:2]


def build() -> Problem:
    t0 = (LOWER[0], 0.0), (UPPER[0], 0.0)
    return Problem(
        name="wave", equation="u_tt = u_xx, u(+-1,t) = 0, u(x,0) = piecewise linear, u_t(x,0) = 0",
        input_names=("x", "t"), output_names=("u",), lower=LOWER, upper=UPPER,
        conditions=(
            Condition("pde", uniform(LOWER, UPPER), pde_residual, n_points=3000),
            Condition("initial", uniform(*t0), lambda u, x: u(x) - initial_profile(x[:, :1]),
                      n_points=600, weight=20.0),
            Condition("initial_velocity", uniform(*t0), initial_velocity, n_points=600, weight=20.0),
            Condition("boundary", box_faces(LOWER, UPPER, axes=(0,)), lambda u, x: u(x),
                      n_points=400, weight=20.0),
        ),
        reference=numpy_reference(exact), reference_method="d'Alembert with reflections (exact)",
        grid_shape=(201, 101),
    )
