"""Fine-tuning a sigma-delta export's integer weights and biases through its bit-exact integer pass.

Every step runs a fresh draw of points through the integer network (``run_integers``: what the
Lava simulator and the chip compute) and keeps what each layer delivered. The gradient comes from
that same pass read as a ReLU network at its exact operating points: a hidden layer's messages
are ``relu(sigma + bias << 6) / 2^6`` with their exact integer values substituted, so rounding and
the floored messages pass tangents straight through. Three gradient estimators:

- ``rfg``: randomized forward gradients by activity perturbation (Ren et al., ICLR 2023): per
  layer, random tangents on each point's pre-activations, the loss's directional derivatives by
  forward-mode AD (``torch.autograd.forward_ad``), and the layer's weight gradient from them and its inputs.
  No backward pass; the noise grows with a layer's neurons (100), not its weights (10,000).
- ``rfg-weights``: seed 002's randomized forward gradients by weight perturbation: random
  tangents over all weights (RFG-G) or a layer's (``layerwise``: RFG-L). Its noise grows with the
  number of weights: on 20,000 integers it does not move them (benchmarks/finetune.py).
- ``bp``: the same gradient by back-propagation, the reference the seed compares against.

Latent float parameters (each tensor's integers over its largest magnitude) keep the sub-integer
part of the updates; the network holds their rounding. The best network on held-out points (whose
states keep the export's 24-bit headroom) is kept: fine-tuning never returns a network worse than
it started on those points.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import torch
import torch.autograd.forward_ad as fwad
from tqdm.auto import tqdm

from loihi_pinn.errors import InputError

from loihi_pinn.training.forward_gradient import forward_gradient

from .fixed_point import STATE_LIMIT, WEIGHT_MAX, WEIGHT_MIN, StateOverflow
from .network import QuantizedNetwork

METHODS = ("rfg", "rfg-weights", "bp")


@dataclass
class FinetuneConfig:
    """``steps`` updates, each on ``points`` fresh uniform points of the box; ``tangents`` random
    directions a step and layer (``rfg``), a step (``rfg-weights``; a step and layer if
    ``layerwise``); Adam with learning rate ``lr`` (a fraction of each tensor's largest integer)
    decaying to 0 by a cosine; held-out check every ``check_every`` steps
    on ``validation_points`` points. ``seed`` fixes every draw."""

    method: str = "bp"
    layerwise: bool = False
    steps: int = 400
    points: int = 1024
    tangents: int = 4
    lr: float = 1e-3
    check_every: int = 25
    validation_points: int = 4096
    seed: int = 0

    def __post_init__(self):
        if self.method not in METHODS:
            raise InputError(f"unknown fine-tuning method {self.method!r}; choose one of {', '.join(METHODS)}")
        for name in ("steps", "points", "tangents", "check_every", "validation_points"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise InputError(f"lr must be > 0, got {self.lr}")


def tensor_units(qnet: QuantizedNetwork) -> list[tuple[float, float]]:
    """Per layer, the largest |file weight| and |bias| (at least 1): latent parameters are the
    integers over these, so one learning rate means the same relative step in every tensor
    (hidden weights of 5 bits, readout weights of 8, biases of 15)."""
    return [(float(max(1, np.abs(l.weight).max())), float(max(1, np.abs(l.bias).max(initial=0))))
            for l in qnet.layers]


def _round_through(x: torch.Tensor) -> torch.Tensor:
    """round(x) forward, identity backward (and for tangents)."""
    return x + (torch.round(x) - x).detach()


def _exact_through(value: torch.Tensor, exact: np.ndarray) -> torch.Tensor:
    """``exact`` forward; ``value``'s derivative (and tangent)."""
    return value + (torch.as_tensor(exact, dtype=value.dtype) - value).detach()


class IntegerPass:
    """The loss of an export on points, evaluated by its integer pass and differentiable in the
    latent parameters ``[w_0, b_0, w_1, b_1, ..., w_L]`` (file integers over ``tensor_units``)."""

    def __init__(self, qnet: QuantizedNetwork):
        self.shift = qnet.model.relu_shift          # messages relu(sigma + bias << shift) >> shift
        if self.shift is None:
            raise InputError(f"fine-tuning runs on sigma-delta exports (the ReLU network Loihi 2's SDNN runs); "
                             f"this file's neurons are {qnet.neuron!r}")
        self.qnet = qnet
        self.scales = tensor_units(qnet)

    def latent(self) -> list[torch.Tensor]:
        """The latent parameters equal to the network's integers, float64."""
        params = []
        for layer, (ws, bs) in zip(self.qnet.layers, self.scales):
            params.append(torch.as_tensor(layer.weight / ws, dtype=torch.float64))
            if not layer.readout:
                params.append(torch.as_tensor(layer.bias / bs, dtype=torch.float64))
        return params

    def store(self, params) -> None:
        """Write the rounding of ``params`` into the network (weights clipped to netx's range)."""
        it = iter(params)
        for layer, (ws, bs) in zip(self.qnet.layers, self.scales):
            layer.weight = np.clip(np.rint(next(it).detach().numpy() * ws), WEIGHT_MIN, WEIGHT_MAX).astype(np.int64)
            if not layer.readout:
                layer.bias = np.rint(next(it).detach().numpy() * bs).astype(np.int64)

    def run(self, messages: np.ndarray):
        """The integer pass: readout integers ``(n, d_out)`` and what each hidden layer delivered."""
        raw, stats = self.qnet.run_integers(messages, keep_states=True)
        return raw, stats.sent, stats.peak_state

    # what ``finetune`` asks of a pass (``SeparablePass`` answers the same for a separable export)
    @property
    def networks(self) -> list[QuantizedNetwork]:
        return [self.qnet]

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
        """``n`` uniform points ``(n, d_in)`` of the box and their messages (one array: one network)."""
        points = _draw(self.qnet, n, rng)
        return points, [self.qnet.encode(points)]

    def forward(self, messages: list[np.ndarray]) -> list[tuple]:
        """The integer pass on ``messages``: ``[(raw, sent, peak state per layer)]``."""
        return [self.run(messages[0])]

    def predict(self, params, messages: list[np.ndarray], runs: list[tuple], nudges: dict | None = None):
        """``outputs`` of the pass ``runs`` on ``messages``: ``(n, d_out)``."""
        return self.outputs(params, messages[0], *runs[0][:2], nudges)

    def decode(self, runs: list[tuple], wanted: np.ndarray | None = None) -> np.ndarray:
        """Physical outputs ``(n, d_out)`` of ``runs``; with ``wanted``, the off-chip output offset
        is refitted to it first (the readout's bias is a host addition, free to choose)."""
        if wanted is not None:
            self.qnet.output_offset = (np.asarray(self.qnet.output_offset)
                                       + (wanted - self.qnet.decode(runs[0][0])).mean(0)).tolist()
        return self.qnet.decode(runs[0][0])

    def layer_groups(self) -> list[list[int]]:
        """Parameter indices per layer in ``latent``'s order (weight and bias together)."""
        groups, index = [], 0
        for layer in self.qnet.layers:
            size = 1 if layer.readout else 2
            groups.append(list(range(index, index + size)))
            index += size
        return groups

    def activity_inputs(self, messages: list[np.ndarray], runs: list[tuple]) -> list[torch.Tensor]:
        """What each layer received on the pass ``runs``: ``[(n, fan_in)]`` (``activity_forward_gradient``)."""
        return [torch.as_tensor(a, dtype=torch.float64) for a in [messages[0], *runs[0][1]]]

    def outputs(self, params, messages: np.ndarray, raw: np.ndarray, sent: list[np.ndarray],
                nudges: dict | None = None) -> torch.Tensor:
        """Physical outputs ``(n, d_out)``: the integer pass's values, ``params``' derivatives.
        ``nudges`` {layer: ``(n, neurons)``} are added to those layers' pre-activations (state
        units; zero values, for activity-perturbed forward gradients)."""
        q, it, nudges = self.qnet, iter(params), nudges or {}
        m = torch.as_tensor(messages, dtype=torch.float64)
        for k, (layer, (ws, bs)) in enumerate(zip(q.layers, self.scales)):
            z = m @ _round_through(next(it) * ws).T
            if not layer.readout:
                z = z + _round_through(next(it) * bs) * 2 ** self.shift
            if k in nudges:
                z = z + nudges[k]
            if layer.readout:
                return _exact_through(z, raw) / q.output_scale + torch.as_tensor(q.output_offset)
            m = _exact_through(torch.relu(z) / 2 ** self.shift, sent[k])


def relative_mse(outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per point, its share of ``mean((outputs - target)^2) / mean(target^2)`` (the square of
    rel L2, which is their sum): ``(n,)``."""
    return ((outputs - target) ** 2).sum(1) / (target ** 2).sum()


def activity_forward_gradient(loss: Callable, inputs: list[torch.Tensor], sizes: list[int],
                              scales: list[tuple[float, float]], shift: int, tangents: int,
                              generator: torch.Generator) -> tuple[float, list[torch.Tensor], int]:
    """Randomized forward gradient by activity perturbation (Ren et al., ICLR 2023: variance grows
    with a layer's neurons, not its weights): per layer, tangents u ``(n, neurons)`` on every
    point's pre-activations, each point's directional derivative ``d_s`` (one forward-mode pass
    of the per-point losses, ``torch.autograd.forward_ad``: 4x faster here than
    ``torch.func.jvp``), the estimate ``d_s u_s`` of d loss / d z, then the layer's own
    weight and bias gradients exactly from its inputs ``inputs[l]`` ``(n, fan_in)`` (z = x W^T +
    B << ``shift``, W and B the latent parameters times ``scales``, ``tensor_units``). ``loss(nudges)``
    returns per-point shares."""
    grads, value, jvps = [], 0.0, 0
    for k, (x, size, (ws, bs)) in enumerate(zip(inputs, sizes, scales)):
        dz = torch.zeros(len(x), size, dtype=torch.float64)
        for _ in range(tangents):
            u = torch.randn(len(x), size, generator=generator, dtype=torch.float64)
            with fwad.dual_level():
                shares, d = fwad.unpack_dual(loss({k: fwad.make_dual(torch.zeros_like(u), u)}))
            value, jvps = float(shares.sum()), jvps + 1
            dz += d[:, None] * u / tangents
        grads.append(ws * dz.T @ x)
        if k < len(inputs) - 1:
            grads.append(bs * 2 ** shift * dz.sum(0))
    return value, grads, jvps


def _draw(qnet: QuantizedNetwork, n: int, rng: np.random.Generator) -> np.ndarray:
    lower, upper = np.asarray(qnet.lower), np.asarray(qnet.upper)
    return lower + rng.random((n, qnet.d_in)) * (upper - lower)


def finetune(network, target: Callable[[np.ndarray], np.ndarray], config: FinetuneConfig,
             *, progress: bool = True) -> tuple[QuantizedNetwork, dict]:
    """Fine-tune ``network`` (a ``QuantizedNetwork``, or a ``SeparablePass`` over a separable
    export's axis networks; in place) towards ``target`` (physical points ``(n, d_in)`` -> values
    ``(n, d_out)``) on points of its box. Returns the network, restored to the best held-out
    check, and a report: rel L2 against the target on the held-out points before and after, the
    steps, integer passes, JVPs or backward passes, wall time and how many integers changed."""
    integer_pass = IntegerPass(network) if isinstance(network, QuantizedNetwork) else network
    if config.method == "rfg" and not hasattr(integer_pass, "activity_inputs"):
        raise InputError("activity-perturbed forward gradients (--method rfg) need a loss that is a sum over each "
                         "network's points; a separable export's product couples them: use --method bp or rfg-weights")
    networks = integer_pass.networks
    generator = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    params = integer_pass.latent()
    start = [_saved(q) for q in networks]
    val_points, val_messages = integer_pass.draw(config.validation_points, rng)
    val_target = np.asarray(target(val_points), dtype=np.float64)

    def check() -> tuple[float, list[int]]:
        """Held-out rel L2 (after refitting what the host may refit) and each network's peak state."""
        runs = integer_pass.forward(val_messages)
        error = float(np.linalg.norm(integer_pass.decode(runs, val_target) - val_target) / np.linalg.norm(val_target))
        return error, [max(peaks) for *_, peaks in runs]

    error0, peak0 = check()
    allowed = [max(peak, (STATE_LIMIT - 1) / float(q.metadata.get("quantization", {}).get("headroom", 1.0)))
               for peak, q in zip(peak0, networks)]               # keep each export's headroom (or what it had)
    best = (error0, [_saved(q) for q in networks], peak0)
    groups = integer_pass.layer_groups() if config.layerwise else [list(range(len(params)))]
    latent = [p.clone().requires_grad_(config.method == "bp") for p in params]
    optimizer = torch.optim.Adam(latent, lr=config.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.steps)
    passes = jvps = backward = overflows = 0
    begin = time.perf_counter()
    bar = tqdm(range(config.steps), desc=f"fine-tune ({config.method})", disable=not progress, unit="step")
    for step in bar:
        points, messages = integer_pass.draw(config.points, rng)
        wanted = torch.as_tensor(target(points), dtype=torch.float64)
        try:
            runs = integer_pass.forward(messages)
        except StateOverflow:                      # this update left 24 bits: back to the best, smaller steps
            overflows += 1
            for q, saved in zip(networks, best[1]):
                _restore(q, saved)
            with torch.no_grad():
                for p, value in zip(latent, integer_pass.latent()):
                    p.copy_(value)
            for group in optimizer.param_groups:
                group["lr"] /= 2
            continue
        passes += 1

        def shares(ps, nudges=None):
            return relative_mse(integer_pass.predict(ps, messages, runs, nudges), wanted)

        if config.method == "bp":
            value = shares(latent).sum()
            optimizer.zero_grad()
            value.backward()
            backward += 1
            value = float(value)
        else:
            fixed = [p.detach() for p in latent]
            if config.method == "rfg":
                value, grads, n = activity_forward_gradient(lambda nudges: shares(fixed, nudges),
                                                            integer_pass.activity_inputs(messages, runs),
                                                            [l.size for l in integer_pass.qnet.layers],
                                                            integer_pass.scales, integer_pass.shift,
                                                            config.tangents, generator)
            else:
                value, grads, n = weight_forward_gradient(lambda ps: shares(ps).sum(), fixed, groups,
                                                           config.tangents, generator)
            jvps += n
            for p, g in zip(latent, grads):
                p.grad = g
        optimizer.step()
        schedule.step()
        integer_pass.store(latent)
        bar.set_postfix(rel_l2=f"{value ** 0.5:.2e}")
        if (step + 1) % config.check_every == 0 or step == config.steps - 1:
            try:
                error, peaks = check()
            except StateOverflow:
                continue
            passes += 1
            if error < best[0] and all(p <= a for p, a in zip(peaks, allowed)):
                best = (error, [_saved(q) for q in networks], peaks)
    for q, saved in zip(networks, best[1]):
        _restore(q, saved)
    layers = [(l, w0, b0) for q, (saved, _) in zip(networks, start) for l, (w0, b0) in zip(q.layers, saved)]
    changed = sum(int(np.count_nonzero(l.weight != w0)) + int(np.count_nonzero(l.bias != b0)) for l, w0, b0 in layers)
    single = len(networks) == 1
    report = {**asdict(config), "target_rel_l2_before": error0, "target_rel_l2_after": best[0],
              "peak_state_before": max(peak0) if single else peak0,
              "peak_state_after": max(best[2]) if single else best[2],
              "peak_state_allowed": allowed[0] if single else allowed,
              "integer_passes": passes, "jvps": jvps, "backward_passes": backward, "overflow_retries": overflows,
              "integers_changed": changed, "integers": sum(l.weight.size + l.bias.size for l, *_ in layers),
              "wall_s": time.perf_counter() - begin}
    return network, report


def weight_forward_gradient(loss: Callable, params: list[torch.Tensor], groups: list[list[int]], tangents: int,
                            generator: torch.Generator) -> tuple[float, list[torch.Tensor], int]:
    """Seed 002's estimate by weight perturbation (``training.forward_gradient``: Rademacher
    tangents over each group of parameter indices, one forward-mode pass a group), averaged over
    ``tangents`` draws. Returns the loss, the estimate per parameter and the passes."""
    names = [str(i) for i in range(len(params))]
    estimate, value, passes = forward_gradient(lambda ps: loss([ps[k] for k in names]), dict(zip(names, params)),
                                               groups=[[names[i] for i in group] for group in groups],
                                               tangents=tangents, generator=generator)
    return value, [estimate[k] for k in names], passes


def _saved(qnet: QuantizedNetwork) -> tuple:
    """A copy of what fine-tuning changes in ``qnet``: integer weights and biases, and the output offset."""
    return [(l.weight.copy(), l.bias.copy()) for l in qnet.layers], list(qnet.output_offset)


def _restore(qnet: QuantizedNetwork, saved) -> None:
    layers, qnet.output_offset = saved[0], list(saved[1])
    for layer, (weight, bias) in zip(qnet.layers, layers):
        layer.weight, layer.bias = weight.copy(), bias.copy()
