"""The numba backend: an elementwise kernel as one ``njit(parallel=True)`` loop.

Every output of an elementwise plan (activations, a loss gradient, an optimizer step) is
computed per element in one pass over memory, with the stable scalar forms (σ by the sign
of its argument, σ' from e^−|u|, xlogy with its 0·log 0 guard). Subexpressions of the
scalar arguments only (Adam's 1 − β₁ᵗ) are evaluated once, before the loop. All outputs of
an element are computed before any is stored, so ``out=`` may be the state arrays the
step reads (Adam's m, v, W). Other plans (reductions, matrices) and arrays of different
shapes or layouts run the NumPy body.

``Loops`` is a kernel's compiled loops (one per mode, mask of array arguments and float
type, compiled on first use); ``kernel.Kernel`` runs a call through them when they take it.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import sympy as sp

from symml.catalog.primitives import PRIMITIVES, Phi, sigmoid, softplus
from symml.kernels.backends import numpy as numpy_backend
from symml.kernels.backends.base import (
    Backend,
    into_outs,
    need,
    numpy_value,
    out_layout,
    out_list,
    writes_an_input,
)
from symml.kernels.nodes import (
    NODES,
    DSigmoid,
    Expm1,
    FMod,
    Log1p,
    LogSigmoid,
    Quotient,
    XDivY,
    XLog1pY,
    XLogY,
)
from symml.kernels.plan import Plan, unguarded_plan
from symml.kernels.printer import KernelPrinter
from symml.kernels.source import code_name, code_names

SCALAR_NODES = (Log1p, Expm1, LogSigmoid, XLogY, XLog1pY, XDivY, Quotient, FMod, DSigmoid)

# Scalar helpers compiled with the kernel: each is exact in both tails.
HELPERS = """
@nb.njit(inline="always")
def _expit(u):
    if u >= 0:
        return 1.0 / (1.0 + math.exp(-u))
    e = math.exp(u)
    return e / (1.0 + e)

@nb.njit(inline="always")
def _dsigmoid(u):
    e = math.exp(-abs(u))
    return e / ((1.0 + e) * (1.0 + e))

@nb.njit(inline="always")
def _softplus(u):
    return max(u, 0.0) + math.log1p(math.exp(-abs(u)))

@nb.njit(inline="always")
def _log_expit(u):
    return min(u, 0.0) - math.log1p(math.exp(-abs(u)))

@nb.njit(inline="always")
def _xlogy(x, y):
    return 0.0 if x == 0 else x * math.log(y)

@nb.njit(inline="always")
def _xlog1py(x, y):
    return 0.0 if x == 0 else x * math.log1p(y)

@nb.njit(inline="always")
def _xdivy(x, y):
    return 0.0 if x == 0 else x / y

@nb.njit(inline="always")
def _divide(x, y):
    return x / y

@nb.njit(inline="always")
def _fmod(x, y):
    return x if y == 0 else np.fmod(x, y)

@nb.njit(inline="always")
def _ndtr(u):
    return 0.5 * math.erfc(-u * 0.7071067811865476)
"""

CALLS: dict[Any, str] = {
    sp.exp: "math.exp",
    sp.log: "math.log",
    sp.tanh: "math.tanh",
    sp.sin: "math.sin",
    sp.cos: "math.cos",
    sp.tan: "math.tan",
    sp.Abs: "abs",
    sp.erf: "math.erf",
    sp.erfc: "math.erfc",
    # NumPy's, not math's: numba's math.floor returns an int64, which raises on nan and on
    # |u| ≥ 2⁶³ (a step schedule at t = nan or t/k = 1e30); np.floor keeps the float type.
    sp.floor: "np.floor",
    sp.ceiling: "np.ceil",
    Log1p: "math.log1p",
    Expm1: "math.expm1",
    # a primitive's operation is the helper of the same name above (_expit, _ndtr, ...)
    **{p: f"_{p.kernel_operation}" for p in PRIMITIVES if p.kernel_operation is not None},
    DSigmoid: "_dsigmoid",
    LogSigmoid: "_log_expit",
    XLogY: "_xlogy",
    XLog1pY: "_xlog1py",
    XDivY: "_xdivy",
    Quotient: "_divide",
    FMod: "_fmod",
}


#: In the loop source, the arrays' float type: every number is written ``_F(…)``. numba
#: types a bare 1 or 0.5 as int64/float64, and float32 with either is float64 arithmetic:
#: Adam's float32 loop ran 3.5× slower (0.64 against 0.18 ms at 10⁶) with float64 numbers.
FLOAT = "_F"


class NumbaPrinter(KernelPrinter):
    """An expression of one element's scalars, for a numba loop body. Numbers are printed as
    the arrays' float type (``_F``), so that float32 arrays get float32 arithmetic; the
    helpers (σ, Φ, xlogy, …) keep their float64 constants, and with them their accuracy."""

    sqrt = "math.sqrt"

    def _number(self, text: str) -> str:
        return f"{FLOAT}({text})"

    def _print_Function(self, expr: Any) -> str:
        if type(expr) in CALLS:
            return f"{CALLS[type(expr)]}({', '.join(self._print(a) for a in expr.args)})"
        raise TypeError(f"numba has no scalar form for {type(expr).__name__}")

    _print_exp = _print_log = _print_tanh = _print_sin = _print_cos = _print_tan = _print_Function
    _print_Abs = _print_floor = _print_ceiling = _print_erf = _print_erfc = _print_Function

    def _print_relu(self, expr: Any) -> str:
        return f"max({self._print(expr.args[0])}, {self._number('0')})"

    def _print_sign(self, expr: Any) -> str:
        u = self._print(expr.args[0])
        one, zero = self._number("1"), self._number("0")
        return f"({one} if {u} > 0 else (-{one} if {u} < 0 else {zero}))"

    def _print_Pow(self, expr: Any, rational: bool = False) -> str:
        base, exp = expr.as_base_exp()
        if exp.is_Integer and abs(int(exp)) > 4:  # x**n keeps x's type for an integer n
            return (
                f"{self.parenthesize(base, sp.printing.precedence.PRECEDENCE['Pow'])}**{int(exp)}"
            )
        return super()._print_Pow(expr, rational)

    def _print_Heaviside(self, expr: Any) -> str:
        one, zero = self._number("1"), self._number("0")
        return f"({one} if {self._print(expr.args[0])} > 0 else {zero})"

    def _print_Piecewise(self, expr: Any) -> str:
        text = self._number("math.nan")
        for value, cond in reversed(expr.args):
            v = self._print(value)
            text = v if cond == sp.true else f"({v} if {self._print(cond)} else {text})"
        return text

    def _print_Max(self, expr: Any) -> str:
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr: Any) -> str:
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    def _print_And(self, expr: Any) -> str:
        return "(" + " and ".join(self._print(a) for a in expr.args) + ")"

    def _print_Or(self, expr: Any) -> str:
        return "(" + " or ".join(self._print(a) for a in expr.args) + ")"


def loopable(plan: Plan) -> bool:
    """Elementwise, with a scalar form for every function."""
    if plan.matrix or plan.axis_source or any(plan.reduced):
        return False
    for e in plan.outputs:
        if not isinstance(e, sp.Basic):
            return False
        for f in e.atoms(sp.Function):
            if type(f) in NODES and type(f) not in SCALAR_NODES:
                return False
    return True


def _hoist(expr: Any, scalars: set[Any], table: dict[Any, Any], names: Any) -> Any:
    """Replace every largest subexpression of scalar arguments only by a symbol in table.

    Only values (``sp.Expr``) are replaced: a Piecewise branch (an ExprCondPair), a condition
    (a relational, And, Or) is structure a symbol cannot stand for (``Piecewise`` refuses a
    branch that is a symbol); the values inside them are hoisted instead (the warmup
    schedule's −η/T in its second branch, 2·t_w in ``t < 2·t_w``)."""
    if not isinstance(expr, sp.Basic) or expr.is_Atom:
        return expr
    free = expr.free_symbols
    if free and free <= scalars and isinstance(expr, sp.Expr):
        for sym, value in table.items():
            if value == expr:
                return sym
        sym = next(names)
        table[sym] = expr
        return sym
    if isinstance(expr, sp.Add | sp.Mul):
        fixed = [a for a in expr.args if a.free_symbols and a.free_symbols <= scalars]
        rest = [_hoist(a, scalars, table, names) for a in expr.args if a not in fixed]
        if len(fixed) > 1:
            rest.append(_hoist(expr.func(*fixed), scalars, table, names))
        else:
            rest += [_hoist(a, scalars, table, names) for a in fixed]
        return expr.func(*rest)
    return expr.func(*(_hoist(a, scalars, table, names) for a in expr.args))


#: Names the loop reads from its module (and the loop function's own name): an argument
#: whose code name is one of them is renamed in the loop, which is called positionally.
LOOP_GLOBALS = frozenset(
    {"nb", "math", "np", FLOAT, "fused", "abs", "max", "min"}
    | set(re.findall(r"^def (\w+)", HELPERS, re.MULTILINE))
)


def _fresh(base: str, taken: set[str]) -> str:
    """``base``, with underscores appended until it is none of ``taken`` (then taken too):
    a generated local (the loop index ``i``, ``x_i``, ``out0``, ``r0``, ``bad``) must not
    shadow an argument, whose code name may be any identifier (``transformer.positional_even``
    has an argument ``i``)."""
    name = base
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _numbered(prefix: str, taken: set[str]) -> Iterator[Any]:
    """Symbols ``prefix0``, ``prefix1``, … (the prefix lengthened by underscores until none of
    them can be one of ``taken``)."""
    while any(re.fullmatch(re.escape(prefix) + r"\d+", t) for t in taken):
        prefix += "_"
    return sp.numbered_symbols(prefix, real=True)


def numba_source(plan: Plan, arrays: tuple[bool, ...], mode: str = "plain") -> str:
    """One loop over the flattened arrays; ``arrays`` says which arguments are arrays.

    ``mode``: "plain" stores every element; "count" also returns how many elements have a
    nan or ±inf output (the unguarded plan: its caller then fixes those); "fixup" computes
    only the elements whose stored outputs are not all finite (the guarded plan).

    Every name the loop makes up is chosen apart from the arguments' code names, and an
    argument named as a module the loop reads (``math``, ``nb``, a helper) is renamed."""
    names = code_names(plan)
    # The arguments' own names too: a made-up symbol _h0 or _c0 must not be one of theirs.
    taken = set(names.values()) | {code_name(a) for a in plan.args} | set(plan.args)
    taken |= {str(s) for s in names} | set(LOOP_GLOBALS)
    params = []
    for a in plan.args:
        p = code_name(a)
        if p in LOOP_GLOBALS:
            local = _fresh(p, taken)
            names = {s: local if n == p else n for s, n in names.items()}
            p = local
        params.append(p)
    printer = NumbaPrinter(names)
    array_names = {p for p, a in zip(params, arrays, strict=True) if a}
    scalars = {s for s, n in names.items() if isinstance(s, sp.Symbol) and n not in array_names}
    table: dict[Any, Any] = {}
    hoisted_names = _numbered("_h", taken)
    outputs = [_hoist(e, scalars, table, hoisted_names) for e in plan.outputs]
    taken |= {str(s) for s in table}
    replacements, reduced = sp.cse(outputs, symbols=_numbered("_c", taken), order="none")
    taken |= {str(s) for s, _ in replacements}
    index = _fresh("i", taken)
    bad = _fresh("bad", taken) if mode == "count" else None
    outs = [_fresh(f"out{n}", taken) for n in range(len(outputs))]
    element = {p: _fresh(f"{p}_i", taken) for p in params if p in array_names}
    rs = [_fresh(f"r{n}", taken) for n in range(len(reduced))]
    first = next(p for p in params if p in array_names)
    lines = [f"def fused({', '.join(params + outs)}):"]
    for sym, value in table.items():
        names[sym] = str(sym)
        lines.append(f"    {sym} = {FLOAT}({printer.doprint(value)})")
    if mode == "count":
        lines.append(f"    {bad} = 0")
    lines.append(f"    for {index} in nb.prange({first}.shape[0]):")
    body = [f"{element[p]} = {p}[{index}]" for p in params if p in element]
    for s in list(names):
        if names[s] in element:
            names[s] = element[names[s]]
    for sym, value in replacements:
        names[sym] = str(sym)
        body.append(f"{sym} = {printer.doprint(value)}")
    for r, e in zip(rs, reduced, strict=True):
        body.append(f"{r} = {printer.doprint(e)}")
    if mode == "count":
        finite = " and ".join(f"math.isfinite({r})" for r in rs)
        # A sum reduction: the loop still vectorises (a branch would not).
        body.append(f"{bad} += 0 if {finite} else 1")
    for o, r in zip(outs, rs, strict=True):  # stores after every read: out= may alias an input
        body.append(f"{o}[{index}] = {r}")
    if mode == "fixup":
        finite = " and ".join(f"math.isfinite({o}[{index}])" for o in outs)
        lines.append(f"        if not ({finite}):")
        lines += [f"            {line}" for line in body]
    else:
        lines += [f"        {line}" for line in body]
    if mode == "count":
        lines.append(f"    return {bad}")
    return "\n".join(lines) + "\n"


def compile_loop(source: str, name: str, dtype: Any = np.float64) -> Callable[..., Any]:
    """The loop compiled for arrays of ``dtype``: its numbers are of that type."""
    import numba as nb

    namespace: dict[str, Any] = {"nb": nb, "math": math, "np": np, FLOAT: np.dtype(dtype).type}
    exec(compile(HELPERS, "<symml numba helpers>", "exec"), namespace)  # noqa: S102
    exec(compile(source, f"<symml numba {name}>", "exec"), namespace)  # noqa: S102
    return nb.njit(parallel=True, cache=False, error_model="numpy")(namespace["fused"])


def backend() -> Backend:
    """numba, on the NumPy namespace (a plan it cannot loop over runs NumPy's bodies)."""
    need("numba", "numba", "numba")
    return numpy_backend.backend("numba")


#: The first line of a looped kernel's source.
LOOP_NOTE = (
    "# _F: the arrays' float type (np.float32 or np.float64); numbers in the loop are of it\n"
)
#: The first line of the source of a kernel numba cannot loop over.
NOT_LOOPABLE_NOTE = "# numba: not elementwise (a reduction or a matrix product): NumPy body\n"


#: float32 functions NumPy evaluates with SIMD loops (AVX2/AVX-512) and a numba loop calls
#: one element at a time (numba vectorises them only with Intel's SVML, absent from the
#: llvmlite wheels): σ and σ′ are built from exp, log1p (rt.log1p) and the unguarded
#: xlogy and xlog1py from log (BCE float32 at 10⁶: 6.3 ms on NumPy, 8–11 ms on the loop).
NUMPY_SIMD_FLOAT32 = (
    sp.exp,
    sp.log,
    sp.tanh,
    sp.sin,
    sp.cos,
    sigmoid,
    DSigmoid,
    Log1p,
    XLogY,
    XLog1pY,
)
#: Functions that are one element at a time in both (scipy.special): fusing wins.
SCALAR_BOTH = (sp.erf, sp.erfc, Phi, Expm1, softplus, LogSigmoid)


def numpy_simd_wins(plan: Plan) -> bool:
    """Whether, on float32, the NumPy body beats the loop: the plan's functions are SIMD in
    NumPy and scalar in numba (σ: 2.1 vs 4.5 ms, LSTM cell: 13 vs 42 ms at N = 10⁶), with
    none that is scalar in both (Φ, erf), where fusing the passes still wins."""
    atoms = {type(f) for e in plan.outputs for f in e.atoms(sp.Function)}
    atoms |= {sp.exp for e in plan.outputs if e.atoms(sp.exp)}
    return any(issubclass(a, NUMPY_SIMD_FLOAT32) for a in atoms) and not any(
        issubclass(a, SCALAR_BOTH) for a in atoms
    )


class Loops:
    """A loopable kernel's compiled loops, by (mode, mask of array arguments, float type),
    compiled on first use."""

    def __init__(self, plan: Plan, name: str) -> None:
        self.plan = plan
        self.name = name
        #: Every loop compiled so far, by (mode, mask, dtype).
        self.compiled: dict[tuple[str, tuple[bool, ...], Any], Callable[..., Any]] = {}

    @functools.cached_property
    def unguarded(self) -> Plan | None:
        """The plan without its division guards, or None when it has none to drop (or has
        log guards)."""
        # Only division guards are worth dropping in a loop: an xlogy guard skips the log of
        # every element whose weight is 0 (half of them with 0/1 labels), which the unguarded
        # loop would compute (BCE float64 at 10⁶: 8.3 guarded, 10–15 ms unguarded).
        logs = any(e.has(XLogY, XLog1pY) for e in self.plan.outputs)
        return None if logs else unguarded_plan(self.plan)

    @functools.cached_property
    def numpy_simd_wins(self) -> bool:
        """``numpy_simd_wins`` of the plan, decided once."""
        return numpy_simd_wins(self.plan)

    def loop(self, mode: str, key: tuple[bool, ...], dtype: Any) -> Callable[..., Any]:
        """The compiled loop of this mode ("plain", "count" over the unguarded plan, "fixup")
        for this mask of array arguments and float type."""
        found = self.compiled.get((mode, key, dtype))
        if found is not None:
            return found
        plan = self.unguarded if mode == "count" else self.plan
        source = numba_source(plan, key, mode)
        self.compiled[(mode, key, dtype)] = compile_loop(source, self.name, dtype)
        return self.compiled[(mode, key, dtype)]

    def run(self, values: list[Any], out: Any, dtype: Any) -> list[Any] | None:
        """The loop's results, or None when these arguments need the NumPy body (no array,
        arrays of different shapes or not C-contiguous, or an array that is not NumPy's: a
        dask array next to NumPy ones was taken for a number, and the loop refused it)."""
        shape = None
        arrays = []
        for v in values:
            if not numpy_value(v):
                return None
            is_array = isinstance(v, np.ndarray) and v.ndim > 0
            if is_array:
                if not v.flags.c_contiguous or (shape is not None and v.shape != shape):
                    return None
                shape = v.shape
            arrays.append(is_array)
        if shape is None or (dtype == np.float32 and self.numpy_simd_wins):
            return None
        key = tuple(arrays)
        outs = out_list(out, len(self.plan.outputs), self.name)
        # An out= that is an input is safe here (each element's inputs are read before its
        # outputs are stored); one overlapping an input at an offset is not: a later element
        # would read what an earlier one stored. Those outputs go to fresh arrays, copied
        # after.
        layout = out_layout(outs, values)
        targets = [
            o
            if layout is not None
            and isinstance(o, np.ndarray)
            and o.shape == shape
            and o.dtype == dtype
            and o.flags.c_contiguous
            else np.empty(shape, dtype)
            for o in outs
        ]
        # Numbers in the arrays' type, as on the NumPy path: a float64 β₁ would make the
        # whole float32 loop float64 arithmetic.
        cast = np.dtype(dtype).type
        flat = [v.reshape(-1) if a else cast(v) for v, a in zip(values, arrays, strict=True)]
        flat_targets = [t.reshape(-1) for t in targets]
        # No np.errstate: compiled code does not consult NumPy's error state
        # (error_model="numpy" gives IEEE results, inf and nan, without raising).
        if self.unguarded is not None and not writes_an_input(layout):
            # As on the NumPy backend: the guards (0·log 0, 0/0) cost a branch and a second
            # division per element; run without them, then recompute with them only the
            # elements that came out nan or ±inf (none, on data away from the endpoints).
            if self.loop("count", key, dtype)(*flat, *flat_targets):
                self.loop("fixup", key, dtype)(*flat, *flat_targets)
        else:
            self.loop("plain", key, dtype)(*flat, *flat_targets)
        return into_outs(targets, outs)
