"""The ``loihi-pinn`` command line: thin argument parsing over the pipeline stages.

Bad input (unknown problem, malformed checkpoint, ...) prints one line ``error: ...`` and
exits with status 2. A problem is a shipped name or ``module:attribute`` (your own Problem), the
module importable from the current directory.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import warnings
from pathlib import Path

from loihi_pinn.errors import InputError

PLOT_SUFFIXES = (".png", ".pdf", ".svg")
VALUE_SUFFIXES = (".npy", ".csv", ".txt")
PIECES = 8                     # ReLU pieces per smooth unit (sigma-delta) when --pieces is not given


def _whole(low: int):
    """argparse type: a whole number >= ``low``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value
    return parse


def _number(low: float, high: float = float("inf"), *, open_low: bool = False):
    """argparse type: a finite number in [low, high] ((low, high] with ``open_low``)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (low < value if open_low else low <= value) or not value <= high or value != value:
            raise argparse.ArgumentTypeError(f"must be a finite number in {'(' if open_low else '['}{low:g}, "
                                             f"{high:g}], got {text}")
        return value
    return parse


def _plot_path(path):
    """Check a --plot file before the work: a known image type in a folder we may write to."""
    if path is None:
        return None
    from loihi_pinn.io import check_output
    if Path(path).suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(f"--plot {path}: give a {', '.join(PLOT_SUFFIXES)} file")
    return check_output(path, force=True)


def _input_options(p) -> None:
    """--raw-inputs / --unit-inputs / --activation: how to read a saved network."""
    from loihi_pinn.models import ACTIVATIONS

    inputs = p.add_mutually_exclusive_group()
    inputs.add_argument("--raw-inputs", action="store_true",
                        help="saved network: it takes physical coordinates (the default: DeepXDE and most PINNs)")
    inputs.add_argument("--unit-inputs", action="store_true",
                        help="saved network: it takes the box mapped to [-1, 1]^d")
    p.add_argument("--activation", choices=[a for a in ACTIVATIONS if a not in ("slip", "bitserial")],
                   help="saved network without activation modules (state dict, DeepXDE FNN): its activation "
                        "(default tanh)")


def _cmd_problems(args) -> None:
    from loihi_pinn.problems import PROBLEM_NAMES, SPEC_FORM, get_problem
    from loihi_pinn.training import default_model, training_defaults

    for name in PROBLEM_NAMES:
        problem = get_problem(name)
        defaults = training_defaults(problem)
        print(problem.describe())
        print(f"  network: {defaults.hidden_layers} x {defaults.width} tanh")
        print(f"  parameters: {default_model(problem).n_parameters}\n")
    print(f"Your own problem: give {SPEC_FORM} wherever a problem name goes (README: 'Your own PDE').")


def _print_outputs(problem, ranges: dict, label: str = "outputs") -> None:
    """The lines printed in place of errors when the problem has no reference solution."""
    print(f"reference    {problem.reference_method or 'none: the problem defines no reference solution'}")
    if len(ranges) > 8:              # a field output (parametric diffusion: 10,201 values): one summary line
        los, his = zip(*ranges.values())
        print(f"{label:<12} {len(ranges)} outputs, all in [{min(los):.4g}, {max(his):.4g}]")
        return
    print(f"{label:<12} " + ", ".join(f"{name} in [{lo:.4g}, {hi:.4g}]" for name, (lo, hi) in ranges.items()))


def _cmd_train(args) -> None:
    import torch

    from loihi_pinn.problems import get_problem
    from loihi_pinn.training import TrainConfig, default_model, fit, training_defaults

    from loihi_pinn.io import check_output

    problem = get_problem(args.problem)
    if args.threads:
        torch.set_num_threads(args.threads)
    if (args.device != "cpu" or args.batch is not None) and (args.model == "spinn" or args.activation == "tanh"):
        raise InputError("--device and --batch are for networks distilled from a PINN (--activation relu, qcfs, slip "
                         "or bitserial with --init-from); a tanh PINN or SPINN trains on the CPU")
    if args.model == "spinn":
        return _train_separable(problem, args)
    if args.rank is not None:
        raise InputError("--rank is for --model spinn (features per output of a separable PINN)")
    if args.activation != "tanh":
        return _train_quantized(problem, args)
    if args.init_from:
        raise InputError("--init-from is for --activation qcfs or slip (fine-tuning a tanh PINN)")
    defaults = training_defaults(problem)
    config = TrainConfig(
        adam_steps=args.steps if args.steps is not None else defaults.adam_steps,
        lbfgs_steps=args.lbfgs_steps if args.lbfgs_steps is not None else defaults.lbfgs_steps,
        lr=args.lr if args.lr is not None else defaults.lr, seed=args.seed, dtype=args.dtype or defaults.dtype)
    model = default_model(problem, args.seed, hidden_layers=args.hidden_layers, width=args.width)
    out = check_output(args.out or f"runs/{problem.name}", force=args.force, folder=True)
    command = "loihi-pinn " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    folder, report, result = fit(problem, config, out, net=model.net, command=command, progress=not args.quiet)
    _print_fit(problem, problem.name, report, f"final loss {result.final_losses['total']:.3e}, {result.seconds:.0f} s")
    print(f"checkpoint: {folder}  (loss plot: {folder / 'loss.png'})")


def _train_separable(problem, args) -> None:
    """A separable PINN (one tanh network per input) trained on factorized grids."""
    from loihi_pinn.io import check_output
    from loihi_pinn.training import TrainConfig
    from loihi_pinn.training.separable import fit_separable, separable_defaults

    if args.activation == "relu" or args.init_from:
        return _distill_separable(problem, args)
    if args.activation != "tanh":
        raise InputError("--model spinn trains tanh axis networks, or ReLU students of them (--activation relu "
                         "--init-from SPINN)")
    defaults = separable_defaults(problem)
    config = TrainConfig(
        adam_steps=args.steps if args.steps is not None else defaults.adam_steps,
        lbfgs_steps=args.lbfgs_steps if args.lbfgs_steps is not None else defaults.lbfgs_steps,
        lr=args.lr if args.lr is not None else defaults.lr, seed=args.seed, dtype=args.dtype or "float32",
        resample_every=defaults.resample_every)
    out = check_output(args.out or f"runs/{problem.name}_spinn", force=args.force, folder=True)
    command = "loihi-pinn " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    folder, report, result = fit_separable(problem, config, out, rank=args.rank, hidden_layers=args.hidden_layers,
                                           width=args.width, command=command, progress=not args.quiet)
    _print_fit(problem, f"{problem.name} (SPINN)", report,
               f"final loss {result.final_losses['total']:.3e}, {result.seconds:.0f} s")
    print(f"checkpoint: {folder}  (loss plot: {folder / 'loss.png'})")


def _distill_separable(problem, args) -> None:
    """ReLU axis networks distilled from a trained tanh SPINN (sigma-delta runs them exactly)."""
    from loihi_pinn.io import check_output
    from loihi_pinn.training.separable import distill_separable, load_separable
    from loihi_pinn.training.student import StudentConfig

    if args.activation != "relu" or not args.init_from:
        raise InputError("a separable ReLU student needs --activation relu and --init-from (the tanh SPINN)")
    teacher = load_separable(args.init_from)[1]["problem"]
    if teacher != problem.name:
        raise InputError(f"--init-from {args.init_from} is a {teacher} SPINN, not {problem.name}")
    config = StudentConfig(**{k: v for k, v in dict(steps=args.steps, lr=args.lr, lbfgs_steps=args.lbfgs_steps).items()
                              if v is not None}, seed=args.seed)
    out = check_output(args.out or f"runs/{problem.name}_spinn_relu", force=args.force, folder=True)
    command = "loihi-pinn " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    folder, report = distill_separable(args.init_from, config, out, command=command, progress=not args.quiet)
    _print_fit(problem, f"{problem.name} (SPINN, ReLU student)", report, f"saved to {folder}")


def _print_fit(problem, label: str, report: dict, details: str) -> None:
    """One line for a trained network: its error against the reference (if any) and ``details``."""
    errors = f"rel L2 vs reference {report['rel_l2']:.3e} on {report['points']} grid points, " \
        if problem.has_reference else ""
    print(f"{label}: {errors}{details}")
    if not problem.has_reference:
        _print_outputs(problem, report["output_ranges"])


def _train_quantized(problem, args) -> None:
    """QCFS/SlipReLU or B-bit (bit-serial) QCFS PINN by distillation from a trained tanh PINN
    (training/distill.py)."""
    from loihi_pinn.io import check_output
    from loihi_pinn.training import DistillConfig, fit_quantized, load_checkpoint

    if not args.init_from:
        raise InputError(f"--activation {args.activation} fine-tunes a trained tanh PINN: give it with --init-from "
                         f"(e.g. --init-from {problem.name}); a quantized network has no second derivatives, so it "
                         f"learns the teacher's solution rather than the PDE residual")
    teacher = load_checkpoint(args.init_from)
    if teacher.problem != problem.name:
        raise InputError(f"--init-from {args.init_from} is a {teacher.problem} PINN, not {problem.name}")
    if args.activation == "relu":
        return _train_student(problem, teacher, args)
    if args.hidden_layers or args.width:
        raise InputError(f"--hidden-layers and --width shape a tanh network; --activation {args.activation} keeps "
                         f"the layers of its --init-from network")
    if args.sparsity and args.activation != "bitserial":
        raise InputError("--sparsity (the bit-sparsity regularizer of seed 003) is for --activation bitserial")
    if args.activation == "bitserial":
        activation, tag = "bitserial", f"B = {args.bits}, {args.shape}"
        params = {"bits": args.bits, "shape": args.shape}
    else:
        activation, tag = "slip", f"N = {args.levels}"
        params = {"levels": args.levels, "slope": 0.0 if args.activation == "qcfs" else args.slope}
    config = DistillConfig(steps=DistillConfig.steps if args.steps is None else args.steps,
                           lr=DistillConfig.lr if args.lr is None else args.lr, seed=args.seed, sparsity=args.sparsity,
                           batch=args.batch or DistillConfig.batch, device=args.device)
    size = args.bits if activation == "bitserial" else args.levels
    out = check_output(args.out or f"runs/{problem.name}_{args.activation}{size}", force=args.force, folder=True)
    command = "loihi-pinn " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    folder, report = fit_quantized(problem, teacher.model, params, config, out, activation=activation,
                                   command=command, progress=not args.quiet)
    _print_fit(problem, f"{problem.name} ({args.activation}, {tag})", report, f"distilled from {args.init_from}")
    print(f"checkpoint: {folder}  (loss plot: {folder / 'loss.png'})")


def _train_student(problem, teacher, args) -> None:
    """A ReLU student distilled from the tanh PINN ``teacher`` (training/student.py): sigma-delta
    neurons run it exactly, one neuron a unit."""
    from loihi_pinn.io import check_output
    from loihi_pinn.training.student import StudentConfig, distill_student

    config = StudentConfig(**{k: v for k, v in dict(steps=args.steps, lr=args.lr, lbfgs_steps=args.lbfgs_steps,
                                                   hidden_layers=args.hidden_layers, width=args.width,
                                                   batch=args.batch).items()
                              if v is not None}, seed=args.seed, device=args.device)
    out = check_output(args.out or f"runs/{problem.name}_relu", force=args.force, folder=True)
    command = "loihi-pinn " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    _, info = distill_student(problem, teacher, config, out, command=command, progress=not args.quiet)
    _print_fit(problem, f"{problem.name} (relu student)", {**info, "points": info["grid_points"]},
               f"{info['rel_l2_vs_teacher']:.3e} vs the teacher {args.init_from}, {info['seconds']:.0f} s")
    print(f"checkpoint: {out}  (loss plot: {out / 'loss.png'})")


def _cmd_evaluate(args) -> None:
    from loihi_pinn.training.checkpoint import METADATA, WEIGHTS

    path = Path(args.model)
    saved = _saved_model_file(args.model, args)
    if saved:
        _evaluate_checkpoint(args, saved=True)
    elif path.suffix == ".net":
        if args.plot or args.smooth is not None:
            raise InputError("--plot and --smooth are for checkpoints and .snn files; a .net runs its fixed point")
        _cmd_run(argparse.Namespace(file=args.model, backend="emulator", copies=1, quiet=True, seed=0, points=None,
                                    points_file=args.points, reference=args.reference, out=args.out,
                                    force=args.force, stream=False, reset_every=None, hold=None))
    elif path.is_file() and path.name not in (WEIGHTS, METADATA):
        _evaluate_snn(args)
    else:
        _evaluate_checkpoint(args)


def _saved_model(args):
    """(PINN, problem) of a saved model file given with --domain or --problem."""
    from loihi_pinn.models.imported import import_network
    from loihi_pinn.problems import box_problem, get_problem, parse_domain

    if args.domain is not None and args.problem is not None:
        raise InputError("give the input box once: --domain lo:hi,... or --problem module:attribute, not both")
    if args.domain is None and args.problem is None:
        raise InputError(f"{args.model} is a saved network: give its input box with --domain lo:hi,... (one per "
                         f"input) or --problem module:attribute")
    problem = get_problem(args.problem) if args.problem else None
    lower, upper = (problem.lower, problem.upper) if problem else parse_domain(args.domain)[1:]
    model, _ = import_network(args.model, lower, upper, raw_inputs=not args.unit_inputs, activation=args.activation)
    return model, problem or box_problem(Path(args.model).stem, args.domain, model.architecture["layer_sizes"][-1])


def _evaluate_checkpoint(args, saved: bool = False) -> None:
    from loihi_pinn.evaluation import error_report, predict_model
    from loihi_pinn.plotting import plot_solutions
    from loihi_pinn.problems.external import is_data_reference
    from loihi_pinn.training import load_checkpoint

    if args.smooth is not None:
        raise InputError("--smooth filters a converted network's spiking output; a checkpoint is a smooth PINN "
                         "(evaluate a .snn file with --smooth)")
    _plot_path(args.plot)
    out = _values_path(args.out, args.force)
    if saved:
        model, problem = _saved_model(args)
        label, parameters = f"saved model {args.model}", model.n_parameters
    else:
        ckpt = load_checkpoint(args.model)
        model, problem = ckpt.model, ckpt.find_problem()
        label, parameters = f"checkpoint   {ckpt.path}", ckpt.metadata["parameters"]
    problem, points, where = _points_and_reference(args, problem, problem.evaluation_points)
    points = problem.check_points(points)
    values = predict_model(model, points)
    report = error_report(problem, lambda _: values, points)
    arch = model.architecture
    print(label)
    print(f"problem      {problem.name}: {problem.equation}")
    print(f"network      {' -> '.join(map(str, arch['layer_sizes']))} {arch['activation']}, {parameters} parameters")
    where = f"points from {where}" if where else "grid points"
    if problem.has_reference:
        print(f"reference    {problem.reference_method}")
        print(f"rel L2       {report['rel_l2']:.3e}  (max abs error {report['max_abs_error']:.2e}, "
              f"{report['points']} {where})")
        for name, err in report.get("rel_l2_per_output", {}).items():
            print(f"  {name:<10} {err:.3e}")
    else:
        _print_outputs(problem, report["output_ranges"], "PINN")
        print(f"points       {report['points']} {where}")
    _save_values(out, values, problem)
    if args.plot:
        grid = problem.evaluation_points()
        on_grid = problem.has_reference and not is_data_reference(problem)     # data files know their points only
        fields = {"reference": problem.reference(grid)} if on_grid else {}
        fields["PINN"] = predict_model(model, grid)
        title = f"PINN rel L2 {report['rel_l2']:.2e}" if fields.get("reference") is not None else "PINN"
        path = plot_solutions(problem, fields, args.plot, title=f"{problem.name}: {title}")
        print(f"plot         {path}")


def _evaluate_snn(args) -> None:
    from loihi_pinn.conversion import SpikingNetwork, conversion_report, emulate
    from loihi_pinn.conversion.source import load_source
    from loihi_pinn.evaluation import error_report, predict_model
    from loihi_pinn.plotting import plot_solutions
    from loihi_pinn.problems import problem_from_metadata

    _plot_path(args.plot)
    out = _values_path(args.out, args.force)
    net = SpikingNetwork.load(args.model)
    problem = problem_from_metadata(net.metadata, net.lower, net.upper, net.d_out)
    ann = load_source(net, args.model)               # None where the source is not on this machine
    ann_predict = None if ann is None else (lambda x: predict_model(ann, x))
    problem, points, where = _points_and_reference(args, problem, lambda: None)
    if points is not None:
        points = problem.check_points(points)
        values = emulate(net, points)[0]
        report = error_report(problem, lambda _: values, points)
        if problem.has_reference:
            print(f"rel L2 at {report['points']} points from {where}: {report['rel_l2']:.3e}")
        else:
            _print_outputs(problem, report["output_ranges"], "SNN")
            print(f"points       {report['points']} from {where}")
        _save_values(out, values, problem)
        return
    report = conversion_report(net, problem, ann_predict, smooth_keep=args.smooth)
    _print_snn_report(net, problem, report)
    _save_values(out, report["outputs"], problem)
    if args.plot:
        points = problem.evaluation_points()
        fields = {"reference": problem.reference(points)} if problem.has_reference else {}
        if ann_predict:
            fields["PINN"] = ann_predict(points)
        fields["SNN"] = report["outputs"]
        error = f", rel L2 {report['rel_l2']:.2e}" if "rel_l2" in report else ""
        path = plot_solutions(problem, fields, args.plot,
                              title=f"{problem.name}: {net.neuron} SNN, T = {net.timesteps}{error}")
        print(f"plot         {path}")


def _print_snn_report(net, problem, report: dict) -> None:
    meta = net.metadata
    print(f"network      {net.describe()}")
    source = (f"from checkpoint {meta['source_checkpoint']}" if meta.get("source_checkpoint") else
              f"from {meta['source_model']}" if meta.get("source_model") else "source not recorded")
    print(f"problem      {meta.get('problem', 'unnamed')}  ({source})")
    calibrated = meta.get("calibration", "none") != "none"
    print(f"calibration  {meta.get('calibration', 'none')}"
          + (f", {meta.get('calibration_objective')} objective" if calibrated else "")
          + (f" ({meta.get('calibration_points')} points, {meta.get('calibration_seconds', 0):.0f} s)"
             if calibrated else ""))
    if problem.has_reference:
        line = f"rel L2       {report['rel_l2']:.3e} vs reference"
        if "ann_rel_l2" in report:
            line += f"  (PINN {report['ann_rel_l2']:.3e}; SNN vs PINN {report['rel_l2_vs_ann']:.3e})"
        print(line)
    else:
        _print_outputs(problem, report["output_ranges"], "SNN")
        if "rel_l2_vs_ann" in report:
            print(f"rel L2       {report['rel_l2_vs_ann']:.3e} SNN vs PINN")
    if "rel_l2_smoothed" in report:
        print(f"smoothed     {report['rel_l2_smoothed']:.3e} vs reference (low-pass, keep {report['smooth_keep']})")
    print(f"spike rate   {report['spike_rate']:.3f}  (per layer "
          f"{' '.join(f'{r:.3f}' for r in report['layer_rates'])})")
    print(f"per point    {report['hidden_messages_per_point']:.0f} spikes, {report['synops_per_point']:.0f} synaptic ops "
          f"= {report['synops_over_macs']:.2f} x the ANN's {report['ann_macs_per_point']} MACs")


def _cmd_convert(args) -> None:
    from loihi_pinn.conversion import convert_checkpoint, convert_model_file
    from loihi_pinn.io import check_output
    from loihi_pinn.models.imported import load_user_network
    from loihi_pinn.models.mlp import describe_mlp
    from loihi_pinn.neurons import NEURON_MODELS, get_neuron
    from loihi_pinn.problems import problem_from_metadata
    from loihi_pinn.training import load_checkpoint

    model = get_neuron(args.neuron)
    args.neuron = model.name                 # an alias (qcfs-if) names its model
    if args.dense_pieces and not model.takes_pieces:
        raise InputError(f"--dense-pieces concerns the ReLU pieces of smooth units, which the {model.name} neuron "
                         f"does not use; drop it")
    if args.pieces is not None and not model.takes_pieces:
        raise InputError(f"--pieces sets the ReLU pieces of a smooth unit, which the {model.name} neuron does not "
                         f"use; drop it (models that take it: "
                         f"{', '.join(m.name for m in NEURON_MODELS.values() if m.takes_pieces)})")
    saved = _saved_model_file(args.checkpoint, args)
    if saved:
        architecture = describe_mlp(load_user_network(args.checkpoint, args.activation)[0])
        default_out = Path(args.checkpoint).with_suffix(".snn")
    else:
        checkpoint = load_checkpoint(args.checkpoint)
        architecture = checkpoint.model.architecture
    if args.timesteps is None:
        args.timesteps = model.default_timesteps(architecture)
    if args.calibration is None:
        args.calibration = model.default_calibration
    if not saved:
        default_out = (f"runs/converted/{checkpoint.problem}_{args.neuron}_T{args.timesteps}_"
                       f"{args.calibration}.snn")
    out = check_output(args.out or default_out, force=args.force)
    count, points = (args.calibration_points, None) if isinstance(args.calibration_points, int) else \
        (0, _read_points(args.calibration_points))
    settings = dict(objective=args.objective, percentile=args.percentile,
                    pieces=PIECES if args.pieces is None else args.pieces, n_calibration=count, points=points,
                    iterations=args.iterations, seed=args.seed, progress=not args.quiet)
    if saved:
        net, report = convert_model_file(args.checkpoint, args.neuron, args.timesteps, args.calibration,
                                         domain=args.domain, problem=args.problem, raw_inputs=not args.unit_inputs,
                                         activation=args.activation, **settings)
    else:
        net, report = convert_checkpoint(checkpoint, args.neuron, args.timesteps, args.calibration, **settings)
    if args.dense_pieces:
        net.metadata["realization"] = "dense"
    net.save(out)
    _print_snn_report(net, problem_from_metadata(net.metadata, net.lower, net.upper, net.d_out), report)
    print(f"saved        {out}")


def _saved_model_file(text, args) -> bool:
    """Whether ``text`` is a user's saved network (a file that is not part of a checkpoint folder,
    nor a .snn or .net); the options that describe one (--domain, ...) are refused elsewhere."""
    from loihi_pinn.training.checkpoint import METADATA, WEIGHTS

    path = Path(text)
    saved = path.is_file() and path.name not in (WEIGHTS, METADATA) and path.suffix not in (".snn", ".net")
    if not saved and (args.domain or args.problem or args.raw_inputs or args.unit_inputs or args.activation):
        if not path.exists():
            raise InputError(f"no saved network at {path}; give a TorchScript file, a torch.save file or a DeepXDE "
                             f"checkpoint")
        raise InputError("--domain, --problem, --raw-inputs, --unit-inputs and --activation describe a saved network "
                         "file (TorchScript, torch.save, DeepXDE); a checkpoint, .snn or .net records its box")
    return saved


def _count_or_file(text: str):
    """argparse type: a whole number >= 1 (points drawn in the box) or a points file."""
    if text.isdigit():
        return _whole(1)(text)
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"{text!r} is neither a number of points nor a points file")
    return text


def _read_points(path):
    """Points from a .npy file or a text file with one point a row (comma or space separated)."""
    from loihi_pinn.problems.external import read_table

    return read_table(path, "points file")


def _values_path(path, force: bool):
    """Check a --out file for predictions before the work: .npy, .csv or .txt, writable, new
    unless ``force``."""
    from loihi_pinn.io import check_output

    if path is None:
        return None
    if Path(path).suffix.lower() not in VALUE_SUFFIXES:
        raise InputError(f"--out {path}: give a {', '.join(VALUE_SUFFIXES)} file for the predictions")
    return check_output(path, force=force)


def _points_and_reference(args, problem, default_points):
    """The problem with any --reference, and the points to predict at: --points(-file), else the
    reference data file's, else ``default_points()``."""
    from loihi_pinn.problems.external import with_reference

    given = getattr(args, "points_file", None) or (args.points if isinstance(args.points, str) else None)
    points = _read_points(given) if given else None
    if args.reference:
        problem, data_points = with_reference(problem, args.reference)
        if data_points is not None:
            if points is not None:
                raise InputError(f"--reference {args.reference} is a data file with its own points; drop the points "
                                 f"file, or give --reference module:function")
            points = data_points
    return problem, (default_points() if points is None else points), given or (
        args.reference if points is not None and args.reference else None)


def _save_values(path, values, problem) -> None:
    from loihi_pinn.io import write_values

    if path is not None:
        print(f"predictions  {write_values(path, values, problem.output_names)}  ({values.shape[0]} rows, "
              f"columns {', '.join(problem.output_names)})")


def _cmd_export(args) -> None:
    from loihi_pinn.export import export_converted
    from loihi_pinn.io import check_output

    if not Path(args.converted).is_file():
        raise InputError(f"no converted network at {args.converted}; make one with 'loihi-pinn convert'")
    out = check_output(args.out or Path(args.converted).with_suffix(".net"), force=args.force)
    if out.suffix == ".nir":
        return _export_nir(args.converted, out)
    path, report = export_converted(args.converted, out, n_calibration=args.calibration_points, seed=args.seed,
                                    headroom=args.headroom, weight_max=args.weight_max,
                                    calibrate=not args.no_calibration)
    suffix = "" if "rel_l2_float_snn" in report else "_vs_float_snn"
    line = "rel L2       " + (f"float SNN {report['rel_l2_float_snn']:.3e}, " if not suffix else "")
    line += f"fixed point {report['rel_l2_fixed_point' + suffix]:.3e}"
    if f"rel_l2_fixed_point_calibrated{suffix}" in report:
        line += f", after fixed-point calibration {report['rel_l2_fixed_point_calibrated' + suffix]:.3e}"
    print(line + (" vs the float SNN (no reference solution)" if suffix else ""))
    trials = report.get("weight_max_trials_rel_l2_vs_float_snn")
    if trials:
        print(f"weight_max   {report['weight_max']}, the closest to the float SNN on the calibration points of "
              + ", ".join(f"{w}: {e:.3e}" for w, e in trials.items()))
    print(f"per point    {report['steps_per_point']} steps, {report['messages_per_point']:.0f} spikes (messages), "
          f"{report['synops_per_point']:.0f} synaptic ops")
    print(f"saved        {path}")


def _export_nir(converted, out) -> None:
    """The float spiking network as a NIR graph (if_hard networks; export/nir_graph.py)."""
    from loihi_pinn.conversion import SpikingNetwork
    from loihi_pinn.export.nir_graph import write_nir

    snn = SpikingNetwork.load(converted)
    path = write_nir(snn, out)
    print(f"NIR graph    {' -> '.join(str(l.neurons) for l in snn.layers)} neurons ({snn.neuron}, float), "
          f"{snn.timesteps} steps per inference, input held; initial potentials in each IF node's metadata")
    print(f"saved        {path}")


def _cmd_finetune(args) -> None:
    from loihi_pinn.export.finetune import finetune_export, finetune_separable_export
    from loihi_pinn.io import check_output
    from loihi_pinn.loihi.finetune import FinetuneConfig

    source = Path(args.file)
    separable = source.is_dir()
    if not separable and not source.is_file():
        raise InputError(f"no netx file or separable export folder at {args.file}; make one with 'loihi-pinn export'")
    default = source.with_name(source.name + "_finetuned") if separable else source.with_name(source.stem + "_finetuned.net")
    out = check_output(args.out or default, force=args.force, folder=separable)
    if out.resolve() == source.resolve():
        raise InputError(f"--out {out} is the {'folder' if separable else 'file'} being fine-tuned; write the "
                         f"result under another name")
    config = FinetuneConfig(method=args.method, layerwise=args.layerwise, steps=args.steps, points=args.points,
                            tangents=args.tangents, lr=args.lr, seed=args.seed)
    tune = finetune_separable_export if separable else finetune_export
    path, report = tune(source, out, config, against=args.against, progress=not args.quiet)
    passes = (f"{report['jvps']} forward-mode JVPs" if args.method != "bp" else
              f"{report['backward_passes']} backward passes")
    print(f"held out     rel L2 vs {args.against} {report['target_rel_l2_before']:.3e} -> "
          f"{report['target_rel_l2_after']:.3e} ({config.validation_points} points of the box)")
    print(f"grid         rel L2 vs {report['grid_error_against']} {report['grid_rel_l2_before']:.3e} -> "
          f"{report['grid_rel_l2_after']:.3e}")
    print(f"work         {report['steps']} steps: {report['integer_passes']} integer passes, {passes}, "
          f"{report['integers_changed']} of {report['integers']} integers changed, {report['wall_s']:.0f} s")
    print(f"saved        {path}")


def _cmd_inspect(args) -> None:
    import json

    from loihi_pinn.export import read_model_card, read_netx
    from loihi_pinn.loihi.resources import estimate, format_estimate

    card = read_model_card(args.file)
    qnet = read_netx(args.file)
    print(format_estimate(estimate(qnet)))
    print("\nmodel card:")
    print(json.dumps(card, indent=2))


def _cmd_check(args) -> None:
    from loihi_pinn.loihi.resources import estimate, format_estimate, require_fit
    from loihi_pinn.runtime import Runner

    runner = Runner(args.file, "emulator")
    errors = runner.model_card.get("loihi_errors", {})
    est = estimate(runner.network, errors.get("synops_per_point"))
    print(format_estimate(est))
    require_fit(est, args.file)


def _stream_plan(args, card: dict, neuron: str):
    """The ``StreamPlan`` of ``run --stream`` (None without it): ``--reset-every`` or the model
    card's tested interval, ``--hold``."""
    from loihi_pinn.loihi.stream import StreamPlan

    if not args.stream:
        if args.reset_every is not None or args.hold is not None:
            raise InputError("--reset-every and --hold shape a stream: add --stream")
        return None
    reset_every = args.reset_every if args.reset_every is not None else card.get("stream", {}).get("reset_every")
    if reset_every is None:
        raise InputError(f"this file's model card has no tested stream ({neuron} neurons do not stream, or the file "
                         f"was exported before streams were): give --reset-every M, or re-export it")
    return StreamPlan(reset_every, 1 if args.hold is None else args.hold)


def _cmd_run(args) -> None:
    import numpy as np

    from loihi_pinn.evaluation import output_ranges, relative_l2
    from loihi_pinn.loihi.stream import serpentine
    from loihi_pinn.problems import problem_from_metadata
    from loihi_pinn.runtime import Runner

    out = _values_path(args.out, args.force)
    runner = Runner(args.file, args.backend, copies=args.copies, progress=not args.quiet)
    qnet = runner.network
    problem = problem_from_metadata(runner.model_card, qnet.lower, qnet.upper, qnet.d_out)
    stream = _stream_plan(args, runner.model_card, runner.network.neuron)

    def grid_sample():                         # args.points random grid points; None: the whole grid
        grid = problem.evaluation_points()
        if stream is not None:                 # a stream: the whole grid, neighbour after neighbour
            return grid[serpentine(problem.grid_shape)]
        return grid if args.points is None else grid[np.random.default_rng(args.seed).permutation(len(grid))[:args.points]]

    problem, points, _ = _points_and_reference(args, problem, grid_sample)
    outputs = runner.predict(points, stream)
    st = runner.stats
    print(f"backend      {st.backend}  ({st.points} points, {st.copies} network cop{'y' if st.copies == 1 else 'ies'} side by side)")
    if stream is not None:
        print(f"stream       reset to rest every {stream.reset_every or 'never (0)'} points, a point every "
              f"{stream.hold} step{'s' if stream.hold > 1 else ''}")
    if problem.has_reference:
        print(f"rel L2       {relative_l2(outputs, problem.reference(problem.check_points(points))):.3e} vs reference "
              f"({problem.reference_method})")
    else:
        _print_outputs(problem, output_ranges(outputs, problem.output_names))
    print(f"per point    {st.steps_per_point:.3g} time steps, {st.messages_per_point:.0f} spikes (messages), "
          f"{st.synops_per_point:.0f} synaptic ops")
    print(f"wall time    {st.wall_seconds:.2f} s  ({st.points / st.wall_seconds:.1f} points/s)")
    _save_values(out, outputs, problem)


DEMO_STUDENT = "poisson_relu"
"""The shipped ReLU student of the Poisson PINN (loihi-pinn train poisson --activation relu --init-from
poisson; benchmarks/loihi_cost/train.sh): the network the demo deploys."""


def _cmd_demo(args) -> None:
    """The main job on the shipped Poisson PINN: its ReLU student converted exactly to Loihi 2
    sigma-delta neurons, quantized, exported, run on the Lava simulator; the table and the
    reference | PINN | SNN | error plot."""
    import numpy as np

    from loihi_pinn.conversion import SpikingNetwork
    from loihi_pinn.evaluation import predict_model, relative_l2
    from loihi_pinn.io import check_output
    from loihi_pinn.loihi.stream import StreamPlan, serpentine
    from loihi_pinn.plotting import plot_solutions
    from loihi_pinn.problems import get_problem
    from loihi_pinn.runtime import Runner
    from loihi_pinn.training import load_checkpoint

    out = Path(args.out)
    snn_path, net_path, png_path = out / "poisson_relu.snn", out / "poisson_relu.net", out / "poisson.png"
    for path in (snn_path, net_path, png_path):
        check_output(path, force=args.force)
    student = load_checkpoint(DEMO_STUDENT)
    teacher = student.metadata["student"]["teacher"]
    print(f"== 1. the Poisson PINN ({teacher['checkpoint']}, tanh) and its ReLU student ({DEMO_STUDENT}: distilled on "
          f"dense points, rel L2 {student.metadata['student']['rel_l2_vs_teacher']:.2e} vs the PINN) ==")
    print("== 2. convert the student: sigma-delta (Loihi 2 native), one ReLU neuron a unit, exact ==")
    parser = build_parser()                  # the stages run as the commands would, with their defaults
    _cmd_convert(parser.parse_args(["convert", DEMO_STUDENT, "--neuron", "sigma_delta", "--calibration", "none",
                                    "--out", str(snn_path), "--force"]))
    print("\n== 3. quantize to Loihi 2 fixed point, export netx HDF5 ==")
    _cmd_export(parser.parse_args(["export", str(snn_path), "--out", str(net_path), "--force"]))
    problem = get_problem("poisson")
    grid = problem.evaluation_points()
    subset = grid[np.random.default_rng(0).permutation(len(grid))[:args.lava_points]]
    print(f"\n== 4. run the netx file on the Lava simulator ({len(subset)} grid points) ==")
    lava = Runner(net_path, "lava-sim")
    on_lava = lava.predict(subset)
    emulator = Runner(net_path, "emulator")
    same = np.array_equal(emulator.predict(subset), on_lava)
    on_grid = emulator.predict(grid)
    pinn = predict_model(load_checkpoint(teacher["checkpoint"]).model, grid)
    relu = predict_model(student.model, grid)
    reference = problem.reference(grid)
    st = emulator.stats
    print(f"Lava simulator == fixed-point emulator bit for bit: {'yes' if same else 'NO'} "
          f"({lava.stats.wall_seconds:.1f} s on Lava for {len(subset)} points)")
    macs = SpikingNetwork.load(snn_path).ann_macs()
    print("\n| stage | rel L2 vs reference | time steps / point | messages / point | synaptic ops / point |")
    print("|---|---:|---:|---:|---:|")
    print(f"| PINN (tanh ANN) | {relative_l2(pinn, reference):.3e} | - | - | {macs} MACs |")
    print(f"| ReLU student (ANN) | {relative_l2(relu, reference):.3e} | - | - | {macs} MACs |")
    card = emulator.model_card["loihi_errors"]
    print(f"| float SNN | {card['rel_l2_float_snn']:.3e} | - | - | - |")
    print(f"| Loihi fixed point (grid, emulator) | {relative_l2(on_grid, reference):.3e} | {st.steps_per_point:g} | "
          f"{st.messages_per_point:.0f} | {st.synops_per_point:.0f} ({st.synops_per_point / macs:.2f}x MACs) |")
    print(f"| Lava simulator ({len(subset)} points) | {relative_l2(on_lava, problem.reference(subset)):.3e} | "
          f"{lava.stats.steps_per_point:g} | {lava.stats.messages_per_point:.0f} | {lava.stats.synops_per_point:.0f} |")
    order = serpentine(problem.grid_shape)
    plan = StreamPlan(emulator.model_card["stream"]["reset_every"])
    streamed = emulator.predict(grid[order], plan)
    sst = emulator.stats
    print(f"| the grid as a stream (serpentine, reset every {plan.reset_every}; emulator) | "
          f"{relative_l2(streamed, reference[order]):.3e} | {sst.steps_per_point:.2g} | {sst.messages_per_point:.0f} | "
          f"{sst.synops_per_point:.0f} ({sst.synops_per_point / macs:.2f}x MACs) |")
    path = plot_solutions(problem, {"reference": reference, "PINN": pinn, "SNN on Loihi fixed point": on_grid},
                          png_path, title=f"poisson: ReLU student as a sigma-delta SNN in Loihi 2 fixed point, "
                                          f"rel L2 {relative_l2(on_grid, reference):.2e}")
    print(f"\nplot         {path}\nnetx file    {net_path}")
    if not same:
        raise InputError("the Lava simulator and the fixed-point emulator disagree; please report this")


def _cmd_snn_data(args) -> None:
    from tqdm import tqdm

    from loihi_pinn.io import check_output
    from loihi_pinn.problems.operator_data import make_dataset, save_dataset

    out = check_output(args.out or f"{args.dataset}.npz", force=args.force)
    extra = {"progress": tqdm} if args.dataset == "reaction_diffusion" and not args.quiet else {}
    data = make_dataset(args.dataset, seed=args.seed, **extra)
    shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in data.items() if hasattr(v, "shape") and v.ndim)
    print(f"data         {args.dataset}: {shapes}")
    if "solver_check" in data:
        print(f"solver       {data['notes']}; manufactured solution reproduced to {data['solver_check']:.1e}")
    print(f"saved        {save_dataset(data, out)}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loihi-pinn", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("problems", help="list the benchmark problems with their set-up").set_defaults(run=_cmd_problems)

    p = sub.add_parser("train", help="train a PINN for a benchmark problem")
    p.add_argument("problem", help="problem name (see 'loihi-pinn problems') or module:attribute (your own)")
    p.add_argument("--steps", type=_whole(0), help="Adam steps (default: the problem's)")
    p.add_argument("--lbfgs-steps", type=_whole(0), help="L-BFGS iterations after Adam (default: the problem's)")
    p.add_argument("--lr", type=_number(0, open_low=True), help="initial Adam learning rate")
    p.add_argument("--seed", type=_whole(0), default=0)
    p.add_argument("--threads", type=_whole(1), help="torch CPU threads")
    p.add_argument("--device", default="cpu", help="distilled networks (--init-from): train on cpu or cuda")
    p.add_argument("--batch", type=_whole(1), help="distilled networks: fresh points per Adam step (default 4096)")
    p.add_argument("--dtype", choices=["float32", "float64"], help="training precision (default: the problem's)")
    p.add_argument("--hidden-layers", type=_whole(1), help="tanh network: hidden layers (default: the problem's)")
    p.add_argument("--width", type=_whole(1), help="tanh network: units per hidden layer (default: the problem's)")
    p.add_argument("--out", help="checkpoint folder (default runs/PROBLEM, runs/PROBLEM_spinn for --model spinn)")
    p.add_argument("--force", action="store_true", help="replace an existing checkpoint folder")
    p.add_argument("--model", choices=["pinn", "spinn"], default="pinn",
                   help="spinn: separable PINN, one tanh network per input, trained on factorized grids")
    p.add_argument("--rank", type=_whole(1), help="spinn: features per output of each axis network (default: the problem's)")
    p.add_argument("--activation", choices=["tanh", "qcfs", "slip", "bitserial", "relu"], default="tanh",
                   help="qcfs / slip: quantization-aware activations for low-latency conversion (seed 004); "
                        "bitserial: B-bit QCFS for error-free bit-serial conversion (seed 003); "
                        "relu: a ReLU student distilled from --init-from, which sigma-delta runs exactly")
    p.add_argument("--levels", type=_whole(1), default=4, help="qcfs/slip: quasi-latency N")
    p.add_argument("--slope", type=_number(0, 1), default=0.2, help="slip: slope c in [0, 1]")
    p.add_argument("--bits", type=_whole(1), default=4, help="bitserial: bits B per activation (= time steps per layer)")
    p.add_argument("--shape", choices=["linear", "tanh"], default="tanh",
                   help="bitserial: QCFS clip (linear, seed 003) or tanh rounded to B bits")
    p.add_argument("--sparsity", type=_number(0), default=0.0,
                   help="bitserial: weight of the one-bit (spike) sparsity regularizer, seed 003 eq. (11)")
    p.add_argument("--init-from", help="qcfs/slip/bitserial: start from this tanh checkpoint's weights (fine-tuning)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_cmd_train)

    p = sub.add_parser("evaluate", help="predictions and errors of a saved network, checkpoint, .snn or .net")
    p.add_argument("model", help="checkpoint folder, shipped problem name, converted .snn, exported .net (run on the "
                                 "fixed-point emulator), or a saved network (TorchScript, torch.save, DeepXDE: give "
                                 "--domain)")
    p.add_argument("--plot", help="save reference | PINN (| SNN) | error figure to this PNG")
    p.add_argument("--points", help="evaluate at these points instead of the grid: .npy (n, d_in) "
                                    "or a text/.csv file with one point a row, physical coordinates")
    p.add_argument("--reference", help="compare against this: module:function (points -> values) or a data file "
                                       "of rows 'coordinates then values' (its points are used)")
    p.add_argument("--out", help="write the predictions (one row a point): .npy, .csv or .txt")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.add_argument("--domain", help="saved network: its input box, one lo:hi per input (x=0:1,t=0:0.5)")
    p.add_argument("--problem", help="saved network: the box, names and reference of this problem")
    _input_options(p)
    p.add_argument("--smooth", type=_number(0, 1, open_low=True), metavar="KEEP",
                   help="converted networks: also report the error after a low-pass filter keeping "
                        "this fraction of modes per axis (seed 000, Fig. 9)")
    p.set_defaults(run=_cmd_evaluate)

    from loihi_pinn.conversion import CALIBRATION_MODES, CALIBRATION_OBJECTIVES
    from loihi_pinn.neurons import NEURON_MODELS, neuron_choices
    p = sub.add_parser("convert", help="convert a saved network or a checkpoint to a calibrated spiking network")
    p.add_argument("checkpoint", metavar="MODEL",
                   help="your saved network (TorchScript, torch.save(model), a state dict, a DeepXDE checkpoint: "
                        "give --domain), a checkpoint folder or a shipped name")
    p.add_argument("--domain", help="saved network: its input box, one lo:hi per input (x=0:1,t=0:0.5)")
    p.add_argument("--problem", help="saved network: take the box, names and reference of this problem instead")
    _input_options(p)
    p.add_argument("--neuron", choices=neuron_choices(), default="sigma_delta",
                   help="; ".join(f"{' = '.join((m.name, *m.aliases))}: {m.description}" for m in NEURON_MODELS.values()))
    p.add_argument("--timesteps", type=_whole(1),
                   help="time steps T per inference (per layer for bitserial; default 32, or a bit-serial network's bits)")
    p.add_argument("--calibration", choices=CALIBRATION_MODES,
                   help="default advanced; none for bitserial (exact)")
    p.add_argument("--objective", choices=CALIBRATION_OBJECTIVES, default="output",
                   help="calibration loss per layer: its effect on the output (default) or its own error")
    p.add_argument("--percentile", type=_number(0, 100, open_low=True), default=99.9,
                   help="threshold percentile of activity")
    p.add_argument("--pieces", type=_whole(2), help=f"sigma_delta: ReLU pieces per smooth unit (default {PIECES})")
    p.add_argument("--dense-pieces", action="store_true",
                   help="sigma_delta: feed every piece from the whole previous layer (P^2 N^2 synapses) instead of "
                        "through a relay pair per unit that computes its pre-activation once (the default)")
    p.add_argument("--calibration-points", type=_count_or_file, default=2048, metavar="N|FILE",
                   help="points drawn in the box (default 2048), or a points file (.npy or text, one point a row)")
    p.add_argument("--iterations", type=_whole(1), default=300, help="calibration iterations per layer")
    p.add_argument("--seed", type=_whole(0), default=0)
    p.add_argument("--out", help="output file (default: MODEL.snn beside a saved network; "
                                 "runs/converted/PROBLEM_NEURON_T_CAL.snn for a checkpoint)")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_cmd_convert)

    p = sub.add_parser("export", help="quantize a converted network to Loihi 2 fixed point and write netx HDF5")
    p.add_argument("converted", help="converted network (.snn from 'loihi-pinn convert')")
    p.add_argument("--out", help="netx file (default: beside the input, NAME.net); a .nir name writes the float "
                                 "network as a NIR graph instead (if_hard networks)")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument("--calibration-points", type=_whole(1), default=2048)
    p.add_argument("--headroom", type=_number(1), default=2.0, help="24-bit state kept free above the calibration peak")
    p.add_argument("--weight-max", type=_whole(8),
                   help="largest hidden-layer file weight (<= 254); fewer weight bits leave more for activations "
                        "(default: the neuron model's: 15 for sigma-delta; the IF models try 15, 31, 63 and 127 "
                        "and keep the closest to the float SNN on the calibration points)")
    p.add_argument("--no-calibration", action="store_true", help="skip bias calibration on the fixed-point emulator")
    p.add_argument("--seed", type=_whole(0), default=0)
    p.set_defaults(run=_cmd_export)

    from loihi_pinn.export.finetune import TARGETS
    from loihi_pinn.loihi.finetune import METHODS
    p = sub.add_parser("finetune", help="fine-tune a sigma-delta export's integer weights through its bit-exact "
                                        "integer pass (randomized forward gradients, seed 002)")
    p.add_argument("file", help="netx file from 'loihi-pinn export', or the folder of a separable export (its axis "
                                "networks are fine-tuned together, through their product)")
    p.add_argument("--method", choices=METHODS, default="bp",
                   help="rfg: randomized forward gradients, random tangents on each layer's pre-activations, by "
                        "forward-mode AD (no backward pass); rfg-weights: seed 002's, tangents on the weights; bp: "
                        "the same gradient by back-propagation")
    p.add_argument("--layerwise", action="store_true", help="rfg-weights: random tangents a layer at a time "
                                                            "(RFG-L) instead of over all layers at once (RFG-G)")
    p.add_argument("--against", choices=TARGETS, default="pinn",
                   help="fine-tune towards the tanh PINN behind the export or the problem's reference solution")
    p.add_argument("--steps", type=_whole(1), default=400)
    p.add_argument("--points", type=_whole(1), default=1024, help="fresh points of the box a step")
    p.add_argument("--tangents", type=_whole(1), default=4, help="rfg: random tangents a step (a layer)")
    p.add_argument("--lr", type=_number(0, open_low=True), default=1e-3,
                   help="Adam learning rate: a fraction of each weight or bias tensor's largest integer a step")
    p.add_argument("--seed", type=_whole(0), default=0)
    p.add_argument("--out", help="netx file (folder, for a separable export) to write (default: beside the "
                                 "input, NAME_finetuned.net or FOLDER_finetuned)")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_cmd_finetune)

    p = sub.add_parser("inspect", help="layer table and model card of a netx file")
    p.add_argument("file")
    p.set_defaults(run=_cmd_inspect)

    p = sub.add_parser("check", help="Loihi 2 resources, fit on one chip, energy and latency per inference")
    p.add_argument("file")
    p.set_defaults(run=_cmd_check)

    from loihi_pinn.runtime import BACKENDS
    p = sub.add_parser("run", help="run a netx file on a backend: predictions, error (given a reference), activity, "
                                   "wall time")
    p.add_argument("file")
    p.add_argument("--backend", choices=BACKENDS, default="lava-sim")
    points = p.add_mutually_exclusive_group()
    points.add_argument("--points", type=_whole(1), default=64, help="random points of the evaluation grid")
    points.add_argument("--points-file", help="or these points (.npy or text, physical coordinates)")
    p.add_argument("--reference", help="compare against this: module:function (points -> values) or a data file "
                                       "of rows 'coordinates then values' (its points are run)")
    p.add_argument("--out", help="write the predictions (one row a point): .npy, .csv or .txt")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.add_argument("--copies", type=_whole(1), default=1, help="network copies side by side per Lava batch")
    p.add_argument("--stream", action="store_true",
                   help="sigma-delta: run the points as a stream in their order (without --points-file: the whole "
                        "evaluation grid in serpentine order), sending only what changes from point to point")
    p.add_argument("--reset-every", type=_whole(0), help="stream: points between resets to rest (0: never; default: "
                                                          "the model card's tested interval)")
    p.add_argument("--hold", type=_whole(1), help="stream: steps between points (default 1: pipelined)")
    p.add_argument("--seed", type=_whole(0), default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_cmd_run)

    p = sub.add_parser("demo", help="the whole pipeline on the shipped Poisson model's ReLU student, to the "
                                    "Lava simulator")
    p.add_argument("--out", default="runs/demo", help="folder for the files and the figure")
    p.add_argument("--lava-points", type=_whole(1), default=64, help="grid points run on the Lava simulator")
    p.add_argument("--force", action="store_true", help="replace the files of an earlier demo in --out")
    p.set_defaults(run=_cmd_demo)

    from loihi_pinn.cli_parametric import add_parametric_commands
    add_parametric_commands(sub, _whole)

    p = sub.add_parser("snn-data", help="make a data set of seed 002 (Mexican hat, 1D Poisson, reaction-diffusion)")
    p.add_argument("dataset", choices=["mexican_hat", "poisson_1d", "reaction_diffusion"])
    p.add_argument("--out", help="the .npz file (default: DATASET.npz)")
    p.add_argument("--seed", type=_whole(0), default=0)
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_cmd_snn_data)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Our warnings as one line on stderr (no source line); others as Python prints them."""
    if category.__module__.startswith("loihi_pinn"):
        print(f"warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def main(argv: list[str] | None = None) -> int:
    if "" not in sys.path:            # 'module:attribute' problems import from the current directory,
        sys.path.append("")           # as under 'python -m'; appended, so it shadows no installed module
    args = build_parser().parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        args.run(args)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:               # the file system said no: full disk, permissions, a vanished file
        where = f": {err.filename}" if err.filename else ""
        print(f"error: {err.strerror or err}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:            # the stages leave no partial output and no Lava process behind
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
