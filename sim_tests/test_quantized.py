"""QCFS / SlipReLU (seed 004) in the signed form, and their conversion to the signed IF neuron."""
import numpy as np
import pytest
import torch

from loihi_pinn.conversion import convert, emulate
from loihi_pinn.neurons.integrate_fire import signed_if_step
from loihi_pinn.errors import InputError
from loihi_pinn.models import PINN, SlipReLU, build_mlp, qcfs


def signed_qcfs(z, theta, levels, shift):
    x = levels * z / theta + shift
    return theta * np.clip(np.trunc(x) / levels, -1, 1)


def test_slip_with_slope_zero_is_qcfs():
    # away from the saturation corner the step is the clip-trunc-shift formula; c = 0 is QCFS
    theta = 1.5
    z = (torch.rand(5000, dtype=torch.float64) * 2 - 1) * 0.7 * theta      # random: no exact ties
    act = SlipReLU(levels=4, slope=0.0, shift=0.5, theta=theta).double()
    assert np.allclose(act(z).detach().numpy(), signed_qcfs(z.numpy(), theta, 4, 0.5), atol=1e-12)
    assert torch.equal(qcfs(4, 0.5).double()(z), SlipReLU(4, 0.0, 0.5, theta=1.0).double()(z))


def test_slip_with_slope_one_is_threshold_relu():
    z = torch.linspace(-3, 3, 2001, dtype=torch.float64)
    act = SlipReLU(levels=4, slope=1.0, shift1=0.0, theta=1.5).double()
    assert torch.allclose(act(z), 1.5 * torch.clamp(z / 1.5, -1, 1))


def test_slip_gradient_is_straight_through_inside_the_clip():
    z = torch.tensor([-2.0, -0.3, 0.1, 0.7, 2.0], requires_grad=True)
    act = SlipReLU(levels=2, slope=0.25, theta=1.0)
    act(z).sum().backward()
    assert z.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]        # c * 1 + (1 - c) * 1 inside, 0 outside
    assert act.theta.grad is not None


@pytest.mark.parametrize("shift", [0.0, 0.25, 0.5])
def test_step_is_the_signed_if_neuron_over_N_steps(shift):
    theta, levels = 0.75, 4                                   # exact in float32, like the parameter
    z = (torch.rand(5000, dtype=torch.float64) * 2 - 1) * 2 * theta
    v = torch.full_like(z, shift * theta)
    total = torch.zeros_like(z)
    for _ in range(levels):                                   # T = N steps of a constant input
        y, v = signed_if_step(z, v, theta)
        total += y
    act = SlipReLU(levels, 0.0, shift, theta=theta).double()
    assert torch.allclose(act(z), total / levels, atol=1e-12)


def test_qcfs_network_converts_exactly_in_its_first_layer_and_needs_signed_if():
    torch.manual_seed(0)
    model = PINN(build_mlp([2, 12, 1], "slip", params={"levels": 4, "slope": 0.0}), [-1.0, -1.0], [1.0, 1.0])
    points = np.random.default_rng(0).uniform(-1, 1, (400, 2))
    net = convert(model, "signed_if", 4, points)
    with torch.no_grad():
        expected = model(torch.tensor(points, dtype=torch.float32)).double().numpy()
    assert np.allclose(emulate(net, points)[0], expected, atol=1e-5)      # one hidden layer: exact at T = N
    assert net.layers[0].threshold == pytest.approx(1.0) and float(net.layers[0].v0[0, 0]) == pytest.approx(0.5)
    with pytest.raises(InputError, match="signed_if"):
        convert(model, "sigma_delta", 4, points)


def test_distillation_fits_a_qcfs_copy_of_a_pinn(tmp_path):
    from loihi_pinn.problems import get_problem
    from loihi_pinn.training import DistillConfig, fit_quantized, load_checkpoint

    problem = get_problem("sin")
    teacher = load_checkpoint("sin").model
    params = {"levels": 8, "slope": 0.0}
    before = fit_quantized(problem, teacher, params, DistillConfig(steps=1, batch=256), tmp_path / "a",
                           progress=False)[1]["rel_l2"]
    folder, report = fit_quantized(problem, teacher, params, DistillConfig(steps=300, batch=512, lr=3e-3),
                                   tmp_path / "b", progress=False)
    assert report["rel_l2"] < 0.7 * before
    model = load_checkpoint(folder).model                    # the checkpoint rebuilds the SlipReLU net
    assert model.architecture["activation_params"]["levels"] == 8


def test_cli_refuses_quantized_training_without_a_teacher(capsys):
    from loihi_pinn.cli import main
    assert main(["train", "sin", "--activation", "qcfs", "--steps", "2"]) == 2
    assert "--init-from" in capsys.readouterr().err


@pytest.mark.parametrize("timesteps", [2, 3, 7, 16])
def test_expected_conversion_error_vanishes_with_half_shift(timesteps):
    # seed 004, Thm. 2 (after Bu et al.): with v(0) = theta / 2 the signed IF's rate at any T has
    # the same mean as the QCFS step at N on uniform inputs; without the shift they differ by
    # theta / 2 (1 / N - 1 / T)
    theta, levels = 1.0, 4
    z = torch.rand(200_000, dtype=torch.float64) * theta
    errors = {}
    for shift in (0.0, 0.5):
        act = SlipReLU(levels=levels, slope=0.0, shift=shift, theta=theta).double()
        v, count = torch.full_like(z, shift * theta), torch.zeros_like(z)
        for _ in range(timesteps):
            y, v = signed_if_step(z, v, theta)
            count += y
        errors[shift] = float((count / timesteps - act(z).detach()).mean())
    assert abs(errors[0.5]) < 2e-3
    assert errors[0.0] == pytest.approx(theta / 2 * (1 / levels - 1 / timesteps), abs=3e-3)
