"""Reading a user's expression string without ``eval``: a whitelist over Python's AST.

Numbers, names, + − * / ** (and ^), unary minus, and calls of known functions. Every other
name is a real symbol; anything else (attributes, subscripts, keywords, lambdas) is refused.

Names given a shape (``shapes={"X": (n, n), "x": (n, 1)}``) are matrices, read by these rules:
``A @ B`` is the matrix product, ``X.T`` the transpose, ``det``, ``inv``, ``tr``, ``norm`` (the
2-norm of a vector, the Frobenius norm of a matrix), ``hadamard(A, B)`` (the element-wise
product) and ``softmax(z)`` (of a column). ``*``, ``/`` and ``**`` take a matrix only beside a
scalar: between two matrices ``*`` means the matrix product in SymPy and the element-wise one
in NumPy, so it is refused with both spellings offered, never guessed. A 1×1 result
(``x.T @ W @ y``) is its one entry.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from typing import Any

import sympy as sp

from symml.calculus.nodes import softmax_of
from symml.catalog import primitives as functions
from symml.errors import ExpressionError
from symml.runtime import guard

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


def parse_expression(
    text: str,
    symbols: dict[str, Any] | None = None,
    shapes: Mapping[str, tuple[Any, Any]] | None = None,
) -> sp.Expr:
    """``"1/(1+exp(-z))"`` → ``1/(1 + exp(-z))`` with ``z`` a real symbol; names in
    ``shapes`` are matrix symbols of those shapes (see the module docstring)."""
    known = dict(symbols or {})
    for name, (rows, cols) in (shapes or {}).items():
        known[name] = sp.MatrixSymbol(name, rows, cols)
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        hint = _python_spelling(text)
        fix = f"; write {hint}" if hint else ""
        raise ExpressionError(text, f"syntax error at column {exc.offset}{fix}") from None
    except ValueError as exc:  # an integer literal of more digits than Python converts
        raise ExpressionError(text, f"{exc}; write the number as a float") from None
    try:
        value = _build(tree.body, text, known)
    except MatrixMisuse as exc:
        raise ExpressionError(text, str(exc)) from None
    if isinstance(value, sp.MatrixExpr) and value.shape == (1, 1):
        return value[0, 0]
    return value


def parse_shape(text: str) -> tuple[str, tuple[Any, Any]]:
    """``"X=n,n"`` → ``("X", (n, n))``; ``"x=n"`` is a column vector (n×1). Sizes are
    positive integers or names of positive integer symbols."""
    name, equals, dims = text.partition("=")
    words = [w.strip() for w in dims.split(",")]
    if not equals or not name.strip().isidentifier() or not 1 <= len(words) <= 2:
        raise ExpressionError(text, "a shape is NAME=ROWS,COLS or NAME=ROWS, e.g. X=n,n or x=n")
    sizes = []
    for word in words:
        if re.fullmatch(r"[1-9]\d{0,5}", word):
            sizes.append(sp.Integer(int(word)))
        elif word.isidentifier():
            sizes.append(sp.Symbol(word, integer=True, positive=True))
        else:
            raise ExpressionError(text, f"size '{word}' is not a positive integer or a name")
    return name.strip(), (sizes[0], sizes[1] if len(sizes) == 2 else sp.Integer(1))


class MatrixMisuse(ValueError):
    """A matrix where the reader's rules do not say what is meant (caught in this module)."""


def _is_matrix(value: Any) -> bool:
    return isinstance(value, sp.MatrixExpr)


def _shape_text(value: Any) -> str:
    return "×".join(str(d) for d in value.shape)


def _matrices(name: str, args: list[Any], count: int) -> list[Any]:
    if len(args) != count or not all(_is_matrix(a) for a in args):
        raise MatrixMisuse(f"{name} takes {count} matri{'x' if count == 1 else 'ces'}")
    return args


def _square(name: str, args: list[Any]) -> Any:
    (matrix,) = _matrices(name, args, 1)
    if not matrix.is_square:
        raise MatrixMisuse(f"{name} of a {_shape_text(matrix)} matrix; it needs a square one")
    return matrix


def _norm(args: list[Any]) -> Any:
    (matrix,) = _matrices("norm", args, 1)
    if matrix.shape[1] == 1:
        return sp.sqrt((matrix.T * matrix)[0, 0])  # the 2-norm of a column
    return sp.sqrt(sp.Trace(matrix.T * matrix))  # Frobenius


def _hadamard(args: list[Any]) -> Any:
    left, right = _matrices("hadamard", args, 2)
    if left.shape != right.shape:
        raise MatrixMisuse(f"hadamard of {_shape_text(left)} and {_shape_text(right)} matrices")
    return sp.HadamardProduct(left, right)


MATRIX_FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "det": lambda args: sp.Determinant(_square("det", args)),
    "inv": lambda args: sp.Inverse(_square("inv", args)),
    "tr": lambda args: sp.Trace(_square("tr", args)),
    "trace": lambda args: sp.Trace(_square("trace", args)),
    "norm": _norm,
    "hadamard": _hadamard,
    "softmax": lambda args: softmax_of(_column("softmax", args)),
}


def _column(name: str, args: list[Any]) -> Any:
    (vector,) = _matrices(name, args, 1)
    if vector.shape[1] != 1:
        raise MatrixMisuse(f"{name} of a {_shape_text(vector)} matrix; it needs a column vector")
    return vector


def _matrix_operation(op: ast.operator, left: Any, right: Any) -> Any:
    """``left op right`` when either side is a matrix, by the module's stated rules."""
    both = _is_matrix(left) and _is_matrix(right)
    if isinstance(op, ast.MatMult):
        if not both:
            raise MatrixMisuse("@ is the matrix product of two matrices; use * for a scalar")
        if left.shape[1] != right.shape[0]:
            raise MatrixMisuse(
                f"@ of {_shape_text(left)} and {_shape_text(right)} matrices: "
                "the inner sizes differ"
            )
        return left * right
    if isinstance(op, ast.Mult) and both:
        raise MatrixMisuse(
            "* between two matrices: write A @ B for the matrix product or hadamard(A, B) "
            "for the element-wise product"
        )
    if isinstance(op, (ast.Add, ast.Sub)):
        if not both or left.shape != right.shape:
            shapes = " and ".join(
                _shape_text(v) if _is_matrix(v) else "a scalar" for v in (left, right)
            )
            raise MatrixMisuse(f"+ or - of {shapes}: both sides need the same shape")
        return left + right if isinstance(op, ast.Add) else left - right
    if isinstance(op, ast.Mult):
        return left * right
    if isinstance(op, ast.Div) and not _is_matrix(right):
        return left / right
    if isinstance(op, ast.Pow) and not _is_matrix(right) and _is_matrix(left):
        raise MatrixMisuse(
            "a power of a matrix: write X @ X for the matrix power, hadamard(X, X) for the "
            "element-wise one, or inv(X) for the inverse"
        )
    raise MatrixMisuse("a matrix can only be divided by a scalar, and not be an exponent")


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
    if isinstance(node, ast.BinOp) and type(node.op) in (*OPERATORS, ast.MatMult):
        left, right = _build(node.left, text, known), _build(node.right, text, known)
        if _is_matrix(left) or _is_matrix(right) or isinstance(node.op, ast.MatMult):
            return _matrix_operation(node.op, left, right)
        return OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.Attribute) and node.attr == "T":
        value = _build(node.value, text, known)
        if not _is_matrix(value):
            raise MatrixMisuse(
                f".T of a scalar; give it a shape, e.g. --shape {ast.unparse(node.value)}=n"
            )
        return value.T
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _build(node.operand, text, known)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        if node.func.id in MATRIX_FUNCTIONS:
            return MATRIX_FUNCTIONS[node.func.id]([_build(a, text, known) for a in node.args])
        if node.func.id not in FUNCTIONS:
            known_names = ", ".join(sorted([*FUNCTIONS, *MATRIX_FUNCTIONS]))
            raise ExpressionError(text, f"unknown function '{node.func.id}'; known: {known_names}")
        args = [_build(a, text, known) for a in node.args]
        if any(_is_matrix(a) for a in args):
            raise MatrixMisuse(
                f"{node.func.id} of a matrix: apply it to a scalar (an entry, a trace, a norm)"
            )
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
