"""The domains catalog files declare symbols in."""

from __future__ import annotations

import sympy as sp

from symml.catalog.model import Domain

real = Domain("real")
positive = Domain("positive", 0, sp.oo, lo_open=True)
nonnegative = Domain("nonnegative", 0, sp.oo, lo_open=False)
integer = Domain("integer", integer=True)
natural = Domain("natural", 1, sp.oo, lo_open=False, integer=True)
count = Domain("count", 0, sp.oo, lo_open=False, integer=True)
unit_open = Domain("unit_open", 0, 1)
unit_closed = Domain("unit_closed", 0, 1, lo_open=False, hi_open=False)
binary = Domain("binary", values=(0, 1))
signs = Domain("signs", values=(-1, 1))


def interval(
    lo, hi, *, lo_open: bool = True, hi_open: bool = True, integer: bool = False
) -> Domain:
    """An interval such as 0 < p < 1 (open by default)."""
    name = f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
    return Domain(name, lo, hi, lo_open=lo_open, hi_open=hi_open, integer=integer)
