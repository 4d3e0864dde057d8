"""The declaration API catalog files use.

A catalog file builds one ``Part``: the part's own symbol table (nothing is shared with
other parts) and its formulas. It only declares; validation happens when the catalog is
loaded (``symml.catalog.loader``).

    P = Part(1, "Neural network fundamentals")
    z = P.scalar("z", real, meaning="pre-activation")
    P.formula("activations.sigmoid", "Sigmoid", sheet="σ(z) = 1 / (1 + e^(-z))",
              expr=1 / (1 + sp.exp(-z)), claims=[...])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import sympy as sp

from symml.catalog.domains import count, natural, real
from symml.catalog.model import Claim, Convention, Domain, Formula, Shape, SymbolSpec
from symml.catalog.symbols import matches, referenced
from symml.errors import DeclarationError

if TYPE_CHECKING:
    from sympy.stats.rv import RandomSymbol

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$"


class Part:
    """One sheet part: its symbol table and its formulas, in sheet order."""

    def __init__(self, number: int, title: str) -> None:
        self.number = number
        self.title = title
        self.specs: list[SymbolSpec] = []
        self.formulas: list[Formula] = []
        self._section = ""
        self._table: dict[str, SymbolSpec] = {}

    def section(self, prefix: str) -> None:
        """Start a section: a fresh symbol table, and the id prefix of its formulas.

        A letter may mean different things in different sections of one part (z is a
        vector in the linear layer and a scalar in the activations); it cannot within one.
        """
        self._section = prefix
        self._table = {}

    # -- symbols -------------------------------------------------------------------------
    def _add(self, spec: SymbolSpec) -> Any:
        if not re.match(NAME_PATTERN, spec.name):
            raise DeclarationError(
                spec.name, "names are letters and digits with '_' before subscripts (eta_max)"
            )
        if not self._section:
            raise DeclarationError(spec.name, "declared before any Part.section(...)")
        if spec.name in self._table:
            raise DeclarationError(
                spec.name, f"declared twice in section '{self._section}' of part {self.number}"
            )
        self._table[spec.name] = spec
        self.specs.append(spec)
        return spec.symbol

    def scalar(
        self,
        name: str,
        domain: Domain = real,
        *,
        meaning: str = "",
        sheet: str = "",
        typical: Any = None,
    ) -> sp.Symbol:
        symbol = sp.Symbol(name, **domain.assumptions())
        typical = sp.nsimplify(typical) if typical is not None else None
        return self._add(
            SymbolSpec(name, symbol, "scalar", domain, Shape(), meaning, sheet, typical)
        )

    def size(self, name: str, *, meaning: str = "", sheet: str = "") -> sp.Symbol:
        """A dimension: a positive integer."""
        symbol = sp.Symbol(name, **natural.assumptions())
        return self._add(SymbolSpec(name, symbol, "size", natural, Shape(), meaning, sheet))

    def index(self, name: str, *, meaning: str = "") -> sp.Symbol:
        """A summation or element index (integer, counted from 1)."""
        symbol = sp.Symbol(name, **count.assumptions())
        return self._add(SymbolSpec(name, symbol, "index", count, Shape(), meaning))

    def vector(
        self,
        name: str,
        length: Any,
        domain: Domain = real,
        *,
        row: bool = False,
        meaning: str = "",
        sheet: str = "",
    ) -> sp.MatrixSymbol:
        dims = (1, length) if row else (length, 1)
        return self.matrix(name, *dims, domain, meaning=meaning, sheet=sheet)

    def matrix(
        self,
        name: str,
        rows: Any,
        cols: Any,
        domain: Domain = real,
        *,
        meaning: str = "",
        sheet: str = "",
        stands_for: tuple[Any, Any] | None = None,
    ) -> sp.MatrixSymbol:
        symbol = sp.MatrixSymbol(name, rows, cols)
        shape = Shape((sp.sympify(rows), sp.sympify(cols)))
        return self._add(
            SymbolSpec(name, symbol, "matrix", domain, shape, meaning, sheet, stands_for=stands_for)
        )

    def gradient(self, name: str, of: Any, wrt: sp.MatrixSymbol, *, meaning: str = "") -> Any:
        """The upstream gradient ∂of/∂wrt as a symbol of wrt's shape (denominator layout)."""
        text = meaning or f"∂{of}/∂{wrt}, same shape as {wrt}"
        if isinstance(wrt, sp.MatrixSymbol):
            return self.matrix(name, *wrt.shape, meaning=text, stands_for=(of, wrt))
        symbol = sp.Symbol(name, real=True)
        return self._add(
            SymbolSpec(name, symbol, "scalar", real, Shape(), text, stands_for=(of, wrt))
        )

    def indexed(
        self,
        name: str,
        *sizes: Any,
        domain: Domain = real,
        meaning: str = "",
        sheet: str = "",
    ) -> sp.IndexedBase:
        """A family of scalars y[i] (or y[i, j]) over index ranges of the given sizes."""
        symbol = sp.IndexedBase(name, shape=tuple(sizes), real=True)
        shape = Shape(tuple(sp.sympify(s) for s in sizes), indexed=True)
        return self._add(SymbolSpec(name, symbol, "indexed", domain, shape, meaning, sheet))

    def function(
        self, name: str, *, meaning: str = "", sheet: str = "", domain: Domain = real
    ) -> Any:
        """An unspecified function (a loss L, a generic activation σ, a network D)."""
        symbol = sp.Function(name, real=True)
        return self._add(SymbolSpec(name, symbol, "function", domain, Shape(), meaning, sheet))

    def random(
        self,
        name: str,
        distribution: Callable[..., RandomSymbol],
        *params: Any,
        domain: Domain = real,
        meaning: str = "",
        sheet: str = "",
    ) -> RandomSymbol:
        """A random scalar drawn from a ``sympy.stats`` distribution, e.g. Bernoulli(p)."""
        symbol = distribution(name, *params)
        text = f"{distribution.__name__}({', '.join(str(p) for p in params)})"
        return self._add(
            SymbolSpec(name, symbol, "random", domain, Shape(), meaning, sheet, distribution=text)
        )

    def declare(self, symbol: Any, domain: Domain, *, meaning: str = "", sheet: str = "") -> Any:
        """Adopt a symbol made elsewhere; loading checks its assumptions fit ``domain``."""
        return self._add(SymbolSpec(str(symbol), symbol, "scalar", domain, Shape(), meaning, sheet))

    # -- formulas ------------------------------------------------------------------------
    def formula(
        self,
        id: str,
        name: str,
        *,
        sheet: str,
        expr: Any,
        lhs: Any = None,
        claims: Iterable[Claim] = (),
        notes: Iterable[str] = (),
        sheet_notes: Iterable[str] = (),
        conventions: Iterable[Convention] = (),
        assumptions: Iterable[Any] = (),
    ) -> Formula:
        claims = tuple(claims)
        assumptions = tuple(assumptions)
        used = referenced([expr, lhs, *assumptions, *(e for c in claims for e in c.expressions())])
        wrts = [getattr(c, "wrt", None) for c in claims]
        used |= referenced([w for w in wrts if w is not None])
        symbols = tuple(
            spec for spec in self._table.values() if any(matches(spec.symbol, u) for u in used)
        )
        entry = Formula(
            id=id,
            section=self._section,
            part=self.number,
            part_title=self.title,
            name=name,
            sheet=sheet,
            expr=expr,
            lhs=lhs,
            symbols=symbols,
            claims=claims,
            notes=tuple(notes),
            sheet_notes=tuple(sheet_notes),
            conventions=tuple(conventions),
            assumptions=assumptions,
        )
        self.formulas.append(entry)
        return entry

    def also(self, formula_id: str, *claims: Claim) -> Formula:
        """Add claims to a formula of the current section declared earlier (the framework
        counterparts of a part are listed together after its formulas)."""
        from dataclasses import replace

        index = next((k for k, f in enumerate(self.formulas) if f.id == formula_id), None)
        if index is None or self.formulas[index].section != self._section:
            raise DeclarationError(
                formula_id,
                f"no formula with this id in section '{self._section}' of part "
                f"{self.number}; call also() after the formula, in its section",
            )
        entry = self.formulas[index]
        every = (*entry.claims, *claims)
        used = referenced(
            [
                entry.expr,
                entry.lhs,
                *entry.assumptions,
                *(e for c in every for e in c.expressions()),
            ]
        )
        used |= referenced([w for w in (getattr(c, "wrt", None) for c in every) if w is not None])
        symbols = tuple(
            spec for spec in self._table.values() if any(matches(spec.symbol, u) for u in used)
        )
        entry = replace(entry, claims=every, symbols=symbols)
        self.formulas[index] = entry
        return entry
