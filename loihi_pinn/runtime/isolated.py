"""Running work in an isolated, killable child process, with nothing left behind.

Lava 0.10's runtime forks a process per process model and per sync domain, a
``SharedMemoryManager`` server and a resource tracker, and talks to them through ``/dev/shm``
segments; once one of them is interrupted or killed, ``net.stop()`` waits forever. So a Lava run
never happens in the caller's process: ``run_isolated`` forks a child that starts its own session
(``os.setsid``: the terminal's Ctrl-C and ``timeout``'s group signal reach the caller only), its
own resource tracker, and names its shared memory ``/dev/shm/psm_lp<child pid>_*``. The caller
waits on a pipe and, every ``LIVENESS_INTERVAL`` seconds, checks that the child and every worker
it reported are alive. On every way out (result, error, Ctrl-C, SIGTERM/SIGHUP, a dead worker)
the caller kills the child's whole process group with SIGKILL, reaps it and unlinks the segments
with the child's prefix. A child whose caller dies (SIGKILL) notices within a second, unlinks its
segments, removes the caller's temporary directory and kills its group. Linux only (``/proc``,
``/dev/shm``).

The child's side of the pipe: ``work(conn, *args)`` may send ``("workers", [(pid, role), ...])``
and ``("progress", points)``; it returns ``(stop, result)``, and the child sends the result, then
calls ``stop()`` while the caller waits up to ``STOP_GRACE`` seconds.
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

from loihi_pinn.errors import InputError

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


# == the caller's side ===========================================================================
@contextlib.contextmanager
def signals_exit():
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
def socket_dir(tmp: str):
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


def run_isolated(work, args: tuple, *, what: str, tmpdir: str, sockets: str, bar):
    """``work(conn, *args)`` in a forked, isolated child (see the module doc); the result it
    returns. ``what`` names the run in errors ("Lava lava-sim"); ``tmpdir`` is the caller's temporary directory (the
    child removes it if the caller dies), ``sockets`` the directory for the child's sockets
    (``socket_dir``); ``bar`` counts the progress the child reports. Raises ``LavaRunError`` when
    the work fails or the child ends without a result, ``LavaWorkerDied`` when a reported worker
    or any process of the child's group dies."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, work, args, tmpdir, sockets, os.getpid()),
                       name="loihi-pinn-isolated", daemon=False)
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
                    raise LavaRunError(f"the {what} process ended without a result "
                                       f"(exit code {proc.exitcode})") from None
                if kind == "workers":
                    workers = payload
                elif kind == "progress":
                    bar.update(min(payload, bar.total - bar.n))
                elif kind == "result":
                    result = payload
                elif kind == "error":
                    raise LavaRunError(f"the {what} run failed: {payload}")
                continue
            if not proc.is_alive():
                raise LavaRunError(f"the {what} process ended without a result (exit code {proc.exitcode})")
            dead = [f"{role} pid {pid}" for pid, role in workers if not _alive(pid)]
            if workers:                           # any process of the run dead and unreaped: the child is stuck
                now = time.monotonic()
                zombies = {pid: since.get(pid, now) for pid, state in _group_members(proc.pid).items() if state in DEAD}
                since = zombies
                dead += [f"pid {pid}" for pid, t in zombies.items() if now - t >= ZOMBIE_GRACE
                         and pid not in dict(workers)]
            if dead:
                raise LavaWorkerDied(f"a Lava process died during the {what} run ({', '.join(dead)}: killed or "
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
    return result


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


def _child(conn, work, args: tuple, tmpdir: str, socket_dir: str, parent: int) -> None:
    """Isolate, run ``work``, send its result, stop it; never returns."""
    code = 0
    try:
        _isolate(parent, tmpdir, socket_dir)
        stop, result = work(conn, *args)
        conn.send(("result", result))
        stop()                                   # a clean stop while the caller waits STOP_GRACE
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


