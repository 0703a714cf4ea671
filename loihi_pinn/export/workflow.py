"""Converted network -> quantized, calibrated, measured and written as a netx file."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from loihi_pinn.conversion import SpikingNetwork, calibration_points, emulate
from loihi_pinn.evaluation import relative_l2
from loihi_pinn.loihi import best_weight_max, calibrate_fixed_point, quantize
from loihi_pinn.loihi.stream import choose_reset, serpentine
from loihi_pinn.problems import problem_from_metadata

from .netx import write_netx


def export_converted(converted, out, *, n_calibration: int = 2048, seed: int = 0, headroom: float = 2.0,
                     weight_max: int | None = None, calibrate: bool = True) -> tuple[Path, dict]:
    """Quantize a converted network (``.snn`` path or ``SpikingNetwork``; sigma_delta, if_hard or
    signed_if) on points of its own box, calibrate it on the fixed-point emulator (bit-serial:
    check it equals its integer B-bit network instead), measure on its problem's evaluation grid
    and write ``out``. Errors: rel L2 of the float SNN and of the fixed point before and after
    calibration against the reference; without a reference, of the fixed point against the
    float SNN (keys ending ``_vs_float_snn``). Returns the path and the report, which also goes
    into the model card. ``weight_max``: the largest hidden file weight; None: the neuron model's
    choice (``loihi.best_weight_max`` on the calibration points; the card records the trials)."""
    snn = converted if isinstance(converted, SpikingNetwork) else SpikingNetwork.load(converted)
    problem = problem_from_metadata(snn.metadata, snn.lower, snn.upper, snn.d_out)
    points = calibration_points(problem, n_calibration, seed + 1)
    grid = problem.evaluation_points()
    float_snn = emulate(snn, grid)[0]
    target, suffix = (problem.reference(grid), "") if problem.has_reference else (float_snn, "_vs_float_snn")
    trials = {}
    if weight_max is None:
        weight_max, trials = best_weight_max(snn, points, headroom=headroom, calibrate=calibrate)
    qnet = quantize(snn, points, headroom=headroom, weight_max=weight_max)
    messages = qnet.encode(grid)
    raw, stats = qnet.run_integers(messages)
    report = {"rel_l2_float_snn": relative_l2(float_snn, target)} if problem.has_reference else {}
    report[f"rel_l2_fixed_point{suffix}"] = relative_l2(qnet.decode(raw), target)
    exact = snn.model.integer_reference(qnet.layers, messages)
    if exact is not None:                  # nothing to calibrate: the run must equal the model's integer network
        report["equals_integer_network"] = bool(np.array_equal(raw, exact))
    elif calibrate:
        calibrate_fixed_point(qnet, snn, points)
        raw, stats = qnet.run_integers(messages)
        report[f"rel_l2_fixed_point_calibrated{suffix}"] = relative_l2(qnet.decode(raw), target)
    record_activity(qnet, problem, messages, raw, stats, target, report)
    report["weight_max"] = weight_max
    if trials:
        report["weight_max_trials_rel_l2_vs_float_snn"] = {str(w): e for w, e in trials.items()}
    source = Path(converted).name if not isinstance(converted, SpikingNetwork) else "in memory"   # + its hash
    qnet.metadata.update({"converted_from": source, "loihi_errors": report})
    if not isinstance(converted, SpikingNetwork):
        qnet.metadata["converted_sha256"] = hashlib.sha256(Path(converted).read_bytes()).hexdigest()
    return write_netx(qnet, out), report


def record_activity(qnet, problem, messages: np.ndarray, raw: np.ndarray, stats, target: np.ndarray,
                    report: dict) -> None:
    """Add the grid run's cost per point to ``report`` and, for a delta-coded network, how to stream
    the grid (the card's ``stream`` section, chosen against the last ``rel_l2_fixed_point*`` error
    in ``report``). ``messages`` ``(n, d_in)``, ``raw`` (readout integers) and ``stats`` are the
    grid's run one point at a time, ``target`` ``(n, d_out)`` what its errors are measured against."""
    n = len(messages)
    report.update(points=n, steps_per_point=stats.steps,
                  messages_per_point=(sum(stats.messages) + stats.input_messages) / n,
                  synops_per_point=stats.synops / n, peak_state=stats.peak_state)
    if qnet.model.delta_coded:          # how to stream the grid, and what it saves and costs
        order = serpentine(problem.grid_shape)
        error = report[next(k for k in reversed(list(report)) if k.startswith("rel_l2_fixed_point"))]
        qnet.metadata["stream"] = choose_reset(qnet, messages[order], raw[order], target[order], error)
