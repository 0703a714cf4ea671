"""Points as a stream: a delta-coded network (sigma-delta) evaluates one point after another
without going back to rest, so that it sends only what changes between neighbouring points.

A stream is cut into *segments* of ``reset_every`` points (0: one segment). Each segment starts
from the network's rest state (``fixed_point.rest_states``); its points enter ``hold`` steps
apart, each as the change of the input messages from the previous point (the first from zero),
and point k of a segment is read from the readout at the end of step ``k * hold + spi - 1``
(``spi``: the model's steps per inference). ``hold = 1`` pipelines: a point enters every step
while the earlier ones are still on their way through the layers.

Why reset at all: Lava's ``SigmaDelta`` sends ``delta >> 6`` (``state_exp = 6``, fixed by netx)
and keeps the whole delta as sent, so each graded spike loses up to one message unit, always
downwards. Along a segment these losses add up in every receiver (the *drift*); a reset to rest
bounds them by the messages of one segment, so the drift does not grow with the stream's length
(the export measures it on the evaluation grid and the model card states it). The emulator and
the Lava graph (``runtime/lava_graph.py``) both run this schedule, bit for bit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loihi_pinn.conversion.activity import Activity
from loihi_pinn.errors import InputError

from .fixed_point import StateMonitor, advance, lava_weights, start_states


@dataclass(frozen=True)
class StreamPlan:
    """``reset_every``: points per segment (0: never reset); ``hold``: steps between points
    (1 pipelines; the model's steps per inference lets each point settle before the next)."""

    reset_every: int = 100
    hold: int = 1

    def __post_init__(self):
        for name in ("reset_every", "hold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise InputError(f"stream {name} must be a whole number, got {value!r}")
        if self.reset_every < 0 or self.hold < 1:
            raise InputError(f"a stream needs reset_every >= 0 (0: never) and hold >= 1, got {self.reset_every} "
                             f"and {self.hold}")

    def segment_points(self, n: int) -> int:
        """Points per segment for a stream of ``n`` points."""
        return min(self.reset_every, n) if self.reset_every else n

    def segment_steps(self, n: int, spi: int) -> int:
        """Steps from a segment's first input to its last output."""
        return (self.segment_points(n) - 1) * self.hold + spi

    def read_steps(self, n: int, spi: int) -> np.ndarray:
        """The step of a segment at whose end each of its points is read."""
        return np.arange(self.segment_points(n)) * self.hold + spi - 1


def serpentine(grid_shape) -> np.ndarray:
    """The order ``(n,)`` that walks a grid (points flattened as ``np.meshgrid(indexing="ij")``)
    so that consecutive points are neighbours: each axis runs back and forth within the walk of
    the slower ones (a boustrophedon)."""
    shape = tuple(int(s) for s in grid_shape)
    index = np.indices(shape).reshape(len(shape), -1).T
    walk = index.copy()
    for axis in range(1, len(shape)):             # reversed on every other line of this axis, in walking order
        odd = np.ravel_multi_index(tuple(walk[:, :axis].T), shape[:axis]) % 2 == 1
        walk[:, axis] = np.where(odd, shape[axis] - 1 - index[:, axis], index[:, axis])
    return np.lexsort(walk.T[::-1])


def segment_inputs(messages: np.ndarray, plan: StreamPlan, spi: int) -> np.ndarray:
    """Input messages of every step of every segment, ``(segments, segment_steps, d_in)``: the
    change from the previous point where a point enters, zero elsewhere. The last segment is
    padded with its last point (no change, no message)."""
    messages = np.asarray(messages, dtype=np.int64)
    n, m = len(messages), plan.segment_points(len(messages))
    segments = -(-n // m)
    padded = np.concatenate([messages, np.repeat(messages[-1:], segments * m - n, 0)]).reshape(segments, m, -1)
    changes = np.diff(padded, axis=1, prepend=0)
    inputs = np.zeros((segments, plan.segment_steps(n, spi), messages.shape[1]), np.int64)
    inputs[:, np.arange(m) * plan.hold] = changes
    return inputs


def run_stream(qnet, messages: np.ndarray, plan: StreamPlan) -> tuple[np.ndarray, Activity]:
    """Readout integers ``(n, d_out)`` for integer input ``messages`` ``(n, d_in)`` taken as a
    stream in their order, and its activity (``steps``: steps per segment). Segments are
    independent and run side by side."""
    model = qnet.model
    if not model.delta_coded:
        raise InputError(f"{model.name} neurons do not send changes, so a stream saves nothing: run the points "
                         f"one at a time (a sigma-delta export streams)")
    messages = np.asarray(messages)
    if messages.ndim != 2 or messages.shape[1] != qnet.d_in or len(messages) == 0:
        raise InputError(f"a stream needs input messages of shape (n >= 1, {qnet.d_in}), got {messages.shape}")
    spi = qnet.steps
    inputs = segment_inputs(messages, plan, spi)
    monitor = StateMonitor(len(qnet.layers))
    monitor.check("input message", inputs, 0)
    stats = Activity(points=len(messages), timesteps=1, steps=inputs.shape[1],
                     messages=[0] * (len(qnet.layers) - 1), neurons=[l.size for l in qnet.layers[:-1]])
    states = start_states(model, qnet.layers, len(inputs), qnet.timesteps)
    reads = dict.fromkeys(plan.read_steps(len(messages), spi).tolist())
    advance(model, qnet.layers, [lava_weights(l.weight) for l in qnet.layers], states,
             lambda step: inputs[:, step] if inputs[:, step].any() else None, inputs.shape[1], qnet.timesteps,
             monitor, stats, reads)
    stats.peak_state = monitor.peaks
    out = np.stack([reads[step] for step in sorted(reads)], 1)           # (segments, m, d_out)
    return out.reshape(-1, qnet.d_out)[:len(messages)], stats


RESET_CHOICES = (1, 2, 5, 10, 20, 50, 100, 200, 500)   # reset intervals tried by ``choose_reset``
ERROR_GROWTH = 1.15         # a stream's rel L2 may be at most this times that of one point at a time


def choose_reset(qnet, messages: np.ndarray, one_at_a_time: np.ndarray, target: np.ndarray,
                 error: float) -> dict:
    """The pipelined stream (``hold = 1``) over ``messages`` ``(n, d_in)`` (in stream order) with the
    longest reset interval in ``RESET_CHOICES`` whose rel L2 against ``target`` (physical outputs
    ``(n, d_out)``) stays within ``ERROR_GROWTH`` times ``error``, that of the same points run one
    at a time (``one_at_a_time``, readout integers). Returns the model card's ``stream`` section,
    with the drift: the rel L2 (scaled by ``target``) between the stream's outputs and one point
    at a time."""
    scale = np.linalg.norm(target)
    baseline = qnet.decode(one_at_a_time)
    chosen = None
    for reset_every in RESET_CHOICES:
        plan = StreamPlan(reset_every, 1)
        raw, stats = run_stream(qnet, messages, plan)
        outputs = qnet.decode(raw)
        drift = float(np.linalg.norm(outputs - baseline) / scale)
        rel_l2 = float(np.linalg.norm(outputs - target) / scale)
        if chosen is not None and rel_l2 > ERROR_GROWTH * error:
            break
        per_point = stats.per_point()
        n = len(messages)
        chosen = {"order": "serpentine over the evaluation grid (loihi_pinn.loihi.stream.serpentine)",
                  "reset_every": reset_every, "hold": 1, "points": n, "drift_rel_l2": drift,
                  "rel_l2": rel_l2,
                  "messages_per_point": per_point["messages_per_point"],
                  "synops_per_point": per_point["synops_per_point"],
                  "steps_per_point": stats.steps * (-(-n // plan.segment_points(n))) / n,
                  "how": "start at rest (settle on zero input); send each point's change of input messages, one "
                         "point a step; read point k of a segment from the readout sigma at the end of its step "
                         "k + steps - 1 (steps: steps per inference); after each segment of reset_every points "
                         "one idle step, then set every state back to rest"}
    return chosen
