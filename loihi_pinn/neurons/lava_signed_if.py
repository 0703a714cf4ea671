"""Seed 000's signed IF neuron as a custom Lava process (the Lava side of ``integrate_fire.SignedIF``).

Loihi 2 runs this model only with custom microcode, so here it exists for the CPU simulator:
a ``SignedIF`` process with a ``fixed_pt`` model whose integer dynamics are those of
``integrate_fire.SignedIF.integer_step``:

    u = a << 6;  v = v + u + (bias_mant << bias_exp)
    s = +1 if v >= vth << 6, -1 if v <= -(vth << 6) (only where signed), else 0;  v -= s * (vth << 6)

The spikes are sent as 2-bit graded messages so the next Dense multiplies them with their sign.
``runtime/netx_ext.Network`` loads layers with ``neuron/type = SIGNED_IF`` into it.
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


class SignedIF(AbstractProcess):
    """Signed integrate-and-fire neurons with reset by subtraction (seed 000), fixed point.
    ``vth``: threshold mantissa (threshold = vth << 6); ``bias_mant`` with ``bias_exp``;
    ``signed``: 1 to fire negative spikes too, 0 for ReLU-like neurons; ``v``: initial v."""

    def __init__(self, *, shape, vth: int, bias_mant=0, bias_exp: int = 6, signed: int = 1, v=0, **kwargs):
        super().__init__(shape=shape, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp, signed=signed, v=v, **kwargs)
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.u = Var(shape=shape, init=0)
        self.v = Var(shape=shape, init=v)
        self.vth = Var(shape=(1,), init=vth)
        self.bias_mant = Var(shape=shape, init=bias_mant)
        self.bias_exp = Var(shape=(1,), init=bias_exp)
        self.signed = Var(shape=(1,), init=signed)

    @property
    def shape(self):
        return self.proc_params["shape"]


@implements(proc=SignedIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySignedIFModelFixed(PyLoihiProcessModel):
    """Integer dynamics of ``SignedIF`` (24-bit state, 6-bit MSB alignment as Loihi's LIF)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=MESSAGE_BITS)
    u: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    v: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    vth: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=17)
    bias_mant: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=13)
    bias_exp: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=3)
    signed: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)

    def run_spk(self) -> None:
        threshold = int(self.vth[0]) << 6
        self.u = np.left_shift(self.a_in.recv().astype(np.int64), 6)
        v = self.v.astype(np.int64) + self.u + np.left_shift(self.bias_mant.astype(np.int64), int(self.bias_exp[0]))
        spikes = (v >= threshold).astype(np.int64) - int(self.signed[0]) * (v <= -threshold)
        self.v = (v - spikes * threshold).astype(np.int32)
        self.u = self.u.astype(np.int32)
        self.s_out.send(spikes.astype(np.int32))


def signed_if_params(neuron_config) -> dict:
    """netx neuron parameters of a ``SIGNED_IF`` layer."""
    return {"neuron_proc": SignedIF, "bias_key": "bias_mant", "vth": int(neuron_config["vThMant"]),
            "signed": int(neuron_config.f["signed"][()]), "num_message_bits": MESSAGE_BITS}
