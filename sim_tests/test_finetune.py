"""Fine-tuning a sigma-delta export through its integer pass: the pass's values are the integer
network's, the forward-gradient estimators converge to back-propagation's gradient, a fine-tuned
export is better on held-out points, stays a valid file that Lava runs bit for bit, and the
command line refuses what it cannot do."""
from pathlib import Path

import numpy as np
import pytest
import torch

from loihi_pinn.cli import main
from loihi_pinn.errors import InputError
from loihi_pinn.export import read_model_card, read_netx
from loihi_pinn.loihi import FixedPointLayer, QuantizedNetwork
from loihi_pinn.loihi.finetune import (FinetuneConfig, IntegerPass, weight_forward_gradient,
                                       activity_forward_gradient, finetune, relative_mse)
from loihi_pinn.problems import problem_from_metadata

ROOT = Path(__file__).resolve().parents[1]
POISSON = ROOT / "netx_exports" / "poisson.net"


@pytest.fixture(scope="module")
def poisson():
    qnet = read_netx(POISSON)
    problem = problem_from_metadata(qnet.metadata, qnet.lower, qnet.upper, qnet.d_out)
    points = np.asarray(qnet.lower) + np.random.default_rng(1).random((256, 2)) * (np.subtract(qnet.upper, qnet.lower))
    return qnet, problem, points


def _pass_and_gradient(qnet, problem, points):
    """The integer pass on ``points`` and back-propagation's gradient of the loss against the reference."""
    integer_pass = IntegerPass(qnet)
    messages = qnet.encode(points)
    raw, sent, _ = integer_pass.run(messages)
    wanted = torch.as_tensor(problem.reference(points))
    latent = [p.requires_grad_(True) for p in integer_pass.latent()]
    relative_mse(integer_pass.outputs(latent, messages, raw, sent), wanted).sum().backward()
    return integer_pass, messages, raw, sent, wanted, [p.grad for p in latent]


def _cosines(estimate, exact):
    return np.array([float((a * b).sum() / (a.norm() * b.norm())) for a, b in zip(estimate, exact)])


def test_the_pass_holds_the_integer_networks_values(poisson):
    qnet, _, points = poisson
    integer_pass = IntegerPass(qnet)
    latent = integer_pass.latent()
    before = [layer.weight.copy() for layer in qnet.layers]
    integer_pass.store(latent)                                      # latent -> integers is the identity
    assert all(np.array_equal(b, layer.weight) for b, layer in zip(before, qnet.layers))
    messages = qnet.encode(points)
    raw, sent, _ = integer_pass.run(messages)
    outputs = integer_pass.outputs(latent, messages, raw, sent).numpy()
    np.testing.assert_allclose(outputs, qnet.decode(qnet.run_integers(messages)[0]), rtol=0, atol=1e-10)


def test_forward_gradients_converge_to_back_propagation(poisson):
    qnet, problem, points = poisson
    integer_pass, messages, raw, sent, wanted, exact = _pass_and_gradient(qnet, problem, points)
    fixed = [p.detach() for p in integer_pass.latent()]
    inputs = [torch.as_tensor(a, dtype=torch.float64) for a in [messages, *sent]]
    generator = torch.Generator().manual_seed(0)

    def activity(tangents):
        return activity_forward_gradient(
            lambda nudges: relative_mse(integer_pass.outputs(fixed, messages, raw, sent, nudges), wanted),
            inputs, [l.size for l in qnet.layers], integer_pass.scales, integer_pass.shift, tangents, generator)[1]

    few, many = _cosines(activity(1), exact), _cosines(activity(8), exact)
    print(few, many)
    assert many.min() > 0.2 and many.mean() > 0.45 and many.mean() > few.mean() + 0.15       # unbiased: the noise averages out
    readout = len(fixed) - 1                                           # weight perturbation, readout only
    total = lambda ps: relative_mse(integer_pass.outputs(ps, messages, raw, sent), wanted).sum()  # noqa: E731
    estimate = weight_forward_gradient(total, fixed, [[readout]], 200, generator)[1]
    assert _cosines([estimate[readout]], [exact[readout]])[0] > 0.7
    assert all(float(g.abs().max()) == 0 for g in estimate[:readout])  # untouched groups get nothing


@pytest.mark.parametrize("method", ["bp", "rfg"])
def test_finetuning_repairs_a_damaged_export_and_keeps_the_headroom(poisson, method):
    qnet, problem, _ = poisson
    qnet = read_netx(POISSON)
    readout = qnet.layers[-1]
    readout.weight = np.rint(readout.weight * 0.9).astype(np.int64)        # 10 % off: rel L2 ~ 1e-1
    config = FinetuneConfig(method=method, steps=60, points=256, tangents=2, lr=1e-3, check_every=10,
                            validation_points=1024, seed=3)
    _, report = finetune(qnet, problem.reference, config, progress=False)
    assert report["target_rel_l2_before"] > 0.05
    assert report["target_rel_l2_after"] < 0.65 * report["target_rel_l2_before"]
    assert (report["jvps"] > 0) == (method == "rfg") and (report["backward_passes"] > 0) == (method == "bp")
    limit = (2 ** 23 - 1) / qnet.metadata["quantization"]["headroom"]  # the export's headroom, or what it had
    assert report["peak_state_after"] <= max(report["peak_state_before"], limit) == report["peak_state_allowed"]
    qnet.run(problem.evaluation_points())                                # raises StateOverflow beyond 24 bits


@pytest.mark.slow
def test_cli_finetunes_an_export_that_lava_runs_bit_for_bit(tmp_path, capsys):
    out = tmp_path / "poisson_ft.net"
    assert main(["finetune", str(POISSON), "--method", "bp", "--against", "reference", "--steps", "20",
                 "--points", "256", "--lr", "2e-3", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "grid" in printed and "saved" in printed
    card = read_model_card(out)
    section = card["finetune"]
    assert section["from"] == "poisson.net" and section["method"] == "bp" and section["against"] == "reference"
    assert card["loihi_errors"]["rel_l2_fixed_point_finetuned"] == pytest.approx(section["grid_rel_l2_after"])
    assert section["grid_rel_l2_after"] < section["grid_rel_l2_before"]
    qnet = read_netx(out)
    points = problem_from_metadata(card, qnet.lower, qnet.upper, qnet.d_out).evaluation_points()[::997]
    from loihi_pinn.runtime.lava_graph import run_lava
    messages = qnet.encode(points)
    np.testing.assert_array_equal(run_lava(qnet, messages, progress=False), qnet.run_integers(messages)[0])
    assert main(["finetune", str(POISSON), "--out", str(out), "--steps", "1"]) == 2        # exists, no --force
    assert "--force" in capsys.readouterr().err


def test_finetune_refuses_what_it_cannot_do(tmp_path, capsys):
    with pytest.raises(InputError, match="unknown fine-tuning method"):
        FinetuneConfig(method="sgd")
    with pytest.raises(InputError, match="steps must be >= 1"):
        FinetuneConfig(steps=0)
    rate_coded = QuantizedNetwork([FixedPointLayer([[3]], [0], 64), FixedPointLayer([[2]], [0], 0, readout=True)],
                                  1.0, 1.0, [0.0], [-1.0], [1.0], neuron="if_hard", timesteps=4)
    with pytest.raises(InputError, match="sigma-delta exports"):
        IntegerPass(rate_coded)
    assert main(["finetune", str(POISSON), "--out", str(POISSON), "--force"]) == 2
    assert "the file being fine-tuned" in capsys.readouterr().err
    assert main(["finetune", str(tmp_path / "missing.net")]) == 2
    assert "no netx file" in capsys.readouterr().err


BURGERS_SPINN = ROOT / "netx_exports" / "burgers_spinn"


def _separable(folder):
    from loihi_pinn.export.separable import read_card, separable_problem, verified_axes
    from loihi_pinn.loihi.finetune_separable import SeparablePass

    card, folder = read_card(folder)
    qnets = [read_netx(p) for p in verified_axes(card, folder)]
    return SeparablePass(qnets, card["d_out"], card["rank"]), separable_problem(card, qnets)


def test_the_separable_pass_is_the_product_the_runner_computes():
    from loihi_pinn.runtime.separable import SeparableRunner

    tuned, _ = _separable(BURGERS_SPINN)
    points, messages = tuned.draw(100, np.random.default_rng(0))            # a 10 x 10 grid of the box
    assert points.shape == (100, 2) and [len(m) for m in messages] == [10, 10]
    runs = tuned.forward(messages)
    values = tuned.predict(tuned.latent(), messages, runs).detach().numpy()
    np.testing.assert_allclose(values, SeparableRunner(BURGERS_SPINN).predict(points), rtol=1e-8, atol=0)
    grid = SeparableRunner(BURGERS_SPINN).predict_grid([points[::10, 0], points[:10, 1]])   # first axis slowest
    np.testing.assert_array_equal(tuned.decode(runs), grid.reshape(-1, 1))
    groups = tuned.layer_groups()                                           # every latent tensor in one layer
    assert sorted(i for g in groups for i in g) == list(range(len(tuned.latent())))


def test_finetuning_repairs_a_damaged_axis_through_the_product():
    tuned, problem = _separable(BURGERS_SPINN)
    readout = tuned.networks[1].layers[-1]
    readout.weight = np.rint(readout.weight * 0.9).astype(np.int64)        # axis t 10 % off: rel L2 ~ 1e-1
    config = FinetuneConfig(steps=60, points=256, lr=1e-3, check_every=10, validation_points=1024, seed=3)
    _, report = finetune(tuned, problem.reference, config, progress=False)
    assert report["target_rel_l2_before"] > 0.05
    assert report["target_rel_l2_after"] < 0.65 * report["target_rel_l2_before"]
    assert len(report["peak_state_after"]) == 2                             # one peak per axis network
    assert all(p <= a for p, a in zip(report["peak_state_after"], report["peak_state_allowed"]))
    with pytest.raises(InputError, match="separable export's product"):
        finetune(tuned, problem.reference, FinetuneConfig(method="rfg", steps=1), progress=False)


@pytest.mark.slow
def test_cli_finetunes_a_separable_export_into_a_folder_the_runner_verifies(tmp_path, capsys):
    import json

    from loihi_pinn.runtime.separable import SeparableRunner

    out = tmp_path / "burgers_ft"
    assert main(["finetune", str(BURGERS_SPINN), "--against", "reference", "--steps", "60", "--points", "256",
                 "--out", str(out), "--quiet"]) == 0
    assert "grid" in capsys.readouterr().out
    card = json.loads((out / "spinn.json").read_text())
    section = card["finetune"]
    assert section["from"] == "burgers_spinn" and set(section["from_sha256"]) == {"axis_x.net", "axis_t.net"}
    assert section["grid_rel_l2_after"] <= section["grid_rel_l2_before"]
    assert card["loihi_errors"]["rel_l2_fixed_point_finetuned"] == pytest.approx(section["grid_rel_l2_after"])
    assert read_model_card(out / "axis_t.net")["finetune"]["jointly_with"] == ["axis_x.net", "axis_t.net"]
    coords = [np.linspace(0.1, 0.9, 3), np.linspace(0.1, 0.9, 2)]
    emulated = SeparableRunner(out).predict_grid(coords)                    # checks the new SHA-256s
    np.testing.assert_array_equal(SeparableRunner(out, "lava-sim", progress=False).predict_grid(coords), emulated)
    assert main(["finetune", str(BURGERS_SPINN), "--out", str(BURGERS_SPINN), "--force"]) == 2
    assert "the folder being fine-tuned" in capsys.readouterr().err
    assert main(["finetune", str(BURGERS_SPINN), "--method", "rfg", "--steps", "1", "--out",
                 str(tmp_path / "x")]) == 2
    assert "--method bp or rfg-weights" in capsys.readouterr().err
