"""Lowering: an ML formula rewritten into the LaTeX that latex2sympy2_extended reads
faithfully, each rewrite fixing one of the library's measured pitfalls.

* Every name becomes a ``\\variable{…}`` placeholder for the object symml read, so nothing
  is lower-cased, ``W`` and ``w`` stay apart, ``γ`` is not the Euler constant nor ``I`` the
  imaginary unit, and ``\\hat{y}_i``, ``β_1``, ``η_{max}``, ``x^{(l)}`` are one name each.
* A call ``σ(Wx + b)`` becomes a call of a carrier function the library does read as a call
  (it reads ``\\sigma(…)`` as a product); so do ``Xᵀ`` (dropped by the library) and
  ``f'(u)`` (the prime dropped).
* ``\\log`` without a base becomes ``\\ln`` (the library's ``\\log`` is base 10); ``:=``
  and ``\\leftarrow`` become ``=``; ``2\\frac{1}{2}`` gets an explicit ``\\cdot`` (the
  library reads a mixed number 5/2 whatever its configuration says); ``\\tanh{(x)} y`` gets
  parentheses (the library reads tanh(x·y)); ``⊙`` becomes a product (compared in a
  commutative image); a whole ``∂L/∂W`` is one placeholder; a cases block is lowered cell
  by cell; a sum whose bounds symml inferred gets those bounds written.

What cannot be lowered faithfully (d/dz applied to an operand, ∇, integrals, expectations,
calls of several arguments, matrices) raises ``NotLowered`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from symml.notation import ACCENT_WORDS, BOLD_FACES, LETTER_NAMES, WORD_WRAPPERS
from symml.read.errors import LatexParseError
from symml.read.lexer import Token, matching

#: The library's unary function that carries every call of a name (σ, ReLU, f, …). No ML
#: formula uses the cotangent; one that does is not lowered.
CARRIER = r"\cot"
#: The carrier of a transpose, which the library would drop.
TRANSPOSE_CARRIER = r"\sec"
#: The carrier of f'(u): the library reads no primes.
DERIVATIVE_CARRIER = r"\csc"
#: Commands the library reads as symml does, passed through unchanged.
NATIVE = frozenset(
    r"\frac \sqrt \sum \prod \exp \ln \sin \cos \tan \tanh \sinh \cosh \max \min "
    r"\lfloor \rfloor \lceil \rceil \cdot \times \div \leq \geq \ne \infty \pi".split()
)
WORD_LIKE = frozenset(r"\text \mathrm \textrm \mbox \operatorname".split())
FUNCTION_COMMANDS = frozenset(r"\exp \ln \log \sin \cos \tan \tanh \sinh \cosh".split())
NATIVE_WORDS = {w: "\\" + w for w in "exp ln sin cos tan tanh sinh cosh max min".split()}
NATIVE_WORDS["log"] = r"\ln"
RELATIONS_AS_EQUALITY = frozenset([":=", r"\leftarrow"])


@dataclass(frozen=True)
class CasesBlock:
    """A cases block, lowered cell by cell: (value, condition or None for otherwise)."""

    rows: tuple[tuple[str, str | None], ...]


class NotLowered(Exception):
    """The formula uses something the library cannot read faithfully (the reason)."""


class Lowering:
    """Walks the tokens once, writing the lowered text and recording each placeholder."""

    def __init__(
        self,
        text: str,
        tokens: tuple[Token, ...],
        read_leaf: Any,
        declared: Any = frozenset(),
        reading: Any = sp.S.Zero,
    ) -> None:
        self.declared = declared.__contains__
        self.reading = reading
        self.text = text
        self.toks = tokens
        self.read_leaf = read_leaf
        self.out: list[str] = []
        self.leaves: dict[str, Any] = {}
        self.closers: list[str] = []  # what each open "(" becomes when it closes
        self.skip: dict[int, int] = {}  # token index → where to go on (a consumed ^T)
        self.braces_as_parentheses: set[int] = set()

    def run(self) -> tuple[str, dict[str, Any]]:
        self.walk(0, len(self.toks) - 1)
        return " ".join(self.out), self.leaves

    def source(self, i: int, j: int) -> str:
        return self.text[self.toks[i].pos : self.toks[j - 1].end]

    def walk(self, i: int, stop: int) -> None:
        while i < stop:
            i = self.skip.pop(i) if i in self.skip else self.step(i, stop)

    def step(self, i: int, stop: int) -> int:
        tok = self.toks[i]
        if tok.kind == "num":
            mantissa, _, exponent = tok.text.partition("e")
            # 1e-3: the library reads e as Euler's number; write the power of ten out
            self.out.append(f"({mantissa} \\cdot 10^{{{exponent}}})" if exponent else tok.text)
            return i + 1
        if tok.kind == "letter" or tok.kind == "cmd" and _names_something(tok.text):
            return self.name(i, stop)
        if tok.kind == "cmd":
            return self.command(i, stop)
        return self.symbol(i, stop)

    def symbol(self, i: int, stop: int) -> int:
        text = self.toks[i].text
        if text in RELATIONS_AS_EQUALITY:
            self.out.append("=")
        elif text == "^":
            if self._transpose_end(i, stop) is not None:
                raise NotLowered("a transpose of something other than a name or a bracket")
            self.out.append("^")
        elif text in "{}" and i in self.braces_as_parentheses:
            self.out.append("(" if text == "{" else ")")
        elif text in "+-*/=<>|{}_,":
            self.out.append(text)
        elif text in ("(", "["):
            sqrt_option = text == "[" and self.out and self.out[-1] == r"\sqrt"
            closer = "]" if sqrt_option else ")"
            close = self._matching(i, stop, text, ")" if text == "(" else "]")
            after = self._transpose_end(close + 1, stop)
            if after is not None and self.read_leaf_or_none("T") is not None:
                raise NotLowered("^T after a bracket, with T declared")
            if after is not None:  # (…)^T: the transpose carrier around the bracket
                self.out.append(TRANSPOSE_CARRIER)
                self.skip[close + 1] = after
            self.closers.append(closer)
            self.out.append("[" if sqrt_option else "(")
        elif text in (")", "]"):
            self.out.append(self.closers.pop() if self.closers else text)
        else:
            raise NotLowered(f"'{text}'")
        return i + 1

    def _transpose_end(self, j: int, stop: int) -> int | None:
        """Past ``^T``, ``^\top``, ``^{T}`` or ``^{\top}`` at j, or None."""
        if j >= stop or self.toks[j].text != "^" or j + 1 >= stop:
            return None
        if self.toks[j + 1].text in ("T", r"\top"):
            return j + 2
        if (
            self.toks[j + 1].text == "{"
            and j + 3 < stop
            and self.toks[j + 2].text in ("T", r"\top")
            and self.toks[j + 3].text == "}"
        ):
            return j + 4
        return None

    def cases(self, i: int, stop: int) -> int:
        """A cases block: the library reads no environments, so each value and condition is
        lowered and read on its own, and the block stands in the formula as one placeholder
        that the lift turns into the Piecewise of the library's readings."""
        environment_end = self._group_end(i + 1, stop)
        if self.source(i + 1, environment_end) != "{cases}":
            raise NotLowered(f"the environment {self.source(i + 1, environment_end)}")
        end = next((k for k in range(environment_end, stop) if self.toks[k].text == r"\end"), None)
        if end is None:
            raise NotLowered("a cases block that is not closed")
        rows: list[tuple[str, str | None]] = []
        for row in self._split(environment_end, end, "\\\\"):
            if row[0] == row[1]:
                continue
            cells = self._split(row[0], row[1], "&")
            if len(cells) != 2:
                raise NotLowered("a cases row without exactly one &")
            rows.append((self._lowered(*cells[0]), self._condition(*cells[1])))
        self.out.append(self.placeholder(CasesBlock(tuple(rows))))
        return self._group_end(end + 1, stop)

    def _split(self, start: int, stop: int, separator: str) -> list[tuple[int, int]]:
        parts, depth, begin = [], 0, start
        for k in range(start, stop):
            t = self.toks[k].text
            depth += t in ("{", "(", "[")
            depth -= t in ("}", ")", "]")
            if t == separator and depth == 0:
                parts.append((begin, k))
                begin = k + 1
        parts.append((begin, stop))
        return parts

    def _lowered(self, start: int, stop: int) -> str:
        while stop > start and self.toks[stop - 1].text in (",", "."):
            stop -= 1  # "x, & x > 0": the comma ends the value
        saved, self.out = self.out, []
        try:
            self.walk(start, stop)
            return " ".join(self.out)
        finally:
            self.out = saved

    def _condition(self, start: int, stop: int) -> str | None:
        """The lowered condition, or None for "otherwise"; "if" words are dropped."""
        words = {"if", "otherwise", "else", "for"}
        while start < stop and self.toks[start].text in WORD_LIKE:
            word_end = self._group_end(start + 1, stop)
            word = self.source(start + 2, word_end - 1).strip().rstrip(",")
            if word not in words:
                raise NotLowered(f"the condition word '{word}'")
            if word in ("otherwise", "else"):
                return None
            start = word_end
        if start == stop:
            return None
        return self._lowered(start, stop)

    def _primed_call(self, i: int, end: int, stop: int) -> int:
        """σ'(u): the derivative carrier around the argument."""
        if end + 1 >= stop or self.toks[end + 1].text != "(":
            raise NotLowered("a prime that is not f'(…)")
        close = self._matching(end + 1, stop, "(", ")")
        value = self._read(i, close + 1)
        if not isinstance(value, sp.Derivative | sp.Subs):
            raise NotLowered(f"the derivative '{self.source(i, close + 1)}'")
        if self._top_level_commas(end + 2, close):
            raise NotLowered("a derivative of a call of several arguments")
        self.out += [DERIVATIVE_CARRIER, "("]
        self.walk(end + 2, close)
        self.out.append(")")
        return close + 1

    def derivative_fraction(self, i: int, stop: int) -> int:
        """∂L/∂W written whole is one opaque quantity to both readers; d/dz applied to an
        operand is not lowered."""
        numerator_end = self._group_end(i + 1, stop)
        whole = self._group_end(numerator_end, stop)
        numerator = self.source(i + 2, numerator_end - 1).strip()
        if numerator in ("d", r"\partial", r"\mathrm{d}"):
            raise NotLowered("a derivative operator d/dx")
        if whole < stop and self.toks[whole].text == "(":
            raise NotLowered("a derivative at a point, dg/dx(x)")
        value = self._read(i, whole)
        if not isinstance(value, sp.Symbol | sp.Derivative | sp.Subs):
            raise NotLowered(f"the derivative '{self.source(i, whole)}'")
        self.out.append(self.placeholder(value))
        return whole

    def _matching(self, j: int, stop: int, opener: str, closer: str) -> int:
        close = matching(self.toks, j, stop, opener, closer)
        if close < 0:
            raise NotLowered(f"an unclosed '{opener}'")
        return close

    def command(self, i: int, stop: int) -> int:
        text = self.toks[i].text
        if text in FUNCTION_COMMANDS and i + 1 < stop and self.toks[i + 1].text == "{":
            # \tanh{(x)} y is tanh(x)·y in TeX; the library would read tanh(x·y).
            close = self._matching(i + 1, stop, "{", "}")
            self.braces_as_parentheses |= {i + 1, close}
        if text == r"\log":
            nxt = self.toks[i + 1] if i + 1 < stop else None
            self.out.append(r"\log" if nxt is not None and nxt.text == "_" else r"\ln")
            return i + 1
        if (text == r"\sum" or text == r"\prod") and not self.bounds_are_written(i, stop):
            return self.inferred_bounds(i, stop)
        if text == r"\frac" and self._leibniz(i, stop):
            return self.derivative_fraction(i, stop)
        if text == r"\frac" and self.out and self.out[-1].replace(".", "").isdigit():
            # The library reads 2\frac{1}{2} as the mixed number 5/2 whatever its
            # interpret_as_mixed_fractions says; in ML notes it is a product.
            self.out.append(r"\cdot")
        if text == r"\begin":
            return self.cases(i, stop)
        if text == r"\odot":  # compared in a commutative image: a product like any other
            self.out.append(r"\cdot")
            return i + 1
        if text in NATIVE or text in RELATIONS_AS_EQUALITY:
            self.out.append("=" if text in RELATIONS_AS_EQUALITY else text)
            return i + 1
        raise NotLowered(f"{text}")

    def _leibniz(self, i: int, stop: int) -> bool:
        """\frac{d…}{d…}: symml reads d as a differential; the library reads a product."""
        if i + 2 >= stop or self.toks[i + 1].text != "{":
            return False
        first = self.toks[i + 2]
        return first.text == "d" or first.text.startswith(r"\partial")

    def bounds_are_written(self, i: int, stop: int) -> bool:
        """Σ_{j=1}^{n} is lowered as it is written."""
        if i + 2 >= stop or self.toks[i + 1].text != "_" or self.toks[i + 2].text != "{":
            return False
        close = matching(self.toks, i + 2, stop, "{", "}")
        has_equals = close >= 0 and len(self._split(i + 3, close, "=")) > 1
        return has_equals and close + 1 < stop and self.toks[close + 1].text == "^"

    def inferred_bounds(self, i: int, stop: int) -> int:
        """Σ_j, whose bounds symml infers from the family: lowered with symml's bounds, so
        the library still reads the scope of the sum."""
        if i + 2 >= stop or self.toks[i + 1].text != "_":
            raise NotLowered("a sum without an index")
        if self.toks[i + 2].kind == "letter":
            index, after = self.toks[i + 2].text, i + 3
        elif (
            self.toks[i + 2].text == "{"
            and i + 4 < stop
            and self.toks[i + 3].kind == "letter"
            and self.toks[i + 4].text == "}"
        ):
            index, after = self.toks[i + 3].text, i + 5
        else:
            raise NotLowered("a sum over several indices")
        limits = {
            (limit[0], limit[1], limit[2])
            for total in self.reading.atoms(sp.Sum, sp.Product)
            for limit in total.limits
            if str(limit[0]) == index
        }
        if len(limits) != 1:
            raise NotLowered("a sum whose bounds symml inferred in more than one way")
        ((variable, low, high),) = limits
        self.out += [self.toks[i].text, "_{", self.placeholder(variable), "="]
        self.out += [self._bound(low), "}", "^{", self._bound(high), "}"]
        return after

    def _bound(self, value: Any) -> str:
        if isinstance(value, sp.Integer):
            return str(value)
        if isinstance(value, sp.Symbol):
            return self.placeholder(value)
        raise NotLowered(f"a sum bound {value}")

    def name(self, i: int, stop: int) -> int:
        """A name (or a call of one): the longest span symml reads as one symbol."""
        end = self._name_end(i, stop)
        head_end = end
        while True:
            obj = self._read(i, end)
            if _is_leaf(obj):
                break
            if end - i <= 1 or not self._shorter(i, end):
                obj = None
                break
            end = self._shorter(i, end)
        follows = self.toks[end].text if end < stop else ""
        if follows == "'":
            return self._primed_call(i, end, stop)
        if follows == "(":
            call = self._call(i, end, stop)
            if call is not None:
                return call
        if obj is None or not _is_leaf(obj):
            raise NotLowered(f"the name '{self.source(i, head_end)}'")
        if follows in ("'",):
            raise NotLowered("a prime")
        placeholder = self.placeholder(obj)
        after = self._transpose_end(end, stop)
        if after is not None and isinstance(obj, sp.MatrixExpr):
            self.out += [TRANSPOSE_CARRIER, "(", placeholder, ")"]
            return after
        self.out.append(placeholder)
        return end

    def placeholder(self, obj: Any) -> str:
        key = f"v{len(self.leaves):04d}"
        self.leaves[key] = obj
        return rf"\variable{{{key}}}"

    def read_leaf_or_none(self, source: str) -> Any:
        """What symml makes of ``source`` as a declared name, or None if it is not one."""
        try:
            obj = self.read_leaf(source)
        except (LatexParseError, KeyError):
            return None
        return obj if getattr(obj, "name", None) == source and self.declared(source) else None

    def _read(self, i: int, j: int) -> Any:
        try:
            return self.read_leaf(self.source(i, j))
        except LatexParseError:
            return None

    def _shorter(self, i: int, end: int) -> int | None:
        """The span without its last part: a trailing subscript group or letter."""
        if end - 1 <= i:
            return None
        return end - 1 if self.toks[end - 1].kind == "letter" else self._before_script(i, end)

    def _before_script(self, i: int, end: int) -> int | None:
        for k in range(end - 1, i, -1):
            if self.toks[k].text in ("_", "^"):
                return k
        return None

    def _name_end(self, i: int, stop: int) -> int:
        """Past a base (letters run, Greek, decorated or wrapped name) and its scripts."""
        j = i
        tok = self.toks[j]
        if tok.kind == "letter":
            j += 1
            while (
                j < stop
                and self.toks[j].kind == "letter"
                and self.toks[j].pos == (self.toks[j - 1].end)
            ):
                j += 1
        elif _takes_group(tok.text):
            j = self._group_end(j + 1, stop)
        else:
            j += 1
        while j < stop and self.toks[j].text in ("_", "^"):
            if self.toks[j].text == "^":
                group_end = self._group_end(j + 1, stop)
                label = self.source(j + 1, group_end)
                if not (label.startswith("{(") or label in ("*", r"{*}", r"\star", r"{\star}")):
                    break
                j = group_end
            else:
                j = self._group_end(j + 1, stop)
        return j

    def _group_end(self, j: int, stop: int) -> int:
        if j >= stop:
            raise NotLowered("a script or argument is missing")
        if self.toks[j].text != "{":
            if _takes_group(self.toks[j].text):
                return self._group_end(j + 1, stop)
            return j + 1
        close = matching(self.toks, j, stop, "{", "}")
        if close < 0:
            raise NotLowered("an unclosed group")
        return close + 1

    def _call(self, i: int, end: int, stop: int) -> int | None:
        """``head(args)`` that symml reads as one call: the carrier, or a native function."""
        close = self._matching(end, stop, "(", ")")
        value = self._read(i, close + 1)
        if not isinstance(value, sp.Basic) or isinstance(value, sp.Mul | sp.MatMul):
            return None  # a product name·(…): lowered as such
        if value.is_number:
            raise NotLowered(f"the call '{self.source(i, close + 1)}' has a known value")
        commas = self._top_level_commas(end + 1, close)
        head = self.source(i, end)
        word = head.split("{")[-1].rstrip("}") if "{" in head else head.lstrip("\\")
        native = NATIVE_WORDS.get(word.lower())
        if native is not None:
            self.out.append(native)
        elif commas:
            raise NotLowered(f"a call of several arguments '{head}(…)'")
        else:
            self.out.append(CARRIER)
        self.out.append("(")
        self.walk(end + 1, close)
        self.out.append(")")
        return close + 1

    def _top_level_commas(self, j: int, close: int) -> int:
        return len(self._split(j, close, ",")) - 1


def _names_something(command: str) -> bool:
    word = command.lstrip("\\")
    if word == "pi":
        return False
    return (
        word in LETTER_NAMES
        or command in ACCENT_WORDS
        or command in BOLD_FACES
        or command in WORD_WRAPPERS
    )


def _takes_group(command: str) -> bool:
    return command in ACCENT_WORDS or command in BOLD_FACES or command in WORD_WRAPPERS


def _is_leaf(obj: Any) -> bool:
    return isinstance(obj, sp.Symbol | sp.Indexed | sp.MatrixSymbol | sp.NumberSymbol)


# -- lifting and comparing ---------------------------------------------------------------------
