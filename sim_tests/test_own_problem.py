"""A PDE defined outside the package goes through every stage and the CLI, named 'module:attribute';
the files carry its box and names, so later stages work even where its module is gone."""
import importlib
import json
import re
import sys
from dataclasses import replace

import pytest
import torch

from loihi_pinn.cli import main
from loihi_pinn.conversion import SpikingNetwork, convert_checkpoint
from loihi_pinn.errors import InputError
from loihi_pinn.export import read_model_card
from loihi_pinn.models import PINN, build_mlp
from loihi_pinn.problems import GRID_POINTS, Condition, Problem, get_problem, gradient, numpy_reference, uniform
from loihi_pinn.training import TrainConfig, TrainingDefaults, default_model, fit, load_checkpoint, save_checkpoint
from loihi_pinn.training import training_defaults


def decay() -> Problem:
    """u' = -u on t in [0, 2], u(0) = 1; reference exp(-t)."""
    def ode(u, t):
        t = t.requires_grad_(True)
        value = u(t)
        return gradient(value, t) + value

    return Problem(name="decay", equation="u' = -u, u(0) = 1", input_names=("t",), output_names=("u",),
                   lower=(0.0,), upper=(2.0,),
                   conditions=(Condition("ode", uniform((0.0,), (2.0,)), ode, n_points=128),
                               Condition("initial", uniform((0.0,), (0.0,)), lambda u, t: u(t) - 1, n_points=8)),
                   reference=numpy_reference(lambda t: torch.exp(-t)), reference_method="exp(-t)")


DECAY = decay()
NOT_A_PROBLEM = "u' = -u"

# a user's module, with a problem that has no reference solution (written to a temporary folder)
ADVECTION = '''
import math
import torch
from loihi_pinn.problems import Condition, Problem, gradient, uniform

LOWER, UPPER = (0.0, 0.0), (1.0, 0.5)


def residual(c, x):
    x = x.requires_grad_(True)
    g = gradient(c(x), x)
    return g[:, 1:2] + 0.5 * g[:, 0:1]


def build():
    return Problem(name="advection", equation="c_t + c_x / 2 = 0, c(x, 0) = sin(pi x)",
                   input_names=("x", "t"), output_names=("c",), lower=LOWER, upper=UPPER,
                   conditions=(Condition("pde", uniform(LOWER, UPPER), residual, n_points=256),
                               Condition("initial", uniform(LOWER, (1.0, 0.0)),
                                         lambda c, x: c(x) - torch.sin(math.pi * x[:, :1]), n_points=64)))
'''


def test_a_spec_names_a_problem_or_its_builder_in_a_users_module():
    for spec in ("test_own_problem:DECAY", "test_own_problem:decay"):
        problem = get_problem(spec)
        assert problem.name == "decay" and problem.spec == spec and problem.has_reference
    assert len(problem.evaluation_points()) == round(GRID_POINTS) + 1       # default grid: 10^4 + 1 points in 1-D
    assert get_problem("wave").spec == "wave"


@pytest.mark.parametrize("spec, message", [
    ("heat", "unknown problem 'heat'; choose one of: sin, poisson, diffusion_reaction, wave, burgers, beltrami, "
             "or give your own as 'module:attribute'"),
    ("no_such_module_here:heat", "no module named 'no_such_module_here'; run from the folder holding "
                                 "no_such_module_here.py"),
    ("test_own_problem:heat", "module 'test_own_problem' has no 'heat'"),
    ("test_own_problem:NOT_A_PROBLEM", "'test_own_problem:NOT_A_PROBLEM' gives a str, not a loihi_pinn Problem"),
])
def test_a_bad_spec_says_what_is_wrong(spec, message, capsys):
    with pytest.raises(InputError, match=re.escape(message)):
        get_problem(spec)
    assert main(["train", spec]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_a_malformed_box_is_refused_with_the_problems_name():
    with pytest.raises(InputError, match="problem 'flat': give one lower and one upper bound per input"):
        Problem(name="flat", equation="", input_names=("x", "y"), output_names=("u",), lower=(0.0, 0.0), upper=(1.0,))
    with pytest.raises(InputError, match="problem 'flat': every lower bound must be below"):
        Problem(name="flat", equation="", input_names=("x",), output_names=("u",), lower=(1.0,), upper=(1.0,))


def test_network_size_and_budget_come_from_training_not_the_pde():
    assert training_defaults(get_problem("burgers")) == TrainingDefaults(6, 40, adam_steps=10000, lbfgs_steps=10000)
    assert training_defaults(DECAY) == TrainingDefaults()
    sizes = [1] + [TrainingDefaults.width] * TrainingDefaults.hidden_layers + [1]
    assert default_model(DECAY).architecture["layer_sizes"] == sizes
    assert default_model(DECAY, hidden_layers=1, width=5).architecture["layer_sizes"] == [1, 5, 1]


def test_a_shipped_checkpoint_without_names_finds_its_problem():
    ckpt = load_checkpoint("wave")
    assert "input_names" not in ckpt.metadata                     # written before names were recorded
    problem = ckpt.find_problem()
    assert problem.input_names == ("x", "t") and problem.has_reference


def test_a_problem_whose_inputs_changed_since_the_checkpoint_is_refused(tmp_path):
    before = replace(get_problem("test_own_problem:decay"), input_names=("time",))     # the input was renamed since
    save_checkpoint(tmp_path / "ck", PINN(build_mlp([1, 4, 1]), (0.0,), (2.0,)), before)
    with pytest.raises(InputError, match=re.escape("the network has 1 inputs ['time'] and 1 outputs ['u'], but problem "
                                                   "'test_own_problem:decay' now has inputs ['t'] and outputs ['u']")):
        load_checkpoint(tmp_path / "ck").find_problem()


def test_own_problem_with_a_reference_reports_errors_against_it(tmp_path, capsys):
    problem = get_problem("test_own_problem:decay")
    folder, report, _ = fit(problem, TrainConfig(adam_steps=200, lr=1e-2), tmp_path / "ck",
                            net=build_mlp([1, 8, 1]), progress=False)
    meta = json.loads((folder / "checkpoint.json").read_text())
    assert (meta["problem"], meta["problem_spec"], meta["input_names"], meta["output_names"]) == \
        ("decay", "test_own_problem:decay", ["t"], ["u"])
    assert meta["errors"]["rel_l2"] == report["rel_l2"] < 0.2           # 200 steps learn exp(-t) roughly
    net, conversion = convert_checkpoint(folder, "sigma_delta", 4, "none", n_calibration=64, progress=False)
    assert net.metadata["problem_spec"] == "test_own_problem:decay" and net.metadata["input_names"] == ["t"]
    assert 0 < conversion["rel_l2"] < 1 and "rel_l2_vs_ann" in conversion
    assert main(["evaluate", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "reference    exp(-t)" in out and f"rel L2       {report['rel_l2']:.3e}" in out


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """``my_advection.py`` in its own folder, which is the current directory; cleaned up after."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "my_advection.py").write_text(ADVECTION)
    importlib.invalidate_caches()
    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "path", list(sys.path))                    # main() makes the current directory importable
    yield folder
    sys.modules.pop("my_advection", None)


def test_own_pde_without_reference_through_the_whole_cli(user_module, tmp_path, monkeypatch, capsys):
    ck, snn, net = tmp_path / "ck", tmp_path / "adv.snn", tmp_path / "adv.net"
    assert main(["train", "my_advection:build", "--steps", "30", "--hidden-layers", "1", "--width", "8",
                 "--out", str(ck), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "reference    none: the problem defines no reference solution" in out and "c in [" in out
    meta = json.loads((ck / "checkpoint.json").read_text())
    assert (meta["problem"], meta["problem_spec"], meta["input_names"], meta["output_names"]) == \
        ("advection", "my_advection:build", ["x", "t"], ["c"])
    assert meta["input_normalization"]["upper"] == [1.0, 0.5] and "output_ranges" in meta["errors"]

    assert main(["convert", str(ck), "--neuron", "sigma_delta", "--timesteps", "4", "--calibration", "none",
                 "--calibration-points", "64", "--out", str(snn), "--quiet"]) == 0
    assert "SNN vs PINN" in capsys.readouterr().out
    converted = SpikingNetwork.load(snn)
    assert converted.metadata["output_names"] == ["c"] and converted.upper == [1.0, 0.5]

    monkeypatch.chdir(tmp_path)                                         # from here, my_advection cannot be imported
    sys.modules.pop("my_advection")
    assert main(["export", str(snn), "--out", str(net), "--calibration-points", "64"]) == 0
    assert "vs the float SNN (no reference solution)" in capsys.readouterr().out
    card = read_model_card(net)
    assert (card["lower"], card["upper"], card["input_names"], card["output_names"], card["problem_spec"]) == \
        ([0.0, 0.0], [1.0, 0.5], ["x", "t"], ["c"], "my_advection:build")
    assert card["loihi_errors"]["rel_l2_fixed_point_vs_float_snn"] < 0.5
    assert main(["inspect", str(net)]) == 0 and main(["check", str(net)]) == 0
    capsys.readouterr()
    assert main(["run", str(net), "--backend", "emulator", "--points", "16"]) == 0
    out = capsys.readouterr().out
    assert "reference    none here: problem 'my_advection:build': no module named 'my_advection'" in out
    assert "c in [" in out and "rel L2" not in out and "16 points" in out
    assert main(["evaluate", str(snn), "--smooth", "0.5"]) == 2
    assert "has none (none here" in capsys.readouterr().err
