"""ReLU students distilled from a tanh PINN (training/student.py): they learn the teacher, record it,
and convert to sigma-delta neurons exactly."""
import hashlib
import json

import numpy as np
import pytest
import torch

from loihi_pinn.cli import main
from loihi_pinn.conversion import calibration_points, convert, emulate
from loihi_pinn.errors import InputError
from loihi_pinn.evaluation import predict_model, relative_l2
from loihi_pinn.problems import get_problem
from loihi_pinn.training import StudentConfig, distill_student, load_checkpoint
from loihi_pinn.training.checkpoint import SHIPPED_DIR
from loihi_pinn.training.student import student_model

TEACHER = "sin"                                   # the shipped 2 x 40 tanh PINN: small and fast


@pytest.fixture(scope="module")
def distilled(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("student") / "sin_relu"
    problem = get_problem(TEACHER)
    config = StudentConfig(steps=300, lr=5e-3, batch=512, lbfgs_steps=20, lbfgs_points=512)
    student, info = distill_student(problem, TEACHER, config, out, progress=False)
    return problem, config, student, info, out


def test_student_learns_the_teacher(distilled):
    problem, config, student, info, _ = distilled
    teacher = load_checkpoint(TEACHER).model.float()
    grid = problem.evaluation_points()
    untrained = student_model(problem, teacher, config)           # same seed: the student's starting point
    before = relative_l2(predict_model(untrained, grid), predict_model(teacher, grid))
    after = relative_l2(predict_model(student, grid), predict_model(teacher, grid))
    assert after == pytest.approx(info["rel_l2_vs_teacher"])
    assert after < 0.1 * before and after < 0.1, (before, after)


def test_student_checkpoint_records_its_teacher(distilled):
    _, _, student, info, out = distilled
    ckpt = load_checkpoint(out)
    meta = ckpt.metadata
    assert meta["architecture"]["activation"] == "relu"
    assert meta["architecture"]["layer_sizes"] == load_checkpoint(TEACHER).metadata["architecture"]["layer_sizes"]
    sha = hashlib.sha256((SHIPPED_DIR / TEACHER / "weights.pt").read_bytes()).hexdigest()
    assert meta["student"]["teacher"]["weights_sha256"] == sha
    assert meta["student"]["teacher"]["checkpoint"] == TEACHER
    assert meta["student"]["rel_l2_vs_teacher"] == pytest.approx(info["rel_l2_vs_teacher"])
    assert meta["errors"]["rel_l2"] == pytest.approx(meta["student"]["rel_l2"])
    grid = get_problem(TEACHER).evaluation_points()
    assert np.array_equal(predict_model(ckpt.model, grid), predict_model(student, grid))   # saved = trained


def test_relu_student_converts_to_sigma_delta_exactly(distilled):
    problem, _, student, _, _ = distilled
    points = calibration_points(problem, 256, 0)
    net = convert(student, "sigma_delta", 8, points, delta_fraction=0.0)
    assert [layer.neurons for layer in net.layers] == student.architecture["layer_sizes"][1:]   # one neuron a unit
    grid = problem.evaluation_points()
    snn, _ = emulate(net, grid)
    ann = predict_model(student, grid)
    assert relative_l2(np.asarray(snn, dtype=np.float64), ann) < 1e-6


def test_cli_trains_a_relu_student(tmp_path, capsys):
    out = tmp_path / "cli_relu"
    assert main(["train", TEACHER, "--activation", "relu", "--init-from", TEACHER, "--steps", "20", "--batch", "256",
                 "--device", "cpu", "--threads", "1", "--quiet", "--out", str(out)]) == 0
    meta = json.loads((out / "checkpoint.json").read_text())
    assert meta["architecture"]["activation"] == "relu" and meta["student"]["config"]["steps"] == 20
    assert meta["student"]["config"]["batch"] == 256 and meta["student"]["config"]["device"] == "cpu"
    assert "vs the teacher" in capsys.readouterr().out
    assert main(["train", "poisson", "--activation", "relu", "--init-from", TEACHER, "--steps", "5",
                 "--out", str(tmp_path / "wrong")]) == 2                                   # a sin teacher


def test_student_config_refuses_other_activations():
    with pytest.raises(InputError):
        StudentConfig(activation="tanh")


def test_training_devices_are_checked(tmp_path, capsys):
    with pytest.raises(InputError, match="device must be"):
        StudentConfig(device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="sees no CUDA GPU"):
            StudentConfig(device="cuda")
    assert main(["train", TEACHER, "--device", "cpu", "--batch", "64", "--out", str(tmp_path / "tanh")]) == 2
    assert "--device and --batch are for networks distilled from a PINN" in capsys.readouterr().err


def test_a_converted_student_carries_its_teacher_into_the_files(distilled):
    from loihi_pinn.conversion import convert_checkpoint
    _, _, _, info, out = distilled
    net, _ = convert_checkpoint(out, "sigma_delta", 8, "none", n_calibration=128, progress=False)
    assert net.metadata["student"]["teacher"]["checkpoint"] == TEACHER
    assert net.metadata["student"]["rel_l2_vs_teacher"] == pytest.approx(info["rel_l2_vs_teacher"])
