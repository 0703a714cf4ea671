"""The problem of a user's network that comes with a box only: ``--domain x=0:1,t=0:0.5``."""
from __future__ import annotations

import math

from loihi_pinn.errors import InputError

from .base import Problem

DOMAIN_FORM = "one lo:hi per input, comma separated, optionally named: 0:1,0:1 or x=0:1,t=0:0.5"


def parse_domain(text: str) -> tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...]]:
    """``(input_names, lower, upper)`` from ``DOMAIN_FORM`` (unnamed inputs are x1, x2, ...)."""
    names, lower, upper = [], [], []
    for i, part in enumerate(p.strip() for p in str(text).split(",")):
        name, _, bounds = part.rpartition("=")
        lo, sep, hi = bounds.partition(":")
        try:
            lo, hi = float(lo), float(hi)
        except ValueError:
            lo = hi = math.nan
        if not sep or not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
            raise InputError(f"--domain {text!r}: input {i + 1} is {part!r}; give {DOMAIN_FORM}, each lo < hi")
        names.append(name.strip() or f"x{i + 1}")
        lower.append(lo)
        upper.append(hi)
    if len(set(names)) != len(names):
        raise InputError(f"--domain {text!r} names an input twice; give each input its own name")
    return tuple(names), tuple(lower), tuple(upper)


def box_problem(name: str, domain: str, d_out: int) -> Problem:
    """A Problem of the box ``domain`` (``DOMAIN_FORM``) and ``d_out`` outputs (u, or u1, u2, ...):
    no conditions, no reference; what conversion, export and running need."""
    names, lower, upper = parse_domain(domain)
    outputs = ("u",) if d_out == 1 else tuple(f"u{i + 1}" for i in range(d_out))
    return Problem(name=name, equation="(a network given with its box only)", input_names=names,
                   output_names=outputs, lower=lower, upper=upper,
                   reference_method="none: the network came with a box only (--domain)")
