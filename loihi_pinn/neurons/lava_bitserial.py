"""Seed 003's bit-serial neuron as a custom Lava process with a ``fixed_pt`` model (the Lava side
of ``bitserial.BitSerial``).

Loihi 2 runs this model only with custom microcode, so here it exists for the CPU simulator.
Its integer dynamics are those of ``bitserial.BitSerial.integer_step``: within every
inference window of ``interval`` steps, local step j = (time_step - 1) mod interval - start:

    0 <= j < accumulate:   u = 0 at j = 0;  u += a_in << (accumulate - 1 - j)
    j = accumulate - 1:    u += bias;  sign = sign(u);  magnitude = |u|;  level = 0
    0 <= e < bits, e = j - (accumulate - 1):   candidate = level + 2^(bits - 1 - e)
                           bit = magnitude >= levels[candidate - 1];  level = candidate where bit
                           send sign * bit (a 2-bit graded message)

A ``readout`` layer accumulates only; its ``u`` holds the output at the window's last step.
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

MESSAGE_BITS = 2


class BitSerial(AbstractProcess):
    """Bit-serial neurons: ``levels`` the increasing integer thresholds ``(2^bits - 1,)``,
    ``bias`` per neuron, the window (``start``, ``accumulate``, ``interval``) and ``readout``
    (1: accumulate only)."""

    def __init__(self, *, shape, levels, bits: int, start: int, accumulate: int, interval: int, readout: int = 0,
                 bias=0, **kwargs):
        super().__init__(shape=shape, levels=levels, bits=bits, start=start, accumulate=accumulate,
                         interval=interval, readout=readout, bias=bias, **kwargs)
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.u = Var(shape=shape, init=0)
        self.magnitude = Var(shape=shape, init=0)
        self.sign = Var(shape=shape, init=0)
        self.level = Var(shape=shape, init=0)
        self.bias = Var(shape=shape, init=bias)
        self.levels = Var(shape=(len(levels),), init=np.asarray(levels))
        self.window = Var(shape=(5,), init=np.array([bits, start, accumulate, interval, readout]))

    @property
    def shape(self):
        return self.proc_params["shape"]


@implements(proc=BitSerial, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyBitSerialModelFixed(PyLoihiProcessModel):
    """Integer dynamics of ``BitSerial`` (24-bit state)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=MESSAGE_BITS)
    u: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    magnitude: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    sign: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=2)
    level: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    bias: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    levels: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    window: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)

    def run_spk(self) -> None:
        bits, start, accumulate, interval, readout = (int(v) for v in self.window)
        a_in = self.a_in.recv().astype(np.int64)
        j = (self.time_step - 1) % interval - start
        if 0 <= j < accumulate:
            u = 0 if j == 0 else self.u.astype(np.int64)
            u = u + np.left_shift(a_in, accumulate - 1 - j)
            if j == accumulate - 1 and not readout:
                u = u + self.bias
                self.sign, self.magnitude, self.level = (np.sign(u).astype(np.int32), np.abs(u).astype(np.int32),
                                                         np.zeros_like(self.level))
            self.u = u.astype(np.int32)
        spikes = np.zeros(self.a_in.shape, np.int32)
        e = j - (accumulate - 1)
        if not readout and 0 <= e < bits:
            candidate = self.level + (1 << (bits - 1 - e))
            bit = self.magnitude >= self.levels[candidate - 1]
            self.level = np.where(bit, candidate, self.level).astype(np.int32)
            spikes = (self.sign * bit).astype(np.int32)
        self.s_out.send(spikes)


def bitserial_params(neuron_config) -> dict:
    """netx neuron parameters of a ``BITSERIAL`` layer (see ``bitserial.BitSerial.write_neuron``)."""
    group = neuron_config.f
    return {"neuron_proc": BitSerial, "bias_key": "bias", "levels": np.asarray(group["levels"][()]),
            **{key: int(group[key][()]) for key in ("bits", "start", "accumulate", "interval", "readout")},
            "num_message_bits": MESSAGE_BITS}
