"""A directly trained spiking MLP (``models.spiking_mlp``) as a ``SpikingNetwork``: no conversion
is needed, its IF neurons are the registered ones (reset by subtraction: ``signed_if`` with
unsigned layers; hard reset: ``if_hard``), one neuron a unit, threshold 1, v(0) = 0."""
from __future__ import annotations

import torch

from loihi_pinn.models.spiking_mlp import THRESHOLD, SpikingMLP

from .expansion import SINGLE
from .network import SpikingLayer, SpikingNetwork


def spiking_network(mlp: SpikingMLP, metadata: dict | None = None) -> SpikingNetwork:
    """The ``SpikingNetwork`` (float64) that runs ``mlp``'s dynamics; local heads are left out."""
    layers = []
    for i, linear in enumerate(mlp.layers):
        w, b = linear.weight.detach().double(), linear.bias.detach().double()
        if i < len(mlp.layers) - 1:
            layers.append(SpikingLayer(w, b, SINGLE, THRESHOLD, torch.zeros(len(b), 1, dtype=torch.float64),
                                       signed=False))
        else:
            layers.append(SpikingLayer(w, b))
    meta = {"trained": "directly as an SNN (seed 002)", "surrogate": mlp.surrogate, "reset": mlp.reset,
            **(metadata or {})}
    return SpikingNetwork(mlp.neuron, mlp.timesteps, layers, mlp.lower.tolist(), mlp.upper.tolist(), meta)
