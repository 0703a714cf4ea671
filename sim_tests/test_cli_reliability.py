"""Bad input and outputs that exist: one ``error:`` line and exit 2, never a traceback, a silent
misreading or a damaged file (the rows of the reliability issue)."""
import numpy as np
import pytest
import torch
from torch import nn

from loihi_pinn.cli import main
from loihi_pinn.conversion import SpikingNetwork, convert, emulate
from loihi_pinn.errors import InputError
from loihi_pinn.evaluation import relative_l2
from loihi_pinn.problems import get_problem
from loihi_pinn.training import TrainConfig, fit, load_checkpoint


def run_cli(argv, capsys):
    """Exit status and stderr of ``loihi-pinn ARGV`` (argparse's own errors included)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """A small converted sin network (.snn), made once."""
    path = tmp_path_factory.mktemp("snn") / "sin.snn"
    assert main(["convert", "sin", "--timesteps", "4", "--calibration", "none", "--calibration-points", "64",
                 "--out", str(path), "--quiet"]) == 0
    return path


BAD_ARGUMENTS = [   # argv, what the one error line must say
    (["train", "sin", "--steps", "0", "--lbfgs-steps", "0"], "not both 0"),
    (["train", "sin", "--lr", "nan"], "--lr: must be a finite number"),
    (["train", "sin", "--threads", "0"], "--threads: must be >= 1"),
    (["train", "sin", "--threads", "-1"], "--threads: must be >= 1"),
    (["train", "sin", "--activation", "slip", "--init-from", "sin", "--steps", "-1"], "--steps: must be >= 0"),
    (["train", "sin", "--activation", "slip", "--init-from", "sin", "--steps", "0"], "steps >= 1"),
    (["convert", "poisson", "--calibration-points", "0"], "--calibration-points: must be >= 1"),
    (["convert", "poisson", "--iterations", "-1"], "--iterations: must be >= 1"),
    (["convert", "poisson", "--timesteps", "8.5"], "'8.5' is not a whole number"),
    (["convert", "poisson", "--neuron", "signed_if", "--timesteps", "1000000"], "from 1 to 4096"),
    (["convert", "poisson", "--neuron", "if_hard", "--pieces", "4"], "does not use"),
    (["convert", "poisson", "--percentile", "0"], "--percentile: must be a finite number in (0, 100]"),
    (["demo", "--lava-points", "0"], "--lava-points: must be >= 1"),
    (["export", "netx_exports/sin.net", "--headroom", "nan"], "--headroom: must be a finite number"),
    (["export", "no/such.snn"], "no converted network at no/such.snn"),
    (["run", "netx_exports/sin.net", "--points", "-5"], "--points: must be >= 1"),
    (["run", "netx_exports/sin.net", "--points", "5", "--points-file", "p.npy"], "not allowed with argument --points"),
    (["run", "netx_exports/sin.net", "--copies", "0"], "--copies: must be >= 1"),
    (["evaluate", "poisson", "--smooth", "0.3"], "a checkpoint is a smooth PINN"),
    (["evaluate", "poisson", "--plot", "u.xyz"], "give a .png, .pdf, .svg file"),
]


@pytest.mark.parametrize("argv, message", BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS])
def test_bad_arguments_end_in_one_error_line(argv, message, capsys):
    code, err = run_cli(argv, capsys)
    assert code == 2 and message in err and "Traceback" not in err


def test_points_files_of_strings_or_no_points_are_refused(tmp_path, capsys):
    strings, empty = tmp_path / "strings.npy", tmp_path / "empty.npy"
    np.save(strings, np.array([["a", "b"]]))
    np.save(empty, np.zeros((0, 1)))
    for path, message in ((strings, "must be numbers"), (empty, "no points given")):
        code, err = run_cli(["run", "netx_exports/sin.net", "--backend", "emulator", "--points-file", path], capsys)
        assert code == 2 and message in err


def test_outputs_are_not_replaced_without_force(converted, tmp_path, capsys):
    before = converted.read_bytes()
    code, err = run_cli(["convert", "sin", "--timesteps", "4", "--out", converted], capsys)
    assert code == 2 and "exists; pass --force" in err and converted.read_bytes() == before
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    code, err = run_cli(["train", "sin", "--steps", "2", "--lbfgs-steps", "0", "--out", folder], capsys)
    assert code == 2 and "exists" in err and (folder / "keep.txt").read_text() == "mine"
    code, err = run_cli(["convert", "sin", "--out", tmp_path], capsys)          # a folder where a file goes
    assert code == 2 and "is a folder" in err
    (tmp_path / "poisson.png").write_bytes(b"an earlier figure")
    code, err = run_cli(["demo", "--out", tmp_path], capsys)                  # refused before any work
    assert code == 2 and "poisson.png exists; pass --force" in err


def test_export_writes_beside_its_input_and_force_replaces(converted, capsys):
    assert main(["export", str(converted), "--calibration-points", "64"]) == 0
    out = converted.with_suffix(".net")
    assert out.is_file() and f"saved        {out}" in capsys.readouterr().out
    code, err = run_cli(["export", converted], capsys)
    assert code == 2 and "--force" in err
    assert main(["export", str(converted), "--calibration-points", "64", "--force"]) == 0


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(converted, monkeypatch):
    net, before = SpikingNetwork.load(converted), converted.read_bytes()

    def half_written(obj, path):
        path.write_bytes(b"partial")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(torch, "save", half_written)
    with pytest.raises(OSError, match="No space"):
        net.save(converted)
    assert converted.read_bytes() == before
    assert sorted(p.name for p in converted.parent.iterdir() if p.name.startswith(".")) == []


def test_a_failed_training_leaves_an_existing_checkpoint_intact(tmp_path, monkeypatch):
    problem = get_problem("sin")
    folder, _, _ = fit(problem, TrainConfig(adam_steps=2, lbfgs_steps=0), tmp_path / "ckpt", progress=False)
    weights = (folder / "weights.pt").read_bytes()
    monkeypatch.setattr("loihi_pinn.training.checkpoint.json.dumps", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        fit(problem, TrainConfig(adam_steps=2, lbfgs_steps=0, seed=1), folder, progress=False)
    assert (folder / "weights.pt").read_bytes() == weights and load_checkpoint(folder).model is not None


def test_python_api_refuses_bad_input_with_input_errors(converted):
    net = SpikingNetwork.load(converted)
    with pytest.raises(InputError, match=r"one shape; got \(100, 1\) and \(100,\)"):
        relative_l2(np.ones((100, 1)), np.linspace(0, 1, 100))
    with pytest.raises(InputError, match="folder path or a shipped name"):
        load_checkpoint(None)
    with pytest.raises(InputError, match="must be numbers"):
        emulate(net, "abc")
    with pytest.raises(InputError, match="not both 0"):
        TrainConfig(0, 0)
    model = load_checkpoint("sin").model
    with pytest.raises(InputError, match="whole number"):
        convert(model, "sigma_delta", 8.5, np.zeros((4, 1)))
    two_outputs = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 2))
    with pytest.raises(InputError, match="2 outputs"):
        fit(get_problem("sin"), TrainConfig(adam_steps=1, lbfgs_steps=0), "unused", net=two_outputs, progress=False)


def test_points_outside_the_domain_are_warned_of_or_refused(tmp_path, capsys):
    outside, huge = tmp_path / "outside.csv", tmp_path / "huge.csv"
    outside.write_text("1.1,0.5\n0,0\n0.5,0.5\n-0.5,0.25\n")           # one of four outside [-1, 1]^2
    huge.write_text("1e17,0\n")
    code, err = run_cli(["run", "netx_exports/poisson.net", "--backend", "emulator", "--points-file", outside], capsys)
    assert code == 0 and "warning: 25.0% of the points lie outside the domain" in err
    code, err = run_cli(["run", "netx_exports/poisson.net", "--backend", "emulator", "--points-file", huge], capsys)
    assert code == 2 and "overflow its 24-bit input messages" in err


def test_damaged_converted_networks_and_bad_api_arguments(converted, tmp_path):
    from loihi_pinn.runtime import Runner
    blob = torch.load(converted)
    bad_metadata, no_layers = dict(blob, metadata="{not json"), {k: v for k, v in blob.items() if k != "layers"}
    for name, content in (("bad_metadata.snn", bad_metadata), ("no_layers.snn", no_layers)):
        torch.save(content, tmp_path / name)
        with pytest.raises(InputError, match="damaged converted network"):
            SpikingNetwork.load(tmp_path / name)
    with pytest.raises(InputError, match="copies must be a whole number >= 1, got '2'"):
        Runner("netx_exports/sin.net", copies="2")
