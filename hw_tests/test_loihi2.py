"""The loihi2 backend on a real Loihi 2: the shipped netx exports give, bit for bit, what the
fixed-point emulator gives (the emulator itself is proven equal to the Lava CPU simulator in
sim_tests/test_loihi.py)."""
from pathlib import Path

import numpy as np
import pytest

from loihi_pinn.runtime import Runner

EXPORTS = sorted((Path(__file__).parents[1] / "netx_exports").glob("*.net"))


@pytest.mark.parametrize("path", EXPORTS, ids=[p.stem for p in EXPORTS])
def test_loihi2_matches_emulator_bit_for_bit(path):
    emulator = Runner(path, "emulator")
    card = emulator.model_card
    lower, upper = np.array(emulator.network.lower), np.array(emulator.network.upper)
    points = np.random.default_rng(0).uniform(lower, upper, (32, len(lower)))
    hardware = Runner(path, "loihi2", copies=4, progress=False)
    assert np.array_equal(hardware.predict(points), emulator.predict(points)), card.get("problem")
    assert hardware.stats.steps_per_point == emulator.network.steps


def test_exports_exist():
    assert EXPORTS, "netx_exports/ holds no .net files: run benchmarks/loihi_export.py"
