"""LaTeX for formulas in ML notation (a ``LatexPrinter`` subclass)."""

from __future__ import annotations

import re
from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

_DECORATIONS = {"hat": r"\hat", "tilde": r"\tilde", "bar": r"\bar"}


class MLLatexPrinter(LatexPrinter):
    """Names by the project convention: ``yhat`` → ``\\hat{y}``, ``beta_1`` → ``\\beta_{1}``."""

    printmethod = "_latex"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__({"ln_notation": False, **(settings or {})})

    def _deal_with_super_sub(self, string: str, style: str = "plain") -> str:
        head, _, rest = string.partition("_")
        match = re.fullmatch(r"([A-Za-z]+?)(hat|tilde|bar)", head)
        if match and match.group(1):
            inner = super()._deal_with_super_sub(match.group(1), style)
            head_tex = rf"{_DECORATIONS[match.group(2)]}{{{inner}}}"
        else:
            head_tex = super()._deal_with_super_sub(head, style)
        if not rest:
            return head_tex
        base = super()._deal_with_super_sub
        subs = ",".join(base(part, style) for part in rest.split("_"))
        return rf"{head_tex}_{{{subs}}}"

    def _print_Transpose(self, expr) -> str:
        return rf"{self.parenthesize(expr.arg, PRECEDENCE['Pow'])}^{{\top}}"

    def _print_HadamardProduct(self, expr) -> str:
        return r" \odot ".join(self.parenthesize(a, PRECEDENCE["Mul"]) for a in expr.args)

    def _print_ElementwiseApplyFunction(self, expr) -> str:
        func = expr.function
        dummy = func.variables[0] if hasattr(func, "variables") else sp.Dummy()
        body = func(dummy) if not hasattr(func, "expr") else func.expr
        if isinstance(body, sp.Derivative) and len(body.variables) == 1:
            name = self._print(type(body.expr))
            return rf"{name}'\left({self._print(expr.expr)}\right)"
        if isinstance(body, sp.Function) and body.args == (dummy,):
            return rf"{self._print(type(body))}\left({self._print(expr.expr)}\right)"
        return super()._print_ElementwiseApplyFunction(expr)

    def _print_UndefinedFunction(self, expr) -> str:
        return self._deal_with_super_sub(expr.__name__)


def latex(expr: Any, **settings: Any) -> str:
    """LaTeX for an expression in symml's ML notation."""
    return MLLatexPrinter(settings).doprint(expr)
