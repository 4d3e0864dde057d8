"""Tokens of ML LaTeX, with the column each starts at (error messages point there).

The lexer also drops what never changes the meaning: spacing, ``\\left``/``\\right`` and
``\\big`` sizing, ``\\displaystyle``, dollar signs; and folds synonyms (``\\le``→``\\leq``).
"""

from __future__ import annotations

from dataclasses import dataclass

from symml.read.errors import LatexParseError

MAX_LENGTH = 4000  # a bound on work: formulas are short; a book chapter is not a formula

DROPPED = frozenset(
    r"\left \right \big \Big \bigg \Bigg \bigl \bigr \Bigl \Bigr \biggl \biggr \Biggl \Biggr "
    r"\displaystyle \textstyle \limits \nolimits \, \; \: \! \quad \qquad \  \middle".split()
    + ["\\ "]
)
SYNONYMS = {
    r"\le": r"\leq",
    r"\ge": r"\geq",
    r"\leqslant": r"\leq",
    r"\geqslant": r"\geq",
    r"\neq": r"\ne",
    r"\gets": r"\leftarrow",
    r"\coloneqq": ":=",
    r"\dfrac": r"\frac",
    r"\tfrac": r"\frac",
    r"\lvert": "|",
    r"\rvert": "|",
    r"\vert": "|",
    r"\lVert": r"\|",
    r"\rVert": r"\|",
    r"\Vert": r"\|",
    r"\intercal": r"\top",
    r"\ast": "*",
    r"\lbrace": r"\{",
    r"\rbrace": r"\}",
    r"\lbrack": "[",
    r"\rbrack": "]",
    r"\varepsilon": r"\epsilon",
    r"\vartheta": r"\theta",
    r"\varphi": r"\phi",
    r"\operatorname*": r"\operatorname",
    r"\widehat": r"\hat",
    r"\widetilde": r"\tilde",
    r"\overline": r"\bar",
    r"\dots": r"\ldots",
    r"\cdots": r"\ldots",
}


@dataclass(frozen=True)
class Token:
    kind: str  # "cmd", "letter", "num", "sym", "end"
    text: str
    pos: int
    end: int  # column just past the token (adjacency tells "lr" from "l r")


def tokenize(text: str) -> tuple[Token, ...]:
    if len(text) > MAX_LENGTH:
        raise LatexParseError(
            text[:40] + "…", 0, text[:20], f"longer than {MAX_LENGTH} characters", "split it"
        )
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace() or c in "$~":
            i += 1
            continue
        if c == "\\":
            j = i + 1
            if j < n and text[j].isalpha():
                while j < n and text[j].isalpha():
                    j += 1
                if j < n and text[j] == "*":
                    j += 1
            else:
                j = min(j + 1, n)
            word = text[i:j]
            if word in DROPPED:
                if word in (
                    r"\left",
                    r"\right",
                    r"\middle",
                    r"\bigl",
                    r"\bigr",
                    r"\Bigl",
                    r"\Bigr",
                ):
                    k = j
                    while k < n and text[k].isspace():
                        k += 1
                    if k < n and text[k] == ".":
                        j = k + 1
                        if word == r"\left":  # opens an evaluation bar: \left. f \right|_{x=a}
                            out.append(Token("cmd", r"\left.", i, j))
                i = j
                continue
            word = SYNONYMS.get(word, word)
            kind = "sym" if word in ("|", "*", "[", "]") or word == ":=" else "cmd"
            out.append(Token(kind, word, i, j))
            i = j
            continue
        if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            j = i
            while j < n and text[j].isdigit():
                j += 1
            if j + 1 < n and text[j] == "." and text[j + 1].isdigit():
                j += 1
                while j < n and text[j].isdigit():
                    j += 1
            j = _scientific_end(text, j)
            if _frac_argument(out) and j > i + 1:
                j = i + 1  # \frac12 is 1/2: TeX takes one digit as an argument
            out.append(Token("num", text[i:j], i, j))
            i = j
            continue
        if c.isascii() and c.isalpha():
            out.append(Token("letter", c, i, i + 1))
            i += 1
            continue
        if c == ":" and i + 1 < n and text[i + 1] == "=":
            out.append(Token("sym", ":=", i, i + 2))
            i += 2
            continue
        if c in "+-*/^_{}()[]|,=<>'!&.;:":
            out.append(Token("sym", c, i, i + 1))
            i += 1
            continue
        raise LatexParseError(
            text, i, c, "a character the LaTeX reader does not know", "write it as a LaTeX command"
        )
    out.append(Token("end", "", n, n))
    return _without_mathop(tuple(out))


def _without_mathop(tokens: tuple[Token, ...]) -> tuple[Token, ...]:
    """``\\mathop{\\textrm{sgn}}`` is the name inside it: the wrapper and its braces go."""
    if not any(t.text == r"\mathop" for t in tokens):
        return tokens
    dropped: set[int] = set()
    for k, tok in enumerate(tokens):
        if tok.text == r"\mathop" and tokens[k + 1].text == "{":
            close = matching(tokens, k + 1, len(tokens), "{", "}")
            if close > 0:
                dropped |= {k, k + 1, close}
    return tuple(t for k, t in enumerate(tokens) if k not in dropped)


def _scientific_end(text: str, j: int) -> int:
    """Past the exponent of ``1e-3`` / ``2.5e3`` written right after a number, else ``j``."""
    n = len(text)
    if j < n and text[j] == "e":
        k = j + 1
        if k < n and text[k] in "+-":
            k += 1
        if k < n and text[k].isdigit():
            while k < n and text[k].isdigit():
                k += 1
            if k >= n or not (text[k].isalpha() or text[k] == "."):
                return k
            raise LatexParseError(
                text,
                j - 1,
                text[j - 1 : k + 1],
                "scientific notation followed by a letter, or a product with e?",
                f"write ({text[j - 1 : k]}) {text[k]} for the number, or e^{{…}} for Euler's e",
            )
    return j


def _frac_argument(out: list[Token]) -> bool:
    """Whether a number here is an unbraced argument of ``\\frac`` (``\\frac12``)."""
    if out and out[-1].text == r"\frac":
        return True
    return len(out) > 1 and out[-2].text == r"\frac" and out[-1].kind in ("num", "letter")


def matching(tokens: tuple[Token, ...], start: int, stop: int, opener: str, closer: str) -> int:
    """The index of the ``closer`` that closes the ``opener`` at ``start`` (searching before
    ``stop``), or -1 when it is never closed."""
    depth = 0
    for j in range(start, stop):
        text = tokens[j].text
        if text == opener and tokens[j].kind in ("sym", "cmd"):
            depth += 1
        elif text == closer and tokens[j].kind in ("sym", "cmd"):
            depth -= 1
            if depth == 0:
                return j
    return -1
