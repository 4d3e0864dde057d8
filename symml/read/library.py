"""A second reading by latex2sympy2_extended, and the check that both readings agree.

symml's reader knows ML notation: names, calls, shapes, families. latex2sympy2_extended
knows LaTeX arithmetic. The formula is lowered (``symml.read.lowering``) to the part of
LaTeX the library reads faithfully; the library reads its structure (precedence, fractions,
powers, sums, grouping, cases); the result is lifted back onto symml's objects. Both
readings are compared in a commutative scalar image, exactly where possible and otherwise
at two sets of sample values. Where they differ one of the readers misread the text, so
``read_latex`` refuses it rather than guess; where the library cannot be asked, symml's
reading stands alone and its notes say why.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.core.relational import Relational
from sympy.logic.boolalg import BooleanAtom
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from symml.read.deadline import ReadingTimeout, within
from symml.read.errors import LatexParseError
from symml.read.lexer import Token
from symml.read.lowering import CasesBlock, Lowering, NotLowered
from symml.runtime import guard

LIBRARY = "latex2sympy2_extended"
#: The library's ANTLR parser takes time exponential in bracket nesting (12 levels of
#: braces: 4 s; 20: minutes); past this depth symml's reading stands alone.
MAX_NESTING = 6
DEADLINE_SECONDS = 2.0  # for the library's reading of one formula
NATIVE_FUNCTIONS = (
    sp.exp,
    sp.log,
    sp.sin,
    sp.cos,
    sp.tan,
    sp.tanh,
    sp.sinh,
    sp.cosh,
    sp.Abs,
    sp.Max,
    sp.Min,
    sp.floor,
    sp.ceiling,
)
STAND_IN = sp.Function("F")  # what both readings' calls of names become before comparing
TRANSPOSED = sp.Function("T")  # what both readings' transposes become
PRIMED = sp.Function("Fprime")  # … and their f'(u)


@dataclass(frozen=True)
class CrossCheck:
    """The outcome: ``agrees`` True/False, or None when the library was not asked (``why``)."""

    agrees: bool | None
    why: str
    library_reading: Any = None


def cross_check(
    text: str,
    tokens: tuple[Token, ...],
    read_leaf: Any,
    reading: Any,
    declared: frozenset[str] = frozenset(),
) -> CrossCheck:
    """Compare symml's ``reading`` of ``text`` with the library's reading of its lowering.

    ``read_leaf(source) -> object`` reads one name the way symml read it in context. The
    check only ever adds a refusal: when it cannot run, symml's reading stands and says so."""
    try:
        return _cross_check(text, tokens, read_leaf, reading, declared)
    except Exception as exc:  # SymPy failing on a construction the images cannot express
        return CrossCheck(None, f"not cross-checked: {type(exc).__name__} in the comparison")


def _cross_check(
    text: str, tokens: tuple[Token, ...], read_leaf: Any, reading: Any, declared: frozenset[str]
) -> CrossCheck:
    try:
        lowered, leaves = Lowering(text, tokens, read_leaf, declared, reading).run()
    except NotLowered as exc:
        return CrossCheck(None, f"not cross-checked with {LIBRARY}: {exc}")
    except LatexParseError as exc:
        return CrossCheck(None, f"not cross-checked with {LIBRARY}: {exc.problem}")
    depth = nesting(lowered)
    if depth > MAX_NESTING:
        return CrossCheck(
            None,
            f"not cross-checked with {LIBRARY}: nested {depth} brackets deep (its parser "
            f"takes time exponential in the nesting past {MAX_NESTING})",
        )
    try:
        theirs = within(DEADLINE_SECONDS, _library_read, lowered)
    except ReadingTimeout:
        return CrossCheck(
            None, f"not cross-checked: {LIBRARY} did not finish within {DEADLINE_SECONDS} s"
        )
    except Exception as exc:  # the library's own parse errors are plain Exceptions
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return CrossCheck(None, f"not cross-checked: {LIBRARY} cannot read it ({first[:60]})")
    try:
        ours = _shadow(reading)
        lifted = _lift(theirs, leaves)
    except NotLowered as exc:
        return CrossCheck(None, f"not cross-checked with {LIBRARY}: {exc}")
    same = _same(ours, lifted)
    if same is None:
        return CrossCheck(None, "not cross-checked: the two readings cannot be compared")
    if same:
        return CrossCheck(True, f"{LIBRARY} reads the same structure", lifted)
    return CrossCheck(False, f"{LIBRARY} reads it as {lifted}", lifted)


def nesting(text: str) -> int:
    """The deepest nesting of brackets and braces in ``text``."""
    depth = deepest = 0
    for c in text:
        if c in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in ")]}":
            depth -= 1
    return deepest


def _library_read(lowered: str) -> Any:
    from latex2sympy2_extended import latex2sympy
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig

    config = ConversionConfig(
        interpret_as_mixed_fractions=False,
        interpret_simple_eq_as_assignment=False,
        interpret_contains_as_eq=False,
        lowercase_symbols=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return latex2sympy(lowered, normalization_config=None, conversion_config=config)


# -- lowering --------------------------------------------------------------------------------


def _lift(expr: Any, leaves: dict[str, Any]) -> Any:
    """The library's reading with the images of symml's objects for the placeholders."""
    if isinstance(expr, sp.Symbol):
        if expr.name not in leaves:
            raise NotLowered(f"the library made up the name '{expr.name}'")
        leaf = leaves[expr.name]
        if isinstance(leaf, CasesBlock):
            return _cases_image(leaf, leaves)
        return _shadow(leaf)
    if isinstance(expr, sp.cot):
        return STAND_IN(_lift(expr.args[0], leaves))
    if isinstance(expr, sp.sec):
        return _transposed(_lift(expr.args[0], leaves))
    if isinstance(expr, sp.csc):
        return PRIMED(_lift(expr.args[0], leaves))
    if isinstance(expr, sp.log) and len(expr.args) == 2 and expr.args[1] == sp.E:
        return sp.log(_lift(expr.args[0], leaves))
    if isinstance(expr, sp.Tuple):
        return sp.Tuple(*(_lift(a, leaves) for a in expr.args))
    if not isinstance(expr, sp.Basic) or not expr.args:
        return expr
    args = [_lift(a, leaves) for a in expr.args]
    if isinstance(expr, sp.Pow) and guard.oversized_power(*args):
        return sp.Pow(*args, evaluate=False)
    return expr.func(*args)


def _cases_image(block: CasesBlock, leaves: dict[str, Any]) -> Any:
    pieces = []
    for value, condition in block.rows:
        lifted = _lift(_library_read(value), leaves)
        test = sp.true if condition is None else _lift(_library_read(condition), leaves)
        pieces.append((lifted, test))
    return sp.Piecewise(*pieces)


def _shadow(expr: Any) -> Any:
    """A commutative scalar image in which both readings can be compared: names become
    plain symbols, matrix products plain products, and every call of a name one stand-in
    function (the names of calls are symml's to decide, the structure is what is checked)."""
    if isinstance(expr, sp.Indexed):
        indices = ",".join(sp.sstr(i) for i in expr.indices)
        return sp.Symbol(f"{expr.base.label}[{indices}]")
    if isinstance(expr, sp.Symbol | sp.MatrixSymbol):
        return sp.Symbol(str(expr.name))
    if isinstance(expr, sp.Number | sp.NumberSymbol) or expr in (sp.oo, -sp.oo, sp.zoo):
        return expr
    if isinstance(expr, sp.Piecewise):
        return sp.Piecewise(*((_shadow(e), _shadow(c)) for e, c in expr.args))
    if isinstance(expr, sp.And | sp.Or | sp.Not):
        return expr.func(*(_shadow(a) for a in expr.args))
    if isinstance(expr, BooleanAtom):
        return expr
    if isinstance(expr, Relational):
        return type(expr)(_shadow(expr.lhs), _shadow(expr.rhs), evaluate=False)
    if isinstance(expr, sp.Sum | sp.Product):
        limits = [tuple(_shadow(x) for x in limit) for limit in expr.limits]
        return type(expr)(_shadow(expr.function), *limits)
    if isinstance(expr, sp.Transpose):
        return _transposed(_shadow(expr.arg))
    if isinstance(expr, sp.Derivative | sp.Subs):
        return _derivative_image(expr)
    if isinstance(expr, ElementwiseApplyFunction):
        body = expr.function.expr
        variable = expr.function.variables[0]
        if not isinstance(body, sp.Function) or body.args != (variable,):
            raise NotLowered("an elementwise function that is not one call")
        inner = _shadow(expr.expr)
        return body.func(inner) if isinstance(body, NATIVE_FUNCTIONS) else STAND_IN(inner)
    if isinstance(expr, sp.MatMul | sp.Mul | sp.HadamardProduct):
        return sp.Mul(*(_shadow(a) for a in expr.args))
    if isinstance(expr, sp.MatAdd | sp.Add):
        return sp.Add(*(_shadow(a) for a in expr.args))
    if isinstance(expr, sp.MatPow | sp.Pow | sp.HadamardPower):
        base, exponent = _shadow(expr.args[0]), _shadow(expr.args[1])
        # 9^{9^{9}} stays unevaluated, as the reader left it (370 million digits otherwise)
        return sp.Pow(base, exponent, evaluate=not guard.oversized_power(base, exponent))
    if isinstance(expr, NATIVE_FUNCTIONS):
        return expr.func(*(_shadow(a) for a in expr.args))
    if isinstance(expr, sp.Function) or isinstance(expr, sp.core.function.AppliedUndef):
        if len(expr.args) != 1:
            raise NotLowered(f"a call of several arguments ({expr.func})")
        return STAND_IN(_shadow(expr.args[0]))
    raise NotLowered(f"a {type(expr).__name__} in symml's reading")


def _derivative_image(expr: Any) -> Any:
    """f'(u) (a Derivative of a one-argument call, or its Subs at u) → Fprime(image of u);
    any other derivative is one opaque quantity, the same object in both readings."""
    point = None
    if isinstance(expr, sp.Subs) and len(expr.variables) == 1:
        point, expr = expr.point[0], expr.expr
    if (
        isinstance(expr, sp.Derivative)
        and len(expr.variable_count) == 1
        and expr.variable_count[0][1] == 1
        and isinstance(expr.expr, sp.Function)
        and expr.expr.args == (expr.variables[0],)
    ):
        return PRIMED(_shadow(expr.variables[0] if point is None else point))
    return sp.Symbol("opaque " + sp.srepr(expr))


def _transposed(image: Any) -> Any:
    """The image of a transpose, pushed down to the names as SymPy does with (AB)ᵀ = BᵀAᵀ
    (in the commutative image the order of the factors does not matter)."""
    if isinstance(image, sp.Mul | sp.Add):
        return image.func(*(_transposed(a) for a in image.args))
    if isinstance(image, TRANSPOSED):
        return image.args[0]
    if image.is_number:
        return image
    return TRANSPOSED(image)


#: Values for the comparison: the stand-in function is a fixed polynomial (defined
#: everywhere), names take distinct irrational-looking values, bounds of sums small integers.
_VALUES = (1.3127, 0.6931, 2.0412, 1.7181, 0.5772, 1.1447, 2.3026, 0.8862, 1.4142, 0.9189)


def _same(a: Any, b: Any) -> bool | None:
    if isinstance(a, BooleanAtom) or isinstance(b, BooleanAtom):
        return None  # the library decided θ ← θ is True: nothing left to compare
    if isinstance(a, Relational) or isinstance(b, Relational):
        if type(a) is not type(b):
            return False
        left, right = _same(a.lhs, b.lhs), _same(a.rhs, b.rhs)
        return None if left is None or right is None else left and right
    if a == b:
        return True
    for shift in (0, 3):
        va, vb = _evaluate(a, b, shift)
        if va is None or vb is None:
            return None
        if not _close(va, vb):
            return False
    return True


def _evaluate(a: Any, b: Any, shift: int) -> tuple[Any, Any]:
    symbols = sorted((a.free_symbols | b.free_symbols), key=str)
    bounds = set()
    for e in (a, b):
        for total in e.atoms(sp.Sum, sp.Product):
            for limit in total.limits:
                bounds |= set().union(*(sp.sympify(x).free_symbols for x in limit[1:]))
    values = {}
    for k, s in enumerate(symbols):
        values[s] = sp.Integer(3) if s in bounds else sp.Float(_VALUES[(k + shift) % 10])
    u = sp.Dummy("u")
    stand_in = sp.Lambda(u, u**3 / 7 + u / 3 + sp.Rational(1, 5))
    transposed = sp.Lambda(u, u**2 / 5 + 2 * u / 3 - sp.Rational(1, 7))
    primed = sp.Lambda(u, u**2 / 3 - u / 5 + sp.Rational(2, 7))
    results = []
    for e in (a, b):
        try:
            value = e.xreplace(values).replace(STAND_IN, stand_in)
            value = value.replace(TRANSPOSED, transposed).replace(PRIMED, primed).doit()
            value = sp.N(value, 30)
        except Exception:  # an evaluation SymPy cannot do: not comparable
            return None, None
        results.append(value if value.is_number else None)
    return results[0], results[1]


def _close(x: Any, y: Any) -> bool:
    if x.has(sp.nan, sp.zoo) or y.has(sp.nan, sp.zoo):
        return x == y
    try:
        return abs(complex(x) - complex(y)) <= 1e-12 * max(1.0, abs(complex(x)), abs(complex(y)))
    except TypeError:
        return x == y
