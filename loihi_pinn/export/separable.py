"""Spiking axis networks of a separable PINN -> one netx file per axis and a card saying how
to combine them.

    OUT/axis_x.net   OUT/axis_t.net   ...   each an ordinary export (``export_converted``)
    OUT/spinn.json   problem, names, rank, the files (and their SHA-256), the combination rule,
                     errors and cost of the product on the evaluation grid

The combination u_k = sum_j prod_a f_a[k * rank + j] runs on the host after the chip (no Loihi 2
construct multiplies two graded spikes); ``runtime.separable.SeparableRunner`` runs it.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from loihi_pinn.conversion.separable import MANIFEST, activity_totals, combine_features, combine_macs, grid_axes
from loihi_pinn.errors import InputError
from loihi_pinn.evaluation import relative_l2
from loihi_pinn.io import replacing
from loihi_pinn.problems import problem_from_metadata

from .netx import read_netx
from .workflow import export_converted

FORMAT, VERSION = "loihi-pinn-spinn-netx", 1


def read_card(path) -> tuple[dict, Path]:
    """The ``spinn.json`` card of a separable export or conversion (its folder or the file) and the folder."""
    path = Path(path)
    folder = path.parent if path.name == MANIFEST else path
    try:
        card = json.loads((folder / MANIFEST).read_text())
        card["axes"], card["rank"], card["d_out"]
    except FileNotFoundError:
        raise InputError(f"{folder} has no {MANIFEST}: give the folder of a separable export (or conversion)") from None
    except (KeyError, TypeError, json.JSONDecodeError) as err:
        raise InputError(f"{folder / MANIFEST} is malformed ({err}); export the separable network again") from None
    return card, folder


def export_separable(converted, out, *, weight_max: int = 15, **options) -> tuple[Path, dict]:
    """Export every axis ``.snn`` of a separable conversion folder (``conversion.separable.
    save_separable_snn``) with ``export_converted`` (same ``options``) into folder ``out``, and
    measure the product of the fixed-point axis networks on the problem's evaluation grid."""
    card, folder = read_card(converted)
    out = Path(out)
    names = [Path(name).with_suffix(".net").name for name in card["axes"]]
    with replacing(out) as tmp:
        tmp.mkdir()
        for snn, net in zip(card["axes"], names):
            export_converted(str(folder / snn), tmp / net, weight_max=weight_max, **options)
        qnets = [read_netx(tmp / name) for name in names]
        problem = separable_problem(card, qnets)
        report = measure_product(qnets, problem, card["rank"], "rel_l2_fixed_point")
        if problem.has_reference:
            report = {"rel_l2_float_snn": card["errors"]["rel_l2"], **report}
        spinn = {"format": FORMAT, "version": VERSION,
                 **{k: card[k] for k in ("problem", "input_names", "output_names", "rank", "d_out", "combine")},
                 "axes": names, "sha256": {n: hashlib.sha256((tmp / n).read_bytes()).hexdigest() for n in names},
                 "where_the_product_runs": "host, after the chip: outputs of the axis networks multiplied and "
                                           "summed (host_macs on the evaluation grid)",
                 "float_snn": {k: v for k, v in card["errors"].items() if k != "outputs"}, "loihi_errors": report}
        if "problem_spec" in card:
            spinn["problem_spec"] = card["problem_spec"]
        (tmp / MANIFEST).write_text(json.dumps(spinn, indent=2) + "\n")
    return out, report


def separable_problem(card: dict, qnets: list):
    """The problem of a separable card, on the box of its axis networks ``qnets``."""
    return problem_from_metadata(card, [q.lower[0] for q in qnets], [q.upper[0] for q in qnets], card["d_out"])


def measure_product(qnets: list, problem, rank: int, name: str) -> dict:
    """The fixed-point axis networks ``qnets`` and their product on the problem's evaluation grid:
    cost (inferences, steps, messages, synaptic ops, host MACs) and, where the problem has a
    reference, the product's rel L2 against it as ``name`` (and per output)."""
    runs = [q.run_integers(q.encode(c)) for q, c in zip(qnets, grid_axes(problem))]
    fixed = combine_features([q.decode(raw) for q, (raw, _) in zip(qnets, runs)], problem.d_out, rank)
    report = {"points": len(fixed), "grid_shape": list(problem.grid_shape),
              **{k: v for k, v in activity_totals([stats for _, stats in runs]).items() if k != "spike_rate"},
              "host_macs": combine_macs(problem.grid_shape, problem.d_out, rank),
              "steps_per_inference": max(q.steps for q in qnets)}
    if problem.has_reference:
        reference = problem.reference(problem.evaluation_points())
        report[name] = relative_l2(fixed, reference)
        if problem.d_out > 1:
            report[f"{name}_per_output"] = {n: relative_l2(fixed[:, i], reference[:, i])
                                            for i, n in enumerate(problem.output_names)}
    return report


def verified_axes(card: dict, folder: Path) -> list[Path]:
    """The axis files of a separable export, each checked against the SHA-256 in its card."""
    paths = []
    for name in card["axes"]:
        path = folder / name
        if not path.is_file():
            raise InputError(f"{folder / MANIFEST} names {name}, which is missing; export the separable network again")
        recorded = card.get("sha256", {}).get(name)
        if recorded is None or hashlib.sha256(path.read_bytes()).hexdigest() != recorded:
            raise InputError(f"{path} is not the file {folder / MANIFEST} was written with (SHA-256 differs); "
                             f"export the separable network again")
        paths.append(path)
    return paths

