"""Figures a scientist looks at: solutions side by side with their errors, loss histories."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from loihi_pinn.problems import Problem  # noqa: E402


def plot_loss_history(history: list[dict], path, title: str = "training loss") -> Path:
    """Semilog plot of the total and per-condition losses against the step."""
    steps = [h["step"] for h in history]
    keys = [k for k in history[0] if k not in ("step", "phase")]
    fig, ax = plt.subplots(figsize=(6, 4))
    for k in keys:
        ax.semilogy(steps, [h[k] for h in history], label=k, lw=1.5 if k == "total" else 1)
    lbfgs = [h["step"] for h in history if h["phase"] == "lbfgs"]
    if lbfgs:
        ax.axvline(lbfgs[0], color="gray", ls=":", label="L-BFGS from here")
    ax.set(xlabel="step", ylabel="mean squared error", title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_solutions(problem: Problem, fields: dict[str, np.ndarray], path, title: str = "") -> Path:
    """Reference and predictions on the evaluation grid, with |error| of each prediction.

    ``fields`` maps a label to values ``(n_grid, d_out)`` on ``problem.evaluation_points()``;
    the first entry is the reference, or without one what the others are compared with (a
    single entry is plotted alone). 1-D problems get line plots; 2-D ones images; 3-D ones
    (x, y, t) an image at the last time. One row per output.
    """
    labels = list(fields)
    ref_label, pred_labels = labels[0], labels[1:]
    shape = problem.grid_shape
    axes_pts = [np.linspace(lo, hi, n) for lo, hi, n in zip(problem.lower, problem.upper, shape)]
    if problem.d_in == 1:
        return _plot_lines(problem, fields, axes_pts[0], path, title)
    ncols = len(labels) + len(pred_labels)
    fig, axs = plt.subplots(problem.d_out, ncols, figsize=(3.2 * ncols, 2.9 * problem.d_out), squeeze=False)
    for row, out_name in enumerate(problem.output_names):
        grids = {k: v[:, row].reshape(shape) for k, v in fields.items()}
        if problem.d_in == 3:                                   # last time slice
            grids = {k: g[:, :, -1] for k, g in grids.items()}
        extent = [axes_pts[0][0], axes_pts[0][-1], axes_pts[1][0], axes_pts[1][-1]]
        vmin, vmax = grids[ref_label].min(), grids[ref_label].max()
        panels = [(f"{k}: {out_name}", grids[k], dict(vmin=vmin, vmax=vmax, cmap="viridis")) for k in labels]
        panels += [(f"|{k} - {ref_label}|", np.abs(grids[k] - grids[ref_label]), dict(cmap="magma"))
                   for k in pred_labels]
        for col, (name, img, style) in enumerate(panels):
            ax = axs[row, col]
            im = ax.imshow(img.T, origin="lower", extent=extent, aspect="auto", **style)
            ax.set_title(name, fontsize=9)
            ax.set_xlabel(problem.input_names[0])
            ax.set_ylabel(problem.input_names[1])
            fig.colorbar(im, ax=ax, fraction=0.046)
    if problem.d_in == 3:
        title = f"{title} ({problem.input_names[2]} = {problem.upper[2]:g})".strip()
    fig.suptitle(title or problem.name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def _plot_lines(problem, fields, x, path, title):
    labels = list(fields)
    ref = fields[labels[0]][:, 0]
    fig, axs = plt.subplots(2 if len(labels) > 1 else 1, 1, figsize=(6, 5), sharex=True, squeeze=False)
    top, bottom = axs[0, 0], axs[-1, 0]
    for k, v in fields.items():
        top.plot(x, v[:, 0], label=k, lw=2.5 if k == labels[0] else 1.2)
    top.set(ylabel=problem.output_names[0], title=title or problem.name)
    top.legend()
    if len(labels) > 1:
        for k in labels[1:]:
            bottom.semilogy(x, np.abs(fields[k][:, 0] - ref) + 1e-16, label=f"|{k} - {labels[0]}|")
        bottom.set(ylabel="abs error")
        bottom.legend()
    bottom.set(xlabel=problem.input_names[0])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
