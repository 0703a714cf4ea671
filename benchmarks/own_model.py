"""A user's own PINN through the command-line path (issue 13): a plain torch tanh PINN for the heat
equation u_t = 0.1 u_xx on [0, 1]^2 (u(x, 0) = sin(pi x), u = 0 at x = 0, 1; exact solution
exp(-0.1 pi^2 t) sin(pi x)), trained on raw (x, t), saved with torch.jit.save, then
``convert_model_file`` (what ``loihi-pinn convert MODEL --domain`` runs) for each calibration,
``export_converted`` and the Lava simulator. Writes the own-model section of RESULTS.md.

    .venv/bin/python benchmarks/own_model.py
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, save_json, write_section  # noqa: E402

from loihi_pinn import Runner, convert_model_file, emulate, export_converted  # noqa: E402
from loihi_pinn.evaluation import predict_model, relative_l2  # noqa: E402
from loihi_pinn.models.imported import import_network  # noqa: E402

DOMAIN = "x=0:1,t=0:1"
LAVA_POINTS = 289               # a 17 x 17 grid, as in notebooks/own_pinn_heat.ipynb
CALIBRATIONS = ("none", "light", "advanced")


def exact(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.1 * np.pi ** 2 * x[:, 1:]) * np.sin(np.pi * x[:, :1])


def train_heat_pinn(steps: int = 2500, seed: int = 0) -> nn.Sequential:
    """2 x 32 tanh MLP on raw (x, t), physics-informed loss (residual + 10 x initial + 10 x walls)."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))

    def residual(x):
        x = x.requires_grad_(True)
        du = torch.autograd.grad(net(x).sum(), x, create_graph=True)[0]
        u_xx = torch.autograd.grad(du[:, 0].sum(), x, create_graph=True)[0][:, 0]
        return du[:, 1] - 0.1 * u_xx

    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1000, 0.3)
    for _ in range(steps):
        x0, t = torch.rand(128, 1), torch.rand(128, 1)
        loss = (residual(torch.rand(512, 2)).pow(2).mean()
                + 10 * (net(torch.cat([x0, 0 * x0], 1)) - torch.sin(torch.pi * x0)).pow(2).mean()
                + 10 * net(torch.cat([torch.randint(0, 2, (128, 1)).float(), t], 1)).pow(2).mean())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    return net.eval()


def main() -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    start = time.perf_counter()
    net = train_heat_pinn()
    train_seconds = time.perf_counter() - start
    torch.set_num_threads(threads)
    work = Path(tempfile.mkdtemp())
    model_file = work / "heat_pinn.pt"
    torch.jit.save(torch.jit.script(net), model_file)
    grid = np.stack([m.ravel() for m in np.meshgrid(np.linspace(0, 1, 101), np.linspace(0, 1, 101), indexing="ij")], 1)
    axis = np.linspace(0, 1, 17)
    lava_points = np.stack([m.ravel() for m in np.meshgrid(axis, axis, indexing="ij")], 1)
    reading = {raw: relative_l2(predict_model(import_network(model_file, (0, 0), (1, 1), raw_inputs=raw)[0], grid),
                                exact(grid)) for raw in (True, False)}
    rows = []
    for calibration in CALIBRATIONS:
        start = time.perf_counter()
        snn, _ = convert_model_file(model_file, "sigma_delta", 8, calibration, domain=DOMAIN, progress=False)
        convert_seconds = time.perf_counter() - start
        snn.save(work / f"{calibration}.snn")
        path, card = export_converted(work / f"{calibration}.snn", work / f"{calibration}.net")
        emulator = Runner(path, "emulator", progress=False)
        fixed = emulator.predict(grid)
        lava = Runner(path, "lava-sim", progress=False)
        on_lava = lava.predict(lava_points)
        rows.append({"calibration": calibration, "convert_seconds": convert_seconds,
                     "float_snn": relative_l2(emulate(snn, grid)[0], exact(grid)),
                     "fixed_point": relative_l2(fixed, exact(grid)),
                     "lava": relative_l2(on_lava, exact(lava_points)),
                     "lava_equals_emulator": bool(np.array_equal(on_lava, emulator.predict(lava_points))),
                     "steps": lava.stats.steps_per_point, "synops": emulator.stats.synops_per_point,
                     "ann_macs": snn.ann_macs(), "lava_points_per_s": LAVA_POINTS / lava.stats.wall_seconds})
    data = {"machine": machine(), "train_seconds": train_seconds, "pinn_raw": reading[True],
            "pinn_read_as_unit": reading[False], "rows": rows}
    save_json("own_model", data)
    lines = ["A user's plain torch tanh PINN (2 x 32, trained here in "
             f"{train_seconds:.0f} s on raw (x, t) for u_t = 0.1 u_xx on [0, 1]^2, saved with torch.jit.save), "
             f"converted with `loihi-pinn convert heat_pinn.pt --domain {DOMAIN}` (sigma-delta, K = 8 ReLU pieces a "
             "tanh, fed by relay pairs; a synaptic op is a message times its sender's non-zero synapses), exported "
             "and run. Rel L2 against the exact solution on a 101 x 101 grid (Lava: 17 x 17 grid). "
             "The PINN read as it was trained (raw inputs, the default): "
             f"{reading[True]:.2e}; read as if trained on [-1, 1]^2 (`--unit-inputs`, the wrong reading): "
             f"{reading[False]:.2f}. Issue 13 measured, by hand in Python on its own heat PINN: float SNN 1.07e-2, "
             "fixed point 1.08e-2, Lava == emulator.", "",
             "| calibration | convert (s) | float SNN | fixed point (emulator) | Lava simulator | Lava == emulator "
             "| steps | synops / point (x ANN MACs) |", "|---|---:|---:|---:|---:|:---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['calibration']} | {r['convert_seconds']:.0f} | {r['float_snn']:.2e} | "
                     f"{r['fixed_point']:.2e} | {r['lava']:.2e} | {'yes' if r['lava_equals_emulator'] else 'NO'} | "
                     f"{r['steps']} | {r['synops']:.0f} ({r['synops'] / r['ann_macs']:.0f}x) |")
    lines += ["", f"Measured {data['machine']} with `.venv/bin/python benchmarks/own_model.py`."]
    write_section("own-model", "## 8. A user's own PINN from the command line (issue 13)\n\n" + "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
