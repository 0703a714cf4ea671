"""Every shipped checkpoint loads, has the network size recorded for it, and reaches the error
recorded for it in benchmarks/RESULTS.md."""
import json
import re
from pathlib import Path

import pytest

from loihi_pinn.evaluation import error_report, predict_model
from loihi_pinn.problems import PROBLEM_NAMES, get_problem
from loihi_pinn.training import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
CHECKPOINTS = ROOT / "loihi_pinn" / "checkpoints"
ERROR_TOLERANCE = 0.005   # relative: RESULTS.md rounds to 4 digits; BLAS and threads move the 4th at most
SEED_000_TABLE_1 = {"poisson": 20601, "diffusion_reaction": 20601, "wave": 20601, "burgers": 8361}  # parameters


def recorded_rows() -> dict[str, tuple[int, float]]:
    """Per problem the parameter count and rel L2 of RESULTS.md's PINN accuracy table."""
    text = RESULTS.read_text()
    block = text[text.index("<!-- pinn-accuracy:begin -->"):text.index("<!-- pinn-accuracy:end -->")]
    return {m.group(1): (int(m.group(2)), float(m.group(3)))
            for m in re.finditer(r"^\| (\w+) \| [^|]+\| (\d+) \| ([0-9.e+-]+)", block, re.M)}


def test_results_table_has_every_problem_and_the_papers_sizes():
    rows = recorded_rows()
    assert sorted(rows) == sorted(PROBLEM_NAMES)
    assert {name: rows[name][0] for name in SEED_000_TABLE_1} == SEED_000_TABLE_1


@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_shipped_checkpoint_has_its_recorded_size(name):
    """The parameter count from the architecture in checkpoint.json (weights + biases of each
    Linear), from the loaded tensors and from the metadata all equal RESULTS.md's."""
    sizes = json.loads((CHECKPOINTS / name / "checkpoint.json").read_text())["architecture"]["layer_sizes"]
    from_architecture = sum(fan_in * fan_out + fan_out for fan_in, fan_out in zip(sizes, sizes[1:]))
    ckpt = load_checkpoint(name)
    assert from_architecture == recorded_rows()[name][0]
    assert sum(p.numel() for p in ckpt.model.parameters()) == from_architecture
    assert ckpt.metadata["parameters"] == from_architecture
    assert ckpt.metadata["command"].startswith(f"loihi-pinn train {name}")


@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_shipped_checkpoint_has_its_recorded_error(name):
    recorded = recorded_rows()[name][1]
    model = load_checkpoint(name).model
    report = error_report(get_problem(name), lambda x: predict_model(model, x))
    assert report["rel_l2"] == pytest.approx(recorded, rel=ERROR_TOLERANCE), \
        f"{name}: rel L2 {report['rel_l2']:.4e}, recorded {recorded:.4e}"
