"""Which powers of numbers symml computes exactly: SymPy evaluates ``9**9**9`` to all of
its 370 million digits, for minutes, wherever the power is built. The readers (``grad
--expr``, ``parse``) refuse such a power or leave it unevaluated instead."""

from __future__ import annotations

import math
from typing import Any

import sympy as sp

#: Powers of numbers are computed exactly up to about this many digits.
DIGITS_LIMIT = 10_000
#: The largest exact exponent of an expression: checking z**n substitutes numbers for z, and
#: (7/10)**(10**200) is as hopeless as 9**9**9.
EXPONENT_LIMIT = 10_000


def huge_power(base: Any, exponent: Any) -> bool:
    """Whether base**exponent of two numbers is too large to compute exactly, quickly."""
    if not (isinstance(base, sp.Number) and isinstance(exponent, sp.Number)):
        return False
    if base in (0, 1, -1) or not isinstance(exponent, sp.Rational):
        return False
    p, q = sp.fraction(sp.Rational(base)) if isinstance(base, sp.Rational) else (base, 1)
    size = max(abs(int(p)), abs(int(q))) if isinstance(base, sp.Rational) else abs(float(base))
    digits = abs(float(exponent)) * math.log10(max(size, 2))
    return digits > DIGITS_LIMIT


def huge_exponent(exponent: Any) -> bool:
    """Whether an exact exponent is too large for the numbers substituted into its power."""
    if not isinstance(exponent, sp.Rational):
        return False
    p, q = sp.fraction(exponent)
    return bool(abs(p) > EXPONENT_LIMIT or abs(q) > EXPONENT_LIMIT)
