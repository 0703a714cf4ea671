"""Physics-informed training: Adam on freshly sampled points, optionally finished by L-BFGS."""
from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field

import torch
from tqdm.auto import tqdm

from loihi_pinn.errors import InputError
from loihi_pinn.problems import Problem


@dataclass(frozen=True)
class TrainConfig:
    """Optimizer settings. ``lr`` decays exponentially to ``lr * final_lr_ratio`` over the Adam
    steps; the sampled points are redrawn every ``resample_every`` Adam steps; L-BFGS runs
    ``lbfgs_steps`` iterations on one fixed draw of ``lbfgs_point_factor`` x the points.
    ``dtype`` is the training precision ("float32" or "float64"; L-BFGS stalls in float32 once
    the loss stops changing in its last bits, so very accurate fits want float64)."""

    adam_steps: int = 5000
    lbfgs_steps: int = 0
    lr: float = 1e-3
    final_lr_ratio: float = 0.02
    resample_every: int = 100
    lbfgs_point_factor: int = 2
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self):
        if self.dtype not in ("float32", "float64"):
            raise InputError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if self.adam_steps < 0 or self.lbfgs_steps < 0 or self.adam_steps + self.lbfgs_steps == 0:
            raise InputError("adam_steps and lbfgs_steps must be >= 0 and not both 0 (nothing would be trained)")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise InputError(f"lr must be a positive finite number, got {self.lr}")


@dataclass
class TrainResult:
    """Loss history (one entry per logged step: step, phase, total and per-condition losses);
    wall-clock ``seconds`` and this process's CPU seconds (all its threads; fair on a shared machine)."""

    config: TrainConfig
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def final_losses(self) -> dict:
        return {k: v for k, v in self.history[-1].items() if k not in ("step", "phase")}

    def to_dict(self) -> dict:
        return {"config": asdict(self.config), "seconds": self.seconds, "cpu_seconds": self.cpu_seconds,
                "final_losses": self.final_losses}


def sample_conditions(problem: Problem, generator: torch.Generator, dtype: torch.dtype,
                      factor: int = 1) -> list[torch.Tensor]:
    """One draw of points for every condition of the problem."""
    return [c.sample(factor * c.n_points, generator).to(dtype) for c in problem.conditions]


def physics_loss(problem: Problem, model: torch.nn.Module, points: list[torch.Tensor]):
    """Weighted sum of mean squared residuals; returns (total, {condition: unweighted loss})."""
    total, parts = 0.0, {}
    for cond, x in zip(problem.conditions, points):
        loss = cond.residual(model, x.clone()).pow(2).mean()
        parts[cond.name] = loss
        total = total + cond.weight * loss
    return total, parts


def _log(step: int, phase: str, total, parts) -> dict:
    return {"step": step, "phase": phase, "total": float(total), **{k: float(v) for k, v in parts.items()}}


def adam_descent(parameters, loss_at, *, steps: int, lr: float, final_lr_ratio: float, bar,
                 history: list, log_every: int = 50) -> None:
    """``steps`` Adam steps on ``parameters``, the learning rate decaying exponentially from
    ``lr`` to ``lr * final_lr_ratio``. ``loss_at(step) -> (total, {name: part})`` draws the
    step's points and evaluates the loss; every ``log_every`` steps (and the last) the losses
    go into ``history`` and the progress ``bar``, which advances a step each time."""
    optimizer = torch.optim.Adam(parameters, lr=lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, final_lr_ratio ** (1.0 / max(steps, 1)))
    for step in range(steps):
        total, parts = loss_at(step)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        scheduler.step()
        if step % log_every == 0 or step == steps - 1:
            history.append(_log(step, "adam", total, parts))
            bar.set_postfix(loss=f"{float(total):.3e}")
        bar.update()


def train(problem: Problem, model: torch.nn.Module, config: TrainConfig, *,
          progress: bool = True, log_every: int = 50) -> TrainResult:
    """Train ``model`` in place on ``problem``'s loss; returns the loss history.

    Deterministic for a given ``config.seed`` and thread count. If L-BFGS diverges (NaN loss),
    the model is restored to its state after Adam.
    """
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    dtype = next(model.parameters()).dtype
    return run_schedule(model, config, label=problem.name,
                        draw=lambda: sample_conditions(problem, gen, dtype),
                        loss=lambda points: physics_loss(problem, model, points),
                        lbfgs_draw=lambda: sample_conditions(problem, gen, dtype, factor=config.lbfgs_point_factor),
                        progress=progress, log_every=log_every)


def run_schedule(model: torch.nn.Module, config, *, label: str, draw, loss, lbfgs_draw, progress: bool = True,
                 log_every: int = 50) -> TrainResult:
    """The training schedule shared by PINNs and SPINNs: ``config.adam_steps`` Adam steps on
    ``loss(draw())``, points drawn anew every ``config.resample_every`` steps, then
    ``config.lbfgs_steps`` L-BFGS iterations on one fixed ``lbfgs_draw()``; wall and CPU seconds."""
    result = TrainResult(config)
    start, cpu = time.perf_counter(), time.process_time()
    bar = tqdm(total=config.adam_steps + config.lbfgs_steps, desc=f"train {label}",
               disable=not progress, unit="step", mininterval=1.0)
    points = []

    def loss_at(step):
        if step % config.resample_every == 0:
            points[:] = draw()
        return loss(points)

    adam_descent(model.parameters(), loss_at, steps=config.adam_steps, lr=config.lr,
                 final_lr_ratio=config.final_lr_ratio, bar=bar, history=result.history, log_every=log_every)
    if config.lbfgs_steps:
        fixed = lbfgs_draw()
        lbfgs_polish(model, lambda: loss(fixed), steps=config.lbfgs_steps,
                     first_step=config.adam_steps, history=result.history, bar=bar, log_every=log_every)
    bar.close()
    result.seconds, result.cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    return result


def lbfgs_polish(model: torch.nn.Module, loss, *, steps: int, first_step: int, history: list, bar,
                 log_every: int = 50) -> None:
    """Up to ``steps`` L-BFGS iterations (strong Wolfe line search) on ``loss() -> (total, {name:
    part})`` over fixed points; losses go into ``history`` every ``log_every`` evaluations (steps
    counted from ``first_step``) and the last one after. If the loss ends non-finite, ``model`` is
    restored to its state before."""
    saved = copy.deepcopy(model.state_dict())
    optimizer = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=steps, max_eval=int(steps * 1.25),
                                  history_size=50, tolerance_grad=1e-12, tolerance_change=1e-15,
                                  line_search_fn="strong_wolfe")
    evals = [0]

    def closure():
        optimizer.zero_grad(set_to_none=True)
        total, parts = loss()
        total.backward()
        if evals[0] % log_every == 0:
            history.append(_log(first_step + evals[0], "lbfgs", total, parts))
            bar.set_postfix(loss=f"{float(total):.3e}")
        evals[0] += 1
        if evals[0] <= steps:
            bar.update()
        return total

    optimizer.step(closure)
    total, parts = loss()
    if not math.isfinite(float(total)):
        model.load_state_dict(saved)
        total, parts = loss()
    history.append(_log(first_step + evals[0], "lbfgs", total, parts))
