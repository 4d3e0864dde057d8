"""``kernel(formula)``: a formula, or its gradient, as a fast and stable NumPy function.

The pipeline: recognise primitives (σ, tanh, softplus) in the formula; differentiate with
SymPy when a gradient is asked for; lower indexed sums to axis reductions; apply the
stable rewrites; fold constants; eliminate common subexpressions; print Python source.
Two bodies are generated: a portable one (whole expressions, runs on NumPy, Dask, JAX,
CuPy) and, for NumPy arrays of one shape, an in-place one that reuses temporaries.

This module is the top of the kernels package: ``plan_for`` chooses the planner
(``windows``, ``matrices``, ``plan``), ``build`` the backend (``backends``), ``kernel``
between a kernel and a sampler (``sampling``); ``Kernel`` is the compiled function.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp
from sympy.stats.rv import RandomSymbol

from symml.catalog.model import Formula, UpdateRule
from symml.errors import UsageError
from symml.kernels.backends import Backend, get_backend, numba, out_list
from symml.kernels.backends.inplace import MISS, InPlace
from symml.kernels.errors import NotKernelisable
from symml.kernels.matrices import matrix_plan
from symml.kernels.plan import (
    Plan,
    entry_expr,
    indexed_plan,
    plan_name,
    resolve,
    specs_of,
    step_plan,
)
from symml.kernels.sampling import Sampler, sampler
from symml.kernels.source import check_code_names, fast_source, portable_source
from symml.kernels.windows import convolution_plan

if TYPE_CHECKING:
    from symml.catalog.loader import Catalog


@dataclass(frozen=True)
class Kernel:
    """A compiled formula. Call it with arrays by symbol name (or positionally)."""

    name: str
    args: tuple[str, ...]
    outputs: tuple[str, ...]
    source: str
    formula: Formula | None
    expr: Any
    wrt: str | None
    backend: str
    axis: int
    plan: Plan = field(repr=False)
    _backend: Backend = field(repr=False)
    _portable: Callable[..., Any] = field(repr=False)
    #: The in-place NumPy body and its fast lane (backends whose ``inplace`` is set).
    _inplace: InPlace | None = field(default=None, repr=False)
    #: numba's compiled loops (a loopable plan on the numba backend).
    _loops: numba.Loops | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        # The generated source runs to kilobytes; `.source` shows it on request.
        of = f", grad={self.wrt!r}" if self.wrt else ""
        return (
            f"Kernel({self.name!r}{of}, args={self.args}, outputs={self.outputs}, "
            f"backend={self.backend!r})"
        )

    @property
    def portable(self) -> Callable[..., Any]:
        """The portable body, ``portable(*values, axis=…)`` → a tuple of raw results (before
        reduced outputs are squeezed and dtypes and out= honoured): the whole-array
        expressions every backend can run, checked as the backend checks a call."""
        return self._portable

    @property
    def loops(self) -> numba.Loops | None:
        """The numba loops this kernel runs (compiled on first use), or None on a backend
        or a plan without them."""
        return self._loops

    def __call__(self, *positional: Any, out: Any = None, axis: int | None = None, **named: Any):
        if axis is None and self.backend == "numpy" and self._inplace is not None:
            # The fast lane: every argument given, by position or by name, no other axis.
            values = self._given(positional, named)
            if values is not None:
                result = self._inplace.lane(values, out, self.axis)
                if result is not MISS:
                    return result
        values = self._bind(positional, named)
        axis = self.axis if axis is None else axis
        values, dtype = _convert(values, self)
        if self.plan.matrix and dtype == FLOAT32:
            values = _widened(values)
        self._check_axes(values, axis)
        values = self._per_row(values, axis)
        if out is not None:
            self._check_outs(out_list(out, len(self.outputs), self.name), values)
        results = self._run(values, axis, out, dtype)
        return results[0] if len(results) == 1 else tuple(results)

    def _check_outs(self, outs: Sequence[Any], values: Sequence[Any]) -> None:
        """One-line errors for out= buffers the results cannot go into, before anything runs:
        not a NumPy array, read-only, not floating point, or of another shape than the inputs'
        broadcast shape, which every output of an elementwise or one-axis kernel has except the
        reduced ones. Those and matrix outputs have their shape checked when they are copied in
        (``_finish``)."""
        plan = self.plan
        shape = None
        if self._broadcasts:
            try:
                shape = np.broadcast_shapes(*(np.shape(v) for v in values))
            except ValueError:
                shape = None  # the inputs do not broadcast: the call itself says so
        for name, o, reduced in zip(self.outputs, outs, plan.reduced, strict=True):
            if o is None:
                continue
            where = f"kernel '{self.name}': out= for '{name}'"
            if not isinstance(o, np.ndarray):
                raise UsageError(
                    f"{where} is a {type(o).__name__}; pass a NumPy array (or no out=)"
                )
            if not o.flags.writeable:
                raise UsageError(f"{where} is read-only; pass a writable array (or no out=)")
            if o.dtype.kind not in "fc":
                raise UsageError(
                    f"{where} has dtype {o.dtype}; the results are floats: pass a float32 or "
                    "float64 array (or no out=)"
                )
            if shape is not None and not reduced and o.shape != shape:
                raise UsageError(
                    f"{where} has shape {o.shape}; the result's shape is {shape}: pass an array "
                    "of that shape (or no out=)"
                )

    def _given(self, positional: Sequence[Any], named: Mapping[str, Any]) -> list[Any] | None:
        """Every argument, in order, when the call gives each exactly once and nothing else
        (all by position or all by name); None sends the call down the general path."""
        args = self.args
        if positional:
            if named or len(positional) != len(args):
                return None
            return list(positional)
        if len(named) != len(args):
            return None
        try:
            return [named[a] for a in args]
        except KeyError:
            return None

    def _bind(self, positional: Sequence[Any], named: Mapping[str, Any]) -> list[Any]:
        if not positional and len(named) == len(self.args):
            try:
                return [named[a] for a in self.args]
            except KeyError:
                pass  # a misspelt name: the checks below say which
        if len(positional) > len(self.args):
            raise UsageError(
                f"kernel '{self.name}' takes {len(self.args)} arguments "
                f"({', '.join(self.args)}), got {len(positional)}"
            )
        values = dict(zip(self.args, positional, strict=False))
        for key, value in named.items():
            if key not in self.args:
                raise UsageError(
                    f"kernel '{self.name}' has no argument '{key}'; it takes {', '.join(self.args)}"
                )
            if key in values:
                raise UsageError(f"kernel '{self.name}': argument '{key}' given twice")
            values[key] = value
        missing = [a for a in self.args if a not in values]
        if missing:
            raise UsageError(f"kernel '{self.name}' is missing {', '.join(missing)}")
        return [values[a] for a in self.args]

    def _run(self, values: list[Any], axis: int, out: Any, dtype: Any) -> list[Any]:
        """The general path: numba's loop where it takes the call (its results are final),
        else the in-place body where it applies, else the portable one, then ``_finish``."""
        if self._loops is not None and dtype in (np.float32, np.float64):
            # float16, float128: no loop of them.
            looped = self._loops.run(values, out, dtype)
            if looped is not None:
                return looped
        outs = out_list(out, len(self.outputs), self.name)
        shapes = [_shape(v) for v in values]
        key = tuple(len(s) > 0 for s in shapes)
        inplace = self._inplace
        try:
            if inplace is not None and inplace.applies(values, shapes, key):
                results = inplace.run(values, key, axis, outs, dtype)
            else:
                results = list(self._portable(*values, axis=axis))
        except (ValueError, IndexError) as exc:
            raise self._misfit(values, exc) from None
        except TypeError as exc:
            if "not supported for the input types" not in str(exc):
                raise
            raise UsageError(
                f"kernel '{self.name}': its special functions take float32 or float64, not "
                f"{dtype}: pass arrays of one of those (e.g. x.astype(np.float64))"
            ) from None
        return self._finish(results, values, shapes, key, axis, outs, dtype)

    @property
    def _broadcasts(self) -> bool:
        """Whether the arguments broadcast together into the unreduced outputs' shape (not
        so for matrix products, tables, windows, or sizes read off an argument)."""
        plan = self.plan
        return not (plan.matrix or plan.sizes or plan.axes > 1)

    def _check_axes(self, values: list[Any], axis: int) -> None:
        """A family needs as many axes as it is indexed by, and ``axis`` must be one of them."""
        plan = self.plan
        if plan.matrix or not plan.families:
            return
        for a, v in zip(self.args, values, strict=True):
            if a not in plan.families:
                continue
            ndim = _ndim(v)
            if ndim < plan.axes:
                raise UsageError(
                    f"kernel '{self.name}': '{a}' has shape {tuple(np.shape(v))}; it is indexed "
                    f"along {plan.axes} axes: pass an array of at least {plan.axes} dimensions"
                )
            if plan.axes == 1 and ndim and not -ndim <= axis < ndim:
                raise UsageError(
                    f"kernel '{self.name}': axis={axis} is out of range for '{a}' of "
                    f"{ndim} dimension{'s' if ndim > 1 else ''}: pass an axis in "
                    f"[{-ndim}, {ndim - 1}]"
                )

    def _misfit(self, values: list[Any], exc: ValueError | IndexError) -> Exception:
        """NumPy's shape error from inside the body (or from lining up the results), as one
        line naming the arguments. An IndexError is a size read off an axis an argument
        does not have (``W.shape[-2]`` of a vector)."""
        if isinstance(exc, UsageError):
            return exc
        text = str(exc).strip()
        message = text.splitlines()[0] if text else type(exc).__name__
        if isinstance(exc, IndexError):
            message = "an argument has fewer axes than the formula indexes it by"
        shaped = ("broadcast", "shape", "dimension", "unpack", "mismatch", "size", "axes")
        if not any(word in message for word in shaped):
            return exc
        given = ", ".join(
            f"{a} {tuple(np.shape(v))}" for a, v in zip(self.args, values, strict=True)
        )
        declared = ""
        if self.formula is not None:
            dims = [
                f"{spec.name} {spec.shape.describe()}"
                for spec in self.formula.symbols
                if spec.name in self.args and not spec.shape.is_scalar
            ]
            declared = f" (declared: {', '.join(dims)})" if dims else ""
        return UsageError(
            f"kernel '{self.name}': arguments of shapes {given} do not fit together"
            f"{declared}: {message}"
        )

    def _per_row(self, values: list[Any], axis: int) -> list[Any]:
        """A scalar of the formula given as an array with one axis fewer than the families
        (μ from ``layernorm.mean``, whose reduced output comes out squeezed) is one value per
        row: it gets the axis back. NumPy would line it up with the last axis instead, a
        value per position along the sum, which is not the formula (μ is constant in Σᵢ)."""
        plan = self.plan
        if plan.matrix or plan.axes != 1 or not plan.families:
            return values
        named = dict(zip(self.args, values, strict=True))
        family = next((a for a in self.args if a in plan.families), None)
        full = _ndim(named[family]) if family is not None else 0
        if full < 2:
            return values
        position = axis % full
        family_shape = tuple(np.shape(named[family]))
        rows = family_shape[:position] + family_shape[position + 1 :]
        aligned = list(values)
        for n, a in enumerate(self.args):
            v = named[a]
            if a in plan.families or _ndim(v) != full - 1:
                continue
            shape = tuple(np.shape(v))
            try:
                fits = np.broadcast_shapes(shape, rows) == rows
            except ValueError:
                fits = False
            if not fits:
                raise UsageError(
                    f"kernel '{self.name}': '{a}' has shape {shape}, one axis fewer than "
                    f"'{family}' {family_shape}, so it is one value per row, but the rows "
                    f"are {rows}: pass an array of that shape, or one with the axis kept"
                )
            aligned[n] = self._backend.xp.expand_dims(v, position)
        return aligned

    def _finish(
        self,
        results: list[Any],
        values: list[Any],
        shapes: list[Any],
        key: tuple[bool, ...],
        axis: int,
        outs: list[Any],
        dtype: Any,
    ) -> list[Any]:
        """Reduced outputs squeezed, constant ones broadcast, dtypes and out= honoured."""
        xp = self._backend.xp
        final = []
        for n, (r, reduced) in enumerate(zip(results, self.plan.reduced, strict=True)):
            ndim = _ndim(r)
            if reduced and self.plan.axes == 2 and ndim > 1:
                r = xp.squeeze(r, axis=(axis - 1, axis))
            elif reduced and ndim > 0 and r.shape[axis] == 1:
                r = xp.squeeze(r, axis=axis)
            elif not reduced and any(key) and self._broadcasts:
                # An output that does not read the widest argument (a constant gradient,
                # ∂BCE/∂y with y of shape (4, 1) and ŷ of (1, 6)) still has the call's
                # shape: one value per element, as NumPy's broadcasting would give.
                try:
                    shape = np.broadcast_shapes(*[s for s in shapes if s])
                except ValueError as exc:  # arguments the output does not read
                    raise self._misfit(values, exc) from None
                if np.shape(r) != shape:
                    if ndim:
                        r = xp.broadcast_to(r, shape)
                    else:  # an array of the arguments' kind: lazy for dask, writable for NumPy
                        like = next(v for v, is_array in zip(values, key, strict=True) if is_array)
                        r = xp.full_like(like, r, dtype=dtype, shape=shape)
                    if isinstance(r, np.ndarray) and not r.flags.writeable:
                        r = r.copy()  # writable, as every other result is
            if not hasattr(r, "dtype"):
                r = dtype.type(r)  # a constant of an all-number call: a number of its dtype
            elif r.dtype != dtype:
                r = r.astype(dtype)
            if outs[n] is not None and r is not outs[n]:
                if np.shape(outs[n]) != np.shape(r):
                    raise UsageError(
                        f"kernel '{self.name}': out= for '{self.outputs[n]}' has shape "
                        f"{np.shape(outs[n])}; the result's shape is {np.shape(r)}: pass an "
                        "array of that shape (or no out=)"
                    )
                outs[n][...] = r
                r = outs[n]
            final.append(r)
        return final


def _convert(values: list[Any], kernel: Kernel) -> tuple[list[Any], Any]:
    """Integers become floats (never truncated results); scalars take the arrays' dtype so
    float32 arrays are not promoted by a float64 hyper-parameter. Anything that is not a real
    number or an array of them (a string, None, complex values) is refused, naming it."""
    # The common call, float arrays of one dtype, needs none of it (a third of the call's
    # overhead on small arrays).
    first = values[0] if values else None
    if type(first) is np.ndarray and first.dtype.kind == "f":
        dtype = first.dtype
        if all(type(v) is np.ndarray and v.dtype == dtype and v.ndim for v in values):
            return values, dtype
    converted = list(values)
    array_dtypes: list[np.dtype] = []
    scalar_dtypes: list[np.dtype] = []
    scalars: list[int] = []  # positions of 0-d values, cast to the common dtype below
    for n, v in enumerate(converted):
        if isinstance(v, bool | int | float):
            converted[n] = float(v)
            scalar_dtypes.append(FLOAT64)
            scalars.append(n)
            continue
        if isinstance(v, list | tuple):
            try:
                v = converted[n] = np.asarray(v, dtype=float)
            except (TypeError, ValueError):
                raise _not_real(kernel, n, v) from None
        dtype = getattr(v, "dtype", None)
        if dtype is None:
            if not isinstance(v, numbers.Real):
                raise _not_real(kernel, n, v)
            scalar_dtypes.append(FLOAT64)
            continue
        dtype = np.dtype(dtype)
        if dtype.kind not in "biuf":
            raise _not_real(kernel, n, v)
        if dtype.kind in "biu":
            v = converted[n] = v.astype(np.float64)
            dtype = FLOAT64
        if _ndim(v) > 0:
            array_dtypes.append(dtype)
        else:
            scalar_dtypes.append(dtype)
            if isinstance(v, np.generic | np.ndarray):
                scalars.append(n)
    floats = array_dtypes or scalar_dtypes
    if not floats:
        dtype = FLOAT64
    elif all(f == floats[0] for f in floats):
        dtype = floats[0]
    else:
        dtype = np.result_type(*floats)
    scalar = dtype.type
    for n in scalars:
        if type(converted[n]) is not scalar:
            converted[n] = scalar(converted[n])
    return converted, dtype


FLOAT64 = np.dtype(np.float64)
FLOAT32 = np.dtype(np.float32)


def _widened(values: list[Any]) -> list[Any]:
    """float32 NumPy values as float64, for a matrix kernel to compute in (its results are
    cast back to float32 by ``Kernel._finish``). A float32 matrix product, variance or
    softmax denominator of entries near ±1e30 overflows where the result itself is finite
    (LayerNorm of a row of 1e30s is finite; its float32 variance is inf, then nan): a float64
    accumulation keeps them, for a product's cost only in matrix kernels. Other arrays (JAX,
    CuPy, Dask) keep their dtype: their backend decides its precision."""
    return [
        v.astype(np.float64) if isinstance(v, np.ndarray | np.generic) and v.dtype == FLOAT32 else v
        for v in values
    ]


def _not_real(kernel: Kernel, position: int, value: Any) -> UsageError:
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        what = f"an array of {np.dtype(dtype)}"
    elif value is None:
        what = "None"
    elif isinstance(value, list | tuple):
        what = f"a {type(value).__name__} that is not all numbers"
    else:
        what = f"a {type(value).__name__}"
    hint = " (its real part is .real)" if dtype is not None and np.dtype(dtype).kind == "c" else ""
    return UsageError(
        f"kernel '{kernel.name}': '{kernel.args[position]}' is {what}{hint}; the kernels "
        "compute with real numbers: pass a number or an array of them"
    )


def _ndim(v: Any) -> int:
    return v.ndim if isinstance(v, np.ndarray | np.generic) else np.ndim(v)


def _shape(v: Any) -> tuple[int, ...]:
    if isinstance(v, np.ndarray | np.generic):
        return v.shape
    return () if isinstance(v, float | int) else np.shape(v)


def plan_for(
    target: Formula | sp.Basic,
    wrt: Any = None,
    *,
    step: bool = False,
) -> Plan:
    """The lowered, stabilised outputs of a formula (or of its derivative by ``wrt``): a
    convolution (``windows``), a matrix formula (``matrices``), or one over scalars and
    indexed families (``plan``); ``step=True``: an optimizer's update rule."""
    formula = target if isinstance(target, Formula) else None
    name = plan_name(target)
    specs = specs_of(formula)
    try:
        if step:
            return step_plan(formula, specs, name)
        expr = entry_expr(formula.expr if formula else target, specs)
        convolution = convolution_plan(expr, formula, name, wrt)
        if convolution is not None:
            return convolution
        if isinstance(expr, sp.MatrixExpr) or expr.has(sp.MatrixSymbol):
            return matrix_plan(expr, specs, name, wrt)
        return indexed_plan(expr, formula, specs, name, wrt)
    except NotKernelisable as exc:
        raise exc.for_formula(name) from None


def build(
    plan: Plan, formula: Formula | None, expr: Any, wrt: str | None, backend: str, axis: int
) -> Kernel:
    """The kernel of a plan on the backend called ``backend``: its portable body compiled,
    its in-place bodies and numba loops compiled on first use."""
    chosen = get_backend(backend)
    check_code_names(plan)
    portable = portable_source(plan)
    loops = None
    if chosen.name == "numba" and numba.loopable(plan):
        loops = numba.Loops(plan, plan.name)
        source = numba.LOOP_NOTE + numba.numba_source(plan, _default_mask(plan))
    else:
        plain = plan.matrix or plan.axes > 1 or not chosen.inplace
        fast = "" if plain else fast_source(plan, _default_mask(plan))
        if chosen.name == "numba":  # a plan numba cannot loop over: the NumPy bodies
            source = numba.NOT_LOOPABLE_NOTE + portable + "\n" + fast
        else:
            source = portable + ("\n" + fast if fast else "")
    return Kernel(
        plan.name,
        plan.args,
        plan.output_names,
        source,
        formula,
        expr,
        wrt,
        chosen.name,
        axis,
        plan,
        chosen,
        chosen.checked(plan.name, chosen.compile(portable, "portable")),
        InPlace(plan, chosen) if chosen.inplace else None,
        loops,
    )


def _default_mask(plan: Plan) -> tuple[bool, ...]:
    """The in-place body shown in ``.source``: every argument an array of one shape."""
    return tuple(True for _ in plan.args)


def kernel(
    target: Formula | sp.Basic | str,
    *,
    grad: Any = None,
    backend: str = "numpy",
    axis: int = -1,
    step: bool = False,
    catalog: Catalog | None = None,
) -> Kernel | dict[str, Kernel] | Sampler:
    """A fast, stable array function of a formula (or its gradient).

    ``grad``: a symbol (or its name) → the gradient kernel; a list of them or ``"all"`` →
    a dict name → kernel. ``step=True`` on an optimizer formula → its update rule as one
    fused step returning the new state (``out=`` the state arrays updates them in place).
    A formula with random quantities (init.he, dropout) → a ``Sampler``:
    ``sampler(rng, shape, **parameters)`` draws them and evaluates the formula.
    """
    resolved = resolve(target, catalog)
    formula = resolved if isinstance(resolved, Formula) else None
    expr = formula.expr if formula else resolved
    if grad is None and not step and isinstance(expr, sp.Basic) and expr.has(RandomSymbol):
        if backend != "numpy":
            get_backend(backend)  # an unknown or missing backend still says so
            raise UsageError(f"sampler '{plan_name(resolved)}' runs on the numpy backend only")
        return sampler(resolved, kernel)
    if grad is None or step:
        plan = plan_for(resolved, step=step)
        return _noted(build(plan, formula, expr, None, backend, axis), formula, step)
    if isinstance(grad, str) and grad == "all":
        probe = plan_for(resolved)
        names = [a for a in probe.args if _differentiable(a, formula, matrix=probe.matrix)]
    elif isinstance(grad, list | tuple):
        names = [str(g.label) if isinstance(g, sp.IndexedBase) else str(g) for g in grad]
    else:
        plan = plan_for(resolved, grad)
        return _noted(build(plan, formula, expr, str(grad), backend, axis), formula)
    return {
        n: _noted(build(plan_for(resolved, n), formula, expr, n, backend, axis), formula)
        for n in names
    }


def _noted(k: Kernel, formula: Formula | None, step: bool = False) -> Kernel:
    """A kernel computes the formula as the sheet states it, never a silent correction; where
    the catalog records one beside it (warmup's schedule, which jumps at t_warmup), the
    source says so first, with the corrected expression, which ``kernel(expr)`` compiles."""
    if formula is None or step:
        return k
    notes = [
        f"# note: the sheet's formula; the catalog records a correction ({claim.expected.value}"
        f"): {sp.sstr(claim.correction)}; kernel(that expression) compiles it\n"
        for claim in formula.claims
        if isinstance(claim.correction, sp.Expr) and not isinstance(claim, UpdateRule)
    ]
    return replace(k, source="".join(notes) + k.source) if notes else k


def _differentiable(name: str, formula: Formula | None, matrix: bool = False) -> bool:
    """Whether "all" gradients include ``name``: a real argument, and in a matrix formula
    a matrix one (the vector-Jacobian rules are by matrices; ε of LayerNorm is a constant)."""
    if formula is None:
        return True
    try:
        spec = formula.symbol(name)
    except KeyError:
        return True
    return (
        spec.kind in (("matrix",) if matrix else ("scalar", "indexed", "matrix"))
        and not spec.domain.values
        and not spec.domain.integer
    )
