"""A ReLU student distilled from a trained tanh PINN: the network Loihi 2's sigma-delta neurons run exactly.

Sigma-delta (SDNN) neurons compute ReLU; a tanh unit costs K ReLU pieces and K^2 synapses per
connection (``neurons/sigma_delta.py``). A ReLU MLP converts with one neuron a unit and no
approximation, so its spiking network costs about the ANN's multiply-accumulates and its error
is the student's fit plus fixed point. The tanh PINN stays the source of truth: the student
learns the teacher's outputs on dense points of the box (``distill.py``: Adam on fresh uniform
points every step), optionally polished by L-BFGS on one fixed draw, and its checkpoint records
the teacher (name, SHA-256 of its ``weights.pt``) and the distillation error against the
teacher and the reference.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from loihi_pinn.errors import InputError
from loihi_pinn.evaluation import error_report, predict_model, relative_l2
from loihi_pinn.models import PINN, build_mlp
from loihi_pinn.plotting import plot_loss_history
from loihi_pinn.problems import Problem, uniform

from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint, weights_sha256
from .distill import DistillConfig, DistillResult, check_device, distill
from .trainer import lbfgs_polish

STUDENT_ACTIVATIONS = ("relu",)          # what sigma-delta runs with one neuron a unit, exactly


@dataclass(frozen=True)
class StudentConfig:
    """Adam (``distill.py``): ``steps`` at ``lr`` decaying to ``lr * final_lr_ratio``, ``batch``
    fresh uniform points a step; then ``lbfgs_steps`` L-BFGS iterations on one fixed draw of
    ``lbfgs_points`` points (0: none). ``hidden_layers`` / ``width``: the student's shape
    (default: the teacher's). ``seed`` fixes the student's init and every draw of points;
    ``device``: "cpu" or "cuda" (``distill.py``)."""

    steps: int = 4000
    lr: float = 2e-3
    final_lr_ratio: float = 0.01
    batch: int = 4096
    lbfgs_steps: int = 0
    lbfgs_points: int = 8192
    hidden_layers: int | None = None
    width: int | None = None
    activation: str = "relu"
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self):
        if self.activation not in STUDENT_ACTIVATIONS:
            raise InputError(f"student activation must be one of {', '.join(STUDENT_ACTIVATIONS)}, "
                             f"got {self.activation!r}")
        if self.steps < 1 or self.lbfgs_steps < 0:
            raise InputError(f"a student needs Adam steps >= 1 and lbfgs_steps >= 0, got {self.steps} and "
                             f"{self.lbfgs_steps}")
        check_device(self.device)

    def distill_config(self) -> DistillConfig:
        return DistillConfig(steps=self.steps, lr=self.lr, final_lr_ratio=self.final_lr_ratio, batch=self.batch,
                             seed=self.seed)


def student_model(problem: Problem, teacher: PINN, config: StudentConfig) -> PINN:
    """A freshly initialized (seeded) ReLU MLP with the teacher's layer sizes, or ``hidden_layers``
    x ``width`` where given, on the problem's box."""
    sizes = list(teacher.architecture["layer_sizes"])
    hidden = config.hidden_layers or len(sizes) - 2
    width = config.width or sizes[1]
    torch.manual_seed(config.seed)
    return PINN(build_mlp([sizes[0]] + [width] * hidden + [sizes[-1]], config.activation), problem.lower,
                problem.upper)


def _lbfgs(problem: Problem, student: PINN, teacher: PINN, config: StudentConfig, result: DistillResult) -> None:
    """L-BFGS on the squared difference to the teacher at one fixed draw of points, on
    ``config.device`` (restores the Adam weights if it diverges)."""
    generator = torch.Generator().manual_seed(config.seed + 1)
    device = check_device(config.device)
    x = uniform(problem.lower, problem.upper, torch.float32)(config.lbfgs_points, generator).to(device)
    with torch.no_grad():
        target = teacher.to(device)(x)
    student.to(device)
    with tqdm(disable=True) as bar:
        lbfgs_polish(student, lambda: (torch.mean((student(x) - target) ** 2), {}), steps=config.lbfgs_steps,
                     first_step=config.steps, history=result.history, bar=bar)
    teacher.cpu()
    student.cpu()


def distill_student(problem: Problem, teacher, config: StudentConfig, out=None, *, command: str | None = None,
                    progress: bool = True) -> tuple[PINN, dict]:
    """Distill a ReLU student from ``teacher`` (checkpoint folder, shipped name or ``Checkpoint``
    of a tanh PINN for ``problem``); save it to ``out`` (if given) as a normal checkpoint.
    Returns the student (eval mode) and its metadata entry ``student`` (teacher, errors)."""
    ckpt = teacher if isinstance(teacher, Checkpoint) else load_checkpoint(teacher)
    if ckpt.problem != problem.name:
        raise InputError(f"teacher {ckpt.path} is a {ckpt.problem} network, not {problem.name}")
    teacher_model = ckpt.model.float().eval()
    student = student_model(problem, teacher_model, config)
    start = time.perf_counter()
    result = distill(problem, student, teacher_model, config.distill_config(), progress=progress)
    if config.lbfgs_steps:
        _lbfgs(problem, student, teacher_model, config, result)
    result.seconds = time.perf_counter() - start
    student.eval()
    report = error_report(problem, lambda x: predict_model(student, x))
    grid = problem.evaluation_points()
    teacher_out = predict_model(teacher_model, grid)
    info = {
        "teacher": {"checkpoint": ckpt.path.name if ckpt.path.parent.name == "checkpoints" else str(ckpt.path),
                    "weights_sha256": weights_sha256(ckpt.path),
                    "architecture": ckpt.metadata["architecture"],
                    "rel_l2": ckpt.metadata.get("errors", {}).get("rel_l2")},
        "rel_l2_vs_teacher": relative_l2(predict_model(student, grid), teacher_out),
        "rel_l2": report.get("rel_l2"),
        "grid_points": len(grid),
        "config": asdict(config),
        "seconds": result.seconds,
    }
    if out is not None:
        folder = save_checkpoint(out, student, problem, training={**result.to_dict(), "method":
                                 "distillation of a ReLU student from a tanh PINN (training/student.py)"},
                                 student=info, errors=report, command=command, torch_version=torch.__version__,
                                 threads=torch.get_num_threads())
        plot_loss_history(result.history, Path(folder) / "loss.png",
                          title=f"{problem.name}: ReLU student distillation loss")
    return student, info
