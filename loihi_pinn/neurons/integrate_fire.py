"""Rate-coded integrate-and-fire neurons: IF with hard reset (Loihi's CUBA LIF with du = 4095,
dv = 0; netx ``CUBA``) and seed 000's signed IF with reset by subtraction (our ``SIGNED_IF``
type and Lava process, ``lava_signed_if.py``; Loihi 2 would need custom microcode).

Float, per step: v += i; ``if_hard`` fires a binary spike when v > theta and resets v to 0;
``signed_if`` fires +1 when v >= theta, -1 when v <= -theta (signed layers) and subtracts
spike * theta. A spike is worth theta; the rate over T steps approximates the activation.

Fixed point, bit for bit as Lava's ``PyLifModelBitAcc`` (``lava/proc/lif/models.py``) and our
process run it, with netx's ``bias_exp = 6`` and Loihi's 6-bit MSB alignment:

    u     = a << 6                          # (4096 - (du + 1)) * u >> 12 = 0: no current memory
    v     = v + u + (bias << 6)             # dv = 0: a perfect integrator
    if_hard:   spike = v > (vth << 6);  v = 0 where spiked
    signed_if: spike = +1 if v >= vth << 6, -1 if v <= -(vth << 6) (signed layers); v -= spike * (vth << 6)

The input (24-bit messages) is sent at every step. The readout is a CUBA layer that never fires;
its potential after the run, divided by the T steps it integrated, is the output. Each Dense
delays a step, so layer k's input arrives at step k + 1 and an inference takes
``T + len(layers)`` steps. While a layer waits it would integrate its bias (and spike on it), so
at the end of step k its potential is set to v0 (the readout's to 0): every layer then
integrates exactly the T steps the float emulator simulates.

Quantization: spikes are binary, so every layer has its own state scale A_l (real 1.0 = A_l in
v) with no chain between layers: a spike of layer l-1 is worth theta_{l-1}, so file weights are
``W * theta_{l-1} * A_l / 64``, thresholds ``theta_l * A_l / 64``, biases ``b * A_l / 64`` and v0
``v0 * A_l``. A_l is the largest scale within the 8-bit weights, the 13-bit bias and 17-bit
threshold mantissas, and the 24-bit potential: ``headroom`` times the largest |v| of the float
neurons over T steps on the calibration points (v is not bounded by theta: a signed IF removes
only theta a step, and nothing stops a hard-reset IF's v from falling under negative currents).
"""
from __future__ import annotations

import numpy as np
import torch

from loihi_pinn.conversion.expansion import IDENTITY_PAIR, SINGLE, Realization
from loihi_pinn.conversion.network import SpikingLayer
from loihi_pinn.errors import InputError
from loihi_pinn.loihi.fixed_point import INPUT_MESSAGE_BITS, STATE_LIMIT, WEIGHT_MAX, FixedPointLayer, StateOverflow
from loihi_pinn.loihi.rounding import file_weights, round_weights
from loihi_pinn.models import SlipReLU

from .base import SMOOTH_OR_PIECEWISE, NeuronModel, heaviside_ste

ACT_SHIFT = 6                # synaptic input and threshold are MSB-aligned by 6 bits
BIAS_EXP = 6                 # netx passes bias_exp = 6 for CUBA layers
READOUT_VTH = 2 ** 17 - 1    # the largest 17-bit threshold mantissa: the readout never fires
BIAS_MANT_LIMIT = 2 ** 12    # 13-bit signed bias mantissa
VTH_MANT_LIMIT = 2 ** 17     # 17-bit threshold mantissa
CUBA_DECAY = {"iDecay": 4096, "vDecay": 0, "refDelay": 1}      # netx: du = iDecay - 1 = 4095, dv = 0


def signed_if_step(i, v, theta, surrogate=False, signed=True):
    """Signed IF, reset by subtraction, thresholds +-theta (only +theta if not ``signed``):
    returns (y, v)."""
    v = v + i
    if surrogate:
        spike = heaviside_ste(v - theta, theta) - signed * heaviside_ste(-v - theta, theta)
    else:
        spike = (v >= theta).to(v.dtype) - signed * (v <= -theta).to(v.dtype)
    return theta * spike, v - theta * spike


def if_hard_step(i, v, theta, surrogate=False, signed=False):
    """IF with hard reset to 0, binary spikes when v > theta (Loihi's strict comparison)."""
    v = v + i
    if surrogate:
        spike = heaviside_ste(v - theta, theta)
    else:
        spike = (v > theta).to(v.dtype)
    return theta * spike, v * (1 - spike)


def check_cuba_layer(layer: FixedPointLayer) -> None:
    """Loihi's LIF register widths: 13-bit signed bias mantissa, 17-bit threshold mantissa."""
    if np.abs(layer.bias).max(initial=0) >= BIAS_MANT_LIMIT:
        raise InputError(f"CUBA bias mantissa {np.abs(layer.bias).max()} exceeds Loihi's 13-bit range")
    if not 0 <= layer.vth < VTH_MANT_LIMIT:
        raise InputError(f"CUBA threshold mantissa {layer.vth} outside Loihi's 17-bit range")
    if layer.v0 is not None and np.abs(layer.v0).max(initial=0) >= STATE_LIMIT:
        raise InputError("initial potentials exceed the 24-bit state")


class IntegrateFire(NeuronModel):
    """What the two IF models share; ``_fire`` and the float ``step`` make the difference."""

    message_bits = 1
    graded = False
    netx_args = {"skip_layers": 1, "input_message_bits": INPUT_MESSAGE_BITS}
    readout_netx_type = "CUBA"
    encoding = ("input messages round(x_normalized * input_scale), sent every step; output = readout v "
                "after steps_per_inference steps / output_scale + output_offset; initial v from neuron/v0")
    input_every_step = True
    readout_input_gain = 2 ** ACT_SHIFT         # CUBA aligns synaptic input by 6 bits
    # a spike flipped by rounding moves a rate by 1/T, so which cap is best varies from network to network
    # (first-layer weights against input levels, hidden weights against potential range): try several
    weight_max_candidates = (15, 31, 63, 127)

    # -- fixed point ---------------------------------------------------------------------------
    def quantize(self, snn, x, *, headroom, weight_max):
        from loihi_pinn.loihi.network import QuantizedNetwork

        if not 1 <= weight_max <= WEIGHT_MAX:
            raise InputError(f"weight_max must be in [1, {WEIGHT_MAX}], got {weight_max}")
        folded = snn.neuron_level()
        T = snn.timesteps
        layers, value = [], x.double()                         # what each layer receives, real units
        max_w0 = float(folded[0][0].abs().max())
        for i, ((w, b), unit_layer) in enumerate(zip(folded, snn.layers)):
            readout = unit_layer.is_readout
            spike_value = 1.0 if i == 0 else snn.layers[i - 1].threshold
            wmax = max(float(w.abs().max()) * spike_value, 1e-12)
            current_peak = float((value @ w.T + b).abs().max())
            if readout:
                scale = min(weight_max * 2 ** ACT_SHIFT / wmax,
                            (STATE_LIMIT - 1) / (headroom * T * max(current_peak, 1e-12)))
            else:
                theta = unit_layer.threshold
                signed = self.signed and unit_layer.signed
                v_peak = self._potential_peak(value @ w.T + b, unit_layer.v0.double().reshape(-1), theta, T, signed)
                scale = min((STATE_LIMIT - 1) / (headroom * v_peak), (VTH_MANT_LIMIT - 1) * 2 ** ACT_SHIFT / theta,
                            (BIAS_MANT_LIMIT - 1) * 2 ** ACT_SHIFT / max(float(b.abs().max()), 1e-12))
                if i > 0:
                    scale = min(scale, weight_max * 2 ** ACT_SHIFT / wmax)
            if i == 0:                                          # input messages take what the weights leave
                input_scale = scale * max_w0 / (2 ** ACT_SHIFT * weight_max)
                inputs = value * input_scale
                real = w * scale / (2 ** ACT_SHIFT * input_scale)
            else:
                inputs = value / spike_value                   # spike rates in [-1, 1]
                real = w * spike_value * scale / 2 ** ACT_SHIFT
            weight = file_weights(round_weights(real, inputs).numpy())
            if readout:
                layer = FixedPointLayer(weight, np.zeros(len(b), np.int64), READOUT_VTH, readout=True)
                output_scale, offset = scale * T, b.tolist()
            else:
                v0 = unit_layer.v0.double().reshape(-1) * scale
                layer = FixedPointLayer(weight, np.rint(b.numpy() * scale / 2 ** ACT_SHIFT).astype(np.int64),
                                        int(round(theta * scale / 2 ** ACT_SHIFT)),
                                        v0=np.rint(v0.numpy()).astype(np.int64), signed=signed)
                # what the next layer receives: theta times the rate, ~ clip(current, 0, theta) for an
                # IF neuron with constant input (used for scales and the weight-rounding statistics)
                value = torch.clamp(value @ w.T + b, -theta if layer.signed else 0.0, theta)
            check_cuba_layer(layer)
            layers.append(layer)
        meta = {**snn.metadata, "quantization": {"headroom": headroom, "state_scales": [None] * len(layers),
                                                 "timesteps": T}}
        return QuantizedNetwork(layers, input_scale, output_scale, offset, list(snn.lower), list(snn.upper), meta,
                                neuron=self.name, timesteps=T)

    def _potential_peak(self, current: torch.Tensor, v0: torch.Tensor, theta: float, T: int, signed: bool) -> float:
        """Largest |v| of the float neurons with constant ``current`` ``(n, neurons)`` over T steps."""
        v, peak = v0.expand_as(current).clone(), 0.0
        for _ in range(T):
            peak = max(peak, float((v + current).abs().max()))
            _, v = self.step(current, v, theta, False, signed)
        return peak

    def steps_per_inference(self, timesteps, n_layers):
        return timesteps + n_layers

    def start_state(self, layer, n):
        return {"v": np.broadcast_to(layer.v0 if layer.v0 is not None else 0, (n, layer.size)).astype(np.int64).copy()}

    def integer_step(self, layer, state, a, *, index, step, timesteps, n_layers, monitor):
        u = a << ACT_SHIFT
        monitor.check("current", u, index)
        v = state["v"]
        v += u + (layer.bias << BIAS_EXP)
        monitor.check("voltage", v, index)
        threshold = layer.vth << ACT_SHIFT
        if layer.readout:                           # a CUBA integrator that must never fire
            if np.any(v > threshold):
                raise StateOverflow(f"the readout potential reached its threshold ({READOUT_VTH} << 6): the "
                                    f"output saturates; re-quantize with more headroom")
            if step == index:
                v[:] = 0
            return None
        spikes = self._fire(v, layer, threshold)
        if step == index:                            # the layer's input arrives next step: start it now
            v[:] = 0 if layer.v0 is None else layer.v0
        return spikes

    def _fire(self, v: np.ndarray, layer: FixedPointLayer, threshold: int) -> np.ndarray:
        """Spikes (int64) of one hidden layer this step; resets ``v`` in place."""
        raise NotImplementedError

    def readout_state(self, state):
        return state["v"]

    # -- netx ----------------------------------------------------------------------------------
    def write_neuron(self, group, layer, index, qnet):
        from loihi_pinn.export.netx import write_string
        if layer.readout or self.loihi_native:       # IF with hard reset: netx's CUBA mapping
            write_string(group, "neuron/type", "CUBA")
            for key, value in CUBA_DECAY.items():
                group.create_dataset(f"neuron/{key}", data=value)
        else:
            write_string(group, "neuron/type", self.netx_type)
            group.create_dataset("neuron/signed", data=int(layer.signed))
        if layer.v0 is not None and np.any(layer.v0):
            group.create_dataset("neuron/v0", data=layer.v0.astype(np.int32))   # netx ignores it; runners set v

    def read_neuron(self, group, *, readout, what):
        from loihi_pinn.export.netx import read_integers
        neuron = group["neuron"]
        return {"v0": read_integers(neuron["v0"], f"{what} v0") if "v0" in neuron else None,
                "signed": bool(neuron["signed"][()]) if "signed" in neuron else False}

    # -- Lava ----------------------------------------------------------------------------------
    def readout_var(self, process):
        return process.v

    def stock_lava_steps(self, steps):
        return {"read": f"r = Network.layers[-1].neuron.v at the end of step {steps} of the inference",
                "many_points": (f"one point every {steps} steps, each layer's v set to its neuron/v0 (0 where "
                                f"absent) at the end of the step before its input arrives (a vector reset: "
                                f"loihi_pinn.runtime.reset.ResetTo), or one graph per point")}

    def lava_resets(self, net, qnet, copies, interval):
        """Each layer's v to its v0 at the end of the step before its input arrives."""
        from loihi_pinn.runtime.reset import ResetTo

        def start(layer):
            v0 = layer.v0 if layer.v0 is not None else np.zeros(layer.size, np.int64)
            return np.tile(v0, copies).astype(np.int32)

        return [ResetTo(var=block.neuron.v, values=start(layer), interval=interval, offset=k)
                for k, (block, layer) in enumerate(zip(net.layers, qnet.layers))]


class IFHardReset(IntegrateFire):
    name = "if_hard"
    description = "IF with hard reset, binary spikes, +/- populations (Loihi CUBA)"
    signed, loihi_native = False, True
    chip_labels = ("CUBA IF, hard reset", "CUBA integrator")
    netx_type = "CUBA"
    # v: .5 1.0 (not > theta) 1.5 -> spike, 0;  .5 1.0 1.5 -> spike, 0
    hand_example = {"threshold": 1.0, "currents": [0.5] * 6, "outputs": [0.0, 0.0, 1.0, 0.0, 0.0, 1.0]}

    def realize(self, activation, z, pieces):
        return Realization(IDENTITY_PAIR, signed=False, encodes_activation=True)

    def step(self, i, state, theta, surrogate, signed):
        return if_hard_step(i, state, theta, surrogate, signed)

    def _fire(self, v, layer, threshold):
        spikes = (v > threshold).astype(np.int64)
        v[spikes > 0] = 0
        return spikes

    nir_note = None                             # NIR's IF: v += R I, spike when v > threshold, v = v_reset

    def nir_node(self, threshold, size):
        import nir

        return nir.IF(r=np.ones(size), v_threshold=np.full(size, float(threshold)), v_reset=np.zeros(size))


class SignedIF(IntegrateFire):
    name = "signed_if"
    aliases = ("qcfs-if",)                      # QCFS/SlipReLU networks run on it, v(0) = delta theta
    description = "signed IF, reset by subtraction, ternary spikes (seed 000)"
    signed, loihi_native = True, False
    hardware_note = "the signed IF neuron (seed 000) needs custom microcode that lava-loihi does not ship"
    nir_note = ("NIR 1.0's IF sends only positive spikes and resets to v_reset; the signed IF sends -1 spikes "
                "and resets by subtraction")
    message_bits = 2
    chip_labels = ("signed IF (custom microcode)", "CUBA integrator")
    activations = SMOOTH_OR_PIECEWISE | {"slip"}
    netx_type = "SIGNED_IF"
    # v: .75, 1.5 -> +1 (.5), -1.0 -> -1 (0), -1.5 -> -1 (-.5)
    hand_example = {"threshold": 1.0, "currents": [0.75, 0.75, -1.5, -1.5], "outputs": [0.0, 1.0, -1.0, -1.0]}

    def realize(self, activation, z, pieces):
        return Realization(SINGLE, signed=True, encodes_activation=True)

    def hidden_layer(self, weight, bias, act, z, u, architecture, **settings):
        if isinstance(act, SlipReLU):             # trained threshold, v(0) = delta * theta (seed 004, Thm. 1)
            theta = float(act.theta.detach().abs())
            return SpikingLayer(weight, bias, SINGLE, theta, torch.full((len(bias), 1), act.shift * theta), signed=True)
        return super().hidden_layer(weight, bias, act, z, u, architecture, **settings)

    def step(self, i, state, theta, surrogate, signed):
        return signed_if_step(i, state, theta, surrogate, signed)

    def v0_bounds(self, layer):
        return (-layer.threshold, layer.threshold) if layer.signed else (0.0, layer.threshold)

    def _fire(self, v, layer, threshold):
        spikes = (v >= threshold).astype(np.int64) - layer.signed * (v <= -threshold)
        v -= spikes * threshold
        return spikes

    def lava_network_class(self):
        from loihi_pinn.runtime.netx_ext import Network
        return Network

    def lava_params(self, neuron_config):
        from .lava_signed_if import signed_if_params
        return signed_if_params(neuron_config)
