"""A claim in, a ``Verdict`` out: the public checking API and the catalog run."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sympy as sp

from symml.catalog.loader import Catalog, load_catalog
from symml.catalog.model import (
    Claim,
    Derivative,
    Domain,
    Formula,
    Identity,
    Matches,
    Notation,
    Property,
    Status,
    SymbolSpec,
    UpdateRule,
)
from symml.catalog.symbols import referenced
from symml.engine import algorithms, cache, derivative_check, frameworks
from symml.engine.equality import Context, compare
from symml.engine.properties import check_property
from symml.engine.verdict import Verdict
from symml.errors import SymbolicTimeout, SymmlError
from symml.runtime import bounded, guard

DEFAULT_TIMEOUT = 10.0
CLAIM_DEADLINE_FACTOR = 12  # a whole claim in a worker: a dozen symbolic steps' worth
GOOD = (Status.PROVED, Status.NUMERIC)
_WITHOUT = "; fails without the condition: "


# -- public API for expressions ------------------------------------------------------------
def check_derivative(
    expr: Any,
    wrt: Any,
    claimed: Any,
    *,
    domain: Mapping[Any, Domain] | None = None,
    conditions: Sequence[Any] | None = None,
    seed: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
) -> Verdict:
    """Is ``d expr / d wrt = claimed``? Scalars, indexed elements and matrix symbols.

    ``timeout`` is the call's deadline: its symbolic steps share ``timeout`` seconds and the
    whole call is stopped a few seconds later (``guard.grace``), as ``inconclusive``."""
    return _public(
        "check_derivative",
        [expr, wrt, claimed, *(conditions or ())],
        _derivative_job,
        (expr, wrt, claimed, domain, tuple(conditions or ()), seed, timeout),
        timeout,
    )


def check_identity(
    lhs: Any,
    rhs: Any,
    *,
    domain: Mapping[Any, Domain] | None = None,
    conditions: Sequence[Any] | None = None,
    seed: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
) -> Verdict:
    """Is ``lhs = rhs`` for every value in the domains (reals by default)?

    ``timeout`` is the call's deadline, as for ``check_derivative``."""
    return _public(
        "check_identity",
        [lhs, rhs, *(conditions or ())],
        _identity_job,
        (lhs, rhs, domain, tuple(conditions or ()), seed, timeout),
        timeout,
    )


def _derivative_job(
    expr: Any,
    wrt: Any,
    claimed: Any,
    domain: Mapping[Any, Domain] | None,
    conditions: Sequence[Any],
    seed: int,
    timeout: float,
) -> Verdict:
    ctx = Context(_specs_for([expr, claimed, wrt], domain), seed, timeout)
    return _settle(
        lambda c: derivative_check.check(expr, wrt, claimed, ctx, conditions=c), conditions
    )


def _identity_job(
    lhs: Any,
    rhs: Any,
    domain: Mapping[Any, Domain] | None,
    conditions: Sequence[Any],
    seed: int,
    timeout: float,
) -> Verdict:
    ctx = Context(_specs_for([lhs, rhs], domain), seed, timeout)
    return _settle(lambda c: derivative_check.identity(lhs, rhs, ctx, conditions=c), conditions)


def _public(
    name: str, inputs: Sequence[Any], job: Callable[..., Verdict], args: tuple, timeout: float
) -> Verdict:
    """A public check: inputs past the size limits refused in one line, then the job under
    one deadline (``bounded.run_with_deadline``); a call stopped at its deadline is
    ``inconclusive``, never a hang."""
    start = time.perf_counter()
    try:
        guard.refuse_oversized(inputs, name)
        limit = guard.grace(timeout)
        verdict = bounded.run_with_deadline(
            _timed, job, *args, timeout=timeout, grace=limit, step=name
        )
    except SymbolicTimeout as exc:
        verdict = Verdict(
            Status.INCONCLUSIVE,
            f"did not finish within {exc.seconds:g} s",
            f"{name} was stopped after {exc.seconds:g} s; raise timeout= to wait longer",
        )
    except SymmlError as exc:
        verdict = Verdict(Status.ERROR, "engine", str(exc))
    return verdict.with_(seconds=time.perf_counter() - start)


def _specs_for(exprs: Sequence[Any], domain: Mapping[Any, Domain] | None) -> dict[str, SymbolSpec]:
    specs: dict[str, SymbolSpec] = {}
    given = {str(k): v for k, v in (domain or {}).items()}
    for used in referenced(list(exprs)):
        name = str(used.name if hasattr(used, "name") else used)
        if name in given:
            specs[name] = SymbolSpec(name, used, "scalar", given[name])
        elif isinstance(used, sp.Symbol) and used.is_positive:
            specs[name] = SymbolSpec(name, used, "scalar", Domain("positive", 0, sp.oo))
        elif isinstance(used, sp.Symbol) and used.is_nonnegative:
            specs[name] = SymbolSpec(
                name, used, "scalar", Domain("nonnegative", 0, sp.oo, lo_open=False)
            )
    return specs


def _timed(job: Callable[..., Verdict], *args: Any) -> Verdict:
    start = time.perf_counter()
    try:
        verdict = job(*args)
    except SymmlError as exc:
        verdict = Verdict(Status.ERROR, "engine", str(exc))
    return verdict.with_(seconds=time.perf_counter() - start)


def _settle(
    check: Callable[[Sequence[Any]], Verdict],
    conditions: Sequence[Any],
    assumptions: Sequence[Any] = (),
) -> Verdict:
    """Checked both ways: without the conditions (a witness that they are needed) and with.
    ``assumptions`` (the formula's standing relations) hold in both."""
    plain = check(tuple(assumptions))
    # A claim found conditional on its own (a kink) is then checked under the stated
    # conditions: the verdict names the caller's conditions when they suffice.
    if not conditions or plain.status not in (Status.REFUTED, Status.CONDITIONAL):
        if conditions and plain.status in GOOD:
            return plain.with_(notes=plain.notes + ("holds without the stated conditions",))
        return plain
    held = check((*assumptions, *conditions))
    text = tuple(_condition_text(c) for c in conditions)
    if held.status in GOOD:
        return Verdict(
            Status.CONDITIONAL,
            f"{held.method}; fails without the condition: {plain.method.split(_WITHOUT)[-1]}",
            f"fails without {', '.join(text)}: {plain.detail}",
            counterexample=plain.counterexample,
            conditions=text,
            notes=plain.notes + held.notes,
        )
    return held.with_(
        detail=f"fails even when {', '.join(text)}: {held.detail}",
        conditions=text + tuple(c for c in held.conditions if c not in text),
    )


def _condition_text(condition: Any) -> str:
    return condition if isinstance(condition, str) else sp.sstr(condition)


# -- catalog claims -----------------------------------------------------------------------------
def check_claim(
    formula: Formula, claim: Claim, *, seed: int = 0, timeout: float = DEFAULT_TIMEOUT
) -> Verdict:
    """The verdict on one claim of a catalog entry."""
    ctx = Context({s.name: s for s in formula.symbols}, seed, timeout)
    start = time.perf_counter()
    try:
        verdict = _dispatch(formula, claim, ctx)
    except SymmlError as exc:
        verdict = Verdict(Status.ERROR, "engine", str(exc))
    except Exception as exc:  # a SymPy failure deep inside is reported, never a traceback
        verdict = Verdict(Status.ERROR, "engine", f"{type(exc).__name__}: {str(exc)[:200]}")
    return verdict.with_(
        claim=_claim_label(formula, claim),
        sheet=claim.sheet,
        kind=claim.kind.value,
        expected=claim.expected,
        seconds=time.perf_counter() - start,
    )


def _dispatch(formula: Formula, claim: Claim, ctx: Context) -> Verdict:
    if isinstance(claim, Matches):
        return frameworks.check(formula, claim, ctx.seed)
    if isinstance(claim, Notation):
        return _check_readings_agree(formula, claim, ctx)
    if claim.readings:
        return _check_each_reading(formula, claim, ctx)
    return _check_statement(formula, claim, ctx, None)


def _check_statement(formula: Formula, claim: Claim, ctx: Context, replacement: Any) -> Verdict:
    if isinstance(claim, Derivative):
        of = claim.of if claim.of is not None else formula.expr
        claimed = replacement if replacement is not None else claim.claimed
        return _settle(
            lambda c: derivative_check.check(
                of, claim.wrt, claimed, ctx, conditions=c, where=claim.where
            ),
            claim.conditions,
        )
    if isinstance(claim, Identity):
        rhs = replacement if replacement is not None else claim.rhs
        return _settle(
            lambda c: derivative_check.identity(claim.lhs, rhs, ctx, conditions=c),
            claim.conditions,
            formula.assumptions,
        )
    if isinstance(claim, Property):
        subject = (
            replacement
            if replacement is not None
            else (claim.subject if claim.subject is not None else formula.expr)
        )
        return _settle(
            lambda c: check_property(subject, claim, ctx, c),
            claim.conditions,
            formula.assumptions,
        )
    if isinstance(claim, UpdateRule):
        return check_update_rule(claim, ctx)
    raise SymmlError(f"no checker for claim kind {claim.kind}")


def _check_each_reading(formula: Formula, claim: Claim, ctx: Context) -> Verdict:
    results = [(r, _check_statement(formula, claim, ctx, r.expr)) for r in claim.readings]
    statuses = {v.status for _, v in results}
    rows = tuple((r.name, v.status.value, v.detail or v.method) for r, v in results)
    if len(statuses) == 1:
        only = results[0][1]
        return only.with_(readings=rows)
    good = [r.name for r, v in results if v.status in GOOD]
    bad = [(r.name, v) for r, v in results if v.status not in GOOD]
    detail = f"true when read as {', '.join(good)}; " + "; ".join(
        f"read as {name}: {v.status.value} ({v.detail or v.method})" for name, v in bad
    )
    witness = next((v.counterexample for _, v in bad if v.counterexample), None)
    return Verdict(
        Status.AMBIGUOUS,
        "each reading checked separately",
        detail,
        counterexample=witness,
        readings=rows,
    )


def _check_readings_agree(formula: Formula, claim: Notation, ctx: Context) -> Verdict:
    """Different numbers from different readings of the same notation: ambiguous."""
    first = claim.readings[0]
    for other in claim.readings[1:]:
        left, right = _comparable(first.expr), _comparable(other.expr)
        verdict = compare(left, right, ctx)
        if verdict.status is Status.REFUTED:
            witness = verdict.counterexample
            example = witness.describe() if witness else verdict.detail
            return Verdict(
                Status.AMBIGUOUS,
                "readings evaluated at the same point",
                f"'{first.name}' vs '{other.name}' differ {example}",
                counterexample=witness,
                readings=tuple((r.name, _mark(r.correct), r.note) for r in claim.readings),
            )
        if verdict.status not in GOOD:
            return verdict
    return Verdict(Status.PROVED, "the readings agree: " + verdict.method)


def _mark(correct: bool | None) -> str:
    return {True: "correct", False: "wrong", None: "in use"}[correct]


def _comparable(expr: Any) -> Any:
    """A random quantity is compared by its mean and variance (a distribution's numbers)."""
    import sympy.stats as stats

    if isinstance(expr, sp.Basic) and expr.atoms(stats.rv.RandomSymbol):
        return sp.Matrix([stats.E(expr), stats.variance(expr)])
    return expr


def check_update_rule(claim: UpdateRule, ctx: Context) -> Verdict:
    """One step of the claimed algorithm against the references of ``symml.engine.algorithms``."""
    variants = algorithms.REFERENCES.get(claim.algorithm)
    if variants is None:
        raise SymmlError(f"no reference for algorithm '{claim.algorithm}'")
    claimed = algorithms.run(claim.assignments)
    by_name = {spec.name: spec.symbol for spec in ctx.specs.values()}

    def symbol(name: str) -> Any:
        if name not in by_name:
            raise SymmlError(f"the {claim.algorithm} reference needs a symbol '{name}'")
        return by_name[name]

    return one_step_against(
        claimed, ((variant, dict(variant.steps(symbol))) for variant in variants), ctx
    )


def one_step_against(
    claimed: Mapping[Any, Any],
    references: Iterable[tuple[Any, Mapping[Any, Any]]],
    ctx: Context,
    notes: tuple[str, ...] = (),
) -> Verdict:
    """One step of an update rule (state name → value after the step) against each
    ``(variant, its step)`` in turn: the first variant that agrees, with ``notes`` and the
    variant's convention, else the first difference. ``symml verify`` and ``symml check``
    both judge update rules here."""
    first_failure: Verdict | None = None
    for variant, reference in references:
        shared = [k for k in reference if k in claimed]
        lhs = sp.Matrix([claimed[k] for k in shared])
        rhs = sp.Matrix([reference[k] for k in shared])
        verdict = compare(lhs, rhs, ctx)
        if verdict.status in GOOD:
            convention = (
                (f"differs from the framework in convention: {variant.convention}",)
                if variant.convention
                else ()
            )
            return verdict.with_(
                method=f"one step against {variant.name}: {verdict.method}",
                notes=verdict.notes + notes + convention,
            )
        first_failure = first_failure or verdict.with_(
            method=f"one step against {variant.name}: {verdict.method}",
            detail=f"state ({', '.join(shared)}) after one step differs: {verdict.detail}",
        )
    assert first_failure is not None
    return first_failure


def verify(
    ids: Iterable[str] | None = None,
    *,
    catalog: Catalog | None = None,
    part: int | None = None,
    seed: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int = 2,
    progress: Callable[[int, int, Verdict], None] | None = None,
    use_cache: bool = False,
    processes: bool = True,
    against: Iterable[str] = (),
) -> list[Verdict]:
    """Verdicts for every claim of the given formulas (default: the whole catalog).

    ``matches`` claims run only for the frameworks named in ``against`` (jax, optax,
    torch), in this process so a framework is imported once; a framework that is not
    installed gives its claims an ``inconclusive`` verdict that says so and expects nothing.

    With ``use_cache``, verdicts of unchanged claims come from the proof cache
    (``symml.engine.cache``) and new ones are added to it. With ``processes`` (the default) each
    claim runs in a worker process, so ``workers`` claims are checked at once on separate
    cores; otherwise in threads of this process, where SymPy's share of the work is serial.
    """
    catalog = catalog or load_catalog()
    if ids:
        formulas = [catalog.get(i) for i in ids]
    elif part is not None:
        formulas = list(catalog.part(part))
    else:
        formulas = list(catalog)
    chosen = set(against)
    jobs = [
        (f, c)
        for f in formulas
        for c in f.claims
        if not isinstance(c, Matches) or c.framework in chosen
    ]
    done = 0
    lock = threading.Lock()
    stored = cache.load() if use_cache else {}
    fresh: dict[str, dict[str, Any]] = {}

    def run(job: tuple[Formula, Claim]) -> Verdict:
        nonlocal done
        formula, claim = job
        in_process = isinstance(claim, Matches)  # a framework is imported once, here
        key = _cache_key(formula, claim, seed, timeout) if use_cache else ""
        if key in stored:
            verdict = cache.revive(stored[key]).with_(expected=claim.expected)
        else:
            if in_process:
                verdict = check_claim(formula, claim, seed=seed, timeout=timeout)
                if frameworks.unavailable(claim.framework):
                    verdict = verdict.with_(expected=None)
            elif processes:
                verdict = _check_in_worker(formula, claim, seed, timeout)
            else:
                verdict = check_claim(formula, claim, seed=seed, timeout=timeout)
            if key and verdict.status not in (Status.ERROR, Status.INCONCLUSIVE):
                fresh[key] = verdict.to_json()
        with lock:
            done += 1
            if progress:
                progress(done, len(jobs), verdict)
        return verdict

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        verdicts = list(pool.map(run, jobs))
    if use_cache:
        cache.store(fresh)
    return verdicts


def _cache_key(formula: Formula, claim: Claim, seed: int, timeout: float) -> str:
    """The proof-cache key; a ``matches`` verdict also depends on the framework's installed
    version (and is not cached when the framework is missing: installing it changes it)."""
    base = cache.key(formula, claim, seed, timeout)
    if not isinstance(claim, Matches):
        return base
    if frameworks.unavailable(claim.framework):
        return ""
    return f"{base}:{claim.framework}:{frameworks.fingerprint(claim.framework)}"


def _claim_label(formula: Formula, claim: Claim) -> str:
    """``id#n`` for the n-th claim of the formula; ``id#user`` for a claim made up by the caller."""
    number = next((k for k, c in enumerate(formula.claims, 1) if c == claim), 0)
    return f"{formula.id}#{number}" if number else f"{formula.id}#user"


def _claim_job(formula: Formula, claim: Claim, seed: int, timeout: float) -> Verdict:
    return check_claim(formula, claim, seed=seed, timeout=timeout)


def _check_in_worker(formula: Formula, claim: Claim, seed: int, timeout: float) -> Verdict:
    """One whole claim in a worker process, so claims use every core (SymPy holds the GIL).

    The whole claim is bounded too (steps such as ``solve`` or ``limit`` have no deadline of
    their own): past ``CLAIM_DEADLINE_FACTOR × timeout`` the worker is killed and the verdict
    is ``inconclusive``. If the worker itself fails (it could not start, it crashed), the
    claim is checked here instead.
    """
    deadline = CLAIM_DEADLINE_FACTOR * timeout
    try:
        return bounded.run_bounded(
            _claim_job, formula, claim, seed, timeout, timeout=deadline, step="claim"
        )
    except SymbolicTimeout:
        return Verdict(
            Status.INCONCLUSIVE,
            f"did not finish within {deadline:g} s",
            f"the check was stopped after {deadline:g} s; raise --timeout to wait longer",
            claim=_claim_label(formula, claim),
            sheet=claim.sheet,
            kind=claim.kind.value,
            expected=claim.expected,
            seconds=deadline,
        )
    except Exception:
        return check_claim(formula, claim, seed=seed, timeout=timeout)


def print_progress(done: int, total: int, verdict: Verdict) -> None:
    sys.stderr.write(f"\r[{done}/{total}] {verdict.claim:<40.40}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()
