"""Checks for property claims, one function per predicate (a dispatch table)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import sympy as sp
import sympy.stats as stats

from symml import calculus
from symml.catalog.domains import nonnegative, positive
from symml.catalog.model import PREDICATES, Domain, Property, Status, SymbolSpec
from symml.engine import symbolic
from symml.engine.equality import Context, as_value, compare, condition_cases
from symml.engine.verdict import Verdict
from symml.errors import SymbolicTimeout
from symml.evaluate import numeric
from symml.evaluate.explicit import explicit, size_assignments
from symml.runtime import bounded

Check = Callable[[Any, Property, Context, Sequence[Any]], Verdict]


def _elements(value: Any) -> list[Any]:
    return list(value) if isinstance(value, sp.MatrixBase) else [value]


def _signs(expr: Any, ctx: Context) -> dict[str, bool | None]:
    try:
        return bounded.run_bounded(symbolic.sign_facts, expr, timeout=ctx.timeout, step="sign")
    except SymbolicTimeout:
        return {}


def check_range(subject: Any, claim: Property, ctx: Context, conditions: Sequence[Any]) -> Verdict:
    interval: Domain = claim.param("interval")
    sizes = size_assignments([subject])[0]
    values = []
    for instance in _index_instances(subject, ctx):
        values += _elements(as_value(explicit(instance, sizes)))
    proved = True
    for value in values:
        below = _signs(value - interval.lo, ctx) if interval.lo.is_finite else {"positive": True}
        above = _signs(interval.hi - value, ctx) if interval.hi.is_finite else {"positive": True}
        need = "positive"
        if not (
            below.get(need if interval.lo_open else "nonnegative")
            and above.get(need if interval.hi_open else "nonnegative")
        ):
            proved = False
            break
    if proved:
        return Verdict(
            Status.PROVED,
            "symbolic: sign of normal forms under the domains' assumptions",
            conditions=(),
        )
    inside_lo = (lambda v: v > interval.lo) if interval.lo_open else (lambda v: v >= interval.lo)
    inside_hi = (lambda v: v < interval.hi) if interval.hi_open else (lambda v: v <= interval.hi)
    return _sample_predicate(
        values,
        ctx,
        lambda vals: all(inside_lo(v) and inside_hi(v) for v in vals),
        f"value outside {interval.describe()}",
    )


def _index_instances(subject: Any, ctx: Context) -> list[Any]:
    """A formula with a free element index (softmax(z)ᵢ) at i = 1 and i = 2."""
    indices = [
        ctx.specs[str(s)].symbol
        for s in getattr(subject, "free_symbols", ())
        if str(s) in ctx.specs and ctx.specs[str(s)].kind == "index"
    ]
    instances = [subject]
    for index in indices:
        instances = [e.xreplace({index: k}) for e in instances for k in (1, 2)]
    return instances


def _sample_predicate(
    exprs: list[Any],
    ctx: Context,
    ok: Callable[[list[Any]], bool],
    failure: str,
    constraints: Sequence[Any] = (),
) -> Verdict:
    concrete = [numeric.concretize_functions(e, ctx.seed) for e in exprs]
    atoms = numeric.free_atoms(concrete)
    rng = random.Random(ctx.seed)
    agreed = 0
    for attempt in range(ctx.samples * 20):
        if agreed >= ctx.samples * 2:
            break
        point = {
            a: numeric.sample_value(numeric.domain_of(a, ctx.specs), rng, attempt % 3 == 0)
            for a in atoms
        }
        if any(numeric.holds_at(c, point) is not True for c in constraints):
            continue
        try:
            values = [numeric.evaluate(e, point) for e in concrete]
        except (ZeroDivisionError, ValueError, TypeError):
            continue
        if any(not v.is_number or v.has(sp.nan, sp.zoo) for v in values):
            continue
        if not ok(values):
            shown = {str(a): str(v) for a, v in point.items()}
            text = ", ".join(str(sp.N(v, 8)) for v in values)
            witness = numeric.Counterexample(shown, text, failure)
            return Verdict(
                Status.REFUTED,
                "numeric sampling",
                f"{failure}: {witness.describe()}",
                counterexample=witness,
            )
        agreed += 1
    return Verdict(Status.NUMERIC, f"numeric: held at {agreed} sampled points")


def check_sums_to(
    subject: Any, claim: Property, ctx: Context, conditions: Sequence[Any]
) -> Verdict:
    total = sp.Sum(subject, (claim.param("index"), claim.param("lower"), claim.param("upper")))
    return compare(total, claim.param("value"), ctx, conditions=conditions)


def _temperature_lemma(subject: Any, var: Any) -> bool:
    """Whether ``subject`` is exp(z_i/T)/Σ_j exp(z_j/T) and, for T > 0, its largest entry is
    non-increasing in T: with d_j = z_max − z_j ≥ 0 the largest entry is 1/Σ_j exp(−d_j/T),
    and each exponent −d_j/T has derivative d_j/T² ≥ 0."""
    numerator, denominator = sp.fraction(subject)
    own = sorted(numerator.atoms(sp.Indexed), key=sp.default_sort_key)
    sums = list(denominator.atoms(sp.Sum)) if isinstance(denominator, sp.Basic) else []
    if len(own) != 1 or len(sums) != 1 or numerator != sp.exp(own[0] / var):
        return False
    total = sums[0]
    ((index, _, _),) = total.limits
    if denominator != total or total.function != sp.exp(own[0].base[index] / var):
        return False
    d = sp.Dummy("d", nonnegative=True)
    positive_t = sp.Dummy("T", positive=True)
    return bool(calculus.scalar_derivative(-d / positive_t, positive_t).is_nonnegative)


def _check_temperature(sharper: bool) -> Check:
    def check(subject: Any, claim: Property, ctx: Context, conditions: Sequence[Any]) -> Verdict:
        var, pivot, index, upper = (claim.param(k) for k in ("var", "pivot", "index", "upper"))
        sizes = {upper: 3} if upper is not None else {}
        vector_e = [explicit(subject.xreplace({index: k}), sizes) for k in range(1, 4)]
        pivot_e = [e.xreplace({var: pivot}) for e in vector_e]
        side = (var < pivot) if sharper else (var > pivot)
        constraints = [side, *[c for c in conditions if not isinstance(c, str)]]

        def ok(values: list[Any]) -> bool:
            tempered, base = values[:3], values[3:]
            same_class = tempered.index(max(tempered)) == base.index(max(base))
            peak, base_peak = max(tempered), max(base)
            more = peak >= base_peak if sharper else peak <= base_peak
            return same_class and more

        sampled = _sample_predicate(
            vector_e + pivot_e,
            ctx,
            ok,
            "not "
            + ("sharper" if sharper else "smoother")
            + " (the top class changes or its probability moves the wrong way)",
            constraints,
        )
        if sampled.status is Status.REFUTED:
            return sampled
        condition_positive = any(_implies_positive(c, var) for c in constraints)
        if condition_positive and _temperature_lemma(subject, var):
            return Verdict(
                Status.PROVED,
                "symbolic: the largest probability is non-increasing in T "
                "for T > 0 (derivative of each exponent −d/T is d/T² ≥ 0); " + sampled.method,
            )
        return sampled

    return check


def _implies_positive(condition: Any, var: Any) -> bool:
    """``T > 0`` or ``T > 1`` (a lower bound ≥ 0 on ``var``)."""
    if isinstance(condition, (sp.StrictGreaterThan, sp.GreaterThan)) and condition.lhs == var:
        return (
            bool((condition.rhs >= 0) == sp.true)
            and isinstance(condition, sp.StrictGreaterThan)
            or bool((condition.rhs > 0) == sp.true)
        )
    if isinstance(condition, (sp.StrictLessThan, sp.LessThan)) and condition.rhs == var:
        return bool((condition.lhs >= 0) == sp.true)
    return False


def check_monotone(
    subject: Any, claim: Property, ctx: Context, conditions: Sequence[Any]
) -> Verdict:
    var = claim.param("var")
    decreasing = claim.param("direction", "decreasing") == "decreasing"
    interval: Domain | None = claim.param("interval")
    if not subject.has(sp.floor, sp.ceiling, sp.Piecewise):
        rate = calculus.scalar_derivative(subject, var)
        for case in _cases(conditions):
            facts = _signs(rate.xreplace(case), ctx)
            if not facts.get("nonpositive" if decreasing else "nonnegative"):
                break
        else:
            if interval is None:
                return Verdict(
                    Status.PROVED,
                    "symbolic: sign of the derivative under the "
                    "domains' assumptions and the conditions",
                )
    # Compare the value at var and at var + step for sampled positive steps.
    step = sp.Symbol(f"{var}_step", positive=True)
    shifted = subject.xreplace({var: var + step})
    step_spec = SymbolSpec(step.name, step, "scalar", positive)
    ctx2 = replace(ctx, specs={**ctx.specs, step.name: step_spec})
    constraints = [c for c in conditions if not isinstance(c, str)]
    if interval is not None:
        constraints += [var >= interval.lo, var + step <= interval.hi]

    def ok(values: list[Any]) -> bool:
        before, after = values
        return after <= before + 1e-25 if decreasing else after >= before - 1e-25

    return _sample_predicate(
        [subject, shifted], ctx2, ok, "increases" if decreasing else "decreases", constraints
    )


def _cases(conditions: Sequence[Any]) -> list[dict]:
    return condition_cases([c for c in conditions if not isinstance(c, str)])


def check_endpoint(
    subject: Any, claim: Property, ctx: Context, conditions: Sequence[Any]
) -> Verdict:
    value = subject.xreplace({claim.param("var"): claim.param("at")})
    return compare(value, claim.param("value"), ctx, conditions=conditions)


def check_continuous_at(
    subject: Any, claim: Property, ctx: Context, conditions: Sequence[Any]
) -> Verdict:
    var, at = claim.param("var"), claim.param("at")
    p = sp.Dummy("p", positive=True)
    try:
        left = sp.limit(subject.xreplace({var: at - p}), p, 0, "+")
        right = sp.limit(subject.xreplace({var: at + p}), p, 0, "+")
    except (NotImplementedError, ValueError) as exc:
        return Verdict(Status.INCONCLUSIVE, f"one-sided limits failed: {type(exc).__name__}")
    value = subject.xreplace({var: at})
    for side, limit in (("left", left), ("right", right)):
        verdict = compare(limit, value, ctx, conditions=conditions)
        if verdict.status is Status.REFUTED:
            return verdict.with_(
                method="one-sided limits, then " + verdict.method,
                detail=f"{side} limit {sp.sstr(limit)} ≠ value {sp.sstr(value)} at {var} = {at}; "
                + verdict.detail,
            )
        if verdict.status is not Status.PROVED:
            return verdict
    return Verdict(Status.PROVED, "symbolic: one-sided limits equal the value")


def check_bounded_derivative(
    subject: Any, claim: Property, ctx: Context, conditions: Sequence[Any]
) -> Verdict:
    rate = calculus.scalar_derivative(subject, claim.param("var"))
    bound = claim.param("bound")
    return _sample_predicate(
        [rate, bound],
        ctx,
        lambda v: abs(v[0]) <= v[1] + 1e-25,
        f"|derivative| exceeds {bound}",
        [c for c in conditions if not isinstance(c, str)],
    )


def _moment(subject: Any, which: Callable[[Any], Any], ctx: Context) -> Any:
    if not subject.atoms(stats.rv.RandomSymbol):
        return subject
    try:
        return bounded.run_bounded(which, subject, timeout=ctx.timeout, step="expectation")
    except SymbolicTimeout:
        return None


def _check_moment(name: str, which: Callable[[Any], Any]) -> Check:
    """Expectation or variance over the random symbols (sympy.stats), compared with the value."""

    def check(subject: Any, claim: Property, ctx: Context, conditions: Sequence[Any]) -> Verdict:
        moment = _moment(subject, which, ctx)
        if moment is None:
            return Verdict(Status.INCONCLUSIVE, f"{name} timed out")
        verdict = compare(moment, claim.param("value"), ctx, conditions=conditions)
        return verdict.with_(method=f"{name} by sympy.stats, then {verdict.method}")

    return check


def check_is_distribution(
    subject: Any, claim: Property, ctx: Context, conditions: Sequence[Any]
) -> Verdict:
    """Non-negative everywhere and summing to 1 over ``index``: both halves must hold."""
    signs = check_range(
        subject, replace(claim, params=(("interval", nonnegative),)), ctx, conditions
    )
    total = check_sums_to(
        subject, replace(claim, params=(*claim.params, ("value", sp.S.One))), ctx, conditions
    )
    halves = (("non-negative", signs), ("sums to 1", total))
    for name, verdict in halves:
        if verdict.status is not Status.PROVED:
            return verdict.with_(method=f"{name}: {verdict.method}")
    return Verdict(
        Status.PROVED,
        f"non-negative ({signs.method}) and sums to 1 ({total.method})",
        conditions=(),
    )


#: The check of each predicate of ``symml.catalog.model.PREDICATES`` (where their meanings are
#: written, so the catalog can validate its claims without importing this module).
CHECKS: dict[str, Check] = {
    "range": check_range,
    "sums_to": check_sums_to,
    "sharper_below": _check_temperature(sharper=True),
    "smoother_above": _check_temperature(sharper=False),
    "monotone": check_monotone,
    "endpoint": check_endpoint,
    "continuous_at": check_continuous_at,
    "bounded_derivative": check_bounded_derivative,
    "expectation": _check_moment("expectation", stats.E),
    "variance": _check_moment("variance", stats.variance),
    "is_distribution": check_is_distribution,
}
if CHECKS.keys() != PREDICATES.keys():  # a predicate the catalog accepts must have a check
    raise ImportError(
        "symml.engine.properties.CHECKS and symml.catalog.model.PREDICATES name different predicates: "
        f"{sorted(CHECKS.keys() ^ PREDICATES.keys())}; give each predicate both"
    )
