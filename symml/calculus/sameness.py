"""Equality of matrix expressions at every size: a normal form of their difference is 0."""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr


def same(a: Any, b: Any) -> bool:
    """Equal as matrix expressions at every size (a normal form of the difference is 0)."""
    if not (isinstance(a, MatrixExpr) and isinstance(b, MatrixExpr)) or a.shape != b.shape:
        return False
    try:
        difference = _bound_names(a - b).doit()
        if _is_zero_matrix(difference):
            return True
        return _is_zero_matrix(_bound_names(sp.expand(difference).doit()))
    except Exception:  # no normal form: not shown equal
        return False


def _bound_names(expr: Any, depth: int = 0) -> Any:
    """Bound variables of sums and element-wise maps renamed by nesting depth, so that
    Σ_{i} exp(z_i) written twice (with two dummies) is one expression. Nested scopes get
    different names, so no variable is captured."""
    if not isinstance(expr, sp.Basic) or not expr.args:
        return expr
    if isinstance(expr, sp.Sum):
        names = {
            v: sp.Symbol(f"_sum{depth}_{k}", integer=True) for k, (v, *_) in enumerate(expr.limits)
        }
        body = _bound_names(expr.function.xreplace(names), depth + 1)
        limits = [(names[v], lo, hi) for v, lo, hi in expr.limits]
        return sp.Sum(body, *limits)
    if isinstance(expr, sp.Lambda):
        names = {v: sp.Symbol(f"_map{depth}_{k}") for k, v in enumerate(expr.variables)}
        body = _bound_names(expr.expr.xreplace(names), depth + 1)
        return sp.Lambda(tuple(names[v] for v in expr.variables), body)
    return expr.func(*(_bound_names(a, depth) for a in expr.args))


def _is_zero_matrix(value: Any) -> bool:
    return isinstance(value, sp.ZeroMatrix) or value == 0
