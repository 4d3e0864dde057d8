"""Printing an array expression as Python source.

``KernelPrinter`` (a ``NumPyPrinter``) prints whole expressions against an array module
``xp`` and a special-function module ``sx`` (numpy + scipy.special, jax.numpy +
jax.scipy.special, …): that is the portable body every backend and every array type (Dask,
JAX, CuPy) can run. ``InPlaceEmitter`` splits the same common-subexpression list into single
ufunc calls and assigns every temporary a buffer, reusing a dead one through ``out=``:
that is the fast body for NumPy arrays of one shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from symml.catalog.primitives import PRIMITIVES, MLFunction
from symml.kernels.nodes import (
    ConvolveFull,
    CorrelateValid,
    DSigmoid,
    Expm1,
    FMod,
    Log1p,
    LogSigmoid,
    LogSoftmax,
    LogSumExp,
    Quotient,
    Softmax,
    XDivY,
    XLog1pY,
    XLogY,
)

# name → (call, module) for one-argument functions; both printers use it.
#: Operations NumPy computes with a ufunc: softplus(u) = logaddexp(0, u).
PRINTED_INLINE = frozenset({"softplus"})
UNARY: dict[Any, str] = {
    sp.exp: "xp.exp",
    sp.log: "xp.log",
    sp.tanh: "xp.tanh",
    sp.sin: "xp.sin",
    sp.cos: "xp.cos",
    sp.tan: "xp.tan",
    sp.Abs: "xp.abs",
    sp.floor: "xp.floor",
    sp.ceiling: "xp.ceil",
    sp.sign: "xp.sign",
    sp.erf: "sx.erf",
    sp.erfc: "sx.erfc",
    # a primitive's operation is the runtime's method of that name (rt.expit, rt.ndtr), but
    # for the operations NumPy has a ufunc for, printed inline below
    **{
        p: f"rt.{p.kernel_operation}"
        for p in PRIMITIVES
        if p.kernel_operation is not None and p.kernel_operation not in PRINTED_INLINE
    },
    DSigmoid: "rt.dsigmoid",
    LogSigmoid: "sx.log_expit",
    Log1p: "rt.log1p",
    Expm1: "xp.expm1",
}
BINARY: dict[Any, str] = {
    XLogY: "sx.xlogy",
    XLog1pY: "sx.xlog1py",
    XDivY: "rt.xdivy",
    Quotient: "xp.divide",
    FMod: "rt.fmod",
    ConvolveFull: "rt.convolve_full",
    CorrelateValid: "rt.correlate_valid",
}
#: The axis a two-index family's index sits on: its first index on axis − 1, its second on axis.
TABLE_AXES = ("axis - 1", "axis")
AXIS_CALLS: dict[Any, str] = {
    LogSumExp: "rt.logsumexp",
    Softmax: "rt.softmax",
    LogSoftmax: "rt.log_softmax",
}


def _absorb_sign(terms: list[Any]) -> tuple[int, tuple[Any, ...]] | None:
    """For −a − b with no positive term: a term a = (1 − y)·w whose difference factor can take
    the sign, as (y − 1)·w, at no cost. Its index and new factors, or None. Saves the pass
    that would negate the first term before the subtractions."""
    for k, term in enumerate(terms):
        if not isinstance(term, sp.Mul):
            continue
        for n, factor in enumerate(term.args):
            signs = [a.as_coeff_Mul()[0].is_negative for a in getattr(factor, "args", ())]
            # One subtraction either way: exactly one of its two terms is negative.
            if isinstance(factor, sp.Add) and len(signs) == 2 and signs[0] != signs[1]:
                args = list(term.args)
                args[n] = -factor
                return k, tuple(args)
    return None


def literal(value: Any) -> str:
    """A number as a Python literal: weak-typed, so float32 arithmetic stays float32."""
    value = sp.sympify(value)
    if value.is_Integer:
        return str(int(value))
    return repr(float(value))


def expand_ml(expr: Any) -> Any:
    """Primitives with no single ufunc, written in ones that have one."""
    if not isinstance(expr, sp.Basic):
        return expr
    return expr.replace(
        lambda e: isinstance(e, MLFunction) and type(e).kernel_form is not MLFunction.kernel_form,
        lambda e: e.kernel_form(),
    )


class KernelPrinter(NumPyPrinter):
    """NumPy printer against ``xp``/``sx``/``rt``, with powers by multiplication."""

    printmethod = "_symml_kernel"

    def __init__(self, names: dict[Any, str] | None = None) -> None:
        super().__init__({"fully_qualified_modules": True, "inline": True})
        self.names = names or {}

    def _module_format(self, fqn: str, register: bool = True) -> str:
        if fqn.startswith("numpy."):
            return "xp." + fqn[len("numpy.") :]
        return super()._module_format(fqn, register)

    def _print_Symbol(self, expr: Any) -> str:
        return self.names.get(expr, super()._print_Symbol(expr))

    #: The square root of an array (the numba printer's is ``math.sqrt`` of a scalar).
    sqrt = "xp.sqrt"

    def _number(self, text: str) -> str:
        """A number's literal as printed: as it is here (Python numbers are NumPy's weak
        scalars); the numba printer writes it in the arrays' float type."""
        return text

    def _print_Integer(self, expr: Any) -> str:
        return self._number(str(int(expr)))

    def _print_Rational(self, expr: Any) -> str:
        return self._number(literal(expr))

    def _print_Float(self, expr: Any) -> str:
        return self._number(literal(expr))

    def _print_Half(self, expr: Any) -> str:
        return self._number("0.5")

    def _print_Pi(self, expr: Any) -> str:
        return self._number(literal(sp.pi))

    def _print_Exp1(self, expr: Any) -> str:
        return self._number(literal(sp.E))

    def _print_Pow(self, expr: Any, rational: bool = False) -> str:
        base, exp = expr.as_base_exp()
        one = self._number("1")
        b = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Pow"])
        if exp.is_Integer and 1 <= abs(int(exp)) <= 4:
            product = "*".join([b] * abs(int(exp)))
            # Parenthesised: the caller places a power by its Pow precedence, so a bare
            # x*x in a denominator would print a/x*x, which is (a/x)·x.
            if abs(int(exp)) > 1:
                product = f"({product})"
            return product if exp > 0 else f"{one}/{product}"
        if exp == sp.S.Half:
            return f"{self.sqrt}({self._print(base)})"
        if exp == -sp.S.Half:
            return f"{one}/{self.sqrt}({self._print(base)})"
        return f"{b}**{self.parenthesize(exp, sp.printing.precedence.PRECEDENCE['Pow'])}"

    def _print_Function(self, expr: Any) -> str:
        call = UNARY.get(type(expr)) or BINARY.get(type(expr))
        if call:
            return f"{call}({', '.join(self._print(a) for a in expr.args)})"
        if type(expr) in AXIS_CALLS:
            return f"{AXIS_CALLS[type(expr)]}({self._print(expr.args[0])}, axis)"
        return super()._print_Function(expr)

    _print_exp = _print_log = _print_tanh = _print_sin = _print_cos = _print_tan = _print_Function
    _print_Abs = _print_floor = _print_ceiling = _print_sign = _print_erf = _print_erfc = (
        _print_Function
    )

    # -- the kernels' array nodes and the primitives NumPy computes inline, one method each
    def _print_ReduceSum(self, expr: Any) -> str:
        return f"xp.sum({self._print(expr.args[0])}, axis=axis, keepdims=True)"

    def _print_ReduceMax(self, expr: Any) -> str:
        return f"xp.max({self._print(expr.args[0])}, axis=axis, keepdims=True)"

    def _print_ArgmaxMask(self, expr: Any) -> str:
        return f"rt.argmax_mask({self._print(expr.args[0])}, axis)"

    def _print_AxisSum(self, expr: Any) -> str:
        where = TABLE_AXES[int(expr.args[1])]
        return f"xp.sum({self._print(expr.args[0])}, axis={where}, keepdims=True)"

    def _print_AxisLogSumExp(self, expr: Any) -> str:
        return f"rt.logsumexp({self._print(expr.args[0])}, {TABLE_AXES[int(expr.args[1])]})"

    def _print_AxisSoftmax(self, expr: Any) -> str:
        return f"rt.softmax({self._print(expr.args[0])}, {TABLE_AXES[int(expr.args[1])]})"

    def _print_softplus(self, expr: Any) -> str:
        return f"xp.logaddexp(0, {self._print(expr.args[0])})"

    def _print_relu(self, expr: Any) -> str:
        return f"xp.maximum({self._print(expr.args[0])}, 0)"

    def _print_MatMulNode(self, expr: Any) -> str:
        return f"xp.matmul({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_TransposeNode(self, expr: Any) -> str:
        return f"xp.swapaxes({self._print(expr.args[0])}, -1, -2)"

    def _print_ConcatRows(self, expr: Any) -> str:
        return f"rt.concat_rows({', '.join(self._print(a) for a in expr.args)})"

    def _print_RowSlice(self, expr: Any) -> str:
        x, start, stop = (self._print(a) for a in expr.args)
        return f"{x}[..., {start}:{stop}, :]"

    def _print_Step(self, expr: Any) -> str:
        return f"xp.heaviside({self._print(expr.args[0])}, 0)"

    def _print_SumTo(self, expr: Any) -> str:
        return f"rt.sum_to({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_BroadcastLike(self, expr: Any) -> str:
        return f"rt.broadcast_like({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _fold(self, expr: Any, pair: Callable[[str, str], str]) -> str:
        """max/min/and/or of any number of arguments as nested calls of a binary form."""
        args = [self._print(a) for a in expr.args]
        text = args[0]
        for a in args[1:]:
            text = pair(text, a)
        return text

    def _print_Max(self, expr: Any) -> str:
        return self._fold(expr, lambda a, b: f"xp.maximum({a}, {b})")

    def _print_Min(self, expr: Any) -> str:
        return self._fold(expr, lambda a, b: f"xp.minimum({a}, {b})")

    def _print_Heaviside(self, expr: Any) -> str:
        # The subgradient convention of every framework: step'(0) = 0.
        return f"xp.heaviside({self._print(expr.args[0])}, 0)"

    def _print_Piecewise(self, expr: Any) -> str:
        text = None
        for value, cond in reversed(expr.args):
            v = self._print(value)
            if cond == sp.true:
                text = v
                continue
            text = f"xp.where({self._print(cond)}, {v}, {text if text is not None else 'xp.nan'})"
        return text

    def _print_Relational(self, expr: Any) -> str:
        ops = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
        lhs = self.parenthesize(expr.lhs, 40)
        rhs = self.parenthesize(expr.rhs, 40)
        return f"({lhs} {ops[expr.rel_op]} {rhs})"

    def _print_And(self, expr: Any) -> str:
        return self._fold(expr, lambda a, b: f"xp.logical_and({a}, {b})")

    def _print_Or(self, expr: Any) -> str:
        return self._fold(expr, lambda a, b: f"xp.logical_or({a}, {b})")


# -- the in-place body ------------------------------------------------------------------------

SCALAR, REDUCED, FULL = 0, 1, 2


@dataclass
class Op:
    """One call: ``target = call(args…, out=buffer)``."""

    target: str
    call: str
    args: tuple[str, ...]
    cls: int
    kind: str = "f"  # "f" float, "b" boolean
    ufunc: bool = True  # accepts out=
    extra: str = ""  # trailing keyword text (axis=…)
    out: str | None = None


@dataclass
class InPlaceEmitter:
    """Splits expressions into single calls; every temporary gets a reused buffer."""

    classes: dict[str, int]  # argument name → SCALAR/FULL at this call's shapes
    names: dict[Any, str]
    ops: list[Op] = field(default_factory=list)
    _memo: dict[Any, tuple[str, int, str]] = field(default_factory=dict)
    _count: int = 0

    def operand(self, expr: Any) -> tuple[str, int, str]:
        """(text, class, kind) of an expression, emitting ops for it as needed."""
        if expr in self._memo:
            return self._memo[expr]
        result = self._operand(expr)
        self._memo[expr] = result
        return result

    def define(self, symbol: Any, expr: Any) -> None:
        """A common subexpression: ``symbol`` stands for ``expr``'s operand from now on."""
        self._memo[symbol] = self.operand(expr)

    def _new(self, call: str, args: list[tuple[str, int, str]], **kw: Any) -> tuple[str, int, str]:
        cls = kw.pop("cls", max((a[1] for a in args), default=SCALAR))
        kind = kw.pop("kind", "f")
        self._count += 1
        name = f"t{self._count}"
        self.ops.append(Op(name, call, tuple(a[0] for a in args), cls, kind, **kw))
        return name, cls, kind

    def _operand(self, e: Any) -> tuple[str, int, str]:
        if isinstance(e, sp.Symbol):
            name = self.names[e]
            return name, self.classes.get(name, SCALAR), "f"
        if e.is_number:
            return literal(e), SCALAR, "f"
        # one _emit_<Class> method per node, found along the class's MRO (as SymPy's printers
        # find _print_<Class>)
        for cls in type(e).__mro__:
            emit = getattr(self, f"_emit_{cls.__name__}", None)
            if emit is not None:
                return emit(e)
        raise TypeError(f"no array form for {type(e).__name__}")

    def _emit_Add(self, e: Any) -> tuple[str, int, str]:
        return self._add(e)

    def _emit_Mul(self, e: Any) -> tuple[str, int, str]:
        return self._mul(e)

    def _emit_Pow(self, e: Any) -> tuple[str, int, str]:
        return self._pow(e)

    def _emit_Function(self, e: Any) -> tuple[str, int, str]:
        t = type(e)
        if t in UNARY:
            return self._new(UNARY[t], [self.operand(e.args[0])])
        if t in BINARY:
            # rt.xdivy zeroes its output first, so it must not write over an operand; rt.fmod
            # takes no out=; the window operations change the shape.
            ufunc = t not in (XDivY, FMod, ConvolveFull, CorrelateValid)
            return self._new(BINARY[t], [self.operand(a) for a in e.args], ufunc=ufunc)
        if t in AXIS_CALLS:
            # rt.softmax and rt.log_softmax take out= (and may write over their argument).
            return self._new(AXIS_CALLS[t], [self.operand(e.args[0])], extra="axis=axis")
        raise TypeError(f"no array form for {t.__name__}")

    def _emit_softplus(self, e: Any) -> tuple[str, int, str]:
        return self._new("xp.logaddexp", [("0", SCALAR, "f"), self.operand(e.args[0])])

    def _emit_relu(self, e: Any) -> tuple[str, int, str]:
        return self._new("xp.maximum", [self.operand(e.args[0]), ("0", SCALAR, "f")])

    def _emit_ReduceSum(self, e: Any) -> tuple[str, int, str]:
        squared = self._sum_of_squares(e.args[0])
        if squared is not None:
            return squared
        inner = self.operand(e.args[0])
        return self._new(
            "xp.sum", [inner], cls=REDUCED, ufunc=False, extra="axis=axis, keepdims=True"
        )

    def _emit_ReduceMax(self, e: Any) -> tuple[str, int, str]:
        inner = self.operand(e.args[0])
        return self._new(
            "xp.max", [inner], cls=REDUCED, ufunc=False, extra="axis=axis, keepdims=True"
        )

    def _emit_ArgmaxMask(self, e: Any) -> tuple[str, int, str]:
        return self._new("rt.argmax_mask", [self.operand(e.args[0])], ufunc=False, extra="axis")

    def _emit_LogSumExp(self, e: Any) -> tuple[str, int, str]:
        return self._new(
            "rt.logsumexp", [self.operand(e.args[0])], cls=REDUCED, ufunc=False, extra="axis=axis"
        )

    def _fold_calls(self, call: str, e: Any, kind: str = "f") -> tuple[str, int, str]:
        args = [self.operand(a) for a in e.args]
        acc = args[0]
        for a in args[1:]:
            acc = self._new(call, [acc, a], kind=kind)
        return acc

    def _emit_Max(self, e: Any) -> tuple[str, int, str]:
        return self._fold_calls("xp.maximum", e)

    def _emit_Min(self, e: Any) -> tuple[str, int, str]:
        return self._fold_calls("xp.minimum", e)

    def _emit_And(self, e: Any) -> tuple[str, int, str]:
        return self._fold_calls("xp.logical_and", e, kind="b")

    def _emit_Or(self, e: Any) -> tuple[str, int, str]:
        return self._fold_calls("xp.logical_or", e, kind="b")

    def _emit_Heaviside(self, e: Any) -> tuple[str, int, str]:
        return self._new("xp.heaviside", [self.operand(e.args[0]), ("0", SCALAR, "f")])

    def _emit_Piecewise(self, e: Any) -> tuple[str, int, str]:
        return self._piecewise(e)

    def _emit_Relational(self, e: Any) -> tuple[str, int, str]:
        calls = {
            ">": "xp.greater",
            ">=": "xp.greater_equal",
            "<": "xp.less",
            "<=": "xp.less_equal",
            "==": "xp.equal",
            "!=": "xp.not_equal",
        }
        return self._new(calls[e.rel_op], [self.operand(e.lhs), self.operand(e.rhs)], kind="b")

    def _sum_of_squares(self, e: Any) -> tuple[str, int, str] | None:
        """Σ c·u² of a full array u as c·rt.sum_squares(u): a variance's sum in one read of u
        instead of a squared temporary written and read back. None for any other sum."""
        coefficient, rest = e.as_coeff_Mul() if isinstance(e, sp.Mul) else (sp.S.One, e)
        if not (isinstance(rest, sp.Pow) and rest.exp == 2):
            return None
        base = self.operand(rest.base)
        if base[1] != FULL or base[2] != "f":
            return None
        total = self._new("rt.sum_squares", [base], cls=REDUCED, ufunc=False, extra="axis=axis")
        if coefficient == 1:
            return total
        return self._new("xp.multiply", [total, (literal(coefficient), SCALAR, "f")])

    def _piecewise(self, e: sp.Piecewise) -> tuple[str, int, str]:
        acc: tuple[str, int, str] = ("xp.nan", SCALAR, "f")
        for value, cond in reversed(e.args):
            v = self.operand(value)
            if cond == sp.true:
                acc = v
                continue
            c = self.operand(cond)
            acc = self._new("xp.where", [c, v, acc], ufunc=False)
        return acc

    def _add(self, e: sp.Add) -> tuple[str, int, str]:
        positive, negative = [], []
        for term in e.args:
            coefficient, rest = term.as_coeff_Mul()
            if coefficient.is_negative:
                negative.append(-term)
            else:
                positive.append(term)
        if not positive:
            flipped = _absorb_sign(negative)
            if flipped is not None:
                positive.append(negative.pop(flipped[0]).func(*flipped[1]))
        # Array terms first, so that constants are added to a buffer, not broadcast twice.
        pos = sorted((self.operand(t) for t in positive), key=lambda o: -o[1])
        neg = [self.operand(t) for t in negative]
        if not pos:
            acc = self._new("xp.negative", [neg[0]])
            neg = neg[1:]
        else:
            acc = pos[0]
            for o in pos[1:]:
                acc = self._new("xp.add", [acc, o])
        for o in neg:
            acc = self._new("xp.subtract", [acc, o])
        return acc

    def _product(self, operands: list[tuple[str, int, str]]) -> tuple[str, int, str] | None:
        # Scalars first: their product is one number, applied to the arrays in one pass.
        ordered = sorted(operands, key=lambda o: o[1])
        acc = None
        for o in ordered:
            acc = o if acc is None else self._new("xp.multiply", [acc, o])
        return acc

    def _mul(self, e: sp.Mul) -> tuple[str, int, str]:
        coefficient, rest = e.as_coeff_Mul()
        if coefficient == -1:
            return self._new("xp.negative", [self.operand(rest)])
        numerator, denominator = [], []
        for f in sp.Mul.make_args(e):
            if isinstance(f, sp.Pow) and f.exp.is_Integer and f.exp < 0:
                denominator.append(f.base ** (-f.exp))
            elif isinstance(f, sp.Pow) and f.exp == -sp.S.Half:
                denominator.append(sp.sqrt(f.base))
            else:
                numerator.append(f)
        num = [self.operand(f) for f in numerator]
        den = [self.operand(f) for f in denominator]
        scalar_num = [o for o in num if o[1] == SCALAR]
        scalar_den = [o for o in den if o[1] == SCALAR]
        array_num = [o for o in num if o[1] != SCALAR]
        array_den = [o for o in den if o[1] != SCALAR]
        scale = self._product(scalar_num)
        if scalar_den:
            scale = self._new("xp.divide", [scale or ("1", SCALAR, "f"), self._product(scalar_den)])
        acc = self._product(array_num)
        if array_den:
            if acc is None and scale is not None:
                acc, scale = scale, None
            d = self._product(array_den)
            acc = self._new("xp.divide", [acc or ("1", SCALAR, "f"), d])
        if scale is not None:
            acc = scale if acc is None else self._new("xp.multiply", [acc, scale])
        return acc if acc is not None else ("1", SCALAR, "f")

    def _pow(self, e: sp.Pow) -> tuple[str, int, str]:
        base, exp = e.base, e.exp
        if exp.is_Integer and 1 <= int(exp) <= 8:
            b = self.operand(base)
            result, square, n = None, b, int(exp)
            while n:
                if n & 1:
                    result = (
                        square if result is None else self._new("xp.multiply", [result, square])
                    )
                n >>= 1
                if n:
                    square = self._new("xp.multiply", [square, square])
            return result
        if exp.is_Integer and int(exp) < 0:
            return self._new("xp.divide", [("1", SCALAR, "f"), self.operand(base ** (-exp))])
        if exp == sp.S.Half:
            return self._new("xp.sqrt", [self.operand(base)])
        if exp == -sp.S.Half:
            return self._new("xp.divide", [("1", SCALAR, "f"), self.operand(sp.sqrt(base))])
        if exp.is_Rational and exp.q == 2 and exp > 0:
            return self._new(
                "xp.multiply",
                [self.operand(base ** (exp - sp.S.Half)), self.operand(sp.sqrt(base))],
            )
        return self._new("xp.power", [self.operand(base), self.operand(exp)])

    def allocate(
        self,
        outputs: list[str],
        out_names: list[str],
        given: Sequence[str | None] | None = None,
    ) -> set[str]:
        """Give every array op a dead buffer of its class through out=, or the caller's out.

        ``given`` says, per output, what the caller's buffer is when the body is compiled
        for it: None (no buffer), "" (a buffer apart from every input) or the code name of
        the input argument whose very memory it is (an optimizer state updated in place).
        A given buffer then also holds temporaries that die by the time their output is
        written, an input's buffer only after the input's last read: an in-place update
        writes over the state it reads instead of into a scratch array. An output whose
        input is still read after the output is computed must not be written into that
        buffer: such outputs are returned, for the caller to copy in afterwards."""
        last: dict[str, int] = {}
        for n, op in enumerate(self.ops):
            for a in op.args:
                last[a] = n
        for o in outputs:
            last[o] = len(self.ops)
        index = {op.target: n for n, op in enumerate(self.ops)}
        free: list[tuple[int, str, str]] = []  # (class, kind, buffer name)
        owner: dict[str, str] = {}  # temp → the buffer it lives in
        final = {o: out for o, out in zip(outputs, out_names, strict=True)}
        into_given: set[str] = set()  # outputs written straight into the caller's buffer
        deferred: set[str] = set()
        # buffer name → index of the op that writes its output: temps there must die first.
        deadline: dict[str, int] = {}
        released: dict[int, list[str]] = {}  # op index → caller buffers free from that op
        for o, out, source in zip(outputs, out_names, given or [None] * len(outputs), strict=True):
            if source is None:
                continue
            if source and last.get(source, -1) > index[o]:
                deferred.add(o)
                del final[o]
                continue
            into_given.add(o)
            deadline[out] = index[o]
            released.setdefault(last.get(source, -1) if source else -1, []).append(out)
        free.extend((FULL, "f", b) for b in released.pop(-1, []))
        for n, op in enumerate(self.ops):
            free.extend((FULL, "f", b) for b in released.get(n, []))
            # Operands whose last use is this op release their buffer first: a ufunc may
            # write into its own input (t = exp(t)), which is the commonest reuse.
            for a in dict.fromkeys(op.args):
                if a in index and last.get(a) == n and a in owner and a not in final:
                    source = self.ops[index[a]]
                    if source.cls != SCALAR:
                        free.append((source.cls, source.kind, owner[a]))
            if op.cls != SCALAR and op.ufunc:
                target = final.get(op.target)
                if op.target in into_given:
                    op.out = target
                    owner[op.target] = op.target
                    continue
                # A value nobody reads dies where it is made.
                choice = _take(free, op, last.get(op.target, n), deadline)
                if target is not None:
                    op.out = (
                        f"({target} if {target} is not None else {choice})" if choice else target
                    )
                    owner[op.target] = op.target
                elif choice:
                    op.out = choice
                    owner[op.target] = choice
                else:
                    owner[op.target] = op.target
            elif op.cls != SCALAR:
                owner[op.target] = op.target
        return deferred

    def lines(self) -> list[str]:
        text = []
        for op in self.ops:
            args = list(op.args)
            if op.extra:
                args.append(op.extra)
            if op.out is not None:
                args.append(f"out={op.out}")
            text.append(f"{op.target} = {op.call}({', '.join(args)})")
        return text


def _take(
    free: list[tuple[int, str, str]], op: Op, last_use: int, deadline: dict[str, int]
) -> str | None:
    """The first dead buffer of the op's class and kind that its value may live in: a
    caller's buffer only if the value dies by the time that buffer's output is written."""
    for k, (cls, kind, buffer) in enumerate(free):
        if cls == op.cls and kind == op.kind and last_use <= deadline.get(buffer, last_use):
            return free.pop(k)[2]
    return None
