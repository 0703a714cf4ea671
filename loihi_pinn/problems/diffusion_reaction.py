"""Diffusion-reaction u_t - u_xx = k u^2, k = 1, on [-1, 1] x [0, 0.01] with
u(x, 0) = exp(-x^2 / (2 sigma^2)), sigma = 0.25 (seed 000, eq. 5): 3 x 100 tanh.

Boundary conditions (the paper leaves them open): we solve the free-space problem and look at it
through the window [-1, 1]. At the walls u ~ 1e-3, so the reaction k u^2 ~ 1e-6 is negligible
there and u is the heat-kernel spreading of the Gaussian,
u(+-1, t) = g(t) = sigma / s exp(-1 / (2 s^2)), s^2 = sigma^2 + 2 t   (Dirichlet, time-dependent).
This is compatible with the initial condition, and it matters: a wall held at u(+-1, 0) or a
no-flux wall changes u near the walls by ~4e-3 by t = 0.01, because the Gaussian's tail grows by
6x through diffusion alone. A sim_test checks the window against a solve on [-3, 3].

Reference: method of lines, second-order central differences on a uniform grid (801 nodes on
[-1, 1]) and a stiff BDF integrator at rtol 1e-10; grid refinement shows ~2e-6 error (sim_tests).
"""
from __future__ import annotations

import functools

import numpy as np
import scipy.integrate
import scipy.interpolate
import scipy.sparse
import torch

from .base import Condition, Problem, box_faces, gradient, uniform

K_REACTION, SIGMA = 1.0, 0.25
LOWER, UPPER = (-1.0, 0.0), (1.0, 0.01)


def initial_profile(x):
    """The Gaussian bump; works on numpy arrays and torch tensors."""
    exp = torch.exp if isinstance(x, torch.Tensor) else np.exp
    return exp(-x**2 / (2 * SIGMA**2))


def free_space_wall(x, t):
    """Heat-kernel spreading of the bump, sigma / s exp(-x^2 / (2 s^2)), s^2 = sigma^2 + 2 t:
    the solution where u^2 is negligible (the walls). numpy or torch."""
    exp = torch.exp if isinstance(t, torch.Tensor) else np.exp
    s2 = SIGMA**2 + 2 * t
    return SIGMA / s2**0.5 * exp(-x**2 / (2 * s2))


def solve_method_of_lines(n_x: int = 801, n_t: int = 201, half_width: float = 1.0):
    """Solve on ``n_x`` nodes over [-half_width, half_width] with the free-space wall values.

    Returns (x ``(n_x,)``, t ``(n_t,)``, u ``(n_t, n_x)``).
    """
    x = np.linspace(-half_width, half_width, n_x)
    h = x[1] - x[0]
    interior = scipy.sparse.diags(np.r_[0.0, np.ones(n_x - 2), 0.0])
    lap = interior @ scipy.sparse.diags([1.0, -2.0, 1.0], [-1, 0, 1], shape=(n_x, n_x)) / h**2
    lap = lap.tocsr()
    wall = np.zeros(n_x, dtype=bool)
    wall[[0, -1]] = True

    def wall_rate(t):                        # d/dt of free_space_wall at x = +-half_width
        s2 = SIGMA**2 + 2 * t
        return free_space_wall(half_width, t) * (half_width**2 / s2**2 - 1 / s2)

    def rhs(t, u):
        return np.where(wall, wall_rate(t), lap @ u + K_REACTION * u**2)

    def jac(_, u):
        return lap + scipy.sparse.diags(np.where(wall, 0.0, 2 * K_REACTION * u))

    t = np.linspace(LOWER[1], UPPER[1], n_t)
    sol = scipy.integrate.solve_ivp(rhs, (t[0], t[-1]), initial_profile(x), method="BDF",
                                    t_eval=t, jac=jac, rtol=1e-10, atol=1e-13)
    if not sol.success:
        raise RuntimeError(f"method-of-lines reference failed: {sol.message}")
    return x, t, sol.y.T


@functools.lru_cache(maxsize=1)
def _interpolant():
    x, t, u = solve_method_of_lines()
    return scipy.interpolate.RectBivariateSpline(x, t, u.T, kx=3, ky=3)


def reference(points: np.ndarray) -> np.ndarray:
    """Method-of-lines solution at points ``(n, 2)`` = (x, t) (cubic spline between nodes); ``(n, 1)``."""
    points = np.asarray(points, dtype=np.float64)
    return _interpolant()(points[:, 0], points[:, 1], grid=False)[:, None]


def pde_residual(u, x):
    x = x.requires_grad_(True)
    value = u(x)
    du = gradient(value, x)
    uxx = gradient(du[:, 0], x)[:, 0]
    return (du[:, 1] - uxx - K_REACTION * value[:, 0] ** 2)[:, None]


def build() -> Problem:
    t0 = (LOWER[0], 0.0), (UPPER[0], 0.0)
    return Problem(
        name="diffusion_reaction",
        equation=f"u_t - u_xx = k u^2, k = {K_REACTION:g}, u(x,0) = exp(-x^2/(2 sigma^2)), sigma = {SIGMA}",
        input_names=("x", "t"), output_names=("u",), lower=LOWER, upper=UPPER,
        conditions=(
            Condition("pde", uniform(LOWER, UPPER), pde_residual, n_points=2000, weight=0.01),
            Condition("initial", uniform(*t0), lambda u, x: u(x) - initial_profile(x[:, :1]),
                      n_points=800, weight=10.0),
            Condition("boundary", box_faces(LOWER, UPPER, axes=(0,)),
                      lambda u, x: u(x) - free_space_wall(x[:, :1], x[:, 1:2]),
                      n_points=200, weight=10.0),
        ),
        reference=reference, reference_method="method of lines, 801 nodes, BDF rtol 1e-10",
        grid_shape=(201, 51),
        notes="walls: free-space (heat-kernel) values, time-dependent Dirichlet",
    )
