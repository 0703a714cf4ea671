"""Quantization-aware fine-tuning of a PINN by distillation from a trained (smooth) PINN.

A network with QCFS/SlipReLU activations is piecewise constant (c = 0) or piecewise linear in its
input: its second derivatives vanish almost everywhere, so a PDE residual such as -lap u - 1 cannot
be evaluated on it, and autograd has nothing to differentiate. So the quantized network learns
the trained tanh PINN's solution instead: Adam on the mean squared difference to the teacher at
uniformly resampled points of the domain, through the straight-through gradient of seed 004
(section 4.3). The teacher carries the physics; the student learns to carry it in few levels.
With ``sparsity`` lambda > 0, bit-serial (B-bit QCFS) students also pay lambda times the fraction
of one-bits in their hidden activations (seed 003, eq. 11; the bits are the spikes they will send).
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import torch
from tqdm.auto import tqdm

from loihi_pinn.errors import InputError
from loihi_pinn.models import PINN, BitSerialQCFS
from loihi_pinn.problems import Problem, uniform

from .trainer import adam_descent


@dataclass
class DistillConfig:
    """Adam ``steps`` at learning rate ``lr`` (exponential decay to ``lr * final_lr_ratio``),
    ``batch`` points resampled every step, ``seed``; ``sparsity``: weight lambda of the
    bit-sparsity regularizer (bit-serial students only); ``device``: where the networks train
    ("cpu", or "cuda" for a GPU; the points are drawn on the CPU, so a seed draws the same points
    on either)."""

    steps: int = 3000
    lr: float = 5e-3
    final_lr_ratio: float = 0.05
    batch: int = 4096
    seed: int = 0
    sparsity: float = 0.0
    device: str = "cpu"

    def __post_init__(self):
        if self.steps < 1 or self.batch < 1:
            raise InputError(f"distillation needs steps >= 1 and batch >= 1, got {self.steps} and {self.batch}")
        if not (self.lr > 0 and math.isfinite(self.lr)) or not (self.sparsity >= 0 and math.isfinite(self.sparsity)):
            raise InputError(f"lr must be a positive finite number and sparsity >= 0, got {self.lr} and {self.sparsity}")
        check_device(self.device)


def check_device(device: str) -> torch.device:
    """``device`` as a torch device, with a clear error where it does not exist on this machine."""
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise InputError(f"device must be 'cpu' or 'cuda' (or 'cuda:N'), got {device!r}") from err
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device!r}: this machine's torch sees no CUDA GPU; train with --device cpu")
    if parsed.type not in ("cpu", "cuda"):
        raise InputError(f"device must be 'cpu' or 'cuda', got {device!r}")
    return parsed


@dataclass
class DistillResult:
    config: dict
    history: list[dict] = field(default_factory=list)      # {"step", "phase", "total", "one_bits"} every 50 steps
    seconds: float = 0.0

    @property
    def final_losses(self) -> dict:
        return {"total": self.history[-1]["total"] if self.history else float("nan")}

    def to_dict(self) -> dict:
        return {"method": "distillation from the tanh PINN", "config": self.config,
                "final_losses": self.final_losses, "seconds": self.seconds}


def forward_with_bits(student: PINN, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The student's output ``(n, d_out)`` and the mean fraction of one-bits of its bit-serial
    layers' activations (None if it has none), with the surrogate gradient of seed 003."""
    h, fractions = student.normalize(x), []
    for module in student.net:
        if isinstance(module, BitSerialQCFS):
            fractions.append(module.one_bit_fraction(h))
        h = module(h)
    return h, torch.stack(fractions).mean() if fractions else None


def distill(problem: Problem, student: PINN, teacher: PINN, config: DistillConfig, *,
            progress: bool = True) -> DistillResult:
    """Fit ``student`` to ``teacher`` on the problem's domain (in place, on ``config.device``;
    both networks are back on the CPU afterwards); returns the history."""
    generator = torch.Generator().manual_seed(config.seed)
    sample = uniform(problem.lower, problem.upper, torch.float32)
    result = DistillResult(asdict(config))
    start = time.perf_counter()
    device = check_device(config.device)
    teacher.eval().to(device)
    student.to(device)

    def loss_at(step):
        x = sample(config.batch, generator).to(device)
        with torch.no_grad():
            target = teacher(x)
        out, one_bits = forward_with_bits(student, x)
        loss = torch.mean((out - target) ** 2)
        if config.sparsity and one_bits is not None:
            loss = loss + config.sparsity * one_bits
        return loss, {} if one_bits is None else {"one_bits": one_bits}

    with tqdm(total=config.steps, desc=f"{problem.name}: distill", disable=not progress, mininterval=1.0) as bar:
        adam_descent(student.parameters(), loss_at, steps=config.steps, lr=config.lr,
                     final_lr_ratio=config.final_lr_ratio, bar=bar, history=result.history)
    teacher.cpu()
    student.cpu()
    result.seconds = time.perf_counter() - start
    return result
