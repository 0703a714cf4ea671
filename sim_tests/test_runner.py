"""The Runner and its backend objects: the table, clear errors, and what ``wall_seconds`` times."""
import time
from pathlib import Path

import numpy as np
import pytest

from loihi_pinn.errors import InputError
from loihi_pinn.runtime import BACKEND_TYPES, BACKENDS, Backend, HardwareUnavailable, Runner, make_backend

SIN = Path(__file__).resolve().parents[1] / "netx_exports" / "sin.net"    # shipped 1-40-40-1 sigma-delta export
BACKEND_SLEEP = 0.2      # s, a backend run made slow on purpose
OTHER_SLEEP = 0.5        # s, encoding / activity counting made slow on purpose: must not be timed


def _points(runner: Runner, n: int = 16) -> np.ndarray:
    return np.linspace(runner.network.lower, runner.network.upper, n)


def test_backend_table_lists_three_backends_with_one_interface():
    assert BACKENDS == ("emulator", "lava-sim", "loihi2")
    for name, cls in BACKEND_TYPES.items():
        backend = make_backend(name, copies=2, progress=False)
        assert isinstance(backend, cls) and isinstance(backend, Backend) and backend.name == name
        assert backend.copies == (1 if name == "emulator" else 2)


def test_unknown_backend_names_the_valid_ones():
    with pytest.raises(InputError, match="unknown backend 'gpu'; choose one of: emulator, lava-sim, loihi2"):
        Runner(SIN, "gpu")
    with pytest.raises(InputError, match="copies must be a whole number >= 1, got 0"):
        Runner(SIN, "lava-sim", copies=0)


def test_emulator_backend_gives_the_emulator_figures_from_one_pass(monkeypatch):
    runner = Runner(SIN)
    points = _points(runner)
    expected, activity = runner.network.run(points)
    passes = []
    original = runner.network.run_integers
    monkeypatch.setattr(runner.network, "run_integers", lambda m: passes.append(len(m)) or original(m))
    np.testing.assert_array_equal(runner.predict(points), expected)
    assert passes == [16]                                   # the activity is the timed run's, not a rerun
    st = runner.stats
    assert (st.backend, st.points, st.copies, st.steps_per_point) == ("emulator", 16, 1, runner.network.steps)
    assert st.time_steps == 16 * runner.network.steps
    assert st.messages_per_point == pytest.approx((sum(activity.messages) + activity.input_messages) / 16)
    assert st.synops_per_point == pytest.approx(activity.synops / 16)


def _slow(function, seconds: float):
    def wrapped(*args):
        time.sleep(seconds)
        return function(*args)
    return wrapped


@pytest.mark.parametrize("name", ["emulator", "lava-sim"])
def test_wall_seconds_times_the_backends_run_only(name, monkeypatch):
    """The backend's run takes BACKEND_SLEEP longer, encoding, decoding and (lava-sim) the
    emulator's activity pass OTHER_SLEEP longer: wall_seconds must see the first only. The
    emulator's run is the integer pass; lava-sim's run is replaced by the emulator (fast test)."""
    runner = Runner(SIN, name, progress=False)
    network = runner.network
    points = _points(runner)
    expected = network.run(points)[0]
    emulator_run = network.run_integers
    monkeypatch.setattr(network, "encode", _slow(network.encode, OTHER_SLEEP))
    monkeypatch.setattr(network, "decode", _slow(network.decode, OTHER_SLEEP))
    if name == "emulator":
        monkeypatch.setattr(network, "run_integers", _slow(emulator_run, BACKEND_SLEEP))
    else:
        monkeypatch.setattr(network, "run_integers", _slow(emulator_run, OTHER_SLEEP))
        monkeypatch.setattr(runner.backend, "run", _slow(lambda qnet, m, stream=None: emulator_run(m)[0], BACKEND_SLEEP))
    np.testing.assert_array_equal(runner.predict(points), expected)
    assert BACKEND_SLEEP <= runner.stats.wall_seconds < BACKEND_SLEEP + OTHER_SLEEP
    assert runner.stats.backend == name and runner.stats.messages_per_point > 0


def test_loihi2_check_says_what_is_missing(monkeypatch):
    loihi2 = make_backend("loihi2")
    with pytest.raises(HardwareUnavailable, match="lava-loihi extension .* not installed here.*backend='lava-sim'"):
        loihi2.check_available()                            # this machine has no lava-loihi
    monkeypatch.setattr("lava.utils.loihi.is_installed", lambda: True)
    monkeypatch.delenv("SLURM", raising=False)
    monkeypatch.delenv("NXSDKHOST", raising=False)
    with pytest.raises(HardwareUnavailable, match="no Loihi 2 system is configured: set SLURM=1"):
        loihi2.check_available()
    monkeypatch.setenv("SLURM", "1")
    loihi2.check_available()                                # extension and board: nothing missing
    make_backend("emulator").check_available()
    make_backend("lava-sim").check_available()


def test_runner_refuses_loihi2_before_any_run():
    with pytest.raises(HardwareUnavailable, match="lava-loihi"):
        Runner(SIN, "loihi2")
