"""NIR (nir 1.0.8): the if_hard spiking network as a NIR graph, read back and simulated by NIR's
own equations, gives the emulator's answer; the other neuron models are refused with the reason."""
import numpy as np
import pytest
import torch
from torch import nn

nir = pytest.importorskip("nir")

from loihi_pinn.cli import main  # noqa: E402
from loihi_pinn.conversion import calibrate, convert, emulate  # noqa: E402
from loihi_pinn.models import PINN  # noqa: E402

LOWER, UPPER = (0.0, -1.0), (2.0, 3.0)


def simulate(graph, x: np.ndarray) -> np.ndarray:
    """NIR's equations with dt = 1, the input held every step, for the graph's ``timesteps``:
    Affine y = W x + b; IF v += r I, spike if v > v_threshold, then v = v_reset; I v += r I. The
    initial potentials come from each node's metadata (NIR has no initial state)."""
    chain, node, after = [], "input", dict(graph.edges)
    while node in after:
        node = after[node]
        chain.append(node)
    state = {n: np.broadcast_to(graph.nodes[n].metadata.get("v0", 0.0), (len(x), len(graph.nodes[n].r))).copy()
             for n in chain if isinstance(graph.nodes[n], (nir.IF, nir.I))}
    for _ in range(int(graph.metadata["timesteps"])):
        value = x
        for n in chain:
            nd = graph.nodes[n]
            if isinstance(nd, nir.Affine):
                value = value @ nd.weight.T + nd.bias
            elif isinstance(nd, nir.IF):
                v = state[n] + nd.r * value
                value = (v > nd.v_threshold).astype(np.float64)
                state[n] = np.where(value > 0, nd.v_reset, v)
            elif isinstance(nd, nir.I):
                state[n] = state[n] + nd.r * value
                value = state[n]
    return value


@pytest.fixture(scope="module")
def pinn():
    torch.manual_seed(0)
    return PINN(nn.Sequential(nn.Linear(2, 12), nn.Tanh(), nn.Linear(12, 12), nn.Tanh(), nn.Linear(12, 2)),
                LOWER, UPPER).eval()


@pytest.mark.parametrize("calibration", ["none", "light"])
def test_if_hard_network_round_trips_through_nir_and_computes_the_same(pinn, tmp_path, calibration, capsys):
    points = np.random.default_rng(0).uniform(LOWER, UPPER, (256, 2))
    snn = convert(pinn, "if_hard", 16, points, metadata={"problem": "toy"})
    if calibration != "none":
        calibrate(snn, pinn, points, calibration, iterations=10, progress=False)
    snn.save(tmp_path / "n.snn")
    assert main(["export", str(tmp_path / "n.snn"), "--out", str(tmp_path / "n.nir")]) == 0
    assert "NIR graph" in capsys.readouterr().out
    graph = nir.read(tmp_path / "n.nir")
    assert [type(graph.nodes[n]).__name__ for n in ("affine_0", "if_0", "if_1", "readout", "scale")] == \
        ["Affine", "IF", "IF", "I", "Affine"]
    assert np.array_equal(graph.nodes["if_0"].v_threshold, np.full(24, snn.layers[0].threshold))
    x = np.random.default_rng(1).uniform(LOWER, UPPER, (200, 2))          # physical coordinates in
    expected = emulate(snn, x)[0]
    assert np.abs(expected).max() > 0.05                                    # the network computes something
    assert np.allclose(simulate(graph, x), expected, rtol=1e-5, atol=1e-5)
    if calibration != "none":
        assert np.abs(graph.nodes["if_0"].metadata["v0"]).max() > 0        # calibrated start potentials travel


@pytest.mark.parametrize("neuron, reason", [("sigma_delta", "no sigma-delta (graded"),
                                            ("signed_if", "resets by subtraction")])
def test_models_nir_cannot_express_are_refused_with_the_reason(pinn, tmp_path, neuron, reason, capsys):
    snn = convert(pinn, neuron, 8, np.random.default_rng(0).uniform(LOWER, UPPER, (64, 2)))
    snn.save(tmp_path / "n.snn")
    assert main(["export", str(tmp_path / "n.snn"), "--out", str(tmp_path / "n.nir")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and reason in err and err.count("\n") == 1
    assert not (tmp_path / "n.nir").exists()
