"""``kernel(formula)``: a formula, or its gradient, as a fast and stable NumPy function.

The pipeline: recognise primitives (σ, tanh, softplus) in the formula; differentiate with
SymPy when a gradient is asked for; lower indexed sums to axis reductions; apply the
stable rewrites; fold constants; eliminate common subexpressions; print Python source.
Two bodies are generated: a portable one (whole expressions, runs on NumPy, Dask, JAX,
CuPy) and, for NumPy arrays of one shape, an in-place one that reuses temporaries.
"""

from __future__ import annotations

import keyword
import numbers
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef, Derivative, Subs
from sympy.stats.rv import RandomSymbol

from symml import calculus
from symml.catalog.model import Formula, SymbolSpec, UpdateRule
from symml.errors import UsageError
from symml.kernels import lane, rewrite
from symml.kernels.backends import (
    Backend,
    get_backend,
    numpy_value,
    out_layout,
    writes_an_input,
)
from symml.kernels.blocking import choose_blocking, run_blocked
from symml.kernels.errors import NotKernelisable
from symml.kernels.lower import (
    AXIS_LEN,
    Lowered,
    free_positions,
    lower,
    recognise_max,
)
from symml.kernels.nodes import Log1p, MaxOver, XDivY, XLog1pY, XLogY
from symml.kernels.printer import FULL, SCALAR, InPlaceEmitter, KernelPrinter, expand_ml

GRAD_OUT = "grad_out"
RESERVED = {"xp", "sx", "rt", "np", "axis", "n_axis", "out", "outs"}
#: The generated bodies' own names: temporaries t1, t2 … and common subexpressions _c0 ….
GENERATED = re.compile(r"t\d+|_c\d+")


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
    _fast: dict[tuple[Any, ...], Callable[..., Any] | None] = field(
        default_factory=dict, repr=False
    )
    _lanes: dict[tuple[bool, ...], Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        # The generated source runs to kilobytes; `.source` shows it on request.
        of = f", grad={self.wrt!r}" if self.wrt else ""
        return (
            f"Kernel({self.name!r}{of}, args={self.args}, outputs={self.outputs}, "
            f"backend={self.backend!r})"
        )

    def __call__(self, *positional: Any, out: Any = None, axis: int | None = None, **named: Any):
        if axis is None and type(self) is Kernel and self.backend == "numpy":
            result = lane.call(self, positional, named, out)
            if result is not lane.MISS:
                return result
        values = self._bind(positional, named)
        axis = self.axis if axis is None else axis
        values, dtype = _convert(values, self)
        if self.plan.matrix and dtype == FLOAT32:
            values = _widened(values)
        self._check_axes(values, axis)
        values = self._per_row(values, axis)
        if out is not None:
            _check_outs(self, _outs(out, len(self.outputs), self.name), values)
        results = self._run(values, axis, out, dtype)
        return results[0] if len(results) == 1 else tuple(results)

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
        outs = _outs(out, len(self.outputs), self.name)
        shapes = [_shape(v) for v in values]
        key = tuple(len(s) > 0 for s in shapes)
        try:
            if self._fast_applies(values, shapes, key):
                results = self._run_fast(values, key, axis, outs, dtype)
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

    def _takes_body(self, key: tuple[bool, ...]) -> bool:
        """Whether the in-place body takes this mask of array arguments: a NumPy backend, a
        plan of at most one axis and no matrices, every family argument an array."""
        plan = self.plan
        if not self._backend.inplace or plan.matrix or plan.axes > 1:
            return False
        return all(a for a, n in zip(key, self.args, strict=True) if n in plan.families)

    def _fast_applies(self, values: list[Any], shapes: list[Any], key: tuple[bool, ...]) -> bool:
        """NumPy arrays (and scalars) of one shape, taken by the in-place body."""
        if not self._takes_body(key):
            return False
        first = None
        for v, s, is_array in zip(values, shapes, key, strict=True):
            if not numpy_value(v):
                return False
            if is_array:
                if first is None:
                    first = s
                elif s != first:
                    return False
        return True

    def _run_fast(
        self, values: list[Any], key: tuple[bool, ...], axis: int, outs: list[Any], dtype: Any
    ) -> list[Any]:
        plan = self.plan
        given = any(o is not None for o in outs)
        flat_outs = (
            [o if not r else None for o, r in zip(outs, plan.reduced, strict=True)]
            if given
            else outs
        )
        layout = out_layout(flat_outs, values) if given else None
        if given and layout is None:
            # An out= overlapping an input otherwise than as itself: the results are
            # computed apart and copied in by _finish.
            flat_outs = [None] * len(outs)
        function = self._fast_body(key, guarded=True, outs=layout)
        optimistic = (
            None if writes_an_input(layout) else self._fast_body(key, guarded=False, outs=layout)
        )
        if optimistic is not None:
            fixup = self._fast_body(key, guarded=True)  # writes fresh arrays of the subset

            def body(vs: list[Any], os: list[Any]) -> list[Any]:
                return _optimistic(plan, optimistic, function, vs, axis, os, fixup=fixup)

        else:

            def body(vs: list[Any], os: list[Any]) -> list[Any]:
                return list(function(*vs, axis=axis, outs=os))

        # A body of one call (σ, softmax) has no temporaries for blocks to keep in cache:
        # blocked, it only paid the calls per block (softmax in float64 at 10⁶: 0.94× hand
        # blocked, 0.98× in one piece).
        blocking = (
            None
            if function.operations < 2
            else choose_blocking(
                values,
                flat_outs,
                elementwise=not plan.axis_source and not plan.sizes,
                axis=axis,
                reduced=plan.reduced,
            )
        )
        if blocking is None:
            return body(values, flat_outs)
        return run_blocked(body, blocking, values, flat_outs, plan.reduced, dtype)

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

    def _fast_body(
        self, key: tuple[bool, ...], guarded: bool, outs: tuple[int | None, ...] | None = None
    ) -> Callable[..., Any] | None:
        """The in-place body for this mask of array arguments, compiled once, optionally for
        a layout of the caller's out= buffers (``backends.out_layout``). Unguarded: the
        body without its 0·log 0 guards (None when the plan has none, or cannot drop them)."""
        cache_key = (guarded, key, outs)
        if cache_key not in self._fast:
            plan = self.plan if guarded else unguarded_plan(self.plan)
            if plan is None:
                self._fast[cache_key] = None
            else:
                source = fast_source(plan, key, outs)
                function = _compile(source, self._backend, "fast")
                function.operations = len(re.findall(r"^    t\d+ = ", source, re.MULTILINE))
                self._fast[cache_key] = function
        return self._fast[cache_key]


#: Elements per BLAS dot in the finiteness check. OpenBLAS runs a dot of more than 10 000
#: elements on all its threads; on a machine whose other cores are busy, waiting for them
#: costs a scheduler time slice (measured: 11 ms for a float64 dot of 10⁶, against 0.1 ms),
#: so the check takes one single-threaded dot per row of this length instead.
DOT_CHUNK = 8192


def _not_finite(r: Any) -> bool:
    """Whether r has a nan or ±inf. Called under ``np.errstate(all="ignore")``."""
    if not isinstance(r, np.ndarray) or r.ndim == 0:
        return not bool(np.isfinite(r))
    # One BLAS pass (faster than min and max, and than the pairwise np.sum): r·r is nan or
    # +inf whenever an element is. An r·r that overflows on finite elements (|r| ≳ 1e19 in
    # float32) is a false alarm only: the fix-up then finds no element to recompute.
    if r.size == 0:
        return False
    if r.dtype.kind != "f" or not hasattr(np, "vecdot"):
        return not bool(np.isfinite(r).all())
    flat = r.reshape(-1)
    whole = flat.size - flat.size % DOT_CHUNK
    rows = flat[:whole].reshape(-1, DOT_CHUNK)
    tail = flat[whole:]
    total = np.vecdot(rows, rows).sum() + np.dot(tail, tail)
    return not np.isfinite(total)


def _optimistic(
    plan: Plan,
    optimistic: Callable[..., Any],
    guarded: Callable[..., Any],
    values: list[Any],
    axis: int,
    outs: list[Any],
    *,
    fixup: Callable[..., Any] | None = None,
) -> list[Any]:
    """Run the unguarded body; where it gave nan or ±inf (a dropped guard's 0/0 or 0·log 0, a
    pole whose sign the combined fraction may get wrong), recompute those elements with the
    guarded body. The guards cost nothing on data that never reaches the endpoints, and their
    old price only on the elements that do.

    The body is NumPy ufuncs, so whether it met an endpoint is read off the floating-point
    flags (a division by zero, an invalid operation, an overflow) before the results are
    scanned, which was a fifth of BCE′'s time at 10⁶ elements. A nan *input* raises no flag;
    it gives nan through either body."""
    try:
        with np.errstate(divide="raise", invalid="raise", over="raise", under="ignore"):
            return list(optimistic(*values, axis=axis, outs=outs))
    except FloatingPointError:
        pass
    with np.errstate(all="ignore"):
        results = list(optimistic(*values, axis=axis, outs=outs))
        if not any(_not_finite(r) for r in results):
            return results
    shape = np.broadcast_shapes(*(np.shape(v) for v in values))
    elementwise = not plan.axis_source and not any(plan.reduced) and not plan.matrix
    inputs = [id(v) for v in values]
    if (
        not elementwise
        or not shape
        or any(
            not isinstance(r, np.ndarray) or r.shape != shape or id(r) in inputs for r in results
        )
    ):
        return list(guarded(*values, axis=axis, outs=outs))
    mask = np.zeros(shape, bool)
    for r in results:
        mask |= ~np.isfinite(r)
    subset = [v[mask] if np.ndim(v) > 0 else v for v in values]
    fixed = (fixup or guarded)(*subset, axis=axis, outs=[None] * len(results))
    for r, f in zip(results, fixed, strict=True):
        r[mask] = f
    return results


def _check_outs(kernel: Kernel, outs: Sequence[Any], values: Sequence[Any]) -> None:
    """One-line errors for out= buffers the results cannot go into, before anything runs:
    not a NumPy array, read-only, not floating point, or of another shape than the inputs'
    broadcast shape, which every output of an elementwise or one-axis kernel has except the
    reduced ones. Those and matrix outputs have their shape checked when they are copied in
    (``_finish``)."""
    plan = kernel.plan
    shape = None
    if kernel._broadcasts:
        try:
            shape = np.broadcast_shapes(*(np.shape(v) for v in values))
        except ValueError:
            shape = None  # the inputs do not broadcast: the call itself says so
    for name, o, reduced in zip(kernel.outputs, outs, plan.reduced, strict=True):
        if o is None:
            continue
        where = f"kernel '{kernel.name}': out= for '{name}'"
        if not isinstance(o, np.ndarray):
            raise UsageError(f"{where} is a {type(o).__name__}; pass a NumPy array (or no out=)")
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


def _outs(out: Any, count: int, name: str) -> list[Any]:
    if out is None:
        return [None] * count
    if count == 1 and not isinstance(out, tuple | list):
        return [out]
    if not isinstance(out, tuple | list) or len(out) != count:
        wanted = "a NumPy array" if count == 1 else f"a tuple of {count} arrays"
        got = f"a {type(out).__name__}" + (
            f" of {len(out)}" if isinstance(out, tuple | list) else ""
        )
        raise UsageError(
            f"kernel '{name}' has {count} output{'s' if count > 1 else ''}; out= is {got}: "
            f"pass {wanted}"
        )
    return list(out)


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


# -- building -------------------------------------------------------------------------------


def code_name(name: str) -> str:
    """The name an argument has in the generated source. Python reads identifiers in NFKC
    form (``𝐭𝟏`` is ``t1``), so the check against the generated names (``t1``, ``_c0``) and
    the reserved ones is made on the normalised name, and the normalised name is written."""
    normal = unicodedata.normalize("NFKC", name)
    safe = "".join(c if c.isalnum() or c == "_" else "_" for c in normal)
    if (
        keyword.iskeyword(safe)
        or safe in RESERVED
        or GENERATED.fullmatch(safe)
        or not safe.isidentifier()
    ):
        safe += "_"
    return safe


def check_code_names(plan: Plan) -> None:
    """Two arguments that are one name in the source (``𝐱`` and ``x`` under NFKC, ``a-b`` and
    ``a_b``) are refused: the body could only read one of them."""
    seen: dict[str, str] = {}
    for a in plan.args:
        code = code_name(a)
        if code in seen:
            raise UsageError(
                f"kernel '{plan.name}': arguments '{seen[code]}' and '{a}' are the same name "
                f"'{code}' in Python source (Unicode NFKC form, other characters as _): "
                "rename one of the symbols"
            )
        seen[code] = a


def _names(plan: Plan) -> dict[Any, str]:
    names: dict[Any, str] = {AXIS_LEN: "n_axis"}
    sized = {n for n, _ in plan.sizes}
    by_name = {a: code_name(a) for a in plan.args}
    for expr in plan.outputs:
        if isinstance(expr, sp.Basic):
            for s in expr.free_symbols:
                if s != AXIS_LEN and str(s) in by_name:
                    names[s] = by_name[str(s)]
                elif str(s) in sized:
                    names[s] = code_name(str(s))
    return names


def _header(plan: Plan, kind: str) -> list[str]:
    params = ", ".join(code_name(a) for a in plan.args)
    extra = "outs" if kind == "fast" else ""
    signature = f"def {kind}({params}, *, axis{', ' + extra if extra else ''}):"
    lines = [signature]
    if any(isinstance(e, sp.Basic) and e.has(AXIS_LEN) for e in plan.outputs):
        lines.append(f"    n_axis = {code_name(plan.axis_source)}.shape[axis]")
    for size, code in plan.sizes:
        lines.append(
            f"    {code_name(size)} = {code_name(code.split('.')[0])}.{code.split('.', 1)[1]}"
        )
    return lines


def _cse(plan: Plan) -> tuple[list[tuple[Any, Any]], list[Any]]:
    symbols = sp.numbered_symbols("_c", real=True)
    exprs = [e if isinstance(e, sp.Basic) else sp.sympify(e) for e in plan.outputs]
    return sp.cse(exprs, symbols=symbols, order="none")


def portable_source(plan: Plan) -> str:
    names = _names(plan)
    printer = KernelPrinter(names)
    replacements, reduced = _cse(plan)
    lines = _header(plan, "portable")
    for sym, expr in replacements:
        names[sym] = str(sym)
        lines.append(f"    {sym} = {printer.doprint(expr)}")
    results = ", ".join(printer.doprint(e) for e in reduced)
    lines.append(f"    return ({results},)")
    return "\n".join(lines) + "\n"


def fast_source(
    plan: Plan, arrays: tuple[bool, ...], outs: tuple[int | None, ...] | None = None
) -> str:
    """The in-place body for this mask of array arguments. ``outs`` (see ``out_layout``)
    compiles it for the caller's out= buffers: per output None (none given), −1 (apart from
    every input) or the index of the input argument it is."""
    names = _names(plan)
    classes = {
        code_name(a): (FULL if is_array else SCALAR)
        for a, is_array in zip(plan.args, arrays, strict=True)
    }
    classes["n_axis"] = SCALAR
    emitter = InPlaceEmitter(classes, names)
    replacements, reduced = _cse(plan)
    for sym, expr in replacements:
        emitter._memo[sym] = emitter.operand(expr)
    results = [emitter.operand(e) for e in reduced]
    # Reduced outputs are squeezed afterwards, so only full ones write into the caller's out.
    out_names, targets, given = [], [], []
    for n, (text, cls, _) in enumerate(results):
        if cls == FULL and text.startswith("t") and text not in targets:
            targets.append(text)
            out_names.append(f"outs[{n}]")
            layout = None if outs is None else outs[n]
            given.append(
                None if layout is None else "" if layout < 0 else code_name(plan.args[layout])
            )
    emitter.allocate(targets, out_names, None if outs is None else given)
    lines = _header(plan, "fast")
    lines += [f"    {line}" for line in emitter.lines()]
    lines.append(f"    return ({', '.join(r[0] for r in results)},)")
    return "\n".join(lines) + "\n"


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


def _compile(source: str, backend: Backend, name: str) -> Callable[..., Any]:
    namespace: dict[str, Any] = {"xp": backend.xp, "sx": backend.sx, "rt": backend.rt}
    exec(compile(source, f"<symml kernel {name}>", "exec"), namespace)  # noqa: S102
    return namespace[name]


# -- from a formula to a plan ---------------------------------------------------------------


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
    from sympy.stats import Expectation

    if expr.atoms(Expectation) or expr.has(Expectation):
        return "an expectation E[·] over an unspecified density"
    for test, reason in UNSUPPORTED:
        if test(expr):
            funcs = sorted({str(type(f)) for f in expr.atoms(AppliedUndef)})
            suffix = f" ({', '.join(funcs)})" if "unknown function" in reason and funcs else ""
            return reason + suffix
    return None


def _specs(target: Formula | None) -> dict[str, SymbolSpec]:
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


def resolve(target: Formula | sp.Basic | str, catalog: Any = None) -> Formula | sp.Basic:
    if isinstance(target, str):
        if catalog is None:
            from symml.catalog.loader import load_catalog

            catalog = load_catalog()
        return catalog.get(target)
    return target


def plan_for(
    target: Formula | sp.Basic,
    wrt: Any = None,
    *,
    step: bool = False,
) -> Plan:
    """The lowered, stabilised outputs of a formula (or of its derivative by ``wrt``)."""
    formula = target if isinstance(target, Formula) else None
    name = formula.id if formula else sp.sstr(target)[:40]
    specs = _specs(formula)
    try:
        if step:
            return _step_plan(formula, specs, name)
        expr = formula.expr if formula else target
        if isinstance(expr, sp.MatrixBase):
            raise NotKernelisable("an explicit matrix, not a formula over arrays")
        expr = recognise_max(expr)
        expr = rewrite.apply_all(expr, rewrite.product_rewrites(nonnegative_from(specs)))
        reason = why_not(expr)
        if reason:
            raise NotKernelisable(reason)
        from symml.kernels.windows import convolution_plan

        convolution = convolution_plan(expr, formula, name, wrt)
        if convolution is not None:
            return convolution
        if isinstance(expr, sp.MatrixExpr) or expr.has(sp.MatrixSymbol):
            from symml.kernels.matrices import matrix_plan

            return matrix_plan(expr, specs, name, wrt)
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
    except NotKernelisable as exc:
        raise exc.for_formula(name) from None


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


def _step_plan(formula: Formula | None, specs: Mapping[str, SymbolSpec], name: str) -> Plan:
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


def build(
    plan: Plan, formula: Formula | None, expr: Any, wrt: str | None, backend: str, axis: int
) -> Kernel:
    chosen = get_backend(backend)
    check_code_names(plan)
    portable = portable_source(plan)
    if chosen.name == "numba":
        from symml.kernels.numba_backend import numba_kernel

        return numba_kernel(plan, formula, expr, wrt, chosen, axis, portable)
    plain = plan.matrix or plan.axes > 1 or not chosen.inplace
    fast = "" if plain else fast_source(plan, _default_mask(plan))
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
        chosen.checked(plan.name, _compile(portable, chosen, "portable")),
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
    catalog: Any = None,
) -> Kernel | dict[str, Kernel]:
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
        from symml.kernels.sampling import sampler

        if backend != "numpy":
            get_backend(backend)  # an unknown or missing backend still says so
            raise UsageError(f"sampler '{plan_name(resolved)}' runs on the numpy backend only")
        return sampler(resolved)
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


def plan_name(target: Formula | sp.Basic) -> str:
    return target.id if isinstance(target, Formula) else sp.sstr(target)[:40]


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
