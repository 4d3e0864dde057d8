"""Lowering: an indexed SymPy formula becomes an expression over whole arrays.

``Σⱼ f(xⱼ)`` over an index range becomes ``ReduceSum(f(x))`` — a vectorised reduction over
the kernel's axis that keeps the axis so it broadcasts — and every indexed family ``x[i]``
becomes the array ``x``; ``max(f(xᵢ), (i, 1, N))`` becomes ``ReduceMax(f(x))``. This only
works while every index of a sum is the sum's own variable: a term like ``x[i]`` left
inside ``Σⱼ`` (an outer product) or a shifted index ``g[i − m]`` is reported as not
kernelisable, never approximated. Families of two indices (a joint table p[i, j]) lower to
arrays whose last two axes are the indices (``lower_table``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from symml.calculus import collapse_deltas
from symml.kernels.errors import NotKernelisable
from symml.kernels.nodes import (
    ArgmaxMask,
    AxisLen,
    AxisSum,
    IsArgmax,
    MaxOver,
    ReduceMax,
    ReduceSum,
)

AXIS_LEN = AxisLen("n_axis")


@dataclass(frozen=True)
class Lowered:
    """An array expression and what the printer needs to know about it."""

    expr: Any
    reduced: bool  # True when the value is a reduction (the axis is squeezed at the end)
    axis_source: str | None  # the array argument whose axis length is n_axis
    axes: int = 1  # trailing axes a family spans (2: a table p[i, j] on axis − 1 and axis)
    sizes: tuple[tuple[str, str], ...] = ()  # size symbol → code reading it off an argument


def recognise_max(expr: Any) -> Any:
    """The catalog's declared ``max(body, (i, lo, hi))`` (an undefined function over an index
    range, as sp.Max takes no symbolic number of arguments) as a ``MaxOver``."""

    def is_max(e: Any) -> bool:
        return (
            isinstance(e, AppliedUndef)
            and type(e).__name__ == "max"
            and len(e.args) == 2
            and isinstance(e.args[1], sp.Tuple)
            and len(e.args[1]) == 3
        )

    if not isinstance(expr, sp.Basic) or not expr.has(AppliedUndef):
        return expr
    return expr.replace(is_max, lambda e: MaxOver(e.args[0], e.args[1]))


def indices_of(expr: sp.Basic) -> set[sp.Symbol]:
    """Index symbols used inside Indexed atoms of ``expr``."""
    return {ix for a in expr.atoms(sp.Indexed) for ix in a.indices if isinstance(ix, sp.Symbol)}


def free_positions(expr: sp.Basic) -> set[sp.Symbol]:
    """Indices of indexed atoms that no Sum binds: the value is one element per position."""
    return {s for s in expr.free_symbols if s in indices_of(expr)}


def _split_sum(e: sp.Sum) -> Any:
    """Linearity: Σ(a + b) = Σa + Σb, and factors without the index move out of the sum;
    a multiple sum one index at a time, the innermost (first) limit first."""
    body = e.function
    for j, lo, hi in e.limits:
        body = _split_one(body, j, lo, hi)
    return body


def _split_one(body: Any, j: Any, lo: Any, hi: Any) -> Any:
    total = sp.S.Zero
    for term in sp.Add.make_args(body):
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
    expr: Any,
    axis_sizes: frozenset[Any] = frozenset(),
    fallback_source: str | None = None,
    table_dims: Mapping[str, tuple[Any, ...]] | None = None,
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
    if any(len(a.indices) == 2 for a in expr.atoms(sp.Indexed)):
        return lower_table(expr, table_dims or {})
    for a in expr.atoms(sp.Indexed):
        if len(a.indices) != 1:
            raise NotKernelisable(
                f"the family {a.base} has {len(a.indices)} indices; only one-axis families reduce"
            )
        if not isinstance(a.indices[0], sp.Symbol):
            raise NotKernelisable(f"the shifted index {a} (a convolution, not an axis reduction)")
    expr = _pull(collapse_deltas(expr))
    sizes: set[Any] = set()
    for total in expr.atoms(sp.Sum, MaxOver):
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
        if isinstance(e, IsArgmax):  # ∂ max / ∂ xₚ: the one-hot of the first maximum
            return ArgmaxMask(to_arrays(e.args[1].function))
        if isinstance(e, sp.Sum | MaxOver):
            (j, _, _), *_ = e.limits
            stray = (indices_of(e.function) & e.function.free_symbols) - {j}
            if stray:
                names = ", ".join(sorted(str(s) for s in stray))
                raise NotKernelisable(
                    f"{sp.sstr(e)} keeps the index {names} inside a sum over {j} (an outer product)"
                )
            node = ReduceSum if isinstance(e, sp.Sum) else ReduceMax
            return node(to_arrays(e.function))
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


def lower_table(expr: Any, dims: Mapping[str, tuple[Any, ...]]) -> Lowered:
    """Families of two indices (a joint table p[i, j]) as arrays whose last two axes are the
    indices: the first on ``axis − 1``, the second on ``axis``, batch axes in front. A sum
    over an index reduces that index's axis and keeps it, so every partial sum (a marginal)
    broadcasts against the table. An index used in both places of a family (a transpose),
    two live indices on one axis (an outer product) or a one-index family beside the table
    is reported, never approximated."""
    position: dict[Any, int] = {}
    for a in expr.atoms(sp.Indexed):
        if len(a.indices) != 2:
            raise NotKernelisable(f"the family {a.base} beside a two-index table")
        for k, ix in enumerate(a.indices):
            if not isinstance(ix, sp.Symbol):
                raise NotKernelisable(f"the shifted index {a} (a window, not an axis reduction)")
            if position.setdefault(ix, k) != k:
                raise NotKernelisable(f"the index {ix} on both axes of a table (a transpose)")
    expr = _pull(collapse_deltas(expr))

    def check(live: set[Any], where: Any) -> None:
        axes = [position[s] for s in live if s in position]
        if len(axes) != len(set(axes)):
            names = ", ".join(sorted(str(s) for s in live))
            raise NotKernelisable(f"the indices {names} share an axis in {sp.sstr(where)}")

    sizes: dict[Any, int] = {}
    for shape in dims.values():
        for k, d in enumerate(shape if len(shape) == 2 else ()):
            if isinstance(d, sp.Symbol):
                sizes.setdefault(d, k)

    def to_arrays(e: Any) -> Any:
        if not isinstance(e, sp.Basic):
            return e
        if isinstance(e, sp.Sum):
            check(indices_of(e.function) & e.function.free_symbols, e)
            value = to_arrays(e.function)
            for j, lo, hi in e.limits:
                if lo != 1 or j not in position:
                    raise NotKernelisable(f"{sp.sstr(e)} is not a sum over a whole table axis")
                if isinstance(hi, sp.Symbol):
                    sizes.setdefault(hi, position[j])
                value = AxisSum(value, sp.Integer(position[j]))
            return value
        if isinstance(e, sp.Indexed):
            return sp.Symbol(str(e.base.label), real=True)
        if not e.args:
            return e
        return e.func(*(to_arrays(a) for a in e.args))

    positions = free_positions(expr)
    check(positions, expr)
    lowered = to_arrays(expr)
    families = sorted({str(a.base.label) for a in expr.atoms(sp.Indexed)})
    source = families[0] if families else None
    offsets = ("shape[axis - 1]", "shape[axis]")
    used = [s for s in sorted(sizes, key=str) if s in lowered.free_symbols]
    read = tuple((str(s), f"{source}.{offsets[sizes[s]]}") for s in used) if source else ()
    return Lowered(lowered, not positions, source, axes=2, sizes=read)
