"""One interface for every executor of an exported network.

    runner = Runner("netx_exports/poisson.net", backend="lava-sim")
    u = runner.predict(points)        # (n, d_in) physical coordinates -> (n, d_out)
    runner.stats                      # steps, messages, synaptic ops, wall time, backend

A backend is an object with one interface (``Backend``): ``name``, ``check_available()`` and
``run(qnet, messages)`` -> readout integers. ``BACKEND_TYPES`` lists them: ``emulator`` (the
bit-exact integer emulator, vectorized over chunks of points), ``lava-sim`` (the Lava process
graph on the CPU simulator) and ``loihi2`` (the same graph on Loihi 2, which needs Intel's
lava-loihi extension and INRC access). The model card in the file is all a runner needs.

Memory is bounded whatever the number of points: the emulator runs chunks of at most
``fixed_point.CHUNK_BYTES`` (256 MiB) of working memory, and the Lava backends run chunks of
``lava_graph.LAVA_CHUNK_POINTS`` points, each graph in a child process that is killed, with its
shared memory, on every way out (error, Ctrl-C, SIGTERM, a dead Lava worker: ``LavaRunError``,
an ``InputError``). Beyond that, a run holds its points, messages and outputs.

``RunStats.wall_seconds`` times the backend's ``run`` alone: encoding the points, decoding the
outputs and counting the activity are outside it. Activity counts come from the emulator's
integer pass, whose dynamics are bit-identical on every backend.
"""
from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np

from loihi_pinn.errors import InputError
from loihi_pinn.export import read_netx
from loihi_pinn.conversion.activity import Activity
from loihi_pinn.loihi import QuantizedNetwork
from loihi_pinn.loihi.lava_env import import_netx
from loihi_pinn.loihi.stream import StreamPlan, run_stream


class HardwareUnavailable(InputError):
    """The loihi2 backend was asked for where no Loihi 2 can be reached."""


class Backend(ABC):
    """An executor of a fixed-point network. ``copies``: networks side by side in one run (the
    Lava backends; the emulator runs points as vectorized chunks and reports 1);
    ``progress``: show a progress bar while running."""

    name: ClassVar[str]

    def __init__(self, *, copies: int = 1, progress: bool = True):
        if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
            raise InputError(f"copies must be a whole number >= 1, got {copies!r}")
        self.copies, self.progress = copies, progress

    def check_available(self) -> None:
        """Raise ``HardwareUnavailable`` saying what is missing; return when the backend can run."""

    @abstractmethod
    def run(self, qnet: QuantizedNetwork, messages: np.ndarray, stream: StreamPlan | None = None) -> np.ndarray:
        """Readout integers ``(n, d_out)`` (int64) for integer input ``messages`` ``(n, d_in)``,
        one point at a time or as ``stream``."""

    def activity(self, qnet: QuantizedNetwork, messages: np.ndarray, stream: StreamPlan | None = None) -> Activity:
        """Messages and synaptic operations of ``messages`` ``(n, d_in)``, from the emulator."""
        return (qnet.run_integers(messages) if stream is None else run_stream(qnet, messages, stream))[1]


class EmulatorBackend(Backend):
    """The bit-exact fixed-point emulator (numpy, vectorized over chunks of points, bounded memory)."""

    name = "emulator"

    def __init__(self, *, copies: int = 1, progress: bool = True):
        super().__init__(copies=copies, progress=progress)
        self.copies = 1
        self._last: tuple | None = None       # the last run's input, stream plan and activity

    def run(self, qnet: QuantizedNetwork, messages: np.ndarray, stream: StreamPlan | None = None) -> np.ndarray:
        sigma, stats = qnet.run_integers(messages) if stream is None else run_stream(qnet, messages, stream)
        self._last = (messages, stream, stats)
        return sigma

    def activity(self, qnet: QuantizedNetwork, messages: np.ndarray, stream: StreamPlan | None = None) -> Activity:
        """The activity the last ``run`` counted when it ran these ``messages``: no second pass."""
        if self._last is not None and self._last[0] is messages and self._last[1] == stream:
            return self._last[2]
        return super().activity(qnet, messages, stream)


class LavaSimBackend(Backend):
    """The Lava process graph (``lava_graph.run_lava``) on the CPU simulator, in a child process
    per chunk of points; a failed or interrupted run leaves nothing behind."""

    name = "lava-sim"

    def run(self, qnet: QuantizedNetwork, messages: np.ndarray, stream: StreamPlan | None = None) -> np.ndarray:
        from .lava_graph import run_lava
        return run_lava(qnet, messages, backend=self.name, copies=self.copies, progress=self.progress, stream=stream)


class Loihi2Backend(LavaSimBackend):
    """The same Lava process graph compiled for a Loihi 2 board (lava-loihi, INRC)."""

    name = "loihi2"

    def check_available(self) -> None:
        """Raise ``HardwareUnavailable`` unless lava-loihi is installed and a Loihi 2 system is
        configured (INRC: SLURM=1 and LOIHI_GEN, or a direct host in NXSDKHOST)."""
        from lava.utils.loihi import is_installed
        if not is_installed():
            raise HardwareUnavailable(
                "backend 'loihi2' needs Intel's lava-loihi extension (INRC members only) and a Loihi 2 system; "
                "it is not installed here. Run on the INRC cloud (see hw_tests/README.md) or use backend='lava-sim'")
        if not (os.environ.get("SLURM") or os.environ.get("NXSDKHOST")):   # how lava-loihi finds a board
            raise HardwareUnavailable("lava-loihi is installed but no Loihi 2 system is configured: set SLURM=1, "
                                      "PARTITION and LOIHI_GEN=N3B3 on INRC, or NXSDKHOST for a direct host")


BACKEND_TYPES: dict[str, type[Backend]] = {b.name: b for b in (EmulatorBackend, LavaSimBackend, Loihi2Backend)}
BACKENDS = tuple(BACKEND_TYPES)


def make_backend(name: str, *, copies: int = 1, progress: bool = True) -> Backend:
    """The backend called ``name`` (one of ``BACKENDS``); it is not yet checked for availability."""
    if name not in BACKEND_TYPES:
        raise InputError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    return BACKEND_TYPES[name](copies=copies, progress=progress)


@dataclass
class RunStats:
    """What one ``predict`` cost: per point ``steps`` (time steps per inference; a stream's steps
    per segment over its points), graded-spike ``messages`` and synaptic ops; totals; seconds
    spent in the backend's run alone; ``stream``: the stream plan (None: one point at a time)."""

    backend: str
    points: int = 0
    steps_per_point: float = 0
    time_steps: int = 0
    messages_per_point: float = 0.0
    synops_per_point: float = 0.0
    wall_seconds: float = 0.0
    copies: int = 1
    stream: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class Runner:
    """Run the netx file ``path`` on ``backend`` (a name in ``BACKENDS``); ``copies`` networks
    side by side per Lava batch (lava-sim/loihi2); ``progress`` shows a bar for Lava runs.
    ``self.backend`` is the ``Backend`` object."""

    def __init__(self, path, backend: str = "emulator", *, copies: int = 1, progress: bool = True):
        self.backend = make_backend(backend, copies=copies, progress=progress)
        self.path = path
        self.network = read_netx(path)
        import_netx()              # Lava's weight utilities serve every backend: import before timing
        if backend == "loihi2":
            if not self.network.model.loihi_native:
                raise HardwareUnavailable(f"{self.network.model.hardware_note}; it runs on backend='lava-sim' only "
                                          f"(or convert with a stock Loihi 2 model, e.g. --neuron sigma_delta)")
        self.backend.check_available()
        self.stats = RunStats(backend)

    @property
    def model_card(self) -> dict:
        return self.network.metadata

    def predict(self, points, stream: StreamPlan | None = None) -> np.ndarray:
        """Outputs ``(n, d_out)`` for physical ``points`` ``(n, d_in)``, one point at a time from
        rest or, with ``stream`` (``loihi.stream.StreamPlan``), as a stream in the given order
        (``loihi.stream.serpentine`` orders a grid); ``stats`` describes the run."""
        messages = self.network.encode(points)
        start = time.perf_counter()
        sigma = self.backend.run(self.network, messages, stream)
        wall = time.perf_counter() - start
        activity = self.backend.activity(self.network, messages, stream)
        per_point = activity.per_point()
        n = len(messages)
        total = activity.steps * (n if stream is None else -(-n // stream.segment_points(n)))
        self.stats = RunStats(self.backend.name, n, total / max(n, 1), total, per_point["messages_per_point"],
                              per_point["synops_per_point"], wall, self.backend.copies,
                              None if stream is None else asdict(stream))
        return self.network.decode(sigma)
