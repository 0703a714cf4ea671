"""Checkpoint -> calibrated spiking network, with everything recorded in its metadata."""
from __future__ import annotations

import hashlib
import time

import numpy as np

from loihi_pinn.evaluation import predict_model
from loihi_pinn.problems import Problem, get_problem
from loihi_pinn.training import Checkpoint, load_checkpoint
from loihi_pinn.training.checkpoint import WEIGHTS

from .calibrate import calibrate
from .convert import convert
from .metrics import conversion_report
from .network import SpikingNetwork


def calibration_points(problem: Problem, n: int, seed: int) -> np.ndarray:
    """``n`` points uniform in the problem's box, ``(n, d_in)``, physical units."""
    rng = np.random.default_rng(seed)
    lo, hi = np.array(problem.lower), np.array(problem.upper)
    return lo + (hi - lo) * rng.random((n, problem.d_in))


def convert_checkpoint(checkpoint, neuron: str, timesteps: int, calibration: str = "advanced", *,
                       objective: str = "output", percentile: float = 99.9, pieces: int = 8,
                       delta_fraction: float = 1e-3,
                       n_calibration: int = 2048, iterations: int = 300, seed: int = 0,
                       progress: bool = True) -> tuple[SpikingNetwork, dict]:
    """Convert and calibrate a checkpoint (folder, shipped name or ``Checkpoint``); returns the
    network (metadata: source, hash, settings, measured errors) and its report on the grid."""
    ckpt = checkpoint if isinstance(checkpoint, Checkpoint) else load_checkpoint(checkpoint)
    problem = get_problem(ckpt.problem)
    points = calibration_points(problem, n_calibration, seed)
    source = ckpt.path.name if ckpt.path.parent.name == "checkpoints" else str(ckpt.path)
    meta = {"problem": problem.name, "source_checkpoint": source,
            "source_sha256": hashlib.sha256((ckpt.path / WEIGHTS).read_bytes()).hexdigest(),
            "calibration_points": n_calibration, "calibration_iterations": iterations, "seed": seed}
    net = convert(ckpt.model, neuron, timesteps, points, percentile=percentile, pieces=pieces,
                  delta_fraction=delta_fraction, metadata=meta)
    start = time.perf_counter()
    calibrate(net, ckpt.model, points, calibration, objective=objective, iterations=iterations, seed=seed,
              progress=progress)
    net.metadata["calibration_seconds"] = time.perf_counter() - start
    report = conversion_report(net, problem, lambda x: predict_model(ckpt.model, x))
    net.metadata["errors"] = {k: v for k, v in report.items() if k != "outputs"}
    return net, report
