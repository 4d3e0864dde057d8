"""Matrix derivatives in textbook form, each one cross-checked before it is returned.

``matrix_derivative(f, X)``: the gradient of a scalar (the shape of ``X``), the Jacobian of
a column vector by a column vector (rows follow the output), or a refusal naming the
reason. ``vector_jacobian_product(F, X, G)``: the gradient of ⟨G, F⟩ for any matrix ``F``.
Every result has passed the guard of ``symml.calculus.crosscheck`` at two or more
assignments of concrete sizes (at the given size when sizes are concrete).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.blockmatrix import BlockMatrix
from sympy.matrices.expressions.matexpr import MatrixExpr

from symml.calculus.crosscheck import mismatch
from symml.calculus.differential import differential
from symml.calculus.matrix_form import as_scalar, contractions_as_products
from symml.calculus.named import named_form
from symml.calculus.readoff import gradient_of_scalar, jacobian_of_vector
from symml.calculus.sameness import same
from symml.errors import DerivationError
from symml.evaluate.explicit import size_assignments

GRADIENT = "gradient"
JACOBIAN = "Jacobian"
VJP = "vector-Jacobian product"


@dataclass(frozen=True)
class MatrixDerivative:
    """A derivative in matrix form, the rules that built it and the sizes it was checked at."""

    of: Any
    wrt: sp.MatrixSymbol
    value: Any
    kind: str
    rules: tuple[str, ...]
    checked_at: tuple[dict[str, int], ...]
    legend: str = ""  # what the names in a textbook form stand for (s = softmax(z))

    @property
    def symbolic_sizes(self) -> bool:
        return bool(self.checked_at and self.checked_at[0])

    @property
    def method(self) -> str:
        where = "at symbolic sizes" if self.symbolic_sizes else "at the given sizes"
        return f"matrix calculus {where}, cross-checked elementwise at {sizes_text(self)}"


def sizes_text(result: MatrixDerivative) -> str:
    if not result.symbolic_sizes:
        shapes = {str(m): m.shape for m in _matrices([result.of, result.wrt])}
        return ", ".join(f"{k}: {r}×{c}" for k, (r, c) in sorted(shapes.items()))
    return "; ".join(", ".join(f"{k}={v}" for k, v in a.items()) for a in result.checked_at)


def _matrices(exprs: Sequence[Any]) -> set[sp.MatrixSymbol]:
    found: set[sp.MatrixSymbol] = set()
    for e in exprs:
        if isinstance(e, sp.Basic):
            found |= e.atoms(sp.MatrixSymbol)
    return found


def check_assignments(exprs: Sequence[Any]) -> list[dict[Any, int]]:
    """Two assignments of concrete sizes; the given sizes alone when they are concrete."""
    assignments = size_assignments(list(exprs))
    return assignments if assignments[0] else [{}]  # sizes fixed: one assignment


def textbook(value: Any) -> Any:
    """``doit`` folds identities, transposes of products and repeated terms (2 Aᵀ r); then
    a factor shared by every term is taken out: A x + Aᵀ x → (A + Aᵀ) x. The result is
    still checked by the guard afterwards."""
    if not isinstance(value, MatrixExpr):
        return value
    try:
        tidy = _linear_maps(value).doit()
    except Exception:  # SymPy's own folding failed: the unfolded form is still correct
        return value
    if not isinstance(tidy, MatrixExpr):
        return value
    return _common_factor(_block_columns(tidy))


def _block_columns(value: MatrixExpr) -> MatrixExpr:
    """A [0; I; 0] → the columns of A that the identity block picks: W_f [I; 0] = W_f[:, :H]
    (the columns of W_f that multiply h in W_f [h; x])."""

    def picker(e: Any) -> bool:
        return isinstance(e, sp.MatMul) and any(
            _picked_rows(b) is not None for b in e.args[1:] if isinstance(b, BlockMatrix)
        )

    def read_off(e: sp.MatMul) -> MatrixExpr:
        factors = list(e.args)
        k = 1
        while k < len(factors):
            rows = _picked_rows(factors[k]) if isinstance(factors[k], BlockMatrix) else None
            left = factors[k - 1]
            if rows is not None and isinstance(left, MatrixExpr):
                start, stop = rows
                factors[k - 1 : k + 1] = [left[:, start:stop]]
                continue
            k += 1
        return sp.MatMul(*factors)

    return value.replace(picker, read_off)


def _picked_rows(block: BlockMatrix) -> tuple[Any, Any] | None:
    """(start, stop) when the block column is [0; I; 0] with one identity, else None."""
    if block.blocks.cols != 1:
        return None
    pieces = [block.blocks[i, 0] for i in range(block.blocks.rows)]
    identities = [k for k, b in enumerate(pieces) if isinstance(b, sp.Identity)]
    if len(identities) != 1 or not all(
        isinstance(b, sp.ZeroMatrix) for k, b in enumerate(pieces) if k != identities[0]
    ):
        return None
    (k,) = identities
    start = sp.Add(*(b.shape[0] for b in pieces[:k]))
    return start, start + pieces[k].shape[0]


def _linear_maps(value: MatrixExpr) -> MatrixExpr:
    """An element-wise map u ↦ c·u is the scalar multiple c·A (2u applied to x is 2x)."""

    def linear(e: Any) -> bool:
        if not isinstance(e, ElementwiseApplyFunction):
            return False
        u = sp.Dummy("u")
        body = e.function(u)
        return sp.diff(body, u, 2) == 0 and body.subs(u, 0) == 0

    def as_multiple(e: ElementwiseApplyFunction) -> MatrixExpr:
        u = sp.Dummy("u")
        return sp.MatMul(sp.diff(e.function(u), u), e.expr)

    return value.replace(linear, as_multiple)


def _factors(term: Any) -> tuple[Any, list[Any]]:
    if isinstance(term, sp.MatMul):
        scalar = sp.Mul(*(a for a in term.args if not isinstance(a, MatrixExpr)))
        return scalar, [a for a in term.args if isinstance(a, MatrixExpr)]
    return sp.S.One, [term]


def _common_factor(value: MatrixExpr) -> MatrixExpr:
    """Σ cᵢ Mᵢ R → (Σ cᵢ Mᵢ) R and Σ cᵢ L Mᵢ → L (Σ cᵢ Mᵢ) when every term shares R or L."""
    if not isinstance(value, sp.MatAdd):
        return value
    terms = [_factors(t) for t in value.args]
    if any(len(ms) < 2 for _, ms in terms):
        return value
    last = {ms[-1] for _, ms in terms}
    if len(last) == 1:
        (right,) = last
        inner = sp.MatAdd(*(sp.MatMul(c, *ms[:-1]) for c, ms in terms)).doit()
        return sp.MatMul(_common_factor(inner), right)
    first = {ms[0] for _, ms in terms}
    if len(first) == 1:
        (left,) = first
        inner = sp.MatAdd(*(sp.MatMul(c, *ms[1:]) for c, ms in terms)).doit()
        return sp.MatMul(left, _common_factor(inner))
    return value


def matrix_derivative(of: Any, wrt: Any, *, seed: int = 0) -> MatrixDerivative:
    """∂of/∂wrt in matrix form, or ``DerivationError`` with the reason."""
    if not isinstance(wrt, sp.MatrixSymbol):
        raise DerivationError(sp.sstr(wrt), "matrix calculus differentiates by a matrix symbol")
    scalar = as_scalar(contractions_as_products(of))
    dwrt = sp.MatrixSymbol(f"d{wrt.name}", *wrt.shape)
    if isinstance(scalar, MatrixExpr):
        if not (_is_vector(scalar) and _is_vector(wrt)):
            raise DerivationError(
                sp.sstr(of),
                f"∂(matrix)/∂(matrix) is a 4-index tensor; ask for a VJP with an upstream "
                f"gradient G of shape {scalar.shape[0]}×{scalar.shape[1]} (--upstream G)",
            )
        value, rules = _vector_jacobian(scalar, wrt)
        kind = JACOBIAN
        form = named_form(scalar, wrt)
        if form is not None:
            try:
                named = _guarded(of, wrt, form[0], kind, rules, seed)
            except DerivationError:  # the named form did not hold: the plain one is shown
                pass
            else:
                return replace(named, legend=form[1])
    else:
        d, rules = differential(scalar, wrt, dwrt)
        value, kind = gradient_of_scalar(d, dwrt), GRADIENT
    return _guarded(of, wrt, textbook(value), kind, rules, seed)


def _is_vector(value: Any) -> bool:
    return 1 in (value.shape[0], value.shape[1])


def _vector_jacobian(of: MatrixExpr, wrt: sp.MatrixSymbol) -> tuple[Any, tuple[str, ...]]:
    """J[i, j] = ∂f_i/∂x_j for vectors; rows are turned into columns first (x = cᵀ)."""
    column = wrt
    if wrt.shape[1] != 1:
        column = sp.MatrixSymbol(f"{wrt.name}_col", wrt.shape[1], 1)
        of = of.xreplace({wrt: column.T})
    dcolumn = sp.MatrixSymbol(f"d{column.name}", *column.shape)
    d, rules = differential(of, column, dcolumn)
    if d.shape[1] != 1:  # a row-vector function: its transpose is the column f
        d = sp.Transpose(d)
    value = jacobian_of_vector(d, dcolumn)
    return (value.xreplace({column: wrt.T}) if column != wrt else value), rules


def vector_jacobian_product(
    of: MatrixExpr, wrt: sp.MatrixSymbol, upstream: MatrixExpr, *, seed: int = 0
) -> MatrixDerivative:
    """∂⟨G, F⟩/∂X = the VJP of F by X with upstream gradient G (the shape of F)."""
    if not isinstance(of, MatrixExpr) or upstream.shape != of.shape:
        raise DerivationError(
            sp.sstr(upstream), "the upstream gradient must have the shape of the formula"
        )
    pairing = sp.Trace(sp.MatMul(sp.Transpose(upstream), of))
    result = matrix_derivative(pairing, wrt, seed=seed)
    return MatrixDerivative(of, wrt, result.value, VJP, result.rules, result.checked_at)


def _guarded(
    of: Any, wrt: sp.MatrixSymbol, value: Any, kind: str, rules: tuple[str, ...], seed: int
) -> MatrixDerivative:
    assignments = check_assignments([of, wrt])
    try:
        found = mismatch(value, of, wrt, assignments, seed)
    except DerivationError:
        raise
    except Exception as exc:  # SymPy failed while writing out: unchecked, so not returned
        raise DerivationError(
            sp.sstr(of), f"the element-wise cross-check failed ({type(exc).__name__}); not returned"
        ) from None
    if found is not None:
        raise DerivationError(
            sp.sstr(of),
            f"the matrix-calculus result {sp.sstr(value)} disagrees with elementwise "
            f"differentiation at sizes {found.sizes}; not returned",
        )
    checked = tuple({str(k): int(v) for k, v in a.items()} for a in assignments)
    return MatrixDerivative(of, wrt, value, kind, rules, checked)


def claim_agrees(claimed: Any, result: MatrixDerivative) -> bool:
    """Whether a claimed matrix expression equals ``result`` by matrix algebra alone."""
    claimed = claimed if isinstance(claimed, MatrixExpr) else None
    if claimed is None:
        return False
    value = result.value
    if claimed.shape != value.shape:
        return False
    return same(claimed, value)


def sizes_of(assignments: Sequence[Mapping[Any, int]]) -> str:
    return "; ".join(", ".join(f"{k}={v}" for k, v in a.items()) for a in assignments)


def derivative_by_scalar(of: Any, wrt: sp.Symbol) -> MatrixDerivative:
    """∂F/∂t of a vector expression F (a row or a column) by a scalar t, in F's shape.

    SymPy's matrix ``diff`` by a scalar is taken only after it equals the element-wise
    derivative (t standing in as a 1×1 matrix for the guard) at two or more assignments of
    sizes; otherwise, or for a matrix F with several columns, a one-line refusal."""
    if not isinstance(of, MatrixExpr) or 1 not in of.shape:
        raise DerivationError(
            sp.sstr(wrt),
            "the derivative of a matrix with several columns by a scalar is not offered in "
            "matrix form; differentiate one column, or an entry, instead",
        )
    value = sp.diff(of, wrt)
    stand_in = sp.MatrixSymbol(f"{wrt}_1x1", 1, 1)
    swap = {wrt: stand_in[0, 0]}
    assignments = check_assignments([of])
    column = (lambda m: m) if of.shape[1] == 1 else (lambda m: m.T)  # the guard reads columns
    found = mismatch(column(value).xreplace(swap), column(of).xreplace(swap), stand_in, assignments)
    if found is not None:
        raise DerivationError(
            sp.sstr(wrt),
            f"SymPy's matrix derivative by {wrt} disagrees with the element-wise one at "
            f"{found.sizes} (at {found.point}); it is not given",
        )
    return MatrixDerivative(
        of, wrt, value, JACOBIAN, ("sympy matrix diff by a scalar",), tuple(assignments)
    )
