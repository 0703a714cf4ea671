"""The six shipped PINNs to Loihi 2 netx files, and what quantization and the Lava simulator cost.

    .venv/bin/python benchmarks/loihi_export.py            # exports + quantization table (resumable)
    .venv/bin/python benchmarks/loihi_export.py --lava     # + Lava simulator throughput on Poisson

Per problem: the shipped ReLU student of the PINN (``loihi_pinn/checkpoints/NAME_relu``, issue 11)
converted exactly to sigma-delta (one neuron a unit, no calibration), or, where no student is
shipped (sin), the tanh PINN itself (K = 8 ReLU pieces per tanh unit fed through a relay pair,
T = 8, advanced calibration, 150 iterations per layer); quantize (hidden weights up to 15), calibrate on the
fixed-point emulator, write ``netx_exports/NAME.net``, and fine-tune a student's file in place
towards its PINN through its integer pass (``loihi-pinn finetune``'s defaults); rel L2 on the evaluation grid of the float SNN, the fixed-point SNN
and the fixed-point SNN after calibration; activity; the chip estimate. With ``--lava``:
points per second of the Lava simulator, one network versus several copies side by side, and
the emulator on the same points, in one run. Writes results/loihi_export.json, the
loihi-export section of RESULTS.md and netx_exports/README.md.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from common import HERE, load_json, machine, pinn_macs, save_json, write_section

from loihi_pinn.conversion import convert_checkpoint
from loihi_pinn.export import export_converted, read_netx
from loihi_pinn.export.finetune import finetune_export
from loihi_pinn.loihi.finetune import FinetuneConfig
from loihi_pinn.loihi.resources import estimate
from loihi_pinn.problems import PROBLEM_NAMES, get_problem
from loihi_pinn.runtime import Runner
from loihi_pinn.training import load_checkpoint
from loihi_pinn.training.checkpoint import SHIPPED_DIR

ROOT = HERE.parent
EXPORTS = ROOT / "netx_exports"
CONVERTED = ROOT / "runs" / "bench" / "loihi"
ITERATIONS = 150
LAVA_POINTS = 48
NAIVE_POINTS = 6
COPIES = (1, 4, 16)


def export(problem: str) -> dict:
    CONVERTED.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    student = f"{problem}_relu"
    if (SHIPPED_DIR / student).is_dir():
        net, _ = convert_checkpoint(student, "sigma_delta", 8, "none", progress=False)
        form = "ReLU student"
    else:
        net, _ = convert_checkpoint(problem, "sigma_delta", 8, "advanced", pieces=8, iterations=ITERATIONS,
                                    progress=False)
        form = "tanh, K = 8, relay"
    snn_path = net.save(CONVERTED / f"{problem}.snn")
    path, report = export_converted(snn_path, EXPORTS / f"{problem}.net")
    est = estimate(read_netx(path), report["synops_per_point"])
    pinn = net.metadata["errors"]["ann_rel_l2"] if form.startswith("tanh") else \
        load_checkpoint(problem).metadata["errors"]["rel_l2"]
    row = {"problem": problem, "form": form, **report, "stream": read_netx(path).metadata["stream"],
           "seconds": time.perf_counter() - start,
           "pinn_rel_l2": pinn, "cores": est.cores, "neurons": est.neurons,
           "synapses": est.synapses, "fits": est.fits_one_chip, "energy_uj": est.energy_uj,
           "latency_us": est.latency_us, "ann_macs": pinn_macs(problem)}
    if form == "ReLU student":
        tune(row)
    return row


def tune(row: dict) -> None:
    """Fine-tune a student's export in place towards its tanh PINN (``loihi-pinn finetune``'s defaults:
    back-propagation through the integer pass, 400 steps) and record the result, the new stream
    interval and the cost per point in ``row``."""
    path = EXPORTS / f"{row['problem']}.net"
    _, row["finetune"] = finetune_export(path, path, FinetuneConfig(), against="pinn", progress=False)
    card = read_netx(path).metadata
    row.update(stream=card["stream"], messages_per_point=card["loihi_errors"]["messages_per_point"],
               synops_per_point=card["loihi_errors"]["synops_per_point"])


def lava_throughput() -> dict:
    """Points per second on Poisson: one Lava graph per point (build, run, stop: one point at a
    time), then one graph for all points with state resets, with 1 and more copies side by side,
    and the emulator; all in one run."""
    path = EXPORTS / "poisson.net"
    grid = get_problem("poisson").evaluation_points()
    points = grid[np.random.default_rng(0).permutation(len(grid))[:LAVA_POINTS]]
    emulator = Runner(path, "emulator")
    emulator.predict(points[:1])                     # warm up: the first call imports Lava's weight utilities
    emulated = emulator.predict(points)
    out = {"points": LAVA_POINTS, "emulator_points_per_s": LAVA_POINTS / emulator.stats.wall_seconds}
    start = time.perf_counter()
    for point, expected in zip(points[:NAIVE_POINTS], emulated):
        assert np.array_equal(Runner(path, "lava-sim", progress=False).predict(point[None]), expected[None])
    out["lava_graph_per_point_points_per_s"] = NAIVE_POINTS / (time.perf_counter() - start)
    for copies in COPIES:
        runner = Runner(path, "lava-sim", copies=copies, progress=False)
        assert np.array_equal(runner.predict(points), emulated), "Lava and emulator disagree"
        out[f"lava_copies_{copies}_points_per_s"] = LAVA_POINTS / runner.stats.wall_seconds
    return out


def report(data: dict) -> None:
    rows = sorted(data["problems"], key=lambda r: PROBLEM_NAMES.index(r["problem"]))
    lines = ["Sigma-delta SNNs quantized to Loihi 2 fixed point: the shipped ReLU student of each PINN (exact, "
             "one neuron a unit; issue 11), or for sin the tanh PINN itself (K = 8 pieces a unit, fed by a relay pair "
             "relu(z), relu(-z) that computes the unit's pre-activation once; T = 8, advanced calibration). PINN: the tanh PINN's rel L2. Rel L2 against the reference on the evaluation grid. Fixed point = the bit-exact emulator of Lava's "
             "fixed_pt models (the Lava simulator gives the same integers). Steps: time steps per inference. "
             "One point at a time: each inference starts from the network's zero-input rest state. Streamed: "
             "the grid in serpentine order, a point a step, reset to rest every M points (the card's interval: "
             "the longest whose rel L2 stays within 1.15x that of one point at a time; drift: rel L2 against one "
             "point at a time). "
             "x ANN MACs: against the tanh PINN's multiply-accumulates (burgers' student is wider than its PINN). "
             "Energy/latency: first-order estimate from Loihi 1 per-op figures (Davies et al. 2018).", "",
             "| problem | network | PINN | float SNN | fixed point | + fixed-point calibration | + fine-tuning | steps "
             "| graded spikes / point | synops / point (x ANN MACs) | streamed: M, rel L2 (drift) | streamed synops / "
             "point (x ANN MACs) | cores | energy / inference |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        tuned = f"{r['finetune']['grid_rel_l2_after']:.2e}" if "finetune" in r else "-"
        lines.append(f"| {r['problem']} | {r['form']} | {r['pinn_rel_l2']:.2e} | {r['rel_l2_float_snn']:.2e} | "
                     f"{r['rel_l2_fixed_point']:.2e} | {r['rel_l2_fixed_point_calibrated']:.2e} | {tuned} | "
                     f"{r['steps_per_point']} | {r['messages_per_point']:.0f} | {r['synops_per_point']:.3g} "
                     f"({r['synops_per_point'] / r['ann_macs']:.2g}x) | {r['stream']['reset_every']}, "
                     f"{r['stream']['rel_l2']:.2e} ({r['stream']['drift_rel_l2']:.1e}) | "
                     f"{r['stream']['synops_per_point']:.3g} ({r['stream']['synops_per_point'] / r['ann_macs']:.2g}x) | "
                     f"{r['cores']} | {r['energy_uj']:.1f} uJ |")
    lava = data.get("lava")
    if lava:
        base = lava["lava_graph_per_point_points_per_s"]
        lines += ["", f"Lava simulator throughput on Poisson ({lava['points']} grid points, one run; outputs equal "
                      f"to the emulator's bit for bit in every configuration):", "",
                  "| executor | points / s | vs one point at a time |", "|---|---:|---:|",
                  f"| Lava sim, a new graph per point (build, compile, run, stop) | {base:.2f} | 1.0x |"]
        for copies in COPIES:
            v = lava[f"lava_copies_{copies}_points_per_s"]
            lines.append(f"| Lava sim, one graph for all points, states reset in the run loop, {copies} network "
                         f"cop{'y' if copies == 1 else 'ies'} side by side | {v:.2f} | "
                         f"{v / base:.1f}x |")
        emulator = lava["emulator_points_per_s"]
        lines.append(f"| fixed-point emulator (numpy), same file and points | {emulator:.0f} | {emulator / base:.0f}x "
                     f"({emulator / lava['lava_copies_1_points_per_s']:.0f}x the one-graph Lava run) |")
    lines += ["", f"Measured {data['machine']}, on a machine shared with other jobs (load average about 12 on "
                  "2 cores during the Lava runs: absolute points/s are below a quiet machine's, the ratios come from "
                  "one run). The tanh form costs far more than the ANN's MACs: each tanh unit "
                  "is K = 8 ReLU neurons; the relay pairs bring the synapses between hidden layers from K^2 N^2 to "
                  "(2 K + 2) N^2 (dense pieces: fixed point 5.42e-3 at 4.18e4 synops a point; relay 4.74e-3 at "
                  "1.31e4, one more step; a synaptic op is a message times its sender's non-zero synapses). Starting from rest, a layer sends "
                  "once per point, only where its value changes. Copies side by side gain "
                  "little on the CPU simulator: the per-step cost of the in-loop state resets and of Lava's Sparse "
                  "synapses grows nearly as fast as the batch; one copy is the Runner's default."]
    write_section("loihi-export", "\n".join(lines))
    table = ["| file | network | rel L2 (fixed point) | PINN | steps | graded spikes / point | synops / PINN MACs "
             "| streamed: reset every, synops / PINN MACs | neurons | synapses | cores | fits one chip |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"]
    for r in rows:
        final = r["finetune"]["grid_rel_l2_after"] if "finetune" in r else r["rel_l2_fixed_point_calibrated"]
        table.append(f"| `{r['problem']}.net` | {r['form']}{', fine-tuned' if 'finetune' in r else ''} | {final:.2e} | "
                     f"{r['pinn_rel_l2']:.2e} | {r['steps_per_point']} | {r['messages_per_point']:.0f} | "
                     f"{r['synops_per_point'] / r['ann_macs']:.2g} | {r['stream']['reset_every']}, "
                     f"{r['stream']['synops_per_point'] / r['ann_macs']:.2g} | {r['neurons']} | {r['synapses']} | {r['cores']} | {'yes' if r['fits'] else 'no'} |")
    readme = (EXPORTS / "README.md").read_text()
    start, end = readme.index("<!-- exports:begin -->"), readme.index("<!-- exports:end -->")
    (EXPORTS / "README.md").write_text(readme[:start] + "<!-- exports:begin -->\n" + "\n".join(table) + "\n"
                                       + readme[end:])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lava", action="store_true", help="also measure Lava simulator throughput")
    args = parser.parse_args(argv)
    data = load_json("loihi_export") or {"problems": []}
    done = {r["problem"] for r in data["problems"]}
    for problem in PROBLEM_NAMES:
        if problem not in done:
            print(f"{problem} ...", flush=True)
            data["problems"].append(export(problem))
            data.update(machine=machine(), date=time.strftime("%Y-%m-%d"))
            save_json("loihi_export", data)
    for row in data["problems"]:
        if row["form"] == "ReLU student" and "finetune" not in row:
            print(f"{row['problem']}: fine-tuning ...", flush=True)
            tune(row)
            save_json("loihi_export", data)
    if args.lava:
        data["lava"] = lava_throughput()
        save_json("loihi_export", data)
    report(data)


if __name__ == "__main__":
    main(sys.argv[1:])
