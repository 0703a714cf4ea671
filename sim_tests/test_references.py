"""The reference solutions are right: each is checked against an independent method."""
import math

import numpy as np
import pytest
import scipy.integrate
import scipy.sparse
import scipy.sparse.linalg
import torch

from loihi_pinn.problems import PROBLEM_NAMES, beltrami, burgers, diffusion_reaction, get_problem, poisson, wave

EXACT_IN_TORCH = {"sin": None, "poisson": poisson.exact, "wave": wave.exact,
                  "burgers": burgers.exact, "beltrami": beltrami.exact}


KNOWN_ERROR = {
    ("poisson", "boundary"): 2e-6,   # truncated series: error on y = +-1, ~4e-7 at 500 terms
    "burgers": 1e-7,                 # Cole-Hopf round-off: phi falls to exp(-2a) ~ 2e-9 near x = pi
}


@pytest.mark.parametrize("name", [n for n in PROBLEM_NAMES if n in EXACT_IN_TORCH and n != "sin"])
def test_every_condition_vanishes_on_the_exact_solution(name, float64):
    problem = get_problem(name)
    gen = torch.Generator().manual_seed(1)
    exact = EXACT_IN_TORCH[name]
    for cond in problem.conditions:
        x = cond.sample(200, gen)
        residual = cond.residual(exact, x).detach()
        tol = KNOWN_ERROR.get((name, cond.name), KNOWN_ERROR.get(name, 1e-10))
        assert residual.abs().max() < tol, f"{name}/{cond.name}: max residual {residual.abs().max():.2e}"


def test_poisson_series_converges_like_k_minus_two_on_the_boundary(float64):
    edge = torch.tensor([[0.3, 1.0], [-0.7, -1.0], [0.0, 1.0]])
    errors = [poisson.exact(edge, n_terms=k).abs().max().item() for k in (50, 100, 200)]
    assert errors[0] / errors[1] > 3.5 and errors[1] / errors[2] > 3.5
    assert poisson.exact(edge).abs().max() < 1e-6


def _poisson_finite_differences(n: int) -> tuple[np.ndarray, np.ndarray]:
    """5-point solution on an (n+1)^2 grid of [-1,1]^2; returns (interior nodes (m, 2), u (m,))."""
    h = 2.0 / n
    x = np.linspace(-1, 1, n + 1)[1:-1]
    m = len(x)
    lap1 = scipy.sparse.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(m, m)) / h**2
    eye = scipy.sparse.identity(m)
    a = scipy.sparse.kron(lap1, eye) + scipy.sparse.kron(eye, lap1)
    u = scipy.sparse.linalg.spsolve(a.tocsc(), np.ones(m * m))
    X, Y = np.meshgrid(x, x, indexing="ij")
    return np.stack([X.ravel(), Y.ravel()], 1), u


def test_poisson_series_agrees_with_second_order_finite_differences():
    reference = get_problem("poisson").reference
    errors = []
    for n in (16, 32, 64):
        nodes, u = _poisson_finite_differences(n)
        errors.append(np.abs(u - reference(nodes)[:, 0]).max())
    assert errors[-1] < 2e-4
    assert errors[0] / errors[1] > 3 and errors[1] / errors[2] > 3      # second order


def test_diffusion_reaction_method_of_lines_converges_at_second_order():
    peaks = [diffusion_reaction.solve_method_of_lines(n_x=n, n_t=3)[2][-1].max() for n in (201, 401, 801)]
    d1, d2 = abs(peaks[0] - peaks[1]), abs(peaks[1] - peaks[2])
    assert 3.5 < d1 / d2 < 4.5
    assert d2 / 3 < 5e-6                                    # Richardson estimate of the 801-node error


def test_diffusion_reaction_window_equals_the_free_space_solution():
    """The box [-1, 1] with free-space wall values sees what a 3x larger box sees."""
    x1, _, u1 = diffusion_reaction.solve_method_of_lines(n_x=401, n_t=11)
    x3, _, u3 = diffusion_reaction.solve_method_of_lines(n_x=1201, n_t=11, half_width=3.0)
    inside = slice(400, 801)
    np.testing.assert_allclose(x3[inside], x1, atol=1e-12)
    assert np.abs(u3[:, inside] - u1).max() < 1e-6


def test_diffusion_reaction_reference_satisfies_the_pde_by_finite_differences():
    problem = get_problem("diffusion_reaction")
    x = np.linspace(-0.9, 0.9, 181)
    t, dt, dx = 0.005, 1e-4, 1e-2
    at = lambda xx, tt: problem.reference(np.stack([xx, np.full_like(xx, tt)], 1))[:, 0]  # noqa: E731
    u = at(x, t)
    u_t = (at(x, t + dt) - at(x, t - dt)) / (2 * dt)
    u_xx = (at(x + dx, t) - 2 * u + at(x - dx, t)) / dx**2
    residual = u_t - u_xx - u**2
    assert np.abs(residual).max() < 5e-3 * np.abs(u_xx).max()
    np.testing.assert_allclose(at(x, 0.0), np.exp(-x**2 / (2 * 0.25**2)), atol=1e-9)


def test_wave_dalembert_equals_leapfrog_at_cfl_one():
    """Leapfrog with dt = dx is exact at the nodes for the 1-D wave equation."""
    n = 400
    x = np.linspace(-1, 1, n + 1)
    h = x[1] - x[0]
    prev = wave.initial_profile(torch.as_tensor(x)).numpy()
    cur = prev.copy()
    cur[1:-1] = (prev[2:] + prev[:-2]) / 2                 # u_t(x, 0) = 0
    steps = int(round(0.5 / h))
    for _ in range(steps - 1):
        nxt = np.zeros_like(cur)
        nxt[1:-1] = cur[2:] + cur[:-2] - prev[1:-1]
        prev, cur = cur, nxt
    exact = get_problem("wave").reference(np.stack([x, np.full_like(x, steps * h)], 1))[:, 0]
    assert np.abs(cur - exact).max() < 1e-12
    assert np.abs(cur).max() > 0.4                          # not trivially zero


def test_burgers_cole_hopf_agrees_with_a_pseudo_spectral_solve():
    n = 256
    x = np.linspace(0, 2 * math.pi, n, endpoint=False)
    k = np.fft.rfftfreq(n, 1.0 / n)

    def rhs(_, u):
        uh = np.fft.rfft(u)
        return -u * np.fft.irfft(1j * k * uh, n) + burgers.NU * np.fft.irfft(-k**2 * uh, n)

    times = [1.0, 2.0, 4.0]
    sol = scipy.integrate.solve_ivp(rhs, (0, 4), np.sin(x), t_eval=times, method="BDF", rtol=1e-10, atol=1e-12)
    reference = get_problem("burgers").reference
    for i, t in enumerate(times):
        ref = reference(np.stack([x, np.full_like(x, t)], 1))[:, 0]
        assert np.abs(ref - sol.y[:, i]).max() < 1e-6, f"t = {t}"
    front = np.abs(np.gradient(reference(np.stack([x, np.full_like(x, 2.0)], 1))[:, 0], x))
    assert front.max() > 5 and abs(x[front.argmax()] - math.pi) < 0.05          # front at x = pi


def test_beltrami_analytic_solution_has_zero_navier_stokes_residual(float64):
    x = torch.rand(500, 3) * torch.tensor([2.0, 2.0, 1.0]) - torch.tensor([1.0, 1.0, 0.0])
    residual = beltrami.pde_residual(beltrami.exact, x).detach()
    assert residual.abs().max() < 1e-12
    wrong_re = lambda xx: beltrami.exact(xx) * torch.tensor([1.0, 1.0, 2.0])  # noqa: E731  (breaks it)
    assert beltrami.pde_residual(wrong_re, x).detach().abs().max() > 1e-2
