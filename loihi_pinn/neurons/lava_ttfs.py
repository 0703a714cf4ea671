"""The time-to-first-spike neuron as a custom Lava process with a ``fixed_pt`` model (the Lava
side of ``ttfs.TTFS``; Loihi 2 runs it only with custom microcode). Within every inference window
of ``interval`` steps, local step j = (time_step - 1) mod interval - start:

    0 <= j < integrate:   v = i = 0 at j = 0;  first layer: v += a_in;  others: i += a_in, v += i
    e = j - integrate, 0 <= e < window (not the readout):
                          e = 0: v += bias, fired = 0
                          spike = v >= window * vth and not fired;  fired |= spike;  v += vth where not fired

A ``readout`` layer integrates only; its ``v`` holds the output at the window's last step.
"""
from __future__ import annotations

import numpy as np

from loihi_pinn.loihi.lava_env import import_netx

import_netx()

from lava.magma.core.decorator import implements, requires, tag  # noqa: E402
from lava.magma.core.model.py.model import PyLoihiProcessModel  # noqa: E402
from lava.magma.core.model.py.ports import PyInPort, PyOutPort  # noqa: E402
from lava.magma.core.model.py.type import LavaPyType  # noqa: E402
from lava.magma.core.process.ports.ports import InPort, OutPort  # noqa: E402
from lava.magma.core.process.process import AbstractProcess  # noqa: E402
from lava.magma.core.process.variable import Var  # noqa: E402
from lava.magma.core.resources import CPU  # noqa: E402
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol  # noqa: E402

MESSAGE_BITS = 1


class TTFS(AbstractProcess):
    """TTFS neurons: ramp ``vth`` (one level in state units), ``bias`` per neuron, the window
    (``window`` K, ``start``, ``integrate``, ``interval``) and ``readout`` (1: integrate only)."""

    def __init__(self, *, shape, vth: int, window: int, start: int, integrate: int, interval: int,
                 readout: int = 0, bias=0, **kwargs):
        super().__init__(shape=shape, vth=vth, window=window, start=start, integrate=integrate, interval=interval,
                         readout=readout, bias=bias, **kwargs)
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.v = Var(shape=shape, init=0)
        self.i = Var(shape=shape, init=0)
        self.fired = Var(shape=shape, init=0)
        self.bias = Var(shape=shape, init=bias)
        self.params = Var(shape=(6,), init=np.array([vth, window, start, integrate, interval, readout]))

    @property
    def shape(self):
        return self.proc_params["shape"]


@implements(proc=TTFS, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyTTFSModelFixed(PyLoihiProcessModel):
    """Integer dynamics of ``TTFS`` (24-bit state, 1-bit spikes)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=MESSAGE_BITS)
    v: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    i: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    fired: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    bias: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    params: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)

    def run_spk(self) -> None:
        vth, window, start, integrate, interval, readout = (int(p) for p in self.params)
        a_in = self.a_in.recv().astype(np.int64)
        j = (self.time_step - 1) % interval - start
        v, i = self.v.astype(np.int64), self.i.astype(np.int64)
        if 0 <= j < integrate:
            if j == 0:
                v, i = np.zeros_like(v), np.zeros_like(i)
            if start == 1 and integrate == 1:            # the first layer: graded input messages, once
                v = v + a_in
            else:
                i = i + a_in
                v = v + i
        spikes = np.zeros(self.a_in.shape, np.int32)
        e = j - integrate
        if not readout and 0 <= e < window:
            fired = np.zeros_like(self.fired) if e == 0 else self.fired
            if e == 0:
                v = v + self.bias
            spikes = ((v >= window * vth) & (fired == 0)).astype(np.int32)
            fired = fired | spikes
            v = v + np.where(fired == 0, vth, 0)
            self.fired = fired.astype(np.int32)
        self.v, self.i = v.astype(np.int32), i.astype(np.int32)
        self.s_out.send(spikes)


def ttfs_params(neuron_config) -> dict:
    """netx neuron parameters of a ``TTFS`` layer (see ``ttfs.TTFS.write_neuron``)."""
    group = neuron_config.f
    return {"neuron_proc": TTFS, "bias_key": "bias", "vth": int(group["vThMant"][()]),
            **{key: int(group[key][()]) for key in ("window", "start", "integrate", "interval", "readout")},
            "num_message_bits": MESSAGE_BITS}
