"""Float sigma-delta SNN -> Loihi 2 fixed point (netx SDNN integers), with bias calibration.

Each layer l gets a state scale A_l (real 1.0 = A_l in sigma and activation integers); its
graded spikes then carry 1.0 = A_l / 64 (the ``>> 6`` of Lava's SigmaDelta), so the file
weights are ``w * A_l / M_{l-1}`` rounded, with M the sender's message scale, and biases and
delta thresholds ``round(. * A_l / 2^6)`` (see ``fixed_point.PARAM_SHIFT``). Steps:

1. fold the PWL expansions into a neuron-level ReLU network and equalize it across layers;
2. choose the A_l (24-bit state, 8-bit weights; ``_state_scales``) and the input scale;
3. round the weights with error feedback on the calibration data (``round_weights``);
4. check the result runs without overflow on the calibration points.
"""
from __future__ import annotations

import numpy as np
import torch

from loihi_pinn.conversion import SpikingNetwork, emulate
from loihi_pinn.errors import InputError
from loihi_pinn.problems.base import as_points

from .bitserial import quantize_bitserial
from .cuba import ACT_SHIFT
from .fixed_point import (PARAM_SHIFT, STATE_EXP, STATE_LIMIT, WEIGHT_MAX, WEIGHT_MIN, FixedPointLayer,
                          StateOverflow, lava_weights, run_fixed_point)
from .network import QuantizedNetwork
from .quantize_cuba import quantize_cuba

MIN_WEIGHT_BITS = 4          # refuse when the largest weight has fewer significant bits than this


def equalize(folded: list[tuple[torch.Tensor, torch.Tensor]], sweeps: int = 4) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Cross-layer equalization (Nagel et al., ICCV 2019): ReLU neurons are positively
    homogeneous, so neuron i's incoming row and bias can be scaled by s_i and its outgoing
    column by 1/s_i without changing the function. s_i = sqrt(r_out / r_in) gives both the
    same range sqrt(r_in * r_out), so 8-bit weights waste fewer bits on unequal neurons."""
    folded = [(w.clone(), b.clone()) for w, b in folded]
    for _ in range(sweeps):
        for l in range(len(folded) - 1):
            (w, b), (w_next, _) = folded[l], folded[l + 1]
            r_in, r_out = w.abs().amax(1), w_next.abs().amax(0)
            live = (r_in > 0) & (r_out > 0)
            s = torch.where(live, torch.sqrt(r_out / r_in.clamp_min(1e-30)), torch.ones_like(r_in))
            w.mul_(s[:, None])
            b.mul_(s)
            w_next.div_(s[None, :])
    return folded


def _float_pass(folded, x: torch.Tensor) -> list[dict]:
    """Per layer: ``sigma`` (input current without bias) and ``pre`` (with it), float64."""
    out, h = [], x
    for w, b in folded:
        sigma = h @ w.T
        out.append({"sigma": sigma, "pre": sigma + b})
        h = torch.relu(sigma + b)
    return out


def _state_scales(peaks: list[float], wmax: list[float], headroom: float, weight_max: int) -> list[float]:
    """State scales A_l. Every layer may use its whole 24-bit state, A_l <= 2^23 / (headroom *
    peak_l). Each Dense re-scales by w * 64 * A_l / A_{l-1}, so small weights between layers
    at equal scales would get few bits: going back from the last hidden layer (at its limit),
    layer l-1 is scaled down where needed so that layer l's largest weight is ``weight_max``.
    The readout then takes the largest scale its state and the 8-bit weight range allow."""
    limits = [(STATE_LIMIT - 1) / (headroom * max(p, 1e-12)) for p in peaks]
    scales = [limits[-2]]
    for l in range(len(peaks) - 2, 0, -1):
        scales.insert(0, min(limits[l - 1], 2 ** STATE_EXP * wmax[l] * scales[0] / weight_max))
    scales.append(min(limits[-1], WEIGHT_MAX * scales[-1] / (2 ** STATE_EXP * wmax[-1])))
    return scales


def round_weights(w: torch.Tensor, inputs: torch.Tensor, damping: float = 0.01) -> torch.Tensor:
    """Round ``w`` ``(n_out, n_in)`` (file units) to integers in Loihi's range column by
    column, pushing each column's rounding error onto the columns not yet rounded so that
    ``inputs @ w.T`` changes least on the layer's inputs ``(n, n_in)``: the OPTQ/GPTQ rule
    (Frantar et al., ICLR 2023) with H = inputs^T inputs / n."""
    w = w.clone()
    h = inputs.T @ inputs / len(inputs)
    dead = torch.diag(h) == 0
    h[dead, dead] = 1.0
    w[:, dead] = 0.0
    h += damping * torch.diag(h).mean() * torch.eye(len(h), dtype=h.dtype)
    u = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)
    q = torch.zeros_like(w)
    for j in range(w.shape[1]):
        q[:, j] = torch.clamp(torch.round(w[:, j]), WEIGHT_MIN, WEIGHT_MAX)
        err = (w[:, j] - q[:, j]) / u[j, j]
        w[:, j + 1:] -= err[:, None] * u[j, j + 1:][None, :]
    return q


def _file_weights(w: np.ndarray) -> np.ndarray:
    """Integer file weights that Lava's Dense reproduces exactly (checked with Lava's own
    weight optimization and truncation, whose result is kept if it differs)."""
    wf = np.clip(np.rint(w), WEIGHT_MIN, WEIGHT_MAX).astype(np.int64)
    eff, exp = lava_weights(wf)
    return eff >> -exp if exp <= 0 else eff << exp


def quantize(snn: SpikingNetwork, points, *, headroom: float = 2.0, weight_max: int = 15) -> QuantizedNetwork:
    """Quantize a sigma-delta (IF: ``quantize_cuba``, bit-serial: ``quantize_bitserial``) SNN, with ``points`` ``(n, d_in)`` (physical; the calibration
    points) setting the scales; ``weight_max`` (<= 254) is the largest hidden-layer file weight
    aimed at, trading weight bits against activation bits. Refuses networks whose dynamic
    range does not fit 24-bit state and checks the result runs without overflow."""
    if headroom < 1:
        raise InputError(f"headroom must be >= 1 (the state range kept free above the calibration data), got {headroom}")
    x = snn.normalize(torch.as_tensor(as_points(points, snn.d_in, "calibration points"), dtype=torch.float64))
    if snn.neuron == "bitserial":
        layers, input_scale, output_scale, offset = quantize_bitserial(snn, x, headroom, round_weights, _file_weights)
        meta = {**snn.metadata, "quantization": {"headroom": headroom, "timesteps": snn.timesteps}}
        qnet = QuantizedNetwork(layers, input_scale, output_scale, offset, list(snn.lower), list(snn.upper), meta,
                                neuron="bitserial", timesteps=snn.timesteps)
        qnet.run_integers(qnet.encode(points))                   # raises StateOverflow on the calibration data
        return qnet
    if snn.neuron in ("if_hard", "signed_if"):
        qnet = quantize_cuba(snn, x, headroom, round_weights, _file_weights)
        qnet.run_integers(qnet.encode(points))                   # raises StateOverflow on the calibration data
        return qnet
    if not 8 <= weight_max <= WEIGHT_MAX:
        raise InputError(f"weight_max must be in [8, {WEIGHT_MAX}], got {weight_max}")
    folded = equalize(snn.neuron_level())
    passes = _float_pass(folded, x)
    peaks = [float(torch.maximum(v["sigma"].abs().max(), v["pre"].abs().max())) for v in passes]
    wmax = [max(float(w.abs().max()), 1e-12) for w, _ in folded]
    scales = _state_scales(peaks, wmax, headroom, weight_max)
    input_scale = scales[0] * wmax[0] / WEIGHT_MAX
    layers, msg_scale, messages = [], input_scale, x * input_scale
    for i, ((w, b), scale) in enumerate(zip(folded, scales)):
        readout = i == len(folded) - 1
        weight = _file_weights(round_weights(w * scale / msg_scale, messages).numpy())
        if np.abs(weight).max() < 2 ** (MIN_WEIGHT_BITS - 1):
            raise InputError(f"layer {i + 1} cannot be quantized: its activations span too wide a range for "
                             f"24-bit state with {MIN_WEIGHT_BITS}-bit weights (largest weight {np.abs(weight).max()}); "
                             f"lower the headroom or retrain with smaller weights")
        bias = np.zeros(len(b)) if readout else np.rint(b.numpy() * scale / 2 ** PARAM_SHIFT)
        vth = 0 if readout else int(round(snn.layers[i].threshold * scale / 2 ** PARAM_SHIFT))
        layers.append(FixedPointLayer(weight, bias.astype(np.int64), vth, readout=readout))
        msg_scale = scale / 2 ** STATE_EXP
        messages = torch.relu(passes[i]["pre"]) * msg_scale
    meta = {**snn.metadata, "quantization": {
        "headroom": headroom, "weight_max": weight_max, "state_scales": scales,
        "message_bits": [int(np.ceil(np.log2(p * a / 2 ** STATE_EXP + 1))) + 1 for p, a in zip(peaks, scales)],
        "weight_bits": [int(np.ceil(np.log2(np.abs(l.weight).max() + 1))) + 1 for l in layers]}}
    qnet = QuantizedNetwork(layers, input_scale, scales[-1], folded[-1][1].tolist(), list(snn.lower),
                            list(snn.upper), meta)
    run_fixed_point(qnet.layers, qnet.encode(points))          # raises StateOverflow on the calibration data
    return qnet


def calibrate_fixed_point(qnet: QuantizedNetwork, snn: SpikingNetwork, points) -> QuantizedNetwork:
    """Calibration on the fixed-point emulator (in place), against the float SNN on ``points``.
    Sigma-delta: layer by layer, each hidden neuron's integer bias is shifted by the mean
    difference between its fixed-point and float pre-activation (the systematic part of rounding
    and of the floored graded spikes). Both models: the readout, which turns small hidden errors
    into large output errors by cancellation, is refitted by least squares on the spikes it
    really receives, re-rounded within its 8-bit weights and 24-bit state, and the off-chip
    output offset is reset."""
    points = as_points(points, snn.d_in, "calibration points")
    messages = qnet.encode(points)
    if qnet.neuron == "sigma_delta":
        x = snn.normalize(torch.as_tensor(points, dtype=torch.float64))
        passes = _float_pass(equalize(snn.neuron_level()), x)
        scales = qnet.metadata["quantization"]["state_scales"]
        for k, layer in enumerate(qnet.layers[:-1]):
            _, stats = run_fixed_point(qnet.layers, messages, keep_states=True)
            error = stats.pre_activations[k] / scales[k] - passes[k]["pre"].numpy()
            layer.bias = layer.bias - np.rint(error.mean(0) * scales[k] / 2 ** PARAM_SHIFT).astype(np.int64)
    gain = 1 if qnet.neuron == "sigma_delta" else 2 ** ACT_SHIFT         # CUBA aligns synaptic input by 6 bits
    _, stats = qnet.run_integers(messages, keep_states=True)
    received = torch.as_tensor(stats.sent[-1], dtype=torch.float64) * gain   # (n, neurons)
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
        qnet.layers[-1].weight = _file_weights(round_weights(weight * factor, received).numpy())
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
