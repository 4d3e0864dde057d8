"""LaTeX for formulas in ML notation (a ``LatexPrinter`` subclass).

The notation rules (docs/latex.md explains each choice):

* names by convention: ``yhat`` → ``\\hat{y}``, ``beta_1`` → ``\\beta_{1}``, multi-letter
  words upright (``L_total`` → ``L_{\\mathrm{total}}``, ``Acc`` → ``\\mathrm{Acc}``), ``_prev``
  → ``_{t-1}``, upstream gradients ``dL_dz`` → ``\\frac{\\partial L}{\\partial z}``;
* the catalog's disambiguation tags (``_vec``, ``_cls``, ``_prob``, ``_sign``, ``_score``,
  ``_label``) are dropped — but only when no other symbol of the same expression (or of the
  ``context`` the caller names) would then print the same; otherwise every colliding name
  keeps its tag, upright, so two different symbols never look alike;
* terms in the order a person writes them: SymPy stores ``x - μ`` as ``-μ + x``, so positive
  terms come first; factors go number, Greek coefficient, parenthesised sum, the rest, then
  logs (``β_1 m + (1 - β_1) g``, ``-Σ y_i \\log ŷ_i``);
* ``σ(z)`` for the sigmoid, ``\\operatorname{softmax}`` for the catalog's row softmax,
  ``W^{\\top}``, ``\\odot``, ``\\log``, piecewise as ``cases``, ``\\mathbb{E}`` for
  expectations, ``X \\sim \\mathcal{N}(μ, σ^2)`` for random symbols.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.core.function import AppliedUndef, UndefinedFunction
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.printing.latex import LatexPrinter, accepted_latex_functions
from sympy.printing.precedence import PRECEDENCE

from symml.catalog import primitives as functions
from symml.catalog.model import Formula
from symml.catalog.symbols import random_symbol_class
from symml.notation import ACCENT_WORDS, GREEK_NAMES

if TYPE_CHECKING:
    from sympy.stats.rv import RandomSymbol

_DECORATIONS = {word: accent for accent, word in ACCENT_WORDS.items()}

# Suffixes the catalog adds only to keep names of one section apart (y_vec vs y vs y_cls).
TAGS = frozenset({"vec", "cls", "prob", "sign", "score", "label"})

# Subscript words with a conventional rendering.
_SUBSCRIPT_WORDS = {"prev": "t-1"}

# Whole names whose conventional form no rule derives.
_SPECIAL_NAMES = {
    "R2": "R^{2}",
    "sigma_sq": r"\sigma^{2}",
    "xp": "x'",
    "xpp": "x''",
    "grad_L": r"\nabla L",
    "z_of_w": "z",
    "E_log_px_z": r"\mathbb{E}_{q}\left[\log p\left(x \mid z\right)\right]",
}

_UPSTREAM = re.compile(r"^d(?P<of>[A-Za-z]+?)_d(?P<wrt>[A-Za-z]+?)_?(?P<sub>\d*)$")
_DECORATED = re.compile(r"^(?P<base>[A-Za-z]+?)(?P<mark>hat|tilde|bar)$")
_DIGITS = re.compile(r"^(?P<letters>[A-Za-z]+?)(?P<digits>\d+)$")


def _word(text: str) -> str:
    """One name piece: a Greek letter, a single letter, a number, or an upright word."""
    if text in GREEK_NAMES:
        return "\\" + text
    if len(text) == 1 or text.isdigit():
        return text
    match = _DIGITS.match(text)
    if match:
        return f"{_word(match['letters'])}_{{{match['digits']}}}"
    return rf"\mathrm{{{text}}}"


def _head(text: str) -> str:
    match = _DECORATED.match(text)
    if match and (len(match["base"]) == 1 or match["base"] in GREEK_NAMES):
        return rf"{_DECORATIONS[match['mark']]}{{{_word(match['base'])}}}"
    return _word(text)


def name_tex(name: str, *, drop_tags: bool = True) -> str:
    """The LaTeX of a symbol name under the conventions above."""
    if name in _SPECIAL_NAMES:
        return _SPECIAL_NAMES[name]
    upstream = _UPSTREAM.match(name)
    if upstream:
        wrt = _head(upstream["wrt"]) + (f"_{{{upstream['sub']}}}" if upstream["sub"] else "")
        return rf"\frac{{\partial {_head(upstream['of'])}}}{{\partial {wrt}}}"
    head, *subs = name.split("_")
    if drop_tags and subs and subs[-1] in TAGS:
        subs = subs[:-1]
    if not subs:
        return _head(head)
    pieces = [_SUBSCRIPT_WORDS.get(s) or _word(s) for s in subs]
    return rf"{_head(head)}_{{{','.join(pieces)}}}"


def _named(expr: Any) -> Iterable[str]:
    """Every symbol-like name an expression prints."""
    if not isinstance(expr, sp.Basic):
        return
    for atom in expr.atoms(sp.Symbol, sp.MatrixSymbol, sp.IndexedBase):
        if not isinstance(atom, sp.Dummy):
            yield atom.name if hasattr(atom, "name") else str(atom)
    for atom in expr.atoms(AppliedUndef):
        yield type(atom).__name__


def collisions(names: Iterable[str]) -> frozenset[str]:
    """Names that must keep their tag: dropping it would print them like another name."""
    names = set(names)
    by_text: dict[str, set[str]] = {}
    for name in names:
        by_text.setdefault(name_tex(name), set()).add(name)
    clash = set()
    for text, group in by_text.items():
        if len(group) > 1 or any(name_tex(n, drop_tags=False) != text for n in group):
            if len(group) > 1:
                clash |= group
    return frozenset(n for n in clash if name_tex(n) != name_tex(n, drop_tags=False))


def _factor_rank(factor: Any) -> int:
    """Where a factor goes in a product as a person writes it."""
    if factor.is_Number:
        return 0
    if isinstance(factor, sp.Symbol) and factor.name.split("_")[0] in GREEK_NAMES:
        return 1
    if isinstance(factor, sp.Pow) and factor.exp == sp.S.Half:
        return 1
    if isinstance(factor, sp.Pow) and isinstance(factor.base, sp.Symbol) and factor.exp.is_Number:
        return 3
    if isinstance(factor, sp.Add) or (isinstance(factor, sp.Pow) and factor.base.is_Add):
        return 2
    if isinstance(factor, (sp.log, sp.exp)):
        return 4
    if isinstance(factor, sp.Function):  # σ(z)(1 − σ(z)), δ |y − ŷ|
        return 2
    return 3


def _is_negative(term: Any) -> bool:
    if isinstance(term, sp.MatMul) and not isinstance(term.args[0], sp.MatrixExpr):
        return bool(term.args[0].could_extract_minus_sign())
    return bool(term.could_extract_minus_sign())


def _term_rank(term: Any) -> tuple[int, int]:
    """Positive terms first; among them, a term led by a Greek coefficient (β m, γ x̂) first."""
    negative = _is_negative(term)
    body = -term if negative and not isinstance(term, sp.MatrixExpr) else term
    led = isinstance(body, sp.Mul) and min(_factor_rank(f) for f in body.args) == 1
    greek_led = led and any(
        isinstance(f, sp.Symbol) and f.name.split("_")[0] in GREEK_NAMES for f in body.args
    )
    return (int(negative), 0 if greek_led else 1)


# A stand-in symbol: ``f(X)`` is printed from a lambda body with X substituted as text.
_PLACEHOLDER = sp.Symbol("SYMMLPLACEHOLDER")


class MLLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with symml's ML notation (see the module docstring)."""

    printmethod = "_latex"
    _default_settings = {**LatexPrinter._default_settings, "context": ()}

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        merged = {"ln_notation": False, "order": "none", **(settings or {})}
        super().__init__(merged)
        self._keep_tags: frozenset[str] = frozenset()

    def doprint(self, expr: Any) -> str:
        self._keep_tags = collisions([*_named(expr), *self._settings["context"]])
        return super().doprint(expr)

    # -- names ---------------------------------------------------------------------------
    def _deal_with_super_sub(self, string: str, style: str = "plain") -> str:
        if string == _PLACEHOLDER.name:
            return string
        text = name_tex(string, drop_tags=string not in self._keep_tags)
        if style == "bold":
            return rf"\mathbf{{{text}}}"
        return text

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        base = self._print(expr.base)
        indices = ",".join(self._print(i) for i in expr.indices)
        match = re.fullmatch(r"(.*)_\{([^{}]*)\}", base)
        if match and "\\frac" not in base:
            return rf"{match[1]}_{{{match[2]},{indices}}}"
        if re.fullmatch(r"\\?[A-Za-z]+|\\[a-z]+\{[A-Za-z\\]+\}|\\mathrm\{[A-Za-z]+\}", base):
            return rf"{base}_{{{indices}}}"
        return rf"{{{base}}}_{{{indices}}}"

    def _hprint_Function(self, func: str) -> str:
        if func in accepted_latex_functions:
            return "\\" + func
        text = self._deal_with_super_sub(func)
        return re.sub(r"^\\mathrm\{", r"\\operatorname{", text)

    def _print_UndefinedFunction(self, expr: UndefinedFunction) -> str:
        return self._deal_with_super_sub(expr.__name__)

    def _print_Function(self, expr: Any, exp: Any = None) -> str:
        if not isinstance(expr, AppliedUndef):
            return super()._print_Function(expr, exp)
        name = self._deal_with_super_sub(type(expr).__name__)
        args = list(expr.args)
        if args and isinstance(args[-1], sp.Tuple) and len(args[-1]) == 3:
            # max(x[i], (i, 1, N)): an operator over a range, like a Sum
            var, lo, hi = (self._print(a) for a in args[-1])
            body = ", ".join(self._print(a) for a in args[:-1])
            op = rf"\{name[8:-1]}" if name in (r"\mathrm{max}", r"\mathrm{min}") else name
            text = rf"{op}_{{{lo} \leq {var} \leq {hi}}} {body}"
        else:
            text = rf"{name}\left({', '.join(self._print(a) for a in args)}\right)"
        return rf"{text}^{{{exp}}}" if exp is not None else text

    def _print_RandomSymbol(self, expr: RandomSymbol) -> str:
        return self._print(expr.symbol)

    # -- order of terms and factors ------------------------------------------------------
    def _as_ordered_terms(self, expr: Any, order: Any = None) -> list[Any]:
        return sorted(sp.Add.make_args(expr), key=_term_rank)

    def _print_Mul(self, expr: sp.Mul) -> str:
        if not isinstance(expr, sp.Mul) or isinstance(expr, sp.MatrixExpr):
            return super()._print_Mul(expr)
        sign, positive = "", expr
        if expr.could_extract_minus_sign():
            sign, positive = "- ", -expr
            if not isinstance(positive, sp.Mul):
                return super()._print_Mul(expr)
        applied = {a for f in positive.args if isinstance(f, sp.Function) for a in f.args}
        # z Φ(z): the variable goes before a function of it
        factors = sorted(
            positive.args, key=lambda f: 1.5 if f in applied and f.is_Symbol else _factor_rank(f)
        )
        derivatives = [f for f in factors if isinstance(f, sp.Derivative)]
        if derivatives:
            # d/dw applies to everything after it: a derivative goes last, and one that
            # cannot (two in a product) gets parentheses
            factors = [f for f in factors if not isinstance(f, sp.Derivative)] + derivatives
            if len(derivatives) > 1:
                return sign + " ".join(
                    rf"\left({self._print(f)}\right)"
                    if isinstance(f, sp.Derivative) and f is not factors[-1]
                    else self.parenthesize(f, PRECEDENCE["Mul"])
                    for f in factors
                )
        return sign + super()._print_Mul(sp.Mul(*factors, evaluate=False))

    def _print_MatAdd(self, expr: Any) -> str:
        terms = self._as_ordered_terms(sp.Add(*expr.args, evaluate=False))
        out = []
        for term in terms:
            text = self._print(term)
            if out and text.startswith("- "):
                out.append(f"- {text[2:]}")
            elif out:
                out.append(f"+ {text}")
            else:
                out.append(text)
        return " ".join(out)

    def _print_MatMul(self, expr: Any) -> str:
        args = list(expr.args)
        scalar = args[0] if not isinstance(args[0], sp.MatrixExpr) else None
        if scalar is not None and len(args) > 1 and scalar.could_extract_minus_sign():
            rest = args[1:] if -scalar == 1 else [-scalar, *args[1:]]
            return "- " + self._print(
                sp.MatMul(*rest, evaluate=False) if len(rest) > 1 else rest[0]
            )
        if scalar is not None and len(args) > 1:
            numer, denom = sp.fraction(scalar)
            if denom != 1 and not numer.could_extract_minus_sign():
                rest = sp.MatMul(*args[1:], evaluate=False) if len(args) > 2 else args[1]
                coefficient = "" if numer == 1 else self._print(numer) + " "
                return rf"\frac{{{coefficient}{self._print(rest)}}}{{{self._print(denom)}}}"
        return (
            " ".join(
                self._print(a) if _is_softmax(a) else self.parenthesize(a, PRECEDENCE["Mul"], False)
                for a in args
            )
            if not expr.could_extract_minus_sign()
            else super()._print_MatMul(expr)
        )

    # -- ML operators --------------------------------------------------------------------
    def _print_Transpose(self, expr: Any) -> str:
        return rf"{self.parenthesize(expr.arg, PRECEDENCE['Pow'])}^{{\top}}"

    def _print_OneMatrix(self, expr: Any) -> str:
        # the size goes with it: ``x 1`` alone does not say whether 1 is d×1 or d×d
        rows, cols = self._print(expr.rows), self._print(expr.cols)
        return rf"\mathbf{{1}}_{{{rows} \times {cols}}}"

    def _print_Identity(self, expr: Any) -> str:
        return rf"\mathbb{{I}}_{{{self._print(expr.rows)}}}"

    def _print_HadamardProduct(self, expr: Any) -> str:
        softmax = _row_softmax_argument(expr)
        if softmax is not None:
            return rf"\operatorname{{softmax}}\left({self._print(softmax)}\right)"
        return r" \odot ".join(self.parenthesize(a, PRECEDENCE["Mul"]) for a in expr.args)

    def _print_ElementwiseApplyFunction(self, expr: Any) -> str:
        func = expr.function
        if isinstance(func, sp.Lambda):
            dummy, body = func.variables[0], func.expr
        else:
            dummy = sp.Dummy("d")
            body = func(dummy)
        if isinstance(body, sp.Derivative) and len(body.variables) == 1:
            name = self._print(type(body.expr))
            return rf"{name}'\left({self._print(expr.expr)}\right)"
        holder = _PLACEHOLDER.name
        text = self._print(body.subs(dummy, _PLACEHOLDER))
        arg = self._print(expr.expr)
        if not isinstance(expr.expr, (sp.MatrixSymbol, sp.Symbol)):
            bare = re.search(rf"(\\left\(|, ){holder}( ?\\right\)|,)", text)
            arg = arg if bare else rf"\left({arg}\right)"
        return text.replace(holder, arg)

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        rows = []
        for piece in expr.args:
            value = self._print(piece.expr)
            if piece.cond == sp.true:
                rows.append(rf"{value} & \text{{otherwise}}")
            else:
                rows.append(rf"{value} & \text{{if }} {self._print(piece.cond)}")
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"

    def _print_Expectation(self, expr: Any) -> str:
        return rf"\mathbb{{E}}\left[{self._print(expr.args[0])}\right]"


def _is_softmax(expr: Any) -> bool:
    return isinstance(expr, sp.HadamardProduct) and _row_softmax_argument(expr) is not None


def _row_softmax_argument(expr: Any) -> Any:
    """S when ``expr`` is the catalog's row softmax exp(S) ⊙ (1/(exp(S) 1)) 1ᵀ, else None."""
    if len(expr.args) != 2:
        return None
    for first, second in (expr.args, expr.args[::-1]):
        if isinstance(first, ElementwiseApplyFunction) and second.has(first):
            func = first.function
            is_exp = func == sp.exp or (
                isinstance(func, sp.Lambda) and func.expr == sp.exp(func.variables[0])
            )
            if is_exp:
                return first.expr
    return None


_DISTRIBUTIONS = {
    "NormalDistribution": lambda p, a: rf"\mathcal{{N}}\left({p(a[0])}, {p(a[1] ** 2)}\right)",
    "UniformDistribution": lambda p, a: rf"\mathcal{{U}}\left({p(a[0])}, {p(a[1])}\right)",
    "BernoulliDistribution": lambda p, a: rf"\operatorname{{Bernoulli}}\left({p(a[0])}\right)",
}


def distribution_tex(symbol: RandomSymbol, printer: MLLatexPrinter | None = None) -> str | None:
    """``\\mathcal{N}(μ, σ^2)`` for a sympy.stats symbol of a known family, else None."""
    printer = printer or MLLatexPrinter()
    distribution = getattr(symbol.pspace, "distribution", None)
    maker = _DISTRIBUTIONS.get(type(distribution).__name__)
    if maker is None:
        return None
    return maker(printer.doprint, distribution.args)


def latex(
    target: Any, *, grad: str | None = None, context: Iterable[str] = (), **settings: Any
) -> str:
    """LaTeX for a formula (``lhs = rhs``) or an expression, in symml's ML notation.

    ``grad``: the name of a symbol; gives the formula's derivative by it instead
    (``symml.engine.derive.grad``; raises its ``DerivationError`` when there is none).
    ``context``: names of other symbols shown alongside, so a dropped tag never makes two
    of them look alike.
    """

    if isinstance(target, Formula):
        names = [*context, *(s.name for s in target.symbols)]
        printer = MLLatexPrinter({**settings, "context": tuple(names)})
        return _formula_tex(target, printer, grad)
    printer = MLLatexPrinter({**settings, "context": tuple(context)})
    if grad is not None:
        from symml.engine.derive import grad as derive  # deferred: start-up (only with grad=)

        result = derive(target, grad)[0]
        return printer.doprint(result.readable if result.readable is not None else result.value)
    return printer.doprint(target)


def _formula_tex(formula: Any, printer: MLLatexPrinter, grad: str | None) -> str:
    lhs = formula.lhs
    if grad is not None:
        from symml.engine.derive import grad as derive  # deferred: start-up (only with grad=)

        result = derive(formula, grad)[0]
        value = result.readable if result.readable is not None else result.value
        of = printer.doprint(lhs) if lhs is not None else ""
        wrt = printer.doprint(result.wrt)
        head = (
            rf"\frac{{\partial {of}}}{{\partial {wrt}}}"
            if of
            else (rf"\frac{{\partial}}{{\partial {wrt}}}")
        )
        return rf"{head} = {printer.doprint(value)}"
    expr = formula.expr
    random_symbol = random_symbol_class()
    if random_symbol is not None and isinstance(expr, random_symbol):
        shown = distribution_tex(expr, printer)
        if shown is not None:
            return rf"{printer.doprint(expr)} \sim {shown}"
    rhs = printer.doprint(expr)
    if lhs is None:
        return rhs
    return rf"{printer.doprint(lhs)} = {rhs}"


__all__ = ["MLLatexPrinter", "TAGS", "collisions", "distribution_tex", "latex", "name_tex"]
_ = functions  # the ML primitives print themselves through ``_latex``
