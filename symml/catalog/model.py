"""The data model: frozen dataclasses that describe the sheet as data.

A ``Formula`` is one entry of the catalog. It carries the sheet's own text verbatim, a
SymPy expression, the specs of the symbols it uses, and the ``Claim`` objects the sheet
states about it. A claim records what the sheet says, never a corrected version; the
correction and the conditions it needs sit beside it in their own fields.
"""

from __future__ import annotations

import enum
import importlib
import re
from dataclasses import dataclass, field
from typing import Any

import sympy as sp


class Status(str, enum.Enum):
    """The verdict on a claim. ``proved`` only ever comes from a symbolic argument."""

    PROVED = "proved"
    NUMERIC = "numeric"
    REFUTED = "refuted"
    CONDITIONAL = "conditional"
    AMBIGUOUS = "ambiguous"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"
    # A `matches` claim whose framework computes something else: a convention to know about,
    # not an error of the sheet (unless the sheet says it is that framework's function).
    DIFFERS = "differs"

    def __str__(self) -> str:
        return self.value


class ClaimKind(str, enum.Enum):
    DERIVATIVE = "derivative"
    IDENTITY = "identity"
    PROPERTY = "property"
    UPDATE_RULE = "update_rule"
    NOTATION = "notation"
    MATCHES = "matches"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Domain:
    """Where a symbol's values live: an interval of the reals, optionally integers only.

    ``binary`` (the set {0, 1}) is the integer interval [0, 1]; ``signs`` ({-1, 1}) is
    recorded with ``values``.
    """

    name: str
    lo: sp.Expr = sp.S.NegativeInfinity
    hi: sp.Expr = sp.S.Infinity
    lo_open: bool = True
    hi_open: bool = True
    integer: bool = False
    values: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "lo", sp.sympify(self.lo))
        object.__setattr__(self, "hi", sp.sympify(self.hi))
        if (self.lo > self.hi) == sp.true:
            raise ValueError(f"domain '{self.name}' is empty: {self.lo} > {self.hi}")

    def contains(self, value: Any) -> bool:
        """Whether a number lies in the domain (used by validation and by samplers)."""
        v = sp.sympify(value)
        if self.values:
            return any(sp.Eq(v, w) == sp.true for w in self.values)
        if self.integer and not v.is_integer:
            return False
        above = (v > self.lo) if self.lo_open else (v >= self.lo)
        below = (v < self.hi) if self.hi_open else (v <= self.hi)
        return bool(above == sp.true and below == sp.true)

    def assumptions(self) -> dict[str, bool]:
        """The SymPy assumptions this domain implies for a symbol declared in it."""
        facts: dict[str, bool] = {"real": True}
        if self.integer or self.values:
            facts["integer"] = True
        lo = min(self.values) if self.values else self.lo
        if (lo > 0) == sp.true or ((lo >= 0) == sp.true and self.lo_open and not self.values):
            facts["positive"] = True
        elif (lo >= 0) == sp.true:
            facts["nonnegative"] = True
        return facts

    def describe(self) -> str:
        if self.values:
            return "{" + ", ".join(str(v) for v in self.values) + "}"
        if self.lo == sp.S.NegativeInfinity and self.hi == sp.S.Infinity:
            return "integer" if self.integer else "real"
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        prefix = "integer in " if self.integer else ""
        return f"{prefix}{left}{_num(self.lo)}, {_num(self.hi)}{right}"


def _num(x: sp.Expr) -> str:
    return {sp.S.Infinity: "inf", sp.S.NegativeInfinity: "-inf"}.get(x, str(x))


@dataclass(frozen=True)
class Shape:
    """The shape of a symbol: ``()`` scalar, ``(n, 1)`` column, ``(1, n)`` row, ``(m, n)``.

    Sizes may be symbolic (SymPy integers or positive-integer symbols). ``indexed`` marks
    a family of scalars ``y[i]`` over index ranges of the given sizes.
    """

    dims: tuple[sp.Expr, ...] = ()
    indexed: bool = False

    @property
    def is_scalar(self) -> bool:
        return not self.dims

    def describe(self) -> str:
        if not self.dims:
            return "scalar"
        sizes = "×".join(str(d) for d in self.dims)
        if self.indexed:
            return f"indexed family over {sizes}"
        if len(self.dims) == 2 and self.dims[1] == 1:
            return f"column vector of length {self.dims[0]}"
        if len(self.dims) == 2 and self.dims[0] == 1:
            return f"row vector of length {self.dims[1]}"
        return f"{sizes} matrix"


SYMBOL_KINDS = ("scalar", "matrix", "indexed", "index", "function", "random", "size")


@dataclass(frozen=True)
class SymbolSpec:
    """One symbol of a part's symbol table."""

    name: str
    symbol: Any  # sp.Symbol | sp.MatrixSymbol | sp.IndexedBase | UndefinedFunction | RandomSymbol
    kind: str
    domain: Domain
    shape: Shape = field(default_factory=Shape)
    meaning: str = ""
    sheet: str = ""  # the sheet's verbatim line that declares it, if any
    typical: sp.Expr | None = None
    distribution: str = ""  # for random symbols: e.g. "Bernoulli(p)"
    stands_for: tuple[Any, Any] | None = None  # (of, wrt) for an upstream gradient ∂of/∂wrt

    def describe(self) -> str:
        if self.kind == "function":
            return "function"
        bits = [self.kind, self.domain.describe()]
        if not self.shape.is_scalar:
            bits.append(self.shape.describe())
        if self.typical is not None:
            bits.append(f"typically {self.typical}")
        if self.distribution:
            bits.append(f"~ {self.distribution}")
        return ", ".join(bits)


@dataclass(frozen=True)
class Reading:
    """One way to read notation that admits several; ``correct`` says which is standard."""

    name: str
    expr: Any
    correct: bool | None = None
    note: str = ""


@dataclass(frozen=True)
class Convention:
    """Where the sheet's convention differs from a major framework's."""

    framework: str
    difference: str


@dataclass(frozen=True, kw_only=True)
class Claim:
    """Something the sheet states. Fields common to every kind.

    ``expected`` is the verdict the catalog expects once the claim has been reviewed;
    ``correction`` is the correct form where the sheet is wrong, ``conditions`` what must
    hold for the claim to be true (SymPy relations or plain text).
    """

    sheet: str
    expected: Status = Status.PROVED
    correction: Any = None
    conditions: tuple[Any, ...] = ()
    note: str = ""
    readings: tuple[Reading, ...] = ()

    kind: ClaimKind = field(init=False, default=ClaimKind.IDENTITY)

    def expressions(self) -> tuple[Any, ...]:
        """Every expression the claim mentions (validation checks their symbols)."""
        exprs = [r.expr for r in self.readings]
        if self.correction is not None and not isinstance(self.correction, str):
            exprs.append(self.correction)
        exprs.extend(c for c in self.conditions if not isinstance(c, str))
        return tuple(exprs)

    def describe(self) -> str:
        return self.sheet


@dataclass(frozen=True, kw_only=True)
class Derivative(Claim):
    """``d of / d wrt = claimed``. ``of`` defaults to the formula's expression.

    ``where`` binds intermediate variables (``z = W x + b``) that upstream-gradient
    symbols are evaluated at: ``((z, W*x + b),)``.
    """

    wrt: Any
    claimed: Any
    of: Any = None
    where: tuple[tuple[Any, Any], ...] = ()

    kind: ClaimKind = field(init=False, default=ClaimKind.DERIVATIVE)

    def expressions(self) -> tuple[Any, ...]:
        extra = (self.of,) if self.of is not None else ()
        bound = tuple(e for pair in self.where for e in pair)
        return (self.claimed, *extra, *bound, *super().expressions())


@dataclass(frozen=True, kw_only=True)
class Identity(Claim):
    """``lhs = rhs`` for every value of the symbols in their domains."""

    lhs: Any
    rhs: Any

    kind: ClaimKind = field(init=False, default=ClaimKind.IDENTITY)

    def expressions(self) -> tuple[Any, ...]:
        return (self.lhs, self.rhs, *super().expressions())


@dataclass(frozen=True, kw_only=True)
class Property(Claim):
    """A named predicate (``symml.catalog.predicates``) about ``subject`` (default: the
    formula's expression), with its parameters."""

    predicate: str
    params: tuple[tuple[str, Any], ...] = ()
    subject: Any = None

    kind: ClaimKind = field(init=False, default=ClaimKind.PROPERTY)

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)

    def expressions(self) -> tuple[Any, ...]:
        exprs = [v for _, v in self.params if isinstance(v, sp.Basic)]
        if self.subject is not None:
            exprs.append(self.subject)
        return (*exprs, *super().expressions())


@dataclass(frozen=True, kw_only=True)
class UpdateRule(Claim):
    """An algorithm step: sequential assignments ``target := value`` claimed to be ``algorithm``."""

    algorithm: str
    assignments: tuple[tuple[Any, Any], ...]

    kind: ClaimKind = field(init=False, default=ClaimKind.UPDATE_RULE)

    def expressions(self) -> tuple[Any, ...]:
        flat = [e for pair in self.assignments for e in pair]
        return (*flat, *super().expressions())


@dataclass(frozen=True, kw_only=True)
class Notation(Claim):
    """The claim, implicit in writing a formula down, that its notation has one meaning.

    ``readings`` lists the meanings it admits; the verifier reports ``ambiguous`` when
    they give different numbers.
    """

    kind: ClaimKind = field(init=False, default=ClaimKind.NOTATION)


FRAMEWORKS = ("jax", "optax", "torch")


@dataclass(frozen=True)
class Run:
    """How an update rule is run step by step beside a framework's optimizer.

    ``assignments`` are carried out in order at every step (``target := value``); every
    target other than ``weights`` starts at 0. ``gradient`` is the symbol fed each step's
    gradient (g), or the function symbol the rule itself calls (∇L, for Nesterov).
    ``step`` is the step counter (1 at the first step); ``observe`` is the catalog quantity
    the framework's parameters correspond to (default: the weights).
    """

    assignments: tuple[tuple[Any, Any], ...]
    weights: Any
    gradient: Any
    step: Any = None
    observe: Any = None

    def expressions(self) -> tuple[Any, ...]:
        flat = [e for pair in self.assignments for e in pair]
        extra = [e for e in (self.step, self.observe) if e is not None]
        return (*flat, self.weights, *extra)


@dataclass(frozen=True, kw_only=True)
class Matches(Claim):
    """The formula computes what framework function ``reference`` computes.

    ``inputs`` maps the reference's arguments to catalog expressions (``("logits",
    log(p/(1-p)))``); ``subject`` is the catalog side (default: the formula's expression) and
    ``over`` the free index it is a vector over (``(i, k)``, ``(i, lo, hi)``, or a tuple of
    those for a map); ``sizes`` fixes symbolic sizes for the check (``((k, 4),)``); ``where``
    restricts the inputs to the framework's preconditions (``W + 2P >= K``); the families in
    ``zero_outside`` are 0 outside their index ranges (zero padding). An input may be a whole
    indexed family, passed as an array of its shape. Optimizers give ``run`` instead of ``subject``.
    ``steps`` computes the catalog side in stages, for a composition of formulas too large to
    expand into one expression: each ``(target, expression)`` (target a matrix symbol) is
    evaluated numerically at the sampled point and its entries feed the later steps and
    ``subject`` as the target's elements.
    ``difference`` says how the two differ, ``agrees_when`` under which setting they agree and
    ``badge`` names the difference in a few words for the cheat sheet (all three required when
    the expected verdict is ``differs``). ``binding`` records that the
    sheet presents the formula as that framework's function, so a difference is ``refuted``.
    """

    framework: str
    reference: str
    expected: Status = Status.NUMERIC  # numbers agreeing is all a comparison can show
    inputs: tuple[tuple[str, Any], ...] = ()
    subject: Any = None
    over: tuple[Any, Any] | None = None
    sizes: tuple[tuple[Any, int], ...] = ()
    where: tuple[Any, ...] = ()
    zero_outside: tuple[Any, ...] = ()
    steps: tuple[tuple[Any, Any], ...] = ()
    run: Run | None = None
    difference: str = ""
    agrees_when: str = ""
    badge: str = ""  # for the sheet: ≠ torch.optim.RMSprop (ε placement)
    binding: bool = False
    rtol: float = 0.0  # a looser tolerance where the framework computes in float32 (say why)

    kind: ClaimKind = field(init=False, default=ClaimKind.MATCHES)

    def expressions(self) -> tuple[Any, ...]:
        exprs = [
            e
            for _, v in self.inputs
            for e in (v if isinstance(v, tuple) else (v,))
            if isinstance(e, sp.Basic)
        ]
        if self.subject is not None:
            exprs.append(self.subject)
        exprs.extend(e for pair in self.steps for e in pair)
        exprs.extend(self.where)
        if self.run is not None:
            exprs.extend(self.run.expressions())
        return (*exprs, *super().expressions())

    def describe(self) -> str:
        return f"{self.sheet} = {self.reference}"


ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


@dataclass(frozen=True, kw_only=True)
class Formula:
    """One catalog entry."""

    id: str
    section: str
    part: int
    part_title: str
    name: str
    sheet: str
    expr: Any
    lhs: Any = None
    symbols: tuple[SymbolSpec, ...] = ()
    claims: tuple[Claim, ...] = ()
    notes: tuple[str, ...] = ()
    sheet_notes: tuple[str, ...] = ()
    conventions: tuple[Convention, ...] = ()
    # Relations between symbols that domains cannot express (t_warmup < t_total); every
    # check of every claim of the entry assumes them.
    assumptions: tuple[Any, ...] = ()
    source: str = ""  # the catalog file it came from

    def symbol(self, name: str) -> SymbolSpec:
        for spec in self.symbols:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def _repr_latex_(self) -> str:
        """Notebooks show the formula typeset, its left-hand side as the sheet names it.

        The printer sits in the render layer above this one, so it is looked up by name when
        a notebook asks, never at import: the data model does not depend on its printers."""
        formula_line = importlib.import_module("symml.render.statement").formula_line
        return f"$${formula_line(self).tex}$$"

    def sheet_lines(self) -> tuple[str, ...]:
        """Every verbatim line of the sheet this entry records (formula, claims, notes)."""
        texts = [self.sheet, *(c.sheet for c in self.claims), *self.sheet_notes]
        texts += [s.sheet for s in self.symbols if s.sheet]
        return tuple(line.strip() for t in texts for line in t.splitlines() if line.strip())
