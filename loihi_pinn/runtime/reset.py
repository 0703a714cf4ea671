"""Resetting a state Var to per-neuron values at a fixed interval, inside the Lava run loop.

Lava's ``lava.proc.io.reset.Reset`` writes one scalar; the IF neurons start each inference at
their calibrated potentials v0, a vector. ``ResetTo`` writes a vector through a RefPort in the
post-management phase of every ``interval``-th step (offset ``offset``), like ``Reset``.
"""
from __future__ import annotations

import numpy as np

from loihi_pinn.loihi.lava_env import import_netx

import_netx()                      # Lava, imported safely

from lava.magma.core.decorator import implements, requires, tag  # noqa: E402
from lava.magma.core.model.py.model import PyLoihiProcessModel  # noqa: E402
from lava.magma.core.model.py.ports import PyRefPort  # noqa: E402
from lava.magma.core.model.py.type import LavaPyType  # noqa: E402
from lava.magma.core.process.ports.ports import RefPort  # noqa: E402
from lava.magma.core.process.process import AbstractProcess  # noqa: E402
from lava.magma.core.process.variable import Var  # noqa: E402
from lava.magma.core.resources import CPU  # noqa: E402
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol  # noqa: E402


class ResetTo(AbstractProcess):
    """Write ``values`` (shape of the target Var) into ``var`` after steps t with
    (t - 1) % interval == offset."""

    def __init__(self, *, var: Var, values: np.ndarray, interval: int, offset: int) -> None:
        super().__init__(interval=interval, offset=offset)
        self.values = Var(shape=var.shape, init=np.asarray(values).reshape(var.shape))
        self.interval = Var((1,), init=interval)
        self.offset = Var((1,), init=offset % interval)
        self.state = RefPort(var.shape)
        self.state.connect_var(var)


@implements(proc=ResetTo, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyResetToFixed(PyLoihiProcessModel):
    state: PyRefPort = LavaPyType(PyRefPort.VEC_DENSE, np.int32)
    values: np.ndarray = LavaPyType(np.ndarray, np.int32)
    interval: np.ndarray = LavaPyType(np.ndarray, int)
    offset: np.ndarray = LavaPyType(np.ndarray, int)

    def post_guard(self) -> bool:
        return (self.time_step - 1) % self.interval[0] == self.offset[0]

    def run_post_mgmt(self) -> None:
        self.state.write(self.values)
        self.state.wait()
