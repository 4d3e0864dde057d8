"""Shapes the notes state in words of mathematics: ``\\mathbf{x} \\in \\mathbb{R}^n``.

``x ∈ ℝⁿ`` makes x a vector of size n and ``W ∈ ℝ^{m×n}`` an m×n matrix, for the whole file,
wherever it is said (prose or display), in LaTeX (``\\mathbb{R}``; the plain ``ℝ`` of a
notation list is not read). A name stated with two different shapes is left
undeclared; names symml's own declarations give are not touched (they win).
"""

from __future__ import annotations

import re

from symml.errors import DeclarationError
from symml.read.table import SymbolTable

NAME = r"(?:\\mathbf\{[A-Za-z]\}|\\boldsymbol\{\\?[A-Za-z]+\}|\\bm\{\\?[A-Za-z]+\}|[A-Za-z])"
MEMBERSHIP = re.compile(
    rf"(?<![\\A-Za-z])(?P<names>{NAME}(?:\s*,\s*{NAME})*)\s*\\in\s*"
    r"(?:\\mathbb\{R\}|\\R(?![A-Za-z]))\^(?P<dims>\{[^{}]*\}|[A-Za-z0-9])"
)
SIZE = re.compile(r"[A-Za-z][A-Za-z0-9]*|[1-9][0-9]*")
TIMES = re.compile(r"\s*(?:\\times|×|\\cdot)\s*")


def _name(written: str) -> str:
    match = re.fullmatch(r"\\(?:mathbf|boldsymbol|bm)\{\\?([A-Za-z]+)\}", written.strip())
    return match[1] if match else written.strip()


def _declaration(name: str, dims: str) -> str | None:
    sizes = [s.strip() for s in TIMES.split(dims.strip("{} "))]
    if not all(SIZE.fullmatch(s) for s in sizes):
        return None
    if len(sizes) == 1 or (len(sizes) == 2 and sizes[1] == "1"):
        return f"vector {name} {sizes[0]}"
    if len(sizes) == 2:
        return f"matrix {name} {sizes[0]} {sizes[1]}"
    return None


def stated(text: str, declared: set[str]) -> tuple[SymbolTable, SymbolTable]:
    """The shapes ``text`` states (names in ``declared`` left out): those stated of a plain
    name (``x \\in \\mathbb{R}^n``: x is the vector wherever it is written), and those stated
    of a bold name (``\\mathbf{x} \\in …``: only where x is written bold, since notes use a
    plain x for a scalar beside a bold x for a vector)."""
    found: dict[tuple[str, bool], set[str]] = {}
    for match in MEMBERSHIP.finditer(text):
        for written in re.split(r"\s*,\s*", match["names"]):
            name = _name(written)
            declaration = _declaration(name, match["dims"])
            if declaration is not None and name not in declared:
                found.setdefault((name, written.strip() != name), set()).add(declaration)
    names = [n for n, _ in found]
    tables = []
    for bold in (False, True):
        lines = [
            next(iter(shapes))
            for (name, is_bold), shapes in found.items()
            if is_bold == bold and len(shapes) == 1 and names.count(name) == 1
        ]
        try:
            tables.append(SymbolTable.parse("\n".join(lines), source="the notes' shapes"))
        except DeclarationError:
            tables.append(SymbolTable())
    return tables[0], tables[1]


def bold_names(text: str) -> set[str]:
    """The names a formula writes bold."""
    return {_name(m[0]) for m in re.finditer(r"\\(?:mathbf|boldsymbol|bm)\{\\?[A-Za-z]+\}", text)}


def is_statement(text: str) -> bool:
    """A formula that only states shapes (``\\mathbf{x} \\in \\mathbb{R}^n``)."""
    rest = MEMBERSHIP.sub("", text)
    return rest != text and not re.search(r"[=<>]|\\(?:le|ge|leq|geq|neq)(?![A-Za-z])", rest)
