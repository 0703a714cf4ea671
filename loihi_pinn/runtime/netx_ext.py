"""netx extended by the custom neuron types of the registry (CPU simulator only): ``Network`` is
``lava.lib.dl.netx.hdf5.Network`` that also builds the layers of every registered model that is
not native to Loihi 2 (``NeuronModel.lava_params``: seed 000's SIGNED_IF, seed 003's BITSERIAL);
everything else is stock netx."""
from __future__ import annotations

from loihi_pinn.loihi.lava_env import import_netx
from loihi_pinn.neurons.registry import NEURON_MODELS

netx = import_netx()

from lava.lib.dl.netx.blocks.models import AbstractPyBlockModel  # noqa: E402
from lava.magma.core.decorator import implements  # noqa: E402
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol  # noqa: E402


def custom_types() -> dict:
    """netx neuron type -> the registered model that builds it, for every non-stock model."""
    return {model.netx_type: model for model in NEURON_MODELS.values() if not model.loihi_native}


class Network(netx.hdf5.Network):
    """``netx.hdf5.Network`` that also builds our custom neuron types (same arguments)."""

    def __init__(self, *args, **kwargs):
        stock = netx.hdf5.Network.get_neuron_params
        custom = custom_types()

        def neuron_params(neuron_config, *a, **k):
            model = custom.get(neuron_config["type"])
            return model.lava_params(neuron_config) if model else stock(neuron_config, *a, **k)

        netx.hdf5.Network.get_neuron_params = staticmethod(neuron_params)   # netx calls it by class name
        try:
            super().__init__(*args, **kwargs)
        finally:
            netx.hdf5.Network.get_neuron_params = staticmethod(stock)


@implements(proc=Network, protocol=LoihiProtocol)
class PyNetworkModel(AbstractPyBlockModel):
    """The extended network is a sub-process model, like netx's own."""
