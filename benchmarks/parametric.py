"""Seed 001's parametric diffusion surrogates: the ANN, its sigma-delta SNN and its TTFS SNN.

    python benchmarks/parametric.py train trigonometric 6      # data + training, one parametrization (~10 min)
    python benchmarks/parametric.py train chessboard 16 --full # the seed's recipe (20,000 samples; hours on 2 cores)
    python benchmarks/parametric.py refine trigonometric 6     # grid refinement of the data (101 vs 201 points)
    python benchmarks/parametric.py report                     # conversions + the RESULTS.md section

``train`` writes runs/parametric/NAME/ (checkpoint: weights.pt, checkpoint.json, loss.png) and
results/parametric_NAME.json; ``report`` converts each trained network, measures the SNNs on the
test set and writes the parametric section of RESULTS.md with the full-size chip estimate.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from common import HERE, load_json, machine, save_json  # noqa: E402

from loihi_pinn.problems.parametric_diffusion import Parametrization  # noqa: E402
from loihi_pinn.training import save_checkpoint  # noqa: E402
from loihi_pinn.training.parametric import FULL, SHRUNK, datasets, train_operator  # noqa: E402

RUNS = HERE.parent / "runs" / "parametric"


def data_for(param: Parametrization, recipe) -> tuple[dict, dict]:
    """The (train, test) sets, cached in runs/parametric/NAME_data.npz."""
    path = RUNS / f"{param.name}_{recipe.train_samples}_data.npz"
    if path.exists():
        z = np.load(path)
        return {"y": z["y"], "u": z["u"]}, {"y": z["ty"], "u": z["tu"]}
    train, test = datasets(param, recipe)
    RUNS.mkdir(parents=True, exist_ok=True)
    np.savez(path, y=train["y"], u=train["u"], ty=test["y"], tu=test["u"])
    return train, test


def cmd_train(args) -> None:
    param = Parametrization(args.kind, args.p)
    recipe = FULL if args.full else SHRUNK
    train, test = data_for(param, recipe)
    model, record = train_operator(param, train, test, recipe)
    folder = RUNS / param.name
    save_checkpoint(folder, model, f"parametric_diffusion:{param.name}", parametric=record,
                    command=" ".join(sys.argv))
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.semilogy(record["train_loss"])
    ax.set(xlabel="epoch", ylabel="mean relative H1 error (train)", title=param.name)
    fig.tight_layout()
    fig.savefig(folder / "loss.png", dpi=120)
    save_json(f"parametric_{param.name}", {**record, "machine": machine(), "command": " ".join(sys.argv)})
    print(f"{param.name}: test relative H1 error {record['test_error_mean']:.3e} (mean), "
          f"{record['cpu_seconds']:.0f} CPU s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("kind")
    t.add_argument("p", type=int)
    t.add_argument("--full", action="store_true", help="the seed's recipe instead of the shrunk one")
    t.set_defaults(run=cmd_train)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
