"""Errors of a predictor against a problem's reference solution (or, without one, its output ranges)."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from loihi_pinn.errors import InputError
from loihi_pinn.problems import Problem


def relative_l2(prediction: np.ndarray, reference: np.ndarray) -> float:
    """``||prediction - reference||_2 / ||reference||_2`` over all entries (seed 000's definition);
    both arrays must have the same shape (no broadcasting of ``(n, 1)`` against ``(n,)``)."""
    prediction, reference = np.asarray(prediction), np.asarray(reference)
    if prediction.shape != reference.shape:
        raise InputError(f"relative_l2 compares arrays of one shape; got {prediction.shape} and {reference.shape}")
    return float(np.linalg.norm(prediction - reference) / np.linalg.norm(reference))


def predict_model(model: torch.nn.Module, points: np.ndarray, batch: int = 65536) -> np.ndarray:
    """A torch model's outputs at float64 points ``(n, d_in)``, as float64 ``(n, d_out)``."""
    dtype = next(model.parameters()).dtype
    with torch.no_grad():
        outs = [model(torch.as_tensor(points[i:i + batch], dtype=dtype)) for i in range(0, len(points), batch)]
    return torch.cat(outs).double().numpy()


def output_ranges(values: np.ndarray, names) -> dict:
    """``{name: [min, max]}`` of each output column of ``values`` ``(n, d_out)``."""
    return {name: [float(values[:, i].min()), float(values[:, i].max())] for i, name in enumerate(names)}


def error_report(problem: Problem, predict: Callable[[np.ndarray], np.ndarray],
                 points: np.ndarray | None = None) -> dict:
    """rel L2 overall and per output, and max abs error, against the problem's reference on
    ``points`` (default: evaluation grid); without a reference, the range of each output instead
    (``output_ranges``). Always ``points``: how many."""
    points = problem.evaluation_points() if points is None else problem.check_points(points)
    pred = predict(points)
    if not problem.has_reference:
        return {"points": len(points), "output_ranges": output_ranges(pred, problem.output_names)}
    ref = problem.reference(points)
    report = {"rel_l2": relative_l2(pred, ref), "max_abs_error": float(np.abs(pred - ref).max()),
              "points": len(points)}
    if problem.d_out > 1:
        report["rel_l2_per_output"] = {name: relative_l2(pred[:, i], ref[:, i])
                                       for i, name in enumerate(problem.output_names)}
    return report
