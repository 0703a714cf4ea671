"""Training seed 001's operator network y -> u_y on solved samples, with the seed's loss: the
mean relative error in the discrete H^1_0 norm (``problems.parametric_diffusion.relative_error``).

The seed trains (p, 300 x 10, 10201) on 20,000 samples by batch gradient descent. On two shared
CPU cores we keep the network and shrink the data and the schedule (``SHRUNK``): Adam with a
cosine-decayed step on fewer samples. ``FULL`` is the seed's recipe, runnable where time allows.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from loihi_pinn.errors import InputError
from loihi_pinn.models import build_operator
from loihi_pinn.problems.parametric_diffusion import GRID, Parametrization, make_dataset, relative_error


@dataclass(frozen=True)
class OperatorRecipe:
    """Network size, data and schedule of one training run."""

    width: int = 300
    layers: int = 11
    train_samples: int = 20000
    test_samples: int = 1000
    epochs: int = 60
    batch: int = 128
    lr: float = 1e-3
    seed: int = 0


FULL = OperatorRecipe()
SHRUNK = OperatorRecipe(train_samples=4000, test_samples=500, epochs=100)


def parameter_box(param: Parametrization) -> tuple[list[float], list[float]]:
    """(lower, upper) of the parameter set ``(p,)`` each."""
    if param.kind == "cookies_variable":
        k = param.p // 2
        return [0.0] * k + [0.5] * k, [1.0] * k + [0.9] * k
    return [0.0] * param.p, [1.0] * param.p


def datasets(param: Parametrization, recipe: OperatorRecipe, progress: bool = True) -> tuple[dict, dict]:
    """(train, test) sample sets of independent seeds."""
    return (make_dataset(param, recipe.train_samples, recipe.seed, progress),
            make_dataset(param, recipe.test_samples, recipe.seed + 10_000, progress))


def test_error(model, data: dict, batch: int = 256) -> np.ndarray:
    """Per-sample relative H^1_0 errors ``(n,)`` of ``model`` on ``data``."""
    model.eval()
    out = []
    with torch.no_grad():
        for k in range(0, len(data["y"]), batch):
            y, u = torch.as_tensor(data["y"][k:k + batch]), torch.as_tensor(data["u"][k:k + batch])
            out.append(relative_error(model(y), u, GRID))
    return torch.cat(out).double().numpy()


def train_operator(param: Parametrization, train: dict, test: dict, recipe: OperatorRecipe,
                   progress: bool = True):
    """Train the LeakyReLU operator network; returns (model, record) with the loss history,
    the mean test error and the CPU time."""
    if train["u"].shape[1] != GRID * GRID or train["y"].shape[1] != param.p:
        raise InputError(f"the data do not fit {param.name}: y {train['y'].shape}, u {train['u'].shape}")
    from tqdm import tqdm

    torch.manual_seed(recipe.seed)
    lower, upper = parameter_box(param)
    model = build_operator(param.p, GRID * GRID, lower, upper, recipe.width, recipe.layers)
    y, u = torch.as_tensor(train["y"]), torch.as_tensor(train["u"])
    readout = model.net[-1]
    with torch.no_grad():                   # start from the mean field: the network learns the deviations
        readout.bias.copy_(u.mean(0))
        readout.weight.mul_(u.std(0).mean() / readout.weight.std() / readout.in_features ** 0.5)
    steps = recipe.epochs * -(-len(y) // recipe.batch)
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    history, start = [], time.process_time()
    for _ in tqdm(range(recipe.epochs), desc=f"training {param.name}", disable=not progress, unit="epoch"):
        model.train()
        order, total = torch.randperm(len(y)), 0.0
        for k in range(0, len(y), recipe.batch):
            idx = order[k:k + recipe.batch]
            loss = relative_error(model(y[idx]), u[idx], GRID).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        history.append(total / len(y))
    errors = test_error(model, test)
    record = {"parametrization": param.metadata(), "recipe": asdict(recipe), "train_loss": history,
              "test_error_mean": float(errors.mean()), "test_error_median": float(np.median(errors)),
              "cpu_seconds": time.process_time() - start}
    return model, record
