"""Emulator throughput and calibration time on the shipped Poisson network (issue target:
advanced calibration at T = 32 in under 2 minutes on 2 cores).

    .venv/bin/python benchmarks/conversion_speed.py      # run on an otherwise idle machine

Medians of 3 repeats, measured in one run; writes results/conversion_speed.json and the
conversion-speed section of RESULTS.md.
"""
from __future__ import annotations

import statistics
import time

import torch
from common import machine, save_json, write_section

from loihi_pinn.conversion import calibrate, calibration_points, convert, emulate
from loihi_pinn.problems import get_problem
from loihi_pinn.training import load_checkpoint

REPEATS = 3


def median_seconds(fn) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ckpt = load_checkpoint("poisson")
    problem = get_problem("poisson")
    cal = calibration_points(problem, 2048, seed=0)
    grid = problem.evaluation_points()
    rows = []
    for neuron in ("signed_if", "if_hard", "sigma_delta"):
        net = convert(ckpt.model, neuron, 32, cal)
        emulate_s = median_seconds(lambda: emulate(net, grid))
        steps = 1 if net.model.graded else 32
        calib_s = median_seconds(lambda: calibrate(convert(ckpt.model, neuron, 32, cal), ckpt.model, cal,
                                                   "advanced", iterations=300, progress=False))
        rows.append({"neuron": neuron, "points": len(grid), "emulated_steps": steps,
                     "emulate_seconds": emulate_s, "point_steps_per_second": len(grid) * steps / emulate_s,
                     "points_per_second": len(grid) / emulate_s, "calibration_seconds": calib_s})
    save_json("conversion_speed", {"machine": machine(), "rows": rows})
    lines = ["| neuron model | emulator: points x steps / s | points / s (T = 32) | advanced calibration, "
             "T = 32, 300 it./layer | target < 120 s |", "|---|---:|---:|---:|:---:|"]
    for r in rows:
        lines.append(f"| {r['neuron']} | {r['point_steps_per_second']:.3g} | {r['points_per_second']:.3g} | "
                     f"{r['calibration_seconds']:.0f} s | {'yes' if r['calibration_seconds'] < 120 else 'no'} |")
    note = ("Poisson network (2-100-100-100-1), 10201 grid points, 2048 calibration points; medians of "
            f"{REPEATS} runs, measured {machine()}. Sigma-delta settles in one emulated step on a static "
            "input, so its points/s counts one step per point.")
    write_section("conversion-speed", "\n".join(lines) + "\n\n" + note)
    print("\n".join(lines))


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
