"""Numeric evidence: sampling inside declared domains and evaluating with mpmath.

Points are exact rationals (reproducible from the seed, printable as a counterexample);
expressions are evaluated with SymPy/mpmath at 30 significant digits, and a disagreement is
confirmed at 60 digits before anyone calls it a counterexample, so rounding is never
mistaken for a real difference.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.stats.rv import RandomSymbol

from symml.functions import elementary
from symml.model import Domain, SymbolSpec

DIGITS = 30
CONFIRM_DIGITS = 60
SPECIAL_REALS = (0, 1, -1, sp.Rational(1, 2), 2, -2)


@dataclass(frozen=True)
class Counterexample:
    """Values of every free symbol, and both sides evaluated there."""

    point: dict[str, str]
    lhs: str
    rhs: str

    def describe(self) -> str:
        at = ", ".join(f"{k}={v}" for k, v in self.point.items())
        return f"at {at}: lhs={self.lhs}, rhs={self.rhs}"


@dataclass(frozen=True)
class Comparison:
    agreed: int = 0
    counterexample: Counterexample | None = None
    skipped: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


def domain_of(atom: Any, specs: Mapping[str, SymbolSpec]) -> Domain | None:
    """The declared domain of a free atom after explicit expansion."""
    if isinstance(atom, sp.Indexed):
        spec = specs.get(str(atom.base.label))
    elif isinstance(atom, MatrixElement):
        spec = specs.get(str(atom.parent.name)) if hasattr(atom.parent, "name") else None
    else:
        spec = specs.get(str(atom))
    return spec.domain if spec else None


def free_atoms(exprs: Iterable[Any]) -> list[Any]:
    """Scalars to sample: symbols, indexed elements, matrix elements (sorted by name)."""
    found: set[Any] = set()
    for expr in exprs:
        parts = list(expr) if isinstance(expr, sp.MatrixBase) else [expr]
        for part in parts:
            if not isinstance(part, sp.Basic):
                continue
            indexed = part.atoms(sp.Indexed)
            labels = {a.base.label for a in indexed}
            found |= indexed
            found |= {a for a in part.atoms(MatrixElement) if isinstance(a.parent, sp.MatrixSymbol)}
            found |= {
                s
                for s in part.free_symbols
                if isinstance(s, sp.Symbol) and not isinstance(s, sp.Dummy) and s not in labels
            }
    return sorted(found, key=sp.default_sort_key)


def sample_value(domain: Domain | None, rng: random.Random, special: bool = False) -> sp.Rational:
    """An exact rational inside ``domain`` (reals in [-3, 3] when undeclared)."""
    domain = domain or Domain("real")
    if domain.values:
        return sp.Integer(rng.choice(domain.values))
    if special:
        candidates = [v for v in SPECIAL_REALS if domain.contains(v)]
        if candidates:
            return sp.sympify(rng.choice(candidates))
    lo = domain.lo if domain.lo.is_finite else None
    hi = domain.hi if domain.hi.is_finite else None
    if domain.integer:
        low = int(sp.ceiling(lo)) if lo is not None else -3
        if lo is not None and domain.lo_open and low == lo:
            low += 1
        high = int(sp.floor(hi)) if hi is not None else low + 6
        if hi is not None and domain.hi_open and high == hi:
            high -= 1
        return sp.Integer(rng.randint(low, max(low, high)))
    if lo is not None and hi is not None:
        span = hi - lo
        fraction = sp.Rational(rng.randint(20, 980), 1000)
        return lo + span * fraction
    if lo is not None:  # (lo, ∞): log-uniform above lo
        exponent = rng.uniform(-2.0, 1.5)
        return lo + sp.Rational(round(10**exponent * 1000) or 1, 1000)
    if hi is not None:
        exponent = rng.uniform(-2.0, 1.5)
        return hi - sp.Rational(round(10**exponent * 1000) or 1, 1000)
    return sp.Rational(rng.randint(-3000, 3000), 1000)


def test_function(name: str, arity: int, seed: int) -> sp.Lambda:
    """A smooth, generic stand-in for an unknown function (a loss L, an activation σ)."""
    rng = random.Random(f"{seed}:{name}:{arity}")
    args = sp.symbols(f"u0:{arity}", real=True, cls=sp.Dummy)

    def coefficient() -> sp.Rational:
        return sp.Rational(rng.choice([-1, 1]) * rng.randint(3, 17), 10)

    body = sum((coefficient() * sp.sin(coefficient() * u + coefficient()) for u in args), sp.S.Zero)
    linear = sum((coefficient() * u for u in args), sp.S.Zero)
    return sp.Lambda(args, body + linear**2 / 3)


def concretize_functions(expr: Any, seed: int) -> Any:
    """Replace unknown functions by fixed smooth test functions and evaluate derivatives."""
    if not isinstance(expr, (sp.Basic, sp.MatrixBase)) or not expr.has(AppliedUndef):
        return expr

    def swap(e: sp.Basic) -> sp.Basic:
        return test_function(e.func.__name__, len(e.args), seed)(*e.args)

    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: concretize_functions(e, seed))
    return expr.replace(lambda e: isinstance(e, AppliedUndef), swap).doit()


def evaluate(expr: Any, point: Mapping[Any, Any], digits: int = DIGITS) -> Any:
    """``expr`` at ``point`` to ``digits`` significant digits (matrices elementwise)."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: evaluate(e, point, digits))
    value = elementary(sp.sympify(expr)).xreplace(dict(point))
    if value.has(sp.Sum, sp.Product, sp.Integral, sp.Derivative, sp.Subs):
        value = value.doit()
    return sp.N(value, digits)


def differ(a: Any, b: Any, digits: int) -> bool:
    """Whether two evaluated values differ beyond rounding at ``digits`` digits."""
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        if not (isinstance(a, sp.MatrixBase) and isinstance(b, sp.MatrixBase)):
            return True
        if a.shape != b.shape:
            return True
        return any(differ(x, y, digits) for x, y in zip(a, b, strict=True))
    if a.has(sp.nan, sp.zoo) or b.has(sp.nan, sp.zoo):
        return a != b
    if not (a.is_number and b.is_number):
        return sp.simplify(a - b) != 0
    scale = 1 + abs(a) + abs(b)
    return bool(abs(a - b) > scale * sp.Float(10) ** (-(digits - 8)))


def compare(
    lhs: Any,
    rhs: Any,
    specs: Mapping[str, SymbolSpec],
    *,
    seed: int = 0,
    samples: int = 12,
    constraints: Sequence[Any] = (),
    solved: Mapping[Any, Any] | None = None,
) -> Comparison:
    """Evaluate ``lhs`` and ``rhs`` at sampled points of the domains.

    ``constraints`` are relations every point must satisfy (rejection sampling);
    ``solved`` maps atoms to expressions of the others (equality conditions).
    """
    lhs = concretize_functions(lhs, seed)
    rhs = concretize_functions(rhs, seed)
    atoms = [a for a in free_atoms([lhs, rhs, *constraints]) if not solved or a not in solved]
    rng = random.Random(seed)
    agreed = skipped = 0
    for attempt in range(samples * 20):
        if agreed + skipped >= samples:
            break
        special = attempt % 3 == 0
        point = {a: sample_value(domain_of(a, specs), rng, special) for a in atoms}
        if solved:
            point.update({a: sp.sympify(e).xreplace(point) for a, e in solved.items()})
            if any(not _inside(a, v, specs) for a, v in point.items()):
                continue
        if any(_holds(c, point) is not True for c in constraints):
            continue
        try:
            left, right = evaluate(lhs, point), evaluate(rhs, point)
        except (ZeroDivisionError, ValueError, TypeError):
            skipped += 1
            continue
        if _undefined(left) or _undefined(right):
            skipped += 1
            continue
        if differ(left, right, DIGITS):
            left60, right60 = (
                evaluate(lhs, point, CONFIRM_DIGITS),
                evaluate(rhs, point, CONFIRM_DIGITS),
            )
            if differ(left60, right60, CONFIRM_DIGITS):
                shown = {str(a): str(v) for a, v in point.items()}
                return Comparison(
                    agreed, Counterexample(shown, _short(left60), _short(right60)), skipped
                )
        agreed += 1
    return Comparison(agreed, None, skipped)


def _inside(atom: Any, value: Any, specs: Mapping[str, SymbolSpec]) -> bool:
    domain = domain_of(atom, specs)
    return domain is None or domain.contains(value)


def _holds(condition: Any, point: Mapping[Any, Any]) -> bool | None:
    value = condition.xreplace(dict(point))
    if value.has(sp.Sum):
        value = value.doit()
    value = sp.simplify(value) if not isinstance(value, sp.logic.boolalg.BooleanAtom) else value
    return bool(value) if isinstance(value, sp.logic.boolalg.BooleanAtom) else None


def _undefined(value: Any) -> bool:
    if isinstance(value, sp.MatrixBase):
        return any(_undefined(v) for v in value)
    return bool(value.has(sp.nan, sp.zoo, sp.oo, -sp.oo)) or not value.is_number


def _short(value: Any) -> str:
    if isinstance(value, sp.MatrixBase):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return str(sp.N(value, 12))


def random_symbols(expr: Any) -> set[RandomSymbol]:
    return set(expr.atoms(RandomSymbol)) if isinstance(expr, sp.Basic) else set()
