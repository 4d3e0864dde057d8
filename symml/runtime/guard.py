"""What the public calls refuse before SymPy touches it, and how long they may take.

``x**999999999`` is one small SymPy object, but differentiating, expanding or comparing it
builds a billion-term polynomial or a number with a billion digits, and no deadline stops
SymPy in the middle of one big-integer multiplication. So the entry points
(``check_derivative``, ``check_identity``, ``grad``, the expression reader) measure what they
are given first and refuse, in one line, powers and numbers past these limits and nesting
deeper than SymPy's recursion can follow.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import sympy as sp

from symml.errors import SymmlError

MAX_EXPONENT = 10_000  # of a power of a symbol or expression: (x + 1)**10000 expands to 10⁴ terms
MAX_DIGITS = 100_000  # of a number, or of the value a power of numbers would have
MAX_DEPTH = 400  # nested operations; SymPy's recursive algorithms fail well before Python's limit
GRACE_SECONDS = 2.0  # after the symbolic budget: sampling and formatting of the verdict


class SizeError(SymmlError, ValueError):
    """An expression too large to compute with, refused before SymPy tries."""

    def __init__(self, where: str, culprit: str, problem: str, fix: str) -> None:
        self.where = where
        self.culprit = culprit
        self.problem = problem
        self.fix = fix
        super().__init__(f"{where}: {culprit} {problem}; {fix}")


def grace(timeout: float) -> float:
    """How long a public call may run past its symbolic budget ``timeout`` before it is
    stopped: a few seconds, a quarter more for long budgets."""
    valid = isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0
    return GRACE_SECONDS + (timeout / 4 if valid else 0.0)


def refuse_oversized(items: Iterable[Any], where: str) -> None:
    """Raise ``SizeError`` for the first power, number or nesting in ``items`` past the limits."""
    for item in items:
        for expr in _parts(item):
            _check(expr, where)


def check_power(base: Any, exponent: Any, where: str = "expression") -> None:
    """Refuse ``base**exponent`` before it is computed (the reader builds powers of numbers
    by evaluating them, and 10**10**10**10 would never finish)."""
    _check_pow(sp.sympify(base), sp.sympify(exponent), where)


def oversized_power(base: Any, exponent: Any) -> bool:
    """Whether ``base**exponent`` is past the limits: a power of numbers with more than
    ``MAX_DIGITS`` digits, or an exact exponent larger than ``MAX_EXPONENT``. The readers use
    it to refuse such a power, or to leave it unevaluated, before SymPy computes it."""
    try:
        _check_pow(sp.sympify(base), sp.sympify(exponent), "")
    except SizeError:
        return True
    return False


def _parts(item: Any) -> list[Any]:
    if isinstance(item, sp.MatrixBase):
        return list(item)
    if isinstance(item, (list, tuple)):
        return [p for sub in item for p in _parts(sub)]
    if hasattr(item, "expr") and isinstance(getattr(item, "expr", None), sp.Basic):
        return [item.expr]  # a catalog Formula
    return [item] if isinstance(item, sp.Basic) else []


def _check(expr: sp.Basic, where: str) -> None:
    stack: list[tuple[sp.Basic, int]] = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SizeError(
                where,
                f"the expression (a {type(expr).__name__} at the top)",
                f"is nested more than {MAX_DEPTH} operations deep",
                "split it into named parts or simplify it before checking",
            )
        if isinstance(node, sp.Integer):
            digits = _digits(int(node))
            if digits > MAX_DIGITS:
                raise SizeError(
                    where,
                    f"a number of {digits} digits",
                    f"is past symml's limit of {MAX_DIGITS} digits",
                    "use a smaller number or keep it symbolic",
                )
        elif isinstance(node, sp.Pow):
            _check_pow(node.base, node.exp, where)
        stack.extend((arg, depth + 1) for arg in node.args if isinstance(arg, sp.Basic))


def _check_pow(base: Any, exponent: Any, where: str) -> None:
    if not exponent.is_number:
        return
    text = f"{_short(base)}**{_short(exponent)}"
    size = _exponent_size(exponent)
    if base.is_number:
        scale = _magnitude(base)
        if scale == 0:
            return
        digits = size * scale
        if digits > MAX_DIGITS:
            raise SizeError(
                where,
                text,
                f"has {_rounded(digits)} digits, past symml's limit of {MAX_DIGITS}",
                "write it as a smaller number or keep the exponent symbolic",
            )
        return
    if size > MAX_EXPONENT:
        raise SizeError(
            where,
            text,
            f"has an exponent past symml's limit of {MAX_EXPONENT}",
            f"write it as exp({_short(exponent)}*log({_short(base)})) or use a smaller power",
        )


def _exponent_size(exponent: Any) -> float:
    """|exponent| (infinite when it is too large for a float), without computing it."""
    if isinstance(exponent, sp.Rational):
        return abs(int(exponent.p)) / int(exponent.q)
    digits = _magnitude(exponent)
    return math.inf if digits > 300 else 10.0**digits


def _magnitude(value: Any) -> float:
    """log10 |value| of a number written with powers, estimated without computing it
    (a tower 10**10**10 is 10¹⁰ digits long); 0 for numbers it cannot estimate."""
    if isinstance(value, sp.Rational):
        return _log10(value) if value not in (0, 1, -1) else 0.0
    if isinstance(value, sp.Float):
        return abs(math.log10(abs(float(value)))) if value != 0 else 0.0
    if isinstance(value, sp.Pow) and value.is_number:
        base = _magnitude(value.base)
        return base * _exponent_size(value.exp) if base else 0.0
    return 0.0


def _log10(value: sp.Rational) -> float:
    value = sp.Rational(value)
    return abs(math.log10(abs(int(value.p))) - math.log10(int(value.q)))


def _digits(n: int) -> int:
    return max(1, int(abs(n).bit_length() * 0.30103) + 1)


def _rounded(digits: float) -> str:
    if math.isinf(digits) or digits > 1e300:
        return "more than 10^300"
    return f"about 10^{int(math.log10(digits))}" if digits >= 1e6 else f"about {int(digits)}"


def _short(expr: Any) -> str:
    text = sp.sstr(expr) if not isinstance(expr, sp.Integer) or _digits(int(expr)) < 30 else ""
    if not text:
        return f"<a {_digits(int(expr))}-digit number>"
    return text if len(text) <= 60 else text[:57] + "..."
