"""Checkpoints: a folder with ``weights.pt`` (the state dict) and ``checkpoint.json`` (metadata).

The metadata alone rebuilds the model: architecture and input normalization (the problem's box);
it names the problem (name, ``problem_spec`` for a ``module:attribute`` problem, input and output
names) and records the training set-up, final losses and the error against the reference
solution, if the problem has one. Shipped checkpoints live in ``loihi_pinn/checkpoints/<problem>/``
and load by problem name.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from loihi_pinn.errors import InputError
from loihi_pinn.io import read_torch_file, replacing
from loihi_pinn.models import PINN, build_mlp
from loihi_pinn.problems import Problem, problem_from_metadata, problem_metadata

FORMAT = "loihi-pinn-checkpoint"
VERSION = 1
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
WEIGHTS, METADATA = "weights.pt", "checkpoint.json"


@dataclass
class Checkpoint:
    """A loaded checkpoint: the rebuilt model (eval mode) and its metadata dict."""

    model: PINN
    metadata: dict
    path: Path

    @property
    def problem(self) -> str:
        """The problem's name."""
        return self.metadata["problem"]

    def find_problem(self) -> Problem:
        """The problem the network was trained for; without its definition at hand (a
        ``module:attribute`` not importable here), a Problem of the box and names only."""
        return problem_from_metadata(self.metadata, self.model.lower.tolist(), self.model.upper.tolist(),
                                     self.model.architecture["layer_sizes"][-1])


def save_checkpoint(folder, model: PINN, problem: Problem | str, **extra) -> Path:
    """Write ``weights.pt`` and ``checkpoint.json`` into ``folder``, all at once: the folder is
    complete or absent (an existing one is replaced only when both files are written). ``problem``:
    the Problem (its name, spec and input/output names are recorded) or just a name. ``extra``
    entries (training, final_losses, errors, command, ...) go into the metadata as they are."""
    folder = Path(folder)
    named = problem_metadata(problem) if isinstance(problem, Problem) else {"problem": problem}
    metadata = {
        "format": FORMAT, "version": VERSION, **named,
        "architecture": model.architecture, "parameters": model.n_parameters,
        "input_normalization": {"lower": model.lower.tolist(), "upper": model.upper.tolist(),
                                "maps_to": [-1.0, 1.0]},
        **extra,
    }
    with replacing(folder) as tmp:
        tmp.mkdir()
        torch.save(model.state_dict(), tmp / WEIGHTS)
        (tmp / METADATA).write_text(json.dumps(metadata, indent=2) + "\n")
    return folder


def weights_sha256(folder) -> str:
    """SHA-256 (hex) of a checkpoint folder's ``weights.pt``: what converted networks and students
    record of their source."""
    return hashlib.sha256((Path(folder) / WEIGHTS).read_bytes()).hexdigest()


def resolve_checkpoint(name_or_path) -> Path:
    """A checkpoint folder from a path (folder or one of its two files) or a shipped problem name."""
    path = Path(name_or_path)
    if path.is_file() and path.name in (WEIGHTS, METADATA):
        path = path.parent
    if not path.exists() and (SHIPPED_DIR / str(name_or_path)).is_dir():
        path = SHIPPED_DIR / str(name_or_path)
    if not path.is_dir():
        shipped = sorted(p.name for p in SHIPPED_DIR.glob("*") if p.is_dir())
        raise InputError(f"no checkpoint at {str(name_or_path)!r}: give a folder holding {METADATA} and "
                         f"{WEIGHTS}, or a shipped name ({', '.join(shipped) or 'none shipped'})")
    return path


def load_checkpoint(name_or_path) -> Checkpoint:
    """Rebuild the model from a checkpoint folder or shipped name; errors name what is malformed."""
    if not isinstance(name_or_path, (str, Path)):
        raise InputError(f"a checkpoint is a folder path or a shipped name, got {type(name_or_path).__name__}")
    folder = resolve_checkpoint(name_or_path)
    try:
        metadata = json.loads((folder / METADATA).read_text())
    except FileNotFoundError:
        if (folder / "spinn.json").is_file():
            raise InputError(f"{folder} is a separable PINN (spinn.json): load it with loihi_pinn.training.separable."
                             f"load_separable and convert it with loihi_pinn.conversion.separable.convert_separable, "
                             f"or give one of its axis folders") from None
        raise InputError(f"{folder} has no {METADATA}; it is not a loihi-pinn checkpoint") from None
    except json.JSONDecodeError as err:
        raise InputError(f"{folder / METADATA} is not valid JSON ({err}); the checkpoint is corrupted") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise InputError(f"{folder / METADATA} is not a loihi-pinn checkpoint (format must be {FORMAT!r})")
    try:
        arch, norm = metadata["architecture"], metadata["input_normalization"]
        net = build_mlp(arch["layer_sizes"], arch["activation"], arch.get("negative_slope"),
                        arch.get("activation_params"))
        model = PINN(net, norm["lower"], norm["upper"])
    except (KeyError, TypeError) as err:
        raise InputError(f"{folder / METADATA} lacks or garbles {err}; re-save the checkpoint") from None
    if not (folder / WEIGHTS).is_file():
        raise InputError(f"{folder} has no {WEIGHTS}")
    state = read_torch_file(folder / WEIGHTS, "loihi-pinn weights file (corrupted?)")
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise InputError(f"{folder / WEIGHTS} does not match the architecture in {METADATA}: {first}") from None
    model.eval()
    return Checkpoint(model, metadata, folder)
