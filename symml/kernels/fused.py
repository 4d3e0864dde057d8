"""Fused backends: numexpr evaluates each elementwise output in one multi-threaded pass.

Only elementwise kernels fuse (no axis reduction, no matrix product, no special function
numexpr lacks such as Φ); any other kernel on this backend runs the NumPy body and says so
in its source. numba kernels (``numba_backend``) are one parallel loop per elementwise plan.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from typing import Any

import numpy as np
import sympy as sp

from symml.errors import UsageError
from symml.functions import Phi, sigmoid, softplus
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
from symml.kernels.printer import KernelPrinter

FUSABLE_NODES = (Log1p, Expm1, LogSigmoid, XLogY, XLog1pY, XDivY, Quotient, FMod, DSigmoid)


#: Functions computed from e = exp(−|u|) of their argument u (one exp, exact in both tails).
FROM_EXP_ABS = (sigmoid, DSigmoid, softplus, LogSigmoid)


class NumexprPrinter(KernelPrinter):
    """An expression as a numexpr string (its functions carry no module prefix).

    ``exp_abs`` names arrays already holding exp(−|u|) for arguments u of σ, σ′, softplus
    and log σ: numexpr has no common subexpressions, so a σ written out in full would
    evaluate its exponential two or three times per element."""

    def __init__(self, names: dict[Any, str] | None = None, exp_abs: dict[Any, str] | None = None):
        super().__init__(names)
        self.exp_abs = exp_abs if exp_abs is not None else {}

    def _print_Function(self, expr: Any) -> str:
        if isinstance(expr, FROM_EXP_ABS):
            # exp(−|u|) from its array when one was evaluated, else written out in place.
            u, e = self._print(expr.args[0]), self.exp_abs.get(expr.args[0])
            if isinstance(expr, sigmoid):
                if e is not None:
                    return f"(where({u} >= 0, 1, {e})/(1 + {e}))"
                # both branches are evaluated; each is exact on its side
                return f"where({u} >= 0, 1/(1 + exp(-({u}))), exp({u})/(1 + exp({u})))"
            e = e or f"exp(-abs({u}))"
            if isinstance(expr, DSigmoid):
                return f"({e}/((1 + {e})*(1 + {e})))"
            if isinstance(expr, softplus):
                return f"(where({u} > 0, {u}, 0) + log1p({e}))"
            return f"(where({u} < 0, {u}, 0) - log1p({e}))"
        a = [self._print(x) for x in expr.args]
        simple = {
            sp.exp: "exp",
            sp.log: "log",
            sp.tanh: "tanh",
            sp.sin: "sin",
            sp.cos: "cos",
            sp.Abs: "abs",
            Log1p: "log1p",
            Expm1: "expm1",
        }
        if type(expr) in simple:
            return f"{simple[type(expr)]}({a[0]})"
        if isinstance(expr, XLogY):
            return f"where(({a[0]}) == 0, 0, ({a[0]})*log({a[1]}))"
        if isinstance(expr, XLog1pY):
            return f"where(({a[0]}) == 0, 0, ({a[0]})*log1p({a[1]}))"
        if isinstance(expr, XDivY):
            return f"where(({a[0]}) == 0, 0, ({a[0]})/({a[1]}))"
        if isinstance(expr, Quotient):
            return f"(({a[0]})/({a[1]}))"
        if isinstance(expr, FMod):
            return f"where(({a[1]}) == 0, {a[0]}, fmod({a[0]}, {a[1]}))"
        raise UsageError(f"numexpr has no form for {type(expr).__name__}")

    _print_exp = _print_log = _print_tanh = _print_sin = _print_cos = _print_Abs = _print_Function

    def _print_Pow(self, expr: Any, rational: bool = False) -> str:
        """numexpr's sqrt; integer powers as products and the rest as the NumPy printer."""
        base, exp = expr.as_base_exp()
        if exp == sp.S.Half:
            return f"sqrt({self._print(base)})"
        if exp == -sp.S.Half:
            return f"1/sqrt({self._print(base)})"
        return super()._print_Pow(expr, rational)

    def _print_Piecewise(self, expr: Any) -> str:
        text = None
        for value, cond in reversed(expr.args):
            v = self._print(value)
            text = v if cond == sp.true else f"where({self._print(cond)}, {v}, {text})"
        return text

    def _print_Max(self, expr: Any) -> str:
        return self._fold(expr, lambda a, b: f"where({a} > {b}, {a}, {b})")

    def _print_Min(self, expr: Any) -> str:
        return self._fold(expr, lambda a, b: f"where({a} < {b}, {a}, {b})")

    def _print_And(self, expr: Any) -> str:
        return self._fold(expr, lambda a, b: f"({a}) & ({b})")

    def _print_Or(self, expr: Any) -> str:
        return self._fold(expr, lambda a, b: f"({a}) | ({b})")


def fusable(plan: Any) -> bool:
    """Elementwise, only functions numexpr has, and no constant output (the gradient of a
    linear term: numexpr evaluates ``1`` to one number, and refuses an ``out=`` of more than
    one element; the NumPy body broadcasts it to the arguments' shape and dtype)."""
    if plan.matrix or plan.axis_source:
        return False
    for e in plan.outputs:
        if _constant(e):
            return False
        if not isinstance(e, sp.Basic):
            continue
        nodes = {type(n) for n in e.atoms(sp.Function)}
        if any(n in NODES and n not in FUSABLE_NODES for n in nodes) or Phi in nodes:
            return False
        if e.has(sp.erf, sp.floor, sp.ceiling, sp.sign, sp.Heaviside):
            return False
    return True


def _constant(expr: Any) -> bool:
    """Whether an output is a number (no argument in it)."""
    if isinstance(expr, sp.Basic):
        return not expr.free_symbols
    return isinstance(expr, int | float)


#: numexpr's functions (``numexpr.expressions.functions``): a variable of one of these
#: names in an expression is taken for the function.
NUMEXPR_FUNCTIONS = (
    "abs arccos arccosh arcsin arcsinh arctan arctan2 arctanh ceil complex conj contains copy "
    "copysign cos cosh exp expm1 floor fmod hypot imag isfinite isinf isnan log log10 log1p "
    "log2 max maximum min minimum nextafter ones_like prod real round sign signbit sin sinh "
    "sqrt sum tan tanh trunc where"
).split()

#: The names the numexpr body gives its locals and its ``env`` entries (results, e^−|u|
#: arrays, hoisted and common subexpressions), the modules it reads, and numexpr's functions.
BODY_NAMES = re.compile(
    "|".join([r"env|ne|outs|axis|np|xp|sx|rt|fused|r\d+|_e\d+|_h\d+|_c\d+", *NUMEXPR_FUNCTIONS])
)


def body_params(plan: Any) -> list[str]:
    """The numexpr body's parameters: the arguments' code names, with underscores appended
    to one that the body's own names could be (an argument ``env`` or ``_e0`` would be
    overwritten in ``env``, one ``outs`` would repeat a parameter). The body is called with
    its arguments by position, so the names are its own."""
    from symml.kernels.kernel import code_name

    codes = [code_name(a) for a in plan.args]
    taken = set(codes)
    params = []
    for p in codes:
        if BODY_NAMES.fullmatch(p):
            while BODY_NAMES.fullmatch(p) or p in taken:
                p += "_"
            taken.add(p)
        params.append(p)
    return params


def _evaluation_order(plan: Any, arrays: tuple[bool, ...] | None) -> tuple[Any, ...]:
    """(names, hoisted scalar table, common subexpressions, outputs) of the numexpr body,
    in the order it evaluates them."""
    from symml.kernels.kernel import _cse, _names, code_name
    from symml.kernels.numba_backend import _hoist, _numbered

    params = body_params(plan)
    renamed = {code_name(a): p for a, p in zip(plan.args, params, strict=True)}
    names = {s: renamed.get(n, n) for s, n in _names(plan).items()}
    arrays = arrays if arrays is not None else tuple(True for _ in params)
    array_names = {p for p, a in zip(params, arrays, strict=True) if a}
    scalars = {s for s, n in names.items() if isinstance(s, sp.Symbol) and n not in array_names}
    table: dict[Any, Any] = {}
    # Not the symbol of an argument called _h0: the hoisted value would take its place.
    hoisted = _numbered("_h", {str(s) for s in names} | set(plan.args))
    outputs = tuple(_hoist(e, scalars, table, hoisted) for e in plan.outputs)
    replacements, reduced = _cse(replace(plan, outputs=outputs))
    return names, table, replacements, reduced


def late_reads(plan: Any, arrays: tuple[bool, ...]) -> tuple[frozenset[int], ...]:
    """Per output, the arguments (by index) the numexpr body still reads after evaluating
    that output into its out= buffer: a buffer that is one of them must not take the
    output before the body ends."""
    names, _, replacements, reduced = _evaluation_order(plan, arrays)
    index = {p: k for k, p in enumerate(body_params(plan))}
    steps = [expr for _, expr in replacements] + list(reduced)
    position = {sym: k for k, (sym, _) in enumerate(replacements)}

    def reads(expr: Any) -> set[int]:
        atoms = expr.atoms(sp.Symbol, sp.IndexedBase) if isinstance(expr, sp.Basic) else ()
        return {index[names[a]] for a in atoms if names.get(a) in index}

    late = []
    for n, e in enumerate(reduced):
        at = position.get(e, len(replacements) + n)
        late.append(frozenset().union(*(reads(x) for x in steps[at + 1 :])))
    return tuple(late)


def numexpr_source(plan: Any, arrays: tuple[bool, ...] | None = None) -> str:
    """The numexpr body for this mask of array arguments (all arrays when None).

    Subexpressions of scalar arguments only (Adam's 1 − β₁ᵗ, η/(1 − β₁ᵗ)) are computed once in
    Python, not per element; the exponential of a σ-family argument is evaluated once into
    its own array; each common subexpression is one ``ne.evaluate``, its output's ``out``
    when it is an output."""
    params = body_params(plan)
    names, table, replacements, reduced = _evaluation_order(plan, arrays)
    array_params = {p for p, a in zip(params, arrays or [True] * len(params), strict=True) if a}
    exp_abs: dict[Any, str] = {}
    printer = NumexprPrinter(names, exp_abs)
    python = KernelPrinter(names)
    lines = [f"def fused({', '.join(params)}, *, axis, outs):", "    env = dict(locals())"]
    for sym, value in table.items():
        names[sym] = str(sym)
        # A local too: an output of scalars only is the hoisted value itself (below).
        lines.append(f"    env[{str(sym)!r}] = {str(sym)} = {python.doprint(value)}")

    def exponentials(expr: Any) -> None:
        for node in sorted(expr.atoms(*FROM_EXP_ABS), key=sp.default_sort_key):
            u = node.args[0]
            if u not in exp_abs:
                name = f"_e{len(exp_abs)}"
                lines.append(
                    f"    env[{name!r}] = ne.evaluate({f'exp(-abs({printer.doprint(u)}))'!r}, env)"
                )
                exp_abs[u] = name

    # A common subexpression that is itself an output is evaluated straight into its out.
    # (Not any symbol: an output that is a hoisted value or an argument is no local array.)
    common = {sym for sym, _ in replacements}
    direct = {e: n for n, e in enumerate(reduced) if e in common}

    def reads_an_array(expr: Any) -> bool:
        return any(s in common or names.get(s) in array_params for s in expr.free_symbols)

    for sym, expr in replacements:
        names[sym] = str(sym)
        exponentials(expr)
        target = f", out=outs[{direct[sym]}]" if sym in direct else ""
        code = printer.doprint(expr)
        lines.append(f"    env[{str(sym)!r}] = {str(sym)} = ne.evaluate({code!r}, env{target})")
    results = []
    for n, e in enumerate(reduced):
        if e in direct:
            results.append(str(e))
            continue
        results.append(f"r{n}")
        if not reads_an_array(e):
            # Scalars only (Adam's step in η with W the one array, a schedule at t a number):
            # the value computed in Python, broadcast into its out as the NumPy body's output
            # is; the fix-up pass of the guarded body (outs of None) takes the value itself.
            value = python.doprint(e)
            lines += [
                f"    r{n} = outs[{n}]",
                f"    if r{n} is None:",
                f"        r{n} = {value}",
                "    else:",
                f"        r{n}[...] = {value}",
            ]
            continue
        exponentials(e)
        lines.append(f"    r{n} = ne.evaluate({printer.doprint(e)!r}, env, out=outs[{n}])")
    lines.append(f"    return ({', '.join(results)},)")
    return "\n".join(lines) + "\n"


def fused_kernel(plan, formula, expr, wrt, backend, axis, portable):
    from symml.kernels.backends import into_outs, numpy_value, out_layout, writes_an_input
    from symml.kernels.kernel import (
        Kernel,
        _compile,
        _optimistic,
        _outs,
        unguarded_plan,
    )

    if backend.name == "numba":
        return numba_kernel(plan, formula, expr, wrt, backend, axis, portable)
    import numexpr as ne

    if not fusable(plan):
        note = (
            "# numexpr cannot fuse this kernel (a reduction, a special function or a "
            "constant output): NumPy body\n"
        )
        return _numpy_body(note, plan, formula, expr, wrt, backend, axis, portable)
    source = numexpr_source(plan)
    # numexpr's where() branches per element (mispredicted on mixed labels: 5 ns each), so a
    # plan with 0·log 0 guards runs unguarded first and the guarded body only on the elements
    # that came out nan or ±inf, as on the NumPy backend.
    unguarded = unguarded_plan(plan)
    bodies: dict[tuple[Any, ...], Any] = {}

    def body(key: tuple[bool, ...], chosen: Any = plan) -> Any:
        cache_key = (chosen is plan, *key)
        if cache_key not in bodies:
            namespace = {"ne": ne, "np": np, "xp": np, "sx": backend.sx, "rt": backend.rt}
            text = numexpr_source(chosen, key)
            exec(compile(text, f"<symml numexpr {plan.name}>", "exec"), namespace)  # noqa: S102
            bodies[cache_key] = namespace["fused"]
        return bodies[cache_key]

    # Asked only when an out= is an input: the common subexpressions cost a SymPy pass.
    reads_after = functools.cache(lambda key: late_reads(plan, key))

    class NumexprKernel(Kernel):
        def _run(self, values, axis, out, dtype):  # type: ignore[override]
            # Dask (or any other array kind) runs the portable body and stays lazy; a call
            # of numbers only runs the NumPy body, whose result is a number as on NumPy
            # (numexpr gains nothing on one element), as numba does.
            if not all(numpy_value(v) for v in values):
                return super()._run(values, axis, out, dtype)
            shapes = [np.shape(v) for v in values]
            key = tuple(len(s) > 0 for s in shapes)
            if not any(key):
                return super()._run(values, axis, out, dtype)
            outs = _outs(out, len(self.outputs), self.name)
            try:
                shape = np.broadcast_shapes(*shapes)
            except ValueError as exc:  # the NumPy body's one-line message, not NumPy's
                raise self._misfit(values, exc) from None
            # An out= that is an input still read after its output is written, or that
            # overlaps an input at an offset, gets the output afterwards, by a copy.
            layout = out_layout(outs, values)
            targets = [
                o
                if o is not None
                and layout is not None
                and not (layout[n] >= 0 and layout[n] in reads_after(key)[n])
                else np.empty(shape, dtype)
                for n, o in enumerate(outs)
            ]
            guarded = body(key)
            if unguarded is None or writes_an_input(layout):
                results = list(guarded(*values, axis=axis, outs=targets))
            else:
                fast = body(key, unguarded)
                results = _optimistic(self.plan, fast, guarded, values, axis, targets)
            return into_outs(results, outs)

    return NumexprKernel(
        plan.name,
        plan.args,
        plan.output_names,
        source,
        formula,
        expr,
        wrt,
        "numexpr",
        axis,
        plan,
        backend,
        _compile(portable, backend, "portable"),
    )


def numba_kernel(plan, formula, expr, wrt, backend, axis, portable):
    from symml.kernels.kernel import Kernel, _compile
    from symml.kernels.numba_backend import loopable, numba_source, run_loop

    if not loopable(plan):
        note = "# numba: not elementwise (a reduction or a matrix product): NumPy body\n"
        return _numpy_body(note, plan, formula, expr, wrt, backend, axis, portable)

    class NumbaKernel(Kernel):
        _loops: dict = {}

        def _run(self, values, axis, out, dtype):  # type: ignore[override]
            if dtype not in (np.float32, np.float64):  # float16, float128: no loop of them
                return super()._run(values, axis, out, dtype)
            results = run_loop(self, values, out, dtype)
            return results if results is not None else super()._run(values, axis, out, dtype)

    k = NumbaKernel(
        plan.name,
        plan.args,
        plan.output_names,
        "# _F: the arrays' float type (np.float32 or np.float64); numbers in the loop are of it\n"
        + numba_source(plan, tuple(True for _ in plan.args)),
        formula,
        expr,
        wrt,
        "numba",
        axis,
        plan,
        backend,
        _compile(portable, backend, "portable"),
    )
    object.__setattr__(k, "_loops", {})  # one compiled loop per mask of array arguments
    return k


def _numpy_body(note, plan, formula, expr, wrt, backend, axis, portable):
    """A kernel the fused backend cannot take: the NumPy bodies, with a note saying why."""
    from symml.kernels.kernel import Kernel, _compile, fast_source

    plain = plan.matrix or plan.axes > 1
    fast = "" if plain else fast_source(plan, tuple(True for _ in plan.args))
    return Kernel(
        plan.name,
        plan.args,
        plan.output_names,
        note + portable + "\n" + fast,
        formula,
        expr,
        wrt,
        backend.name,
        axis,
        plan,
        backend,
        _compile(portable, backend, "portable"),
    )
