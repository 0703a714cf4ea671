"""PDE problems: the six benchmarks of seed 000 by name, or your own by ``"module:attribute"``.
To write one: ``Problem``, ``Condition``, the samplers ``uniform`` and ``box_faces``, ``gradient``
and ``numpy_reference`` (README, "Your own PDE").

    get_problem("poisson")            # a shipped benchmark, built fresh per call
    get_problem("my_pde:heat")        # your own: a Problem, or a function of no arguments returning one,
                                      # in an importable module (the CLI adds the current directory)

Files record the problem (``problem_metadata``); later stages rebuild it from a file with
``problem_from_metadata``, which falls back to the box and names in the file when the problem
cannot be found: conversion, export and running need nothing else.
"""
from __future__ import annotations

import importlib
from dataclasses import replace


from loihi_pinn.errors import InputError

from . import beltrami, burgers, diffusion_reaction, poisson, sin, wave
from .base import GRID_POINTS, Condition, GridCondition, Problem, box_faces, gradient, grid_axes, numpy_reference, uniform
from .domain import DOMAIN_FORM, box_problem, parse_domain

_BUILDERS = {name: module.build for name, module in {
    "sin": sin, "poisson": poisson, "diffusion_reaction": diffusion_reaction,
    "wave": wave, "burgers": burgers, "beltrami": beltrami}.items()}

PROBLEM_NAMES = tuple(_BUILDERS)
SPEC_FORM = "'module:attribute' (a Problem, or a function of no arguments returning one)"


def get_problem(name: str) -> Problem:
    """A new instance of a shipped problem (``PROBLEM_NAMES``) or of a user's ``"module:attribute"``;
    its ``spec`` is ``name``."""
    if name in _BUILDERS:
        return replace(_BUILDERS[name](), spec=name)
    if ":" in name:
        return _from_spec(name)
    raise InputError(f"unknown problem {name!r}; choose one of: {', '.join(PROBLEM_NAMES)}, "
                     f"or give your own as {SPEC_FORM}")


def import_attribute(spec: str, what: str = "problem", form: str = SPEC_FORM):
    """The object named by ``"module:attribute"`` (module importable from the current directory or
    ``PYTHONPATH``); ``what`` and ``form`` word the errors."""
    module_name, _, attribute = spec.partition(":")
    try:
        target = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name is None or not module_name.startswith(err.name):
            raise                                  # the module itself imports something missing
        raise InputError(f"{what} {spec!r}: no module named {module_name!r}; run from the folder holding "
                         f"{module_name.replace('.', '/')}.py or add that folder to PYTHONPATH") from None
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise InputError(f"{what} {spec!r}: module {module_name!r} has no {attribute!r}; "
                             f"the spec form is {form}")
        target = getattr(target, part)
    return target


def _from_spec(spec: str) -> Problem:
    target = import_attribute(spec)
    problem = target() if callable(target) and not isinstance(target, Problem) else target
    if not isinstance(problem, Problem):
        raise InputError(f"problem {spec!r} gives a {type(problem).__name__}, not a loihi_pinn Problem; "
                         f"the spec form is {SPEC_FORM}")
    return replace(problem, spec=spec)


def problem_metadata(problem: Problem) -> dict:
    """What files record about ``problem``: name, spec (if not just the name), input and output names."""
    meta = {"problem": problem.name, "input_names": list(problem.input_names),
            "output_names": list(problem.output_names)}
    if problem.spec and problem.spec != problem.name:
        meta["problem_spec"] = problem.spec
    return meta


def problem_from_metadata(metadata: dict, lower, upper, d_out: int) -> Problem:
    """The problem a file was made for, from the ``problem_metadata`` entries in ``metadata`` and
    the network's box ``lower``/``upper`` (physical units, one per input) and output count.

    The full problem (with its reference and grid) when its spec or name resolves; else a
    Problem of the network's box and the recorded names only (no conditions, no reference;
    ``reference_method`` says why). Files from before names were recorded name a shipped
    problem. An InputError if a resolved problem's inputs or outputs disagree with the file's."""
    name = metadata.get("problem", "unnamed")
    spec = metadata.get("problem_spec", name)
    try:
        if metadata.get("box_only"):
            raise InputError("the network came with a box only (--domain); pass --reference to compare")
        problem = get_problem(spec)
    except InputError as err:
        why = str(err) if ":" in spec or metadata.get("box_only") else \
            f"{spec!r} is no shipped problem and the file records no module:attribute"
        return Problem(name=name, equation="(problem not available here)", reference_method=f"none here: {why}",
                       input_names=tuple(metadata.get("input_names") or (f"x{i + 1}" for i in range(len(lower)))),
                       output_names=tuple(metadata.get("output_names") or
                                          (("u",) if d_out == 1 else (f"u{i + 1}" for i in range(d_out)))),
                       lower=tuple(map(float, lower)), upper=tuple(map(float, upper)), spec=spec)
    now = (list(problem.input_names), list(problem.output_names))
    names = (metadata.get("input_names", now[0]), metadata.get("output_names", now[1]))
    if (len(lower), d_out) != (problem.d_in, problem.d_out) or names != now:
        raise InputError(f"the network has {len(lower)} inputs {names[0]} and {d_out} outputs {names[1]}, but "
                         f"problem {spec!r} now has inputs {now[0]} and outputs {now[1]}: make the file again "
                         f"from the changed problem")
    return problem


__all__ = ["Condition", "DOMAIN_FORM", "GRID_POINTS", "GridCondition", "PROBLEM_NAMES", "Problem", "SPEC_FORM", "box_faces",
           "box_problem", "get_problem", "gradient", "grid_axes", "numpy_reference", "parse_domain",
           "problem_from_metadata", "problem_metadata", "uniform"]
