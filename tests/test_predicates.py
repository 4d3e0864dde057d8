"""A predicate is one decorated function (``symml.catalog.predicates``): its name, meaning,
parameters and check in one place, validated with the catalog when it loads, checked by the
engine through the ``Prover`` it is handed. ``is_distribution``, which the catalog once
accepted with no check behind it, gives a verdict."""

from __future__ import annotations

import pytest
import sympy as sp

from symml import check_claim, load_catalog
from symml.catalog.loader import load_catalog as load_catalog_from
from symml.catalog.model import Property, Status
from symml.catalog.predicates import PREDICATES, Outcome, Prover, predicate
from symml.errors import CatalogError

HEADER = """
import sympy as sp
from symml.catalog.declare import Part
from symml.catalog.domains import real, unit_open
from symml.catalog.model import Property
P = Part(1, "Test part")
P.section("demo")
z = P.scalar("z", real)
"""


def _refusal(catalog_dir, claim: str) -> str:
    body = f'P.formula("demo.s", "S", sheet="s", expr=1 / (1 + sp.exp(-z)), claims=[{claim}])'
    with pytest.raises(CatalogError) as excinfo:
        load_catalog_from(catalog_dir({"p01_demo.py": HEADER + body}))
    return str(excinfo.value)


def test_a_misspelt_predicate_is_refused_when_the_catalog_loads(catalog_dir):
    message = _refusal(
        catalog_dir, 'Property(sheet="r", predicate="rnge", params=(("interval", unit_open),))'
    )
    assert message == (
        "catalog entry 'demo.s': claim 'r': unknown predicate 'rnge'; did you mean 'range'?"
    )


def test_a_misspelt_parameter_is_refused_when_the_catalog_loads(catalog_dir):
    message = _refusal(
        catalog_dir, 'Property(sheet="r", predicate="range", params=(("intervall", unit_open),))'
    )
    assert message == (
        "catalog entry 'demo.s': claim 'r': predicate 'range' has no parameter 'intervall'; "
        "did you mean 'interval'?"
    )


def test_a_missing_parameter_is_refused_when_the_catalog_loads(catalog_dir):
    message = _refusal(
        catalog_dir, 'Property(sheet="e", predicate="endpoint", params=(("var", z),))'
    )
    assert message == "catalog entry 'demo.s': claim 'e': predicate 'endpoint' needs 'at', 'value'"


def test_a_parameter_given_twice_is_refused_when_the_catalog_loads(catalog_dir):
    message = _refusal(
        catalog_dir,
        'Property(sheet="r", predicate="range", '
        'params=(("interval", unit_open), ("interval", unit_open)))',
    )
    assert message == "catalog entry 'demo.s': claim 'r' gives parameter 'interval' twice"


def test_optional_parameters_may_be_left_out(catalog_dir):
    body = (
        'P.formula("demo.s", "S", sheet="s", expr=1 / (1 + sp.exp(-z)), claims=['
        'Property(sheet="m", predicate="monotone", params=(("var", z), ("direction", "up"))),'
        'Property(sheet="r", predicate="range", params=(("interval", unit_open),))])'
    )
    catalog = load_catalog_from(catalog_dir({"p01_demo.py": HEADER + body}))
    assert [c.predicate for c in catalog.get("demo.s").claims] == ["monotone", "range"]


def test_a_claim_built_in_python_is_checked_for_its_parameters_too():
    formula = load_catalog().get("activations.sigmoid")
    claim = Property(sheet="r", predicate="range", params=(("intervall", None),))
    verdict = check_claim(formula, claim)
    assert verdict.status is Status.ERROR
    assert (
        verdict.detail == "predicate 'range' has no parameter 'intervall'; did you mean 'interval'?"
    )


def test_each_predicate_states_its_meaning_and_parameters():
    assert PREDICATES["range"].required == ("interval",)
    assert PREDICATES["monotone"].optional == ("direction", "interval")
    assert PREDICATES["range"].meaning == (
        "the value lies in `interval` for every input in the domains"
    )
    assert all(p.meaning for p in PREDICATES.values())


def test_a_new_predicate_is_one_function():
    """Registered by its decorator alone, it is accepted and checked: here a predicate that
    proves by comparing with the engine and refutes with the engine's sampler."""

    @predicate
    def at_most(p: Prover, subject, *, bound) -> Outcome:
        """the value never exceeds `bound`"""
        if p.compare(sp.Max(subject, bound), bound).status is Status.PROVED:
            return p.verdict(Status.PROVED, "symbolic: max(value, bound) = bound")
        return p.sample([subject], lambda v: v[0] <= bound, f"value above {bound}")

    try:
        assert PREDICATES["at_most"].required == ("bound",)
        formula = load_catalog().get("activations.sigmoid")
        half = sp.Rational(1, 2)
        below = Property(sheet="σ ≤ 1", predicate="at_most", params=(("bound", 1),))
        above = Property(sheet="σ ≤ 1/2", predicate="at_most", params=(("bound", half),))
        assert check_claim(formula, below, timeout=20).status in (Status.PROVED, Status.NUMERIC)
        refuted = check_claim(formula, above, timeout=20)
        assert refuted.status is Status.REFUTED
        assert refuted.detail.startswith("value above 1/2")
    finally:
        del PREDICATES["at_most"]


def test_a_predicate_is_defined_once():
    def range_(p, subject, *, interval):
        """again"""

    with pytest.raises(ValueError, match="predicate 'range' is defined twice"):
        predicate(range_)


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
