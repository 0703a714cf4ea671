"""Beltrami (Taylor-Green type) flow, incompressible Navier-Stokes at Re = 1 on [-1, 1]^2 x [0, 1]
(seed 000, eqs. 8-9), outputs (u, v, p): 4 x 128 tanh.

Exact solution: u = -cos x sin y e^{-2t}, v = sin x cos y e^{-2t},
p = -(cos 2x + cos 2y) e^{-4t} / 4. Initial and boundary values of u, v and p come from it (as in
the paper); prescribing p there fixes the additive constant the equations leave free.
"""
import torch

from .base import Condition, GridCondition, Problem, box_faces, gradient, grid_axes, numpy_reference, uniform

LOWER, UPPER = (-1.0, -1.0, 0.0), (1.0, 1.0, 1.0)
REYNOLDS = 1.0


def exact(x: torch.Tensor) -> torch.Tensor:
    """(u, v, p) at points ``(n, 3)`` = (x, y, t); returns ``(n, 3)``."""
    X, Y, t = x[:, 0], x[:, 1], x[:, 2]
    u = -torch.cos(X) * torch.sin(Y) * torch.exp(-2 * t)
    v = torch.sin(X) * torch.cos(Y) * torch.exp(-2 * t)
    p = -(torch.cos(2 * X) + torch.cos(2 * Y)) * torch.exp(-4 * t) / 4
    return torch.stack([u, v, p], dim=1)


def pde_residual(field, x):
    """Momentum (x, y) and continuity residuals, ``(n, 3)``."""
    x = x.requires_grad_(True)
    out = field(x)
    u, v, p = out[:, 0], out[:, 1], out[:, 2]
    du, dv, dp = gradient(u, x), gradient(v, x), gradient(p, x)
    lap_u = gradient(du[:, 0], x)[:, 0] + gradient(du[:, 1], x)[:, 1]
    lap_v = gradient(dv[:, 0], x)[:, 0] + gradient(dv[:, 1], x)[:, 1]
    mom_x = du[:, 2] + u * du[:, 0] + v * du[:, 1] + dp[:, 0] - lap_u / REYNOLDS
    mom_y = dv[:, 2] + u * dv[:, 0] + v * dv[:, 1] + dp[:, 1] - lap_v / REYNOLDS
    continuity = du[:, 0] + dv[:, 1]
    return torch.stack([mom_x, mom_y, continuity], dim=1)


def grid_pde_residual(field):
    """Momentum (x, y) and continuity residuals on a tensor grid (separable networks), ``(..., 3)``."""
    out, dx, dy, dt = field.d(), field.d(x=1), field.d(y=1), field.d(t=1)
    lap = field.d(x=2) + field.d(y=2)
    u, v = out[..., :1], out[..., 1:2]
    mom = dt[..., :2] + u * dx[..., :2] + v * dy[..., :2] + torch.cat([dx[..., 2:], dy[..., 2:]], -1) \
        - lap[..., :2] / REYNOLDS
    return torch.cat([mom, dx[..., :1] + dy[..., 1:2]], dim=-1)


def grid_data_residual(field):
    """Grid values minus the exact solution (initial and boundary data)."""
    return field.d() - exact(field.points()).view(*field.shape, 3)


def _grid_walls(axis: int, n: int = 32):
    """Sampler of the two walls x_axis = -1, 1 by n x n random points of the other (x or y) and t."""
    inner = grid_axes(LOWER, UPPER, (n, n, n))

    def sample(gen: torch.Generator) -> list[torch.Tensor]:
        coords = inner(gen)
        coords[axis] = torch.tensor([LOWER[axis], UPPER[axis]], dtype=torch.float64)
        return coords

    return sample


def build() -> Problem:
    t0 = (LOWER[0], LOWER[1], 0.0), (UPPER[0], UPPER[1], 0.0)
    data = lambda u, x: u(x) - exact(x)  # noqa: E731  (initial and boundary data)
    return Problem(
        name="beltrami", equation="u_t + (u.grad)u = -grad p + lap(u)/Re, div u = 0, Re = 1",
        input_names=("x", "y", "t"), output_names=("u", "v", "p"), lower=LOWER, upper=UPPER,
        conditions=(
            Condition("pde", uniform(LOWER, UPPER), pde_residual, n_points=2000),
            Condition("initial", uniform(*t0), data, n_points=500, weight=10.0),
            Condition("boundary", box_faces(LOWER, UPPER, axes=(0, 1)), data, n_points=1000, weight=10.0),
        ),
        reference=numpy_reference(exact), reference_method="analytic (eq. 9)",
        grid_shape=(21, 21, 11),
        grid_conditions=(
            GridCondition("pde", grid_axes(LOWER, UPPER, (32, 32, 32)), grid_pde_residual),
            GridCondition("initial", grid_axes(*t0, (64, 64, 1)), grid_data_residual, weight=10.0, max_order=0),
            GridCondition("walls_x", _grid_walls(0), grid_data_residual, weight=10.0, max_order=0),
            GridCondition("walls_y", _grid_walls(1), grid_data_residual, weight=10.0, max_order=0),
        ),
    )
