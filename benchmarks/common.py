"""Helpers shared by the benchmark scripts: where results go and how RESULTS.md is updated."""
from __future__ import annotations

import datetime
import json
import os
import platform
import re
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
RESULTS_MD = HERE / "RESULTS.md"
RESULTS_DIR = HERE / "results"
FIGURES_DIR = HERE / "figures"


def machine() -> str:
    """One line naming the date, machine and software the figures were measured with."""
    return (f"{datetime.date.today()}, {platform.machine()} with {os.cpu_count()} cores, "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads)")


def write_section(name: str, text: str) -> None:
    """Replace (or append) the block between ``<!-- name:begin -->`` and ``<!-- name:end -->``."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{text.strip()}\n{end}"
    old = RESULTS_MD.read_text() if RESULTS_MD.exists() else "# Benchmark results\n"
    if begin in old:
        new = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, old, flags=re.S)
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS_MD.write_text(new)


def save_json(name: str, data) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=1))
    return path


def load_json(name: str):
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def pinn_macs(problem: str) -> int:
    """Multiply-accumulates per point of the shipped tanh PINN of ``problem`` (its weights): the
    cost a deployed network is measured against (issue 11), whatever the deployed network's size."""
    from loihi_pinn.training import load_checkpoint

    sizes = load_checkpoint(problem).model.architecture["layer_sizes"]
    return sum(a * b for a, b in zip(sizes, sizes[1:]))
