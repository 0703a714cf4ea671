"""Files: reading torch files safely (tensors and plain containers only, one clear error), and
writing outputs safely (checked before the work, replaced all at once)."""
from __future__ import annotations

import os
import pickle
import shutil
import zipfile
from contextlib import contextmanager
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


def check_output(path, *, force: bool, folder: bool = False) -> Path:
    """Refuse, before any work starts, an output ``path`` (a file, or a ``folder``) that cannot
    be written or that exists without ``force``; returns it as a ``Path``."""
    path = Path(path)
    if path.exists():
        if path.is_dir() != folder:
            raise InputError(f"{path} is a {'folder' if path.is_dir() else 'file'}; give the name of a "
                             f"{'folder' if folder else 'file'} with --out")
        if not force:
            raise InputError(f"{path} exists; pass --force to replace it, or choose another --out")
    ancestor = path.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {path}: {ancestor} is not a folder you may write to")
    return path


@contextmanager
def replacing(path):
    """Write ``path`` (a file or a folder) all at once: yields a temporary path beside it, which
    replaces ``path`` only when the block succeeds; on any failure ``path`` is left as it was and
    the temporary is removed, so no partial output ever carries the name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    try:
        yield tmp
        if path.is_dir():                    # a folder cannot be os.replace'd onto a full one
            os.replace(path, old)
        try:
            os.replace(tmp, path)
        except OSError:
            if old.exists():
                os.replace(old, path)
            raise
    finally:
        for leftover in (tmp, old):
            if leftover.is_dir():
                shutil.rmtree(leftover)
            elif leftover.exists():
                leftover.unlink()


def write_values(path, values, names) -> Path:
    """Write ``values`` ``(n, k)`` all at once: ``.npy`` (float64) or text, one row a point
    (``.csv`` comma separated, else spaces; a ``# name ...`` header line that ``np.loadtxt`` skips)."""
    import numpy as np

    path = Path(path)
    values = np.asarray(values, dtype=np.float64)
    with replacing(path) as tmp, open(tmp, "wb") as f:
        if path.suffix == ".npy":
            np.save(f, values)
        else:
            sep = "," if path.suffix == ".csv" else " "
            np.savetxt(f, values, delimiter=sep, header=sep.join(names), fmt="%.9g")
    return path
