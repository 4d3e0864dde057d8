"""Property predicates: each is one decorated function.

The function's name is the predicate's name (a trailing ``_`` dropped, as in ``range_``),
the first line of its docstring is what the predicate means, its keyword parameters are the
parameters a ``Property`` claim gives it, and its body is its check. The body is written
against a ``Prover``: the engine's primitives (compare two expressions, the signs of an
expression, a sampled test, a derivative, a one-sided limit, a moment), handed in when a
claim is checked. So the catalog validates a claim's predicate and its parameters when it
loads, without importing the engine, and a new predicate is one function here.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sympy as sp

from symml.catalog.domains import nonnegative, positive
from symml.catalog.model import Domain, Status


class Outcome(Protocol):
    """What a check returns: the engine's verdict, seen through the fields a predicate uses."""

    @property
    def status(self) -> Status: ...

    @property
    def method(self) -> str: ...

    def with_(self, **changes: Any) -> Outcome: ...


class Prover(Protocol):
    """The engine's primitives, bound to one claim's context and conditions."""

    @property
    def relations(self) -> tuple[Any, ...]:
        """The claim's conditions that are relations (``T > 0``), without its words."""
        ...

    def verdict(self, status: Status, method: str, detail: str = "") -> Outcome:
        """A verdict reached by the predicate's own argument."""
        ...

    def compare(self, lhs: Any, rhs: Any) -> Outcome:
        """Whether ``lhs = rhs`` under the domains and all the claim's conditions."""
        ...

    def signs(self, expr: Any) -> Mapping[str, bool | None]:
        """Sign facts of ``expr`` ({"positive": True, …}), empty when the step timed out."""
        ...

    def condition_cases(self) -> list[dict[Any, Any]]:
        """Substitutions, one per case the relational conditions split into."""
        ...

    def element_values(self, subject: Any) -> list[Any]:
        """The entries of ``subject`` at concrete sizes, at each value of its free indices."""
        ...

    def explicit(self, expr: Any, sizes: Mapping[Any, int]) -> Any:
        """``expr`` with its sums and matrices written out at the given sizes."""
        ...

    def derivative(self, expr: Any, var: Any) -> Any:
        """d ``expr`` / d ``var`` (the calculus layer's one derivative)."""
        ...

    def one_sided_limit(self, expr: Any, var: Any, at: Any, side: str) -> Any:
        """The limit of ``expr`` as ``var`` → ``at`` from ``side`` ("left"/"right"), under a
        deadline; raises ``ValueError`` when SymPy cannot find it."""
        ...

    def moment(self, kind: str, expr: Any) -> Any:
        """``kind`` ("expectation" or "variance") of ``expr`` over its random symbols; None
        when the step timed out."""
        ...

    def sample(
        self,
        exprs: Sequence[Any],
        ok: Callable[[list[Any]], bool],
        failure: str,
        constraints: Sequence[Any] = (),
        extra_domains: Mapping[Any, Domain] | None = None,
    ) -> Outcome:
        """``ok(values of exprs)`` at sampled points that satisfy ``constraints``: refuted with
        the point where it fails (described as ``failure``), else numeric agreement."""
        ...


Check = Callable[..., Outcome]


@dataclass(frozen=True)
class Predicate:
    """A registered predicate: its name, meaning, parameters and check."""

    name: str
    meaning: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    check: Check

    def parameter_problem(self, given: Sequence[str]) -> str | None:
        """Why a claim's parameter names do not fit this predicate (None when they do)."""
        known = (*self.required, *self.optional)
        for name in given:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"it takes {_listed(known)}"
                return f"predicate '{self.name}' has no parameter '{name}'; {hint}"
        missing = [name for name in self.required if name not in given]
        if missing:
            return f"predicate '{self.name}' needs {_listed(missing)}"
        return None

    def __call__(self, prover: Prover, subject: Any, params: Mapping[str, Any]) -> Outcome:
        return self.check(prover, subject, **params)


def _listed(names: Sequence[str]) -> str:
    return ", ".join(f"'{n}'" for n in names) if names else "no parameters"


#: Every predicate a ``Property`` claim can name, by name.
PREDICATES: dict[str, Predicate] = {}


def predicate(check: Check) -> Check:
    """Register ``check`` as a predicate (see the module docstring for what it declares)."""
    name = check.__name__.removesuffix("_")
    if name in PREDICATES:
        raise ValueError(f"predicate '{name}' is defined twice")
    meaning = (inspect.getdoc(check) or "").split("\n", 1)[0]
    if not meaning:
        raise ValueError(f"predicate '{name}' needs a docstring: its first line is its meaning")
    parameters = list(inspect.signature(check).parameters.values())[2:]
    if any(p.kind is not inspect.Parameter.KEYWORD_ONLY for p in parameters):
        raise ValueError(f"predicate '{name}': parameters after (prover, subject) are keyword-only")
    PREDICATES[name] = Predicate(
        name,
        meaning,
        tuple(p.name for p in parameters if p.default is inspect.Parameter.empty),
        tuple(p.name for p in parameters if p.default is not inspect.Parameter.empty),
        check,
    )
    return check


def unknown_predicate(name: str) -> str:
    """The one-line problem with a predicate name nobody registered."""
    close = difflib.get_close_matches(name, list(PREDICATES), n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(PREDICATES)}"
    return f"unknown predicate '{name}'; {hint}"


@predicate
def range_(p: Prover, subject: Any, *, interval: Domain) -> Outcome:
    """the value lies in `interval` for every input in the domains"""
    values = p.element_values(subject)
    for value in values:
        below = p.signs(value - interval.lo) if interval.lo.is_finite else {"positive": True}
        above = p.signs(interval.hi - value) if interval.hi.is_finite else {"positive": True}
        if not (
            below.get("positive" if interval.lo_open else "nonnegative")
            and above.get("positive" if interval.hi_open else "nonnegative")
        ):
            break
    else:
        return p.verdict(
            Status.PROVED, "symbolic: sign of normal forms under the domains' assumptions"
        )

    def inside(v: Any) -> bool:
        above_lo = v > interval.lo if interval.lo_open else v >= interval.lo
        below_hi = v < interval.hi if interval.hi_open else v <= interval.hi
        return bool(above_lo and below_hi)

    return p.sample(
        values,
        lambda vals: all(inside(v) for v in vals),
        f"value outside {interval.describe()}",
    )


@predicate
def sums_to(p: Prover, subject: Any, *, index: Any, lower: Any, upper: Any, value: Any) -> Outcome:
    """summing the value over `index` from `lower` to `upper` gives `value`"""
    return p.compare(sp.Sum(subject, (index, lower, upper)), value)


@predicate
def is_distribution(p: Prover, subject: Any, *, index: Any, lower: Any, upper: Any) -> Outcome:
    """the value is a probability distribution over `index`: non-negative, summing to 1"""
    signs = range_(p, subject, interval=nonnegative)
    total = sums_to(p, subject, index=index, lower=lower, upper=upper, value=sp.S.One)
    for name, outcome in (("non-negative", signs), ("sums to 1", total)):
        if outcome.status is not Status.PROVED:
            return outcome.with_(method=f"{name}: {outcome.method}")
    return p.verdict(Status.PROVED, f"non-negative ({signs.method}) and sums to 1 ({total.method})")


@predicate
def monotone(
    p: Prover,
    subject: Any,
    *,
    var: Any,
    direction: str = "decreasing",
    interval: Domain | None = None,
) -> Outcome:
    """the value is non-increasing (`direction`='decreasing') or non-decreasing in `var`"""
    decreasing = direction == "decreasing"
    if not subject.has(sp.floor, sp.ceiling, sp.Piecewise) and interval is None:
        rate = p.derivative(subject, var)
        wanted = "nonpositive" if decreasing else "nonnegative"
        if all(p.signs(rate.xreplace(case)).get(wanted) for case in p.condition_cases()):
            return p.verdict(
                Status.PROVED,
                "symbolic: sign of the derivative under the domains' assumptions and the "
                "conditions",
            )
    # Compare the value at var and at var + step for sampled positive steps.
    step = sp.Symbol(f"{var}_step", positive=True)
    constraints = list(p.relations)
    if interval is not None:
        constraints += [var >= interval.lo, var + step <= interval.hi]

    def ok(values: list[Any]) -> bool:
        before, after = values
        return after <= before + 1e-25 if decreasing else after >= before - 1e-25

    return p.sample(
        [subject, subject.xreplace({var: var + step})],
        ok,
        "increases" if decreasing else "decreases",
        constraints,
        extra_domains={step: positive},
    )


@predicate
def endpoint(p: Prover, subject: Any, *, var: Any, at: Any, value: Any) -> Outcome:
    """at `var` = `at` the value equals `value`"""
    return p.compare(subject.xreplace({var: at}), value)


@predicate
def continuous_at(p: Prover, subject: Any, *, var: Any, at: Any) -> Outcome:
    """the value is continuous in `var` at `at`"""
    try:
        limits = {side: p.one_sided_limit(subject, var, at, side) for side in ("left", "right")}
    except ValueError as exc:
        return p.verdict(Status.INCONCLUSIVE, f"one-sided limits failed: {exc}")
    value = subject.xreplace({var: at})
    for side, limit in limits.items():
        outcome = p.compare(limit, value)
        if outcome.status is Status.REFUTED:
            return outcome.with_(
                method="one-sided limits, then " + outcome.method,
                detail=f"{side} limit {sp.sstr(limit)} ≠ value {sp.sstr(value)} at {var} = {at}; "
                + outcome.detail,
            )
        if outcome.status is not Status.PROVED:
            return outcome
    return p.verdict(Status.PROVED, "symbolic: one-sided limits equal the value")


@predicate
def bounded_derivative(p: Prover, subject: Any, *, var: Any, bound: Any) -> Outcome:
    """|d value / d `var`| <= `bound`"""
    return p.sample(
        [p.derivative(subject, var), bound],
        lambda v: abs(v[0]) <= v[1] + 1e-25,
        f"|derivative| exceeds {bound}",
        p.relations,
    )


def _moment_equals(p: Prover, kind: str, subject: Any, value: Any) -> Outcome:
    moment = p.moment(kind, subject)
    if moment is None:
        return p.verdict(Status.INCONCLUSIVE, f"{kind} timed out")
    outcome = p.compare(moment, value)
    return outcome.with_(method=f"{kind} by sympy.stats, then {outcome.method}")


@predicate
def expectation(p: Prover, subject: Any, *, value: Any) -> Outcome:
    """the expectation over the random symbols equals `value`"""
    return _moment_equals(p, "expectation", subject, value)


@predicate
def variance(p: Prover, subject: Any, *, value: Any) -> Outcome:
    """the variance over the random symbols equals `value`"""
    return _moment_equals(p, "variance", subject, value)


def _temperature_lemma(p: Prover, subject: Any, var: Any) -> bool:
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
    return bool(p.derivative(-d / positive_t, positive_t).is_nonnegative)


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


def _temperature_order(
    p: Prover, subject: Any, var: Any, pivot: Any, index: Any, upper: Any, *, sharper: bool
) -> Outcome:
    """The top class stays, and its probability moves the right way, on the claimed side of
    ``pivot``; proved for T > 0 by the lemma above."""
    sizes = {upper: 3} if upper is not None else {}
    vector = [p.explicit(subject.xreplace({index: k}), sizes) for k in range(1, 4)]
    at_pivot = [e.xreplace({var: pivot}) for e in vector]
    constraints = [(var < pivot) if sharper else (var > pivot), *p.relations]

    def ok(values: list[Any]) -> bool:
        tempered, base = values[:3], values[3:]
        same_class = tempered.index(max(tempered)) == base.index(max(base))
        peak, base_peak = max(tempered), max(base)
        more = peak >= base_peak if sharper else peak <= base_peak
        return same_class and more

    word = "sharper" if sharper else "smoother"
    sampled = p.sample(
        vector + at_pivot,
        ok,
        f"not {word} (the top class changes or its probability moves the wrong way)",
        constraints,
    )
    if sampled.status is Status.REFUTED:
        return sampled
    if any(_implies_positive(c, var) for c in constraints) and _temperature_lemma(p, subject, var):
        return p.verdict(
            Status.PROVED,
            "symbolic: the largest probability is non-increasing in T for T > 0 (derivative "
            "of each exponent −d/T is d/T² ≥ 0); " + sampled.method,
        )
    return sampled


@predicate
def sharper_below(
    p: Prover, subject: Any, *, var: Any, pivot: Any, index: Any, upper: Any = None
) -> Outcome:
    """as `var` decreases below `pivot`, the distribution becomes more peaked"""
    return _temperature_order(p, subject, var, pivot, index, upper, sharper=True)


@predicate
def smoother_above(
    p: Prover, subject: Any, *, var: Any, pivot: Any, index: Any, upper: Any = None
) -> Outcome:
    """as `var` increases above `pivot`, the distribution becomes flatter"""
    return _temperature_order(p, subject, var, pivot, index, upper, sharper=False)
