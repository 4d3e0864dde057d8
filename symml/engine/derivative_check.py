"""Checking a derivative claim: kinks located first, then the true derivative (at concrete
sizes for tensors) compared with the claim."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import mpmath
import sympy as sp

from symml import calculus
from symml.catalog.model import Status, SymbolSpec
from symml.catalog.primitives import elementary, leaky_relu, relu
from symml.engine.equality import Context, as_value, compare
from symml.engine.verdict import Verdict
from symml.errors import SymbolicTimeout, SymmlError
from symml.evaluate import enclosure, numeric
from symml.evaluate.explicit import elements, explicit, size_assignments
from symml.runtime import bounded


def true_and_claimed(
    of: Any,
    wrt: Any,
    claimed: Any,
    specs: Mapping[str, SymbolSpec],
    where: Sequence[tuple[Any, Any]],
    sizes: Mapping[Any, int],
    seed: int | None = None,
) -> tuple[Any, Any]:
    """The derivative computed elementwise and the claim, both explicit at ``sizes``.

    With a ``seed``, unknown functions are replaced by fixed test functions *before*
    differentiating: the cheap concrete pair the numeric cross-check evaluates.
    """

    def concrete(e: Any) -> Any:
        return e if seed is None else numeric.concretize_functions(e, seed)

    if isinstance(wrt, sp.Indexed):
        index_values = {
            i: min(2, *(v for v in sizes.values())) if sizes else 1
            for i in wrt.indices
            if isinstance(i, sp.Symbol)
        }
        wrt = wrt.xreplace(index_values)
        claimed = claimed.xreplace(index_values)
        of = of.xreplace(index_values)
        of_e = concrete(explicit(of, sizes))
        wrt_e = wrt.xreplace(dict(sizes))
        return calculus.scalar_derivative(of_e, wrt_e), concrete(as_value(explicit(claimed, sizes)))
    of_e = concrete(as_value(explicit(of, sizes)))
    claimed_e = as_value(explicit(claimed, sizes))
    if isinstance(wrt, sp.MatrixSymbol):
        wrt_e = elements(wrt, sizes)
        if isinstance(of_e, sp.MatrixBase):
            true = calculus.elementwise_jacobian(of_e, wrt_e)
        else:
            true = calculus.elementwise_gradient(of_e, wrt_e)
    else:
        true = calculus.scalar_derivative(of_e, wrt)
    claimed_e = _expand_upstream(claimed, claimed_e, specs, where, sizes, concrete)
    return true, concrete(as_value(claimed_e))


def _expand_upstream(
    claimed: Any,
    claimed_e: Any,
    specs: Mapping[str, SymbolSpec],
    where: Sequence[tuple[Any, Any]],
    sizes: Mapping[Any, int],
    concrete: Any,
) -> Any:
    """Replace upstream-gradient symbols (∂L/∂z) by the gradient they stand for, evaluated
    at the bound intermediate values (z = W x + b)."""
    if not isinstance(claimed, sp.Basic):
        return claimed_e
    bindings: dict[Any, Any] = {}
    for target, value in where:
        target_e = elements(target, sizes)
        value_e = explicit(value, sizes)
        bindings.update(dict(zip(list(target_e), list(value_e), strict=True)))
    replacements: dict[Any, Any] = {}
    for spec in specs.values():
        if spec.stands_for is None or not claimed.has(spec.symbol):
            continue
        of_u, wrt_u = spec.stands_for
        gradient = calculus.elementwise_gradient(
            concrete(as_value(explicit(of_u, sizes))), elements(wrt_u, sizes)
        )
        gradient = gradient.applyfunc(lambda e: e.subs(bindings))
        replacements.update(
            dict(zip(list(elements(spec.symbol, sizes)), list(gradient), strict=True))
        )
    if not replacements:
        return claimed_e
    if isinstance(claimed_e, sp.MatrixBase):
        return claimed_e.applyfunc(lambda e: e.xreplace(replacements))
    return claimed_e.xreplace(replacements)


@dataclass(frozen=True)
class Kink:
    """A point where a piece of the function (or of the claimed derivative) switches:
    ``where`` is ``wrt``'s value there (exact, or 60 digits when located numerically) and
    ``condition`` is what excludes it (``Ne(z, 0)``, or ``Ne(u, 0)`` for a root of u that
    has no closed form); ``values`` are the parameters the point was found at."""

    where: Any
    condition: Any
    values: Mapping[Any, Any]
    located: str  # "solved" or "numerically"


def switch_arguments(expr: Any) -> list[Any]:
    """The expressions whose sign switches a branch: arguments of Heaviside, sign and Abs,
    pairwise differences of Max/Min arguments, both sides of each Piecewise relation —
    anywhere in ``expr``, after ML primitives (relu, leaky ReLU) are written out."""
    if not isinstance(expr, sp.Basic):
        return []
    found: list[Any] = []
    for node in sp.preorder_traversal(elementary(expr)):
        if isinstance(node, (sp.Max, sp.Min)):
            args = node.args
            found += [a - b for i, a in enumerate(args) for b in args[i + 1 :]]
        elif isinstance(node, (sp.Abs, sp.Heaviside, sp.sign)):
            found.append(node.args[0])
        elif isinstance(node, sp.Piecewise):
            for _, condition in node.args:
                for rel in condition.atoms(sp.core.relational.Relational):
                    found.append(rel.lhs - rel.rhs)
    unique: list[Any] = []
    for candidate in found:
        if candidate not in unique:
            unique.append(candidate)
    return unique


def kinks(expr: Any, wrt: Any, ctx: Context) -> list[Kink]:
    """Values of a scalar ``wrt`` where a piece of ``expr`` switches, at sampled parameters.

    Each switch argument is solved for ``wrt`` (under the deadline); one that has no closed
    form (x⁷ + x³ + eˣ − 2) is located numerically: sign changes on a grid over the domain,
    then a bracketing root finder to 60 digits."""
    if not isinstance(wrt, sp.Symbol) or not isinstance(expr, sp.Basic):
        return []
    rng = random.Random(ctx.seed)
    params = [a for a in numeric.free_atoms([expr]) if a != wrt]
    values = {a: numeric.sample_value(numeric.domain_of(a, ctx.specs), rng) for a in params}
    points: list[Kink] = []
    for candidate in switch_arguments(expr):
        for piece in _strip_abs(candidate):
            if not piece.has(wrt):
                continue
            solutions = _solved(piece, wrt, ctx)
            if solutions is not None:
                for s in solutions:
                    if s.is_real is False or any(k.where == s for k in points):
                        continue
                    points.append(Kink(s, sp.Ne(wrt, s), values, "solved"))
                continue
            for root in _numeric_roots(piece.xreplace(values), wrt, ctx):
                points.append(Kink(root, sp.Ne(piece, 0), values, "numerically"))
    return points


def _solve(piece: Any, wrt: Any) -> list[Any]:
    return list(sp.solve(piece, wrt))


def _solved(piece: Any, wrt: Any, ctx: Context) -> list[Any] | None:
    """Exact solutions, or None when SymPy has no closed form (or no time) for them."""
    try:
        return bounded.run_bounded(_solve, piece, wrt, timeout=ctx.timeout, step="solve for kinks")
    except (SymbolicTimeout, NotImplementedError, ValueError, TypeError):
        return None
    except Exception:  # SymPy failing inside solve: treat as "no closed form"
        return None


GRID_POINTS = 400
# The derivative is evaluated this far either side of a kink. A smooth derivative moves by
# about ONE_SIDED_STEP × its slope there; a jump of more than JUMP (relative) is a kink.
ONE_SIDED_STEP = sp.Rational(1, 10**30)
JUMP = sp.Float(10) ** -15


def _jump(left: Any, right: Any) -> bool:
    return bool(abs(left - right) > JUMP * (1 + abs(left) + abs(right)))


def _numeric_roots(piece: Any, wrt: Any, ctx: Context) -> list[Any]:
    """Real roots of a function of ``wrt`` alone, bracketed by sign changes on a grid over
    ``wrt``'s domain (clipped to [−10, 10]), refined to 60 digits."""
    if piece.free_symbols - {wrt}:
        return []
    domain = numeric.domain_of(wrt, ctx.specs)
    lo = max(float(domain.lo), -10.0) if domain and domain.lo.is_finite else -10.0
    hi = min(float(domain.hi), 10.0) if domain and domain.hi.is_finite else 10.0
    try:
        f = sp.lambdify(wrt, elementary(piece), modules="mpmath")
    except Exception:
        return []
    roots: list[Any] = []
    with mpmath.workdps(60):
        grid = [
            mpmath.mpf(lo) + (hi - lo) * mpmath.mpf(k) / GRID_POINTS for k in range(GRID_POINTS + 1)
        ]
        signs = []
        for x in grid:
            try:
                v = f(x)
                signs.append(0 if v == 0 else (1 if v > 0 else -1))
            except Exception:
                signs.append(None)
        for k in range(GRID_POINTS):
            a, b = signs[k], signs[k + 1]
            if a is None or b is None:
                continue
            if a == 0:
                roots.append(sp.Float(grid[k], 60))
            elif a * b < 0:
                try:
                    r = mpmath.findroot(f, (grid[k], grid[k + 1]), solver="anderson")
                except Exception:
                    continue
                roots.append(sp.Float(r, 60))
    return roots


def _strip_abs(expr: Any) -> list[Any]:
    """|u| − c = 0 ⇔ u = ±c."""
    abs_nodes = list(expr.atoms(sp.Abs))
    if not abs_nodes:
        return [expr]
    inner = abs_nodes[0]
    return [
        *_strip_abs(expr.xreplace({inner: inner.args[0]})),
        *_strip_abs(expr.xreplace({inner: -inner.args[0]})),
    ]


def one_sided(true: Any, wrt: Any, kink: Kink) -> tuple[Any, Any, dict[Any, Any]] | None:
    """The derivative just left and right of the kink, at its sampled parameters."""
    values = dict(kink.values)
    base = sp.sympify(kink.where).xreplace(values)
    step = ONE_SIDED_STEP
    try:
        left = numeric.evaluate(true, {**values, wrt: base - step}, 60)
        right = numeric.evaluate(true, {**values, wrt: base + step}, 60)
    except (ZeroDivisionError, ValueError, TypeError):
        return None
    if not (left.is_number and right.is_number):
        return None
    return left, right, {**values, wrt: base}


def _nonsmooth(
    of: Any, wrt: Any, claimed: Any, ctx: Context, conditions: Sequence[Any]
) -> tuple[list[tuple[Kink, Verdict]], list[str]]:
    """Kinks of the function where it is not differentiable and that the conditions do not
    exclude (each with the verdict a claim without the condition gets there), and notes.

    A switch of the claimed derivative where the function is smooth is checked too: there
    the claim must equal the derivative's (two-sided) value."""
    found: list[tuple[Kink, Verdict]] = []
    notes: list[str] = []
    own = kinks(of, wrt, ctx)
    claimed_only = [k for k in kinks(claimed, wrt, ctx) if not any(k.where == o.where for o in own)]
    if not own and not claimed_only:
        return found, notes
    true = calculus.scalar_derivative(of, wrt)
    for kink, from_claim in [(k, False) for k in own] + [(k, True) for k in claimed_only]:
        sides = one_sided(true, wrt, kink)
        if sides is None:
            continue
        left, right, at = sides
        shown_point = {str(k): _point_text(v) for k, v in at.items()}
        where = _point_text(kink.where)
        if _jump(left, right):
            if from_claim:
                continue  # the function's own kinks are the ones that matter
            notes.append(
                f"not differentiable at {wrt} = {where}: one-sided derivatives "
                f"{sp.N(left, 6)} and {sp.N(right, 6)}"
            )
            if _excluded(kink, wrt, conditions):
                continue
            claimed_there = _value_text(claimed, at)
            witness = numeric.Counterexample(shown_point, "undefined (kink)", claimed_there)
            verdict = Verdict(
                Status.REFUTED,
                "non-smooth point analysis",
                f"at {wrt} = {where} the derivative does not exist "
                f"(one-sided {sp.N(left, 6)} and {sp.N(right, 6)}); claimed {claimed_there}",
                counterexample=witness,
            )
            found.append((kink, verdict))
            continue
        if not from_claim:
            notes.append(f"differentiable at the join {wrt} = {where}")
        if kink.located == "solved" and not _excluded(kink, wrt, conditions):
            value = _value_at(true, at, left, right)
            mismatch = _claim_at_join(claimed, value, at)
            if mismatch is not None:
                shown_value = str(sp.N(value, 12))
                witness = numeric.Counterexample(shown_point, shown_value, mismatch)
                verdict = Verdict(
                    Status.REFUTED,
                    "non-smooth point analysis",
                    f"at {wrt} = {where} the derivative is {shown_value}; claimed {mismatch}",
                    counterexample=witness,
                )
                return [(kink, verdict)], notes
    return found, notes


def _value_at(true: Any, at: Mapping[Any, Any], left: Any, right: Any) -> Any:
    """The derivative's value at a join where it is continuous: exact when SymPy can
    substitute the point, else the mean of the one-sided values."""
    try:
        value = sp.N(elementary(true).xreplace(dict(at)), 60)
    except (ZeroDivisionError, ValueError, TypeError):
        value = None
    if value is not None and value.is_number and value.is_finite:
        return value
    return (left + right) / 2


def _claim_at_join(claimed: Any, derivative_value: Any, at: Mapping[Any, Any]) -> str | None:
    """The claimed value at a join where the function is smooth, when it certainly differs
    from the derivative there (an enclosure of the claim excludes the derivative's value)."""
    if not isinstance(claimed, sp.Expr):
        return None
    target = sp.Float(derivative_value, 60)
    if enclosure.separate([claimed], [target], at, narrow=1e-30) is None:
        return None
    exact = sp.N(elementary(claimed).xreplace(dict(at)), 30)
    if not exact.is_number or abs(exact - target) < sp.Float(10) ** -20 * (1 + abs(target)):
        return None
    return str(sp.N(exact, 12))


def _value_text(expr: Any, at: Mapping[Any, Any]) -> str:
    try:
        value = numeric.evaluate(expr, at, 12)
    except (ZeroDivisionError, ValueError, TypeError):
        return "undefined"
    return str(value)


def _point_text(value: Any) -> str:
    value = sp.sympify(value)
    return (
        str(value)
        if isinstance(value, sp.Rational) or not value.is_number
        else str(sp.N(value, 30))
    )


def check(
    of: Any,
    wrt: Any,
    claimed: Any,
    ctx: Context,
    *,
    conditions: Sequence[Any] = (),
    where: Sequence[tuple[Any, Any]] = (),
) -> Verdict:
    """proved / numeric / refuted / conditional for ``d of / d wrt = claimed``.

    Where the function is not differentiable (a kink of Max, |·|, Heaviside, a piecewise
    join) and no condition excludes the point, the claim cannot hold there: it is checked
    away from the kinks, and the verdict is ``conditional`` with the excluding condition
    (``Ne(z, 0)``) when it holds there, with the kink as the witness.

    A matrix claim is first derived by matrix calculus (``symml.calculus``); a claim equal
    to that result by matrix algebra is proved. Anything else, and every claim the rules do
    not cover, is decided element-wise at concrete sizes, never by SymPy's matrix ``diff``.
    """
    rule_notes: list[str] = []
    if isinstance(wrt, sp.MatrixSymbol) and not conditions:
        by_rules, rule_notes = _by_matrix_calculus(of, wrt, claimed, ctx, where)
        if by_rules is not None:
            return by_rules
    nonsmooth, notes = _nonsmooth(of, wrt, claimed, ctx, conditions)
    notes = [*rule_notes, *notes]
    if nonsmooth:
        first = nonsmooth[0][1]
        if first.detail.find("the derivative does not exist") < 0:
            return first.with_(notes=tuple(notes))
        extra = tuple(k.condition for k, _ in nonsmooth)
        held = _check_smooth(of, wrt, claimed, ctx, (*conditions, *extra), where)
        return _away_from_kinks(held, first, extra, notes)
    verdict = _check_smooth(of, wrt, claimed, ctx, conditions, where)
    return verdict.with_(notes=verdict.notes + tuple(notes))


def identity(lhs: Any, rhs: Any, ctx: Context, *, conditions: Sequence[Any] = ()) -> Verdict:
    """``lhs = rhs`` where either side may hold ``Derivative(f, z)``: a derivative taken at
    a kink of ``f`` does not exist, so the identity is ``conditional`` on the points being
    excluded (the same analysis as a derivative claim), else it is compared as it stands."""
    extra: list[Any] = []
    first: Verdict | None = None
    notes: list[str] = []
    for side in (lhs, rhs):
        if not isinstance(side, sp.Basic):
            continue
        for node in side.atoms(sp.Derivative):
            if len(node.variable_count) != 1 or node.variable_count[0][1] != 1:
                continue
            wrt = node.variable_count[0][0]
            found, found_notes = _nonsmooth(node.expr, wrt, sp.S.Zero, ctx, conditions)
            notes.extend(found_notes)
            for kink, verdict in found:
                if "does not exist" not in verdict.detail:
                    continue
                first = first or verdict.with_(
                    detail=verdict.detail.split("; claimed")[0],
                    counterexample=numeric.Counterexample(
                        verdict.counterexample.point, "undefined (kink)", "defined"
                    )
                    if verdict.counterexample
                    else None,
                )
                if kink.condition not in extra:
                    extra.append(kink.condition)
    if first is None:
        verdict = compare(lhs, rhs, ctx, conditions=conditions)
        return verdict.with_(notes=verdict.notes + tuple(notes))
    # Carried out before the conditions' case substitutions (z = −p) reach the variable.
    lhs, rhs = (_derivatives_done(side) for side in (lhs, rhs))
    held = compare(lhs, rhs, ctx, conditions=(*conditions, *extra))
    return _away_from_kinks(held, first, extra, notes)


def _away_from_kinks(
    held: Verdict, at_kink: Verdict, excluding: Sequence[Any], notes: Sequence[str]
) -> Verdict:
    """The verdict of a claim checked with its kinks excluded: ``conditional`` on excluding
    them (the kink as the witness) when it holds there, else what the check found."""
    if held.status in (Status.PROVED, Status.NUMERIC):
        return Verdict(
            Status.CONDITIONAL,
            f"{held.method}; fails without the condition: non-smooth point analysis",
            at_kink.detail,
            counterexample=at_kink.counterexample,
            conditions=tuple(sp.sstr(c) for c in excluding),
            notes=tuple(notes) + held.notes,
        )
    return held.with_(notes=held.notes + tuple(notes))


def _derivatives_done(side: Any) -> Any:
    if not isinstance(side, sp.Basic):
        return side
    return calculus.derivatives_done(side)


def _check_smooth(
    of: Any,
    wrt: Any,
    claimed: Any,
    ctx: Context,
    conditions: Sequence[Any],
    where: Sequence[tuple[Any, Any]],
) -> Verdict:
    assignments = size_assignments([of, claimed, wrt, *conditions])
    if not assignments[0]:
        assignments = assignments[:1]  # concrete sizes: a second pass would repeat the first
    if assignments[0] or _holds_matrices([of, claimed, wrt]):
        results = []
        for number, sizes in enumerate(assignments):
            true, claim_e = true_and_claimed(of, wrt, claimed, ctx.specs, where, sizes)
            concrete_pair = true_and_claimed(of, wrt, claimed, ctx.specs, where, sizes, ctx.seed)
            # The second size assignment guards against coincidences of shape; a few
            # numeric points suffice there.
            at_ctx = ctx if number == 0 else replace(ctx, samples=3)
            verdict = compare(
                true,
                claim_e,
                at_ctx,
                conditions=_at_sizes(conditions, sizes),
                prepared=True,
                numeric_pair=concrete_pair,
            )
            if verdict.status is not Status.PROVED:
                size_text = _sizes_shown(sizes, [of, claimed, wrt])
                if verdict.method == "shape check" and verdict.counterexample is None:
                    verdict = verdict.with_(counterexample=_shape_witness(verdict, sizes))
                elif verdict.counterexample is not None:
                    verdict = verdict.with_(
                        counterexample=_with_sizes(verdict.counterexample, sizes, [of, wrt])
                    )
                return verdict.with_(detail=f"{verdict.detail} (sizes {size_text})".strip())
            results.append(verdict)
        sizes_text = "; ".join(_sizes_shown(s, [of, claimed, wrt]) for s in assignments)
        kinked = _kink_arguments(of) if isinstance(wrt, sp.MatrixSymbol) else []
        if kinked:
            where_text = tuple(f"every entry of {sp.sstr(k)} is nonzero" for k in kinked)
            return results[0].with_(
                status=Status.CONDITIONAL,
                method=f"{results[0].method}, elementwise at sizes {sizes_text}",
                detail=f"holds where {'; '.join(where_text)}: not differentiable at a kink",
                conditions=where_text,
            )
        return results[0].with_(method=f"{results[0].method}, elementwise at sizes {sizes_text}")
    true = calculus.scalar_derivative(of, wrt)
    return compare(true, claimed, ctx, conditions=conditions)


def _upstream_gradients(claimed: Any, specs: Mapping[str, SymbolSpec]) -> list[SymbolSpec]:
    """The upstream-gradient symbols (∂L/∂z) the claim is written with."""
    if not isinstance(claimed, sp.Basic):
        return []
    return [s for s in specs.values() if s.stands_for is not None and claimed.has(s.symbol)]


def _derivative_and_claim(
    of: Any,
    wrt: sp.MatrixSymbol,
    claimed: Any,
    upstream: Sequence[tuple[Any, Any, Any]],
    where: Sequence[tuple[Any, Any]],
    seed: int,
) -> tuple[calculus.MatrixDerivative, Any, tuple[str, ...]]:
    """The guarded matrix-calculus derivative, and the claim with each upstream gradient
    (symbol, of, wrt) replaced by its own guarded matrix-calculus value, evaluated at the
    ``where`` bindings (z₁ = W₁x + b₁); notes saying what each upstream became."""
    bindings = dict(where)
    replacements: dict[Any, Any] = {}
    notes: list[str] = []
    for symbol, of_u, wrt_u in upstream:
        meaning = calculus.matrix_derivative(of_u, wrt_u, seed=seed)
        replacements[symbol] = meaning.value.xreplace(bindings)
        shown = f" at {', '.join(f'{sp.sstr(t)} = {sp.sstr(v)}' for t, v in where)}"
        notes.append(
            f"upstream {symbol} = ∂{sp.sstr(of_u)}/∂{wrt_u} = {sp.sstr(meaning.value)}"
            f"{shown if where else ''} ({meaning.method})"
        )
    result = calculus.matrix_derivative(of, wrt, seed=seed)
    return result, claimed.xreplace(replacements) if replacements else claimed, tuple(notes)


def _by_matrix_calculus(
    of: Any,
    wrt: sp.MatrixSymbol,
    claimed: Any,
    ctx: Context,
    where: Sequence[tuple[Any, Any]] = (),
) -> tuple[Verdict | None, list[str]]:
    """``proved`` when the claim equals the guarded matrix-calculus result by matrix
    algebra (and agrees with the element-wise reference itself); otherwise None and why.
    Upstream gradients in the claim (∂L/∂z, bound by ``where`` to z = W x + b) are replaced
    by their own matrix-calculus values first."""
    upstream = _upstream_gradients(claimed, ctx.specs)
    if any(not isinstance(s.stands_for[1], sp.MatrixSymbol) for s in upstream) or any(
        not isinstance(target, sp.MatrixSymbol) for target, _ in where
    ):
        return None, ["matrix calculus: a scalar upstream gradient or binding"]
    triples = tuple((s.symbol, *s.stands_for) for s in upstream)
    try:
        result, claimed, upstream_notes = bounded.run_bounded(
            _derivative_and_claim,
            of,
            wrt,
            claimed,
            triples,
            tuple(where),
            ctx.seed,
            timeout=ctx.timeout,
            step="matrix calculus",
        )
    except SymbolicTimeout as exc:
        return None, [str(exc)]
    except SymmlError as exc:
        return None, [f"matrix calculus: {exc}"]
    except Exception as exc:  # a SymPy failure inside the rules: decide element-wise instead
        return None, [f"matrix calculus failed: {type(exc).__name__}"]
    if not calculus.claim_agrees(claimed, result):
        wrong_shape = _shape_refutation(of, wrt, claimed, result)
        if wrong_shape is not None:
            return wrong_shape, []
        return None, [f"matrix calculus gives {sp.sstr(result.value)}"]
    try:
        disagreement = calculus.mismatch(
            claimed, of, wrt, calculus.check_assignments([of, wrt]), ctx.seed
        )
    except Exception as exc:  # the claim has no element-wise form: decide it the other way
        return None, [f"the claim could not be written out: {exc}"]
    if disagreement is not None:  # matrix algebra and elements disagree: trust neither
        return None, ["the matrix-algebra match was not confirmed element-wise"]
    method = f"{result.method}; the claim equals ∂ = {sp.sstr(result.value)} by matrix algebra"
    notes = (*upstream_notes, *(f"rule: {r}" for r in result.rules))
    kinks_inside = _kink_arguments(of)
    if kinks_inside:
        # Right except where an argument of a kink is 0: there the derivative does not exist.
        where_text = tuple(f"every entry of {sp.sstr(k)} is nonzero" for k in kinks_inside)
        return (
            Verdict(
                Status.CONDITIONAL,
                method,
                f"holds where {'; '.join(where_text)}: not differentiable at a kink",
                conditions=where_text,
                notes=notes,
            ),
            [],
        )
    return Verdict(Status.PROVED, method, notes=notes), []


def _shape_refutation(
    of: Any, wrt: sp.MatrixSymbol, claimed: Any, result: calculus.MatrixDerivative
) -> Verdict | None:
    """``refuted`` when the claim's shape differs from the derivative's at every size (a
    dot product where the gradient is a vector), shown at the first sizes the element-wise
    check would use; a 1×1 matrix counts as a scalar there too."""

    def shape(value: Any, sizes: Mapping[Any, int]) -> tuple[int, ...] | None:
        if not isinstance(value, sp.MatrixExpr):
            return ()
        rows, cols = (sp.sympify(sp.sympify(d).xreplace(dict(sizes))) for d in value.shape)
        if not (rows.is_Integer and cols.is_Integer):
            return None
        return () if (rows, cols) == (1, 1) else (int(rows), int(cols))

    if not isinstance(claimed, sp.Basic):
        return None
    sizes = size_assignments([of, claimed, wrt])[0]
    true_shape, claimed_shape = shape(result.value, sizes), shape(claimed, sizes)
    if true_shape is None or claimed_shape is None or true_shape == claimed_shape:
        return None
    verdict = Verdict(
        Status.REFUTED,
        "shape check",
        f"shapes differ: {true_shape or 'scalar'} vs {claimed_shape or 'scalar'}"
        f" (sizes {_sizes_shown(sizes, [of, claimed, wrt])})",
    )
    return verdict.with_(counterexample=_shape_witness(verdict, sizes))


def _kink_arguments(of: Any) -> list[Any]:
    """Arguments of ReLU, Max, Min, Abs, sign, Heaviside, Piecewise inside ``of`` (inside
    element-wise maps too), where a derivative may not exist."""
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

    kinked = (sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside, sp.Piecewise, relu, leaky_relu)
    found: list[Any] = []
    if not isinstance(of, sp.Basic):
        return found
    walk = sp.preorder_traversal(of)
    for node in walk:
        if isinstance(node, ElementwiseApplyFunction):
            u = sp.Dummy("u")
            if node.function(u).has(*kinked) and node.expr not in found:
                found.append(node.expr)
        elif isinstance(node, sp.Lambda):
            walk.skip()  # the body of an element-wise map: reported through its argument
        elif isinstance(node, kinked) and not isinstance(node, sp.MatrixExpr):
            argument = node.args[-1] if isinstance(node, (sp.Max, sp.Min)) else node.args[0]
            if node not in found and argument not in found:
                found.append(argument)
    return found


def _shape_witness(verdict: Verdict, sizes: Mapping[Any, int]) -> numeric.Counterexample:
    """The sizes at which the true derivative and the claim have different shapes."""
    shapes = verdict.detail.removeprefix("shapes differ: ").split(" (sizes")[0].split(" vs ")
    point = {str(k): str(v) for k, v in sizes.items()}
    return numeric.Counterexample(point, f"shape {shapes[0]}", f"shape {shapes[-1]}")


def _with_sizes(
    witness: numeric.Counterexample, sizes: Mapping[Any, int], exprs: Sequence[Any]
) -> numeric.Counterexample:
    """A matrix witness names its sizes (``n=2``), or the shapes when they were concrete
    and no entry was needed (a claim wrong for every X)."""
    shown = {str(k): str(v) for k, v in sizes.items()}
    if not shown and not witness.point:
        shown = {
            f"shape of {m}": f"{m.shape[0]}×{m.shape[1]}"
            for e in exprs
            if isinstance(e, sp.Basic)
            for m in sorted(e.atoms(sp.MatrixSymbol), key=str)
        }
    return replace(witness, point={**shown, **witness.point})


def _holds_matrices(exprs: Sequence[Any]) -> bool:
    """Whether any matrix symbol or matrix expression appears (then work element-wise)."""
    for e in exprs:
        if isinstance(e, (sp.MatrixBase, sp.MatrixExpr)):
            return True
        if isinstance(e, sp.Basic) and e.atoms(sp.MatrixSymbol):
            return True
    return False


def _sizes_shown(sizes: Mapping[Any, int], exprs: Sequence[Any]) -> str:
    """``n=2, m=3``, or the concrete shapes when no size was symbolic (``X: 3×3``)."""
    if sizes:
        return ", ".join(f"{k}={v}" for k, v in sizes.items())
    shapes: dict[str, tuple[Any, Any]] = {}
    for e in exprs:
        if isinstance(e, sp.Basic):
            for m in e.atoms(sp.MatrixSymbol):
                shapes[str(m)] = m.shape
    return ", ".join(f"{k}: {r}×{c}" for k, (r, c) in sorted(shapes.items()))


def _at_sizes(conditions: Sequence[Any], sizes: Mapping[Any, int]) -> list[Any]:
    return [c if isinstance(c, str) else c.xreplace(dict(sizes)) for c in conditions]


def _excluded(kink: Kink, wrt: Any, conditions: Sequence[Any]) -> bool:
    """Whether the conditions rule out the kink: its own condition among them, or one that
    is false at ``wrt = point`` (for every value of the parameters)."""
    for condition in conditions:
        if isinstance(condition, str):
            continue
        if condition == kink.condition:
            return True
        if kink.located == "solved" and condition.xreplace({wrt: kink.where}) == sp.false:
            return True
    return False
