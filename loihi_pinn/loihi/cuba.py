"""Rate-coded IF neurons in Loihi fixed point: ``if_hard`` is Loihi's CUBA LIF with du = 4095,
dv = 0, bit for bit as Lava's ``PyLifModelBitAcc`` runs it (``lava/proc/lif/models.py``);
``signed_if`` is seed 000's neuron as our custom Lava process (``runtime/signed_if.py``).

Per step and neuron, with netx's ``bias_exp = 6`` and Loihi's 6-bit MSB alignment:

    u     = a << 6                          # (4096 - (du + 1)) * u >> 12 = 0: no current memory
    v     = v + u + (bias << 6)             # dv = 0: a perfect integrator
    if_hard:   spike = v > (vth << 6);  v = 0 where spiked
    signed_if: spike = +1 if v >= vth << 6, -1 if v <= -(vth << 6) (signed layers); v -= spike * (vth << 6)

Input: the same 24-bit messages at every step (constant current). The readout is a CUBA layer
that never fires; its potential after the run, divided by the T steps it integrated, is the
output. Each Dense delays a step, so layer k's input arrives at step k + 2 and an inference
takes ``T + len(layers)`` steps. While a layer waits it would integrate its bias (and spike on
it), so at the end of step k + 1 its potential is set to v0 (the readout's to 0): every layer
then integrates exactly the T steps the float emulator simulates. ``v0`` is each neuron's
initial potential (calibrated).
"""
from __future__ import annotations

import numpy as np

from loihi_pinn.errors import InputError

from .fixed_point import STATE_LIMIT, FixedPointLayer, FixedPointStats, StateOverflow, _check, lava_weights, shift

ACT_SHIFT = 6                # synaptic input and threshold are MSB-aligned by 6 bits
BIAS_EXP = 6                 # netx passes bias_exp = 6 for CUBA layers
READOUT_VTH = 2 ** 17 - 1    # the largest 17-bit threshold mantissa: the readout never fires


def cuba_steps(timesteps: int, n_layers: int) -> int:
    return timesteps + n_layers


def _fire(v: np.ndarray, layer: FixedPointLayer, neuron: str) -> np.ndarray:
    """Spikes (int64, in place reset of ``v``) of one layer this step."""
    threshold = layer.vth << ACT_SHIFT
    if neuron == "if_hard" or layer.readout:
        spikes = (v > threshold).astype(np.int64)
        v[spikes > 0] = 0
        return spikes
    spikes = (v >= threshold).astype(np.int64) - layer.signed * (v <= -threshold)
    v -= spikes * threshold
    return spikes


def run_cuba(layers: list[FixedPointLayer], messages: np.ndarray, timesteps: int, *, neuron: str = "if_hard",
             keep_states: bool = False) -> tuple[np.ndarray, FixedPointStats]:
    """Readout potentials ``(n, d_out)`` (int64) after ``T + len(layers)`` steps, and activity,
    for ``if_hard`` or ``signed_if`` hidden layers (the readout is a CUBA integrator either way).
    With ``keep_states`` the spikes each hidden layer delivered (sum over steps) are kept."""
    messages = np.asarray(messages)
    if messages.ndim != 2 or messages.shape[1] != layers[0].weight.shape[1]:
        raise InputError(f"input messages must have shape (n, {layers[0].weight.shape[1]}), got {messages.shape}")
    n, steps = len(messages), cuba_steps(timesteps, len(layers))
    effective = [lava_weights(layer.weight) for layer in layers]
    peaks = [0] * len(layers)
    _check("input message", messages, 0, peaks)
    v = [np.broadcast_to(l.v0 if l.v0 is not None else 0, (n, l.size)).astype(np.int64).copy() for l in layers]
    pending = [np.zeros((n, l.size), np.int64) for l in layers]
    counts = [0] * len(layers)
    delivered = [np.zeros((n, l.size), np.int64) for l in layers[:-1]]
    input_messages = int(np.count_nonzero(messages)) * steps
    synops = input_messages * layers[0].size
    for step in range(steps):
        sent = [messages]
        for k, layer in enumerate(layers):
            u = pending[k] << ACT_SHIFT
            _check("current", u, k, peaks)
            v[k] += u + (layer.bias << BIAS_EXP)
            _check("voltage", v[k], k, peaks)
            spikes = _fire(v[k], layer, neuron)
            if step == k:                        # the layer's input arrives next step: start it now
                v[k][:] = 0 if layer.v0 is None else layer.v0
            if layer.readout:
                if spikes.any():
                    raise StateOverflow(f"the readout potential reached its threshold ({READOUT_VTH} << 6): the "
                                        f"output saturates; re-quantize with more headroom")
                break
            fired = int(np.count_nonzero(spikes))
            counts[k] += fired
            if step < steps - 1:
                delivered[k] += spikes
                synops += fired * layers[k + 1].size
            sent.append(spikes if fired else None)
        for k, (w, exp) in enumerate(effective):
            src = sent[k] if k < len(sent) else None
            pending[k] = np.zeros_like(pending[k]) if src is None else shift(
                np.rint(src.astype(np.float64) @ w.T.astype(np.float64)).astype(np.int64), exp)
    stats = FixedPointStats(n, steps, counts[:-1], input_messages, synops, peaks)
    if keep_states:
        stats.sent = delivered
    return v[-1].copy(), stats


def check_cuba_layer(layer: FixedPointLayer) -> None:
    """Loihi's LIF register widths: 13-bit signed bias mantissa, 17-bit threshold mantissa."""
    if np.abs(layer.bias).max(initial=0) >= 2 ** 12:
        raise InputError(f"CUBA bias mantissa {np.abs(layer.bias).max()} exceeds Loihi's 13-bit range")
    if not 0 <= layer.vth < 2 ** 17:
        raise InputError(f"CUBA threshold mantissa {layer.vth} outside Loihi's 17-bit range")
    if layer.v0 is not None and np.abs(layer.v0).max(initial=0) >= STATE_LIMIT:
        raise InputError("initial potentials exceed the 24-bit state")
