"""Run a loihi-pinn netx export (sigma-delta) with stock Lava only: lava-nc, lava-dl, numpy, h5py.

    python run_with_stock_lava.py poisson.net points.npy --out u.npy

POINTS: ``.npy`` ``(n, d_in)`` or a text file (``.csv`` comma separated) of physical coordinates,
one point a row; the predictions ``(n, d_out)`` are printed, or written to ``--out`` (.npy or
text). Everything comes from the file's model card (``loihi_pinn_model_card``, a JSON root
attribute): the netx load arguments, the box and input scale (the encoding), the output scale and
offset (the decoding) and the steps per inference. Each point is one inference from zero state:
its messages enter at the first of ``steps + 1`` steps, the readout's sigma is read at step
``steps``, and every state is zeroed after the idle last step, so all points stream through one
graph (the card's ``stock_lava`` section says the same in words).
"""
import argparse
import json
import sys

import h5py
import numpy as np

STATES = ("sigma", "act", "residue")     # SigmaDelta Vars that carry an inference's state


def read_card(path):
    with h5py.File(path, "r") as f:
        return json.loads(f.attrs["loihi_pinn_model_card"])


def encode(points, card):
    """Integer input messages (n, d_in): the box mapped to [-1, 1], times input_scale, rounded."""
    lower, upper = np.asarray(card["lower"]), np.asarray(card["upper"])
    return np.rint((2 * (points - lower) / (upper - lower) - 1) * card["input_scale"]).astype(np.int64)


def decode(sigma, card):
    """Physical outputs (n, d_out) from the readout's sigma (n, d_out)."""
    return sigma / card["output_scale"] + np.asarray(card["output_offset"])


def run(path, points):
    """Predictions (n, d_out) of the netx file ``path`` at ``points`` (n, d_in), on the Lava CPU
    simulator in fixed point."""
    card = read_card(path)
    if card["neuron"] != "sigma_delta":
        sys.exit(f"{path}: a {card['neuron']} network; this script runs sigma-delta exports (SDNN layers)")
    from lava.lib.dl import netx
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.reset import Reset
    from lava.proc.io.sink import Read
    from lava.proc.io.source import RingBuffer

    steps = card["steps_per_inference"]
    interval = steps + 1                                      # + one idle step, at whose end states are zeroed
    messages = encode(points, card)
    n, d_in = messages.shape
    data = np.zeros((d_in, n * interval), np.int32)
    data[:, ::interval] = messages.T                          # each point's messages at its first step
    net = netx.hdf5.Network(path, **card["netx_args"])
    source = RingBuffer(data=data)
    source.s_out.connect(net.inp)
    reader = Read(buffer=n, interval=interval, offset=steps - 1)   # the end of step `steps` of each inference
    reader.connect_var(net.layers[-1].neuron.sigma)
    neurons = [layer.neuron for layer in net.layers]
    resets = []
    for var in [getattr(nr, s) for nr in neurons[:-1] for s in STATES] + [neurons[-1].sigma]:
        resets.append(Reset(reset_value=0, interval=interval, offset=interval - 1))
        resets[-1].connect_var(var)
    net.run(condition=RunSteps(n * interval), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    sigma = np.asarray(reader.data.get()).T                   # (n, d_out)
    net.stop()
    return decode(sigma, card)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="netx file exported by loihi-pinn (sigma-delta)")
    parser.add_argument("points", help=".npy (n, d_in) or text file, one point a row, physical coordinates")
    parser.add_argument("--out", help="write the predictions here (.npy, or text)")
    args = parser.parse_args()
    if args.points.endswith(".npy"):
        points = np.load(args.points)
    else:
        points = np.loadtxt(args.points, delimiter="," if args.points.endswith(".csv") else None, ndmin=2)
    u = run(args.file, np.asarray(points, dtype=np.float64).reshape(len(points), -1))
    if args.out is None:
        np.savetxt(sys.stdout, u, fmt="%.9g")
    elif args.out.endswith(".npy"):
        np.save(args.out, u)
    else:
        np.savetxt(args.out, u, delimiter="," if args.out.endswith(".csv") else " ", fmt="%.9g")


if __name__ == "__main__":
    main()
