"""What a neuron model is: the one object through which every stage uses it.

A model owns everything about itself, from the float layer step to the Lava wiring; the stages
(conversion, loihi, export, runtime, cli) call it and never branch on its name. The methods come
in the pipeline's order; the defaults here serve models that step once per time step with one
state per neuron (IF and sigma-delta). ``loihi_pinn.neurons.contract`` checks a model against
this interface: a new model is one module plus ``register_neuron``.

Units: float layers work in the ANN's activation units; integer layers in the model's fixed-point
units (see each module). Shapes: ``(T, batch, units, P)`` for currents of an expanded layer with
P neurons a unit; ``(n, neurons)`` for integer states.
"""
from __future__ import annotations

import numpy as np
import torch

from loihi_pinn.conversion.expansion import Realization, exact_relu_form
from loihi_pinn.conversion.network import SpikingLayer
from loihi_pinn.errors import InputError

DEFAULT_TIMESTEPS = 32
"""Time steps per inference of a rate-coded conversion when the user gives none."""
SMOOTH_OR_PIECEWISE = frozenset({"tanh", "sin", "relu", "leaky_relu", "hardtanh"})
"""The MLP activations every model realizes (exactly for the piecewise-linear ones)."""


def heaviside_ste(x: torch.Tensor, width: float) -> torch.Tensor:
    """(x >= 0) forward; backward 1/width for |x| < width/2 (boxcar surrogate)."""
    hard = (x >= 0).to(x.dtype)
    soft = torch.clamp(x / width + 0.5, 0.0, 1.0)
    return soft + (hard - soft).detach()


def ideal_neuron_outputs(realization: Realization, z: torch.Tensor, f_z: torch.Tensor) -> torch.Tensor:
    """What each neuron should output, ``(batch, n, P)``, for pre-activations and activations
    ``(batch, n)``: its input ``sign * value - offset`` (rectified unless signed)."""
    sign, offset, _ = realization.expansion.tensors(z.dtype)
    value = f_z if realization.encodes_activation else z
    inputs = sign * value[..., None] - offset
    return inputs if realization.signed else torch.relu(inputs)


class NeuronModel:
    """Base of every neuron model. Subclasses set the class attributes and implement the
    methods that raise ``NotImplementedError``."""

    # -- identity and chip facts --------------------------------------------------------------
    name: str                                  # stored in .snn and .net files
    aliases: tuple[str, ...] = ()              # other names the command line accepts
    description: str
    signed: bool                               # one neuron carries a signed value
    graded: bool                               # messages carry graded values; one is sent per change
    loihi_native: bool                         # stock Loihi 2 microcode runs it (a stock netx type)
    hardware_note: str = ""                    # why the loihi2 backend cannot run it, if it cannot
    message_bits: int                          # payload bits of one message
    chip_labels: tuple[str, str]               # (hidden layer, readout) in chip estimates
    activations: frozenset[str] = SMOOTH_OR_PIECEWISE   # ANN activations it converts
    default_calibration: str = "advanced"      # calibration mode when the user gives none
    calibrates_v0: bool = True                 # calibration fits initial potentials
    takes_pieces: bool = False                 # realizes a smooth activation by --pieces ReLU pieces a unit
    hand_example: dict                         # one neuron worked by hand, checked by the contract tests:
                                               # threshold, currents and decoded outputs per step (levels: bit-serial)

    # -- netx --------------------------------------------------------------------------------
    netx_type: str                             # neuron/type of hidden layers
    readout_netx_type: str                     # neuron/type of the readout layer
    netx_args: dict                            # how netx.hdf5.Network must load the file
    encoding: str                              # how points go in and outputs come out (model card)

    # -- Lava --------------------------------------------------------------------------------
    input_every_step: bool                     # the input is held (rate coding) or sent once
    delta_coded: bool = False                  # sends only changes: an inference starts from the network's
                                               # zero-input rest state, and points can follow one another in a
                                               # stream without a reset (loihi/stream.py)
    relu_shift: int | None = None              # hidden layers send relu(sigma + bias << s) >> s: the integer pass
                                               # is a ReLU network that loihi/finetune.py can differentiate
    weight_max_candidates: tuple[int, ...] = (15,)   # hidden file-weight caps an export tries; the one whose
                                               # calibrated fixed point is closest to the float SNN is kept

    # -- NIR ---------------------------------------------------------------------------------
    nir_note: str | None = "NIR 1.0 has no node for this neuron"   # why its layers have no NIR node; None: they have

    def __repr__(self) -> str:
        return f"<neuron model {self.name}: {self.description}>"

    # == conversion (float) ====================================================================
    def default_timesteps(self, architecture: dict) -> int:
        """T per inference for a network of ``architecture`` (checkpoint metadata)."""
        return DEFAULT_TIMESTEPS

    def realize(self, activation: str, z: torch.Tensor, pieces: int) -> Realization:
        """How this model's neurons realize a smooth ``activation`` given the layer's
        pre-activations ``z`` ``(batch, units)`` on calibration data."""
        raise NotImplementedError

    def hidden_layer(self, weight: torch.Tensor, bias: torch.Tensor, act: torch.nn.Module, z: torch.Tensor,
                     u: torch.Tensor, architecture: dict, *, timesteps: int, percentile: float, pieces: int,
                     delta_fraction: float) -> SpikingLayer:
        """The spiking layer for one hidden ANN layer (``weight`` ``(n, n_in)``, ``bias``,
        activation module ``act``, pre-activations ``z`` and activations ``u`` ``(batch, n)``):
        its realization, and its threshold from the ``percentile`` of ideal neuron outputs."""
        exact = exact_relu_form(architecture["activation"], architecture.get("negative_slope"))
        realization = (Realization(exact, signed=False, encodes_activation=False) if exact is not None
                       else self.realize(architecture["activation"], z, pieces))
        ideal = ideal_neuron_outputs(realization, z, u)
        scale = float(np.percentile(ideal.abs().flatten().numpy(), percentile))
        if not scale > 0:
            raise InputError("a hidden layer is silent on the calibration points (all activations 0); "
                             "check the points lie in the problem's domain")
        theta = scale * delta_fraction if self.graded else scale
        return SpikingLayer(weight, bias, realization.expansion, theta, signed=realization.signed)

    def conversion_metadata(self, *, pieces: int, delta_fraction: float) -> dict:
        """Conversion settings worth recording for this model."""
        return {}

    def step(self, i: torch.Tensor, state: torch.Tensor, theta: float, surrogate: bool, signed: bool):
        """One float time step of a layer's neurons: input current ``i`` ``(batch, neurons)``
        -> (output value y, new state). ``surrogate`` gives spikes a straight-through gradient."""
        raise NotImplementedError

    def sent(self, y: torch.Tensor, y_prev: torch.Tensor) -> torch.Tensor:
        """Boolean mask of neurons that sent a message this step, shape of ``y``."""
        return (y != y_prev) if self.graded else (y != 0)

    def run_layer(self, layer: SpikingLayer, currents: torch.Tensor, *, surrogate: bool = False,
                  v0: torch.Tensor | None = None):
        """Run one hidden layer for all steps on neuron currents ``(T, batch, units, P)``.
        Returns (decoded outputs ``(T, batch, units)``, messages sent ``(units * P,)`` summed
        over T and batch; None with ``surrogate``)."""
        _, _, coeff = layer.expansion.tensors(currents.dtype)
        state = (layer.v0 if v0 is None else v0).to(currents.dtype).expand_as(currents[0]).clone()
        y_prev = torch.zeros_like(currents[0])
        outputs, sent = [], torch.zeros(currents.shape[2:], dtype=torch.long)
        for current in currents:
            y, state = self.step(current, state, layer.threshold, surrogate, layer.signed)
            outputs.append(layer.expansion.const + (coeff * y).sum(-1))
            if not surrogate:
                sent += self.sent(y, y_prev).sum(0)
                y_prev = y
        return torch.stack(outputs), None if surrogate else sent.reshape(-1)

    def emulated_steps(self, timesteps: int) -> int:
        """Steps the float emulator must run for T = ``timesteps``."""
        return timesteps

    def input_steps(self, timesteps: int) -> int:
        """Steps at which the input is sent in one inference (float emulator counts)."""
        return timesteps if self.input_every_step else 1

    # == calibration ===========================================================================
    def check_calibration(self, mode: str) -> None:
        """Refuse calibration modes that make no sense for this model."""

    def v0_bounds(self, layer: SpikingLayer) -> tuple[float, float]:
        """Range of a calibrated initial potential."""
        return 0.0, layer.threshold

    # == fixed point ===========================================================================
    def quantize(self, snn, x: torch.Tensor, *, headroom: float, weight_max: int):
        """The ``QuantizedNetwork`` of float ``snn`` given its normalized calibration inputs
        ``x`` ``(n, d_in)`` (float64): ``headroom`` times the calibration peak must fit 24-bit
        state; ``weight_max`` is the largest hidden file weight aimed at, where the model uses it."""
        raise NotImplementedError

    def steps_per_inference(self, timesteps: int, n_layers: int) -> int:
        """Time steps from the input's first step to the step the readout holds the output."""
        raise NotImplementedError

    def sends_input(self, step: int) -> bool:
        """Whether the input messages are sent at ``step`` of an inference."""
        return self.input_every_step or step == 0

    def start_state(self, layer, n: int) -> dict:
        """The integer state of ``layer`` for ``n`` points at the start of an inference."""
        raise NotImplementedError

    def integer_step(self, layer, state: dict, a: np.ndarray, *, index: int, step: int, timesteps: int,
                     n_layers: int, monitor) -> np.ndarray | None:
        """Update ``state`` in place on the Dense output ``a`` ``(n, neurons)``; return the
        integer messages sent ``(n, neurons)`` (None when the layer sends nothing, and always for
        the readout). ``monitor.check(name, value, index)`` every state against 24 bits."""
        raise NotImplementedError

    def message_weight(self, *, index: int, step: int, timesteps: int, n_layers: int) -> int:
        """How much a message of layer ``index`` sent at ``step`` weighs for its receiver."""
        return 1

    def readout_state(self, state: dict) -> np.ndarray:
        """The readout's integer output ``(n, d_out)`` from its final state."""
        raise NotImplementedError

    readout_input_gain: int = 1
    """Factor by which the readout multiplies an arriving message before integrating it."""

    def correct_biases(self, qnet, snn, points: np.ndarray, messages: np.ndarray) -> None:
        """Fixed-point calibration of the hidden layers (in place) before the readout refit."""

    def integer_reference(self, layers, messages: np.ndarray) -> np.ndarray | None:
        """The exact integer network the fixed-point run must equal, where the model has one."""
        return None

    # == netx ==================================================================================
    def write_neuron(self, group, layer, index: int, qnet) -> None:
        """Write ``neuron/type`` and the model's parameters of ``layer`` (position ``index``, 0-based
        among the dense layers) into its h5py ``group``."""
        raise NotImplementedError

    def read_neuron(self, group, *, readout: bool, what: str) -> dict:
        """The model-specific ``FixedPointLayer`` arguments stored in ``group`` (``what`` names
        the layer in errors)."""
        return {}

    # == Lava ==================================================================================
    def lava_interval(self, steps: int) -> int:
        """Time steps one inference occupies in a Lava stream (``steps`` per inference plus any
        step needed to reset)."""
        return steps

    def lava_network_class(self):
        """The netx loader class of this model's files (stock ``netx.hdf5.Network`` by default)."""
        from loihi_pinn.loihi.lava_env import import_netx
        return import_netx().hdf5.Network

    def readout_var(self, process):
        """The Var of the readout neuron process that holds the output."""
        raise NotImplementedError

    def lava_resets(self, net, qnet, copies: int, interval: int) -> list:
        """Processes that reset the states between inferences inside the run loop."""
        return []

    def stock_lava_steps(self, steps: int) -> dict:
        """For the model card's ``stock_lava`` section (``export/recipe.py``): where a user of stock
        Lava reads the output (``read``) and how to run many points (``many_points``); ``steps``:
        time steps per inference."""
        return {"many_points": "run one graph per point (stock Lava cannot restore this model's start state)"}

    def nir_node(self, threshold: float, size: int):
        """The NIR node of one hidden layer of ``size`` neurons with threshold ``threshold``
        (``export/nir_graph.py``); only models with ``nir_note = None`` give one."""
        raise NotImplementedError(self.nir_note)

    def lava_params(self, neuron_config) -> dict | None:
        """netx neuron parameters of a custom netx type (None for stock types)."""
        return None
