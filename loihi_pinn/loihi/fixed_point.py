"""Loihi 2 sigma-delta (SDNN) arithmetic, bit for bit as Lava's ``fixed_pt`` process models run it.

A quantized network is a chain of netx ``dense`` layers: hidden layers of ``SigmaDelta`` ReLU
neurons and a ``Sigma`` readout. One inference starts from zero state; the input (integer
messages, one per input dimension) is sent at step 1 only (delta coding of a constant input),
and every Dense delays by one step, so the readout holds its final value after
``len(layers) + 1`` steps. Per step and neuron (``lava/proc/sdn/models.py``,
``lava/proc/dense/models.py``, netx with ``state_exp = 6`` and ``spike_exp = 0``):

    a      = (W_eff @ s_prev) shifted by the weight exponent   # Dense, one step late
    sigma += a
    act    = relu(sigma + (bias << 6))                         # SigmaDelta, RELU mode
    delta  = act - act_prev + residue
    sent   = delta if |delta| >= (vth << 6) else 0;  residue = delta - sent
    s_out  = sent >> 6                                         # graded spike (floor)

netx's default ``spike_exp = 6`` would store biases << 12: a bias resolution of 4096 state
units, too coarse for PINN layers whose state scale is ~1e5 per unit; ``spike_exp = 0`` gives 64.

The readout ``Sigma`` only accumulates: ``sigma += a``. Lava keeps these in int32 and does not
wrap at 24 bits; Loihi 2 does, so any state beyond 24 bits is an overflow and is refused.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from loihi_pinn.errors import InputError

from .lava_env import import_netx

STATE_BITS = 24
STATE_LIMIT = 2 ** (STATE_BITS - 1)          # |state| must stay below this (signed 24 bit)
STATE_EXP = 6                                # netx: SigmaDelta(state_exp=6)
SPIKE_EXP = 0                                # we load with netx Network(spike_exp=0) (default 6) ...
PARAM_SHIFT = SPIKE_EXP + STATE_EXP          # ... so SigmaDelta stores bias and vth << 6, not << 12
NETX_ARGS = {"skip_layers": 1, "input_message_bits": 24, "spike_exp": SPIKE_EXP}   # how netx must load our files
WEIGHT_MIN, WEIGHT_MAX = -256, 254           # netx clips mixed-sign weights to this range


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


@dataclass
class FixedPointLayer:
    """One netx dense layer: file ``weight`` ``(n_out, n_in)`` and ``bias`` ``(n_out,)``
    (integers; bias in units of 2^PARAM_SHIFT state for SDNN, 2^6 for CUBA), threshold ``vth``
    (the delta threshold for SDNN, the firing threshold mantissa for CUBA), whether it is the
    readout, (IF models) the initial potentials ``v0`` ``(n_out,)``, (signed IF) whether the
    neurons fire negative spikes and (bit-serial) the threshold table ``levels`` ``(2^B - 1,)``."""

    weight: np.ndarray
    bias: np.ndarray
    vth: int
    readout: bool = False
    v0: np.ndarray | None = None
    signed: bool = False            # signed IF only: fires negative spikes too
    levels: np.ndarray | None = None   # bit-serial only: increasing integer thresholds

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


@dataclass
class FixedPointStats:
    """Activity of a fixed-point run: messages (non-zero graded spikes) per layer, input
    messages, synaptic operations, steps per point, and the largest |state| seen per layer."""

    points: int
    steps: int
    messages: list[int]
    input_messages: int
    synops: int
    peak_state: list[int] = field(default_factory=list)
    # with keep_states: per hidden layer the final sigma + (bias << PARAM_SHIFT), and the sum
    # of the graded spikes it sent (what the next layer integrated), both (n, neurons)
    pre_activations: list[np.ndarray] = field(default_factory=list, repr=False)
    sent: list[np.ndarray] = field(default_factory=list, repr=False)


def _check(name: str, value: np.ndarray, layer: int, peaks: list[int]) -> None:
    peak = int(np.abs(value).max(initial=0))
    peaks[layer] = max(peaks[layer], peak)
    if peak >= STATE_LIMIT:
        raise StateOverflow(f"layer {layer + 1}: {name} reaches {peak}, beyond Loihi's 24-bit state "
                            f"(|x| < {STATE_LIMIT}); re-quantize with more headroom (quantize(..., headroom=...)) "
                            f"or keep the inputs inside the calibration domain")


def run_fixed_point(layers: list[FixedPointLayer], messages: np.ndarray, *,
                    keep_states: bool = False) -> tuple[np.ndarray, FixedPointStats]:
    """Run integer input ``messages`` ``(n, d_in)`` through the layers, every point from zero
    state for ``len(layers) + 1`` steps. Returns the readout's final sigma ``(n, d_out)``
    (int64) and the activity (with each hidden layer's final state if ``keep_states``).
    Integer products are exact in float64 (|sum| < 2^53)."""
    messages = np.asarray(messages)
    if messages.ndim != 2 or messages.shape[1] != layers[0].weight.shape[1]:
        raise InputError(f"input messages must have shape (n, {layers[0].weight.shape[1]}), got {messages.shape}")
    n, steps = len(messages), len(layers) + 1
    effective = [lava_weights(layer.weight) for layer in layers]
    peaks = [0] * len(layers)
    _check("input message", messages, 0, peaks)
    state = [{"sigma": np.zeros((n, l.size), np.int64), "act": np.zeros((n, l.size), np.int64),
              "residue": np.zeros((n, l.size), np.int64)} for l in layers]
    pending = [np.zeros((n, l.size), np.int64) for l in layers]      # Dense buffers a_buff
    counts = [0] * len(layers)
    totals = [np.zeros((n, l.size), np.int64) for l in layers[:-1]]
    input_messages = int(np.count_nonzero(messages))
    synops = input_messages * layers[0].size
    for step in range(steps):
        # neurons first, on what each Dense buffered last step ...
        sent = [messages if step == 0 else None]
        for k, layer in enumerate(layers):
            a, s = pending[k], state[k]
            _check("synaptic input", a, k, peaks)
            s["sigma"] += a
            _check("sigma", s["sigma"], k, peaks)
            if layer.readout:
                break
            act = np.maximum(s["sigma"] + (layer.bias << PARAM_SHIFT), 0)
            _check("activation", act, k, peaks)
            delta = act - s["act"] + s["residue"]
            out = np.where(np.abs(delta) >= (layer.vth << PARAM_SHIFT), delta, 0)
            s["residue"], s["act"] = delta - out, act
            msg = np.right_shift(out, STATE_EXP)
            nonzero = int(np.count_nonzero(msg))
            counts[k] += nonzero
            totals[k] += msg
            synops += nonzero * layers[k + 1].size
            sent.append(msg if nonzero else None)
        # ... then each Dense buffers this step's spikes for the next step
        for k, (w, exp) in enumerate(effective):
            src = sent[k] if k < len(sent) else None
            if src is None:
                pending[k] = np.zeros_like(pending[k])
            else:
                acc = np.rint(src.astype(np.float64) @ w.T.astype(np.float64)).astype(np.int64)
                pending[k] = shift(acc, exp)
    stats = FixedPointStats(n, steps, counts[:-1], input_messages, synops, peaks)
    if keep_states:
        stats.pre_activations = [s["sigma"] + (l.bias << PARAM_SHIFT) for s, l in zip(state[:-1], layers[:-1])]
        stats.sent = totals
    return state[-1]["sigma"].copy(), stats
