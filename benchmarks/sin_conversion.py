"""Seed 000, Figures 3-4: conversion error of sin-regression networks against T, for depths
L in {2, 3, 4} and widths N in {20, ..., 100}, signed IF with advanced calibration; and the
right-hand side of Theorem 1 (H = I) against the actual output error for width 100.

    .venv/bin/python benchmarks/sin_conversion.py            # ~20 min on one core
    .venv/bin/python benchmarks/sin_conversion.py --theorem1-only   # redo the Theorem 1 columns

Trains the 15 networks (cached in runs/bench/sin/), writes results/sin_conversion.json,
figures/sin_error_vs_T.png, figures/sin_theorem1.png and the sin-conversion section of RESULTS.md.
"""
from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import FIGURES_DIR, load_json, machine, save_json, write_section  # noqa: E402
from tqdm import tqdm  # noqa: E402

from loihi_pinn.conversion import calibrate, calibration_points, convert, emulate, theorem1_terms  # noqa: E402
from loihi_pinn.evaluation import predict_model, relative_l2  # noqa: E402
from loihi_pinn.models import build_mlp  # noqa: E402
from loihi_pinn.problems import get_problem  # noqa: E402
from loihi_pinn.training import TrainConfig, fit, load_checkpoint  # noqa: E402

DEPTHS, WIDTHS = (2, 3, 4), (20, 40, 60, 80, 100)
TIMESTEPS = (4, 8, 16, 32, 64, 128, 256)
CACHE = Path("runs/bench/sin")


def trained(depth: int, width: int):
    folder = CACHE / f"L{depth}_N{width}"
    if not (folder / "checkpoint.json").exists():
        torch.manual_seed(0)
        fit(get_problem("sin"), TrainConfig(adam_steps=3000, lbfgs_steps=1000, lr=2e-3), folder,
            net=build_mlp([1] + [width] * depth + [1]), progress=False,
            command=f"benchmarks/sin_conversion.py (L={depth}, N={width})")
    return load_checkpoint(folder)


def theorem1_only() -> None:
    """Recompute the Theorem 1 terms of the width-100 rows from the cached networks, calibrated
    with the paper's layer-wise objective (H = I), which is what the theorem bounds."""
    problem = get_problem("sin")
    cal = calibration_points(problem, 512, seed=0)
    grid = problem.evaluation_points()
    data = load_json("sin_conversion")
    for row in tqdm([r for r in data["rows"] if r["N"] == 100], desc="Theorem 1"):
        ckpt = trained(row["L"], 100)
        net = calibrate(convert(ckpt.model, "signed_if", row["T"], cal), ckpt.model, cal, "advanced",
                        objective="layer", iterations=60, progress=False)
        row.update({f"theorem1_{k}": v for k, v in theorem1_terms(net, ckpt.model, grid).items()})
    save_json("sin_conversion", data)
    plot(data["rows"])
    write_section("sin-conversion", table(data["rows"]))


def main() -> None:
    problem = get_problem("sin")
    cal = calibration_points(problem, 512, seed=0)
    grid = problem.evaluation_points()
    rows = []
    jobs = [(d, w) for d in DEPTHS for w in WIDTHS]
    for depth, width in tqdm(jobs, desc="sin networks"):
        ckpt = trained(depth, width)
        ann = predict_model(ckpt.model, grid)
        for T in TIMESTEPS:
            net = calibrate(convert(ckpt.model, "signed_if", T, cal), ckpt.model, cal, "advanced",
                            iterations=60, progress=False)
            snn, stats = emulate(net, grid)
            row = {"L": depth, "N": width, "T": T, "rel_l2_vs_ann": relative_l2(snn, ann),
                   "ann_rel_l2": relative_l2(ann, problem.reference(grid)), "spike_rate": stats.spike_rate}
            rows.append(row)
    save_json("sin_conversion", {"machine": machine(), "rows": rows})
    theorem1_only()


def plot(rows) -> None:
    fig, axs = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True)
    for ax, depth in zip(axs, DEPTHS):
        for width in WIDTHS:
            pts = [(r["T"], r["rel_l2_vs_ann"]) for r in rows if r["L"] == depth and r["N"] == width]
            ax.loglog(*zip(*pts), "o-", ms=3, label=f"N = {width}")
        t = np.array(TIMESTEPS, dtype=float)
        ax.loglog(t, 0.5 / t, "k:", label="1/T guide")
        ax.set(title=f"L = {depth}", xlabel="time steps T")
    axs[0].set_ylabel("rel L2, SNN vs ANN")
    axs[-1].legend(fontsize=8)
    fig.suptitle("sin regression: signed IF + advanced calibration (seed 000, Fig. 3)")
    fig.tight_layout()
    fig.savefig(FIGURES_DIR / "sin_error_vs_T.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for depth, color in zip(DEPTHS, ("C0", "C1", "C2")):
        pts = [r for r in rows if r["L"] == depth and r["N"] == 100]
        ax.loglog([r["T"] for r in pts], [r["theorem1_rhs"] for r in pts], "o-", color=color,
                  label=f"L = {depth}: RHS (H = I)")
        ax.loglog([r["T"] for r in pts], [r["theorem1_output"] for r in pts], "s--", color=color,
                  label=f"L = {depth}: |e^(n)|^2")
    ax.set(xlabel="time steps T", ylabel="mean squared error per point",
           title="Theorem 1 (seed 000, Fig. 4), width 100, layer-wise calibration")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(FIGURES_DIR / "sin_theorem1.png", dpi=110)
    plt.close(fig)


def table(rows) -> str:
    head = "| L | N | " + " | ".join(f"T={T}" for T in TIMESTEPS) + " |"
    lines = [head, "|---|---|" + "---:|" * len(TIMESTEPS)]
    for depth in DEPTHS:
        for width in WIDTHS:
            errs = {r["T"]: r["rel_l2_vs_ann"] for r in rows if r["L"] == depth and r["N"] == width}
            lines.append(f"| {depth} | {width} | " + " | ".join(f"{errs[T]:.1e}" for T in TIMESTEPS) + " |")
    return ("Relative L2 of the SNN against its ANN on 1001 grid points (signed IF, advanced "
            "calibration, 512 calibration points, 60 iterations per layer).\n\n" + "\n".join(lines)
            + f"\n\nMeasured {machine()}.\n\n![](figures/sin_error_vs_T.png)\n\n"
            "Theorem 1: the computed right-hand side with H = I, sum_l 2^(n-l+1) |e_c^(l)|^2 with "
            "e_c = tanh(z) - s (eq. 2: activation and spiking layer on the same input z = W s + b), "
            "against the actual squared output error, for networks calibrated with the paper's "
            "layer-wise objective (`--objective layer`). The bound holds everywhere (RHS >> error), "
            "but unlike the paper's Figure 4 our RHS does not fall with T: a signed-IF neuron's rate "
            "is ClipFloor(z), so e_c keeps the T-independent gap tanh(z) - clip(z) (0.24 at |z| = 1) "
            "that calibration compensates through the next layer's weights, not inside the layer. The "
            "actual error falls roughly like 1/T.\n\n![](figures/sin_theorem1.png)")


if __name__ == "__main__":
    torch.set_num_threads(1)              # a throughput job: one core per process
    theorem1_only() if "--theorem1-only" in sys.argv[1:] else main()
