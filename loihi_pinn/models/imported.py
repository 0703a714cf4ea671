"""A user's own saved network as a ``PINN``: TorchScript (``torch.jit.save``), a whole module
(``torch.save(model)``), a state dict of Linear layers (``torch.save(model.state_dict())``) or a
DeepXDE ``FNN`` checkpoint (``model.save``, pytorch backend: ``{"model_state_dict": ...}``).

The layers are read in order into the accepted MLP form (``mlp.describe_mlp``). A network trained
on physical coordinates (``raw_inputs``, what DeepXDE and most torch PINNs do) gets the box
normalization folded out of its first Linear (``PINN(..., raw_inputs=True)``, ``mlp.fold_box``),
so that ``PINN``'s map to [-1, 1]^d feeds it the same values. Where the file has a forward (all
but a state dict), the rebuilt PINN is checked against it on points of the box.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from loihi_pinn.errors import InputError

from .mlp import ACTIVATIONS, PINN, Sine, make_activation, to_unit_box

FORMS = ("torchscript", "module", "state_dict", "deepxde")
CHECK_POINTS = 512
CHECK_TOLERANCE = 1e-4          # max |PINN - file's forward| relative to max |output| (float32 rounding ~1e-6)
_SCRIPT_ACTIVATIONS = {"Tanh": "tanh", "ReLU": "relu", "LeakyReLU": "leaky_relu", "Hardtanh": "hardtanh",
                       "Sine": "sin"}


def _is_torchscript(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return any(name.endswith("/constants.pkl") or "/code/" in name for name in z.namelist())
    except zipfile.BadZipFile:
        return False


def _read(path: Path):
    """(form, object) of a model file: a ScriptModule, an nn.Module or a state dict."""
    if not path.is_file():
        raise InputError(f"no model file at {path}; give a TorchScript file (torch.jit.save), a module saved with "
                         f"torch.save(model), a state dict or a DeepXDE checkpoint (model.save)")
    if _is_torchscript(path):
        try:
            return "torchscript", torch.jit.load(str(path), map_location="cpu")
        except RuntimeError as err:
            raise InputError(f"{path} is a damaged TorchScript file: {str(err).splitlines()[0][:120]}") from None
    try:                               # a whole module is a pickle: it runs code, so only open your own files
        obj = torch.load(path, map_location="cpu", weights_only=False)
    except (AttributeError, ModuleNotFoundError) as err:
        raise InputError(f"{path} holds a module whose class cannot be imported here ({err}); run from the folder "
                         f"of the module that defines it (a class of a script's __main__ cannot be found), or save "
                         f"the network with torch.jit.save or as a state dict instead") from None
    except Exception as err:           # noqa: BLE001 - torch.load raises anything for a foreign file
        raise InputError(f"{path} is not a torch file ({type(err).__name__}: {str(err).splitlines()[0][:100]}); "
                         f"save the model with torch.jit.save or torch.save") from None
    if isinstance(obj, nn.Module):
        return "module", obj
    if isinstance(obj, dict) and isinstance(obj.get("model_state_dict"), dict):
        return "deepxde", obj["model_state_dict"]
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return "state_dict", obj
    raise InputError(f"{path} holds a {type(obj).__name__}, not a network: give a TorchScript file, a module "
                     f"saved with torch.save(model), a state dict or a DeepXDE checkpoint")


def _linear(weight: torch.Tensor, bias: torch.Tensor | None, where: str) -> nn.Linear:
    if bias is None:
        raise InputError(f"{where} has no bias; conversion needs Linear layers with bias=True")
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(weight.detach().float())
        layer.bias.copy_(bias.detach().float())
    return layer


def _leaf_layers(module: nn.Module, scripted: bool, activation: str | None) -> list[nn.Module]:
    """The leaf modules of ``module`` in order, as fresh Linear and activation modules; the
    activation ``activation`` goes between Linears that have none between them (DeepXDE FNN,
    whose activation is a function)."""
    layers: list[nn.Module] = []
    for name, m in module.named_modules():
        if any(True for _ in m.children()):
            continue
        kind = m.original_name if scripted else type(m).__name__
        if kind == "Linear":
            layers.append(_linear(m.weight, m.bias, f"module {name!r} (Linear)"))
        elif scripted and kind in _SCRIPT_ACTIVATIONS:
            key = _SCRIPT_ACTIVATIONS[kind]
            layers.append(make_activation(key, float(m.negative_slope) if key == "leaky_relu" else None))
        elif not scripted and any(type(m) is cls for cls in ACTIVATIONS.values()):
            layers.append(m)
        elif kind in ("Dropout", "Identity", "Flatten"):
            continue                   # no-ops at inference
        else:
            raise InputError(f"module {name!r} ({kind}) is neither Linear nor a supported activation "
                             f"({', '.join(c.__name__ for c in (nn.Tanh, nn.ReLU, nn.LeakyReLU, nn.Hardtanh, Sine))}); "
                             f"conversion takes MLPs of Linear layers and one activation")
    if layers and all(isinstance(m, nn.Linear) for m in layers) and len(layers) > 1:
        layers = _interleave(layers, activation)
    return layers


def _interleave(linears: list[nn.Linear], activation: str | None) -> list[nn.Module]:
    act = activation or "tanh"
    out: list[nn.Module] = []
    for i, layer in enumerate(linears):
        out.append(layer)
        if i < len(linears) - 1:
            out.append(make_activation(act))
    return out


def _from_state_dict(state: dict, activation: str | None, path: Path) -> list[nn.Module]:
    """Linear layers from ``PREFIX.weight`` / ``PREFIX.bias`` pairs in the order of the dict."""
    prefixes = list(dict.fromkeys(k.rsplit(".", 1)[0] for k in state))
    linears = []
    for p in prefixes:
        weight, bias = state.get(f"{p}.weight"), state.get(f"{p}.bias")
        if weight is None or weight.ndim != 2:
            raise InputError(f"{path}: entry {p!r} is not a Linear layer (no 2-D {p}.weight); a state dict must hold "
                             f"only the Linear layers of an MLP")
        linears.append(_linear(weight, bias, f"{path}: layer {p!r}"))
    return _interleave(linears, activation)


def load_user_network(path, activation: str | None = None) -> tuple[nn.Sequential, str, object]:
    """``(mlp, form, forward)``: the network in ``path`` as an ``nn.Sequential`` of fresh float32
    layers, its ``FORMS`` entry, and the file's own forward (None for a state dict). ``activation``
    (an ``ACTIVATIONS`` name, default tanh) goes between Linears where the file stores none (a
    state dict, DeepXDE)."""
    path = Path(path)
    form, obj = _read(path)
    if activation is not None and activation not in ACTIVATIONS:
        raise InputError(f"unknown activation {activation!r}; choose one of: {', '.join(ACTIVATIONS)}")
    if form in ("state_dict", "deepxde"):
        layers, forward = _from_state_dict(obj, activation, path), None
    else:
        layers, forward = _leaf_layers(obj, form == "torchscript", activation), obj.eval()
    if not layers:
        raise InputError(f"{path} holds no Linear layers")
    return nn.Sequential(*layers), form, forward


def import_network(path, lower, upper, *, raw_inputs: bool = True, activation: str | None = None) -> tuple[PINN, dict]:
    """The network saved in ``path`` as a ``PINN`` on the box ``lower`` .. ``upper`` (one bound per
    input, physical units) and what was done (``form``, ``raw_inputs``, ``activation``, the check
    against the file's forward). ``raw_inputs``: the network takes physical coordinates (default);
    False: it takes the box mapped to [-1, 1]^d, as ``PINN`` does."""
    net, form, forward = load_user_network(path, activation)
    d_in = net[0].in_features
    if len(lower) != d_in:
        raise InputError(f"{path}: the network takes {d_in} inputs, the domain gives {len(lower)}; give one "
                         f"lo:hi per input with --domain")
    model = PINN(net, lower, upper, raw_inputs=raw_inputs).eval()
    info = {"form": form, "raw_inputs": raw_inputs, "activation": model.architecture["activation"]}
    if forward is not None:
        info["max_deviation_from_file"] = _check_against(model, forward, lower, upper, raw_inputs, path)
    return model, info


def _check_against(model: PINN, forward, lower, upper, raw_inputs: bool, path: Path) -> float:
    """Max |PINN - the file's forward| over ``CHECK_POINTS`` points of the box, relative to the
    largest output; an ``InputError`` above ``CHECK_TOLERANCE`` (a forward that does more than its
    layers in order: skip connections, transforms, another activation)."""
    lo, hi = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    x = lo + (hi - lo) * np.random.default_rng(0).random((CHECK_POINTS, len(lo)))
    fed = x if raw_inputs else to_unit_box(x, lo, hi)
    dtype = next((p.dtype for p in forward.parameters()), torch.float32)
    with torch.no_grad():
        try:
            theirs = forward(torch.as_tensor(fed, dtype=dtype)).double().numpy()
        except Exception as err:       # noqa: BLE001 - the user's forward may raise anything
            raise InputError(f"{path}: running the saved model on (n, {len(lo)}) points failed "
                             f"({type(err).__name__}: {str(err).splitlines()[0][:100]})") from None
        ours = model(torch.as_tensor(x, dtype=torch.float32)).double().numpy()
    if theirs.shape != ours.shape:
        raise InputError(f"{path}: the saved model returns shape {theirs.shape} for {len(x)} points, its layers "
                         f"give {ours.shape}; its forward is not the plain MLP of its layers")
    deviation = float(np.max(np.abs(theirs - ours)) / max(np.max(np.abs(theirs)), 1e-12))
    if deviation > CHECK_TOLERANCE:
        raise InputError(f"{path}: its layers in order (Linear, activation, ..., Linear) differ from the saved "
                         f"model's forward by {deviation:.1e} (relative); conversion takes plain MLPs (no skip "
                         f"connections, input or output transforms); if it is a DeepXDE-style network without "
                         f"activation modules, give its activation with --activation")
    return deviation
