"""Seed 000, Figure 10 analogue: training time of a separable PINN against our PINN trainer on
the same problems and budgets, measured in one run.

    .venv/bin/python benchmarks/spinn_training.py --steps 1000      # both problems, both models

Each of the four trainings (Burgers and Beltrami, PINN and SPINN at the shipped sizes: seed 000's
6 x 40 and 4 x 128 PINNs, 3 x 40 (rank 107) and 2 x 50 (rank 50) axis networks) runs ``--steps``
Adam steps, the same learning-rate schedule, one torch thread, no L-BFGS. Time is this process's
CPU time (the machine is shared, so wall time would measure the neighbours); errors are rel L2 on
the evaluation grid. Results in results/spinn_training.json and the spinn-training section of
RESULTS.md.
"""
from __future__ import annotations

import argparse
import time

from common import load_json, machine, save_json, write_section  # noqa: E402
import torch  # noqa: E402

from loihi_pinn.evaluation import error_report, predict_model  # noqa: E402
from loihi_pinn.problems import get_problem  # noqa: E402
from loihi_pinn.training import TrainConfig, default_model, load_checkpoint, train  # noqa: E402
from loihi_pinn.training.separable import (default_spinn, load_separable, separable_defaults,  # noqa: E402
                                           train_separable)

PROBLEMS = ("burgers", "beltrami")
PAPER_SPEEDUP = {"burgers": "about 1.7x", "beltrami": "over 60x"}     # seed 000, section 4.3 (Figure 10)


def measure(name: str, steps: int) -> dict:
    problem = get_problem(name)
    out = {}
    for kind in ("pinn", "spinn"):
        if kind == "pinn":
            model, trainer, lr = default_model(problem), train, 1e-3
            config = TrainConfig(adam_steps=steps, lr=lr)
        else:
            model, trainer = default_spinn(problem), train_separable
            config = TrainConfig(adam_steps=steps, lr=separable_defaults(problem).lr, resample_every=1)
        start = time.perf_counter()
        result = trainer(problem, model, config, progress=False)
        model.eval()
        out[kind] = {"parameters": model.n_parameters, "cpu_seconds": result.cpu_seconds,
                     "wall_seconds": time.perf_counter() - start,
                     "rel_l2": error_report(problem, lambda x: predict_model(model, x))["rel_l2"]}
        print(name, kind, out[kind], flush=True)
    return out


def report(data: dict) -> str:
    lines = [f"Command: `.venv/bin/python benchmarks/spinn_training.py --steps {data['steps']}`; {data['machine']}.",
             f"{data['steps']} Adam steps each at each model's default learning rate (PINN 1e-3, SPINN: "
             f"{', '.join(f'{n} {separable_defaults(get_problem(n)).lr:g}' for n in PROBLEMS)}), decaying 50x, one "
             f"thread, no L-BFGS; CPU seconds of this process (the machine was shared).", "",
             "| problem | PINN params | PINN CPU s | PINN rel L2 | SPINN params | SPINN CPU s | SPINN rel L2 | "
             "speed-up | seed 000 (Fig. 10) |", "|---|---|---|---|---|---|---|---|---|"]
    for name in PROBLEMS:
        p, s = data[name]["pinn"], data[name]["spinn"]
        lines.append(f"| {name} | {p['parameters']} | {p['cpu_seconds']:.0f} | {p['rel_l2']:.2e} | {s['parameters']} | "
                     f"{s['cpu_seconds']:.0f} | {s['rel_l2']:.2e} | {p['cpu_seconds'] / s['cpu_seconds']:.1f}x | "
                     f"{PAPER_SPEEDUP[name]} |")
    lines += ["", "The shipped networks, full budgets (from their checkpoints; the PINN's seconds were recorded by "
              "its own training run, wall clock, one thread; est. CPU s = its Adam + L-BFGS steps x this run's CPU "
              "s per PINN step, an L-BFGS iteration counted as one step):", "",
              "| problem | PINN steps | PINN s (recorded) | est. CPU s | PINN rel L2 | SPINN steps | SPINN CPU s | "
              "SPINN rel L2 |", "|---|---|---|---|---|---|---|---|"]
    for name in PROBLEMS:
        p, s = data["shipped"][name]["pinn"], data["shipped"][name]["spinn"]
        per_step = data[name]["pinn"]["cpu_seconds"] / data["steps"]
        lines.append(f"| {name} | {p['steps']} | {p['seconds']:.0f} | {p['steps'] * per_step:.0f} | {p['rel_l2']:.2e} | "
                     f"{s['steps']} | {s['cpu_seconds']:.0f} | {s['rel_l2']:.2e} |")
    return "\n".join(lines)


def shipped() -> dict:
    """Budgets, times and errors of the shipped PINN and SPINN checkpoints."""
    out = {}
    for name in PROBLEMS:
        pinn, spinn = load_checkpoint(name).metadata, load_separable(f"{name}_spinn")[1]
        steps = lambda t: t["config"]["adam_steps"] + t["config"]["lbfgs_steps"]  # noqa: E731
        out[name] = {"pinn": {"steps": steps(pinn["training"]), "seconds": pinn["training"]["seconds"],
                              "rel_l2": pinn["errors"]["rel_l2"]},
                     "spinn": {"steps": steps(spinn["training"]), "cpu_seconds": spinn["training"]["cpu_seconds"],
                               "rel_l2": spinn["errors"]["rel_l2"]}}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--report", action="store_true", help="rewrite the section from the cached results")
    args = parser.parse_args()
    if args.report:
        data = load_json("spinn_training")
        data["shipped"] = shipped()
    else:
        torch.set_num_threads(1)
        data = {"steps": args.steps, "machine": machine(), **{name: measure(name, args.steps) for name in PROBLEMS},
                "shipped": shipped()}
        save_json("spinn_training", data)
    write_section("spinn-training", "## 7a. Separable PINNs: training time (seed 000, Figure 10)\n\n" + report(data))


if __name__ == "__main__":
    main()
