"""A separable export's axis networks fine-tuned as one network (``loihi.finetune``'s pass).

Each axis network runs its own bit-exact integer pass on coordinates of its axis; the features
are multiplied and summed as the host does after the chip (u_k = sum_j prod_a f_a[k * rank + j],
``models.separable.combine``), so the loss is the separable export's own output on a tensor grid
of points, and every axis network's integers get their gradient through the product.
"""
from __future__ import annotations

import numpy as np
import torch

from loihi_pinn.conversion.separable import combine_features
from loihi_pinn.models.separable import combine

from .finetune import IntegerPass
from .network import QuantizedNetwork


class SeparablePass:
    """``finetune``'s pass over the axis networks ``qnets`` (one per input, in order) of a
    separable export with ``d_out`` outputs of rank ``rank``. A draw of n points is a tensor grid
    of about n points: round(n^(1/d)) uniform coordinates per axis (at least 2), so each axis
    network runs once per coordinate. Latent parameters are the axis passes' in axis order."""

    def __init__(self, qnets: list[QuantizedNetwork], d_out: int, rank: int):
        self.passes = [IntegerPass(q) for q in qnets]
        self.d_out, self.rank = d_out, rank
        self.counts = [len(p.latent()) for p in self.passes]

    @property
    def networks(self) -> list[QuantizedNetwork]:
        return [p.qnet for p in self.passes]

    def latent(self) -> list[torch.Tensor]:
        return [t for p in self.passes for t in p.latent()]

    def _split(self, params) -> list[list]:
        it = iter(params)
        return [[next(it) for _ in range(n)] for n in self.counts]

    def store(self, params) -> None:
        for p, part in zip(self.passes, self._split(params)):
            p.store(part)

    def layer_groups(self) -> list[list[int]]:
        """Parameter indices per layer of every axis network, in ``latent``'s order."""
        groups, offset = [], 0
        for p, n in zip(self.passes, self.counts):
            groups += [[offset + i for i in group] for group in p.layer_groups()]
            offset += n
        return groups

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
        """The tensor grid ``(prod n_a, d_in)`` (first axis slowest) of uniform coordinates per
        axis, and each axis network's messages ``(n_a, 1)``."""
        per_axis = max(2, round(n ** (1 / len(self.passes))))
        coords, messages = zip(*(p.draw(per_axis, rng) for p in self.passes))
        grid = np.stack(np.meshgrid(*(c[:, 0] for c in coords), indexing="ij"), -1)
        return grid.reshape(-1, len(self.passes)), [m[0] for m in messages]

    def forward(self, messages: list[np.ndarray]) -> list[tuple]:
        """Every axis network's integer pass: ``[(raw, sent, peak state per layer)]``."""
        return [p.run(m) for p, m in zip(self.passes, messages)]

    def predict(self, params, messages: list[np.ndarray], runs: list[tuple], nudges: None = None) -> torch.Tensor:
        """The product of the axis passes' outputs on their grid ``(prod n_a, d_out)``
        (``nudges``: activity perturbation does not apply to a product; always None)."""
        features = [p.outputs(part, m, raw, sent).view(-1, self.d_out, self.rank)
                    for p, part, m, (raw, sent, _) in zip(self.passes, self._split(params), messages, runs)]
        return combine(features).reshape(-1, self.d_out)

    def decode(self, runs: list[tuple], wanted: np.ndarray | None = None) -> np.ndarray:
        """The product on the grid ``(prod n_a, d_out)``, as the host computes it (a product has
        no offset to refit: ``wanted`` is not used)."""
        features = [p.qnet.decode(raw) for p, (raw, *_) in zip(self.passes, runs)]
        return combine_features(features, self.d_out, self.rank)
