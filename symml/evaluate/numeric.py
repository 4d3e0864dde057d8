"""Numeric evidence: sampling inside declared domains and evaluating with mpmath.

Points are exact rationals (reproducible from the seed, printable as a counterexample);
expressions are evaluated at 30 significant digits as a screen. A point where the sides
look different (and the first points where they look equal) is settled by ``certify``:
interval arithmetic (``symml.evaluate.enclosure``), or precision raised past an error bound, so
rounding and cancellation are never mistaken for a real difference, and a real difference
below the screen's tolerance is still found.
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

from symml.catalog.model import Domain, SymbolSpec
from symml.catalog.primitives import elementary
from symml.evaluate import enclosure

DIGITS = 30
RAISED_DIGITS = (30, 60, 120, 240)
CERTIFIED_AGREEMENTS = 2  # points that look equal at 30 digits but are certified anyway
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
    certified_by: str = ""  # how the counterexample's difference was certified
    point: dict[Any, Any] | None = None  # the first point evaluated (a witness's place)


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
    """Whether two evaluated values look different beyond rounding at ``digits`` digits.

    A screen, not a verdict: a difference it reports is certified (``certify``) before anyone
    calls it a counterexample. Values that are not numbers cannot be compared and count as
    different, so that the certificate, not a ``simplify``, decides."""
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        if not (isinstance(a, sp.MatrixBase) and isinstance(b, sp.MatrixBase)):
            return True
        if a.shape != b.shape:
            return True
        return any(differ(x, y, digits) for x, y in zip(a, b, strict=True))
    if a.has(sp.nan, sp.zoo) or b.has(sp.nan, sp.zoo):
        return a != b
    if not (a.is_number and b.is_number):
        return True
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
    ``solved`` maps atoms to expressions of the others (equality conditions). A point where
    the sides look different at 30 digits, and the first ``CERTIFIED_AGREEMENTS`` points
    where they look equal, are settled by ``certify``: only a certified difference is a
    counterexample.
    """
    stand_ins = function_stand_ins([lhs, rhs], seed)
    lhs = concretize_functions(lhs, seed)
    rhs = concretize_functions(rhs, seed)
    atoms = [a for a in free_atoms([lhs, rhs, *constraints]) if not solved or a not in solved]
    both = Evaluator(atoms, lhs, rhs)
    rng = random.Random(seed)
    agreed = skipped = 0
    notes: list[str] = []
    first_point: dict[Any, Any] | None = None
    for attempt in range(samples * 20):
        if agreed + skipped >= samples:
            break
        special = attempt % 3 == 0
        point = {a: sample_value(domain_of(a, specs), rng, special) for a in atoms}
        if solved:
            point.update({a: sp.sympify(e).xreplace(point) for a, e in solved.items()})
            if any(not _inside(a, v, specs) for a, v in point.items()):
                continue
        if any(holds_at(c, point) is not True for c in constraints):
            continue
        values = both(point, DIGITS)
        if values is None:
            skipped += 1
            continue
        first_point = first_point or point
        looks_different = _differ_lists(*values, DIGITS)
        if looks_different or agreed < CERTIFIED_AGREEMENTS:
            outcome = certify(both, point)
            if outcome.differ:
                shown = {str(a): str(v) for a, v in point.items()} | stand_ins
                left, right = _witness_texts(outcome.lhs, outcome.rhs, lhs)
                witness = Counterexample(shown, left, right)
                return Comparison(agreed, witness, skipped, tuple(notes), outcome.method, point)
            if looks_different and not outcome.decided:
                note = f"a difference at 30 digits was not confirmed ({outcome.method})"
                if note not in notes:
                    notes.append(note)
                skipped += 1
                continue
        agreed += 1
    return Comparison(agreed, None, skipped, tuple(notes), point=first_point)


def witness(
    lhs: Any, rhs: Any, point: Mapping[Any, Any] | None, seed: int
) -> Counterexample | None:
    """Both sides at ``point``, printed with enough digits to show a difference that is
    known to exist (a nonzero constant however small)."""
    if point is None:
        return None
    stand_ins = function_stand_ins([lhs, rhs], seed)
    lhs, rhs = concretize_functions(lhs, seed), concretize_functions(rhs, seed)
    both = Evaluator(list(point), lhs, rhs)
    values = both.exact(point)
    if values is None:
        return None
    left, right = (tuple(sp.N(v, 80) for v in side) for side in values)
    shown = {str(a): str(v) for a, v in point.items()} | stand_ins
    return Counterexample(shown, *_witness_texts(left, right, lhs))


@dataclass(frozen=True)
class Outcome:
    """What ``certify`` found at one point: ``differ`` only when certified; ``decided`` when
    the sides were shown equal to the working bound; ``method`` says how."""

    differ: bool
    decided: bool
    method: str
    lhs: tuple[Any, ...] = ()
    rhs: tuple[Any, ...] = ()


def certify(both: Evaluator, point: Mapping[Any, Any]) -> Outcome:
    """Whether the sides differ at ``point``, with an error bound, never by rounding.

    1. One side undefined where the other has a value, in exact arithmetic (0/0 against 0).
    2. Interval arithmetic (``symml.evaluate.enclosure``), precision raised until the enclosures
       separate or shrink below 10⁻⁴⁰ of the values.
    3. Where no enclosure exists (a function without an interval version): precision raised
       from 30 to 240 digits; each side's error is bounded by how much its value moved when
       the precision doubled, and the sides must separate by more than 4× the sum of the
       bounds at two precisions in a row.
    """
    if not both.same_shape:
        return Outcome(True, True, "shapes differ", (sp.nan,), (sp.S.Zero,))
    exact = both.exact(point)
    if exact is not None:
        left, right = exact
        left_bad = any(_undefined(v) for v in left)
        right_bad = any(_undefined(v) for v in right)
        if left_bad != right_bad:
            shown = (
                tuple(sp.nan for _ in left) if left_bad else tuple(left),
                tuple(sp.nan for _ in right) if right_bad else tuple(right),
            )
            return Outcome(True, True, "exact arithmetic (one side undefined)", *shown)
        if left_bad and right_bad:
            return Outcome(False, False, "both sides undefined")
    separation = enclosure.separate(both.ready_lhs, both.ready_rhs, point)
    if separation is not None:
        method = f"interval arithmetic at {separation.bits} bits"
        return Outcome(separation.differ, True, method, separation.lhs, separation.rhs)
    raised = _raised_precision(both, point)
    exact = both.exact(point, RAISED_DIGITS[1]) if raised.differ else None
    if exact is not None and not _differ_lists(*exact, RAISED_DIGITS[1]):
        # SymPy's own evaluation of the exact point (Heaviside(0) = 1/2 where floating point
        # saw ±tiny) finds no difference: not certified.
        return Outcome(False, False, "raised precision disagrees with exact evaluation")
    return raised


def _raised_precision(both: Evaluator, point: Mapping[Any, Any]) -> Outcome:
    previous = both(point, RAISED_DIGITS[0])
    if previous is None:
        return Outcome(False, False, "could not be evaluated")
    separated = 0
    for digits in RAISED_DIGITS[1:]:
        current = both(point, digits)
        if current is None:
            return Outcome(False, False, "could not be evaluated")
        gaps = []
        for side_now, side_before in zip(current, previous, strict=True):
            gaps.append([abs(a - b) for a, b in zip(side_now, side_before, strict=True)])
        apart = False
        for k, (a, b) in enumerate(zip(*current, strict=True)):
            bound = 4 * (gaps[0][k] + gaps[1][k]) + (1 + abs(a) + abs(b)) * sp.Float(10) ** (
                -(digits - 10)
            )
            if abs(a - b) > bound:
                apart = True
        separated = separated + 1 if apart else 0
        if separated >= 2:
            method = f"precision raised to {digits} digits (no interval form)"
            return Outcome(True, True, method, tuple(current[0]), tuple(current[1]))
        previous = current
    return Outcome(False, False, f"not separated at {RAISED_DIGITS[-1]} digits (no interval form)")


class Evaluator:
    """Both sides compiled once (mpmath), evaluated at exact points to a given precision."""

    def __init__(self, atoms: Sequence[Any], lhs: Any, rhs: Any) -> None:
        self.atoms = list(atoms)
        self.lhs = _flat(lhs)
        self.rhs = _flat(rhs)
        self.count = len(self.lhs)
        self.same_shape = _shape(lhs) == _shape(rhs)
        self.ready_lhs = [_ready(e) for e in self.lhs]
        self.ready_rhs = [_ready(e) for e in self.rhs]
        self.compiled = None
        try:
            stand_ins = sp.symbols(f"a0:{len(self.atoms)}", cls=sp.Dummy)
            rename = dict(zip(self.atoms, stand_ins, strict=True))
            exprs = [e.xreplace(rename) for e in self.ready_lhs + self.ready_rhs]
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
            # One side undefined where the other has a value: certified in exact arithmetic.
            return ([sp.nan] if left_bad else left), ([sp.nan] if right_bad else right)
        return left, right

    def exact(self, point: Mapping[Any, Any], digits: int = DIGITS) -> tuple[list, list] | None:
        """Both sides with the point substituted exactly (SymPy's own arithmetic): a pole or
        0/0 shows up as ``zoo``/``nan`` here, never as a rounding accident. Values are
        evaluated to ``digits`` digits; None when SymPy cannot substitute."""
        if not self.same_shape:
            return None
        try:
            left = [sp.N(e.xreplace(dict(point)), digits) for e in self.ready_lhs]
            right = [sp.N(e.xreplace(dict(point)), digits) for e in self.ready_rhs]
        except (ZeroDivisionError, ValueError, TypeError):
            return None
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


def _witness_texts(left: Sequence[Any], right: Sequence[Any], like: Any) -> tuple[str, str]:
    """Both sides printed with enough digits to show where they differ (12 at least)."""

    def wide(v: Any) -> Any:
        if isinstance(v, mpmath.mpf):
            return sp.Float(v, 60)
        return v if v is sp.nan or (isinstance(v, sp.Basic) and not v.is_number) else sp.N(v, 60)

    left, right = [wide(v) for v in left], [wide(v) for v in right]
    digits = 12
    for a, b in zip(left, right, strict=True):
        if a is sp.nan or b is sp.nan or not (a.is_number and b.is_number):
            continue
        gap = abs(a - b)
        if gap != 0:
            scale = max(abs(a), abs(b))
            needed = int(sp.ceiling(sp.log(scale / gap, 10))) + 3 if scale > gap else 12
            digits = max(digits, min(needed, 60))
    texts = [
        "[" + ", ".join(_short(v, digits) for v in side) + "]"
        if isinstance(like, sp.MatrixBase)
        else _short(side[0], digits)
        for side in (left, right)
    ]
    return texts[0], texts[1]


def _inside(atom: Any, value: Any, specs: Mapping[str, SymbolSpec]) -> bool:
    domain = domain_of(atom, specs)
    return domain is None or domain.contains(value)


def holds_at(condition: Any, point: Mapping[Any, Any]) -> bool | None:
    """Whether a condition holds at a point; None where it cannot be evaluated there."""
    try:
        value = condition.xreplace(dict(point))
    except TypeError:  # p/q > 0 at q = 0: SymPy refuses to order zoo; the point is skipped
        return None
    if value.has(sp.Sum):
        value = value.doit()
    if isinstance(value, sp.logic.boolalg.BooleanAtom):
        return bool(value)
    return enclosure.decide(value, {})


def _undefined(value: Any) -> bool:
    if isinstance(value, sp.MatrixBase):
        return any(_undefined(v) for v in value)
    return bool(value.has(sp.nan, sp.zoo, sp.oo, -sp.oo)) or not value.is_number


def _short(value: Any, digits: int = 12) -> str:
    if value is sp.nan or (isinstance(value, sp.Basic) and value.has(sp.nan, sp.zoo)):
        return "undefined"
    if isinstance(value, sp.MatrixBase):
        return "[" + ", ".join(_short(v, digits) for v in value) + "]"
    return str(sp.N(sp.sympify(value), digits))
