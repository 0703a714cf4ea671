"""``loihi-pinn parametric-data`` and ``parametric-train``: seed 001's parametric diffusion data
sets and operator networks (kept apart from ``cli.py``, which only registers them)."""
from __future__ import annotations

from pathlib import Path

from loihi_pinn.errors import InputError


def _cmd_data(args) -> None:
    import numpy as np

    from loihi_pinn.io import check_output, replacing
    from loihi_pinn.problems.parametric_diffusion import Parametrization, make_dataset

    param = Parametrization(args.kind, args.p, mu=args.mu)
    out = check_output(args.out, force=args.force)
    if out.suffix != ".npz":
        raise InputError(f"--out {out}: the data set is a .npz file")
    train = make_dataset(param, args.samples, args.seed)
    test = make_dataset(param, args.test_samples, args.seed + 10_000)
    with replacing(out) as tmp, open(tmp, "wb") as f:
        np.savez(f, y=train["y"], u=train["u"], test_y=test["y"], test_u=test["u"], **{
            f"param_{k}": v for k, v in param.metadata().items()})
    print(f"{param.name}: {args.samples} training and {args.test_samples} test samples -> {out}")


def _load_data(path: Path):
    import numpy as np

    from loihi_pinn.problems.parametric_diffusion import Parametrization

    try:
        z = np.load(path)
        param = Parametrization(str(z["param_kind"]), int(z["param_p"]), mu=float(z["param_mu"]))
        return param, {"y": z["y"], "u": z["u"]}, {"y": z["test_y"], "u": z["test_u"]}
    except FileNotFoundError:
        raise InputError(f"no data set at {path}; make one with 'loihi-pinn parametric-data'") from None
    except (KeyError, ValueError, OSError) as err:
        raise InputError(f"{path} is not a data set of 'loihi-pinn parametric-data' ({err})") from None


def _cmd_train(args) -> None:
    from dataclasses import replace

    from loihi_pinn.io import check_output
    from loihi_pinn.training import save_checkpoint
    from loihi_pinn.training.parametric import FULL, SHRUNK, train_operator

    out = check_output(args.out, force=args.force, folder=True)
    param, train, test = _load_data(Path(args.data))
    recipe = FULL if args.full else SHRUNK
    recipe = replace(recipe, **{k: v for k, v in (("width", args.width), ("layers", args.layers),
                                                  ("epochs", args.epochs)) if v is not None},
                     train_samples=len(train["y"]), test_samples=len(test["y"]))
    model, record = train_operator(param, train, test, recipe)
    save_checkpoint(out, model, f"parametric_diffusion_{param.name}", parametric=record)
    print(f"{param.name}: mean relative H1 test error {record['test_error_mean']:.3e} -> {out}")


def add_parametric_commands(sub, whole) -> None:
    """Register the two commands on the subparsers ``sub``; ``whole(low)`` parses whole numbers."""
    from loihi_pinn.problems.parametric_diffusion import KINDS

    p = sub.add_parser("parametric-data", help="solve seed 001's parametric diffusion problem for random parameters "
                                               "(train and test sets, 101 x 101 grid)")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("p", type=whole(1), help="parameters (chessboard, cookies_fixed: s^2; cookies_variable: 2 s^2)")
    p.add_argument("--mu", type=float, default=1.0, help="the coefficient's shift mu > 0 (default 1)")
    p.add_argument("--samples", type=whole(1), default=4000, help="training samples (the seed: 20000)")
    p.add_argument("--test-samples", type=whole(1), default=500)
    p.add_argument("--seed", type=whole(0), default=0)
    p.add_argument("--out", required=True, help="the .npz file")
    p.add_argument("--force", action="store_true", help="replace --out")
    p.set_defaults(run=_cmd_data)

    p = sub.add_parser("parametric-train", help="train the LeakyReLU operator network y -> u on a parametric-data set")
    p.add_argument("data", help="a .npz file of parametric-data")
    p.add_argument("--full", action="store_true", help="the seed's schedule (default: the shrunk one, ~10 min)")
    p.add_argument("--width", type=whole(1), help="hidden width (default 300)")
    p.add_argument("--layers", type=whole(2), help="affine layers (default 11)")
    p.add_argument("--epochs", type=whole(1))
    p.add_argument("--out", required=True, help="checkpoint folder")
    p.add_argument("--force", action="store_true", help="replace --out")
    p.set_defaults(run=_cmd_train)
