"""The runtime every backend's generated source calls as ``rt.…``.

``rt`` holds the operations with no single library call (stable softmax and friends) or with
a faster form than the library's (σ, σ′, log1p, Φ), written once against the backend's array
namespace ``xp``; on NumPy float arrays they take their fast forms.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from symml.kernels.normal_cdf import BLOCK_BYTES as NDTR_BLOCK_BYTES
from symml.kernels.normal_cdf import ndtr_float32_block, ndtr_float64_block


class Runtime:
    """The operations a generated body calls as ``rt.…``: those with no single library call
    (stable softmax and friends) and those with a faster form than the library's on NumPy
    float arrays (σ, σ′, log1p, Φ). Written once against ``xp``; other namespaces (jax, cupy,
    dask arrays) take the plain form."""

    def __init__(self, xp: Any, sx: Any = None) -> None:
        self.xp = xp
        self.sx = sx

    def expit(self, u: Any, out: Any = None) -> Any:
        """σ(u). Float NumPy arrays: e/(1 + e) with e = eᵘ on NumPy's exp, three passes
        where 1/(1 + e⁻ᵘ) takes four, run in blocks so that 1 + e stays in cache (measured
        1.1× that four-pass form in float32 and float64, at 10⁶ and 10⁷; scipy's expit runs
        at the four-pass form's speed in float64 and at half of it in float32, whose loop is
        scalar). An element below the exp's range gets eᵘ itself, the right answer down to
        the subnormals; one above it (u > 88.7 in float32) gives inf/inf, whose invalid
        flag has the block's elements with 1 + e = inf set to 1, their σ."""
        if not self._float_array(u):
            return self.sx.expit(u) if out is None else self.sx.expit(u, out=out)

        def block(values: np.ndarray, result: np.ndarray, d: np.ndarray) -> None:
            infinite: list[int] = []
            with np.errstate(over="ignore", invalid="call", call=lambda *_: infinite.append(1)):
                np.exp(values, out=result)
                np.add(result, 1, out=d)
                np.divide(result, d, out=result)
            if infinite:  # eᵘ = inf (u too large, or +inf): σ is 1 there
                result[np.isinf(d)] = 1

        return _in_blocks(u, out, block)

    def dsigmoid(self, u: Any, out: Any = None) -> Any:
        """σ(u)σ(−u) = e/(1 + e)² with e = e^−|u|: symmetric, never overflows, keeps its
        relative accuracy in both tails, and is 6 passes instead of two expits and a product,
        in blocks so that (1 + e)² stays in cache."""
        xp = self.xp
        if not self._float_array(u):
            e = xp.exp(-xp.abs(u))
            return e / ((1 + e) * (1 + e))

        def block(values: np.ndarray, e: np.ndarray, d: np.ndarray) -> None:
            np.abs(values, out=e)
            np.negative(e, out=e)
            np.exp(e, out=e)
            np.add(e, 1, out=d)
            np.multiply(d, d, out=d)
            np.divide(e, d, out=e)

        return _in_blocks(u, out, block)

    def ndtr(self, u: Any, out: Any = None) -> Any:
        """Φ(u). NumPy float arrays of NDTR_MIN_SIZE elements or more: the vectorised forms of
        ``normal_cdf`` (float32: 2.4× SciPy's scalar loop, within 8 ulp; float64: SciPy's
        erfc with the sign taken out of its branches, 1.3× ndtr on data of both signs, within
        1 ulp of it); smaller ones and other namespaces: ``ndtr`` of the special-function
        module."""
        if self._float_array(u) and u.size >= NDTR_MIN_SIZE:
            if u.dtype == np.float32:
                return _in_blocks(
                    u, out, ndtr_float32_block, scratch=4, block_bytes=NDTR_BLOCK_BYTES
                )
            block = functools.partial(ndtr_float64_block, self.sx.erfc)
            return _in_blocks(u, out, block, scratch=2, block_bytes=NDTR_BLOCK_BYTES)
        return self.sx.ndtr(u) if out is None else self.sx.ndtr(u, out=out)

    def log1p(self, u: Any, out: Any = None) -> Any:
        """log(1 + u). Float NumPy arrays: Goldberg's u·log(w)/(w − 1) with w = 1 ⊕ u, which
        cancels the rounding of 1 ⊕ u (within 2 ulp of the true value, measured against
        mpmath). NumPy's log1p is a scalar loop and its log a vectorised one: 4× faster in
        float32, 1.3× in float64. Where w − 1 = 0 (|u| below half an ulp of 1) or u = ±inf,
        the formula gives nan and those few elements take NumPy's log1p."""
        if not self._float_array(u):
            return self.xp.log1p(u) if out is None else self.xp.log1p(u, out=out)
        # ``out`` may be ``u`` itself: u is read for the last time by the division.
        w = np.add(u, 1, out=None if out is not None and np.may_share_memory(out, u) else out)
        ratio = np.subtract(w, 1)
        with np.errstate(divide="ignore", invalid="ignore"):  # u/0 and 0·inf: fixed below
            np.divide(u, ratio, out=ratio)
        edge = ~np.isfinite(ratio)
        edges = u[edge] if edge.any() else None
        np.log(w, out=w)  # log(0) and log(< 0) flag as NumPy's log1p does
        with np.errstate(invalid="ignore"):
            result = np.multiply(w, ratio, out=out if out is not None else w)
        if edges is not None:
            result[edge] = np.log1p(edges)
        return result

    def _inplace(self, u: Any) -> bool:
        return self.xp is np and isinstance(u, np.ndarray)

    def _float_array(self, u: Any) -> bool:
        """A NumPy float32/float64 array of at least one axis: what the fast forms take."""
        return self._inplace(u) and u.dtype in (np.float32, np.float64) and u.ndim > 0

    def logsumexp(self, u: Any, axis: int = -1) -> Any:
        xp = self.xp
        if u.shape[axis] == 0:  # log of an empty sum; max has no identity to start from
            shape = list(u.shape)
            shape[axis] = 1
            return xp.full(tuple(shape), -np.inf, dtype=u.dtype)
        top = xp.max(u, axis=axis, keepdims=True)
        if self._inplace(u) and unshifted_exp_is_exact(top, u.dtype, u.shape[axis]):
            e = np.exp(u)
            return np.log(np.sum(e, axis=axis, keepdims=True))
        # An all −inf row would give −inf − −inf = nan; its logsumexp is −inf.
        top = xp.where(xp.isfinite(top), top, 0)
        return xp.log(xp.sum(xp.exp(u - top), axis=axis, keepdims=True)) + top

    def softmax(self, u: Any, axis: int = -1, out: Any = None) -> Any:
        xp = self.xp
        if u.shape[axis] == 0:  # rows of no element: nothing to normalise
            return xp.zeros_like(u) if out is None else out
        if self._inplace(u):
            # Four passes over the array (three where the shift is not needed), the writing
            # ones into ``out``, which may be ``u``: the maximum is taken before any write.
            top = u.max(axis=axis, keepdims=True)
            if unshifted_exp_is_exact(top, u.dtype, u.shape[axis]):
                e = np.exp(u, out=out)
            else:
                e = np.subtract(u, _finite_or_zero(top), out=out)
                np.exp(e, out=e)
            return np.divide(e, e.sum(axis=axis, keepdims=True), out=e)
        top = xp.max(u, axis=axis, keepdims=True)
        top = xp.where(xp.isfinite(top), top, 0)
        e = xp.exp(u - top)
        return e / xp.sum(e, axis=axis, keepdims=True)

    def sum_squares(self, u: Any, axis: int = -1) -> Any:
        """Σ u² over the axis (kept, length 1): one BLAS dot per row, reading u once and
        writing no squared temporary. The terms are non-negative, so the dot's other order
        of summation changes the result by about an ulp, as the pairwise sum's own error."""
        # Rows longer than 8192 would make OpenBLAS split each dot over its threads (see
        # inplace.DOT_CHUNK): slow whenever the other cores are busy.
        if (
            self._inplace(u)
            and u.dtype.kind == "f"
            and hasattr(np, "vecdot")
            and u.ndim > 0
            and u.shape[axis] <= 8192
        ):
            return np.expand_dims(np.vecdot(u, u, axis=axis), axis)
        return self.xp.sum(u * u, axis=axis, keepdims=True)

    def log_softmax(self, u: Any, axis: int = -1, out: Any = None) -> Any:
        if out is not None and self._inplace(u):
            return np.subtract(u, self.logsumexp(u, axis), out=out)
        return u - self.logsumexp(u, axis)

    def argmax_mask(self, u: Any, axis: int = -1) -> Any:
        """1 at the first maximum along the axis, 0 elsewhere, in u's dtype: the subgradient
        of a max that sends the whole gradient to one element, as PyTorch's max_pool does.
        A row with a nan marks its first nan (where np.argmax stops)."""
        xp = self.xp
        if u.shape[axis] == 0:  # the value kernel's max refuses it with NumPy's words; so here
            raise ValueError("zero-size array to reduction operation maximum which has no identity")
        first = xp.argmax(u, axis=axis, keepdims=True)
        shape = [1] * u.ndim
        shape[axis] = u.shape[axis]
        positions = xp.reshape(xp.arange(u.shape[axis]), shape)
        return (positions == first).astype(u.dtype)  # not xp.asarray: dask stays lazy

    def convolve_full(self, f: Any, g: Any) -> Any:
        """The full 2-D convolution of the last two axes, out[r, c] = Σₐᵦ f[a, b]·g[r − a, c − b]
        (0-based, g zero outside), of shape (H + K_h − 1, W + K_w − 1); batch axes broadcast.
        A direct sum of K_h·K_w shifted copies of g (exact, in the inputs' dtype; kernels are
        small), written with pad and slices only, so it runs on any array namespace."""
        xp = self.xp
        kh, kw = f.shape[-2:]
        h, w = g.shape[-2:]
        pad = [(0, 0)] * (g.ndim - 2) + [(kh - 1, kh - 1), (kw - 1, kw - 1)]
        padded = xp.pad(g, pad)
        rows, cols = h + kh - 1, w + kw - 1
        total = None
        for a in range(kh):
            for b in range(kw):
                r0, c0 = kh - 1 - a, kw - 1 - b
                term = f[..., a, b, None, None] * padded[..., r0 : r0 + rows, c0 : c0 + cols]
                total = term if total is None else total + term
        return total

    def correlate_valid(self, big: Any, small: Any) -> Any:
        """The valid 2-D cross-correlation of the last two axes, out[s, t] = Σᵤᵥ big[s + u, t + v]·
        small[u, v], of shape (R − P + 1, C − Q + 1); batch axes broadcast. The loop runs
        over whichever is smaller, small's elements or the output's."""
        xp = self.xp
        rows, cols = big.shape[-2:]
        p, q = small.shape[-2:]
        h, w = rows - p + 1, cols - q + 1
        if p * q <= h * w:
            total = None
            for u in range(p):
                for v in range(q):
                    term = small[..., u, v, None, None] * big[..., u : u + h, v : v + w]
                    total = term if total is None else total + term
            return total
        out = [
            xp.stack(
                [xp.sum(big[..., s : s + p, t : t + q] * small, axis=(-2, -1)) for t in range(w)],
                axis=-1,
            )
            for s in range(h)
        ]
        return xp.stack(out, axis=-2)

    def concat_rows(self, *parts: Any) -> Any:
        """[a; b] on the last two axes; leading (batch) axes broadcast."""
        xp = self.xp
        batch = np.broadcast_shapes(*(np.shape(p)[:-2] for p in parts))
        full = [xp.broadcast_to(p, (*batch, *np.shape(p)[-2:])) for p in parts]
        return xp.concatenate(full, axis=-2)

    def broadcast_like(self, r: Any, like: Any) -> Any:
        shape = np.broadcast_shapes(np.shape(r), np.shape(like))
        return self.xp.broadcast_to(r, shape)

    def sum_to(self, r: Any, like: Any) -> Any:
        """``r`` in the shape of ``like``: summed over the axes ``like`` was broadcast along
        (leading batch axes, length-1 axes), broadcast where ``r`` is still smaller."""
        xp = self.xp
        target = np.shape(like)
        extra = np.ndim(r) - len(target)
        if extra > 0:
            r = xp.sum(r, axis=tuple(range(extra)))
        axes = tuple(
            k
            for k, (n, t) in enumerate(zip(np.shape(r), target, strict=False))
            if t == 1 and n != 1
        )
        if axes:
            r = xp.sum(r, axis=axes, keepdims=True)
        if np.shape(r) != target:
            r = xp.broadcast_to(r, target) * 1  # a writable array, not a view
        return r

    def fmod(self, x: Any, y: Any, out: Any = None) -> Any:
        """C's fmod(x, y), exact; x itself where y = 0 (a period of 0 reduces nothing, and
        the quotient's own guard then decides, as it did before the reduction)."""
        xp = self.xp
        with np.errstate(invalid="ignore"):
            return xp.where(y == 0, x, xp.fmod(x, y))

    def xdivy(self, x: Any, y: Any, out: Any = None) -> Any:
        """x / y, and 0 where x = 0 (whatever y is)."""
        xp = self.xp
        if self._inplace(x) or isinstance(x, np.ndarray | np.generic | float):
            shape = np.broadcast_shapes(np.shape(x), np.shape(y))
            dtype = np.result_type(x, y)
            result = out if out is not None else np.empty(shape, dtype)
            result[...] = 0
            return np.divide(x, y, out=result, where=np.not_equal(x, 0))
        return xp.where(x == 0, 0 * y, x / xp.where(x == 0, 1, y))


#: Below it the vectorised float32 Φ's fixed cost (~36 calls, ≈ 30 µs) is more than SciPy's
#: loop takes (measured crossover between 8192 and 16384 elements). The float64 form's
#: crossover is lower (≈ 4096 on fresh data), but a small array SciPy sees again has its
#: sign branches learnt by the predictor: the float64 form waits for the same size.
NDTR_MIN_SIZE = 16384

#: Bytes of one block of ``Runtime.expit`` and ``dsigmoid``: their scratch array (1 + e)
#: stays in the per-core cache.
EXPIT_BLOCK_BYTES = 1024 * 1024


def _in_blocks(
    u: np.ndarray,
    out: np.ndarray | None,
    block: Callable[..., None],
    *,
    scratch: int = 1,
    block_bytes: int = EXPIT_BLOCK_BYTES,
) -> np.ndarray:
    """``block(values, result, *scratch_arrays)`` over blocks of ``block_bytes``: an
    elementwise function of a few passes whose scratch arrays then stay in the cache.
    ``out`` may be ``u`` itself; one that overlaps ``u`` at an offset gets a fresh result
    copied in."""
    if out is not None and np.may_share_memory(out, u) and not same_view(out, u):
        out[...] = _in_blocks(u, None, block, scratch=scratch, block_bytes=block_bytes)
        return out
    result = out if out is not None else np.empty_like(u)
    step = max(1, block_bytes // u.itemsize)
    if u.size <= step or not (u.flags.c_contiguous and result.flags.c_contiguous):
        block(u, result, *(np.empty_like(u) for _ in range(scratch)))
        return result
    values, results = u.reshape(-1), result.reshape(-1)
    arrays = [np.empty(min(step, values.size), u.dtype) for _ in range(scratch)]
    for start in range(0, values.size, step):
        part = results[start : start + step]
        block(values[start : start + step], part, *(a[: part.size] for a in arrays))
    return result


_LOG_MAX = {np.dtype(t): math.log(float(np.finfo(t).max)) for t in (np.float32, np.float64)}


def unshifted_exp_is_exact(top: np.ndarray, dtype: np.dtype, length: int) -> bool:
    """Whether exp(u) and its row sums may be taken without subtracting the row maxima
    ``top``, saving a pass: every maximum is at least 0, so exp(maximum) ≥ 1, the row sum is
    at least 1, and an element whose exp underflows has a softmax that underflows too; and
    at most log(largest float / length) − 1, so no row sum overflows. Without the shift the
    exponent is u itself, not u − max rounded, so the result is, if anything, more exact."""
    log_max = _LOG_MAX.get(dtype)
    if log_max is None or top.size == 0:
        return False
    limit = log_max - math.log(max(length, 1)) - 1.0
    # min/max of a nan are nan, and every comparison with nan is False: nan rows shift.
    return bool(top.min() >= 0) and bool(top.max() <= limit)


def _finite_or_zero(top: np.ndarray) -> np.ndarray:
    """A row maximum, with a non-finite one (an all −inf or +inf row) replaced by 0 so the
    subtraction gives the row's own limit rather than inf − inf; the check is one small pass
    and the copy happens only for such rows."""
    if np.isfinite(top).all():
        return top
    return np.where(np.isfinite(top), top, 0)


def same_view(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays are the very same memory (an out= that is its input)."""
    return (
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.shape == b.shape
        and a.strides == b.strides
    )
