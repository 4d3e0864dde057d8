"""parse_latex(symml.latex(f.expr)) for every catalog formula: equal, or refused."""

from __future__ import annotations

import re

import sympy as sp

from symml.catalog import load_catalog
from symml.latex import latex
from symml.parse import LatexParseError, SymbolTable, parse_latex

# The printer drops a name's qualifier (y_prob → y, sigma_sq → σ², C_prev → C_{t-1}): the
# text itself no longer says which symbol it was. Reported to the printer's owner.
PRINTER_AMBIGUOUS = {
    "activations.softmax", "activations.softmax_temperature", "losses.mse", "losses.mae",
    "losses.bce", "losses.cce", "losses.focal", "losses.hinge", "batchnorm.normalize",
    "layernorm.normalize", "lstm.cell", "diffusion.forward",
}  # fmt: skip


def outcome(formula) -> str:
    try:
        got = parse_latex(latex(formula.expr), symbols=SymbolTable.of(formula.symbols))
    except LatexParseError:
        return "refused"
    strip = re.compile(r"dummy_index=\d+")
    if got == formula.expr or strip.sub("", sp.srepr(got)) == strip.sub("", sp.srepr(formula.expr)):
        return "equal"
    return "different"


def test_round_trip_over_the_catalog():
    results = {f.id: outcome(f) for f in load_catalog()}
    different = {k for k, v in results.items() if v == "different"}
    assert different <= PRINTER_AMBIGUOUS, different - PRINTER_AMBIGUOUS
    equal = sum(v == "equal" for v in results.values())
    assert equal / len(results) >= 0.55
