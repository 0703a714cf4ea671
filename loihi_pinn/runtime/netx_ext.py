"""netx extended by our custom neuron types (CPU simulator only): ``Network`` is
``lava.lib.dl.netx.hdf5.Network`` that also builds ``SIGNED_IF`` (seed 000, ``signed_if.py``) and
``BITSERIAL`` (seed 003, ``bitserial.py``) layers; everything else is stock netx."""
from __future__ import annotations

from loihi_pinn.loihi.lava_env import import_netx

from . import bitserial, signed_if

netx = import_netx()

from lava.lib.dl.netx.blocks.models import AbstractPyBlockModel  # noqa: E402
from lava.magma.core.decorator import implements  # noqa: E402
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol  # noqa: E402

CUSTOM_TYPES = {signed_if.NETX_TYPE: signed_if.signed_if_params, bitserial.NETX_TYPE: bitserial.bitserial_params}


class Network(netx.hdf5.Network):
    """``netx.hdf5.Network`` that also builds our custom neuron types (same arguments)."""

    def __init__(self, *args, **kwargs):
        stock = netx.hdf5.Network.get_neuron_params

        def neuron_params(neuron_config, *a, **k):
            custom = CUSTOM_TYPES.get(neuron_config["type"])
            return custom(neuron_config) if custom else stock(neuron_config, *a, **k)

        netx.hdf5.Network.get_neuron_params = staticmethod(neuron_params)   # netx calls it by class name
        try:
            super().__init__(*args, **kwargs)
        finally:
            netx.hdf5.Network.get_neuron_params = staticmethod(stock)


@implements(proc=Network, protocol=LoihiProtocol)
class PyNetworkModel(AbstractPyBlockModel):
    """The extended network is a sub-process model, like netx's own."""
