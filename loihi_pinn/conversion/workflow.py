"""Checkpoint or a user's saved network -> calibrated spiking network, with everything recorded in its metadata."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np

from loihi_pinn.errors import InputError
from loihi_pinn.evaluation import predict_model
from loihi_pinn.models.imported import import_network
from loihi_pinn.problems import box_problem, get_problem, parse_domain, problem_metadata
from loihi_pinn.problems.base import warn_outside
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
                       n_calibration: int = 2048, seed: int = 0, points=None, **settings) -> tuple[SpikingNetwork, dict]:
    """Convert and calibrate a checkpoint (folder, shipped name or ``Checkpoint``) of any problem:
    calibration points come from its problem's box (the box stored in the checkpoint when
    the problem cannot be imported here), or are ``points`` ``(n, d_in)``. Returns the network
    (metadata: problem name, spec and input/output names, source, hash, settings, measured
    errors) and its ``conversion_report`` on the problem's evaluation grid. ``settings``: those of
    ``convert_pinn``."""
    ckpt = checkpoint if isinstance(checkpoint, Checkpoint) else load_checkpoint(checkpoint)
    shipped = ckpt.path.resolve().is_relative_to(SHIPPED_DIR)          # recorded by name: no machine's path
    source = str(ckpt.path.resolve().relative_to(SHIPPED_DIR)) if shipped else str(ckpt.path)
    meta = {"source_checkpoint": source, "source_sha256": weights_sha256(ckpt.path)}
    if "student" in ckpt.metadata:             # a distilled student: its teacher and distillation errors travel on
        meta["student"] = {k: v for k, v in ckpt.metadata["student"].items() if k != "config"}
    return convert_pinn(ckpt.model, ckpt.find_problem(), neuron, timesteps, calibration, meta,
                        n_calibration=n_calibration, seed=seed, points=points, **settings)


def convert_model_file(path, neuron: str, timesteps: int, calibration: str = "advanced", *, domain: str | None = None,
                       problem: str | None = None, raw_inputs: bool = True, activation: str | None = None,
                       n_calibration: int = 2048, seed: int = 0, points=None,
                       **settings) -> tuple[SpikingNetwork, dict]:
    """Convert and calibrate a user's saved network (``models.imported``: TorchScript, a whole
    module, a state dict, a DeepXDE checkpoint) on its box: ``domain`` (``problems.DOMAIN_FORM``)
    or the box of ``problem`` (a spec, which brings names and any reference). ``raw_inputs``: the
    network takes physical coordinates (default), else [-1, 1]^d. The ``.snn`` records the file,
    its SHA-256 and how it was read, so later stages can compare against it."""
    if domain is not None and problem is not None:
        raise InputError("give the input box once: --domain lo:hi,... or --problem module:attribute, not both")
    if domain is None and problem is None:
        raise InputError("a saved network needs its input box: give --domain lo:hi,... (one per input) or "
                         "--problem module:attribute")
    path = Path(path)
    if problem is not None:
        prob = get_problem(problem)
        lower, upper = prob.lower, prob.upper
    else:
        _, lower, upper = parse_domain(domain)
    model, info = import_network(path, lower, upper, raw_inputs=raw_inputs, activation=activation)
    if problem is None:
        prob = box_problem(path.stem, domain, model.architecture["layer_sizes"][-1])
    elif prob.d_out != model.architecture["layer_sizes"][-1]:
        raise InputError(f"{path} gives {model.architecture['layer_sizes'][-1]} outputs, problem {problem!r} has "
                         f"{prob.d_out} ({', '.join(prob.output_names)})")
    meta = {"source_model": str(path), "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "source_import": {k: v for k, v in info.items() if k != "max_deviation_from_file"}}
    if problem is None:
        meta["box_only"] = True
    return convert_pinn(model, prob, neuron, timesteps, calibration, meta, n_calibration=n_calibration,
                        seed=seed, points=points, **settings)


def convert_pinn(model, problem, neuron: str, timesteps: int, calibration: str, source: dict, *,
                 objective: str = "output", percentile: float = 99.9, pieces: int = 8,
                 delta_fraction: float | None = None,
                 n_calibration: int = 2048, iterations: int = 300, seed: int = 0, points=None,
                 progress: bool = True) -> tuple[SpikingNetwork, dict]:
    """Convert the ``PINN`` ``model`` of ``problem`` and calibrate it on ``points`` ``(n, d_in)``
    (physical units; default ``n_calibration`` points uniform in the box, seeded by ``seed``);
    ``source`` entries (where the model came from) go into the metadata."""
    if points is None:
        points = calibration_points(problem, n_calibration, seed)
    else:
        points = problem.check_points(points)
        warn_outside(points, problem.lower, problem.upper, "the network")
    meta = {**problem_metadata(problem), **source,
            "calibration_points": len(points), "calibration_iterations": iterations, "seed": seed}
    net = convert(model, neuron, timesteps, points, percentile=percentile, pieces=pieces,
                  delta_fraction=delta_fraction, metadata=meta)
    start = time.perf_counter()
    calibrate(net, model, points, calibration, objective=objective, iterations=iterations, seed=seed,
              progress=progress)
    net.metadata["calibration_seconds"] = time.perf_counter() - start
    report = conversion_report(net, problem, lambda x: predict_model(model, x))
    net.metadata["errors"] = {k: v for k, v in report.items() if k != "outputs"}
    return net, report
