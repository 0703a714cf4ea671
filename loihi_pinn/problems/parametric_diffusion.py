"""Seed 001's parametric diffusion problem: -div(a_y grad u) = f on (0, 1)^2, u = 0 on the
boundary, for diffusion coefficients a_y from a parametrization (Geist, Petersen, Raslan,
Schneider, Kutyniok, J. Sci. Comput. 88, 2021). The input of the learning problem is the
parameter vector y ``(p,)``, the output the solution on the 101 x 101 grid ``(10201,)``
(row-major, ``u[i * n + j] = u(x1_j, x2_i)``, boundary zeros included).

Solver: the 5-point finite-volume scheme, a_y sampled at the cell-edge midpoints, one sparse
LU solve per sample (second order for smooth a_y, verified by a manufactured solution in
``sim_tests/test_parametric_diffusion.py``). Parametrizations follow the seed's slides:

- ``trigonometric``: a = mu + sum_i y_i i^sigma (1 + sin(floor((i+2)/2) pi x1) sin(ceil((i+2)/2) pi x2)), y in [0, 1]^p
- ``chessboard``: a = mu + sum_i y_i chi_{Omega_i}, Omega_i the cells of an s x s partition, p = s^2
- ``cookies_fixed``: a = mu + sum_i y_i chi_{disk_i}, disks of radius ``radius / (2s)`` (our choice 0.7)
  centred at ((2k+1)/(2s), (2l-1)/(2s)), p = s^2
- ``cookies_variable``: as cookies, radius y_{i+s^2} / (2s) with y_{i+s^2} in [0.5, 0.9], p = 2 s^2

The source f is 20 everywhere (``SOURCE``; the slides do not state f, so this is our choice).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from loihi_pinn.errors import InputError

GRID = 101
"""Grid points per axis (boundary included): h = 1/100."""
SOURCE = 20.0
"""The right-hand side f (constant)."""
KINDS = ("trigonometric", "chessboard", "cookies_fixed", "cookies_variable")


def grid_axis(n: int = GRID) -> np.ndarray:
    """The ``n`` equidistant nodes of [0, 1] (float64)."""
    return np.linspace(0.0, 1.0, n)


def solve(coefficient: Callable, source: Callable | float = SOURCE, n: int = GRID) -> np.ndarray:
    """u ``(n, n)`` (``u[i, j] = u(x1_j, x2_i)``, zero boundary) of -div(a grad u) = f by the
    5-point scheme. ``coefficient(x1, x2)`` and ``source`` take coordinate arrays of one shape."""
    if n < 3:
        raise InputError(f"the grid needs at least 3 points per axis, got {n}")
    h = 1.0 / (n - 1)
    m = n - 2                                                       # interior nodes per axis
    x = grid_axis(n)
    xi = x[1:-1]
    half = (x[:-1] + x[1:]) / 2                                     # n - 1 edge midpoints
    x2i, x1h = np.meshgrid(xi, half, indexing="ij")                 # edges along x1: (m, n - 1)
    ax = np.asarray(coefficient(x1h, x2i), dtype=np.float64)
    x2h, x1i = np.meshgrid(half, xi, indexing="ij")                 # edges along x2: (n - 1, m)
    ay = np.asarray(coefficient(x1i, x2h), dtype=np.float64)
    if np.any(~np.isfinite(ax)) or np.any(~np.isfinite(ay)) or min(ax.min(), ay.min()) <= 0:
        raise InputError("the diffusion coefficient must be finite and positive on the domain")
    west, east = ax[:, :-1], ax[:, 1:]                              # (m, m) each
    south, north = ay[:-1, :], ay[1:, :]
    idx = np.arange(m * m).reshape(m, m)
    diag = (west + east + south + north).ravel()
    rows = [idx.ravel()]
    cols = [idx.ravel()]
    vals = [diag]
    for coef, di, dj in ((west, 0, -1), (east, 0, 1), (south, -1, 0), (north, 1, 0)):
        i, j = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
        inside = (0 <= i + di) & (i + di < m) & (0 <= j + dj) & (j + dj < m)
        rows.append(idx[inside])
        cols.append(idx[(i + di)[inside], (j + dj)[inside]])
        vals.append(-coef[inside])
    matrix = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(m * m,) * 2)
    x1g, x2g = np.meshgrid(xi, xi)
    rhs = (np.full(m * m, float(source)) if np.isscalar(source) else np.asarray(source(x1g, x2g)).ravel()) * h * h
    u = np.zeros((n, n))
    u[1:-1, 1:-1] = spsolve(matrix.tocsc(), rhs).reshape(m, m)
    return u


@dataclass(frozen=True)
class Parametrization:
    """One family of coefficients a_y: ``kind`` (``KINDS``), ``p`` parameters, shift ``mu``;
    ``sigma`` (trigonometric decay) and ``radius`` (fixed cookies) where they apply."""

    kind: str
    p: int
    mu: float = 1.0
    sigma: float = -1.0
    radius: float = 0.7
    s: int = field(init=False, default=0)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InputError(f"unknown parametrization {self.kind!r}; choose one of: {', '.join(KINDS)}")
        if self.p < 1 or self.mu <= 0:
            raise InputError(f"a parametrization needs p >= 1 and mu > 0, got p={self.p}, mu={self.mu}")
        if self.kind != "trigonometric":
            cells = self.p // 2 if self.kind == "cookies_variable" else self.p
            s = math.isqrt(cells)
            if s * s != cells or (self.kind == "cookies_variable" and self.p % 2):
                form = "2 s^2" if self.kind == "cookies_variable" else "s^2"
                raise InputError(f"{self.kind} needs p = {form} for a whole s (e.g. {4 if form == 's^2' else 8}), "
                                 f"got p={self.p}")
            object.__setattr__(self, "s", s)

    @property
    def name(self) -> str:
        return f"{self.kind}_p{self.p}"

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` i.i.d. parameter vectors ``(n, p)`` (uniform on the parameter set)."""
        if self.kind == "cookies_variable":
            k = self.p // 2
            return np.hstack([rng.uniform(0, 1, (n, k)), rng.uniform(0.5, 0.9, (n, k))])
        return rng.uniform(0, 1, (n, self.p))

    def coefficient(self, y: np.ndarray) -> Callable:
        """a_y as a function of coordinate arrays (x1, x2) of one shape."""
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (self.p,):
            raise InputError(f"{self.name} takes {self.p} parameters, got shape {y.shape}")
        kind, s, mu = self.kind, self.s, self.mu

        def a(x1, x2):
            out = np.full(np.shape(x1), mu)
            if kind == "trigonometric":
                for i in range(1, self.p + 1):
                    basis = np.sin((i + 2) // 2 * np.pi * x1) * np.sin(-(-(i + 2) // 2) * np.pi * x2)
                    out += y[i - 1] * i ** self.sigma * (1 + basis)
            elif kind == "chessboard":
                cell = np.minimum((x1 * s).astype(int), s - 1) * s + np.minimum((x2 * s).astype(int), s - 1)
                out += y[cell]
            else:
                for i in range(s * s):
                    k, l_ = divmod(i, s)
                    l_ += 1
                    r = (self.radius if kind == "cookies_fixed" else y[i + s * s]) / (2 * s)
                    inside = (x1 - (2 * k + 1) / (2 * s)) ** 2 + (x2 - (2 * l_ - 1) / (2 * s)) ** 2 <= r * r
                    out += y[i] * inside
            return out
        return a

    def solution(self, y: np.ndarray, n: int = GRID) -> np.ndarray:
        """u_y on the n x n grid, flattened ``(n * n,)``."""
        return solve(self.coefficient(y), SOURCE, n).ravel()

    def metadata(self) -> dict:
        return {"kind": self.kind, "p": self.p, "mu": self.mu, "sigma": self.sigma, "radius": self.radius,
                "grid": GRID, "source": SOURCE}


def h1_seminorm(u: np.ndarray | "torch.Tensor", n: int = GRID):
    """The discrete H^1_0 seminorm of fields ``(..., n * n)``: sqrt of the sum of squared
    neighbour differences (= ||grad u||_{L2} for the 5-point scheme; numpy or torch)."""
    field_ = u.reshape(*u.shape[:-1], n, n)
    d1 = field_[..., :, 1:] - field_[..., :, :-1]
    d2 = field_[..., 1:, :] - field_[..., :-1, :]
    return ((d1 ** 2).sum((-1, -2)) + (d2 ** 2).sum((-1, -2))) ** 0.5


def relative_error(pred, ref, n: int = GRID):
    """Per-sample relative error in the discrete H^1_0 norm (the seed's loss), shape ``(...)``."""
    return h1_seminorm(pred - ref, n) / h1_seminorm(ref, n)


def make_dataset(param: Parametrization, n_samples: int, seed: int, progress: bool = True) -> dict:
    """``{"y": (n, p) float32, "u": (n, 10201) float32}`` of i.i.d. samples and their solutions."""
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    y = param.sample(n_samples, rng)
    u = np.empty((n_samples, GRID * GRID), np.float32)
    for k in tqdm(range(n_samples), desc=f"solving {param.name}", disable=not progress, unit="sample"):
        u[k] = param.solution(y[k])
    return {"y": y.astype(np.float32), "u": u}
