"""The 2-D convolution Σₘₙ f[m, n]·g[i − m, j − n] as one array call, and its gradients.

A shifted index g[i − m] is no axis reduction, so the pattern is recognised whole: the
forward kernel is the full convolution of the last two axes (``rt.convolve_full``, batch
axes broadcast), the gradients are its vector–Jacobian products, valid cross-correlations
of grad_out with the other operand (``rt.correlate_valid``), summed over any batch axes the
operand was broadcast along. Indices: the catalog's are 1-based and g is 0 outside
1..H_in, so (f ∗ g)[i, j] can be non-zero for i = 2..H_in + K_h and j = 2..W_in + K_w
only; output element [r, c] (0-based) is (f ∗ g)[r + 2, c + 2], the H_in + K_h − 1 by
W_in + K_w − 1 entries of the full convolution (scipy.signal.convolve2d, mode "full").
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from symml.catalog.model import Formula
from symml.errors import UsageError
from symml.kernels.errors import NotKernelisable
from symml.kernels.nodes import ConvolveFull, CorrelateValid, SumTo
from symml.kernels.plan import GRAD_OUT, Plan


def _parts(expr: Any) -> tuple[Any, Any, Any] | None:
    """(coefficient, kernel family f, input family g) of c·Σₘₙ f[m, n]·g[i − m, j − n]."""
    if not isinstance(expr, sp.Sum) or len(expr.limits) != 2:
        return None
    (m, m_lo, _), (n, n_lo, _) = expr.limits
    if m_lo != 1 or n_lo != 1:
        return None
    indexed = [f for f in sp.Mul.make_args(expr.function) if isinstance(f, sp.Indexed)]
    rest = sp.Mul(*[f for f in sp.Mul.make_args(expr.function) if not isinstance(f, sp.Indexed)])
    if len(indexed) != 2 or rest.has(m, n):
        return None
    kernel = next((f for f in indexed if f.indices == (m, n)), None)
    if kernel is None:
        return None
    shifted = next(f for f in indexed if f is not kernel)
    if len(shifted.indices) != 2:
        return None
    outer = [ix + bound for ix, bound in zip(shifted.indices, (m, n), strict=True)]
    if not all(isinstance(o, sp.Symbol) and o not in (m, n) for o in outer):
        return None  # g[i + m] (a cross-correlation) or another window: not this rule
    return rest, kernel.base, shifted.base


def convolution_plan(expr: Any, formula: Formula | None, name: str, wrt: Any = None) -> Plan | None:
    """The plan of a 2-D convolution (or of its gradient by either family), or None when
    ``expr`` is not one."""
    parts = _parts(expr)
    if parts is None:
        return None
    coefficient, f, g = parts
    if coefficient.free_symbols:
        raise NotKernelisable("a convolution scaled by a symbol")
    f_name, g_name = str(f.label), str(g.label)
    f_arr, g_arr = sp.Symbol(f_name, real=True), sp.Symbol(g_name, real=True)
    args: tuple[str, ...] = (f_name, g_name)
    lhs = formula.lhs if formula is not None else None
    out_name = str(lhs.base.label) if isinstance(lhs, sp.Indexed) else "value"
    if wrt is None:
        value = coefficient * ConvolveFull(f_arr, g_arr)
    else:
        wanted = str(wrt.label) if isinstance(wrt, sp.IndexedBase) else str(wrt)
        if wanted not in args:
            known = ", ".join(args)
            raise UsageError(f"no argument '{wanted}' to differentiate by; the formula has {known}")
        grad_out = sp.Symbol(GRAD_OUT, real=True)
        other = g_arr if wanted == f_name else f_arr
        mine = f_arr if wanted == f_name else g_arr
        value = SumTo(coefficient * CorrelateValid(grad_out, other), mine)
        args = (*args, GRAD_OUT)
        out_name = f"d{wanted}"
        name = f"{name} d/d{wanted}"
    return Plan(
        name,
        (value,),
        (out_name,),
        (False,),
        args,
        frozenset(args),
        g_name,  # not elementwise: no fused loop, no cache blocking
        axes=2,
    )
