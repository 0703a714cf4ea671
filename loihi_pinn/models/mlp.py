"""The PINN network: input normalization to [-1, 1]^d, then a plain MLP.

Accepted MLP form (what conversion to a spiking network needs): an ``nn.Sequential`` of
``Linear, act, Linear, act, ..., Linear``: one activation module after every hidden ``Linear``,
all of one supported type (``ACTIVATIONS``), and a ``Linear`` last (no output activation).
"""
from __future__ import annotations

import torch
from torch import nn

from loihi_pinn.errors import InputError

from .quantized import BitSerialQCFS, SlipReLU


class Sine(nn.Module):
    """sin(x) as a module (SIREN-style activations)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x)


ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh, "sin": Sine, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "hardtanh": nn.Hardtanh,
    "slip": SlipReLU,                      # QCFS is SlipReLU with slope 0 (models/quantized.py)
    "bitserial": BitSerialQCFS,            # B-bit QCFS, converted error-free by the bit-serial neuron
}
QUANTIZED = ("slip", "bitserial")          # activations with hyper-parameters (``params()``)


def activation_name(module: nn.Module) -> str | None:
    """The ``ACTIVATIONS`` key of a module, or None if it is not a supported activation."""
    for name, cls in ACTIVATIONS.items():
        if type(module) is cls:
            return name
    return None


def make_activation(name: str, negative_slope: float | None = None, params: dict | None = None) -> nn.Module:
    """An activation module by name; ``params`` are the hyper-parameters of a quantized one."""
    if name not in ACTIVATIONS:
        raise InputError(f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope if negative_slope is not None else 0.01)
    if name in QUANTIZED:
        return ACTIVATIONS[name](**(params or {}))
    return ACTIVATIONS[name]()


def build_mlp(layer_sizes: list[int], activation: str = "tanh", negative_slope: float | None = None,
              params: dict | None = None) -> nn.Sequential:
    """``Linear(n0, n1), act, ..., Linear(n_{L-1}, n_L)`` for ``layer_sizes = [n0, ..., n_L]``."""
    modules: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        modules.append(nn.Linear(n_in, n_out))
        if i < len(layer_sizes) - 2:
            modules.append(make_activation(activation, negative_slope, params))
    return nn.Sequential(*modules)


def describe_mlp(net: nn.Module) -> dict:
    """Check ``net`` has the accepted form and return its architecture
    ``{"layer_sizes": [...], "activation": name, "negative_slope": float | None}`` (plus
    ``activation_params`` for quantized activations)."""
    if not isinstance(net, nn.Sequential):
        raise InputError(f"expected an nn.Sequential of Linear and activation modules, got "
                         f"{type(net).__name__}; rebuild it as nn.Sequential(Linear, Tanh, ..., Linear)")
    modules = list(net)
    if not modules or not isinstance(modules[-1], nn.Linear):
        raise InputError("the MLP must end with an nn.Linear (no output activation)")
    sizes, acts = [], []
    for i, m in enumerate(modules):
        expect_linear = i % 2 == 0
        if expect_linear and not isinstance(m, nn.Linear):
            raise InputError(f"module {i} ({type(m).__name__}) must be nn.Linear: the accepted form is "
                             f"Linear, activation, Linear, ..., Linear")
        if not expect_linear:
            name = activation_name(m)
            if name is None:
                raise InputError(f"module {i} ({type(m).__name__}) is not a supported activation; "
                                 f"supported: {', '.join(c.__name__ for c in ACTIVATIONS.values())}")
            extra = tuple(sorted(m.params().items())) if name in QUANTIZED else None
            acts.append((name, getattr(m, "negative_slope", None), extra))
        if expect_linear:
            if sizes and m.in_features != sizes[-1]:
                raise InputError(f"module {i} takes {m.in_features} inputs but the layer before "
                                 f"gives {sizes[-1]}")
            if m.bias is None:
                raise InputError(f"module {i} (Linear) has no bias; use bias=True")
            sizes = sizes or [m.in_features]
            sizes.append(m.out_features)
    if len(set(acts)) > 1:
        raise InputError(f"all hidden layers must use one activation with the same settings, found "
                         f"{sorted(set(a[0] for a in acts))}")
    name, slope, extra = acts[0] if acts else ("tanh", None, None)
    arch = {"layer_sizes": sizes, "activation": name, "negative_slope": slope}
    if extra is not None:
        arch["activation_params"] = dict(extra)
    return arch


def to_unit_box(x, lower, upper):
    """Points ``(n, d_in)`` in the box ``lower`` .. ``upper`` mapped to [-1, 1]^d_in: the input
    convention of every network here (torch tensors or numpy arrays, broadcast per input)."""
    return 2 * (x - lower) / (upper - lower) - 1


def fold_box(net: nn.Sequential, lower, upper) -> nn.Sequential:
    """The MLP that, fed z in [-1, 1]^d, computes ``net`` at x = lower + (upper - lower)(z + 1) / 2:
    first Linear W' = W diag((upper - lower) / 2), b' = b + W (upper + lower) / 2 (float64, then
    the layer's dtype); the other layers are shared."""
    lo, hi = torch.as_tensor(lower, dtype=torch.float64), torch.as_tensor(upper, dtype=torch.float64)
    first = net[0]
    w = first.weight.detach().double()
    folded = nn.Linear(first.in_features, first.out_features, dtype=first.weight.dtype)
    with torch.no_grad():
        folded.weight.copy_(w * (hi - lo) / 2)
        folded.bias.copy_(first.bias.detach().double() + w @ ((hi + lo) / 2))
    return nn.Sequential(folded, *list(net)[1:])


class PINN(nn.Module):
    """``net(2 (x - lower) / (upper - lower) - 1)``: maps physical points ``(n, d_in)`` to ``(n, d_out)``.
    ``raw_inputs=True`` takes an MLP trained on physical coordinates and folds the box map out of
    its first layer (``fold_box``), so that the PINN computes the same function."""

    def __init__(self, net: nn.Sequential, lower, upper, *, raw_inputs: bool = False):
        super().__init__()
        self.architecture = describe_mlp(net)
        if len(lower) != self.architecture["layer_sizes"][0] or len(upper) != len(lower):
            raise InputError(f"the MLP takes {self.architecture['layer_sizes'][0]} inputs but the "
                             f"domain has {len(lower)} dimensions")
        self.net = fold_box(net, lower, upper) if raw_inputs else net
        self.register_buffer("lower", torch.as_tensor(lower, dtype=torch.float32))
        self.register_buffer("upper", torch.as_tensor(upper, dtype=torch.float32))

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Physical points ``(n, d_in)`` to the network's [-1, 1]^d_in."""
        return to_unit_box(x, self.lower, self.upper)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.normalize(x))

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.net.parameters())
