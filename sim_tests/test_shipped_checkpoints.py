"""Every shipped checkpoint loads and reaches the error recorded for it in benchmarks/RESULTS.md."""
import re
from pathlib import Path

import pytest

from loihi_pinn.evaluation import error_report, predict_model
from loihi_pinn.problems import PROBLEM_NAMES, get_problem
from loihi_pinn.training import load_checkpoint

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "RESULTS.md"


def recorded_errors() -> dict[str, float]:
    text = RESULTS.read_text()
    block = text[text.index("<!-- pinn-accuracy:begin -->"):text.index("<!-- pinn-accuracy:end -->")]
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^\| (\w+) \| [^|]+\| \d+ \| ([0-9.e+-]+)", block, re.M)}


@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_shipped_checkpoint_meets_its_recorded_error(name):
    recorded = recorded_errors()[name]
    ckpt = load_checkpoint(name)
    problem = get_problem(name)
    report = error_report(problem, lambda x: predict_model(ckpt.model, x))
    assert report["rel_l2"] <= recorded * 1.005, f"{name}: {report['rel_l2']:.4e} > recorded {recorded:.4e}"
    assert ckpt.metadata["parameters"] == {"poisson": 20601, "burgers": 8361}.get(name, ckpt.metadata["parameters"])
    assert ckpt.metadata["command"].startswith(f"loihi-pinn train {name}")
