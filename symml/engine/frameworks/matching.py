"""A ``matches`` claim checked: the catalog side evaluated with mpmath (or run step by step in
float64), the framework in float64, on random and extreme inputs; the verdict carries the
largest difference and the input that shows it."""

from __future__ import annotations

import itertools
import math
import random
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from symml.catalog.model import Formula, Matches, Status, SymbolSpec
from symml.catalog.primitives import elementary
from symml.catalog.references import OPTIMIZER, REFERENCES, Reference
from symml.engine.frameworks.available import unavailable
from symml.engine.frameworks.sampling import points
from symml.engine.verdict import Verdict
from symml.errors import SymmlError
from symml.evaluate.numeric import Counterexample, domain_of, free_atoms, sample_value

RANDOM_POINTS = 40
RTOL, ATOL = 1e-9, 1e-12  # functions: float64 against 30 digits, relative or absolute
STEP_RTOL = 1e-7  # optimizers: float64 on both sides, compared step by step
STEPS, WIDTH, RUNS = 6, 6, 10
DIGITS = 30
CONFIRM_DIGITS = 400  # a difference is re-evaluated here before it is reported
# mpmath's precision is process-wide, so claims checked from several threads take turns
_ONE_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class Measurement:
    """The largest difference found and where."""

    inputs: int
    extreme: int
    largest: float  # absolute difference at the witness
    relative: float  # the same, relative to the values compared
    differs: bool
    point: dict[str, str]
    catalog: str
    framework: str
    where: str = ""  # e.g. "step 1, coordinate 3"
    ratio: float = 1.0  # catalog step / framework step at the witness (optimizers)


def check(formula: Formula, claim: Matches, seed: int = 0) -> Verdict:
    """The verdict on one ``matches`` claim (``inconclusive`` with the reason when its
    framework is not installed)."""
    reason = unavailable(claim.framework)
    if reason:
        return Verdict(Status.INCONCLUSIVE, reason, reason)
    reference = REFERENCES[claim.reference]
    specs = {s.name: s for s in formula.symbols}
    with _ONE_AT_A_TIME, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            if reference.kind == OPTIMIZER:
                found = _compare_steps(claim, reference, specs, seed)
            else:
                found = _compare_values(formula, claim, reference, specs, seed)
    return _verdict(claim, found)


def _verdict(claim: Matches, found: Measurement) -> Verdict:
    runs = "runs" if claim.run is not None else "inputs"
    how = (
        f"numeric, float64 {claim.reference} against the catalog "
        f"{'rule run step by step' if claim.run is not None else 'formula at 30 digits'}"
        f"{_in_steps(len(claim.steps))}, "
        f"{found.inputs} random and {found.extreme} extreme {runs}"
    )
    if claim.rtol:
        how += f", to {claim.rtol:g} relative"
    size = f"largest difference {found.largest:.3g} ({found.relative:.3g} relative)"
    at = ", ".join(f"{k} = {v}" for k, v in found.point.items())
    witness = Counterexample(found.point, found.catalog, found.framework)
    if not found.differs:
        return Verdict(Status.NUMERIC, f"{how}: {size}", f"agrees with {claim.reference}: {size}")
    factor = f"differs by {_factor(found.ratio)}" if claim.run is not None else size
    detail = (
        f"differs from {claim.reference}"
        + (f": {claim.difference}" if claim.difference else "")
        + f"; {found.where + (' ' if claim.run else ': ') if found.where else ''}{factor} at {at} "
        f"(sheet {found.catalog}, {claim.reference} {found.framework})"
    )
    status = Status.REFUTED if claim.binding else Status.DIFFERS
    return Verdict(
        status,
        f"{how}: {size}",
        detail,
        counterexample=witness,
        conditions=(claim.agrees_when,) if claim.agrees_when else (),
    )


def _in_steps(count: int) -> str:
    return "" if not count else f" in {count} step{'' if count == 1 else 's'}"


def _factor(ratio: float) -> str:
    """How many times larger one step is than the other (the sign says if they disagree)."""
    if not math.isfinite(ratio) or ratio == 0:
        return f"{ratio:.3g}×"
    big = abs(ratio) if abs(ratio) >= 1 else 1 / abs(ratio)
    return f"{big:.3g}×" + (" in the opposite direction" if ratio < 0 else "")


# -- functions --------------------------------------------------------------------------------
def _prepare(expr: Any, sizes: Mapping[Any, int], zero: Sequence[Any] = ()) -> Any:
    value = sp.sympify(expr).subs(sizes) if sizes else sp.sympify(expr)
    if isinstance(value, (sp.MatrixExpr, sp.MatrixBase)):  # a vector or matrix: its entries
        value = sp.ImmutableMatrix([elementary(e) for e in value.as_explicit()])
    value = elementary(value)
    if value.has(sp.Sum, sp.Product, sp.Integral):
        value = value.doit()
    return _zero_outside(value, zero, sizes) if zero else value


def _zero_outside(expr: Any, bases: Sequence[Any], sizes: Mapping[Any, int]) -> Any:
    """Elements of the families in ``bases`` outside their index ranges are 0 (padding)."""
    names = {str(b.label): b for b in bases}

    def outside(element: sp.Indexed) -> bool:
        dims = [int(sp.sympify(d).subs(sizes)) for d in element.base.shape]
        return any(
            idx.is_Integer and not 1 <= int(idx) <= dim
            for idx, dim in zip(element.indices, dims, strict=True)
        )

    return expr.replace(
        lambda e: isinstance(e, sp.Indexed) and str(e.base.label) in names and outside(e),
        lambda e: sp.S.Zero,
    )


def _ranges(over: Any, sizes: Mapping[Any, int]) -> list[tuple[Any, int, int]]:
    """``over`` as (index, first, last) triples: ``(i, k)``, ``(i, lo, hi)`` or a tuple of them."""
    if over is None:
        return []
    items = over if isinstance(over[0], tuple) else (over,)
    triples = []
    for index, *bounds in items:
        lo, hi = (1, bounds[0]) if len(bounds) == 1 else bounds
        triples.append((index, int(sp.sympify(lo).subs(sizes)), int(sp.sympify(hi).subs(sizes))))
    return triples


def _spread(
    expr: Any, ranges: Sequence[tuple[Any, int, int]], sizes: Mapping[Any, int], zero=()
) -> Any:
    """A whole indexed family as an array of its shape; an expression in the claim's free
    indices as a column over every combination of them (row-major); else the expression."""
    if isinstance(expr, sp.MatrixSymbol):  # a whole matrix or vector, as an array of its shape
        return sp.ImmutableMatrix((expr.subs(sizes) if sizes else expr).as_explicit())
    if isinstance(expr, sp.IndexedBase):
        expr = expr.subs(sizes) if sizes else expr  # the same element objects as the subject
        dims = [int(d) for d in expr.shape]
        cells = [expr[idx] for idx in itertools.product(*(range(1, d + 1) for d in dims))]
        rows, cols = (dims[0], 1) if len(dims) == 1 else (dims[0], int(np.prod(dims[1:])))
        return sp.ImmutableMatrix(rows, cols, cells)
    if not isinstance(expr, sp.Basic):
        expr = sp.sympify(expr)
    free = [r for r in ranges if r[0] in expr.free_symbols]
    if not free:
        return _prepare(expr, sizes, zero)
    values = [
        _prepare(expr.subs({r[0]: v for r, v in zip(free, combo, strict=True)}), sizes, zero)
        for combo in itertools.product(*(range(lo, hi + 1) for _, lo, hi in free))
    ]
    return sp.ImmutableMatrix(values)


def _compare_values(
    formula: Formula,
    claim: Matches,
    reference: Reference,
    specs: Mapping[str, SymbolSpec],
    seed: int,
) -> Measurement:
    sizes = dict(claim.sizes)
    ranges = _ranges(claim.over, sizes)
    zero = claim.zero_outside
    source = claim.subject if claim.subject is not None else formula.expr
    steps = [(_sized(target, sizes), _sized(value, sizes)) for target, value in claim.steps]
    if steps:  # matrix expressions evaluated as such, with numbers for their matrices
        subject = _sized(source, sizes)
        targets = {target for target, _ in steps}
        given = [
            sp.ImmutableMatrix(m.as_explicit())
            for m in sorted(
                set().union(*(v.atoms(sp.MatrixSymbol) for _, v in [*steps, (None, subject)])),
                key=sp.default_sort_key,
            )
            if m not in targets
        ]
    else:
        subject = _spread(source, ranges, sizes, zero)
        given = []
    inputs: dict[str, Any] = {}
    for name, value in claim.inputs:
        if isinstance(value, (bool, str)):
            inputs[name] = value
        elif isinstance(value, tuple):
            inputs[name] = tuple(_spread(v, ranges, sizes, zero) for v in value)
        else:
            inputs[name] = _spread(value, ranges, sizes, zero)
    symbolic = [subject, *(v for v in inputs.values() if isinstance(v, sp.Basic))]
    standing = [_prepare(a, sizes) for a in (*formula.assumptions, *claim.where)]
    atoms = free_atoms([*symbolic, *standing, *given, *(value for _, value in steps)])
    known = set(atoms)
    plain = {  # inputs that are sampled atoms (a whole matrix symbol, ε): no evaluation needed
        name: list(value) if isinstance(value, sp.MatrixBase) else [value]
        for name, value in inputs.items()
        if isinstance(value, sp.Basic)
        and all(a in known for a in (value if isinstance(value, sp.MatrixBase) else [value]))
    }
    evaluators = {
        name: _mp_function(atoms, value)
        for name, value in [("subject", subject), *inputs.items()]
        if isinstance(value, sp.Basic) and name not in plain and not (steps and name == "subject")
    }
    if steps:
        evaluators["subject"] = _staged(atoms, steps, subject)
    holds = [_mp_function(atoms, a) for a in standing]
    call = reference.load()
    random_points, extreme_points = points(atoms, specs, seed, RANDOM_POINTS)
    worst: tuple[float, Measurement] | None = None
    used = {"random": 0, "extreme": 0}
    for label, batch in (("random", random_points), ("extreme", extreme_points)):
        for point in batch:
            if not all(_holds(h, atoms, point) for h in holds):
                continue  # excluded by the entry's assumptions or the claim's `where`
            expected = _mp_values(evaluators["subject"], atoms, point)
            args = {
                name: (
                    _as_float([point[a] for a in plain[name]], value)
                    if name in plain
                    else _as_float(_mp_values(evaluators[name], atoms, point), value)
                    if name in evaluators
                    else value
                )
                for name, value in inputs.items()
            }
            if expected is None or any(v is None for v in args.values()):
                continue  # outside where the formula is defined
            got = np.ravel(np.asarray(call(**args), dtype=np.float64))
            want = np.asarray(expected, dtype=np.float64)
            if got.shape != want.shape:
                raise SymmlError(
                    f"{claim.reference} returned {got.size} values where the formula has "
                    f"{want.size}; fix the claim's inputs or its 'over' index"
                )
            used[label] += 1
            k, badness = _badness(got, want, claim.rtol or RTOL)
            if badness > 1:  # cancellation at 30 digits (1 + erf(-21)) is no difference
                precise = _mp_values(evaluators["subject"], atoms, point, CONFIRM_DIGITS)
                if precise is not None:
                    want = np.asarray(precise, dtype=np.float64)
                    k, badness = _badness(got, want, claim.rtol or RTOL)
            if worst is None or badness > worst[0]:
                largest = float(abs(got[k] - want[k])) if np.isfinite(got[k]) else math.inf
                relative = largest / max(abs(float(want[k])), abs(float(got[k])), 1e-300)
                worst = (
                    badness,
                    Measurement(
                        0,
                        0,
                        largest,
                        relative,
                        badness > 1,
                        {str(a): _short(point[a]) for a in atoms},
                        _short(float(want[k])),
                        _short(float(got[k])),
                        f"component {k + 1}" if want.size > 1 else "",
                    ),
                )
    if worst is None:
        raise SymmlError(
            f"no sampled input is inside the domain of {formula.id}; check its symbols' domains"
        )
    return _with_counts(worst[1], used["random"], used["extreme"])


def _holds(relation: Callable[..., Any], atoms: Sequence[Any], point: Mapping[Any, float]) -> bool:
    with mpmath.workdps(DIGITS):
        return bool(relation(*(mpmath.mpf(point[a]) for a in atoms)))


def _with_counts(found: Measurement, inputs: int, extreme: int) -> Measurement:
    from dataclasses import replace

    return replace(found, inputs=inputs, extreme=extreme)


def _mp_function(atoms: Sequence[Any], expr: Any) -> Callable[..., Any]:
    return sp.lambdify(list(atoms), expr, modules="mpmath", dummify=True)


def _sized(expr: Any, sizes: Mapping[Any, int]) -> Any:
    return sp.sympify(expr).subs(sizes) if sizes else sp.sympify(expr)


def _staged(
    atoms: Sequence[Any], steps: Sequence[tuple[Any, Any]], subject: Any
) -> Callable[..., Any]:
    """The catalog side of a claim with ``steps``: each step's matrix expression evaluated
    with numbers for its matrices (mpmath numbers in arrays, at the working precision) and
    its value given to its target, then ``subject``. Numbers pass between the steps and
    through the products, never expressions: nothing is expanded into entries."""
    position = {a: k for k, a in enumerate(atoms)}
    program = [(target, _MatrixValue(value, position)) for target, value in steps]
    last = _MatrixValue(subject, position)

    def evaluate(*values: Any) -> Any:
        known: dict[Any, Any] = {}
        for target, value in program:
            known[target] = value(values, known)
        return last(values, known)

    return evaluate


class _MatrixValue:
    """A matrix expression as a function of the atoms' values: every node of the expression
    (a product, a sum, ⊙, an elementwise power or function, a transpose, a slice, a block
    matrix, ones) computed from its arguments' arrays, each shared subexpression once."""

    def __init__(self, expr: Any, position: Mapping[Any, int]) -> None:
        self.expr = expr
        self.position = position
        self.scalars: dict[Any, tuple[list[Any], Callable[..., Any]]] = {}
        self.bodies: dict[Any, Any] = {}
        self.cells: dict[Any, list[int]] = {}

    def __call__(self, values: Sequence[Any], known: Mapping[Any, Any]) -> np.ndarray:
        return self._value(self.expr, values, known, {})

    def _scalar(self, expr: Any, values: Sequence[Any]) -> Any:
        if expr not in self.scalars:
            names = free_atoms([expr])
            self.scalars[expr] = (names, _mp_function(names, expr))
        names, function = self.scalars[expr]
        return function(*(values[self.position[a]] for a in names))

    def _value(self, e: Any, values: Sequence[Any], known: Mapping[Any, Any], memo: dict) -> Any:
        if e in memo:
            return memo[e]
        result = self._node(e, values, known, memo)
        memo[e] = result
        return result

    def _node(self, e: Any, values: Sequence[Any], known: Mapping[Any, Any], memo: dict) -> Any:
        def arg(a: Any) -> Any:
            return self._value(a, values, known, memo)

        if not isinstance(e, (sp.MatrixExpr, sp.MatrixBase)):
            return self._scalar(e, values)
        if isinstance(e, sp.MatrixSymbol):
            if e in known:
                return known[e]
            rows, cols = (int(k) for k in e.shape)
            if e not in self.cells:
                self.cells[e] = [self.position[e[i, j]] for i in range(rows) for j in range(cols)]
            cells = [values[k] for k in self.cells[e]]
            return np.array(cells, dtype=object).reshape(rows, cols)
        if isinstance(e, sp.MatrixBase):
            cells = [self._scalar(c, values) for c in e]
            return np.array(cells, dtype=object).reshape(e.rows, e.cols)
        if isinstance(e, (sp.OneMatrix, sp.ZeroMatrix, sp.Identity)):
            one = mpmath.mpf(1) if isinstance(e, sp.OneMatrix) else mpmath.mpf(0)
            out = np.full(tuple(int(k) for k in e.shape), one, dtype=object)
            if isinstance(e, sp.Identity):
                np.fill_diagonal(out, mpmath.mpf(1))
            return out
        if isinstance(e, sp.MatAdd):
            total = arg(e.args[0])
            for a in e.args[1:]:
                total = total + arg(a)
            return total
        if isinstance(e, sp.MatMul):
            factors = [a for a in e.args if isinstance(a, (sp.MatrixExpr, sp.MatrixBase))]
            coefficient = sp.Mul(*(a for a in e.args if a not in factors))
            product = arg(factors[0])
            for f in factors[1:]:
                product = np.dot(product, arg(f))
            return product if coefficient == 1 else product * arg(coefficient)
        if isinstance(e, sp.HadamardProduct):
            product = arg(e.args[0])
            for a in e.args[1:]:
                product = product * arg(a)
            return product
        if isinstance(e, sp.HadamardPower):
            return arg(e.base) ** arg(e.exp)
        if isinstance(e, sp.Transpose):
            return arg(e.arg).T
        if isinstance(e, sp.MatrixSlice):
            (r0, r1, rs), (c0, c1, cs) = (
                tuple(int(k) for k in part) for part in (e.rowslice, e.colslice)
            )
            return arg(e.parent)[r0:r1:rs, c0:c1:cs]
        if isinstance(e, sp.BlockMatrix):
            blocks = e.blocks
            return np.block(
                [[arg(blocks[i, j]) for j in range(blocks.cols)] for i in range(blocks.rows)]
            )
        if isinstance(e, ElementwiseApplyFunction):
            if e.function not in self.bodies:
                var = sp.Dummy("u")
                body = _mp_function([var], e.function(var))
                self.bodies[e.function] = np.frompyfunc(body, 1, 1)
            return self.bodies[e.function](arg(e.expr))
        raise SymmlError(
            f"a matches claim's steps cannot evaluate {type(e).__name__} numerically; "
            "write that step with products, sums, ⊙, elementwise functions and slices"
        )


def _badness(got: np.ndarray, want: np.ndarray, rtol: float) -> tuple[int, float]:
    """The worst component and how many times its difference exceeds the tolerance."""
    # float64 rounds at about 1e-16 of the terms it combines, which are O(1) even where the
    # result is tiny (σ'(30) = σ(1 - σ) ≈ 9e-14), hence an absolute floor of ATOL
    scale = max(float(np.max(np.abs(want))), 1.0)
    err = np.where(np.isfinite(got), np.abs(got - want), np.inf)
    allowed = rtol * np.maximum(np.abs(got), np.abs(want)) + ATOL * scale
    ratio = err / np.maximum(allowed, 1e-300)
    k = int(np.argmax(ratio))
    return k, float(ratio[k])


def _mp_values(
    function: Callable[..., Any],
    atoms: Sequence[Any],
    point: Mapping[Any, float],
    digits: int = DIGITS,
):
    """The value at ``point`` as a list of floats, or None where it is undefined."""
    with mpmath.workdps(digits):
        try:
            value = function(*(mpmath.mpf(point[a]) for a in atoms))
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            return None
        flat = list(value) if isinstance(value, (sp.MatrixBase, list, tuple)) else [value]
        if hasattr(value, "tolist"):
            flat = [x for row in value.tolist() for x in (row if isinstance(row, list) else [row])]
        out = []
        for x in flat:
            if isinstance(x, mpmath.mpc):
                if abs(x.imag) > mpmath.mpf(10) ** (-digits + 5) * max(1, abs(x.real)):
                    return None
                x = x.real
            number = float(x)
            if not math.isfinite(number):
                return None
            out.append(number)
    return out


def _as_float(values: list[float] | None, symbolic: Any) -> Any:
    if values is None:
        return None
    if isinstance(symbolic, sp.MatrixBase):
        rows, cols = symbolic.shape
        array = np.asarray(values, dtype=np.float64).reshape(rows, cols)
        return array[:, 0] if cols == 1 else array
    return float(values[0])


def _short(value: float) -> str:
    return f"{value:.6g}"


# -- optimizers --------------------------------------------------------------------------------
def _compare_steps(
    claim: Matches, reference: Reference, specs: Mapping[str, SymbolSpec], seed: int
) -> Measurement:
    run = claim.run
    if run is None:
        raise SymmlError(f"{claim.reference} is an optimizer: give the claim a Run of the rule")
    targets = [t for t, _ in run.assignments]
    state = [t for t in dict.fromkeys(targets) if t != run.weights]
    feeds_gradient = isinstance(run.gradient, sp.Symbol)
    fixed = [run.weights, *state, *([run.gradient] if feeds_gradient else [])]
    if run.step is not None:
        fixed.append(run.step)
    observe = run.observe if run.observe is not None else run.weights
    hyper_exprs = [
        e
        for _, v in claim.inputs
        for e in (v if isinstance(v, tuple) else (v,))
        if isinstance(e, sp.Basic)
    ]
    hyper_atoms = [
        a
        for a in free_atoms([*hyper_exprs, *(v for _, v in run.assignments), observe])
        if a not in fixed
    ]
    args = [*fixed, *hyper_atoms]
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)

    def settings(typical: bool) -> dict[Any, float]:
        values = {a: float(sample_value(domain_of(a, specs), rng)) for a in hyper_atoms}
        if typical:
            for a in hyper_atoms:
                spec = specs.get(str(a))
                values[a] = float(spec.typical) if spec and spec.typical is not None else 1e-3
        return values

    runs = [(settings(False), False) for _ in range(RUNS)] + [(settings(True), True)] * 2
    call = reference.load()
    plan = _Plan(run, state, feeds_gradient, observe, hyper_atoms, args)
    worst: tuple[float, Measurement] | None = None
    for number, (values, extreme) in enumerate(runs):
        w0 = nprng.normal(0.0, 1.0, WIDTH)
        if extreme:
            magnitude = np.array([1e-6, -1e-6, 1e6, 0.0, 1.0, -1.0])
        else:
            magnitude = nprng.choice([-1, 1], WIDTH) * 10.0 ** nprng.uniform(-3, 1, WIDTH)
        wobble = nprng.uniform(0.5, 1.5, (STEPS, WIDTH)) if number % 2 == 0 else 1.0
        grads = magnitude * wobble * np.ones((STEPS, WIDTH))
        gradient = _Gradient(grads, np.abs(magnitude) + 0.1, nprng.normal(0.0, 1.0, WIDTH))
        mine = _run_catalog(plan, values, w0, gradient)
        hyper = {name: _hyper_value(v, values) for name, v in claim.inputs}
        theirs = call(hyper, mine[0].copy(), gradient if feeds_gradient else gradient.at, STEPS)
        found = _worst_step(mine, theirs, grads if feeds_gradient else None, values, hyper_atoms)
        if worst is None or found[0] > worst[0]:
            worst = found
    assert worst is not None
    return _with_counts(worst[1], RUNS, 2)


@dataclass(frozen=True)
class _Plan:
    run: Any
    state: list[Any]
    feeds_gradient: bool
    observe: Any
    hyper_atoms: list[Any]
    args: list[Any]


@dataclass(frozen=True)
class _Gradient:
    """The gradients of one run: fed step by step, or those of a quadratic loss at ``w``."""

    fed: np.ndarray
    curvature: np.ndarray
    minimum: np.ndarray

    def __call__(self, w: np.ndarray, k: int) -> np.ndarray:
        return self.fed[k - 1]

    def at(self, w: np.ndarray, k: int = 0) -> np.ndarray:
        return self.curvature * (w - self.minimum)


def _run_catalog(
    plan: _Plan, values: Mapping[Any, float], w0: np.ndarray, gradient: _Gradient
) -> np.ndarray:
    """The catalog's rule run for ``STEPS`` steps; the observed quantity after each."""
    run = plan.run
    namespace = {} if plan.feeds_gradient else {run.gradient.__name__: gradient.at}
    steps = [
        (t, sp.lambdify(plan.args, v, modules=[namespace, "numpy"], dummify=True))
        for t, v in run.assignments
    ]
    watch = sp.lambdify(plan.args, plan.observe, modules=[namespace, "numpy"], dummify=True)
    env: dict[Any, Any] = {run.weights: w0.copy(), **{s: np.zeros(WIDTH) for s in plan.state}}
    hyper = [values[a] for a in plan.hyper_atoms]

    def current(k: int) -> list[Any]:
        extra = [gradient(env[run.weights], k)] if plan.feeds_gradient else []
        counter = [float(k)] if run.step is not None else []
        return [env[run.weights], *(env[s] for s in plan.state), *extra, *counter, *hyper]

    trail = [np.asarray(watch(*current(1)), dtype=float) * np.ones(WIDTH)]
    for k in range(1, STEPS + 1):
        for target, function in steps:
            env[target] = np.asarray(function(*current(k)), dtype=float) * np.ones(WIDTH)
        trail.append(np.asarray(watch(*current(k)), dtype=float) * np.ones(WIDTH))
    return np.stack(trail)


def _hyper_value(value: Any, values: Mapping[Any, float]) -> Any:
    if isinstance(value, tuple):
        return tuple(_hyper_value(v, values) for v in value)
    if isinstance(value, (bool, str)):
        return value
    return float(sp.sympify(value).xreplace({a: sp.Float(v, 20) for a, v in values.items()}))


def _worst_step(
    mine: np.ndarray,
    theirs: np.ndarray,
    grads: np.ndarray | None,
    values: Mapping[Any, float],
    hyper_atoms: Sequence[Any],
) -> tuple[float, Measurement]:
    step_mine = np.diff(mine, axis=0)
    step_theirs = np.diff(theirs, axis=0)
    err = np.abs(mine[1:] - theirs[1:])
    err = np.where(np.isfinite(theirs[1:]) & np.isfinite(mine[1:]), err, np.inf)
    size = np.maximum(np.abs(step_mine), np.abs(step_theirs))
    allowed = STEP_RTOL * size + 1e-15 * np.maximum(np.abs(mine[1:]), 1.0)
    badness = err / np.maximum(allowed, 1e-300)
    # the first step at which the two part ways shows the difference most plainly
    bad = np.argwhere(badness > 1)
    k, j = tuple(bad[0]) if len(bad) else np.unravel_index(np.argmax(badness), badness.shape)
    point = {str(a): _short(values[a]) for a in hyper_atoms}
    if grads is not None:
        point["g"] = _short(float(grads[k, j]))
    ratio = float(step_mine[k, j] / step_theirs[k, j]) if step_theirs[k, j] else math.inf
    relative = float(err[k, j] / max(size[k, j], 1e-300))
    found = Measurement(
        0,
        0,
        float(err[k, j]),
        relative,
        bool(len(bad)),
        point,
        f"step {_short(float(step_mine[k, j]))}",
        f"step {_short(float(step_theirs[k, j]))}",
        f"step {k + 1}",
        ratio,
    )
    return float(np.max(badness)), found
