"""Matrix formulas (``sympy.MatrixSymbol`` expressions) as batched array code.

Products are ``matmul`` on the last two axes, so a leading batch axis broadcasts; ``X·1``
(a product with a column of ones) is a row sum; ``x·1ᵀ`` is left to broadcasting; an
elementwise function applies its body to the array. Gradients of matrix formulas are not
generated (the engine's matrix calculus is cross-checked only at concrete sizes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from symml.functions import relu
from symml.kernels import rewrite
from symml.kernels.errors import NotKernelisable
from symml.kernels.nodes import ConcatRows, MatMulNode, ReduceSum, TransposeNode
from symml.model import SymbolSpec


def _is_ones(e: Any) -> bool:
    return isinstance(e, sp.OneMatrix)


def lower_matrix(e: Any) -> Any:
    if isinstance(e, sp.MatrixSymbol):
        return sp.Symbol(str(e.name), real=True)
    if not isinstance(e, sp.MatrixExpr):
        return e
    if isinstance(e, sp.OneMatrix):  # a term of ones: a scalar 1 broadcasts the same way
        return sp.S.One
    if isinstance(e, sp.MatAdd):
        return sp.Add(*(lower_matrix(a) for a in e.args))
    if isinstance(e, sp.HadamardProduct):
        return sp.Mul(*(lower_matrix(a) for a in e.args))
    if isinstance(e, sp.HadamardPower):
        return lower_matrix(e.base) ** e.exp
    if isinstance(e, sp.Transpose):
        return TransposeNode(lower_matrix(e.arg))
    if isinstance(e, ElementwiseApplyFunction):
        (var,) = e.function.variables
        body = e.function.expr.replace(
            lambda b: isinstance(b, sp.Max) and sp.S.Zero in b.args and len(b.args) == 2,
            lambda b: relu(next(a for a in b.args if a != 0)),
        )
        return body.xreplace({var: lower_matrix(e.expr)})
    if isinstance(e, sp.BlockMatrix):
        blocks = e.blocks
        if blocks.shape[1] != 1:
            raise NotKernelisable("a block matrix with several block columns")
        return ConcatRows(*(lower_matrix(b) for b in blocks))
    if isinstance(e, sp.MatMul):
        scalar = sp.Mul(*(a for a in e.args if not isinstance(a, sp.MatrixExpr)))
        factors = [a for a in e.args if isinstance(a, sp.MatrixExpr)]
        acc = None
        for f in factors:
            if _is_ones(f):
                if acc is None:
                    raise NotKernelisable("a product with a row of ones on the left")
                if f.shape[1] == 1:  # X·1: the row sums
                    acc = ReduceSum(acc)
                continue  # x·1ᵀ: broadcasting does it
            value = lower_matrix(f)
            acc = value if acc is None else MatMulNode(acc, value)
        return scalar * acc
    if isinstance(e, sp.MatPow) or isinstance(e, sp.Identity):
        raise NotKernelisable(f"{type(e).__name__} in a matrix formula")
    raise NotKernelisable(f"the matrix operation {type(e).__name__}")


def _sizes(expr: Any) -> dict[str, tuple[str, int]]:
    """Each dimension symbol → (a matrix that has it, the axis: -2 rows, -1 columns)."""
    found: dict[str, tuple[str, int]] = {}
    for m in sorted(expr.atoms(sp.MatrixSymbol), key=lambda s: str(s.name)):
        for axis, dim in ((-2, m.shape[0]), (-1, m.shape[1])):
            if isinstance(dim, sp.Symbol):
                found.setdefault(str(dim), (str(m.name), axis))
    return found


def matrix_plan(expr: Any, specs: Mapping[str, SymbolSpec], name: str, wrt: Any) -> Any:
    from symml.kernels.kernel import Plan, stabilise

    if wrt is not None:
        raise NotKernelisable("gradients of matrix formulas are not generated yet")
    lowered = lower_matrix(expr)
    lowered = rewrite.apply_all(lowered, rewrite.RECOGNISE)
    out = stabilise(lowered, specs)
    sizes = _sizes(expr)
    matrices = [str(m.name) for m in expr.atoms(sp.MatrixSymbol)]
    order = [n for n in specs if n in matrices]
    args = order + sorted(set(matrices) - set(order))
    scalars = sorted(str(s) for s in out.free_symbols if str(s) not in args and str(s) not in sizes)
    return Plan(
        name,
        (out,),
        ("value",),
        (False,),
        tuple(args + scalars),
        frozenset(matrices),
        None,
        matrix=True,
        sizes=tuple((n, f"{src}.shape[{axis}]") for n, (src, axis) in sizes.items()),
    )
