"""The PINN a converted network came from, loaded only if it is still the same network.

A ``.snn`` records ``source_checkpoint`` (a shipped name or a folder) and ``source_sha256`` (of its
``weights.pt`` at conversion, ``conversion/workflow.py``). A checkpoint retrained or replaced in
place since then is a different PINN: comparing the spiking network against it reports errors
of the wrong pair, so ``load_source`` refuses it with the fix instead.
"""
from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

from loihi_pinn.errors import InputError
from loihi_pinn.models.imported import import_network
from loihi_pinn.training.checkpoint import WEIGHTS, load_checkpoint, resolve_checkpoint, weights_sha256


class SourceChanged(InputError):
    """The source checkpoint's weights differ from those the network was converted from."""


class UnverifiedSourceWarning(UserWarning):
    """The converted network records no SHA-256 of its source, so the source cannot be checked."""


def load_source(net, where=None):
    """The source PINN (``PINN``, eval mode) of the converted network ``net`` (a ``SpikingNetwork``;
    ``where``: its file, for messages), or None when the source checkpoint (or saved model file,
    ``source_model``) is not on this machine.
    Raises ``SourceChanged`` (an ``InputError``) when the checkpoint's ``weights.pt`` no longer has
    the SHA-256 recorded at conversion; a network without a recorded SHA loads its source with an
    ``UnverifiedSourceWarning``."""
    meta = net.metadata
    if meta.get("source_model"):
        return _load_model_file(net, where)
    name = meta.get("source_checkpoint")
    if not name:
        return None
    try:
        folder = resolve_checkpoint(name)
    except InputError:
        return None                                  # not on this machine: nothing to compare against
    what = f"{where}" if where is not None else "the converted network"
    recorded = meta.get("source_sha256")
    if recorded is None:
        warnings.warn(f"{what} records no SHA-256 of its source checkpoint {name!r}; the comparison against "
                      f"the PINN assumes {folder} is unchanged since conversion", UnverifiedSourceWarning,
                      stacklevel=2)
    else:
        if not (folder / WEIGHTS).is_file():
            raise InputError(f"{what} was converted from {name!r}, and {folder} has no {WEIGHTS}; "
                             f"restore the checkpoint or re-convert")
        found = weights_sha256(folder)
        if found != recorded:
            raise SourceChanged(
                f"{what} was converted from checkpoint {name!r} (weights.pt SHA-256 {recorded[:16]}...), but "
                f"{folder / WEIGHTS} now has SHA-256 {found[:16]}...: the checkpoint was retrained or replaced "
                f"after conversion, so the spiking network no longer approximates it. Re-convert it "
                f"('loihi-pinn convert {name} ...') or restore the checkpoint it was converted from")
    return load_checkpoint(folder).model


def _load_model_file(net, where):
    """The user's saved network a ``.snn`` was converted from, read as at conversion
    (``source_import``), if the file is here and unchanged."""
    meta = net.metadata
    path = Path(meta["source_model"])
    if not path.is_file():
        return None
    found = hashlib.sha256(path.read_bytes()).hexdigest()
    if found != meta.get("source_sha256"):
        raise SourceChanged(f"{where or 'the converted network'} was converted from {path}, which has changed since "
                            f"(SHA-256 {found[:16]}..., recorded {str(meta.get('source_sha256'))[:16]}...); "
                            f"re-convert it ('loihi-pinn convert {path} ...') or restore the file")
    how = meta.get("source_import", {})
    model, _ = import_network(path, net.lower, net.upper, raw_inputs=how.get("raw_inputs", True),
                              activation=how.get("activation"))
    return model
