"""A scientist's own PINN from the command line: a torch (TorchScript, whole module, state dict) or
DeepXDE network for a PDE the package does not ship (1D heat u_t = 0.1 u_xx on [0, 1]^2, trained
on raw coordinates), through convert -> export -> run with predictions written out."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from loihi_pinn.cli import main
from loihi_pinn.conversion import convert
from loihi_pinn.export import read_model_card
from loihi_pinn.models.imported import import_network
from loihi_pinn.runtime import Runner

DOMAIN = "x=0:1,t=0:1"
STOCK_SCRIPT = Path(__file__).parents[1] / "netx_exports" / "run_with_stock_lava.py"


def exact(x):
    """The heat solution exp(-0.1 pi^2 t) sin(pi x) at numpy points (n, 2) -> (n, 1)."""
    return np.exp(-0.1 * np.pi ** 2 * x[:, 1:]) * np.sin(np.pi * x[:, :1])


def heat_net(raw: bool = True) -> nn.Sequential:
    """A 2 x 16 tanh MLP fitted to the heat solution on raw (x, t), or on the box mapped to [-1, 1]^2."""
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                   # small batches: 100x faster than 2 threads on a busy machine
    net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    for _ in range(300):
        x = torch.rand(256, 2, dtype=torch.float64)
        target = torch.as_tensor(exact(x.numpy()), dtype=torch.float32)
        loss = ((net((x if raw else 2 * x - 1).float()) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.set_num_threads(threads)
    return net.eval()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The raw-coordinate heat net saved the three torch ways, plus points and reference data."""
    folder = tmp_path_factory.mktemp("own")
    net = heat_net()
    torch.jit.save(torch.jit.script(net), folder / "heat_ts.pt")
    torch.save(net, folder / "heat_module.pt")
    torch.save(net.state_dict(), folder / "heat_state.pt")
    points = np.random.default_rng(1).random((40, 2))
    np.savetxt(folder / "points.csv", points, delimiter=",")
    np.save(folder / "data.npy", np.hstack([points, exact(points)]))
    (folder / "heat_exact.py").write_text("import numpy as np\n\ndef exact(x):\n"
                                          "    return np.exp(-0.1 * np.pi**2 * x[:, 1:]) * np.sin(np.pi * x[:, :1])\n")
    (folder / "heat_problem.py").write_text(
        "import torch\nfrom loihi_pinn.problems import Problem, numpy_reference\n\n"
        "def heat():\n    return Problem(name='heat', equation='u_t = 0.1 u_xx', input_names=('x', 't'), "
        "output_names=('u',), lower=(0.0, 0.0), upper=(1.0, 1.0), reference_method='separation of variables',\n"
        "        reference=numpy_reference(lambda x: torch.exp(-0.1 * torch.pi**2 * x[:, 1:]) "
        "* torch.sin(torch.pi * x[:, :1])))\n")
    return folder, net, points


def test_a_saved_network_takes_the_box_names_and_reference_of_the_users_problem(saved, capsys, monkeypatch):
    folder, net, _ = saved
    monkeypatch.chdir(folder)
    assert main(["convert", "heat_module.pt", "--problem", "heat_problem:heat", "--calibration", "none",
                 "--out", "hp.snn", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "problem      heat  (from heat_module.pt)" in text and "vs reference  (PINN " in text
    assert main(["evaluate", "hp.snn"]) == 0                 # the source file is here: SNN, PINN and reference
    assert "SNN vs PINN" in capsys.readouterr().out
    torch.save(heat_net(raw=False), "heat_module.pt")        # the source changes after conversion
    assert main(["evaluate", "hp.snn"]) == 2
    assert "has changed since" in capsys.readouterr().err
    torch.save(net, "heat_module.pt")


@pytest.mark.parametrize("name", ["heat_ts.pt", "heat_module.pt", "heat_state.pt"])
def test_each_saved_form_gives_the_network_on_raw_coordinates(saved, name):
    folder, net, points = saved
    model, info = import_network(folder / name, (0, 0), (1, 1), raw_inputs=True)
    with torch.no_grad():
        ours, theirs = model(torch.as_tensor(points).float()), net(torch.as_tensor(points).float())
    assert torch.allclose(ours, theirs, atol=1e-5)
    assert info["form"] == {"heat_ts.pt": "torchscript", "heat_module.pt": "module", "heat_state.pt": "state_dict"}[name]
    unit, _ = import_network(folder / name, (0, 0), (1, 1), raw_inputs=False)     # the other reading differs
    with torch.no_grad():
        assert not torch.allclose(unit(torch.as_tensor(points).float()), theirs, atol=1e-2)


def test_a_network_trained_on_the_unit_box_reads_with_unit_inputs(tmp_path):
    net = heat_net(raw=False)
    torch.jit.save(torch.jit.script(net), tmp_path / "unit.pt")
    model, _ = import_network(tmp_path / "unit.pt", (0, 0), (1, 1), raw_inputs=False)
    x = np.random.default_rng(2).random((50, 2))
    with torch.no_grad():
        u = model(torch.as_tensor(x).float()).numpy()
    assert np.linalg.norm(u - exact(x)) / np.linalg.norm(exact(x)) < 0.05


class Skip(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(2, 8), nn.Linear(8, 1)

    def forward(self, x):
        return self.b(torch.tanh(self.a(x))) + x[:, :1]        # a skip connection the layers do not show


def test_a_forward_that_is_not_its_layers_in_order_is_refused(tmp_path, capsys):
    torch.jit.save(torch.jit.script(Skip()), tmp_path / "skip.pt")
    assert main(["convert", str(tmp_path / "skip.pt"), "--domain", "0:1,0:1", "--calibration", "none"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "differ from the saved model's forward" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv, message", [
    (["--domain", "0:1"], "the network takes 2 inputs, the domain gives 1"),
    (["--domain", "0:1,1:0"], "input 2 is '1:0'"),
    (["--domain", "x=0:1,x=0:1"], "names an input twice"),
    ([], "give --domain lo:hi,... (one per input) or --problem"),
    (["--domain", "0:1,0:1", "--problem", "poisson"], "not both"),
])
def test_bad_domains_exit_2_with_one_line(saved, argv, message, capsys):
    folder, _, _ = saved
    assert main(["convert", str(folder / "heat_ts.pt"), *argv, "--calibration", "none",
                 "--out", str(folder / "bad.snn")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (folder / "bad.snn").exists()


@pytest.mark.parametrize("content, message", [
    ({"epochs": 3}, "holds a dict, not a network"),
    (b"\x00garbage", "is not a torch file"),
    (None, "no saved network at"),
])
def test_a_file_that_is_no_network_exits_2(tmp_path, content, message, capsys):
    path = tmp_path / "notes.pt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        torch.save(content, path)
    assert main(["convert", str(path), "--domain", "0:1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


@pytest.mark.slow
def test_torchscript_heat_pinn_convert_export_run_on_lava_with_predictions_out(saved, capsys, monkeypatch):
    folder, net, points = saved
    monkeypatch.chdir(folder)                               # --reference heat_exact:exact imports from here
    assert main(["convert", "heat_ts.pt", "--domain", DOMAIN, "--raw-inputs", "--calibration", "none",
                 "--calibration-points", "points.csv", "--out", "heat.snn", "--quiet"]) == 0
    assert "problem      heat_ts  (from heat_ts.pt)" in capsys.readouterr().out
    assert main(["export", "heat.snn", "--out", "heat.net"]) == 0
    capsys.readouterr()
    assert main(["run", "heat.net", "--backend", "lava-sim", "--points-file", "points.csv", "--out", "u.npy",
                 "--reference", "heat_exact:exact", "--quiet"]) == 0
    text = capsys.readouterr().out
    u = np.load("u.npy")
    assert u.shape == (len(points), 1)
    assert np.array_equal(u, Runner("heat.net", "emulator").predict(points))   # Lava == emulator bit for bit
    with torch.no_grad():
        ann = net(torch.as_tensor(points).float()).double().numpy()
    assert np.linalg.norm(u - ann) / np.linalg.norm(ann) < 0.05              # the user's network, on Lava
    error = np.linalg.norm(u - exact(points)) / np.linalg.norm(exact(points))
    assert f"rel L2       {error:.3e} vs reference" in text
    assert main(["run", "heat.net", "--backend", "emulator", "--reference", "data.npy", "--out", "u.csv"]) == 0
    assert f"{error:.3e}" in capsys.readouterr().out                        # the data file's points, same answer
    assert np.allclose(np.loadtxt("u.csv", delimiter=","), u[:, 0], rtol=1e-8)
    card = read_model_card("heat.net")
    assert card["input_names"] == ["x", "t"] and card["box_only"] is True
    assert main(["evaluate", "heat.snn", "--points", "points.csv", "--out", "s.txt"]) == 0  # the float SNN
    assert "SNN          u in" in capsys.readouterr().out and np.loadtxt("s.txt").shape == (len(points),)
    assert main(["evaluate", "heat.net", "--reference", "heat_exact:exact"]) == 0  # a .net: its fixed point, grid
    assert "(10201 points" in capsys.readouterr().out
    np.savetxt("wide.csv", np.ones((3, 4)), delimiter=",")
    for argv, message in [(["--reference", "wide.csv"], "has shape (3, 4); give one row a point: 2 coordinates"),
                          (["--reference", "heat_exact:nope"], "module 'heat_exact' has no 'nope'"),
                          (["--out", "u.png"], "give a .npy, .csv, .txt file"),
                          (["--out", "u.npy"], "u.npy exists; pass --force"),
                          (["--points-file", "points.csv", "--reference", "data.npy"], "a data file with its own points")]:
        assert main(["run", "heat.net", "--backend", "emulator", *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, (argv, err)
    # the stock-Lava script on this file: the emulator's answer, bit for bit
    np.save("points.npy", points)
    subprocess.run([sys.executable, str(STOCK_SCRIPT), "heat.net", "points.npy", "--out", "stock.npy"],
                   check=True, capture_output=True)
    assert np.array_equal(np.load("stock.npy"), u)


@pytest.mark.slow
def test_stock_lava_script_equals_the_emulator_on_a_shipped_export(tmp_path):
    net = Path(__file__).parents[1] / "netx_exports" / "poisson.net"
    points = np.random.default_rng(3).uniform(-1, 1, (25, 2))
    np.savetxt(tmp_path / "p.csv", points, delimiter=",")
    subprocess.run([sys.executable, str(STOCK_SCRIPT), str(net), str(tmp_path / "p.csv"), "--out",
                    str(tmp_path / "u.npy")], check=True, capture_output=True)
    assert np.array_equal(np.load(tmp_path / "u.npy"), Runner(net, "emulator").predict(points))


def test_card_carries_the_stock_lava_recipe(saved, tmp_path):
    folder, _, _ = saved
    model, _ = import_network(folder / "heat_ts.pt", (0, 0), (1, 1))
    snn = convert(model, "sigma_delta", 8, np.random.default_rng(0).random((128, 2)))   # no metadata at all
    snn.save(tmp_path / "bare.snn")
    assert main(["export", str(tmp_path / "bare.snn"), "--no-calibration"]) == 0
    card = read_model_card(tmp_path / "bare.net")
    recipe, steps = card["stock_lava"], card["steps_per_inference"]
    assert "select_tag='fixed_pt'" in recipe["run_config"]
    assert "skip_layers=1, input_message_bits=24, spike_exp=0" in recipe["load"]
    assert f"at the end of step {steps} " in recipe["read"] and f"interval={steps + 1}" in recipe["many_points"]
    assert "(2 (x_i - lower_i) / (upper_i - lower_i) - 1) * input_scale" in recipe["input"]


@pytest.mark.slow
def test_deepxde_saved_model_converts_exports_and_runs(tmp_path, capsys):
    pytest.importorskip("deepxde")
    script = ("import os, sys\nos.environ['DDE_BACKEND'] = 'pytorch'\nimport deepxde as dde\nimport numpy as np\n"
              "dde.config.set_random_seed(0)\n"
              "f = lambda x: np.exp(-0.1 * np.pi**2 * x[:, 1:]) * np.sin(np.pi * x[:, :1])\n"
              "data = dde.data.Function(dde.geometry.Rectangle([0, 0], [1, 1]), f, 200, 50)\n"
              "model = dde.Model(data, dde.nn.FNN([2, 16, 16, 1], 'tanh', 'Glorot normal'))\n"
              "model.compile('adam', lr=1e-2)\nmodel.train(iterations=150, display_every=1000, verbose=0)\n"
              "path = model.save(sys.argv[1])\n"
              "x = np.random.default_rng(4).random((30, 2))\nnp.save(sys.argv[2], x)\n"
              "np.save(sys.argv[3], model.predict(x))\nprint(path)\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "dde"), str(tmp_path / "x.npy"),
                           str(tmp_path / "dde_u.npy")], capture_output=True, text=True, check=True,
                          env={**os.environ, "DDE_BACKEND": "pytorch"})
    saved_path = done.stdout.strip().splitlines()[-1]
    assert saved_path.endswith("-150.pt")
    assert main(["convert", saved_path, "--domain", "0:1,0:1", "--calibration", "none", "--out",
                 str(tmp_path / "dde.snn"), "--quiet"]) == 0
    assert main(["evaluate", saved_path, "--domain", "0:1,0:1", "--points", str(tmp_path / "x.npy"),
                 "--out", str(tmp_path / "ann.npy")]) == 0                   # the network as read: DeepXDE's answer
    assert np.allclose(np.load(tmp_path / "ann.npy"), np.load(tmp_path / "dde_u.npy"), rtol=1e-4, atol=1e-5)
    assert main(["export", str(tmp_path / "dde.snn"), "--headroom", "4"]) == 0   # 2 overflows the readout
    assert main(["run", str(tmp_path / "dde.net"), "--backend", "emulator", "--points-file", str(tmp_path / "x.npy"),
                 "--out", str(tmp_path / "u.npy")]) == 0
    theirs, ours = np.load(tmp_path / "dde_u.npy"), np.load(tmp_path / "u.npy")
    assert np.linalg.norm(ours - theirs) / np.linalg.norm(theirs) < 0.05     # 8 ReLU pieces a tanh, fixed point
