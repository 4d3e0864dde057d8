"""Reading a user's expression string without ``eval``: a whitelist over Python's AST.

Numbers, names, + − * / ** (and ^), unary minus, and calls of known functions. Every other
name is a real symbol; anything else (attributes, subscripts, keywords, lambdas) is refused.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import sympy as sp

from symml import functions, guard
from symml.errors import ExpressionError

FUNCTIONS: dict[str, Any] = {
    **{
        name: getattr(sp, name)
        for name in (
            "exp",
            "log",
            "sqrt",
            "sin",
            "cos",
            "tan",
            "tanh",
            "sinh",
            "cosh",
            "erf",
            "Abs",
            "Max",
            "Min",
            "Heaviside",
            "floor",
            "ceiling",
        )
    },
    **{f.__name__: f for f in functions.PRIMITIVES},
    "max": sp.Max,
    "min": sp.Min,
    "abs": sp.Abs,
    "ln": sp.log,
}
CONSTANTS: dict[str, Any] = {"pi": sp.pi, "E": sp.E, "e": sp.E}
OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: _power(a, b),
}


def _power(base: Any, exponent: Any) -> Any:
    guard.check_power(base, exponent)  # 9**9**9**9 would be computed here, digit by digit
    return base**exponent


def parse_expression(text: str, symbols: dict[str, Any] | None = None) -> sp.Expr:
    """``"1/(1+exp(-z))"`` → ``1/(1 + exp(-z))`` with ``z`` a real symbol."""
    known = dict(symbols or {})
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        hint = _python_spelling(text)
        fix = f"; write {hint}" if hint else ""
        raise ExpressionError(text, f"syntax error at column {exc.offset}{fix}") from None
    except ValueError as exc:  # an integer literal of more digits than Python converts
        raise ExpressionError(text, f"{exc}; write the number as a float") from None
    return _build(tree.body, text, known)


# A number written against a name or a bracket, as on paper: 2z, 3(x+1), 0.5x.
_IMPLICIT_PRODUCT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?=[A-Za-z_(])")


def _python_spelling(text: str) -> str | None:
    """The text in the syntax this reader takes (``2z^2`` → ``2*z**2``), if that reads."""
    spelled = _IMPLICIT_PRODUCT.sub(r"\1*", text).replace("^", "**")
    if spelled == text:
        return None
    try:
        ast.parse(spelled, mode="eval")
    except SyntaxError:
        return None
    return f"'{spelled}'"


def _build(node: ast.AST, text: str, known: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return sp.nsimplify(node.value) if isinstance(node.value, float) else sp.Integer(node.value)
    if isinstance(node, ast.Name):
        if node.id in known:
            return known[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            raise ExpressionError(text, f"'{node.id}' is a function; call it, e.g. {node.id}(z)")
        known[node.id] = sp.Symbol(node.id, real=True)
        return known[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        left, right = _build(node.left, text, known), _build(node.right, text, known)
        return OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _build(node.operand, text, known)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        if node.func.id not in FUNCTIONS:
            known_names = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(text, f"unknown function '{node.func.id}'; known: {known_names}")
        args = [_build(a, text, known) for a in node.args]
        try:
            return FUNCTIONS[node.func.id](*args)
        except (TypeError, ValueError) as exc:
            raise ExpressionError(text, f"{node.func.id}: {exc}") from None
    what = type(node).__name__
    raise ExpressionError(
        text,
        f"{what} is not allowed; use numbers, names, + - * / ^ and "
        "function calls (write 2*z, not 2z)",
    )
