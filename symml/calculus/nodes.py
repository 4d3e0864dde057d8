"""Matrix-expression nodes that the rules introduce and SymPy has no class for.

``GradientOf(L(V))`` is ∇L evaluated at ``V``: the gradient of an unspecified scalar
function ``L`` (a loss) of one matrix or vector argument, the shape of ``V``. It is what
``d L(V) = tr(∇L(V)ᵀ dV)`` leaves behind; the element-wise expansion writes it out as the
partial derivatives of ``L`` in each entry of ``V`` (``symml.calculus.expand``).
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixExpr

from symml.errors import DerivationError


def is_function_of_matrix(expr: Any) -> bool:
    """``L(V)``: an unspecified function applied to exactly one matrix expression."""
    return (
        isinstance(expr, AppliedUndef)
        and len(expr.args) == 1
        and isinstance(expr.args[0], MatrixExpr)
    )


class GradientOf(MatrixExpr):
    """∇L(V) for ``call = L(V)``; the shape of ``V``."""

    def __new__(cls, call: Any) -> GradientOf:
        if not is_function_of_matrix(call):
            raise DerivationError(
                sp.sstr(call), "∇ applies to an unspecified function of one matrix argument"
            )
        return super().__new__(cls, call)

    @property
    def call(self) -> Any:
        return self.args[0]

    @property
    def argument(self) -> MatrixExpr:
        return self.args[0].args[0]

    @property
    def shape(self) -> tuple[Any, Any]:
        return self.argument.shape

    def _entry(self, i: Any, j: Any, **kwargs: Any) -> Any:
        from sympy.matrices.expressions.matexpr import MatrixElement

        return MatrixElement(self, i, j)

    def _sympystr(self, printer: Any) -> str:
        return f"∇{self.call.func.__name__}({printer._print(self.argument)})"

    def _latex(self, printer: Any) -> str:
        name = printer._print(sp.Symbol(self.call.func.__name__))
        return rf"\nabla {name}\left({printer._print(self.argument)}\right)"

    def _pretty(self, printer: Any) -> Any:
        from sympy.printing.pretty.stringpict import prettyForm

        return prettyForm(sp.sstr(self))


class Named(MatrixExpr):
    """A matrix expression shown by a short name (``s`` for softmax(z)); it means, expands
    and differentiates as the expression it names."""

    def __new__(cls, name: str | sp.Symbol, expr: MatrixExpr) -> Named:
        return super().__new__(cls, sp.Symbol(str(name)), expr)

    @property
    def name(self) -> str:
        return str(self.args[0])

    @property
    def expr(self) -> MatrixExpr:
        return self.args[1]

    @property
    def shape(self) -> tuple[Any, Any]:
        return self.expr.shape

    def _entry(self, i: Any, j: Any, **kwargs: Any) -> Any:
        from sympy.matrices.expressions.matexpr import MatrixElement

        return MatrixElement(self, i, j)

    def _sympystr(self, printer: Any) -> str:
        return self.name

    def _latex(self, printer: Any) -> str:
        return printer._print(sp.Symbol(self.name))

    def _pretty(self, printer: Any) -> Any:
        from sympy.printing.pretty.stringpict import prettyForm

        return prettyForm(self.name)


def softmax_of(z: MatrixExpr) -> MatrixExpr:
    """softmax(z) = exp(z) / (1ᵀ exp(z)) for a column vector ``z``."""
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

    u = sp.Dummy("u")
    exp_z = ElementwiseApplyFunction(sp.Lambda(u, sp.exp(u)), z)
    total = sp.MatMul(sp.OneMatrix(1, z.shape[0]), exp_z)[0, 0]
    return sp.MatMul(1 / total, exp_z)
