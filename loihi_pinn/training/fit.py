"""Train a PINN for a problem end to end: build (or accept) the model, train,
measure against the reference, save the checkpoint with its loss-history plot."""
from __future__ import annotations

from pathlib import Path

import torch

from loihi_pinn.errors import InputError
from loihi_pinn.evaluation import error_report, predict_model
from loihi_pinn.models import PINN, build_mlp
from loihi_pinn.plotting import plot_loss_history
from loihi_pinn.problems import Problem

from .checkpoint import save_checkpoint
from .defaults import training_defaults
from .distill import DistillConfig, distill
from .trainer import TrainConfig, TrainResult, train


def default_model(problem: Problem, seed: int = 0, *, hidden_layers: int | None = None,
                  width: int | None = None) -> PINN:
    """A ``hidden_layers x width`` tanh PINN for the problem (default: its ``training_defaults``,
    the paper's network for a shipped problem), seeded init."""
    defaults = training_defaults(problem)
    torch.manual_seed(seed)
    sizes = [problem.d_in] + [width or defaults.width] * (hidden_layers or defaults.hidden_layers) + [problem.d_out]
    return PINN(build_mlp(sizes, "tanh"), problem.lower, problem.upper)


def fit(problem: Problem, config: TrainConfig, out, *, net: torch.nn.Sequential | None = None,
        command: str | None = None, progress: bool = True) -> tuple[Path, dict, TrainResult]:
    """Train on ``problem`` and save to folder ``out``; ``net`` is an optional user MLP
    (see ``loihi_pinn.models.describe_mlp`` for the accepted form). Returns
    (checkpoint folder, error report on the evaluation grid, training result)."""
    model = default_model(problem, config.seed) if net is None else PINN(net, problem.lower, problem.upper)
    if model.architecture["layer_sizes"][-1] != problem.d_out:
        raise InputError(f"the network has {model.architecture['layer_sizes'][-1]} outputs, problem {problem.name!r} "
                         f"has {problem.d_out} ({', '.join(problem.output_names)}); end the MLP with "
                         f"nn.Linear(..., {problem.d_out})")
    model = model.to(getattr(torch, config.dtype))
    result = train(problem, model, config, progress=progress)
    model.eval()
    report = error_report(problem, lambda x: predict_model(model, x))
    folder = save_checkpoint(out, model, problem, training=result.to_dict(),
                             errors=report, command=command, torch_version=torch.__version__,
                             threads=torch.get_num_threads())
    plot_loss_history(result.history, folder / "loss.png", title=f"{problem.name}: training loss")
    return folder, report, result


def fit_quantized(problem: Problem, teacher: PINN, params: dict, config: DistillConfig, out, *,
                  activation: str = "slip", command: str | None = None, progress: bool = True) -> tuple[Path, dict]:
    """A copy of ``teacher`` with quantized ``activation`` (``slip``: QCFS/SlipReLU, ``bitserial``:
    B-bit QCFS) of hyper-parameters ``params`` (same layers, its weights as the start, thresholds
    1), fine-tuned by distillation (``distill.py``) and saved to ``out``. Returns (checkpoint
    folder, error report on the evaluation grid)."""
    sizes = teacher.architecture["layer_sizes"]
    student = PINN(build_mlp(sizes, activation, params=params), problem.lower, problem.upper)
    linears = [m for m in student.net if isinstance(m, torch.nn.Linear)]
    for target, source in zip(linears, (m for m in teacher.net if isinstance(m, torch.nn.Linear))):
        target.load_state_dict(source.state_dict())
    teacher = teacher.float()
    result = distill(problem, student, teacher, config, progress=progress)
    student.eval()
    report = error_report(problem, lambda x: predict_model(student, x))
    folder = save_checkpoint(out, student, problem, training=result.to_dict(), errors=report, command=command,
                             torch_version=torch.__version__, threads=torch.get_num_threads())
    plot_loss_history(result.history, folder / "loss.png", title=f"{problem.name}: distillation loss")
    return folder, report
