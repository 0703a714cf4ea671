"""What a quantized network needs on Loihi 2, and a first-order energy and latency estimate.

Chip limits (Intel, "Taking Neuromorphic Computing to the Next Level with Loihi 2", technology
brief, 2021): 128 neuro cores, up to 1 M neurons and 120 M synapses per chip, i.e. at most 8192
neurons per core; graded spikes carry up to 24 bits in Lava's SDNN. Synaptic memory per core is
taken as 128 KiB of 8-bit weights (the Loihi 1 figure of Davies et al., IEEE Micro 38(1), 2018;
Loihi 2 is no smaller), so a core holds at most 131072 dense synapses.

Per-core limits checked (``estimate(...).violations``; ``fits_one_chip`` is True only without any):

- neurons per core, 8192 (derived above from the brief's chip totals): a layer is split over cores;
- synaptic memory per core, 128 KiB at 8 bits (the assumption above): a core holds only the neurons
  whose full fan-in fits, so a layer's neurons per core are at most 131072 // fan-in;
- fan-in per neuron: a core stores the input synapses of the neurons it hosts (Davies et al. 2018,
  for Loihi 1; assumed unchanged in Loihi 2), so one neuron's fan-in can be at most one core's
  synaptic memory, 131072 at 8 bits; a layer beyond it cannot be placed, whatever the core count;
- cores per chip, 128: the sum over layers of the cores those limits need.

Not modelled: per-core axon routing tables and neuron-state memory (no Loihi 2 figures are
published in the sources above), weight sharing and compression, which would lower the count; the
estimate is first order, only the compiler on a Loihi 2 system decides.

Energy and time per operation: Davies et al. 2018, Table 2 (Loihi 1, 14 nm): 23.6 pJ per
synaptic op plus 3.5 pJ per spike routed within a tile (the sum used by keras-spiking's Loihi
model), 81 pJ per active neuron update; a time step ends with a barrier sync of about 1.8 us on
a full chip. Loihi 2 is faster and leaner (Intel quotes up to 10x faster synaptic processing),
so these are upper bounds; only measurements on hardware replace them.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from loihi_pinn.errors import InputError

from .network import QuantizedNetwork

CORES_PER_CHIP = 128
NEURONS_PER_CORE = 8192
SYNAPSES_PER_CORE = 128 * 1024          # 8-bit weights in 128 KiB
MAX_FAN_IN = SYNAPSES_PER_CORE          # a neuron's synapses all sit in its core
SYNOP_PJ = 23.6 + 3.5
NEURON_UPDATE_PJ = 81.0
STEP_SYNC_US = 1.8


@dataclass
class ChipEstimate:
    """Per-layer cores and totals; ``fits_one_chip``, and ``violations`` (one dict per limit broken:
    ``limit``, ``layer`` (None for the chip), ``needed``, ``allowed``, ``message``); energy (uJ) and
    latency (us) per inference."""

    layers: list[dict]
    cores: int
    neurons: int
    synapses: int
    synaptic_memory_kib: float
    max_fan_in: int
    message_bits: int
    steps_per_inference: int
    fits_one_chip: bool
    energy_uj: float | None = None
    latency_us: float | None = None
    violations: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def estimate(qnet: QuantizedNetwork, synops_per_point: float | None = None,
             neuron_updates_per_point: float | None = None) -> ChipEstimate:
    """Resources of ``qnet``; with the measured activity per point, energy and latency too."""
    rows, cores, violations = [], 0, []
    for i, layer in enumerate(qnet.layers, start=1):
        n_out, n_in = layer.weight.shape
        # neurons are split so each core holds its neurons' full fan-in
        by_memory = SYNAPSES_PER_CORE // n_in
        if by_memory < 1:
            violations.append({
                "limit": "fan-in per neuron", "layer": i, "needed": n_in, "allowed": MAX_FAN_IN,
                "message": f"layer {i}: fan-in {n_in} needs {n_in / 1024:.0f} KiB of 8-bit synapses for one neuron, "
                           f"more than a core's {SYNAPSES_PER_CORE // 1024} KiB of synaptic memory (a neuron's "
                           f"synapses share its core): no core can hold one of its neurons"})
        per_core = max(1, min(NEURONS_PER_CORE, by_memory))
        bound = ("fan-in exceeds a core" if by_memory < 1 else
                 "neurons per core" if NEURONS_PER_CORE <= by_memory else "synaptic memory per core")
        layer_cores = math.ceil(n_out / per_core)   # unplaceable layers: one core a neuron, still too small
        cores += layer_cores
        rows.append({"layer": i, "kind": qnet.model.chip_labels[layer.readout], "neurons": n_out,
                     "fan_in": n_in, "synapses": n_out * n_in, "cores": layer_cores,
                     "neurons_per_core": per_core, "bound": bound})
    if cores > CORES_PER_CHIP:
        worst = max(rows, key=lambda r: r["cores"])
        violations.append({
            "limit": "cores per chip", "layer": None, "needed": cores, "allowed": CORES_PER_CHIP,
            "message": f"needs {cores} cores, a chip has {CORES_PER_CHIP} (largest: layer {worst['layer']}, "
                       f"{worst['cores']} cores of {worst['neurons_per_core']} neurons, bound by "
                       f"{worst['bound']})"})
    synapses = qnet.synapse_count()
    energy = latency = None
    if synops_per_point is not None:
        updates = neuron_updates_per_point if neuron_updates_per_point is not None else qnet.neuron_count() * qnet.steps
        energy = (synops_per_point * SYNOP_PJ + updates * NEURON_UPDATE_PJ) * 1e-6
        latency = qnet.steps * STEP_SYNC_US
    return ChipEstimate(rows, cores, qnet.neuron_count(), synapses, synapses / 1024, max(r["fan_in"] for r in rows),
                        qnet.model.message_bits, qnet.steps, not violations, energy, latency, violations)


class DoesNotFit(InputError):
    """The network breaks a Loihi 2 limit (``violations`` lists them)."""

    def __init__(self, message: str, violations: list[dict]):
        super().__init__(message)
        self.violations = violations


def require_fit(est: ChipEstimate, what: str = "the network") -> None:
    """Raise ``DoesNotFit`` (an ``InputError``: the CLI exits non-zero) if ``est`` breaks a limit."""
    if est.violations:
        raise DoesNotFit(f"{what} does not fit one Loihi 2 chip: " + "; ".join(v["message"] for v in est.violations),
                         est.violations)


def format_estimate(est: ChipEstimate) -> str:
    """A table of the estimate for people."""
    lines = ["| layer | kind | neurons | fan-in | synapses | cores | bound by |", "|---:|---|---:|---:|---:|---:|---|"]
    lines += [f"| {r['layer']} | {r['kind']} | {r['neurons']} | {r['fan_in']} | {r['synapses']} | {r['cores']} | "
              f"{r['bound']} |" for r in est.layers]
    lines.append(f"total: {est.cores} of {CORES_PER_CHIP} cores ({'fits' if est.fits_one_chip else 'does NOT fit'} one "
                 f"Loihi 2 chip), {est.neurons} neurons, {est.synapses} synapses ({est.synaptic_memory_kib:.0f} KiB at 8 bit), "
                 f"max fan-in {est.max_fan_in}, {est.message_bits}-bit spikes, {est.steps_per_inference} steps per inference")
    lines.append(f"limits assumed: {CORES_PER_CHIP} cores per chip, {NEURONS_PER_CORE} neurons per core (Intel Loihi 2 "
                 f"brief, 2021), {SYNAPSES_PER_CORE // 1024} KiB of 8-bit synapses per core (Davies et al. 2018), "
                 f"so a neuron's fan-in at most {MAX_FAN_IN}")
    lines += [f"LIMIT BROKEN ({v['limit']}): {v['message']}" for v in est.violations]
    if est.energy_uj is not None:
        lines.append(f"estimate per inference: {est.energy_uj:.2f} uJ, {est.latency_us:.1f} us "
                     f"(Loihi 1 per-op figures, Davies et al. 2018: upper bounds for Loihi 2)")
    return "\n".join(lines)
