"""Plain-text form of expressions for the terminal: SymPy's ``sstr`` with readable
elementwise operations (``sigma.(z)`` for σ applied to each element, ``a ⊙ b``)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import sympy as sp
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from symml.notation import (
    ACCENT_WORDS,
    COMBINING_ACCENTS,
    GREEK_LETTERS,
    SUBSCRIPTS,
    SUPERSCRIPTS,
)
from symml.render.latex import name_tex


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


# -- Unicode mathematics for people (verdicts in the terminal and in Markdown prose) ---------------
# The notation tables read backwards: a LaTeX name or an ASCII script to the Unicode character
# (the first character listed for it: ε, not ϵ).
_GREEK_LETTERS: dict[str, str] = {}
for _char, _tex in GREEK_LETTERS.items():
    if _tex.startswith("\\"):
        _GREEK_LETTERS.setdefault(_tex[1:], _char)
_SUBSCRIPTS = {ascii_: char for char, ascii_ in SUBSCRIPTS.items() if ascii_.isascii()}
_SUPERSCRIPTS = {ascii_: char for char, ascii_ in SUPERSCRIPTS.items()}
_ACCENTS: dict[str, str] = {}
for _char, _tex in COMBINING_ACCENTS.items():
    if _tex in ACCENT_WORDS:
        _ACCENTS.setdefault(ACCENT_WORDS[_tex], _char)


def _script(body: str, table: dict[str, str], fallback: str) -> str:
    """``body`` as sub/superscript characters when it is short (x₁, tₜ₋₁, ᵀ), else ``_body``."""
    short = len(body) == 1 or not any(c.isalpha() for c in body) or re.fullmatch(r"\w[-+]\d", body)
    if body and short and all(c in table for c in body):
        return "".join(table[c] for c in body)
    return f"{fallback}{body}" if body.isalnum() else f"{fallback}({body})"


def tex_name_text(tex: str) -> str:
    """The Unicode form of a name's LaTeX (``\\hat{y}_{1}`` → ``ŷ₁``); names only, not formulas."""
    out = re.sub(
        r"\\frac\{\\partial ([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}\{\\partial ([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}",
        r"∂\1/∂\2",
        tex,
    )
    out = re.sub(r"\\(hat|tilde|bar)\{([^{}]*)\}", lambda m: m[2] + _ACCENTS[m[1]], out)
    out = re.sub(r"\\(?:mathrm|operatorname|mathbf)\{([^{}]*)\}", r"\1", out)
    out = out.replace(r"\mathbb{E}", "E").replace(r"\mathbb{I}", "I").replace(r"\nabla ", "∇")
    out = out.replace(r"\nabla", "∇").replace(r"\top", "T").replace(r"\partial ", "∂")
    out = re.sub(r"\\([A-Za-z]+)", lambda m: _GREEK_LETTERS.get(m[1], m[1]), out)
    out = re.sub(r"_\{([^{}]*)\}", lambda m: _script(m[1].replace(",", ""), _SUBSCRIPTS, "_"), out)
    out = re.sub(r"\^\{([^{}]*)\}", lambda m: _script(m[1], _SUPERSCRIPTS, "^"), out)
    return unicodedata.normalize("NFC", out.replace("{", "").replace("}", "").replace(" ", ""))


_RELATIONS = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥", "<": "<", ">": ">"}


class UnicodePrinter(StrPrinter):
    """Plain text as a person writes it: ``z ≠ 0``, ``Σⱼ yⱼ = 1``, ``α ≤ 1``, ``β·v``."""

    printmethod = "_unicodetext"  # not SymPy's own ``_sympystr`` (Indexed prints y[j] with it)

    def _print_Symbol(self, expr) -> str:

        return tex_name_text(name_tex(expr.name))

    _print_MatrixSymbol = _print_Symbol
    _print_Dummy = _print_Symbol

    def _print_IndexedBase(self, expr) -> str:
        return self._print(expr.label)

    def _print_Indexed(self, expr) -> str:
        indices = "".join(self._print(i) for i in expr.indices)
        return self._print(expr.base) + _script(indices, _SUBSCRIPTS, "_")

    def _print_Relational(self, expr) -> str:
        op = _RELATIONS.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_Sum(self, expr) -> str:
        limits = "".join(
            "Σ" + _script(self._print(v), _SUBSCRIPTS, "_")
            if lo == 1 and not hi.is_Number  # Σⱼ over the whole family
            else f"Σ_({self._print(v)}={self._print(lo)}..{self._print(hi)})"
            for v, lo, hi in reversed(expr.limits)
        )
        return f"{limits} {self.parenthesize(expr.function, PRECEDENCE['Mul'])}"

    def _print_Pow(self, expr, rational: bool = False) -> str:
        base, exp = expr.as_base_exp()
        if exp == sp.S.Half:
            return f"√{self.parenthesize(base, PRECEDENCE['Pow'])}"
        if exp == -1:
            return f"1/{self.parenthesize(base, PRECEDENCE['Pow'])}"
        power = self._print(exp)
        raised = _script(power, _SUPERSCRIPTS, "^") if len(power) < 4 else f"^({power})"
        return f"{self.parenthesize(base, PRECEDENCE['Pow'], strict=True)}{raised}"

    def _print_Function(self, expr) -> str:

        head = getattr(expr, "latex_name", "") or name_tex(type(expr).__name__)
        args = ", ".join(self._print(a) for a in expr.args)
        return f"{tex_name_text(head)}({args})"

    def _print_Piecewise(self, expr) -> str:
        pieces = [
            f"{self._print(p.expr)} "
            + ("otherwise" if p.cond == sp.true else f"if {self._print(p.cond)}")
            for p in expr.args
        ]
        return "{" + "; ".join(pieces) + "}"

    def _print_Transpose(self, expr) -> str:
        return f"{self.parenthesize(expr.arg, PRECEDENCE['Pow'])}ᵀ"

    def _print_ElementwiseApplyFunction(self, expr) -> str:
        function = expr.function
        if isinstance(function, sp.Lambda) and len(function.variables) == 1:
            return self._print(function.expr.xreplace({function.variables[0]: expr.expr}))
        return f"{self._print(function)}({self._print(expr.expr)})"

    def _print_MinMaxBase(self, expr) -> str:
        return f"{type(expr).__name__.lower()}({', '.join(self._print(a) for a in expr.args)})"

    _print_Max = _print_MinMaxBase
    _print_Min = _print_MinMaxBase

    def _print_Abs(self, expr) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_HadamardProduct(self, expr) -> str:
        return " ⊙ ".join(self.parenthesize(a, PRECEDENCE["Mul"]) for a in expr.args)

    def _print_Derivative(self, expr) -> str:
        if len(expr.variables) == 1 and isinstance(expr.expr, sp.Function):
            function = self._print(expr.expr)
            return function.replace("(", "'(", 1)
        return f"∂({self._print(expr.expr)})/∂{', '.join(self._print(v) for v in expr.variables)}"

    def _print_Pi(self, expr) -> str:
        return "π"

    def _print_Infinity(self, expr) -> str:
        return "∞"

    def _print_NegativeInfinity(self, expr) -> str:
        return "-∞"

    def doprint(self, expr) -> str:
        return super().doprint(expr).replace("*", "·").replace("-", "−")


def unicode_text(expr: Any) -> str:
    """``expr`` in readable Unicode (no ``**``, ``Ne(``, ``Sum(``); SymPy's text for what the
    printer cannot order (``Max`` of symbolic matrices)."""
    try:
        return UnicodePrinter({"order": None}).doprint(expr)
    except (TypeError, ValueError):
        return text(expr)
