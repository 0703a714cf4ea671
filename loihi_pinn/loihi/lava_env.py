"""Importing Lava quietly and safely, whatever the caller imported before.

Lava's message infrastructure calls ``multiprocessing.set_start_method('fork')`` at import, which
raises if anything (numpy, torch, a test runner) already fixed the start method; lava-dl prints a
Prophesee notice and a CUDA_HOME line. ``import_netx()`` clears the former and hides the latter.
"""
from __future__ import annotations

import contextlib
import io
import multiprocessing
import sys
import warnings


def import_netx():
    """The ``lava.lib.dl.netx`` module (importing Lava and lava-dl on first use)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "lava.lib.dl.netx" not in sys.modules and multiprocessing.get_start_method(allow_none=True):
            multiprocessing.set_start_method(None, force=True)   # Lava sets 'fork' itself
        from lava.lib.dl import netx
    return netx
