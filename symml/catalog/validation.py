"""Validating a catalog: every entry of every file checked once per catalog version, and
the index written from what was checked (``symml.catalog.index``)."""

from __future__ import annotations

import difflib
from pathlib import Path

import sympy as sp

from symml.catalog.building import index_entry, load_part, with_source
from symml.catalog.index import CatalogIndex, IndexEntry
from symml.catalog.model import (
    FRAMEWORKS,
    ID_PATTERN,
    SYMBOL_KINDS,
    Derivative,
    Formula,
    Matches,
    Notation,
    Property,
    Status,
    SymbolSpec,
)
from symml.catalog.predicates import PREDICATES, unknown_predicate
from symml.catalog.references import OPTIMIZER, REFERENCES
from symml.catalog.symbols import matches, referenced
from symml.errors import CatalogError


def load_and_validate(
    files: list[Path], version: str
) -> tuple[dict[str, tuple[Formula, ...]], CatalogIndex]:
    parts = [load_part(path) for path in files]
    loaded: dict[str, tuple[Formula, ...]] = {}
    entries: list[IndexEntry] = []
    seen: dict[str, str] = {}
    numbers: dict[int, str] = {}
    for path, part in zip(files, parts, strict=True):
        if part.number in numbers:
            raise CatalogError(
                path.name, f"part {part.number} is also declared in {numbers[part.number]}"
            )
        numbers[part.number] = path.name
        formulas = []
        for formula in part.formulas:
            formula = with_source(formula, path.name)
            if formula.id in seen:
                raise CatalogError(formula.id, f"duplicate id (also in {seen[formula.id]})")
            seen[formula.id] = path.name
            validate(formula)
            formulas.append(formula)
            entries.append(index_entry(formula, path.name))
        loaded[path.name] = tuple(formulas)
    described = tuple((p.number, p.title, path.name) for path, p in zip(files, parts, strict=True))
    return loaded, CatalogIndex(version, described, tuple(entries))


def validate(formula: Formula) -> None:
    """Raise ``CatalogError`` naming the entry if anything about it is inconsistent."""
    fid = formula.id
    if not ID_PATTERN.match(fid):
        raise CatalogError(fid, "ids are 'section.slug' in lower case, e.g. 'activations.sigmoid'")
    if fid.split(".")[0] != formula.section:
        raise CatalogError(fid, f"id is not in its section '{formula.section}'")
    if not formula.sheet.strip():
        raise CatalogError(fid, "no sheet text; record the sheet's line verbatim")
    for spec in formula.symbols:
        _check_domain(fid, spec)
    _check_symbols(
        fid, "the formula", [formula.expr, formula.lhs, *formula.assumptions], formula.symbols
    )
    for claim in formula.claims:
        what = f"claim '{claim.sheet}'"
        _check_symbols(fid, what, list(claim.expressions()), formula.symbols)
        if isinstance(claim, Derivative):
            _check_symbols(fid, what, [claim.wrt], formula.symbols)
            body = claim.of if claim.of is not None else formula.expr
            target = claim.wrt.base if isinstance(claim.wrt, sp.Indexed) else claim.wrt
            if not _mentions(body, target):
                raise CatalogError(
                    fid,
                    f"{what} differentiates with respect to {claim.wrt}, "
                    "which the expression does not contain",
                )
        if isinstance(claim, Property):
            _check_property(fid, what, claim)
        if isinstance(claim, Matches):
            _check_matches(fid, what, claim)
        elif claim.expected is Status.DIFFERS:
            raise CatalogError(
                fid, f"{what} is expected 'differs', which only a Matches claim can be"
            )
        if isinstance(claim, Notation) and len(claim.readings) < 2:
            raise CatalogError(fid, f"{what} is a notation claim with fewer than two readings")
        if claim.expected is Status.CONDITIONAL and not claim.conditions:
            raise CatalogError(fid, f"{what} is expected conditional but states no condition")
        if claim.expected is Status.REFUTED and claim.correction is None:
            raise CatalogError(fid, f"{what} is expected refuted but records no correction")
        if claim.expected is Status.AMBIGUOUS and len(claim.readings) < 2:
            raise CatalogError(
                fid, f"{what} is expected ambiguous but lists fewer than two readings"
            )


def _check_property(fid: str, what: str, claim: Property) -> None:
    """A property claim names a registered predicate and gives exactly its parameters."""
    definition = PREDICATES.get(claim.predicate)
    if definition is None:
        raise CatalogError(fid, f"{what}: {unknown_predicate(claim.predicate)}")
    names = [name for name, _ in claim.params]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise CatalogError(fid, f"{what} gives parameter '{twice[0]}' twice")
    problem = definition.parameter_problem(names)
    if problem is not None:
        raise CatalogError(fid, f"{what}: {problem}")


def _check_matches(fid: str, what: str, claim: Matches) -> None:
    """A matches claim names a known framework function, of its framework, and says how
    they differ when it expects them to."""
    if claim.framework not in FRAMEWORKS:
        raise CatalogError(
            fid, f"{what} names framework '{claim.framework}'; known: {', '.join(FRAMEWORKS)}"
        )
    reference = REFERENCES.get(claim.reference)
    if reference is None:
        close = difflib.get_close_matches(claim.reference, list(REFERENCES), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else " (add it to symml.engine.frameworks)"
        raise CatalogError(fid, f"{what} compares with unknown '{claim.reference}'{hint}")
    if reference.framework != claim.framework:
        raise CatalogError(
            fid,
            f"{what}: {claim.reference} belongs to {reference.framework}, "
            f"not to '{claim.framework}'",
        )
    if (reference.kind == OPTIMIZER) != (claim.run is not None):
        need = "a Run of the update rule" if reference.kind == OPTIMIZER else "no Run"
        raise CatalogError(fid, f"{what}: {claim.reference} needs {need}")
    if any(not isinstance(target, sp.MatrixSymbol) for target, _ in claim.steps):
        raise CatalogError(fid, f"{what}: each of its steps gives its value to a matrix symbol")
    if claim.rtol and not claim.note:
        raise CatalogError(fid, f"{what} loosens the tolerance (rtol); say why in its note")
    if claim.expected is Status.DIFFERS and not (
        claim.difference and claim.agrees_when and claim.badge
    ):
        raise CatalogError(
            fid,
            f"{what} is expected to differ from {claim.reference}; record the difference, "
            "the setting under which they agree and a few words for the sheet's mark "
            "(difference=..., agrees_when=..., badge=...)",
        )


def _mentions(body, target) -> bool:
    if isinstance(body, sp.Basic) and body.has(target):
        return True
    return any(matches(target, u) for u in referenced(body))


def _check_symbols(fid: str, what: str, exprs: list, specs: tuple[SymbolSpec, ...]) -> None:
    for used in referenced(exprs):
        if not any(matches(spec.symbol, used) for spec in specs):
            raise CatalogError(
                fid,
                f"{what} uses '{used}', which its section does not declare; declare it "
                "with Part.scalar/matrix/indexed/function",
            )


_ASSUMPTION_TESTS = (
    (
        "positive",
        lambda d: (
            (d.lo >= 0) == sp.true and (d.lo_open or d.lo > 0)
            if not d.values
            else min(d.values) > 0
        ),
    ),
    ("nonnegative", lambda d: (d.lo >= 0) == sp.true if not d.values else min(d.values) >= 0),
    (
        "negative",
        lambda d: (
            (d.hi <= 0) == sp.true and (d.hi_open or d.hi < 0)
            if not d.values
            else max(d.values) < 0
        ),
    ),
    ("integer", lambda d: d.integer or bool(d.values)),
)


def _check_domain(fid: str, spec: SymbolSpec) -> None:
    if spec.kind not in SYMBOL_KINDS:
        raise CatalogError(
            fid,
            f"symbol '{spec.name}' has unknown kind '{spec.kind}'; "
            f"known: {', '.join(SYMBOL_KINDS)}",
        )
    symbol = spec.symbol
    if not isinstance(symbol, sp.Symbol):
        return
    if symbol.is_real is False:
        raise CatalogError(
            fid, f"symbol '{spec.name}' is not real but has domain {spec.domain.describe()}"
        )
    for fact, domain_implies in _ASSUMPTION_TESTS:
        if getattr(symbol, f"is_{fact}") and not domain_implies(spec.domain):
            raise CatalogError(
                fid,
                f"symbol '{spec.name}' is assumed {fact} but its domain "
                f"{spec.domain.describe()} allows other values; make them agree",
            )
