"""Seed 001's parametric diffusion problem: the solver against a manufactured solution (second
order under grid refinement), the parametrizations as the seed defines them, the relative H^1_0
norm, and the operator network's training and conversion."""
import numpy as np
import pytest
import torch

from loihi_pinn.cli import main
from loihi_pinn.conversion import convert, emulate
from loihi_pinn.errors import InputError
from loihi_pinn.problems.parametric_diffusion import (GRID, Parametrization, grid_axis, h1_seminorm, make_dataset,
                                                      relative_error, solve)
from loihi_pinn.training.parametric import OperatorRecipe, parameter_box, train_operator

PI = np.pi


def manufactured(n):
    """Max error of the scheme for u = sin(pi x1) sin(pi x2), a = 1 + x1 x2 (f from -div(a grad u))."""
    def f(x, y):
        return (-(y * PI * np.cos(PI * x) * np.sin(PI * y) + x * PI * np.sin(PI * x) * np.cos(PI * y))
                + (1 + x * y) * 2 * PI ** 2 * np.sin(PI * x) * np.sin(PI * y))
    u = solve(lambda x, y: 1 + x * y, f, n)
    x1, x2 = np.meshgrid(grid_axis(n), grid_axis(n))
    return np.abs(u - np.sin(PI * x1) * np.sin(PI * x2)).max()


def test_solver_converges_at_second_order_to_a_manufactured_solution():
    errors = [manufactured(n) for n in (21, 41, 81)]
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(rates > 1.9) and errors[-1] < 3e-4


def test_parametrizations_follow_the_seed():
    y = np.array([0.3, 0.9, 0.1, 0.6])
    a = Parametrization("chessboard", 4, mu=0.5).coefficient(y)
    x1, x2 = np.array([0.25, 0.25, 0.75, 0.75]), np.array([0.25, 0.75, 0.25, 0.75])
    assert np.allclose(a(x1, x2), 0.5 + y)                       # one cell a parameter, 2 x 2 board
    trig = Parametrization("trigonometric", 3, mu=1.0, sigma=-1.0).coefficient(np.array([1.0, 0.0, 0.0]))
    # a_1 = sin(pi x1) sin(2 pi x2) (floor(3/2) = 1, ceil(3/2) = 2): 1 at (1/2, 1/4), 0 at (1/2, 1/2)
    assert trig(np.array([0.5, 0.5]), np.array([0.25, 0.5])) == pytest.approx([3.0, 2.0])
    cookies = Parametrization("cookies_variable", 8).coefficient(np.array([1, 0, 0, 0, 0.9, 0.5, 0.5, 0.5]))
    centre, edge = cookies(np.array([0.25, 0.25 + 0.2]), np.array([0.25, 0.25]))  # radius 0.9 / 4 = 0.225
    outside = cookies(np.array([0.25 + 0.24]), np.array([0.25]))[0]
    assert (centre, edge, outside) == (2.0, 2.0, 1.0)
    box = parameter_box(Parametrization("cookies_variable", 8))
    assert box == ([0.0] * 4 + [0.5] * 4, [1.0] * 4 + [0.9] * 4)
    with pytest.raises(InputError, match="chessboard needs p = s\\^2"):
        Parametrization("chessboard", 5)
    with pytest.raises(InputError, match="unknown parametrization 'stripes'"):
        Parametrization("stripes", 4)


def test_relative_h1_norm_is_the_gradient_norm():
    x1, _ = np.meshgrid(grid_axis(), grid_axis())
    assert h1_seminorm(x1.ravel()) == pytest.approx(1.0, rel=0.02)            # |grad x1| = 1 on the square
    u = Parametrization("trigonometric", 2).solution(np.array([0.5, 0.5]))
    assert relative_error(1.1 * u, u) == pytest.approx(0.1)


@pytest.mark.slow
def test_small_operator_trains_and_converts_to_ttfs():
    param = Parametrization("chessboard", 4)
    data = make_dataset(param, 60, 0, progress=False)
    train, test = {k: v[:48] for k, v in data.items()}, {k: v[48:] for k, v in data.items()}
    recipe = OperatorRecipe(width=32, layers=3, train_samples=48, test_samples=12, epochs=100, batch=16, lr=3e-3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                 # small matrices: more threads only contend on a shared machine
    try:
        model, record = train_operator(param, train, test, recipe, progress=False)
    finally:
        torch.set_num_threads(threads)
    assert record["train_loss"][-1] < 0.2 * record["train_loss"][0] and record["test_error_mean"] < 0.15
    model = model.double()
    snn = convert(model, "ttfs", 64, test["y"].astype(np.float64), percentile=100.0)
    out = emulate(snn, test["y"].astype(np.float64))[0]
    ann = model(torch.as_tensor(test["y"], dtype=torch.float64)).detach().numpy()
    assert np.mean(relative_error(out, ann)) < 0.05 and out.shape == (12, GRID * GRID)


def test_cli_refuses_a_bad_data_set(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    np.savez(bad, y=np.zeros(3))
    assert main(["parametric-train", str(bad), "--out", str(tmp_path / "m")]) == 2
    assert "is not a data set of 'loihi-pinn parametric-data'" in capsys.readouterr().err
    assert main(["parametric-data", "cookies_variable", "7", "--out", str(tmp_path / "d.npz")]) == 2
    assert "cookies_variable needs p = 2 s^2" in capsys.readouterr().err
