"""Training lowers the loss, is repeatable, and checkpoints round-trip exactly."""
import json

import pytest
import torch
from torch import nn

from loihi_pinn.errors import InputError
from loihi_pinn.models import PINN, build_mlp, describe_mlp
from loihi_pinn.problems import get_problem
from loihi_pinn.training import TrainConfig, fit, load_checkpoint, save_checkpoint, train


def tiny_pinn(problem, width=16, layers=2, seed=0):
    torch.manual_seed(seed)
    return PINN(build_mlp([problem.d_in] + [width] * layers + [problem.d_out]), problem.lower, problem.upper)


@pytest.mark.parametrize("name", ["poisson", "burgers", "beltrami"])
def test_a_few_adam_steps_lower_the_physics_loss(name):
    problem = get_problem(name)
    result = train(problem, tiny_pinn(problem), TrainConfig(adam_steps=150, lr=1e-2, resample_every=1000),
                   progress=False, log_every=1)
    first, last = result.history[0]["total"], result.history[-1]["total"]
    assert last < 0.7 * first, f"loss {first:.3e} -> {last:.3e}"


def test_lbfgs_finish_lowers_the_loss_further():
    problem = get_problem("sin")
    model = tiny_pinn(problem)
    adam_only = train(problem, model, TrainConfig(adam_steps=200, lr=1e-2), progress=False)
    finished = train(problem, model, TrainConfig(adam_steps=0, lbfgs_steps=100), progress=False)
    assert finished.history[-1]["total"] < 0.1 * adam_only.history[-1]["total"]


def test_training_is_repeatable_for_a_seed():
    problem = get_problem("wave")
    runs = [train(problem, tiny_pinn(problem), TrainConfig(adam_steps=20, seed=3), progress=False, log_every=5)
            for _ in range(2)]
    assert runs[0].history == runs[1].history


def test_checkpoint_round_trip_gives_identical_outputs(tmp_path):
    problem = get_problem("beltrami")
    folder, report, _ = fit(problem, TrainConfig(adam_steps=5), tmp_path / "ck", net=build_mlp([3, 12, 12, 3]),
                            progress=False)
    assert (folder / "loss.png").stat().st_size > 1000
    loaded = load_checkpoint(folder)
    original = PINN(build_mlp([3, 12, 12, 3]), problem.lower, problem.upper)
    original.load_state_dict(torch.load(folder / "weights.pt", weights_only=True))
    x = torch.rand(64, 3)
    assert torch.equal(loaded.model(x), original(x))
    assert loaded.problem == "beltrami" and loaded.metadata["errors"]["rel_l2"] == report["rel_l2"]
    assert loaded.metadata["architecture"] == {"layer_sizes": [3, 12, 12, 3], "activation": "tanh",
                                               "negative_slope": None}


def test_user_mlp_with_leaky_relu_keeps_its_slope(tmp_path):
    problem = get_problem("sin")
    net = nn.Sequential(nn.Linear(1, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    folder, _, _ = fit(problem, TrainConfig(adam_steps=3), tmp_path / "ck", net=net, progress=False)
    restored = load_checkpoint(folder).model
    assert isinstance(restored.net[1], nn.LeakyReLU) and restored.net[1].negative_slope == 0.2


@pytest.mark.parametrize("net, message", [
    (nn.Linear(2, 1), "expected an nn.Sequential"),
    (nn.Sequential(nn.Linear(2, 8), nn.Tanh()), "must end with an nn.Linear"),
    (nn.Sequential(nn.Linear(2, 8), nn.Conv1d(1, 1, 1), nn.Linear(8, 1)), "Conv1d) is not a supported activation"),
    (nn.Sequential(nn.Linear(2, 8), nn.Linear(8, 8), nn.Linear(8, 1)), "Linear) is not a supported activation"),
    (nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1)), "one activation"),
    (nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(9, 1)), "takes 9 inputs"),
    (nn.Sequential(nn.Linear(2, 8), nn.GELU(), nn.Linear(8, 1)), "GELU"),
    (nn.Sequential(nn.Linear(2, 8, bias=False), nn.Tanh(), nn.Linear(8, 1)), "no bias"),
])
def test_a_user_mlp_of_the_wrong_form_is_rejected_with_the_reason(net, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        describe_mlp(net)


def test_a_user_mlp_with_the_wrong_input_dimension_is_rejected():
    with pytest.raises(InputError, match="takes 1 inputs but the domain has 2"):
        PINN(build_mlp([1, 8, 1]), (-1.0, -1.0), (1.0, 1.0))


@pytest.fixture
def saved_checkpoint(tmp_path):
    problem = get_problem("sin")
    return save_checkpoint(tmp_path / "ck", tiny_pinn(problem), "sin")


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "checkpoint.json").unlink(), "has no checkpoint.json"),
    (lambda f: (f / "checkpoint.json").write_text("{not json"), "not valid JSON"),
    (lambda f: (f / "checkpoint.json").write_text(json.dumps({"format": "other"})), "not a loihi-pinn checkpoint"),
    (lambda f: (f / "weights.pt").write_bytes(b"\x00garbage"), "corrupted"),
    (lambda f: (f / "weights.pt").unlink(), "has no weights.pt"),
])
def test_a_malformed_checkpoint_gives_a_clear_error(saved_checkpoint, damage, message):
    damage(saved_checkpoint)
    with pytest.raises(InputError, match=message):
        load_checkpoint(saved_checkpoint)


def test_weights_of_another_architecture_are_rejected(saved_checkpoint):
    meta = json.loads((saved_checkpoint / "checkpoint.json").read_text())
    meta["architecture"]["layer_sizes"] = [1, 32, 32, 1]
    (saved_checkpoint / "checkpoint.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="does not match the architecture"):
        load_checkpoint(saved_checkpoint)
