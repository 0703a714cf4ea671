"""Data sets of seed 002, generated here (nothing downloaded) and checked as they are made.

- ``mexican_hat``: psi(x, y) = (1 - r^2 / (2 s^2)) exp(-r^2 / (2 s^2)) / (pi s^4), s = 0.8,
  r^2 = x^2 + y^2, at points uniform in [-1, 1]^2.
- ``poisson_1d``: -u'' = g on (-1, 1), u(-1) = u(1) = 0, g from a Gaussian random field
  (squared-exponential kernel, length scale ``POISSON_LENGTH``), g and u on ``m`` equispaced nodes.
  Solver: second-order central differences on a grid ``refine`` times finer (a tridiagonal
  solve), which is exact for quadratics; checked on u = sin(pi (x + 1) / 2) * (1 + x) per data
  set (``check_poisson_solver``: error ~ 1e-7 at the default resolution).
- ``reaction_diffusion``: u_t = D u_xx + k u^2 + f(x) on (0, 1) x (0, 1], D = k = 0.01, zero
  initial and boundary values, f from a GRF with length scale 1; u on a 100 x 100 grid. Solver:
  method of lines (central differences, 401 nodes) with a stiff BDF integrator at rtol 1e-9;
  checked against a manufactured solution (``check_reaction_diffusion_solver``).

The seed leaves the Poisson GRF's length scale and boundary values open; we take Dirichlet zero
walls and length scale 0.2 (DeepONet's customary choice), and say so in every file made.
"""
from __future__ import annotations

import numpy as np
import scipy.integrate
import scipy.linalg
import scipy.sparse

MEXICAN_SIGMA = 0.8
POISSON_LENGTH = 0.2
RD_D = RD_K = 0.01
RD_LENGTH = 1.0
SOLVER_TOLERANCE = 1e-5          # the largest relative error a solver check accepts


def mexican_hat(points: np.ndarray, sigma: float = MEXICAN_SIGMA) -> np.ndarray:
    """psi at ``points`` ``(n, 2)`` -> ``(n, 1)``."""
    r2 = (np.asarray(points, dtype=np.float64) ** 2).sum(1, keepdims=True) / sigma**2
    return (1 - r2 / 2) * np.exp(-r2 / 2) / (np.pi * sigma**4)


def mexican_hat_data(n: int = 10_000, seed: int = 0) -> dict:
    """``x`` ``(n, 2)`` uniform in [-1, 1]^2 and ``y`` ``(n, 1)``."""
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 2))
    return {"x": x, "y": mexican_hat(x)}


def grf_1d(nodes: np.ndarray, n: int, length: float, seed: int) -> np.ndarray:
    """``n`` samples ``(n, len(nodes))`` of a zero-mean GRF with kernel exp(-(x-x')^2 / (2 length^2))."""
    cov = np.exp(-(nodes[:, None] - nodes[None, :]) ** 2 / (2 * length**2))
    eig, vec = np.linalg.eigh(cov)                      # the kernel is numerically singular: clip, no Cholesky
    root = vec * np.sqrt(np.clip(eig, 0, None))
    return np.random.default_rng(seed).standard_normal((n, len(nodes))) @ root.T


def solve_poisson_1d(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """u with -u'' = g on the uniform nodes ``x`` (first and last are the walls, u = 0 there);
    ``g`` ``(n, len(x))`` -> ``(n, len(x))``, second-order central differences."""
    h = x[1] - x[0]
    inner = len(x) - 2
    bands = np.zeros((3, inner))
    bands[0, 1:], bands[1], bands[2, :-1] = -1.0, 2.0, -1.0
    u = np.zeros_like(g, dtype=np.float64)
    u[:, 1:-1] = scipy.linalg.solve_banded((1, 1), bands, h**2 * g[:, 1:-1].T).T
    return u


def check_poisson_solver(m: int, refine: int) -> float:
    """Relative error of the solver on u = sin(pi (x + 1) / 2) (1 + x); raises if above tolerance."""
    x = np.linspace(-1, 1, (m - 1) * refine + 1)
    a = np.pi / 2
    exact = np.sin(a * (x + 1)) * (1 + x)
    g = a**2 * np.sin(a * (x + 1)) * (1 + x) - 2 * a * np.cos(a * (x + 1))       # -u''
    error = float(np.abs(solve_poisson_1d(g[None], x)[0] - exact).max() / np.abs(exact).max())
    if error > SOLVER_TOLERANCE:
        raise RuntimeError(f"the 1D Poisson solver misses a manufactured solution by {error:.2e}")
    return error


def poisson_1d_data(n_train: int = 800, n_test: int = 800, m: int = 101, refine: int = 10, seed: int = 0) -> dict:
    """GRF forcings ``g`` and solutions ``u`` ``(n_train + n_test, m)`` on nodes ``x`` ``(m,)``,
    solved ``refine`` times finer and sampled at the nodes; ``n_train`` is the split."""
    fine = np.linspace(-1, 1, (m - 1) * refine + 1)
    g_fine = grf_1d(fine, n_train + n_test, POISSON_LENGTH, seed)
    u = solve_poisson_1d(g_fine, fine)[:, ::refine]
    return {"x": fine[::refine], "g": g_fine[:, ::refine], "u": u, "n_train": n_train,
            "solver_check": check_poisson_solver(m, refine),
            "notes": f"u(-1) = u(1) = 0; GRF squared-exponential kernel, length {POISSON_LENGTH}; "
                     f"central differences on {len(fine)} nodes"}


def solve_reaction_diffusion(f: np.ndarray, x_out: np.ndarray, t_out: np.ndarray, *, nodes: int = 401,
                             source_t=None) -> np.ndarray:
    """u ``(len(x_out), len(t_out))`` of u_t = D u_xx + k u^2 + f(x) (+ ``source_t(x, t)``), zero
    initial and wall values; ``f`` is given on ``nodes`` equispaced points of [0, 1]."""
    x = np.linspace(0, 1, nodes)
    h = x[1] - x[0]
    lap = scipy.sparse.diags([1.0, -2.0, 1.0], [-1, 0, 1], shape=(nodes - 2, nodes - 2), format="csr") / h**2

    def rhs(t, u):
        extra = 0.0 if source_t is None else source_t(x[1:-1], t)
        return RD_D * (lap @ u) + RD_K * u**2 + f[1:-1] + extra

    def jac(_, u):
        return RD_D * lap + scipy.sparse.diags(2 * RD_K * u)

    sol = scipy.integrate.solve_ivp(rhs, (0.0, float(t_out[-1])), np.zeros(nodes - 2), method="BDF", t_eval=t_out,
                                    jac=jac, rtol=1e-9, atol=1e-12)
    if not sol.success:
        raise RuntimeError(f"reaction-diffusion solve failed: {sol.message}")
    full = np.zeros((nodes, len(t_out)))
    full[1:-1] = sol.y
    return np.stack([np.interp(x_out, x, full[:, j]) for j in range(len(t_out))], 1)


def check_reaction_diffusion_solver(nodes: int = 401) -> float:
    """Relative error on the manufactured u = t sin(pi x) (its forcing added); raises above tolerance."""
    x, t = np.linspace(0, 1, 101), np.linspace(0, 1, 11)

    def source(xs, tt):        # u_t - D u_xx - k u^2 for u = t sin(pi x)
        s = np.sin(np.pi * xs)
        return s + RD_D * np.pi**2 * tt * s - RD_K * (tt * s) ** 2

    u = solve_reaction_diffusion(np.zeros(nodes), x, t, nodes=nodes, source_t=source)
    exact = np.sin(np.pi * x)[:, None] * t[None, :]
    error = float(np.abs(u - exact).max() / np.abs(exact).max())
    if error > SOLVER_TOLERANCE:
        raise RuntimeError(f"the reaction-diffusion solver misses a manufactured solution by {error:.2e}")
    return error


def reaction_diffusion_data(n: int = 200, grid: int = 100, nodes: int = 401, seed: int = 0,
                            progress=None) -> dict:
    """Forcings ``f`` ``(n, grid)`` at ``x`` and solutions ``u`` ``(n, grid, grid)`` on x (0..1) by
    t (0.01..1); the first half trains. ``progress``: a wrapper over the sample loop (tqdm)."""
    fine = np.linspace(0, 1, nodes)
    x, t = np.linspace(0, 1, grid), np.linspace(1 / grid, 1, grid)
    f_fine = grf_1d(fine, n, RD_LENGTH, seed)
    loop = range(n) if progress is None else progress(range(n))
    u = np.stack([solve_reaction_diffusion(f_fine[i], x, t, nodes=nodes) for i in loop])
    return {"x": x, "t": t, "f": np.stack([np.interp(x, fine, fi) for fi in f_fine]), "u": u, "n_train": n // 2,
            "solver_check": check_reaction_diffusion_solver(nodes),
            "notes": f"D = k = {RD_D}; zero initial and wall values; GRF length {RD_LENGTH}; method of lines, "
                     f"{nodes} nodes, BDF rtol 1e-9"}


DATASETS = {"mexican_hat": mexican_hat_data, "poisson_1d": poisson_1d_data,
            "reaction_diffusion": reaction_diffusion_data}


def make_dataset(name: str, seed: int = 0, **options) -> dict:
    """The data set ``name`` (one of ``DATASETS``) as a dict of arrays and notes."""
    from loihi_pinn.errors import InputError

    if name not in DATASETS:
        raise InputError(f"unknown data set {name!r}; choose one of: {', '.join(DATASETS)}")
    return {"name": name, "seed": seed, **DATASETS[name](seed=seed, **options)}


def save_dataset(data: dict, path):
    """Write ``data`` (``make_dataset``) as an ``.npz`` file, all at once."""
    from loihi_pinn.io import replacing

    with replacing(path) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, **{k: np.asarray(v) for k, v in data.items()})
    return path


def load_dataset(path) -> dict:
    """A data set written by ``save_dataset``: arrays, and scalars as Python values."""
    from loihi_pinn.errors import InputError

    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: (f[k].item() if f[k].ndim == 0 else f[k]) for k in f.files}
    except (OSError, ValueError) as err:
        raise InputError(f"{path} is not a data set written by 'loihi-pinn snn-data' ({err})") from None
