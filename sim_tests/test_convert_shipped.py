"""Every shipped checkpoint converts with every neuron model and reports sane figures."""
import numpy as np
import pytest

from loihi_pinn.conversion import NEURON_MODELS, convert_checkpoint
from loihi_pinn.problems import PROBLEM_NAMES


@pytest.mark.slow
@pytest.mark.parametrize("neuron", list(NEURON_MODELS))
@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_shipped_checkpoint_converts_and_evaluates(name, neuron):
    calibration = "none" if NEURON_MODELS[neuron].two_phase else "advanced"    # bit-serial: exact, nothing to calibrate
    net, report = convert_checkpoint(name, neuron, 8, calibration, n_calibration=256, iterations=5, progress=False)
    assert np.all(np.isfinite(report["outputs"]))
    assert 0 < report["spike_rate"] <= 1 and report["synops_per_point"] > 0
    assert report["rel_l2_vs_ann"] < 1.0, f"{name}/{neuron}: SNN is not tracking the PINN"
    assert net.metadata["problem"] == name and len(net.metadata["source_sha256"]) == 64
