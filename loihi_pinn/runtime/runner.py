"""One interface for every executor of an exported network.

    runner = Runner("netx_exports/poisson.net", backend="lava-sim")
    u = runner.predict(points)        # (n, d_in) physical coordinates -> (n, d_out)
    runner.stats                      # steps, messages, synaptic ops, wall time, backend

Backends: ``emulator`` (the bit-exact integer emulator, vectorized over points), ``lava-sim``
(the Lava process graph on the CPU simulator) and ``loihi2`` (the same graph on Loihi 2, which
needs Intel's lava-loihi extension and INRC access). The model card in the file is all a
runner needs. Activity counts come from the emulator, whose dynamics are bit-identical.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from loihi_pinn.errors import InputError
from loihi_pinn.export import read_netx
from loihi_pinn.loihi.lava_env import import_netx

BACKENDS = ("emulator", "lava-sim", "loihi2")


class HardwareUnavailable(InputError):
    """The loihi2 backend was asked for where no Loihi 2 can be reached."""


def check_loihi2_available() -> None:
    """Raise ``HardwareUnavailable`` unless lava-loihi is installed and a Loihi 2 system is
    configured (INRC: SLURM=1 and LOIHI_GEN, or a direct host)."""
    import os

    from lava.utils.loihi import is_installed
    if not is_installed():
        raise HardwareUnavailable(
            "backend 'loihi2' needs Intel's lava-loihi extension (INRC members only) and a Loihi 2 system; "
            "it is not installed here. Run on the INRC cloud (see hw_tests/README.md) or use backend='lava-sim'")
    if not (os.environ.get("SLURM") or os.environ.get("NXSDKHOST")):   # how lava-loihi finds a board
        raise HardwareUnavailable("lava-loihi is installed but no Loihi 2 system is configured: set SLURM=1, "
                                  "PARTITION and LOIHI_GEN=N3B3 on INRC, or NXSDKHOST for a direct host")


@dataclass
class RunStats:
    """What one ``predict`` cost: per point ``steps`` (time steps per inference), graded-spike
    ``messages`` and synaptic ops; totals; wall time in seconds."""

    backend: str
    points: int = 0
    steps_per_point: int = 0
    time_steps: int = 0
    messages_per_point: float = 0.0
    synops_per_point: float = 0.0
    wall_seconds: float = 0.0
    copies: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


class Runner:
    """Run the netx file ``path`` on ``backend``; ``copies`` networks side by side per Lava
    batch (lava-sim/loihi2); ``progress`` shows a bar for Lava runs."""

    def __init__(self, path, backend: str = "emulator", *, copies: int = 1, progress: bool = True):
        if backend not in BACKENDS:
            raise InputError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
        if copies < 1:
            raise InputError(f"copies must be >= 1, got {copies}")
        self.path, self.backend, self.copies, self.progress = path, backend, copies, progress
        self.network = read_netx(path)
        import_netx()              # Lava's weight utilities serve every backend: import before timing
        if backend == "loihi2":
            custom = {"signed_if": "the signed IF neuron (seed 000)", "bitserial": "the bit-serial neuron (seed 003)"}
            if self.network.neuron in custom:
                raise HardwareUnavailable(f"{custom[self.network.neuron]} needs custom microcode that lava-loihi does "
                                          f"not ship; it runs on backend='lava-sim' only (or export --neuron sigma_delta)")
            check_loihi2_available()
        self.stats = RunStats(backend)

    @property
    def model_card(self) -> dict:
        return self.network.metadata

    def predict(self, points) -> np.ndarray:
        """Outputs ``(n, d_out)`` for physical ``points`` ``(n, d_in)``."""
        messages = self.network.encode(points)
        start = time.perf_counter()
        sigma_emulated, activity = self.network.run_integers(messages)
        if self.backend == "emulator":
            sigma = sigma_emulated
        else:
            from .lava_graph import run_lava
            sigma = run_lava(self.network, messages, backend=self.backend, copies=self.copies,
                             progress=self.progress)
        n = max(1, len(messages))
        self.stats = RunStats(self.backend, len(messages), activity.steps, activity.steps * len(messages),
                              (sum(activity.messages) + activity.input_messages) / n, activity.synops / n,
                              time.perf_counter() - start, 1 if self.backend == "emulator" else self.copies)
        return self.network.decode(sigma)
