"""Gradients: derived symbolically, cross-checked, and returned in a readable form.

Scalars by ``sympy.diff``; indexed elements (∂L/∂ŷᵢ) through finite sums at concrete
sizes; matrices by the rules of ``symml.calculus`` (gradients of scalars, Jacobians of
vectors), each result cross-checked elementwise at concrete sizes. Where the rules do not
apply the answer is the elementwise derivative at stated sizes, or a one-line refusal.
SymPy's own matrix ``diff`` is not used: SymPy 1.14 returns 0 for ∂ log det X/∂X and
∂(gᵀWx)/∂W.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from symml import calculus
from symml.catalog import primitives as functions
from symml.catalog.model import Formula
from symml.engine import symbolic
from symml.engine.equality import shape_of
from symml.engine.kink_note import kink_note
from symml.errors import DerivationError, SymbolicTimeout
from symml.evaluate.explicit import explicit, size_assignments
from symml.runtime import bounded, guard

READABLE_DEGREE = 3


@dataclass(frozen=True)
class Gradient:
    """∂ of / ∂ wrt: the raw derivative, a readable form, and how it was checked."""

    of: Any
    wrt: Any
    value: Any
    readable: Any
    checked: str
    note: str = ""  # where the function has kinks, and the convention used there

    @property
    def shown(self) -> Any:
        """The form to show: the readable one where there is one."""
        return self.readable if self.readable is not None else self.value

    def describe(self, timeout: float = 10.0) -> str:
        line = f"∂/∂{self.wrt}: {printed(self.shown, timeout)}    [{self.checked}]"
        return line + (f"\n  note: {self.note}" if self.note else "")

    def as_dict(self, timeout: float = 10.0) -> dict[str, str]:
        """The JSON form of ``symml grad --json``."""
        return {
            "of": printed(self.of, timeout),
            "wrt": str(self.wrt),
            "value": printed(self.shown, timeout),
            "form": "matrix" if isinstance(self.value, sp.MatrixExpr) else "scalar",
            "checked": self.checked,
            **({"note": self.note} if self.note else {}),
        }


def printed(value: Any, timeout: float = 10.0, printer: Any = sp.sstr) -> str:
    """``printer(value)`` under a deadline: SymPy's printers can run for minutes on a matrix
    expression of a few hundred nodes (they evaluate while they print)."""
    if not isinstance(value, sp.MatrixExpr) or isinstance(value, sp.MatrixSymbol):
        return printer(value)
    try:
        return bounded.run_bounded(printer, value, timeout=timeout, step="printing")
    except SymbolicTimeout:
        nodes = sum(1 for _ in sp.preorder_traversal(value))
        return f"<a matrix expression of {nodes} nodes that SymPy could not print in {timeout:g} s>"


def grad(
    target: Formula | sp.Basic,
    wrt: Any = None,
    *,
    all_symbols: bool = False,
    sizes: Mapping[Any, int] | None = None,
    timeout: float = 10.0,
    conditions: Sequence[Any] = (),
) -> list[Gradient]:
    """Gradients of a formula or an expression.

    ``wrt``: a symbol or its name, or an element of an indexed family (``z[i]``); default:
    the only variable, or with ``all_symbols`` every non-size variable. ``sizes`` returns the
    explicit elementwise result at concrete sizes. ``conditions`` (``Eq(Σy, 1)``) are used to
    simplify the readable form. ``timeout`` is the call's deadline: its symbolic steps share
    it, and past it and a few seconds (``guard.grace``) the call raises ``SymbolicTimeout``.
    Powers and numbers past ``guard``'s limits are refused (``SizeError``) before any work.
    """
    guard.refuse_oversized([target, wrt, *conditions], "grad")
    return bounded.run_with_deadline(
        _gradients,
        target,
        wrt,
        all_symbols,
        sizes,
        timeout,
        tuple(conditions),
        timeout=timeout,
        grace=guard.grace(timeout),
        step="grad",
    )


def _gradients(
    target: Formula | sp.Basic,
    wrt: Any,
    all_symbols: bool,
    sizes: Mapping[Any, int] | None,
    timeout: float,
    conditions: Sequence[Any],
) -> list[Gradient]:
    if isinstance(wrt, sp.Indexed):
        expr = target.expr if isinstance(target, Formula) else target
        return [_guarded_one(expr, wrt, None, sizes, timeout, _name(target), conditions)]
    expr = target.expr if isinstance(target, Formula) else target
    own = target.lhs if isinstance(target, Formula) else None
    candidates = _variables(target, expr)
    if wrt is None:
        if len(candidates) == 1 or all_symbols:
            chosen = candidates
        else:
            names = ", ".join(sorted(str(c) for c in candidates))
            raise DerivationError(_name(target), f"several variables ({names}); pass --wrt")
    else:
        chosen = [_resolve(wrt, candidates, target)]
    return [_guarded_one(expr, w, own, sizes, timeout, _name(target), conditions) for w in chosen]


def _guarded_one(
    expr: Any,
    wrt: Any,
    own: Any,
    sizes: Mapping[Any, int] | None,
    timeout: float,
    name: str,
    conditions: Sequence[Any],
) -> Gradient:
    """One derivative; a SymPy failure deep inside becomes a one-line ``DerivationError``."""
    try:
        if isinstance(wrt, sp.Indexed):
            result = _indexed(expr, wrt, conditions, timeout, name)
        else:
            result = _one(expr, wrt, own, sizes, timeout, name)
        notes = [result.note, kink_note(expr, result.shown, wrt)]
        return replace(result, note="; ".join(n for n in notes if n))
    except (DerivationError, SymbolicTimeout):
        raise
    except RecursionError:
        raise DerivationError(
            name, f"∂/∂{wrt}: the expression nests too deeply for SymPy; pass sizes={{...}}"
        ) from None
    except Exception as exc:  # a SymPy failure is reported in one line, never a traceback
        raise DerivationError(
            name, f"∂/∂{wrt} failed inside SymPy ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None


def vjp(
    target: Formula | sp.Basic, wrt: Any, upstream: str = "G", *, timeout: float = 10.0
) -> Gradient:
    """The vector-Jacobian product ∂⟨G, F⟩/∂wrt of a matrix-valued ``F``: what backprop
    needs from a layer, with ``G`` (named ``upstream``) the gradient flowing into F."""
    expr = target.expr if isinstance(target, Formula) else target
    name = _name(target)
    if not isinstance(expr, sp.MatrixExpr):
        raise DerivationError(
            name, "--upstream needs a matrix-valued formula; use grad for scalars"
        )
    chosen = _resolve(wrt, _variables(target, expr), target)
    if not isinstance(chosen, sp.MatrixSymbol):
        raise DerivationError(name, f"--upstream differentiates by a matrix symbol, not {chosen}")
    weight = sp.MatrixSymbol(upstream, *expr.shape)
    try:
        result = bounded.run_bounded(
            calculus.vector_jacobian_product, expr, chosen, weight, timeout=timeout, step="VJP"
        )
    except SymbolicTimeout as exc:
        raise DerivationError(name, str(exc)) from None
    except DerivationError as exc:
        raise DerivationError(name, f"VJP by {chosen}: {exc.problem}") from None
    return Gradient(
        expr, chosen, result.value, None, f"VJP with upstream {upstream}: {result.method}"
    )


def variables(target: Formula | sp.Basic) -> list[Any]:
    """Everything ``grad`` can differentiate ``target`` by: scalars, matrices, and one
    element ``W[i]`` of each indexed family."""
    expr = target.expr if isinstance(target, Formula) else target
    return _variables(target, expr)


def _name(target: Any) -> str:
    return target.id if isinstance(target, Formula) else sp.sstr(target)


def _variables(target: Any, expr: Any) -> list[Any]:
    if isinstance(target, Formula):
        kinds = ("scalar", "matrix")
        found = [s.symbol for s in target.symbols if s.kind in kinds and _mentions(expr, s.symbol)]
        indices = [s.symbol for s in target.symbols if s.kind == "index"]
        for spec in target.symbols:
            if spec.kind == "indexed" and _mentions(expr, spec.symbol):
                rank = max(1, len(spec.shape.dims))
                element = _family_element(expr, spec.symbol, indices, rank)
                if element is not None:
                    found.append(element)
        return found
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    return [s for s in symbols if isinstance(s, (sp.Symbol, sp.MatrixSymbol))]


def _family_element(expr: Any, base: sp.IndexedBase, indices: list[Any], rank: int) -> Any:
    """``W[i]`` for a family ``W``: the index it is used with outside any sum, else an index
    of the formula that the expression does not use (``ŷ[i]`` of Σ_j (y_j − ŷ_j)²)."""
    free = expr.free_symbols
    for element in sorted(expr.atoms(sp.Indexed), key=sp.default_sort_key):
        if element.base == base and all(i in free for i in element.indices):
            return element
    used = {s for node in expr.atoms(sp.Sum) for s, *_ in node.limits} | free
    spare = [i for i in indices if i not in used]
    return base[tuple(spare[:rank])] if len(spare) >= rank else None


def _mentions(expr: Any, symbol: Any) -> bool:
    return isinstance(expr, sp.Basic) and expr.has(symbol)


def _resolve(wrt: Any, candidates: list[Any], target: Any) -> Any:
    if not isinstance(wrt, str):
        return wrt
    wanted = wrt.replace(" ", "")
    for candidate in candidates:
        if str(candidate).replace(" ", "") == wanted:
            return candidate
    for candidate in candidates:  # a family by its name: W → W[i]
        if isinstance(candidate, sp.Indexed) and str(candidate.base) == wanted.split("[")[0]:
            return candidate
    names = ", ".join(sorted(str(c) for c in candidates)) or "none"
    raise DerivationError(_name(target), f"no variable '{wrt}' to differentiate by; it has {names}")


def _one(
    expr: Any, wrt: Any, own: Any, sizes: Mapping[Any, int] | None, timeout: float, name: str
) -> Gradient:
    if isinstance(wrt, sp.MatrixSymbol):
        return _matrix(expr, wrt, sizes, timeout, name)
    if isinstance(expr, sp.MatrixExpr):
        return _vector_by_scalar(expr, wrt, timeout, name)
    if size_assignments([expr])[0]:
        return _scalar_of_tensor(expr, wrt, timeout, name)
    value = calculus.scalar_derivative(expr, wrt)
    own = own if own is not None else recognise(expr, wrt, timeout)
    readable = readable_form(value, expr, wrt, own, timeout)
    checked = "sympy.diff" + ("; readable form proved equal" if readable is not None else "")
    return Gradient(expr, wrt, value, readable, checked)


def _matrix(
    expr: Any, wrt: Any, sizes: Mapping[Any, int] | None, timeout: float, name: str
) -> Gradient:
    """Matrix calculus by rules (``symml.calculus``), guarded; where the rules refuse, the
    elementwise derivative at concrete sizes with the reason stated."""
    if sizes:
        at = dict(sizes)
        return Gradient(expr, wrt, _elementwise(expr, wrt, at, name), None, f"elementwise at {at}")
    try:
        result = bounded.run_bounded(
            calculus.matrix_derivative, expr, wrt, timeout=timeout, step="matrix calculus"
        )
    except SymbolicTimeout as exc:
        reason = str(exc)
    except DerivationError as exc:
        if "4-index tensor" in exc.problem:
            raise DerivationError(name, f"∂/∂{wrt}: {exc.problem}") from None
        reason = exc.problem
    else:
        label = (
            "Jacobian ∂f_i/∂x_j (rows follow the output), "
            if result.kind == calculus.JACOBIAN
            else ""
        )
        return Gradient(expr, wrt, result.value, None, label + result.method, result.legend)
    at = size_assignments([expr, wrt])[0]
    value = _elementwise(expr, wrt, at, name)
    shown = ", ".join(f"{k}={v}" for k, v in at.items()) or "the given sizes"
    return Gradient(expr, wrt, value, None, f"elementwise at {shown} (no matrix form: {reason})")


def _vector_by_scalar(expr: Any, wrt: Any, timeout: float, name: str) -> Gradient:
    try:
        result = bounded.run_bounded(
            calculus.derivative_by_scalar, expr, wrt, timeout=timeout, step="∂(vector)/∂(scalar)"
        )
    except DerivationError as exc:
        raise DerivationError(name, f"∂/∂{wrt}: {exc.problem}") from None
    checked = (
        f"SymPy's matrix derivative, cross-checked elementwise at {calculus.sizes_text(result)}"
    )
    return Gradient(expr, wrt, result.value, None, checked)


def _elementwise(expr: Any, wrt: Any, at: Mapping[Any, int], name: str) -> Any:
    """∂expr/∂wrt written out at concrete sizes (the expansion refuses what it cannot write)."""
    try:
        return calculus.reference_derivative(expr, wrt, at)
    except DerivationError as exc:
        raise DerivationError(name, f"∂/∂{wrt}: {exc.problem}") from None


def _indexed(
    expr: Any, wrt: sp.Indexed, conditions: Sequence[Any], timeout: float, name: str
) -> Gradient:
    """∂/∂z_i of a formula with sums over an indexed family, e.g. cross-entropy of a softmax:
    the Kronecker deltas are summed out, the range guard of the index dropped, softmax
    sub-expressions named ŷ_i, and equality conditions (Σ y = 1) substituted."""
    raw = calculus.scalar_derivative(expr, wrt)
    try:
        value = bounded.run_bounded(_sum_out, raw, timeout=timeout, step="sum out deltas")
    except SymbolicTimeout:
        value = raw
    value = _drop_index_guard(value)
    readable = _name_softmax(value, wrt)
    for condition in conditions:
        if isinstance(condition, sp.Eq) and isinstance(condition.lhs, sp.Sum):
            readable = _replace_sum(readable, condition.lhs, condition.rhs)
    readable = sp.expand(readable) if readable is not None else None
    index_value = {i: 1 for i in wrt.indices if isinstance(i, sp.Symbol)}
    sizes_text = _confirm(
        name,
        size_assignments([expr]),
        lambda at: (
            explicit(value.xreplace(index_value), at),
            calculus.scalar_derivative(
                explicit(expr.xreplace(index_value), at),
                wrt.xreplace(index_value).xreplace(dict(at)),
            ),
        ),
        lambda at: f"∂/∂{wrt} could not be confirmed on finite sums at {at}",
        timeout,
    )
    note = " (readable form under the given conditions)" if conditions else ""
    return Gradient(
        expr,
        wrt,
        value,
        readable,
        f"sympy.diff, deltas summed out, cross-checked on finite sums at {sizes_text}{note}",
    )


def _sum_out(raw: Any) -> Any:
    return sp.simplify(raw.doit())


def _drop_index_guard(value: Any) -> Any:
    """Piecewise((v, (i >= 1) & (i <= k)), (0, True)) → v: i is an index in its range."""
    if isinstance(value, sp.Piecewise) and len(value.args) == 2 and value.args[1].cond == sp.true:
        return value.args[0].expr
    return value


def _name_softmax(value: Any, wrt: sp.Indexed) -> Any:
    """exp(z_i)/Σ_l exp(z_l) → ŷ_i (the softmax's own value)."""
    base, index = wrt.base, wrt.indices[0]
    for total in value.atoms(sp.Sum):
        ((bound, _, _),) = total.limits
        if total.function == sp.exp(base[bound]):
            yhat = sp.IndexedBase("yhat")
            return sp.simplify(value.subs(sp.exp(base[index]), yhat[index] * total))
    return None


def _replace_sum(value: Any, total: sp.Sum, replacement: Any) -> Any:
    ((bound, lo, hi),) = total.limits
    probe = sp.Dummy("j")

    def same(e: sp.Basic) -> bool:
        if not isinstance(e, sp.Sum) or len(e.limits) != 1:
            return False
        ((b, l, h),) = e.limits
        return (l, h) == (lo, hi) and e.function.xreplace({b: probe}) == total.function.xreplace(
            {bound: probe}
        )

    return value.replace(same, lambda e: replacement)


def _scalar_of_tensor(expr: Any, wrt: Any, timeout: float, name: str) -> Gradient:
    """∂/∂T of a formula with sums over symbolic ranges, checked against the finite sums."""
    value = calculus.scalar_derivative(expr, wrt)
    sizes_text = _confirm(
        name,
        size_assignments([expr]),
        lambda at: (explicit(value, at), calculus.scalar_derivative(explicit(expr, at), wrt)),
        lambda at: (
            f"the derivative by {wrt} at symbolic size could not be "
            f"confirmed against the finite sums at {at}"
        ),
        timeout,
    )
    return Gradient(
        expr, wrt, value, None, f"sympy.diff, cross-checked on finite sums at {sizes_text}"
    )


def _confirm(
    name: str,
    assignments: list[dict],
    pair: Callable[[dict], tuple[Any, Any]],
    failure: Callable[[dict], str],
    timeout: float,
) -> str:
    """The cross-check every symbolic-size result passes before it is returned: at each
    assignment of concrete sizes, ``pair(at)`` gives (the result written out, the elementwise
    reference); a shape or value mismatch raises ``failure(at)``. Returns the sizes checked."""
    for at in assignments:
        candidate, reference = pair(at)
        same = shape_of(candidate) == shape_of(reference) and _is_zero(
            candidate - reference, timeout, "cross-check"
        )
        if not same:
            raise DerivationError(name, failure(at))
    return "; ".join(str(a) for a in assignments)


def _is_zero(difference: Any, timeout: float, step: str) -> bool:
    """A bounded symbolic zero test; a timeout counts as "not shown to be zero"."""
    try:
        return bool(bounded.run_bounded(symbolic.zero_fast, difference, timeout=timeout, step=step))
    except SymbolicTimeout:
        return False


def readable_form(value: Any, expr: Any, wrt: Any, own: Any, timeout: float) -> Any:
    """The derivative as a polynomial in the formula's own value (σ' = σ(1 − σ),
    tanh' = 1 − tanh²), when such a polynomial of low degree exists — found by fitting at
    sample points, then proved equal symbolically."""
    if own is None or not _univariate(expr, wrt):
        return None
    expr, value = functions.elementary(expr), functions.elementary(value)
    y = sp.Dummy("y")
    points = [sp.Rational(k, 7) for k in (-5, -2, 1, 3, 6)]
    rows, rhs = [], []
    try:
        with mpmath.workdps(40):
            for p in points:
                f_val = mpmath.mpf(str(sp.N(expr.subs(wrt, p), 45)))
                rows.append([f_val**k for k in range(READABLE_DEGREE + 1)])
                rhs.append(mpmath.mpf(str(sp.N(value.subs(wrt, p), 45))))
            coefficients = mpmath.lu_solve(
                mpmath.matrix(rows[: READABLE_DEGREE + 1]),
                mpmath.matrix(rhs[: READABLE_DEGREE + 1]),
            )
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    poly = sum(
        sp.nsimplify(sp.Float(str(c), 30), tolerance=1e-20, rational=True) * y**k
        for k, c in enumerate(coefficients)
    )
    if any(abs(sp.Rational(c).q) > 1000 for c in sp.Poly(poly, y).all_coeffs()):
        return None
    if not _is_zero(value - poly.subs(y, expr), timeout, "readable form"):
        return None
    return _as_written(poly, y, own)


def _as_written(poly: sp.Expr, y: sp.Dummy, own: Any) -> Any:
    """y − y² → σ(1 − σ) (a root at 0 is factored out), 1 − y² → 1 − tanh²."""
    poly = sp.expand(poly)
    if poly.subs(y, 0) == 0:
        rest = sp.expand(sp.cancel(poly / y))
        return sp.Mul(own, rest.subs(y, own), evaluate=False)
    return poly.subs(y, own)


def _univariate(expr: Any, wrt: Any) -> bool:
    """A concrete function of ``wrt`` alone (no other symbols, no unknown functions)."""
    return (
        isinstance(wrt, sp.Symbol) and expr.free_symbols == {wrt} and not expr.atoms(AppliedUndef)
    )


def recognise(expr: Any, wrt: Any, timeout: float = 10.0) -> Any:
    """The primitive ``expr`` is the definition of (sigmoid, tanh, softplus), if any."""
    if not _univariate(expr, wrt):
        return None
    expr = functions.elementary(expr)
    for candidate in (functions.sigmoid(wrt), sp.tanh(wrt), functions.softplus(wrt)):
        probe = [sp.Rational(k, 3) for k in (-2, 1, 4)]
        gap = functions.elementary(expr - candidate)
        if any(abs(sp.N(gap.subs(wrt, p), 30)) > 1e-20 for p in probe):
            continue
        if _is_zero(expr - candidate, timeout, "recognise"):
            return candidate
    return None
