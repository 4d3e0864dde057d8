"""Deciding ``lhs = rhs``: symbolic normal forms, bounded simplify, then numeric sampling.

The order of attack: fast normal forms (expand/cancel/together, rewrites of the ML
primitives) → ``simplify`` under a deadline → sampling inside the declared domains at 30
digits, a disagreement certified (intervals or raised precision) before it refutes.
``proved`` comes only from the first two; a normal form that is a nonzero constant refutes.
Tensor expressions (symbolic sizes) are compared at two assignments of concrete sizes,
written out element by element.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from symml.catalog.model import Status, SymbolSpec
from symml.engine import symbolic
from symml.engine.verdict import Verdict
from symml.errors import SymbolicTimeout
from symml.evaluate import numeric
from symml.evaluate.explicit import explicit, size_assignments
from symml.runtime import bounded


@dataclass(frozen=True)
class Context:
    specs: Mapping[str, SymbolSpec]
    seed: int = 0
    timeout: float = 10.0
    samples: int = 12


def symbolic_zero(difference: Any, ctx: Context) -> tuple[str | None, tuple[str, ...]]:
    """Which strategy proves ``difference`` is 0 (None if none did), and notes."""
    found = symbolic_reduction(difference, ctx)
    return found.zero, found.notes


def symbolic_reduction(difference: Any, ctx: Context) -> symbolic.Reduction:
    """The cheap normal forms, then a bounded ``simplify`` (skipped when the normal forms
    already reduced the difference to a nonzero number): a zero proof, or a decided
    nonzero constant, with notes of what timed out or failed."""
    if _trivially_zero(difference):
        return symbolic.Reduction(zero="direct")
    notes: list[str] = []
    constant = None
    for runner, step in ((symbolic.reduce_fast, "normal forms"), (symbolic.zero_slow, "simplify")):
        if constant is not None:
            break
        try:
            found = bounded.run_bounded(runner, difference, timeout=ctx.timeout, step=step)
        except SymbolicTimeout as exc:
            notes.append(str(exc))
            continue
        except Exception as exc:  # SymPy failing inside a strategy is not a verdict
            notes.append(f"{step} failed: {type(exc).__name__}")
            continue
        if isinstance(found, symbolic.Reduction):
            notes.extend(found.notes)
            constant = found.constant
            found = found.zero
        if found:
            return symbolic.Reduction(zero=found, notes=tuple(notes))
    return symbolic.Reduction(constant=constant, notes=tuple(notes))


def _trivially_zero(difference: Any) -> bool:
    if isinstance(difference, sp.MatrixBase):
        return all(e == 0 for e in difference)
    return difference == 0


def shape_of(value: Any) -> tuple[int, ...]:
    return value.shape if isinstance(value, sp.MatrixBase) else ()


def as_value(value: Any) -> Any:
    """1×1 matrices are scalars (a dot product read as a number)."""
    if isinstance(value, sp.MatrixBase) and value.shape == (1, 1):
        return value[0, 0]
    return value


def solve_equalities(conditions: Sequence[Any], sizes: Mapping[Any, int]) -> dict[Any, Any]:
    """Equality conditions (``Σ y = 1``) solved for one atom each, at concrete sizes."""
    solved: dict[Any, Any] = {}
    for condition in conditions:
        if not isinstance(condition, sp.Eq):
            continue
        relation = explicit(condition.lhs - condition.rhs, sizes)
        atoms = numeric.free_atoms([relation])
        for atom in reversed(atoms):
            solutions = sp.solve(relation, atom, dict=False)
            if len(solutions) == 1:
                solved[atom] = solutions[0]
                break
    return solved


def compare(
    lhs: Any,
    rhs: Any,
    ctx: Context,
    *,
    conditions: Sequence[Any] = (),
    prepared: bool = False,
    numeric_pair: tuple[Any, Any] | None = None,
) -> Verdict:
    """proved / numeric / refuted for ``lhs = rhs`` under ``conditions``."""
    assignments = [{}] if prepared else size_assignments([lhs, rhs, *conditions])
    # Without dimension symbols both assignments are {}: one check, not the same one twice.
    assignments = [a for k, a in enumerate(assignments) if a not in assignments[:k]]
    methods: list[str] = []
    notes: list[str] = []
    proved_everywhere = True
    first_numeric: numeric.Comparison | None = None
    for sizes in assignments:
        left = lhs if prepared else as_value(explicit(lhs, sizes))
        right = rhs if prepared else as_value(explicit(rhs, sizes))
        if shape_of(left) != shape_of(right):
            return Verdict(
                Status.REFUTED,
                "shape check",
                f"shapes differ: {shape_of(left) or 'scalar'} vs {shape_of(right) or 'scalar'}"
                + _at(sizes),
            )
        solved = solve_equalities(conditions, sizes)
        constraints = [explicit(c, sizes) for c in conditions if not isinstance(c, (sp.Eq, str))]
        left_s, right_s = (_substitute(left, solved), _substitute(right, solved))
        name = None
        constant = None
        constant_case: dict[Any, Any] = {}
        for case in condition_cases(constraints):
            difference = _matrix_or_scalar(left_s, right_s, case)
            reduction = symbolic_reduction(difference, ctx)
            notes.extend(reduction.notes)
            if not reduction.zero:
                name = None
                constant, constant_case = reduction.constant, case
                break
            name = reduction.zero
        if name is None:
            proved_everywhere = False
        else:
            methods.append(name)
        numeric_left, numeric_right = numeric_pair or (left, right)
        result = numeric.compare(
            numeric_left,
            numeric_right,
            ctx.specs,
            seed=ctx.seed,
            samples=ctx.samples,
            constraints=constraints,
            solved=solved,
        )
        if constant is not None:
            witness = result.counterexample or numeric.witness(
                numeric_left, numeric_right, result.point, ctx.seed
            )
            return Verdict(
                Status.REFUTED,
                "symbolic: the sides differ by a nonzero constant",
                f"lhs − rhs = {sp.sstr(constant)} {_case_text(constant_case)}; "
                + (witness.describe() if witness else "")
                + _at(sizes),
                counterexample=witness,
                notes=tuple(notes),
            )
        if result.counterexample is not None:
            return Verdict(
                Status.REFUTED,
                f"numeric sampling, difference certified by {result.certified_by}",
                result.counterexample.describe() + _at(sizes),
                counterexample=result.counterexample,
                notes=tuple(notes),
            )
        first_numeric = first_numeric or result
    sizes_text = _sizes_text(assignments)
    if proved_everywhere:
        method = f"symbolic: {methods[0]}" + (
            f" (elementwise at {sizes_text})" if sizes_text else ""
        )
        return Verdict(Status.PROVED, method, notes=tuple(notes))
    agreed = first_numeric.agreed if first_numeric else 0
    if agreed == 0:
        return Verdict(Status.INCONCLUSIVE, "no point could be evaluated", notes=tuple(notes))
    return Verdict(
        Status.NUMERIC,
        f"numeric: agreed at {agreed} sampled points (30 digits)"
        + (f" at {sizes_text}" if sizes_text else ""),
        notes=tuple(notes) + (first_numeric.notes if first_numeric else ()),
    )


def _matrix_or_scalar(left: Any, right: Any, case: Mapping[Any, Any]) -> Any:
    difference = left - right
    if case:
        if isinstance(difference, sp.MatrixBase):
            return difference.applyfunc(lambda e: e.xreplace(dict(case)))
        return difference.xreplace(dict(case))
    return difference


def _substitute(value: Any, solved: Mapping[Any, Any]) -> Any:
    if not solved:
        return value
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(lambda e: e.xreplace(dict(solved)))
    return value.xreplace(dict(solved))


def condition_cases(constraints: Sequence[Any]) -> list[dict[Any, Any]]:
    """Substitutions that make single-symbol inequality conditions true by construction:
    ``z ≠ 0`` → {z: p}, {z: −p}; ``λ ≥ 0`` → {λ: p}; ``a ≤ b`` → {a: b − p} (p ≥ 0)."""
    cases: list[dict[Any, Any]] = [{}]
    for condition in constraints:
        options = _options(condition)
        if options is None:
            continue
        cases = [{**case, **option} for case in cases for option in options]
    return cases


def _options(condition: Any) -> list[dict[Any, Any]] | None:
    if not isinstance(condition, sp.core.relational.Relational):
        return None
    lhs, rhs = condition.lhs, condition.rhs
    if isinstance(condition, sp.Ne):
        target, other = (lhs, rhs) if isinstance(lhs, sp.Symbol) else (rhs, lhs)
        if not isinstance(target, sp.Symbol):
            return None
        p = sp.Dummy("p", positive=True)
        return [{target: other + p}, {target: other - p}]
    strict = isinstance(condition, (sp.StrictGreaterThan, sp.StrictLessThan))
    p = sp.Dummy("p", positive=True) if strict else sp.Dummy("p", nonnegative=True)
    greater = isinstance(condition, (sp.GreaterThan, sp.StrictGreaterThan))
    if isinstance(lhs, sp.Symbol):
        return [{lhs: rhs + p if greater else rhs - p}]
    if isinstance(rhs, sp.Symbol):
        return [{rhs: lhs - p if greater else lhs + p}]
    return None


def _case_text(case: Mapping[Any, Any]) -> str:
    """``everywhere``, or the branch of the conditions the constant was found on."""
    if not case:
        return "everywhere"
    parts = []
    for symbol, value in case.items():
        for d in sorted(value.atoms(sp.Dummy), key=str):
            relation = "> 0" if d.is_positive else "≥ 0"
            parts.append(
                f"{symbol} = {sp.sstr(value.xreplace({d: sp.Symbol(d.name)}))}, {d.name} {relation}"
            )
    return "on the branch " + "; ".join(parts)


def _at(sizes: Mapping[Any, int]) -> str:
    return f" (sizes {_sizes_text([sizes])})" if sizes else ""


def _sizes_text(assignments: Sequence[Mapping[Any, int]]) -> str:
    texts = [", ".join(f"{k}={v}" for k, v in a.items()) for a in assignments if a]
    return "; ".join(texts)
