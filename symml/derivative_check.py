"""Checking a derivative claim: the true derivative, at concrete sizes for tensors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import sympy as sp

from symml import bounded, calculus, numeric
from symml.calculus.crosscheck import mismatch
from symml.calculus.derivative import check_assignments
from symml.equality import Context, as_value, compare
from symml.errors import SymbolicTimeout, SymmlError
from symml.explicit import derivative, elements, explicit, jacobian, size_assignments
from symml.model import Status, SymbolSpec
from symml.verdict import Verdict


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
        return sp.diff(of_e, wrt_e), concrete(as_value(explicit(claimed, sizes)))
    of_e = concrete(as_value(explicit(of, sizes)))
    claimed_e = as_value(explicit(claimed, sizes))
    if isinstance(wrt, sp.MatrixSymbol):
        wrt_e = elements(wrt, sizes)
        if isinstance(of_e, sp.MatrixBase):
            true = jacobian(of_e, wrt_e)
        else:
            true = derivative(of_e, wrt_e)
    else:
        true = sp.diff(of_e, wrt)
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
        gradient = derivative(concrete(as_value(explicit(of_u, sizes))), elements(wrt_u, sizes))
        gradient = gradient.applyfunc(lambda e: e.subs(bindings))
        replacements.update(
            dict(zip(list(elements(spec.symbol, sizes)), list(gradient), strict=True))
        )
    if not replacements:
        return claimed_e
    if isinstance(claimed_e, sp.MatrixBase):
        return claimed_e.applyfunc(lambda e: e.xreplace(replacements))
    return claimed_e.xreplace(replacements)


def kinks(of: Any, wrt: Any) -> list[Any]:
    """Values of a scalar ``wrt`` where ``of`` may fail to be differentiable."""
    if not isinstance(wrt, sp.Symbol) or not isinstance(of, sp.Basic):
        return []
    candidates: list[Any] = []
    for node in sp.preorder_traversal(of):
        if isinstance(node, (sp.Max, sp.Min)):
            args = node.args
            candidates += [a - b for i, a in enumerate(args) for b in args[i + 1 :]]
        elif isinstance(node, (sp.Abs, sp.Heaviside, sp.sign)):
            candidates.append(node.args[0])
        elif isinstance(node, sp.Piecewise):
            for _, condition in node.args:
                for rel in condition.atoms(sp.core.relational.Relational):
                    candidates.append(rel.lhs - rel.rhs)
    points: list[Any] = []
    for candidate in candidates:
        for piece in _strip_abs(candidate):
            if not piece.has(wrt):
                continue
            try:
                solutions = sp.solve(piece, wrt)
            except (NotImplementedError, ValueError):
                continue
            for s in solutions:
                if s not in points and s.is_real is not False:
                    points.append(s)
    return points


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


def one_sided(
    true: Any, wrt: Any, point: Any, ctx: Context
) -> tuple[Any, Any, dict[Any, Any]] | None:
    """The derivative just left and right of ``point`` at sampled parameters."""
    import random

    rng = random.Random(ctx.seed)
    params = [a for a in numeric.free_atoms([true, point]) if a != wrt]
    values = {a: numeric.sample_value(numeric.domain_of(a, ctx.specs), rng) for a in params}
    base = sp.sympify(point).xreplace(values)
    step = sp.Rational(1, 10**25)
    try:
        left = numeric.evaluate(true, {**values, wrt: base - step}, 60)
        right = numeric.evaluate(true, {**values, wrt: base + step}, 60)
    except (ZeroDivisionError, ValueError, TypeError):
        return None
    return left, right, {**values, wrt: base}


def check(
    of: Any,
    wrt: Any,
    claimed: Any,
    ctx: Context,
    *,
    conditions: Sequence[Any] = (),
    where: Sequence[tuple[Any, Any]] = (),
) -> Verdict:
    """proved / numeric / refuted for ``d of / d wrt = claimed`` under ``conditions``.

    A matrix claim is first derived by matrix calculus (``symml.calculus``); a claim equal
    to that result by matrix algebra is proved. Anything else, and every claim the rules do
    not cover, is decided element-wise at concrete sizes, never by SymPy's matrix ``diff``.
    """
    assignments = size_assignments([of, claimed, wrt, *conditions])
    if not assignments[0]:
        assignments = assignments[:1]  # concrete sizes: a second pass would repeat the first
    notes: list[str] = []
    if isinstance(wrt, sp.MatrixSymbol) and not where and not conditions:
        by_rules, rule_notes = _by_matrix_calculus(of, wrt, claimed, ctx)
        if by_rules is not None:
            return by_rules
        notes.extend(rule_notes)
    for point in kinks(of, wrt):
        sides = one_sided(sp.diff(of, wrt), wrt, point, ctx)
        if sides is None:
            continue
        left, right, at = sides
        if numeric.differ(left, right, 40):
            notes.append(
                f"not differentiable at {wrt} = {point}: one-sided derivatives "
                f"{sp.N(left, 6)} and {sp.N(right, 6)}"
            )
            if not _excluded(point, wrt, conditions):
                claimed_there = numeric.evaluate(claimed, at, 12)
                shown = {str(k): str(v) for k, v in at.items()}
                witness = numeric.Counterexample(shown, "undefined (kink)", str(claimed_there))
                return Verdict(
                    Status.REFUTED,
                    "non-smooth point analysis",
                    f"at {wrt} = {point} the derivative does not exist "
                    f"(one-sided {sp.N(left, 6)} and {sp.N(right, 6)}); "
                    f"claimed {claimed_there}",
                    counterexample=witness,
                    notes=tuple(notes),
                )
        else:
            notes.append(f"differentiable at the join {wrt} = {point}")
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
                return verdict.with_(
                    detail=f"{verdict.detail} (sizes {size_text})".strip(),
                    notes=verdict.notes + tuple(notes),
                )
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
                notes=tuple(notes),
            )
        return results[0].with_(
            method=f"{results[0].method}, elementwise at sizes {sizes_text}", notes=tuple(notes)
        )
    true = sp.diff(of, wrt)
    verdict = compare(true, claimed, ctx, conditions=conditions)
    return verdict.with_(notes=verdict.notes + tuple(notes))


def _by_matrix_calculus(
    of: Any, wrt: sp.MatrixSymbol, claimed: Any, ctx: Context
) -> tuple[Verdict | None, list[str]]:
    """``proved`` when the claim equals the guarded matrix-calculus result by matrix
    algebra (and agrees with the element-wise reference itself); otherwise None and why."""
    try:
        result = bounded.run_bounded(
            calculus.matrix_derivative,
            of,
            wrt,
            seed=ctx.seed,
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
        return None, [f"matrix calculus gives {sp.sstr(result.value)}"]
    try:
        disagreement = mismatch(claimed, of, wrt, check_assignments([of, wrt]), ctx.seed)
    except Exception as exc:  # the claim has no element-wise form: decide it the other way
        return None, [f"the claim could not be written out: {exc}"]
    if disagreement is not None:  # matrix algebra and elements disagree: trust neither
        return None, ["the matrix-algebra match was not confirmed element-wise"]
    method = f"{result.method}; the claim equals ∂ = {sp.sstr(result.value)} by matrix algebra"
    notes = tuple(f"rule: {r}" for r in result.rules)
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


def _kink_arguments(of: Any) -> list[Any]:
    """Arguments of ReLU, Max, Min, Abs, sign, Heaviside, Piecewise inside ``of`` (inside
    element-wise maps too), where a derivative may not exist."""
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

    from symml.functions import leaky_relu, relu

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


def _excluded(point: Any, wrt: Any, conditions: Sequence[Any]) -> bool:
    """Whether the conditions rule out ``wrt = point``."""
    for condition in conditions:
        if isinstance(condition, str):
            continue
        value = condition.xreplace({wrt: point})
        if value == sp.false:
            return True
    return False
