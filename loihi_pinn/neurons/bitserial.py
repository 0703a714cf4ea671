"""Seed 003's bit-serial neuron, signed: B-bit activations sent most significant bit first as
ternary spikes (our ``BITSERIAL`` netx type and Lava process, ``lava_bitserial.py``; Loihi 2
would need custom microcode).

Float: a layer accumulates its input over the T steps before it fires (step t's input weighted
2^(T - t), the place of the bit it carries), then sends the B = T bits of its level m = #{k :
|u| >= tau_k} of its threshold table, each with the sign of u. A spike at step t decodes to
T * 2^(T - t) * level value, so the mean over T steps - what the next layer and the readout take
- is exactly the level's value: at T = B the network equals its B-bit source network.

Fixed point: a layer accumulates its input for ``accumulate`` steps, step j's Dense output
shifted left by ``accumulate - 1 - j`` (the first layer receives the 24-bit input messages once,
in one step), adds its bias on the last of them and takes its level; from that same step on it
sends the level's T bits, each one comparison with the table (a binary search; for seed 003's
table tau_k = theta (k - delta) / 2^B it is its ladder: fire when the remainder reaches
theta / 2^t). Each Dense delays a step, so layer k (0-based) accumulates from step ``start_k``
= 1 (k = 0), 2 + (k - 1) T (k >= 1); the readout accumulates without firing and holds the output
after ``2 + H T`` steps (H hidden layers). A neuron clears its potential at the start of its
accumulation: inferences need no reset between them. Because the Dense is linear and every
weight is an integer, the accumulated potential is exactly that of the integer network
``u = W m_prev + b`` (``integer_reference``), bit for bit.
"""
from __future__ import annotations

import numpy as np
import torch

from loihi_pinn.conversion.expansion import SINGLE
from loihi_pinn.conversion.network import SpikingLayer
from loihi_pinn.errors import InputError
from loihi_pinn.loihi.fixed_point import INPUT_MESSAGE_BITS, STATE_LIMIT, WEIGHT_MAX, FixedPointLayer, dense, lava_weights
from loihi_pinn.loihi.rounding import file_weights, round_weights
from loihi_pinn.models import BitSerialQCFS

from .base import NeuronModel


def bitserial_spikes(u: torch.Tensor, thresholds: torch.Tensor, bits: int) -> torch.Tensor:
    """Spikes ``(bits, *u.shape)`` in {-1, 0, +1} of bit-serial neurons with accumulated
    potentials ``u``: the bits of m = #{k : |u| >= thresholds[k-1]}, most significant first,
    each with the sign of u; bit t is one comparison at the midpoint of the levels still possible."""
    if thresholds.shape != (2 ** bits - 1,):
        raise InputError(f"a {bits}-bit neuron needs {2 ** bits - 1} thresholds, got {tuple(thresholds.shape)}")
    magnitude, sign = u.abs(), torch.sign(u)
    level = torch.zeros(u.shape, dtype=torch.long)
    spikes = []
    for t in range(bits):
        candidate = level + 2 ** (bits - 1 - t)
        bit = magnitude >= thresholds.to(u.dtype)[candidate - 1]
        level = torch.where(bit, candidate, level)
        spikes.append(sign * bit.to(u.dtype))
    return torch.stack(spikes)


def schedule(bits: int, n_layers: int) -> list[tuple[int, int]]:
    """(first accumulation step, accumulation steps) per layer, readout last."""
    return [(1, 1)] + [(2 + (k - 1) * bits, bits) for k in range(1, n_layers)]


def bitserial_steps(bits: int, n_layers: int) -> int:
    """Time steps per inference: the readout's last accumulation step + 1."""
    start, length = schedule(bits, n_layers)[-1]
    return start + length


def levels_of(u: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Signed levels sign(u) * #{k : |u| >= table[k-1]} (int64, shape of ``u``)."""
    return np.sign(u) * np.searchsorted(table, np.abs(u), side="right")


def integer_reference(layers: list[FixedPointLayer], messages: np.ndarray) -> np.ndarray:
    """The integer B-bit network the bit-serial run must equal: per hidden layer
    ``m = levels_of(W m_prev + b)`` (m_prev = the input messages for the first), readout
    ``W m`` (no bias), ``(n, d_out)`` int64."""
    h = np.asarray(messages, dtype=np.int64)
    for layer in layers:
        z = dense(lava_weights(layer.weight), h)
        h = z if layer.readout else levels_of(z + layer.bias, layer.levels)
    return h


class BitSerial(NeuronModel):
    name = "bitserial"
    description = "bit-serial, accumulate then send B bits MSB first, ternary spikes (seed 003)"
    signed, graded, loihi_native = True, False, False
    hardware_note = "the bit-serial neuron (seed 003) needs custom microcode that lava-loihi does not ship"
    nir_note = ("NIR 1.0 has no bit-serial neuron (accumulate for T steps, then send the value's bits, most "
                "significant first)")
    message_bits = 2
    chip_labels = ("bit-serial (custom microcode)", "bit-serial integrator (custom microcode)")
    activations = frozenset({"bitserial", "tanh"})     # a B-bit network, or tanh rounded to T bits
    default_calibration = "none"                     # exact: nothing to calibrate
    # 2 bits, levels at 1, 2, 3: mean current 2.5 is level 2 = bits 1, 0; a spike at step 0 weighs
    # T 2^(T-1) = 4 levels of 0.5, so the outputs' mean is 2 * 0.5
    hand_example = {"threshold": 0.5, "levels": [1.0, 2.0, 3.0], "currents": [2.5, 2.5], "outputs": [2.0, 0.0]}
    netx_type = readout_netx_type = "BITSERIAL"
    netx_args = {"skip_layers": 1, "input_message_bits": INPUT_MESSAGE_BITS}
    encoding = ("input messages round(x_normalized * input_scale), sent once; output = readout u after "
                "steps_per_inference steps / output_scale + output_offset")
    input_every_step = False

    # -- conversion ----------------------------------------------------------------------------
    def default_timesteps(self, architecture):
        """T = the network's bits (one step a bit); a tanh network is rounded to the default T."""
        return architecture.get("activation_params", {}).get("bits") or super().default_timesteps(architecture)

    def hidden_layer(self, weight, bias, act, z, u, architecture, *, timesteps, **settings):
        """A layer running ``act`` (a trained B-bit activation, or tanh rounded to T bits)."""
        if not isinstance(act, BitSerialQCFS):
            act = BitSerialQCFS(timesteps, shape="tanh")
        if act.bits != timesteps:
            raise InputError(f"this network's activations have {act.bits} bits: the bit-serial neuron sends them "
                             f"in T = {act.bits} steps (convert with --timesteps {act.bits}, or train with --bits "
                             f"{timesteps})")
        return SpikingLayer(weight, bias, SINGLE, act.scale, signed=True, levels=act.thresholds(weight.dtype))

    def run_layer(self, layer, currents, *, surrogate=False, v0=None):
        """Potential = the mean of the T input currents (each already weighted by its bit's
        place), then its B = T bits as decoded outputs (see the module doc)."""
        steps = currents.shape[0]
        spikes = bitserial_spikes(currents.mean(0)[..., 0], layer.levels, steps)     # (T, B, n)
        place = torch.tensor([steps * 2.0 ** (steps - 1 - t) for t in range(steps)], dtype=currents.dtype)
        outputs = layer.threshold * place[:, None, None] * spikes
        return outputs, (spikes != 0).sum((0, 1)).reshape(-1)

    def check_calibration(self, mode):
        if mode != "none":
            raise InputError("bit-serial conversion has no conversion error to calibrate away (it equals its B-bit "
                             "source network); use --calibration none")

    # -- fixed point ---------------------------------------------------------------------------
    def quantize(self, snn, x, *, headroom, weight_max):
        """Layer l gets a state scale A_l (real 1.0 = A_l in u): the largest that keeps its file
        weights within 8 bits, its potential (``headroom`` times the largest partial sum seen)
        and its threshold table within 24 bits. Hidden messages are signed levels m worth
        ``threshold`` (the level value) each, so file weights are ``W * level_value_{l-1} * A_l``;
        the first layer takes input messages ``round(x * input_scale)``. Thresholds become
        ``ceil(tau * A_l)``."""
        from loihi_pinn.loihi.network import QuantizedNetwork

        layers, inputs, input_scale = [], x.double(), None
        for i, unit_layer in enumerate(snn.layers):
            w, b = unit_layer.weight.double(), unit_layer.bias.double()
            step_value = 1.0 if i == 0 else snn.layers[i - 1].threshold
            real_in = inputs * step_value                                  # real values of the messages
            z = real_in @ w.T + b
            bound = (inputs.abs() @ (w.abs() * step_value).T).max() + b.abs().max()
            limit = (STATE_LIMIT - 1) / (headroom * max(float(bound), float(z.abs().max()), 1e-12))
            if not unit_layer.is_readout:
                limit = min(limit, (STATE_LIMIT - 1) / float(unit_layer.levels.max()))
            wmax = max(float(w.abs().max()) * step_value, 1e-12)
            if i == 0:
                scale = limit
                input_scale = scale * wmax / WEIGHT_MAX
                inputs = torch.round(x.double() * input_scale)
                real = w * scale / input_scale
            else:
                scale = min(limit, WEIGHT_MAX / wmax)
                real = w * step_value * scale
            weight = file_weights(round_weights(real, inputs).numpy())
            if unit_layer.is_readout:                 # always the last layer
                layers.append(FixedPointLayer(weight, np.zeros(len(b), np.int64), 0, readout=True))
                break
            table = np.ceil(unit_layer.levels.double().numpy() * scale).astype(np.int64)
            if np.any(np.diff(table) <= 0):
                raise InputError(f"layer {i + 1}: its {len(table)} thresholds collapse at state scale {scale:.3g}; "
                                 f"the 24-bit state cannot hold {int(np.log2(len(table) + 1))} bits of this layer's "
                                 f"range (use fewer bits or more headroom)")
            layer = FixedPointLayer(weight, np.rint(b.numpy() * scale).astype(np.int64), 0, levels=table)
            layers.append(layer)
            inputs = torch.as_tensor(levels_of(dense(lava_weights(layer.weight), inputs.numpy().astype(np.int64))
                                               + layer.bias, table), dtype=torch.float64)
        meta = {**snn.metadata, "quantization": {"headroom": headroom, "timesteps": snn.timesteps}}
        return QuantizedNetwork(layers, input_scale, scale, b.tolist(), list(snn.lower), list(snn.upper), meta,
                                neuron=self.name, timesteps=snn.timesteps)

    def steps_per_inference(self, timesteps, n_layers):
        return bitserial_steps(timesteps, n_layers)

    def start_state(self, layer, n):
        return {key: np.zeros((n, layer.size), np.int64) for key in ("u", "magnitude", "sign", "level")}

    def integer_step(self, layer, state, a, *, index, step, timesteps, n_layers, monitor):
        start, length = schedule(timesteps, n_layers)[index]
        j = step - start
        if 0 <= j < length:
            if j == 0:
                state["u"][:] = 0
            state["u"] += np.left_shift(a, length - 1 - j)
            monitor.check("potential", state["u"], index)
            if j == length - 1 and not layer.readout:
                total = state["u"] + layer.bias
                monitor.check("potential", total, index)
                state["sign"], state["magnitude"], state["level"][:] = np.sign(total), np.abs(total), 0
        emit = step - (start + length - 1)
        if layer.readout or not 0 <= emit < timesteps:
            return None
        candidate = state["level"] + (1 << (timesteps - 1 - emit))
        bit = state["magnitude"] >= layer.levels[candidate - 1]
        state["level"] = np.where(bit, candidate, state["level"])
        return state["sign"] * bit

    def message_weight(self, *, index, step, timesteps, n_layers):
        start, length = schedule(timesteps, n_layers)[index]
        return 1 << (timesteps - 1 - (step - (start + length - 1)))        # the place of the bit sent

    def readout_state(self, state):
        return state["u"]

    def integer_reference(self, layers, messages):
        return integer_reference(layers, messages)

    # -- netx ----------------------------------------------------------------------------------
    def write_neuron(self, group, layer, index, qnet):
        from loihi_pinn.export.netx import write_string
        write_string(group, "neuron/type", self.netx_type)
        start, accumulate = schedule(qnet.timesteps, len(qnet.layers))[index]
        levels = layer.levels if layer.levels is not None else np.zeros(2 ** qnet.timesteps - 1, np.int64)
        group.create_dataset("neuron/levels", data=levels.astype(np.int32))
        for key, value in (("bits", qnet.timesteps), ("start", start), ("accumulate", accumulate),
                           ("interval", qnet.steps), ("readout", int(layer.readout))):
            group.create_dataset(f"neuron/{key}", data=value)

    def read_neuron(self, group, *, readout, what):
        from loihi_pinn.export.netx import read_integers
        return {} if readout else {"levels": read_integers(group["neuron/levels"], f"{what} thresholds")}

    # -- Lava ----------------------------------------------------------------------------------
    def lava_network_class(self):
        from loihi_pinn.runtime.netx_ext import Network
        return Network

    def readout_var(self, process):
        return process.u

    def lava_params(self, neuron_config):
        from .lava_bitserial import bitserial_params
        return bitserial_params(neuron_config)
