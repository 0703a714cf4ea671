"""Directly trained SNNs (seed 002) -> netx files: a spiking MLP as one file; a spiking DeepONet
or SepONet as one file per sub-network and a card saying how to combine them.

    OUT/branch.net  OUT/trunk.net  (SepONet: OUT/trunk_0.net, OUT/trunk_1.net, ...)
    OUT/operator.json   kind, the files and their SHA-256, the DeepONet bias, the host step

Each file is an ordinary export: Loihi fixed point of the registered neuron that runs the
network's dynamics (reset by subtraction: ``signed_if``, Lava simulator; hard reset: ``if_hard``,
stock CUBA), quantized and calibrated on the given inputs. The branch-trunk product (and the
DeepONet bias) runs on the host after the chip; ``runtime.operator_nets.OperatorRunner`` runs it
and counts its multiply-accumulates.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from loihi_pinn.conversion import emulate
from loihi_pinn.conversion.direct_snn import spiking_network
from loihi_pinn.errors import InputError
from loihi_pinn.evaluation import relative_l2
from loihi_pinn.io import replacing
from loihi_pinn.loihi import best_weight_max, calibrate_fixed_point, quantize
from loihi_pinn.models.operator_nets import SpikingDeepONet
from loihi_pinn.models.spiking_mlp import SpikingMLP

from .netx import write_netx

FORMAT, VERSION, CARD = "loihi-pinn-operator-netx", 1, "operator.json"
HOST_STEP = {"deeponet": "u[f, y] = sum_i branch[f, i] * trunk[y, i] + bias, on the host after the chip",
             "seponet": "u[f, y_1, .., y_d] = sum_i branch[f, i] * prod_a trunk_a[y_a, i], on the host after the chip"}


def export_spiking_mlp(mlp: SpikingMLP, out, points, *, metadata: dict | None = None,
                       headroom: float = 2.0) -> tuple[Path, dict]:
    """Quantize ``mlp`` on ``points`` ``(n, d_in)`` (physical inputs, which also set the scales)
    at the best of its neuron model's weight caps (``loihi.best_weight_max``), calibrate its
    readout on the fixed-point emulator against the float SNN, and write ``out``.
    The report (also in the model card): rel L2 of the fixed point against the float SNN on the
    points, steps per inference, peak state."""
    points = np.asarray(points, dtype=np.float64)
    snn = spiking_network(mlp, metadata)
    weight_max, trials = best_weight_max(snn, points, headroom=headroom)
    qnet = quantize(snn, points, headroom=headroom, weight_max=weight_max)
    calibrate_fixed_point(qnet, snn, points)
    fixed, stats = qnet.run(points)
    report = {"rel_l2_fixed_point_vs_float_snn": relative_l2(fixed, emulate(snn, points)[0]), "points": len(points),
              "steps_per_point": stats.steps, "peak_state": stats.peak_state, "weight_max": weight_max,
              "weight_max_trials_rel_l2_vs_float_snn": {str(w): e for w, e in trials.items()}}
    qnet.metadata.update({"loihi_errors": report})
    return write_netx(qnet, out), report


def export_operator(model, out, inputs: dict, *, metadata: dict | None = None) -> tuple[Path, dict]:
    """Export every sub-network of a ``SpikingDeepONet`` or ``SpikingSepONet`` into folder ``out``
    with the card ``operator.json``. ``inputs``: calibration inputs per sub-network name
    (``model.nets``: "branch", "trunk" or "trunk_0", ...), physical, ``(n, d_in)`` each."""
    kind = "deeponet" if isinstance(model, SpikingDeepONet) else "seponet"
    missing = sorted(set(model.nets) - set(inputs))
    if missing:
        raise InputError(f"no calibration inputs for {', '.join(missing)}; give one array per sub-network")
    out = Path(out)
    with replacing(out) as tmp:
        tmp.mkdir()
        reports = {name: export_spiking_mlp(net, tmp / f"{name}.net", inputs[name],
                                            metadata={"operator_part": name, **(metadata or {})})[1]
                   for name, net in model.nets.items()}
        files = {name: f"{name}.net" for name in model.nets}
        card = {"format": FORMAT, "version": VERSION, "kind": kind, "files": files,
                "sha256": {n: hashlib.sha256((tmp / f).read_bytes()).hexdigest() for n, f in files.items()},
                "bias": float(model.bias) if kind == "deeponet" else 0.0, "host_step": HOST_STEP[kind],
                "rank": model.branch.sizes[-1], "exports": reports, **(metadata or {})}
        (tmp / CARD).write_text(json.dumps(card, indent=2) + "\n")
    return out, card
