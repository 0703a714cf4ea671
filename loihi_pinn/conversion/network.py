"""The converted (float) spiking network and its file format.

Layers are kept in *unit space*, the ANN's own shapes: layer l holds ``weight`` ``(n_l, n_{l-1})``
and ``bias`` ``(n_l,)`` and the expansion that turns each unit into P neurons (see
``expansion.py``); folding the expansion gives the neuron-level network that is exported. The
last layer is the readout: it never fires, and its potential accumulated over T steps, divided
by T, is the output (the "enlarged last-layer threshold" of seed 000 taken to its limit).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from loihi_pinn.errors import InputError
from loihi_pinn.io import read_torch_file, replacing
from loihi_pinn.models import to_unit_box

from .expansion import Expansion
from loihi_pinn.neurons.registry import get_neuron

FORMAT, VERSION = "loihi-pinn-snn", 1


def _relay_pays(pieces: int, fan_in: int) -> bool:
    """A relay pair per unit has fewer synapses than P pieces fed directly: 2 (fan_in + P) < P fan_in."""
    return 2 * (fan_in + pieces) < pieces * fan_in


@dataclass
class SpikingLayer:
    """``weight`` ``(n_out, n_in)``, ``bias`` ``(n_out,)``; hidden layers also have ``expansion``,
    ``threshold`` (theta for IF, the delta threshold for sigma-delta; same units as the
    activation), ``v0`` ``(n_out, P)``, the initial membrane potential per neuron, and
    ``signed``: whether signed-IF neurons may fire negative spikes (False for ReLU pieces).
    Bit-serial layers keep their level table in ``levels`` ``(2^B - 1,)`` (the thresholds
    tau_k, in units of the pre-activation) and the value of one level in ``threshold``."""

    weight: torch.Tensor
    bias: torch.Tensor
    expansion: Expansion | None = None
    threshold: float = math.inf
    v0: torch.Tensor | None = None
    signed: bool = True
    levels: torch.Tensor | None = None

    def __post_init__(self):
        if self.weight.ndim != 2 or self.bias.shape != (self.weight.shape[0],):
            raise ValueError(f"weight {tuple(self.weight.shape)} and bias {tuple(self.bias.shape)} do not match")
        if self.expansion is not None and self.v0 is None:
            self.v0 = torch.zeros(self.weight.shape[0], self.expansion.pieces, dtype=self.weight.dtype)

    @property
    def is_readout(self) -> bool:
        return self.expansion is None

    @property
    def units(self) -> int:
        return self.weight.shape[0]

    @property
    def neurons(self) -> int:
        return self.units * (1 if self.is_readout else self.expansion.pieces)


@dataclass
class SpikingNetwork:
    """A converted network: ``neuron`` model name (``model``: its registered object),
    ``timesteps`` T per inference, layers, the
    input normalization box (physical ``lower``/``upper`` mapped to [-1, 1]) and metadata
    (problem, source checkpoint, calibration, measured errors)."""

    neuron: str
    timesteps: int
    layers: list[SpikingLayer]
    lower: list[float]
    upper: list[float]
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        self.neuron = get_neuron(self.neuron).name          # an alias becomes the model's name
        if self.timesteps < 1:
            raise InputError(f"timesteps must be >= 1, got {self.timesteps}")
        if not self.layers or not self.layers[-1].is_readout or any(l.is_readout for l in self.layers[:-1]):
            raise ValueError("a spiking network is hidden layers followed by exactly one readout layer")

    @property
    def model(self):
        """The registered neuron model (``loihi_pinn.neurons``)."""
        return get_neuron(self.neuron)

    @property
    def d_in(self) -> int:
        return self.layers[0].weight.shape[1]

    @property
    def d_out(self) -> int:
        return self.layers[-1].units

    def normalize(self, points: torch.Tensor) -> torch.Tensor:
        return to_unit_box(points, torch.as_tensor(self.lower, dtype=points.dtype),
                           torch.as_tensor(self.upper, dtype=points.dtype))

    def neuron_count(self) -> int:
        """Neurons of the folded (neuron-level) network, readout included."""
        return sum(l.neurons for l in self.layers)

    def synapse_count(self) -> int:
        """Synapses of the folded network: every neuron of a layer connects to every neuron of
        the next (the expansion multiplies both sides)."""
        fan_in = [self.d_in] + [l.neurons for l in self.layers[:-1]]
        return sum(n_in * l.neurons for n_in, l in zip(fan_in, self.layers))

    def ann_macs(self) -> int:
        """Multiply-accumulates of the source ANN per point."""
        return sum(l.weight.numel() for l in self.layers)

    @property
    def relay(self) -> bool:
        """Whether the chip gets the relay form (``neuron_level``; ``convert --relay``)."""
        return self.metadata.get("realization") == "relay"

    def neuron_level(self, relay: bool | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The folded network that goes to the chip: per layer (weight ``(N_l, N_{l-1})``,
        bias ``(N_l,)``) in float64 over neurons, not units. Hidden neuron (u, p) receives
        ``sign_p * z_u - offset_p`` with z the unit pre-activation, whose input is the previous
        layer decoded as ``const + coeff . y``; the readout's rows are the output units.

        ``relay`` (default: ``self.relay``): each hidden unit layer where it saves synapses
        (``_relay_pays``) becomes two layers: a relay pair relu(z_u), relu(-z_u) per unit, which computes the
        pre-activation once, then the pieces, each fed by its unit's pair (z_u = r+ - r-). The
        same function in float, for (2 + 2/P) N^2 instead of P N^2 synapses between P-piece
        layers of N units, and one more time step per layer."""
        relay = self.relay if relay is None else relay
        folded, decode, const = [], None, 0.0
        for layer in self.layers:
            w, b = layer.weight.double(), layer.bias.double()
            if decode is not None:                                   # inputs are neuron outputs
                b = b + const * w.sum(1)
                w = w @ decode
            if layer.is_readout:
                folded.append((w, b))
                break
            sign, offset, coeff = layer.expansion.tensors(torch.float64)
            if relay and _relay_pays(layer.expansion.pieces, w.shape[1]):
                folded.append((torch.stack([w, -w], 1).reshape(-1, w.shape[1]), torch.stack([b, -b], 1).reshape(-1)))
                pair = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
                w, b = torch.block_diag(*[pair] * layer.units), torch.zeros_like(b)     # z_u = r+_u - r-_u
            folded.append(((sign[None, :, None] * w[:, None, :]).reshape(-1, w.shape[1]),
                           (sign * b[:, None] - offset).reshape(-1)))
            decode = torch.block_diag(*[coeff[None, :]] * layer.units)   # (units, units * P)
            const = layer.expansion.const
        return folded

    def neuron_level_thresholds(self) -> list[float]:
        """The delta threshold of each layer of ``neuron_level()`` (a relay pair takes its
        pieces'); the readout's is its own."""
        thresholds = []
        for layer, (w, _) in zip(self.layers, self.neuron_level(relay=False)):
            relayed = self.relay and not layer.is_readout and _relay_pays(layer.expansion.pieces, w.shape[1])
            thresholds += [layer.threshold] * (2 if relayed else 1)
        return thresholds

    def describe(self) -> str:
        sizes = [self.d_in] + [l.neurons for l in self.layers]
        return (f"{self.neuron} SNN, T = {self.timesteps}, neurons per layer "
                f"{' -> '.join(map(str, sizes))}")

    # -- file format ---------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the network to a torch file loadable with ``weights_only=True``, all at once (a
        failure leaves an existing file as it was)."""
        path = Path(path)
        layers = [{"weight": l.weight, "bias": l.bias, "threshold": l.threshold, "v0": l.v0, "signed": l.signed,
                   "levels": l.levels,
                   "expansion": None if l.expansion is None else l.expansion.to_dict()} for l in self.layers]
        blob = {"format": FORMAT, "version": VERSION, "neuron": self.neuron, "timesteps": self.timesteps,
                "lower": list(self.lower), "upper": list(self.upper), "layers": layers,
                "metadata": json.dumps(self.metadata)}
        with replacing(path) as tmp:
            try:
                torch.save(blob, tmp)
            except RuntimeError as err:          # torch reports an unwritable file this way
                raise InputError(f"cannot write {path}: {err}") from None
        return path

    @classmethod
    def load(cls, path) -> "SpikingNetwork":
        path = Path(path)
        blob = read_torch_file(path, "converted loihi-pinn network")
        if not isinstance(blob, dict) or blob.get("format") != FORMAT:
            raise InputError(f"{path} is not a converted loihi-pinn network (format must be {FORMAT!r})")
        try:
            layers = [SpikingLayer(l["weight"], l["bias"],
                                   None if l["expansion"] is None else Expansion.from_dict(l["expansion"]),
                                   l["threshold"], l["v0"], l["signed"], l.get("levels")) for l in blob["layers"]]
            metadata = json.loads(blob["metadata"])
            if not isinstance(metadata, dict):
                raise TypeError("metadata is not a JSON object")
            return cls(blob["neuron"], blob["timesteps"], layers, blob["lower"], blob["upper"], metadata)
        except (KeyError, TypeError, ValueError, AttributeError) as err:    # JSONDecodeError is a ValueError
            if isinstance(err, InputError):
                raise
            raise InputError(f"{path} is a damaged converted network ({type(err).__name__}: {err}); convert the "
                             f"checkpoint again") from None
