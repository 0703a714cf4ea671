"""Checkpoint -> calibrated spiking network, with everything recorded in its metadata."""
from __future__ import annotations

import time

import numpy as np

from loihi_pinn.evaluation import predict_model
from loihi_pinn.problems import problem_metadata
from loihi_pinn.training import Checkpoint, load_checkpoint
from loihi_pinn.training.checkpoint import SHIPPED_DIR, weights_sha256

from .calibrate import calibrate
from .convert import convert
from .metrics import conversion_report
from .network import SpikingNetwork


def calibration_points(box, n: int, seed: int) -> np.ndarray:
    """``n`` points uniform in the box ``box.lower`` .. ``box.upper`` (a Problem, a PINN or a
    SpikingNetwork), ``(n, d_in)`` float64, physical units. numpy's generator seeded by ``seed``
    (not the training samplers' torch stream): every recorded conversion and export was made
    with these points, so they stay reproducible."""
    rng = np.random.default_rng(seed)
    lo, hi = np.asarray(box.lower, dtype=np.float64), np.asarray(box.upper, dtype=np.float64)
    return lo + (hi - lo) * rng.random((n, len(lo)))


def convert_checkpoint(checkpoint, neuron: str, timesteps: int, calibration: str = "advanced", *,
                       objective: str = "output", percentile: float = 99.9, pieces: int = 8,
                       delta_fraction: float = 1e-3,
                       n_calibration: int = 2048, iterations: int = 300, seed: int = 0,
                       progress: bool = True) -> tuple[SpikingNetwork, dict]:
    """Convert and calibrate a checkpoint (folder, shipped name or ``Checkpoint``) of any problem:
    calibration points come from its problem's box (the box stored in the checkpoint when
    the problem cannot be imported here). Returns the network (metadata: problem
    name, spec and input/output names, source, hash, settings, measured errors) and its
    ``conversion_report`` on the problem's evaluation grid."""
    ckpt = checkpoint if isinstance(checkpoint, Checkpoint) else load_checkpoint(checkpoint)
    problem = ckpt.find_problem()
    points = calibration_points(problem, n_calibration, seed)
    shipped = ckpt.path.resolve().is_relative_to(SHIPPED_DIR)          # recorded by name: no machine's path
    source = str(ckpt.path.resolve().relative_to(SHIPPED_DIR)) if shipped else str(ckpt.path)
    meta = {**problem_metadata(problem), "source_checkpoint": source,
            "source_sha256": weights_sha256(ckpt.path),
            "calibration_points": n_calibration, "calibration_iterations": iterations, "seed": seed}
    if "student" in ckpt.metadata:             # a distilled student: its teacher and distillation errors travel on
        meta["student"] = {k: v for k, v in ckpt.metadata["student"].items() if k != "config"}
    net = convert(ckpt.model, neuron, timesteps, points, percentile=percentile, pieces=pieces,
                  delta_fraction=delta_fraction, metadata=meta)
    start = time.perf_counter()
    calibrate(net, ckpt.model, points, calibration, objective=objective, iterations=iterations, seed=seed,
              progress=progress)
    net.metadata["calibration_seconds"] = time.perf_counter() - start
    report = conversion_report(net, problem, lambda x: predict_model(ckpt.model, x))
    net.metadata["errors"] = {k: v for k, v in report.items() if k != "outputs"}
    return net, report
