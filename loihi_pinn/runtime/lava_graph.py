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
weights, Lava Sparse synapses).

Isolation. Lava 0.10's runtime forks a process per process model and per sync domain, a
``SharedMemoryManager`` server and a resource tracker, and talks to them through ``/dev/shm``
segments; once one of them is interrupted or killed, ``net.stop()`` waits forever. So the graph
never runs in the caller's process: each chunk of at most ``LAVA_CHUNK_POINTS`` points runs in a
forked child that starts its own session (``os.setsid``: the terminal's Ctrl-C and ``timeout``'s
group signal reach the caller only), its own resource tracker, and names its shared memory
``/dev/shm/psm_lp<child pid>_*``. The caller waits on a pipe and, every ``LIVENESS_INTERVAL``
seconds, checks that the child and every Lava worker it reported are alive. On every way out
(result, error, Ctrl-C, SIGTERM/SIGHUP, a dead worker) the caller kills the child's whole
process group with SIGKILL, reaps it and unlinks the segments with the child's prefix; the
temporary ``tiled.net`` lives in a ``TemporaryDirectory`` of the caller. A child whose caller
dies (SIGKILL) notices within a second, unlinks its segments, removes the temporary directory and
kills its group.
"""
from __future__ import annotations

import contextlib
import glob
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
import traceback
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

PROGRESS_CHUNKS = 20            # run() calls per graph, for the progress bar
LAVA_CHUNK_POINTS = 50_000      # points per Lava graph (one child process each): bounds the source and readout buffers
LIVENESS_INTERVAL = 0.2         # s between checks that the child and its Lava workers are alive
STOP_GRACE = 5.0                # s the child may take to stop Lava cleanly after sending its result
KILL_WAIT = 3.0                 # s to wait for the killed process group to disappear
ZOMBIE_GRACE = 1.0              # s a process of the run may stay dead and unreaped before the run counts as failed
SHM_DIR = "/dev/shm"
SOCKET_DIR_MAX = 70             # longest directory for the child's sockets (pymp-<pid>/listener-<8>: AF_UNIX holds 107)
DEAD = (b"Z", b"X", b"x")       # /proc states of dead processes


class LavaRunError(InputError):
    """A Lava run failed (an error in a process model, a dead worker); the run was stopped."""


class LavaWorkerDied(LavaRunError):
    """A process of the Lava runtime died during the run (killed, out of memory)."""


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
    """Readout integers ``(n, d_out)`` (int64) for integer input ``messages`` ``(n, d_in)``.

    Points run in chunks of ``LAVA_CHUNK_POINTS``, each a Lava graph in a child process (see the
    module docstring). Besides the result ``(n, d_out)``, a chunk holds ``copies * d_in * interval``
    int32 source values and ``copies * d_out`` readout values per batch of ``copies`` points (a
    few MB per chunk). Raises ``LavaRunError`` (an ``InputError``) when the run fails or a Lava
    process dies; Ctrl-C and SIGTERM stop it within seconds, leaving no process, shared memory
    segment or temporary file behind."""
    import_netx()
    messages = np.asarray(messages)
    n = len(messages)
    out = np.zeros((n, qnet.d_out), np.int64)
    if n == 0:
        return out
    copies = max(1, min(copies, n))
    with tempfile.TemporaryDirectory(prefix="loihi_pinn_lava_") as tmp, _socket_dir(tmp) as sockets, _signals_exit(), \
            tqdm(total=n, desc=f"{backend} ({copies} cop{'y' if copies == 1 else 'ies'})", disable=not progress,
                 leave=False, unit="pt") as bar:
        path = write_netx(tile(qnet, copies), Path(tmp) / "tiled.net")
        chunk = max(copies, LAVA_CHUNK_POINTS // copies * copies)
        for start in range(0, n, chunk):
            part = messages[start:start + chunk]
            out[start:start + len(part)] = _run_in_child(qnet, part, path, sockets, backend, copies, bar)
    return out


# == the caller's side ===========================================================================
@contextlib.contextmanager
def _signals_exit():
    """SIGTERM and SIGHUP raise ``SystemExit(128 + signal)`` while the block runs (where they
    would otherwise end the process on the spot, skipping the clean-up), in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def _socket_dir(tmp: str):
    """A directory for the Lava child's multiprocessing sockets: ``tmp``, or where its path is
    too long for an AF_UNIX socket (108 bytes), a new directory in /tmp, removed afterwards."""
    if len(tmp) <= SOCKET_DIR_MAX:
        yield tmp
        return
    sockets = tempfile.mkdtemp(prefix="loihi_pinn_mp_", dir="/tmp" if os.path.isdir("/tmp") else None)
    try:
        yield sockets
    finally:
        shutil.rmtree(sockets, ignore_errors=True)


def _shm_prefix(pid: int) -> str:
    return f"psm_lp{pid}_"


def _unlink_segments(pid: int) -> int:
    """Unlink the shared memory segments the child ``pid`` and its processes created; their number."""
    removed = 0
    for seg in glob.glob(os.path.join(SHM_DIR, _shm_prefix(pid) + "*")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(seg)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        return state not in DEAD
    except FileNotFoundError:
        return False
    except OSError:                               # no /proc: existence only
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _group_members(pgid: int) -> dict[int, bytes]:
    """The processes of group ``pgid`` and their states (``R``, ``S``, ``Z`` for dead ones not
    yet reaped, ...), from ``/proc``; {} where there is no ``/proc``."""
    members = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat, "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            members[int(stat.split("/")[2])] = fields[0]
    return members


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies, dead and waiting for init to
    reap them, do not count)."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    if not os.path.isdir("/proc"):
        return True
    return any(state not in DEAD for state in _group_members(pgid).values())


def _kill_group(proc, wait: float = KILL_WAIT) -> None:
    """SIGKILL the child's process group (the child, Lava's workers, its manager and resource
    tracker), reap the child, wait until no member runs, unlink the child's segments. Ctrl-C and
    SIGTERM wait until this is done (then act as usual)."""
    if proc.pid is None:                          # never started
        return
    masked = threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_sigmask")
    if masked:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
    try:
        deadline = time.monotonic() + wait
        while True:
            for kill in (os.killpg, os.kill):     # os.kill: a child killed before its setsid
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(proc.pid, signal.SIGKILL)
            if proc.exitcode is None:
                proc.join()
            if not _group_alive(proc.pid) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        _unlink_segments(proc.pid)
    finally:
        if masked:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _run_in_child(qnet: QuantizedNetwork, messages: np.ndarray, path: Path, sockets: str, backend: str,
                  copies: int, bar) -> np.ndarray:
    """Run one chunk of points in a forked child; the readout integers ``(len(messages), d_out)``."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, qnet, messages, str(path), sockets, backend, copies, os.getpid()),
                       name="loihi-pinn-lava", daemon=False)
    result, workers, graceful, since = None, [], False, {}
    try:
        proc.start()
        send.close()
        while result is None:
            if receive.poll(LIVENESS_INTERVAL):
                try:
                    kind, payload = receive.recv()
                except EOFError:
                    proc.join(1.0)                # the pipe closed as the child exited: its code
                    raise LavaRunError(f"the Lava {backend} process ended without a result "
                                       f"(exit code {proc.exitcode})") from None
                if kind == "workers":
                    workers = payload
                elif kind == "progress":
                    bar.update(min(payload, bar.total - bar.n))
                elif kind == "result":
                    result = payload
                elif kind == "error":
                    raise LavaRunError(f"the Lava {backend} run failed: {payload}")
                continue
            if not proc.is_alive():
                raise LavaRunError(f"the Lava {backend} process ended without a result (exit code {proc.exitcode})")
            dead = [f"{role} pid {pid}" for pid, role in workers if not _alive(pid)]
            if workers:                           # any process of the run dead and unreaped: the child is stuck
                now = time.monotonic()
                zombies = {pid: since.get(pid, now) for pid, state in _group_members(proc.pid).items() if state in DEAD}
                since = zombies
                dead += [f"pid {pid}" for pid, t in zombies.items() if now - t >= ZOMBIE_GRACE
                         and pid not in dict(workers)]
            if dead:
                raise LavaWorkerDied(f"a Lava process died during the {backend} run ({', '.join(dead)}: killed or "
                                     f"out of memory); the run was stopped")
        graceful = True
    finally:
        try:
            if graceful:                          # the child stops Lava itself; then the group goes regardless
                proc.join(STOP_GRACE)
        finally:
            _kill_group(proc)
            receive.close()
            send.close()
    data = np.asarray(result)                       # (copies * d_out, batches)
    batches = data.shape[1]
    out = np.rint(data).astype(np.int64).reshape(copies, qnet.d_out, batches).transpose(2, 0, 1)
    return out.reshape(batches * copies, qnet.d_out)[:len(messages)]


# == the child's side ============================================================================
def _isolate(parent: int, tmpdir: str, socket_dir: str) -> None:
    """Make this child the leader of a new session with its own shared memory names, resource
    tracker and multiprocessing temporary directory (in ``socket_dir``), deaf to Ctrl-C, and
    watching its caller: if the caller dies (SIGKILL), the child removes its segments, ``tmpdir``
    and ``socket_dir`` and kills its group."""
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    import secrets
    from multiprocessing import resource_tracker, shared_memory
    me = os.getpid()
    sockets = os.path.join(socket_dir, f"pymp-{me}")      # the managers' sockets, in the caller's temporary directory
    os.makedirs(sockets)
    multiprocessing.current_process()._config["tempdir"] = sockets
    shared_memory._make_filename = lambda: f"/{_shm_prefix(me)}{secrets.token_hex(6)}"
    tracker = resource_tracker.ResourceTracker()          # in this group, not the caller's
    resource_tracker._resource_tracker = tracker
    resource_tracker.ensure_running, resource_tracker.register = tracker.ensure_running, tracker.register
    resource_tracker.unregister, resource_tracker.getfd = tracker.unregister, tracker.getfd

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        _unlink_segments(me)
        shutil.rmtree(tmpdir, ignore_errors=True)
        shutil.rmtree(socket_dir, ignore_errors=True)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, daemon=True, name="loihi-pinn-parent-watch").start()


def _worker_pids(net) -> list[tuple[int, str]]:
    """The processes of ``net``'s Lava runtime: its actors and its shared memory manager."""
    infrastructure = getattr(net.runtime, "_messaging_infrastructure", None)
    pids = [(actor.pid, "worker") for actor in getattr(infrastructure, "actors", [])]
    server = getattr(getattr(getattr(infrastructure, "smm", None), "_manager", None), "_process", None)
    if server is not None:
        pids.append((server.pid, "shared memory manager"))
    return pids


def _child(conn, qnet: QuantizedNetwork, messages: np.ndarray, path: str, socket_dir: str, backend: str,
           copies: int, parent: int) -> None:
    """Build the graph for ``messages``, run it, send the readout, stop Lava; never returns."""
    code = 0
    try:
        _isolate(parent, os.path.dirname(path), socket_dir)
        net, data = _run_graph(conn, qnet, messages, path, backend, copies)
        conn.send(("result", data))
        net.stop()                               # a clean stop while the caller waits STOP_GRACE
    except BaseException as err:                 # noqa: BLE001 - everything goes to the caller
        code = 1
        detail = f"{type(err).__name__}: {err}"
        if not str(err):
            detail += "\n" + traceback.format_exc(limit=-3)
        with contextlib.suppress(Exception):
            conn.send(("error", detail))
    finally:
        with contextlib.suppress(Exception):
            import sys
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)                           # no atexit joins: the caller kills what is left


def _run_graph(conn, qnet: QuantizedNetwork, messages: np.ndarray, path: str, backend: str,
               copies: int):
    """Build and run the Lava graph for ``messages`` (one chunk); the network (its runtime still
    up) and the readout ``(copies * d_out, batches)``."""
    import_netx()
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.io.sink import Read
    from lava.proc.io.source import RingBuffer

    warnings.filterwarnings("ignore", message="Cannot import module", category=UserWarning)  # Lava's model search
    n = len(messages)
    batches = -(-n // copies)
    padded = np.zeros((batches * copies, qnet.d_in), np.int64)
    padded[:n] = messages
    model = qnet.model
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
        conn.send(("progress", len(chunk) * copies))
    return net, reader.data.get()               # on an error no stop: the caller kills the group
