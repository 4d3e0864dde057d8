"""Symbolic zero tests, in the order of attack, each a named strategy.

These functions run inside bounded worker processes (``symml.runtime.bounded``): they must be
module-level and take and return picklable values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from symml.catalog.primitives import elementary
from symml.evaluate import enclosure


@dataclass(frozen=True)
class Strategy:
    name: str
    transform: Callable[[sp.Expr], sp.Expr]
    expands: bool = True  # multiplies out products and powers (guarded by the term count)


def _normal_form(e: sp.Expr) -> sp.Expr:
    return sp.cancel(sp.together(sp.expand(e)))


def _exp_form(e: sp.Expr) -> sp.Expr:
    return sp.cancel(sp.together(sp.expand(e.rewrite(sp.exp))))


def _log_form(e: sp.Expr) -> sp.Expr:
    return sp.cancel(sp.together(sp.expand(sp.expand_log(e, force=True))))


def _erf_form(e: sp.Expr) -> sp.Expr:
    return sp.cancel(sp.together(sp.expand(e.rewrite(sp.erf))))


def _piecewise_form(e: sp.Expr) -> sp.Expr:
    return sp.piecewise_fold(e).simplify() if e.has(sp.Piecewise) else e


FAST: tuple[Strategy, ...] = (
    Strategy("normal form (expand/cancel/together)", _normal_form),
    Strategy("rewrite to exp, then normal form", _exp_form),
    Strategy("expand logarithms, then normal form", _log_form),
    Strategy("rewrite erfc/Φ to erf, then normal form", _erf_form),
    Strategy("piecewise fold", _piecewise_form, expands=False),
)
SLOW: tuple[Strategy, ...] = (Strategy("simplify", sp.simplify),)


def prepare(expr: Any) -> Any:
    """Primitives rewritten, unevaluated sums and derivatives carried out."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(prepare)
    expr = elementary(sp.sympify(expr))
    if expr.has(sp.Sum, sp.Product, sp.Derivative, sp.Subs, sp.Integral):
        expr = expr.doit()
    return expr


MAX_EXPANDED_TERMS = 20_000  # expand/cancel are skipped on a difference that would grow past this


@dataclass(frozen=True)
class Reduction:
    """What the normal forms made of a difference: ``zero`` names the strategy that reduced
    it to 0; otherwise ``constant`` is a nonzero number some entry reduced to (a difference
    that is decided, not sampled), and ``notes`` say what was skipped."""

    zero: str | None = None
    constant: Any = None
    notes: tuple[str, ...] = ()


def reduce_by(difference: Any, strategies: tuple[Strategy, ...]) -> Reduction:
    """The first strategy that reduces every entry of ``difference`` to 0, else the first
    entry some strategy reduces to a nonzero number."""
    items = list(difference) if isinstance(difference, sp.MatrixBase) else [difference]
    items = [prepare(e) for e in items]
    if all(e == 0 for e in items):
        return Reduction(zero="direct")
    constant = next((e for e in items if _nonzero_number(e)), None)
    large = [e for e in items if expanded_terms(e) > MAX_EXPANDED_TERMS]
    notes: tuple[str, ...] = ()
    if large:
        notes = (f"normal forms skipped: the expansion would exceed {MAX_EXPANDED_TERMS} terms",)
    for strategy in strategies:
        if large and strategy.expands:
            continue
        reduced = []
        try:
            for e in items:
                reduced.append(e if e == 0 else strategy.transform(e))
        except (TypeError, ValueError, NotImplementedError, RecursionError):
            continue
        if all(r == 0 for r in reduced):
            return Reduction(zero=strategy.name, notes=notes)
        if constant is None:
            constant = next((r for r in reduced if _nonzero_number(r)), None)
    return Reduction(constant=constant, notes=notes)


def zero_by(difference: Any, strategies: tuple[Strategy, ...]) -> str | None:
    """The name of the first strategy that reduces ``difference`` to 0, else None."""
    return reduce_by(difference, strategies).zero


def _nonzero_number(e: Any) -> bool:
    """A closed-form number that is certainly not 0 (checked on an enclosure, not trusted
    from SymPy's own ``is_zero``)."""
    if not isinstance(e, sp.Expr) or e.free_symbols or not e.is_number or e.has(AppliedUndef):
        return False
    return enclosure.nonzero(e)


def expanded_terms(expr: Any) -> int:
    """An upper bound on the number of terms ``expand`` makes of ``expr`` (capped)."""
    cap = MAX_EXPANDED_TERMS * 10

    def terms(e: Any) -> int:
        if isinstance(e, sp.Add):
            return min(cap, sum(terms(a) for a in e.args))
        if isinstance(e, sp.Mul):
            product = 1
            for a in e.args:
                product = min(cap, product * terms(a))
            return product
        if isinstance(e, sp.Pow) and isinstance(e.exp, sp.Integer) and e.exp > 1:
            inner = terms(e.base)
            if inner <= 1:
                return 1
            n = int(e.exp)
            if n > cap:
                return cap
            return min(cap, math.comb(n + inner - 1, inner - 1))
        if isinstance(e, sp.Function):
            return max(1, max((terms(a) for a in e.args), default=1) // 1000)
        return 1

    return terms(expr)


def zero_fast(difference: Any) -> str | None:
    return zero_by(difference, FAST)


def reduce_fast(difference: Any) -> Reduction:
    return reduce_by(difference, FAST)


def zero_slow(difference: Any) -> str | None:
    return zero_by(difference, SLOW)


def sign_facts(expr: Any) -> dict[str, bool | None]:
    """positive / nonnegative / negative / nonpositive of a normal form of ``expr``."""
    form = sp.together(prepare(expr))
    candidates = [form, sp.factor(form), sp.simplify(form)]
    facts: dict[str, bool | None] = {}
    for fact in ("positive", "nonnegative", "negative", "nonpositive"):
        facts[fact] = next((True for c in candidates if getattr(c, f"is_{fact}")), None)
    return facts
