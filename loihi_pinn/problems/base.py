"""A PDE benchmark problem: domain, conditions (each a residual that vanishes on the solution),
a reference solution and a fixed evaluation grid.

Points are always physical coordinates of shape ``(n, d_in)`` in the order of
``Problem.input_names``; solutions have shape ``(n, d_out)`` in the order of ``output_names``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from loihi_pinn.errors import InputError

Field = Callable[[torch.Tensor], torch.Tensor]
"""A differentiable map from points ``(n, d_in)`` to values ``(n, d_out)`` (a model or a reference)."""


@dataclass(frozen=True)
class Condition:
    """One term of the physics-informed loss: ``weight * mean(residual(u, x)**2)`` on sampled x.

    ``sample(n, generator)`` draws ``(n, d_in)`` points where the condition holds;
    ``residual(u, x)`` returns ``(n, k)`` values that are zero for the exact solution.
    """

    name: str
    sample: Callable[[int, torch.Generator], torch.Tensor]
    residual: Callable[[Field, torch.Tensor], torch.Tensor]
    n_points: int
    weight: float = 1.0


@dataclass(frozen=True)
class Problem:
    """A benchmark problem of seed 000 with the paper's network size.

    ``lower``/``upper`` bound the box domain (physical units); ``reference(x)`` maps
    ``(n, d_in)`` float64 points to the ``(n, d_out)`` reference solution; ``grid_shape``
    gives the points per input of the fixed evaluation grid.
    """

    name: str
    equation: str
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    conditions: tuple[Condition, ...]
    reference: Callable[[np.ndarray], np.ndarray]
    reference_method: str
    grid_shape: tuple[int, ...]
    hidden_layers: int
    width: int
    notes: str = ""
    train_defaults: dict = field(default_factory=dict)

    @property
    def d_in(self) -> int:
        return len(self.input_names)

    @property
    def d_out(self) -> int:
        return len(self.output_names)

    def evaluation_points(self) -> np.ndarray:
        """The fixed evaluation grid, shape ``(prod(grid_shape), d_in)``, float64, physical units."""
        axes = [np.linspace(lo, hi, n) for lo, hi, n in zip(self.lower, self.upper, self.grid_shape)]
        mesh = np.meshgrid(*axes, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)

    def check_points(self, points) -> np.ndarray:
        """Validate user points: a finite array of shape ``(n, d_in)``; returns float64."""
        return as_points(points, self.d_in, f"points for '{self.name}'", self.input_names)

    def describe(self) -> str:
        """A multi-line human summary: equation, domain, network, reference."""
        box = " x ".join(f"{n} in [{lo:g}, {hi:g}]" for n, lo, hi in
                         zip(self.input_names, self.lower, self.upper))
        lines = [f"{self.name}: {self.equation}",
                 f"  domain: {box}",
                 f"  outputs: {', '.join(self.output_names)}",
                 f"  network: {self.hidden_layers} x {self.width} tanh",
                 f"  reference: {self.reference_method}"]
        if self.notes:
            lines.append(f"  notes: {self.notes}")
        return "\n".join(lines)


def as_points(points, d_in: int, what: str = "points", names=None) -> np.ndarray:
    """``points`` as a finite float64 array ``(n, d_in)`` (a 1-D array is taken as n points when
    d_in = 1); otherwise an ``InputError`` naming the expected shape."""
    x = np.asarray(points, dtype=np.float64)
    if x.ndim == 1 and d_in == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != d_in:
        columns = f" with columns {', '.join(names)}" if names else ""
        raise InputError(f"{what} must have shape (n, {d_in}){columns}; got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        bad = int(np.count_nonzero(~np.isfinite(x).all(axis=1)))
        raise InputError(f"{bad} of {len(x)} points contain NaN or infinity; pass finite coordinates")
    return x


def uniform(lower, upper) -> Callable[[int, torch.Generator], torch.Tensor]:
    """Sampler of n uniform points in the box ``[lower, upper]`` (one bound per input)."""
    lo = torch.tensor(lower, dtype=torch.float64)
    hi = torch.tensor(upper, dtype=torch.float64)

    def sample(n: int, gen: torch.Generator) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, len(lo), generator=gen, dtype=torch.float64)

    return sample


def box_faces(lower, upper, axes) -> Callable[[int, torch.Generator], torch.Tensor]:
    """Sampler of n uniform points on the faces ``x_a = lower_a`` and ``x_a = upper_a`` for a in axes."""
    inner = uniform(lower, upper)
    axes = tuple(axes)

    def sample(n: int, gen: torch.Generator) -> torch.Tensor:
        x = inner(n, gen)
        face = torch.randint(0, 2 * len(axes), (n,), generator=gen)
        for k, a in enumerate(axes):
            x[face == 2 * k, a] = lower[a]
            x[face == 2 * k + 1, a] = upper[a]
        return x

    return sample


def gradient(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """d y / d x for a scalar-per-point ``y`` of shape ``(n,)`` or ``(n, 1)``; returns ``(n, d_in)``."""
    return torch.autograd.grad(y, x, torch.ones_like(y), create_graph=True)[0]


def numpy_reference(fn: Field) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap a torch-written exact solution as a float64 numpy reference."""

    def reference(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return fn(torch.as_tensor(np.asarray(x, dtype=np.float64))).numpy()

    return reference
