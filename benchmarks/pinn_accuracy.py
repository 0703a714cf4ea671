"""Accuracy of the shipped PINN checkpoints against their reference solutions.

    .venv/bin/python benchmarks/pinn_accuracy.py

Evaluates every checkpoint in loihi_pinn/checkpoints/ on its problem's fixed evaluation grid,
prints a markdown table and writes it into benchmarks/RESULTS.md between the
``pinn-accuracy`` markers (sim_tests/test_shipped_checkpoints.py reads it back).
"""
from __future__ import annotations

from common import machine, write_section

from loihi_pinn.evaluation import error_report, predict_model
from loihi_pinn.problems import PROBLEM_NAMES, get_problem
from loihi_pinn.training import load_checkpoint

TARGETS = {"sin": 1e-4, "poisson": 5e-3, "diffusion_reaction": 1e-2, "wave": 3e-2,
           "burgers": 2e-2, "beltrami": 5e-3}


def table() -> str:
    rows = ["| problem | network | parameters | rel L2 (ours) | target | met | Adam + L-BFGS steps | "
            "training time | grid |",
            "|---|---|---:|---:|---:|:---:|---:|---:|---|"]
    for name in PROBLEM_NAMES:
        ckpt = load_checkpoint(name)
        problem = get_problem(name)
        report = error_report(problem, lambda x: predict_model(ckpt.model, x))
        cfg = ckpt.metadata["training"]["config"]
        sizes = ckpt.metadata["architecture"]["layer_sizes"]
        err, target = report["rel_l2"], TARGETS[name]
        per_output = ""
        if "rel_l2_per_output" in report:
            per_output = " (" + ", ".join(f"{k} {v:.2e}" for k, v in report["rel_l2_per_output"].items()) + ")"
        rows.append(f"| {name} | {len(sizes) - 2} x {sizes[1]} tanh | {ckpt.metadata['parameters']} | "
                    f"{err:.3e}{per_output} | {target:.0e} | {'yes' if err <= target else 'no'} | "
                    f"{cfg['adam_steps']} + {cfg['lbfgs_steps']} | {ckpt.metadata['training']['seconds']:.0f} s | "
                    f"{' x '.join(map(str, problem.grid_shape))} |")
    stamp = (f"Evaluated {machine()}. Training times are wall times with one thread each while up to "
             f"four trainings and benchmarks shared the 2 cores: upper bounds (the command is in each "
             f"checkpoint.json).")
    return "\n".join(rows) + "\n\n" + stamp


if __name__ == "__main__":
    text = table()
    print(text)
    write_section("pinn-accuracy", text)
