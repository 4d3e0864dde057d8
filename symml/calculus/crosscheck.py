"""The soundness guard: a matrix-form derivative against the element-wise reference.

At each assignment of concrete sizes both sides are written out (``symml.calculus.expand``),
the reference is differentiated element by element with ``sympy.diff`` (scalar calculus
only), and the two are compared at random exact points evaluated with mpmath at
``DIGITS`` digits. Square matrix symbols get a dominant diagonal at those points, so
inverses and determinants are well conditioned and log det is real.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from symml.calculus.expand import expanded
from symml.errors import DerivationError
from symml.functions import elementary
from symml.numeric import concretize_functions

DIGITS = 50
TOLERANCE = sp.Float(10) ** -30
POINTS = 2


@dataclass(frozen=True)
class Mismatch:
    """Where the matrix form and the element-wise reference differ."""

    sizes: dict[str, int]
    point: dict[str, str]
    matrix_form: str
    reference: str


def reference_derivative(of: Any, wrt: sp.MatrixSymbol, sizes: Mapping[Any, int]) -> sp.Matrix:
    """∂of/∂wrt element by element: the shape of ``wrt`` for a scalar ``of``; for a column
    vector ``of`` and column ``wrt`` the Jacobian (rows follow the output)."""
    value = expanded(of, sizes)
    elements = expanded(wrt, sizes)
    if isinstance(value, sp.MatrixBase):
        if value.shape == (1, 1):
            value = value[0, 0]
        elif value.cols == 1 and elements.cols == 1:
            return sp.Matrix(
                len(value), len(elements), lambda i, j: sp.diff(value[i], elements[j])
            )
        else:
            raise DerivationError(sp.sstr(of), "a matrix-valued function has a 4-index derivative")
    return elements.applyfunc(lambda e: sp.diff(value, e))


def _value(rng: random.Random, diagonal_shift: int = 0) -> sp.Rational:
    return sp.Rational(rng.randint(-900, 900), 1000) + diagonal_shift


def sample_constants(
    exprs: Sequence[Any], wrt: sp.MatrixSymbol, sizes: Mapping[Any, int], rng: random.Random
) -> dict[Any, Any]:
    """Explicit random matrices for every matrix symbol but ``wrt`` and values for scalar
    symbols; square matrices get a dominant diagonal (well-conditioned inverses, det > 0)."""
    point: dict[Any, Any] = {}
    matrices: set[sp.MatrixSymbol] = set()
    scalars: set[sp.Symbol] = set()
    dims = set(sizes)
    for expr in exprs:
        if isinstance(expr, sp.Basic):
            matrices |= expr.atoms(sp.MatrixSymbol)
            scalars |= {s for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    for matrix in sorted(matrices - {wrt}, key=sp.default_sort_key):
        rows, cols = (int(sp.sympify(d).xreplace(dict(sizes))) for d in matrix.shape)
        shift = rows + 1 if rows == cols else 0
        point[matrix] = sp.ImmutableMatrix(
            rows, cols, lambda i, j: _value(rng, shift if i == j else 0)
        )
    for symbol in sorted(scalars - dims - matrices, key=sp.default_sort_key):
        value = _value(rng)
        point[symbol] = abs(value) + sp.Rational(1, 10) if symbol.is_positive else value
    return point


def sample_variable(wrt: sp.Matrix, rng: random.Random) -> dict[Any, sp.Rational]:
    shift = wrt.rows + 1 if wrt.rows == wrt.cols else 0
    return {
        wrt[i, j]: _value(rng, shift if i == j else 0)
        for i in range(wrt.rows)
        for j in range(wrt.cols)
    }


def evaluate(value: Any, point: Mapping[Any, Any], seed: int = 0) -> Any:
    """``value`` at ``point``; unknown functions (σ, L) become fixed test polynomials."""
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(lambda e: evaluate(e, point, seed))
    concrete = concretize_functions(sp.sympify(value).xreplace(dict(point)), seed)
    return sp.N(elementary(concrete), DIGITS)


def _differ(a: Any, b: Any) -> bool:
    gap = abs(sp.N(a - b, DIGITS))
    scale = max(abs(sp.N(a, DIGITS)), abs(sp.N(b, DIGITS)), 1)
    return bool(gap > TOLERANCE * scale) if gap.is_number else True


def mismatch(
    candidate: Any,
    of: Any,
    wrt: sp.MatrixSymbol,
    assignments: Sequence[Mapping[Any, int]],
    seed: int = 0,
) -> Mismatch | None:
    """The first disagreement of ``candidate`` with the element-wise derivative, if any.

    The other matrices are fixed to random explicit matrices first, so the reference is
    differentiated in the elements of ``wrt`` alone (small, fast, exact rationals)."""
    for sizes in assignments:
        shown_sizes = {str(k): int(v) for k, v in sizes.items()}
        rng = random.Random(f"{seed}:{sorted(shown_sizes.items())}")
        elements = expanded(wrt, sizes)
        for _ in range(POINTS):
            constants = sample_constants([of, candidate], wrt, sizes, rng)
            fixed = {**dict(sizes), **constants}
            reference = reference_derivative(of.xreplace(fixed), wrt.xreplace(dict(sizes)), {})
            value = expanded(sp.sympify(candidate).xreplace(fixed), {})
            if not isinstance(value, sp.MatrixBase):
                value = sp.Matrix([[value]])
            if value.shape != reference.shape:
                return Mismatch(shown_sizes, {}, f"shape {value.shape}", f"shape {reference.shape}")
            at = sample_variable(elements, rng)
            left, right = evaluate(value, at, seed), evaluate(reference, at, seed)
            if any(_differ(a, b) for a, b in zip(left, right, strict=True)):
                shown = {str(k): sp.sstr(v) for k, v in {**constants, **at}.items()}
                return Mismatch(shown_sizes, shown, sp.sstr(left), sp.sstr(right))
    return None
