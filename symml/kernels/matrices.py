"""Matrix formulas (``sympy.MatrixSymbol`` expressions) as batched array code.

Products are ``matmul`` on the last two axes, so a leading batch axis broadcasts; ``X·1``
(a product with a column of ones) is a row sum; ``x·1ᵀ`` is left to broadcasting; an
elementwise function applies its body to the array.

Gradients are vector–Jacobian products from ``symml.calculus.reverse_vjp`` (reverse-mode
rules, cross-checked element-wise before they are returned); here they are only lowered,
with relu′ as the kernels' Step node. The tests check every one against the elementwise
Jacobian at concrete sizes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from symml import calculus
from symml.catalog.model import SymbolSpec
from symml.catalog.primitives import relu
from symml.errors import DerivationError, UsageError
from symml.kernels import rewrite
from symml.kernels.errors import NotKernelisable
from symml.kernels.nodes import (
    BroadcastLike,
    ConcatRows,
    MatMulNode,
    ReduceSum,
    RowSlice,
    Step,
    SumTo,
    TransposeNode,
)
from symml.kernels.plan import GRAD_OUT, Plan, stabilise


def _is_ones(e: Any) -> bool:
    return isinstance(e, sp.OneMatrix)


def lower_matrix(e: Any) -> Any:
    if isinstance(e, sp.MatrixSymbol):
        return sp.Symbol(str(e.name), real=True)
    if not isinstance(e, sp.MatrixExpr):
        return e
    if isinstance(e, sp.OneMatrix):  # a term of ones: a scalar 1 broadcasts the same way
        return sp.S.One
    if isinstance(e, sp.Identity) and e.shape == (1, 1):  # ε·I₁ added to a 1×1 variance
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
                # X·1 with 1 of shape n×m: the row sums of X, repeated along m columns (which
                # broadcasting does). n = 1 is x·1ᵀ, the column x repeated: broadcasting alone.
                # SymPy may merge 1_{d×1}·1_{1×d} into one d×d block of ones.
                if f.shape[0] != 1:
                    summed = ReduceSum(acc)
                    if f.shape[1] == 1:
                        acc = summed
                    elif f.shape[0] == f.shape[1]:
                        acc = BroadcastLike(summed, acc)
                    else:
                        raise NotKernelisable("a product with a non-square block of ones")
                continue
            value = lower_matrix(f)
            acc = value if acc is None else MatMulNode(acc, value)
        return scalar * acc
    if isinstance(e, sp.MatrixSlice):
        rows, cols = e.rowslice, e.colslice
        if rows[2] != 1 or cols != (0, e.parent.shape[1], 1):
            raise NotKernelisable("a matrix slice other than a block of whole rows")
        return RowSlice(lower_matrix(e.parent), rows[0], rows[1])
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


def _wrt_matrix(expr: Any, wrt: Any) -> sp.MatrixSymbol:
    name = str(wrt.name) if isinstance(wrt, sp.MatrixSymbol) else str(wrt)
    matrices = sorted(expr.atoms(sp.MatrixSymbol), key=lambda m: str(m.name))
    for m in matrices:
        if str(m.name) == name:
            return m
    if any(str(s) == name for s in expr.free_symbols):
        raise NotKernelisable(f"a gradient by the scalar {name} of a matrix formula")
    known = ", ".join(str(m.name) for m in matrices) or "none"
    raise UsageError(f"no argument '{name}' to differentiate by; the formula has {known}")


def _step_slope(body: sp.Expr) -> sp.Expr:
    """relu′ is the kernels' Step (step(0) = 0, every framework's subgradient)."""
    return body.replace(sp.Heaviside, lambda u, *_: Step(u))


def vjp(e: Any, wrt: sp.MatrixSymbol, g: Any) -> Any:
    """Σ g ⊙ ∂e/∂wrt from ``symml.calculus.reverse_vjp`` (guarded element-wise), or None when
    ``e`` does not depend on ``wrt``."""
    try:
        return calculus.reverse_vjp(e, wrt, g, slope=_step_slope)
    except DerivationError as exc:
        raise NotKernelisable(f"no gradient: {exc.problem}") from None


def matrix_plan(expr: Any, specs: Mapping[str, SymbolSpec], name: str, wrt: Any) -> Plan:
    args_extra: list[str] = []
    value_name = "value"
    if wrt is not None:
        target = _wrt_matrix(expr, wrt)
        g = sp.MatrixSymbol(GRAD_OUT, *expr.shape)
        grad = vjp(expr, target, g)
        if grad is None:
            raise NotKernelisable(f"the formula does not depend on {target}")
        sizes_of = sp.MatAdd(expr, g)  # a size may be read off grad_out too
        lowered = SumTo(lower_matrix(grad), sp.Symbol(str(target.name), real=True))
        expr, args_extra, value_name = sizes_of, [GRAD_OUT], f"d{target.name}"
        name = f"{name} d/d{target.name}"
    else:
        lowered = lower_matrix(expr)
    lowered = rewrite.apply_all(lowered, rewrite.RECOGNISE)
    out = stabilise(lowered, specs)
    sizes = _sizes(expr)
    matrices = [str(m.name) for m in expr.atoms(sp.MatrixSymbol) if str(m.name) != GRAD_OUT]
    order = [n for n in specs if n in matrices]
    args = order + sorted(set(matrices) - set(order)) + args_extra
    scalars = sorted(str(s) for s in out.free_symbols if str(s) not in args and str(s) not in sizes)
    return Plan(
        name,
        (out,),
        (value_name,),
        (False,),
        tuple(args + scalars),
        frozenset(matrices + args_extra),
        None,
        matrix=True,
        sizes=tuple((n, f"{src}.shape[{axis}]") for n, (src, axis) in sizes.items()),
    )
