"""Float IF SNN (hard reset, or seed 000's signed IF) -> Loihi LIF-style integers (netx ``CUBA``
layers, or our ``SIGNED_IF`` ones).

Spikes are binary, so every layer has its own state scale A_l (real 1.0 = A_l in v) with no
chain between layers: a spike of layer l-1 is worth theta_{l-1}, so file weights are
``W * theta_{l-1} * A_l / 64`` (the 6-bit alignment of synaptic input), thresholds
``theta_l * A_l / 64``, biases ``b * A_l / 64`` and v0 ``v0 * A_l``. A_l is the largest scale
within the 8-bit weight range, the 13-bit bias and 17-bit threshold mantissas, and the 24-bit
potential: ``headroom`` times the largest |v| of the float neurons over T steps on the calibration
points (v is not bounded by theta: a signed IF removes only theta a step, and nothing stops a
hard-reset IF's v from falling under negative currents).
"""
from __future__ import annotations

import numpy as np
import torch

from loihi_pinn.conversion import SpikingNetwork

from .cuba import ACT_SHIFT, READOUT_VTH, check_cuba_layer
from .fixed_point import STATE_LIMIT, WEIGHT_MAX, FixedPointLayer
from .network import QuantizedNetwork


def quantize_cuba(snn: SpikingNetwork, x: torch.Tensor, headroom: float, round_weights, file_weights) -> QuantizedNetwork:
    """Quantize an ``if_hard`` SNN given normalized calibration inputs ``x`` ``(n, d_in)``;
    ``round_weights`` and ``file_weights`` are the shared weight rounding steps."""
    folded = snn.neuron_level()
    T = snn.timesteps
    layers, value = [], x.double()                         # what each layer receives, real units
    max_w0 = float(folded[0][0].abs().max())
    input_scale = None
    for i, ((w, b), unit_layer) in enumerate(zip(folded, snn.layers)):
        readout = unit_layer.is_readout
        spike_value = 1.0 if i == 0 else snn.layers[i - 1].threshold
        wmax = max(float(w.abs().max()) * spike_value, 1e-12)
        current_peak = float((value @ w.T + b).abs().max())
        if readout:
            scale = min(WEIGHT_MAX * 2 ** ACT_SHIFT / wmax, (STATE_LIMIT - 1) / (headroom * T * max(current_peak, 1e-12)))
        else:
            theta = unit_layer.threshold
            # v rises to theta + one step's current, but negative currents pile up for all T steps
            signed = snn.neuron == "signed_if" and unit_layer.signed
            v_peak = _potential_peak(value @ w.T + b, unit_layer.v0.double().reshape(-1), theta, T, snn.neuron, signed)
            scale = min((STATE_LIMIT - 1) / (headroom * v_peak), (2 ** 17 - 1) * 2 ** ACT_SHIFT / theta,
                        (2 ** 12 - 1) * 2 ** ACT_SHIFT / max(float(b.abs().max()), 1e-12))
            if i > 0:
                scale = min(scale, WEIGHT_MAX * 2 ** ACT_SHIFT / wmax)
        if i == 0:                                          # input messages take what the weights leave
            input_scale = scale * max_w0 / (2 ** ACT_SHIFT * WEIGHT_MAX)
            inputs = value * input_scale
            real = w * scale / (2 ** ACT_SHIFT * input_scale)
        else:
            inputs = value / spike_value                   # spike rates in [-1, 1]
            real = w * spike_value * scale / 2 ** ACT_SHIFT
        weight = file_weights(round_weights(real, inputs).numpy())
        if readout:
            layer = FixedPointLayer(weight, np.zeros(len(b), np.int64), READOUT_VTH, readout=True)
        else:
            v0 = unit_layer.v0.double().reshape(-1) * scale
            layer = FixedPointLayer(weight, np.rint(b.numpy() * scale / 2 ** ACT_SHIFT).astype(np.int64),
                                    int(round(theta * scale / 2 ** ACT_SHIFT)), v0=np.rint(v0.numpy()).astype(np.int64),
                                    signed=signed)
            # what the next layer receives: theta times the rate, ~ clip(current, 0, theta) for an
            # IF neuron with constant input (used for scales and the weight-rounding statistics)
            value = torch.clamp(value @ w.T + b, -theta if layer.signed else 0.0, theta)
        check_cuba_layer(layer)
        layers.append(layer)
        if readout:
            output_scale, offset = scale * T, b.tolist()
    meta = {**snn.metadata, "quantization": {"headroom": headroom, "state_scales": [None] * len(layers),
                                             "timesteps": T}}
    return QuantizedNetwork(layers, input_scale, output_scale, offset, list(snn.lower), list(snn.upper), meta,
                            neuron=snn.neuron, timesteps=T)



def _potential_peak(current: torch.Tensor, v0: torch.Tensor, theta: float, T: int, neuron: str, signed: bool) -> float:
    """Largest |v| of float IF neurons with constant ``current`` ``(n, neurons)`` over T steps."""
    v, peak = v0.expand_as(current).clone(), 0.0
    for _ in range(T):
        v = v + current
        peak = max(peak, float(v.abs().max()))
        if neuron == "if_hard":
            v = torch.where(v > theta, torch.zeros_like(v), v)
        else:
            v = v - theta * ((v >= theta).double() - signed * (v <= -theta).double())
    return peak
