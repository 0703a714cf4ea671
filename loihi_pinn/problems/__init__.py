"""The benchmark problems of seed 000, built fresh per call: ``get_problem("poisson")``."""
from loihi_pinn.errors import InputError

from . import beltrami, burgers, diffusion_reaction, poisson, sin, wave
from .base import Condition, Problem

_BUILDERS = {name: module.build for name, module in {
    "sin": sin, "poisson": poisson, "diffusion_reaction": diffusion_reaction,
    "wave": wave, "burgers": burgers, "beltrami": beltrami}.items()}

PROBLEM_NAMES = tuple(_BUILDERS)


def get_problem(name: str) -> Problem:
    """A new instance of the named problem; names: see ``PROBLEM_NAMES``."""
    try:
        return _BUILDERS[name]()
    except KeyError:
        raise InputError(f"unknown problem {name!r}; choose one of: {', '.join(PROBLEM_NAMES)}") from None


__all__ = ["Condition", "Problem", "PROBLEM_NAMES", "get_problem"]
