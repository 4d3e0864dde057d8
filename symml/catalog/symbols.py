"""Which declared objects an expression refers to."""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.stats.rv import RandomSymbol

from symml.catalog.model import Domain


def referenced(expr: Any) -> set[Any]:
    """Every symbol-like object ``expr`` uses: symbols (bound ones too, but not dummies),
    matrix symbols, indexed bases, random symbols and undefined function classes."""
    if isinstance(expr, Domain):
        return set()
    if isinstance(expr, (tuple, list)):
        return set().union(*(referenced(e) for e in expr)) if expr else set()
    if not isinstance(expr, sp.Basic):
        return set()
    found: set[Any] = set()
    for atom in expr.atoms(sp.Symbol, sp.MatrixSymbol, sp.IndexedBase, RandomSymbol, AppliedUndef):
        if isinstance(atom, sp.Dummy):
            continue
        if isinstance(atom, AppliedUndef):
            found.add(atom.func)
        elif isinstance(atom, RandomSymbol):
            found.add(atom)
            found |= referenced(atom.pspace.distribution.args)
        else:
            found.add(atom)
    for base in expr.atoms(sp.IndexedBase):
        found.discard(base.label)
        found |= {s for s in base.shape or () if isinstance(s, sp.Symbol)} if base.shape else set()
    for rv in expr.atoms(RandomSymbol):
        found.discard(rv.symbol)
    return found


def matches(declared: Any, used: Any) -> bool:
    """Whether a declared object is the one an expression uses."""
    if isinstance(declared, RandomSymbol):
        return used == declared or used == declared.symbol
    return declared == used
