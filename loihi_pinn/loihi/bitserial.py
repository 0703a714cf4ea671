"""Bit-serial neurons (seed 003) in fixed point: the step-by-step emulation that Lava's
``runtime/bitserial.py`` process runs, the integer B-bit network it equals, and quantization.

A layer of T-bit neurons works in two phases per inference. It accumulates its input for
``accumulate`` steps, step j's Dense output shifted left by ``accumulate - 1 - j`` (the place
of the bit it carries; the first layer receives the 24-bit input messages once, in one step),
adds its bias on the last of them and takes the level m = #{k : |u| >= levels[k-1]} of its
threshold table; from that same step on it sends m's T bits, most significant first, as spikes
of the sign of u, each bit one comparison with the table (a binary search). Each Dense delays a
step, so layer k (0-based) accumulates from step ``start_k`` = 1 (k = 0), 2 + (k - 1) T (k >= 1);
the readout accumulates without firing and holds the output after ``2 + H T`` steps (H hidden
layers). A neuron clears its potential at the start of its accumulation: inferences need no
reset between them.

Because the Dense is linear and every weight is an integer, the accumulated potential is
exactly that of the integer network ``u = W m_prev + b`` (``integer_reference``): the
conversion has no error at all, bit for bit.
"""
from __future__ import annotations

import numpy as np
import torch

from loihi_pinn.errors import InputError

from .fixed_point import STATE_LIMIT, WEIGHT_MAX, FixedPointLayer, FixedPointStats, _check, lava_weights, shift


def schedule(bits: int, n_layers: int) -> list[tuple[int, int]]:
    """(first accumulation step, accumulation steps) per layer, readout last."""
    return [(1, 1)] + [(2 + (k - 1) * bits, bits) for k in range(1, n_layers)]


def bitserial_steps(bits: int, n_layers: int) -> int:
    """Time steps per inference: the readout's last accumulation step + 1."""
    start, length = schedule(bits, n_layers)[-1]
    return start + length


def levels_of(u: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Signed levels sign(u) * #{k : |u| >= table[k-1]} (int64, shape of ``u``)."""
    return np.sign(u) * np.searchsorted(table, np.abs(u), side="right")


def _dense(layer: FixedPointLayer, effective, spikes: np.ndarray) -> np.ndarray:
    w, exp = effective
    return shift(np.rint(spikes.astype(np.float64) @ w.T.astype(np.float64)).astype(np.int64), exp)


def run_bitserial(layers: list[FixedPointLayer], messages: np.ndarray, bits: int, *,
                  keep_states: bool = False) -> tuple[np.ndarray, FixedPointStats]:
    """Readout potentials ``(n, d_out)`` (int64) and activity, step by step as Lava runs it.
    With ``keep_states`` the signed level each hidden layer sent is kept (``stats.sent``)."""
    messages = np.asarray(messages, dtype=np.int64)
    if messages.ndim != 2 or messages.shape[1] != layers[0].weight.shape[1]:
        raise InputError(f"input messages must have shape (n, {layers[0].weight.shape[1]}), got {messages.shape}")
    n, plan = len(messages), schedule(bits, len(layers))
    steps = bitserial_steps(bits, len(layers))
    effective = [lava_weights(layer.weight) for layer in layers]
    peaks = [0] * len(layers)
    _check("input message", messages, 0, peaks)
    u = [np.zeros((n, l.size), np.int64) for l in layers]
    magnitude = [np.zeros((n, l.size), np.int64) for l in layers]
    sign = [np.zeros((n, l.size), np.int64) for l in layers]
    level = [np.zeros((n, l.size), np.int64) for l in layers]
    sent = [np.zeros((n, l.size), np.int64) for l in layers[:-1]]
    counts = [0] * (len(layers) - 1)
    pending = [np.zeros((n, l.size), np.int64) for l in layers]
    pending[0] = _dense(layers[0], effective[0], messages)          # the input, sent at step 0
    synops = int(np.count_nonzero(messages)) * layers[0].size
    for step in range(1, steps):
        out = []
        for k, (layer, (start, length)) in enumerate(zip(layers, plan)):
            j = step - start
            if 0 <= j < length:
                if j == 0:
                    u[k][:] = 0
                u[k] += np.left_shift(pending[k], length - 1 - j)
                _check("potential", u[k], k, peaks)
                if j == length - 1 and not layer.readout:
                    total = u[k] + layer.bias
                    _check("potential", total, k, peaks)
                    sign[k], magnitude[k], level[k][:] = np.sign(total), np.abs(total), 0
            spikes = None
            emit = step - (start + length - 1)
            if not layer.readout and 0 <= emit < bits:
                candidate = level[k] + (1 << (bits - 1 - emit))
                bit = magnitude[k] >= layer.levels[candidate - 1]
                level[k] = np.where(bit, candidate, level[k])
                spikes = sign[k] * bit
                fired = int(np.count_nonzero(spikes))
                counts[k] += fired
                synops += fired * layers[k + 1].size
                sent[k] += spikes << (bits - 1 - emit)
            out.append(spikes)
        pending = [np.zeros_like(pending[0])] + [
            np.zeros_like(pending[k + 1]) if s is None else _dense(layers[k + 1], effective[k + 1], s)
            for k, s in enumerate(out[:-1])]
    stats = FixedPointStats(n, steps, counts, int(np.count_nonzero(messages)), synops, peaks)
    if keep_states:
        stats.sent = sent
    return u[-1].copy(), stats


def integer_reference(layers: list[FixedPointLayer], messages: np.ndarray) -> np.ndarray:
    """The integer B-bit network the bit-serial run must equal: per hidden layer
    ``m = levels_of(W m_prev + b)`` (m_prev = the input messages for the first), readout
    ``W m`` (no bias), ``(n, d_out)`` int64."""
    h = np.asarray(messages, dtype=np.int64)
    for layer in layers:
        z = _dense(layer, lava_weights(layer.weight), h)
        h = z if layer.readout else levels_of(z + layer.bias, layer.levels)
    return h


def quantize_bitserial(snn, x: torch.Tensor, headroom: float, round_weights, file_weights):
    """Integer layers of a bit-serial SNN for normalized calibration inputs ``x`` ``(n, d_in)``.

    Layer l gets a state scale A_l (real 1.0 = A_l in u): the largest that keeps its file weights
    within 8 bits, its potential (``headroom`` times the largest partial sum seen) and its
    threshold table within 24 bits. Hidden messages are signed levels m worth ``threshold``
    (the level value) each, so file weights are ``W * level_value_{l-1} * A_l``; the first layer
    takes input messages ``round(x * input_scale)``. Thresholds become ``ceil(tau * A_l)``.
    Returns (layers, input_scale, output_scale, output_offset)."""
    layers, inputs, input_scale = [], x.double(), None
    for i, unit_layer in enumerate(snn.layers):
        w, b = unit_layer.weight.double(), unit_layer.bias.double()
        step_value = 1.0 if i == 0 else snn.layers[i - 1].threshold
        real_in = inputs * step_value                                  # real values of the messages
        z = real_in @ w.T + b
        bound = (inputs.abs() @ (w.abs() * step_value).T).max() + b.abs().max()
        limit = (STATE_LIMIT - 1) / (headroom * max(float(bound), float(z.abs().max()), 1e-12))
        if not unit_layer.is_readout:
            limit = min(limit, (STATE_LIMIT - 1) / float(unit_layer.levels.max()))
        wmax = max(float(w.abs().max()) * step_value, 1e-12)
        if i == 0:
            scale = limit
            input_scale = scale * wmax / WEIGHT_MAX
            inputs = torch.round(x.double() * input_scale)
            real = w * scale / input_scale
        else:
            scale = min(limit, WEIGHT_MAX / wmax)
            real = w * step_value * scale
        weight = file_weights(round_weights(real, inputs).numpy())
        if unit_layer.is_readout:                 # always the last layer
            layers.append(FixedPointLayer(weight, np.zeros(len(b), np.int64), 0, readout=True))
            break
        table = np.ceil(unit_layer.levels.double().numpy() * scale).astype(np.int64)
        if np.any(np.diff(table) <= 0):
            raise InputError(f"layer {i + 1}: its {len(table)} thresholds collapse at state scale {scale:.3g}; "
                             f"the 24-bit state cannot hold {int(np.log2(len(table) + 1))} bits of this layer's range "
                             f"(use fewer bits or more headroom)")
        layer = FixedPointLayer(weight, np.rint(b.numpy() * scale).astype(np.int64), 0, levels=table)
        layers.append(layer)
        inputs = torch.as_tensor(levels_of(_dense(layer, lava_weights(layer.weight), inputs.numpy().astype(np.int64))
                                           + layer.bias, table), dtype=torch.float64)
    return layers, input_scale, scale, b.tolist()
