"""What a scientist needs to trust a converted network: errors against the reference and the
ANN, activity (spike rate per layer, spikes and synaptic operations per point against the ANN's
multiply-accumulates), and the optional low-pass smoothing of seed 000 (Figure 9)."""
from __future__ import annotations

import numpy as np
import scipy.fft
import torch
from torch import nn

from loihi_pinn.errors import InputError
from loihi_pinn.evaluation import output_ranges, relative_l2
from loihi_pinn.problems import Problem

from .convert import ann_values
from .emulator import emulate, run_hidden_layer
from .network import SpikingNetwork


def lowpass_smooth(values: np.ndarray, grid_shape: tuple[int, ...], keep: float) -> np.ndarray:
    """Remove high frequencies from outputs on a grid: ``values`` ``(prod(grid_shape), d_out)``;
    keeps the lowest ``keep`` fraction of cosine modes along each axis. The DCT is the FFT of
    the even extension, so non-periodic edges do not ring."""
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep}")
    out = np.empty_like(values)
    for k in range(values.shape[1]):
        coeffs = scipy.fft.dctn(values[:, k].reshape(grid_shape), norm="ortho")
        for axis, n in enumerate(grid_shape):
            cut = max(1, int(round(keep * n)))
            index = [slice(None)] * len(grid_shape)
            index[axis] = slice(cut, None)
            coeffs[tuple(index)] = 0
        out[:, k] = scipy.fft.idctn(coeffs, norm="ortho").ravel()
    return out


def conversion_report(net: SpikingNetwork, problem: Problem, ann_predict=None, *,
                      smooth_keep: float | None = None, timesteps: int | None = None) -> dict:
    """Emulate ``net`` on the problem's evaluation grid and report errors and activity.

    With a reference: ``rel_l2`` against it; without one: the range of each output.
    ``ann_predict(points) -> (n, d_out)`` adds the error against the source ANN (and the ANN's
    own against the reference); ``smooth_keep`` adds the error after ``lowpass_smooth`` (needs a
    reference). Returns a flat dict (JSON-ready, but for ``outputs``).
    """
    if smooth_keep is not None and not problem.has_reference:
        raise InputError(f"--smooth reports the error against the reference solution, and problem "
                         f"{problem.name!r} has none ({problem.reference_method or 'it defines none'})")
    points = problem.evaluation_points()
    snn, stats = emulate(net, points, timesteps=timesteps)
    report = {"neuron": net.neuron, "calibration": net.metadata.get("calibration"), "points": len(points)}
    if problem.has_reference:
        reference = problem.reference(points)
        report["rel_l2"] = relative_l2(snn, reference)
    else:
        report["output_ranges"] = output_ranges(snn, problem.output_names)
    report.update(stats.per_point())
    if ann_predict is not None:
        ann = ann_predict(points)
        if problem.has_reference:
            report["ann_rel_l2"] = relative_l2(ann, reference)
        report["rel_l2_vs_ann"] = relative_l2(snn, ann)
    if smooth_keep is not None:
        report["smooth_keep"] = smooth_keep
        report["rel_l2_smoothed"] = relative_l2(lowpass_smooth(snn, problem.grid_shape, smooth_keep), reference)
    report["outputs"] = snn
    return report


@torch.no_grad()
def theorem1_terms(net: SpikingNetwork, model, points: np.ndarray) -> dict:
    """The two sides of seed 000's Theorem 1 with H = I, on ``points`` ``(n, d_in)``.

    Local conversion error of layer l (seed 000, eq. 2): e_c = f(W_l s_{l-1} + b_l) - s_l, the
    activation and the SNN layer (rates) applied to the same input, with the SNN's own weights;
    the readout is exact (e_c = 0). Returns mean squared norms per point: ``local`` per hidden
    layer, ``rhs`` = sum_l 2^(n-l+1) |e_c^(l)|^2 and ``output`` = |x^(n) - s^(n)|^2.
    """
    x = model.normalize(torch.as_tensor(points, dtype=torch.float32))
    activation = next(m for m in model.net if not isinstance(m, nn.Linear))
    zs, _ = ann_values(model.net, x)
    values = x.unsqueeze(0).expand(net.model.emulated_steps(net.timesteps), *x.shape)
    n = len(net.layers)
    local = []
    for layer in net.layers[:-1]:
        ideal = activation(values.mean(0) @ layer.weight.T + layer.bias)
        values, _ = run_hidden_layer(layer, net.model, values)
        local.append(float((ideal - values.mean(0)).pow(2).sum(1).mean()))
    out = values.mean(0) @ net.layers[-1].weight.T + net.layers[-1].bias
    rhs = sum(2 ** (n - l + 1) * e for l, e in enumerate(local, start=1))
    return {"local": local, "rhs": rhs, "output": float((zs[-1] - out).pow(2).sum(1).mean())}
