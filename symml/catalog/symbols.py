"""Which declared objects an expression refers to."""

from __future__ import annotations

import sys
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from symml.catalog.model import Domain


def random_symbol_class() -> type | None:
    """sympy.stats' ``RandomSymbol`` class once sympy.stats is loaded, else None: no
    expression holds a random symbol before then, and importing it costs every command."""
    return getattr(sys.modules.get("sympy.stats.rv"), "RandomSymbol", None)


def referenced(expr: Any) -> set[Any]:
    """Every symbol-like object ``expr`` uses: symbols (bound ones too, but not dummies),
    matrix symbols, indexed bases, random symbols and undefined function classes."""
    if isinstance(expr, Domain):
        return set()
    if isinstance(expr, (tuple, list)):
        return set().union(*(referenced(e) for e in expr)) if expr else set()
    if not isinstance(expr, sp.Basic):
        return set()
    random_symbol = random_symbol_class()
    kinds = (sp.Symbol, sp.MatrixSymbol, sp.IndexedBase, AppliedUndef)
    found: set[Any] = set()
    for atom in expr.atoms(*kinds, *([random_symbol] if random_symbol else [])):
        if isinstance(atom, sp.Dummy):
            continue
        if isinstance(atom, AppliedUndef):
            found.add(atom.func)
        elif random_symbol is not None and isinstance(atom, random_symbol):
            found.add(atom)
            found |= referenced(atom.pspace.distribution.args)
        else:
            found.add(atom)
    for base in expr.atoms(sp.IndexedBase):
        found.discard(base.label)
        found |= {s for s in base.shape or () if isinstance(s, sp.Symbol)} if base.shape else set()
    for rv in expr.atoms(random_symbol) if random_symbol else ():
        found.discard(rv.symbol)
    return found


def matches(declared: Any, used: Any) -> bool:
    """Whether a declared object is the one an expression uses."""
    random_symbol = random_symbol_class()
    if random_symbol is not None and isinstance(declared, random_symbol):
        return used == declared or used == declared.symbol
    return declared == used
