"""Certified enclosures: an expression at an exact point, as an interval that holds its value.

Sampling compares two sides at a fixed precision, and a fixed precision can read
cancellation as a difference ((t+1)⁶⁰ against its expansion) or a real difference as
rounding (exp(t) + 10⁻²⁵ against exp(t)). An enclosure settles it: each side is evaluated in
interval arithmetic (mpmath ``iv``, outward rounding), so two enclosures that do not overlap
prove the sides differ at that point, and the precision is raised until they separate or
shrink below the difference that matters.

Elementary operations use ``iv`` directly; monotone special functions (erf, atan, tanh…) are
evaluated at both ends at a higher working precision and widened by far more than their
rounding error. Kinks (Heaviside, sign, Abs, Max, Min, Piecewise) are decided on the interval:
an argument whose enclosure straddles the switch gives the hull of both branches, so a value
computed near a switch never picks a branch by a rounding accident. Anything else raises
``Unsupported`` and the caller falls back to precision raising without a certificate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy as sp
from mpmath import iv

PRECISIONS = (128, 256, 512, 1024)  # bits; each step doubles the digits
_GUARD_BITS = 40  # extra working precision for endpoint evaluations of special functions


class Unsupported(Exception):
    """The expression holds something the interval evaluator cannot enclose."""


@dataclass(frozen=True)
class Separation:
    """How two enclosures of the same point relate: ``differ`` is certified; ``bits`` is the
    precision that decided it; ``lhs``/``rhs`` are the midpoints (for the witness)."""

    differ: bool
    bits: int
    lhs: tuple[Any, ...]
    rhs: tuple[Any, ...]


def separate(
    lhs: Sequence[Any], rhs: Sequence[Any], point: Mapping[Any, Any], *, narrow: float = 1e-40
) -> Separation | None:
    """Whether the sides certainly differ at ``point`` (exact rationals), raising precision.

    Returns ``differ=True`` as soon as some pair of enclosures is disjoint, ``differ=False``
    once every pair overlaps and is narrower than ``narrow`` relative to its size (or at the
    last precision), and None when an enclosure is impossible (``Unsupported``) or undefined.
    """
    if len(lhs) != len(rhs):
        return None
    last: Separation | None = None
    for bits in PRECISIONS:
        try:
            left = enclose_all(lhs, point, bits)
            right = enclose_all(rhs, point, bits)
        except Unsupported:
            return None
        if any(_unbounded(v) for v in left + right):
            return None
        mids = tuple(_mid(v, bits) for v in left), tuple(_mid(v, bits) for v in right)
        if any(_disjoint(a, b) for a, b in zip(left, right, strict=True)):
            return Separation(True, bits, *mids)
        last = Separation(False, bits, *mids)
        if all(_narrow(a, narrow) and _narrow(b, narrow) for a, b in zip(left, right, strict=True)):
            return last
    return last


def nonzero(value: Any) -> bool:
    """Whether a closed-form number is certainly not 0 (its enclosure excludes 0)."""
    for bits in PRECISIONS:
        try:
            (box,) = enclose_all([value], {}, bits)
        except Unsupported:
            return False
        if _unbounded(box):
            return False
        if not _contains_zero(box):
            return True
    return False


def decide(condition: Any, point: Mapping[Any, Any], bits: int = PRECISIONS[0]) -> bool | None:
    """The truth of a relation at ``point`` on enclosures: None when it cannot be decided."""
    saved = iv.prec
    iv.prec = bits
    try:
        return _truth(condition, point, bits, {})
    except (Unsupported, ZeroDivisionError, ValueError, ArithmeticError, TypeError):
        return None
    finally:
        iv.prec = saved


def enclose_all(exprs: Sequence[Any], point: Mapping[Any, Any], bits: int) -> list[Any]:
    """Enclosures of ``exprs`` at ``point`` at ``bits`` of precision (shared subterms once)."""
    saved = iv.prec
    iv.prec = bits
    try:
        memo: dict[Any, Any] = {}
        return [_enclose(sp.sympify(e), point, bits, memo) for e in exprs]
    except (ZeroDivisionError, ValueError, ArithmeticError, TypeError, RecursionError) as exc:
        raise Unsupported(type(exc).__name__) from exc
    finally:
        iv.prec = saved


def _enclose(expr: Any, point: Mapping[Any, Any], bits: int, memo: dict[Any, Any]) -> Any:
    if expr in memo:
        return memo[expr]
    value = _evaluate(expr, point, bits, memo)
    memo[expr] = value
    return value


def _evaluate(expr: Any, point: Mapping[Any, Any], bits: int, memo: dict[Any, Any]) -> Any:
    if expr in point:
        return _exact(sp.sympify(point[expr]))
    if isinstance(expr, sp.Rational):
        return _exact(expr)
    if isinstance(expr, sp.Float):
        return iv.mpf(mpmath.mp.make_mpf(expr._mpf_))
    if expr is sp.pi:
        return iv.pi
    if expr is sp.E:
        return iv.e
    if isinstance(expr, sp.NumberSymbol):
        with mpmath.workprec(bits + _GUARD_BITS):
            return _widened(mpmath.mpf(str(sp.N(expr, bits // 3 + 20))), bits)

    def arg(k: int = 0) -> Any:
        return _enclose(expr.args[k], point, bits, memo)

    if isinstance(expr, sp.Add):
        total = iv.mpf(0)
        for term in expr.args:
            total += _enclose(term, point, bits, memo)
        return total
    if isinstance(expr, sp.Mul):
        product = iv.mpf(1)
        for factor in expr.args:
            product *= _enclose(factor, point, bits, memo)
        return product
    if isinstance(expr, sp.Pow):
        return _power(expr, point, bits, memo)
    handler = _FUNCTIONS.get(type(expr))
    if handler is not None:
        return handler([_enclose(a, point, bits, memo) for a in expr.args], bits)
    if isinstance(expr, sp.Piecewise):
        return _piecewise(expr, point, bits, memo)
    if isinstance(expr, sp.Heaviside):
        at_zero = arg(1) if len(expr.args) > 1 else iv.mpf(0.5)
        return _step(arg(), iv.mpf(0), at_zero, iv.mpf(1))
    raise Unsupported(type(expr).__name__)


def _exact(value: Any) -> Any:
    if isinstance(value, sp.Integer):
        return iv.mpf(int(value))
    if isinstance(value, sp.Rational):
        return iv.mpf(int(value.p)) / int(value.q)
    if isinstance(value, sp.Float):
        return iv.mpf(mpmath.mp.make_mpf(value._mpf_))
    raise Unsupported(f"point value {value}")


def _power(expr: sp.Pow, point: Mapping[Any, Any], bits: int, memo: dict[Any, Any]) -> Any:
    base, exponent = expr.args
    if base is sp.E:
        return iv.exp(_enclose(exponent, point, bits, memo))
    b = _enclose(base, point, bits, memo)
    if isinstance(exponent, sp.Integer):
        n = int(exponent)
        if n < 0 and _contains_zero(b):
            raise Unsupported("a negative power of an interval holding 0")
        return b**n
    if exponent == sp.S.Half:
        if _lo(b) < 0:
            raise Unsupported("square root of a negative number")
        return iv.sqrt(b)
    if _lo(b) <= 0:
        raise Unsupported("a non-integer power of a base that is not positive")
    return iv.exp(_enclose(exponent, point, bits, memo) * iv.log(b))


def _piecewise(expr: sp.Piecewise, point: Mapping[Any, Any], bits: int, memo: dict) -> Any:
    """The branch whose condition holds; while conditions are undecided on the enclosure,
    the hull of every branch that could be taken."""
    taken: list[Any] = []
    for value, condition in expr.args:
        truth = _truth(condition, point, bits, memo)
        if truth is False:
            continue
        taken.append(_enclose(value, point, bits, memo))
        if truth is True:
            return _hull(taken)
    if not taken:
        raise Unsupported("no branch of a Piecewise applies")
    raise Unsupported("a Piecewise without a default branch")


def _truth(condition: Any, point: Mapping[Any, Any], bits: int, memo: dict) -> bool | None:
    """Three-valued truth of a condition on enclosures: None when the interval straddles."""
    if condition is sp.true:
        return True
    if condition is sp.false:
        return False
    if isinstance(condition, sp.And):
        parts = [_truth(c, point, bits, memo) for c in condition.args]
        return False if False in parts else (True if all(p is True for p in parts) else None)
    if isinstance(condition, sp.Or):
        parts = [_truth(c, point, bits, memo) for c in condition.args]
        return True if True in parts else (False if all(p is False for p in parts) else None)
    if isinstance(condition, sp.Not):
        inner = _truth(condition.args[0], point, bits, memo)
        return None if inner is None else not inner
    if isinstance(condition, sp.core.relational.Relational):
        gap = _enclose(condition.lhs - condition.rhs, point, bits, memo)
        lo, hi = _lo(gap), _hi(gap)
        if isinstance(condition, sp.StrictGreaterThan):
            return True if lo > 0 else (False if hi <= 0 else None)
        if isinstance(condition, sp.GreaterThan):
            return True if lo >= 0 else (False if hi < 0 else None)
        if isinstance(condition, sp.StrictLessThan):
            return True if hi < 0 else (False if lo >= 0 else None)
        if isinstance(condition, sp.LessThan):
            return True if hi <= 0 else (False if lo > 0 else None)
        if isinstance(condition, sp.Eq):
            return True if lo == hi == 0 else (False if lo > 0 or hi < 0 else None)
        if isinstance(condition, sp.Ne):
            return False if lo == hi == 0 else (True if lo > 0 or hi < 0 else None)
    raise Unsupported(f"condition {type(condition).__name__}")


def _step(x: Any, below: Any, at: Any, above: Any) -> Any:
    """A function constant on x < 0, at 0 and on x > 0 (Heaviside, sign) over an interval."""
    lo, hi = _lo(x), _hi(x)
    values = []
    if lo < 0:
        values.append(below)
    if lo <= 0 <= hi:
        values.append(at)
    if hi > 0:
        values.append(above)
    return _hull(values)


def _extreme(pick: Callable[..., Any]) -> Callable[[list[Any], int], Any]:
    def bound(args: list[Any], bits: int) -> Any:
        return iv.mpf([pick(_lo(a) for a in args), pick(_hi(a) for a in args)])

    return bound


def _monotone(f: Callable[[Any], Any], increasing: bool = True) -> Callable[[list[Any], int], Any]:
    """A monotone function: its values at the two ends, each widened outward."""

    def bound(args: list[Any], bits: int) -> Any:
        (x,) = args
        with mpmath.workprec(bits + _GUARD_BITS):
            ends = [f(_lo(x)), f(_hi(x))]
        if not increasing:
            ends.reverse()
        return _hull([_widened(ends[0], bits), _widened(ends[1], bits)])

    return bound


def _cosh(args: list[Any], bits: int) -> Any:
    (x,) = args
    magnitude = abs(x)
    return _monotone(mpmath.cosh)([magnitude], bits)


def _widened(value: Any, bits: int) -> Any:
    """``value`` computed at ``bits + _GUARD_BITS`` bits, widened by 2^-bits of itself."""
    with mpmath.workprec(bits + _GUARD_BITS):
        value = mpmath.mpf(value)
        slack = abs(value) * mpmath.ldexp(1, -bits) + mpmath.ldexp(1, -4 * bits)
        return iv.mpf([value - slack, value + slack])


def _unary(f: Callable[[Any], Any]) -> Callable[[list[Any], int], Any]:
    return lambda args, bits: f(args[0])


def _log(args: list[Any], bits: int) -> Any:
    if _lo(args[0]) <= 0:
        raise Unsupported("log of an interval that is not positive")
    return iv.log(args[0])


_FUNCTIONS: dict[type, Callable[[list[Any], int], Any]] = {
    sp.exp: _unary(iv.exp),
    sp.log: _log,
    sp.sin: _unary(iv.sin),
    sp.cos: _unary(iv.cos),
    sp.Abs: _unary(abs),
    sp.Max: _extreme(max),
    sp.Min: _extreme(min),
    sp.sign: lambda args, bits: _step(args[0], iv.mpf(-1), iv.mpf(0), iv.mpf(1)),
    sp.tanh: _monotone(mpmath.tanh),
    sp.sinh: _monotone(mpmath.sinh),
    sp.cosh: _cosh,
    sp.atan: _monotone(mpmath.atan),
    sp.asinh: _monotone(mpmath.asinh),
    sp.erf: _monotone(mpmath.erf),
    sp.erfc: _monotone(mpmath.erfc, increasing=False),
}


def _lo(x: Any) -> Any:
    # make_mpf keeps every bit; mpmath.mpf() would round to mpmath's global 53 bits.
    return mpmath.mp.make_mpf(x._mpi_[0])


def _hi(x: Any) -> Any:
    return mpmath.mp.make_mpf(x._mpi_[1])


def _mid(x: Any, bits: int) -> Any:
    with mpmath.workprec(bits + 2):
        return (_lo(x) + _hi(x)) / 2


def _hull(values: list[Any]) -> Any:
    return iv.mpf([min(_lo(v) for v in values), max(_hi(v) for v in values)])


def _contains_zero(x: Any) -> bool:
    return _lo(x) <= 0 <= _hi(x)


def _unbounded(x: Any) -> bool:
    return not (mpmath.isfinite(_lo(x)) and mpmath.isfinite(_hi(x)))


def _disjoint(a: Any, b: Any) -> bool:
    return _hi(a) < _lo(b) or _hi(b) < _lo(a)


def _narrow(x: Any, relative: float) -> bool:
    with mpmath.workprec(iv.prec):
        width = _hi(x) - _lo(x)
        return width <= relative * (1 + abs(_mid(x, iv.prec)))
