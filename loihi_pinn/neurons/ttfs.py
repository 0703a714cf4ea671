"""Time-to-first-spike (TTFS) neurons: every neuron fires at most once per inference and its
value is the time left in its layer's window when it fires (seed 001: spiking neurons under the
spike response model with one spike each realize ReLU networks; Singh, Fono, Kutyniok 2024).
Our ``TTFS`` netx type and Lava process (``lava_ttfs.py``); Loihi 2 would need custom microcode.

The construction, one SNN layer per ReLU layer (a two-phase linear-response neuron): a layer
owns a window of K = T steps; a spike at local step e carries the level m = K - e in {1..K},
worth m * Delta with Delta = theta / K (theta: the layer's calibrated range); no spike is 0.

- integrate (the previous layer's window): each arriving spike starts a linear response of slope
  w (I += w; V += I every step), so at the window's end V = sum_j w_j m_j, the pre-activation;
- fire (its own window): V += bias + R/2 (R = Delta in state units) once, then each step the
  neuron fires if V >= K R and has not fired, and V ramps by R: it fires at e = K - m with
  m = clip(floor(z / Delta + 1/2), 0, K) (z <= Delta/2: never).

So the TTFS network equals its ReLU network with every hidden activation rounded to the nearest
multiple of Delta (clipped at theta): |error| <= Delta / 2 a neuron, 0 as K -> infinity (the
continuous-time construction is exact; discrete time costs this rounding). LeakyReLU units are
two ReLU neurons (``exact_relu_form``). The first layer takes the 24-bit input messages once.

Fixed point: layer k integrates over [i_k, i_k + len_k) and fires over [i_k + len_k, ... + K):
i_0 = 1, len_0 = 1 (the graded input, V += a), i_k = k + 2 + (k - 1) K, len_k = K (k >= 1);
the readout integrates like a hidden layer and holds the output V after ``L + 1 + (L - 1) K``
steps (L dense layers). V and I are cleared at a window's start: no reset between inferences.
The potential is exactly the integer network's (``integer_reference``): per hidden layer
``m = clip(floor((W m_prev + b) / R), 0, K)``, readout ``W m``.
"""
from __future__ import annotations

import numpy as np
import torch

from loihi_pinn.errors import InputError
from loihi_pinn.loihi.fixed_point import INPUT_MESSAGE_BITS, STATE_LIMIT, WEIGHT_MAX, FixedPointLayer, dense, lava_weights
from loihi_pinn.loihi.rounding import file_weights, round_weights

from .base import NeuronModel


def ttfs_levels(z: torch.Tensor, delta: float, window: int) -> torch.Tensor:
    """Levels m = clip(floor(z / delta + 1/2), 0, window) of float pre-activations ``z``."""
    return torch.clamp(torch.floor(z / delta + 0.5), 0, window)


def schedule(window: int, n_layers: int) -> list[tuple[int, int]]:
    """(first integrate step, integrate steps) per dense layer, readout last."""
    return [(1, 1)] + [(k + 2 + (k - 1) * window, window) for k in range(1, n_layers)]


def ttfs_steps(window: int, n_layers: int) -> int:
    """Time steps per inference: the readout's last integrate step + 1."""
    start, length = schedule(window, n_layers)[-1]
    return start + length


def integer_levels(v: np.ndarray, ramp: int, window: int) -> np.ndarray:
    """Levels clip(floor(v / ramp), 0, window) of integer potentials (bias and R/2 included)."""
    return np.clip(np.floor_divide(v, ramp), 0, window)


def integer_reference(layers: list[FixedPointLayer], messages: np.ndarray, window: int) -> np.ndarray:
    """The integer network the TTFS run must equal: per hidden layer
    ``m = integer_levels(W m_prev + b, vth)``, readout ``W m``; ``(n, d_out)`` int64. Hidden
    layers keep R in ``vth``; the readout keeps the window K there (it integrates over K steps)."""
    h = np.asarray(messages, dtype=np.int64)
    for layer in layers:
        v = dense(lava_weights(layer.weight), h)
        h = v if layer.readout else integer_levels(v + layer.bias, layer.vth, window)
    return h


class TTFS(NeuronModel):
    name = "ttfs"
    aliases = ("time-to-first-spike",)
    description = "time-to-first-spike, at most one spike a neuron, value = time left in the window (seed 001)"
    signed, graded, loihi_native = False, False, False
    hardware_note = ("the time-to-first-spike neuron (seed 001) needs custom microcode (a two-phase linear-response "
                     "neuron) that lava-loihi does not ship")
    nir_note = "NIR 1.0 has no time-to-first-spike neuron (two-phase linear response, one spike per inference)"
    message_bits = 1
    chip_labels = ("TTFS (custom microcode)", "TTFS integrator (custom microcode)")
    activations = frozenset({"relu", "leaky_relu"})
    default_calibration = "none"
    calibrates_v0 = False
    # K = 4, theta = 1 (Delta = 0.25): z = 0.6 -> m = floor(2.4 + 0.5) = 2, a spike at step K - m = 2
    # decoding to K m Delta = 2.0, so the mean over the window is 0.5 = m Delta
    hand_example = {"threshold": 1.0, "currents": [0.6, 0.6, 0.6, 0.6], "outputs": [0.0, 0.0, 2.0, 0.0]}
    netx_type = readout_netx_type = "TTFS"
    netx_args = {"skip_layers": 1, "input_message_bits": INPUT_MESSAGE_BITS}
    encoding = ("input messages round(x_normalized * input_scale), sent once; output = readout v after "
                "steps_per_inference steps / output_scale + output_offset")
    input_every_step = False

    # -- conversion ----------------------------------------------------------------------------
    def run_layer(self, layer, currents, *, surrogate=False, v0=None):
        """Levels of the window-mean currents; one spike per firing neuron at step K - m,
        decoded as K m Delta (so the window's mean is m Delta)."""
        window = currents.shape[0]
        delta = layer.threshold / window
        m = ttfs_levels(currents.mean(0), delta, window)                             # (batch, units, P)
        steps = torch.arange(window, dtype=currents.dtype)[:, None, None, None]
        spikes = (steps == window - m) & (m > 0)                                   # (T, batch, units, P)
        _, _, coeff = layer.expansion.tensors(currents.dtype)
        y = spikes.to(currents.dtype) * (window * m * delta)
        outputs = layer.expansion.const + (coeff * y).sum(-1)
        return outputs, None if surrogate else spikes.sum((0, 1)).reshape(-1)

    def check_calibration(self, mode):
        if mode != "none":
            raise InputError("the TTFS neuron realizes its ReLU network up to its time resolution (no conversion "
                             "error to calibrate away); use --calibration none and more --timesteps for precision")

    # -- fixed point ---------------------------------------------------------------------------
    def quantize(self, snn, x, *, headroom, weight_max):
        """Neuron-level layers (``snn.neuron_level()``). Layer l gets a state scale A_l (real 1.0 =
        A_l in V) with R_l = Delta_l A_l a whole number (stored as ``vth``): the largest that keeps
        file weights ``W Delta_{l-1} A_l`` within 8 bits and ``headroom`` times the largest partial
        potential within 24 bits. Hidden biases are ``rint(b A_l) + floor(R_l / 2)``."""
        from loihi_pinn.loihi.network import QuantizedNetwork

        window = snn.timesteps
        folded = snn.neuron_level()
        layers, inputs, input_scale, step_value = [], x.double(), None, 1.0
        for i, ((w, b), unit_layer) in enumerate(zip(folded, snn.layers)):
            z = inputs * step_value @ w.T + b
            bound = window * (inputs.abs() @ (w.abs() * step_value).T).max() + b.abs().max()
            limit = (STATE_LIMIT - 1) / (headroom * max(float(bound), float(z.abs().max()), 1e-12))
            wmax = max(float(w.abs().max()) * step_value, 1e-12)
            scale = limit if i == 0 else min(limit, WEIGHT_MAX / wmax)
            readout = unit_layer.is_readout
            if not readout:
                delta = unit_layer.threshold / window
                limit_ramp = (STATE_LIMIT - 1) / (headroom * (window + 1))
                ramp = int(min(np.floor(delta * scale), limit_ramp))
                if ramp < 1:
                    raise InputError(f"layer {i + 1}: one time step is worth less than one unit of the 24-bit state "
                                     f"(Delta = {delta:.3g}); use fewer --timesteps or a smaller network range")
                scale = ramp / delta
            if i == 0:
                input_scale = scale * wmax / WEIGHT_MAX
                inputs = torch.round(x.double() * input_scale)
                real = w * scale / input_scale
            else:
                real = w * step_value * scale
            weight = file_weights(round_weights(real, inputs).numpy())
            if readout:
                layers.append(FixedPointLayer(weight, np.zeros(len(b), np.int64), window, readout=True))
                break
            bias = np.rint(b.numpy() * scale).astype(np.int64) + ramp // 2
            layer = FixedPointLayer(weight, bias, ramp)
            layers.append(layer)
            v = dense(lava_weights(layer.weight), inputs.numpy().astype(np.int64)) + layer.bias
            inputs = torch.as_tensor(integer_levels(v, ramp, window), dtype=torch.float64)
            step_value = delta
        meta = {**snn.metadata, "quantization": {"headroom": headroom, "timesteps": window}}
        return QuantizedNetwork(layers, input_scale, scale, b.tolist(), list(snn.lower), list(snn.upper), meta,
                                neuron=self.name, timesteps=window)

    def steps_per_inference(self, timesteps, n_layers):
        return ttfs_steps(timesteps, n_layers)

    def start_state(self, layer, n):
        return {key: np.zeros((n, layer.size), np.int64) for key in ("v", "i", "fired")}

    def integer_step(self, layer, state, a, *, index, step, timesteps, n_layers, monitor):
        start, length = schedule(timesteps, n_layers)[index]
        j = step - start
        if 0 <= j < length:
            if j == 0:
                state["v"][:], state["i"][:] = 0, 0
            if index == 0:
                state["v"] += a
            else:
                state["i"] += a
                state["v"] += state["i"]
                monitor.check("current", state["i"], index)
            monitor.check("potential", state["v"], index)
        e = j - length
        if layer.readout or not 0 <= e < timesteps:
            return None
        if e == 0:
            state["v"] += layer.bias
            state["fired"][:] = 0
            monitor.check("potential", state["v"], index)
        spikes = (state["v"] >= timesteps * layer.vth) & (state["fired"] == 0)
        state["fired"] |= spikes
        state["v"] += np.where(state["fired"] == 0, layer.vth, 0)
        return spikes.astype(np.int64)

    def readout_state(self, state):
        return state["v"]

    def integer_reference(self, layers, messages):
        return integer_reference(layers, messages, int(layers[-1].vth))

    # -- netx ----------------------------------------------------------------------------------
    def write_neuron(self, group, layer, index, qnet):
        from loihi_pinn.export.netx import write_string
        write_string(group, "neuron/type", self.netx_type)
        start, integrate = schedule(qnet.timesteps, len(qnet.layers))[index]
        for key, value in (("window", qnet.timesteps), ("start", start),
                           ("integrate", integrate), ("interval", qnet.steps), ("readout", int(layer.readout))):
            group.create_dataset(f"neuron/{key}", data=value)

    # -- Lava ----------------------------------------------------------------------------------
    def lava_network_class(self):
        from loihi_pinn.runtime.netx_ext import Network
        return Network

    def readout_var(self, process):
        return process.v

    def lava_params(self, neuron_config):
        from .lava_ttfs import ttfs_params
        return ttfs_params(neuron_config)
