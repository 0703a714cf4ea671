"""The Lava process graph of an exported network: netx ``Network`` + input source + state reset
and readout processes, running all points in one stream.

Every inference occupies the neuron model's ``lava_interval`` time steps: the input arrives at
its first step (and is held there for rate-coded models), the readout (``model.readout_var``) is
read by ``lava.proc.io.sink.Read`` at the inference's last step, and the model's reset processes
(``model.lava_resets``: sigma-delta sets every state to the network's rest state after an idle
step; IF models set each layer's potential to v0 before its input arrives; bit-serial neurons
clear themselves) put the states back inside the run loop. A delta-coded network first settles
on one block of zero input, so that its first point, like every later one, starts at rest.

A stream (``loihi/stream.py``) runs the same graph with blocks of one segment each (its input
changes step by step, then an idle step and the reset to rest), and a ``lava.proc.io.sink``
``RingBuffer`` on the network's output records the readout at every step. Each point is thus an independent inference, exactly as the
fixed-point emulator computes it, with no host round trip between points (Var.set from the host
costs ~15 us per element). Several copies of the network can sit side by side (block-diagonal
weights, Lava Sparse synapses).

Each chunk of at most ``LAVA_CHUNK_POINTS`` points runs in an isolated child process
(``isolated.run_isolated``): Ctrl-C, SIGTERM, an error or a dead Lava worker stop it within
seconds and leave no process, shared memory segment or temporary file (``tiled.net`` lives in a
``TemporaryDirectory`` of the caller).
"""
from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
from scipy.linalg import block_diag
from tqdm.auto import tqdm

from loihi_pinn.export import write_netx
from loihi_pinn.loihi import FixedPointLayer, QuantizedNetwork
from loihi_pinn.loihi.fixed_point import INPUT_MESSAGE_BITS
from loihi_pinn.loihi.lava_env import import_netx

from loihi_pinn.loihi.stream import StreamPlan, segment_inputs

from .isolated import run_isolated, signals_exit, socket_dir

PROGRESS_CHUNKS = 20            # run() calls per graph, for the progress bar
LAVA_CHUNK_POINTS = 50_000      # points per Lava graph (one child process each): bounds the source and readout buffers


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
             progress: bool = True, stream: StreamPlan | None = None) -> np.ndarray:
    """Readout integers ``(n, d_out)`` (int64) for integer input ``messages`` ``(n, d_in)``.

    Points run in chunks of ``LAVA_CHUNK_POINTS``, each a Lava graph in a child process (see the
    module docstring). Besides the result ``(n, d_out)``, a chunk holds ``copies * d_in * interval``
    int32 source values and ``copies * d_out`` readout values per batch of ``copies`` points (a
    few MB per chunk). Raises ``LavaRunError`` (an ``InputError``) when the run fails or a Lava
    process dies; Ctrl-C and SIGTERM stop it within seconds, leaving no process, shared memory
    segment or temporary file behind. With ``stream`` the points run as that stream (one copy;
    chunks of whole segments)."""
    import_netx()
    messages = np.asarray(messages)
    n = len(messages)
    out = np.zeros((n, qnet.d_out), np.int64)
    if n == 0:
        return out
    if stream is not None:
        return _run_stream_lava(qnet, messages, stream, backend, progress)
    copies = max(1, min(copies, n))
    with tempfile.TemporaryDirectory(prefix="loihi_pinn_lava_") as tmp, socket_dir(tmp) as sockets, signals_exit(), \
            tqdm(total=n, desc=f"{backend} ({copies} cop{'y' if copies == 1 else 'ies'})", disable=not progress,
                 leave=False, unit="pt") as bar:
        path = write_netx(tile(qnet, copies), Path(tmp) / "tiled.net")
        chunk = max(copies, LAVA_CHUNK_POINTS // copies * copies)
        for start in range(0, n, chunk):
            part = messages[start:start + chunk]
            data = run_isolated(_run_graph, (qnet, part, str(path), backend, copies), what=f"Lava {backend}",
                                tmpdir=tmp, sockets=sockets, bar=bar)          # (copies * d_out, batches)
            batches = data.shape[1]
            result = np.rint(data).astype(np.int64).reshape(copies, qnet.d_out, batches).transpose(2, 0, 1)
            out[start:start + len(part)] = result.reshape(batches * copies, qnet.d_out)[:len(part)]
    return out


def _worker_pids(net) -> list[tuple[int, str]]:
    """The processes of ``net``'s Lava runtime: its actors and its shared memory manager."""
    infrastructure = getattr(net.runtime, "_messaging_infrastructure", None)
    pids = [(actor.pid, "worker") for actor in getattr(infrastructure, "actors", [])]
    server = getattr(getattr(getattr(infrastructure, "smm", None), "_manager", None), "_process", None)
    if server is not None:
        pids.append((server.pid, "shared memory manager"))
    return pids


def _run_graph(conn, qnet: QuantizedNetwork, messages: np.ndarray, path: str, backend: str,
               copies: int):
    """Build and run the Lava graph for ``messages`` (one chunk; in the isolated child): its
    ``net.stop`` and the readout ``(copies * d_out, batches)``."""
    import_netx()
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.io.sink import Read
    from lava.proc.io.source import RingBuffer

    warnings.filterwarnings("ignore", message="Cannot import module", category=UserWarning)  # Lava's model search
    model = qnet.model
    settle = 1 if model.delta_coded else 0          # a first batch of zero input: the network settles to rest
    n = len(messages)
    batches = -(-n // copies) + settle
    padded = np.zeros((batches * copies, qnet.d_in), np.int64)
    padded[settle * copies:settle * copies + n] = messages
    interval = model.lava_interval(qnet.steps)
    net = model.lava_network_class()(path, **model.netx_args, sparse_fc_layer=copies > 1)
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
    net.create_runtime(run_cfg=run_config(backend))
    conn.send(("workers", _worker_pids(net)))
    for chunk in np.array_split(np.arange(batches), min(PROGRESS_CHUNKS, batches)):
        net.run(condition=RunSteps(len(chunk) * interval))
        conn.send(("progress", len(chunk) * copies - settle * copies * (chunk[0] == 0)))
    return net.stop, np.asarray(reader.data.get())[:, settle:]   # on an error no stop: the caller kills the group


def _run_stream_lava(qnet: QuantizedNetwork, messages: np.ndarray, plan: StreamPlan, backend: str,
                     progress: bool) -> np.ndarray:
    """``run_lava`` for a stream: chunks of whole segments, each a graph in a child process."""
    n, m = len(messages), plan.segment_points(len(messages))
    out = np.zeros((n, qnet.d_out), np.int64)
    chunk = max(1, LAVA_CHUNK_POINTS // m) * m
    with tempfile.TemporaryDirectory(prefix="loihi_pinn_lava_") as tmp, socket_dir(tmp) as sockets, signals_exit(), \
            tqdm(total=n, desc=f"{backend} stream", disable=not progress, leave=False, unit="pt") as bar:
        path = write_netx(qnet, Path(tmp) / "stream.net")
        for start in range(0, n, chunk):
            part = messages[start:start + chunk]
            out[start:start + len(part)] = run_isolated(_run_stream_graph, (qnet, part, plan, str(path), backend),
                                                        what=f"Lava {backend}", tmpdir=tmp, sockets=sockets, bar=bar)
    return out


def _run_stream_graph(conn, qnet: QuantizedNetwork, messages: np.ndarray, plan: StreamPlan, path: str,
                      backend: str):
    """Build and run the Lava graph of one chunk of a stream (in the isolated child): its
    ``net.stop`` and the readout ``(n, d_out)``. Blocks of ``segment_steps + 1`` steps: a first
    block of zero input settles the network to rest, then one block a segment, each ending with
    the reset to rest (``model.lava_resets``)."""
    import_netx()
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer

    warnings.filterwarnings("ignore", message="Cannot import module", category=UserWarning)  # Lava's model search
    model = qnet.model
    inputs = segment_inputs(messages, plan, qnet.steps)                  # (segments, steps, d_in)
    segments, steps, _ = inputs.shape
    interval = steps + 1
    blocks = np.zeros((segments + 1, interval, qnet.d_in), np.int32)
    blocks[1:, :steps] = inputs
    total = blocks.shape[0] * interval
    net = model.lava_network_class()(path, **model.netx_args)
    source = RingBuffer(data=blocks.reshape(total, qnet.d_in).T)
    if backend == "loihi2":
        from lava.proc import embedded_io as eio    # ships with lava-loihi
        adapter = eio.spike.PyToNxAdapter(shape=net.inp.shape, num_message_bits=INPUT_MESSAGE_BITS)
        source.s_out.connect(adapter.inp)
        adapter.out.connect(net.inp)
    else:
        source.s_out.connect(net.inp)
    sink = Sink(shape=(qnet.d_out,), buffer=total)
    net.out.connect(sink.a_in)
    model.lava_resets(net, qnet, 1, interval)
    net.create_runtime(run_cfg=run_config(backend))
    conn.send(("workers", _worker_pids(net)))
    m, done = plan.segment_points(len(messages)), 0
    for chunk in np.array_split(np.arange(segments + 1), min(PROGRESS_CHUNKS, segments + 1)):
        net.run(condition=RunSteps(len(chunk) * interval))
        now = min(len(messages), int(chunk[-1]) * m)
        conn.send(("progress", now - done))
        done = now
    recorded = np.rint(np.asarray(sink.data.get())).astype(np.int64).T.reshape(segments + 1, interval, qnet.d_out)
    read = recorded[1:, plan.read_steps(len(messages), qnet.steps)]       # (segments, m, d_out)
    return net.stop, read.reshape(-1, qnet.d_out)[:len(messages)]
