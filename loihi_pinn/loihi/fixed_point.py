"""Loihi 2 integer arithmetic shared by every neuron model, and the one integer run loop.

A quantized network is a chain of netx ``dense`` layers: hidden layers of some neuron model and a
readout that only integrates. Per time step, bit for bit as Lava's ``fixed_pt`` process models run
it (``lava/proc/dense/models.py``): every neuron layer first updates on what its Dense buffered
last step, then every Dense buffers this step's messages for the next step (a Dense delays by one
step). The neuron update is the model's (``loihi_pinn.neurons``); this module owns the rest:
Lava's weight handling (``lava_weights``), the 24-bit state checks (``StateMonitor``) and the
activity counts (``Activity``).

Lava keeps states in int32 and does not wrap at 24 bits; Loihi 2 does, so any state beyond 24
bits is an overflow and is refused.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loihi_pinn.conversion.activity import Activity
from loihi_pinn.errors import InputError

from .lava_env import import_netx

STATE_BITS = 24
STATE_LIMIT = 2 ** (STATE_BITS - 1)          # |state| must stay below this (signed 24 bit)
WEIGHT_MIN, WEIGHT_MAX = -256, 254           # netx clips mixed-sign weights to this range
INPUT_MESSAGE_BITS = 24                      # points enter the first Dense as 24-bit graded messages


class StateOverflow(InputError):
    """A neuron state or message left Loihi's signed 24-bit range."""


def lava_weights(weight: np.ndarray) -> tuple[np.ndarray, int]:
    """The integer weights and exponent Lava's Dense uses for netx file weights ``weight``:
    netx's ``optimize_weight_bits``, then what Lava's fixed-point Dense does on its first step
    (sign mode from the weights, 8-bit clip, truncation): the same calls."""
    netx = import_netx()
    from lava.utils.weightutils import clip_weights, determine_sign_mode, truncate_weights

    w, bits, exp, _ = netx.utils.optimize_weight_bits(np.asarray(weight))
    mode = determine_sign_mode(w)
    w = truncate_weights(clip_weights(w, mode, num_bits=8), mode, bits)
    return np.asarray(w, dtype=np.int64), int(exp)


def shift(a: np.ndarray, exp: int) -> np.ndarray:
    """``a * 2**exp`` for integers, flooring like numpy's right_shift."""
    return np.left_shift(a, exp) if exp > 0 else np.right_shift(a, -exp)


def dense(effective: tuple[np.ndarray, int], messages: np.ndarray) -> np.ndarray:
    """What a Lava Dense with ``effective`` = ``lava_weights(file weights)`` outputs for integer
    ``messages`` ``(n, n_in)``: ``(n, n_out)`` int64 (products are exact in float64, |sum| < 2^53)."""
    w, exp = effective
    return shift(np.rint(messages.astype(np.float64) @ w.T.astype(np.float64)).astype(np.int64), exp)


@dataclass
class FixedPointLayer:
    """One netx dense layer: file ``weight`` ``(n_out, n_in)`` and ``bias`` ``(n_out,)``
    (integers, in the units of the neuron model), threshold mantissa ``vth``, whether it is the
    readout, and the model-specific parameters: initial potentials ``v0`` ``(n_out,)`` (IF
    models), whether neurons fire negative spikes ``signed`` (signed IF) and the increasing
    threshold table ``levels`` ``(2^B - 1,)`` (bit-serial)."""

    weight: np.ndarray
    bias: np.ndarray
    vth: int
    readout: bool = False
    v0: np.ndarray | None = None
    signed: bool = False
    levels: np.ndarray | None = None

    def __post_init__(self):
        self.weight = np.asarray(self.weight, dtype=np.int64)
        self.bias = np.asarray(self.bias, dtype=np.int64)
        if self.weight.ndim != 2 or self.bias.shape != (self.weight.shape[0],):
            raise InputError(f"layer weight {self.weight.shape} and bias {self.bias.shape} do not match")
        if self.weight.min(initial=0) < WEIGHT_MIN or self.weight.max(initial=0) > WEIGHT_MAX:
            raise InputError(f"weights must lie in [{WEIGHT_MIN}, {WEIGHT_MAX}] (Loihi's 8-bit mantissa); "
                             f"got [{self.weight.min()}, {self.weight.max()}]")
        if self.readout and np.any(self.bias != 0):
            raise InputError("the readout has no bias; apply the output offset in the decoder")
        if self.v0 is not None:
            self.v0 = np.asarray(self.v0, dtype=np.int64)
            if self.v0.shape != (self.size,):
                raise InputError(f"v0 must have shape ({self.size},), got {self.v0.shape}")
        if self.levels is not None:
            self.levels = np.asarray(self.levels, dtype=np.int64)
            bits = np.log2(len(self.levels) + 1)
            if self.levels.ndim != 1 or bits != int(bits) or np.any(np.diff(self.levels) <= 0):
                raise InputError(f"a bit-serial threshold table must hold 2^B - 1 increasing integers, got "
                                 f"{len(self.levels)} values")
            if np.abs(self.levels).max(initial=0) >= STATE_LIMIT:
                raise InputError("bit-serial thresholds exceed the 24-bit state")

    @property
    def size(self) -> int:
        return self.weight.shape[0]


class StateMonitor:
    """Records the largest |state| per layer and refuses any beyond Loihi's 24 bits."""

    def __init__(self, n_layers: int):
        self.peaks = [0] * n_layers

    def check(self, name: str, value: np.ndarray, layer: int) -> None:
        peak = int(np.abs(value).max(initial=0))
        self.peaks[layer] = max(self.peaks[layer], peak)
        if peak >= STATE_LIMIT:
            raise StateOverflow(f"layer {layer + 1}: {name} reaches {peak}, beyond Loihi's 24-bit state "
                                f"(|x| < {STATE_LIMIT}); re-quantize with more headroom (quantize(..., headroom=...)) "
                                f"or keep the inputs inside the calibration domain")


CHUNK_BYTES = 256 * 2 ** 20                 # working memory of one chunk of points in run_integers
WORKING_ARRAYS = 6                           # int64/float64 arrays per neuron besides the model's states


def bytes_per_point(model, layers: list[FixedPointLayer]) -> int:
    """Upper bound on ``run_integers``'s working memory per point: per neuron of every layer,
    8 bytes for each of the model's state arrays plus ``WORKING_ARRAYS`` more (the Dense buffer,
    what the layer delivered, the Dense's float64 input and product, its rounding and shift),
    plus the input messages. Measured: 7.7 int64 per neuron for sigma-delta (3 states: bound 9)."""
    states = len(model.start_state(layers[0], 1))
    neurons = sum(layer.size for layer in layers)
    return 8 * (neurons * (states + WORKING_ARRAYS) + 2 * layers[0].weight.shape[1])


def chunk_points(model, layers: list[FixedPointLayer], chunk_bytes: int = CHUNK_BYTES) -> int:
    """Points per chunk of ``run_integers`` so that one chunk's working memory stays within
    ``chunk_bytes`` (at least one point)."""
    return max(1, chunk_bytes // bytes_per_point(model, layers))


def rest_states(model, layers: list[FixedPointLayer], timesteps: int = 1) -> list[dict]:
    """Every layer's state ``(1, neurons)`` once the network has settled with zero input from the
    model's start state: where a delta-coded model (``NeuronModel.delta_coded``) starts each
    inference. After ``steps_per_inference`` steps the last message has arrived and every Dense
    buffer is empty, so the state alone determines what follows."""
    return _settle(model, layers, timesteps)[0]


def _settle(model, layers, timesteps):
    """``rest_states`` and what each hidden layer delivered while settling (``(1, neurons)``)."""
    states = [model.start_state(layer, 1) for layer in layers]
    delivered = advance(model, layers, [lava_weights(layer.weight) for layer in layers], states, lambda step: None,
                        model.steps_per_inference(timesteps, len(layers)), timesteps, StateMonitor(len(layers)))
    return states, delivered


def start_states(model, layers: list[FixedPointLayer], n: int, timesteps: int = 1,
                 rest: list[dict] | None = None) -> list[dict]:
    """The states ``(n, neurons)`` every point of an inference starts from: the model's start
    state, or for a delta-coded model its network's rest state (``rest``, computed if not given)."""
    if not model.delta_coded:
        return [model.start_state(layer, n) for layer in layers]
    rest = rest_states(model, layers, timesteps) if rest is None else rest
    return [{key: np.repeat(value, n, 0) for key, value in state.items()} for state in rest]


def run_integers(model, layers: list[FixedPointLayer], messages: np.ndarray, timesteps: int, *,
                 keep_states: bool = False, chunk: int | None = None) -> tuple[np.ndarray, Activity]:
    """Run integer input ``messages`` ``(n, d_in)`` through ``layers`` with the neuron ``model``
    (a ``loihi_pinn.neurons.NeuronModel``), every point from its start state (``start_states``),
    for the model's steps per inference. Returns the readout's final state ``(n, d_out)`` (int64)
    and the activity. Messages sent at the last step arrive nowhere and cost no synaptic operation.

    Points run in chunks of ``chunk`` (default ``chunk_points``: working memory at most
    ``CHUNK_BYTES`` = 256 MiB, see ``bytes_per_point``), so memory beyond the input and the
    result ``(n, d_out)`` is bounded whatever ``n``: 1e6 points run in constant memory. Points are
    independent, so outputs, activity counts and peak states equal one unchunked pass bit for
    bit; with ``keep_states`` the per-point ``sent`` and ``states`` arrays (``O(n)`` by nature)
    are concatenated over the chunks. A state overflow is raised from the first chunk that has one."""
    messages = np.asarray(messages)
    if messages.ndim != 2 or messages.shape[1] != layers[0].weight.shape[1]:
        raise InputError(f"input messages must have shape (n, {layers[0].weight.shape[1]}), got {messages.shape}")
    n, steps = len(messages), model.steps_per_inference(timesteps, len(layers))
    chunk = chunk_points(model, layers) if chunk is None else int(chunk)
    if chunk < 1:
        raise InputError(f"chunk must be >= 1 point, got {chunk}")
    effective = [lava_weights(layer.weight) for layer in layers]
    rest, rest_delivered = _settle(model, layers, timesteps) if model.delta_coded else (None, None)
    monitor = StateMonitor(len(layers))
    stats = Activity(points=n, timesteps=timesteps, steps=steps, messages=[0] * (len(layers) - 1),
                     neurons=[layer.size for layer in layers[:-1]], input_messages=0, synops=0)
    outputs, sent, states = [], [], []
    for start in range(0, max(n, 1), chunk):
        part = messages[start:start + chunk]
        monitor.check("input message", part, 0)
        state = start_states(model, layers, len(part), timesteps, rest)
        inputs = (lambda step, part=part: part if model.sends_input(step) else None)
        delivered = advance(model, layers, effective, state, inputs, steps, timesteps, monitor, stats)
        outputs.append(model.readout_state(state[-1]).copy())
        if keep_states:          # what arrived since the start state (at rest too, for a delta-coded model)
            sent.append(delivered if rest is None else [d + r for d, r in zip(delivered, rest_delivered)])
            states.append(state)
        del part, state, delivered                   # free this chunk before the next one allocates
    stats.peak_state = monitor.peaks
    if keep_states:
        if len(sent) == 1:
            stats.sent, stats.states = sent[0], states[0]
        else:
            stats.sent = [np.concatenate(layer) for layer in zip(*sent)]
            stats.states = [{key: np.concatenate([part[key] for part in layer]) for key in layer[0]}
                            for layer in zip(*states)]
    return (outputs[0] if len(outputs) == 1 else np.concatenate(outputs)), stats


def advance(model, layers, effective, states, inputs, steps, timesteps, monitor, stats=None, reads=None):
    """Run ``steps`` time steps from ``states`` (updated in place), the input messages of a step
    being ``inputs(step)`` (``(n, d_in)`` or None). Counts go into ``stats`` (an ``Activity``,
    when given); ``reads`` (a dict step -> None) receives the readout ``(n, d_out)`` at the end
    of each of its steps. Returns what each hidden layer delivered (``(n, neurons)``). A synaptic
    op is a message times its sender's non-zero synapses (a zero weight is no synapse)."""
    n = len(states[0][next(iter(states[0]))])
    pending = [np.zeros((n, layer.size), np.int64) for layer in layers]      # Dense buffers
    counts = [0] * (len(layers) - 1)
    delivered = [np.zeros((n, layer.size), np.int64) for layer in layers[:-1]]
    fan_out = [np.count_nonzero(layer.weight, axis=0) for layer in layers]   # synapses of each sender
    input_messages = synops = 0
    for step in range(steps):
        sent = [None] * len(layers)                  # sent[k]: what Dense k buffers this step
        messages = inputs(step)
        if messages is not None:
            sent[0] = messages
            input_messages += int(np.count_nonzero(messages))
            synops += int(np.count_nonzero(messages, axis=0) @ fan_out[0])
        for k, layer in enumerate(layers):
            spikes = model.integer_step(layer, states[k], pending[k], index=k, step=step, timesteps=timesteps,
                                        n_layers=len(layers), monitor=monitor)
            if layer.readout or spikes is None:
                continue
            fired = int(np.count_nonzero(spikes))
            counts[k] += fired
            if fired and step < steps - 1:
                synops += int(np.count_nonzero(spikes, axis=0) @ fan_out[k + 1])
                delivered[k] += spikes * model.message_weight(index=k, step=step, timesteps=timesteps,
                                                              n_layers=len(layers))
                sent[k + 1] = spikes
        pending = [np.zeros_like(p) if src is None else dense(eff, src)
                   for p, src, eff in zip(pending, sent, effective)]
        if reads is not None and step in reads:
            reads[step] = model.readout_state(states[-1]).copy()
    if stats is not None:
        stats.messages = [a + b for a, b in zip(stats.messages, counts)]
        stats.input_messages += input_messages
        stats.synops += synops
    return delivered
