"""The fast lane: a call on NumPy arrays that fit in the cache, without the general call's
bookkeeping.

The general call binds names, unifies dtypes, decides on cache blocking and on the
optimistic body, and reshapes outputs: 15–25 µs of Python, as long as σ takes on 3·10³
float64 elements. Calls in a training loop look alike: every argument given, float
arrays of one dtype and shape, Python numbers for the hyper-parameters. For such a call the
lane checks exactly that, casts the numbers to the arrays' dtype and calls the compiled
body. Anything else (another dtype, a list, a dask array, arrays large enough to be
blocked, an endpoint met by the optimistic body, an output that needs reshaping) returns
``MISS`` before any array is written, and the general path computes the same result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from symml.kernels import blocking
from symml.kernels.backends import into_outs, out_layout

if TYPE_CHECKING:
    from symml.kernels.kernel import Kernel

#: What ``call`` returns when the general path must take the call.
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


def prepare(kernel: Kernel, key: tuple[bool, ...]) -> Lane | None:
    """The lane for this mask, or None when its calls need the general path: a plan the
    in-place body does not take (matrices, two axes, a family given as a number), or a
    reduced output (squeezed afterwards)."""
    if not kernel._takes_body(key) or any(kernel.plan.reduced):
        return None
    function = kernel._fast_body(key, guarded=True)
    optimistic = kernel._fast_body(key, guarded=False)
    numbers = tuple(n for n, is_array in enumerate(key) if not is_array)
    # A body of one call is never blocked (kernel._run_fast).
    return Lane(key, function, optimistic, numbers, blockable=function.operations >= 2)


def call(kernel: Kernel, positional: Sequence[Any], named: Mapping[str, Any], out: Any) -> Any:
    """The kernel's results for this call, or MISS."""
    args = kernel.args
    if positional:
        if named or len(positional) != len(args):
            return MISS
        values = list(positional)
    else:
        if len(named) != len(args):
            return MISS
        try:
            values = [named[a] for a in args]
        except KeyError:
            return MISS
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
    lanes = kernel._lanes
    mask = tuple(key)
    lane = lanes.get(mask, MISS)
    if lane is MISS:
        lane = lanes[mask] = prepare(kernel, mask)
    if lane is None:
        return MISS
    if lane.blockable and not blocking.fits_in_cache(
        len(key) - len(lane.numbers), len(kernel.outputs), first.size, dtype.itemsize
    ):
        return MISS
    cast = dtype.type
    for n in lane.numbers:
        values[n] = cast(values[n])  # a float64 number must not promote float32 arrays
    count = len(kernel.outputs)
    try:
        if out is None:
            return _fresh(kernel, lane, values, count, dtype, shape)
        return _into(kernel, lane, values, out, count, dtype, shape)
    except (ValueError, IndexError):
        return MISS  # the general path runs it again and says what is wrong, in one line


def _fresh(
    kernel: Kernel, lane: Lane, values: list[Any], count: int, dtype: Any, shape: Any
) -> Any:
    outs = [None] * count
    if lane.optimistic is None:
        results = lane.function(*values, axis=kernel.axis, outs=outs)
    else:
        try:
            with np.errstate(divide="raise", invalid="raise", over="raise", under="ignore"):
                results = lane.optimistic(*values, axis=kernel.axis, outs=outs)
        except FloatingPointError:
            return MISS  # an endpoint: the general path recomputes those elements guarded
    for r in results:
        if type(r) is not np.ndarray or r.dtype != dtype or r.shape != shape:
            return MISS  # a constant or reshaped output: the general path finishes it
    return results[0] if count == 1 else tuple(results)


def _into(
    kernel: Kernel, lane: Lane, values: list[Any], out: Any, count: int, dtype: Any, shape: Any
) -> Any:
    """Results written into the caller's buffers (an optimizer's state updated in place),
    by the body compiled for where they lie. Only bodies without guards: with an out= that
    aliases an input, a guarded second pass could read inputs the first pass overwrote."""
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
    function = kernel._fast_body(lane.mask, guarded=True, outs=layout)
    results = into_outs(function(*values, axis=kernel.axis, outs=outs), outs)
    return results[0] if count == 1 else tuple(results)
