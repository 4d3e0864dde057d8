"""One list of predicates: every name the catalog accepts has a check (the import of
symml.engine.properties fails otherwise), and ``is_distribution``, which the catalog accepted
with no check behind it, now gives a verdict."""

from __future__ import annotations

import sympy as sp

from symml import check_claim, load_catalog
from symml.catalog.model import PREDICATES, Property, Status
from symml.engine.properties import CHECKS


def test_every_predicate_the_catalog_accepts_has_a_check():
    assert CHECKS.keys() == PREDICATES.keys()


def _softmax_claim(subject=None):
    formula = load_catalog().get("activations.softmax")
    free = {str(s): s for s in formula.expr.free_symbols}
    claim = Property(
        sheet="a probability distribution",
        predicate="is_distribution",
        params=(("index", free["i"]), ("lower", 1), ("upper", free["k"])),
        subject=subject(free) if subject else None,
    )
    return formula, claim


def test_softmax_is_a_distribution():
    verdict = check_claim(*_softmax_claim(), timeout=20)
    assert verdict.status is Status.PROVED
    assert verdict.method.startswith("non-negative (symbolic")


def test_sigmoids_side_by_side_are_not_a_distribution():
    formula, claim = _softmax_claim(lambda s: 1 / (1 + sp.exp(-s["z_vec[i]"])))
    verdict = check_claim(formula, claim, timeout=20)
    assert verdict.status is Status.REFUTED
    assert verdict.method.startswith("sums to 1:")
    assert verdict.counterexample is not None
