"""The command line as a user types it: output, and a one-line error with exit 2 on bad input."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from loihi_pinn.cli import main
from loihi_pinn.errors import InputError
from loihi_pinn.problems import PROBLEM_NAMES, get_problem
from loihi_pinn.training import save_checkpoint
from loihi_pinn.training.fit import default_model


def test_problems_lists_all_six_with_the_papers_parameter_counts(capsys):
    assert main(["problems"]) == 0
    out = capsys.readouterr().out
    for name in PROBLEM_NAMES:
        assert f"\n{name}: " in "\n" + out
    assert "parameters: 20601" in out and "parameters: 8361" in out
    assert "  network: 6 x 40 tanh\n  parameters: 8361" in out
    assert "give 'module:attribute'" in out


def test_train_then_evaluate_on_own_points(tmp_path, capsys):
    out = tmp_path / "quick"
    assert main(["train", "sin", "--steps", "30", "--lbfgs-steps", "5", "--out", str(out), "--quiet"]) == 0
    assert "rel L2 vs reference" in capsys.readouterr().out
    pts = tmp_path / "pts.csv"
    np.savetxt(pts, np.linspace(-3, 3, 7)[:, None], delimiter=",")
    assert main(["evaluate", str(out), "--points", str(pts), "--plot", str(tmp_path / "p.png")]) == 0
    text = capsys.readouterr().out
    assert "7 points from" in text and (tmp_path / "p.png").stat().st_size > 1000


@pytest.fixture
def sin_checkpoint(tmp_path):
    return save_checkpoint(tmp_path / "ck", default_model(get_problem("sin")), "sin")


@pytest.mark.parametrize("argv_tail, message", [
    (["train", "heat"], "unknown problem 'heat'; choose one of: sin, poisson"),
    (["evaluate", "no/such/dir"], "no checkpoint at 'no/such/dir'"),
])
def test_bad_names_exit_2_with_one_line(argv_tail, message, capsys):
    assert main(argv_tail) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize("points, message", [
    (np.zeros((5, 2)), "must have shape (n, 1)"),
    (np.array([[0.1], [np.nan], [0.3]]), "1 of 3 points contain NaN"),
])
def test_bad_points_exit_2_with_one_line(sin_checkpoint, tmp_path, points, message, capsys):
    path = tmp_path / "pts.npy"
    np.save(path, points)
    assert main(["evaluate", str(sin_checkpoint), "--points", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_malformed_checkpoint_exits_2(sin_checkpoint, capsys):
    (sin_checkpoint / "checkpoint.json").write_text("[]")
    assert main(["evaluate", str(sin_checkpoint)]) == 2
    assert "not a loihi-pinn checkpoint" in capsys.readouterr().err


def test_check_points_rejects_a_wrong_dimension_for_every_problem():
    for name in PROBLEM_NAMES:
        problem = get_problem(name)
        with pytest.raises(InputError, match=f"shape \\(n, {problem.d_in}\\)"):
            problem.check_points(np.zeros((3, problem.d_in + 1)))


def test_the_console_script_is_installed_and_exits_2_on_bad_input():
    script = Path(sys.executable).with_name("loihi-pinn")
    run = subprocess.run([str(script), "train", "nope"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and run.stderr.strip().startswith("error: unknown problem 'nope'")


def test_convert_then_evaluate_a_converted_network(sin_checkpoint, tmp_path, capsys):
    out = tmp_path / "sin.snn"
    assert main(["convert", str(sin_checkpoint), "--neuron", "if_hard", "--timesteps", "8",
                 "--calibration", "light", "--iterations", "5", "--calibration-points", "128",
                 "--out", str(out), "--quiet"]) == 0
    assert f"saved        {out}" in capsys.readouterr().out
    assert main(["evaluate", str(out), "--smooth", "0.5", "--plot", str(tmp_path / "s.png")]) == 0
    text = capsys.readouterr().out
    for expected in ("if_hard SNN, T = 8", "calibration  light", "SNN vs PINN", "smoothed", "synaptic ops"):
        assert expected in text
    assert (tmp_path / "s.png").stat().st_size > 1000


def test_a_file_that_is_no_network_exits_2(tmp_path, capsys):
    junk = tmp_path / "junk.snn"
    junk.write_text("hello")
    assert main(["evaluate", str(junk)]) == 2
    assert "is not a converted loihi-pinn network" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_runs_the_pipeline_to_lava(tmp_path, capsys):
    """`make demo`'s command, on a few Lava points: every stage runs as its command would."""
    assert main(["demo", "--out", str(tmp_path), "--lava-points", "4"]) == 0
    printed = capsys.readouterr().out
    assert "Lava simulator == fixed-point emulator bit for bit: yes" in printed
    assert "| the grid as a stream" in printed
    assert (tmp_path / "poisson.png").stat().st_size > 10_000 and (tmp_path / "poisson_relu.net").is_file()
