"""Load a directory of catalog files, validate every entry, look entries up."""

from __future__ import annotations

import difflib
import functools
import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

from symml.declare import Part
from symml.errors import CatalogError, UnknownFormulaError
from symml.frameworks.references import OPTIMIZER, REFERENCES
from symml.model import (
    FRAMEWORKS,
    ID_PATTERN,
    PREDICATES,
    SYMBOL_KINDS,
    Derivative,
    Formula,
    Matches,
    Notation,
    Property,
    Status,
    SymbolSpec,
)
from symml.symbols import matches, referenced


@dataclass(frozen=True)
class Catalog:
    """The loaded, validated formulas, in sheet order."""

    formulas: tuple[Formula, ...]
    parts: tuple[tuple[int, str], ...]
    root: str

    def __iter__(self) -> Iterator[Formula]:
        return iter(self.formulas)

    def __len__(self) -> int:
        return len(self.formulas)

    def __contains__(self, formula_id: object) -> bool:
        return any(f.id == formula_id for f in self.formulas)

    def get(self, formula_id: str) -> Formula:
        for formula in self.formulas:
            if formula.id == formula_id:
                return formula
        raise UnknownFormulaError(formula_id, self.suggest(formula_id))

    def suggest(self, formula_id: str) -> str | None:
        """The closest id, comparing whole ids and the part after the dot."""
        ids = [f.id for f in self.formulas]
        close = difflib.get_close_matches(formula_id, ids, n=1, cutoff=0.6)
        if close:
            return close[0]
        slugs = {f.id.split(".", 1)[1]: f.id for f in self.formulas}
        tail = formula_id.rsplit(".", 1)[-1]
        close = difflib.get_close_matches(tail, list(slugs), n=1, cutoff=0.6)
        return slugs[close[0]] if close else None

    def part(self, number: int) -> tuple[Formula, ...]:
        if number not in dict(self.parts):
            known = ", ".join(str(n) for n, _ in self.parts)
            raise CatalogError(f"part {number}", f"no such part; the parts are {known}")
        return tuple(f for f in self.formulas if f.part == number)


def builtin_root() -> Path:
    """Where the built-in catalog is: inside the installed package, or the checkout."""
    try:
        import symml.derivations as shipped

        return Path(shipped.__file__).parent
    except ImportError:  # running from a source tree that was never installed
        return Path(__file__).resolve().parent.parent / "derivations"


@functools.lru_cache(maxsize=4)
def load_catalog(root: str | Path | None = None) -> Catalog:
    """Load and validate every ``p*.py`` catalog file under ``root`` (default: built-in)."""
    folder = Path(root) if root is not None else builtin_root()
    files = sorted(folder.glob("p*.py"))
    if not files:
        raise CatalogError(str(folder), "no catalog files (p*.py) in this folder")
    parts = [_load_part(path) for path in files]
    formulas: list[Formula] = []
    seen: dict[str, str] = {}
    numbers: dict[int, str] = {}
    for path, part in zip(files, parts, strict=True):
        if part.number in numbers:
            raise CatalogError(
                path.name, f"part {part.number} is also declared in {numbers[part.number]}"
            )
        numbers[part.number] = path.name
        for formula in part.formulas:
            formula = _with_source(formula, path.name)
            if formula.id in seen:
                raise CatalogError(formula.id, f"duplicate id (also in {seen[formula.id]})")
            seen[formula.id] = path.name
            validate(formula)
            formulas.append(formula)
    titles = tuple((p.number, p.title) for p in sorted(parts, key=lambda p: p.number))
    return Catalog(tuple(formulas), titles, str(folder))


def _with_source(formula: Formula, source: str) -> Formula:
    from dataclasses import replace

    return replace(formula, source=source)


def _load_part(path: Path) -> Part:
    module_name = f"_symml_catalog_{abs(hash(str(path.resolve())))}_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise CatalogError(path.name, "cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except CatalogError:
        raise
    except Exception as exc:  # a catalog file is user code: report it by file, in one line
        raise CatalogError(path.name, f"{type(exc).__name__}: {exc}") from exc
    finally:
        sys.modules.pop(module_name, None)
    found = [v for v in vars(module).values() if isinstance(v, Part)]
    if len(found) != 1:
        raise CatalogError(
            path.name, f"defines {len(found)} Part objects; a catalog file defines one"
        )
    return found[0]


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
        if isinstance(claim, Property) and claim.predicate not in PREDICATES:
            raise CatalogError(
                fid,
                f"{what} uses unknown predicate '{claim.predicate}'; "
                f"known: {', '.join(PREDICATES)}",
            )
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
        hint = f"; did you mean '{close[0]}'?" if close else " (add it to symml.frameworks)"
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
