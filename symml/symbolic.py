"""Symbolic zero tests, in the order of attack, each a named strategy.

These functions run inside bounded worker processes (``symml.bounded``): they must be
module-level and take and return picklable values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp

from symml.functions import elementary


@dataclass(frozen=True)
class Strategy:
    name: str
    transform: Callable[[sp.Expr], sp.Expr]


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
    Strategy("piecewise fold", _piecewise_form),
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


def zero_by(difference: Any, strategies: tuple[Strategy, ...]) -> str | None:
    """The name of the first strategy that reduces ``difference`` to 0, else None."""
    items = list(difference) if isinstance(difference, sp.MatrixBase) else [difference]
    items = [prepare(e) for e in items]
    if all(e == 0 for e in items):
        return "direct"
    for strategy in strategies:
        try:
            if all(e == 0 or strategy.transform(e) == 0 for e in items):
                return strategy.name
        except (TypeError, ValueError, NotImplementedError, RecursionError):
            continue
    return None


def zero_fast(difference: Any) -> str | None:
    return zero_by(difference, FAST)


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
