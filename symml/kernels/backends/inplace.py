"""The in-place NumPy path: for NumPy arrays of one shape, a body that reuses its temporaries,
writes into the caller's out= buffers, runs without its guards first (``run_optimistic``) and
in cache-sized blocks (``blocking``).

The in-place body is 1.3–1.5× plain NumPy on elementwise plans. Its fast lane takes the
calls of a training loop (every argument given, float arrays of one dtype and shape, Python
numbers for the hyper-parameters) without the general call's bookkeeping: binding names,
unifying dtypes, deciding on blocking and reshaping outputs cost 15–25 µs of Python, as long
as σ takes on 3·10³ float64 elements. Anything else (another dtype, a list, a dask array,
arrays large enough to be blocked, an endpoint met by the optimistic body, an output that
needs reshaping) returns ``MISS`` before any array is written, and the general call
computes the same result.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from symml.kernels import blocking
from symml.kernels.backends.base import (
    Backend,
    into_outs,
    numpy_value,
    out_layout,
    writes_an_input,
)
from symml.kernels.blocking import choose_blocking, run_blocked
from symml.kernels.plan import Plan, unguarded_plan
from symml.kernels.source import fast_source

#: What ``InPlace.lane`` returns when the general call must take the call.
MISS: Any = object()


@dataclass(frozen=True)
class Lane:
    """A kernel's compiled body for one mask of array arguments."""

    mask: tuple[bool, ...]
    function: Callable[..., Any]
    optimistic: Callable[..., Any] | None
    numbers: tuple[int, ...]  # positions of the arguments given as numbers
    #: Whether the general path may block this body (one of several calls): the lane then
    #: takes only arrays whose working set fits the cache, as unblocked they would run.
    blockable: bool


class InPlace:
    """A kernel's in-place bodies (compiled once per mask of array arguments, guarded or
    not, and layout of out= buffers) and its lanes."""

    def __init__(self, plan: Plan, backend: Backend) -> None:
        self.plan = plan
        self.backend = backend
        self._bodies: dict[tuple[Any, ...], Callable[..., Any] | None] = {}
        self._lanes: dict[tuple[bool, ...], Lane | None] = {}

    def takes(self, key: tuple[bool, ...]) -> bool:
        """Whether the in-place body takes this mask of array arguments: a NumPy backend, a
        plan of at most one axis and no matrices, every family argument an array."""
        plan = self.plan
        if not self.backend.inplace or plan.matrix or plan.axes > 1:
            return False
        return all(a for a, n in zip(key, plan.args, strict=True) if n in plan.families)

    def applies(self, values: list[Any], shapes: list[Any], key: tuple[bool, ...]) -> bool:
        """NumPy arrays (and scalars) of one shape, taken by the in-place body."""
        if not self.takes(key):
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

    def body(
        self, key: tuple[bool, ...], guarded: bool, outs: tuple[int | None, ...] | None = None
    ) -> Callable[..., Any] | None:
        """The in-place body for this mask of array arguments, compiled once, optionally for
        a layout of the caller's out= buffers (``base.out_layout``). Unguarded: the body
        without its 0·log 0 guards (None when the plan has none, or cannot drop them)."""
        cache_key = (guarded, key, outs)
        if cache_key not in self._bodies:
            plan = self.plan if guarded else unguarded_plan(self.plan)
            if plan is None:
                self._bodies[cache_key] = None
            else:
                source = fast_source(plan, key, outs)
                function = self.backend.compile(source, "fast")
                function.operations = len(re.findall(r"^    t\d+ = ", source, re.MULTILINE))
                self._bodies[cache_key] = function
        return self._bodies[cache_key]

    def run(
        self, values: list[Any], key: tuple[bool, ...], axis: int, outs: list[Any], dtype: Any
    ) -> list[Any]:
        """The in-place body's results (optimistic first where it has guards to drop, in
        blocks where the working set spills out of the cache), before ``Kernel`` finishes
        them."""
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
            # computed apart and copied in by Kernel's finish.
            flat_outs = [None] * len(outs)
        function = self.body(key, guarded=True, outs=layout)
        optimistic = None if writes_an_input(layout) else self.body(key, guarded=False, outs=layout)
        if optimistic is not None:
            fixup = self.body(key, guarded=True)  # writes fresh arrays of the subset

            def body(vs: list[Any], os: list[Any]) -> list[Any]:
                return run_optimistic(plan, optimistic, function, vs, axis, os, fixup=fixup)

        else:

            def body(vs: list[Any], os: list[Any]) -> list[Any]:
                return list(function(*vs, axis=axis, outs=os))

        # A body of one call (σ, softmax) has no temporaries for blocks to keep in cache:
        # blocked, it only paid the calls per block (softmax in float64 at 10⁶: 0.94× hand
        # blocked, 0.98× in one piece).
        chosen = (
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
        if chosen is None:
            return body(values, flat_outs)
        return run_blocked(body, chosen, values, flat_outs, plan.reduced, dtype)

    # -- the fast lane --------------------------------------------------------------------

    def lane(self, values: list[Any], out: Any, axis: int) -> Any:
        """The results of a call whose arguments are all given (in order), or MISS."""
        dtype = shape = first = None
        key = []
        for v in values:
            kind = type(v)
            if kind is np.ndarray:
                if first is None:
                    first, dtype, shape = v, v.dtype, v.shape
                elif v.dtype != dtype or v.shape != shape:
                    return MISS
                key.append(True)
            elif kind is float or kind is int:
                key.append(False)
            else:
                return MISS
        if first is None or dtype.char not in "fd" or not shape:
            return MISS
        lanes = self._lanes
        mask = tuple(key)
        lane = lanes.get(mask, MISS)
        if lane is MISS:
            lane = lanes[mask] = self._prepare(mask)
        if lane is None:
            return MISS
        count = len(self.plan.outputs)
        if lane.blockable and not blocking.fits_in_cache(
            len(key) - len(lane.numbers), count, first.size, dtype.itemsize
        ):
            return MISS
        cast = dtype.type
        for n in lane.numbers:
            values[n] = cast(values[n])  # a float64 number must not promote float32 arrays
        try:
            if out is None:
                return _fresh(lane, values, axis, count, dtype, shape)
            return self._into(lane, values, axis, out, count, dtype, shape)
        except (ValueError, IndexError):
            return MISS  # the general path runs it again and says what is wrong, in one line

    def _prepare(self, key: tuple[bool, ...]) -> Lane | None:
        """The lane for this mask, or None when its calls need the general path: a plan the
        in-place body does not take (matrices, two axes, a family given as a number), or a
        reduced output (squeezed afterwards)."""
        if not self.takes(key) or any(self.plan.reduced):
            return None
        function = self.body(key, guarded=True)
        optimistic = self.body(key, guarded=False)
        numbers = tuple(n for n, is_array in enumerate(key) if not is_array)
        # A body of one call is never blocked (InPlace.run).
        return Lane(key, function, optimistic, numbers, blockable=function.operations >= 2)

    def _into(
        self,
        lane: Lane,
        values: list[Any],
        axis: int,
        out: Any,
        count: int,
        dtype: Any,
        shape: Any,
    ) -> Any:
        """Results written into the caller's buffers (an optimizer's state updated in place),
        by the body compiled for where they lie. Only bodies without guards: with an out=
        that aliases an input, a guarded second pass could read inputs the first pass
        overwrote."""
        if lane.optimistic is not None:
            return MISS
        outs = [out] if count == 1 and type(out) is np.ndarray else out
        if not isinstance(outs, tuple | list) or len(outs) != count:
            return MISS
        for o in outs:
            if (
                type(o) is not np.ndarray
                or o.dtype != dtype
                or o.shape != shape
                or not o.flags.writeable
            ):
                return MISS  # the general call says what is wrong with it
        outs = list(outs)
        layout = out_layout(outs, values)
        if layout is None:
            return MISS  # an out= overlapping an input at an offset: the general path copies
        function = self.body(lane.mask, guarded=True, outs=layout)
        results = into_outs(function(*values, axis=axis, outs=outs), outs)
        return results[0] if count == 1 else tuple(results)


def _fresh(lane: Lane, values: list[Any], axis: int, count: int, dtype: Any, shape: Any) -> Any:
    outs = [None] * count
    if lane.optimistic is None:
        results = lane.function(*values, axis=axis, outs=outs)
    else:
        try:
            with np.errstate(divide="raise", invalid="raise", over="raise", under="ignore"):
                results = lane.optimistic(*values, axis=axis, outs=outs)
        except FloatingPointError:
            return MISS  # an endpoint: the general path recomputes those elements guarded
    for r in results:
        if type(r) is not np.ndarray or r.dtype != dtype or r.shape != shape:
            return MISS  # a constant or reshaped output: the general path finishes it
    return results[0] if count == 1 else tuple(results)


DOT_CHUNK = 8192


def not_finite(r: Any) -> bool:
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


def run_optimistic(
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
        if not any(not_finite(r) for r in results):
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
