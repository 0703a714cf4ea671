"""Seed 000, section 4.3 and Tables 1-2: the shipped separable PINNs to spiking axis networks,
netx exports, the Lava simulator, and what a full evaluation grid costs against the PINN-SNN.

    .venv/bin/python benchmarks/spinn_deploy.py [NAME ...] # convert, export, run on Lava, write tables
    .venv/bin/python benchmarks/spinn_deploy.py --report   # tables from results/spinn_deploy.json

Per problem: the shipped ReLU student ``loihi_pinn/checkpoints/NAME_spinn_relu`` of the tanh SPINN
``NAME_spinn`` (commands in their spinn.json), each axis network converted exactly to sigma-delta
(one neuron a unit, no calibration), quantized (hidden weights up to 15) and calibrated on the
fixed-point emulator, written to ``netx_exports/NAME_spinn/`` (one file per axis and
spinn.json); the whole evaluation grid run on the Lava simulator (n_1 + ... + n_d inferences) and
compared with the emulator bit for bit. The PINN-SNN beside it is the shipped export
``netx_exports/NAME.net`` (its card's per-point figures times the grid's points). Writes
results/spinn_deploy.json, figures/spinn_NAME.png, the spinn-deploy section of RESULTS.md and the separable block of
netx_exports/README.md.
"""
from __future__ import annotations

import argparse
import re
import time

import numpy as np
from common import FIGURES_DIR, HERE, load_json, machine, save_json, write_section

from loihi_pinn.conversion.separable import convert_separable, grid_axes, save_separable_snn
from loihi_pinn.export import read_model_card
from loihi_pinn.export.separable import export_separable
from loihi_pinn.plotting import plot_solutions
from loihi_pinn.problems import get_problem
from loihi_pinn.runtime.separable import SeparableRunner
from loihi_pinn.training.separable import load_separable

PROBLEMS = ("burgers", "beltrami")
ROOT = HERE.parent
# seed 000, Table 1 (parameters, spike rate) and Table 2 (the calibrated SNN's L2 and relative L2 error)
PAPER = {"burgers": (15500, 0.2831, 6.6495e-2, 1.1634e-1), "beltrami": (30900, 0.1754, 8.2512e-3, 4.3273e-2)}


def measure(name: str) -> dict:
    problem = get_problem(name)
    checkpoint = f"{name}_spinn_relu"
    model, meta, _ = load_separable(checkpoint)
    teacher = load_separable(f"{name}_spinn")[1]
    start = time.perf_counter()
    nets, report = convert_separable(checkpoint, "sigma_delta", 8, "none")
    convert_seconds = time.perf_counter() - start
    snn = save_separable_snn(ROOT / "runs" / f"{name}_spinn_snn", nets, meta, report)
    out, loihi = export_separable(snn, ROOT / "netx_exports" / f"{name}_spinn")
    coords = grid_axes(problem)
    emulated = SeparableRunner(out).predict_grid(coords)
    lava = SeparableRunner(out, "lava-sim")
    start = time.perf_counter()
    on_lava = lava.predict_grid(coords)
    lava_seconds = time.perf_counter() - start
    fields = {"reference": problem.reference(problem.evaluation_points()), "ReLU SPINN": report["ann_outputs"],
              "SNN on Lava (fixed point)": on_lava.reshape(-1, problem.d_out)}
    plot_solutions(problem, fields, FIGURES_DIR / f"spinn_{name}.png",
                   title=f"{name}: separable PINN and its spiking axis networks")
    pinn = read_model_card(ROOT / "netx_exports" / f"{name}.net")["loihi_errors"]
    n = report["points"]
    return {"parameters": model.n_parameters, "rank": model.rank, "training": teacher["training"],
            "spinn_rel_l2": teacher["errors"]["rel_l2"], "ann_rel_l2": report["ann_rel_l2"], "float_snn_rel_l2": report["rel_l2"],
            "float_snn_per_output": report.get("rel_l2_per_output"), "spike_rate": report["spike_rate"],
            "convert_seconds": convert_seconds, "loihi": loihi,
            "lava_equals_emulator": bool(np.array_equal(on_lava, emulated)),
            "lava_seconds": lava_seconds, "lava_stats": lava.stats.to_dict(),
            "pinn_snn": {"points": n, "inferences": n, "time_steps": pinn["steps_per_point"] * n,
                         "messages": pinn["messages_per_point"] * n, "synops": pinn["synops_per_point"] * n,
                         "rel_l2_fixed_point": pinn.get("rel_l2_fixed_point_calibrated", pinn["rel_l2_fixed_point"])}}


def tables(data: dict) -> str:
    lines = [f"Command: `.venv/bin/python benchmarks/spinn_deploy.py`; {data['machine']}.",
             "Seed 000's Table 2 gives the calibrated SNN's L2 and relative L2 error (no ANN column); ours are "
             "relative L2 on the evaluation grid: the tanh SPINN, its ReLU student (the deployed ANN), the float "
             "SNN (sigma-delta, exact for ReLU) and the Loihi fixed point (hidden weights up to 15), products on "
             "the host. Spike rate: non-zero neuron outputs over all axis inferences and T = 8 steps (seed 000's "
             "definition; sigma-delta settles in one step, so T divides it).", "",
             "| problem | paper params | paper spike rate | paper SNN L2 / rel L2 | params | rank | spike rate | "
             "SPINN (tanh) | ReLU student | float SNN | fixed point | Lava == emulator |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in PROBLEMS:
        d, (pp, pr, pl2, prl2) = data[name], PAPER[name]
        lines.append(f"| {name} | {pp} | {pr} | {pl2:.2e} / {prl2:.2e} | {d['parameters']} | {d['rank']} | "
                     f"{d['spike_rate']:.4f} | {d['spinn_rel_l2']:.2e} | {d['ann_rel_l2']:.2e} | "
                     f"{d['float_snn_rel_l2']:.2e} | "
                     f"{d['loihi']['rel_l2_fixed_point']:.2e} | {'yes' if d['lava_equals_emulator'] else 'NO'} |")
    lines += ["", "Cost of the whole evaluation grid, fixed point (per-axis inferences for the SPINN-SNN, one "
              "inference per point for the PINN-SNN, the shipped ReLU-student export `netx_exports/NAME.net`); "
              "the product over axes runs on the host after the chip (host MACs):", "",
              "| problem | grid | model | inferences | time steps | messages | synaptic ops | host MACs | "
              "fixed point rel L2 |", "|---|---|---|---|---|---|---|---|---|"]
    for name in PROBLEMS:
        d = data[name]
        s, p = d["loihi"], d["pinn_snn"]
        grid = " x ".join(map(str, s["grid_shape"]))
        lines.append(f"| {name} | {grid} | SPINN-SNN | {s['inferences']} | {s['time_steps']} | {s['messages']:.3g} | "
                     f"{s['synops']:.3g} | {s['host_macs']:.3g} | {s['rel_l2_fixed_point']:.2e} |")
        lines.append(f"| | | PINN-SNN | {p['inferences']} | {p['time_steps']:.0f} | {p['messages']:.3g} | "
                     f"{p['synops']:.3g} | 0 | {p['rel_l2_fixed_point']:.2e} |")
        lines.append(f"| | | ratio PINN / SPINN | {p['inferences'] / s['inferences']:.0f}x | "
                     f"{p['time_steps'] / s['time_steps']:.0f}x | {p['messages'] / s['messages']:.0f}x | "
                     f"{p['synops'] / s['synops']:.0f}x | | |")
    return "\n".join(lines)


def readme_block(data: dict) -> str:
    lines = ["Separable PINNs (seed 000, section 4.3), made by `.venv/bin/python benchmarks/spinn_deploy.py`: one "
             "file per axis network and `spinn.json`, which names the files (with SHA-256), the rank and the "
             "rule u_k = sum_j prod_a f_a[k * rank + j], run on the host after the chip. Run them with "
             "`loihi_pinn.runtime.separable.SeparableRunner(FOLDER, backend)` (`predict_grid`, `predict`); "
             "fine-tune one with `loihi-pinn finetune FOLDER` (its axis networks together, through the product).", ""]
    for name in PROBLEMS:
        d = data[name]
        lines.append(f"- `{name}_spinn/`: {len(d['loihi']['grid_shape'])} axis networks, ReLU students (sigma-delta, exact), "
                     f"rank {d['rank']}; fixed point rel L2 {d['loihi']['rel_l2_fixed_point']:.2e} on the "
                     f"{' x '.join(map(str, d['loihi']['grid_shape']))} grid from {d['loihi']['inferences']} inferences")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("problems", nargs="*", default=PROBLEMS, help="run these again (the others from the cache)")
    parser.add_argument("--report", action="store_true", help="tables from the cached results")
    args = parser.parse_args()
    data = load_json("spinn_deploy") or {}
    if not args.report:
        data.update({"machine": machine(), **{name: measure(name) for name in args.problems}})
        save_json("spinn_deploy", data)
    if any(name not in data for name in PROBLEMS):
        return print(f"measured {', '.join(args.problems)}; run the others before the tables are written")
    write_section("spinn-deploy", "## 7b. Separable PINNs on Loihi 2 (seed 000, Tables 1-2)\n\n" + tables(data))
    readme = ROOT / "netx_exports" / "README.md"
    begin, end = "<!-- separable:begin -->", "<!-- separable:end -->"
    block = f"{begin}\n{readme_block(data)}\n{end}"
    text = readme.read_text()
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S) if begin in text \
        else text.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(text)
    print(tables(data))


if __name__ == "__main__":
    main()
