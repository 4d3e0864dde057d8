"""Reading ML LaTeX into SymPy: ``parse_latex`` / ``read_latex``.

A recursive-descent reader over ``symml.read.lexer`` tokens. It exists because the bare
LaTeX parsers (latex2sympy2_extended, SymPy's) read ML notation wrongly without saying so:
``\\log`` as base 10, ``\\sigma(Wx+b)`` as a product, ``\\sigma'(z)`` with the prime dropped,
``W`` and ``w`` merged, ``\\gamma`` as Euler's constant, ``I`` as the imaginary unit,
``lr`` as ``l·r``, ``^{(l)}`` as a power. ``tests/test_parse_latex.py`` measures each.

Policy: whatever cannot be read with confidence raises ``LatexParseError`` with the column,
the fragment and a hint. Every reading choice that is a convention rather than plain LaTeX
is recorded in ``Reading.notes`` (``symml parse`` prints them).

All state lives in one ``_State`` per call: parsing is deterministic and thread-safe.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixExpr

from symml.catalog import primitives as F
from symml.notation import (
    ACCENT_WORDS,
    BOLD_FACES,
    LETTER_NAMES,
    SHAPED_BOLD_FACES,
    WORD_WRAPPERS,
)
from symml.read.deadline import ReadingTimeout, within
from symml.read.errors import LatexParseError
from symml.read.lexer import Token, matching, tokenize
from symml.read.library import LIBRARY, cross_check
from symml.read.table import INDEX_ASSUMPTIONS, SIZE_ASSUMPTIONS, SymbolTable
from symml.render.latex import latex, name_tex
from symml.runtime import guard

#: The size of an undeclared bold vector or matrix (declarations give others).
BOLD_SIZE = "n"

# name -> (SymPy callable, arity); names are matched case-insensitively
KNOWN_FUNCTIONS: dict[str, tuple[Callable[..., Any], int]] = {
    "exp": (sp.exp, 1),
    "log": (sp.log, 1),
    "ln": (sp.log, 1),
    "sin": (sp.sin, 1),
    "cos": (sp.cos, 1),
    "tan": (sp.tan, 1),
    "tanh": (sp.tanh, 1),
    "sinh": (sp.sinh, 1),
    "cosh": (sp.cosh, 1),
    "erf": (sp.erf, 1),
    "sign": (sp.sign, 1),
    "sgn": (sp.sign, 1),
    "abs": (sp.Abs, 1),
    "sqrt": (sp.sqrt, 1),
    "max": (sp.Max, -1),
    "min": (sp.Min, -1),
    # the ML primitives, by the names each declares
    **{name: (p, min(p.nargs)) for p in F.PRIMITIVES for name in p.reader_names},
}
COMMAND_FUNCTIONS = frozenset(
    r"\exp \log \ln \sin \cos \tan \tanh \sinh \cosh \max \min \sgn \erf".split()
)
# Letters that in ML writing name functions when a parenthesis follows: f(x), L(θ), σ(z).
FUNCTION_LETTERS = frozenset("f g h F G D L ell phi psi".split())
# Letters where both readings are common (p(x) a density, p(1-p) a product): refuse.
AMBIGUOUS_CALL_LETTERS = frozenset("p q P Q pi".split())
# Multi-letter words that, written without \mathrm, are surely a name and not a product.
SUSPICIOUS_WORDS = frozenset(
    "lr pos dim var std mean loss acc eps grad clip norm attn det tr diag argmax argmin kl "
    "mse mae bce ce lse logits prob softmax".split()
)
BRACKETS = {r"\lfloor": (r"\rfloor", sp.floor), r"\lceil": (r"\rceil", sp.ceiling)}
MATRIX_ENVIRONMENTS = frozenset("matrix pmatrix bmatrix".split())
READ_SECONDS = 10.0  # for one formula, both readings (the library's has its own, shorter)


class NoteExpectation(sp.Function):
    """𝔼 as notes write it: ``(argument, (random symbols…), distribution)``, the
    distribution a name (``x \\sim p``) or 0 (the one the text means). Left unevaluated;
    ``symml check`` compares claims with it by linearity and on finite distributions."""

    nargs = 3

    @property
    def argument(self) -> Any:
        return self.args[0]

    @property
    def randoms(self) -> tuple[Any, ...]:
        return tuple(self.args[1])

    @property
    def law(self) -> Any:
        return self.args[2]

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _sympystr(self, printer: Any) -> str:
        under = "" if self.law == 0 else f"_{printer.doprint(self.law)}"
        return f"E{under}[{printer.doprint(self.args[0])}]"


class _Ones:
    """``\\mathbf{1}`` before its shape is known: it takes the shape of what it is added to."""

    def __init__(self, sign: int = 1) -> None:
        self.sign = sign

    def __neg__(self) -> _Ones:
        return _Ones(-self.sign)


ONES = _Ones()
_FULL_NAME = object()  # a subscripted base that is the start of a declared full name
SOFTMAX = sp.Function("softmax")  # a marker: the reader spells the row softmax out

RELATIONS = {
    "=": "=",
    ":=": ":=",
    r"\leftarrow": ":=",
    "<": "<",
    ">": ">",
    r"\leq": "<=",
    r"\geq": ">=",
    r"\ne": "!=",
}


@dataclass(frozen=True)
class Reading:
    """What the reader made of a text, and how."""

    expr: Any
    relation: str | None = None  # "=", ":=" (assignment), "<", … or None for an expression
    notes: tuple[str, ...] = ()
    gradients: tuple[tuple[Any, Any, Any], ...] = ()  # (symbol, of, wrt) for opaque ∂of/∂wrt
    families: tuple[str, ...] = ()  # names read as indexed families
    # names read as unspecified functions from their context: η in η(t) = …, J in ∇J(θ)
    functions: tuple[str, ...] = ()
    defines: str | None = None  # the function a definition f(x) = … defines


@dataclass(frozen=True)
class _Form:
    """A declared symbol's printed form that does not read back as its name (σ² for
    sigma_sq, ∂L/∂z for dL_dz): its tokens, the symbol's name, and why it is ambiguous."""

    tokens: tuple[tuple[str, str], ...]
    name: str
    clash: str | None = None


@dataclass(frozen=True)
class _Aliases:
    """What symml's printer makes of the declared names, so its output reads back.

    ``names``: a name the reader would build (``y``, ``C_t-1``) → the declared names that
    print as it (``y_prob``; ``C_prev``). ``forms``: printed forms that are not names."""

    names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    forms: tuple[_Form, ...] = ()


@dataclass
class _State:
    text: str
    tokens: tuple[Token, ...]
    table: SymbolTable
    families: frozenset[str]
    aliases: _Aliases = field(default_factory=_Aliases)
    notes: list[str] = field(default_factory=list)
    inferred: set[str] = field(default_factory=set)
    gradients: dict[Any, tuple[Any, Any]] = field(default_factory=dict)
    bound: list[sp.Symbol] = field(default_factory=list)
    depth: int = 0
    callables: set[str] = field(default_factory=set)
    defines: str | None = None
    bold: set[int] = field(default_factory=set)  # token indices where a bold name starts
    scalar_valued: set[str] = field(default_factory=set)  # f in ∇f(x): f of a whole vector

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def parse_latex(text: str, *, symbols: Any = None) -> Any:
    """The SymPy meaning of one ML LaTeX formula (an expression or a relation ``Eq``)."""
    return read_latex(text, symbols=symbols).expr


def read_latex(text: str, *, symbols: Any = None) -> Reading:
    """``parse_latex`` with the record of how the text was read.

    symml's reading is checked against latex2sympy2_extended's reading of the same text
    (see ``symml.read.library``); when their structures differ the text is refused."""
    table = SymbolTable.of(symbols)
    try:
        return within(READ_SECONDS, _read_and_cross_check, text, table)
    except ReadingTimeout:
        raise LatexParseError(
            text[:60],
            0,
            text[:20],
            f"reading it took more than {READ_SECONDS:g} s",
            "split it into smaller formulas",
        ) from None


def _read_and_cross_check(text: str, table: SymbolTable) -> Reading:
    aliases = _aliases_of(table)
    reading = _read(text, table, aliases)
    return _cross_checked(text, table, aliases, reading)


def _cross_checked(text: str, table: SymbolTable, aliases: _Aliases, reading: Reading) -> Reading:
    tokens = tokenize(text)
    kinds = tuple((t.kind, t.text) for t in tokens)
    if any(_contains(kinds, form.tokens) for form in aliases.forms):
        note = f"not cross-checked with {LIBRARY}: a declared symbol's printed form"
        return replace(reading, notes=(*reading.notes, note))
    families = frozenset(reading.families)

    def read_leaf(source: str) -> Any:
        leaf_tokens = tokenize(source)
        state = _State(source, leaf_tokens, table, families, aliases)
        state.callables.update(reading.functions)
        return _Parser(state, 0, len(leaf_tokens) - 1).full()[0]

    verdict = cross_check(text, tokens, read_leaf, reading.expr, frozenset(table.objects))
    if verdict.agrees is False:
        raise LatexParseError(
            text,
            0,
            text[:30],
            f"symml reads it as {reading.expr} but {verdict.why}",
            "add braces or parentheses so that it has one reading",
        )
    return replace(reading, notes=(*reading.notes, verdict.why))


def _contains(tokens: tuple[tuple[str, str], ...], part: tuple[tuple[str, str], ...]) -> bool:
    n = len(part)
    return n > 0 and any(tokens[k : k + n] == part for k in range(len(tokens) - n + 1))


def _read(text: str, table: SymbolTable, aliases: _Aliases) -> Reading:
    tokens = tokenize(text)
    families: frozenset[str] = frozenset()
    for _ in range(3):  # a family found late (z_j under Σ_j) makes z_i a family too: re-read
        state = _State(text, tokens, table, families, aliases)
        try:
            expr, relation = _Parser(state, 0, len(tokens) - 1).full()
        except LatexParseError:
            if state.inferred <= families:
                raise
            # ∂/∂z_k read before Σ_j e^{z_j} showed z a family: read again knowing it
            families = families | frozenset(state.inferred)
            continue
        except RecursionError:
            raise LatexParseError(text, 0, text[:20], "nested too deeply", "simplify") from None
        except Exception as exc:  # SymPy refusing a construction (shape mismatch, …)
            raise LatexParseError(
                text,
                0,
                text[:30],
                f"SymPy cannot build it ({type(exc).__name__}: {exc})"[:200],
                "check shapes and declarations",
            ) from None
        if state.inferred <= families:
            return Reading(
                expr,
                relation,
                tuple(state.notes),
                tuple((s, o, w) for s, (o, w) in state.gradients.items()),
                tuple(sorted(families)),
                tuple(sorted(state.callables)),
                state.defines,
            )
        families = families | frozenset(state.inferred)
    raise LatexParseError(text, 0, text[:20], "indexed families do not settle", "declare them")


def read_name(text: str) -> str | None:
    """The name ``text`` writes, as the reader names it (``\\mathbf{x}`` → ``x``, ``\\eta_0`` →
    ``eta_0``), or None when it is not one name."""
    try:
        tokens = tokenize(text)
        parser = _Parser(_State(text, tokens, SymbolTable(), frozenset()), 0, len(tokens) - 1)
        name = parser.plain_name()
    except LatexParseError:
        return None
    return name if parser.peek().kind == "end" else None


def _printed(obj: Any) -> str | None:

    try:
        return latex(obj)
    except Exception:  # an object the printer has no rule for prints no alias
        return None


def _reader_name(form: str) -> str | None:
    """The name the reader gives ``form`` when it is one name (``C_{t-1}`` → ``C_t-1``)."""
    try:
        tokens = tokenize(form)
        parser = _Parser(_State(form, tokens, SymbolTable(), frozenset()), 0, len(tokens) - 1)
        name, _ = parser.base_name()
        if parser.at("_"):
            parser.next()
            sub = _subscript_name(parser.raw(parser.group_span()))
            if sub is None:
                return None
            name = f"{name}_{sub}"
    except LatexParseError:
        return None
    return name if parser.peek().kind == "end" else None


def _fresh(expr: Any, table: SymbolTable) -> bool:
    """Whether ``expr`` mentions a name the table does not declare."""
    if not isinstance(expr, sp.Basic):
        return True
    known = set(table.objects.values())
    atoms = expr.atoms(sp.Symbol, sp.MatrixSymbol) | {i.base for i in expr.atoms(sp.Indexed)}
    heads = {type(f) for f in expr.atoms(AppliedUndef)}
    return any(a not in known for a in atoms | heads)


def _aliases_of(table: SymbolTable) -> _Aliases:
    """Read each declared symbol's printed form; keep those that do not read as its name."""
    names: dict[str, list[str]] = {}
    pending: list[tuple[str, str]] = []
    for name, obj in table.objects.items():
        form = _printed(obj)
        if form is None:
            continue
        reader = _reader_name(form)
        if reader is None:
            pending.append((form, name))
        elif reader != name:
            names.setdefault(reader, []).append(name)
    plain = _Aliases({k: tuple(v) for k, v in names.items()})
    forms = []
    for form, name in pending:
        try:
            tokens = tuple((t.kind, t.text) for t in tokenize(form)[:-1])
            reading = _read(form, table, plain).expr
        except LatexParseError:
            reading = None
        clash = None
        if reading is not None and reading != table.objects[name] and not _fresh(reading, table):
            clash = f"it also reads as {reading}"
        forms.append(_Form(tokens, name, clash))
    for form in forms:
        twins = [f.name for f in forms if f.tokens == form.tokens and f.name != form.name]
        if twins and form.clash is None:
            forms[forms.index(form)] = _Form(form.tokens, form.name, f"so does {twins[0]}")
    forms.sort(key=lambda f: -len(f.tokens))
    return replace(plain, forms=tuple(forms))


class _Parser:
    """Parses tokens[start:stop] (stop is exclusive) of the shared state."""

    def __init__(self, state: _State, start: int, stop: int) -> None:
        self.s = state
        self.toks = state.tokens
        self.i = start
        self.stop = stop

    # -- token helpers -------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        j = self.i + k
        return self.toks[j] if j < self.stop else Token("end", "", self._end_pos(), self._end_pos())

    def _end_pos(self) -> int:
        return self.toks[self.stop].pos if self.stop < len(self.toks) else len(self.s.text)

    def next(self) -> Token:
        tok = self.peek()
        if tok.kind != "end":
            self.i += 1
        return tok

    def at(self, *texts: str) -> bool:
        tok = self.peek()
        return tok.kind != "end" and tok.text in texts

    def error(self, problem: str, hint: str, tok: Token | None = None) -> LatexParseError:
        tok = tok or self.peek()
        end = min(len(self.s.text), max(tok.end, tok.pos + 1) + 12)
        fragment = self.s.text[tok.pos : end] or "(end)"
        return LatexParseError(self.s.text, tok.pos, fragment, problem, hint)

    def expect(self, text: str) -> Token:
        if not self.at(text):
            raise self.error(f"expected '{text}'", "check the brackets")
        return self.next()

    def group_span(self) -> tuple[int, int]:
        """The token range inside ``{…}`` at the cursor, or the single next token."""
        if self.at("{"):
            open_i = self.i
            close = self._matching(open_i, "{", "}")
            self.i = close + 1
            return open_i + 1, close
        tok = self.peek()
        if tok.kind == "end" or tok.text in ("}", ")", "]", "^", "_"):
            raise self.error("a script or argument is missing", "add {…}")
        if tok.kind == "num" and len(tok.text) > 1 and self.i > 0:
            script = self.toks[self.i - 1].text
            if script in ("^", "_"):
                raise self.error(
                    f"'{script}{tok.text}': TeX puts only '{tok.text[0]}' in the "
                    f"{'superscript' if script == '^' else 'subscript'}",
                    f"write {script}{{{tok.text}}}, or {script}{{{tok.text[0]}}} "
                    f"{tok.text[1:]} for what TeX shows",
                    self.toks[self.i - 1],
                )
        if tok.text in WORD_WRAPPERS and self.peek(1).text == "{":
            # L_\mathrm{total}: TeX takes the wrapper with its group as the one argument
            close = self._matching(self.i + 1, "{", "}")
            start, self.i = self.i, close + 1
            return start, self.i
        self.i += 1
        return self.i - 1, self.i

    def _matching(self, open_i: int, opener: str, closer: str) -> int:
        close = matching(self.toks, open_i, self.stop, opener, closer)
        if close >= 0:
            return close
        raise self.error(
            f"'{opener}' is never closed", f"add the matching '{closer}'", self.toks[open_i]
        )

    def sub(self, span: tuple[int, int]) -> _Parser:
        return _Parser(self.s, span[0], span[1])

    def raw(self, span: tuple[int, int]) -> str:
        toks = self.toks[span[0] : span[1]]
        return "".join(t.text for t in toks)

    # -- grammar -------------------------------------------------------------------------
    def full(self) -> tuple[Any, str | None]:
        while self.at(",", ".", ";") and self.stop - self.i == 1:
            self.next()
        result = self.relation()
        _no_ones(result[0], p=self)
        while self.at(",", ".", ";") and self.peek(1).kind == "end":
            self.next()
        if self.peek().kind != "end":
            raise self.error("unexpected text", "one formula at a time; check operators")
        return result

    def relation(self) -> tuple[Any, str | None]:
        defined = self.defined_function()
        if defined is not None:
            name, known = defined
            self.s.defines = name
            if not known:
                self.s.callables.add(name)
                self.s.note(
                    f"{name}(…) on the left of the relation read as the definition of a "
                    f"function {name} (not a product)"
                )
        lhs = self.expr()
        if not (self.peek().kind in ("sym", "cmd") and self.peek().text in RELATIONS):
            return lhs, None
        kinds: list[str] = []
        sides = [lhs]
        while self.peek().kind in ("sym", "cmd") and self.peek().text in RELATIONS:
            kinds.append(RELATIONS[self.next().text])
            sides.append(self.expr())
        if len(kinds) == 1:
            if defined is not None and defined[1] and kinds[0] in ("=", ":="):
                sides[0] = self.parameterized(defined[0], sides[0], sides[1])
            return _relate(kinds[0], sides[0], sides[1], self), kinds[0]
        if all(k in ("<", "<=") for k in kinds) or all(k in (">", ">=") for k in kinds):
            parts = [
                _relate(k, a, b, self) for k, a, b in zip(kinds, sides, sides[1:], strict=False)
            ]
            return sp.And(*parts), kinds[0]
        raise self.error("a chain of different relations", "write one relation per formula")

    def defined_function(self) -> tuple[str, bool] | None:
        """The name ``η`` when the left side is exactly ``η(t)``, ``η_0(t, s)``: a name applied
        to distinct plain names, then ``=`` or ``:=``. A definition, which the reader would
        otherwise take for the product η·t. Also whether the reader knows it as a function."""
        saved = list(self.s.notes)
        try:
            probe = _Parser(self.s, self.i, self.stop)
            name = probe.plain_name()
            declared = self.s.table.get(name)
            if name is None or not probe.at("(") or isinstance(declared, sp.Basic):
                return None
            arity = KNOWN_FUNCTIONS.get(name.lower(), (None, -1))[1]
            known = (
                declared is not None
                or name.lower() in KNOWN_FUNCTIONS
                or name in FUNCTION_LETTERS
                or name in ("sigma", "Phi")
            )
            close = probe._matching(probe.i, "(", ")")
            args: list[str] = []
            start = probe.i + 1
            for j in range(start, close + 1):
                if j == close or self.toks[j].text == ",":
                    part = _Parser(self.s, start, j)
                    arg = part.plain_name()
                    if arg is None or part.peek().kind != "end" or arg in args:
                        return None
                    args.append(arg)
                    start = j + 1
            after = self.toks[close + 1] if close + 1 < self.stop else None
            if after is None or RELATIONS.get(after.text) not in ("=", ":="):
                return None
            # LeakyReLU(x) = …: a definition of one argument, not symml's leaky_relu(x, slope)
            return name, known and arity in (-1, len(args))
        except LatexParseError:
            return None
        finally:
            self.s.notes[:] = saved

    def parameterized(self, name: str, lhs: Any, rhs: Any) -> Any:
        """``\\text{Softplus}(x) = \\frac{1}{\\beta}\\log(1 + e^{\\beta x})``: a right side with
        parameters the named function does not take (β) defines the author's own function,
        not symml's softplus (of β = 1); read the left side as a call of a new function."""
        if not isinstance(lhs, sp.Function) or _undefined(type(lhs)) or _is_matrix(rhs):
            return lhs
        arguments = set().union(*(sp.sympify(a).free_symbols for a in lhs.args))
        extra = sorted((str(s) for s in getattr(rhs, "free_symbols", set()) - arguments), key=str)
        if not extra or self.s.table.get(name) is not None:
            return lhs
        head = sp.Function(name, real=True)
        self.s.callables.add(name)
        self.s.note(
            f"{name}(…) = … has parameters ({', '.join(extra)}) that symml's "
            f"{type(lhs).__name__} does not take: read as the definition of a function {name}"
        )
        return head(*lhs.args)

    def plain_name(self) -> str | None:
        """The name at the cursor with its subscript (``η``, ``η_0``, ``x_t``), or None."""
        tok = self.peek()
        if tok.kind not in ("letter", "cmd"):
            return None
        if tok.kind == "cmd" and not (
            tok.text[1:] in LETTER_NAMES
            or tok.text in ACCENT_WORDS
            or tok.text in BOLD_FACES
            or tok.text in WORD_WRAPPERS
        ):
            return None
        name, _ = self.base_name()
        if self.at("_"):
            self.next()
            sub = _subscript_name(self.raw(self.group_span()))
            if sub is None:
                return None
            name = f"{name}_{sub}"
        return name

    def expr(self) -> Any:
        total: Any = None
        while True:
            sign = 1
            while self.at("+", "-"):
                if self.next().text == "-":
                    sign = -sign
            if self.at(r"\pm", r"\mp"):
                raise self.error("± has two values", "write the two formulas separately")
            term = self.term()
            term = -term if sign == -1 else term
            total = term if total is None else _add(total, term, self)
            if not self.at("+", "-"):
                return total

    def term(self) -> Any:
        value = self.factor()
        while True:
            tok = self.peek()
            if tok.text in ("*", r"\cdot", r"\times") and tok.kind != "end":
                self.next()
                value = _mul(value, self.factor(), self)
            elif tok.text == "/" and tok.kind == "sym":
                self.next()
                value = _div(value, self.factor(), self)
            elif tok.text == r"\odot":
                self.next()
                value = _hadamard(value, self.factor(), self)
            elif tok.text == r"\circ":
                # A ∘ B of two matrices is their element-wise product; f ∘ g is a composition,
                # which is refused rather than read as a product
                self.next()
                right = self.factor()
                if not (_is_matrix(value) and _is_matrix(right)):
                    raise self.error(
                        r"\circ between names that are not matrices (a composition?)",
                        r"write \odot for an element-wise product, f(g(x)) for a composition",
                        tok,
                    )
                value = _hadamard(value, right, self)
            elif self.starts_atom(tok):
                value = _mul(value, self.factor(), self)
            else:
                return value

    def starts_atom(self, tok: Token) -> bool:
        if tok.kind in ("letter", "num"):
            return True
        if tok.kind == "sym":
            return tok.text in ("(", "[", "{", "|")
        if tok.kind == "cmd":
            return tok.text not in RELATIONS and tok.text not in (
                r"\cdot",
                r"\times",
                r"\odot",
                r"\circ",
                r"\pm",
                r"\mp",
                r"\}",
                r"\end",
                "\\\\",
                r"\ldots",
                r"\rfloor",
                r"\rceil",
            )
        return False

    def factor(self) -> Any:
        self.s.depth += 1
        if self.s.depth > 200:
            raise self.error("nested too deeply", "simplify the formula")
        try:
            if self.at("-"):  # a sign inside a product: 2 \cdot -x
                self.next()
                return -self.factor()
            value = self.atom()
            powered = False
            while self.at("^", "'", "!"):
                tok = self.next()
                if tok.text == "^":
                    if powered:
                        raise self.error(
                            "a double superscript (TeX refuses it)",
                            "brace the power you mean: {x^{2}}^{3} or x^{2^{3}}",
                            tok,
                        )
                    powered = True
                if tok.text == "!":
                    if _is_matrix(value):
                        raise self.error("a factorial of a matrix", "check the formula", tok)
                    value = sp.factorial(value)
                    continue
                if tok.text == "'":
                    raise self.error(
                        "a prime on a non-function", "write f'(x) for a derivative", tok
                    )
                value = self.superscript(value, self.group_span(), tok)
            if self.at("_"):
                raise self.error(
                    "a subscript on a compound expression", "subscript a name, e.g. z_i"
                )
            return value
        finally:
            self.s.depth -= 1

    def superscript(self, base: Any, span: tuple[int, int], tok: Token) -> Any:
        text = self.raw(span)
        if text in (r"\top", "T", r"{\top}"):
            if _is_matrix(base):
                return base.T
            if text == r"\top":
                raise self.error("a transpose of a scalar", _declare_hint(base), tok)
            if self.s.table.get("T") is not None and not _is_matrix(self.s.table.get("T")):
                pass  # T is a declared scalar: a power
            else:
                raise self.error(
                    "^T on a name not declared a matrix: transpose or power T?",
                    "declare the matrix ('matrix W m n', 'vector x n') or T ('scalar T')",
                    tok,
                )
        if text in (r"\prime", "'"):
            raise self.error("a prime on a non-function", "write f'(x) for a derivative", tok)
        if span[1] > span[0] and self.toks[span[0]].text == r"\circ":
            return self.hadamard_power(base, (span[0] + 1, span[1]), tok)
        exponent = self.sub(span).expr()
        if _is_vector(base) and not _is_matrix(exponent):
            self.s.note("a power of a vector read elementwise (g_t^2 is g_t ⊙ g_t)")
            return sp.HadamardPower(base, exponent)
        if _is_matrix(base):
            if exponent == -1:
                return sp.Inverse(base)
            if isinstance(exponent, sp.Integer) and exponent > 0:
                return sp.MatPow(base, exponent)
            raise self.error("a matrix to a non-integer power", "check the exponent", tok)
        return _power(base, exponent, self, tok)

    def hadamard_power(self, base: Any, span: tuple[int, int], tok: Token) -> Any:
        """``X^{\\circ p}``: the elementwise power of a matrix."""
        if span[0] == span[1]:
            raise self.error(r"^{\circ} without an exponent", r"write X^{\circ 2}", tok)
        _no_ones(base, p=self)
        if not _is_matrix(base):
            raise self.error(
                "an elementwise power of a scalar", r"write x^{2} for a scalar's power", tok
            )
        exponent = self.sub(span).whole()
        if _is_matrix(exponent):
            raise self.error("a matrix exponent", "check the formula", tok)
        return sp.HadamardPower(base, exponent)

    # -- names as symml prints them ----------------------------------------------------
    def lookup(self, name: str, tok: Token | None = None) -> Any:
        """The declared object of a name, or of the one declared symbol printed as it."""
        obj = self.s.table.get(name)
        targets = self.s.aliases.names.get(name, ())
        if not targets:
            return obj
        if obj is None and len(targets) == 1:
            return self.s.table.get(targets[0])
        candidates = ([name] if obj is not None else []) + list(targets)
        raise self.error(
            f"'{name}' may be {' or '.join(candidates)}: they are printed alike",
            f"write the full name, e.g. {_full_tex(targets[-1])}",
            tok,
        )

    def printed_form(self) -> Any:
        """A declared symbol written as symml prints it (σ^{2} for sigma_sq), or None."""
        for form in self.s.aliases.forms:
            n = len(form.tokens)
            window = self.toks[self.i : self.i + n]
            if self.i + n > self.stop or [(t.kind, t.text) for t in window] != list(form.tokens):
                continue
            after = self.toks[self.i + n] if self.i + n < self.stop else None
            obj = self.s.table.get(form.name)
            if after is not None and after.kind == "letter" and window[-1].kind == "letter":
                if after.pos == window[-1].end:
                    continue  # the form is only the start of a longer word
            if after is not None and after.text == "_" and not isinstance(obj, sp.IndexedBase):
                continue
            tok = self.peek()
            shown = self.s.text[tok.pos : window[-1].end]
            if form.clash:
                raise self.error(
                    f"'{shown}' is how {form.name} is printed, but {form.clash}",
                    f"write the full name, e.g. {_full_tex(form.name)}",
                    tok,
                )
            self.i += n
            self.s.note(f"{shown} read as the declared {form.name}, which is printed so")
            if isinstance(obj, sp.FunctionClass):
                return self.call(form.name, tok)
            if isinstance(obj, sp.IndexedBase):
                if not self.at("_"):
                    raise self.error(
                        f"'{form.name}' is an indexed family", f"subscript it: {shown}_i", tok
                    )
                self.next()
                return obj[tuple(self._indices(self.group_span(), obj))]
            return obj
        return None

    # -- atoms ---------------------------------------------------------------------------
    def atom(self) -> Any:
        tok = self.peek()
        if tok.kind in ("letter", "cmd") and self.s.aliases.forms:
            value = self.printed_form()
            if value is not None:
                return value
        if tok.kind == "num":
            self.next()
            if "e" in tok.text:
                return self.scientific(tok)
            return sp.Rational(tok.text) if "." in tok.text else sp.Integer(tok.text)
        if tok.kind == "sym" and tok.text in ("(", "["):
            closer = ")" if tok.text == "(" else "]"
            close = self._matching(self.i, tok.text, closer)
            inner = self.sub((self.i + 1, close))
            self.i = close + 1
            value = inner.expr()
            if inner.peek().kind != "end":
                raise inner.error("unexpected text inside brackets", "check commas and operators")
            return value
        if tok.kind == "sym" and tok.text == "{":
            span = self.group_span()
            return self.sub(span).whole()
        if tok.kind == "cmd" and tok.text == r"\{":
            close = self._matching(self.i, r"\{", r"\}")
            inner = self.sub((self.i + 1, close))
            self.i = close + 1
            return inner.whole()
        if tok.kind == "sym" and tok.text == "|":
            close = self._find_bar(self.i + 1)
            inner = self.sub((self.i + 1, close))
            self.i = close + 1
            return _apply(sp.Abs, [inner.whole()], self, tok)
        if tok.kind == "cmd":
            return self.command(tok)
        if tok.kind == "letter":
            return self.name_atom()
        raise self.error("expected a number, a name or a bracket", "check the formula")

    def scientific(self, tok: Token) -> Any:
        """``1e-3``, ``2.5e3``: a number in scientific notation, as code and papers write it."""
        mantissa, exponent = tok.text.split("e")
        power = sp.Integer(exponent)
        value = _power(sp.Integer(10), power, self, tok)
        self.s.note(f"{tok.text} read in scientific notation as {mantissa}·10^{exponent}")
        return sp.Rational(mantissa) * value if mantissa != "1" else value

    def whole(self) -> Any:
        value = self.expr()
        if self.peek().kind != "end":
            raise self.error("unexpected text in a group", "check the braces")
        _no_ones(value, p=self)
        return value

    def _find_bar(self, start: int) -> int:
        depth = 0
        for j in range(start, self.stop):
            t = self.toks[j]
            if t.text in ("(", "[", "{") and t.kind == "sym":
                depth += 1
            elif t.text in (")", "]", "}") and t.kind == "sym":
                depth -= 1
            elif t.text == "|" and depth == 0:
                return j
        raise self.error("'|' is never closed", "add the closing '|'")

    def command(self, tok: Token) -> Any:
        name = tok.text
        if name == r"\frac":
            self.next()
            return self.fraction(tok)
        if name == r"\sqrt":
            self.next()
            index = None
            if self.at("["):
                close = self._matching(self.i, "[", "]")
                index = self.sub((self.i + 1, close)).whole()
                self.i = close + 1
            radicand = self.sub(self.group_span()).whole()
            if index is None:
                return _apply(sp.sqrt, [radicand], self, tok)
            return _power(radicand, 1 / index, self, tok)
        if name in (r"\sum", r"\prod"):
            self.next()
            return self.big_operator(tok)
        if name == r"\begin":
            self.next()
            env = self.raw(self.group_span())
            if env in MATRIX_ENVIRONMENTS:
                return self.matrix(env, tok)
            if env != "cases":
                raise self.error(
                    f"environment '{env}'", "only cases and matrix are read inside a formula", tok
                )
            return self.cases(tok)
        if name == r"\infty":
            self.next()
            return sp.oo
        if name == r"\|":
            self.next()
            return self.norm(tok)
        if name in BRACKETS:
            self.next()
            closer, func = BRACKETS[name]
            close = self._matching(self.i - 1, name, closer)
            inner = self.sub((self.i, close)).whole()
            self.i = close + 1
            return _apply(func, [inner], self, tok)
        if name in BOLD_FACES and [t.text for t in self.toks[self.i + 1 : self.i + 4]] == [
            "{",
            "1",
            "}",
        ]:
            self.next()
            self.i += 3
            if self.at("_"):
                self.next()
                rows, cols = self.sizes(self.group_span(), tok, r"\mathbf{1}")
                return sp.OneMatrix(rows, cols)
            self.s.note("\\mathbf{1} read as the all-ones matrix of the shape it is added to")
            return ONES
        if name == r"\left.":
            self.next()
            return self.evaluated_at(tok)
        if name == r"\int":
            self.next()
            return self.integral(tok)
        if name == r"\nabla":
            self.next()
            return self.nabla(tok)
        if name == r"\mathbb":
            self.next()
            letter = self.raw(self.group_span())
            if letter == "E":
                return self.expectation(tok)
            if letter == "1":
                return self.indicator(tok)
            if letter == "I":
                if not self.at("_"):
                    raise self.error(
                        r"\mathbb{I}, a matrix whose size the text does not give",
                        r"write its size, \mathbb{I}_{n}",
                        tok,
                    )
                self.next()
                span = self.group_span()
                if any(t.text == r"\times" for t in self.toks[span[0] : span[1]]):
                    raise self.error(
                        r"\mathbb{I} with two sizes", r"an identity is square: \mathbb{I}_{n}", tok
                    )
                return sp.Identity(self._size(span, tok, r"\mathbb{I}"))
            raise self.error(f"\\mathbb{{{letter}}} in an expression", "sets are not read", tok)
        if name in COMMAND_FUNCTIONS:
            self.next()
            return self.call(name[1:], tok, command=True)
        if name == r"\partial" and self.peek(1).text == "_":
            self.next()  # ∂_x f, ∂_{\mathbf{w}} J: as ∇_x f
            return self.nabla(tok)
        if (
            name[1:] in LETTER_NAMES
            or name in ACCENT_WORDS
            or name in BOLD_FACES
            or name in WORD_WRAPPERS
            or name == r"\partial"
        ):
            return self.name_atom()
        if name == r"\partial":
            raise self.error("∂ outside a fraction", r"write \frac{\partial L}{\partial w}", tok)
        raise self.error(f"the command {name}", "it has no meaning symml knows", tok)

    def norm(self, tok: Token) -> Any:
        """``\\|x\\|``, ``\\|x\\|_2`` (a vector's 2-norm), ``\\|X\\|_F`` (Frobenius); of a
        scalar, its absolute value. Other norms, and ``\\|X\\|`` of a matrix, are refused."""
        close = next((j for j in range(self.i, self.stop) if self.toks[j].text == r"\|"), None)
        if close is None:
            raise self.error("'\\|' is never closed", "add the closing \\|", tok)
        inner = self.sub((self.i, close)).whole()
        self.i = close + 1
        kind = ""
        if self.at("_"):
            self.next()
            kind = self.raw(self.group_span())
        if not _is_matrix(inner):
            if kind not in ("", "2", "F", "1", r"\infty"):
                raise self.error(f"the norm ‖·‖_{kind}", "write ‖x‖_2 or ‖X‖_F", tok)
            return sp.Abs(inner)
        vector = inner.shape[1] == 1 or inner.shape[0] == 1
        if vector and kind in ("", "2", "F"):
            self.s.note("‖x‖ of a vector read as its Euclidean norm sqrt(tr(xᵀx))")
            return sp.sqrt(sp.Trace(inner.T * inner))
        if kind == "F":
            self.s.note("‖X‖_F read as the Frobenius norm sqrt(tr(XᵀX))")
            return sp.sqrt(sp.Trace(inner.T * inner))
        what = f"‖·‖_{kind}" if kind else "‖X‖ of a matrix (Frobenius or spectral?)"
        raise self.error(f"the norm {what}", "write ‖X‖_F for the Frobenius norm", tok)

    def sizes(self, span: tuple[int, int], tok: Token, what: str) -> tuple[Any, Any]:
        """The ``m \\times n`` of a sized constant matrix (``\\mathbf{1}_{d \\times 1}``)."""
        times = [j for j in range(*span) if self.toks[j].text == r"\times"]
        if len(times) != 1:
            raise self.error(
                f"{what} with a subscript that is not 'rows \\times columns'",
                f"write {what}_{{m \\times n}}",
                tok,
            )
        return self._size((span[0], times[0]), tok, what), self._size(
            (times[0] + 1, span[1]), tok, what
        )

    def _size(self, span: tuple[int, int], tok: Token, what: str) -> Any:
        if span[0] == span[1]:
            raise self.error(f"{what} with an empty size", f"write {what}_{{m \\times n}}", tok)
        size = self.sub(span).whole()
        if not (isinstance(size, sp.Expr) and size.is_integer and size.is_positive is not False):
            raise self.error(
                f"{what} of size '{self.raw(span)}'",
                "a size is a positive integer or a declared size symbol",
                tok,
            )
        return size

    # -- names ---------------------------------------------------------------------------
    def base_name(self) -> tuple[str, bool]:
        """The bare name at the cursor and whether it was spelled as a word."""
        tok = self.next()
        if tok.kind == "letter":
            run = tok.text
            j = self.i
            while (
                j < self.stop
                and self.toks[j].kind == "letter"
                and self.toks[j].pos == self.toks[j - 1].end
            ):
                run += self.toks[j].text
                j += 1
            for length in range(len(run), 1, -1):
                word = run[:length]
                if self.s.table.get(word) is not None or word in self.s.table.depends:
                    self.i += length - 1
                    return word, True
                if (
                    word.lower() in KNOWN_FUNCTIONS
                    and self.toks[self.i + length - 1 : self.i + length]
                    and self._call_follows(self.i + length - 1)
                ):
                    self.i += length - 1
                    self.s.note(
                        f"'{word}' read as the function {word} (write \\operatorname{{{word}}})"
                    )
                    return word, True
            if len(run) > 1 and (run.lower() in SUSPICIOUS_WORDS or run.lower() in KNOWN_FUNCTIONS):
                raise self.error(
                    f"'{run}' is a multi-letter name or a product of letters",
                    f"write \\mathrm{{{run}}} for the name, or declare it; or "
                    f"{' '.join(run)} with spaces and \\cdot for a product",
                    tok,
                )
            return run[0], False
        if tok.text == r"\partial":
            raise self.error("∂ outside a fraction", r"write \frac{\partial L}{\partial w}", tok)
        if tok.text[1:] in LETTER_NAMES:
            return tok.text[1:], False
        if tok.text in ACCENT_WORDS:
            at = self.i - 1
            inner = self.sub(self.group_span())
            inner_at = inner.i
            name, word = inner.base_name()
            if inner.peek().kind != "end":
                raise inner.error("a decoration over more than a name", "decorate one letter")
            if inner_at in self.s.bold:
                self.s.bold.add(at)  # \hat{\mathbf{y}}: a vector
            return name + ACCENT_WORDS[tok.text], word
        if tok.text in BOLD_FACES:
            at = self.i - 1
            inner = self.sub(self.group_span())
            name, word = inner.base_name()
            if inner.peek().kind != "end":
                raise inner.error("bold over more than a name", "make one letter bold")
            declared = name in self.s.table.declared
            shaped = self.s.table.bold_shapes or declared
            if (
                tok.text in SHAPED_BOLD_FACES
                and shaped
                and (len(name) == 1 or name in LETTER_NAMES)
            ):
                self.s.bold.add(at)  # \mathbf{x} a vector, \mathbf{W} a matrix
            else:
                self.s.note("bold face ignored: \\mathbf{x} is the name x")
            return name, word
        if tok.text in WORD_WRAPPERS:
            span = self.group_span()
            text = self.raw(span).replace("\\_", "_")  # \text{negative\_slope}
            if not text or not all(c.isalnum() or c == "_" for c in text):
                raise self.error(f"'{text}' as a name", "use letters and digits", tok)
            return text, True
        raise self.error("expected a name", "check the formula", tok)

    def _call_follows(self, j: int) -> bool:
        k = j + 1
        while k < self.stop and self.toks[k].text in ("'",):
            k += 1
        return k < self.stop and self.toks[k].text in ("(", "^")

    def name_atom(self) -> Any:
        start_tok = self.peek()
        bold = self.i  # the token where a bold name would have been marked
        name, word = self.base_name()
        bold = bold in self.s.bold
        sub_span: tuple[int, int] | None = None
        primes = 0
        pending: list[tuple[tuple[int, int], Token]] = []
        pending_at = self.i
        while self.at("_", "^", "'"):
            tok = self.peek()
            if tok.text == "'":
                self.next()
                primes += 1
                continue
            if tok.text == "_":
                if sub_span is not None:
                    raise self.error("two subscripts", "merge them into one {…}")
                self.next()
                sub_span = self.group_span()
                continue
            # a superscript: a layer label (l), a star, or a prime become part of the name
            save = self.i
            self.next()
            span = self.group_span()
            text = self.raw(span)
            if text.startswith("(") and text.endswith(")") and self._is_label(text[1:-1]):
                name = f"{name}^({text[1:-1]})"
                self.s.note(f"^{{{text}}} read as a layer label (name {name}), not a power")
                continue
            if text in ("*", r"\star", r"\ast"):
                name = f"{name}star"
                continue
            if text == r"\prime":
                primes += 1
                continue
            if self.is_function_name(name, word) and primes == 0 and not pending:
                pending.append((span, tok))  # σ^2(z) / tanh²(z): a power of the value
                pending_at = save
                continue
            self.i = save
            break
        declared_sub = self._subscripted(name, sub_span)
        if declared_sub is not None and not isinstance(declared_sub, sp.FunctionClass):
            if not primes and not pending:  # η_max (t − s): a declared name, not η(…)
                return self.resolve(name, sub_span, start_tok, word, bold=bold)
        if self.at("(") and isinstance(declared_sub, sp.FunctionClass):
            return self.call(name, start_tok, sub_span=sub_span, power=pending)
        if sub_span is not None and self.at("("):
            full = f"{name}_{_subscript_name(self.raw(sub_span))}"
            if full in self.s.callables:
                return self.call(name, start_tok, sub_span=sub_span, primes=primes, power=pending)
        if self.is_function_name(name, word) and (self.at("(") or primes or name in ("log", "ln")):
            return self.call(name, start_tok, sub_span=sub_span, primes=primes, power=pending)
        if primes and (bold or sub_span is not None):
            value = self.resolve(name, sub_span, start_tok, word, bold=bold)
            return self.primed_name(value, primes)
        if primes:
            raise self.error(
                f"a prime on '{name}', which is not a function",
                "declare it: 'function f'",
                start_tok,
            )
        if pending and name in ("sigma", "Phi") and (sub_span is None or not self.at("(")):
            self.i = pending_at  # σ² with no argument: the square of a symbol σ
            pending = []
        if pending:
            raise self.error(
                "a power of a function name with no argument", "add the argument", start_tok
            )
        value = self.resolve(name, sub_span, start_tok, word, bold=bold)
        return value

    def primed_name(self, value: Any, primes: int) -> Any:
        """``\\mathbf{g}_t'``: a prime on a vector or a subscripted name is part of its name
        (another g), not a derivative."""
        mark = "'" * primes
        self.s.note(f"{value}{mark} read as a name of its own (the prime is not a derivative)")
        if isinstance(value, sp.MatrixSymbol):
            return sp.MatrixSymbol(value.name + mark, *value.shape)
        if isinstance(value, sp.Symbol):
            return sp.Symbol(value.name + mark, **value.assumptions0)
        raise self.error("a prime on an entry of a family", "name it: g'_t", self.peek())

    def _subscripted(self, name: str, sub_span: tuple[int, int] | None) -> Any:
        """The declared object named name_sub (μ_θ, η_max), if any."""
        if sub_span is None or isinstance(self._base_of(name, sub_span), sp.IndexedBase):
            return None
        sub = _subscript_name(self.raw(sub_span))
        return None if sub is None else self.lookup(f"{name}_{sub}")

    def _base_of(self, name: str, sub_span: tuple[int, int], tok: Token | None = None) -> Any:
        """The declared object of a subscripted name's base, or ``_FULL_NAME`` when the base
        prints like several symbols but the subscript spells one of them out (y_{\\mathrm{sign}}
        beside y_label: the reader's own hint for the alike names)."""
        try:
            return self.lookup(name, tok)
        except LatexParseError:
            sub = _subscript_name(self.raw(sub_span))
            if sub is not None and f"{name}_{sub}" in self.s.aliases.names.get(name, ()):
                return _FULL_NAME
            raise

    @staticmethod
    def _is_label(text: str) -> bool:
        return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9]*([+-][0-9]+)?|[0-9]+", text))

    def is_function_name(self, name: str, word: bool) -> bool:
        declared = self.lookup(name)
        if declared is not None:
            return (
                isinstance(declared, sp.FunctionClass)
                or callable(declared)
                and isinstance(declared, type)
                and issubclass(declared, sp.Function)
            )
        if name.lower() in KNOWN_FUNCTIONS and (word or name in ("ln", "log", "exp")):
            return True
        if name in self.s.callables and self.at("("):
            return True
        if name in ("sigma", "Phi"):
            return self.at("(") or self.at("'") or True
        if name in FUNCTION_LETTERS and self.at("("):
            return True
        if word and len(name) > 1 and self.at("("):
            return True  # \operatorname{softmax}(z): a call, known or refused
        if self.at("(") and self._tuple_follows():
            if name not in self.s.callables:
                self.s.callables.add(name)
                self.s.note(f"{name}(a, b) read as a function {name} of several arguments")
            return True
        if name in AMBIGUOUS_CALL_LETTERS and self.at("("):
            raise self.error(
                f"'{name}(' may be a call or a product",
                f"declare 'function {name}', or write {name} \\cdot (…) for a product",
            )
        if self.at("(") and self._one_name_inside():
            shown = f"\\{name}" if name in LETTER_NAMES else name
            raise self.error(
                f"'{name}(…)' of one name may be a call of {name} or a product",
                f"declare 'function {name}' or define it ({shown}(t) = …) for a call; "
                f"write {shown} \\cdot (…) for a product",
            )
        return False

    def _given(self, start: int, stop: int) -> int | None:
        """The index of the one top-level ``\\mid`` in tokens[start:stop], if any."""
        depth, found = 0, []
        for j in range(start, stop):
            text = self.toks[j].text
            depth += text in ("(", "[", "{")
            depth -= text in (")", "]", "}")
            if depth == 0 and text == r"\mid":
                found.append(j)
        if len(found) > 1:
            raise self.error(
                "two '\\mid' in one call", "write P(a \\mid b, c)", self.toks[found[1]]
            )
        return found[0] if found else None

    def _one_name_inside(self) -> bool:
        """Whether the ``(…)`` at the cursor holds one plain name: ``η(t)`` is far more often
        η of t than η·t, but a product is what TeX's letters would say."""
        close = matching(self.toks, self.i, self.stop, "(", ")")
        if close < 0:
            return False
        probe = _Parser(self.s, self.i + 1, close)
        saved = list(self.s.notes)
        try:
            name = probe.plain_name()
        except LatexParseError:
            return False
        finally:
            self.s.notes[:] = saved
        return name is not None and probe.peek().kind == "end"

    def _tuple_follows(self) -> bool:
        """Whether the ``(…)`` at the cursor holds a top-level ``,`` or ``\\mid``: arguments,
        never a factor (l(y, ŷ), P(y \\mid x))."""
        close = matching(self.toks, self.i, self.stop, "(", ")")
        depth = 0
        for j in range(self.i + 1, max(close, self.i + 1)):
            text = self.toks[j].text
            depth += text in ("(", "[", "{")
            depth -= text in (")", "]", "}")
            if depth == 0 and text in (",", r"\mid"):
                return True
        return False

    def resolve(
        self,
        name: str,
        sub_span: tuple[int, int] | None,
        tok: Token,
        word: bool,
        *,
        bold: bool = False,
    ) -> Any:
        table = self.s.table
        if sub_span is not None and name == "delta" and not bold and table.get("delta") is None:
            letters = [t for t in self.toks[sub_span[0] : sub_span[1]] if t.text != ","]
            if len(letters) == 2 and all(t.kind == "letter" for t in letters):
                # δ_{ik} with two index letters: Kronecker's (1 where i = k, else 0), under a
                # Σ too (Σ_j δ_ij x_j = x_i), never a family
                a, b = (self._index(t.text) for t in letters)
                self.s.note(f"δ_{{{a}{b}}} read as Kronecker's delta (1 where {a} = {b})")
                return sp.KroneckerDelta(a, b)
        if sub_span is not None:
            sub_text = self.raw(sub_span)
            index_syms = self._index_symbols(sub_span)
            family = self._base_of(name, sub_span, tok)
            if family is _FULL_NAME:
                full = f"{name}_{_subscript_name(sub_text)}"
                return self.resolve(full, None, tok, True, bold=bold)
            is_family = isinstance(family, sp.IndexedBase) or (name in self.s.families and not bold)
            if (
                index_syms is not None
                and not is_family
                and not bold
                and any(s in self.s.bound for s in index_syms)
            ):
                self.s.inferred.add(name)
            if is_family:
                base = (
                    family
                    if isinstance(family, sp.IndexedBase)
                    else sp.IndexedBase(name, real=True)
                )
                indices = self._indices(sub_span, base)
                return base[tuple(indices)]
            sub_name = _subscript_name(sub_text)
            if sub_name is None:
                raise self.error(
                    f"subscript '{sub_text}'", "use letters, digits or a declared family", tok
                )
            full = f"{name}_{sub_name}"
            # \mathbf{x}_i: the i-th vector, not an entry
            if self.lookup(full, tok) is None and full not in table.depends:
                self.s.note(f"{name} with subscript {sub_text} read as the name {full}")
            return self.resolve(full, None, tok, True, bold=bold)
        obj = self.lookup(name, tok)
        if obj is not None and table.get(name) is None:
            self.s.note(f"{name} read as the declared {self.s.aliases.names[name][0]}")
        if name in table.depends:
            args = [self.resolve(d, None, tok, True) for d in table.depends[name]]
            head = obj if isinstance(obj, sp.FunctionClass) else sp.Function(name, real=True)
            return head(*args)
        if obj is not None:
            if isinstance(obj, sp.IndexedBase) and bold and len(obj.shape or (1,)) == 1:
                self.s.note(f"bold {name} read as the whole vector of the family {name}")
                if obj.shape is None:
                    return self.bold_object(name)
                return sp.MatrixSymbol(name, obj.shape[0], 1)
            if isinstance(obj, sp.IndexedBase):
                raise self.error(f"'{name}' is an indexed family", f"subscript it: {name}_i", tok)
            if isinstance(obj, sp.FunctionClass):
                raise self.error(f"'{name}' is a function", f"call it: {name}(x)", tok)
            return obj
        if bold:
            return self.bold_object(name)
        if name in self.s.families:
            raise self.error(f"'{name}' is an indexed family here", f"subscript it: {name}_i", tok)
        for index in reversed(self.s.bound):  # g_{i-m}: the m of an enclosing Σ_m
            if index.name == name:
                return index
        if name == "e" and not word:
            return sp.E
        if name == "pi":
            return sp.pi
        if name.lower() in KNOWN_FUNCTIONS and word:
            raise self.error(
                f"the function '{name}' without an argument", "write it applied: f(x)", tok
            )
        if name == "I":
            self.s.note("I read as a real symbol (not the imaginary unit)")
        if name == "gamma":
            self.s.note("γ read as a real symbol (not Euler's constant)")
        return sp.Symbol(name, real=True)

    def bold_object(self, name: str) -> Any:
        """An undeclared bold name: a column vector (lower case) or a square matrix (capital)
        of the default size, as nearly every ML text writes them."""
        size_name = self.s.table.default_size or BOLD_SIZE
        size = self.s.table.get(size_name)
        if not isinstance(size, sp.Expr) or not size.is_integer:
            size = sp.Symbol(size_name, **SIZE_ASSUMPTIONS)
        base = name.split("_")[0].split("^")[0]
        letter = base if len(base) == 1 else base[0] if base not in LETTER_NAMES else base
        capital = letter[:1].isupper()
        shape = (size, size) if capital else (size, 1)
        kind = "matrix" if capital else "vector"
        decl = f"'{kind} {name} {size_name}{' ' + size_name if capital else ''}'"
        self.s.note(
            f"bold {name} read as a {kind} of size {' x '.join(map(str, shape))} "
            f"(undeclared; declare e.g. {decl} for another shape)"
        )
        return sp.MatrixSymbol(name, *shape)

    def _index_symbols(self, span: tuple[int, int]) -> list[Any] | None:
        toks = [t for t in self.toks[span[0] : span[1]] if t.text != ","]
        if toks and all(t.kind == "letter" for t in toks):
            return [self._index(t.text) for t in toks]
        return None

    def _index(self, letter: str) -> Any:
        for s in self.s.bound:
            if s.name == letter:
                return s
        declared = self.s.table.get(letter)
        if isinstance(declared, sp.Symbol):
            return declared
        return sp.Symbol(letter, **INDEX_ASSUMPTIONS)

    def _indices(self, span: tuple[int, int], base: sp.IndexedBase) -> list[Any]:
        rank = len(base.shape) if base.shape is not None else None
        toks = self.toks[span[0] : span[1]]
        if any(t.text == "," for t in toks):
            parts, start = [], span[0]
            for j in range(span[0], span[1]):
                if self.toks[j].text == ",":
                    parts.append((start, j))
                    start = j + 1
            parts.append((start, span[1]))
            indices = [
                self._index(self.toks[p[0]].text)
                if p[1] - p[0] == 1 and self.toks[p[0]].kind == "letter"
                else self.sub(p).whole()
                for p in parts
            ]
        elif (
            rank
            and rank > 1
            and all(t.kind in ("letter", "num") for t in toks)
            and len(toks) == rank
        ):
            indices = [
                self._index(t.text) if t.kind == "letter" else sp.Integer(t.text) for t in toks
            ]
        else:
            save = list(self.s.bound)
            inner = self.sub(span)
            if all(t.kind == "letter" for t in toks) and len(toks) == 1:
                indices = [self._index(toks[0].text)]
            elif rank is None and 1 < len(toks) <= 3 and all(t.kind == "letter" for t in toks):
                # x_{ij} of a family: the entry (i, j), as notes mean it — never x at i·j
                indices = [self._index(t.text) for t in toks]
                shown = ", ".join(t.text for t in toks)
                self.s.note(
                    f"{base}_{{{''.join(t.text for t in toks)}}} read as the entry ({shown})"
                )
            else:
                indices = [inner.whole()]
            self.s.bound[:] = save
        if rank is not None and len(indices) != rank:
            raise self.error(f"'{base}' takes {rank} indices", "check the subscript")
        return indices

    # -- calls ---------------------------------------------------------------------------
    def call(
        self,
        name: str,
        tok: Token,
        *,
        command: bool = False,
        sub_span: tuple[int, int] | None = None,
        primes: int = 0,
        power: list[tuple[tuple[int, int], Token]] | None = None,
    ) -> Any:
        power = list(power or [])
        if command:
            while self.at("'"):
                self.next()
                primes += 1
            if self.at("_"):
                self.next()
                sub_span = self.group_span()
            if self.at("^"):
                ptok = self.next()
                power.append((self.group_span(), ptok))
        if command and name in ("max", "min") and sub_span is not None:
            return self.extremum(name, sub_span, tok)
        head, arity, label = self.function_head(name, sub_span, tok)
        if self.at("("):
            close = self._matching(self.i, "(", ")")
            given = self._given(self.i + 1, close)
            if given is not None:
                if not _undefined(head):
                    raise self.error(f"{label}(a \\mid b) of a known function", "check it", tok)
                head = sp.Function(f"{label}_given", **_density_assumptions(label))
                self.s.note(f"{label}(a | b) read as {head}(a, b): a function of a given b")
                args = self._arguments((self.i + 1, given)) + self._arguments((given + 1, close))
            else:
                args = self._arguments((self.i + 1, close), families=_undefined(head))
            self.i = close + 1
        elif command and name in ("max", "min") and self.at(r"\{"):
            close = self._matching(self.i, r"\{", r"\}")
            args = self._arguments((self.i + 1, close))
            self.i = close + 1
        elif command or name in ("log", "ln"):
            if name in ("max", "min"):
                raise self.error(f"\\{name} over an index", "write \\max(a, b) with arguments", tok)
            if not self.starts_atom(self.peek()):
                raise self.error(f"{label} without an argument", "add (…)", tok)
            args = [self.factor()]
            if self.starts_atom(self.peek()) and not self.at(r"\sum", r"\prod"):
                raise self.error(
                    f"where the argument of {label} ends", f"write {label}(…) with parentheses"
                )
        else:
            raise self.error(f"{label} without an argument", "add (…)", tok)
        if arity > 0 and len(args) != arity:
            if head is F.leaky_relu and len(args) == 1 and sub_span is not None:
                args.append(self.sub(sub_span).whole())
            else:
                raise self.error(
                    f"{label} takes {arity} argument(s), got {len(args)}", "check the commas", tok
                )
        if primes:
            value = self.derivative_of_function(head, args, primes, label, tok)
        elif head is SOFTMAX:
            value = self.softmax(args[0], tok)
        else:
            value = _apply(head, args, self, tok)
        for span, ptok in power:
            exponent = self.sub(span).whole()
            if exponent == -1:
                raise self.error(f"{label}^{{-1}}: inverse or reciprocal?", "write 1/f(x)", ptok)
            value = _power(value, exponent, self, ptok)
        return value

    def extremum(self, name: str, sub_span: tuple[int, int], tok: Token) -> Any:
        """``\\max_{1 \\leq i \\leq N} x_i``: a declared max over a range of symbolic size."""
        ranges = self.ranges(sub_span)
        head = self.lookup(name, tok)
        if ranges is None or len(ranges) != 1:
            raise self.error(
                f"\\{name} under a subscript", f"write \\{name}_{{1 \\leq i \\leq n}}", tok
            )
        if not isinstance(head, sp.FunctionClass):
            raise self.error(
                f"\\{name} over a range of symbolic size",
                f"declare 'function {name}' to read it as {name}(x_i, (i, 1, n))",
                tok,
            )
        index, low, high = ranges[0]
        self.s.bound.append(index)
        try:
            body = self.term()
        finally:
            self.s.bound.pop()
        self.s.note(f"\\{name} over a range read as the declared {name}(body, (i, low, high))")
        return head(body, sp.Tuple(index, low, high))

    def softmax(self, arg: Any, tok: Token) -> Any:
        """The row softmax exp(S) ⊙ ((exp(S) 1)^(∘−1) 1ᵀ), as the catalog spells it."""
        if not _is_matrix(arg) or arg.shape[1] == 1:
            raise self.error(
                "softmax of a scalar or a column: over which index?",
                r"write it out, e.g. \frac{e^{z_i}}{\sum_{j=1}^{k} e^{z_j}}",
                tok,
            )
        cols = arg.shape[1]
        exps = arg.applyfunc(sp.exp)
        sums = exps * sp.OneMatrix(cols, 1)
        self.s.note("softmax of a matrix read as the softmax of each row")
        return sp.hadamard_product(exps, sums.applyfunc(lambda t: 1 / t) * sp.OneMatrix(1, cols))

    def _arguments(self, span: tuple[int, int], families: bool = False) -> list[Any]:
        parts, start, depth = [], span[0], 0
        for j in range(span[0], span[1]):
            t = self.toks[j]
            if t.kind == "sym" and t.text in "([{":
                depth += 1
            elif t.kind == "sym" and t.text in ")]}":
                depth -= 1
            elif t.text == "," and depth == 0:
                parts.append((start, j))
                start = j + 1
        parts.append((start, span[1]))
        if parts == [(span[0], span[0])]:
            raise self.error("a call with no argument", "add the argument")
        return [self._argument(p, families) for p in parts]

    def _argument(self, span: tuple[int, int], families: bool) -> Any:
        if families and span[1] - span[0] == 1 and self.toks[span[0]].kind == "letter":
            family = self.lookup(self.toks[span[0]].text, self.toks[span[0]])
            if isinstance(family, sp.IndexedBase):  # dist(a, p): whole vectors as arguments
                return family
        return self.sub(span).whole()

    def function_head(
        self, name: str, sub_span: tuple[int, int] | None, tok: Token
    ) -> tuple[Any, int, str]:
        declared = self.lookup(name, tok)
        if sub_span is not None and name.lower() not in ("log", "leakyrelu"):
            sub_name = _subscript_name(self.raw(sub_span))
            full = f"{name}_{sub_name}" if sub_name else None
            if full and isinstance(self.lookup(full, tok), sp.FunctionClass):
                return self.lookup(full, tok), -1, full
            if full in self.s.callables and declared is None:
                return sp.Function(full, real=True), -1, full
            if full and name in FUNCTION_LETTERS and declared is None:
                self.s.note(f"{full} read as an unspecified function")
                return sp.Function(full, real=True), -1, full
            raise self.error(f"a subscript on the function {name}", "declare the function", tok)
        if isinstance(declared, sp.FunctionClass):
            return declared, -1, name
        if name in self.s.callables and declared is None:
            self.s.note(f"{name}(…) read as an unspecified function {name}")
            return sp.Function(name, real=True), -1, name
        if name == "sigma" and declared is None:
            if self.s.table.sigma == "generic":
                self.s.note("σ read as an unspecified activation ('sigma generic')")
                return sp.Function("sigma", real=True), 1, "σ"
            self.s.note("σ read as the sigmoid (declare 'sigma generic' for any activation)")
            return F.sigmoid, 1, "σ"
        if name == "Phi" and declared is None:
            self.s.note("Φ read as the standard normal CDF")
            return F.Phi, 1, "Φ"
        if name.lower() in ("log", "ln"):
            if sub_span is not None and name.lower() == "log":
                base = self.sub(sub_span).whole()
                self.s.note(f"\\log_{{{base}}} read as the base-{base} logarithm")
                return (lambda x, b=base: sp.log(x, b)), 1, f"log_{base}"
            if name == "log":
                self.s.note("\\log read as the natural logarithm")
            return sp.log, 1, name
        if name.lower() in KNOWN_FUNCTIONS:
            head, arity = KNOWN_FUNCTIONS[name.lower()]
            return head, arity, name
        if name == "softmax":
            return SOFTMAX, 1, name
        if name in FUNCTION_LETTERS or name in self.s.callables:
            self.s.note(f"{name}(…) read as an unspecified function {name}")
            return sp.Function(name, real=True), -1, name
        if len(name) > 1 and name.isalnum():  # \operatorname{pReLU}(x): named as an operator
            self.s.note(f"{name}(…) read as an unspecified function {name}")
            return sp.Function(name, real=True), -1, name
        raise self.error(f"'{name}' is not a known function", f"declare 'function {name}'", tok)

    def derivative_of_function(
        self, head: Any, args: list[Any], order: int, label: str, tok: Token
    ) -> Any:
        if len(args) != 1:
            raise self.error(f"{label}' of several arguments", "write a partial derivative", tok)
        (arg,) = args
        if _is_matrix(arg):
            d = sp.Dummy("d")  # as MatrixExpr.applyfunc names it
            return arg.applyfunc(sp.Lambda(d, sp.Derivative(head(d), (d, order))))
        if isinstance(arg, sp.Symbol):
            value = sp.Derivative(head(arg), (arg, order))
        else:
            d = sp.Symbol("_u", real=True)
            value = sp.Subs(sp.Derivative(head(d), (d, order)), d, arg)
        self.s.note(f"{label}{chr(39) * order}(…) read as a derivative of {label}")
        return value

    # -- derivatives, sums, cases ----------------------------------------------------------
    def fraction(self, tok: Token) -> Any:
        num = self.group_span()
        den = self.group_span()
        diff = self._differential_operator(num, den)
        if diff is None:
            top = self.sub(num).whole()
            bottom = self.sub(den).whole()
            return _div(top, bottom, self, tok)
        operand_span, wrts, order = diff
        if operand_span is None:
            operand = self.term()  # \frac{d}{dz} applies to the rest of the product
        elif self.at("("):
            return self.derivative_at(operand_span, wrts, tok)
        else:
            operand = self.sub(operand_span).whole()
        return self.derivative(operand, wrts, order, tok)

    def _differential_operator(
        self, num: tuple[int, int], den: tuple[int, int]
    ) -> tuple[tuple[int, int] | None, list[tuple[Any, int]], int] | None:
        top = self._marker(num[0], num[1])
        if top is None:
            return None
        kind, after = top
        order = 1
        if after < num[1] and self.toks[after].text == "^":
            p = self.sub((after + 1, num[1]))
            span = p.group_span()
            text = self.raw(span)
            if not text.isdigit():
                return None
            order = int(text)
            after = p.i
        wrts: list[tuple[Any, int]] = []
        j = den[0]
        while j < den[1]:
            mark = self._marker(j, den[1])
            if mark is None or mark[1] >= den[1]:
                return None
            p = self.sub((mark[1], den[1]))
            var = p.factor_no_power()
            power = 1
            if p.at("^"):
                p.next()
                text = p.raw(p.group_span())
                if not text.isdigit():
                    raise self.error("a non-integer order", "write ∂x^2 for a second derivative")
                power = int(text)
            if not isinstance(var, (sp.Symbol, sp.MatrixSymbol, sp.Indexed, AppliedUndef)):
                raise self.error("differentiating with respect to an expression", "use a name")
            wrts.append((var, power))
            j = p.i
        if not wrts:
            return None
        if sum(p for _, p in wrts) != order:
            raise self.error(
                "the orders of the numerator and denominator differ", "check d^n / dx^n"
            )
        operand = (after, num[1]) if after < num[1] else None
        return operand, wrts, order

    def _marker(self, j: int, stop: int) -> tuple[str, int] | None:
        """A differential sign at token j: d, \\partial or \\mathrm{d}; returns the next index."""
        if j >= stop:
            return None
        t = self.toks[j]
        if t.text == r"\partial":
            return "partial", j + 1
        if t.kind == "letter" and t.text == "d" and self.s.table.get("d") is None:
            return "d", j + 1
        if t.text == r"\mathrm" and j + 3 < stop + 1 and self.toks[j + 1].text == "{":
            if self.toks[j + 2].text == "d" and self.toks[j + 3].text == "}":
                return "d", j + 4
        return None

    def factor_no_power(self) -> Any:
        """One name (with its subscript) but not its power: the x of ∂x^2."""
        tok = self.peek()
        if tok.kind in ("letter", "cmd") and self.s.aliases.forms:
            value = self.printed_form()
            if value is not None:
                return value
        if tok.kind == "letter" or tok.kind == "cmd":
            start = self.i
            name, word = self.base_name()
            bold = start in self.s.bold
            sub_span = None
            while self.at("^") and self.peek(1).text == "{" and self.peek(2).text == "(":
                self.next()
                span = self.group_span()
                name = f"{name}^({self.raw(span)[1:-1]})"
            if self.at("_"):
                self.next()
                sub_span = self.group_span()
            return self.resolve(name, sub_span, tok, word, bold=bold)
        raise self.error("expected the variable of a derivative", "write ∂x or dx")

    def derivative(self, operand: Any, wrts: list[tuple[Any, int]], order: int, tok: Token) -> Any:
        def depends(e: Any, v: Any) -> bool:
            if not isinstance(e, sp.Basic):
                return False
            if isinstance(v, sp.Indexed):
                return any(a.base == v.base for a in e.atoms(sp.Indexed)) or e.has(v)
            return e.has(v)

        single = len(wrts) == 1 and wrts[0][1] == 1
        head = type(operand).__name__
        undeclared = head not in self.s.table.depends and self.s.table.get(head) is None
        if single and _is_matrix(wrts[0][0]) and isinstance(operand, AppliedUndef) and undeclared:
            # ∇f(x) of an unspecified f: SymPy's Derivative has no shape, and dropped it
            # from x - η∇f(x); the gradient is opaque, of x's shape, and recorded
            wrt = wrts[0][0]
            name = f"d{_flat(operand)}_d{_flat(wrt)}"
            symbol = sp.MatrixSymbol(name, *wrt.shape)
            self.s.gradients[symbol] = (operand, wrt)
            self.s.note(f"∇{operand} read as the gradient {name}, of {wrt}'s shape")
            return symbol
        if all(depends(operand, v) for v, _ in wrts):
            return sp.Derivative(operand, *[(v, p) for v, p in wrts])
        if isinstance(operand, sp.Number) or (
            isinstance(operand, sp.Basic) and not operand.free_symbols
        ):
            return sp.Derivative(operand, *[(v, p) for v, p in wrts])
        bare = isinstance(operand, (sp.Symbol, sp.MatrixSymbol, sp.Indexed, AppliedUndef))
        if bare and len(wrts) == 1 and wrts[0][1] == 1:
            wrt = wrts[0][0]
            name = f"d{_flat(operand)}_d{_flat(wrt)}"
            symbol: Any
            if isinstance(wrt, sp.MatrixSymbol):
                symbol = sp.MatrixSymbol(name, *wrt.shape)
            else:
                symbol = sp.Symbol(name, real=True)
            self.s.gradients[symbol] = (operand, wrt)
            self.s.note(
                f"∂{operand}/∂{wrt} read as the gradient symbol {name}: nothing says {operand} "
                f"depends on {wrt} (declare 'depends {operand} {wrt}' for a derivative)"
            )
            return symbol
        raise self.error(
            "the differentiated expression does not mention the variable",
            "declare what depends on it ('depends yhat z'), or it is 0",
            tok,
        )

    def nabla(self, tok: Token) -> Any:
        wrt: Any = None
        if self.at("_"):
            self.next()
            p = self.sub(self.group_span())
            wrt = p.factor_no_power()
        self.call_ahead(tok)
        operand = self.term()  # as \frac{d}{dx}: ∇_x xᵀAx is the gradient of the whole product
        if wrt is None:
            if isinstance(operand, AppliedUndef) and len(operand.args) == 1:
                wrt = operand.args[0]
            else:
                raise self.error("∇ without a variable", r"write \nabla_{\theta} L", tok)
        return self.derivative(operand, [(wrt, 1)], 1, tok)

    def call_ahead(self, tok: Token) -> str | None:
        """After ∇: a name followed by ``(`` is a function applied there (∇_θ J(θ) is ∇J at
        θ, not ∇J times θ). The name is read as an unspecified function from here on."""
        saved = list(self.s.notes)
        probe = _Parser(self.s, self.i, self.stop)
        try:
            name = probe.plain_name()
        except LatexParseError:
            name = None
        finally:
            self.s.notes[:] = saved
        if name is None or not probe.at("(") or self.s.table.get(name) is not None:
            return None
        if name not in self.s.callables:
            self.s.callables.add(name)
            self.s.note(f"{name}(…) after ∇ read as a function {name} applied to its argument")
        self.s.scalar_valued.add(name)
        return name

    def derivative_at(
        self, operand_span: tuple[int, int], wrts: list[tuple[Any, int]], tok: Token
    ) -> Any:
        """``\\frac{dg}{dx}(x)``, ``\\frac{\\partial J}{\\partial W}(W)``: the derivative of a
        function g at the point in parentheses (not the symbol dg/dx times x)."""
        probe = self.sub(operand_span)
        name = probe.plain_name()
        if name is None or probe.peek().kind != "end" or len(wrts) != 1:
            raise self.error(
                "a derivative followed by '(': its value at a point, or a product?",
                r"write g'(x), or \frac{d}{dx} g(x)",
                tok,
            )
        var, order = wrts[0]
        close = self._matching(self.i, "(", ")")
        args = self._arguments((self.i + 1, close))
        self.i = close + 1
        atomic = len(args) == 1 and (args[0] == var or isinstance(args[0], sp.Symbol | sp.Number))
        if not atomic or not isinstance(var, sp.Symbol) or _is_matrix(args[0]):
            raise self.error(
                "a derivative followed by '(…)': its value there, or a product?",
                r"write g'(2x) for its value at 2x, or \frac{dg}{dx} \cdot (…) for a product",
                tok,
            )
        head = sp.Function(name, real=True)
        self.s.callables.add(name)
        self.s.note(f"d{name}/d{var}(…) read as the derivative of a function {name} at a point")
        derivative = sp.Derivative(head(var), (var, order))
        return derivative if args[0] == var else sp.Subs(derivative, var, args[0])

    def big_operator(self, tok: Token) -> Any:
        lower: tuple[int, int] | None = None
        upper: tuple[int, int] | None = None
        while self.at("_", "^"):
            which = self.next().text
            span = self.group_span()
            if which == "_":
                lower = span
            else:
                upper = span
        if lower is None:
            if upper is not None:
                raise self.error("a sum without an index", r"write \sum_{i=1}^{n}", tok)
            return self.implicit_sum(tok)
        ranges = self.ranges(lower)
        if ranges is not None:
            if upper is not None:
                raise self.error("a range and an upper bound", r"write \sum_{i=1}^{n}", tok)
            self.s.bound.extend(i for i, _, _ in ranges)
            try:
                body = self.term()
            finally:
                del self.s.bound[-len(ranges) :]
            cls = sp.Sum if tok.text == r"\sum" else sp.Product
            return cls(body, *ranges)
        toks = self.toks[lower[0] : lower[1]]
        if not toks or toks[0].kind != "letter" or (len(toks) > 1 and toks[1].text != "="):
            raise self.error("a sum index that is not one letter", r"write \sum_{i=1}^{n}", tok)
        index = self._index(toks[0].text)
        if not isinstance(index, sp.Symbol):
            raise self.error("a sum index that is not a symbol", "use a fresh letter", tok)
        start = self.sub((lower[0] + 2, lower[1])).whole() if len(toks) > 1 else None
        end = self.sub(upper).whole() if upper is not None else None
        self.s.bound.append(index)
        try:
            body = self.term()
        finally:
            self.s.bound.pop()
        if start is None:
            start = sp.Integer(1)
            self.s.note(f"Σ_{index} read as running from {index} = 1")
        if end is None:
            end = self._bound_from_body(body, index, tok)
        cls = sp.Sum if tok.text == r"\sum" else sp.Product
        return cls(body, (index, start, end))

    def implicit_sum(self, tok: Token) -> Any:
        """``Σ(yᵢ - ŷᵢ)²`` or ``Σ W²`` with no index written: the index is the one subscript
        letter of the body, or, with no subscript, the entries of the one undeclared name
        (``Σ W²`` = Σ_j W_j², every entry of W). Anything else is refused."""
        start = self.i
        saved = (list(self.s.notes), set(self.s.inferred), dict(self.s.gradients))
        body = self.term()
        letters = self._subscript_letters(start, self.i) - {s.name for s in self.s.bound}
        self.s.notes[:], self.s.inferred, self.s.gradients = saved[0], saved[1], saved[2]
        cls = sp.Sum if tok.text == r"\sum" else sp.Product
        if len(letters) > 1:
            raise self.error(
                f"a sum without an index over the subscripts {', '.join(sorted(letters))}",
                r"write the index: \sum_{i}",
                tok,
            )
        if letters:
            (letter,) = letters
            index = self._index(letter)
            self.i = start
            self.s.bound.append(index)
            try:
                body = self.term()
            finally:
                self.s.bound.pop()
            self.s.note(f"Σ with no index read as Σ_{index} over the subscript {index}")
            return cls(body, (index, sp.Integer(1), self._bound_from_body(body, index, tok)))
        names = _entry_candidates(body, self.s.table)
        if len(names) != 1:
            what = ", ".join(sorted(s.name for s in names)) or "no name"
            raise self.error(
                f"a sum without an index over {what}: which one runs?",
                r"write the index: \sum_{j} W_j^2",
                tok,
            )
        (name,) = names
        used = {t.text for t in self.toks if t.kind == "letter"}
        letter = next(c for c in "jkmlpqrsuvi" if c not in used and self.s.table.get(c) is None)
        index = sp.Symbol(letter, **INDEX_ASSUMPTIONS)
        entry = sp.IndexedBase(name.name, real=True)[index]
        body = body.xreplace({name: entry})
        self.s.note(
            f"Σ with no index over {name} read as the sum over all its entries {name}_{index} "
            "(flattened: for a matrix, every entry once)"
        )
        return cls(body, (index, sp.Integer(1), self._bound_from_body(body, index, tok)))

    def _subscript_letters(self, start: int, stop: int) -> set[str]:
        """The single letters written as subscripts between two token positions."""
        found = set()
        for j in range(start, stop - 1):
            if self.toks[j].text != "_":
                continue
            nxt = self.toks[j + 1]
            if nxt.kind == "letter":  # x_ij is x_i times j in TeX: the one letter
                found.add(nxt.text)
            elif (
                nxt.text == "{"
                and j + 3 < stop
                and self.toks[j + 2].kind == "letter"
                and self.toks[j + 3].text == "}"
            ):
                found.add(self.toks[j + 2].text)
        return found

    def ranges(self, span: tuple[int, int]) -> list[tuple[Any, Any, Any]] | None:
        """``a \\leq i \\leq b`` or ``\\substack{…\\\\…}`` under Σ or max: (i, a, b) rows."""
        if self.toks[span[0]].text == r"\substack":
            p = self.sub((span[0] + 1, span[1]))
            inner = p.group_span()
            if p.peek().kind != "end":
                raise p.error("text after \\substack", "put every range inside it")
            rows, start = [], inner[0]
            for j in range(inner[0], inner[1] + 1):
                if j == inner[1] or self.toks[j].text == "\\\\":
                    rows.append((start, j))
                    start = j + 1
            limits = [self._range(row) for row in rows if row[0] < row[1]]
            if not limits or any(limit is None for limit in limits):
                raise self.error("a \\substack row that is not a range", "write 1 \\leq i \\leq n")
            return limits  # type: ignore[return-value]
        limit = self._range(span)
        return None if limit is None else [limit]

    def _range(self, span: tuple[int, int]) -> tuple[Any, Any, Any] | None:
        marks = [j for j in range(*span) if self.toks[j].text == r"\leq"]
        if len(marks) != 2 or marks[1] != marks[0] + 2:
            return None
        letter = self.toks[marks[0] + 1]
        if letter.kind != "letter":
            return None
        index = self._index(letter.text)
        low = self.sub((span[0], marks[0])).whole()
        high = self.sub((marks[1] + 1, span[1])).whole()
        return index, low, high

    def _bound_from_body(self, body: Any, index: Any, tok: Token) -> Any:
        for ind in (
            sorted(body.atoms(sp.Indexed), key=sp.default_sort_key)
            if isinstance(body, sp.Basic)
            else []
        ):
            if ind.base.shape is not None and index in ind.indices:
                dim = ind.indices.index(index)
                self.s.note(f"Σ_{index} runs to the size {ind.base.shape[dim]} of {ind.base}")
                return ind.base.shape[dim]
        # in notes (a default size set), 1/N Σ_i runs to N; a bare reading refuses
        written = self._mean_bound(tok) if self.s.table.default_size else None
        if written is not None:
            self.s.note(f"Σ_{index} runs to {written}, the N of the 1/{written} before it")
            return written
        size = self.s.table.index_sizes.get(str(index))
        if size is not None:
            bound = self.s.table.get(size)
            bound = bound if isinstance(bound, sp.Expr) else sp.Symbol(size, real=True)
            self.s.note(f"Σ_{index} runs to {size}, as Σ_{{{index}=1}}^{{{size}}} elsewhere")
            return bound
        if self.s.table.default_size:
            size = self.s.table.get(self.s.table.default_size)
            size = (
                size
                if size is not None
                else sp.Symbol(self.s.table.default_size, **SIZE_ASSUMPTIONS)
            )
            self.s.note(f"Σ_{index} runs to the default size {size} (no bound written)")
            return size
        raise self.error(
            "a sum without an upper bound over an undeclared family",
            r"write \sum_{i=1}^{n} or declare the family ('indexed y n')",
            tok,
        )

    def _mean_bound(self, tok: Token) -> Any:
        """The N of ``\\frac{1}{N}`` (or ``\\frac1N``) written just before the Σ ``tok``: the
        mean over the range, whose N is the range's size."""
        at = next((j for j in range(self.i - 1, -1, -1) if self.toks[j] is tok), None)
        if at is None:
            return None
        texts = [t.text for t in self.toks[max(0, at - 7) : at]]
        letter = None
        if len(texts) >= 3 and texts[-3:-1] == [r"\frac", "1"]:
            letter = self.toks[at - 1]
        elif len(texts) == 7 and texts[:5] == [r"\frac", "{", "1", "}", "{"] and texts[6] == "}":
            letter = self.toks[at - 2]
        if letter is None or letter.kind != "letter" or not letter.text.isascii():
            return None
        declared = self.s.table.get(letter.text)
        if declared is not None:
            return declared if isinstance(declared, sp.Symbol) else None
        return sp.Symbol(letter.text, real=True)

    def cases(self, tok: Token) -> Any:
        rows, end = self._rows("cases", tok)
        self.i = end + 1
        if self.raw(self.group_span()) != "cases":
            raise self.error(r"\end does not match \begin{cases}", "check the environment", tok)
        pieces = []
        for cells in rows:
            if len(cells) != 2:
                raise self.error(
                    "a cases row without one '&'", "write value & condition", self.toks[cells[0][0]]
                )
            value = cells[0]
            if value[1] > value[0] and self.toks[value[1] - 1].text == ",":
                value = (value[0], value[1] - 1)  # z, & z > 0: the comma ends the value
            pieces.append((self.sub(value).whole(), self.condition(cells[1])))
        if not pieces:
            raise self.error("empty cases", "add rows", tok)
        return sp.Piecewise(*pieces)

    def condition(self, span: tuple[int, int]) -> Any:
        j, stop = span
        words = ""
        while j < stop and self.toks[j].text in WORD_WRAPPERS:
            p = self.sub((j + 1, stop))
            inner = p.group_span()
            words = self.raw(inner).lower()
            j = p.i
            if words.strip(" ,") in ("otherwise", "else", "elsewhere"):
                return sp.true
        while j < stop and self.toks[j].text in (",", "if"):
            j += 1
        if j < stop - 1 and self.raw((j, j + 2)) == "if":
            j += 2
        if j >= stop:
            raise self.error("a cases row without a condition", r"add & \text{otherwise}")
        value, relation = self.sub((j, stop)).full()
        if relation is None or relation in ("=", ":="):
            if relation == "=":
                return value
            raise self.error("a condition that is not a relation", "write z > 0", self.toks[j])
        return value

    def _rows(self, stop_env: str, tok: Token) -> tuple[list[list[tuple[int, int]]], int]:
        """Cells (token spans) of an environment body up to its ``\\end``; and that index."""
        rows: list[list[tuple[int, int]]] = [[]]
        start, depth, j = self.i, 0, self.i
        while j < self.stop:
            t = self.toks[j]
            if t.text == r"\begin":
                depth += 1
            elif t.text == r"\end":
                if depth == 0:
                    break
                depth -= 1
            elif t.text in ("&", "\\\\") and depth == 0:
                rows[-1].append((start, j))
                start = j + 1
                if t.text != "&":
                    rows.append([])
            j += 1
        else:
            raise self.error(f"{stop_env} is never closed", f"add \\end{{{stop_env}}}", tok)
        rows[-1].append((start, j))
        return [r for r in rows if r != [(r[0][0], r[0][0])]], j

    def matrix(self, env: str, tok: Token) -> Any:
        rows, end = self._rows(env, tok)
        self.i = end + 1
        if self.raw(self.group_span()) != env:
            raise self.error(f"\\end does not match \\begin{{{env}}}", "check the environment", tok)
        cells = [[self.sub(c).whole() for c in row] for row in rows]
        if not cells or len({len(r) for r in cells}) != 1:
            raise self.error(
                "matrix rows of different lengths", "give every row as many cells", tok
            )
        kinds = {_is_matrix(c) for row in cells for c in row}
        if kinds == {False}:
            return sp.ImmutableMatrix(cells)
        if kinds == {True}:
            block = sp.BlockMatrix(cells)  # stacked blocks: [h_{t-1}; x_t]
            self.s.note("a matrix of matrices read as a block matrix")
            return block
        raise self.error("a matrix mixing blocks and scalars", "write every cell as a matrix", tok)

    def evaluated_at(self, tok: Token) -> Any:
        """``\\left. f(u) \\right|_{u=a}``: f evaluated at u = a (a ``Subs``)."""
        depth, j = 0, self.i
        while j < self.stop:
            t = self.toks[j]
            if t.kind == "sym" and t.text in "([{":
                depth += 1
            elif t.kind == "sym" and t.text in ")]}":
                depth -= 1
            elif (
                t.text == "|" and depth == 0 and j + 1 < self.stop and self.toks[j + 1].text == "_"
            ):
                break
            j += 1
        else:
            raise self.error(r"\left. without \right|_{…}", r"write \left. f \right|_{x=a}", tok)
        body = self.sub((self.i, j)).whole()
        self.i = j + 2
        span = self.group_span()
        if self.toks[span[0]].text == r"\substack":
            p = self.sub((span[0] + 1, span[1]))
            span = p.group_span()
        pairs: list[tuple[Any, Any]] = []
        start = span[0]
        for k in range(span[0], span[1] + 1):
            if k == span[1] or self.toks[k].text in (",", "\\\\"):
                if k > start:
                    pairs.append(self._binding((start, k), tok))
                start = k + 1
        if not pairs:
            raise self.error("an evaluation bar without a point", r"write \right|_{x=a}", tok)
        bound = {var: sp.Dummy(var.name) for var, _ in pairs}  # the variable is bound
        self.s.note("\\left. f \\right|_{u=a} read as f evaluated at u = a")
        return sp.Subs(
            body.xreplace(bound), [bound[v] for v, _ in pairs], [value for _, value in pairs]
        )

    def _binding(self, span: tuple[int, int], tok: Token) -> tuple[Any, Any]:
        value, relation = self.sub(span).full()
        if relation != "=" or not isinstance(value.lhs, sp.Symbol):
            raise self.error("an evaluation point that is not 'name = value'", "write u=a", tok)
        return value.lhs, value.rhs

    def integral(self, tok: Token) -> Any:
        limits: dict[str, Any] = {}
        while self.at("_", "^"):
            which = self.next().text
            limits[which] = self.sub(self.group_span()).whole()
        if len(limits) == 1:
            raise self.error("an integral with one limit", r"write \int_{a}^{b}", tok)
        if self.s.table.get("d") is not None:
            raise self.error("d is declared, so 'd x' may be a product", r"write \mathrm{d}x", tok)
        depth, j = 0, self.i
        while j < self.stop:
            t = self.toks[j]
            if t.kind == "sym" and t.text in "([{":
                depth += 1
            elif t.kind == "sym" and t.text in ")]}":
                depth -= 1
            elif depth == 0 and self._marker(j, self.stop) is not None:
                after = self._marker(j, self.stop)[1]  # type: ignore[index]
                if after < self.stop and (
                    self.toks[after].kind == "letter" or self.toks[after].text[1:] in LETTER_NAMES
                ):
                    break
            j += 1
        else:
            raise self.error("an integral without its d x", r"write \int_{a}^{b} f(x) \, dx", tok)
        body = self.sub((self.i, j)).whole()
        self.i = self._marker(j, self.stop)[1]  # type: ignore[index]
        var_tok = self.peek()
        var = self.factor_no_power()
        if not isinstance(var, sp.Symbol):
            raise self.error("integrating over an expression", "use a name", tok)
        if var not in self.s.table.objects.values():
            # undeclared, 'd x' may as well be the product d·x
            raise self.error(
                f"an integral over the undeclared {var}",
                f"declare it ('scalar {var}') to read d{var} as its differential",
                var_tok,
            )
        if not limits:
            return sp.Integral(body, var)
        return sp.Integral(body, (var, limits["_"], limits["^"]))

    def indicator(self, tok: Token) -> Any:
        """𝟙[x > 0], 𝟙\\{y = k\\}, 𝟙_{x > 0}: 1 where the condition holds, else 0."""
        if self.at("[", r"\{"):
            closer = "]" if self.at("[") else r"\}"
            close = self._matching(self.i, self.peek().text, closer)
            span, self.i = (self.i + 1, close), close + 1
        elif self.at("_"):
            self.next()
            span = self.group_span()
        else:
            raise self.error(r"\mathbb{1} without its condition", r"write \mathbb{1}[x > 0]", tok)
        value, relation = self.sub(span).full()
        if relation is None or relation == ":=":
            raise self.error(
                "an indicator of something that is not a relation", r"write \mathbb{1}[x > 0]", tok
            )
        return sp.Piecewise((sp.S.One, value), (sp.S.Zero, True))

    def expectation(self, tok: Token) -> Any:
        import sympy.stats as stats

        if self.s.table.expectations:
            return self.note_expectation(tok)
        if self.at("_"):
            raise self.error(
                r"\mathbb{E} with a subscript", r"declare the random symbols instead", tok
            )
        if not self.at("["):
            raise self.error(r"\mathbb{E} without brackets", r"write \mathbb{E}[X]", tok)
        close = self._matching(self.i, "[", "]")
        inner = self.sub((self.i + 1, close)).whole()
        self.i = close + 1
        if not (isinstance(inner, sp.Basic) and inner.atoms(stats.rv.RandomSymbol)):
            raise self.error(
                r"\mathbb{E} of a quantity not declared random",
                "pass sympy.stats random symbols in symbols=",
                tok,
            )
        self.s.note("𝔼[·] read as an unevaluated expectation")
        return stats.Expectation(inner)

    def note_expectation(self, tok: Token) -> Any:
        """``\\mathbb{E}[aX + b]``, ``\\mathbb{E}_{x \\sim p}[f(x)]``, ``\\mathbb{E}_x[…]``: a
        ``NoteExpectation``. The random symbols are those of the subscript, else the
        capitals of the argument (X, Y), else its one name; anything else is refused."""
        randoms: list[Any] = []
        law: Any = sp.S.Zero
        if self.at("_"):
            self.next()
            span = self.group_span()
            marks = [j for j in range(*span) if self.toks[j].text == r"\sim"]
            if len(marks) > 1:
                raise self.error(r"two \sim under \mathbb{E}", r"write \mathbb{E}_{x \sim p}", tok)
            names = (span[0], marks[0]) if marks else span
            if self.toks[names[0]].text == "(" and names[1] - 1 > names[0]:
                if self._matching(names[0], "(", ")") == names[1] - 1:  # (x, y) ∼ D
                    names = (names[0] + 1, names[1] - 1)
            if marks:
                law_text = self.raw((marks[0] + 1, span[1])).strip()
                law_text = re.sub(r"\\(mathcal|mathrm|text|operatorname)", "", law_text)
                law_name = re.sub(r"[^A-Za-z0-9_]", "", law_text.split("(")[0].split("[")[0])
                given = law_text[len(law_text.split("(")[0].split("[")[0]) :]
                if given.strip():  # N(0, 1), U[0, 1]: a law with its parameters, kept
                    law_name += re.sub(r"\s+", "", given)
                if not law_name or not law_name[0].isalpha():
                    raise self.error(
                        r"\mathbb{E} over an unnamed distribution", r"write x \sim p", tok
                    )
                law = sp.Symbol(law_name)
            for part in self._arguments(names):
                parts = part.args if isinstance(part, sp.Tuple) else (part,)
                for name in parts:
                    if not isinstance(name, sp.Symbol):
                        raise self.error(
                            f"\\mathbb{{E}} over {name}, not one scalar name",
                            r"write \mathbb{E}_{x}[…] with plain scalar names",
                            tok,
                        )
                    randoms.append(name)
        if self.at("[") or self.at("("):
            opener = self.peek().text
            close = self._matching(self.i, opener, "]" if opener == "[" else ")")
        else:
            raise self.error(r"\mathbb{E} without brackets", r"write \mathbb{E}[X]", tok)
        inner = self.sub((self.i + 1, close)).whole()
        self.i = close + 1
        if not isinstance(inner, sp.Expr) or isinstance(inner, MatrixExpr):
            raise self.error(
                r"\mathbb{E} of a vector or matrix", "write the expectation of a scalar", tok
            )
        if inner.has(sp.Sum, sp.Product, sp.Indexed, sp.Derivative, sp.Integral):
            raise self.error(
                r"\mathbb{E} of a sum over an index or a derivative",
                "write it out, or check it by hand",
                tok,
            )
        nested = inner.atoms(NoteExpectation)
        names = inner.xreplace({e: sp.Dummy() for e in nested}).free_symbols
        names = {s for s in names if not isinstance(s, sp.Dummy)}
        if not randoms:
            randoms = sorted((s for s in names if re.fullmatch(r"[A-Z](_\w+)?", s.name)), key=str)
        if not randoms and len(names) == 1:
            randoms = list(names)
        if not randoms and names:
            listed = ", ".join(sorted(map(str, names))) or "no name"
            raise self.error(
                f"\\mathbb{{E}}[…] over {listed}: which one is random?",
                r"write \mathbb{E}_{x}[…], or capitals X, Y for the random variables",
                tok,
            )
        shown = ", ".join(map(str, randoms))
        self.s.note(f"𝔼[·] read as a linear expectation over the random {shown}")
        return NoteExpectation(inner, sp.Tuple(*randoms), law)


def _density_assumptions(label: str) -> dict[str, bool]:
    """p(a | b), q(a | b), P(y | x): a density or a probability, positive; another f(a | b) real."""
    return {"positive": True} if label in ("p", "q", "P", "Q") else {"real": True}


def _full_tex(name: str) -> str:

    return name_tex(name, drop_tags=False)


def _subscript_name(text: str) -> str | None:
    for wrapper in ("\\mathrm", "\\text", "\\operatorname", "\\textrm"):
        text = text.replace(wrapper, "")
    text = text.replace("{", "").replace("}", "").replace("\\", "")
    text = text.replace(",", "")
    if text and all(c.isalnum() or c in "+-" for c in text):
        return text
    return None


def _entry_candidates(body: Any, table: SymbolTable) -> set[Any]:
    """The names an unindexed Σ may run over: undeclared plain symbols of a body that calls
    no unknown function (Σ P(x) log P(x) runs over x, a variable, not an entry of a name)."""
    if not isinstance(body, sp.Basic) or _is_matrix(body) or body.atoms(AppliedUndef):
        return set()
    if body.atoms(sp.Indexed):
        return set()
    known = set(table.objects.values())
    return {s for s in body.free_symbols if isinstance(s, sp.Symbol) and s not in known}


def _flat(e: Any) -> str:
    if isinstance(e, sp.Indexed):
        return str(e.base).replace("_", "") + "".join(str(i) for i in e.indices)
    if isinstance(e, AppliedUndef):
        return type(e).__name__.replace("_", "")
    return str(e).replace("_", "")


def _is_matrix(e: Any) -> bool:
    return isinstance(e, (MatrixExpr, sp.MatrixBase))


def _is_vector(e: Any) -> bool:
    """A column of more than one entry: ML notes apply +, ·, /, powers to it elementwise."""
    return _is_matrix(e) and e.shape[1] == 1 and e.shape[0] != 1


def _elementwise(e: Any) -> bool:
    """Whether a vector expression is already elementwise (η / √s_t, g_t^2): a product with
    it is elementwise too, as optimizer updates write them (d2l's AdaGrad: η/√(s+ε) · g)."""
    kinds = (sp.HadamardPower, sp.HadamardProduct, ElementwiseApplyFunction)
    return isinstance(e, sp.Basic) and any(e.atoms(*kinds)) or isinstance(e, kinds)


def _shapeless_gradient(e: Any) -> bool:
    """Whether ``e`` holds a Derivative by a matrix: a gradient SymPy gives no shape."""
    if not isinstance(e, sp.Basic) or _is_matrix(e):
        return False
    return any(_is_matrix(v) for d in e.atoms(sp.Derivative) for v in d.variables)


def _refuse_shapeless(a: Any, b: Any, p: _Parser) -> None:
    if _shapeless_gradient(a) or _shapeless_gradient(b):
        raise p.error(
            "a gradient by a vector or matrix inside arithmetic: SymPy gives it no shape",
            "write the gradient alone on one side of '='",
        )


def _broadcast(value: Any, other: Any, p: _Parser) -> Any:
    """A scalar beside a vector in a sum (s_t + ε) as that scalar in every entry."""
    if _is_vector(other) and not _is_matrix(value) and not isinstance(value, _Ones):
        p.s.note("a scalar added to a vector read as added to every entry (ε·1)")
        return value * sp.OneMatrix(*other.shape)
    return value


def _ones_like(ones: _Ones, other: Any, p: _Parser) -> Any:
    if not _is_matrix(other):
        raise p.error("\\mathbf{1} added to a scalar", "write 1 for the number one")
    return ones.sign * sp.OneMatrix(*other.shape)


def _add(a: Any, b: Any, p: _Parser) -> Any:
    if isinstance(a, _Ones) and isinstance(b, _Ones):
        raise p.error("\\mathbf{1} of an unknown shape", "declare a matrix of ones")
    if isinstance(a, _Ones):
        a = _ones_like(a, b, p)
    if isinstance(b, _Ones):
        b = _ones_like(b, a, p)
    if _is_matrix(a) or _is_matrix(b):
        _refuse_shapeless(a, b, p)
    a, b = _one_by_one(a, b, p), _one_by_one(b, a, p)
    a, b = _broadcast(a, b, p), _broadcast(b, a, p)
    if _is_matrix(a) != _is_matrix(b):
        raise p.error("a matrix plus a scalar", "check which names are matrices")
    if _is_matrix(a) and a.shape != b.shape:
        raise p.error(f"shapes {a.shape} and {b.shape} added", "check the declared shapes")
    return a + b


def _one_by_one(value: Any, other: Any, p: _Parser) -> Any:
    """A scalar beside a 1×1 matrix (x^T y + b, x^T Q x = c) as that 1×1 matrix."""
    if _is_matrix(other) and other.shape == (1, 1) and not _is_matrix(value):
        if not isinstance(value, _Ones):
            p.s.note("a scalar beside a 1x1 product (x^T y) read as a 1x1 matrix")
            return value * sp.OneMatrix(1, 1)
    return value


def _no_ones(*values: Any, p: _Parser) -> None:
    if any(isinstance(v, _Ones) for v in values):
        raise p.error(
            "\\mathbf{1} outside a sum: its shape is unknown",
            "declare a matrix of ones, e.g. 'matrix J n n'",
        )


def _mul(a: Any, b: Any, p: _Parser) -> Any:
    _no_ones(a, b, p=p)
    if _is_matrix(a) or _is_matrix(b):
        _refuse_shapeless(a, b, p)
    if _is_vector(a) and _is_vector(b) and a.shape == b.shape:
        if not (_elementwise(a) or _elementwise(b)):
            raise p.error(
                "a product of two vectors: a dot product or elementwise?",
                r"write \mathbf{x}^\top \mathbf{y} for the dot product, \odot for elementwise",
            )
        p.s.note("a product of vectors beside an elementwise quotient read elementwise (⊙)")
        return sp.hadamard_product(a, b)
    if _is_matrix(a) and _is_matrix(b) and a.shape[1] != b.shape[0]:
        raise p.error(f"shapes {a.shape} and {b.shape} multiplied", "check the declared shapes")
    return a * b


def _div(a: Any, b: Any, p: _Parser, tok: Token | None = None) -> Any:
    _no_ones(a, b, p=p)
    if _is_vector(b) and (not _is_matrix(a) or a.shape == b.shape):
        p.s.note("a division by a vector read elementwise")
        reciprocal = sp.HadamardPower(b, -1)
        return sp.hadamard_product(a, reciprocal) if _is_matrix(a) else a * reciprocal
    if _is_matrix(b):
        raise p.error("division by a matrix", "multiply by an inverse, A^{-1}", tok)
    if b == 0:
        raise p.error("division by zero", "check the formula", tok)
    return a / b


def _hadamard(a: Any, b: Any, p: _Parser) -> Any:
    _no_ones(a, b, p=p)
    if not (_is_matrix(a) and _is_matrix(b)):
        p.s.note("⊙ between scalars read as a product")
        return a * b
    if a.shape != b.shape:
        raise p.error(f"shapes {a.shape} and {b.shape} in ⊙", "check the declared shapes")
    return sp.hadamard_product(a, b)


def _power(base: Any, exponent: Any, p: _Parser, tok: Token | None = None) -> Any:
    _no_ones(base, exponent, p=p)
    if _is_matrix(exponent):
        raise p.error("a matrix exponent", "check the formula", tok)
    try:  # 2^{2^{40}}, 10^{-999999999}: SymPy would compute every digit, even unevaluated
        guard.check_power(base, exponent, "")
    except guard.SizeError as exc:
        raise p.error(f"a power that {exc.problem}", "write a smaller number", tok) from None
    if base == sp.E and not _is_matrix(exponent):
        return sp.exp(exponent)
    if isinstance(base, sp.Number) and isinstance(exponent, sp.Number):
        big = abs(exponent) > 64 or abs(base) > 10**6 or (base == 0 and exponent < 0)
        if big:
            return sp.Pow(base, exponent, evaluate=False)
    return base**exponent


def _undefined(head: Any) -> bool:
    return isinstance(head, sp.FunctionClass) and issubclass(head, AppliedUndef)


def _apply(head: Any, args: list[Any], p: _Parser, tok: Token) -> Any:
    _no_ones(*args, p=p)
    whole = len(args) > 1 or str(head) in p.s.scalar_valued
    if _undefined(head) and whole and any(_is_matrix(a) for a in args):
        p.s.note(f"{head}(…) of vectors read as one value (a loss, a score), not elementwise")
        return head(*args)
    blocks = [a for a in args if _is_matrix(a)]
    if head in (sp.Max, sp.Min) and len(blocks) == 1 and len(args) > 1:
        (block,) = blocks  # max(0, X): elementwise, as ReLU
        p.s.note(f"{head.__name__.lower()}(…) of a matrix read elementwise")
        return block.applyfunc(lambda t: head(*[t if a is block else a for a in args]))
    if len(args) == 1 and _is_matrix(args[0]):
        if isinstance(args[0], sp.MatrixBase):
            return args[0].applyfunc(head)
        return args[0].applyfunc(head)
    if any(_is_matrix(a) for a in args):
        raise p.error(
            "a function of several arguments applied to a matrix", "apply it elementwise", tok
        )
    return head(*args)


def _relate(kind: str, a: Any, b: Any, p: _Parser) -> Any:
    _no_ones(a, b, p=p)
    if kind in ("=", ":="):
        if _gradient_of(a, b) or _gradient_of(b, a):
            p.s.note("∂(scalar)/∂X read as the gradient, of X's shape")
            return sp.Eq(a, b, evaluate=False)
        a, b = _one_by_one(a, b, p), _one_by_one(b, a, p)
        if _is_matrix(a) != _is_matrix(b) or (_is_matrix(a) and a.shape != b.shape):
            raise p.error("the two sides have different shapes", "check the declarations")
        return sp.Eq(a, b, evaluate=False)
    if _is_matrix(a) or _is_matrix(b):
        raise p.error("an inequality between matrices", "compare scalars")
    ops: Mapping[str, Any] = {"<": sp.Lt, ">": sp.Gt, "<=": sp.Le, ">=": sp.Ge, "!=": sp.Ne}
    return ops[kind](a, b, evaluate=False)


def _gradient_of(derivative: Any, other: Any) -> bool:
    """Whether ``derivative`` is ∂f/∂X of a scalar (or 1×1) f by one matrix X, and ``other``
    has X's shape: the gradient, which SymPy's Derivative does not give a shape."""
    if not isinstance(derivative, sp.Derivative) or len(derivative.variable_count) != 1:
        return False
    variable, order = derivative.variable_count[0]
    body = derivative.expr
    scalar = not _is_matrix(body) or body.shape == (1, 1)
    return (
        order == 1
        and scalar
        and _is_matrix(variable)
        and _is_matrix(other)
        and other.shape == variable.shape
    )


def _declare_hint(base: Any) -> str:
    """The declaration that would make ``base`` transposable, named after the symbol itself."""
    if isinstance(base, sp.Symbol):
        return f"declare it: --declare 'vector {base.name} n' or 'matrix {base.name} m n'"
    return "declare its symbols as matrices or vectors ('matrix W m n', 'vector x n')"
