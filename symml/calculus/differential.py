"""The differential ``d f`` of a matrix or scalar expression, by rules, one per node type.

Design after matrixcalculus.org (Laue, Mitterreiter, Giesen 2018): the differential is a
matrix expression linear in ``dX`` (a matrix symbol of the shape of ``X``), built bottom-up
with the product rule and the table below; the gradient or Jacobian is read off it
afterwards (``symml.calculus.readoff``). Sizes may be symbolic (n, m) or concrete. A node
type without a rule is refused, never treated as a constant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.blockmatrix import BlockMatrix
from sympy.matrices.expressions.hadamard import HadamardPower, HadamardProduct
from sympy.matrices.expressions.matexpr import MatrixElement, MatrixExpr

from symml.calculus.nodes import GradientOf, Named, is_function_of_matrix
from symml.errors import DerivationError


@dataclass(frozen=True)
class Rule:
    """One differentiation rule: the node type, its textbook statement, how to apply it."""

    node: type
    statement: str
    apply: Callable[[Any, Differentiator], Any]


class Differentiator:
    """``d(expr)`` with respect to ``wrt``, written in terms of ``dwrt``."""

    def __init__(self, wrt: sp.MatrixSymbol, dwrt: sp.MatrixSymbol) -> None:
        self.wrt = wrt
        self.dwrt = dwrt
        self.used: list[str] = []

    def d(self, expr: Any) -> Any:
        if isinstance(expr, MatrixExpr):
            return self._matrix(expr)
        return self._scalar(sp.sympify(expr))

    def _matrix(self, expr: MatrixExpr) -> MatrixExpr:
        if expr == self.wrt:
            return self.dwrt
        if not expr.has(self.wrt):
            return sp.ZeroMatrix(*expr.shape)
        rule = _rule_for(expr)
        self._note(rule)
        return rule.apply(expr, self)

    def _scalar(self, expr: sp.Expr) -> sp.Expr:
        """d s = Σ_a ∂s/∂a · d a over the matrix-valued scalars a (det, trace, elements)
        inside ``s``; the outer scalar calculus is ordinary ``sympy.diff``."""
        if not expr.has(self.wrt):
            return sp.S.Zero
        atoms = _matrix_scalars(expr, self.wrt)
        stand_ins = {a: sp.Dummy(f"a{k}") for k, a in enumerate(atoms)}
        outer = expr.xreplace(stand_ins)
        if outer.has(self.wrt):
            raise DerivationError(
                sp.sstr(expr),
                f"{self.wrt} appears in a form the matrix rules do not cover; "
                "write it with det, trace, products or 1×1 elements",
            )
        back = {v: k for k, v in stand_ins.items()}
        total = sp.S.Zero
        for atom, dummy in stand_ins.items():
            rule = _rule_for(atom)
            self._note(rule)
            total += sp.diff(outer, dummy).xreplace(back) * rule.apply(atom, self)
        return total

    def _note(self, rule: Rule) -> None:
        if rule.statement not in self.used:
            self.used.append(rule.statement)


def _matrix_scalars(expr: sp.Expr, wrt: sp.MatrixSymbol) -> list[Any]:
    """The outermost scalar nodes that hold a matrix expression involving ``wrt``."""
    found: list[Any] = []
    walk = sp.preorder_traversal(expr)
    for node in walk:
        if isinstance(node, (sp.Determinant, sp.Trace, MatrixElement)) or is_function_of_matrix(
            node
        ):
            if node.has(wrt) and node not in found:
                found.append(node)
            walk.skip()
        elif isinstance(node, AppliedUndef) and any(isinstance(a, MatrixExpr) for a in node.args):
            raise DerivationError(
                sp.sstr(node),
                "an unknown function of several arguments with a matrix among them has no "
                "rule; give its gradient as a symbol (an upstream gradient) or differentiate "
                "element-wise",
            )
        elif isinstance(node, sp.Sum) and node.has(wrt):
            raise DerivationError(
                sp.sstr(node),
                "a sum over indices that is not a full contraction; write it in matrix form "
                "(1ᵀ f(z), xᵀAx) for matrix calculus",
            )
    return found


def _rule_for(expr: Any) -> Rule:
    for node_type in type(expr).__mro__:
        if node_type in RULES:
            return RULES[node_type]
    raise DerivationError(
        sp.sstr(expr),
        f"no matrix-calculus rule for {type(expr).__name__}; the rules cover "
        + ", ".join(sorted(t.__name__ for t in RULES)),
    )


def _split(product: sp.MatMul) -> tuple[sp.Expr, list[MatrixExpr]]:
    scalars = [a for a in product.args if not isinstance(a, MatrixExpr)]
    matrices = [a for a in product.args if isinstance(a, MatrixExpr)]
    return sp.Mul(*scalars), matrices


def _matmul(*factors: Any) -> MatrixExpr:
    return sp.MatMul(*factors)


def _d_matadd(expr: sp.MatAdd, df: Differentiator) -> MatrixExpr:
    return sp.MatAdd(*(df.d(a) for a in expr.args))


def _d_matmul(expr: sp.MatMul, df: Differentiator) -> MatrixExpr:
    scalar, matrices = _split(expr)
    terms: list[MatrixExpr] = []
    if scalar.has(df.wrt):
        terms.append(_matmul(df.d(scalar), *matrices))
    for k, factor in enumerate(matrices):
        if factor.has(df.wrt):
            terms.append(_matmul(scalar, *matrices[:k], df.d(factor), *matrices[k + 1 :]))
    return sp.MatAdd(*terms) if terms else sp.ZeroMatrix(*expr.shape)


def _d_transpose(expr: sp.Transpose, df: Differentiator) -> MatrixExpr:
    return sp.Transpose(df.d(expr.arg))


def _d_inverse(expr: sp.Inverse, df: Differentiator) -> MatrixExpr:
    return _matmul(-1, expr, df.d(expr.arg), expr)


def _d_matpow(expr: sp.MatPow, df: Differentiator) -> MatrixExpr:
    base, power = expr.args
    if not (power.is_Integer and power > 0):
        if power.is_Integer and power < 0:
            return df.d(sp.MatPow(sp.Inverse(base), -power))
        raise DerivationError(sp.sstr(expr), "only integer powers of a matrix have a rule")
    k = int(power)
    d_base = df.d(base)
    terms = [_matmul(base**j, d_base, base ** (k - 1 - j)) for j in range(k)]
    return sp.MatAdd(*terms)


def _d_hadamard(expr: HadamardProduct, df: Differentiator) -> MatrixExpr:
    terms = []
    for k, factor in enumerate(expr.args):
        if factor.has(df.wrt):
            others = [*expr.args[:k], df.d(factor), *expr.args[k + 1 :]]
            terms.append(HadamardProduct(*others))
    return sp.MatAdd(*terms)


def _d_hadamard_power(expr: HadamardPower, df: Differentiator) -> MatrixExpr:
    base, power = expr.args
    if power.has(df.wrt):
        raise DerivationError(sp.sstr(expr), "an element-wise power with a varying exponent")
    return _matmul(power, HadamardProduct(HadamardPower(base, power - 1), df.d(base)))


def _d_elementwise(expr: ElementwiseApplyFunction, df: Differentiator) -> MatrixExpr:
    function = expr.function
    u = sp.Dummy("u")
    body = function(u)
    if body.has(df.wrt):
        raise DerivationError(
            sp.sstr(expr), "an element-wise function that depends on the variable"
        )
    derivative = sp.Lambda(u, sp.diff(body, u))
    return HadamardProduct(ElementwiseApplyFunction(derivative, expr.expr), df.d(expr.expr))


def _d_block(expr: BlockMatrix, df: Differentiator) -> MatrixExpr:
    blocks = expr.blocks
    return BlockMatrix(
        [[df.d(blocks[i, j]) for j in range(blocks.cols)] for i in range(blocks.rows)]
    )


def _d_constant_matrix(expr: MatrixExpr, df: Differentiator) -> MatrixExpr:
    return sp.ZeroMatrix(*expr.shape)


def _d_determinant(expr: sp.Determinant, df: Differentiator) -> sp.Expr:
    return expr * sp.Trace(_matmul(sp.Inverse(expr.arg), df.d(expr.arg)))


def _d_trace(expr: sp.Trace, df: Differentiator) -> sp.Expr:
    return sp.Trace(df.d(expr.arg))


def _d_function(expr: AppliedUndef, df: Differentiator) -> sp.Expr:
    (argument,) = expr.args
    return sp.Trace(_matmul(sp.Transpose(GradientOf(expr)), df.d(argument)))


def _d_element(expr: MatrixElement, df: Differentiator) -> sp.Expr:
    parent, i, j = expr.args
    return MatrixElement(df.d(parent), i, j)


RULES: dict[type, Rule] = {
    r.node: r
    for r in (
        Rule(sp.MatAdd, "d(A + B) = dA + dB", _d_matadd),
        Rule(sp.MatMul, "d(c A B) = dc A B + c dA B + c A dB", _d_matmul),
        Rule(sp.Transpose, "d(Aᵀ) = (dA)ᵀ", _d_transpose),
        Rule(sp.Inverse, "d(A⁻¹) = −A⁻¹ dA A⁻¹", _d_inverse),
        Rule(sp.MatPow, "d(Aᵏ) = Σ_j Aʲ dA Aᵏ⁻¹⁻ʲ", _d_matpow),
        Rule(HadamardProduct, "d(A ⊙ B) = dA ⊙ B + A ⊙ dB", _d_hadamard),
        Rule(HadamardPower, "d(A^∘p) = p A^∘(p−1) ⊙ dA", _d_hadamard_power),
        Rule(ElementwiseApplyFunction, "d f(A) = f′(A) ⊙ dA (element-wise f)", _d_elementwise),
        Rule(sp.Determinant, "d det A = det A tr(A⁻¹ dA)", _d_determinant),
        Rule(sp.Trace, "d tr A = tr dA", _d_trace),
        Rule(MatrixElement, "d A_ij = (dA)_ij", _d_element),
        Rule(AppliedUndef, "d L(A) = tr(∇L(A)ᵀ dA) (L any scalar function)", _d_function),
        Rule(BlockMatrix, "d [A B; C D] = [dA dB; dC dD]", _d_block),
        Rule(Named, "d s = d(what s names)", lambda expr, df: df.d(expr.expr)),
        Rule(sp.Identity, "d I = 0", _d_constant_matrix),
        Rule(sp.ZeroMatrix, "d 0 = 0", _d_constant_matrix),
        Rule(sp.OneMatrix, "d 1 = 0", _d_constant_matrix),
    )
}


def differential(
    expr: Any, wrt: sp.MatrixSymbol, dwrt: sp.MatrixSymbol
) -> tuple[Any, tuple[str, ...]]:
    """``d expr`` in terms of ``dwrt``, and the rules that were used."""
    df = Differentiator(wrt, dwrt)
    return df.d(expr), tuple(df.used)
