"""Batched torch emulator of a converted spiking network (float arithmetic).

A whole layer is run for all T steps at once: its input currents ``(T, batch, neurons)`` come
from one matrix product, then the neuron model runs its layer over T (``NeuronModel.run_layer``).
The readout's output is its accumulated potential divided by T. Points are processed in chunks
to bound memory.
"""
from __future__ import annotations

import numpy as np
import torch

from loihi_pinn.problems.base import as_points, warn_outside

from .activity import Activity
from .network import SpikingLayer, SpikingNetwork


def layer_currents(layer: SpikingLayer, inputs: torch.Tensor) -> torch.Tensor:
    """Neuron input currents ``(T, batch, units, P)`` from decoded inputs ``(T, batch, n_in)``."""
    z = inputs @ layer.weight.T + layer.bias
    sign, offset, _ = layer.expansion.tensors(z.dtype)
    return sign * z[..., None] - offset


def run_hidden_layer(layer: SpikingLayer, model, inputs: torch.Tensor, *,
                     surrogate: bool = False, v0: torch.Tensor | None = None):
    """Run one hidden layer of neuron ``model`` for all steps. ``inputs`` ``(T, batch, n_in)``
    decoded values. Returns (decoded outputs ``(T, batch, units)``, messages sent ``(units * P,)``
    summed over T and batch; None with ``surrogate=True``, where only the outputs are wanted)."""
    return model.run_layer(layer, layer_currents(layer, inputs), surrogate=surrogate, v0=v0)


def readout(layer: SpikingLayer, inputs: torch.Tensor) -> torch.Tensor:
    """Accumulated readout potential / T: ``(batch, d_out)`` from ``(T, batch, n_in)``."""
    return inputs.mean(0) @ layer.weight.T + layer.bias


def _expand_input(x: torch.Tensor, timesteps: int) -> torch.Tensor:
    return x.unsqueeze(0).expand(timesteps, *x.shape)


@torch.no_grad()
def emulate(net: SpikingNetwork, points, *, timesteps: int | None = None, chunk: int = 2048,
            normalized: bool = False) -> tuple[np.ndarray, Activity]:
    """Outputs ``(n, d_out)`` (float64 numpy) and activity for points ``(n, d_in)`` in physical
    coordinates (or already in [-1, 1] with ``normalized=True``)."""
    T = timesteps or net.timesteps
    steps = net.model.emulated_steps(T)
    x_np = as_points(points, net.d_in, "points for this network")
    if not normalized:
        warn_outside(x_np, net.lower, net.upper, "this network")
    x_all = torch.as_tensor(x_np, dtype=net.layers[0].weight.dtype)
    if not normalized:
        x_all = net.normalize(x_all)
    stats = Activity(timesteps=T, steps=steps, ann_macs_per_point=net.ann_macs())
    outs = []
    for start in range(0, len(x_all), chunk):
        x = x_all[start:start + chunk]
        chunk_stats = Activity(points=len(x), timesteps=T)
        chunk_stats.input_messages = len(x) * net.d_in * net.model.input_steps(T)
        chunk_stats.synops = chunk_stats.input_messages * net.layers[0].neurons
        values = _expand_input(x, steps)
        for layer, nxt in zip(net.layers[:-1], net.layers[1:]):
            values, sent = run_hidden_layer(layer, net.model, values)
            chunk_stats.messages.append(int(sent.sum()))
            chunk_stats.neurons.append(layer.neurons)
            chunk_stats.synops += int(sent.sum()) * nxt.neurons
        outs.append(readout(net.layers[-1], values))
        stats.add(chunk_stats)
    return torch.cat(outs).double().numpy(), stats
