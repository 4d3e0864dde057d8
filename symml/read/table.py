"""The symbol table the readers consult: which names are functions, matrices, families.

A table is immutable; ``with_`` returns an extended copy. It can be built from keyword
arguments, from catalog ``SymbolSpec`` objects, or from the tiny declaration format that
documents use (one declaration a line, or several separated by ``;``)::

    matrix W m n        # W is an m×n matrix (sizes are names or numbers)
    vector x n          # a column vector (n×1)
    indexed y n         # a family y_1 … y_n
    function f          # an unspecified function f(·)
    scalar alpha positive   # real (default), positive, nonnegative, integer
    index i             # a summation / element index
    size n              # a positive integer
    depends yhat z      # ŷ depends on z, so ∂ŷ/∂z is not 0
    sigma generic       # σ is any activation (default: the sigmoid)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sympy as sp

from symml.errors import DeclarationError

SCALAR_DOMAINS: dict[str, dict[str, bool]] = {
    "real": {"real": True},
    "positive": {"real": True, "positive": True},
    "nonnegative": {"real": True, "nonnegative": True},
    "integer": {"real": True, "integer": True},
}
INDEX_ASSUMPTIONS = {"real": True, "integer": True, "nonnegative": True}
SIZE_ASSUMPTIONS = {"real": True, "integer": True, "positive": True}


@dataclass(frozen=True)
class SymbolTable:
    """What the reader knows about names. Every value is a ready SymPy object."""

    objects: Mapping[str, Any] = field(default_factory=dict)  # name -> symbol-like object
    depends: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sigma: str = "sigmoid"  # or "generic": what an undeclared σ(·) means
    default_size: str | None = None  # bound of an unbounded Σ when nothing declares one
    declared: frozenset[str] = frozenset()
    #: Whether an undeclared bold name is a vector/matrix (True) or the plain name: an
    #: optimizer's update is elementwise, and its θ, g, v read as scalars match the catalog's.
    bold_shapes: bool = True
    #: The bound a file writes for an index letter (``\\sum_{i=1}^{N}`` somewhere): an
    #: unbounded ``\\sum_i`` of the same file runs to it.
    index_sizes: Mapping[str, str] = field(default_factory=dict)
    #: Whether ``\\mathbb{E}[…]`` of plain names is read as a note's expectation
    #: (``NoteExpectation``, linear; symml check) rather than refused.
    expectations: bool = False

    def get(self, name: str) -> Any:
        return self.objects.get(name)

    def with_(self, **objects: Any) -> SymbolTable:
        merged = {**self.objects, **objects}
        return replace(self, objects=merged, declared=self.declared | set(objects))

    def merged(self, other: SymbolTable) -> SymbolTable:
        return replace(
            self,
            objects={**self.objects, **other.objects},
            depends={**self.depends, **other.depends},
            sigma=other.sigma if other.sigma != "sigmoid" else self.sigma,
            default_size=other.default_size or self.default_size,
            declared=self.declared | other.declared,
            bold_shapes=self.bold_shapes and other.bold_shapes,
            index_sizes={**self.index_sizes, **other.index_sizes},
            expectations=self.expectations or other.expectations,
        )

    @classmethod
    def of(cls, symbols: SymbolTable | Mapping[str, Any] | Iterable[Any] | None) -> SymbolTable:
        """Accept a table, a ``{name: object}`` mapping, or catalog ``SymbolSpec`` objects."""
        if symbols is None:
            return cls()
        if isinstance(symbols, SymbolTable):
            return symbols
        if isinstance(symbols, Mapping):
            return cls().with_(**{str(k): _object(k, v) for k, v in symbols.items()})
        specs = list(symbols)
        return cls().with_(**{spec.name: spec.symbol for spec in specs})

    @classmethod
    def parse(cls, text: str, *, source: str = "declarations") -> SymbolTable:
        """Read the declaration format (see the module docstring)."""
        table = cls()
        for number, raw in enumerate(text.splitlines(), 1):
            # ';' separates declarations on one line, as in `--declare 'matrix W m n; vector x n'`.
            for part in raw.split("#", 1)[0].split(";"):
                if part.strip():
                    table = _declare(table, part.split(), f"{source}:{number}")
        return table


def _object(name: Any, value: Any) -> Any:
    if isinstance(value, str):
        return SymbolTable.parse(f"{value} {name}").objects[str(name)]
    return value


def _size(word: str) -> Any:
    if re.fullmatch(r"\d+", word):
        return sp.Integer(int(word))
    return sp.Symbol(word, **SIZE_ASSUMPTIONS)


def _declare(table: SymbolTable, words: list[str], where: str) -> SymbolTable:
    kind, args = words[0].lower(), words[1:]
    if kind == "sigma" and args in (["generic"], ["sigmoid"]):
        return replace(table, sigma=args[0])
    if kind == "depends" and len(args) >= 2:
        return replace(
            table,
            depends={**table.depends, args[0]: tuple(args[1:])},
            declared=table.declared | {args[0]},
        )
    if kind == "sumsize" and len(args) == 1:
        return replace(table, default_size=args[0])
    if not args:
        raise DeclarationError(where, f"'{kind}' needs a name")
    name = args[0]
    rest = args[1:]
    try:
        if kind == "matrix" and len(rest) == 2:
            obj: Any = sp.MatrixSymbol(name, _size(rest[0]), _size(rest[1]))
        elif kind == "vector" and len(rest) == 1:
            obj = sp.MatrixSymbol(name, _size(rest[0]), 1)
        elif kind == "rowvector" and len(rest) == 1:
            obj = sp.MatrixSymbol(name, 1, _size(rest[0]))
        elif kind == "indexed" and rest:
            obj = sp.IndexedBase(name, shape=tuple(_size(r) for r in rest), real=True)
        elif kind == "function" and not rest:
            obj = sp.Function(name, real=True)
        elif kind == "scalar" and len(rest) <= 1:
            domain = rest[0] if rest else "real"
            if domain not in SCALAR_DOMAINS:
                raise DeclarationError(
                    where, f"unknown domain '{domain}'; use one of {', '.join(SCALAR_DOMAINS)}"
                )
            obj = sp.Symbol(name, **SCALAR_DOMAINS[domain])
        elif kind == "index" and not rest:
            obj = sp.Symbol(name, **INDEX_ASSUMPTIONS)
        elif kind == "size" and not rest:
            obj = sp.Symbol(name, **SIZE_ASSUMPTIONS)
        else:
            raise DeclarationError(
                where,
                f"cannot read declaration '{' '.join(words)}'; e.g. 'matrix W m n', "
                "'vector x n', 'indexed y n', 'function f', 'scalar a positive', 'index i', "
                "'size n', 'depends yhat z', 'sigma generic'",
            )
    except DeclarationError:
        raise
    except (TypeError, ValueError) as exc:
        raise DeclarationError(where, str(exc)) from None
    return table.with_(**{name: obj})
