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
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixElement

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
        elif 1 in value.shape and 1 in elements.shape:  # vectors: the Jacobian
            return sp.Matrix(len(value), len(elements), lambda i, j: sp.diff(value[i], elements[j]))
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
            rows, cols, lambda i, j, shift=shift: _value(rng, shift if i == j else 0)
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
    concrete = concretize_functions(sp.sympify(value), seed)  # before the point: σ″(z) needs z
    return sp.N(elementary(concrete).xreplace(dict(point)), DIGITS)


def _differ(a: Any, b: Any) -> bool:
    """Beyond rounding at DIGITS digits; a value that is not a number counts as different
    (the result is then not returned, the safe side)."""
    gap = abs(sp.N(a - b, DIGITS))
    sizes = [abs(sp.N(v, DIGITS)) for v in (a, b)]
    if not (gap.is_number and all(v.is_number for v in sizes)):
        return True
    return bool(gap > TOLERANCE * max(*sizes, 1))


STEP = sp.Rational(1, 10**30)
STEP_DIGITS = 110  # the central difference loses ~30 digits to the step, keeps > DIGITS


def _directional(
    of: Any, fixed: Mapping[Any, Any], wrt: sp.MatrixSymbol, at: sp.Matrix
) -> sp.Matrix:
    """∂of/∂wrt at ``at``, one element at a time, by the central difference
    (f(at + h E_ij) − f(at − h E_ij)) / 2h on the exact element-wise expansion, h = 10⁻³⁰,
    evaluated at STEP_DIGITS digits: the truncation error is O(h²) = 10⁻⁶⁰, far below the
    comparison tolerance, and exact rational arithmetic keeps it fast. A scalar ``of``
    gives the shape of ``wrt``; a vector ``of`` the Jacobian (rows follow the output)."""
    rows, cols = at.shape
    columns: list[list[Any]] = []
    scalar_valued = True

    def parts_at(i: int, j: int, step: sp.Rational) -> list[Any]:
        nonlocal scalar_valued
        moved = sp.ImmutableMatrix(
            rows, cols, lambda r, c: at[r, c] + (step if (r, c) == (i, j) else 0)
        )
        value = expanded(sp.sympify(of).xreplace({**fixed, wrt: moved}), {})
        if not isinstance(value, sp.MatrixBase):
            return [value]
        if 1 not in value.shape:
            raise DerivationError(sp.sstr(of), "a matrix-valued function has a 4-index derivative")
        scalar_valued = value.shape == (1, 1)
        return list(value)

    for i in range(rows):
        for j in range(cols):
            plus, minus = parts_at(i, j, STEP), parts_at(i, j, -STEP)
            columns.append(
                [
                    sp.N(elementary(p - q), STEP_DIGITS) / (2 * STEP)
                    for p, q in zip(plus, minus, strict=True)
                ]
            )
    if scalar_valued:
        return sp.Matrix(rows, cols, [c[0] for c in columns])
    return sp.Matrix(len(columns[0]), len(columns), lambda r, c: columns[c][r])


def _both_sides(
    of: Any,
    candidate: Any,
    wrt: sp.MatrixSymbol,
    sizes: Mapping[Any, int],
    constants: Mapping[Any, Any],
    at: Mapping[Any, Any],
    seed: int,
) -> tuple[sp.Matrix, Any]:
    """The reference derivative and the candidate at one point, every matrix fixed.

    Without unknown functions every symbol is a number before anything is expanded, and
    the reference is a set of directional derivatives in one variable t. With them (σ′
    inside an element-wise map) the functions are made concrete first, since σ′ of a
    number cannot be formed."""
    fixed = {**dict(sizes), **constants}
    if not (sp.sympify(of).has(AppliedUndef) or sp.sympify(candidate).has(AppliedUndef)):
        explicit_wrt = wrt.xreplace(dict(sizes))
        numbers = sp.ImmutableMatrix(
            *explicit_wrt.shape, lambda i, j: at[MatrixElement(explicit_wrt, i, j)]
        )
        # One simultaneous xreplace: whole matrix symbols are matched before their sizes.
        reference = _directional(of, fixed, wrt, numbers)
        value = expanded(sp.sympify(candidate).xreplace({**fixed, wrt: numbers}), {})
        return reference, value
    by_element: dict[Any, Any] = dict(at)
    for matrix, value in constants.items():
        if isinstance(matrix, sp.MatrixSymbol):
            explicit = matrix.xreplace(dict(sizes))
            for i in range(value.rows):
                for j in range(value.cols):
                    by_element[MatrixElement(explicit, i, j)] = value[i, j]
        else:
            by_element[matrix] = value

    def concrete(e: Any) -> Any:
        return concretize_functions(e, seed).xreplace(by_element)

    reference = reference_derivative(of, wrt, sizes).applyfunc(concrete)
    value = expanded(candidate, sizes)
    value = value.applyfunc(concrete) if isinstance(value, sp.MatrixBase) else concrete(value)
    return reference, value


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
            at = sample_variable(elements, rng)
            reference, value = _both_sides(of, candidate, wrt, sizes, constants, at, seed)
            if not isinstance(value, sp.MatrixBase):
                value = sp.Matrix([[value]])
            if value.shape != reference.shape:
                return Mismatch(shown_sizes, {}, f"shape {value.shape}", f"shape {reference.shape}")
            left, right = evaluate(value, at, seed), evaluate(reference, at, seed)
            if any(_differ(a, b) for a, b in zip(left, right, strict=True)):
                shown = {str(k): sp.sstr(v) for k, v in {**constants, **at}.items()}
                return Mismatch(shown_sizes, shown, sp.sstr(left), sp.sstr(right))
    return None
