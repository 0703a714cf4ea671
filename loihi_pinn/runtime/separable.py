"""Run a separable export (``export.separable``): one ``Runner`` per axis file, the product on the host.

    runner = SeparableRunner("netx_exports/beltrami_spinn", backend="lava-sim")
    u = runner.predict_grid([x, y, t])    # 1-D coordinates per input -> (n_x, n_y, n_t, d_out)
    u = runner.predict(points)            # scattered (n, d_in) -> (n, d_out)
    runner.stats                          # inferences, time steps, messages, synaptic ops, host MACs, wall time

A tensor grid costs n_1 + ... + n_d inferences; scattered points cost one inference per distinct
coordinate of each axis. Features are exact integers decoded the same way on every backend, so
the product is the same to the last bit wherever the axis networks ran.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from loihi_pinn.conversion.separable import combine_features, combine_macs
from loihi_pinn.errors import InputError
from loihi_pinn.export.separable import read_card, verified_axes
from loihi_pinn.problems.base import as_points

from .runner import Runner


@dataclass
class SeparableStats:
    """What one prediction cost: ``inferences`` of the axis networks, ``time_steps`` (summed over
    inferences), ``messages`` (input included), ``synops``, the host's multiply-accumulates of the
    product, and seconds in the backends' runs plus the product."""

    backend: str
    points: int = 0
    inferences: int = 0
    time_steps: int = 0
    messages: float = 0.0
    synops: float = 0.0
    host_macs: int = 0
    wall_seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


class SeparableRunner:
    """The axis networks of the separable export in folder ``path`` (or its ``spinn.json``) on ``backend``."""

    def __init__(self, path, backend: str = "emulator", *, progress: bool = True):
        self.card, self.folder = read_card(path)
        if self.card.get("format") != "loihi-pinn-spinn-netx":
            raise InputError(f"{self.folder} holds a separable conversion, not an export; run "
                             f"loihi_pinn.export.separable.export_separable on it first")
        self.runners = [Runner(p, backend, progress=progress) for p in verified_axes(self.card, self.folder)]
        self.d_in, self.d_out, self.rank = len(self.runners), self.card["d_out"], self.card["rank"]
        self.stats = SeparableStats(backend)

    def _features(self, coords: list[np.ndarray]) -> list[np.ndarray]:
        """Axis features ``(n_a, d_out * rank)`` at 1-D coordinates, accumulating the run's cost."""
        features = []
        for runner, c in zip(self.runners, coords):
            features.append(runner.predict(c[:, None]))
            s = runner.stats
            self.stats.inferences += s.points
            self.stats.time_steps += s.time_steps
            self.stats.messages += s.messages_per_point * s.points
            self.stats.synops += s.synops_per_point * s.points
            self.stats.wall_seconds += s.wall_seconds
        return features

    def _axes(self, coords) -> list[np.ndarray]:
        if len(coords) != self.d_in:
            raise InputError(f"give one 1-D array of coordinates per input ({', '.join(self.card['input_names'])}); "
                             f"got {len(coords)}")
        return [as_points(c, 1, f"coordinates of {name}")[:, 0] for c, name in zip(coords, self.card["input_names"])]

    def predict_grid(self, coords) -> np.ndarray:
        """Outputs ``(n_1, ..., n_d, d_out)`` on the tensor grid of ``coords`` (one ``(n_a,)`` array per input)."""
        coords = self._axes(coords)
        self.stats = SeparableStats(self.stats.backend, points=math.prod(len(c) for c in coords))
        features = self._features(coords)
        start = time.perf_counter()
        out = combine_features(features, self.d_out, self.rank)
        self.stats.wall_seconds += time.perf_counter() - start
        self.stats.host_macs = combine_macs([len(c) for c in coords], self.d_out, self.rank)
        return out.reshape(*(len(c) for c in coords), self.d_out)

    def predict(self, points) -> np.ndarray:
        """Outputs ``(n, d_out)`` at scattered ``points`` ``(n, d_in)``: each axis runs its distinct coordinates."""
        x = as_points(points, self.d_in, "points for this separable network", self.card["input_names"])
        self.stats = SeparableStats(self.stats.backend, points=len(x))
        distinct = [np.unique(x[:, a], return_inverse=True) for a in range(self.d_in)]
        features = self._features([values for values, _ in distinct])
        start = time.perf_counter()
        product = np.ones((len(x), self.d_out, self.rank))
        for f, (_, index) in zip(features, distinct):
            product *= f.reshape(-1, self.d_out, self.rank)[index]
        out = product.sum(-1)
        self.stats.wall_seconds += time.perf_counter() - start
        self.stats.host_macs = len(x) * self.d_out * self.rank * self.d_in
        return out
