"""The float spiking network as a NIR graph (nir 1.0.8), where NIR can express its neurons.

Only ``if_hard`` networks can: NIR's IF node is v += R I, a spike when v > v_threshold, v set to
v_reset, which is the hard-reset IF here with R = 1, dt = 1 and v_reset = 0 (``nir_note`` of the
other models says why theirs cannot: NIR has no sigma-delta/graded node, no negative spikes with
reset by subtraction, no bit-serial neuron).

Graph (one time step = dt = 1, the input held for ``timesteps`` steps):

    input (physical x, d_in) -> affine_0 -> if_0 -> affine_1 -> if_1 -> ... -> affine_L -> readout (I, R = 1)
        -> scale (Affine, 1/T) -> output

``affine_0`` folds the box normalization (x -> [-1, 1]^d) into the first layer; a spike of layer
l is worth its threshold theta_l, folded into ``affine_{l+1}``. The readout integrates for T
steps and ``scale`` divides by T: the output after step T is the network's answer. NIR has no
initial state; each IF node's ``metadata["v0"]`` holds the calibrated initial potentials
(zero after ``--calibration none``), and the graph's metadata the number of steps and how to read it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from loihi_pinn.conversion.network import SpikingNetwork
from loihi_pinn.errors import InputError
from loihi_pinn.io import replacing

NIR_SUFFIX = ".nir"


def to_nir(snn: SpikingNetwork):
    """The ``nir.NIRGraph`` of the float network ``snn`` (``if_hard`` only; otherwise an
    ``InputError`` with the model's ``nir_note``)."""
    import nir

    model = snn.model
    if model.nir_note is not None:
        raise InputError(f"a {model.name} network cannot be written as NIR: {model.nir_note}. Convert with "
                         f"--neuron if_hard for a NIR export, or export netx for Loihi 2")
    lo, hi = np.asarray(snn.lower, dtype=np.float64), np.asarray(snn.upper, dtype=np.float64)
    folded = [(w.numpy(), b.numpy()) for w, b in snn.neuron_level()]
    w0, b0 = folded[0]
    folded[0] = (w0 * (2 / (hi - lo)), b0 - w0 @ ((hi + lo) / (hi - lo)))      # physical x in, not [-1, 1]
    nodes, edges, previous = {"input": nir.Input(input_type=np.array([snn.d_in]))}, [], "input"
    spike_value = 1.0
    for i, ((w, b), layer) in enumerate(zip(folded, snn.layers)):
        nodes[f"affine_{i}"] = nir.Affine(weight=w * spike_value, bias=b)
        edges.append((previous, f"affine_{i}"))
        if layer.is_readout:
            nodes["readout"] = nir.I(r=np.ones(len(b)))
            edges.append((f"affine_{i}", "readout"))
            break
        node = model.nir_node(layer.threshold, len(b))
        node.metadata = {"v0": layer.v0.double().reshape(-1).numpy(), "v0_note": "initial potential"}
        nodes[f"if_{i}"] = node
        edges.append((f"affine_{i}", f"if_{i}"))
        previous, spike_value = f"if_{i}", float(layer.threshold)
    d_out = snn.d_out
    nodes["scale"] = nir.Affine(weight=np.eye(d_out) / snn.timesteps, bias=np.zeros(d_out))
    nodes["output"] = nir.Output(output_type=np.array([d_out]))
    edges += [("readout", "scale"), ("scale", "output")]
    metadata = {"timesteps": snn.timesteps, "dt": 1.0,
                "read": f"output after step {snn.timesteps}, the input x (physical units) held at every step",
                "v0": "each IF node's metadata['v0']: its initial potentials (NIR has no initial state)",
                "lower": lo, "upper": hi, "problem": str(snn.metadata.get("problem", "unnamed"))}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def write_nir(snn: SpikingNetwork, path) -> Path:
    """Write ``to_nir(snn)`` to ``path`` (HDF5, ``nir.write``) all at once; returns the path."""
    import nir

    graph = to_nir(snn)
    path = Path(path)
    with replacing(path) as tmp:
        nir.write(tmp, graph)
    return path
