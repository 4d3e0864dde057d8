"""The array-level nodes a kernel expression is built from, beside SymPy's own.

After lowering, an expression is ordinary SymPy over plain symbols (one per array argument)
plus these nodes. They are deliberately opaque to SymPy (no ``eval`` simplification) so
that the stable rewrites and the printer see exactly what was written.
"""

from __future__ import annotations

import sympy as sp
from sympy.concrete.expr_with_limits import ExprWithLimits

from symml.calculus import scalar_derivative


class ArrayNode(sp.Function):
    """Base of every array node: printed by name, never evaluated by SymPy."""

    @classmethod
    def eval(cls, *args):
        return None


class ReduceSum(ArrayNode):
    """Σ over the reduction axis, keeping the axis (length 1) so the result broadcasts."""

    nargs = 1


class ReduceMax(ArrayNode):
    """max over the reduction axis, keeping the axis (length 1)."""

    nargs = 1


class ArgmaxMask(ArrayNode):
    """1 at the first maximum along the axis, 0 elsewhere: the subgradient of a max that
    sends the whole gradient to one position (PyTorch's max and max_pool do the same)."""

    nargs = 1


class AxisSum(ArrayNode):
    """Σ over one axis of a two-index family (0: its first index, on ``axis − 1``; 1: its
    second, on ``axis``), keeping the axis so the result broadcasts against the table."""

    nargs = 2

    @classmethod
    def eval(cls, u, position):
        # A sum of zeros is 0: lets the 0·log 0 guards see that a marginal can vanish.
        return sp.S.Zero if u == 0 else None


class AxisLogSumExp(ArrayNode):
    """log Σ exp(u) over one axis of a table (position as in AxisSum), computed with the
    maximum subtracted; keeps the axis."""

    nargs = 2


class AxisSoftmax(ArrayNode):
    """exp(u) / Σ exp(u) over one axis of a table (position as in AxisSum), computed with the
    maximum subtracted."""

    nargs = 2


class ConvolveFull(ArrayNode):
    """The full 2-D convolution of the last two axes: out[r, c] = Σ f[a, b]·g[r − a, c − b]
    (0-based, g zero outside), shape (H + K_h − 1, W + K_w − 1); batch axes broadcast."""

    nargs = 2


class CorrelateValid(ArrayNode):
    """The valid 2-D cross-correlation of the last two axes: out[s, t] = Σ a[s + u, t + v]·
    b[u, v], shape (R − P + 1, C − Q + 1): the vector–Jacobian products of a convolution."""

    nargs = 2


class LogSumExp(ArrayNode):
    """log Σ exp(u) over the axis, computed with the maximum subtracted (keeps the axis)."""

    nargs = 1


class Softmax(ArrayNode):
    """exp(u) / Σ exp(u) over the axis, computed with the maximum subtracted."""

    nargs = 1


class LogSoftmax(ArrayNode):
    """u − log Σ exp(u) over the axis."""

    nargs = 1


class XLogY(ArrayNode):
    """x·log(y), defined as 0 where x = 0 (so 0·log 0 = 0)."""

    nargs = 2


class XLog1pY(ArrayNode):
    """x·log1p(y), 0 where x = 0."""

    nargs = 2


class XDivY(ArrayNode):
    """x / y, 0 where x = 0 (the weight of a cross-entropy term that vanishes)."""

    nargs = 2


class Quotient(ArrayNode):
    """x / y as one division, never x · (1/y): a product by a reciprocal that overflows
    (1/T² at a subnormal T) turns a zero numerator into nan."""

    nargs = 2


class FMod(ArrayNode):
    """C's fmod(x, y): x − n·y for the integer n = trunc(x/y), computed exactly; x where
    y = 0."""

    nargs = 2


class Log1p(ArrayNode):
    nargs = 1


class Expm1(ArrayNode):
    nargs = 1


class LogSigmoid(ArrayNode):
    """log σ(u) = −softplus(−u), exact in both tails."""

    nargs = 1


class DSigmoid(ArrayNode):
    """σ'(u) = σ(u)σ(−u), computed from e^−|u| in one fused pass chain."""

    nargs = 1


class MaxOver(ExprWithLimits):
    """max of ``function`` over an index range, before lowering: the catalog's
    ``max(x[i], (i, 1, N))`` (a declared function, as sp.Max needs a concrete number of
    arguments). Its derivative by an element is the one-hot of the first maximum."""

    __slots__ = ()

    def _eval_derivative(self, s):
        ((i, lo, hi),) = self.limits
        return sp.Sum(IsArgmax(i, self) * scalar_derivative(self.function, s), (i, lo, hi))

    def doit(self, **hints):
        return self


class IsArgmax(sp.Function):
    """1 when the position (first argument) is the first maximiser of a ``MaxOver``."""

    nargs = 2

    @classmethod
    def eval(cls, *args):
        return None


class AxisLen(sp.Symbol):
    """The length of the reduction axis (a sum's upper bound after lowering)."""

    def __new__(cls, name: str = "n_axis"):
        return super().__new__(cls, name, integer=True, positive=True)


NODES: tuple[type[ArrayNode], ...] = (
    ReduceSum,
    ReduceMax,
    ArgmaxMask,
    AxisSum,
    AxisLogSumExp,
    AxisSoftmax,
    ConvolveFull,
    CorrelateValid,
    LogSumExp,
    Softmax,
    LogSoftmax,
    XLogY,
    XLog1pY,
    XDivY,
    Quotient,
    FMod,
    Log1p,
    Expm1,
    LogSigmoid,
    DSigmoid,
)
REDUCTIONS = (ReduceSum, LogSumExp)


class MatMulNode(ArrayNode):
    """a @ b on the last two axes (batched)."""

    nargs = 2
    is_commutative = False


class TransposeNode(ArrayNode):
    """Swap of the last two axes."""

    nargs = 1


class ConcatRows(ArrayNode):
    """[a; b]: blocks stacked along the second-to-last axis."""


class RowSlice(ArrayNode):
    """Rows ``start:stop`` of the second-to-last axis (a block of a stacked column)."""

    nargs = 3


class SumTo(ArrayNode):
    """The first argument summed over the axes the second (an input) was broadcast along:
    a gradient with respect to an input has that input's shape."""

    nargs = 2


class BroadcastLike(ArrayNode):
    """The first argument broadcast to the shape it shares with the second: the row sums
    X·1 of X, repeated along the columns of a square block of ones, before a matmul (which
    does not broadcast the way an elementwise operation does)."""

    nargs = 2


class Step(ArrayNode):
    """The unit step with step(0) = 0 (relu′, every framework's subgradient), opaque so
    SymPy does not ask whether an array expression is real."""

    nargs = 1
