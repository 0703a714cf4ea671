"""What a run sent, in one vocabulary for every neuron model and every stage.

A *message* is what one neuron sends in one time step: a spike (binary or ternary) or a non-zero
graded spike. The input's messages (the points entering the first layer) are counted apart from
the hidden layers'; a synaptic operation is one message arriving at one synapse.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Activity:
    """Totals over ``points`` of one run (float emulator or fixed point): ``messages`` and
    ``neurons`` per hidden layer, ``input_messages``, ``synops``; ``timesteps`` T over which
    rates count, ``steps`` per inference, and the source ANN's multiply-accumulates per point.
    The fixed-point loop also records the largest |state| per layer (``peak_state``) and, when
    asked, what each hidden layer delivered since the zero state (``sent``, ``(n, neurons)``; a
    delta-coded network's settling to rest included; each message weighted as
    its receiver weighs it) and every layer's final state (``states``, the model's own dicts)."""

    points: int = 0
    timesteps: int = 1
    steps: int = 0
    messages: list[int] = field(default_factory=list)
    neurons: list[int] = field(default_factory=list)
    input_messages: int = 0
    synops: int = 0
    ann_macs_per_point: int = 0
    peak_state: list[int] = field(default_factory=list)
    sent: list[np.ndarray] = field(default_factory=list, repr=False)
    states: list[dict] = field(default_factory=list, repr=False)

    def add(self, other: "Activity") -> None:
        """Accumulate another run of the same network (a further chunk of points)."""
        self.points += other.points
        self.messages = [a + b for a, b in zip(self.messages, other.messages)] if self.messages else list(other.messages)
        self.neurons = other.neurons
        self.input_messages += other.input_messages
        self.synops += other.synops

    @property
    def spike_rate(self) -> float:
        """Fraction of non-zero neuron outputs over all hidden neurons and steps (seed 000)."""
        return sum(self.messages) / max(1, sum(self.neurons) * self.timesteps * self.points)

    @property
    def layer_rates(self) -> list[float]:
        """``spike_rate`` per hidden layer."""
        return [s / max(1, n * self.timesteps * self.points) for s, n in zip(self.messages, self.neurons)]

    def per_point(self) -> dict:
        """Rates and per-point figures: ``messages_per_point`` counts the input's messages too,
        ``hidden_messages_per_point`` only the hidden layers' (seed 000's spikes)."""
        p = max(1, self.points)
        return {"timesteps": self.timesteps, "steps_per_point": self.steps, "spike_rate": self.spike_rate,
                "layer_rates": self.layer_rates, "hidden_messages_per_point": sum(self.messages) / p,
                "messages_per_point": (sum(self.messages) + self.input_messages) / p,
                "synops_per_point": self.synops / p, "ann_macs_per_point": self.ann_macs_per_point,
                "synops_over_macs": self.synops / p / max(1, self.ann_macs_per_point)}
