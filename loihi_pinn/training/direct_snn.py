"""Direct training of spiking networks (seed 002): surrogate gradients by back-propagation (BP)
or randomized forward gradients with global (RFG-G) or layer-wise (RFG-L) perturbation, with or
without the layer-local loss (LL).

    result = train_direct(model, mse_loss, (x, y), method="rfg-l", steps=3000)

``loss_fn(call, *batch, *shared, local)`` returns the scalar loss of one batch; ``call(*inputs,
with_local=...)`` is the model run with the parameters being trained (a functional call, so
forward-mode AD sees them); with ``local`` the loss is L_global + mean_n L_n over the model's
local heads. The step is Adam on the gradient (estimate) with a cosine-decayed learning rate.
RFG draws one tangent a block and step, as the seed does, or averages ``tangents`` of them; a
larger Adam ``momentum`` (beta1) averages estimates over more steps instead (on seed 002's
Poisson it helps short runs only: benchmarks/RESULTS.md, section 10).

The cost is counted as the seed counts it: a BP step is one forward pass plus a backward pass
(about two forwards); an RFG step is one forward-mode pass per perturbed block and tangent (1
for RFG-G, one per layer for RFG-L), each a forward pass carrying a tangent. Wall time is measured.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import torch
from torch import nn
from torch.func import functional_call
from tqdm import tqdm

from loihi_pinn.errors import InputError

from .forward_gradient import forward_gradient

METHODS = ("bp", "rfg-g", "rfg-l")
DEFAULT_MOMENTUM = 0.9           # Adam's beta1 (torch's default)


@dataclass
class DirectResult:
    """What training did: ``method``, ``steps``, RFG's ``tangents`` a step and block (0 for BP),
    Adam's ``momentum`` (beta1), the loss every ``log_every`` steps, forward passes (primal; BP),
    backward passes (BP), forward-mode (jvp) passes (RFG), wall and CPU seconds (this process's
    CPU time: on a shared machine wall time also measures the neighbours)."""

    method: str
    local_loss: bool
    steps: int
    tangents: int
    momentum: float
    losses: list[float] = field(default_factory=list)
    forward_passes: int = 0
    backward_passes: int = 0
    jvp_passes: int = 0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def mse_with_local(prediction, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error; for (output, [local outputs]) the seed's L_global + mean_n L_n."""
    if isinstance(prediction, tuple):
        out, local = prediction
        loss = torch.mean((out - target) ** 2)
        return loss + sum(torch.mean((h - target) ** 2) for h in local) / len(local) if local else loss
    return torch.mean((prediction - target) ** 2)


def regression_loss(call, x, y, local: bool) -> torch.Tensor:
    """Function regression: ``call(x)`` ``(n, d_out)`` against ``y``."""
    return mse_with_local(call(x, with_local=local), y)


def operator_loss(call, source, u, coords, local: bool) -> torch.Tensor:
    """Operator learning: ``call(source, coords)`` (DeepONet ``(n_f, n_y)``, SepONet on a grid) against ``u``."""
    return mse_with_local(call(source, coords, with_local=local), u)


def _batches(data: tuple, batch_size: int | None, generator: torch.Generator):
    """An endless stream of batches: the same rows of every tensor in ``data``, reshuffled each epoch."""
    n = len(data[0])
    if any(len(d) != n for d in data):
        raise InputError(f"the tensors in data must have one row a sample; got lengths {[len(d) for d in data]}")
    size = n if batch_size is None else min(batch_size, n)
    while True:
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - size + 1, size):
            yield tuple(d[order[start:start + size]] for d in data)


def train_direct(model: nn.Module, loss_fn: Callable, data: tuple, *, shared: tuple = (), method: str = "bp",
                 steps: int = 2000, tangents: int = 1, momentum: float = DEFAULT_MOMENTUM,
                 lr: float = 1e-3, final_lr: float = 1e-5, batch_size: int | None = None, local_loss: bool = False,
                 seed: int = 0, log_every: int = 50, progress: bool = True) -> DirectResult:
    """Train ``model`` (a ``SpikingMLP`` or spiking operator; ``layer_groups()`` gives the blocks
    of RFG-L) in place for ``steps`` Adam steps (RFG: on the mean of ``tangents`` estimates) on
    batches of ``batch_size`` rows of the tensors in ``data`` (None: all), followed by the
    ``shared`` arguments (the same every batch, e.g. the trunk's points); learning rate cosine
    from ``lr`` to ``final_lr``, Adam's first-moment decay ``momentum`` (beta1, in [0, 1))."""
    if method not in METHODS:
        raise InputError(f"unknown training method {method!r}; choose one of: {', '.join(METHODS)}")
    if steps < 1 or lr <= 0:
        raise InputError(f"steps must be >= 1 and lr > 0; got {steps}, {lr}")
    if not 0 <= momentum < 1:
        raise InputError(f"momentum is Adam's beta1 and must be in [0, 1); got {momentum}")
    if local_loss and not _has_heads(model):
        raise InputError("the layer-local loss needs local heads: build the spiking MLPs with local_heads=True")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    names = [n for n, _ in model.named_parameters()]
    params = dict(model.named_parameters())
    optimizer = torch.optim.Adam(params.values(), lr=lr, betas=(momentum, 0.999))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda k: (final_lr + (lr - final_lr) * 0.5 * (1 + math.cos(math.pi * k / steps))) / lr)
    groups = model.layer_groups() if method == "rfg-l" else None
    result = DirectResult(method, local_loss, steps, tangents if method != "bp" else 0, momentum)
    batches = _batches(data, batch_size, generator)
    start, cpu_start = time.perf_counter(), time.process_time()
    for step in tqdm(range(steps), desc=f"{method}{'-ll' if local_loss else ''}", disable=not progress, leave=False):
        batch = (*next(batches), *shared)
        if method == "bp":
            optimizer.zero_grad()
            loss = loss_fn(lambda *a, **k: model(*a, **k), *batch, local_loss)
            loss.backward()
            value = float(loss)
            result.forward_passes += 1
            result.backward_passes += 1
        else:
            def objective(p):
                return loss_fn(lambda *a, **k: functional_call(model, p, a, k), *batch, local_loss)
            estimate, value, passes = forward_gradient(objective, {n: params[n] for n in names}, groups=groups,
                                                       tangents=tangents, generator=generator)
            for n in names:
                params[n].grad = estimate[n]
            result.jvp_passes += passes
        if not math.isfinite(value):
            raise InputError(f"training diverged at step {step} (loss {value}); lower the learning rate")
        optimizer.step()
        schedule.step()
        if step % log_every == 0 or step == steps - 1:
            result.losses.append(value)
    result.wall_seconds = time.perf_counter() - start
    result.cpu_seconds = time.process_time() - cpu_start
    return result


def _has_heads(model: nn.Module) -> bool:
    return any(name.startswith("heads.") or ".heads." in name for name, _ in model.named_parameters())
