"""Derivatives of scalar expressions: the one place symml calls ``sympy.diff``.

Scalar calculus (a symbol, an element ``x[i]`` of an indexed family, an element ``X[i, j]``
of a matrix written out at concrete sizes) is SymPy's, which is sound there. A matrix
expression is refused: its derivative comes from the rules (``matrix_derivative``,
``vector_jacobian_product``, ``reverse_vjp``), never from SymPy's matrix ``.diff``.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.core.function import Derivative, Subs
from sympy.matrices.expressions.matexpr import MatrixElement, MatrixExpr

from symml.errors import DerivationError


def scalar_derivative(
    expr: Any, wrt: Any, order: int = 1, *, flat_steps: bool = False, deltas: bool = False
) -> Any:
    """∂ᵒʳᵈᵉʳ expr/∂wrt for a scalar (or explicit matrix of scalars) ``expr``.

    ``flat_steps``: d floor(u)/du = d ceiling(u)/du = 0 (a step schedule is piecewise
    constant). ``deltas``: Σⱼ f(j)·δ(w, j) → f(w), what differentiating a sum by ``x[w]``
    leaves."""
    for operand, role in ((expr, "the expression"), (wrt, "the variable")):
        if isinstance(operand, MatrixExpr):
            raise DerivationError(
                sp.sstr(operand),
                f"{role} is a matrix expression; scalar calculus does not apply "
                "(use symml.calculus.matrix_derivative or vector_jacobian_product)",
            )
    hidden = _unexpanded(expr, wrt)
    if hidden is not None:
        raise DerivationError(
            sp.sstr(hidden),
            f"an unexpanded matrix operation depends on {sp.sstr(wrt)}; write it out "
            "element-wise first (symml.calculus.expanded) or use matrix_derivative",
        )
    value = sp.diff(expr, wrt, order)
    if deltas:
        value = collapse_deltas(value)
    return drop_step_derivatives(value) if flat_steps else value


def family_vjp(per_element: Any, index: Any, size: Any, wrt: Any, upstream: sp.IndexedBase) -> Any:
    """Σᵢ upstreamᵢ ∂fᵢ/∂wrt for a per-element value fᵢ (``index`` free, 1…``size``) of
    an indexed family, by an element ``wrt`` = x[p]: the deltas summed out, steps flat."""
    pairing = sp.Sum(upstream[index] * per_element, (index, 1, size))
    return scalar_derivative(pairing, wrt, flat_steps=True, deltas=True)


def _unexpanded(expr: Any, wrt: Any) -> Any:
    """A matrix operation inside ``expr`` that depends on ``wrt`` (on its matrix, for an
    element X[i, j]): SymPy would differentiate it as a constant or by its matrix ``.diff``."""
    if not isinstance(expr, sp.Basic) or not expr.atoms(sp.MatrixSymbol):
        return None
    target = wrt.parent if isinstance(wrt, MatrixElement) else wrt
    for node in sp.preorder_traversal(expr):
        if _matrix_operation(node) and node.has(target):
            return node
    return None


def _matrix_operation(node: Any) -> bool:
    if isinstance(node, MatrixElement):
        return not isinstance(node.parent, sp.MatrixSymbol)
    if isinstance(node, sp.Determinant | sp.Trace):
        return True
    return isinstance(node, MatrixExpr) and not isinstance(node, sp.MatrixSymbol)


def derivatives_done(expr: Any) -> Any:
    """Every unevaluated ``Derivative(f, x, …)`` inside ``expr`` carried out by scalar
    calculus; one of a matrix expression is left as it stands (never SymPy's matrix
    ``.diff``), so it cannot be proved equal to anything by accident."""
    if not isinstance(expr, sp.Basic):
        return expr

    def done(node: Derivative) -> Any:
        value = node.expr.doit()  # as Derivative.doit: the inside first (a Sum written out)
        if isinstance(value, MatrixExpr):
            return node
        for variable, count in node.variable_count:
            value = scalar_derivative(value, variable, int(count))
        return value

    return expr.xreplace({d: done(d) for d in expr.atoms(Derivative)})


def elementwise_gradient(scalar: Any, wrt: sp.MatrixBase) -> sp.Matrix:
    """∂scalar/∂wrt element by element, in the shape of the explicit matrix ``wrt``."""
    return wrt.applyfunc(lambda element: scalar_derivative(scalar, element))


def elementwise_jacobian(vector: sp.MatrixBase, wrt: sp.MatrixBase) -> sp.Matrix:
    """Rows: the components of ``vector``; columns: the components of ``wrt``."""
    return sp.Matrix(len(vector), len(wrt), lambda i, j: scalar_derivative(vector[i], wrt[j]))


def drop_step_derivatives(value: Any) -> Any:
    """d floor(u)/du = 0 wherever it exists (a step schedule is piecewise constant)."""

    def is_step(e: Any) -> bool:
        if isinstance(e, Subs):
            e = e.expr
        return isinstance(e, Derivative) and isinstance(e.expr, sp.floor | sp.ceiling)

    value = value.replace(is_step, lambda e: sp.S.Zero)
    return value.replace(lambda e: isinstance(e, Subs), lambda e: e.doit())


def collapse_deltas(expr: Any) -> Any:
    """Σⱼ f(j)·δ(w, j) → f(w): what sympy.diff leaves when differentiating a sum by x[w]."""

    def has_delta(e: sp.Basic) -> bool:
        return isinstance(e, sp.Sum) and e.function.has(sp.KroneckerDelta)

    def collapse(e: sp.Sum) -> Any:
        body = collapse_deltas(e.function)
        # Σᵢⱼ one index at a time, the innermost (first) limit first. Not as nested Sum
        # objects: SymPy merges a Sum of a Sum back into one.
        for j, lo, hi in e.limits:
            body = collapse_one(body, j, lo, hi)
        return body

    def collapse_one(body: Any, j: Any, lo: Any, hi: Any) -> Any:
        kept, out = [], []
        for term in sp.Add.make_args(sp.expand_mul(body)):
            deltas = [
                f for f in sp.Mul.make_args(term) if isinstance(f, sp.KroneckerDelta) and f.has(j)
            ]
            if not deltas:
                kept.append(term)
                continue
            delta = deltas[0]
            other = delta.args[1] if delta.args[0] == j else delta.args[0]
            out.append((term / delta).xreplace({j: other}))
        rest_sum = sp.Sum(sp.Add(*kept), (j, lo, hi)) if kept else sp.S.Zero
        return sp.Add(*out) + rest_sum

    return expr.replace(has_delta, collapse) if isinstance(expr, sp.Basic) else expr
