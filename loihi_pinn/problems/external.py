"""A reference given at the command line (``--reference``) for a network whose file has none:
a function ``module:function`` of points, or a data file of points and values."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from loihi_pinn.errors import InputError

from .base import Problem, as_points

DATA = "data from"                 # reference_method of a data-file reference
REFERENCE_FORM = ("'module:function' (points (n, d_in) -> values (n, d_out), numpy or torch) or a data file "
                  "(.npy, .csv or text) with one row a point: its d_in coordinates, then its d_out values")


def read_table(path, what: str) -> np.ndarray:
    """A 2-D float array from ``.npy`` or a text file (comma separated for ``.csv``, else whitespace)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no {what} at {path}")
    try:
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False)
        return np.loadtxt(path, delimiter="," if path.suffix == ".csv" else None, ndmin=2)
    except ValueError as err:
        raise InputError(f"cannot read {what} from {path}: {err}") from None


def _call(fn, spec: str, d_out: int):
    def reference(x: np.ndarray) -> np.ndarray:
        for arg in (x, torch.as_tensor(x)):        # numpy first, then a float64 tensor (torch-written solutions)
            try:
                values = fn(arg)
                break
            except Exception as err:               # noqa: BLE001 - the user's function may raise anything
                failure = err
        else:
            raise InputError(f"--reference {spec} failed on points of shape {x.shape} "
                             f"({type(failure).__name__}: {failure}); it must map (n, d_in) points to values")
        values = values.detach().numpy() if isinstance(values, torch.Tensor) else values
        values = np.asarray(values, dtype=np.float64)
        values = values[:, None] if values.ndim == 1 else values
        if values.shape != (len(x), d_out):
            raise InputError(f"--reference {spec} returned shape {values.shape} for {len(x)} points; expected "
                             f"({len(x)}, {d_out})")
        return values

    return reference


def is_data_reference(problem: Problem) -> bool:
    """Whether the problem's reference is a data file's (values at its own points only)."""
    return problem.reference_method.startswith(DATA)


def with_reference(problem: Problem, spec: str) -> tuple[Problem, np.ndarray | None]:
    """``problem`` with the reference ``spec`` (``REFERENCE_FORM``) and, for a data file, its points
    ``(n, d_in)`` (the only points it knows values at)."""
    from . import import_attribute

    if Path(spec).is_file() or ":" not in spec:
        table = read_table(spec, "reference data")
        d_in, d_out = problem.d_in, problem.d_out
        if table.ndim != 2 or table.shape[1] != d_in + d_out:
            raise InputError(f"reference data {spec} has shape {table.shape}; give one row a point: "
                             f"{d_in} coordinates ({', '.join(problem.input_names)}) then {d_out} values "
                             f"({', '.join(problem.output_names)})")
        points = as_points(table[:, :d_in], d_in, f"points in {spec}")
        values = as_points(table[:, d_in:], d_out, f"values in {spec}")

        def reference(x: np.ndarray) -> np.ndarray:
            if x.shape != points.shape or not np.array_equal(x, points):
                raise InputError(f"reference data {spec} gives values at its own points only")
            return values

        return replace(problem, reference=reference, reference_method=f"{DATA} {spec}"), points
    fn = import_attribute(spec, "reference", REFERENCE_FORM)
    if not callable(fn):
        raise InputError(f"reference {spec!r} is a {type(fn).__name__}, not a function; give {REFERENCE_FORM}")
    return replace(problem, reference=_call(fn, spec, problem.d_out), reference_method=f"--reference {spec}"), None
