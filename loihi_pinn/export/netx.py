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

Integrity (card version 2): the card's ``checksum`` entry holds a SHA-256 over every dataset under
``layer/`` (sorted by path: path, dtype, shape, bytes) and over the card entries that decide what
the file computes (``CARD_KEYS``, named in ``checksum["card_keys"]``); every reader verifies it, so a
file edited or damaged after export is refused instead of running wrong. ``read_netx`` also checks
the layout (each layer's weight chains with the previous layer, hidden layers carry a bias, the
readout none) and the card's numbers (finite scales, a non-empty box) and names what is wrong.
Version-1 files (exported before checksums) still load, with a ``UnverifiedNetxWarning``.
"""
from __future__ import annotations

import hashlib
import json
import math
import warnings
from pathlib import Path

import h5py
import numpy as np

from loihi_pinn.errors import InputError
from loihi_pinn.io import replacing
from loihi_pinn.loihi.fixed_point import FixedPointLayer
from loihi_pinn.loihi.network import QuantizedNetwork
from loihi_pinn.neurons.registry import get_neuron

from .recipe import stock_lava_recipe

CARD_ATTR = "loihi_pinn_model_card"
FORMAT = "loihi-pinn-netx"
SUFFIX = ".net"
STOCK_LOADER = "lava.lib.dl.netx.hdf5.Network"
EXTENDED_LOADER = "loihi_pinn.runtime.netx_ext.Network"
VERSION = 2                     # 2: the card carries ``checksum``; 1: older exports without one
CHECKSUM = "checksum"
CARD_KEYS = {"format", "version", "neuron", "timesteps", "netx_args", "netx_loader", "encoding", "input_scale",
             "output_scale", "output_offset", "lower", "upper", "steps_per_inference", "reset", CHECKSUM}
"""Model card entries written from the network itself; the rest is the network's metadata."""
COVERED_CARD_KEYS = sorted(CARD_KEYS - {CHECKSUM})
"""Card entries the checksum covers (with every dataset under ``layer/``)."""


class UnverifiedNetxWarning(UserWarning):
    """A netx file exported before loihi-pinn wrote checksums: it loads, but unverified."""


def _damaged(path) -> str:
    return (f"the file was modified or damaged after export; re-export it "
            f"('loihi-pinn export CONVERTED.snn --out {Path(path).name}')")


def layer_digest(f: h5py.File, card: dict, card_keys) -> str:
    """SHA-256 (hex) of every dataset under ``layer/`` in sorted path order (path, dtype, shape and
    bytes of each) followed by the canonical JSON of ``card``'s entries ``card_keys``."""
    datasets = []
    f["layer"].visititems(lambda name, obj: datasets.append(name) if isinstance(obj, h5py.Dataset) else None)
    h = hashlib.sha256()
    for name in sorted(datasets):
        data = np.ascontiguousarray(f["layer"][name][()])
        h.update(json.dumps([f"layer/{name}", data.dtype.str, list(data.shape)]).encode())
        h.update(data.tobytes())
    covered = {k: card.get(k) for k in card_keys}
    h.update(json.dumps(covered, sort_keys=True, separators=(",", ":")).encode())
    return h.hexdigest()


def add_checksum(f: h5py.File, card: dict) -> dict:
    """``card`` (a JSON round trip of it) with version 2 and the checksum of ``f``'s layers;
    the datasets are not touched."""
    card = json.loads(json.dumps({**card, "version": VERSION}))
    card.pop(CHECKSUM, None)
    card[CHECKSUM] = {"sha256": layer_digest(f, card, COVERED_CARD_KEYS), "algorithm": "sha256",
                      "covers": "layer/ datasets (sorted path, dtype, shape, bytes) and card entries",
                      "card_keys": COVERED_CARD_KEYS}
    return card


def verify_checksum(f: h5py.File, card: dict, path) -> bool:
    """Check the card's checksum against ``f``; False for a version-1 file without one (warned),
    an ``InputError`` for a mismatch or a version-2 card that lost it."""
    entry = card.get(CHECKSUM)
    if entry is None:
        if card.get("version", 1) >= 2:
            raise InputError(f"{path}: the model card has no checksum although its format version "
                             f"{card.get('version')} always writes one; {_damaged(path)}")
        warnings.warn(f"{path} was exported before loihi-pinn wrote checksums (model card version "
                      f"{card.get('version', 1)}); it cannot be verified: re-export it to add one",
                      UnverifiedNetxWarning, stacklevel=3)
        return False
    try:
        expected, keys = str(entry["sha256"]), [str(k) for k in entry["card_keys"]]
    except (KeyError, TypeError):
        raise InputError(f"{path}: the model card's checksum entry is malformed; {_damaged(path)}") from None
    if layer_digest(f, card, keys) != expected:
        raise InputError(f"{path}: checksum mismatch (SHA-256 of its layer datasets and model card entries "
                         f"differs from the one recorded at export); {_damaged(path)}")
    return True


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
    """Write ``qnet`` to ``path`` (conventionally ``NAME.net``), all at once (a failure leaves an
    existing file as it was, and no partial file); returns the path."""
    path = Path(path)
    model = qnet.model
    card = {"format": FORMAT, "version": VERSION, "neuron": qnet.neuron, "timesteps": qnet.timesteps,
            "netx_args": model.netx_args,
            "netx_loader": (STOCK_LOADER if model.loihi_native else
                            f"{EXTENDED_LOADER} ({model.netx_type} layers; CPU simulator only)"),
            "encoding": model.encoding,
            "input_scale": qnet.input_scale, "output_scale": qnet.output_scale,
            "output_offset": list(qnet.output_offset), "lower": list(qnet.lower), "upper": list(qnet.upper),
            "steps_per_inference": qnet.steps, "reset": "state cleared between inferences",
            **qnet.metadata}
    card["stock_lava"] = stock_lava_recipe(qnet)          # how to run it with stock Lava only (export/recipe.py)
    with replacing(path) as tmp, h5py.File(tmp, "w") as f:
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
        f.attrs[CARD_ATTR] = json.dumps(add_checksum(f, card))
    return path


def _open_card(f: h5py.File, path: Path) -> dict:
    if "layer" not in f:
        raise InputError(f"{path} is HDF5 but not a netx network (no 'layer' group)")
    if CARD_ATTR not in f.attrs:
        raise InputError(f"{path} is a netx network without a loihi-pinn model card; "
                         f"only files made by 'loihi-pinn export' carry the encoding a runner needs")
    try:
        card = json.loads(f.attrs[CARD_ATTR])
    except (TypeError, ValueError) as err:
        raise InputError(f"{path}: the model card is not valid JSON ({err}); {_damaged(path)}") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        found = card.get("format") if isinstance(card, dict) else type(card).__name__
        raise InputError(f"{path}: model card format {found!r}, expected {FORMAT!r}")
    return card


def _open(path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist; export one with 'loihi-pinn export CONVERTED --out {path}'")
    if not h5py.is_hdf5(path):
        raise InputError(f"{path} is not an HDF5 file (truncated or not a netx network)")
    return path


def read_model_card(path, *, verify: bool = True) -> dict:
    """The model card of a netx file written by loihi-pinn (clear errors for anything else); with
    ``verify`` the file's checksum is checked too (``InputError`` if the file changed after export)."""
    path = _open(path)
    try:
        with h5py.File(path, "r") as f:
            card = _open_card(f, path)
            if verify:
                verify_checksum(f, card, path)
    except OSError as err:
        raise InputError(f"{path} cannot be read as HDF5 ({err}); the file is corrupted or truncated") from None
    return card


def _finite_numbers(card: dict, key: str, path, length: int | None = None) -> list[float]:
    value = card.get(key)
    values = value if isinstance(value, list) else [value]
    if (not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
            or not all(math.isfinite(v) for v in values)):
        raise InputError(f"{path}: model card {key!r} is {value!r}; it must be finite number(s). {_damaged(path)}")
    if length is not None and len(values) != length:
        raise InputError(f"{path}: model card {key!r} has {len(values)} entries, the network has {length}; "
                         f"{_damaged(path)}")
    return values


def check_card(card: dict, path) -> None:
    """The card's numbers that decode the network: finite scales (input > 0, output != 0), a finite
    output offset, ``lower`` < ``upper`` everywhere, ``timesteps`` >= 1."""
    if _finite_numbers(card, "input_scale", path)[0] <= 0:
        raise InputError(f"{path}: model card input_scale {card['input_scale']!r} must be > 0; {_damaged(path)}")
    if _finite_numbers(card, "output_scale", path)[0] == 0:
        raise InputError(f"{path}: model card output_scale is 0 (outputs would be infinite); {_damaged(path)}")
    if not isinstance(card.get("output_offset"), list) or not isinstance(card.get("lower"), list):
        raise InputError(f"{path}: model card output_offset, lower and upper must be lists; {_damaged(path)}")
    _finite_numbers(card, "output_offset", path)
    lower = _finite_numbers(card, "lower", path)
    upper = _finite_numbers(card, "upper", path, len(lower))
    bad = [i for i, (lo, hi) in enumerate(zip(lower, upper)) if not lo < hi]
    if bad:
        raise InputError(f"{path}: model card box has lower >= upper in input {bad[0]} "
                         f"({lower[bad[0]]} >= {upper[bad[0]]}); {_damaged(path)}")
    steps = card.get("timesteps", 1)
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise InputError(f"{path}: model card timesteps {steps!r} must be an integer >= 1; {_damaged(path)}")


def _string(g: h5py.Group, key: str) -> str:
    return bytes(np.asarray(g[key][()]).reshape(-1)[0]).decode(errors="replace")


def _layer_groups(f: h5py.File, path) -> h5py.Group:
    group = f["layer"]
    names = sorted(group.keys(), key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))
    if len(names) < 2 or names != [str(i) for i in range(len(names))]:
        raise InputError(f"{path}: 'layer' must hold groups 0 (input), 1, ..., n; found {names}; {_damaged(path)}")
    inp = group["0"]
    if "type" not in inp or _string(inp, "type") != "input" or "shape" not in inp:
        raise InputError(f"{path}: layer 0 must be the input layer (type 'input' and its shape); {_damaged(path)}")
    return group


def _size(g: h5py.Group, what: str, path) -> int:
    shape = np.asarray(g["shape"][()]).reshape(-1)
    if shape.size != 1 or not np.issubdtype(shape.dtype, np.integer) or shape[0] < 1:
        raise InputError(f"{what}: 'shape' must hold one positive integer, got {shape.tolist()}; {_damaged(path)}")
    return int(shape[0])


def read_netx(path) -> QuantizedNetwork:
    """Load a file written by ``write_netx`` back into a ``QuantizedNetwork``: the card's numbers,
    the layout (required datasets, chained shapes) and the checksum are checked, in that order."""
    path = _open(path)
    layers = []
    try:
        with h5py.File(path, "r") as f:
            card = _open_card(f, path)
            check_card(card, path)
            model = get_neuron(str(card.get("neuron")))
            group = _layer_groups(f, path)
            previous = _size(group["0"], f"{path}: layer 0 (input)", path)
            for i in range(1, len(group)):
                g = group[str(i)]
                what = f"{path}: layer {i}"
                last = i == len(group) - 1
                for key in ("type", "shape", "weight", "neuron/type", "neuron/vThMant"):
                    if key not in g:
                        raise InputError(f"{what} has no {key!r} dataset; {_damaged(path)}")
                if _string(g, "type") != "dense":
                    raise InputError(f"{what} has type {_string(g, 'type')!r}, expected 'dense'; {_damaged(path)}")
                kind = _string(g, "neuron/type")
                expected = model.readout_netx_type if last else model.netx_type
                if kind != expected:
                    raise InputError(f"{what} has neuron type {kind!r}, the model card says {model.name!r} "
                                     f"({expected}); loihi-pinn runs the networks it exported")
                size = _size(g, what, path)
                weight = read_integers(g["weight"], f"{what} weight")
                if weight.shape != (size, previous):
                    hint = " (transposed?)" if weight.shape == (previous, size) else ""
                    raise InputError(f"{what} weight has shape {weight.shape}{hint}, expected ({size}, {previous}): "
                                     f"{size} neurons fed by the {previous} of layer {i - 1}; {_damaged(path)}")
                if last:
                    if "bias" in g:
                        raise InputError(f"{what} is the readout and has a 'bias' dataset; loihi-pinn's readout "
                                         f"has none (the offset is in the model card); {_damaged(path)}")
                    bias = np.zeros(size, np.int64)
                else:
                    if "bias" not in g:
                        raise InputError(f"{what} has no 'bias' dataset; every hidden layer of a "
                                         f"{model.name!r} network has one; {_damaged(path)}")
                    bias = read_integers(g["bias"], f"{what} bias")
                    if bias.shape != (size,):
                        raise InputError(f"{what} bias has shape {bias.shape}, expected ({size},); {_damaged(path)}")
                vth = read_integers(g["neuron/vThMant"], f"{what} neuron/vThMant")
                if vth.size != 1:
                    raise InputError(f"{what} neuron/vThMant must be one integer; {_damaged(path)}")
                try:
                    layers.append(FixedPointLayer(weight, bias, int(vth.reshape(-1)[0]), readout=last,
                                                  **model.read_neuron(g, readout=last, what=what)))
                except InputError as err:
                    raise InputError(f"{what}: {err}") from None
                previous = size
            verify_checksum(f, card, path)
    except (KeyError, OSError, IndexError) as err:
        raise InputError(f"{path}: malformed netx layout ({err}); re-export the network") from None
    meta = {k: v for k, v in card.items() if k not in CARD_KEYS}
    try:
        return QuantizedNetwork(layers, card["input_scale"], card["output_scale"], card["output_offset"],
                                card["lower"], card["upper"], meta, neuron=model.name,
                                timesteps=card.get("timesteps", 1))
    except InputError as err:
        raise InputError(f"{path}: {err}") from None

