"""The soundness guard: a matrix-form derivative against the element-wise reference.

At each assignment of concrete sizes both sides are written out (``symml.calculus.expand``),
the reference is differentiated element by element with ``sympy.diff`` (scalar calculus
only), and the two are compared at random exact points evaluated with mpmath at
``DIGITS`` digits. Square matrix symbols get a dominant diagonal at those points, so
inverses and determinants are well conditioned and log det is real.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixElement

from symml.calculus.expand import expanded
from symml.catalog.primitives import elementary
from symml.errors import DerivationError
from symml.evaluate.numeric import concretize_functions, test_function

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


def _directional(value_at: Callable[[sp.Matrix], Any], at: sp.Matrix) -> sp.Matrix:
    """∂f/∂wrt at ``at``, one element at a time, by the central difference
    (f(at + h E_ij) − f(at − h E_ij)) / 2h on the exact element-wise expansion
    (``value_at(moved)`` is f written out at the moved ``wrt``), h = 10⁻³⁰, evaluated at
    STEP_DIGITS digits: the truncation error is O(h²) = 10⁻⁶⁰, far below the comparison
    tolerance, and exact rational arithmetic keeps it fast. A scalar f gives the shape of
    ``wrt``; a vector f the Jacobian (rows follow the output)."""
    rows, cols = at.shape
    columns: list[list[Any]] = []
    scalar_valued = True

    def parts_at(i: int, j: int, step: sp.Rational) -> list[Any]:
        nonlocal scalar_valued
        moved = sp.ImmutableMatrix(
            rows, cols, lambda r, c: at[r, c] + (step if (r, c) == (i, j) else 0)
        )
        value = value_at(moved)
        if not isinstance(value, sp.MatrixBase):
            return [value]
        if 1 not in value.shape:
            raise DerivationError(
                sp.sstr(value), "a matrix-valued function has a 4-index derivative"
            )
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

    Every other matrix is a number before anything is expanded, and the reference is a set
    of central differences in the entries of ``wrt``. Unknown functions (a loss L, an
    activation σ, and σ′ or ∇L in the candidate) are replaced on both sides by the same
    fixed test polynomials (``symml.evaluate.numeric.test_function``): on the function once written
    out in the entries of ``wrt``, and on the candidate at the point."""
    fixed = {**dict(sizes), **constants}
    explicit_wrt = wrt.xreplace(dict(sizes))
    numbers = sp.ImmutableMatrix(
        *explicit_wrt.shape, lambda i, j: at[MatrixElement(explicit_wrt, i, j)]
    )
    reference = _reference(of, wrt, tuple(sizes.items()), tuple(constants.items()), numbers, seed)
    # One simultaneous xreplace: whole matrix symbols are matched before their sizes.
    candidate = _concrete_maps(sp.sympify(candidate), seed).xreplace({**fixed, wrt: numbers})
    return reference, concrete_functions(expanded(candidate, {}), seed)


def _concrete_maps(expr: Any, seed: int) -> Any:
    """Element-wise maps with an unknown function (u ↦ σ(u), u ↦ σ′(u)) made concrete before
    anything is written out, so the expansion multiplies numbers, not calls of σ."""
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Lambda):
        return expr

    def unknown_map(e: Any) -> bool:
        return isinstance(e, sp.Lambda) and e.expr.has(AppliedUndef)

    def concrete_map(e: sp.Lambda) -> sp.Lambda:
        return sp.Lambda(e.variables, concretize_functions(e.expr, seed))

    return expr.replace(unknown_map, concrete_map)


_REFERENCES: dict[tuple[Any, ...], sp.Matrix] = {}
_REFERENCES_KEPT = 64


def _reference(
    of: Any,
    wrt: sp.MatrixSymbol,
    sizes: tuple[tuple[Any, int], ...],
    constants: tuple[tuple[Any, Any], ...],
    numbers: sp.ImmutableMatrix,
    seed: int,
) -> sp.Matrix:
    """The element-wise derivative of ``of`` at one point; remembered, since a claim is
    checked at the same points as the matrix-calculus result it is compared with."""
    key = (sp.sympify(of), wrt, sizes, constants, numbers, seed)
    if key in _REFERENCES:
        return _REFERENCES[key]
    fixed = {**dict(sizes), **dict(constants)}
    concrete_of = _concrete_maps(sp.sympify(of), seed)

    def value_at(moved: sp.Matrix) -> Any:
        # Numbers first, then the test polynomials, innermost call first: every step is
        # arithmetic on exact rationals, never a nested symbolic polynomial.
        written = expanded(concrete_of.xreplace({**fixed, wrt: moved}), {})
        return concrete_functions(written, seed)

    reference = _directional(value_at, numbers)
    if len(_REFERENCES) >= _REFERENCES_KEPT:
        _REFERENCES.clear()
    _REFERENCES[key] = reference
    return reference


@functools.lru_cache(maxsize=256)
def _stand_in(name: str, arity: int, seed: int, partials: tuple[tuple[int, int], ...]) -> sp.Lambda:
    """The test polynomial of ``name`` (``symml.evaluate.numeric.test_function``), differentiated
    ``count`` times in argument ``position`` for each (position, count) of ``partials``."""
    function = test_function(name, arity, seed)
    variables = function.variables
    body = function.expr
    if partials:
        body = sp.diff(body, *((variables[k], count) for k, count in partials))
    return sp.Lambda(variables, body)


def concrete_functions(value: Any, seed: int) -> Any:
    """``value`` with every unknown function replaced by its test polynomial
    (``symml.evaluate.numeric.test_function``, the stand-ins ``concretize_functions`` uses),
    innermost call first, so arguments that are numbers stay numbers. Calls f(a, …) and
    derivatives at a point, Subs(∂f(u…)/∂u_i, u, a) (what the expansion writes), are
    evaluated directly; any other form goes to ``concretize_functions``."""
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(lambda e: concrete_functions(e, seed))
    value = sp.sympify(value)
    if not value.has(AppliedUndef):
        return value
    done: dict[Any, Any] = {}

    def go(node: Any) -> Any:
        if node in done:
            return done[node]
        if not node.args or not node.has(AppliedUndef):
            result = node
        elif isinstance(node, AppliedUndef):
            arguments = [go(a) for a in node.args]
            result = _stand_in(node.func.__name__, len(arguments), seed, ())(*arguments)
        elif _derivative_at_point(node):
            call = node.expr.expr
            partials = tuple(
                (node.variables.index(v), count) for v, count in node.expr.variable_count
            )
            point = [go(p) for p in node.point]
            result = _stand_in(call.func.__name__, len(call.args), seed, partials)(*point)
        elif isinstance(node, (sp.Derivative, sp.Subs, sp.Lambda)):
            result = concretize_functions(node, seed)
        else:
            result = node.func(*(go(a) for a in node.args))
        done[node] = result
        return result

    return go(value)


def _derivative_at_point(node: Any) -> bool:
    """Subs(∂ⁿf(u_1, …, u_k)/∂u_i…, (u_1, …, u_k), point) with f unknown."""
    return (
        isinstance(node, sp.Subs)
        and isinstance(node.expr, sp.Derivative)
        and isinstance(node.expr.expr, AppliedUndef)
        and tuple(node.expr.expr.args) == tuple(node.variables)
        and len(set(node.variables)) == len(node.variables)
    )


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
