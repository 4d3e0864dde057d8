"""Property claims: the engine's ``Prover``, handed to the predicate a claim names.

Each predicate is one function of ``symml.catalog.predicates``; this module gives it the
engine's primitives (comparison, sign facts, sampling, derivatives, limits, moments) bound
to the claim's context and conditions, each symbolic step under the claim's deadline.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sympy as sp

from symml import calculus
from symml.catalog.model import Domain, Property, Status, SymbolSpec
from symml.catalog.predicates import PREDICATES, unknown_predicate
from symml.engine import symbolic
from symml.engine.equality import Context, as_value, compare, condition_cases
from symml.engine.verdict import Verdict
from symml.errors import SymbolicTimeout, SymmlError
from symml.evaluate import numeric
from symml.evaluate.explicit import explicit, size_assignments
from symml.runtime import bounded


def check_property(
    subject: Any, claim: Property, ctx: Context, conditions: Sequence[Any]
) -> Verdict:
    """The verdict of the predicate ``claim`` names on ``subject``."""
    definition = PREDICATES.get(claim.predicate)
    if definition is None:
        raise SymmlError(unknown_predicate(claim.predicate))
    problem = definition.parameter_problem([name for name, _ in claim.params])
    if problem is not None:  # a claim built in Python, which no catalog load has validated
        raise SymmlError(problem)
    outcome = definition(EngineProver(ctx, tuple(conditions)), subject, dict(claim.params))
    assert isinstance(outcome, Verdict)  # every outcome comes from EngineProver
    return outcome


@dataclass(frozen=True)
class EngineProver:
    """``symml.catalog.predicates.Prover`` for one claim: its context and its conditions
    (relations such as ``T > 0``, and conditions stated in words)."""

    ctx: Context
    conditions: tuple[Any, ...]

    @property
    def relations(self) -> tuple[Any, ...]:
        return tuple(c for c in self.conditions if not isinstance(c, str))

    def verdict(self, status: Status, method: str, detail: str = "") -> Verdict:
        return Verdict(status, method, detail)

    def compare(self, lhs: Any, rhs: Any) -> Verdict:
        return compare(lhs, rhs, self.ctx, conditions=self.conditions)

    def signs(self, expr: Any) -> Mapping[str, bool | None]:
        try:
            return bounded.run_bounded(
                symbolic.sign_facts, expr, timeout=self.ctx.timeout, step="sign"
            )
        except SymbolicTimeout:
            return {}

    def condition_cases(self) -> list[dict[Any, Any]]:
        return condition_cases(self.relations)

    def element_values(self, subject: Any) -> list[Any]:
        sizes = size_assignments([subject])[0]
        values: list[Any] = []
        for instance in self._index_instances(subject):
            value = as_value(explicit(instance, sizes))
            values += list(value) if isinstance(value, sp.MatrixBase) else [value]
        return values

    def _index_instances(self, subject: Any) -> list[Any]:
        """A formula with a free element index (softmax(z)ᵢ) at i = 1 and i = 2."""
        specs = self.ctx.specs
        indices = [
            specs[str(s)].symbol
            for s in getattr(subject, "free_symbols", ())
            if str(s) in specs and specs[str(s)].kind == "index"
        ]
        instances = [subject]
        for index in indices:
            instances = [e.xreplace({index: k}) for e in instances for k in (1, 2)]
        return instances

    def explicit(self, expr: Any, sizes: Mapping[Any, int]) -> Any:
        return explicit(expr, dict(sizes))

    def derivative(self, expr: Any, var: Any) -> Any:
        return calculus.scalar_derivative(expr, var)

    def one_sided_limit(self, expr: Any, var: Any, at: Any, side: str) -> Any:
        p = sp.Dummy("p", positive=True)
        approach = expr.xreplace({var: at - p if side == "left" else at + p})
        try:
            return bounded.run_bounded(
                sp.limit, approach, p, 0, "+", timeout=self.ctx.timeout, step="limit"
            )
        except (NotImplementedError, ValueError) as exc:
            raise ValueError(type(exc).__name__) from None
        except SymbolicTimeout:
            raise ValueError(f"timed out after {self.ctx.timeout:g} s") from None

    def moment(self, kind: str, expr: Any) -> Any:
        import sympy.stats as stats  # deferred: sympy.stats takes 0.2 s and few claims need it

        if not expr.atoms(stats.rv.RandomSymbol):
            return expr
        which: Callable[[Any], Any] = stats.E if kind == "expectation" else stats.variance
        try:
            return bounded.run_bounded(which, expr, timeout=self.ctx.timeout, step=kind)
        except SymbolicTimeout:
            return None

    def sample(
        self,
        exprs: Sequence[Any],
        ok: Callable[[list[Any]], bool],
        failure: str,
        constraints: Sequence[Any] = (),
        extra_domains: Mapping[Any, Domain] | None = None,
    ) -> Verdict:
        specs = dict(self.ctx.specs)
        for symbol, domain in (extra_domains or {}).items():
            specs[symbol.name] = SymbolSpec(symbol.name, symbol, "scalar", domain)
        ctx = replace(self.ctx, specs=specs)
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
