"""The Lava process graph of an exported network: netx ``Network`` + input source, run in batches.

Several copies of the network sit side by side in one graph (block-diagonal weights, so each
process is ``copies`` times wider), and each batch of ``copies`` points runs for the network's
``steps`` and is read from the readout's ``sigma``; then every neuron state is cleared, which
makes each point an independent inference from zero state, exactly as the fixed-point emulator
computes it. Tiled copies use Lava's Sparse synapses (netx ``sparse_fc_layer``): a dense
block-diagonal matrix would cost copies^2 times the work. The runtime is stopped on every path, errors included.
"""
from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
from scipy.linalg import block_diag
from tqdm.auto import tqdm

from loihi_pinn.errors import InputError
from loihi_pinn.export import write_netx
from loihi_pinn.loihi import FixedPointLayer, QuantizedNetwork
from loihi_pinn.loihi.fixed_point import NETX_ARGS
from loihi_pinn.loihi.lava_env import import_netx

SIGMA_DELTA_STATE = ("sigma", "act", "residue")      # "error" is only used with cum_error (netx: off)


def tile(qnet: QuantizedNetwork, copies: int) -> QuantizedNetwork:
    """``copies`` independent copies of ``qnet`` as one network with block-diagonal layers."""
    layers = [FixedPointLayer(block_diag(*[l.weight] * copies), np.tile(l.bias, copies), l.vth, l.readout,
                              None if l.v0 is None else np.tile(l.v0, copies), l.signed) for l in qnet.layers]
    return QuantizedNetwork(layers, qnet.input_scale, qnet.output_scale, list(qnet.output_offset) * copies,
                            list(qnet.lower) * copies, list(qnet.upper) * copies, qnet.metadata, qnet.neuron,
                            qnet.timesteps)


def _batch(messages: np.ndarray, b: int, copies: int, steps: int, every_step: bool) -> np.ndarray:
    """Source data ``(copies * d_in, steps)``: batch b's messages at the first step, then 0 (a
    constant input, delta-coded, for sigma-delta), or at every step (rate-coded CUBA)."""
    data = np.zeros((copies * messages.shape[1], steps), np.int32)
    values = messages[b * copies:(b + 1) * copies].reshape(-1)
    if every_step:
        data[:] = values[:, None]
    else:
        data[:, 0] = values
    return data


def _reset(net, qnet: QuantizedNetwork, copies: int) -> None:
    """Every state back to its start: zero, or the calibrated v0 of CUBA layers; the Dense
    buffers too (rate-coded layers still spike on the last step of an inference)."""
    neurons, readout = [layer.neuron for layer in net.layers[:-1]], net.layers[-1].neuron
    if qnet.neuron == "sigma_delta":                 # its Dense buffers are empty once a point settles
        for neuron in neurons:
            for name in SIGMA_DELTA_STATE:
                getattr(neuron, name).set(np.zeros(neuron.shape, np.int32))
        readout.sigma.set(np.zeros(readout.shape, np.int32))
        return
    for layer in net.layers:
        layer.synapse.a_buff.set(np.zeros(layer.synapse.a_buff.shape, np.int32))
    for neuron, layer in zip([*neurons, readout], qnet.layers):
        neuron.u.set(np.zeros(neuron.u.shape, np.int32))
        neuron.v.set(_v0(layer, copies))


def _v0(layer: FixedPointLayer, copies: int) -> np.ndarray:
    return np.tile(layer.v0 if layer.v0 is not None else np.zeros(layer.size, np.int64), copies).astype(np.int32)


def run_config(backend: str):
    """The Lava run configuration of a backend."""
    from lava.magma.core.run_configs import Loihi2HwCfg, Loihi2SimCfg
    if backend == "lava-sim":
        return Loihi2SimCfg(select_tag="fixed_pt")
    return Loihi2HwCfg()


def run_lava(qnet: QuantizedNetwork, messages: np.ndarray, *, backend: str = "lava-sim", copies: int = 8,
             progress: bool = True) -> np.ndarray:
    """Readout sigma ``(n, d_out)`` (int64) for integer input ``messages`` ``(n, d_in)``."""
    netx = import_netx()
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.io.source import RingBuffer

    n = len(messages)
    copies = max(1, min(copies, n))
    batches = -(-n // copies)
    padded = np.zeros((batches * copies, qnet.d_in), np.int64)
    padded[:n] = messages
    out = np.zeros((batches * copies, qnet.d_out), np.int64)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_netx(tile(qnet, copies), Path(tmp) / "tiled.net")
        sdnn = qnet.neuron == "sigma_delta"
        args = NETX_ARGS if sdnn else {k: v for k, v in NETX_ARGS.items() if k != "spike_exp"}
        if qnet.neuron == "signed_if":
            from .signed_if import Network
        else:
            Network = netx.hdf5.Network
        net = Network(str(path), **args, sparse_fc_layer=copies > 1)
        source = RingBuffer(data=_batch(padded, 0, copies, qnet.steps, not sdnn))
        if backend == "loihi2":       # Python source -> neuro cores, as in lava-dl's PilotNet tutorials
            from lava.proc import embedded_io as eio    # ships with lava-loihi
            adapter = eio.spike.PyToNxAdapter(shape=net.inp.shape, num_message_bits=NETX_ARGS["input_message_bits"])
            source.s_out.connect(adapter.inp)
            adapter.out.connect(net.inp)
        else:
            source.s_out.connect(net.inp)
        hidden = [layer.neuron for layer in net.layers[:-1]]
        readout = net.layers[-1].neuron
        if not sdnn:                                 # calibrated initial potentials for the first batch
            for neuron, layer in zip([*hidden, readout], qnet.layers):
                neuron.v.init = _v0(layer, copies)
        config = run_config(backend)
        warnings.filterwarnings("ignore", message="Cannot import module", category=UserWarning)  # Lava's model search
        try:
            for b in tqdm(range(batches), desc=f"{backend} ({copies} copies)", disable=not progress, leave=False):
                if b:                                   # next points in, every state back to its start
                    source.data.set(_batch(padded, b, copies, qnet.steps, not sdnn))
                    _reset(net, qnet, copies)
                net.run(condition=RunSteps(qnet.steps), run_cfg=config)
                state = readout.sigma if sdnn else readout.v
                out[b * copies:(b + 1) * copies] = np.rint(state.get()).astype(np.int64).reshape(copies, -1)
        except Exception as err:
            raise InputError(f"the Lava {backend} run failed: {type(err).__name__}: {err}") from err
        finally:
            if net.runtime is not None:
                net.stop()
    return out[:n]
