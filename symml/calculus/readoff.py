"""Reading the gradient or the Jacobian off a differential.

A scalar differential is linear in ``dX``: ``d f = tr(Gᵀ dX)``, and ``G`` (the shape of
``X``) is the gradient. It is found by moving a weight through each linear node in
reverse, one rule per node type (the adjoint of the node): ``A dX B`` with weight ``G``
gives ``Aᵀ G Bᵀ``, ``(dX)ᵀ`` gives ``Gᵀ``, ``M ⊙ dX`` gives ``M ⊙ G``. A vector
differential ``dy = J dx`` gives the Jacobian ``J`` (rows follow the output).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.blockmatrix import BlockMatrix
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.matrices.expressions.hadamard import HadamardPower, HadamardProduct
from sympy.matrices.expressions.matexpr import MatrixElement, MatrixExpr

from symml.errors import DerivationError


def _not_linear(expr: Any) -> DerivationError:
    return DerivationError(
        sp.sstr(expr), "the differential is not linear in this form; no gradient can be read off"
    )


def gradient_of_scalar(dscalar: Any, dwrt: sp.MatrixSymbol) -> MatrixExpr:
    """``G`` with ``dscalar = tr(Gᵀ dwrt)``."""
    dscalar = sp.sympify(dscalar)
    atoms = _linear_atoms(dscalar, dwrt)
    stand_ins = {a: sp.Dummy(f"l{k}") for k, a in enumerate(atoms)}
    replaced = dscalar.xreplace(stand_ins)
    if replaced.has(dwrt):
        raise _not_linear(dscalar)
    total: MatrixExpr = sp.ZeroMatrix(*dwrt.shape)
    for atom, dummy in stand_ins.items():
        coefficient = sp.diff(replaced, dummy)
        if coefficient.has(*stand_ins.values()):
            raise _not_linear(dscalar)
        total = total + coefficient * _atom_adjoint(atom, dwrt)
    return total


def _linear_atoms(expr: sp.Expr, dwrt: sp.MatrixSymbol) -> list[Any]:
    found: list[Any] = []
    walk = sp.preorder_traversal(expr)
    for node in walk:
        if isinstance(node, (sp.Trace, MatrixElement)):
            if node.has(dwrt) and node not in found:
                found.append(node)
            walk.skip()
    return found


def _atom_adjoint(atom: Any, dwrt: sp.MatrixSymbol) -> MatrixExpr:
    if isinstance(atom, sp.Trace):
        return adjoint(atom.arg, sp.Identity(atom.arg.shape[0]), dwrt)
    parent, i, j = atom.args
    if parent.shape == (1, 1):
        return adjoint(parent, sp.Identity(1), dwrt)
    if all(sp.sympify(s).is_Integer for s in parent.shape) and i.is_Integer and j.is_Integer:
        unit = sp.ImmutableMatrix(*parent.shape, lambda r, c: int((r, c) == (i, j)))
        return adjoint(parent, unit, dwrt)
    raise DerivationError(
        sp.sstr(atom), "an element at a symbolic position or size has no matrix-form gradient"
    )


def adjoint(expr: MatrixExpr, weight: Any, dwrt: sp.MatrixSymbol) -> MatrixExpr:
    """The gradient of ``tr(weightᵀ expr)`` for ``expr`` linear in ``dwrt``."""
    if expr == dwrt:
        return weight
    if not expr.has(dwrt):
        return sp.ZeroMatrix(*dwrt.shape)
    for node_type in type(expr).__mro__:
        if node_type in ADJOINTS:
            return ADJOINTS[node_type](expr, weight, dwrt)
    raise _not_linear(expr)


def _adjoint_add(expr: sp.MatAdd, weight: Any, dwrt: sp.MatrixSymbol) -> MatrixExpr:
    return sp.MatAdd(*(adjoint(a, weight, dwrt) for a in expr.args))


def _adjoint_mul(expr: sp.MatMul, weight: Any, dwrt: sp.MatrixSymbol) -> MatrixExpr:
    scalar = sp.Mul(*(a for a in expr.args if not isinstance(a, MatrixExpr)))
    matrices = [a for a in expr.args if isinstance(a, MatrixExpr)]
    holders = [k for k, m in enumerate(matrices) if m.has(dwrt)]
    if scalar.has(dwrt):
        if holders:
            raise _not_linear(expr)
        # s(dX)·M with weight G contributes ⟨G, M⟩ · ∇s.
        inner = sp.Trace(sp.MatMul(sp.Transpose(weight), *matrices))
        return inner * gradient_of_scalar(scalar, dwrt)
    if len(holders) != 1:
        raise _not_linear(expr)
    (k,) = holders
    left, right = matrices[:k], matrices[k + 1 :]
    new_weight = sp.MatMul(
        scalar,
        *(sp.Transpose(m) for m in reversed(left)),
        weight,
        *(sp.Transpose(m) for m in reversed(right)),
    )
    return adjoint(matrices[k], new_weight, dwrt)


def _adjoint_transpose(expr: sp.Transpose, weight: Any, dwrt: sp.MatrixSymbol) -> MatrixExpr:
    return adjoint(expr.arg, sp.Transpose(weight), dwrt)


def _adjoint_hadamard(expr: HadamardProduct, weight: Any, dwrt: sp.MatrixSymbol) -> MatrixExpr:
    holders = [k for k, m in enumerate(expr.args) if m.has(dwrt)]
    if len(holders) != 1:
        raise _not_linear(expr)
    (k,) = holders
    others = [m for j, m in enumerate(expr.args) if j != k]
    return adjoint(expr.args[k], HadamardProduct(*others, weight), dwrt)


ADJOINTS: dict[type, Callable[[Any, Any, sp.MatrixSymbol], MatrixExpr]] = {
    sp.MatAdd: _adjoint_add,
    sp.MatMul: _adjoint_mul,
    sp.Transpose: _adjoint_transpose,
    HadamardProduct: _adjoint_hadamard,
}


def transpose_in(expr: Any) -> Any:
    """``expr``ᵀ with the transpose moved onto the leaves, structurally (no evaluation):
    (A B)ᵀ = Bᵀ Aᵀ, (A + B)ᵀ = Aᵀ + Bᵀ, (A ⊙ B)ᵀ = Aᵀ ⊙ Bᵀ, f(A)ᵀ = f(Aᵀ), (Aᵀ)ᵀ = A."""
    if not isinstance(expr, MatrixExpr):
        return expr
    if isinstance(expr, sp.Transpose):
        return expr.arg
    if isinstance(expr, sp.MatAdd):
        return sp.MatAdd(*(transpose_in(a) for a in expr.args))
    if isinstance(expr, sp.MatMul):
        scalar = sp.Mul(*(a for a in expr.args if not isinstance(a, MatrixExpr)))
        matrices = [a for a in expr.args if isinstance(a, MatrixExpr)]
        return sp.MatMul(scalar, *(transpose_in(m) for m in reversed(matrices)))
    if isinstance(expr, HadamardProduct):
        return HadamardProduct(*(transpose_in(a) for a in expr.args))
    if isinstance(expr, ElementwiseApplyFunction):
        return ElementwiseApplyFunction(expr.function, transpose_in(expr.expr))
    if isinstance(expr, HadamardPower):
        return HadamardPower(transpose_in(expr.args[0]), expr.args[1])
    if isinstance(expr, DiagMatrix | sp.Identity | sp.ZeroMatrix | sp.OneMatrix):
        return expr.T
    return sp.Transpose(expr)


def jacobian_of_vector(dvector: MatrixExpr, dwrt: sp.MatrixSymbol) -> MatrixExpr:
    """``J`` with ``dvector = J dwrt`` for column vectors (rows follow the output)."""
    if dvector == dwrt:
        return sp.Identity(dwrt.shape[0])
    if not dvector.has(dwrt):
        return sp.ZeroMatrix(dvector.shape[0], dwrt.shape[0])
    if isinstance(dvector, sp.MatAdd):
        return sp.MatAdd(*(jacobian_of_vector(a, dwrt) for a in dvector.args))
    if isinstance(dvector, sp.MatMul):
        scalar = sp.Mul(*(a for a in dvector.args if not isinstance(a, MatrixExpr)))
        matrices = [a for a in dvector.args if isinstance(a, MatrixExpr)]
        if len(matrices) > 1:  # a 1×1 factor of a product is a scalar: A (s) B = s A B
            ones = [f for f in matrices if f.shape == (1, 1)]
            if ones and len(ones) < len(matrices):
                scalar = scalar * sp.Mul(*(MatrixElement(f, 0, 0) for f in ones))
                matrices = [f for f in matrices if f.shape != (1, 1)]
        if scalar.has(dwrt):
            if any(m.has(dwrt) for m in matrices):
                raise _not_linear(dvector)
            row = sp.Transpose(gradient_of_scalar(scalar, dwrt))
            return sp.MatMul(*matrices, row)
        if matrices and matrices[-1].has(dwrt) and not any(m.has(dwrt) for m in matrices[:-1]):
            return sp.MatMul(scalar, *matrices[:-1], jacobian_of_vector(matrices[-1], dwrt))
        raise _not_linear(dvector)
    if isinstance(dvector, HadamardProduct):
        holders = [m for m in dvector.args if m.has(dwrt)]
        others = [m for m in dvector.args if not m.has(dwrt)]
        if len(holders) == 1:
            scale = others[0] if len(others) == 1 else HadamardProduct(*others)
            return sp.MatMul(DiagMatrix(scale), jacobian_of_vector(holders[0], dwrt))
    if isinstance(dvector, BlockMatrix) and dvector.blocks.cols == 1:
        # a stacked column [u; v]: the Jacobians of the pieces, stacked
        return BlockMatrix(
            [[jacobian_of_vector(dvector.blocks[i, 0], dwrt)] for i in range(dvector.blocks.rows)]
        )
    if isinstance(dvector, sp.Transpose):
        moved = transpose_in(dvector.arg)
        if isinstance(moved, sp.Transpose):
            raise _not_linear(dvector)
        return jacobian_of_vector(moved, dwrt)
    raise _not_linear(dvector)
