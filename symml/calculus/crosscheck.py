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
from sympy.matrices.expressions.matexpr import MatrixElement

from symml.calculus.expand import expanded
from symml.errors import DerivationError
from symml.functions import elementary

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


def sample_point(exprs: Sequence[Any], rng: random.Random) -> dict[Any, sp.Rational]:
    """Exact values for every element and symbol; diagonals of square matrices dominant."""
    point: dict[Any, sp.Rational] = {}
    atoms: set[Any] = set()
    for expr in exprs:
        for part in expr if isinstance(expr, sp.MatrixBase) else [expr]:
            if isinstance(part, sp.Basic):
                atoms |= part.atoms(MatrixElement) | {
                    s for s in part.free_symbols if isinstance(s, sp.Symbol)
                }
    for atom in sorted(atoms, key=sp.default_sort_key):
        value = sp.Rational(rng.randint(-900, 900), 1000)
        if isinstance(atom, MatrixElement):
            parent, i, j = atom.args
            if parent.shape[0] == parent.shape[1] and i == j:
                value += int(parent.shape[0]) + 1
        elif isinstance(atom, sp.Symbol) and atom.is_positive:
            value = abs(value) + sp.Rational(1, 10)
        point[atom] = value
    return point


def evaluate(value: Any, point: Mapping[Any, Any]) -> Any:
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(lambda e: evaluate(e, point))
    return sp.N(elementary(sp.sympify(value)).xreplace(dict(point)), DIGITS)


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
    """The first disagreement of ``candidate`` with the element-wise derivative, if any."""
    for sizes in assignments:
        reference = reference_derivative(of, wrt, sizes)
        value = expanded(candidate, sizes)
        if not isinstance(value, sp.MatrixBase):
            value = sp.Matrix([[value]])
        shown_sizes = {str(k): int(v) for k, v in sizes.items()}
        if value.shape != reference.shape:
            return Mismatch(shown_sizes, {}, f"shape {value.shape}", f"shape {reference.shape}")
        rng = random.Random(f"{seed}:{sorted(shown_sizes.items())}")
        for _ in range(POINTS):
            point = sample_point([value, reference], rng)
            left, right = evaluate(value, point), evaluate(reference, point)
            if any(_differ(a, b) for a, b in zip(left, right, strict=True)):
                return Mismatch(
                    shown_sizes,
                    {str(k): str(v) for k, v in point.items()},
                    sp.sstr(left),
                    sp.sstr(right),
                )
    return None
