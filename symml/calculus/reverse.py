"""Reverse-mode vector–Jacobian products of matrix expressions, in nodes array code can run.

``reverse_vjp(F, X, G)`` = Σ G ⊙ ∂F/∂X as a matrix expression in X's shape, built by
passing the cotangent ``G`` backwards through ``F`` one rule per node type (``RULES``):
d(A·B) against G gives G·Bᵀ for A and Aᵀ·G for B, a Hadamard product multiplies G by the
other factors, an element-wise f by f′ (``scalar_derivative`` of its body), a stacked
column [a; b] slices G's rows. Unlike the differential and its read-off
(``symml.calculus.derivative``) the result keeps the forward graph's nodes (no textbook
folding), which is what the kernels lower to batched array code. Every result passes the
same element-wise guard (``symml.calculus.crosscheck``) before it is returned.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.blockmatrix import BlockMatrix
from sympy.matrices.expressions.hadamard import HadamardPower, HadamardProduct
from sympy.matrices.expressions.matexpr import MatrixExpr

from symml.calculus.crosscheck import mismatch
from symml.calculus.scalar import scalar_derivative
from symml.catalog.primitives import relu
from symml.errors import DerivationError
from symml.evaluate.explicit import size_assignments

Slope = Callable[[sp.Expr], sp.Expr]


class Walk:
    """The backward pass of one VJP: the variable, the slope rewrite, the recursion."""

    def __init__(self, wrt: sp.MatrixSymbol, slope: Slope) -> None:
        self.wrt = wrt
        self.slope = slope

    def __call__(self, e: Any, g: Any) -> Any:
        """The VJP of ``e`` against the cotangent ``g``; None when ``e`` lacks ``wrt``."""
        if not isinstance(e, sp.Basic) or not e.has(self.wrt):
            return None
        if isinstance(e, sp.MatrixSymbol):
            return g if e == self.wrt else None
        for node_type in type(e).__mro__:
            if node_type in RULES:
                return RULES[node_type](e, g, self)
        raise _refuse(e, f"the matrix operation {type(e).__name__}")


ReverseRule = Callable[[Any, Any, Walk], Any]


def _refuse(expr: Any, why: str) -> DerivationError:
    return DerivationError(sp.sstr(expr), f"no reverse-mode rule: {why}")


def _t(e: Any) -> Any:
    """Transpose kept whole: ``.T`` would split a stacked column [a; b] into a block row,
    which has no array form; a column of ones stays a (row of) ones, which has one."""
    return e.T if isinstance(e, sp.OneMatrix) else sp.Transpose(e)


def _product(factors: list[Any]) -> Any:
    """The matrix product of ``factors`` (None when empty: an identity left implicit)."""
    if not factors:
        return None
    return factors[0] if len(factors) == 1 else sp.MatMul(*factors)


def _with(left: Any, g: Any, right: Any) -> Any:
    factors = [f for f in (left, g, right) if f is not None]
    return factors[0] if len(factors) == 1 else sp.MatMul(*factors)


def _add(terms: list[Any]) -> Any:
    kept = [t for t in terms if t is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else sp.MatAdd(*kept)


def _derivative_of(function: sp.Lambda, slope: Slope) -> sp.Lambda:
    """f′ of an element-wise map; Max(0, u) is read as relu(u) so its slope is a step."""
    (var,) = function.variables
    body = function.expr.replace(
        lambda b: isinstance(b, sp.Max) and sp.S.Zero in b.args and len(b.args) == 2,
        lambda b: relu(next(a for a in b.args if a != 0)),
    )
    return sp.Lambda(var, slope(scalar_derivative(body, var)))


def _matadd(e: sp.MatAdd, g: Any, walk: Walk) -> Any:
    return _add([walk(a, g) for a in e.args])


def _hadamard(e: HadamardProduct, g: Any, walk: Walk) -> Any:
    terms = []
    for k, a in enumerate(e.args):
        others = [b for j, b in enumerate(e.args) if j != k]
        terms.append(walk(a, HadamardProduct(g, *others)))
    return _add(terms)


def _hadamard_power(e: HadamardPower, g: Any, walk: Walk) -> Any:
    if sp.sympify(e.exp).has(walk.wrt):
        raise _refuse(e, "a Hadamard power with the variable in its exponent")
    rate = e.exp * HadamardPower(e.base, e.exp - 1)
    return walk(e.base, HadamardProduct(g, rate))


def _transpose(e: sp.Transpose, g: Any, walk: Walk) -> Any:
    return walk(e.arg, _t(g))


def _elementwise(e: ElementwiseApplyFunction, g: Any, walk: Walk) -> Any:
    rate = ElementwiseApplyFunction(_derivative_of(e.function, walk.slope), e.expr)
    return walk(e.expr, HadamardProduct(g, rate))


def _block(e: BlockMatrix, g: Any, walk: Walk) -> Any:
    blocks = e.blocks
    if blocks.shape[1] != 1:
        raise _refuse(e, "a block matrix with several block columns")
    terms, start = [], sp.S.Zero
    for b in blocks:
        stop = start + b.shape[0]
        terms.append(walk(b, g[start:stop, :]))
        start = stop
    return _add(terms)


def _matmul(e: sp.MatMul, g: Any, walk: Walk) -> Any:
    factors = [a for a in e.args if isinstance(a, MatrixExpr)]
    scalar = sp.Mul(*(a for a in e.args if not isinstance(a, MatrixExpr)))
    if scalar.has(walk.wrt):
        raise _refuse(e, "a scalar factor that depends on the variable")
    terms = []
    for k, f in enumerate(factors):
        left = _product(factors[:k])
        right = _product(factors[k + 1 :])
        cotangent = _with(
            None if left is None else _t(left), g, None if right is None else _t(right)
        )
        if scalar != 1:
            cotangent = sp.MatMul(scalar, cotangent)
        terms.append(walk(f, cotangent))
    return _add(terms)


RULES: dict[type, ReverseRule] = {
    sp.MatAdd: _matadd,
    HadamardProduct: _hadamard,
    HadamardPower: _hadamard_power,
    sp.Transpose: _transpose,
    ElementwiseApplyFunction: _elementwise,
    BlockMatrix: _block,
    sp.MatMul: _matmul,
}


def _unguarded(of: Any, wrt: sp.MatrixSymbol, upstream: Any, slope: Slope) -> Any:
    return Walk(wrt, slope)(of, upstream)


def _keep(body: sp.Expr) -> sp.Expr:
    return body


def reverse_vjp(
    of: Any, wrt: sp.MatrixSymbol, upstream: Any, *, slope: Slope = _keep, seed: int = 0
) -> Any:
    """Σ upstream ⊙ ∂of/∂wrt in wrt's shape (before broadcasting is summed out), or None when
    ``of`` does not depend on ``wrt``. ``slope`` rewrites each element-wise derivative's body
    afterwards (the kernels turn Heaviside into their own step node); the guard checks the
    result before that rewrite, against ∂⟨G, F⟩/∂X written out element by element at two
    assignments of concrete sizes. ``DerivationError`` when a rule is missing or the guard
    finds a disagreement."""
    value = _unguarded(of, wrt, upstream, _keep)
    if value is None:
        return None
    _guard(of, wrt, upstream, value, seed)
    return value if slope is _keep else _unguarded(of, wrt, upstream, slope)


@functools.lru_cache(maxsize=256)
def _guard(of: Any, wrt: sp.MatrixSymbol, upstream: Any, value: Any, seed: int) -> None:
    """Raises unless ``value`` = ∂⟨upstream, of⟩/∂wrt element-wise; a result that passed is
    remembered (the kernels build the same gradient for several backends)."""
    pairing = sp.Trace(sp.MatMul(sp.Transpose(upstream), of))
    assignments = size_assignments([of, wrt, upstream])
    try:
        found = mismatch(value, pairing, wrt, assignments if assignments[0] else [{}], seed)
    except DerivationError:
        raise
    except Exception as exc:  # SymPy failed while writing out: unchecked, so not returned
        raise DerivationError(
            sp.sstr(of), f"the element-wise cross-check failed ({type(exc).__name__}); not returned"
        ) from None
    if found is not None:
        raise DerivationError(
            sp.sstr(of),
            f"the reverse-mode result disagrees with elementwise differentiation at sizes "
            f"{found.sizes}; not returned",
        )
