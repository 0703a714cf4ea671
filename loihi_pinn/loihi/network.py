"""A network in Loihi 2 fixed point: integer layers plus how points go in and results come out."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from loihi_pinn.conversion.activity import Activity
from loihi_pinn.errors import InputError
from loihi_pinn.models import to_unit_box
from loihi_pinn.neurons.registry import get_neuron
from loihi_pinn.problems.base import as_points, warn_outside

from .fixed_point import STATE_LIMIT, FixedPointLayer, rest_states, run_integers


@dataclass
class QuantizedNetwork:
    """Integer ``layers`` (the last is the readout) and the model card. ``neuron``: the name of a
    registered neuron model (``loihi_pinn.neurons``; ``model`` is the object), which runs the
    layers over ``timesteps`` (T of rate-coded models, bits of bit-serial ones; 1 for sigma-delta).

    Encoding: physical points ``(n, d_in)`` are mapped to [-1, 1] with ``lower``/``upper``, then
    sent as integer messages ``round(x * input_scale)``. Decoding: output = readout sigma /
    ``output_scale`` + ``output_offset`` (the readout bias, applied off chip because netx's Sigma
    has none). ``metadata`` holds the rest of the model card (problem, source, errors, ...)."""

    layers: list[FixedPointLayer]
    input_scale: float
    output_scale: float
    output_offset: list[float]
    lower: list[float]
    upper: list[float]
    metadata: dict = field(default_factory=dict)
    neuron: str = "sigma_delta"
    timesteps: int = 1

    def __post_init__(self):
        self.neuron = get_neuron(self.neuron).name
        if not self.layers or not self.layers[-1].readout or any(l.readout for l in self.layers[:-1]):
            raise InputError("a quantized network is hidden layers followed by exactly one readout")
        for prev, nxt in zip(self.layers[:-1], self.layers[1:]):
            if nxt.weight.shape[1] != prev.size:
                raise InputError(f"layer sizes do not chain: {prev.size} outputs into {nxt.weight.shape[1]} inputs")
        if len(self.output_offset) != self.d_out or len(self.lower) != self.d_in or len(self.upper) != self.d_in:
            raise InputError("model card does not match the layers (output offset or input box size)")

    @property
    def model(self):
        """The registered neuron model."""
        return get_neuron(self.neuron)

    @property
    def d_in(self) -> int:
        return self.layers[0].weight.shape[1]

    @property
    def d_out(self) -> int:
        return self.layers[-1].size

    @property
    def steps(self) -> int:
        """Time steps per inference, from the input's first step to the readout's output."""
        return self.model.steps_per_inference(self.timesteps, len(self.layers))

    def run_integers(self, messages: np.ndarray, keep_states: bool = False, *,
                     chunk: int | None = None) -> tuple[np.ndarray, Activity]:
        """Readout integers ``(n, d_out)`` and activity for input messages ``(n, d_in)``, in chunks
        of ``chunk`` points (default: ``fixed_point.chunk_points``, at most ``CHUNK_BYTES`` of
        working memory), identical to one pass."""
        return run_integers(self.model, self.layers, messages, self.timesteps, keep_states=keep_states, chunk=chunk)

    def rest_states(self) -> list[dict]:
        """Every layer's state ``(1, neurons)`` after settling on zero input, where a delta-coded
        model starts each inference (``fixed_point.rest_states``)."""
        return rest_states(self.model, self.layers, self.timesteps)

    def encode(self, points) -> np.ndarray:
        """Integer input messages ``(n, d_in)`` for physical ``points`` ``(n, d_in)``."""
        x = as_points(points, self.d_in, "points for this network")
        warn_outside(x, self.lower, self.upper, "this network")
        scaled = np.rint(to_unit_box(x, np.asarray(self.lower), np.asarray(self.upper)) * self.input_scale)
        if np.abs(scaled).max(initial=0) >= STATE_LIMIT:
            raise InputError(f"points far outside the network's domain {self.lower} .. {self.upper} (largest "
                             f"|x| {np.abs(x).max():.3g}) overflow its 24-bit input messages; the chip cannot "
                             f"represent them: pass points inside the domain")
        return scaled.astype(np.int64)

    def decode(self, sigma: np.ndarray) -> np.ndarray:
        """Physical outputs ``(n, d_out)`` from readout integers ``(n, d_out)`` (SDNN sigma, CUBA v,
        bit-serial u)."""
        return np.asarray(sigma, dtype=np.float64) / self.output_scale + np.asarray(self.output_offset)

    def run(self, points) -> tuple[np.ndarray, Activity]:
        """Outputs ``(n, d_out)`` and activity of the bit-exact fixed-point emulation."""
        raw, stats = self.run_integers(self.encode(points))
        return self.decode(raw), stats

    def neuron_count(self) -> int:
        return sum(l.size for l in self.layers)

    def synapse_count(self) -> int:
        return sum(l.weight.size for l in self.layers)
