"""The Lava process graph of an exported network: netx ``Network`` + input source + state reset
and readout processes, running all points in one stream.

Every inference occupies the neuron model's ``lava_interval`` time steps: the input arrives at
its first step (and is held there for rate-coded models), the readout (``model.readout_var``) is
read by ``lava.proc.io.sink.Read`` at the inference's last step, and the model's reset processes
(``model.lava_resets``: sigma-delta zeroes every state after an idle step; IF models set each
layer's potential to v0 before its input arrives; bit-serial neurons clear themselves) put the
states back inside the run loop. Each point is thus an independent inference, exactly as the
fixed-point emulator computes it, with no host round trip between points (Var.set from the host
costs ~15 us per element). Several copies of the network can sit side by side (block-diagonal
weights, Lava Sparse synapses). The runtime is stopped on every path.
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
from loihi_pinn.loihi.fixed_point import INPUT_MESSAGE_BITS
from loihi_pinn.loihi.lava_env import import_netx

PROGRESS_CHUNKS = 20                                 # run() calls, for the progress bar


def tile(qnet: QuantizedNetwork, copies: int) -> QuantizedNetwork:
    """``copies`` independent copies of ``qnet`` as one network with block-diagonal layers."""
    layers = [FixedPointLayer(block_diag(*[l.weight] * copies), np.tile(l.bias, copies), l.vth, l.readout,
                              None if l.v0 is None else np.tile(l.v0, copies), l.signed, l.levels) for l in qnet.layers]
    return QuantizedNetwork(layers, qnet.input_scale, qnet.output_scale, list(qnet.output_offset) * copies,
                            list(qnet.lower) * copies, list(qnet.upper) * copies, qnet.metadata, qnet.neuron,
                            qnet.timesteps)


def run_config(backend: str):
    """The Lava run configuration of a backend."""
    from lava.magma.core.run_configs import Loihi2HwCfg, Loihi2SimCfg
    if backend == "lava-sim":
        return Loihi2SimCfg(select_tag="fixed_pt")
    return Loihi2HwCfg()


def _stream(messages: np.ndarray, copies: int, interval: int, every_step: bool) -> np.ndarray:
    """Source data ``(copies * d_in, batches * interval)``: each batch's messages at the first
    step of its block (sent once) or at every step (held, for rate-coded models)."""
    batches = len(messages) // copies
    block = np.zeros((batches, copies * messages.shape[1], interval), np.int32)
    values = messages.reshape(batches, -1)
    if every_step:
        block[:] = values[:, :, None]
    else:
        block[:, :, 0] = values
    return block.transpose(1, 0, 2).reshape(copies * messages.shape[1], -1)


def run_lava(qnet: QuantizedNetwork, messages: np.ndarray, *, backend: str = "lava-sim", copies: int = 1,
             progress: bool = True) -> np.ndarray:
    """Readout integers ``(n, d_out)`` (int64) for integer input ``messages`` ``(n, d_in)``."""
    import_netx()
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.io.sink import Read
    from lava.proc.io.source import RingBuffer

    n = len(messages)
    copies = max(1, min(copies, n))
    batches = -(-n // copies)
    padded = np.zeros((batches * copies, qnet.d_in), np.int64)
    padded[:n] = messages
    model = qnet.model
    interval = model.lava_interval(qnet.steps)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_netx(tile(qnet, copies), Path(tmp) / "tiled.net")
        net = model.lava_network_class()(str(path), **model.netx_args, sparse_fc_layer=copies > 1)
        source = RingBuffer(data=_stream(padded, copies, interval, model.input_every_step))
        if backend == "loihi2":       # Python source -> neuro cores, as in lava-dl's PilotNet tutorials
            from lava.proc import embedded_io as eio    # ships with lava-loihi
            adapter = eio.spike.PyToNxAdapter(shape=net.inp.shape, num_message_bits=INPUT_MESSAGE_BITS)
            source.s_out.connect(adapter.inp)
            adapter.out.connect(net.inp)
        else:
            source.s_out.connect(net.inp)
        readout = net.layers[-1].neuron
        reader = Read(buffer=batches, interval=interval, offset=qnet.steps - 1)
        reader.connect_var(model.readout_var(readout))
        model.lava_resets(net, qnet, copies, interval)  # connected to the states: part of the graph
        config = run_config(backend)
        warnings.filterwarnings("ignore", message="Cannot import module", category=UserWarning)  # Lava's model search
        chunks = np.array_split(np.arange(batches), min(PROGRESS_CHUNKS, batches))
        try:
            with tqdm(total=n, desc=f"{backend} ({copies} cop{'y' if copies == 1 else 'ies'})", disable=not progress,
                      leave=False, unit="pt") as bar:
                for chunk in chunks:
                    net.run(condition=RunSteps(len(chunk) * interval), run_cfg=config)
                    bar.update(min(len(chunk) * copies, n - bar.n))
            data = reader.data.get()                # (copies * d_out, batches)
        except Exception as err:
            raise InputError(f"the Lava {backend} run failed: {type(err).__name__}: {err}") from err
        finally:
            if net.runtime is not None:
                net.stop()
    out = np.rint(data).astype(np.int64).reshape(copies, qnet.d_out, batches).transpose(2, 0, 1)
    return out.reshape(batches * copies, qnet.d_out)[:n]
