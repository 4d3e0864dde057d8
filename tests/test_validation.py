"""Loading a catalog validates it: each problem is one line naming the entry."""

import pytest

from symml.catalog.loader import load_catalog
from symml.errors import CatalogError

HEADER = """
import sympy as sp
from symml.catalog.declare import Part
from symml.catalog.domains import real, unit_open
from symml.catalog.model import Derivative, Identity, Status
P = Part(1, "Test part")
P.section("demo")
z = P.scalar("z", real)
"""


def _load(catalog_dir, body: str, extra: dict[str, str] | None = None):
    files = {"p01_demo.py": HEADER + body, **(extra or {})}
    return load_catalog(catalog_dir(files))


def _message(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_a_valid_file_loads(catalog_dir):
    catalog = _load(catalog_dir, 'P.formula("demo.square", "Square", sheet="z²", expr=z**2)')
    assert catalog.get("demo.square").symbols[0].name == "z"


def test_unknown_symbol_is_refused(catalog_dir):
    body = 'P.formula("demo.bad", "Bad", sheet="z + q", expr=z + sp.Symbol("q"))'
    with pytest.raises(CatalogError) as excinfo:
        _load(catalog_dir, body)
    assert _message(excinfo) == (
        "catalog entry 'demo.bad': the formula uses 'q', which its section does not declare; "
        "declare it with Part.scalar/matrix/indexed/function"
    )


def test_duplicate_id_is_refused(catalog_dir):
    body = (
        'P.formula("demo.twice", "A", sheet="z", expr=z)\n'
        'P.formula("demo.twice", "B", sheet="z", expr=z)'
    )
    with pytest.raises(CatalogError, match=r"^catalog entry 'demo.twice': duplicate id"):
        _load(catalog_dir, body)


def test_derivative_with_respect_to_an_absent_symbol_is_refused(catalog_dir):
    body = (
        'y = P.scalar("y", real)\n'
        'P.formula("demo.d", "D", sheet="z²", expr=z**2, '
        'claims=[Derivative(sheet="d/dy", wrt=y, claimed=2*z)])'
    )
    with pytest.raises(CatalogError) as excinfo:
        _load(catalog_dir, body)
    assert "differentiates with respect to y, which the expression does not contain" in _message(
        excinfo
    )


def test_domain_that_contradicts_an_assumption_is_refused(catalog_dir):
    body = (
        'p = P.declare(sp.Symbol("p", negative=True), unit_open)\n'
        'P.formula("demo.p", "P", sheet="p", expr=p)'
    )
    with pytest.raises(CatalogError) as excinfo:
        _load(catalog_dir, body)
    assert "symbol 'p' is assumed negative but its domain (0, 1)" in _message(excinfo)


def test_expected_refuted_without_correction_is_refused(catalog_dir):
    body = (
        'P.formula("demo.r", "R", sheet="z", expr=z, claims=[Identity(sheet="z = 2z", '
        "lhs=z, rhs=2*z, expected=Status.REFUTED)])"
    )
    with pytest.raises(CatalogError, match="expected refuted but records no correction"):
        _load(catalog_dir, body)


def test_an_exception_in_a_catalog_file_names_the_file(catalog_dir):
    with pytest.raises(CatalogError) as excinfo:
        _load(catalog_dir, "1 / 0")
    assert _message(excinfo) == "catalog entry 'p01_demo.py': ZeroDivisionError: division by zero"


def test_a_symbol_declared_twice_in_a_section_is_refused(catalog_dir):
    with pytest.raises(CatalogError, match="symbol 'z': declared twice in section 'demo'"):
        _load(catalog_dir, 'P.scalar("z", real)')


def test_ids_must_live_in_their_section(catalog_dir):
    with pytest.raises(CatalogError, match="id is not in its section 'demo'"):
        _load(catalog_dir, 'P.formula("other.z", "Z", sheet="z", expr=z)')


def test_unknown_id_suggests_the_nearest(catalog):
    with pytest.raises(KeyError) as excinfo:
        catalog.get("sigmod")
    assert str(excinfo.value) == "no formula 'sigmod'; did you mean 'activations.sigmoid'?"
