"""Expansion at concrete sizes: matrix symbols become explicit matrices of elements,
sums over symbolic ranges become finite sums, unknown functions of vectors become
functions of their components.

This is the independent reference for every matrix derivative (SymPy's own matrix
calculus is silently wrong on ``log(det X)``, ``gᵀWx`` and log-sum-exp) and the way the
numeric checks evaluate tensor formulas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixElement, MatrixExpr

# Distinct sizes so that a transpose in the wrong place is a shape error, not a coincidence.
SIZE_CHOICES: tuple[tuple[int, ...], ...] = ((2, 3, 2, 3, 2, 3), (3, 2, 3, 2, 3, 2))


def size_symbols(exprs: Iterable[Any]) -> list[sp.Symbol]:
    """The positive-integer symbols used as dimensions or sum bounds, in a stable order."""
    found: dict[str, sp.Symbol] = {}
    for expr in exprs:
        if not isinstance(expr, sp.Basic):
            continue
        for matrix in expr.atoms(sp.MatrixSymbol):
            for dim in matrix.shape:
                for s in sp.sympify(dim).free_symbols:
                    found.setdefault(s.name, s)
        for total in expr.atoms(sp.Sum, sp.Product):
            for _, lo, hi in total.limits:
                for s in sp.sympify(lo).free_symbols | sp.sympify(hi).free_symbols:
                    if s.is_integer:
                        found.setdefault(s.name, s)
    return [found[name] for name in sorted(found)]


def size_assignments(exprs: Iterable[Any]) -> list[dict[sp.Symbol, int]]:
    """Two assignments of concrete sizes to every dimension symbol."""
    symbols = size_symbols(list(exprs))
    assignments = []
    for choice in SIZE_CHOICES:
        values = (choice * (len(symbols) // len(choice) + 1))[: len(symbols)]
        assignments.append(dict(zip(symbols, values, strict=True)))
    return assignments


def explicit(expr: Any, sizes: Mapping[sp.Symbol, int]) -> Any:
    """``expr`` with sizes substituted, matrices explicit, finite sums written out."""
    if not isinstance(expr, sp.Basic):
        return expr
    expr = expr.xreplace(dict(sizes)) if sizes else expr
    expr = _explicit_functions_of_matrices(expr)
    if isinstance(expr, MatrixExpr):
        expr = expr.as_explicit()
    if expr.has(sp.Sum, sp.Product):
        expr = (
            expr.doit(deep=True)
            if not isinstance(expr, sp.MatrixBase)
            else expr.applyfunc(lambda e: e.doit(deep=True))
        )
    return _explicit_inner(expr)


def _explicit_inner(expr: Any) -> Any:
    """Scalars built from matrix expressions: elements, determinants, traces."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(_explicit_inner)

    def is_matrix_scalar(e: sp.Basic) -> bool:
        if isinstance(e, MatrixElement):
            return not isinstance(e.parent, sp.MatrixSymbol)
        return isinstance(e, (sp.Determinant, sp.Trace))

    def write_out(e: sp.Basic) -> sp.Basic:
        if isinstance(e, MatrixElement):
            return _explicit_inner(e.parent.as_explicit()[e.i, e.j])
        matrix = sp.Matrix(_explicit_inner(e.arg.as_explicit()))
        return matrix.det() if isinstance(e, sp.Determinant) else matrix.trace()

    return expr.replace(is_matrix_scalar, write_out)


def _explicit_functions_of_matrices(expr: sp.Basic) -> sp.Basic:
    """``L(W x + b)`` → ``L(z_0, z_1, …)``: an unknown function of a vector is a function
    of its components, so that its derivatives are well defined."""

    def is_matrix_call(e: sp.Basic) -> bool:
        return isinstance(e, AppliedUndef) and any(isinstance(a, MatrixExpr) for a in e.args)

    def flatten(e: sp.Basic) -> sp.Basic:
        components: list[sp.Basic] = []
        for arg in e.args:
            if isinstance(arg, MatrixExpr):
                components.extend(_explicit_inner(arg.as_explicit()))
            else:
                components.append(arg)
        return e.func(*components)

    return expr.replace(is_matrix_call, flatten) if expr.has(AppliedUndef) else expr


def elements(matrix: sp.MatrixSymbol, sizes: Mapping[sp.Symbol, int]) -> sp.Matrix:
    """The explicit matrix of elements of a matrix symbol at concrete sizes."""
    return sp.Matrix(matrix.xreplace(dict(sizes)).as_explicit())
