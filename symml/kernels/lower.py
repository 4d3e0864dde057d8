"""Lowering: an indexed SymPy formula becomes an expression over whole arrays.

``Σⱼ f(xⱼ)`` over an index range becomes ``ReduceSum(f(x))`` — a vectorised reduction over
the kernel's axis that keeps the axis so it broadcasts — and every indexed family ``x[i]``
becomes the array ``x``. This only works while every index of a sum is the sum's own
variable: a term like ``x[i]`` left inside ``Σⱼ`` (an outer product), a shifted index
``g[i − m]`` or a two-index family is reported as not kernelisable, never approximated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from symml.kernels.errors import NotKernelisable
from symml.kernels.nodes import AxisLen, ReduceSum

AXIS_LEN = AxisLen("n_axis")


@dataclass(frozen=True)
class Lowered:
    """An array expression and what the printer needs to know about it."""

    expr: Any
    reduced: bool  # True when the value is a reduction (the axis is squeezed at the end)
    axis_source: str | None  # the array argument whose axis length is n_axis


def indices_of(expr: sp.Basic) -> set[sp.Symbol]:
    """Index symbols used inside Indexed atoms of ``expr``."""
    return {ix for a in expr.atoms(sp.Indexed) for ix in a.indices if isinstance(ix, sp.Symbol)}


def free_positions(expr: sp.Basic) -> set[sp.Symbol]:
    """Indices of indexed atoms that no Sum binds: the value is one element per position."""
    return {s for s in expr.free_symbols if s in indices_of(expr)}


def collapse_deltas(expr: Any) -> Any:
    """Σⱼ f(j)·δ(w, j) → f(w): what sympy.diff leaves when differentiating a sum by x[w]."""

    def has_delta(e: sp.Basic) -> bool:
        return isinstance(e, sp.Sum) and e.function.has(sp.KroneckerDelta)

    def collapse(e: sp.Sum) -> Any:
        (j, lo, hi), *rest = e.limits
        if rest:
            raise NotKernelisable(f"a multiple sum {sp.sstr(e)}")
        body = collapse_deltas(e.function)
        kept, out = [], []
        for term in sp.Add.make_args(sp.expand_mul(body)):
            deltas = [
                f for f in sp.Mul.make_args(term) if isinstance(f, sp.KroneckerDelta) and f.has(j)
            ]
            if not deltas:
                kept.append(term)
                continue
            delta = deltas[0]
            other = delta.args[1] if delta.args[0] == j else delta.args[0]
            out.append((term / delta).xreplace({j: other}))
        rest_sum = sp.Sum(sp.Add(*kept), (j, lo, hi)) if kept else sp.S.Zero
        return sp.Add(*out) + rest_sum

    return expr.replace(has_delta, collapse) if isinstance(expr, sp.Basic) else expr


def _split_sum(e: sp.Sum) -> Any:
    """Linearity: Σ(a + b) = Σa + Σb, and factors without the index move out of the sum."""
    (j, lo, hi), *rest = e.limits
    if rest:
        inner = sp.Sum(e.function, *rest)
        return _split_sum(sp.Sum(_pull(inner), (j, lo, hi)))
    total = sp.S.Zero
    for term in sp.Add.make_args(e.function):
        outside, inside = [], []
        for factor in sp.Mul.make_args(term):
            (inside if factor.has(j) else outside).append(factor)
        if not inside:
            total += sp.Mul(*outside) * (hi - lo + 1)
        else:
            total += sp.Mul(*outside) * sp.Sum(sp.Mul(*inside), (j, lo, hi))
    return total


def _pull(expr: Any) -> Any:
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Sum):
        return expr
    if isinstance(expr, sp.Sum):
        body = _pull(expr.function)
        return _split_sum(sp.Sum(body, *expr.limits))
    return expr.func(*(_pull(a) for a in expr.args))


def lower(
    expr: Any, axis_sizes: frozenset[Any] = frozenset(), fallback_source: str | None = None
) -> Lowered:
    """Indexed families → arrays, sums → ReduceSum, the sums' size → ``n_axis``.

    ``axis_sizes``: the size symbols of the formula's indexed families; they too are the
    axis length (a gradient such as (2/n)(ŷᵢ − yᵢ) keeps the n of a sum it no longer has).
    """
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Indexed, sp.Sum):
        if isinstance(expr, sp.Basic) and fallback_source and expr.has(*axis_sizes):
            return Lowered(
                expr.xreplace(dict.fromkeys(axis_sizes, AXIS_LEN)), False, fallback_source
            )
        return Lowered(expr, False, None)
    for a in expr.atoms(sp.Indexed):
        if len(a.indices) != 1:
            raise NotKernelisable(
                f"the family {a.base} has {len(a.indices)} indices; only one-axis families reduce"
            )
        if not isinstance(a.indices[0], sp.Symbol):
            raise NotKernelisable(f"the shifted index {a} (a convolution, not an axis reduction)")
    expr = _pull(collapse_deltas(expr))
    sizes: set[Any] = set()
    for total in expr.atoms(sp.Sum):
        for _, lo, hi in total.limits:
            if lo != 1:
                raise NotKernelisable(f"a sum from {lo}; only sums over a whole axis (from 1)")
            sizes.add(hi)
    if len(sizes) > 1:
        names = ", ".join(sorted(str(s) for s in sizes))
        raise NotKernelisable(f"sums over different ranges ({names}) need several axes")
    positions = free_positions(expr)
    if len(positions) > 1:
        names = ", ".join(sorted(str(p) for p in positions))
        raise NotKernelisable(f"several free indices ({names}); only one axis is supported")

    def to_arrays(e: Any) -> Any:
        if not isinstance(e, sp.Basic):
            return e
        if isinstance(e, sp.Sum):
            (j, _, _), *_ = e.limits
            stray = (indices_of(e.function) & e.function.free_symbols) - {j}
            if stray:
                names = ", ".join(sorted(str(s) for s in stray))
                raise NotKernelisable(
                    f"{sp.sstr(e)} keeps the index {names} inside a sum over {j} (an outer product)"
                )
            return ReduceSum(to_arrays(e.function))
        if isinstance(e, sp.Indexed):
            return sp.Symbol(str(e.base.label), real=True)
        if not e.args:
            return e
        return e.func(*(to_arrays(a) for a in e.args))

    lowered = to_arrays(expr)
    size_symbols = {s for s in sizes if isinstance(s, sp.Symbol)} | set(axis_sizes)
    lowered = lowered.xreplace({s: AXIS_LEN for s in size_symbols}) if size_symbols else lowered
    families = sorted({str(a.base.label) for a in expr.atoms(sp.Indexed)})
    return Lowered(lowered, not positions, families[0] if families else None)
