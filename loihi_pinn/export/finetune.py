"""A netx export, or a separable export's folder, -> fine-tuned through its integer pass
(``loihi.finetune``), re-measured, written."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from loihi_pinn.conversion.separable import MANIFEST, grid_axes
from loihi_pinn.errors import InputError
from loihi_pinn.evaluation import predict_model, relative_l2
from loihi_pinn.io import replacing
from loihi_pinn.loihi.finetune import FinetuneConfig, finetune
from loihi_pinn.loihi.finetune_separable import SeparablePass
from loihi_pinn.problems import problem_from_metadata

from .netx import read_netx, write_netx
from .separable import FORMAT as SEPARABLE_FORMAT
from .separable import measure_product, read_card, separable_problem, verified_axes
from .workflow import record_activity

TARGETS = ("pinn", "reference")


def finetune_target(card: dict, problem, against: str):
    """What to fine-tune towards: ``"pinn"``, the tanh PINN behind the export (a student's teacher,
    else the converted checkpoint; for an axis network of a separable export, the separable PINN),
    or ``"reference"``, the problem's reference solution. Returns a function of physical points
    ``(n, d_in)`` -> ``(n, d_out)``."""
    if against not in TARGETS:
        raise InputError(f"unknown fine-tuning target {against!r}; choose one of {', '.join(TARGETS)}")
    if against == "reference":
        if not problem.has_reference:
            raise InputError(f"problem {problem.name!r} has no reference solution; fine-tune against the PINN "
                             f"(--against pinn)")
        return problem.reference
    from loihi_pinn.training.checkpoint import load_checkpoint
    from loihi_pinn.training.separable import load_separable

    separable = "separable" in card
    name = (card["separable"].get("spinn") if separable else
            card.get("student", {}).get("teacher", {}).get("checkpoint") or card.get("source_checkpoint"))
    try:
        if separable:
            pinn, meta, _ = load_separable(name)
            teacher = meta.get("student", {}).get("teacher", {}).get("checkpoint")
            pinn = load_separable(teacher)[0] if teacher else pinn
        else:
            pinn = load_checkpoint(name).model
    except (InputError, TypeError, OSError):
        raise InputError(f"the PINN behind this export ({name or 'not recorded in its model card'}) cannot be "
                         f"loaded; fine-tune against the reference (--against reference)") from None
    if separable:
        return lambda points: predict_model(pinn, points)
    if pinn.architecture["layer_sizes"][-1] != problem.d_out:
        raise InputError(f"the PINN {name!r} has {pinn.architecture['layer_sizes'][-1]} outputs, the export "
                         f"{problem.d_out}")
    return lambda points: predict_model(pinn, points)


def finetune_export(path, out, config: FinetuneConfig, *, against: str = "pinn",
                    progress: bool = True) -> tuple[Path, dict]:
    """Fine-tune the sigma-delta export at ``path`` towards ``against`` (``finetune_target``) and
    write it to ``out``. The grid errors (against the reference, else against the target), the
    cost per point and the stream section are measured again; the card gains a ``finetune``
    section (configuration, held-out errors, passes, wall time, the source file and its SHA-256)
    and ``loihi_errors.rel_l2_fixed_point_finetuned``. Returns the path and that section."""
    path = Path(path)
    qnet = read_netx(path)
    problem = problem_from_metadata(qnet.metadata, qnet.lower, qnet.upper, qnet.d_out)
    target = finetune_target(qnet.metadata, problem, against)
    grid = problem.evaluation_points()
    truth = problem.reference(grid) if problem.has_reference else target(grid)
    messages = qnet.encode(grid)
    before = relative_l2(qnet.decode(qnet.run_integers(messages)[0]), truth)
    qnet, report = finetune(qnet, target, config, progress=progress)
    raw, stats = qnet.run_integers(messages)
    after = relative_l2(qnet.decode(raw), truth)
    suffix = "" if problem.has_reference else f"_vs_{against}"
    errors = dict(qnet.metadata.get("loihi_errors", {}))
    errors.pop(f"rel_l2_fixed_point_finetuned{suffix}", None)     # a second fine-tuning records its own
    errors[f"rel_l2_fixed_point_finetuned{suffix}"] = after
    record_activity(qnet, problem, messages, raw, stats, truth, errors)
    report.update({"against": against, "grid_rel_l2_before": before, "grid_rel_l2_after": after,
                   "grid_error_against": "reference" if problem.has_reference else against,
                   "from": path.name, "from_sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
    qnet.metadata.update({"loihi_errors": errors, "finetune": report})
    return write_netx(qnet, out), report


def finetune_separable_export(path, out, config: FinetuneConfig, *, against: str = "pinn",
                              progress: bool = True) -> tuple[Path, dict]:
    """Fine-tune the separable export in folder ``path`` (``export.separable``) as one network,
    its product included (``loihi.finetune_separable``), towards ``against`` and write it to
    folder ``out``: the axis files (each card gains a ``finetune`` section; its own
    ``loihi_errors`` and ``stream`` sections stay those of the file it came from) and a
    ``spinn.json`` with their SHA-256, the product's cost and ``rel_l2_fixed_point_finetuned``
    measured again, and the ``finetune`` report. Returns the folder and that report."""
    card, folder = read_card(path)
    if card.get("format") != SEPARABLE_FORMAT:
        raise InputError(f"{folder} holds a separable conversion, not an export; run "
                         f"loihi_pinn.export.separable.export_separable on it first")
    qnets = [read_netx(p) for p in verified_axes(card, folder)]
    problem = separable_problem(card, qnets)
    target = finetune_target(qnets[0].metadata, problem, against)
    tuned = SeparablePass(qnets, card["d_out"], card["rank"])
    grid = [q.encode(c) for q, c in zip(qnets, grid_axes(problem))]
    truth = problem.reference(problem.evaluation_points()) if problem.has_reference else \
        target(problem.evaluation_points())
    before = relative_l2(tuned.decode(tuned.forward(grid)), truth)
    _, report = finetune(tuned, target, config, progress=progress)
    after = relative_l2(tuned.decode(tuned.forward(grid)), truth)
    sources = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in card["axes"]}
    report.update({"against": against, "grid_rel_l2_before": before, "grid_rel_l2_after": after,
                   "grid_error_against": "reference" if problem.has_reference else against,
                   "from": folder.name, "from_sha256": sources})
    measured = measure_product(qnets, problem, card["rank"], "rel_l2_fixed_point_finetuned")
    out = Path(out)
    with replacing(out) as tmp:
        tmp.mkdir()
        for name, qnet in zip(card["axes"], qnets):
            qnet.metadata["finetune"] = {"jointly_with": card["axes"], "from": name, "from_sha256": sources[name],
                                         "report": f"{MANIFEST} (finetune): the product's errors before and after"}
            write_netx(qnet, tmp / name)
        spinn = {**card, "sha256": {n: hashlib.sha256((tmp / n).read_bytes()).hexdigest() for n in card["axes"]},
                 "loihi_errors": {**card["loihi_errors"], **measured}, "finetune": report}
        (tmp / MANIFEST).write_text(json.dumps(spinn, indent=2) + "\n")
    return out, report
