"""Function regression u(x) = sin(x) on [-pi, pi] (seed 000, section 4.1): 2 x 40 tanh."""
import math

import torch

from .base import Condition, Problem, numpy_reference, uniform

LOWER, UPPER = (-math.pi,), (math.pi,)


def exact(x: torch.Tensor) -> torch.Tensor:
    """sin(x) for points ``(n, 1)``; returns ``(n, 1)``."""
    return torch.sin(x)


def build() -> Problem:
    data = Condition("data", uniform(LOWER, UPPER), lambda u, x: u(x) - exact(x), n_points=512)
    return Problem(
        name="sin", equation="u(x) = sin(x) (regression)",
        input_names=("x",), output_names=("u",), lower=LOWER, upper=UPPER,
        conditions=(data,), reference=numpy_reference(exact), reference_method="exact",
        grid_shape=(1001,),
    )
