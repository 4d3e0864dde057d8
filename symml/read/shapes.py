"""Shapes the notes declare themselves: ``\\mathbf{x} \\in \\mathbb{R}^n``,
``\\mathbf{W} \\in \\mathbb{R}^{m \\times n}``, ``\\mathbf{x}, \\mathbf{y} \\in \\mathbb{R}^d``.

``shape_declarations(latex)`` finds each such membership in one formula and returns it as
symml's declaration lines (``vector x n``, ``matrix W m n``, ``scalar a``), which
``SymbolTable.parse`` reads; a caller collects them over a whole file. A membership whose
names or sizes are not plain (``f(x) \\in \\mathbb{R}``, ``\\mathbb{R}^{n+1}``) is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from symml.read.latex import read_name
from symml.read.lexer import Token, matching, tokenize

_WORDS = re.compile(r"\\(?:text|mathrm|textrm|mbox)\s*\{[^{}]*\}|\\q?quad\b")
#: The sets read: real numbers (others, ℕ, ℤ, ℂ, carry no shape symml uses).
REALS = frozenset(["R"])


@dataclass(frozen=True)
class ShapeDeclaration:
    """Names declared to lie in ℝ, ℝⁿ or ℝ^{m×n}; ``sizes`` is (), (n,), or (m, n)."""

    names: tuple[str, ...]
    sizes: tuple[str, ...]

    def lines(self) -> tuple[str, ...]:
        """The declarations, one per name, in ``SymbolTable.parse``'s format."""
        if not self.sizes:
            return tuple(f"scalar {n}" for n in self.names)
        if len(self.sizes) == 1 or self.sizes[1] == "1":
            return tuple(f"vector {n} {self.sizes[0]}" for n in self.names)
        if self.sizes[0] == "1":
            return tuple(f"rowvector {n} {self.sizes[1]}" for n in self.names)
        return tuple(f"matrix {n} {self.sizes[0]} {self.sizes[1]}" for n in self.names)


def shape_declarations(latex: str) -> tuple[ShapeDeclaration, ...]:
    """Every ``names \\in \\mathbb{R}^{…}`` of one formula (see the module docstring)."""
    try:
        tokens = tokenize(latex)
    except Exception:  # too long or an unknown character: nothing is declared
        return ()
    found = []
    for k, tok in enumerate(tokens):
        if tok.text != r"\in":
            continue
        declaration = _membership(latex, tokens, k)
        if declaration is not None:
            found.append(declaration)
    return tuple(found)


def _membership(latex: str, tokens: tuple[Token, ...], k: int) -> ShapeDeclaration | None:
    texts = [t.text for t in tokens]
    if texts[k + 1 : k + 5] != [r"\mathbb", "{", "R", "}"]:
        return None
    names = _names_before(latex, tokens, k)
    if not names:
        return None
    j = k + 5
    if texts[j] != "^":
        return ShapeDeclaration(names, ())
    if texts[j + 1] == "{":
        close = matching(tokens, j + 1, len(tokens), "{", "}")
        if close < 0:
            return None
        inner = latex[tokens[j + 2].pos : tokens[close].pos] if close > j + 2 else ""
    else:
        inner = tokens[j + 1].text
    parts = [p.strip() for p in re.split(r"\\times|×|,", inner)]
    sizes = tuple(_size(p) for p in parts)
    if not 1 <= len(sizes) <= 2 or any(s is None for s in sizes):
        return None
    return ShapeDeclaration(names, tuple(s for s in sizes if s is not None))


def _names_before(latex: str, tokens: tuple[Token, ...], k: int) -> tuple[str, ...]:
    """The comma-separated names just before ``\\in`` (back to the start, a relation, a
    bracket or a word of text)."""
    start = k
    depth = 0
    while start > 0:
        text = tokens[start - 1].text
        if text == "}":
            depth += 1
        elif text == "{":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and (text in ("=", "(", "[", ":", ";", r"\quad") or text == "&"):
            break
        start -= 1
    source = latex[tokens[start].pos : tokens[k].pos] if start < k else ""
    source = _WORDS.split(source)[-1]  # \text{where } x \in …: the names after the words
    names: list[str] = []
    for piece in reversed(_top_level_commas(source)):  # x \in ℝ^n, W \in …: back to a non-name
        name = read_name(piece.strip())
        if name is None:
            break
        names.insert(0, name)
    return tuple(names)


def _top_level_commas(text: str) -> list[str]:
    parts, depth, begin = [], 0, 0
    for i, c in enumerate(text):
        depth += c == "{"
        depth -= c == "}"
        if c == "," and depth == 0:
            parts.append(text[begin:i])
            begin = i + 1
    parts.append(text[begin:])
    return parts


def _size(text: str) -> str | None:
    """A size as a declaration word: a positive integer or a plain name (``d``, ``d_k``)."""
    if re.fullmatch(r"[1-9]\d*", text):
        return text
    name = read_name(text)
    if name is None or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        return None
    return name
