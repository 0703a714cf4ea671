"""The ``loihi-pinn`` command line: thin argument parsing over the pipeline stages.

Bad input (unknown problem, malformed checkpoint, ...) prints one line ``error: ...`` and
exits with status 2.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from loihi_pinn.errors import InputError


def _cmd_problems(args) -> None:
    from loihi_pinn.problems import PROBLEM_NAMES, get_problem
    from loihi_pinn.training import default_model

    for name in PROBLEM_NAMES:
        problem = get_problem(name)
        print(problem.describe())
        print(f"  parameters: {default_model(problem).n_parameters}\n")


def _cmd_train(args) -> None:
    import torch

    from loihi_pinn.problems import get_problem
    from loihi_pinn.training import TrainConfig, fit

    problem = get_problem(args.problem)
    if args.threads:
        torch.set_num_threads(args.threads)
    defaults = problem.train_defaults
    config = TrainConfig(
        adam_steps=args.steps if args.steps is not None else defaults["adam_steps"],
        lbfgs_steps=args.lbfgs_steps if args.lbfgs_steps is not None else defaults["lbfgs_steps"],
        lr=args.lr if args.lr is not None else defaults["lr"], seed=args.seed)
    out = Path(args.out or f"runs/{problem.name}")
    command = "loihi-pinn " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    folder, report, result = fit(problem, config, out, command=command, progress=not args.quiet)
    print(f"{problem.name}: rel L2 vs reference {report['rel_l2']:.3e} on {report['points']} grid points, "
          f"final loss {result.final_losses['total']:.3e}, {result.seconds:.0f} s")
    print(f"checkpoint: {folder}  (loss plot: {folder / 'loss.png'})")


def _cmd_evaluate(args) -> None:
    from loihi_pinn.evaluation import error_report, predict_model
    from loihi_pinn.plotting import plot_solutions
    from loihi_pinn.problems import get_problem
    from loihi_pinn.training import load_checkpoint

    ckpt = load_checkpoint(args.checkpoint)
    problem = get_problem(ckpt.problem)
    points = _read_points(args.points) if args.points else None
    report = error_report(problem, lambda x: predict_model(ckpt.model, x), points)
    arch = ckpt.metadata["architecture"]
    print(f"checkpoint   {ckpt.path}")
    print(f"problem      {problem.name}: {problem.equation}")
    print(f"network      {' -> '.join(map(str, arch['layer_sizes']))} {arch['activation']}, "
          f"{ckpt.metadata['parameters']} parameters")
    print(f"reference    {problem.reference_method}")
    where = f"points from {args.points}" if args.points else "grid points"
    print(f"rel L2       {report['rel_l2']:.3e}  (max abs error {report['max_abs_error']:.2e}, "
          f"{report['points']} {where})")
    for name, err in report.get("rel_l2_per_output", {}).items():
        print(f"  {name:<10} {err:.3e}")
    if args.plot:
        points = problem.evaluation_points()
        path = plot_solutions(problem, {"reference": problem.reference(points),
                                        "PINN": predict_model(ckpt.model, points)}, args.plot,
                              title=f"{problem.name}: PINN rel L2 {report['rel_l2']:.2e}")
        print(f"plot         {path}")


def _read_points(path) -> "np.ndarray":
    """Points from a .npy file or a text file with one point a row (comma or space separated)."""
    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise InputError(f"no points file at {path}")
    try:
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False)
        return np.loadtxt(path, delimiter="," if path.suffix == ".csv" else None, ndmin=2)
    except ValueError as err:
        raise InputError(f"cannot read points from {path}: {err}") from None


def _cmd_demo(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _cmd_evaluate(argparse.Namespace(checkpoint="poisson", plot=out / "poisson.png", points=None))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loihi-pinn", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("problems", help="list the benchmark problems with their set-up").set_defaults(run=_cmd_problems)

    p = sub.add_parser("train", help="train a PINN for a benchmark problem")
    p.add_argument("problem", help="problem name (see 'loihi-pinn problems')")
    p.add_argument("--steps", type=int, help="Adam steps (default: the problem's)")
    p.add_argument("--lbfgs-steps", type=int, help="L-BFGS iterations after Adam (default: the problem's)")
    p.add_argument("--lr", type=float, help="initial Adam learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--out", help="checkpoint folder (default runs/PROBLEM)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_cmd_train)

    p = sub.add_parser("evaluate", help="error of a checkpoint against the reference solution")
    p.add_argument("checkpoint", help="checkpoint folder or shipped problem name")
    p.add_argument("--plot", help="save reference | PINN | error figure to this PNG")
    p.add_argument("--points", help="evaluate at these points instead of the grid: .npy (n, d_in) "
                                    "or a text/.csv file with one point a row, physical coordinates")
    p.set_defaults(run=_cmd_evaluate)

    p = sub.add_parser("demo", help="the main job on the shipped Poisson model")
    p.add_argument("--out", default="runs/demo", help="folder for the figures")
    p.set_defaults(run=_cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
