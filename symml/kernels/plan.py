"""Plans: what a kernel computes, before any code.

A ``Plan`` is the lowered, stabilised outputs of a formula (or of its derivative) over named
arguments. This module plans formulas over scalars and indexed families (elementwise values,
axis reductions, tables) and optimizer update rules; ``windows`` and ``matrices`` plan the
other kinds, and ``kernel.plan_for`` chooses among them. ``stabilise`` applies the stable
rewrites every planner shares, ``unguarded_plan`` drops the 0·log 0 and 0/0 guards for the
optimistic bodies of the backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.core.function import AppliedUndef, Derivative, Subs
from sympy.stats import Expectation
from sympy.stats.rv import RandomSymbol

from symml import calculus
from symml.catalog.model import Formula, SymbolSpec, UpdateRule
from symml.errors import UsageError
from symml.kernels import rewrite
from symml.kernels.errors import NotKernelisable
from symml.kernels.lower import Lowered, free_positions, lower, recognise_max
from symml.kernels.nodes import Log1p, MaxOver, XDivY, XLog1pY, XLogY
from symml.kernels.printer import expand_ml

if TYPE_CHECKING:
    from symml.catalog.loader import Catalog

#: The argument a vector-Jacobian product kernel takes the upstream gradient by.
GRAD_OUT = "grad_out"


@dataclass(frozen=True)
class Plan:
    """What to compute, before code: lowered outputs over named arguments."""

    name: str
    outputs: tuple[Any, ...]  # lowered expressions
    output_names: tuple[str, ...]
    reduced: tuple[bool, ...]
    args: tuple[str, ...]
    families: frozenset[str]  # arguments that must be arrays (they carry the axis)
    axis_source: str | None
    matrix: bool = False
    sizes: tuple[tuple[str, str], ...] = ()  # size symbol → code reading it off an argument
    axes: int = 1  # trailing axes a family spans: 2 for a table p[i, j] or a 2-D convolution


UNSUPPORTED: tuple[tuple[Callable[[Any], bool], str], ...] = (
    (lambda e: e.has(RandomSymbol), "a random quantity (its sampler has no gradient)"),
    (lambda e: e.atoms(sp.Integral) != set(), "an integral of an unspecified function"),
    (lambda e: e.atoms(AppliedUndef) != set(), "an unknown function"),
    (lambda e: e.atoms(Derivative, Subs) != set(), "a derivative of an unknown function"),
    (
        lambda e: e.atoms(sp.Product) != set(),
        "a product over an index of factors that may be negative (it has no log-sum form)",
    ),
)


def why_not(expr: Any) -> str | None:
    """A one-line reason the expression has no numeric kernel, or None."""
    if not isinstance(expr, sp.Basic):
        return "not a SymPy expression"
    if expr.atoms(Expectation) or expr.has(Expectation):
        return "an expectation E[·] over an unspecified density"
    for test, reason in UNSUPPORTED:
        if test(expr):
            funcs = sorted({str(type(f)) for f in expr.atoms(AppliedUndef)})
            suffix = f" ({', '.join(funcs)})" if "unknown function" in reason and funcs else ""
            return reason + suffix
    return None


def specs_of(target: Formula | None) -> dict[str, SymbolSpec]:
    """A formula's symbol declarations by name (none for a bare expression)."""
    return {s.name: s for s in target.symbols} if target is not None else {}


def _arguments(expr: Any, specs: Mapping[str, SymbolSpec], extra: Iterable[str] = ()) -> list[str]:
    """Names of the kernel's inputs, in the formula's declaration order."""
    used = {str(a.base.label) for a in expr.atoms(sp.Indexed)}
    positions = set()
    for a in expr.atoms(sp.Indexed):
        positions |= {str(i) for i in a.indices}
    bound = set()
    for total in expr.atoms(sp.Sum, MaxOver):
        for limit in total.limits:
            bound.add(str(limit[0]))
            bound |= {str(s) for s in sp.sympify(limit[2]).free_symbols}
    for s in expr.free_symbols:
        if isinstance(s, sp.Symbol) and str(s) not in positions and not isinstance(s, sp.Dummy):
            used.add(str(s))
    sizes = {str(d) for spec in specs.values() if spec.kind == "indexed" for d in spec.shape.dims}
    used -= sizes | bound
    used |= set(extra)
    order = [name for name in specs if name in used]
    return order + sorted(used - set(order))


#: Past this size a weight is assumed to vanish somewhere rather than simplified: deciding
#: it for a transformer block's gradient took SymPy minutes, and the guard it keeps costs
#: one extra comparison per element.
VANISHING_OPS_LIMIT = 60


def vanishing_from(specs: Mapping[str, SymbolSpec]) -> Callable[[Any], bool]:
    """Whether an expression can be exactly 0 on the closure of the declared domains.

    The closure, not the domain: a kernel is also evaluated at the edges (ŷ ∈ {0, 1} for a
    probability declared in (0, 1)), where the formula's value is its limit.
    """
    if not specs:
        return lambda w: True

    def candidates(name: str) -> list[Any]:
        spec = specs.get(name)
        if spec is None:
            return []
        d = spec.domain
        if d.values:
            return list(d.values)
        return [end for end in (d.lo, d.hi) if end.is_finite]

    def vanishing(weight: Any) -> bool:
        if sp.count_ops(weight) > VANISHING_OPS_LIMIT:
            return True  # too large to settle quickly: keep the guard, which is always right
        for s in sorted(weight.free_symbols, key=str):
            for value in candidates(str(s)):
                if sp.simplify(weight.subs(s, value)) == 0:
                    return True
        return False

    return vanishing


def nonnegative_from(specs: Mapping[str, SymbolSpec]) -> Callable[[Any], bool]:
    """Whether an expression is ≥ 0 on the declared domains: a family or symbol whose domain
    starts at 0 or above, or what SymPy can prove."""

    def nonnegative(e: Any) -> bool:
        name = str(e.base.label) if isinstance(e, sp.Indexed) else str(e)
        spec = specs.get(name)
        if spec is not None and spec.domain.lo.is_finite and spec.domain.lo >= 0:
            return True
        return bool(getattr(e, "is_nonnegative", False))

    return nonnegative


def _family_sizes(specs: Mapping[str, SymbolSpec]) -> frozenset[Any]:
    return frozenset(
        d for s in specs.values() if s.kind == "indexed" for d in s.shape.dims if d.free_symbols
    )


def stabilise(expr: Any, specs: Mapping[str, SymbolSpec]) -> Any:
    """The stable forms of a lowered expression (log-ratios, softplus, xlogy, expm1, reduced
    periods, scaled softmax, poles), as the declared domains allow, constants folded."""
    expr = expand_ml(expr)
    expr = rewrite.apply_all(expr, rewrite.log_ratio_rewrites(nonnegative_from(specs)))
    expr = rewrite.apply_all(expr, rewrite.STABLE)
    expr = rewrite.apply_all(expr, rewrite.weighted_rewrites(vanishing_from(specs)))
    expr = rewrite.apply_all(expr, rewrite.CANCEL)
    expr = rewrite.apply_all(expr, rewrite.PERIODIC)
    expr = rewrite.apply_all(expr, rewrite.scaled_softmax_rewrites(positive_from(specs)))
    expr = rewrite.apply_all(expr, rewrite.pole_rewrites(near_zero_from(specs)))
    return rewrite.fold_constants(expr)


def positive_from(specs: Mapping[str, SymbolSpec]) -> Callable[[Any], bool]:
    """Whether an argument's declared domain lies in (0, ∞)."""

    def positive(symbol: Any) -> bool:
        spec = specs.get(str(symbol))
        if spec is None:
            return False
        d = spec.domain
        if d.values:
            return all(v > 0 for v in d.values)
        return bool(d.lo > 0) or bool(d.lo == 0 and d.lo_open)

    return positive


def near_zero_from(specs: Mapping[str, SymbolSpec]) -> Callable[[Any], bool]:
    """Whether an argument's declared domain reaches 0 (its closure holds 0); an argument
    with no declaration may be anything."""

    def near_zero(symbol: Any) -> bool:
        spec = specs.get(str(symbol))
        if spec is None:
            return True
        d = spec.domain
        if d.values:
            return any(v == 0 for v in d.values)
        return bool(d.lo <= 0) and bool(d.hi >= 0)

    return near_zero


def _derivative(
    expr: Any, wrt: Any, family: bool, specs: Mapping[str, SymbolSpec]
) -> tuple[Any, bool]:
    """d expr / d wrt. For a family x: the gradient ∂L/∂xᵢ of a reduced value, or the
    vector-Jacobian product Σᵢ grad_outᵢ ∂fᵢ/∂x of a per-element one."""
    expr = rewrite.apply_all(expr, rewrite.KINKS)
    if not family:
        return calculus.scalar_derivative(expr, wrt, flat_steps=True), False
    position: Any = sp.Symbol("p_pos", integer=True, positive=True)
    if _index_count(expr, wrt) == 2:  # an element of a table: ∂/∂p[a, b]
        position = (position, sp.Symbol("q_pos", integer=True, positive=True))
    positions = free_positions(expr)
    vjp = bool(positions)
    if positions:
        if isinstance(position, tuple):
            raise NotKernelisable("a per-element value of a two-index table")
        (i,) = positions
        spec = specs.get(str(wrt.label))
        size = spec.shape.dims[0] if spec is not None and spec.shape.dims else _size_of(expr)
        g = sp.IndexedBase(GRAD_OUT)
        value = calculus.family_vjp(expr, i, size, wrt[position], g)
    else:
        value = calculus.scalar_derivative(expr, wrt[position], flat_steps=True, deltas=True)
    value = value.replace(
        lambda e: isinstance(e, sp.KroneckerDelta) and e.has(position),
        lambda e: e,
    )
    if value.has(sp.KroneckerDelta):
        raise NotKernelisable("a Kronecker delta is left after differentiating")
    return value, vjp


def _index_count(expr: Any, family: Any) -> int:
    return max((len(a.indices) for a in expr.atoms(sp.Indexed) if a.base == family), default=1)


def _size_of(expr: Any) -> Any:
    for total in expr.atoms(sp.Sum):
        return total.limits[0][2]
    raise NotKernelisable("a per-element value with no sum to tell its axis length")


def resolve(target: Formula | sp.Basic | str, catalog: Catalog | None = None) -> Formula | sp.Basic:
    """A formula id looked up in the catalog (loaded when none is given); anything else as is."""
    if isinstance(target, str):
        if catalog is None:
            from symml.catalog.loader import load_catalog  # deferred: loaded for an id only

            catalog = load_catalog()
        return catalog.get(target)
    return target


def entry_expr(expr: Any, specs: Mapping[str, SymbolSpec]) -> Any:
    """A formula's expression as every planner takes it: a max over an index recognised, a
    product over an index of non-negative factors as the exponential of a sum of logs; or
    NotKernelisable saying why it has no numeric kernel."""
    if isinstance(expr, sp.MatrixBase):
        raise NotKernelisable("an explicit matrix, not a formula over arrays")
    expr = recognise_max(expr)
    expr = rewrite.apply_all(expr, rewrite.product_rewrites(nonnegative_from(specs)))
    reason = why_not(expr)
    if reason:
        raise NotKernelisable(reason)
    return expr


def indexed_plan(
    expr: Any, formula: Formula | None, specs: Mapping[str, SymbolSpec], name: str, wrt: Any
) -> Plan:
    """The plan of a formula over scalars and indexed families (or of its derivative by
    ``wrt``): elementwise values, reductions along an axis, tables of two indices."""
    expr = rewrite.apply_all(expr, rewrite.RECOGNISE)
    extra: list[str] = []
    wrt_name = None
    families_before: set[str] = set()
    if wrt is not None:
        wrt_symbol, family = _wrt_symbol(expr, wrt, specs)
        wrt_name = str(wrt_symbol)
        args_before = _arguments(expr, specs)
        families_before = {str(a.base.label) for a in expr.atoms(sp.Indexed)}
        expr, vjp = _derivative(expr, wrt_symbol, family, specs)
        extra = [GRAD_OUT] if vjp else []
        name = f"{name} d/d{wrt_name}"
        args = [a for a in args_before if a != GRAD_OUT] + extra
    else:
        args = _arguments(expr, specs)
    fallback = wrt_name if wrt is not None and wrt_name in families_before else None
    tables = {n: s.shape.dims for n, s in specs.items() if s.kind == "indexed"}
    lowered: Lowered = lower(expr, _family_sizes(specs), fallback, tables)
    out = stabilise(lowered.expr, specs)
    families = frozenset(
        {str(a.base.label) for a in expr.atoms(sp.Indexed)} | set(extra) | families_before
    )
    out_name = (
        f"d{wrt_name}"
        if wrt_name
        else (str(formula.lhs) if formula and formula.lhs is not None else "value")
    )
    return Plan(
        name,
        (out,),
        (out_name,),
        (lowered.reduced,),
        tuple(args),
        families,
        lowered.axis_source,
        sizes=lowered.sizes,
        axes=lowered.axes,
    )


def _wrt_symbol(expr: Any, wrt: Any, specs: Mapping[str, SymbolSpec]) -> tuple[Any, bool]:
    name = str(wrt.label) if isinstance(wrt, sp.IndexedBase) else str(wrt)
    for family in {a.base for a in expr.atoms(sp.Indexed)}:
        if str(family.label) == name:
            return family, True
    for s in expr.free_symbols:
        if str(s) == name:
            return s, False
    known = ", ".join(_arguments(expr, specs)) or "none"
    raise UsageError(f"no argument '{name}' to differentiate by; the formula has {known}")


def step_plan(formula: Formula | None, specs: Mapping[str, SymbolSpec], name: str) -> Plan:
    """An update rule (Adam, RMSprop …) as one fused step: the state it reads and rewrites."""
    rules = [c for c in formula.claims if isinstance(c, UpdateRule)] if formula else []
    if not rules:
        raise NotKernelisable("no update rule to fuse (step=True needs an optimizer rule)")
    rule = rules[0]
    assignments = (
        rule.correction
        if rule.correction and not isinstance(rule.correction, str)
        else rule.assignments
    )
    reason = next((why_not(v) for _, v in assignments if why_not(v)), None)
    if reason:
        raise NotKernelisable(reason)
    values: dict[Any, Any] = {}
    read_first: list[Any] = []
    for target, value in assignments:
        for s in sorted(value.free_symbols, key=str):
            if s not in values and s not in read_first:
                read_first.append(s)
        values[target] = value.xreplace(values)
    state = [t for t, _ in assignments if t in read_first]
    outputs = tuple(stabilise(values[t], specs) for t in state)
    order = [n for n in specs if any(str(s) == n for s in read_first)]
    args = tuple(order + sorted({str(s) for s in read_first} - set(order)))
    return Plan(
        f"{name} step",
        outputs,
        tuple(str(t) for t in state),
        tuple(False for _ in state),
        args,
        frozenset(),
        None,
    )


GUARDS = (XDivY, XLogY, XLog1pY)
DROP_GUARD: dict[type, Callable[[Any, Any], Any]] = {
    XDivY: lambda x, y: x / y,
    XLogY: lambda x, y: x * sp.log(y),
    XLog1pY: lambda x, y: x * Log1p(y),
}


def unguarded_plan(plan: Plan) -> Plan | None:
    """The plan with its xlogy/xdivy guards dropped, or None when there is nothing to drop or
    a dropped guard's nan could be hidden (a comparison with nan is silently False)."""
    if plan.matrix or not any(isinstance(e, sp.Basic) and e.has(*GUARDS) for e in plan.outputs):
        return None
    for e in plan.outputs:
        for rel in e.atoms(sp.core.relational.Relational, sp.Piecewise, sp.Max, sp.Min):
            if rel.has(*GUARDS):
                return None
    outputs = tuple(_combine_fractions(_drop_guards(e)) for e in plan.outputs)
    return replace(plan, outputs=outputs)


def _drop_guards(expr: Any) -> Any:
    if not isinstance(expr, sp.Basic):
        return expr
    return expr.replace(lambda e: type(e) in DROP_GUARD, lambda e: DROP_GUARD[type(e)](*e.args))


def _combine_fractions(expr: Any) -> Any:
    """A rational function over one common denominator when that has fewer operations:
    −y/ŷ + (1 − y)/(1 − ŷ) is (ŷ − y)/(ŷ(1 − ŷ)), four array passes instead of five."""
    if not isinstance(expr, sp.Expr) or not expr.free_symbols:
        return expr
    if not expr.is_rational_function(*expr.free_symbols):
        return expr
    combined = sp.factor(sp.cancel(sp.together(expr)))
    return combined if sp.count_ops(combined) < sp.count_ops(expr) else expr


def plan_name(target: Formula | sp.Basic) -> str:
    """The name a kernel of ``target`` has: the formula's id, or the expression's start."""
    return target.id if isinstance(target, Formula) else sp.sstr(target)[:40]
