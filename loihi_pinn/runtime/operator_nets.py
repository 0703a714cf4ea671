"""Run an operator export (``export.operator_nets``): one ``Runner`` per sub-network, the
branch-trunk product on the host (counted in ``host_macs``).

    runner = OperatorRunner("runs/poisson_deeponet", backend="lava-sim")
    u = runner.predict(g, y)          # DeepONet: (n_f, m) sensor values, (n_y, d) points -> (n_f, n_y)
    runner.stats                      # inferences, time steps, host MACs, wall time
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from loihi_pinn.errors import InputError
from loihi_pinn.export.operator_nets import CARD
from loihi_pinn.models.operator_nets import combine_deeponet, combine_seponet, deeponet_host_macs, seponet_host_macs

from .runner import Runner


@dataclass
class OperatorStats:
    """One prediction's cost: ``inferences`` of the sub-networks, their ``time_steps``, the host's
    multiply-accumulates of the product, seconds in the backends plus the product."""

    backend: str
    inferences: int = 0
    time_steps: int = 0
    host_macs: int = 0
    wall_seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


class OperatorRunner:
    """The sub-networks of an operator export (folder or its ``operator.json``) on ``backend``."""

    def __init__(self, path, backend: str = "emulator", *, progress: bool = True):
        path = Path(path)
        self.folder = path.parent if path.name == CARD else path
        try:
            self.card = json.loads((self.folder / CARD).read_text())
            files = self.card["files"]
        except FileNotFoundError:
            raise InputError(f"{self.folder} has no {CARD}: give the folder of an operator export") from None
        except (KeyError, TypeError, json.JSONDecodeError) as err:
            raise InputError(f"{self.folder / CARD} is malformed ({err}); export the operator again") from None
        for name, file in files.items():
            data = (self.folder / file).read_bytes() if (self.folder / file).is_file() else b""
            if hashlib.sha256(data).hexdigest() != self.card["sha256"].get(name):
                raise InputError(f"{self.folder / file} is missing or not the file {CARD} was written with; "
                                 f"export the operator again")
        self.runners = {name: Runner(self.folder / file, backend, progress=progress) for name, file in files.items()}
        self.stats = OperatorStats(backend)

    def _run(self, name: str, x: np.ndarray) -> np.ndarray:
        runner = self.runners[name]
        out = runner.predict(x)
        self.stats.inferences += runner.stats.points
        self.stats.time_steps += runner.stats.time_steps
        self.stats.wall_seconds += runner.stats.wall_seconds
        return out

    def predict(self, source, coords) -> np.ndarray:
        """DeepONet: ``(n_f, n_y)`` for sensor values ``source`` ``(n_f, m)`` and points ``coords``
        ``(n_y, d)``. SepONet: ``(n_f, n_1, .., n_d)`` on the grid of ``coords`` (one 1-D array per axis)."""
        self.stats = OperatorStats(self.stats.backend)
        branch = self._run("branch", np.asarray(source, dtype=np.float64))
        if self.card["kind"] == "deeponet":
            trunk = self._run("trunk", np.asarray(coords, dtype=np.float64))
            start = time.perf_counter()
            out = combine_deeponet(branch, trunk) + self.card["bias"]
            self.stats.host_macs = deeponet_host_macs(len(branch), len(trunk), branch.shape[1])
        else:
            trunks = [self._run(f"trunk_{a}", np.asarray(c, dtype=np.float64)[:, None]) for a, c in enumerate(coords)]
            start = time.perf_counter()
            out = combine_seponet(branch, trunks)
            self.stats.host_macs = seponet_host_macs(len(branch), [len(t) for t in trunks], branch.shape[1])
        self.stats.wall_seconds += time.perf_counter() - start
        return out
