"""A PDE problem: domain, conditions (each a residual that vanishes on the solution), an
optional reference solution and a fixed evaluation grid.

Points are always physical coordinates of shape ``(n, d_in)`` in the order of
``Problem.input_names``; solutions have shape ``(n, d_out)`` in the order of ``output_names``.
Network size and training budget are not part of a problem: see ``loihi_pinn.training.defaults``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from loihi_pinn.errors import InputError

Field = Callable[[torch.Tensor], torch.Tensor]
"""A differentiable map from points ``(n, d_in)`` to values ``(n, d_out)`` (a model or a reference)."""

GRID_POINTS = 10_000
"""Evaluation grid size of a problem that gives no ``grid_shape``: about this many points, as many per input."""


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
class GridCondition:
    """A loss term for separable networks, on a tensor grid: ``weight * mean(residual(field)**2)``.

    ``sample(generator)`` draws one 1-D tensor of coordinates per input (a face or slice is an
    axis of one or two fixed values); ``residual(field)`` takes a ``models.separable.GridField``
    (``field.d(x=1)``: a partial derivative on the grid, ``(n_1, ..., n_d, d_out)``;
    ``field.points()``: the grid's points ``(N, d_in)``) and returns values that are zero for
    the exact solution. ``max_order``: the highest derivative along any axis it asks for.
    """

    name: str
    sample: Callable[[torch.Generator], list[torch.Tensor]]
    residual: Callable[[object], torch.Tensor]
    weight: float = 1.0
    max_order: int = 2


@dataclass(frozen=True)
class Problem:
    """A PDE on a box: what training needs (``conditions``) and what the later stages need
    (the box and the input and output names).

    ``lower``/``upper`` bound the box domain (physical units); ``reference(x)``, if given, maps
    ``(n, d_in)`` float64 points to the ``(n, d_out)`` reference solution; ``grid_shape`` gives
    the points per input of the fixed evaluation grid (default: about ``GRID_POINTS`` in all).
    ``spec`` is how ``get_problem`` found it (a shipped name or ``"module:attribute"``) and is
    recorded in checkpoints, so later stages can find the reference again. ``grid_conditions``,
    if given, are the same loss on tensor grids, for separable PINNs (``--model spinn``).
    """

    name: str
    equation: str
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    conditions: tuple[Condition, ...] = ()
    reference: Callable[[np.ndarray], np.ndarray] | None = None
    reference_method: str = ""
    grid_shape: tuple[int, ...] | None = None
    notes: str = ""
    spec: str | None = None
    grid_conditions: tuple[GridCondition, ...] = ()

    def __post_init__(self):
        d = len(self.input_names)
        if not (d and len(self.lower) == len(self.upper) == d and self.output_names):
            raise InputError(f"problem {self.name!r}: give one lower and one upper bound per input "
                             f"({d} input names, {len(self.lower)} lower, {len(self.upper)} upper) "
                             f"and at least one output name")
        if not all(lo < hi for lo, hi in zip(self.lower, self.upper)):
            raise InputError(f"problem {self.name!r}: every lower bound must be below its upper bound; "
                             f"got lower {tuple(self.lower)}, upper {tuple(self.upper)}")
        if self.grid_shape is None:
            object.__setattr__(self, "grid_shape", (round(GRID_POINTS ** (1 / d)) + 1,) * d)

    @property
    def d_in(self) -> int:
        return len(self.input_names)

    @property
    def d_out(self) -> int:
        return len(self.output_names)

    @property
    def has_reference(self) -> bool:
        return self.reference is not None

    def evaluation_points(self) -> np.ndarray:
        """The fixed evaluation grid, shape ``(prod(grid_shape), d_in)``, float64, physical units."""
        axes = [np.linspace(lo, hi, n) for lo, hi, n in zip(self.lower, self.upper, self.grid_shape)]
        mesh = np.meshgrid(*axes, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)

    def check_points(self, points) -> np.ndarray:
        """Validate user points: a finite array of shape ``(n, d_in)``; returns float64."""
        return as_points(points, self.d_in, f"points for '{self.name}'", self.input_names)

    def describe(self) -> str:
        """A multi-line human summary: equation, domain, outputs, reference."""
        box = " x ".join(f"{n} in [{lo:g}, {hi:g}]" for n, lo, hi in
                         zip(self.input_names, self.lower, self.upper))
        lines = [f"{self.name}: {self.equation}",
                 f"  domain: {box}",
                 f"  outputs: {', '.join(self.output_names)}",
                 f"  reference: {self.reference_method or ('given' if self.has_reference else 'none')}"]
        if self.notes:
            lines.append(f"  notes: {self.notes}")
        return "\n".join(lines)


def as_points(points, d_in: int, what: str = "points", names=None) -> np.ndarray:
    """``points`` as a finite float64 array ``(n, d_in)`` (a 1-D array is taken as n points when
    d_in = 1); otherwise an ``InputError`` naming the expected shape."""
    try:
        x = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be numbers, an array of shape (n, {d_in}); got {type(points).__name__} "
                         f"{str(points)[:40]!r}") from None
    if x.ndim == 1 and d_in == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != d_in:
        columns = f" with columns {', '.join(names)}" if names else ""
        raise InputError(f"{what} must have shape (n, {d_in}){columns}; got shape {x.shape}")
    if len(x) == 0:
        raise InputError(f"{what}: no points given (shape {x.shape}); pass at least one point")
    if not np.all(np.isfinite(x)):
        bad = int(np.count_nonzero(~np.isfinite(x).all(axis=1)))
        raise InputError(f"{bad} of {len(x)} points contain NaN or infinity; pass finite coordinates")
    return x


class OutsideDomain(UserWarning):
    """Points outside the box a network was trained and calibrated on: its answers there are
    extrapolation."""


def warn_outside(points: np.ndarray, lower, upper, what: str = "the network") -> float:
    """Warn (``OutsideDomain``) with the fraction of ``points`` ``(n, d_in)`` outside the box
    ``lower`` .. ``upper``, up to 1e-6 of the box size and the float32 rounding of the bounds (a
    PINN stores its box in float32); returns the fraction."""
    lo, hi = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    slack = 1e-6 * (hi - lo) + 4 * np.finfo(np.float32).eps * np.maximum(np.abs(lo), np.abs(hi))
    outside = float(np.mean(np.any((points < lo - slack) | (points > hi + slack), axis=1))) if len(points) else 0.0
    if outside:
        box = " x ".join(f"[{a:g}, {b:g}]" for a, b in zip(lo, hi))
        warnings.warn(f"{outside:.1%} of the points lie outside the domain of {what}, {box}; its answers there "
                      f"are extrapolation", OutsideDomain, stacklevel=3)
    return outside


def uniform(lower, upper, dtype: torch.dtype = torch.float64) -> Callable[[int, torch.Generator], torch.Tensor]:
    """Sampler of n uniform points ``(n, d_in)`` of ``dtype`` in the box ``[lower, upper]`` (one
    bound per input, physical units): the one uniform sampler of the package."""
    lo = torch.as_tensor(lower, dtype=dtype)
    hi = torch.as_tensor(upper, dtype=dtype)

    def sample(n: int, gen: torch.Generator) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, len(lo), generator=gen, dtype=dtype)

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


def grid_axes(lower, upper, sizes,
              dtype: torch.dtype = torch.float64) -> Callable[[torch.Generator], list[torch.Tensor]]:
    """Sampler of a random tensor grid: ``sizes[a]`` uniform coordinates in ``[lower_a, upper_a]``
    per axis (an axis with lower = upper is that one value), each a 1-D tensor of ``dtype``."""

    def sample(gen: torch.Generator) -> list[torch.Tensor]:
        return [lo + (hi - lo) * torch.rand(1 if lo == hi else n, generator=gen, dtype=dtype)
                for lo, hi, n in zip(lower, upper, sizes)]

    return sample


def gradient(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """d y / d x for a scalar-per-point ``y`` of shape ``(n,)`` or ``(n, 1)``; returns ``(n, d_in)``."""
    return torch.autograd.grad(y, x, torch.ones_like(y), create_graph=True)[0]


REFERENCE_CHUNK = 4096
"""Points per evaluation of a reference: series solutions hold (terms, points) arrays, so the
memory stays bounded (~70 MB for Poisson's 500 terms) however many points are asked for."""


def numpy_reference(fn: Field) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap a torch-written exact solution as a float64 numpy reference, evaluated in chunks of
    ``REFERENCE_CHUNK`` points."""

    def reference(x: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(np.asarray(x, dtype=np.float64))
        with torch.no_grad():
            return torch.cat([fn(x[i:i + REFERENCE_CHUNK]) for i in range(0, max(len(x), 1), REFERENCE_CHUNK)]).numpy()

    return reference
