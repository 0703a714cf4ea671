"""Seed 002: direct SNN training (SG/WSG surrogates, BP and randomized forward gradients), its
data sets, spiking operators and their export to netx (Lava == emulator bit for bit)."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as fwad
from torch.nn.utils import parameters_to_vector

from loihi_pinn.cli import main
from loihi_pinn.conversion import emulate
from loihi_pinn.conversion.direct_snn import spiking_network
from loihi_pinn.errors import InputError
from loihi_pinn.export.operator_nets import export_operator, export_spiking_mlp
from loihi_pinn.loihi import best_weight_max, quantize
from loihi_pinn.models.operator_nets import SpikingDeepONet, SpikingSepONet
from loihi_pinn.models.spiking_mlp import SpikingMLP, spike
from loihi_pinn.problems import operator_data as od
from loihi_pinn.runtime import Runner
from loihi_pinn.runtime.operator_nets import OperatorRunner
from loihi_pinn.training.direct_snn import operator_loss, regression_loss, train_direct
from loihi_pinn.training.forward_gradient import forward_gradient, perturbation_gradient, rademacher_like


def test_surrogates_keep_heaviside_and_have_their_derivatives():
    x = torch.linspace(-1.5, 1.5, 31, dtype=torch.float64, requires_grad=True)      # v - theta
    s = spike(x + 1, "sg", sigma=0.3)
    s.sum().backward()
    assert torch.equal(s.detach(), (x >= 0).double())
    pdf = torch.exp(-x.detach()**2 / (2 * 0.09)) / (0.3 * math.sqrt(2 * math.pi))
    assert torch.allclose(x.grad, pdf)
    torch.manual_seed(0)
    x.grad = None
    w = spike(x + 1, "wsg", sigma=0.3, samples=20_000)      # Stein's lemma: E[f_wsg] is the Gaussian density
    w.sum().backward()
    assert torch.equal(w.detach(), (x >= 0).double())
    assert torch.allclose(x.grad, pdf, atol=0.06)
    assert spike(torch.ones(1), strict=True).item() == 0.0       # Loihi's v > theta
    with fwad.dual_level():                                      # forward mode: the same surrogate
        tangent = fwad.unpack_dual(spike(fwad.make_dual(x.detach() + 1, torch.ones_like(x)), "sg", sigma=0.3)).tangent
    assert torch.allclose(tangent, pdf)


@pytest.mark.parametrize("reset, rate", [("subtract", 0.375), ("hard", 0.25)])
def test_if_neuron_by_hand(reset, rate):
    """One neuron, current 0.4 for T = 8: subtract fires at v = 1.2, 1.0, 1.2 (steps 3, 5, 8);
    hard reset (v > 1) at steps 3 and 6. Readout weight 2, bias 0.1: output 2 * rate + 0.1."""
    net = SpikingMLP((1, 1, 1), timesteps=8, reset=reset).double()
    with torch.no_grad():
        net.layers[0].weight.fill_(0.4)
        net.layers[0].bias.zero_()
        net.layers[1].weight.fill_(2.0)
        net.layers[1].bias.fill_(0.1)
    x = torch.ones(1, 1, dtype=torch.float64)                  # the box's upper end: 1 after normalization
    assert net(x).item() == pytest.approx(2 * rate + 0.1)
    assert net.spike_rates(x)[0].item() == pytest.approx(rate)


def test_bad_settings_are_refused():
    with pytest.raises(InputError, match="unknown surrogate 'gauss'; choose one of: sg, wsg"):
        SpikingMLP((2, 4, 1), surrogate="gauss")
    with pytest.raises(InputError, match=r"inputs of shape \(n, 2\); got \(4, 3\)"):
        SpikingMLP((2, 4, 1))(torch.zeros(4, 3))
    with pytest.raises(InputError, match="unknown reset"):
        SpikingMLP((2, 4, 1), reset="soft")
    with pytest.raises(InputError, match="unknown training method 'adam'"):
        train_direct(SpikingMLP((2, 4, 1)), regression_loss, (torch.zeros(4, 2), torch.zeros(4, 1)), method="adam")
    with pytest.raises(InputError, match="local heads"):
        train_direct(SpikingMLP((2, 4, 1)), regression_loss, (torch.zeros(4, 2), torch.zeros(4, 1)), local_loss=True)
    with pytest.raises(InputError, match="tangents must be >= 1"):
        train_direct(SpikingMLP((2, 4, 1)), regression_loss, (torch.zeros(4, 2), torch.zeros(4, 1)), method="rfg-g",
                     tangents=0)
    with pytest.raises(InputError, match=r"momentum is Adam's beta1 and must be in \[0, 1\); got 1.0"):
        train_direct(SpikingMLP((2, 4, 1)), regression_loss, (torch.zeros(4, 2), torch.zeros(4, 1)), momentum=1.0)


def test_momentum_is_adams_first_moment_decay():
    """Three BP steps with ``momentum`` m are three steps of Adam with betas (m, 0.999) at the
    cosine schedule's rates; another m gives other weights."""
    torch.manual_seed(0)
    x, y = torch.rand(8, 2), torch.rand(8, 1)
    start = SpikingMLP((2, 4, 1), timesteps=4)

    def trained(momentum):
        net = copy.deepcopy(start)
        result = train_direct(net, regression_loss, (x, y), steps=3, lr=0.1, final_lr=0.01, momentum=momentum,
                              progress=False)
        assert result.momentum == momentum
        return parameters_to_vector(net.parameters()).detach()

    by_hand = copy.deepcopy(start)
    adam = torch.optim.Adam(by_hand.parameters(), betas=(0.5, 0.999))
    for k in range(3):
        adam.param_groups[0]["lr"] = 0.01 + 0.09 * 0.5 * (1 + math.cos(math.pi * k / 3))
        adam.zero_grad()
        regression_loss(by_hand, x, y, False).backward()
        adam.step()
    expected = parameters_to_vector(by_hand.parameters()).detach()
    assert torch.allclose(trained(0.5), expected, atol=1e-6)
    assert not torch.allclose(trained(0.9), expected, atol=1e-3)


@pytest.mark.slow
def test_forward_gradient_is_the_directional_derivative_along_its_tangent():
    torch.manual_seed(0)
    a, b = torch.randn(6, 5, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
    params = {"w": torch.randn(3, dtype=torch.float64), "v": torch.randn(2, dtype=torch.float64)}

    def loss(p):
        return 0.5 * ((a @ torch.cat([p["w"], p["v"]]) - b) ** 2).sum()

    theta = torch.cat([params["w"], params["v"]])
    grad = a.T @ (a @ theta - b)
    estimate, value, passes = forward_gradient(loss, params, generator=torch.Generator().manual_seed(3))
    gen = torch.Generator().manual_seed(3)                     # the same tangents again
    tangent = torch.cat([rademacher_like(params["w"], gen), rademacher_like(params["v"], gen)])
    assert passes == 1 and value == pytest.approx(float(loss(params)))
    assert torch.allclose(torch.cat([estimate["w"], estimate["v"]]), (grad @ tangent) * tangent)
    gen = torch.Generator().manual_seed(1)                     # unbiased: the mean of many estimates
    runs = [forward_gradient(loss, params, groups=[["w"], ["v"]], generator=gen) for _ in range(600)]
    assert runs[0][2] == 2
    mean = torch.stack([torch.cat([e["w"], e["v"]]) for e, _, _ in runs]).mean(0)
    assert torch.allclose(mean, grad, atol=0.15 * grad.abs().max())
    with pytest.raises(KeyError, match="not there"):
        forward_gradient(loss, params, groups=[["u"]])
    # central differences are exact on a quadratic: the same estimate with no AD, 2 evaluations a block
    fd, _, evaluations = perturbation_gradient(loss, params, step=0.5, groups=[["w"], ["v"]],
                                                      generator=torch.Generator().manual_seed(3))
    ad, _, _ = forward_gradient(loss, params, groups=[["w"], ["v"]], generator=torch.Generator().manual_seed(3))
    assert evaluations == 4 and all(torch.allclose(fd[k], ad[k]) for k in params)


def test_a_layer_wise_pass_leaves_the_other_blocks_without_tangents():
    params = {"w": torch.ones(3, dtype=torch.float64), "v": torch.ones(2, dtype=torch.float64)}
    dual = []

    def loss(p):
        dual.append(tuple(k for k in ("w", "v") if fwad.unpack_dual(p[k]).tangent is not None))
        return (p["w"] ** 2).sum() + (p["v"] ** 3).sum()

    estimate, _, passes = forward_gradient(loss, params, groups=[["w"], ["v"]], generator=torch.Generator().manual_seed(0))
    assert passes == 2 and dual == [("w",), ("v",)]         # each pass carries its own block's tangents only
    gen = torch.Generator().manual_seed(0)
    tw, tv = rademacher_like(params["w"], gen), rademacher_like(params["v"], gen)
    assert torch.allclose(estimate["w"], (2 * tw.sum()) * tw) and torch.allclose(estimate["v"], (3 * tv.sum()) * tv)


def test_several_tangents_average_their_estimates():
    """tangents = K: the mean of K draws of every block, in the generator's order (draw, then
    block), K passes a block; the RMS error against the true gradient falls as 1/sqrt(K)."""
    torch.manual_seed(0)
    a = torch.randn(40, 12, dtype=torch.float64)
    params = {"w": torch.randn(8, dtype=torch.float64), "v": torch.randn(4, dtype=torch.float64)}

    def loss(p):
        return 0.5 * ((a @ torch.cat([p["w"], p["v"]])) ** 2).sum()

    grad = a.T @ (a @ torch.cat([params["w"], params["v"]]))
    estimate, _, passes = forward_gradient(loss, params, groups=[["w"], ["v"]], tangents=3,
                                           generator=torch.Generator().manual_seed(5))
    gen = torch.Generator().manual_seed(5)
    singles = [forward_gradient(loss, params, groups=[["w"], ["v"]], generator=gen)[0] for _ in range(3)]
    assert passes == 6
    assert all(torch.allclose(estimate[k], sum(e[k] for e in singles) / 3) for k in params)

    def error(k):
        gen = torch.Generator().manual_seed(11)
        draws = [forward_gradient(loss, params, tangents=k, generator=gen)[0] for _ in range(200)]
        return float(torch.stack([(torch.cat([e["w"], e["v"]]) - grad).norm() ** 2 for e in draws]).mean().sqrt())
    assert 0.2 < error(16) / error(1) < 0.31                      # 1 / sqrt(16) = 0.25
    with pytest.raises(InputError, match="tangents must be >= 1"):
        forward_gradient(loss, params, tangents=0)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["bp", "rfg-g", "rfg-l"])
def test_training_lowers_the_mexican_hat_loss(method):
    torch.set_num_threads(1)
    data = od.mexican_hat_data(512, seed=0)
    x, y = torch.tensor(data["x"], dtype=torch.float32), torch.tensor(data["y"], dtype=torch.float32)
    torch.manual_seed(0)
    net = SpikingMLP((2, 16, 16, 1), timesteps=8, local_heads=True)
    first = float(regression_loss(net, x, y, False))
    result = train_direct(net, regression_loss, (x, y), method=method, steps=200, lr=1e-2, batch_size=128,
                          local_loss=True, progress=False)
    with torch.no_grad():
        last = float(regression_loss(net, x, y, False))
    assert last < {"bp": 0.1, "rfg-g": 0.85, "rfg-l": 0.85}[method] * first     # RFG: ~25% in 200 steps
    assert (result.jvp_passes, result.backward_passes) == {"bp": (0, 200), "rfg-g": (200, 0), "rfg-l": (600, 0)}[method]


@pytest.mark.slow
def test_data_sets_solve_their_equations():
    hat = od.mexican_hat_data(5, seed=0)
    assert hat["x"].shape == (5, 2) and np.abs(hat["x"]).max() <= 1
    assert od.mexican_hat(np.zeros((1, 2)))[0, 0] == pytest.approx(1 / (np.pi * 0.8**4))
    assert od.mexican_hat(np.array([[0.8 * 2**0.5, 0.0]]))[0, 0] == pytest.approx(0.0, abs=1e-15)  # r^2 = 2 s^2
    p = od.poisson_1d_data(n_train=3, n_test=2)
    assert p["g"].shape == p["u"].shape == (5, 101) and p["solver_check"] < 1e-5
    h = p["x"][1] - p["x"][0]
    residual = -(p["u"][:, 2:] - 2 * p["u"][:, 1:-1] + p["u"][:, :-2]) / h**2 - p["g"][:, 1:-1]
    assert np.abs(residual).max() < 0.02 * np.abs(p["g"]).max() and np.all(p["u"][:, [0, -1]] == 0)
    r = od.reaction_diffusion_data(n=2, grid=50, nodes=201)
    u, x, t = r["u"][0], r["x"], r["t"]
    ut = np.gradient(u, t, axis=1)
    uxx = (u[2:] - 2 * u[1:-1] + u[:-2]) / (x[1] - x[0]) ** 2
    rd = ut[1:-1] - (od.RD_D * uxx + od.RD_K * u[1:-1] ** 2 + r["f"][0, 1:-1, None])
    assert np.abs(rd[:, 2:-2]).max() < 0.02 * np.abs(r["f"][0]).max()


def test_snn_data_command(tmp_path, capsys):
    out = tmp_path / "hat.npz"
    assert main(["snn-data", "mexican_hat", "--out", str(out)]) == 0
    data = od.load_dataset(out)
    assert data["x"].shape == (10_000, 2) and data["name"] == "mexican_hat"
    assert main(["snn-data", "mexican_hat", "--out", str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err


@pytest.mark.parametrize("reset", ["subtract", "hard"])
def test_the_exported_network_runs_the_trained_dynamics(reset):
    torch.manual_seed(1)
    net = SpikingMLP((2, 16, 16, 1), timesteps=16, reset=reset).double()
    x = torch.tensor(od.mexican_hat_data(300, seed=2)["x"])
    snn = spiking_network(net)
    assert snn.neuron == {"subtract": "signed_if", "hard": "if_hard"}[reset]
    with torch.no_grad():
        assert np.allclose(emulate(snn, x.numpy())[0], net(x).numpy(), atol=1e-12)


@pytest.mark.parametrize("reset", ["subtract", "hard"])
def test_the_if_quantizer_keeps_hidden_weights_within_weight_max(reset):
    """The cap is honored in every layer but the readout (which calibration refits), and used."""
    torch.manual_seed(0)
    points = od.mexican_hat_data(256, seed=3)["x"]
    snn = spiking_network(SpikingMLP((2, 16, 16, 1), timesteps=16, reset=reset))
    for weight_max in (15, 63):
        qnet = quantize(snn, points, weight_max=weight_max)
        peaks = [int(np.abs(layer.weight).max()) for layer in qnet.layers[:-1]]
        assert max(peaks) == weight_max, peaks
    with pytest.raises(InputError, match="weight_max"):
        quantize(snn, points, weight_max=300)
    chosen, trials = best_weight_max(snn, points)
    assert set(trials) == set(snn.model.weight_max_candidates) and trials[chosen] == min(trials.values())


@pytest.mark.slow
def test_exports_run_on_lava_bit_for_bit(tmp_path):
    """A spiking MLP of each reset and a DeepONet: the Lava simulator equals the emulator; the
    DeepONet's fixed point stays near its float model; the host step is counted."""
    torch.manual_seed(0)
    points = od.mexican_hat_data(512, seed=3)["x"]
    for reset in ("subtract", "hard"):
        net = SpikingMLP((2, 16, 16, 1), timesteps=16, reset=reset)
        path, report = export_spiking_mlp(net, tmp_path / f"{reset}.net", points)
        # rate coding over 16 steps: a spike flipped by rounding moves a value by 1/16
        assert report["rel_l2_fixed_point_vs_float_snn"] < 0.25
        lava, emu = Runner(path, "lava-sim", progress=False), Runner(path, "emulator")
        assert np.array_equal(lava.predict(points[:3]), emu.predict(points[:3]))
        assert lava.network.model.loihi_native == (reset == "hard")        # hard reset: stock CUBA
    data = od.poisson_1d_data(n_train=64, n_test=0)
    g, y = data["g"], data["x"][:, None]
    bound = [float(np.abs(g).max())] * g.shape[1]
    model = SpikingDeepONet(SpikingMLP((101, 32, 32), timesteps=16, lower=[-b for b in bound], upper=bound),
                            SpikingMLP((1, 32, 32), timesteps=16, lower=[-1.0], upper=[1.0]))
    folder, card = export_operator(model, tmp_path / "deeponet", {"branch": g, "trunk": y})
    assert card["kind"] == "deeponet" and set(card["files"]) == {"branch", "trunk"}
    with torch.no_grad():
        floating = model(torch.tensor(g, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)).numpy()
    emu = OperatorRunner(folder, "emulator")
    fixed = emu.predict(g, y)
    assert fixed.shape == (64, 101) and emu.stats.host_macs == 64 * 101 * 32
    assert np.linalg.norm(fixed - floating) < 0.2 * np.linalg.norm(floating)
    lava = OperatorRunner(folder, "lava-sim", progress=False)
    assert np.array_equal(lava.predict(g[:2], y[:2]), emu.predict(g[:2], y[:2]))
    assert lava.stats.inferences == 4


def test_seponet_shapes_and_host_product(tmp_path):
    torch.manual_seed(0)
    model = SpikingSepONet(SpikingMLP((20, 8, 4), timesteps=8),
                           [SpikingMLP((1, 8, 4), timesteps=8, lower=[0.0], upper=[1.0]) for _ in range(2)])
    f, xs, ts = torch.randn(3, 20), torch.linspace(0, 1, 5), torch.linspace(0, 1, 6)
    with torch.no_grad():
        out = model(f, [xs, ts])
        b, tx, tt = model.branch(f), model.trunks[0](xs[:, None]), model.trunks[1](ts[:, None])
    assert out.shape == (3, 5, 6)
    assert torch.allclose(out[1, 2, 3], (b[1] * tx[2] * tt[3]).sum())
    folder, _ = export_operator(model, tmp_path / "sep", {"branch": f.numpy() / 4, "trunk_0": xs[:, None].numpy(),
                                                          "trunk_1": ts[:, None].numpy()})
    runner = OperatorRunner(folder)
    assert runner.predict(f.numpy() / 4, [xs.numpy(), ts.numpy()]).shape == (3, 5, 6)
    (folder / "trunk_1.net").write_bytes(b"x")
    with pytest.raises(InputError, match="not the file operator.json was written with"):
        OperatorRunner(folder)


def test_operator_training_batches_functions_and_shares_the_points():
    torch.manual_seed(0)
    model = SpikingDeepONet(SpikingMLP((10, 8, 4), timesteps=4, local_heads=True),
                            SpikingMLP((1, 8, 4), timesteps=4, local_heads=True))
    g, u, y = torch.randn(6, 10), torch.randn(6, 7), torch.linspace(-1, 1, 7)[:, None]
    before = model.branch.layers[0].weight.clone()
    result = train_direct(model, operator_loss, (g, u), shared=(y,), method="rfg-l", steps=3, batch_size=4,
                          local_loss=True, progress=False)
    assert result.jvp_passes == 3 * 4 and len(model.layer_groups()) == 4      # branch and trunk, 2 layers each
    assert not torch.equal(before, model.branch.layers[0].weight)
    with pytest.raises(InputError, match="one row a sample"):
        train_direct(model, operator_loss, (g, u[:5]), shared=(y,), steps=1, progress=False)
