"""The independent reference: every matrix operation written out element by element.

At concrete sizes a matrix symbol becomes its explicit matrix of elements ``X[i, j]`` and
every operation on it (product, transpose, inverse, determinant, trace, Hadamard product and
power, matrix powers, element-wise functions, 1×1 elements) is carried out on explicit
matrices, one rule per node type. A node without a rule is refused: nothing that still holds
an unexpanded matrix operation is ever differentiated as if it were a constant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.blockmatrix import BlockMatrix
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.matrices.expressions.hadamard import HadamardPower, HadamardProduct
from sympy.matrices.expressions.matexpr import MatrixElement, MatrixExpr
from sympy.matrices.expressions.slice import MatrixSlice

from symml.calculus.nodes import GradientOf, Named
from symml.errors import DerivationError

Expander = Callable[[Any, "Callable[[Any], Any]"], Any]


def _refuse(expr: Any, why: str) -> DerivationError:
    return DerivationError(sp.sstr(expr), f"cannot be written out element-wise: {why}")


def _dim(value: Any) -> int:
    value = sp.sympify(value)
    if not value.is_Integer:
        raise _refuse(value, "a size is still symbolic; pass concrete sizes")
    return int(value)


def _symbol(expr: sp.MatrixSymbol, _: Any) -> sp.Matrix:
    rows, cols = (_dim(s) for s in expr.shape)
    return sp.Matrix(rows, cols, lambda i, j: MatrixElement(expr, i, j))


def _add(expr: sp.MatAdd, go: Callable[[Any], Any]) -> sp.Matrix:
    total = go(expr.args[0])
    for arg in expr.args[1:]:
        total = total + go(arg)
    return total


def _mul(expr: sp.MatMul, go: Callable[[Any], Any]) -> sp.Matrix:
    scalar = sp.Mul(*(scalar_out(a, go) for a in expr.args if not isinstance(a, MatrixExpr)))
    matrices = [go(a) for a in expr.args if isinstance(a, MatrixExpr)]
    product = matrices[0]
    for m in matrices[1:]:
        product = product * m
    return product * scalar


def _transpose(expr: sp.Transpose, go: Callable[[Any], Any]) -> sp.Matrix:
    return go(expr.arg).T


def _inverse(expr: sp.Inverse, go: Callable[[Any], Any]) -> sp.Matrix:
    return go(expr.arg).inv(method="ADJ")


def _matpow(expr: sp.MatPow, go: Callable[[Any], Any]) -> sp.Matrix:
    base, power = expr.args
    if not power.is_Integer:
        raise _refuse(expr, "a non-integer matrix power")
    value = go(base)
    if power < 0:
        value, power = value.inv(method="ADJ"), -power
    result = sp.eye(value.rows)
    for _ in range(int(power)):
        result = result * value
    return result


def _hadamard(expr: HadamardProduct, go: Callable[[Any], Any]) -> sp.Matrix:
    result = go(expr.args[0])
    for arg in expr.args[1:]:
        result = result.multiply_elementwise(go(arg))
    return result


def _hadamard_power(expr: HadamardPower, go: Callable[[Any], Any]) -> sp.Matrix:
    base, power = expr.args
    exponent = scalar_out(power, go)
    return go(base).applyfunc(lambda e: e**exponent)


def _elementwise(expr: ElementwiseApplyFunction, go: Callable[[Any], Any]) -> sp.Matrix:
    function = expr.function
    if isinstance(function, sp.Lambda) and function.expr.has(sp.Derivative):
        # σ′ at an entry that is not a symbol is Subs(σ′(u), u, entry); calling the Lambda
        # would form Derivative(σ(entry), entry), which SymPy refuses.
        (variable,) = function.variables
        return go(expr.expr).applyfunc(lambda e: function.expr.subs(variable, e))
    return go(expr.expr).applyfunc(function)


def _identity(expr: sp.Identity, _: Any) -> sp.Matrix:
    return sp.eye(_dim(expr.shape[0]))


def _zero(expr: sp.ZeroMatrix, _: Any) -> sp.Matrix:
    return sp.zeros(*(_dim(s) for s in expr.shape))


def _ones(expr: sp.OneMatrix, _: Any) -> sp.Matrix:
    return sp.ones(*(_dim(s) for s in expr.shape))


def _diag(expr: DiagMatrix, go: Callable[[Any], Any]) -> sp.Matrix:
    return sp.diag(*go(expr.args[0]))


def _explicit(expr: sp.MatrixBase, go: Callable[[Any], Any]) -> sp.Matrix:
    return sp.Matrix(expr.rows, expr.cols, lambda i, j: scalar_out(expr[i, j], go))


def _function_gradient(expr: GradientOf, go: Callable[[Any], Any]) -> sp.Matrix:
    """∇L(V) entry by entry: ∂L(u_1, …, u_k)/∂u_i at u = the entries of V (row-major, the
    order in which ``L(V)`` itself is written out)."""
    value = go(expr.argument)
    slots = [sp.Dummy(f"u{k}") for k in range(len(value))]
    applied = expr.call.func(*slots)
    partials = [sp.Subs(sp.Derivative(applied, u), slots, list(value)) for u in slots]
    return sp.Matrix(value.rows, value.cols, partials)


def _slice(expr: MatrixSlice, go: Callable[[Any], Any]) -> sp.Matrix:
    (r0, r1, rs), (c0, c1, cs) = expr.rowslice, expr.colslice
    rows = slice(_dim(r0), _dim(r1), _dim(rs))
    cols = slice(_dim(c0), _dim(c1), _dim(cs))
    return go(expr.parent)[rows, cols]


def _block(expr: BlockMatrix, go: Callable[[Any], Any]) -> sp.Matrix:
    rows = [sp.Matrix.hstack(*(go(b) for b in row)) for row in expr.blocks.tolist()]
    return sp.Matrix.vstack(*rows)


MATRIX_RULES: dict[type, Expander] = {
    sp.MatrixSymbol: _symbol,
    sp.MatAdd: _add,
    sp.MatMul: _mul,
    sp.Transpose: _transpose,
    sp.Inverse: _inverse,
    sp.MatPow: _matpow,
    HadamardProduct: _hadamard,
    HadamardPower: _hadamard_power,
    ElementwiseApplyFunction: _elementwise,
    sp.Identity: _identity,
    sp.ZeroMatrix: _zero,
    sp.OneMatrix: _ones,
    DiagMatrix: _diag,
    BlockMatrix: _block,
    GradientOf: _function_gradient,
    MatrixSlice: _slice,
    Named: lambda expr, go: go(expr.expr),
    sp.ImmutableMatrix: _explicit,
    sp.MutableDenseMatrix: _explicit,
}


def matrix_out(expr: Any, sizes: Mapping[Any, int]) -> sp.Matrix:
    """``expr`` (a matrix expression) as an explicit matrix at ``sizes``."""
    go = _walker(sizes)
    return go(expr)


def _walker(sizes: Mapping[Any, int]) -> Callable[[Any], Any]:
    substitution = dict(sizes)

    def go(expr: Any) -> Any:
        if substitution and isinstance(expr, sp.Basic):
            expr = expr.xreplace(substitution)
        for node_type in type(expr).__mro__:
            if node_type in MATRIX_RULES:
                return MATRIX_RULES[node_type](expr, go)
        raise _refuse(expr, f"no element-wise rule for {type(expr).__name__}")

    return go


def scalar_out(expr: Any, go: Callable[[Any], Any]) -> Any:
    """A scalar with its determinants, traces and elements of matrix expressions written out."""
    expr = sp.sympify(expr)

    if expr.has(sp.Sum, sp.Product):  # index sums at concrete sizes: finite sums first
        expr = expr.doit()

    def holds_matrix(e: sp.Basic) -> bool:
        if isinstance(e, MatrixElement):
            return not isinstance(e.args[0], sp.MatrixSymbol)
        return isinstance(e, (sp.Determinant, sp.Trace))

    def write_out(e: sp.Basic) -> sp.Basic:
        if isinstance(e, MatrixElement):
            parent, i, j = e.args
            if not (i.is_Integer and j.is_Integer):
                raise _refuse(e, "an element at a symbolic position")
            return go(parent)[int(i), int(j)]
        value = go(e.arg)
        return value.det(method="berkowitz") if isinstance(e, sp.Determinant) else value.trace()

    def matrix_call(e: sp.Basic) -> bool:
        return isinstance(e, AppliedUndef) and any(isinstance(a, MatrixExpr) for a in e.args)

    def flatten_call(e: sp.Basic) -> sp.Basic:
        parts: list[Any] = []
        for arg in e.args:
            parts.extend(go(arg) if isinstance(arg, MatrixExpr) else [arg])
        return e.func(*parts)

    result = expr.replace(holds_matrix, write_out).replace(matrix_call, flatten_call)
    if isinstance(result, sp.Basic) and result.has(sp.Sum, sp.Product):
        result = result.doit()
    _refuse_leftovers(result)
    return result


def _refuse_leftovers(result: Any) -> None:
    """Only elements of matrix symbols may remain; anything else matrix-valued is refused."""
    walk = sp.preorder_traversal(result)
    for node in walk:
        if isinstance(node, MatrixElement) and isinstance(node.args[0], sp.MatrixSymbol):
            walk.skip()
        elif isinstance(node, MatrixExpr):
            raise _refuse(node, "an unexpanded matrix operation remains")


def scalar_expanded(expr: Any, sizes: Mapping[Any, int]) -> Any:
    """A scalar expression written out element by element at ``sizes``."""
    expr = sp.sympify(expr)
    if sizes:
        expr = expr.xreplace(dict(sizes))
    return scalar_out(expr, _walker(sizes))


def expanded(expr: Any, sizes: Mapping[Any, int]) -> Any:
    """Matrix or scalar ``expr`` written out at ``sizes``; 1×1 matrices stay matrices."""
    if isinstance(expr, MatrixExpr | sp.MatrixBase):
        return matrix_out(expr, sizes)
    return scalar_expanded(expr, sizes)
