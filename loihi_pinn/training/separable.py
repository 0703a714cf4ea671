"""Separable PINNs (``models.separable.SPINN``): training on factorized collocation grids and
the checkpoint, a folder of one ordinary PINN checkpoint per axis plus ``spinn.json``.

    runs/burgers_spinn/spinn.json     problem, rank, outputs, axes, training, errors, command
    runs/burgers_spinn/axis_x/        checkpoint of the x network (1 input -> d_out * rank features)
    runs/burgers_spinn/axis_t/        ...

Each axis folder loads, converts and exports like any checkpoint; ``spinn.json`` says how the
axes combine: u_k = sum_j prod_a f_a[k * rank + j].
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from loihi_pinn.errors import InputError
from loihi_pinn.evaluation import error_report, predict_model, relative_l2
from loihi_pinn.io import replacing
from loihi_pinn.models import SPINN, GridField, build_mlp
from loihi_pinn.plotting import plot_loss_history
from loihi_pinn.problems import Problem, get_problem, grid_axes, problem_from_metadata, problem_metadata

from .checkpoint import SHIPPED_DIR, load_checkpoint, save_checkpoint, weights_sha256
from .student import StudentConfig, distill_student
from .trainer import TrainConfig, TrainResult, adam_descent, run_schedule

FORMAT, VERSION, MANIFEST = "loihi-pinn-spinn", 1, "spinn.json"


@dataclass(frozen=True)
class SeparableDefaults:
    """Axis networks ``hidden_layers x width`` tanh, ``rank`` features per output, and the budget
    (grids are cheap: a fresh draw every ``resample_every`` Adam steps, as Cho et al. do)."""

    hidden_layers: int = 2
    width: int = 50
    rank: int = 32
    adam_steps: int = 5000
    lbfgs_steps: int = 0
    lr: float = 1e-3
    resample_every: int = 1


SEPARABLE_DEFAULTS = {
    # seed 000: x and t networks of 3 x 40; rank 107 gives 2 x 7747 = 15,494 parameters (Table 1: 15,500)
    "burgers": SeparableDefaults(3, 40, rank=107, adam_steps=1000, lbfgs_steps=20000),
    # seed 000: 2 x 50 networks; x, y, t, each 1 -> 50 -> 50 -> 3 x 50: 3 x 10,300 = 30,900 parameters
    "beltrami": SeparableDefaults(2, 50, rank=50, adam_steps=3000, lbfgs_steps=2500, lr=2e-3),
}


def separable_defaults(problem: Problem) -> SeparableDefaults:
    return SEPARABLE_DEFAULTS.get(problem.spec or "", SeparableDefaults())


def default_spinn(problem: Problem, seed: int = 0, *, rank: int | None = None, hidden_layers: int | None = None,
                  width: int | None = None) -> SPINN:
    """A SPINN for ``problem``: one ``hidden_layers x width`` tanh network per input, ``rank``
    features per output (defaults: ``separable_defaults``), seeded init."""
    d = separable_defaults(problem)
    rank = rank or d.rank
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise InputError(f"--rank must be a whole number >= 1, got {rank!r}")
    torch.manual_seed(seed)
    sizes = [1] + [width or d.width] * (hidden_layers or d.hidden_layers) + [problem.d_out * rank]
    return SPINN([build_mlp(sizes, "tanh") for _ in problem.input_names], problem.lower, problem.upper,
                 problem.d_out, rank)


def grid_loss(problem: Problem, model: SPINN, draws: list[list[torch.Tensor]]):
    """Weighted sum of mean squared grid residuals; returns (total, {condition: unweighted loss})."""
    total, parts = 0.0, {}
    for cond, coords in zip(problem.grid_conditions, draws):
        loss = cond.residual(GridField(model, coords, problem.input_names, cond.max_order)).pow(2).mean()
        parts[cond.name] = loss
        total = total + cond.weight * loss
    return total, parts


def train_separable(problem: Problem, model: SPINN, config: TrainConfig, *, progress: bool = True,
                    log_every: int = 50) -> TrainResult:
    """Train ``model`` in place on ``problem.grid_conditions``: Adam on grids redrawn every
    ``config.resample_every`` steps, then L-BFGS on one fixed draw; deterministic per seed."""
    if not problem.grid_conditions:
        raise InputError(f"problem {problem.name!r} defines no grid_conditions, which a separable PINN trains on "
                         f"(factorized grids); train a PINN (--model pinn) or give the Problem grid_conditions")
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    dtype = next(model.parameters()).dtype
    draw = lambda: [[c.to(dtype) for c in cond.sample(gen)] for cond in problem.grid_conditions]  # noqa: E731
    return run_schedule(model, config, label=f"{problem.name} (SPINN)", draw=draw,
                        loss=lambda grids: grid_loss(problem, model, grids), lbfgs_draw=draw,
                        progress=progress, log_every=log_every)


def save_separable(folder, model: SPINN, problem: Problem, **extra) -> Path:
    """Write the SPINN checkpoint folder (all at once): ``spinn.json`` and ``axis_<input>/``."""
    folder = Path(folder)
    axes = [f"axis_{name}" for name in problem.input_names]
    manifest = {"format": FORMAT, "version": VERSION, **problem_metadata(problem), "rank": model.rank,
                "d_out": model.d_out, "parameters": model.n_parameters, "axes": axes,
                "combine": "u_k = sum_j prod_a f_a[k * rank + j] (f_a: the outputs of axis a's network)", **extra}
    with replacing(folder) as tmp:
        tmp.mkdir()
        for a, (name, axis) in enumerate(zip(problem.input_names, model.axes)):
            save_checkpoint(tmp / axes[a], axis, f"{problem.name}.{name}-axis",
                            separable={"axis": a, "input": name, "rank": model.rank,
                                       "outputs": list(problem.output_names)})
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return folder


def load_separable(path) -> tuple[SPINN, dict, Path]:
    """(model in eval mode, ``spinn.json`` metadata, folder) of a SPINN checkpoint folder or shipped name."""
    folder = Path(path)
    if not (folder / MANIFEST).is_file() and (SHIPPED_DIR / str(path) / MANIFEST).is_file():
        folder = SHIPPED_DIR / str(path)
    try:
        meta = json.loads((folder / MANIFEST).read_text())
        if meta.get("format") != FORMAT:
            raise KeyError("format")
        axes = [load_checkpoint(folder / name).model for name in meta["axes"]]
        lower = [float(a.lower[0]) for a in axes]
        upper = [float(a.upper[0]) for a in axes]
        model = SPINN([a.net for a in axes], lower, upper, meta["d_out"], meta["rank"])
    except FileNotFoundError:
        raise InputError(f"{folder} has no {MANIFEST}: it is not a separable PINN checkpoint") from None
    except (KeyError, TypeError, json.JSONDecodeError) as err:
        raise InputError(f"{folder / MANIFEST} is malformed ({err}); re-train or restore it") from None
    model.eval()
    return model, meta, folder


def fit_separable(problem: Problem | str, config: TrainConfig, out, *, rank: int | None = None,
                  hidden_layers: int | None = None, width: int | None = None, command: str | None = None,
                  progress: bool = True) -> tuple[Path, dict, TrainResult]:
    """Train a SPINN on ``problem`` and save it to ``out``; returns (folder, error report on the
    evaluation grid, training result)."""
    problem = get_problem(problem) if isinstance(problem, str) else problem
    model = default_spinn(problem, config.seed, rank=rank, hidden_layers=hidden_layers, width=width)
    model = model.to(getattr(torch, config.dtype))
    result = train_separable(problem, model, config, progress=progress)
    model.eval()
    report = error_report(problem, lambda x: predict_model(model, x))
    folder = save_separable(out, model, problem, training=result.to_dict(), errors=report, command=command,
                            torch_version=torch.__version__, threads=torch.get_num_threads())
    plot_loss_history(result.history, folder / "loss.png", title=f"{problem.name}: SPINN training loss")
    return folder, report, result


PRODUCT_GRID_POINTS = 32768
"""Points of each random tensor grid on which ``fit_product`` compares the product (as many per axis)."""


def fit_product(student: SPINN, teacher: SPINN, problem: Problem, config: StudentConfig, *,
                progress: bool = True) -> list[dict]:
    """Fine-tune all axis networks of ``student`` together on the teacher's outputs: Adam
    (``config.steps`` at ``config.lr / 4``) on the relative squared error of the product on a
    fresh random tensor grid every step. Distilling each axis alone leaves errors the sum over
    the rank amplifies (Beltrami: 3e-3 per axis, 1.2e-2 in the product); this removes them.
    Returns the loss history."""
    teacher = teacher.float().eval()
    per_axis = round(PRODUCT_GRID_POINTS ** (1 / problem.d_in))
    sample = grid_axes(problem.lower, problem.upper, (per_axis,) * problem.d_in, torch.float32)
    gen, history = torch.Generator().manual_seed(config.seed + 2), []

    def loss_at(step):
        coords = sample(gen)
        with torch.no_grad():
            target = teacher.grid(coords)
        loss = (student.grid(coords) - target).pow(2).mean() / target.pow(2).mean()
        return loss, {}

    with tqdm(total=config.steps, desc="product fine-tuning", disable=not progress, unit="step") as bar:
        adam_descent(student.parameters(), loss_at, steps=config.steps, lr=config.lr / 4,
                     final_lr_ratio=config.final_lr_ratio, bar=bar, history=history)
    return history


def distill_separable(teacher, config: StudentConfig, out, *, command: str | None = None,
                      progress: bool = True) -> tuple[Path, dict]:
    """A SPINN of ReLU axis networks, each distilled from the tanh ``teacher``'s network of its
    axis on its interval (``student.distill_student``: the features, Adam then L-BFGS), saved
    to ``out``. Sigma-delta neurons run a ReLU network exactly, one neuron a unit. Returns the
    folder and the error report of the product on the evaluation grid (also against the teacher)."""
    model, meta, folder = load_separable(teacher)
    problem = problem_from_metadata(meta, model.lower.tolist(), model.upper.tolist(), model.d_out)
    students, axes = [], {}
    for name in meta["axes"]:
        ckpt = load_checkpoint(folder / name)
        student, info = distill_student(ckpt.find_problem(), ckpt, config, progress=progress)
        students.append(student.net)
        axes[name] = {k: info[k] for k in ("rel_l2_vs_teacher", "seconds")}
    spinn = SPINN(students, problem.lower, problem.upper, model.d_out, model.rank)
    history = fit_product(spinn, model, problem, config, progress=progress)
    spinn.eval()
    report = error_report(problem, lambda x: predict_model(spinn, x))
    grid = problem.evaluation_points()
    source = str(teacher) if not Path(str(teacher)).is_absolute() else str(folder)
    info = {"teacher": {"checkpoint": source, "weights_sha256": {n: weights_sha256(folder / n) for n in meta["axes"]},
                        "rel_l2": meta.get("errors", {}).get("rel_l2")},
            "rel_l2_vs_teacher": relative_l2(predict_model(spinn, grid), predict_model(model, grid)),
            "rel_l2": report.get("rel_l2"), "axes": axes, "config": asdict(config),
            "product_loss": history[-1]["total"]}
    saved = save_separable(out, spinn, problem, student=info, errors=report, command=command,
                           training={"method": "distillation of ReLU axis networks from the tanh SPINN's"},
                           torch_version=torch.__version__, threads=torch.get_num_threads())
    return saved, report
