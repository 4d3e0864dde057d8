"""Finding claims in a user's notes (.md, .tex) and verifying them with the engine.

A formula line is read (LaTeX in ``$…$``/``$$…$$``/``\\[…\\]``/equation environments; in
Markdown also the lines of fenced code blocks, as plain Unicode math). Then:

- ``f(z) = expr`` with a bare argument defines ``f`` (a later ``f'(z) = …`` is checked
  against it); ``L = expr`` defines ``L`` (a later ``∂L/∂x = …`` is checked against it);
- ``f'(z) = rhs`` / ``d/dz f = rhs`` / ``∂L/∂x = rhs`` is a derivative claim;
- ``a = b`` over the same variables, where ``a`` is already defined or is an expression,
  is an identity claim;
- consecutive assignments ``W := …`` in one block are an update rule: the algorithm it claims
  to be is named by the heading above the block (or, failing that, is the reference it
  matches), the sheet's names are mapped to the roles of ``symml.engine.algorithms`` and the step
  is checked as ``symml verify`` checks the catalog's update rules.

Declarations: a ``---`` front-matter block at the top of .md, ``% symml: …`` comment lines
in .tex, or a sidecar ``FILE.symml``; the format is ``symml.read.table``'s.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixExpr

from symml.catalog import primitives as F
from symml.catalog.domains import positive, unit_open
from symml.catalog.model import Property, Status
from symml.engine import algorithms
from symml.engine.checking import GOOD, check_derivative, check_identity, one_step_against
from symml.engine.equality import Context, compare
from symml.engine.properties import check_property
from symml.errors import SymmlError
from symml.notation import GREEK_LETTERS
from symml.read import declared_shapes as shapes
from symml.read import document, update_roles
from symml.read.errors import LatexParseError
from symml.read.files import read_text
from symml.read.latex import FUNCTION_LETTERS, NoteExpectation, Reading, read_latex, read_name
from symml.read.table import INDEX_ASSUMPTIONS, SymbolTable
from symml.read.unicode import WORDS, read_unicode

UNREAD = "unread"
NOT_A_CLAIM = "not-a-claim"  # the status of a line the prose before it presents as no claim


@dataclass(frozen=True)
class Formula:
    path: str
    line: int
    text: str
    unicode: bool  # plain Unicode math (code blocks) rather than LaTeX
    block: int = 0  # one code block or display: a name defined again in a later one is redefined
    shown: str = ""  # the sheet's own lines when the text read was joined from several
    context: str = ""  # why the prose before it makes it not a claim ("" when it is one)
    section: int = 0  # definitions carry forward in document order within a section
    inline: bool = False  # math inside a sentence ($…$, \(…\)), not a display


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str
    status: str  # a Status value, or "defined", "recorded", "unread", "skipped"
    kind: str  # derivative, identity, definition, update_rule, …
    detail: str = ""

    def describe(self) -> str:
        tail = f" — {self.detail}" if self.detail else ""
        return f"{self.path}:{self.line}: {self.status} — {self.text}{tail}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "line": self.line,
            "claim": self.text,
            "status": self.status,
            "kind": self.kind,
            "detail": self.detail,
        }


# The heading above a block of assignments names the algorithm; first match wins, so the
# longer names come before the names they contain ("AdamW" before "Adam", "SGD with
# Momentum" before "SGD").
ALGORITHM_HEADINGS: tuple[tuple[str, str | None], ...] = (
    # optimizers the catalog has no reference for: named, so no other one is guessed
    ("adadelta", None),
    ("adamax", None),
    ("nadam", None),
    ("yogi", None),
    ("lamb", None),
    ("lion", None),
    ("adamw", "adamw"),
    ("adam", "adam"),
    ("nesterov", "nesterov"),
    ("rmsprop", "rmsprop"),
    ("adagrad", "adagrad"),
    ("momentum", "momentum"),
    ("stochastic", "sgd"),
    ("sgd", "sgd"),
    ("gradient descent", "gradient_descent"),
)

# names the reader already takes as calls: σ(z) is the sigmoid, f(x) a function
CALLED_NAMES = frozenset({*FUNCTION_LETTERS, "sigma", "Phi"})
# ∂L/∂W directly followed by a bracket is the gradient as a function: ∂L/∂W(W - β·v)
GRADIENT_CALL = (
    re.compile(r"∂(\w+)/∂(\w+)\("),
    re.compile(r"\\frac\{\\partial (\w+)\}\{\\partial (\w+)\}\("),
)


# ∇_θ J(θ_{t-1}) in an update: the gradient at a point, a call (not ∇J times θ)
NABLA_CALL = re.compile(
    r"\\nabla(?:_\{(?:[^{}]|\{[^{}]*\})*\}|_\\?[A-Za-z]+)?\s*(?:[A-Za-z]|\\ell|\\mathcal\{[A-Z]\})\s*(?:\\left)?\("
)
UPDATE_LINE = re.compile(r"\\leftarrow|\\gets|:=|_\{[tk][-+]1\}")


# a formula without one of these relations is no claim; with one of NOT_CHECKABLE it is a
# statement symml does not check (an approximation, a membership, a limit)
RELATION = re.compile(
    r"=|\\(?:le|ge|leq|geq|neq|ne|lt|gt|leftarrow|gets|coloneqq)(?![A-Za-z])|[<>≤≥≠←]"
)
NOT_CHECKABLE = re.compile(
    r"\\(?:approx|sim|simeq|propto|in|notin|subset|subseteq|to|rightarrow|mapsto|equiv)(?![A-Za-z])"
)


# -- finding formulas ------------------------------------------------------------------------
def file_symbols(path: Path, text: str) -> tuple[SymbolTable, SymbolTable, str]:
    """The file's symbol table, the shapes it states of bold names (used where a formula
    writes the name bold), and its text with the declaration blocks blanked (lines kept).

    Shapes the notes state (``\\mathbf{x} \\in \\mathbb{R}^n``) are taken first; symml's own
    declarations (front matter, a ```` ```symml ```` block, ``% symml:`` lines, a sidecar
    ``FILE.symml``) win over them."""
    table = SymbolTable(default_size="n")
    lines = text.splitlines()
    own: list[tuple[str, str]] = []
    sidecar = path.with_name(path.name + ".symml")
    if sidecar.exists():
        own.append((read_text(sidecar, "declarations"), str(sidecar)))
    if path.suffix == ".md":
        header = document.front_matter(lines)
        if header.end >= 0:
            own.append((header.declarations, f"{path}:front-matter"))
            lines = [""] * (header.end + 1) + lines[header.end + 1 :]
        for fence in document.fences(lines):
            if fence.language == "symml":
                block = "\n".join(lines[fence.start + 1 : fence.end])
                own.append((block, f"{path}:{fence.start + 1}"))
                for k in range(fence.start, fence.end + 1):
                    lines[k] = ""
    if path.suffix == ".tex":
        block = "\n".join(
            line.split("symml:", 1)[1] for line in lines if line.lstrip().startswith("% symml:")
        )
        own.append((block, str(path)))
    declared = [SymbolTable.parse(block, source=source) for block, source in own]
    plain, bold = shapes.stated(text, {n for d in declared for n in d.objects})
    table = table.merged(plain)
    for extra in declared:
        table = table.merged(extra)
    table = replace(
        table,
        default_size=table.default_size or "n",
        index_sizes=_index_sizes("\n".join(lines)),
        expectations=True,
    )
    return table, bold, "\n".join(lines)


# Σ_{i=1}^{N}, \sum_{i = 1}^N: an index letter and the one-letter bound the file writes for it
WRITTEN_RANGE = re.compile(
    r"\\sum_\{\s*([A-Za-z])\s*=\s*1\s*\}\s*\^\s*(?:\{\s*([A-Za-z])\s*\}|([A-Za-z]))"
)


def _index_sizes(text: str) -> dict[str, str]:
    """The bound an unbounded ``\\sum_i`` of this file runs to: the one the file writes for
    the same letter elsewhere (``\\sum_{i=1}^{N}``), when it writes only one."""
    seen: dict[str, set[str]] = {}
    for m in WRITTEN_RANGE.finditer(text):
        seen.setdefault(m[1], set()).add(m[2] or m[3])
    return {index: next(iter(b)) for index, b in seen.items() if len(b) == 1}


def declarations(path: Path, text: str) -> tuple[SymbolTable, str]:
    """The file's symbol table and its text with the declaration blocks blanked."""
    table, _, blanked = file_symbols(path, text)
    return table, blanked


def formulas(path: Path, text: str, *, read_code: bool = False) -> list[Formula]:
    """The formulas of a notes file in document order, one a row of a display."""
    lines = text.splitlines()
    found: list[Formula] = []
    hidden: set[int] = set()  # 0-based lines that are not prose or math (code)
    headings = [h.line - 1 for h in _headings(text)]
    block = 0
    if path.suffix == ".md":
        for fence in document.fences(lines):
            inside = lines[fence.start + 1 : fence.end]
            hidden |= set(range(fence.start, fence.end + 1))
            block += 1
            if fence.language == "math":
                body = "\n".join(inside)
                for row in document.rows(body, fence.start + 2):
                    found.append(Formula(str(path), row.line, row.text, False, block))
                continue
            bare = fence.language in ("", "unicode")
            if read_code or (bare and not document.looks_like_program(inside)):
                numbered = [
                    (fence.start + 2 + k, line)
                    for k, line in enumerate(inside)
                    if line.strip() and line.strip() not in ("...", "…")
                ]
                found += _code_formulas(str(path), numbered, block)
        if not read_code:
            hidden |= document.indented_code(lines, hidden)
    prose = "\n".join("" if k in hidden else line for k, line in enumerate(lines))
    taken: list[tuple[int, int]] = []
    segments = []
    for pattern, display, escaped in document.MATH_PATTERNS:
        for m in pattern.finditer(prose):
            if any(a <= m.start() < b or a < m.end() <= b for a, b in taken):
                continue
            taken.append((m.start(), m.end()))
            segments.append((m.start(), m.end(), m.start(1), m.group(1), display, escaped))
    segments.sort()
    words = list(prose)  # the prose with its math blanked, for what it says about the math
    for start, end, *_ in segments:
        words[start:end] = [c if c == "\n" else " " for c in prose[start:end]]
    masked = "".join(words)
    previous_end = 0
    for start, end, inner, body, display, escaped in segments:
        block += 1
        if display:
            context = document.not_a_claim(masked[previous_end:start])
        else:  # inline math: the sentence it sits in introduces it
            sentence = re.split(r"(?<=[.!?])\s+(?=[A-Z])|\n\s*\n", masked[:start])[-1]
            context = document.not_a_claim(sentence)
        previous_end = end
        first = prose.count("\n", 0, inner) + 1
        for row in document.rows(document.unescape(body) if escaped else body, first):
            found.append(
                Formula(
                    str(path), row.line, row.text, False, block, context=context, inline=not display
                )
            )
    sections = sorted(headings)
    found = [replace(f, section=sum(1 for h in sections if h < f.line - 1)) for f in found]
    return sorted(found, key=lambda f: f.line)


def _code_formulas(path: str, lines: list[tuple[int, str]], block: int) -> list[Formula]:
    """A code block's formulas: one a line, except that a brace block (``η(t) = {`` … ``}``,
    or rows each opened by ``{``) is one cases formula, and a line opening with ``=``
    continues the formula above (``H(P,Q) = -Σ …`` ⏎ ``= H(P) + …`` is H(P,Q) = H(P) + …)."""
    found: list[Formula] = []
    k = 0
    while k < len(lines):
        number, line = lines[k]
        cases = _cases_block(lines, k)
        if cases is not None:
            text, used = cases
            shown = " ⏎ ".join(raw.strip() for _, raw in lines[k : k + used])
            found.append(Formula(path, number, text, True, block, shown))
            k += used
            continue
        stripped = line.strip()
        if stripped.startswith("=") and not stripped.startswith("==") and found:
            head = found[-1].text.split("=", 1)[0].strip()
            if found[-1].text.count("=") >= 1 and head:
                text = f"{head} {_strip_comment(stripped)}"
                found.append(Formula(path, number, text, True, block, stripped))
                k += 1
                continue
        found.append(Formula(path, number, _strip_comment(line), True, block))
        k += 1
    return found


CASE_ROW = re.compile(r"(?P<value>.+?)\s+(?:if\s+(?P<condition>.+?)|(?P<other>otherwise|else))\s*")


def _cases_block(lines: list[tuple[int, str]], k: int) -> tuple[str, int] | None:
    """``head = {`` then rows ``value  if condition`` / ``value  otherwise``, then ``}`` (or
    rows each opened by ``{``): the LaTeX-in-Unicode cases text and the lines it took."""
    first = lines[k][1].strip()
    head, brace, rest = first.partition("{")
    if not brace or "=" not in head or "}" in rest:
        return None
    rows: list[str] = [rest.strip()] if rest.strip() else []
    used = 1
    while k + used < len(lines):
        line = lines[k + used][1].strip()
        if line == "}":
            used += 1
            break
        if rest.strip() and not line.startswith("{"):
            break  # rows opened by "{" end at the first line without one
        rows.append(line.lstrip("{").strip())
        used += 1
    else:
        if not rest.strip():
            return None  # "{" never closed
    cells = []
    for row in rows:
        match = CASE_ROW.fullmatch(row)
        if match is None:
            return None
        condition = match["condition"] or r"\text{otherwise}"
        cells.append(f"{match['value'].strip()} & {condition.strip()}")
    if len(cells) < 2:
        return None
    body = r" \\ ".join(cells)
    return rf"{head.strip()} \begin{{cases}} {body} \end{{cases}}", used


def _strip_comment(line: str) -> str:
    """Sheets put remarks after two spaces: ``∂L/∂zᵢ = ŷᵢ - yᵢ  (when combined …)``, or
    in words in parentheses at the end: ``C̃ₜ = tanh(…) (candidate cell)``; and they label
    a formula: ``Training: aᵢ = …``, ``Max: y = …``."""
    text = re.split(r"\s{2,}(?=[(\[A-Za-z])", line.strip(), maxsplit=1)[0].strip()
    text = re.sub(r"^[A-Z][A-Za-z]*:\s+(?=\S)", "", text)
    return re.sub(r"(?<=\S)\s+\((?:[a-z]+ )*[a-z]+\)$", "", text)


# -- distributions and their functionals (information theory) -------------------------------
# P(x) summed over x and under a log is the probability of the value x under the distribution
# P, not the product P·x: it is read as the family P_x, summed over the values x.
DISTRIBUTION_CALL = re.compile(r"(?<![A-Za-z\\_{])([PQpq])\(([a-z])\)")
DISTRIBUTION_OPEN = re.compile(r"(?<![A-Za-z\\_{])[PQpq]\(")
LOG_OF_CALL = re.compile(r"log\s*\(?\s*[PQpq]\([a-z]\)")
SUM_INDEX = re.compile(r"(Σ|\\sum)(?:_\{?[a-z]\}?|ₓ)?")
# A quantity of distributions or random variables: H(X), H(P,Q), D_KL(P||Q), I(X;Y).
FUNCTIONAL_CALL = re.compile(
    r"(?<![A-Za-z\\])(?P<name>[A-Za-z]+(?:_[A-Za-z]+)?)"
    r"\((?P<args>[A-Z](?:\s*(?:,|;|\|\|)\s*[A-Z])*)\)"
)
ARGUMENT_SEPARATOR = re.compile(r"\s*(?:,|;|\|\|)\s*")
EQUALS = re.compile(r"(?<![:<>!=])=(?!=)")


@dataclass(frozen=True)
class Functional:
    """``H(X) = -Σ P(x)·log P(x)``: a quantity of distributions (``params``, the families of
    ``body``), or of the random variable the head names instead (``variable``: X ~ P)."""

    name: str
    params: tuple[str, ...]
    body: Any
    line: int
    variable: str = ""

    def head(self) -> str:
        return f"{self.name}({', '.join((self.variable,) if self.variable else self.params)})"


def _distribution_calls(text: str) -> tuple[str, tuple[str, ...]]:
    """``-Σ P(x)·log P(x)`` → ``-Σ P_x·log P_x`` and the distributions read (P). Only when
    the formula sums, takes the log of such a call, every call of P, Q, p or q has the same
    bare argument x and x appears nowhere else: otherwise (``p(1-p)``, ``P(y|x)``, a P(x)
    with no Σ) the text is left as it is, for the reader to refuse."""
    calls = DISTRIBUTION_CALL.findall(text)
    if not calls or not re.search(r"Σ|\\sum", text) or not LOG_OF_CALL.search(text):
        return text, ()
    letters = {letter for _, letter in calls}
    if len(letters) != 1 or len(calls) != len(DISTRIBUTION_OPEN.findall(text)):
        return text, ()
    (var,) = letters
    rest = SUM_INDEX.sub("Σ", DISTRIBUTION_CALL.sub("", text))
    if re.search(rf"(?<![A-Za-z\\]){var}(?![A-Za-z])", rest):
        return text, ()
    names = tuple(sorted({name for name, _ in calls}))
    return DISTRIBUTION_CALL.sub(lambda m: f"{m[1]}_{m[2]}", text), names


def _family(name: str) -> Any:
    return sp.IndexedBase(name, real=True)


def _information(formula: Formula, ctx: _Context, finding: Any, timeout: float) -> Any:
    """A definition of a functional (``D_KL(P||Q) = Σ P(x)·log(P(x)/Q(x))``) or a claim
    between functionals defined earlier in the document (``H(P,Q) = H(P) + D_KL(P||Q)``);
    None for any other line."""
    text = formula.text.strip()
    head = FUNCTIONAL_CALL.match(text)
    sides = EQUALS.split(text, maxsplit=1)
    if len(sides) != 2:
        return None
    calls = [
        (m["name"], len(ARGUMENT_SEPARATOR.split(m["args"])))
        for m in FUNCTIONAL_CALL.finditer(text)
    ]
    known = [c for c in calls if c in ctx.functionals]
    defining = (
        head is not None
        and sides[0].strip() == head.group(0)
        and ((head["name"], len(ARGUMENT_SEPARATOR.split(head["args"]))) not in ctx.functionals)
    )
    if defining and (_distribution_calls(sides[1])[1] or known):
        return _define_functional(formula, head, sides[1], ctx, finding)
    if known and not defining and ctx.context:
        return finding(NOT_A_CLAIM, "identity", ctx.context)
    if known and not defining:
        return _functional_claim(formula, sides, ctx, finding, timeout)
    return None


def _information_table(ctx: _Context) -> SymbolTable:
    """The table for a line of functionals: each a function, each distribution a plain name."""
    functions = {name: sp.Function(name, real=True) for name, _ in ctx.functionals}
    names = {p: sp.Symbol(p, real=True) for f in ctx.functionals.values() for p in f.params}
    return ctx.table.with_(**functions, **names)


def _read_side(text: str, ctx: _Context, unicode: bool) -> tuple[Any, tuple[str, ...]]:
    """One side of a line of functionals, with its P(x) read as the family P_x."""
    text = re.sub(r"\s*(?:\|\||;)\s*", ", ", text)
    text, distributions = _distribution_calls(text)
    table = _information_table(ctx)
    if distributions:
        table = table.with_(**{d: _family(d) for d in distributions})
    reading = (read_unicode if unicode else read_latex)(text.strip(), symbols=table)
    bases = {b: _family(b.label.name) for b in reading.expr.atoms(sp.IndexedBase)}
    return reading.expr.xreplace(bases), distributions


def _define_functional(
    formula: Formula, head: re.Match[str], body_text: str, ctx: _Context, finding: Any
) -> Finding:
    args = tuple(ARGUMENT_SEPARATOR.split(head["args"]))
    name = head["name"]
    try:
        body, distributions = _read_side(body_text, ctx, formula.unicode)
    except (LatexParseError, SymmlError) as exc:
        return finding("unread", "", str(exc))
    notes = []
    if distributions:
        notes.append(
            f"{', '.join(f'{d}(x)' for d in distributions)} read as the probabilities of a "
            "distribution over the values x, summed over x"
        )
    if not distributions:  # defined by other functionals: expanded, or not at all
        body, problems = _expand_functionals(body, ctx)
        if problems:
            return finding(
                "skipped", "definition", f"{head.group(0)} is not checked: {'; '.join(problems)}"
            )
        distributions = tuple(sorted(b.label.name for b in body.atoms(sp.IndexedBase)))
    if set(args) == set(distributions):
        functional = Functional(name, args, body, formula.line)
    elif len(args) == 1 and len(distributions) == 1 and args[0] not in distributions:
        functional = Functional(name, distributions, body, formula.line, variable=args[0])
        notes.append(f"{args[0]} read as a random variable with distribution {distributions[0]}")
    else:
        return finding(
            "skipped",
            "definition",
            f"{head.group(0)}: its arguments are not the distributions its right side sums "
            f"over ({', '.join(distributions)}); not read as a definition",
        )
    ctx.functionals[(name, len(args))] = functional
    detail = f"{functional.head()} := {sp.sstr(body)}"
    return finding("defined", "definition", "; ".join((detail, *notes)))


def _expand_functionals(expr: Any, ctx: _Context) -> tuple[Any, list[str]]:
    """Each call of a functional of the document replaced by its definition, on the
    distributions it is applied to; the calls that cannot be (with why)."""
    distributions = {p for f in ctx.functionals.values() for p in f.params}
    problems: list[str] = []

    def expand(call: Any) -> Any:
        functional = ctx.functionals.get((call.func.__name__, len(call.args)))
        if functional is None:
            return call
        names = [str(a) for a in call.args]
        if all(isinstance(a, sp.Symbol) for a in call.args):
            if functional.variable and names == [functional.variable]:
                return functional.body
            if all(n in distributions for n in names):
                swap = {
                    _family(p): _family(n) for p, n in zip(functional.params, names, strict=True)
                }
                return functional.body.xreplace(swap)
        problems.append(
            f"{sp.sstr(call)}: {functional.name} is defined at line {functional.line} as "
            f"{functional.head()}, and {', '.join(names)} "
            f"{'is not a distribution' if len(names) == 1 else 'are not distributions'} "
            "of this document"
        )
        return call

    return expr.replace(lambda e: isinstance(e, AppliedUndef), expand), problems


def _functional_claim(
    formula: Formula, sides: list[str], ctx: _Context, finding: Any, timeout: float
) -> Finding:

    try:
        (left, _), (right, _) = (_read_side(s, ctx, formula.unicode) for s in sides)
    except (LatexParseError, SymmlError) as exc:
        return finding("unread", "", str(exc))
    left, problems = _expand_functionals(left, ctx)
    right, more = _expand_functionals(right, ctx)
    if problems or more:
        return finding("skipped", "identity", f"not checked: {'; '.join(problems + more)}")
    families = {b.label.name for e in (left, right) for b in e.atoms(sp.IndexedBase)}
    # the catalog's distributions: probabilities in (0, 1) (log P/Q = log P − log Q needs > 0)
    domain = {name: unit_open for name in families}
    verdict = check_identity(left, right, domain=domain, timeout=timeout)
    note = f"the functionals as defined above, on distributions {', '.join(sorted(families))}"
    return _report(verdict, "identity", finding, notes=(note,))


# -- indexed heads and implicit parameters ---------------------------------------------------
# softmax(z)ᵢ = …: a function whose value is a family over i, defined entry by entry.
INDEXED_HEAD = re.compile(
    r"(?P<name>[A-Za-z]{2,})\((?P<args>[^()]*)\)(?:(?P<sub>[ᵢⱼₖ])|_\{?(?P<latex>[a-z])\}?)"
    r"\s*=(?!=)\s*(?P<body>.+)"
)
SUBSCRIPT_LETTERS = {"ᵢ": "i", "ⱼ": "j", "ₖ": "k"}
# LeakyReLU(z) = max(αz, z): the sheet leaves the slope out of the head, and its right side
# names it; the one-argument call is leaky_relu(z, α) with that α.
LEAKY_CALL = re.compile(r"((?:LeakyReLU|\\operatorname\{LeakyReLU\})\(\s*)([^(),]+?)(\s*\))")
SLOPE = re.compile(r"α|\\alpha(?![A-Za-z])")


@dataclass(frozen=True)
class FunctionCondition:
    """A condition a function of ``symml.catalog.primitives`` is meant under, checked as ``symml
    verify`` checks a catalog claim's stated conditions (conditional when needed)."""

    function: Any
    condition: Any  # the call's arguments -> a SymPy relation
    why: str


FUNCTION_CONDITIONS = (
    FunctionCondition(
        F.leaky_relu,
        lambda z, slope: slope <= 1,
        "a leaky ReLU's slope is at most 1 (its negative side is damped)",
    ),
)


def _leaky_slope(text: str) -> str:
    """``LeakyReLU(z) = max(αz, z)`` → ``LeakyReLU(z, α) = …`` when the right side names
    α; otherwise the text is kept, and the reader refuses the missing argument."""
    sides = EQUALS.split(text, maxsplit=1)
    match = SLOPE.search(sides[-1]) if len(sides) == 2 else None
    if match is None or not LEAKY_CALL.search(text):
        return text
    return LEAKY_CALL.sub(lambda m: f"{m[1]}{m[2]}, {match.group(0)}{m[3]}", text)


def _conditions(*exprs: Any) -> tuple[list[Any], list[str]]:
    conditions, notes = [], []
    for rule in FUNCTION_CONDITIONS:
        for expr in exprs:
            for call in expr.atoms(rule.function) if isinstance(expr, sp.Basic) else ():
                condition = rule.condition(*call.args)
                if condition not in conditions:
                    conditions.append(condition)
                    notes.append(f"checked with {sp.sstr(condition)}: {rule.why}")
    return conditions, notes


def _indexed_definition(formula: Formula, ctx: _Context, finding: Any) -> Finding | None:
    """``softmax(z)ᵢ = exp(zᵢ) / Σⱼ exp(zⱼ)``: the entry i of a function of z, defined."""
    match = INDEXED_HEAD.fullmatch(formula.text.strip())
    if match is None:
        return None
    index = SUBSCRIPT_LETTERS.get(match["sub"] or "", match["latex"] or "")
    args = [a.strip() for a in match["args"].split(",")]
    try:
        reading = (read_unicode if formula.unicode else read_latex)(
            match["body"], symbols=ctx.table
        )
    except (LatexParseError, SymmlError) as exc:
        return finding("unread", "", str(exc))
    body = reading.expr
    families = {b.label.name for b in body.atoms(sp.IndexedBase)}
    names = {s.name for s in _variables(body) if isinstance(s, sp.Symbol)} | families
    free = {s.name for s in body.free_symbols}
    if index not in free or not all(re.fullmatch(r"[A-Za-z]", a) and a in names for a in args):
        return finding(
            "unread",
            "",
            f"{match['name']}({match['args']})_{index}: the right side must be over "
            f"{', '.join(args)} and the index {index}; declare the function to read it otherwise",
        )
    head = f"{match['name']}({', '.join(args)})_{index}"
    ctx.definitions[f"{match['name']}_{index}"] = body
    notes = [n for n in reading.notes if "runs to the default size" in n]
    return finding("defined", "definition", "; ".join((f"{head} := {sp.sstr(body)}", *notes)))


# -- checking ---------------------------------------------------------------------------------
@dataclass
class _Context:
    table: SymbolTable
    definitions: dict[str, Any]  # name -> expression (L = …)
    functions: dict[Any, Any]  # function class -> Lambda (σ(z) = …)
    assignments: list[tuple[int, Formula, Reading]] = field(default_factory=list)
    # functionals of distributions (H, D_KL): defined once, they hold for the whole document
    functionals: dict[tuple[str, int], Functional] = field(default_factory=dict)
    block: int = 0  # the display being read
    defined_in: dict[Any, int] = field(default_factory=dict)  # name or function -> its display
    context: str = ""  # why the line being read is not a claim ("" when it is one)
    section: int = 0  # the section being read
    inline: bool = False  # the formula being read sits in a sentence
    optimizer: bool = False  # a heading above names an optimizer
    bold: SymbolTable = field(default_factory=SymbolTable)  # shapes stated of bold names
    laws: frozenset[str] = frozenset()  # names the text gives a distribution (X ∼ N(0, 1))
    # the file's layout of gradients (for the whole document): the line of a proved gradient
    # written with its variable's shape, and the findings that hold only in numerator layout
    layout: Layout = field(default_factory=lambda: Layout())
    index: int = 0  # the position of the line being read among the file's findings


@dataclass
class Layout:
    """What a notes file shows of its layout convention for gradients by a vector or matrix."""

    denominator_line: int | None = None  # a proved gradient with its variable's shape
    numerator_findings: list[int] = field(default_factory=list)  # conditional on numerator


def check_file(
    path: str | Path, *, timeout: float = 10.0, read_code: bool = False
) -> list[Finding]:
    """The findings of every formula of a notes file, in document order.

    Definitions carry forward from display to display within a section (a Markdown heading
    starts a new one); a name defined again in a later display is redefined there, not
    claimed equal to its earlier definition."""
    path = Path(path)
    table, bold, text = file_symbols(path, read_text(path, "notes"))
    headings = _headings(text)
    laws = _stated_laws(text)
    findings: list[Finding] = []
    block = None
    section = None
    functionals: dict[tuple[str, int], Functional] = {}
    layout = Layout()
    ctx = _Context(table, {}, {}, functionals=functionals, bold=bold, laws=laws, layout=layout)
    earlier: list[tuple[int, Formula, Reading]] = []  # the previous update rule's lines

    def settle_rule() -> None:
        nonlocal earlier
        if ctx.assignments:
            for index, finding in _check_rule(ctx.assignments, earlier, headings, timeout):
                findings[index] = finding
            earlier = ctx.assignments
            ctx.assignments = []

    for formula in formulas(path, text, read_code=read_code):
        if formula.block != block:
            block = formula.block
            ctx.table = table  # families met under a Σ hold within their display
        if formula.section != section:  # a new section: earlier definitions no longer hold
            settle_rule()
            section = formula.section
            ctx = _Context(
                table, {}, {}, functionals=functionals, bold=bold, laws=laws, layout=layout
            )
        ctx.block = formula.block
        ctx.context = formula.context
        ctx.section = formula.section
        ctx.inline = formula.inline
        ctx.optimizer = _named_algorithm(headings, formula.line)[0]
        finding = _check(formula, ctx, timeout, len(findings))
        if finding.kind not in ("update_rule", "expression") and finding.status != NOT_A_CLAIM:
            settle_rule()  # an update may run over several displays, with prose between
        findings.append(finding)
    settle_rule()
    if layout.denominator_line is not None:  # the file's own convention: the transpose is a slip
        for index in layout.numerator_findings:
            slip = findings[index]
            findings[index] = replace(
                slip,
                status=str(Status.REFUTED),
                detail=f"{slip.detail}; this file writes its gradients with the variable's shape "
                f"(line {layout.denominator_line})",
            )
    return findings


# X \sim \mathcal{N}(0, 1), X \in \{0, 1\}: the text gives the law of X (not under an 𝔼)
LAW_STATED = re.compile(
    r"(?<![A-Za-z\\])(?P<name>[A-Za-z]|\\[a-z]+)\s*(?:\\sim|∼|\\in\s*\\\{|∈\s*\{)"
)
EXPECTATION_UNDER = re.compile(r"\\mathbb\{E\}_\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}")


def _stated_laws(text: str) -> frozenset[str]:
    """The names whose distribution the notes state (outside an 𝔼's own subscript)."""
    found = set()
    for m in LAW_STATED.finditer(EXPECTATION_UNDER.sub(" ", text)):
        name = read_name(m["name"]) or m["name"].lstrip("\\")
        found.add(name)
    return frozenset(found)


def _headings(text: str) -> list[Heading]:
    """Markdown headings, lower-cased (a ``#`` inside a code block is a comment)."""
    found = []
    in_code = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith("```"):
            in_code = not in_code
        elif not in_code and re.match(r"^\s{0,3}#{1,6}(\s|$)", line):
            level = len(line.strip()) - len(line.strip().lstrip("#"))
            found.append(Heading(number, line.strip("#* :").lower(), level))
    return found


# A legend line: a symbol, "=", and its meaning in words (``∂   = partial derivative``).
LEGEND = re.compile(r"(?P<symbol>\S{1,4})\s+=\s+(?P<meaning>[a-z][a-z\-]*(?:[ /][a-z\-]+)*)")
# The head of a definition f(t) = …: a name applied to one bare variable.
DEFINITION_HEAD = re.compile(r"\s*(?P<name>[A-Za-z][A-Za-z]*|[α-ωΑ-Ω])\((?P<arg>\w)\)\s*=[^=]")


def _legend(text: str) -> tuple[str, str] | None:
    """A notation entry (``∇   = gradient``), whose right side is words, not math."""
    match = LEGEND.fullmatch(text.strip())
    if match is None:
        return None
    words = re.split(r"[ /\-]", match["meaning"])
    if any(w in WORDS for w in words) or (len(words) < 2 and len(words[0]) < 6):
        return None  # "= softmax", "= loss": a function or a short name, maybe math
    return match["symbol"], match["meaning"]


def _definition_head(text: str, table: SymbolTable) -> str | None:
    """The name a line ``η(t) = …`` defines as a function, when the reader would otherwise
    take ``η(t)`` for the product η·t (or refuse it): a definition's head is a call."""
    match = DEFINITION_HEAD.match(text)
    if match is None:
        return None
    name = GREEK_LETTERS.get(match["name"], match["name"]).lstrip("\\")
    if table.get(name) is not None or name.lower() in WORDS or name in CALLED_NAMES:
        return None
    return name


# L(w, b) = …, H(p) = …, \ell(z) = …: a LaTeX definition head, a letter called on bare names
LATEX_HEAD = re.compile(
    r"^\s*(?P<name>[A-Za-z])\((?P<args>\s*[A-Za-z](?:_\{?\w\}?)?(?:\s*,\s*[A-Za-z](?:_\{?\w\}?)?)*\s*)\)"
    r"\s*=(?!=)"
)


def _latex_head(text: str, table: SymbolTable) -> str | None:
    match = LATEX_HEAD.match(text)
    if match is None or match["name"] in FUNCTION_LETTERS or table.get(match["name"]) is not None:
        return None
    return match["name"]


def _called(text: str, names: Any) -> dict[str, Any]:
    """The functions the document defined that this formula calls (``H'(p)``, ``L(w, b)``);
    ``∂L/∂w`` does not call L, so there L stays the name of the defined quantity."""
    found = {}
    for function in names:
        name = function.__name__
        if len(name) == 1 and re.search(
            rf"(?<![\\A-Za-z]){name}\s*(?:'+|\^\{{?\\prime\}}?)?\s*\(", text
        ):
            found[name] = function
    return found


# p(x), q(z), P(y): a density or a probability of one plain name (not p(1 - p), a product;
# not Q(s), often a value function)
DENSITY_CALL = re.compile(
    r"(?<![\\A-Za-z_^])(?P<name>[pqP])\s*(?:\\left)?\(\s*\\?[A-Za-z]+(?:_\{?\w+\}?)?\s*(?:\\right)?\)"
)


def _densities(text: str, table: SymbolTable) -> dict[str, Any]:
    """The undeclared p, q, P this formula calls on one name: unknown positive
    functions (a density or a probability), so that (log p)' = p'/p."""
    found = {}
    for m in DENSITY_CALL.finditer(text):
        name = m["name"]
        if table.get(name) is not None or name in found:
            continue
        unlawful = re.sub(rf"\\sim\s*{name}(?![A-Za-z(])", " ", text)  # x \sim p: the law
        bare = re.search(rf"(?<![\\A-Za-z_^]){name}(?![A-Za-z\s(']|\s*\\left\(|\s*\()", unlawful)
        if bare is None:
            found[name] = sp.Function(name, positive=True)
    return found


def _read(
    formula: Formula,
    table: SymbolTable,
    bold: SymbolTable | None = None,
    functions: Any = (),
) -> Reading:
    text = _leaky_slope(_distribution_calls(formula.text)[0])
    if not formula.unicode:
        head = _latex_head(text, table)
        if head is not None:
            table = table.with_(**{head: sp.Function(head, real=True)})
        called = _called(text, functions)
        if called:
            table = table.with_(**called)
    if not formula.unicode:
        densities = _densities(text, table)
        if densities:
            table = table.with_(**densities)
    if bold is not None and not formula.unicode:  # shapes stated of \mathbf{x}, where bold
        written = shapes.bold_names(text) & set(bold.objects)
        if written:
            table = table.with_(**{name: bold.get(name) for name in written})
    head = _definition_head(text, table) if formula.unicode else None
    if head is not None:
        table = table.with_(**{head: sp.Function(head, real=True)})
    if not formula.unicode and UPDATE_LINE.search(text):
        # An update is elementwise: its bold θ, g, v are read as the catalog's scalars.
        table = replace(table, bold_shapes=False)
    if not formula.unicode and UPDATE_LINE.search(text) and NABLA_CALL.search(text):
        text = NABLA_CALL.sub(rf"\\operatorname{{{update_roles.GRADIENT_FUNCTION}}}(", text)
        table = table.merged(SymbolTable.parse(f"function {update_roles.GRADIENT_FUNCTION}"))
    if ":=" in text and any(p.search(text) for p in GRADIENT_CALL):
        for pattern in GRADIENT_CALL:
            text = pattern.sub(lambda m: f"{update_roles.GRADIENT_FUNCTION}(", text)
        table = table.merged(SymbolTable.parse(f"function {update_roles.GRADIENT_FUNCTION}"))
    return (read_unicode if formula.unicode else read_latex)(text, symbols=table)


def _check(formula: Formula, ctx: _Context, timeout: float, index: int = 0) -> Finding:
    ctx.index = index

    def finding(status: str, kind: str, detail: str = "") -> Finding:
        shown = formula.shown or formula.text
        return Finding(formula.path, formula.line, shown, status, kind, detail)

    legend = _legend(formula.text) if formula.unicode else None
    if legend is not None:
        return finding("notation", "notation", f"a legend entry: {legend[0]} means {legend[1]}")
    information = _information(formula, ctx, finding, timeout)
    if information is not None:
        return information
    indexed = _indexed_definition(formula, ctx, finding) if formula.unicode else None
    if indexed is not None:
        return indexed
    if not formula.unicode and shapes.is_statement(formula.text):
        return finding("notation", "notation", "a statement of shapes, read for the whole file")
    try:
        reading = _read(formula, ctx.table, ctx.bold, tuple(ctx.functions))
    except (LatexParseError, SymmlError) as exc:
        if not formula.unicode and not RELATION.search(formula.text):
            return finding("skipped", "expression", f"no relation, not a claim (not read: {exc})")
        if not formula.unicode and NOT_CHECKABLE.search(formula.text):
            found = NOT_CHECKABLE.search(formula.text)
            assert found is not None
            return finding(
                "skipped", "expression", f"{found.group(0)}: a statement symml does not check"
            )
        shape = _shape_slip(formula, ctx, exc, timeout)
        if shape is not None and NUMERATOR_LAYOUT in shape:
            # right in numerator layout (∂f/∂W of Wᵀ's shape, as some textbooks write it):
            # conditional, unless the file writes its other gradients with W's shape
            ctx.layout.numerator_findings.append(index)
            return finding(str(Status.CONDITIONAL), "derivative", shape)
        if shape is not None:
            return finding("refuted", "derivative", shape)
        undefined = _undefined_gradient(formula.text, ctx)
        if undefined is not None:  # no reading could check it: say why, and what failed
            return finding(
                "skipped", "derivative", f"{undefined} is not defined in this file; also {exc}"
            )
        return finding("unread", "", str(exc))
    if reading.families:  # a family met under Σ is a family in later lines too
        extra = {f: sp.IndexedBase(f, real=True) for f in reading.families if not ctx.table.get(f)}
        ctx.table = ctx.table.with_(**extra)
        reading = _read(formula, ctx.table, ctx.bold, tuple(ctx.functions))
    expr = reading.expr
    if (
        reading.relation == "="
        and _recurrence(expr, ctx)
        and (ctx.optimizer or _reads_gradient(reading))
    ):
        reading = replace(reading, relation=":=")
    if reading.relation == ":=" and ctx.context:
        return finding(NOT_A_CLAIM, "update_rule", ctx.context)
    if reading.relation == ":=":
        ctx.assignments.append((index, formula, reading))
        return finding("recorded", "update_rule", "an assignment; checked with its block")
    if reading.relation != "=":
        return finding("skipped", "expression", "not a claim")
    lhs, rhs = expr.lhs, expr.rhs
    related = _related_densities(expr)
    if related is not None:  # only a proof stands: p(x) and p(y) may be different densities
        try:
            found = _claim(lhs, rhs, reading, ctx, finding, timeout, formula.text)
        except Exception:  # noqa: BLE001 — any failure here is the refusal below
            found = None
        if found is not None and found.status != "refuted":
            return found
        return finding("skipped", "identity", related)
    try:
        return _claim(lhs, rhs, reading, ctx, finding, timeout, formula.text)
    except SymmlError as exc:
        return finding(str(Status.ERROR), "claim", str(exc))
    except Exception as exc:  # a SymPy failure is a finding, not a traceback
        return finding(str(Status.ERROR), "claim", f"{type(exc).__name__}: {str(exc)[:150]}")


def _transposed_gradient(of: Any, wrt: Any, rhs: Any, timeout: float) -> str | None:
    """When ``rhs`` is not ∂of/∂wrt but its transpose is (a gradient written in numerator
    layout, of wrtᵀ's shape): the remark saying so, else None."""
    if not (
        isinstance(wrt, MatrixExpr)
        and wrt.shape != (1, 1)
        and isinstance(rhs, MatrixExpr)
        and rhs.T.shape == wrt.shape
    ):
        return None
    try:
        transposed = check_derivative(of, wrt, rhs.T, timeout=timeout)
    except Exception:  # a failure here only loses the remark
        return None
    if transposed.status is not Status.PROVED:
        return None
    return (
        f"the gradient transposed: it {NUMERATOR_LAYOUT} (∂f/∂{wrt} of {wrt}ᵀ's shape); "
        f"with {wrt}'s shape, the usual layout of a gradient, it is {sp.sstr(rhs.T)}"
    )


def _numerator_layout(
    verdict: Any, of: Any, wrt: Any, rhs: Any, ctx: _Context, timeout: float
) -> str | None:
    """A refuted gradient whose transpose holds (a square W, whose shape does not tell the
    layouts apart): conditional like any gradient in numerator layout, the finding recorded
    for the file's own convention (``check_file``)."""
    if getattr(verdict, "status", None) is not Status.REFUTED:
        return None
    remark = _transposed_gradient(of, wrt, rhs, timeout)
    if remark is None:
        return None
    ctx.layout.numerator_findings.append(ctx.index)
    return f"{verdict.detail or verdict.method}; {remark}"


def _note_layout(ctx: _Context, verdict: Any, wrt: Any, rhs: Any, finding: Any) -> None:
    """A proved gradient by a vector or matrix, written with its variable's shape, shows the
    file's layout (the first such line is kept)."""
    if (
        ctx.layout.denominator_line is None
        and getattr(verdict, "status", None) is Status.PROVED
        and isinstance(wrt, MatrixExpr)
        and wrt.shape != (1, 1)
        and isinstance(rhs, MatrixExpr)
        and rhs.shape == wrt.shape
    ):
        ctx.layout.denominator_line = finding(str(Status.PROVED), "derivative").line


def _top_level_equals(text: str) -> list[str]:
    """``text`` cut at its ``=`` signs outside braces and brackets."""
    parts, depth, start = [], 0, 0
    for k, c in enumerate(text):
        depth += c in "({["
        depth -= c in ")}]"
        if c == "=" and depth == 0 and text[k - 1 : k] not in (":", "<", ">", "!", "\\"):
            parts.append(text[start:k])
            start = k + 1
    return [*parts, text[start:]]


def _shape_text(shape: tuple[Any, ...]) -> str:
    return " × ".join(map(str, shape))


NUMERATOR_LAYOUT = "holds in numerator layout"


def _shape_slip(formula: Formula, ctx: _Context, exc: Exception, timeout: float) -> str | None:
    """``∂(aᵀWb)/∂W = b aᵀ`` with W m×n: the gradient of a scalar by W has W's shape, and a
    right side of another shape is wrong whatever its entries — the refutation, naming the
    shapes (and saying when the right side is the gradient transposed, numerator layout)."""
    if "different shapes" not in str(exc) or formula.unicode:
        return None
    parts = _top_level_equals(formula.text)
    if len(parts) != 2:
        return None
    try:
        left, right = (
            _read(replace(formula, text=part), ctx.table, ctx.bold, tuple(ctx.functions))
            for part in parts
        )
    except (LatexParseError, SymmlError):
        return None
    a, b = left.expr, right.expr
    if left.relation is not None or right.relation is not None:
        return None
    if isinstance(a, sp.Derivative) and a.variable_count == ((a.variables[0], 1),):
        body, wrt = a.expr, a.variables[0]
        if isinstance(body, MatrixExpr) and body.shape != (1, 1):
            return None
        what = f"∂({sp.sstr(body)})/∂{wrt}"
    else:
        named = [(of, by) for s, of, by in left.gradients if s == a]
        if not named:
            return None
        body, wrt = None, named[0][1]
        what = f"∂{named[0][0]}/∂{wrt}"
    if not (isinstance(wrt, MatrixExpr) and isinstance(b, MatrixExpr)) or b.shape == wrt.shape:
        return None
    stated = {**ctx.bold.objects, **ctx.table.objects}
    for symbol in {wrt, *b.atoms(sp.MatrixSymbol)}:
        known = stated.get(str(symbol.name)) if isinstance(symbol, sp.MatrixSymbol) else None
        if known is None or getattr(known, "shape", None) != symbol.shape:
            return None  # a shape the reader guessed (an undeclared bold name): no verdict
    found = (
        f"shapes: {what} is a gradient, of {wrt}'s shape {_shape_text(wrt.shape)}; "
        f"the right side {sp.sstr(b)} is {_shape_text(b.shape)}"
    )
    remark = _transposed_gradient(body, wrt, b, timeout) if body is not None else None
    return f"{found} — {remark}" if remark is not None else found


def _related_densities(expr: Any) -> str | None:
    """``log p(x, y) = log p(x) + log p(y | x)``: one density name called on different
    arguments names different densities (joint, marginal, conditional) that the rules of
    probability relate — a claim between them is never refuted as if they were unrelated."""
    calls: dict[str, set[Any]] = {}
    for call in expr.atoms(AppliedUndef) if isinstance(expr, sp.Basic) else ():
        name = type(call).__name__.removesuffix("_given")
        if call.is_positive and name in ("p", "q", "P", "Q"):
            calls.setdefault(name, set()).add((type(call).__name__, call.args))
    several = sorted(n for n, args in calls.items() if len(args) > 1)
    if not several:
        return None
    return (
        f"{several[0]} called on different arguments: densities the rules of probability "
        "relate (joint, marginal, conditional), not checked"
    )


def _reads_gradient(reading: Reading) -> bool:
    """A row that reads a gradient (∂L/∂W, ∇f, g_t): an optimizer's step, not an RNN's."""
    if reading.gradients or reading.expr.rhs.has(sp.Derivative):
        return True
    names = {_base_name(s) for s in reading.expr.rhs.free_symbols}
    return bool(names & update_roles.GRADIENT_NAMES)


def _recurrence(expr: Any, ctx: _Context) -> bool:
    """``m_t = β m_{t-1} + …`` (or ``x_{t+1} = x_t − …``) is an update step; so is a row
    ``m̂_t = …`` that follows steps of the same update."""
    lhs = expr.lhs
    if not isinstance(lhs, sp.Symbol):
        return False
    match = update_roles.TIME_INDEX.match(lhs.name)
    if match is None:
        return False
    previous = {"+1": "", None: "-1"}.get(match["shift"])
    if previous is None:
        return False
    old = f"{match['base']}_{match['index']}{previous}"
    if any(s.name == old for s in expr.rhs.free_symbols):
        return True
    return bool(ctx.assignments) and ctx.assignments[-1][1].section == ctx.section


def _claim(
    lhs: Any,
    rhs: Any,
    reading: Reading,
    ctx: _Context,
    finding: Any,
    timeout: float,
    reading_text: str = "",
) -> Finding:

    gradients = {s: (of, wrt) for s, of, wrt in reading.gradients}
    given = rhs  # as written, before any element-wise reading
    # a definition: f(z) = expr (f undefined so far) or L = expr
    if isinstance(lhs, AppliedUndef) and all(isinstance(a, sp.Symbol) for a in lhs.args):
        if rhs.has(type(lhs)):  # p(x, y) = p(x) p(y): a factorisation, not a definition
            return finding(
                "skipped",
                "identity",
                f"{type(lhs).__name__} on both sides: a factorisation or an assumption about "
                f"{type(lhs).__name__}, not checked",
            )
        if ctx.defined_in.get(type(lhs), ctx.block) != ctx.block:
            del ctx.functions[type(lhs)]  # defined again in a later display: redefined
        if type(lhs) not in ctx.functions:
            ctx.functions[type(lhs)] = sp.Lambda(lhs.args, rhs)
            ctx.defined_in[type(lhs)] = ctx.block
            jump = _jump(lhs, rhs, timeout)
            if jump is not None:
                return finding(str(jump.status), "property", _detail(jump))
            return finding("defined", "definition", f"{sp.sstr(lhs)} := {sp.sstr(rhs)}")
    if (
        isinstance(lhs, sp.Symbol)
        and lhs not in gradients
        and (
            lhs.name not in ctx.definitions or ctx.defined_in.get(lhs.name, ctx.block) != ctx.block
        )
        and not rhs.has(lhs)
    ):
        if ctx.inline and rhs.is_number:
            # "for $\beta = 0$ we recover …": a value for the sentence, not for the section
            return finding(
                "defined",
                "definition",
                f"{lhs.name} = {sp.sstr(rhs)} in this sentence (a value in prose is not "
                "carried forward)",
            )
        ctx.definitions[lhs.name] = rhs
        ctx.defined_in[lhs.name] = ctx.block
        return finding("defined", "definition", f"{lhs.name} := {sp.sstr(rhs)}")
    if ctx.context:
        return finding(NOT_A_CLAIM, "claim", ctx.context)
    if _has_expectation(lhs, rhs, *_defined_expectations(lhs, rhs, ctx)):
        if gradients or _has_derivative(lhs, rhs) or _expanded_gradient(gradients, ctx):
            return finding(
                "skipped",
                "derivative",
                "a derivative and an expectation: not checked (they commute only where "
                "the distribution does not depend on the variable)",
            )
        return _expectation_claim(
            _expand(lhs, ctx), _expand(rhs, ctx), finding, timeout, laws=ctx.laws
        )
    # the variable a claim differentiates by stays a variable, even if defined above
    # (a = σ(z) above, ∂L/∂a = -1/a: a is not replaced by σ(z) on the right)
    by = gradients[lhs][1] if lhs in gradients else None
    if isinstance(lhs, sp.Derivative) and len(lhs.variables) == 1:
        by = lhs.variables[0]
    rhs = _expand(rhs, ctx, keep=by)
    if lhs in gradients:
        of, wrt = gradients[lhs]
        name = str(of)
        defined = ctx.definitions.get(name)
        if defined is None:  # L(w, b) = …: the body of the function the file defined
            defined = next(
                (body.expr for f, body in ctx.functions.items() if f.__name__ == name), None
            )
        if defined is None:
            return finding("skipped", "derivative", f"{name} is not defined in this file")
        # names defined above are replaced on both sides alike (ŷ = σ(z), then ∂L/∂y)
        definition = _fresh_sum_indices(_expand(defined, ctx, keep=wrt))
        written = wrt
        definition, wrt, rhs, how = _elementwise(definition, wrt, rhs)
        definition, wrt, rhs = _family_entries(definition, wrt, rhs)
        definition, rhs, losses = _unknown_losses(definition, rhs, reading, lhs, ctx, written, wrt)
        if not _mentions(definition, wrt):
            return finding(
                "skipped", "derivative", f"{name} as defined does not depend on {wrt}; declare how"
            )
        domain, positive_note = _positive_domain(definition, rhs)
        verdict = _judged(
            lambda d, w, r, t=timeout: check_derivative(d, w, r, domain=domain, timeout=t),
            (definition, wrt, rhs),
        )
        unjudged = _one_sided_functions(definition, rhs, verdict)
        if unjudged is not None:
            return finding("skipped", "derivative", unjudged)
        verdict = _under_unstated_assumption(verdict, definition, wrt, rhs, domain, timeout)
        _note_layout(ctx, verdict, written, given, finding)
        if wrt is written and rhs is given:  # read as written: no element-wise rewrite
            layout = _numerator_layout(verdict, definition, wrt, rhs, ctx, timeout)
            if layout is not None:
                return finding(str(Status.CONDITIONAL), "derivative", layout)
        kinked = _at_kinks(verdict, definition, finding)
        notes = (*how, *losses, *positive_note)
        return kinked or _report(verdict, "derivative", finding, notes=notes)
    if isinstance(lhs, (sp.Derivative, sp.Subs)):
        deriv = lhs if isinstance(lhs, sp.Derivative) else None
        if deriv is None or len(deriv.variables) != 1:
            return finding("skipped", "derivative", "only first derivatives in one variable")
        of = _expand(deriv.expr, ctx, keep=deriv.variables[0])
        if isinstance(of, AppliedUndef) and not rhs.has(type(of)):
            # f'(x) = 3x with f defined nowhere above: a claim about some f of elsewhere,
            # not a rule for every f (which would mention f on the right too)
            return finding(
                "skipped", "derivative", f"{type(of).__name__} is not defined in this section"
            )
        domain, positive_note = _positive_domain(of, rhs)
        verdict = _judged(
            lambda d, w, r, t=timeout: check_derivative(d, w, r, domain=domain, timeout=t),
            (of, deriv.variables[0], rhs),
        )
        unjudged = _one_sided_functions(of, rhs, verdict)
        if unjudged is not None:
            return finding("skipped", "derivative", unjudged)
        verdict = _under_unstated_assumption(verdict, of, deriv.variables[0], rhs, domain, timeout)
        _note_layout(ctx, verdict, deriv.variables[0], given, finding)
        layout = _numerator_layout(verdict, of, deriv.variables[0], rhs, ctx, timeout)
        if layout is not None:
            return finding(str(Status.CONDITIONAL), "derivative", layout)
        return _at_kinks(verdict, of, finding) or _report(
            verdict, "derivative", finding, notes=positive_note
        )
    left = _expand(lhs, ctx)
    # sides over different variables: a claim only when one side's variables are among the
    # other's (c cancels: log Σ e^{z+c} = c + log Σ e^z); σ² = (1/m)Σ(x − μ)² defines σ²,
    # and R(w) = … may be a call read as the product R·w
    mine, theirs = _variables(left), _variables(rhs)
    if mine != theirs and (
        not (mine <= theirs or theirs <= mine)
        or CALL_OR_PRODUCT.search(reading_text)
        or isinstance(lhs, sp.Symbol)
    ):
        return finding("skipped", "identity", "the two sides are not over the same variables")
    if _positive_calls(left, rhs):  # log(p(x) q(x)) of densities: the logs split
        left, rhs = (sp.expand_log(e, deep=True, force=False) for e in (left, rhs))
    conditions, notes = _conditions(left, rhs)
    domain, positive_note = _positive_domain(left, rhs)
    verdict = _judged(
        lambda a, b, t=timeout: check_identity(
            a, b, domain=domain, conditions=conditions or None, timeout=t
        ),
        (left, rhs),
    )
    written = reading.expr.lhs, reading.expr.rhs  # before the definitions above replace names
    constraint = (
        _constraint(*written, ctx.definitions)
        or _undefined_mean(left, rhs)
        or _one_sided_functions(left, rhs, verdict)
    )
    if constraint is not None and verdict.status not in (Status.PROVED, Status.NUMERIC):
        return finding("skipped", "identity", constraint)
    return _report(verdict, "identity", finding, notes=(*notes, *positive_note))


def _one_sided_functions(left: Any, right: Any, verdict: Any) -> str | None:
    """Why a claim that was not proved is not judged: an unknown function, defined nowhere
    above, on one side of it only (``(x Φ(x))′ = Φ(x) + x φ(x)`` with φ undefined). Such a
    name stands for some particular function, not for every function (a rule for every f
    mentions f on both sides), so a witness would only be about the stand-in symml picked."""
    if verdict.status in (Status.PROVED, Status.NUMERIC):
        return None
    heads = [
        {type(f) for f in side.atoms(AppliedUndef)} if isinstance(side, sp.Basic) else set()
        for side in (left, right)
    ]
    lonely = sorted(head.__name__ for head in heads[0] ^ heads[1])
    if not lonely:
        return None
    name = lonely[0]
    return (
        f"{name} is not defined in this section and stands on one side only: some particular "
        f"function, not every function; define it ({name}(t) = …) to check the line"
    )


def _under_unstated_assumption(
    verdict: Any, of: Any, wrt: Any, rhs: Any, domain: Any, timeout: float
) -> Any:
    """A refuted gradient that holds under an assumption notes seldom state: a square matrix
    that is symmetric (∇ₓ xᵀAx = 2Ax), or weights that sum to 1 (−Σ_j y_j log softmax(z)_j,
    a one-hot or probability target). Then the verdict is conditional, naming the
    assumption and keeping the witness without it; otherwise the refutation stands."""
    if verdict.status is not Status.REFUTED or not isinstance(of, sp.Basic):
        return verdict
    witness = verdict.counterexample
    without = f": {witness.describe()}" if witness is not None else ""
    for assumption, sides, condition in _assumptions_to_try(of, wrt, rhs):
        retried = _judged(  # the condition goes with the sides, to be written out alike
            lambda d, w, r, *c, t=timeout: check_derivative(
                d, w, r, domain=domain, conditions=list(c) or None, timeout=t
            ),
            (sides[0], wrt, sides[1], *condition),
        )
        holds = Status.CONDITIONAL if condition else Status.PROVED
        if retried.status is holds or (not condition and retried.status is Status.NUMERIC):
            return retried.with_(
                status=Status.CONDITIONAL,
                method=f"{retried.method}, under the assumption",
                detail=f"holds when {assumption}, which the notes do not state; without it "
                f"refuted{without}",
                conditions=(),  # stated in the detail
                counterexample=witness,
            )
    return verdict


def _assumptions_to_try(of: Any, wrt: Any, rhs: Any) -> list[tuple[str, tuple[Any, Any], tuple]]:
    """(the assumption in words, the two sides under it, a condition for the engine)."""
    tried: list[tuple[str, tuple[Any, Any], tuple]] = []
    sides = [e for e in (of, rhs) if isinstance(e, sp.Basic)]
    squares = {
        m
        for e in sides
        for m in e.atoms(sp.MatrixSymbol)
        if m != wrt and m.shape[0] == m.shape[1] and m.shape != (1, 1)
    }
    for matrix in sorted(squares, key=sp.default_sort_key):
        symmetric = {matrix: (matrix + matrix.T) / 2}  # every symmetric matrix, and only those
        tried.append(
            (
                f"{matrix} is symmetric ({matrix} = {matrix}ᵀ)",
                (of.xreplace(symmetric), _xreplace(rhs, symmetric)),
                (),
            )
        )
    own = wrt.base if isinstance(wrt, sp.Indexed) else wrt
    weights: set[Any] = set()
    for total in sorted(of.atoms(sp.Sum), key=sp.default_sort_key):
        if len(total.limits) != 1:
            continue
        ((index, lower, upper),) = total.limits
        for entry in sorted(total.function.atoms(sp.Indexed), key=sp.default_sort_key):
            if entry.base == own or entry.indices != (index,) or entry.base in weights:
                continue
            weights.add(entry.base)
            name = str(entry.base)
            tried.append(
                (
                    f"Σ_{index} {name}_{index} = 1 ({name} one-hot or a probability vector, "
                    "as a target is)",
                    (of, rhs),
                    (sp.Eq(sp.Sum(entry.base[index], (index, lower, upper)), 1),),
                )
            )
    return tried[:4]  # each is a full check: a few at most


def _xreplace(expr: Any, rule: dict[Any, Any]) -> Any:
    return expr.xreplace(rule) if isinstance(expr, sp.Basic) else expr


def _undefined_mean(left: Any, right: Any) -> str | None:
    """``Σ_i (x_i − x̄)² = Σ_i x_i² − n x̄²`` with x̄ defined nowhere: x̄ is the mean of the
    family x the claim sums, not any number — not refuted."""
    sides = [e for e in (left, right) if isinstance(e, sp.Basic)]
    families = {str(i.base) for e in sides for i in e.atoms(sp.Indexed)}
    names = {s.name for e in sides for s in e.free_symbols}
    means = sorted(f for f in families if f"{f}bar" in names)
    if not means:
        return None
    return (
        f"{means[0]}bar is not defined here: presumably the mean of {means[0]}; define it "
        f"(\\bar{{{means[0]}}} = \\frac{{1}}{{n}}\\sum_i {means[0]}_i) to check the line"
    )


def _positive_calls(*exprs: Any) -> bool:
    """Whether a side calls an unknown positive function (a density p(x))."""
    return any(
        isinstance(e, sp.Basic) and any(f.is_positive for f in e.atoms(AppliedUndef)) for e in exprs
    )


def _constraint(left: Any, right: Any, defined: Any = ()) -> str | None:
    """``Σ_j p_j = 1``: a number on one side, a sum over the entries of a family on the
    other — what the notes require of p (a condition), not an identity for every p. A family
    whose entries the file defined (``ŷ_j = …``) is no free p."""
    entries = {m["base"] for n in defined if (m := ENTRY_NAME.fullmatch(n))}
    for one, other in ((left, right), (right, left)):
        if not (isinstance(one, sp.Basic) and isinstance(other, sp.Basic)):
            continue
        if one.free_symbols or not other.has(sp.Indexed) or not other.has(sp.Sum):
            continue
        free = {str(i.base) for i in other.atoms(sp.Indexed)} - entries
        if not free:
            continue
        families = ", ".join(sorted(free))
        return (
            f"a condition on {families} (a sum of its entries set to {sp.sstr(one)}), "
            "not an identity: not checked"
        )
    return None


def _has_expectation(*exprs: Any) -> bool:
    return any(isinstance(e, sp.Basic) and e.has(NoteExpectation) for e in exprs)


def _defined_expectations(lhs: Any, rhs: Any, ctx: _Context) -> list[Any]:
    """The definitions with an 𝔼 of the names and functions this claim mentions."""
    names = {str(s) for side in (lhs, rhs) if isinstance(side, sp.Basic) for s in side.free_symbols}
    heads = {
        type(f)
        for side in (lhs, rhs)
        if isinstance(side, sp.Basic)
        for f in side.atoms(AppliedUndef)
    }
    found = [v for n, v in ctx.definitions.items() if n in names]
    found += [body.expr for head, body in ctx.functions.items() if head in heads]
    return found


def _has_derivative(*exprs: Any) -> bool:
    return any(isinstance(e, sp.Basic) and e.has(sp.Derivative, sp.Subs) for e in exprs)


def _expanded_gradient(gradients: dict[Any, Any], ctx: _Context) -> bool:
    """A gradient ∂L/∂θ whose L the file defined with an expectation."""
    for of, _ in gradients.values():
        defined = ctx.definitions.get(str(of))
        if _has_expectation(defined):
            return True
    return False


# -- expectations ----------------------------------------------------------------------------
# A claim with 𝔼 is proved when linearity alone gives it (constants out, sums split, 𝔼[c] = c,
# an inner 𝔼 a constant): every 𝔼[monomial] is then an unknown number, and an identity that
# holds for every value of those numbers holds for the true moments. Otherwise it is tried on
# finite distributions (two or three points, random weights): a difference there is a
# distribution the claim fails for, the witness; one that fails only for dependent variables
# is conditional on independence.
LAW_TRIALS = 40


def _expectations(*exprs: Any) -> list[Any]:
    found: set[Any] = set()
    for e in exprs:
        if isinstance(e, sp.Basic):
            found |= e.atoms(NoteExpectation)
    return sorted(found, key=sp.default_sort_key)


def _outside(expr: Any) -> set[Any]:
    """The names of ``expr`` outside every 𝔼."""
    if not isinstance(expr, sp.Basic):
        return set()
    hidden = expr.replace(lambda e: isinstance(e, NoteExpectation), lambda e: sp.Integer(0))
    return set(hidden.free_symbols) if isinstance(hidden, sp.Basic) else set()


def _linear(expr: Any, randoms: set[Any], moments: dict[Any, Any]) -> Any:
    """``expr`` with each 𝔼 split by linearity into constants times unknown moments."""

    def split(node: Any) -> Any:
        inner = sp.expand(node.argument, power_exp=False, log=False, power_base=False)
        total = sp.Integer(0)
        for term in sp.Add.make_args(inner):
            constant, random = term.as_independent(*randoms, as_Add=False)
            if random == 1:
                total += constant
                continue
            key = (random, node.law)
            if key not in moments:
                under = "" if node.law == 0 else f"_{node.law}"
                moments[key] = sp.Symbol(f"E{under}[{sp.sstr(random)}]", real=True)
            total += constant * moments[key]
        return total

    return expr.replace(lambda e: isinstance(e, NoteExpectation), split)


def _expectation_claim(
    left: Any, right: Any, finding: Any, timeout: float, laws: frozenset[str] = frozenset()
) -> Finding:
    nodes = _expectations(left, right)
    # a random name replaced by its definition above (X = Y + Z) leaves its names random
    randoms = {s for node in nodes for r in node.randoms for s in getattr(r, "free_symbols", ())}
    outside = sorted(map(str, (_outside(left) | _outside(right)) & randoms))
    if outside:
        return finding(
            "skipped",
            "identity",
            f"{', '.join(outside)} outside 𝔼: a claim about random quantities, not checked",
        )
    moments: dict[Any, Any] = {}
    flat_left, flat_right = (_linear(e, randoms, moments) for e in (left, right))
    verdict = check_identity(flat_left, flat_right, timeout=timeout)
    if verdict.status is Status.PROVED:
        return finding(
            "proved", "identity", f"by linearity of 𝔼 (constants out, sums split): {verdict.method}"
        )
    given = sorted({str(n.law) for n in nodes if not re.fullmatch(r"\w+", str(n.law))})
    given += sorted(f"of {r}" for r in map(str, randoms) if r in laws)
    if given:
        return finding(
            "skipped",
            "identity",
            f"𝔼 under the given distribution {given[0]} (the text states it): only what "
            "linearity gives is checked",
        )
    for side in (left, right):
        if isinstance(side, sp.Basic) and not side.free_symbols and not side.has(NoteExpectation):
            return finding(
                "skipped",
                "identity",
                f"a moment set to {sp.sstr(side)}: a fact about the distribution the text "
                "means (or a condition), not checked",
            )
    names_left = _outside(left) | {s for n in _expectations(left) for s in _names_in(n)}
    names_right = _outside(right) | {s for n in _expectations(right) for s in _names_in(n)}
    one_sided = sorted(map(str, (names_left ^ names_right) - randoms))
    if one_sided:
        return finding(
            "skipped",
            "identity",
            f"{', '.join(one_sided)} on one side only: names for moments? not checked",
        )
    if any(isinstance(e, sp.Basic) and e.has(AppliedUndef) for e in (left, right)):
        return finding(
            "unread",
            "identity",
            "not proved by linearity of 𝔼; 𝔼 of an unknown function is not tried on distributions",
        )
    ordered = sorted(randoms, key=str)
    constants = sorted(
        ((names_left | names_right) - randoms) - {m for m in moments.values()}, key=str
    )
    general = _law_witness(left, right, ordered, constants, independent=False)
    if general is None:
        return finding(
            "numeric",
            "identity",
            f"holds on {LAW_TRIALS} sampled distributions of two and three points (not "
            "by linearity alone)",
        )
    if len(ordered) > 1 and len({n.law for n in nodes}) == 1:
        apart = _law_witness(left, right, ordered, constants, independent=True)
        if apart is None:
            names = ", ".join(map(str, ordered))
            return finding(
                "conditional",
                "identity",
                f"holds when {names} are independent (on {LAW_TRIALS} sampled independent "
                f"laws), not in general: witness {general}",
            )
        general = apart
    return finding("refuted", "identity", f"fails for a finite distribution: witness {general}")


def _names_in(node: Any) -> set[Any]:
    return set(node.argument.free_symbols) | {
        s for inner in node.argument.atoms(NoteExpectation) for s in _names_in(inner)
    }


def _law_witness(
    left: Any, right: Any, randoms: list[Any], constants: list[Any], *, independent: bool
) -> str | None:
    """A finite distribution (and values of the constants) where the two sides differ,
    described in words, or None when none of the sampled ones is."""
    import random as _random

    rng = _random.Random(17 + independent)
    laws = sorted({n.law for n in _expectations(left, right)}, key=str)
    for trial in range(LAW_TRIALS):
        size = 2 if trial % 2 == 0 else 3
        low = -2 if trial % 4 < 2 else 0
        values = {c: sp.Rational(rng.randint(1, 9), rng.choice([1, 2, 4])) for c in constants}
        if independent:
            marginals = [
                [(sp.Integer(rng.randint(low, 3)), rng.randint(1, 4)) for _ in range(size)]
                for _ in randoms
            ]
            points = []
            for combo in itertools.product(*marginals):
                weight = 1
                for _, w in combo:
                    weight *= w
                points.append(({r: v for r, (v, _) in zip(randoms, combo, strict=True)}, weight))
            weights = {law: [w for _, w in points] for law in laws}
            at = [p for p, _ in points]
        else:
            at = [{r: sp.Integer(rng.randint(low, 3)) for r in randoms} for _ in range(size)]
            weights = {law: [rng.randint(1, 4) for _ in range(size)] for law in laws}
        probabilities = {law: [sp.Rational(w, sum(ws)) for w in ws] for law, ws in weights.items()}

        def mean(node: Any, at: Any = at, probabilities: Any = probabilities) -> Any:
            return sum(
                (
                    p * node.argument.xreplace(point)
                    for p, point in zip(probabilities[node.law], at, strict=True)
                ),
                sp.Integer(0),
            )

        sides = []
        for side in (left, right):
            done = side.replace(lambda e: isinstance(e, NoteExpectation), mean)
            sides.append(sp.sympify(done).xreplace(values))
        try:
            numbers = [complex(sp.N(v, 30)) for v in sides]
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if any(
            abs(v.imag) > 1e-12 or v.real != v.real or abs(v.real) == float("inf") for v in numbers
        ):
            continue
        a, b = numbers[0].real, numbers[1].real
        if abs(a - b) <= 1e-9 * (1 + abs(a) + abs(b)):
            continue
        return _describe_law(randoms, at, probabilities, values, sides, independent)
    return None


def _describe_law(
    randoms: list[Any], at: Any, probabilities: Any, values: Any, sides: Any, independent: bool
) -> str:
    names = ", ".join(map(str, randoms))
    if len(randoms) > 1:
        names = f"({names})"
    laws = []
    for law, ps in probabilities.items():
        where = "" if law == 0 else f" under {law}"
        rows = []
        for point, p in zip(at, ps, strict=True):
            value = ", ".join(str(point[r]) for r in randoms)
            rows.append(f"({value}) w.p. {p}" if len(randoms) > 1 else f"{value} w.p. {p}")
        laws.append(f"{names} = {'; '.join(rows)}{where}")
    kind = " (independent)" if independent else ""
    constants = ", ".join(f"{c}={v}" for c, v in values.items())
    shown = "; ".join(laws) + kind + (f", {constants}" if constants else "")
    lhs, rhs = (sp.sstr(sp.nsimplify(v) if v.is_Rational else sp.N(v, 12)) for v in sides)
    return f"{shown}: lhs={lhs}, rhs={rhs}"


def _positive_domain(*exprs: Any) -> tuple[dict[Any, Any] | None, tuple[str, ...]]:
    names = set().union(*(_log_arguments(e) for e in exprs))
    if not names:
        return None, ()
    listed = ", ".join(sorted(str(n) for n in names))
    return {name: positive for name in names}, (
        f"checked for {listed} > 0 (under a log or a root, as notes mean them)",
    )


SYMBOLIC_SUM_BUDGET = 2.0  # seconds for a proof at symbolic sizes before writing sums out
NOT_REAL = re.compile(r"(?<![A-Za-z_])I(?![A-Za-z_])")
SIZES = (2, 3)


def _judged(check: Any, args: tuple[Any, ...]) -> Any:
    """The engine's verdict, settled for notes: a Σ up to a size n that is not proved is
    checked again with n = 2 and 3 written out (its sampling would give n any real value),
    and so is a claim about entries z_i, z_k of free indices, with every value of the
    indices at those sizes (sampled apart, z_i and z_k would be two unrelated numbers even
    where i = k); a refutation whose witness makes a side not real is none (the claim is
    meant where both sides are real)."""
    # Σ_i w_i² by w_i: the bound i is renamed, apart from the free i
    args = tuple(_fresh_sum_indices(a) if isinstance(a, sp.Basic) else a for a in args)
    bounds = {
        limit[2].name
        for e in args
        if isinstance(e, sp.Basic)
        for total in e.atoms(sp.Sum, sp.Product)
        for limit in total.limits
        if isinstance(limit[2], sp.Symbol)
    }
    free = _free_indices(args)
    # sums up to a symbolic n: a short first try for a proof at every n (SymPy's sums can
    # run to the deadline), then the sums written out
    verdict = check(*args, t=SYMBOLIC_SUM_BUDGET) if bounds or free else check(*args)
    if (bounds or free) and verdict.status is not Status.PROVED:
        verdict = _at_sizes(check, args, bounds, free)
    witness = verdict.counterexample
    if (
        verdict.status is Status.REFUTED
        and witness is not None
        and (NOT_REAL.search(witness.lhs) or NOT_REAL.search(witness.rhs))
    ):
        return verdict.with_(
            status=Status.INCONCLUSIVE,
            detail=f"the sides differ only where one is not real ({witness.describe()}); "
            "declare the domain (e.g. 'scalar p positive') to check it there",
            counterexample=None,
        )
    return verdict


def _free_indices(args: tuple[Any, ...]) -> list[Any]:
    """The integer symbols that index an entry (z_k, δ_{ik}) and no Σ binds."""
    found: set[Any] = set()
    for e in args:
        if not isinstance(e, sp.Basic):
            continue
        for entry in e.atoms(sp.Indexed, sp.KroneckerDelta):
            indices = entry.indices if isinstance(entry, sp.Indexed) else entry.args
            found |= {s for i in indices for s in i.free_symbols if s.is_integer and s.is_Symbol}
        found -= {limit[0] for total in e.atoms(sp.Sum, sp.Product) for limit in total.limits}
    return sorted(found, key=sp.default_sort_key)


def _at_sizes(check: Any, args: tuple[Any, ...], bounds: set[str], free: Any = ()) -> Any:
    verdicts = []
    shown = []
    for size in SIZES:
        for values in itertools.product(range(1, size + 1), repeat=len(free)):
            if len(free) > 2 and size > SIZES[0]:
                break  # three free indices: every case of equal and unequal at the first size

            def at(expr: Any, size: int = size, values: Any = values) -> Any:
                if not isinstance(expr, sp.Basic):
                    return expr
                subs = {s: sp.Integer(size) for s in expr.free_symbols if s.name in bounds}
                subs.update(zip(free, map(sp.Integer, values), strict=True))
                done = expr.xreplace(subs)
                return done if isinstance(done, sp.Indexed) else done.doit()

            verdict = check(*(at(a) for a in args))
            where = ", ".join(
                [f"{b}={size}" for b in sorted(bounds)]
                + [f"{i}={v}" for i, v in zip(free, values, strict=True)]
            )
            if verdict.status is not Status.PROVED and verdict.status is not Status.NUMERIC:
                witness = verdict.counterexample
                if witness is not None and free:  # the indices' values belong to the witness
                    point = {str(i): str(v) for i, v in zip(free, values, strict=True)}
                    point.update({b: str(size) for b in sorted(bounds)})
                    witness = replace(witness, point={**point, **witness.point})
                return verdict.with_(
                    method=f"{verdict.method}, with the sums written out at {where}",
                    counterexample=witness,
                )
            verdicts.append(verdict)
        shown.append(", ".join(f"{b}={size}" for b in sorted(bounds)))
    sizes = "; ".join(shown)
    if free:
        names = ", ".join(map(str, free))
        sizes = f"{sizes} (every value of {names})" if bounds else f"every {names} in 1..3"
    return verdicts[0].with_(method=f"{verdicts[0].method}, with the sums written out at {sizes}")


# ``R(w) = …``: a letter before a bracket may be a call the reader took for a product
CALL_OR_PRODUCT = re.compile(r"(?<![\\A-Za-z_^])[A-Za-z]\s*(?:\\left)?\(")


def _log_arguments(expr: Any) -> set[Any]:
    """The names that are bare factors of a log's or a root's argument (log p, log(p/q),
    √v), and the families whose entries are (log(p_i/q_i)): the quantities notes take
    positive (probabilities, variances)."""
    if not isinstance(expr, sp.Basic):
        return set()
    found: set[Any] = set()
    arguments = [e.args[0] for e in expr.atoms(sp.log)]
    arguments += [e.base for e in expr.atoms(sp.Pow) if e.exp.is_Rational and not e.exp.is_integer]
    for argument in arguments:
        for factor in sp.Mul.make_args(argument):
            base = factor.base if isinstance(factor, sp.Pow) else factor
            if isinstance(base, sp.Symbol):
                found.add(base)
            elif isinstance(base, sp.Indexed):
                found.add(base.base)
    return found


def _elementwise(definition: Any, wrt: Any, rhs: Any) -> tuple[Any, Any, Any, tuple[str, ...]]:
    """``∂L_total/∂W`` where the definition sums over the entries of W (``Σ W²``): the claim
    is read entry by entry, ∂/∂W_i with W on the right the same entry W_i."""
    labels = {b.label for b in definition.atoms(sp.IndexedBase)}
    if not isinstance(wrt, sp.Symbol) or wrt in definition.free_symbols - labels:
        return definition, wrt, rhs, ()
    bases = [b for b in definition.atoms(sp.IndexedBase) if str(b.label) == wrt.name]
    if len(bases) != 1:
        return definition, wrt, rhs, ()
    entry = bases[0][sp.Symbol("i", integer=True, nonnegative=True, real=True)]
    note = f"read entry by entry: ∂/∂{entry}, with {wrt} on the right the same entry {entry}"
    return definition, entry, rhs.xreplace({wrt: entry}), (note,)


ENTRY_NAME = re.compile(r"(?P<base>.+)_(?P<index>[a-z])")


def _family_entries(definition: Any, wrt: Any, rhs: Any) -> tuple[Any, Any, Any]:
    """``∂s_i/∂z_k`` where s_i is defined over the family z (``Σ_j e^{z_j}``): the claim
    read before z showed itself a family names z_k a symbol; it is the entry z[k], on the
    right side too."""
    if not isinstance(definition, sp.Basic):
        return definition, wrt, rhs
    bases = {str(b.label): b for b in definition.atoms(sp.IndexedBase)}
    subs = {}
    for side in (wrt, rhs):
        for symbol in side.free_symbols if isinstance(side, sp.Basic) else ():
            match = ENTRY_NAME.fullmatch(symbol.name)
            if match and match["base"] in bases and not symbol.is_integer:
                index = sp.Symbol(match["index"], **INDEX_ASSUMPTIONS)
                subs[symbol] = bases[match["base"]][index]
    if not subs:
        return definition, wrt, rhs
    return definition, wrt.xreplace(subs), rhs.xreplace(subs) if isinstance(rhs, sp.Basic) else rhs


def _entry_definitions(expr: Any, ctx: _Context, keep: Any) -> dict[Any, Any]:
    """``s_k`` where the file defined ``s_i := f(i)`` (i an index of the definition): f(k)."""
    found = {}
    for symbol in expr.free_symbols:
        match = ENTRY_NAME.fullmatch(symbol.name)
        if match is None or symbol.name in ctx.definitions or str(symbol) == str(keep):
            continue
        for value, index in _entries_defined(match["base"], ctx):
            found[symbol] = value.xreplace({index: sp.Symbol(match["index"], **INDEX_ASSUMPTIONS)})
    return found


def _defined_entries(expr: Any, ctx: _Context, keep: Any) -> dict[Any, Any]:
    """``ŷ[j]`` under a Σ where the file defined ``ŷ_j := f(j)``: f at that index."""
    found = {}
    for entry in expr.atoms(sp.Indexed):
        if len(entry.indices) != 1 or entry == keep or str(entry.base) == str(keep):
            continue
        for value, index in _entries_defined(str(entry.base.label), ctx):
            found[entry] = value.xreplace({index: entry.indices[0]})
    return found


def _entries_defined(base: str, ctx: _Context) -> list[tuple[Any, Any]]:
    """The file's definitions ``ŷ_j := f(j)`` of entries of the family ``base``: each
    ``(f(j), j)``, with j the integer symbol of the definition's own index."""
    found = []
    for name, value in ctx.definitions.items():
        defined = ENTRY_NAME.fullmatch(name)
        if defined is None or defined["base"] != base:
            continue
        index = next(
            (
                s
                for s in getattr(value, "free_symbols", ())
                if s.name == defined["index"] and s.is_integer
            ),
            None,
        )
        if index is not None:
            found.append((value, index))
    return found


def _unknown_losses(
    definition: Any, rhs: Any, reading: Reading, lhs: Any, ctx: _Context, wrt: Any, entry: Any
) -> tuple[Any, Any, tuple[str, ...]]:
    """``L_total = L + …`` with ``∂L/∂W`` in the claim: the undefined L is a loss that
    depends on W (an unknown function L(W), as the catalog writes it), not a constant.
    ``entry`` is what the claim differentiates by (W, or its entry W_i)."""
    notes = []
    for symbol, of, by in reading.gradients:
        if symbol == lhs or not isinstance(of, sp.Symbol) or of.name in ctx.definitions:
            continue
        if by != wrt or not definition.has(of):
            continue
        loss = sp.Function(of.name, real=True)(entry)
        definition = definition.xreplace({of: loss})
        rhs = rhs.xreplace({symbol: sp.Derivative(loss, entry)})
        notes.append(f"{of} read as an unknown function of {entry} (the claim writes ∂{of}/∂{by})")
    return definition, rhs, tuple(notes)


def _undefined_gradient(text: str, ctx: _Context) -> str | None:
    """The L of a line ``∂L/∂x = …`` when L is not defined in the block."""
    match = re.match(r"\s*(?:∂|\\frac\{\\partial )(\w+)\}?/", text)
    if match is None or match[1] in ctx.definitions:
        return None
    return match[1]


def _jump(head: Any, body: Any, timeout: float) -> Any:
    """A piecewise function of one variable whose pieces both vary with it (a schedule,
    not a step) is meant to be continuous where the pieces meet: the verdict of
    ``symml verify``'s continuity check where it is not, else None."""

    if len(head.args) != 1 or not isinstance(body, sp.Piecewise):
        return None
    (var,) = head.args
    if not all(piece.has(var) for piece, _ in body.args):
        return None
    ctx = Context({}, 0, timeout)
    for _, condition in body.args:
        if not isinstance(condition, (sp.Lt, sp.Le, sp.Gt, sp.Ge)):
            continue
        left, right = condition.args
        at = right if left == var and not right.has(var) else None
        at = left if right == var and not left.has(var) else at
        if at is None:
            continue
        claim = Property(
            sheet=str(head), predicate="continuous_at", params=(("var", var), ("at", at))
        )
        verdict = check_property(body, claim, ctx, ())
        if verdict.status is Status.REFUTED:
            return verdict.with_(detail=f"{head} jumps where its pieces meet: {verdict.detail}")
    return None


KINKS = (F.relu, F.leaky_relu, sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.Piecewise)


def _at_kinks(verdict: Any, of: Any, finding: Any) -> Finding | None:
    """A derivative proved of a function with kinks holds only away from them, unless the
    engine located every join and found the function differentiable there (softsign
    x/(1 + |x|) at 0: no kink, and no condition to state)."""
    joins = [n for n in verdict.notes if "differentiable at" in n]
    if joins and all(n.startswith("differentiable at the join") for n in joins):
        return None
    if verdict.status in (Status.PROVED, Status.NUMERIC) and of.has(*KINKS):
        return finding(
            str(Status.CONDITIONAL),
            "derivative",
            f"{verdict.method}; holds only where {sp.sstr(of)} is differentiable "
            "(not at its kinks)",
        )
    return None


def _variables(expr: Any) -> set[Any]:
    if not isinstance(expr, sp.Basic):
        return set()
    found = set(expr.free_symbols)
    found |= {i.base for i in expr.atoms(sp.Indexed)}
    found -= {i for b in expr.atoms(sp.IndexedBase) for i in [b.label]}
    return {v for v in found if not isinstance(v, sp.Indexed)}


def _mentions(expr: Any, wrt: Any) -> bool:
    if isinstance(wrt, sp.Indexed):
        return any(a.base == wrt.base for a in expr.atoms(sp.Indexed))
    return expr.has(wrt)


def _fresh_sum_indices(expr: Any) -> Any:
    """Σᵢ … and ∂/∂ŷᵢ share the letter i; the bound one is renamed so they stay apart."""

    def rename(e: Any) -> Any:
        body, *limits = e.args
        new_limits = []
        for var, lo, hi in limits:
            fresh = sp.Symbol(f"{var.name}_sum", **var.assumptions0)
            body = body.xreplace({var: fresh})
            new_limits.append((fresh, lo, hi))
        return type(e)(body, *new_limits)

    return expr.replace(lambda e: isinstance(e, (sp.Sum, sp.Product)), rename)


def _expand(expr: Any, ctx: _Context, keep: Any = None) -> Any:
    """Replace functions and names defined earlier in the file by their definitions (except
    ``keep``, the variable a derivative is taken by), and the names in those definitions by
    theirs: L of a, a = σ(z), z = wx + b, then ∂L/∂w."""
    if not isinstance(expr, sp.Basic):
        return expr
    for _ in range(len(ctx.definitions) + len(ctx.functions) + 1):  # a chain, never a cycle
        expanded = _expand_once(expr, ctx, keep)
        if expanded == expr:
            break
        expr = expanded
    return expr


def _expand_once(expr: Any, ctx: _Context, keep: Any) -> Any:
    for head, body in ctx.functions.items():
        expr = expr.replace(
            lambda e, h=head, b=body: isinstance(e, h) and len(e.args) == len(b.variables),
            lambda e, b=body: b(*e.args),
        )
    subs = {
        sp.Symbol(n, real=True): v
        for n, v in ctx.definitions.items()
        if keep is None or n != str(keep)
    }
    subs.update(_entry_definitions(expr, ctx, keep))
    subs.update(_defined_entries(expr, ctx, keep))
    return expr.xreplace(subs) if subs else expr


def _report(verdict: Any, kind: str, finding: Any, notes: tuple[str, ...] = ()) -> Finding:
    detail = verdict.detail or verdict.method
    if notes:
        detail = f"{detail}; {'; '.join(notes)}"
    witness = verdict.counterexample.describe() if verdict.counterexample is not None else ""
    # a conditional verdict's detail ("fails without …: at …") quotes its witness already
    if witness and not (verdict.status is Status.CONDITIONAL and witness in detail):
        detail = f"{detail}; witness {witness}"
    if verdict.conditions:
        detail = f"{detail}; holds when {', '.join(verdict.conditions)}"
    return finding(str(verdict.status), kind, detail)


# -- update rules -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Heading:
    line: int
    title: str  # lower-cased
    level: int


def _named_algorithm(headings: list[Heading], line: int) -> tuple[bool, str | None, str]:
    """Whether a heading above ``line`` (the nearest, then the headings it sits under) names
    an optimizer; the catalog's name for it (None when the catalog has no reference); the
    heading's words."""
    limit = 99
    for heading in reversed([h for h in headings if h.line < line]):
        if heading.level >= limit:
            continue
        limit = heading.level
        for key, algorithm in ALGORITHM_HEADINGS:
            if key in heading.title:
                return True, algorithm, key
    return False, None, ""


def _groups(
    lines: list[tuple[int, Formula, Reading]],
) -> list[list[tuple[int, Formula, Reading]]]:
    """Assignments of one display are one update; a later display continues it when it
    reads a name the update assigned (Adam's bias correction shown apart) and assigns
    nothing it assigned already, else it starts another update."""
    groups: list[list[tuple[int, Formula, Reading]]] = []
    assigned: set[str] = set()
    for entry in lines:
        name = _base_name(entry[2].expr.lhs)
        reads = {_base_name(s) for s in entry[2].expr.rhs.free_symbols}
        new_display = not groups or entry[1].block != groups[-1][-1][1].block
        if new_display and (not groups or name in assigned or not reads & assigned):
            groups.append([])
            assigned = set()
        groups[-1].append(entry)
        assigned.add(name)
    return groups


def _base_name(target: Any) -> str:
    match = update_roles.TIME_INDEX.match(str(target))
    return match["base"] if match else str(target)


def _check_rule(
    lines: list[tuple[int, Formula, Reading]],
    earlier: list[tuple[int, Formula, Reading]],
    headings: list[Heading],
    timeout: float,
) -> list[tuple[int, Finding]]:
    found = []
    for group in _groups(lines):
        try:
            found += _check_update(group, earlier, headings, timeout)
        except Exception as exc:  # a SymPy failure is a finding, not a traceback
            detail = f"not checked: {type(exc).__name__}: {str(exc)[:150]}"
            if isinstance(exc, update_roles.Unreadable):
                detail = f"not checked: {exc}"
            found += [
                (i, Finding(f.path, f.line, f.text, UNREAD, "update_rule", detail))
                for i, f, _ in group
            ]
        earlier = group
    return found


def _block_of(lines: list[tuple[int, Formula, Reading]]) -> update_roles.Block:
    steps = [(r.expr.lhs, r.expr.rhs) for _, _, r in lines]
    parameter = _base_name(steps[-1][0])
    gradients = {
        symbol: of
        for _, _, reading in lines
        for symbol, of, wrt in reading.gradients
        if _base_name(wrt) == parameter
    }
    return update_roles.normalize(steps, gradients)


def _check_update(
    lines: list[tuple[int, Formula, Reading]],
    earlier: list[tuple[int, Formula, Reading]],
    headings: list[Heading],
    timeout: float,
) -> list[tuple[int, Finding]]:
    """A block of assignments checked as one step of the algorithm it claims to be, its
    names matched to the reference's roles (``symml.read.update_roles``)."""
    first = lines[0][1]
    named, algorithm, key = _named_algorithm(headings, first.line)

    def every_line(status: str, detail: str, how: str = "") -> list[tuple[int, Finding]]:
        return [
            (
                index,
                Finding(
                    formula.path,
                    formula.line,
                    formula.text,
                    status,
                    "update_rule",
                    detail if k == 0 or not how else f"{how}: see line {first.line}",
                ),
            )
            for k, (index, formula, _) in enumerate(lines)
        ]

    if named and algorithm is None:
        return every_line(UNREAD, f"not checked: the catalog has no reference for {key}")
    try:
        block = _block_of(lines)
    except update_roles.Unreadable as exc:
        return every_line(UNREAD if named else "recorded", f"not checked: {exc}")
    borrowed = ""
    if earlier:
        try:
            above = _block_of(earlier)
        except update_roles.Unreadable:
            above = None
        if above is not None:
            mine = set(block.targets)
            before = [(t, v) for t, v in above.steps if t != above.parameter and t not in mine]
            if {t for t, _ in before} & block.scalars():
                block = update_roles.Block(
                    tuple(before) + block.steps,
                    block.parameter,
                    (-1,) * len(before) + block.origin,
                )
                borrowed = f"; {', '.join(str(t) for t, _ in before)} as in the rule above"
    candidates = [algorithm] if named else list(algorithms.REFERENCES)
    for candidate in candidates:
        assert candidate is not None
        found = update_roles.match(candidate, block)
        if found is None or not found[1]:
            continue
        naming = found[0]
        verdict = _update_verdict(candidate, block, naming, timeout)
        by = "named by the heading" if named else "the best-matching reference"
        how = f"as {candidate} ({by})"
        reading = naming.describe()
        read = f"; read with {reading}" if reading else ""
        return every_line(str(verdict.status), f"{how}: {_detail(verdict)}{borrowed}{read}", how)
    if named:  # not the named algorithm: maybe the section recalls another one (AdaGrad
        # shown in the RMSProp section), which is no slip
        for other in algorithms.REFERENCES:
            found = update_roles.match(other, block)
            if other == algorithm or found is None or not found[1]:
                continue
            verdict = _update_verdict(other, block, found[0], timeout)
            how = f"as {other} (the heading names {algorithm}; the block is {other})"
            reading = found[0].describe()
            read = f"; read with {reading}" if reading else ""
            return every_line(str(verdict.status), f"{how}: {_detail(verdict)}{read}", how)
    blamed = update_roles.blame(algorithm, block) if named and algorithm else None
    if blamed is not None:
        return _blame_lines(algorithm, block, lines, blamed, borrowed, timeout)
    if named:
        states = ", ".join(sorted(update_roles.reference_states(algorithm)))
        scalars = ", ".join(sorted(update_roles.reference_scalars(algorithm)))
        return every_line(
            UNREAD,
            f"not checked: as {algorithm} (named by the heading), no naming of the block's "
            f"names fits the reference's roles (it keeps {states or 'only the parameter'}, "
            f"and reads {scalars})",
        )
    return every_line(
        "recorded",
        f"not checked: no reference algorithm ({', '.join(algorithms.REFERENCES)}) fits",
    )


def _blame_lines(
    algorithm: Any,
    block: update_roles.Block,
    lines: list[tuple[int, Formula, Reading]],
    blamed: tuple[update_roles.Naming, set[int]],
    borrowed: str,
    timeout: float,
) -> list[tuple[int, Finding]]:
    """An update that is not the named algorithm under any naming: each line judged on its
    own, with the reference's values for the lines above it; refuted are only the lines
    wrong under every naming that makes the fewest lines wrong."""

    naming, failing = blamed
    how = f"as {algorithm} (named by the heading)"
    reading = naming.describe()
    read = f"; read with {reading}" if reading else ""
    specs = {
        name: update_roles.spec(name)
        for name in (*update_roles.ROLE_DOMAINS, update_roles.GRADIENT_FUNCTION)
    }
    ctx = Context(specs, 0, timeout)
    by_line: dict[int, tuple[str, str]] = {}
    for k, line in enumerate(block.origin):
        if line < 0:
            continue  # a step borrowed from the update above
        outcome = None
        for variant in update_roles.variants(algorithm):
            local, expected = next(
                (loc, exp)
                for j, loc, exp in update_roles.local_steps(block, naming, variant)
                if j == k
            )
            if expected is None:
                break
            verdict = compare(local, expected, ctx)
            if verdict.status in GOOD:
                outcome = (
                    str(verdict.status),
                    f"{how}: this line, with the reference's values "
                    f"for the lines above, against {variant.name}: {_detail(verdict)}",
                )
                break
            if outcome is None and k in failing:
                outcome = (
                    str(verdict.status),
                    f"{how}: this line, with the reference's values "
                    f"for the lines above, against {variant.name}: {_detail(verdict)}",
                )
        if not failing:
            outcome = None
        by_line[line] = outcome or (
            UNREAD,
            f"not checked: {how}, the update differs from the reference under every naming; "
            "this line is not judged on its own",
        )
    found = []
    for number, (index, formula, _) in enumerate(lines):
        status, detail = by_line.get(
            number,
            (UNREAD, f"not checked: {how}, a line naming the gradient, not a step"),
        )
        found.append(
            (
                index,
                Finding(
                    formula.path,
                    formula.line,
                    formula.text,
                    status,
                    "update_rule",
                    f"{detail}{borrowed}{read}",
                ),
            )
        )
    return found


def _update_verdict(
    algorithm: str, block: update_roles.Block, naming: update_roles.Naming, timeout: float
) -> Any:
    """``symml verify``'s comparison of one step with the reference, on the block's names
    read as the roles of ``naming`` (against its variant, or every variant when none agrees)."""

    claimed = algorithms.run(naming.steps(block))
    specs = {
        name: update_roles.spec(name)
        for name in (*update_roles.ROLE_DOMAINS, update_roles.GRADIENT_FUNCTION)
    }
    ctx = Context(specs, 0, timeout)
    zero = {update_roles.role(r): 0 for r in naming.zero}
    chosen = [naming.variant] if naming.variant else list(update_roles.variants(algorithm))
    references = (
        (
            variant,
            {
                k: sp.sympify(v).xreplace(zero)
                for k, v in algorithms.run(variant.steps(update_roles.role)).items()
            },
        )
        for variant in chosen
    )
    notes = tuple(f"written without {r}: compared with {r} = 0" for r in naming.zero)
    return one_step_against(claimed, references, ctx, notes)


def _detail(verdict: Any) -> str:
    detail = verdict.method if not verdict.detail else f"{verdict.method}; {verdict.detail}"
    witness = verdict.counterexample.describe() if verdict.counterexample is not None else ""
    if witness and witness not in detail:  # verify's detail usually quotes it already
        detail = f"{detail}; witness {witness}"
    return "; ".join((detail, *verdict.notes))


# -- the report ---------------------------------------------------------------------------------
JUDGED = ("proved", "numeric", "refuted", "conditional")
NOT_CLAIMS = ("defined", "notation", "recorded", NOT_A_CLAIM)


def claim_class(finding: Finding) -> str:
    """judged, unread (a claim left without a verdict) or not-a-claim."""
    if finding.status in JUDGED:
        return "judged"
    if finding.status in NOT_CLAIMS or (
        finding.status == "skipped" and finding.kind == "expression"
    ):
        return "not-a-claim"
    return "unread"


def reason(finding: Finding) -> str:
    """An unread line's reason, without the text it quotes (so that lines group by it)."""
    detail = finding.detail or finding.status
    if "': " in detail:
        detail = detail.rsplit("': ", 1)[1]
    detail = re.sub(r"'[^'\s]*'", "'…'", detail.split("; ")[0])
    return detail[:100]


@dataclass(frozen=True)
class Summary:
    lines: int
    judged: int
    unread: int
    not_claims: int
    refuted: int
    statuses: tuple[tuple[str, int], ...]
    reasons: tuple[tuple[str, int], ...]  # the most common reasons lines were left unread

    @property
    def claims(self) -> int:
        return self.judged + self.unread

    def describe(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.statuses)
        head = (
            f"{self.lines} formula lines: {self.claims} claims, {self.judged} judged, "
            f"{self.unread} unread, {self.not_claims} not a claim ({counts})"
        )
        if not self.reasons:
            return head
        top = "; ".join(f"{n}× {r}" for r, n in self.reasons)
        return f"{head}\ntop unread reasons: {top}"


def summary(findings: list[Finding]) -> Summary:
    classes = [claim_class(f) for f in findings]
    statuses: dict[str, int] = {}
    for f in findings:
        statuses[f.status] = statuses.get(f.status, 0) + 1
    reasons: dict[str, int] = {}
    for f, c in zip(findings, classes, strict=True):
        if c == "unread":
            reasons[reason(f)] = reasons.get(reason(f), 0) + 1
    top = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return Summary(
        lines=len(findings),
        judged=classes.count("judged"),
        unread=classes.count("unread"),
        not_claims=classes.count("not-a-claim"),
        refuted=sum(1 for f in findings if f.status == "refuted"),
        statuses=tuple(sorted(statuses.items())),
        reasons=tuple(top),
    )


def explain(path: Path, line: int, *, timeout: float = 10.0, read_code: bool = False) -> str:
    """How the formulas on one line of a notes file were read and judged."""
    table, bold, text = file_symbols(path, read_text(path, "notes"))
    found = [f for f in formulas(path, text, read_code=read_code) if f.line == line]
    if not found:
        return f"{path}:{line}: no formula starts on this line (prose, code or a blank line)\n"
    verdicts = [f for f in check_file(path, timeout=timeout, read_code=read_code) if f.line == line]
    out = []
    for k, formula in enumerate(found):
        out.append(f"{path}:{line}: {formula.shown or formula.text}")
        out.append(f"  formula: {formula.text}")
        out.append(f"  read as: {'plain Unicode math' if formula.unicode else 'LaTeX'}")
        if formula.context:
            out.append(f"  {formula.context}")
        try:
            reading = _read(formula, table, bold)
        except (LatexParseError, SymmlError) as exc:
            out.append(f"  reading: not read: {exc}")
        else:
            relation = f" (relation {reading.relation})" if reading.relation else ""
            out.append(f"  reading: {sp.sstr(reading.expr)}{relation}")
            out += [f"    - {note}" for note in reading.notes]
        if k < len(verdicts):
            verdict = verdicts[k]
            out.append(f"  claim kind: {verdict.kind or 'none'} ({claim_class(verdict)})")
            out.append(f"  verdict: {verdict.status}")
            if verdict.detail:
                out.append(f"  method: {verdict.detail}")
    return "\n".join(out) + "\n"
