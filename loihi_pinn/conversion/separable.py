"""A separable PINN to spiking axis networks: each axis network converts and calibrates as any
PINN does (``convert_checkpoint``), the product over axes is not a spiking operation.

The product runs on the host after the chip: from the axis features F_a ``(n_a, d_out, rank)``
it forms u_k = sum_j prod_a F_a[k, j] (``models.separable.combine``). ``combine_macs`` counts it.
On the evaluation grid n_1 x ... x n_d, the spiking networks run n_1 + ... + n_d inferences, one
per coordinate of an axis, instead of n_1 * ... * n_d.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

from loihi_pinn.evaluation import relative_l2
from loihi_pinn.io import replacing
from loihi_pinn.models import combine
from loihi_pinn.problems import problem_from_metadata
from loihi_pinn.training.separable import load_separable

from .emulator import emulate
from .network import SpikingNetwork
from .workflow import convert_checkpoint

FORMAT, MANIFEST = "loihi-pinn-spinn-snn", "spinn.json"


def grid_axes(problem) -> list[np.ndarray]:
    """The coordinates of the problem's evaluation grid, one array ``(n_a,)`` per input
    (``problem.evaluation_points()`` is their tensor grid, first axis slowest)."""
    return [np.linspace(lo, hi, n) for lo, hi, n in zip(problem.lower, problem.upper, problem.grid_shape)]


def combine_features(features: list[np.ndarray], d_out: int, rank: int) -> np.ndarray:
    """Axis features ``[(n_a, d_out * rank)]`` -> outputs on their tensor grid ``(n_1 * ... * n_d, d_out)``, float64."""
    parts = [torch.as_tensor(f, dtype=torch.float64).view(-1, d_out, rank) for f in features]
    return combine(parts).reshape(-1, d_out).numpy()


def combine_macs(shape, d_out: int, rank: int) -> int:
    """Host multiply-accumulates of ``combine`` on a grid of ``shape``, contracted axis by axis:
    the outer products over axes 1..d-1, then the sum over j along the last axis."""
    partial = sum(math.prod(shape[:a + 1]) for a in range(1, len(shape) - 1))
    return (partial + math.prod(shape)) * d_out * rank


def activity_totals(stats) -> dict:
    """Totals over several axis runs (``Activity``s): inferences, time steps, messages (input
    included), hidden messages, synaptic ops, and seed 000's spike rate over all of them."""
    hidden = sum(sum(s.messages) for s in stats)
    outputs = sum(sum(s.neurons) * s.timesteps * s.points for s in stats)
    return {"inferences": sum(s.points for s in stats), "time_steps": sum(s.steps * s.points for s in stats),
            "messages": hidden + sum(s.input_messages for s in stats), "hidden_messages": hidden,
            "synops": sum(s.synops for s in stats), "spike_rate": hidden / max(1, outputs)}


def separable_report(nets: list[SpikingNetwork], model, problem) -> dict:
    """Errors and cost of the spiking axis networks ``nets`` on the problem's evaluation grid:
    SNN (and the SPINN ``model``) against the reference, the SNN against the SPINN, activity
    totals and the host's multiply-accumulates for the product; ``outputs`` and ``ann_outputs``
    hold the SNN's and the SPINN's values on the grid ``(N, d_out)``."""
    coords = grid_axes(problem)
    runs = [emulate(net, c) for net, c in zip(nets, coords)]
    snn = combine_features([r[0] for r in runs], model.d_out, model.rank)
    with torch.no_grad():
        ann = model.grid([torch.as_tensor(c, dtype=torch.float32) for c in coords]).reshape(-1, model.d_out)
    ann = ann.double().numpy()
    report = {"points": len(snn), "grid_shape": list(problem.grid_shape), "rel_l2_vs_ann": relative_l2(snn, ann)}
    if problem.has_reference:
        reference = problem.reference(problem.evaluation_points())
        report.update(rel_l2=relative_l2(snn, reference), ann_rel_l2=relative_l2(ann, reference))
        if problem.d_out > 1:
            report["rel_l2_per_output"] = {n: relative_l2(snn[:, i], reference[:, i])
                                           for i, n in enumerate(problem.output_names)}
    report.update(activity_totals([r[1] for r in runs]),
                  host_macs=combine_macs(problem.grid_shape, model.d_out, model.rank))
    report["outputs"], report["ann_outputs"] = snn, ann
    return report


def _summary(report: dict) -> dict:
    """A ``separable_report`` without its arrays (JSON-ready)."""
    return {k: v for k, v in report.items() if not k.endswith("outputs")}


def convert_separable(checkpoint, neuron: str, timesteps: int, calibration: str = "advanced", *,
                      progress: bool = True, **options) -> tuple[list[SpikingNetwork], dict]:
    """Convert every axis network of a SPINN checkpoint (folder or shipped name) with
    ``convert_checkpoint`` (same ``options``); returns the axis networks and ``separable_report``."""
    model, meta, folder = load_separable(checkpoint)
    problem = problem_from_metadata(meta, model.lower.tolist(), model.upper.tolist(), model.d_out)
    nets = []
    for name in meta["axes"]:
        net, _ = convert_checkpoint(str(folder / name), neuron, timesteps, calibration, progress=progress, **options)
        nets.append(net)
    report = separable_report(nets, model, problem)
    summary = _summary(report)
    for net in nets:
        spinn = str(Path(net.metadata["source_checkpoint"]).parent)
        net.metadata["separable"] = {"spinn": spinn, "rank": model.rank, "d_out": model.d_out,
                                     "errors_of_the_product": summary}
    return nets, report


def save_separable_snn(folder, nets: list[SpikingNetwork], meta: dict, report: dict) -> Path:
    """Write the axis networks as ``axis_<input>.snn`` and ``spinn.json`` into ``folder``, all at once."""
    folder = Path(folder)
    names = [f"axis_{n}.snn" for n in meta["input_names"]]
    card = {"format": FORMAT, **{k: meta[k] for k in ("problem", "input_names", "output_names", "rank", "d_out")},
            "axes": names, "combine": meta["combine"], "errors": _summary(report)}
    if "problem_spec" in meta:
        card["problem_spec"] = meta["problem_spec"]
    with replacing(folder) as tmp:
        tmp.mkdir()
        for name, net in zip(names, nets):
            net.save(tmp / name)
        (tmp / MANIFEST).write_text(json.dumps(card, indent=2) + "\n")
    return folder


__all__ = ["activity_totals", "combine_features", "combine_macs", "convert_separable", "grid_axes",
           "save_separable_snn", "separable_report"]
