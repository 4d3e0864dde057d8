"""Plain-text form of expressions for the terminal: SymPy's ``sstr`` with readable
elementwise operations (``sigma.(z)`` for σ applied to each element, ``a ⊙ b``)."""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.str import StrPrinter


class TextPrinter(StrPrinter):
    def _print_ElementwiseApplyFunction(self, expr) -> str:
        function = expr.function
        body = function.expr if isinstance(function, sp.Lambda) else None
        argument = self._print(expr.expr)
        if isinstance(body, sp.Derivative) and len(body.variables) == 1:
            return f"{type(body.expr).__name__}'.({argument})"
        if isinstance(body, sp.Function) and body.args == function.variables:
            return f"{type(body).__name__}.({argument})"
        return f"({self._print(function)}).({argument})"

    def _print_HadamardProduct(self, expr) -> str:
        return " ⊙ ".join(self.parenthesize(a, 50) for a in expr.args)


def text(expr: Any) -> str:
    return TextPrinter({"order": None}).doprint(expr)
