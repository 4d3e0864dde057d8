"""The plain Unicode math of formula sheets (``σ'(z) = σ(z)(1 - σ(z))``), read via LaTeX.

``unicode_to_latex`` rewrites the text as LaTeX; ``read_unicode`` parses that with the
LaTeX reader, so every rule (and every refusal) of ``symml.read.latex`` applies. Error
positions refer to the LaTeX text, which the error message quotes.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from symml.notation import (
    COMBINING_ACCENTS,
    GREEK_LETTERS,
    MATH_SYMBOLS,
    SUBSCRIPTS,
    SUPERSCRIPTS,
    script_tex,
)
from symml.read.errors import LatexParseError
from symml.read.latex import KNOWN_FUNCTIONS, Reading, read_latex
from symml.read.table import SymbolTable

# Where a sheet's Unicode reads otherwise than it prints: √ applies to what follows, an ASCII
# ~ between names is "distributed as", and a lone Σ is a sum.
READING_SYMBOLS = {**MATH_SYMBOLS, "√": r"\sqrt", "~": r"\sim", "Σ": r"\sum"}
WORDS = {*KNOWN_FUNCTIONS, "softmax"}
NAME = (
    r"(?:\\(?:hat|bar|tilde)\{[A-Za-z]\}|\\[A-Za-z]+ ?|[A-Za-z])"
    r"(?:_\{(?:[^{}]|\{[^{}]*\})*\}|_[A-Za-z0-9])?"
)


def _script(value: str) -> str:
    """A script character's LaTeX, a command kept apart from the letter after it (ᵦᵢ)."""
    tex = script_tex(value)
    return f"{tex} " if tex.startswith("\\") else tex


def unicode_to_latex(text: str, declared: frozenset[str] = frozenset()) -> str:
    """``σ'(z) = σ(z)(1 - σ(z))`` → ``\\sigma '(z) = \\sigma (z)(1 - \\sigma (z))``.

    Sheets written in plain text spell names out: a word of three or more letters (``Prec``,
    ``Acc``) is one name, not a product of letters; two capitals (``TP``, ``QK``) may be
    either, so they must be declared or written with a product sign; ``E[…]`` is an
    expectation. Known function words become ``\\operatorname``.
    """
    text = _cases(text.strip())
    divergence = re.search(r"\|\|", text)
    if divergence is not None and re.search(r"\w\)?\s*\|\|\s*\w", text):
        raise LatexParseError(
            text,
            divergence.start(),
            text[max(0, divergence.start() - 2) : divergence.end() + 2],
            "P||Q, a divergence between distributions, is not read",
            "write it out over x, e.g. Σ_x P(x)·log(P(x)/Q(x)), with 'function P'",
        )
    text = re.sub(r"(?<![A-Za-z\\])E\[", r"\\mathbb{E}[", text)
    # η_max, t_warmup, n_in: a subscript spelled as a word is all of the word (the name
    # eta_max), never its first letter times the rest
    text = re.sub(r"(?<=[^\s\d_(){}\[\],;:=+\-*/^|])_([A-Za-z][A-Za-z0-9]*)", r"_{\1}", text)
    text = re.sub(r"\^⌊([^⌊⌋]*)⌋", r"^{⌊\1⌋}", text)  # γ^⌊t/k⌋: the floor is the exponent
    for match in re.finditer(r"(?<![\\A-Za-z])(?<!_\{)([A-Z]{2})(?![A-Za-z_])", text):
        word = match.group(1)
        if word not in declared:
            raise LatexParseError(
                text,
                match.start(),
                word,
                f"'{word}' may be one name or the product {word[0]}·{word[1]}",
                f"declare it ('scalar {word}') or write {word[0]}·{word[1]}",
            )

    def word(m: re.Match[str]) -> str:
        name = m.group(1)
        subscripted = m.string.startswith("_", m.end())  # SS_res: a name with a subscript
        if name.lower() in WORDS and not subscripted:
            return rf"\operatorname{{{name}}}"
        if len(name) >= 3 or name in declared or subscripted:
            return rf"\mathrm{{{name}}}"
        return name

    def names(part: str) -> str:
        part = re.sub(r"(?<![\\A-Za-z])([A-Za-z]+[0-9]+)(?![A-Za-z0-9])", r"\\mathrm{\1}", part)
        return re.sub(r"(?<![\\A-Za-z])([A-Za-z]{2,})(?![A-Za-z0-9])", word, part)

    # The LaTeX that _cases wrote (\begin{cases}, \text{otherwise}) is left as it is.
    pieces = re.split(r"(\\(?:begin|end|text)\{[^{}]*\})", text)
    text = "".join(p if k % 2 else names(p) for k, p in enumerate(pieces))
    text = unicodedata.normalize("NFD", text)
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c in COMBINING_ACCENTS and out:
            prev = out.pop()
            out.append(f"{COMBINING_ACCENTS[c]}{{{prev.strip()}}}")
        elif c in SUBSCRIPTS or c in SUPERSCRIPTS:
            table, mark = (SUBSCRIPTS, "_") if c in SUBSCRIPTS else (SUPERSCRIPTS, "^")
            j = i
            while j < len(text) and text[j] in table:
                j += 1
            out.append(mark + "{" + "".join(_script(table[ch]) for ch in text[i:j]) + "}")
            i = j
            continue
        elif c in READING_SYMBOLS:
            # before the Greek letters: a lone Σ is a sum. A command that ends in a letter is
            # kept apart from a name after it (\cdot x); √ stays next to what it applies to
            command = READING_SYMBOLS[c]
            out.append(command + " " if command[-1].isalpha() and c != "√" else command)
        elif c in GREEK_LETTERS:
            out.append(f"{GREEK_LETTERS[c]} ")
        else:
            out.append(c)
        i += 1
    latex = "".join(out)
    latex = _braced_after(latex, "^(", "^{", "}")
    latex = _braced_after(latex, r"\sqrt(", r"\sqrt{", "}", keep_parens=False)
    latex = re.sub(r"\\sqrt\s*(" + NAME + ")", r"\\sqrt{\1}", latex)
    latex = re.sub(
        r"\\partial\s*(" + NAME + r")\s*/\s*\\partial\s*(" + NAME + ")",
        r"\\frac{\\partial \1}{\\partial \2}",
        latex,
    )
    latex = re.sub(r"(?<![A-Za-z\\])d/d(" + NAME + ")", r"\\frac{d}{d\1}", latex)
    return latex


def _braced_after(text: str, opener: str, start: str, stop: str, keep_parens: bool = True) -> str:
    """``e^(-z)`` → ``e^{(-z)}``: a parenthesised script becomes a braced group."""
    while opener in text:
        at = text.index(opener)
        open_paren = at + len(opener) - 1
        depth, j = 0, open_paren
        while j < len(text):
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            if depth == 0:
                break
            j += 1
        if j >= len(text):
            return text  # unbalanced: the LaTeX reader reports it
        inner = text[open_paren : j + 1] if keep_parens else text[open_paren + 1 : j]
        text = text[:at] + start + inner + stop + text[j + 1 :]
    return text


def _cases(text: str) -> str:
    """``1 if z > 0, else 0`` (a sheet's way to write cases) → ``\\begin{cases}…``."""
    match = re.fullmatch(r"(.*?=)?\s*(.+?)\s+if\s+(.+?),?\s+(?:else|otherwise)\s*,?\s*(.+)", text)
    if not match:
        return text
    head, value, condition, other = match.groups()
    return (
        f"{head or ''} \\begin{{cases}} {value} & {condition} \\\\ "
        f"{other} & \\text{{otherwise}} \\end{{cases}}"
    )


def read_unicode(text: str, *, symbols: Any = None) -> Reading:
    """Read a sheet's Unicode formula; see ``read_latex`` for the result."""
    declared = frozenset(SymbolTable.of(symbols).objects)
    return read_latex(unicode_to_latex(text, declared), symbols=symbols)


def parse_unicode(text: str, *, symbols: Any = None) -> Any:
    """The SymPy meaning of a sheet's Unicode formula."""
    return read_unicode(text, symbols=symbols).expr
