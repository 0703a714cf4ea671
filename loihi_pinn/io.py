"""Reading torch files safely: tensors and plain containers only, with one clear error."""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from loihi_pinn.errors import InputError

# what torch.load raises on a damaged or foreign file
_UNREADABLE = (RuntimeError, EOFError, ValueError, KeyError, AttributeError, IndexError,
               pickle.UnpicklingError, zipfile.BadZipFile)


def read_torch_file(path: Path, what: str):
    """``torch.load(path, weights_only=True)``; an ``InputError`` saying ``path`` is not ``what``."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InputError(f"no {what} at {path}") from None
    except _UNREADABLE as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:120]
        raise InputError(f"{path} is not a {what} (unreadable: {first})") from None
