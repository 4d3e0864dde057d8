"""What a formula and its claims say, as mathematics for people: TeX and Unicode side by side.

``formula_line(formula)`` is the entry as the sheet names it (``σ(z) = …``, ``GELU(z) = …``,
``∂L/∂W = …``, ``W ← W − η g``); ``claim_lines(formula, claim)`` the statements a claim makes,
one per line the sheet writes (an update rule has one per assignment).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.core.relational import Relational

from symml.catalog.model import Claim, Derivative, Formula, Identity, Notation, Property, UpdateRule
from symml.notation import SUBSCRIPTS, SUPERSCRIPTS, greek_tex, script_tex
from symml.render.latex import latex
from symml.render.text import unicode_text


@dataclass(frozen=True)
class Math:
    """One piece of mathematics: its LaTeX (math mode) and its Unicode text."""

    tex: str
    text: str


@dataclass(frozen=True)
class Line:
    """One statement of the sheet: its mathematics (or, for a property, the sheet's own words),
    and for an update the assignment it makes."""

    math: Math | None
    assignment: tuple[Any, Any] | None = None
    words: str = ""


def context(formula: Formula) -> tuple[str, ...]:
    return tuple(s.name for s in formula.symbols)


def expr_math(expr: Any, names: Sequence[str] = ()) -> Math:
    """An expression in the project's notation (LaTeX) and readable Unicode."""
    return Math(latex(expr, context=names), unicode_text(expr))


def assignment_math(target: Any, value: Any, names: Sequence[str] = ()) -> Math:
    t, v = expr_math(target, names), expr_math(value, names)
    return Math(rf"{t.tex} \leftarrow {v.tex}", f"{t.text} ← {v.text}")


# -- the sheet's own Unicode notation, as TeX -----------------------------------------------
_FUNCTIONS = {"tanh", "exp", "log", "max", "min", "sin", "cos", "det"}


def sheet_tex(text: str) -> str:
    """A short piece of the sheet's Unicode notation (a left-hand side: ``GELU(z)``,
    ``softmax(z)ᵢ``, ``∂L/∂W₂``, ``σ'(z)``) as LaTeX math."""
    text = text.strip()
    partial = re.fullmatch(r"∂(.+?)/∂(.+)", text)
    if partial:
        return rf"\frac{{\partial {sheet_tex(partial[1])}}}{{\partial {sheet_tex(partial[2])}}}"
    out: list[str] = []
    index = 0
    chars = unicodedata.normalize("NFD", text)
    while index < len(chars):
        char = chars[index]
        word = re.match(r"[A-Za-z]{2,}", chars[index:])
        if word:
            name = word[0]
            out.append("\\" + name if name in _FUNCTIONS else rf"\operatorname{{{name}}}")
            index += len(name)
            continue
        following = chars[index + 1] if index + 1 < len(chars) else ""
        if following == "\u0302":
            out.append(rf"\hat{{{char}}}")
            index += 2
            continue
        if char in SUBSCRIPTS or char in SUPERSCRIPTS:
            table, mark = (SUBSCRIPTS, "_") if char in SUBSCRIPTS else (SUPERSCRIPTS, "^")
            run = re.match(f"[{''.join(table)}]+", chars[index:])[0]
            body = "".join(script_tex(table[c]) for c in run).replace("T", r"\top")
            out.append(f"{mark}{{{body}}}")
            index += len(run)
            continue
        script = re.match(r"([_^])([A-Za-z0-9]+)", chars[index:])
        if script and chars[index : index + 2] != "^T":
            body = script[2]
            body = rf"\mathrm{{{body}}}" if len(body) > 1 and body.isalpha() else body
            out.append(f"{script[1]}{{{body}}}")
            index += len(script[0])
            continue
        if chars[index : index + 2] == "^T":
            out.append(r"^{\top}")
            index += 2
            continue
        greek = greek_tex(char)
        if greek is not None:
            out.append(greek + " ")
        elif char.isascii():
            out.append(char)
        else:
            raise ValueError(f"no LaTeX for {char!r} in the sheet's {text!r}")
        index += 1
    return (
        "".join(out)
        .strip()
        .replace(" _", "_")
        .replace(" ^", "^")
        .replace(" (", "(")
        .replace(" '", "'")
    )


def sheet_lhs(sheet: str) -> str | None:
    """The left-hand side the sheet writes before ``=`` or ``:=`` on its first line."""
    first = sheet.strip().splitlines()[0] if sheet.strip() else ""
    match = re.match(r"^\s*([^=:]+?)\s*:?=\s", first + " ")
    return match[1] if match else None


def is_update(formula: Formula) -> bool:
    """An algorithm step (``W := W − η g``): printed ``W ← W − η g``."""
    return ":=" in formula.sheet.splitlines()[0] if formula.sheet.strip() else False


def formula_line(formula: Formula) -> Math:
    """The entry's formula with its left-hand side as the sheet names it."""
    names = context(formula)
    tex = latex(formula)
    text_rhs = unicode_text(formula.expr)
    if formula.lhs is not None:
        lhs_text = unicode_text(formula.lhs)
        if is_update(formula):
            rhs_tex = tex.split(" = ", 1)[1] if " = " in tex else latex(formula.expr, context=names)
            return Math(
                rf"{latex(formula.lhs, context=names)} \leftarrow {rhs_tex}",
                f"{lhs_text} ← {text_rhs}",
            )
        return Math(tex, f"{lhs_text} = {text_rhs}")
    if r"\sim" in tex:
        return Math(tex, formula.sheet.splitlines()[0].strip())
    lhs = sheet_lhs(formula.sheet)
    if lhs is None:
        return Math(tex, text_rhs)
    return Math(f"{sheet_tex(lhs)} = {tex}", f"{lhs} = {text_rhs}")


def gradient_line(formula: Formula, wrt: str) -> Math:
    """The derived gradient by ``wrt``, headed by the formula's name (∂GELU(z)/∂z = …)."""

    from symml.engine.derive import grad  # deferred: start-up (only gradient lines derive)

    tex = latex(formula, grad=wrt)
    result = grad(formula, wrt)[0]
    value = result.readable if result.readable is not None else result.value
    wrt_math = expr_math(result.wrt, context(formula))
    head = _head(formula)
    if head is not None and tex.startswith(r"\frac{\partial}"):
        tex = rf"\frac{{\partial {head.tex}}}{{\partial {wrt_math.tex}}}" + tex[tex.index(" = ") :]
    of = head.text if head is not None else ""
    return Math(tex, f"∂{of}/∂{wrt_math.text} = {unicode_text(value)}")


def _head(formula: Formula) -> Math | None:
    if formula.lhs is not None:
        return expr_math(formula.lhs, context(formula))
    lhs = sheet_lhs(formula.sheet)
    return Math(sheet_tex(lhs), lhs) if lhs is not None else None


def claim_lines(formula: Formula, claim: Claim) -> tuple[Line, ...]:
    """The statements a claim makes; () when it is the formula line itself (a notation claim,
    or a property stated by the formula's own line)."""
    names = context(formula)
    if isinstance(claim, Property) and claim.sheet.strip() == formula.sheet.strip():
        stated = property_math(formula, claim)
        return (Line(stated),) if stated is not None else ()
    if isinstance(claim, Notation) or claim.sheet.strip() == formula.sheet.strip():
        return ()
    if isinstance(claim, UpdateRule):
        return tuple(Line(assignment_math(t, v, names), (t, v)) for t, v in claim.assignments)
    if isinstance(claim, Derivative):
        claimed = expr_math(claim.claimed, names)
        lhs = sheet_lhs(claim.sheet)
        try:
            head = Math(sheet_tex(lhs), lhs) if lhs is not None else None
        except ValueError:
            head = None
        if head is None:
            wrt = expr_math(claim.wrt, names)
            head = Math(rf"\frac{{\partial}}{{\partial {wrt.tex}}}", f"∂/∂{wrt.text}")
        return (Line(Math(f"{head.tex} = {claimed.tex}", f"{head.text} = {claimed.text}")),)
    if isinstance(claim, Identity):
        if claim.lhs == formula.lhs and claim.rhs == formula.expr:
            return ()  # the formula line states it
        lhs, rhs = expr_math(claim.lhs, names), expr_math(claim.rhs, names)
        return (Line(Math(f"{lhs.tex} = {rhs.tex}", f"{lhs.text} = {rhs.text}")),)
    words = " ".join(claim.sheet.split())
    return (Line(None, words=words[2:] if words.startswith("- ") else words),)


def property_math(formula: Formula, claim: Property) -> Math | None:
    """What a property says about the formula's own line (its predicate), as mathematics:
    ``η(0) = η₀``, ``decreasing in t``, ``E[z] = μ``; None for a predicate without a form."""
    names = context(formula)
    subject = formula.lhs if formula.lhs is not None else claim.subject
    var, at, val = claim.param("var"), claim.param("at"), claim.param("value")
    if claim.predicate == "monotone" and var is not None:
        word = "decreasing" if claim.param("direction") == "decreasing" else "increasing"
        v = expr_math(var, names)
        interval = claim.param("interval")
        if interval is not None:
            lo, hi = expr_math(interval.lo, names), expr_math(interval.hi, names)
            left, right = ("(" if interval.lo_open else "["), (")" if interval.hi_open else "]")
            return Math(
                rf"\text{{{word} in }} {v.tex} \text{{ on }} {left}{lo.tex}, {hi.tex}{right}",
                f"{word} in {v.text} on {left}{lo.text}, {hi.text}{right}",
            )
        return Math(rf"\text{{{word} in }} {v.tex}", f"{word} in {v.text}")
    if claim.predicate == "endpoint" and subject is not None and var is not None:
        return _equation(subject.subs(var, at), val, names)
    if claim.predicate == "continuous_at" and var is not None:
        v, a = expr_math(var, names), expr_math(at, names)
        return Math(
            rf"\text{{continuous at }} {v.tex} = {a.tex}", f"continuous at {v.text} = {a.text}"
        )
    if claim.predicate in ("expectation", "variance") and val is not None:
        shown = expr_math(formula.lhs if formula.lhs is not None else formula.expr, names)
        value = expr_math(val, names)
        op, word = (
            (r"\mathbb{E}", "E")
            if claim.predicate == "expectation"
            else (r"\operatorname{Var}", "Var")
        )
        return Math(
            rf"{op}\left[{shown.tex}\right] = {value.tex}", f"{word}[{shown.text}] = {value.text}"
        )
    return None


def _equation(lhs: Any, rhs: Any, names: Sequence[str]) -> Math:
    left, right = expr_math(lhs, names), expr_math(rhs, names)
    return Math(f"{left.tex} = {right.tex}", f"{left.text} = {right.text}")


def correction_math(formula: Formula, correction: Any) -> Math | None:
    """A claim's recorded correction as mathematics; None when it is prose."""
    names = context(formula)
    if isinstance(correction, tuple):
        pieces = [assignment_math(t, v, names) for t, v in correction]
        return Math(r",\quad ".join(p.tex for p in pieces), "; ".join(p.text for p in pieces))
    if isinstance(correction, sp.Basic):
        head = _head(formula)
        math = expr_math(correction, names)
        if head is not None and not isinstance(correction, Relational):
            return Math(f"{head.tex} = {math.tex}", f"{head.text} = {math.text}")
        return math
    return None


__all__ = [
    "Line",
    "Math",
    "assignment_math",
    "claim_lines",
    "correction_math",
    "expr_math",
    "formula_line",
    "gradient_line",
    "is_update",
    "sheet_lhs",
    "sheet_tex",
]
