"""Sigma-delta ReLU neurons with graded spikes: Loihi 2's native SDNN (netx ``SDNN``).

Float: a neuron's state is the last value y it sent; it sends relu(i) - y when that change
reaches the delta threshold theta. A smooth activation f is realized by K ReLU pieces a unit
(``pwl_expansion``, seed 000's Theorem 1); on a static input the state settles in one step.

Fixed point, bit for bit as Lava's ``fixed_pt`` models run it (``lava/proc/sdn/models.py``; netx
with ``state_exp = 6`` and ``spike_exp = 0``). The input is sent at step 0 only (delta coding of a
constant input); every Dense delays a step, so the readout holds its value after
``len(layers) + 1`` steps. Per step and neuron:

    sigma += a                                                 # a: Dense output, one step late
    act    = relu(sigma + (bias << 6))                         # SigmaDelta, RELU mode
    delta  = act - act_prev + residue
    sent   = delta if |delta| >= (vth << 6) else 0;  residue = delta - sent
    s_out  = sent >> 6                                         # graded spike (floor)

and the ``Sigma`` readout only accumulates. netx's default ``spike_exp = 6`` would store biases
<< 12: a bias resolution of 4096 state units, too coarse for PINN layers whose state scale is
~1e5 per unit; ``spike_exp = 0`` gives 64.

Quantization: each layer l gets a state scale A_l (real 1.0 = A_l in sigma and activation
integers); its graded spikes then carry 1.0 = A_l / 64, so file weights are ``w * A_l / M_{l-1}``
rounded (M the sender's message scale), biases and delta thresholds ``round(. * A_l / 2^6)``.
"""
from __future__ import annotations

import numpy as np
import torch

from loihi_pinn.conversion.expansion import Realization, pwl_expansion
from loihi_pinn.errors import InputError
from loihi_pinn.loihi.fixed_point import INPUT_MESSAGE_BITS, STATE_BITS, STATE_LIMIT, WEIGHT_MAX, FixedPointLayer
from loihi_pinn.loihi.rounding import file_weights, round_weights

from .base import NeuronModel

STATE_EXP = 6                                # netx: SigmaDelta(state_exp=6)
SPIKE_EXP = 0                                # we load with netx Network(spike_exp=0) (default 6) ...
PARAM_SHIFT = SPIKE_EXP + STATE_EXP          # ... so SigmaDelta stores bias and vth << 6, not << 12
NETX_ARGS = {"skip_layers": 1, "input_message_bits": INPUT_MESSAGE_BITS, "spike_exp": SPIKE_EXP}
READOUT_EXTRA_BITS = 2       # message bits the hidden layers may give to the readout's weights (state_scales)
MIN_WEIGHT_BITS = 4          # refuse when the largest weight has fewer significant bits than this
RANGE_QUANTILE = 0.999       # PWL breakpoints span this quantile of |z| on the calibration points
TANH_RANGE = (1.0, 4.0)      # ... clipped to this for tanh (it is flat beyond 4)
LAVA_STATE = ("sigma", "act", "residue")     # SigmaDelta Vars set to rest between inferences ("error": unused)


def sigma_delta_step(i, y, theta, surrogate=False, signed=False):
    """Sigma-delta with ReLU: the state is the last sent value y; sends relu(i) - y when that
    change reaches theta. Returns (y, y) (output and state are the reconstructed activation)."""
    a = torch.relu(i)
    change = a - y
    send = (change.abs() >= theta).to(a.dtype) if theta > 0 else torch.ones_like(a)
    y_new = y + send * change
    if surrogate:                       # straight through: d y / d i = relu'(i)
        y_new = a + (y_new - a).detach()
    return y_new, y_new


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


def float_pass(folded, x: torch.Tensor) -> list[dict]:
    """Per layer of a folded ReLU network: ``sigma`` (input current without bias) and ``pre``
    (with it), float64 ``(n, neurons)``."""
    out, h = [], x
    for w, b in folded:
        sigma = h @ w.T
        out.append({"sigma": sigma, "pre": sigma + b})
        h = torch.relu(sigma + b)
    return out


def state_scales(peaks: list[float], wmax: list[float], headroom: float, weight_max: int) -> list[float]:
    """State scales A_l. Every layer may use its whole 24-bit state, A_l <= 2^23 / (headroom *
    peak_l). Each Dense re-scales by w * 64 * A_l / A_{l-1}, so small weights between layers
    at equal scales would get few bits: going back from the last hidden layer (at its limit),
    layer l-1 is scaled down where needed so that layer l's largest weight is ``weight_max``.
    The readout then takes the largest scale its state and the 8-bit weight range allow; where
    its state is what limits it, the hidden layers give up to ``READOUT_EXTRA_BITS`` message bits
    so that its weights gain as many (measured: poisson 4.2e-3 -> 3.7e-3, diffusion_reaction
    2.0e-3 -> 1.5e-3; more bits gained nothing)."""
    limits = [(STATE_LIMIT - 1) / (headroom * max(p, 1e-12)) for p in peaks]
    scales = [limits[-2]]
    for l in range(len(peaks) - 2, 0, -1):
        scales.insert(0, min(limits[l - 1], 2 ** STATE_EXP * wmax[l] * scales[0] / weight_max))
    readout = min(limits[-1], WEIGHT_MAX * scales[-1] / (2 ** STATE_EXP * wmax[-1]))
    # a readout held back by its own 24-bit state gets up to READOUT_EXTRA_BITS more weight bits from
    # every hidden layer's messages: all hidden scales fall by 2^k, hidden weights keep theirs
    largest = 2 ** STATE_EXP * wmax[-1] * readout / scales[-1]           # the readout's largest file weight
    k = int(np.clip(np.floor(np.log2(WEIGHT_MAX / max(largest, 1e-12))), 0, READOUT_EXTRA_BITS))
    return [a / 2 ** k for a in scales] + [readout]


def _bits(value: float) -> int:
    """Signed bits needed for integers up to ``value`` in magnitude."""
    return int(np.ceil(np.log2(value + 1))) + 1


class SigmaDelta(NeuronModel):
    name = "sigma_delta"
    nir_note = ("NIR 1.0 has no sigma-delta (graded, delta-coded) neuron: its nodes send binary spikes or "
                "continuous values, not the change of a value since the last message")
    description = "sigma-delta ReLU, graded spikes, PWL expansion of the activation (Loihi 2 SDNN)"
    signed, graded, loihi_native = False, True, True
    message_bits = STATE_BITS
    chip_labels = ("SigmaDelta ReLU", "Sigma readout")
    calibrates_v0 = False                       # its state is what it sent: nothing to initialize
    takes_pieces = True
    # relu(i) = 1, 1.2 (change .2 < theta: nothing sent), 2, 0
    hand_example = {"threshold": 0.5, "currents": [1.0, 1.2, 2.0, -1.0], "outputs": [1.0, 1.0, 2.0, 0.0]}
    netx_type = readout_netx_type = "SDNN"
    netx_args = NETX_ARGS
    encoding = ("input messages round(x_normalized * input_scale), sent once; "
                "output = readout sigma / output_scale + output_offset")
    input_every_step = False
    delta_coded = True
    relu_shift = STATE_EXP

    # -- conversion ----------------------------------------------------------------------------
    def realize(self, activation, z, pieces):
        q = float(torch.quantile(z.abs().flatten()[:100_000].double(), RANGE_QUANTILE))
        lim = min(max(q, TANH_RANGE[0]), TANH_RANGE[1]) if activation == "tanh" else max(q, 1e-3)
        return Realization(pwl_expansion(activation, pieces, (-lim, lim)), signed=False, encodes_activation=False)

    def conversion_metadata(self, *, pieces, delta_fraction):
        # relay pairs where they save synapses (SpikingNetwork.neuron_level): sin K = 8 fixed point 5.42e-3 -> 4.74e-3
        # at 0.53x the synaptic ops, one more step (benchmarks/loihi_export.py)
        return {"pwl_pieces": pieces, "delta_fraction": delta_fraction, "realization": "relay"}

    def step(self, i, state, theta, surrogate, signed):
        return sigma_delta_step(i, state, theta, surrogate, signed)

    def emulated_steps(self, timesteps):
        return 1                                # a static input settles in one step; later ones send nothing

    # -- fixed point ---------------------------------------------------------------------------
    def quantize(self, snn, x, *, headroom, weight_max):
        """Fold the PWL expansions into a neuron-level ReLU network and equalize it, choose the
        A_l (``state_scales``) and the input scale, round the weights with error feedback on
        the calibration data (``round_weights``)."""
        from loihi_pinn.loihi.network import QuantizedNetwork

        if not 8 <= weight_max <= WEIGHT_MAX:
            raise InputError(f"weight_max must be in [8, {WEIGHT_MAX}], got {weight_max}")
        folded = equalize(snn.neuron_level())
        thresholds = snn.neuron_level_thresholds()
        passes = float_pass(folded, x)
        peaks = [float(torch.maximum(v["sigma"].abs().max(), v["pre"].abs().max())) for v in passes]
        wmax = [max(float(w.abs().max()), 1e-12) for w, _ in folded]
        scales = state_scales(peaks, wmax, headroom, weight_max)
        input_scale = scales[0] * wmax[0] / WEIGHT_MAX
        layers, msg_scale, messages = [], input_scale, x * input_scale
        for i, ((w, b), scale) in enumerate(zip(folded, scales)):
            readout = i == len(folded) - 1
            weight = file_weights(round_weights(w * scale / msg_scale, messages).numpy())
            if np.abs(weight).max() < 2 ** (MIN_WEIGHT_BITS - 1):
                fix = ("lower the headroom (--headroom, now {:g}) or ".format(headroom) if headroom > 1 else "")
                raise InputError(f"layer {i + 1} cannot be quantized: its activations span too wide a range for "
                                 f"24-bit state with {MIN_WEIGHT_BITS}-bit weights (largest weight "
                                 f"{np.abs(weight).max()}); {fix}retrain with smaller weights or fewer, "
                                 f"narrower layers")
            bias = np.zeros(len(b)) if readout else np.rint(b.numpy() * scale / 2 ** PARAM_SHIFT)
            vth = 0 if readout else int(round(thresholds[i] * scale / 2 ** PARAM_SHIFT))
            layers.append(FixedPointLayer(weight, bias.astype(np.int64), vth, readout=readout))
            msg_scale = scale / 2 ** STATE_EXP
            messages = torch.relu(passes[i]["pre"]) * msg_scale
        meta = {**snn.metadata, "quantization": {
            "headroom": headroom, "weight_max": weight_max, "state_scales": scales,
            "message_bits": [_bits(p * a / 2 ** STATE_EXP) for p, a in zip(peaks, scales)],
            "weight_bits": [_bits(np.abs(l.weight).max()) for l in layers]}}
        return QuantizedNetwork(layers, input_scale, scales[-1], folded[-1][1].tolist(), list(snn.lower),
                                list(snn.upper), meta, neuron=self.name, timesteps=1)

    def steps_per_inference(self, timesteps, n_layers):
        return n_layers + 1

    def start_state(self, layer, n):
        zeros = np.zeros((n, layer.size), np.int64)
        return {"sigma": zeros, "act": zeros.copy(), "residue": zeros.copy()}

    def integer_step(self, layer, state, a, *, index, step, timesteps, n_layers, monitor):
        monitor.check("synaptic input", a, index)
        state["sigma"] += a
        monitor.check("sigma", state["sigma"], index)
        if layer.readout:
            return None
        act = np.maximum(state["sigma"] + (layer.bias << PARAM_SHIFT), 0)
        monitor.check("activation", act, index)
        delta = act - state["act"] + state["residue"]
        out = np.where(np.abs(delta) >= (layer.vth << PARAM_SHIFT), delta, 0)
        state["residue"], state["act"] = delta - out, act
        return np.right_shift(out, STATE_EXP)

    def readout_state(self, state):
        return state["sigma"]

    def correct_biases(self, qnet, snn, points, messages):
        """Layer by layer, each hidden neuron's integer bias is shifted by the mean difference
        between its fixed-point and float pre-activation (the systematic part of rounding and of
        the floored graded spikes)."""
        x = snn.normalize(torch.as_tensor(points, dtype=torch.float64))
        passes = float_pass(equalize(snn.neuron_level()), x)
        scales = qnet.metadata["quantization"]["state_scales"]
        for k, layer in enumerate(qnet.layers[:-1]):
            _, stats = qnet.run_integers(messages, keep_states=True)
            state = stats.states[k]
            pre = state["sigma"] + (layer.bias << PARAM_SHIFT)
            error = pre / scales[k] - passes[k]["pre"].numpy()
            layer.bias = layer.bias - np.rint(error.mean(0) * scales[k] / 2 ** PARAM_SHIFT).astype(np.int64)

    # -- netx ----------------------------------------------------------------------------------
    def write_neuron(self, group, layer, index, qnet):
        from loihi_pinn.export.netx import write_string
        write_string(group, "neuron/type", self.netx_type)
        if layer.readout:
            group.create_dataset("neuron/sigma_output", data=True)

    def read_neuron(self, group, *, readout, what):
        if ("sigma_output" in group["neuron"]) != readout:
            raise InputError(f"{what}: the readout must be the last layer and the only one with neuron/sigma_output")
        return {}

    # -- Lava ----------------------------------------------------------------------------------
    def lava_interval(self, steps):
        return steps + 1                        # one idle step, at whose end the states are reset

    def readout_var(self, process):
        return process.sigma

    def stock_lava_steps(self, steps):
        return {
            "read": (f"r = Network.layers[-1].neuron.sigma at the end of step {steps} of the inference "
                     f"(lava.proc.io.sink.Read(buffer=N, interval={steps + 1}, offset={steps - 1}))"),
            "many_points": (f"one point every {steps + 1} steps: after the idle step {steps + 1}, set "
                            f"{', '.join(LAVA_STATE)} of every hidden layer's neuron and sigma of the readout to 0 "
                            f"with lava.proc.io.reset.Reset(reset_value=0, interval={steps + 1}, offset={steps}) "
                            f"connected to each Var; then run RunSteps(N * {steps + 1}). Zero gives the same outputs "
                            f"as loihi-pinn's resets to the rest state (the states after {steps} steps of zero input: "
                            f"every layer settles before a point's change reaches it), but each point then resends "
                            f"the bias-driven messages; the card's loihi_errors count from rest"),
            "stream": "see the card's stream section (points one after another, reset to rest every reset_every)",
            "script": ("python netx_exports/run_with_stock_lava.py FILE POINTS.npy|csv --out U.npy "
                       "(lava-nc, lava-dl, numpy and h5py only)")}

    def lava_resets(self, net, qnet, copies, interval):
        """Every state back to the network's rest state (``fixed_point.rest_states``) at the end
        of the idle step, when the Dense buffers are empty; the Runner's graph reaches that state
        first by settling on a block of zero input (``lava_graph``)."""
        from loihi_pinn.runtime.reset import ResetTo

        rest = qnet.rest_states()
        neurons = [layer.neuron for layer in net.layers]
        resets = []
        for k, neuron in enumerate(neurons):
            for name in (("sigma",) if k == len(neurons) - 1 else LAVA_STATE):
                values = np.tile(rest[k][name][0], copies).astype(np.int32)
                resets.append(ResetTo(var=getattr(neuron, name), values=values, interval=interval,
                                      offset=interval - 1))
        return resets
