"""Reliability of runs (issue 12): Lava runs stop on every path, quickly and without leftovers;
the fixed-point emulator runs any number of points in bounded memory, bit-identical to one pass.

The Lava tests start ``loihi-pinn run`` on the shipped sin network as a subprocess in its own
session (as a shell runs a job), wait until its Lava graph runs, then signal it: Ctrl-C and
SIGTERM to its whole process group (what a terminal and ``timeout`` do), SIGKILL to one Lava
worker, SIGKILL to the command itself. Processes are found through ``/proc``.
"""
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch

from loihi_pinn.conversion import convert
from loihi_pinn.export import read_netx
from loihi_pinn.loihi import fixed_point, quantize
from loihi_pinn.models import PINN, build_mlp
from loihi_pinn.neurons import NEURON_MODELS, get_neuron

ROOT = Path(__file__).resolve().parents[1]
SIN = ROOT / "netx_exports" / "sin.net"
CLI = Path(sys.executable).parent / "loihi-pinn"
EXIT_LIMIT = 10.0           # s from the signal to the command's exit
START_LIMIT = 90.0          # s for the Lava graph to come up (2 busy cores)
LAVA_POINTS = 20_000        # far more than the run gets through before the signal
LOWER, UPPER = [-1.0, 0.0], [1.0, 2.0]

linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists() or not Path("/dev/shm").is_dir(),
                                reason="finds processes through /proc and segments in /dev/shm (Linux)")


# == /proc helpers ================================================================================
def _stat(pid: int):
    """(state, ppid) of ``pid``, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return fields[0].decode(), int(fields[1])


def _running(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in "ZXx"


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pid and stat[0] not in "ZXx":
                out.append(int(entry.name))
    return out


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        found += kids
        todo += kids
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _segments(child: int) -> list[Path]:
    return list(Path("/dev/shm").glob(f"psm_lp{child}_*"))


# == the command under test ========================================================================
class LavaCommand:
    """``loihi-pinn run SIN --backend lava-sim`` on many points, in its own session and with its
    own TMPDIR; ``start()`` returns once its Lava graph runs."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir()
        points = tmp_path / "points.npy"
        np.save(points, np.random.default_rng(0).uniform(-np.pi, np.pi, (LAVA_POINTS, 1)))
        env = {**os.environ, "TMPDIR": str(self.tmp)}
        self.proc = subprocess.Popen([str(CLI), "run", str(SIN), "--backend", "lava-sim", "--points-file", str(points)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     start_new_session=True, cwd=ROOT)
        self.child, self.processes = None, []
        self.socket_dirs = set(Path("/tmp").glob("loihi_pinn_mp_*"))   # the sockets' place when TMPDIR is long

    def start(self) -> None:
        deadline = time.monotonic() + START_LIMIT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the run ended early: {self.proc.communicate()}"
            kids = _children(self.proc.pid)
            if kids and len(_children(kids[0])) >= 10 and _segments(kids[0]) \
                    and list(self.tmp.glob("*/tiled.net")):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the Lava graph did not come up")
        time.sleep(1.0)                                  # running
        self.child = _children(self.proc.pid)[0]
        self.processes = _descendants(self.proc.pid)
        assert len(self.processes) >= 10                 # the Lava child, its workers, manager, tracker

    def workers(self) -> list[int]:
        return [pid for pid in _children(self.child) if "resource_tracker" not in _cmdline(pid)]

    def finish(self) -> tuple[float, str]:
        """Seconds to exit and stderr; asserts nothing is left behind."""
        start = time.monotonic()
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            for pid in self.processes:
                if _running(pid):
                    os.kill(pid, signal.SIGKILL)
            raise
        seconds = time.monotonic() - start
        self.check_nothing_left(EXIT_LIMIT)
        return seconds, err

    def check_nothing_left(self, within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline and any(_running(pid) for pid in self.processes):
            time.sleep(0.1)
        assert [pid for pid in self.processes if _running(pid)] == []
        assert _segments(self.child) == []
        assert list(self.tmp.iterdir()) == []
        assert set(Path("/tmp").glob("loihi_pinn_mp_*")) <= self.socket_dirs


@pytest.fixture
def lava_command(tmp_path):
    command = LavaCommand(tmp_path)
    yield command
    if command.proc.poll() is None:                     # a failed test: leave nothing running
        os.killpg(command.proc.pid, signal.SIGKILL)
        command.proc.wait()


@pytest.mark.slow
@linux_only
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_stops_a_lava_run_within_seconds_leaving_nothing(lava_command, sig):
    lava_command.start()
    os.killpg(lava_command.proc.pid, sig)                # the whole foreground job, as a terminal does
    seconds, err = lava_command.finish()
    assert seconds < EXIT_LIMIT
    assert lava_command.proc.returncode in ((-2, 130) if sig == signal.SIGINT else (-15, 143))
    assert err.count("Traceback") <= 1                   # the command's own, not one per Lava process


@pytest.mark.slow
@linux_only
def test_a_dead_lava_worker_ends_the_run_with_an_error(lava_command):
    lava_command.start()
    workers = lava_command.workers()
    assert len(workers) >= 10
    os.kill(workers[len(workers) // 2], signal.SIGKILL)
    seconds, err = lava_command.finish()
    assert seconds < EXIT_LIMIT
    assert lava_command.proc.returncode == 2
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Lava process died" in errors[0], err[-2000:]
    assert "Traceback" not in err


@pytest.mark.slow
@linux_only
def test_a_killed_command_leaves_no_orphans(lava_command):
    """SIGKILL of the command itself: its Lava child notices, removes the segments and the
    temporary directory and kills its process group."""
    lava_command.start()
    os.kill(lava_command.proc.pid, signal.SIGKILL)
    lava_command.proc.communicate(timeout=30)
    lava_command.check_nothing_left(EXIT_LIMIT)


def _crash(*args):
    raise RuntimeError("a process model failed")


def _vanish(*args):
    os._exit(3)


@linux_only
@pytest.mark.parametrize("fault, message", [(_crash, "lava-sim run failed: RuntimeError: a process model failed"),
                                            (_vanish, "lava-sim process ended without a result [(]exit code 3[)]")])
def test_a_failing_lava_child_is_an_input_error_and_leaves_nothing(fault, message, monkeypatch, tmp_path):
    """The graph fails in the child (forked: it sees this monkeypatch): the caller raises
    ``LavaRunError``, an ``InputError`` (the CLI's ``error:`` line, exit 2), at once."""
    from loihi_pinn.errors import InputError
    from loihi_pinn.runtime import lava_graph
    from loihi_pinn.runtime.isolated import LavaRunError

    monkeypatch.setattr(lava_graph, "_run_graph", fault)
    monkeypatch.setattr(lava_graph.tempfile, "tempdir", str(tmp_path))
    qnet = read_netx(SIN)
    start = time.monotonic()
    with pytest.raises(LavaRunError, match=message) as caught:
        lava_graph.run_lava(qnet, qnet.encode(np.zeros((4, 1))), progress=False)
    assert isinstance(caught.value, InputError)
    assert time.monotonic() - start < EXIT_LIMIT
    assert list(tmp_path.iterdir()) == []


# == chunked emulator ==============================================================================
@pytest.fixture(scope="module", params=sorted(NEURON_MODELS))
def small_network(request):
    """A random 2-16-16-1 PINN converted with each registered model and quantized."""
    model = get_neuron(request.param)
    activation = "tanh" if "tanh" in model.activations else sorted(model.activations)[0]
    torch.manual_seed(5)
    pinn = PINN(build_mlp([2, 16, 16, 1], activation), LOWER, UPPER)
    points = np.random.default_rng(1).uniform(LOWER, UPPER, (256, 2))
    return quantize(convert(pinn, model.name, 6, points, pieces=4), points)


def test_chunked_emulator_equals_one_pass_bit_for_bit(small_network):
    qnet = small_network
    messages = qnet.encode(np.random.default_rng(2).uniform(LOWER, UPPER, (103, 2)))
    whole, one = qnet.run_integers(messages, keep_states=True, chunk=len(messages))
    parts, chunked = qnet.run_integers(messages, keep_states=True, chunk=10)      # 11 chunks, the last of 3
    np.testing.assert_array_equal(parts, whole)
    for field in ("points", "timesteps", "steps", "messages", "neurons", "input_messages", "synops", "peak_state"):
        assert getattr(chunked, field) == getattr(one, field), field
    assert len(chunked.sent) == len(one.sent) and len(chunked.states) == len(one.states)
    for a, b in zip(chunked.sent, one.sent):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(chunked.states, one.states):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    np.testing.assert_array_equal(qnet.run_integers(messages)[0], whole)             # the default chunk
    assert qnet.run_integers(messages[:0])[0].shape == (0, 1)


def test_chunk_size_bounds_the_emulators_working_memory():
    """One chunk's allocations stay within ``bytes_per_point`` per point (the stated bound), and
    the default chunk within ``CHUNK_BYTES``; a run of many chunks peaks like one chunk."""
    qnet = read_netx(SIN)
    model, layers = qnet.model, qnet.layers
    per_point = fixed_point.bytes_per_point(model, layers)
    assert fixed_point.chunk_points(model, layers) * per_point <= fixed_point.CHUNK_BYTES
    messages = qnet.encode(np.random.default_rng(3).uniform(qnet.lower, qnet.upper, (4000, 1)))
    qnet.run_integers(messages[:10])                    # Lava's weight utilities imported
    peaks = {}
    for chunk in (1000, 4000):
        tracemalloc.start()
        qnet.run_integers(messages[:chunk], chunk=1000)
        peaks[chunk] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks[1000] <= 1000 * per_point
    assert peaks[4000] <= peaks[1000] + 4000 * 8 * 2    # plus the (n, d_out) result and its parts


@pytest.mark.slow
def test_lava_chunks_of_points_equal_the_emulator(monkeypatch):
    """Several Lava graphs (chunks of 6 points, 2 copies side by side, an odd last chunk) give the
    emulator's integers for every point."""
    from loihi_pinn.runtime import lava_graph

    monkeypatch.setattr(lava_graph, "LAVA_CHUNK_POINTS", 6)
    qnet = read_netx(SIN)
    messages = qnet.encode(np.linspace(qnet.lower, qnet.upper, 13))
    np.testing.assert_array_equal(lava_graph.run_lava(qnet, messages, copies=2, progress=False),
                                  qnet.run_integers(messages)[0])
