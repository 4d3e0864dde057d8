"""Bringing what users write into matrix form before the rules run.

``(gᵀWx)[0, 0]`` at symbolic sizes is evaluated by SymPy into an index sum
``Σ_ij W_ij g_i x_j``; a full contraction like that is turned back into a 1×1 matrix
product. A 1×1 matrix used as a scalar becomes its element. Whatever comes out is still
checked against the element-wise expansion of the *original* expression.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.matrices.expressions.hadamard import HadamardProduct
from sympy.matrices.expressions.matexpr import MatrixElement, MatrixExpr


def as_scalar(expr: Any) -> Any:
    """A 1×1 matrix expression as its only element; other values unchanged."""
    if isinstance(expr, MatrixExpr) and expr.shape == (1, 1):
        return MatrixElement(expr, 0, 0)
    if isinstance(expr, sp.MatrixBase) and expr.shape == (1, 1):
        return expr[0, 0]
    return expr


def contractions_as_products(expr: Any) -> Any:
    """Index sums that are full contractions of matrices → elements of 1×1 products."""
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Sum):
        return expr
    from sympy.tensor.array.expressions.from_array_to_matrix import convert_array_to_matrix
    from sympy.tensor.array.expressions.from_indexed_to_array import convert_indexed_to_array

    def outer_sum(e: sp.Basic) -> bool:
        return isinstance(e, sp.Sum) and not _index_free(e)

    def convert(e: sp.Sum) -> sp.Basic:
        elementwise = _elementwise_sum(e)
        if elementwise is not None:
            return elementwise
        affine = _affine_sum(e)
        if affine is not None:
            return affine
        try:
            converted = convert_array_to_matrix(convert_indexed_to_array(e))
        except Exception:  # SymPy cannot read it as a contraction: the sum stays
            return e
        if isinstance(converted, MatrixElement):
            return converted
        return e

    return expr.replace(outer_sum, convert)


def _index_free(expr: sp.Basic) -> set[Any]:
    """Free symbols that are neither matrix symbols nor their sizes."""
    matrices = expr.atoms(sp.MatrixSymbol)
    sizes: set[Any] = set()
    for matrix in matrices:
        for dim in matrix.shape:
            sizes |= sp.sympify(dim).free_symbols
    return expr.free_symbols - matrices - sizes


def _elementwise_sum(total: sp.Sum) -> Any:
    """Σ_i Π_k h_k(v_k[i]) over all rows of column vectors v_k → 1ᵀ (h_1(v_1) ⊙ …)."""
    if len(total.limits) != 1:
        return None
    index, lo, hi = total.limits[0]
    factors: dict[sp.MatrixSymbol, list[Any]] = {}
    for factor in sp.Mul.make_args(total.function):
        used = {
            e.args[0]
            for e in factor.atoms(MatrixElement)
            if e.args[1] == index and e.args[2] == 0 and isinstance(e.args[0], sp.MatrixSymbol)
        }
        if len(used) != 1:
            return None
        (vector,) = used
        if vector.shape[1] != 1 or lo != 0 or sp.simplify(hi + 1 - vector.shape[0]) != 0:
            return None
        factors.setdefault(vector, []).append(factor)
    u = sp.Dummy("u")
    parts = []
    for vector, pieces in factors.items():
        body = sp.Mul(*pieces).xreplace({MatrixElement(vector, index, 0): u})
        if body.has(index) or body.has(vector):
            return None
        parts.append(vector if body == u else vector.applyfunc(sp.Lambda(u, body)))
    inner = parts[0] if len(parts) == 1 else HadamardProduct(*parts)
    rows = inner.shape[0]
    return MatrixElement(sp.MatMul(sp.OneMatrix(1, rows), inner), 0, 0)


def _affine_sum(total: sp.Sum) -> Any:
    """Σ_i u_i v_i (or Σ_i u_i) over all rows, where each factor is affine in entries of
    column vectors at row i, c·x_i + b with c and b free of i (b may hold x, as the mean
    Σ_j x_j/n does): uᵀv with u = c·x + b·1. So the variance Σ_i (x_i − x̄)²/n becomes
    (x − x̄1)ᵀ(x − x̄1)/n, in matrix form."""
    if len(total.limits) != 1:
        return None
    index, lo, hi = total.limits[0]
    if lo != 0:
        return None
    rows = hi + 1
    factors: list[Any] = []
    for factor in sp.Mul.make_args(total.function):
        base, exponent = factor.as_base_exp()
        if not factor.has(index):
            return None
        if exponent == 2:
            factors += [base, base]
        elif exponent == 1:
            factors.append(factor)
        else:
            return None
    vectors = [_affine_vector(f, index, rows) for f in factors]
    if any(v is None for v in vectors) or len(vectors) not in (1, 2):
        return None
    if len(vectors) == 1:
        return MatrixElement(sp.MatMul(sp.OneMatrix(1, vectors[0].shape[0]), vectors[0]), 0, 0)
    # Transpose, not .T: .T evaluates, and turns the 1×1 elements inside back into sums.
    return MatrixElement(sp.MatMul(sp.Transpose(vectors[0]), vectors[1]), 0, 0)


def _affine_vector(factor: Any, index: Any, rows: Any) -> Any:
    """c·x[i] + … + b as the column c·x + … + b·1, or None."""
    terms: list[Any] = []
    for term in sp.Add.make_args(sp.expand(factor, mul=True, multinomial=False, power_exp=False)):
        if not term.has(index):
            terms.append(sp.MatMul(term, sp.OneMatrix(rows, 1)))
            continue
        entries = [e for e in term.atoms(MatrixElement) if e.has(index)]
        if len(entries) != 1:
            return None
        (entry,) = entries
        vector, i, j = entry.args
        coefficient = term / entry
        if (
            i != index
            or j != 0
            or coefficient.has(index)
            or not isinstance(vector, sp.MatrixSymbol)
            or vector.shape[1] != 1
            or sp.simplify(vector.shape[0] - rows) != 0
        ):
            return None
        terms.append(vector if coefficient == 1 else sp.MatMul(coefficient, vector))
    return sp.MatAdd(*terms) if terms else None
