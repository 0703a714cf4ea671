"""Training defaults per problem: network size and budget, kept apart from the PDE.

The shipped benchmarks use seed 000's network sizes (parameter counts as in its Table 1) and the
budgets that reached its errors on a CPU; any other problem gets ``TrainingDefaults()``.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingDefaults:
    """A ``hidden_layers x width`` tanh MLP trained ``adam_steps`` Adam steps at learning rate
    ``lr`` then ``lbfgs_steps`` L-BFGS iterations, in ``dtype``."""

    hidden_layers: int = 3
    width: int = 64
    adam_steps: int = 5000
    lbfgs_steps: int = 0
    lr: float = 1e-3
    dtype: str = "float32"


SHIPPED_DEFAULTS = {
    "sin": TrainingDefaults(2, 40, adam_steps=10000, lbfgs_steps=5000, lr=2e-3, dtype="float64"),
    "poisson": TrainingDefaults(3, 100, adam_steps=10000, lbfgs_steps=6000),
    "diffusion_reaction": TrainingDefaults(3, 100, adam_steps=6000, lbfgs_steps=1500),
    "wave": TrainingDefaults(3, 100, adam_steps=6000, lbfgs_steps=1500),
    "burgers": TrainingDefaults(6, 40, adam_steps=10000, lbfgs_steps=10000),
    "beltrami": TrainingDefaults(4, 128, adam_steps=6000, lbfgs_steps=3000),
}


def training_defaults(problem) -> TrainingDefaults:
    """The defaults for a ``Problem``: its shipped entry by spec, else ``TrainingDefaults()``."""
    return SHIPPED_DEFAULTS.get(problem.spec or "", TrainingDefaults())
