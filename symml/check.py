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
  matches), the sheet's names are mapped to the roles of ``symml.algorithms`` and the step
  is checked as ``symml verify`` checks the catalog's update rules.

Declarations: a ``---`` front-matter block at the top of .md, ``% symml: …`` comment lines
in .tex, or a sidecar ``FILE.symml``; the format is ``symml.parse.table``'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from symml import algorithms
from symml import functions as F
from symml.domains import natural, nonnegative, positive, real, unit_open
from symml.equality import Context
from symml.errors import SymmlError
from symml.model import Domain, Status, SymbolSpec, UpdateRule
from symml.parse.errors import LatexParseError
from symml.parse.latex import Reading, read_latex
from symml.parse.table import SymbolTable
from symml.parse.unicode import read_unicode

MATH_PATTERNS = (
    re.compile(r"\$\$(.+?)\$\$", re.S),
    re.compile(r"\\\[(.+?)\\\]", re.S),
    re.compile(r"\\begin\{(?:equation|align)\*?\}(.+?)\\end\{(?:equation|align)\*?\}", re.S),
    re.compile(r"(?<![\\$])\$([^$\n]+?)\$(?!\$)"),
)


@dataclass(frozen=True)
class Formula:
    path: str
    line: int
    text: str
    unicode: bool  # plain Unicode math (code blocks) rather than LaTeX
    block: int = 0  # definitions hold within one block (a code block or a display)


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
ALGORITHM_HEADINGS: tuple[tuple[str, str], ...] = (
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

# The roles of ``symml.algorithms``' references and their domains, as the catalog declares
# them (derivations/p04_optimization.py), so the sheet is checked on the same values.
ROLE_DOMAINS: dict[str, Domain] = {
    "W": real,
    "g": real,
    "eta": positive,
    "beta": unit_open,
    "beta_1": unit_open,
    "beta_2": unit_open,
    "epsilon": positive,
    "lambda": positive,
    "v_mom": real,
    "v": nonnegative,
    "m": real,
    "mhat": real,
    "vhat": nonnegative,
    "G": nonnegative,
    "t": natural,
}
GRADIENT_FUNCTION = "grad_L"  # ∂L/∂W(…): the gradient evaluated elsewhere than at W
VELOCITY_ALGORITHMS = ("momentum", "nesterov")  # their v is the velocity v_mom, not Adam's v
# ∂L/∂W directly followed by a bracket is the gradient as a function: ∂L/∂W(W - β·v)
GRADIENT_CALL = (
    re.compile(r"∂(\w+)/∂(\w+)\("),
    re.compile(r"\\frac\{\\partial (\w+)\}\{\\partial (\w+)\}\("),
)


# -- finding formulas ------------------------------------------------------------------------
def declarations(path: Path, text: str) -> tuple[SymbolTable, str]:
    """The file's symbol table and its text with the declaration block blanked (lines kept)."""
    table = SymbolTable(default_size="n")
    sidecar = path.with_name(path.name + ".symml")
    if sidecar.exists():
        table = table.merged(SymbolTable.parse(sidecar.read_text(), source=str(sidecar)))
    lines = text.splitlines()
    if path.suffix == ".md" and lines and lines[0].strip() == "---":
        end = next((k for k in range(1, len(lines)) if lines[k].strip() == "---"), None)
        if end is not None:
            block = "\n".join(lines[1:end])
            table = table.merged(SymbolTable.parse(block, source=f"{path}:front-matter"))
            lines = [""] * (end + 1) + lines[end + 1 :]
    if path.suffix == ".tex":
        block = "\n".join(
            line.split("symml:", 1)[1] for line in lines if line.lstrip().startswith("% symml:")
        )
        table = table.merged(SymbolTable.parse(block, source=str(path)))
    return replace(table, default_size=table.default_size or "n"), "\n".join(lines)


def formulas(path: Path, text: str) -> list[Formula]:
    found: list[Formula] = []
    if path.suffix == ".md":
        in_code = False
        block = 0
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip().startswith("```"):
                in_code = not in_code
                block += 1
                continue
            if in_code and line.strip() and line.strip() not in ("...", "…"):
                found.append(Formula(str(path), number, _strip_comment(line), True, block))
        text = re.sub(r"```.*?```", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    taken: list[tuple[int, int]] = []
    for pattern in MATH_PATTERNS:
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b in taken):
                continue
            taken.append((m.start(), m.end()))
            line = text.count("\n", 0, m.start()) + 1
            for k, part in enumerate(re.split(r"\\\\", m.group(1))):
                part = part.replace("&", " ").strip().rstrip(".,;")
                if part:
                    found.append(Formula(str(path), line + k, part, False, -m.start() - 1))
    return sorted(found, key=lambda f: f.line)


def _strip_comment(line: str) -> str:
    """Sheets put remarks after two spaces: ``∂L/∂zᵢ = ŷᵢ - yᵢ  (when combined …)``."""
    return re.split(r"\s{2,}(?=[(\[A-Za-z])", line.strip(), maxsplit=1)[0].strip()


# -- checking ---------------------------------------------------------------------------------
@dataclass
class _Context:
    table: SymbolTable
    definitions: dict[str, Any]  # name -> expression (L = …)
    functions: dict[Any, Any]  # function class -> Lambda (σ(z) = …)
    assignments: list[tuple[int, Formula, Reading]] = field(default_factory=list)


def check_file(path: str | Path, *, timeout: float = 10.0) -> list[Finding]:
    path = Path(path)
    table, text = declarations(path, path.read_text(encoding="utf-8"))
    headings = _headings(text)
    findings: list[Finding] = []
    block = None
    ctx = _Context(table, {}, {})
    earlier: list[tuple[int, Formula, Reading]] = []  # the previous update rule's lines

    def settle_rule() -> None:
        nonlocal earlier
        if ctx.assignments:
            for index, finding in _check_rule(ctx.assignments, earlier, headings, timeout):
                findings[index] = finding
            earlier = ctx.assignments
            ctx.assignments = []

    for formula in formulas(path, text):
        if formula.block != block:  # a new block: earlier definitions no longer hold
            settle_rule()
            block = formula.block
            ctx = _Context(table, {}, {})
        finding = _check(formula, ctx, timeout, len(findings))
        if finding.kind != "update_rule":
            settle_rule()
        findings.append(finding)
    settle_rule()
    return findings


def _headings(text: str) -> list[tuple[int, str]]:
    """Markdown headings by line, lower-cased (a ``#`` inside a code block is a comment)."""
    found = []
    in_code = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith("```"):
            in_code = not in_code
        elif not in_code and line.lstrip().startswith("#"):
            found.append((number, line.strip("#* :").lower()))
    return found


def _read(formula: Formula, table: SymbolTable) -> Reading:
    text = formula.text
    if ":=" in text and any(p.search(text) for p in GRADIENT_CALL):
        for pattern in GRADIENT_CALL:
            text = pattern.sub(lambda m: f"{GRADIENT_FUNCTION}(", text)
        table = table.merged(SymbolTable.parse(f"function {GRADIENT_FUNCTION}"))
    return (read_unicode if formula.unicode else read_latex)(text, symbols=table)


def _check(formula: Formula, ctx: _Context, timeout: float, index: int = 0) -> Finding:
    def finding(status: str, kind: str, detail: str = "") -> Finding:
        return Finding(formula.path, formula.line, formula.text, status, kind, detail)

    try:
        reading = _read(formula, ctx.table)
    except (LatexParseError, SymmlError) as exc:
        return finding("unread", "", str(exc))
    if reading.families:  # a family met under Σ is a family in later lines too
        extra = {f: sp.IndexedBase(f, real=True) for f in reading.families if not ctx.table.get(f)}
        ctx.table = ctx.table.with_(**extra)
        reading = _read(formula, ctx.table)
    expr = reading.expr
    if reading.relation == ":=":
        ctx.assignments.append((index, formula, reading))
        return finding("recorded", "update_rule", "an assignment; checked with its block")
    if reading.relation != "=":
        return finding("skipped", "expression", "not a claim")
    lhs, rhs = expr.lhs, expr.rhs
    try:
        return _claim(lhs, rhs, reading, ctx, finding, timeout)
    except SymmlError as exc:
        return finding(str(Status.ERROR), "claim", str(exc))
    except Exception as exc:  # a SymPy failure is a finding, not a traceback
        return finding(str(Status.ERROR), "claim", f"{type(exc).__name__}: {str(exc)[:150]}")


def _claim(
    lhs: Any, rhs: Any, reading: Reading, ctx: _Context, finding: Any, timeout: float
) -> Finding:
    from symml.verify import check_derivative, check_identity

    gradients = {s: (of, wrt) for s, of, wrt in reading.gradients}
    # a definition: f(z) = expr (f undefined so far) or L = expr
    if isinstance(lhs, AppliedUndef) and all(isinstance(a, sp.Symbol) for a in lhs.args):
        if type(lhs) not in ctx.functions:
            ctx.functions[type(lhs)] = sp.Lambda(lhs.args, rhs)
            return finding("defined", "definition", f"{type(lhs).__name__} := {sp.sstr(rhs)}")
    if (
        isinstance(lhs, sp.Symbol)
        and lhs not in gradients
        and lhs.name not in ctx.definitions
        and not rhs.has(lhs)
    ):
        ctx.definitions[lhs.name] = rhs
        return finding("defined", "definition", f"{lhs.name} := {sp.sstr(rhs)}")
    rhs = _expand(rhs, ctx)
    if lhs in gradients:
        of, wrt = gradients[lhs]
        name = str(of)
        if name not in ctx.definitions:
            return finding("skipped", "derivative", f"{name} is not defined in this file")
        definition = _fresh_sum_indices(ctx.definitions[name])
        if not _mentions(definition, wrt):
            return finding(
                "skipped", "derivative", f"{name} as defined does not depend on {wrt}; declare how"
            )
        verdict = check_derivative(definition, wrt, rhs, timeout=timeout)
        return _report(verdict, "derivative", finding)
    if isinstance(lhs, (sp.Derivative, sp.Subs)):
        deriv = lhs if isinstance(lhs, sp.Derivative) else None
        if deriv is None or len(deriv.variables) != 1:
            return finding("skipped", "derivative", "only first derivatives in one variable")
        of = _expand(deriv.expr, ctx)
        verdict = check_derivative(of, deriv.variables[0], rhs, timeout=timeout)
        kinks = (F.relu, F.leaky_relu, sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.Piecewise)
        if verdict.status in (Status.PROVED, Status.NUMERIC) and of.has(*kinks):
            return finding(
                str(Status.CONDITIONAL),
                "derivative",
                f"{verdict.method}; holds only where {sp.sstr(of)} is differentiable "
                "(not at its kinks)",
            )
        return _report(verdict, "derivative", finding)
    left = _expand(lhs, ctx)
    if _variables(left) != _variables(rhs):
        return finding("skipped", "identity", "the two sides are not over the same variables")
    verdict = check_identity(left, rhs, timeout=timeout)
    return _report(verdict, "identity", finding)


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


def _expand(expr: Any, ctx: _Context) -> Any:
    """Replace functions and names defined earlier in the file by their definitions."""
    if not isinstance(expr, sp.Basic):
        return expr
    for head, body in ctx.functions.items():
        expr = expr.replace(lambda e, h=head: isinstance(e, h), lambda e, b=body: b(*e.args))
    subs = {sp.Symbol(n, real=True): v for n, v in ctx.definitions.items()}
    return expr.xreplace(subs) if subs else expr


def _report(verdict: Any, kind: str, finding: Any) -> Finding:
    detail = verdict.detail or verdict.method
    if verdict.counterexample is not None:
        detail = f"{detail}; witness {verdict.counterexample.describe()}"
    if verdict.conditions:
        detail = f"{detail}; holds when {', '.join(verdict.conditions)}"
    return finding(str(verdict.status), kind, detail)


# -- update rules -------------------------------------------------------------------------------
def _check_rule(
    lines: list[tuple[int, Formula, Reading]],
    earlier: list[tuple[int, Formula, Reading]],
    headings: list[tuple[int, str]],
    timeout: float,
) -> list[tuple[int, Finding]]:
    """A block of assignments checked as one step of the algorithm it claims to be."""
    first = lines[0][1]
    heading = next((title for number, title in reversed(headings) if number < first.line), "")
    named = next((alg for key, alg in ALGORITHM_HEADINGS if key in heading), None)
    candidates = [named] if named else list(algorithms.REFERENCES)
    outcome: tuple[str, Any, str] | None = None
    for algorithm in candidates:
        try:
            verdict, borrowed = _check_as(algorithm, lines, earlier, timeout)
        except SymmlError as exc:
            outcome = outcome or (algorithm, None, str(exc))
            continue
        if verdict.status in (Status.PROVED, Status.NUMERIC) or named:
            outcome = (algorithm, verdict, borrowed)
            break
        if outcome is None or outcome[1] is None:
            outcome = (algorithm, verdict, borrowed)
    assert outcome is not None
    algorithm, verdict, extra = outcome
    how = f"as {algorithm} ({'named by the heading' if named else 'the best-matching reference'})"
    if verdict is None:  # no reference fits: an assignment, not an algorithm the engine knows
        status = "recorded"
        detail = (
            f"not checked: as {algorithm}, {extra}"
            if named
            else f"not checked: no reference algorithm ({', '.join(algorithms.REFERENCES)}) fits"
        )
    else:
        status = str(verdict.status)
        detail = f"{how}: {_detail(verdict)}{extra}"
    found = []
    for k, (index, formula, _) in enumerate(lines):
        text = detail if k == 0 or verdict is None else f"{how}: see line {first.line}"
        found.append(
            (index, Finding(formula.path, formula.line, formula.text, status, "update_rule", text))
        )
    return found


def _check_as(
    algorithm: str,
    lines: list[tuple[int, Formula, Reading]],
    earlier: list[tuple[int, Formula, Reading]],
    timeout: float,
) -> tuple[Any, str]:
    """The verdict of ``symml verify``'s update-rule check on these lines read as
    ``algorithm``, and a note if targets were taken from the rule above (AdamW's m̂, v̂)."""
    from symml.verify import check_update_rule

    steps = _roles(algorithm, lines)
    needed = _reference_targets(algorithm)
    assigned = {str(target) for target, _ in steps}
    borrowed = ""
    if earlier and needed - assigned:
        before = [s for s in _roles(algorithm, earlier) if str(s[0]) not in assigned]
        if {str(t) for t, _ in before} & (needed - assigned):
            steps = before + steps
            borrowed = f"; {', '.join(str(t) for t, _ in before)} as in the rule above"
    if not assigned <= needed:  # else the check compares only the shared targets
        unknown = ", ".join(sorted(assigned - needed))
        raise SymmlError(f"the block assigns {unknown}, which the {algorithm} reference does not")
    specs = {name: _spec(name) for name in (*ROLE_DOMAINS, GRADIENT_FUNCTION)}
    rule = UpdateRule(
        sheet="\n".join(f.text for _, f, _ in lines),
        algorithm=algorithm,
        assignments=tuple(steps),
    )
    return check_update_rule(rule, Context(specs, 0, timeout)), borrowed


def _reference_targets(algorithm: str) -> set[str]:
    names: set[str] = set()
    for variant in algorithms.REFERENCES[algorithm]:
        names |= {target for target, _ in variant.steps(lambda n: _spec(n).symbol)}
    return names


def _spec(role: str) -> SymbolSpec:
    if role == GRADIENT_FUNCTION:
        return SymbolSpec(role, sp.Function(role, real=True), "function", real)
    domain = ROLE_DOMAINS[role]
    return SymbolSpec(role, sp.Symbol(role, **domain.assumptions()), "scalar", domain)


def _roles(algorithm: str, lines: list[tuple[int, Formula, Reading]]) -> list[tuple[Any, Any]]:
    """The assignments with the sheet's names replaced by the references' roles: the
    gradient ∂L/∂W of the weights W is g, and v is the velocity for momentum methods."""
    weights = lines[-1][2].expr.lhs
    rename = {"v": "v_mom"} if algorithm in VELOCITY_ALGORITHMS else {}
    grad = _spec(GRADIENT_FUNCTION).symbol
    steps = []
    for _, _, reading in lines:
        subs: dict[Any, Any] = {}
        for symbol, _of, wrt in reading.gradients:
            if str(wrt) == str(weights):
                subs[symbol] = _spec("g").symbol
        for symbol in reading.expr.free_symbols:
            role = rename.get(symbol.name, symbol.name)
            if symbol not in subs and role in ROLE_DOMAINS:
                subs[symbol] = _spec(role).symbol
        target, value = (
            side.xreplace(subs).replace(
                lambda e: isinstance(e, AppliedUndef) and e.func.__name__ == GRADIENT_FUNCTION,
                lambda e: grad(*e.args),
            )
            for side in (reading.expr.lhs, reading.expr.rhs)
        )
        steps.append((target, value))
    return steps


def _detail(verdict: Any) -> str:
    detail = verdict.method if not verdict.detail else f"{verdict.method}; {verdict.detail}"
    witness = verdict.counterexample.describe() if verdict.counterexample is not None else ""
    if witness and witness not in detail:  # verify's detail usually quotes it already
        detail = f"{detail}; witness {witness}"
    return "; ".join((detail, *verdict.notes))
