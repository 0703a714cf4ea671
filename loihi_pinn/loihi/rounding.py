"""Float weights -> Loihi's 8-bit integer file weights, shared by every neuron model's quantizer."""
from __future__ import annotations

import numpy as np
import torch

from .fixed_point import WEIGHT_MAX, WEIGHT_MIN, lava_weights


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


def file_weights(w: np.ndarray) -> np.ndarray:
    """Integer file weights that Lava's Dense reproduces exactly (checked with Lava's own
    weight optimization and truncation, whose result is kept if it differs)."""
    wf = np.clip(np.rint(w), WEIGHT_MIN, WEIGHT_MAX).astype(np.int64)
    eff, exp = lava_weights(wf)
    return eff >> -exp if exp <= 0 else eff << exp
