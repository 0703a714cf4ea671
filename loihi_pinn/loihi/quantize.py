"""Float SNN -> Loihi 2 fixed point (each neuron model quantizes its own layers), and
calibration on the bit-exact fixed-point emulator."""
from __future__ import annotations

import torch

from loihi_pinn.conversion.emulator import emulate
from loihi_pinn.conversion.network import SpikingNetwork
from loihi_pinn.errors import InputError
from loihi_pinn.evaluation import relative_l2
from loihi_pinn.problems.base import as_points

from .fixed_point import STATE_LIMIT, WEIGHT_MAX, StateOverflow
from .network import QuantizedNetwork
from .rounding import file_weights, round_weights


def quantize(snn: SpikingNetwork, points, *, headroom: float = 2.0, weight_max: int = 15) -> QuantizedNetwork:
    """Quantize ``snn`` with its neuron model, ``points`` ``(n, d_in)`` (physical; the calibration
    points) setting the scales: ``headroom`` times their peak states must fit 24 bits;
    ``weight_max`` (<= 254) is the largest hidden-layer file weight aimed at where the model
    trades weight bits against activation bits (sigma-delta). Refuses networks whose dynamic
    range does not fit and checks the result runs without overflow on the points."""
    if headroom < 1:
        raise InputError(f"headroom must be >= 1 (the state range kept free above the calibration data), got {headroom}")
    x = snn.normalize(torch.as_tensor(as_points(points, snn.d_in, "calibration points"), dtype=torch.float64))
    qnet = snn.model.quantize(snn, x, headroom=headroom, weight_max=weight_max)
    qnet.run_integers(qnet.encode(points))                       # raises StateOverflow on the calibration data
    return qnet


def best_weight_max(snn: SpikingNetwork, points, *, headroom: float = 2.0, calibrate: bool = True) -> tuple[int, dict]:
    """The neuron model's ``weight_max_candidates`` whose fixed point (calibrated on ``points``,
    where ``calibrate``) is closest to the float SNN on ``points`` ``(n, d_in)``; returns it and
    ``{weight_max: rel L2 against the float SNN}`` for every candidate that fits 24 bits."""
    candidates = snn.model.weight_max_candidates
    if len(candidates) == 1:
        return candidates[0], {}
    float_out, trials = emulate(snn, points)[0], {}
    for weight_max in candidates:
        try:
            qnet = quantize(snn, points, headroom=headroom, weight_max=weight_max)
        except InputError:                     # StateOverflow too
            continue
        if calibrate:
            calibrate_fixed_point(qnet, snn, points)
        trials[weight_max] = relative_l2(qnet.run(points)[0], float_out)
    if not trials:                             # none fits: quantize at the first says why
        quantize(snn, points, headroom=headroom, weight_max=candidates[0])
    return min(trials, key=trials.get), trials


def calibrate_fixed_point(qnet: QuantizedNetwork, snn: SpikingNetwork, points) -> QuantizedNetwork:
    """Calibration on the fixed-point emulator (in place), against the float SNN on ``points``:
    first the model's own correction of its hidden layers (``NeuronModel.correct_biases``), then
    the readout, which turns small hidden errors into large output errors by cancellation, is
    refitted by least squares on the messages it really receives, re-rounded within its 8-bit
    weights and 24-bit state, and the off-chip output offset is reset."""
    points = as_points(points, snn.d_in, "calibration points")
    messages = qnet.encode(points)
    qnet.model.correct_biases(qnet, snn, points, messages)
    _, stats = qnet.run_integers(messages, keep_states=True)
    received = torch.as_tensor(stats.sent[-1], dtype=torch.float64) * qnet.model.readout_input_gain  # (n, neurons)
    wanted = torch.as_tensor(emulate(snn, points)[0])                        # (n, d_out), the float SNN
    design = torch.cat([received, torch.ones(len(received), 1, dtype=torch.float64)], 1)
    ridge = 1e-6 * torch.diag(design.T @ design).mean() * torch.eye(design.shape[1], dtype=torch.float64)
    solution = torch.linalg.solve(design.T @ design + ridge, design.T @ (wanted * qnet.output_scale))
    weight = solution[:-1].T                                                    # (d_out, neurons), file units
    headroom = qnet.metadata["quantization"]["headroom"]
    peak = float((received @ weight.T).abs().max())
    factor = min(WEIGHT_MAX / float(weight.abs().max()), (STATE_LIMIT - 1) / (headroom * max(peak, 1e-12)))
    old_weight = qnet.layers[-1].weight
    for _ in range(8):
        qnet.layers[-1].weight = file_weights(round_weights(weight * factor, received).numpy())
        try:
            raw, _ = qnet.run_integers(messages)
            break
        except StateOverflow:
            factor /= 2
    else:                                     # keep the quantized readout if no refit fits
        qnet.layers[-1].weight, factor = old_weight, 1.0
        raw, _ = qnet.run_integers(messages)
    qnet.output_scale *= factor
    qnet.output_offset = (wanted.numpy() - raw / qnet.output_scale).mean(0).tolist()
    qnet.metadata["quantization"]["calibrated"] = True
    return qnet
