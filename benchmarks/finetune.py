"""Fine-tuning the shipped sigma-delta exports through their integer pass (``loihi-pinn finetune``).

    .venv/bin/python benchmarks/loihi_export.py    # first: the converted networks in runs/bench/loihi/
    .venv/bin/python benchmarks/finetune.py [--report]   # resumable; writes results/finetune.json, RESULTS.md

Each shipped export as it was before fine-tuning (exported again from loihi_export.py's converted
network into runs/bench/finetune/) is fine-tuned by
back-propagation towards its tanh PINN; Poisson and diffusion-reaction also by randomized forward
gradients (activity perturbation; ``FORWARD``: more tangents, a smaller rate and more steps), and
Poisson by seed 002's weight perturbation (RFG-G); then each by back-propagation towards the reference
solution instead of the PINN. The separable exports (``SEPARABLE``, as shipped in netx_exports/) are
fine-tuned as one network, their axis networks together through the host's product. Rel L2 against
the reference on the evaluation grid before and after, the work done (integer passes, JVPs or
backward passes) and the wall time of each run.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from common import HERE, load_json, machine, save_json, write_section

from loihi_pinn.export import export_converted
from loihi_pinn.export.finetune import finetune_export, finetune_separable_export
from loihi_pinn.loihi.finetune import FinetuneConfig

ROOT = HERE.parent
CONVERTED = ROOT / "runs" / "bench" / "loihi"      # benchmarks/loihi_export.py's converted networks
OUT = ROOT / "runs" / "bench" / "finetune"
FILES = ("sin", "poisson", "diffusion_reaction", "wave", "burgers", "beltrami")
# forward gradients are noisier: more tangents, a smaller rate, twice the steps (at rfg's first settings, 2 tangents and
# lr 1e-3 for 400 steps, neither poisson nor diffusion_reaction changed an integer for the better)
FORWARD = {"tangents": 4, "lr": 3e-4, "steps": 800}
LONG = 2000                      # back-propagation's longer runs towards the reference: steps
SEPARABLE = ("burgers_spinn", "beltrami_spinn")   # the shipped separable exports, fine-tuned as they ship
RUNS = ([(name, "bp", "pinn", None) for name in FILES]
        + [(name, "rfg", "pinn", None) for name in ("poisson", "diffusion_reaction")]
        + [("poisson", "rfg-weights", "pinn", None)] + [(name, "bp", "reference", None) for name in FILES]
        + [("poisson", "rfg", "reference", None)] + [(name, "bp", "reference", LONG) for name in FILES]
        + [(name, "bp", against, LONG) for name in SEPARABLE for against in ("pinn", "reference")])


FINDINGS = """What the table says (issue 15 asks for 1.5x on every shipped export; issue 11 for the targets of its table):

- **Towards the PINN, back-propagation through the integer pass gains 1.05-1.2x**: it recovers part of what fixed
  point lost (burgers 3.46e-3 -> 2.89e-3, under issue 11's 3e-3; diffusion_reaction 1.46e-3 -> 1.26e-3), but not
  below the student's own distance from the PINN (diffusion_reaction's student: 1.13e-3). Wave moves towards its
  PINN, which is itself 2.26e-2 from the reference, so its grid error does not fall. The shipped students' exports
  are these fine-tuned files (benchmarks/loihi_export.py, section 5).
- **Towards the reference the ceiling is the network, not the PINN.** In 400 steps: wave 2.26e-2 -> 1.05e-2
  (2.2x), poisson 3.66e-3 -> 2.58e-3 (1.4x). In 2,000 steps (the same rate): wave 7.20e-3 (3.1x, a third of its
  PINN's error), poisson 2.28e-3 (1.6x, below its PINN's 2.41e-3), beltrami 3.77e-3 (1.5x), burgers 2.48e-3
  (1.4x), diffusion_reaction 1.18e-3 (1.24x), sin 4.03e-3 (1.17x). The reference is rarely at hand for a PINN
  user; it is the option to use when it is (measurements, a solver), and the default stays the PINN.
- **Forward gradients** need more of everything. At 2 tangents and lr 1e-3 for 400 steps neither rfg nor
  rfg-weights changed an integer for the better (the held-out check kept the start). With 4 tangents, lr 3e-4 and
  800 steps (12,800 forward-mode passes) activity perturbation learns: poisson towards the reference 3.66e-3 ->
  2.90e-3 (1.26x; bp 1.42x in 400 steps), diffusion_reaction towards its PINN 1.46e-3 -> 1.38e-3 (bp 1.26e-3).
  Towards its PINN poisson's held-out error falls (2.39e-3 -> 2.33e-3) while its grid error against the reference
  rises (3.70e-3). Seed 002's weight perturbation (one tangent over 20,601 integers) still changes nothing: its noise
  grows with the number of weights, activity perturbation's with a layer's neurons (100). The wall times were taken
  on a machine shared with other jobs; count passes instead: rfg makes one forward-mode pass per layer and tangent.
- The beltrami rows are the shipped 4 x 192 student's (the first run measured the 4 x 128 one).
- **Separable exports** (`loihi-pinn finetune netx_exports/NAME_spinn`: the axis networks together, the loss on
  the host's product over a 32 x 32 or 10 x 10 x 10 grid of fresh coordinates a step): in 2,000 steps burgers_spinn
  1.17e-2 -> 1.03e-2 towards its tanh SPINN and -> 8.64e-3 towards the reference (1.36x); beltrami_spinn 4.51e-3 ->
  3.81e-3 and -> 3.74e-3 (1.21x). The held-out errors fall further (burgers 1.10e-2 -> 7.57e-3, 1.45x) than the
  grid's: the held-out points are uniform, Burgers' grid error sits at the shock. 6,000 steps at the same rate
  (scratch) kept a network better on held-out points (1.08e-2) and worse on the grid (1.195e-2) than the start.
- Not met: 1.5x on every export. Towards the PINN the gains are bounded by what the students can represent at
  their size (section "loihi-cost": student sizes), since the students' exports start close to their float fit;
  towards the reference, 2,000 steps reach 1.5x or more on poisson, wave and beltrami and 1.17-1.4x on the others
  (the separable folders 1.21x and 1.36x).
  More steps do not close it: 5,000 steps (`loihi-pinn finetune runs/bench/finetune/NAME_start.net --against
  reference --steps 5000`) give sin 3.95e-3 (1.20x) and burgers 2.62e-3 (1.32x, worse than 2,000 steps), and sin at
  lr 3e-3 4.34e-3. They stop near their float network (diffusion_reaction 1.18e-3 against 1.13e-3, at most 1.29x
  there; burgers 2.48e-3 against 2.24e-3, 1.54x there), where poisson and wave go below theirs; sin's float SNN
  (2.58e-3, 1.84x) stays out of reach. Where fixed point is what loses the accuracy, the gain is larger: Burgers'
  6 x 40 student's export (7.71e-3 after calibration, against 2.88e-3 in float) reaches 3.51e-3 in 2,000 steps,
  2.2x (scratch). Nor does drawing the points where the error is: a step's 1,024 points drawn among 4,096 uniform
  candidates with probability proportional to the export's error there over its mean, plus one (the residual-based
  adaptive distribution of Wu et al., CMAME 2023, at k = c = 1; scratch, not kept) left burgers at 2.476e-3 on the
  grid after 2,000 steps towards the reference, where uniform points left it (held-out 2.42e-3 against 2.40e-3),
  for twice the integer passes: the error sits where the network cannot follow the reference, not where the points
  are too few."""


def start(name: str) -> Path:
    """The export before fine-tuning: the converted network that benchmarks/loihi_export.py shipped,
    exported again (quantized and calibrated, the same integers as the shipped file had)."""
    path = OUT / f"{name}_start.net"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        export_converted(CONVERTED / f"{name}.snn", path)
    return path


def config_of(method: str, steps: int | None) -> FinetuneConfig:
    """bp at ``loihi-pinn finetune``'s defaults (or ``steps``); the forward gradients at ``FORWARD``."""
    settings = {} if method == "bp" else dict(FORWARD)
    if steps:
        settings["steps"] = steps
    return FinetuneConfig(method=method, **settings)


def run(name: str, method: str, against: str, steps: int | None) -> dict:
    config = config_of(method, steps)
    out = OUT / f"{name}_{method}_{against}_{config.steps}"
    if name in SEPARABLE:       # a folder: the axis networks together, through their product
        _, report = finetune_separable_export(ROOT / "netx_exports" / name, out, config, against=against,
                                              progress=False)
    else:
        _, report = finetune_export(start(name), out.with_suffix(".net"), config, against=against, progress=False)
    return {"file": name, **report}


def table(rows: list[dict]) -> str:
    lines = ["| export | method | towards | steps | grid rel L2 before | after | gain | held-out rel L2 vs target: "
             "before, after | integers changed | integer passes | JVPs | backward passes | wall s |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['file']} | {r['method']} | {r['against']} | {r['steps']} | {r['grid_rel_l2_before']:.3e} | "
                     f"{r['grid_rel_l2_after']:.3e} | {r['grid_rel_l2_before'] / r['grid_rel_l2_after']:.2f}x | "
                     f"{r['target_rel_l2_before']:.2e}, {r['target_rel_l2_after']:.2e} | {r['integers_changed']} "
                     f"of {r['integers']} | {r['integer_passes']} | {r['jvps']} | {r['backward_passes']} | "
                     f"{r['wall_s']:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="only write the section from the runs measured so far")
    args = parser.parse_args(argv)
    data = load_json("finetune") or {"runs": []}
    done = {(r["file"], r["method"], r["against"], r["steps"]) for r in data["runs"]}
    for key in RUNS:
        if (*key[:3], config_of(key[1], key[3]).steps) not in done and not args.report:
            print(*key, "...", flush=True)
            data["runs"].append(run(*key))
            data.update(machine=machine(), date=time.strftime("%Y-%m-%d"))
            save_json("finetune", data)
    defaults = FinetuneConfig()
    text = ("## 11. Fine-tuning exports through their integer pass (issues 11 and 15)\n\n"
            f"Command: `.venv/bin/python benchmarks/finetune.py` ({data['machine']}). "
            f"{defaults.steps} steps of {defaults.points} fresh points, Adam at lr {defaults.lr:g} (a fraction of "
            f"each tensor's largest integer) with cosine decay for bp; {FORWARD['steps']} steps at lr {FORWARD['lr']:g} "
            f"with {FORWARD['tangents']} random tangents a step (and layer, rfg) for the forward gradients; "
            f"best of the held-out checks (4,096 points) kept; the {LONG}-step rows: bp for longer, the same rate. "
            f"Grid rel L2: against the reference on the evaluation grid.\n\n"
            + table(data["runs"]) + "\n\n" + FINDINGS)
    write_section("finetune", text)


if __name__ == "__main__":
    main(sys.argv[1:])
