"""Inputs for comparing a formula with a framework: random points inside the declared domains
and extreme ones (near every finite bound, tiny and large magnitudes), as floats."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import sympy as sp

from symml.catalog.model import Domain, SymbolSpec
from symml.evaluate.numeric import domain_of, sample_value

REAL_EXTREMES = (-30.0, -1e-6, 0.0, 1e-6, 30.0)
POSITIVE_EXTREMES = (1e-8, 1e-6, 1e3)
MAX_EXTREME = 60


def extremes(domain: Domain | None) -> tuple[float, ...]:
    """Values at the edges of ``domain`` that a float64 implementation may treat specially."""
    domain = domain or Domain("real")
    if domain.values:
        return tuple(float(v) for v in domain.values)
    lo = float(domain.lo) if domain.lo.is_finite else None
    hi = float(domain.hi) if domain.hi.is_finite else None
    if domain.integer:
        first = int(sp.ceiling(domain.lo)) + (1 if domain.lo_open and domain.lo.is_integer else 0)
        return tuple(float(v) for v in (first, first + 1, first + 50) if hi is None or v <= hi)
    if lo is not None and hi is not None:
        span = hi - lo
        inner = (lo + 1e-6 * span, hi - 1e-6 * span)
        ends = (() if domain.lo_open else (lo,)) + (() if domain.hi_open else (hi,))
        return inner + ends
    if lo is not None:
        return (() if domain.lo_open else (lo,)) + tuple(lo + e for e in POSITIVE_EXTREMES)
    if hi is not None:
        return (() if domain.hi_open else (hi,)) + tuple(hi - e for e in POSITIVE_EXTREMES)
    return REAL_EXTREMES


def points(
    atoms: Sequence[Any], specs: Mapping[str, SymbolSpec], seed: int, count: int
) -> tuple[list[dict[Any, float]], list[dict[Any, float]]]:
    """``count`` random points, then extreme ones: a typical point with one atom at a time
    moved to each of its extremes."""
    rng = random.Random(seed)
    domains = {a: domain_of(a, specs) for a in atoms}

    def draw() -> dict[Any, float]:
        return {a: float(sample_value(domains[a], rng)) for a in atoms}

    random_points = [draw() for _ in range(count)]
    typical = draw()
    for atom in atoms:
        spec = specs.get(str(atom))
        if spec is not None and spec.typical is not None:
            typical[atom] = float(spec.typical)
    moved = [{**typical, atom: value} for atom in atoms for value in extremes(domains[atom])]
    if len(moved) > MAX_EXTREME:  # a map of many entries: a seeded sample of the moves
        moved = rng.sample(moved, MAX_EXTREME)
    return random_points, [typical, *moved]
