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

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixElement

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
    """Scalars to sample: symbols, indexed elements, matrix elements (sorted by name).

    One walk per expression: an indexed or matrix element is a leaf (its label and indices
    are not themselves sampled); bound variables of sums, integrals and lambdas are not free.
    """
    found: set[Any] = set()
    for expr in exprs:
        parts = list(expr) if isinstance(expr, sp.MatrixBase) else [expr]
        for part in parts:
            if not isinstance(part, sp.Basic):
                continue
            bound: set[Any] = set()
            walk = sp.preorder_traversal(part)
            for node in walk:
                if isinstance(node, sp.Indexed) or (
                    isinstance(node, MatrixElement) and isinstance(node.parent, sp.MatrixSymbol)
                ):
                    found.add(node)
                    walk.skip()
                elif isinstance(
                    node, (sp.Sum, sp.Product, sp.Integral, sp.Lambda, sp.Subs, sp.Derivative)
                ):
                    bound |= _bound_symbols(node)
                elif isinstance(node, sp.Symbol) and not isinstance(node, sp.Dummy):
                    found.add(node)
            found -= bound - part.free_symbols
    return sorted(found, key=sp.default_sort_key)


def _bound_symbols(node: sp.Basic) -> set[Any]:
    if isinstance(node, (sp.Sum, sp.Product, sp.Integral)):
        return {limit[0] for limit in node.limits}
    if isinstance(node, sp.Lambda):
        return set(node.variables)
    if isinstance(node, sp.Subs):
        return set(node.variables)
    return set()


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
    """A generic stand-in for an unknown function (a loss L, an activation σ): a random
    polynomial with linear, quadratic (cross terms included) and cubic parts, so that no
    product, transpose or missing factor in a claimed rule can cancel by accident, while
    nested compositions stay small enough to differentiate and compile quickly."""
    rng = random.Random(f"{seed}:{name}:{arity}")
    args = sp.symbols(f"u0:{arity}", real=True, cls=sp.Dummy)

    def coefficient() -> sp.Rational:
        return sp.Rational(rng.choice([-1, 1]) * rng.randint(3, 17), 10)

    linear = sum((coefficient() * u for u in args), sp.S.Zero)
    mixed = sum((coefficient() * u for u in args), sp.S.Zero)
    cubic = sum((coefficient() * u**3 / 7 for u in args), sp.S.Zero)
    return sp.Lambda(args, linear + mixed**2 / 3 + cubic)


def function_stand_ins(exprs: Sequence[Any], seed: int) -> dict[str, str]:
    """How a counterexample's unknown functions were made concrete: ``{"L": "(u0, u1) ↦ …"}``."""
    shown: dict[str, str] = {}
    for expr in exprs:
        parts = list(expr) if isinstance(expr, sp.MatrixBase) else [expr]
        for part in parts:
            if not isinstance(part, sp.Basic):
                continue
            for call in part.atoms(AppliedUndef):
                stand_in = test_function(call.func.__name__, len(call.args), seed)
                args = ", ".join(f"u{k}" for k in range(len(call.args)))
                body = stand_in(*sp.symbols(f"u0:{len(call.args)}"))
                shown[call.func.__name__] = f"({args}) ↦ {sp.sstr(body)}"
    return shown


def concretize_functions(expr: Any, seed: int) -> Any:
    """Replace unknown functions by fixed smooth test functions and evaluate derivatives."""
    if not isinstance(expr, (sp.Basic, sp.MatrixBase)) or not expr.has(AppliedUndef):
        return expr

    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: concretize_functions(e, seed))
    # Substituting the function class (not its applications) lets SymPy carry the change
    # through Derivative and Subs objects, including derivatives taken w.r.t. σ(x).
    calls = {(e.func, len(e.args)) for e in expr.atoms(AppliedUndef)}
    mapping = {func: test_function(func.__name__, arity, seed) for func, arity in calls}
    return expr.subs(mapping).doit()


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
    stand_ins = function_stand_ins([lhs, rhs], seed)
    lhs = concretize_functions(lhs, seed)
    rhs = concretize_functions(rhs, seed)
    atoms = [a for a in free_atoms([lhs, rhs, *constraints]) if not solved or a not in solved]
    both = Evaluator(atoms, lhs, rhs)
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
        values = both(point, DIGITS)
        if values is None:
            skipped += 1
            continue
        if _differ_lists(*values, DIGITS):
            confirmed = both(point, CONFIRM_DIGITS)
            if confirmed is not None and _differ_lists(*confirmed, CONFIRM_DIGITS):
                shown = {str(a): str(v) for a, v in point.items()} | stand_ins
                left, right = (_short_list(v, lhs) for v in confirmed)
                return Comparison(agreed, Counterexample(shown, left, right), skipped)
        agreed += 1
    return Comparison(agreed, None, skipped)


class Evaluator:
    """Both sides compiled once (mpmath), evaluated at exact points to a given precision."""

    def __init__(self, atoms: Sequence[Any], lhs: Any, rhs: Any) -> None:
        self.atoms = list(atoms)
        self.lhs = _flat(lhs)
        self.rhs = _flat(rhs)
        self.count = len(self.lhs)
        self.same_shape = _shape(lhs) == _shape(rhs)
        self.compiled = None
        try:
            stand_ins = sp.symbols(f"a0:{len(self.atoms)}", cls=sp.Dummy)
            rename = dict(zip(self.atoms, stand_ins, strict=True))
            exprs = [_ready(e).xreplace(rename) for e in self.lhs + self.rhs]
            self.compiled = sp.lambdify(stand_ins, exprs, modules="mpmath", cse=True)
        except Exception:  # anything lambdify cannot print falls back to exact evaluation
            self.compiled = None

    def __call__(self, point: Mapping[Any, Any], digits: int) -> tuple[list, list] | None:
        if not self.same_shape:
            return [sp.nan], [sp.S.Zero]
        values = None
        if self.compiled is not None:
            try:
                with mpmath.workdps(digits + 5):
                    raw = self.compiled(*(_mpf(point[a]) for a in self.atoms))
                values = [
                    sp.Float(v, digits) if not isinstance(v, int) else sp.Integer(v) for v in raw
                ]
            except Exception:
                values = None
        if values is None:
            try:
                values = [evaluate(e, point, digits) for e in self.lhs + self.rhs]
            except (ZeroDivisionError, ValueError, TypeError):
                return None
        left, right = values[: self.count], values[self.count :]
        left_bad, right_bad = any(_undefined(v) for v in left), any(_undefined(v) for v in right)
        if left_bad and right_bad:
            return None
        if left_bad or right_bad:
            # One side undefined where the other has a value: a real difference (0/0 against 0).
            return ([sp.nan] if left_bad else left), ([sp.nan] if right_bad else right)
        return left, right


def _ready(expr: Any) -> Any:
    value = elementary(sp.sympify(expr))
    if value.has(sp.Sum, sp.Product, sp.Integral, sp.Derivative, sp.Subs):
        value = value.doit()
    return value


def _flat(value: Any) -> list[Any]:
    return list(value) if isinstance(value, sp.MatrixBase) else [value]


def _shape(value: Any) -> tuple[int, ...]:
    return value.shape if isinstance(value, sp.MatrixBase) else ()


def _mpf(value: Any) -> Any:
    value = sp.nsimplify(value) if not isinstance(value, sp.Rational) else value
    if isinstance(value, sp.Rational):
        return mpmath.mpf(int(value.p)) / int(value.q)
    return mpmath.mpf(str(sp.N(value, 70)))


def _differ_lists(left: list, right: list, digits: int) -> bool:
    if len(left) != len(right) or any(v is sp.nan for v in left + right):
        return True
    return any(differ(a, b, digits) for a, b in zip(left, right, strict=True))


def _short_list(values: list, like: Any) -> str:
    if isinstance(like, sp.MatrixBase):
        return "[" + ", ".join(_short(v) for v in values) + "]"
    return _short(values[0])


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
    if value is sp.nan:
        return "undefined"
    if isinstance(value, sp.MatrixBase):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return str(sp.N(value, 12))
