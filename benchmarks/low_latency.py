"""Low-latency conversion on five PDEs: rel L2 and spikes per inference versus T.

    bash benchmarks/low_latency/train.sh                 # the QCFS / SlipReLU / B-bit networks (~35 min)
    .venv/bin/python benchmarks/low_latency.py [PROBLEM ...]   # this table (resumable per problem)
    bash benchmarks/low_latency/sparsity.sh && .venv/bin/python benchmarks/low_latency.py --sparsity

Methods, per T in {1, 2, 4, 8, 16, 32} (T = time steps per inference for the rate-coded IF
neurons, bits = steps per layer for the bit-serial neuron):

- seed 000: the tanh PINN on the signed IF neuron, advanced calibration at each T;
- QCFS (N = 4) and SlipReLU (N = 4, c = 0.2, 0.5), seed 004: distilled networks on the signed IF
  neuron with v(0) = theta / 2, no calibration (``--neuron qcfs-if``);
- bit-serial, seed 003: the tanh PINN rounded to T bits (no training), and distilled B-bit
  networks at T = B in {4, 8}; exact conversion, so the SNN error is the B-bit network's. For
  the distilled ones the fixed-point run is also checked equal to its integer network on the
  whole grid, and the Lava simulator equal to the fixed-point run on LAVA_POINTS points; the
  tanh-rounded ones are also run in Loihi fixed point at every T;
- the sigma-delta default (K = 8 ReLU pieces, advanced calibration): graded, one inference in
  L + 1 steps whatever T.

Also the seed 004 selection criterion for (N, c), with errors for accuracies (see
``criterion``). Writes results/low_latency_PROBLEM.json, figures/low_latency_PROBLEM.png and the
low-latency section of RESULTS.md.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from common import FIGURES_DIR, HERE, load_json, machine, save_json, write_section  # noqa: E402

from loihi_pinn.conversion import convert, convert_checkpoint, emulate  # noqa: E402
from loihi_pinn.conversion.workflow import calibration_points  # noqa: E402
from loihi_pinn.evaluation import predict_model, relative_l2  # noqa: E402
from loihi_pinn.export import write_netx  # noqa: E402
from loihi_pinn.loihi import quantize  # noqa: E402
from loihi_pinn.neurons.bitserial import bitserial_steps, integer_reference  # noqa: E402
from loihi_pinn.neurons import get_neuron  # noqa: E402
from loihi_pinn.problems import get_problem  # noqa: E402
from loihi_pinn.runtime import Runner  # noqa: E402
from loihi_pinn.training import load_checkpoint  # noqa: E402

PROBLEMS = ("poisson", "diffusion_reaction", "wave", "burgers", "beltrami")
TIMESTEPS = (1, 2, 4, 8, 16, 32)
MAX_BITS = 16                      # a 2^B - 1 threshold table; 32 bits is not a neuron
QUANTIZED = {"QCFS N=4": "qcfs4", "SlipReLU N=4 c=0.2": "slip4_c0.2", "SlipReLU N=4 c=0.5": "slip4_c0.5"}
TRAINED_BITS = (4, 8)
CHECKPOINTS = HERE / "low_latency" / "checkpoints"
ITERATIONS = 150
LAVA_POINTS = 16


def _entry(net, grid, reference, steps: int, **extra) -> dict:
    out, stats = emulate(net, grid)
    return {"rel_l2": relative_l2(out, reference), "spikes": stats.per_point()["hidden_messages_per_point"],
            "steps": steps, **extra}


def _bitserial_check(net, problem) -> dict:
    """Fixed point == integer network on the grid; Lava == fixed point on a few points."""
    grid, reference = problem.evaluation_points(), problem.reference(problem.evaluation_points())
    qnet = quantize(net, calibration_points(problem, 2048, 1))
    messages = qnet.encode(grid)
    raw, _ = qnet.run_integers(messages)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_netx(qnet, Path(tmp) / "b.net")
        lava = Runner(path, "lava-sim", progress=False)
        emulator = Runner(path, "emulator")
        few = grid[np.linspace(0, len(grid) - 1, LAVA_POINTS).astype(int)]
        lava_equal = bool(np.array_equal(lava.predict(few), emulator.predict(few)))
    return {"fixed_point_rel_l2": relative_l2(qnet.decode(raw), reference),
            "fixed_point_equals_integer_network": bool(np.array_equal(raw, integer_reference(qnet.layers, messages))),
            "lava_equals_fixed_point": lava_equal, "lava_points": LAVA_POINTS}


def fixed_point_sweep(name: str) -> dict:
    """The tanh-rounded bit-serial networks in Loihi fixed point, per T: rel L2 on the grid (the
    24-bit potential must hold B-bit levels times 8-bit weights times the fan-in)."""
    problem = get_problem(name)
    grid = problem.evaluation_points()
    reference = problem.reference(grid)
    tanh, rows = load_checkpoint(name), {}
    for T in (t for t in TIMESTEPS if t <= MAX_BITS):
        net = convert(tanh.model, "bitserial", T, calibration_points(problem, 2048, 0))
        qnet = quantize(net, calibration_points(problem, 2048, 1))
        raw, stats = qnet.run_integers(qnet.encode(grid))
        rows[str(T)] = {"rel_l2": relative_l2(qnet.decode(raw), reference),
                        "spikes": sum(stats.messages) / len(grid), "steps": stats.steps}
    return rows


SPARSITY = ("0", "1e-4", "1e-2", "1e-1")


def sparsity_table() -> str:
    """Seed 003's one-bit regularizer: Burgers, 8 bits, per lambda (benchmarks/low_latency/sparsity.sh)."""
    problem = get_problem("burgers")
    grid = problem.evaluation_points()
    reference = problem.reference(grid)
    lines = ["| lambda | rel L2 | spikes per inference | one-bit fraction |", "|---:|---:|---:|---:|"]
    for weight in SPARSITY:
        ckpt = load_checkpoint(CHECKPOINTS / f"burgers_bits8_sparsity{weight}")
        out, stats = emulate(convert(ckpt.model, "bitserial", 8, calibration_points(problem, 512, 0)), grid)
        lines.append(f"| {weight} | {relative_l2(out, reference):.2e} | {stats.per_point()['hidden_messages_per_point']:.0f} "
                     f"| {stats.spike_rate:.3f} |")
    return "\n".join(lines)


def criterion(pinn: float, ann: float, snn: float) -> float:
    """Seed 004, Sect. 4.4, with rel L2 errors for accuracies: 1/2 |e_PINN - e_ANN| + 1/2 |e_ANN - e_SNN|."""
    return 0.5 * abs(pinn - ann) + 0.5 * abs(ann - snn)


def measure(name: str) -> dict:
    problem = get_problem(name)
    grid = problem.evaluation_points()
    reference = problem.reference(grid)
    points = calibration_points(problem, 2048, 0)
    tanh = load_checkpoint(name)
    layers = len(tanh.model.architecture["layer_sizes"]) - 1
    result = {"problem": name, "pinn_rel_l2": relative_l2(predict_model(tanh.model, grid), reference),
              "layers": layers, "methods": {}}
    methods = result["methods"]
    start = time.perf_counter()
    methods["signed IF (seed 000), calibrated"] = {
        str(T): _entry(convert_checkpoint(tanh, "signed_if", T, "advanced", iterations=ITERATIONS, progress=False)[0],
                       grid, reference, get_neuron("signed_if").steps_per_inference(T, layers)) for T in TIMESTEPS}
    for label, tag in QUANTIZED.items():
        ckpt = load_checkpoint(CHECKPOINTS / f"{name}_{tag}")
        ann = relative_l2(predict_model(ckpt.model, grid), reference)
        methods[label] = {str(T): _entry(convert(ckpt.model, "signed_if", T, points), grid, reference,
                                         get_neuron("signed_if").steps_per_inference(T, layers)) for T in TIMESTEPS}
        methods[label]["ann_rel_l2"] = ann
        methods[label]["criterion"] = criterion(result["pinn_rel_l2"], ann, methods[label]["4"]["rel_l2"])
    methods["bit-serial, tanh rounded to T bits"] = {
        str(T): _entry(convert(tanh.model, "bitserial", T, points), grid, reference, bitserial_steps(T, layers))
        for T in TIMESTEPS if T <= MAX_BITS}
    methods["bit-serial, distilled B = T bits"] = {}
    for bits in TRAINED_BITS:
        ckpt = load_checkpoint(CHECKPOINTS / f"{name}_bits{bits}")
        net = convert(ckpt.model, "bitserial", bits, points)
        ann = relative_l2(predict_model(ckpt.model, grid), reference)
        methods["bit-serial, distilled B = T bits"][str(bits)] = _entry(
            net, grid, reference, bitserial_steps(bits, layers), ann_rel_l2=ann, **_bitserial_check(net, problem))
    sd, _ = convert_checkpoint(tanh, "sigma_delta", 8, "advanced", iterations=ITERATIONS, progress=False)
    methods["sigma-delta K=8 (default)"] = {"graded": _entry(sd, grid, reference, layers + 1)}
    result["seconds"] = time.perf_counter() - start
    result["machine"] = machine()
    return result


def plot(result: dict) -> Path:
    fig, (ax_err, ax_spk) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, rows in result["methods"].items():
        ts = [k for k in rows if k.isdigit()]
        if ts:
            x = [int(t) for t in ts]
            style = "s--" if "bit-serial" in label else "o-"
            ax_err.loglog(x, [rows[t]["rel_l2"] for t in ts], style, label=label)
            ax_spk.loglog(x, [rows[t]["spikes"] for t in ts], style, label=label)
        else:
            ax_err.axhline(rows["graded"]["rel_l2"], color="gray", ls=":", label=f"{label}, {rows['graded']['steps']} steps")
            ax_spk.axhline(rows["graded"]["spikes"], color="gray", ls=":")
    pinn = result["pinn_rel_l2"]
    ax_err.axhline(pinn, color="k", lw=1, label="tanh PINN")
    ax_err.axhline(1.5 * pinn, color="k", lw=1, ls="--", label="1.5 x PINN (target)")
    ax_err.set(xlabel="T (time steps; bits per layer for bit-serial)", ylabel="rel L2 vs reference",
               title=f"{result['problem']}: error")
    ax_spk.set(xlabel="T", ylabel="spikes per inference", title="activity")
    ax_err.legend(fontsize=7)
    fig.tight_layout()
    FIGURES_DIR.mkdir(exist_ok=True)
    path = FIGURES_DIR / f"low_latency_{result['problem']}.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def table(result: dict) -> str:
    head = "| method | " + " | ".join(f"T = {t}" for t in TIMESTEPS) + " | other |"
    lines = [f"**{result['problem']}** (tanh PINN {result['pinn_rel_l2']:.2e}; cells: rel L2 / spikes per inference)",
             "", head, "|" + "---|" * (len(TIMESTEPS) + 2)]
    for label, rows in result["methods"].items():
        cells = [f"{rows[str(t)]['rel_l2']:.2e} / {rows[str(t)]['spikes']:.0f}" if str(t) in rows else "-"
                 for t in TIMESTEPS]
        other = []
        if "ann_rel_l2" in rows:
            other.append(f"network itself {rows['ann_rel_l2']:.2e}, criterion {rows['criterion']:.2e}")
        if "graded" in rows:
            other.append(f"{rows['graded']['rel_l2']:.2e} / {rows['graded']['spikes']:.0f} in {rows['graded']['steps']} steps")
        for t, row in rows.items():
            if isinstance(row, dict) and "fixed_point_rel_l2" in row:
                other.append(f"B = {t}: network {row['ann_rel_l2']:.2e}, fixed point {row['fixed_point_rel_l2']:.2e}, "
                             f"= integer net {row['fixed_point_equals_integer_network']}, "
                             f"Lava = fixed point {row['lava_equals_fixed_point']}")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {'; '.join(other)} |")
    best = min(QUANTIZED, key=lambda k: result["methods"][k]["criterion"])
    lines += ["", f"Seed 004 criterion picks **{best}** for {result['problem']}."]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("problems", nargs="*", default=list(PROBLEMS))
    parser.add_argument("--redo", action="store_true", help="measure again problems already in results/")
    parser.add_argument("--sparsity", action="store_true", help="only the bit-sparsity table (after sparsity.sh)")
    args = parser.parse_args(argv)
    if args.sparsity:
        text = ["### 6b. Bit-sparsity regularizer (seed 003, eq. 11), Burgers, 8-bit bit-serial", "",
                "Command: `bash benchmarks/low_latency/sparsity.sh && .venv/bin/python benchmarks/low_latency.py "
                f"--sparsity` ({machine()}). Seed 003 reports 2.5-4.1x fewer spikes for a small accuracy cost on CIFAR.",
                "", sparsity_table(), "",
                "Every bit of a PINN activation carries output precision, so fewer one-bits cost error quickly: "
                "the regularizer is a spike budget knob here, not the nearly free saving it is for a classifier."]
        print("\n".join(text))
        return write_section("low-latency-sparsity", "\n".join(text))
    for name in args.problems:
        result = None if args.redo else load_json(f"low_latency_{name}")
        result = result or measure(name)
        fixed = "bit-serial, tanh rounded, Loihi fixed point"
        if fixed not in result["methods"]:
            result["methods"][fixed] = fixed_point_sweep(name)
        save_json(f"low_latency_{name}", result)
        print(table(result), f"\nplot: {plot(result)}", flush=True)
    done = [r for r in (load_json(f"low_latency_{n}") for n in PROBLEMS) if r]
    text = ["## 6. Low-latency conversion: QCFS / SlipReLU (seed 004) and bit-serial (seed 003)", "",
            f"Command: `bash benchmarks/low_latency/train.sh && .venv/bin/python benchmarks/low_latency.py` "
            f"({done[0]['machine'] if done else machine()}).", ""]
    for result in done:
        text += [table(result), "", f"![{result['problem']}](figures/low_latency_{result['problem']}.png)", ""]
    write_section("low-latency", "\n".join(text))


if __name__ == "__main__":
    sys.exit(main())
