"""Cache blocking for the in-place NumPy body.

A kernel of k array operations over arrays that do not fit in the last-level cache makes k
round trips to main memory, each temporary written out and read back. Run over blocks whose
working set fits in the cache, the temporaries stay there and only the inputs and outputs
cross the memory bus, as in a fused loop. Blocking pays only when the whole working set
would spill out of the last-level cache: below that, the extra Python calls per block are a
pure cost, so small arrays run in one piece.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Bytes per array in one block: big enough that the Python calls per block (about 1 µs
#: per operation) stay well below the block's arithmetic, small enough that a dozen
#: temporaries of the block stay in the part of a shared last-level cache a process gets.
#: Measured on a 2-core EPYC VM (benchmarks/kernels.py): Adam in float32 at 10⁶ elements ran
#: 1.2× hand-written NumPy with 512 KiB blocks and 1.0× with 1 MiB ones.
BLOCK_BYTES = 512 * 1024
#: Row kernels (softmax, LayerNorm) take blocks this many times larger: each block also pays
#: its per-row reductions, and smaller blocks measured slower for them.
ROW_BLOCK_FACTOR = 2
#: Temporaries a body keeps alive at once, on top of its inputs and outputs.
TEMPORARIES = 3
_FALLBACK_LLC = 8 * 1024 * 1024


@functools.cache
def last_level_cache_bytes() -> int:
    """The largest cache of CPU 0 (Linux sysfs); 8 MiB where the system does not say."""
    sizes = []
    for index in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            text = (index / "size").read_text().strip()
        except OSError:
            continue
        units = {"K": 1024, "M": 1024**2, "G": 1024**3}
        if text and text[-1] in units and text[:-1].isdigit():
            sizes.append(int(text[:-1]) * units[text[-1]])
        elif text.isdigit():
            sizes.append(int(text))
    return max(sizes, default=_FALLBACK_LLC)


@dataclass(frozen=True)
class Blocking:
    """How to cut the arrays: ``rows`` leading rows of a (rows, row_length) view at a time.
    Elementwise kernels use row_length 1 (a flat view); axis kernels keep the last axis whole."""

    shape: tuple[int, ...]
    row_length: int
    rows_per_block: int

    @property
    def rows(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) // self.row_length


def fits_in_cache(
    arrays: int, outputs: int, size: int, itemsize: int, cache_bytes: int | None = None
) -> bool:
    """Whether a body's working set (its arrays, outputs and TEMPORARIES, of ``size``
    elements each) fits in the last-level cache: then it runs in one piece."""
    footprint = (arrays + outputs + TEMPORARIES) * size * itemsize
    return footprint <= (cache_bytes or last_level_cache_bytes())


def choose_blocking(
    values: Sequence[Any],
    outs: Sequence[Any],
    *,
    elementwise: bool,
    axis: int,
    reduced: Sequence[bool],
    cache_bytes: int | None = None,
) -> Blocking | None:
    """The blocking for these arguments, or None when the kernel should run in one piece:
    the arrays fit in the cache, are not all C-contiguous of one shape, or the reduction
    axis is not the last one (a block must hold whole rows)."""
    arrays = [v for v in values if isinstance(v, np.ndarray) and v.ndim > 0]
    if not arrays:
        return None
    # The size test first: it is the common way out, and the cheapest.
    itemsize = max(a.itemsize for a in arrays)
    size = arrays[0].size
    if fits_in_cache(len(arrays), len(outs), size, itemsize, cache_bytes):
        return None
    shape = arrays[0].shape
    if any(a.shape != shape or not a.flags.c_contiguous for a in arrays):
        return None
    if any(o is not None and (o.shape != shape or not o.flags.c_contiguous) for o in outs):
        return None
    if elementwise:
        if any(reduced):
            return None
        row_length = 1
    else:
        if len(shape) < 2 or axis not in (-1, len(shape) - 1):
            return None
        row_length = shape[-1]
    rows = size // row_length
    block_bytes = BLOCK_BYTES if elementwise else ROW_BLOCK_FACTOR * BLOCK_BYTES
    per_block = max(1, block_bytes // (itemsize * row_length))
    if per_block >= rows:
        return None
    return Blocking(shape, row_length, per_block)


def run_blocked(
    body: Callable[[list[Any], list[Any]], list[Any]],
    blocking: Blocking,
    values: Sequence[Any],
    outs: Sequence[Any],
    reduced: Sequence[bool],
    dtype: Any,
) -> list[Any]:
    """Run ``body(block_values, block_outs)`` block by block. Full outputs are written into
    the caller's ``out`` arrays (or new ones); reduced outputs are gathered row by row."""
    shape, length = blocking.shape, blocking.row_length
    # Elementwise bodies see flat blocks, as they would see a flat array.
    flat_shape = (blocking.rows,) if length == 1 else (blocking.rows, length)

    def view(a: Any) -> Any:
        return a.reshape(flat_shape) if isinstance(a, np.ndarray) and a.ndim > 0 else a

    flat_values = [view(v) for v in values]
    results: list[Any] = []
    for out, is_reduced in zip(outs, reduced, strict=True):
        if is_reduced:
            results.append(np.empty((blocking.rows, 1), dtype))
        else:
            results.append(out if out is not None else np.empty(shape, dtype))
    flat_results = [
        r if is_reduced else r.reshape(flat_shape)
        for r, is_reduced in zip(results, reduced, strict=True)
    ]
    # Which arguments and outputs are cut: decided once, not per block (≈ 8 blocks at 10⁶).
    cut = [k for k, v in enumerate(flat_values) if isinstance(v, np.ndarray) and v.ndim > 0]
    full = [k for k, is_reduced in enumerate(reduced) if not is_reduced]
    block_values = list(flat_values)
    block_outs: list[Any] = [None] * len(outs)
    step = blocking.rows_per_block
    for start in range(0, blocking.rows, step):
        rows = slice(start, start + step)
        for k in cut:
            block_values[k] = flat_values[k][rows]
        for k in full:
            block_outs[k] = flat_results[k][rows]
        block_results = body(block_values, block_outs)
        for k, got in enumerate(block_results):
            part = block_outs[k] if block_outs[k] is not None else flat_results[k][rows]
            if got is not part:
                part[...] = np.reshape(got, part.shape) if np.ndim(got) else got
    return [
        r.reshape(shape[:-1] + (1,)) if is_reduced else r
        for r, is_reduced in zip(results, reduced, strict=True)
    ]
