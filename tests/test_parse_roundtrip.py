"""parse_latex(symml.latex(f.expr)) for every catalog formula: equal, or refused; never different.

The printer is given the formula's symbol names as ``context``, the way ``latex(f)`` prints a
catalog formula: a formula is shown with its symbol table (its claims and readings use all of
it), and the reader is handed that same table. Printed without it, ``losses.hinge`` shows
``y_sign`` as ``y`` although the table also declares ``y_label`` (also ``y``), and the reader
rightly refuses the text (the last test below).
"""

from __future__ import annotations

import re

import sympy as sp

from symml.catalog.loader import load_catalog
from symml.read import LatexParseError, SymbolTable, parse_latex
from symml.render.latex import latex

# What the printed text cannot say, so the reader refuses (each with a hint): nothing now.
# The layer norms read back since 𝟙 and 𝕀 print their sizes (\mathbf{1}_{d \times 1}).
REFUSED: set[str] = set()


def _bound_names_dropped(expr) -> str:
    """srepr with the names of dummies (bound variables: Σ indices, λ arguments) erased."""
    return re.sub(r"Dummy\('\w+'|dummy_index=\d+", "Dummy(", sp.srepr(expr))


def outcome(formula) -> str:
    try:
        text = latex(formula.expr, context=[s.name for s in formula.symbols])
        got = parse_latex(text, symbols=SymbolTable.of(formula.symbols))
    except LatexParseError as exc:
        assert exc.hint, exc
        return "refused"
    if got == formula.expr or _bound_names_dropped(got) == _bound_names_dropped(formula.expr):
        return "equal"
    return "different"


def test_round_trip_over_the_catalog():
    results = {f.id: outcome(f) for f in load_catalog()}
    assert {k for k, v in results.items() if v == "different"} == set()
    assert {k for k, v in results.items() if v == "refused"} == REFUSED
    assert len(results) - len(REFUSED) >= 0.95 * len(results)


def test_names_that_print_alike_are_refused_with_the_full_names():
    hinge = load_catalog().get("losses.hinge")
    try:
        parse_latex(latex(hinge.expr), symbols=SymbolTable.of(hinge.symbols))
    except LatexParseError as exc:
        assert "'y' may be y_label or y_sign" in str(exc)
        assert r"y_{\mathrm{sign}}" in exc.hint
    else:
        raise AssertionError("read a name that two declared symbols print as")
