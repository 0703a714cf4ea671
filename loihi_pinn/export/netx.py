"""netx HDF5 files: write a quantized network so stock ``lava.lib.dl.netx.hdf5.Network`` loads it,
and read it back with every check a user's file deserves.

Layout (lava-dl 0.6.0 ``netx/hdf5.py``): ``layer/0`` is the input (``type`` "input", ``shape``
[d_in], no neuron: it is skipped and the points enter the first Dense as 24-bit messages);
``layer/1..n`` are ``dense`` layers with integer ``weight`` ``(n_out, n_in)``, ``bias`` and
``neuron/{type = SDNN, vThMant}``; the readout also has ``neuron/sigma_output``. IF-hard-reset
networks use ``neuron/{type = CUBA, iDecay = 4096, vDecay = 0, vThMant, refDelay}`` (netx: du =
4095, dv = 0) and keep calibrated initial potentials in ``neuron/v0``, which netx ignores.
Seed 000's signed IF layers have ``neuron/type = SIGNED_IF`` and ``neuron/signed``; seed 003's
bit-serial layers (readout included) ``neuron/type = BITSERIAL`` with ``neuron/{levels, bits,
start, accumulate, interval, readout}`` (``loihi/bitserial.py``); both load with
``loihi_pinn.runtime.netx_ext.Network``, netx extended by these neuron types. The model
card is a JSON string in the root attribute ``loihi_pinn_model_card``, which netx never reads.
netx must load these files with ``NETX_ARGS`` (skip the input layer, 24-bit input messages,
``spike_exp = 0``); the model card records them.
"""
from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from loihi_pinn.errors import InputError
from loihi_pinn.loihi import FixedPointLayer, QuantizedNetwork
from loihi_pinn.loihi.bitserial import schedule
from loihi_pinn.loihi.fixed_point import NETX_ARGS

CARD_ATTR = "loihi_pinn_model_card"
NETX_TYPES = {"sigma_delta": "SDNN", "if_hard": "CUBA", "signed_if": "SIGNED_IF", "bitserial": "BITSERIAL"}  # hidden
CUSTOM = ("signed_if", "bitserial")             # our own neuron types: runtime/netx_ext.Network loads them
FORMAT = "loihi-pinn-netx"
SUFFIX = ".net"


def _string(group: h5py.Group, key: str, value: str) -> None:
    group.create_dataset(key, (1,), "S10", [value.encode("ascii")])


def write_netx(qnet: QuantizedNetwork, path) -> Path:
    """Write ``qnet`` to ``path`` (conventionally ``NAME.net``); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sdnn = qnet.neuron == "sigma_delta"
    card = {"format": FORMAT, "version": 1, "neuron": qnet.neuron, "timesteps": qnet.timesteps,
            "netx_args": NETX_ARGS if sdnn else {"skip_layers": 1, "input_message_bits": 24},
            "netx_loader": (f"loihi_pinn.runtime.netx_ext.Network ({NETX_TYPES[qnet.neuron]} layers; CPU simulator only)"
                            if qnet.neuron in CUSTOM else "lava.lib.dl.netx.hdf5.Network"),
            "encoding": ("input messages round(x_normalized * input_scale), sent once; "
                         "output = readout sigma / output_scale + output_offset") if sdnn else
                        ("input messages round(x_normalized * input_scale), sent once; output = readout u after "
                         "steps_per_inference steps / output_scale + output_offset") if qnet.neuron == "bitserial" else
                        ("input messages round(x_normalized * input_scale), sent every step; output = readout v "
                         "after steps_per_inference steps / output_scale + output_offset; initial v from neuron/v0"),
            "input_scale": qnet.input_scale, "output_scale": qnet.output_scale,
            "output_offset": list(qnet.output_offset), "lower": list(qnet.lower), "upper": list(qnet.upper),
            "steps_per_inference": qnet.steps, "reset": "state cleared between inferences",
            **qnet.metadata}
    with h5py.File(path, "w") as f:
        f.attrs[CARD_ATTR] = json.dumps(card)
        layer = f.create_group("layer")
        inp = layer.create_group("0")
        _string(inp, "type", "input")
        inp.create_dataset("shape", data=np.array([qnet.d_in]))
        for i, l in enumerate(qnet.layers, start=1):
            g = layer.create_group(str(i))
            _string(g, "type", "dense")
            g.create_dataset("shape", data=np.array([l.size]))
            g.create_dataset("weight", data=l.weight.astype(np.int32), compression="gzip")
            if not l.readout:
                g.create_dataset("bias", data=l.bias.astype(np.int32))
            g.create_dataset("neuron/vThMant", data=int(l.vth))
            if sdnn:
                _string(g, "neuron/type", "SDNN")
                if l.readout:
                    g.create_dataset("neuron/sigma_output", data=True)
            elif qnet.neuron == "bitserial":                      # our process (runtime/bitserial.py)
                _string(g, "neuron/type", NETX_TYPES["bitserial"])
                start, accumulate = schedule(qnet.timesteps, len(qnet.layers))[i - 1]
                levels = l.levels if l.levels is not None else np.zeros(2 ** qnet.timesteps - 1, np.int64)
                g.create_dataset("neuron/levels", data=levels.astype(np.int32))
                for key, value in (("bits", qnet.timesteps), ("start", start), ("accumulate", accumulate),
                                   ("interval", qnet.steps), ("readout", int(l.readout))):
                    g.create_dataset(f"neuron/{key}", data=value)
            elif qnet.neuron == "signed_if" and not l.readout:    # our process (runtime/signed_if.py)
                _string(g, "neuron/type", NETX_TYPES["signed_if"])
                g.create_dataset("neuron/signed", data=int(l.signed))
                if l.v0 is not None and np.any(l.v0):
                    g.create_dataset("neuron/v0", data=l.v0.astype(np.int32))
            else:                 # IF with hard reset: du = iDecay - 1 = 4095, dv = 0 (netx's mapping)
                _string(g, "neuron/type", "CUBA")
                g.create_dataset("neuron/iDecay", data=4096)
                g.create_dataset("neuron/vDecay", data=0)
                g.create_dataset("neuron/refDelay", data=1)
                if l.v0 is not None and np.any(l.v0):
                    g.create_dataset("neuron/v0", data=l.v0.astype(np.int32))   # netx ignores it; runners set v
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


def _integers(data: np.ndarray, what: str, path: Path) -> np.ndarray:
    if not np.issubdtype(data.dtype, np.number) or not np.all(np.isfinite(data)):
        raise InputError(f"{path}: {what} contains NaN or infinite values; re-export the network")
    if np.issubdtype(data.dtype, np.floating) and np.any(data != np.round(data)):
        raise InputError(f"{path}: {what} is not integer; netx truncates fractions, so quantize before export")
    return data.astype(np.int64)


def read_netx(path) -> QuantizedNetwork:
    """Load a file written by ``write_netx`` back into a ``QuantizedNetwork``."""
    path = Path(path)
    card = read_model_card(path)
    layers = []
    try:
        with h5py.File(path, "r") as f:
            group = f["layer"]
            for i in range(1, len(group)):
                g = group[str(i)]
                kind = g["neuron/type"][0].decode()
                last = i == len(group) - 1
                expected = NETX_TYPES.get(card.get("neuron"))
                if last and card.get("neuron") in ("if_hard", "signed_if"):
                    expected = "CUBA"                             # the integrating readout
                if kind != expected:
                    raise InputError(f"{path}: layer {i} has neuron type {kind!r}, the model card says "
                                     f"{card.get('neuron')!r}; loihi-pinn runs the networks it exported")
                readout = "sigma_output" in g["neuron"] if kind == "SDNN" else last
                levels = None
                if kind == "BITSERIAL" and not last:
                    levels = _integers(g["neuron/levels"][()], f"layer {i} thresholds", path)
                v0 = _integers(g["neuron/v0"][()], f"layer {i} v0", path) if "v0" in g["neuron"] else None
                weight = _integers(g["weight"][()], f"layer {i} weight", path)
                bias = _integers(g["bias"][()], f"layer {i} bias", path) if "bias" in g else np.zeros(len(weight), np.int64)
                signed = bool(g["neuron/signed"][()]) if "signed" in g["neuron"] else False
                layers.append(FixedPointLayer(weight, bias, int(g["neuron/vThMant"][()]), readout=readout, v0=v0,
                                              signed=signed, levels=levels))
    except (KeyError, OSError) as err:
        raise InputError(f"{path}: malformed netx layout ({err}); re-export the network") from None
    meta = {k: v for k, v in card.items() if k not in {
        "format", "version", "neuron", "timesteps", "netx_args", "netx_loader", "encoding", "input_scale", "output_scale",
        "output_offset", "lower", "upper", "steps_per_inference", "reset"}}
    return QuantizedNetwork(layers, card["input_scale"], card["output_scale"], card["output_offset"], card["lower"],
                            card["upper"], meta, neuron=card["neuron"], timesteps=card.get("timesteps", 1))
