"""Layer-wise calibration of a converted network (Li et al. 2021/2022, as extended in seed 000).

Layer by layer, on calibration points, with the *spiking* output of the (already calibrated)
layers before as input, fit this layer so that its decoded output matches the ANN's activation:

- ``light``: biases and initial membrane potentials v0 (bias correction + potential
  initialization);
- ``advanced``: weights, biases and v0.

Hidden layers are fitted by Adam through the T-step neuron recurrence with straight-through
spike gradients (the same step functions the emulator runs); the linear readout is solved in
closed form (least squares; light: the mean offset only). The same code serves every neuron model.

The layer objective is the local error e_l = s_l - u_l weighted as in seed 000's Theorem 1,
e^T H e. ``objective="layer"`` takes H = I (Li et al., seed 000). ``objective="output"``
(default) takes the Gauss-Newton part of the true H, J^T J with J = d(ANN output)/d u_l at each
calibration point: each layer then minimizes the output error it causes, which matters for
regression networks whose readout amplifies per-unit errors; a small identity term
(``IDENTITY_WEIGHT``) keeps units the output is blind to in range.
"""
from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from loihi_pinn.errors import InputError
from loihi_pinn.models import PINN

from .convert import ann_values
from .emulator import readout, run_hidden_layer
from .network import SpikingLayer, SpikingNetwork

MODES = ("none", "light", "advanced")
OBJECTIVES = ("output", "layer")
IDENTITY_WEIGHT = 0.1


def output_jacobians(net: torch.nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """d output / d u_l of the ANN for each hidden layer l: ``(batch, d_out, n_l)`` each,
    scaled so that their mean squared entry is 1."""
    activations = []
    h = x
    for m in net:
        h = m(h)
        if not isinstance(m, torch.nn.Linear):
            activations.append(h)
    jacobians = [torch.zeros(len(x), h.shape[1], a.shape[1]) for a in activations]
    for k in range(h.shape[1]):
        grads = torch.autograd.grad(h[:, k].sum(), activations, retain_graph=True)
        for jac, g in zip(jacobians, grads):
            jac[:, k] = g
    return [j / j.pow(2).mean().sqrt().clamp_min(1e-12) for j in jacobians]


def _fit_hidden_layer(net, layer, inputs, target, jacobian, mode, iterations, batch, gen, bar):
    """Adam on (bias, v0[, weight]) of one hidden layer; inputs ``(T, n, n_in)``, target
    ``(n, units)``, ``jacobian`` ``(n, d_out, units)`` or None for H = I."""
    params = {"bias": layer.bias.clone().requires_grad_(True)}
    if mode == "advanced":
        params["weight"] = layer.weight.clone().requires_grad_(True)
    fit_v0 = net.model.calibrates_v0
    if fit_v0:
        params["v0"] = layer.v0.clone().requires_grad_(True)
    scale = float(target.abs().mean()) + 1e-6
    groups = [{"params": [params["bias"]], "lr": 2e-3 * scale}]
    if "weight" in params:
        groups.append({"params": [params["weight"]], "lr": 1e-3 * float(layer.weight.abs().mean())})
    if fit_v0:
        groups.append({"params": [params["v0"]], "lr": 2e-2 * layer.threshold})
    optimizer = torch.optim.Adam(groups)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, iterations)
    lo, hi = net.model.v0_bounds(layer)
    trial = SpikingLayer(layer.weight, layer.bias, layer.expansion, layer.threshold, layer.v0, layer.signed)
    n = inputs.shape[1]
    for _ in range(iterations):
        idx = torch.randint(0, n, (min(batch, n),), generator=gen)
        trial.weight = params.get("weight", layer.weight)
        trial.bias = params["bias"]
        out, _ = run_hidden_layer(trial, net.model, inputs[:, idx], surrogate=True,
                                  v0=params.get("v0", layer.v0))
        error = out.mean(0) - target[idx]
        loss = error.pow(2).mean()
        if jacobian is not None:
            loss = IDENTITY_WEIGHT * loss + (jacobian[idx] @ error[..., None]).pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if fit_v0:
            with torch.no_grad():
                params["v0"].clamp_(lo, hi)
        bar.update()
    layer.bias = params["bias"].detach()
    if "weight" in params:
        layer.weight = params["weight"].detach()
    if fit_v0:
        layer.v0 = params["v0"].detach()


def _fit_readout(layer: SpikingLayer, inputs: torch.Tensor, target: torch.Tensor, mode: str) -> None:
    """Least squares for the readout: mean input ``(n, n_in)`` -> target ``(n, d_out)``."""
    mean_in = inputs.mean(0).double()
    if mode == "light":
        offset = (target.double() - (mean_in @ layer.weight.double().T + layer.bias)).mean(0)
        layer.bias = layer.bias + offset.to(layer.bias.dtype)
        return
    design = torch.cat([mean_in, torch.ones(len(mean_in), 1, dtype=torch.float64)], 1)
    ridge = 1e-8 * torch.eye(design.shape[1], dtype=torch.float64) * float((design**2).mean())
    solution = torch.linalg.solve(design.T @ design + ridge, design.T @ target.double())
    layer.weight = solution[:-1].T.to(layer.weight.dtype).contiguous()
    layer.bias = solution[-1].to(layer.bias.dtype)


def layer_mismatch(net: SpikingNetwork, model: PINN, points: np.ndarray) -> list[float]:
    """Per layer (hidden then readout): RMS of (SNN decoded output - ANN activation) on ``points``,
    each layer driven by the SNN's own spikes from the layer before."""
    x = model.normalize(torch.as_tensor(points, dtype=torch.float32))
    with torch.no_grad():
        zs, us = ann_values(model.net, x)
        targets = us + [zs[-1]]
        values = x.unsqueeze(0).expand(net.model.emulated_steps(net.timesteps), *x.shape)
        errors = []
        for layer, target in zip(net.layers[:-1], targets):
            values, _ = run_hidden_layer(layer, net.model, values)
            errors.append(float((values.mean(0) - target).pow(2).mean().sqrt()))
        errors.append(float((readout(net.layers[-1], values) - targets[-1]).pow(2).mean().sqrt()))
    return errors


STEP_BATCH = 16384
"""Points x time steps per calibration iteration: the batch is ``STEP_BATCH // T`` points."""


def calibrate(net: SpikingNetwork, model: PINN, points: np.ndarray, mode: str = "advanced", *,
              objective: str = "output", iterations: int = 300, batch: int | None = None, seed: int = 0,
              progress: bool = True) -> SpikingNetwork:
    """Calibrate ``net`` in place against the ANN ``model`` on ``points`` ``(n, d_in)`` (physical).
    ``batch`` points per iteration (default ``STEP_BATCH // steps``, at least 64)."""
    if mode not in MODES:
        raise InputError(f"unknown calibration {mode!r}; choose one of: {', '.join(MODES)}")
    if objective not in OBJECTIVES:
        raise InputError(f"unknown calibration objective {objective!r}; choose one of: {', '.join(OBJECTIVES)}")
    net.model.check_calibration(mode)
    net.metadata["calibration"] = mode
    if mode == "none":
        return net
    net.metadata["calibration_objective"] = objective
    gen = torch.Generator().manual_seed(seed)
    x = model.normalize(torch.as_tensor(points, dtype=torch.float32))
    with torch.no_grad():
        zs, us = ann_values(model.net, x)
    jacobians = output_jacobians(model.net, x) if objective == "output" else [None] * len(us)
    hidden = net.layers[:-1]
    if net.model.calibrates_v0:   # v0 starts mid-range: theta/2 (rounding, not floor), 0 if signed
        for layer in hidden:
            layer.v0 = torch.full_like(layer.v0, sum(net.model.v0_bounds(layer)) / 2)
    steps = net.model.emulated_steps(net.timesteps)
    batch = batch or max(64, STEP_BATCH // steps)
    values = x.unsqueeze(0).expand(steps, *x.shape)
    with tqdm(total=iterations * len(hidden), desc=f"calibrate ({mode})", disable=not progress,
              unit="it", mininterval=1.0) as bar:
        for layer, target, jacobian in zip(hidden, us, jacobians):
            _fit_hidden_layer(net, layer, values, target, jacobian, mode, iterations, batch, gen, bar)
            with torch.no_grad():
                values, _ = run_hidden_layer(layer, net.model, values)
    _fit_readout(net.layers[-1], values, zs[-1], mode)
    return net
