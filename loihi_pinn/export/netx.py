"""netx HDF5 files: write a quantized network so stock ``lava.lib.dl.netx.hdf5.Network`` loads it,
and read it back with every check a user's file deserves.

Layout (lava-dl 0.6.0 ``netx/hdf5.py``): ``layer/0`` is the input (``type`` "input", ``shape``
[d_in], no neuron: it is skipped and the points enter the first Dense as 24-bit messages);
``layer/1..n`` are ``dense`` layers with integer ``weight`` ``(n_out, n_in)``, ``bias`` (hidden
layers), ``neuron/vThMant`` and what the neuron model writes (``NeuronModel.write_neuron``:
``neuron/type`` and its parameters, e.g. SDNN's ``sigma_output`` on the readout, CUBA's decays,
IF models' calibrated ``v0``, which netx ignores). Stock types load with
``lava.lib.dl.netx.hdf5.Network``; our own (SIGNED_IF, BITSERIAL) with
``loihi_pinn.runtime.netx_ext.Network``, netx extended by them. The model card is a JSON string in
the root attribute ``loihi_pinn_model_card``, which netx never reads; it records the arguments
netx must load the file with (``netx_args``) and how points go in and outputs come out.
"""
from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from loihi_pinn.errors import InputError
from loihi_pinn.loihi.fixed_point import FixedPointLayer
from loihi_pinn.loihi.network import QuantizedNetwork
from loihi_pinn.neurons.registry import get_neuron

CARD_ATTR = "loihi_pinn_model_card"
FORMAT = "loihi-pinn-netx"
SUFFIX = ".net"
STOCK_LOADER = "lava.lib.dl.netx.hdf5.Network"
EXTENDED_LOADER = "loihi_pinn.runtime.netx_ext.Network"
CARD_KEYS = {"format", "version", "neuron", "timesteps", "netx_args", "netx_loader", "encoding", "input_scale",
             "output_scale", "output_offset", "lower", "upper", "steps_per_inference", "reset"}
"""Model card entries written from the network itself; the rest is the network's metadata."""


def write_string(group: h5py.Group, key: str, value: str) -> None:
    """A netx string dataset (``S10``, one element)."""
    group.create_dataset(key, (1,), "S10", [value.encode("ascii")])


def read_integers(data, what: str) -> np.ndarray:
    """An integer array from a dataset (or array) ``data``; a clear error for NaN or fractions."""
    data = np.asarray(data[()])
    if not np.issubdtype(data.dtype, np.number) or not np.all(np.isfinite(data)):
        raise InputError(f"{what} contains NaN or infinite values; re-export the network")
    if np.issubdtype(data.dtype, np.floating) and np.any(data != np.round(data)):
        raise InputError(f"{what} is not integer; netx truncates fractions, so quantize before export")
    return data.astype(np.int64)


def write_netx(qnet: QuantizedNetwork, path) -> Path:
    """Write ``qnet`` to ``path`` (conventionally ``NAME.net``); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = qnet.model
    card = {"format": FORMAT, "version": 1, "neuron": qnet.neuron, "timesteps": qnet.timesteps,
            "netx_args": model.netx_args,
            "netx_loader": (STOCK_LOADER if model.loihi_native else
                            f"{EXTENDED_LOADER} ({model.netx_type} layers; CPU simulator only)"),
            "encoding": model.encoding,
            "input_scale": qnet.input_scale, "output_scale": qnet.output_scale,
            "output_offset": list(qnet.output_offset), "lower": list(qnet.lower), "upper": list(qnet.upper),
            "steps_per_inference": qnet.steps, "reset": "state cleared between inferences",
            **qnet.metadata}
    with h5py.File(path, "w") as f:
        f.attrs[CARD_ATTR] = json.dumps(card)
        layer = f.create_group("layer")
        inp = layer.create_group("0")
        write_string(inp, "type", "input")
        inp.create_dataset("shape", data=np.array([qnet.d_in]))
        for i, l in enumerate(qnet.layers, start=1):
            g = layer.create_group(str(i))
            write_string(g, "type", "dense")
            g.create_dataset("shape", data=np.array([l.size]))
            g.create_dataset("weight", data=l.weight.astype(np.int32), compression="gzip")
            if not l.readout:
                g.create_dataset("bias", data=l.bias.astype(np.int32))
            g.create_dataset("neuron/vThMant", data=int(l.vth))
            model.write_neuron(g, l, i - 1, qnet)
    return path


def read_model_card(path) -> dict:
    """The model card of a netx file written by loihi-pinn (clear errors for anything else)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist; export one with 'loihi-pinn export CONVERTED --out {path}'")
    if not h5py.is_hdf5(path):
        raise InputError(f"{path} is not an HDF5 file (truncated or not a netx network)")
    try:
        with h5py.File(path, "r") as f:
            if "layer" not in f:
                raise InputError(f"{path} is HDF5 but not a netx network (no 'layer' group)")
            if CARD_ATTR not in f.attrs:
                raise InputError(f"{path} is a netx network without a loihi-pinn model card; "
                                 f"only files made by 'loihi-pinn export' carry the encoding a runner needs")
            card = json.loads(f.attrs[CARD_ATTR])
    except OSError as err:
        raise InputError(f"{path} cannot be read as HDF5 ({err}); the file is corrupted or truncated") from None
    if card.get("format") != FORMAT:
        raise InputError(f"{path}: model card format {card.get('format')!r}, expected {FORMAT!r}")
    return card


def read_netx(path) -> QuantizedNetwork:
    """Load a file written by ``write_netx`` back into a ``QuantizedNetwork``."""
    path = Path(path)
    card = read_model_card(path)
    model = get_neuron(str(card.get("neuron")))
    layers = []
    try:
        with h5py.File(path, "r") as f:
            group = f["layer"]
            for i in range(1, len(group)):
                g = group[str(i)]
                what = f"{path}: layer {i}"
                last = i == len(group) - 1
                kind = g["neuron/type"][0].decode()
                expected = model.readout_netx_type if last else model.netx_type
                if kind != expected:
                    raise InputError(f"{what} has neuron type {kind!r}, the model card says {model.name!r} "
                                     f"({expected}); loihi-pinn runs the networks it exported")
                weight = read_integers(g["weight"], f"{what} weight")
                bias = read_integers(g["bias"], f"{what} bias") if "bias" in g else np.zeros(len(weight), np.int64)
                layers.append(FixedPointLayer(weight, bias, int(g["neuron/vThMant"][()]), readout=last,
                                              **model.read_neuron(g, readout=last, what=what)))
    except (KeyError, OSError) as err:
        raise InputError(f"{path}: malformed netx layout ({err}); re-export the network") from None
    meta = {k: v for k, v in card.items() if k not in CARD_KEYS}
    return QuantizedNetwork(layers, card["input_scale"], card["output_scale"], card["output_offset"], card["lower"],
                            card["upper"], meta, neuron=model.name, timesteps=card.get("timesteps", 1))
