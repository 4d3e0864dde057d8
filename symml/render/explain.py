"""Verdicts for people: one account of each verdict, shared by the sheet (LaTeX and Markdown),
``symml show``, the ``symml verify`` table and the errata report.

``judge(formula, number, verdict)`` says, for each line the claim makes, which tag goes beside
it, the correction beside the claim (``true: v ← βv + ∇L(W − ηβv)``) and a short explanation
under it: the condition as mathematics (``holds only when z ≠ 0``), an ambiguity as its named
readings with one numeric example, a refutation as ``e.g. at …: claimed … vs true …``. A
``Phrase`` is words and mathematics; ``as_text`` and ``as_markdown`` render it (the sheet's
LaTeX renderer is ``symml.render.sheet.phrase_tex``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy as sp

from symml.catalog.model import Claim, Formula, Status, UpdateRule
from symml.engine.verdict import Verdict
from symml.render.statement import (
    Line,
    Math,
    assignment_math,
    claim_lines,
    correction_math,
    expr_math,
    formula_line,
)

Span = str | Math
Phrase = tuple[Span, ...]

# Verdicts that need words beside the tag.
NOTEWORTHY = (Status.REFUTED, Status.CONDITIONAL, Status.AMBIGUOUS, Status.ERROR)
_EXAMPLE_SYMBOLS = 4  # at most this many values in an "e.g. at …", then "…"


@dataclass(frozen=True)
class Judged:
    """One line of the sheet with the tag that judges it.

    ``line`` None is the formula's own line; ``status`` None marks a line of a claim whose tag
    sits on another of its lines (a step rule's correct line when the velocity line is wrong).
    """

    claim: str
    line: Line | None
    status: Status | None
    method: str = ""
    beside: Phrase = ()
    why: tuple[Phrase, ...] = ()


def judge(formula: Formula, number: int, verdict: Verdict) -> tuple[Judged, ...]:
    """The tagged lines of claim ``number`` (1-based) of ``formula``."""
    claim = formula.claims[number - 1]
    claim_id = f"{formula.id}#{number}"
    lines = claim_lines(formula, claim)
    why = reasons(formula, claim, verdict)
    beside = _beside(formula, claim, verdict)
    if not lines:
        return (Judged(claim_id, None, verdict.status, verdict.method, beside, why),)
    if (
        isinstance(claim, UpdateRule)
        and verdict.status is Status.REFUTED
        and isinstance(claim.correction, tuple)
    ):
        return _judge_steps(formula, claim, claim_id, lines, verdict, why)
    owner = _own_line(formula, lines)
    return tuple(
        Judged(claim_id, line, verdict.status, verdict.method, beside, why)
        if index == owner
        else Judged(claim_id, line, None, verdict.method)
        for index, line in enumerate(lines)
    )


def _own_line(formula: Formula, lines: Sequence[Line]) -> int:
    """The line that states the formula itself (a step rule's own step), else the first."""
    for index, line in enumerate(lines):
        if line.assignment is not None and _same(line.assignment, (formula.lhs, formula.expr)):
            return index
    return 0


def _same(one: tuple[Any, Any], other: tuple[Any, Any]) -> bool:
    return all(
        a is not None and b is not None and sp.sympify(a) == sp.sympify(b)
        for a, b in zip(one, other, strict=False)
    )


def _judge_steps(
    formula: Formula,
    claim: UpdateRule,
    claim_id: str,
    lines: Sequence[Line],
    verdict: Verdict,
    why: tuple[Phrase, ...],
) -> tuple[Judged, ...]:
    """A refuted update rule: the mark and the corrected assignment on each wrong line."""
    corrected = dict(claim.correction)
    names = [s.name for s in formula.symbols]
    wrong = [
        index
        for index, line in enumerate(lines)
        if line.assignment is not None
        and line.assignment[0] in corrected
        and corrected[line.assignment[0]] != line.assignment[1]
    ] or [0]
    out = []
    for index, line in enumerate(lines):
        if index not in wrong:
            out.append(Judged(claim_id, line, None, verdict.method))
            continue
        target = line.assignment[0] if line.assignment else None
        beside: Phrase = ()
        if target is not None and target in corrected:
            beside = ("true: ", assignment_math(target, corrected[target], names))
        first = index == wrong[0]
        out.append(
            Judged(claim_id, line, verdict.status, verdict.method, beside, why if first else ())
        )
    return tuple(out)


def _beside(formula: Formula, claim: Claim, verdict: Verdict) -> Phrase:
    if verdict.status is not Status.REFUTED or claim.correction is None:
        return ()
    try:
        math = correction_math(formula, claim.correction)
    except Exception:  # noqa: BLE001 - a correction that cannot be typeset is shown as text
        math = None
    if math is None:
        return ("true: " + " ".join(str(claim.correction).split()),)
    return ("true: ", math)


# -- the explanation under a tag ----------------------------------------------------------------
def reasons(formula: Formula, claim: Claim, verdict: Verdict) -> tuple[Phrase, ...]:
    """Short lines saying why a refuted, conditional, ambiguous or failed claim is so."""
    status = verdict.status
    if status is Status.CONDITIONAL:
        return (("holds only when ", *_conditions(formula, claim, verdict)),)
    if status is Status.AMBIGUOUS:
        return _ambiguity(formula, claim, verdict)
    if status is Status.REFUTED:
        sides = ("claimed ", "true ") if claim.kind.value != "property" else ("", "")
        if getattr(claim, "predicate", "") == "continuous_at":
            names = [s.name for s in formula.symbols]
            var, at = expr_math(claim.param("var"), names), expr_math(claim.param("at"), names)
            where = Math(f"{var.tex} = {at.tex}", f"{var.text} = {at.text}")
            sides = (("limit from the left at ", where, ": "), ("value there ",))
        if isinstance(claim, UpdateRule) and len(claim.assignments) > 1:
            names = [s.name for s in formula.symbols]
            state = [expr_math(t, names) for t, _ in claim.assignments]
            joined = Math(
                r"\left(" + ", ".join(m.tex for m in state) + r"\right)",
                "(" + ", ".join(m.text for m in state) + ")",
            )
            sides = (("claimed ", joined, " = "), ("true ",))
        example = _example(formula, verdict, *sides)
        return (example,) if example else ((_short(verdict.detail),) if verdict.detail else ())
    if status is Status.ERROR:
        return ((_short(verdict.detail or verdict.method),),)
    return ()


def _conditions(formula: Formula, claim: Claim, verdict: Verdict) -> Phrase:
    names = [s.name for s in formula.symbols]
    stated = [c for c in claim.conditions if not isinstance(c, str)]
    spans: list[Span] = []
    if stated and len(stated) == len(verdict.conditions or stated):
        pieces = [expr_math(c, names) for c in stated]
        spans.append(Math(r",\ ".join(p.tex for p in pieces), ", ".join(p.text for p in pieces)))
    else:
        spans.append(", ".join(verdict.conditions))
    prose = [c for c in claim.conditions if isinstance(c, str)]
    if prose and stated:
        spans.append(" and " + ", ".join(prose))
    return tuple(spans)


def _ambiguity(formula: Formula, claim: Claim, verdict: Verdict) -> tuple[Phrase, ...]:
    statuses = {s.value for s in Status}
    readings = verdict.readings or tuple((r.name, "", r.note) for r in claim.readings)
    if readings and all(status in statuses for _, status, _ in readings):
        # each reading was checked on its own: say what each gives
        return tuple(
            (
                f"read as {name}: {status}"
                + (f" ({_short(detail, 70)})" if detail and status != "proved" else ""),
            )
            for name, status, detail in readings
        )
    names = " vs ".join(name for name, _, _ in readings[:2])
    example = _example(formula, verdict, "", "")
    if not example:
        return ((f"{names}: they differ",),)
    return ((f"{names}: they differ, ", *example),)


def _example(formula: Formula, verdict: Verdict, left: str | Phrase, right: str | Phrase) -> Phrase:
    """``e.g. at z = ½: 0.543 vs 0.622`` from a counterexample; () when there is none."""
    witness = verdict.counterexample
    if witness is None:
        return ()
    names = [s.name for s in formula.symbols]
    spans: list[Span] = ["e.g. at "]
    shown = point(witness.point, names)
    if not shown:
        spans[0] = "e.g."
    for index, piece in enumerate(shown):
        spans += [", " if index else "", piece]
    stand_ins = [k for k, v in witness.point.items() if "↦" in v]
    if stand_ins:
        functions = [expr_math(sp.Symbol(k), names) for k in stand_ins]
        spans += [" (with a test polynomial for ", *_joined(functions), ")"]
    left = (left,) if isinstance(left, str) else left
    right = (right,) if isinstance(right, str) else right
    spans += [": ", *left, value(witness.lhs), " vs ", *right, value(witness.rhs)]
    return tuple(s for s in spans if s != "")


def _joined(pieces: Sequence[Math]) -> list[Span]:
    out: list[Span] = []
    for index, piece in enumerate(pieces):
        out += [", "] if index else []
        out.append(piece)
    return out


def point(values: dict[str, str], names: Sequence[str] = ()) -> list[Math]:
    """``name = value`` for a witness's point, every entry of a matrix with one value given once
    (``z₁ = ½``), function stand-ins left out."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for key, raw in values.items():
        if "↦" in raw:
            continue
        match = re.fullmatch(r"(\w+)\[(.*)\]", key)
        base, index = (match[1], match[2]) if match else (key, "")
        grouped.setdefault(base, []).append((index, raw))
    out = []
    for base, items in grouped.items():
        name = expr_math(sp.Symbol(base), names)
        if len({raw for _, raw in items}) == 1:
            out.append(_equals(name, number(items[0][1])))
            continue
        for index, raw in items:
            plain = re.fullmatch(r"\\?[A-Za-z]+|\\(hat|tilde|bar)\{[A-Za-z]\}", name.tex)
            base = name.tex if plain else rf"\left({name.tex}\right)"
            sub = Math(rf"{base}_{{{index.replace(' ', '')}}}", f"{name.text}[{index}]")
            out.append(_equals(sub, number(raw)))
    if len(out) > _EXAMPLE_SYMBOLS:
        return [*out[:_EXAMPLE_SYMBOLS], Math(r"\ldots", "…")]
    return out


def _equals(name: Math, val: Math) -> Math:
    return Math(f"{name.tex} = {val.tex}", f"{name.text} = {val.text}")


_VULGAR = {Fraction(1, 2): "½", Fraction(1, 3): "⅓", Fraction(1, 4): "¼", Fraction(3, 4): "¾"}


def number(raw: str) -> Math:
    """A witness value for reading: small fractions as fractions (½), the rest to 3 digits."""
    try:
        exact = Fraction(raw.strip())
    except (ValueError, ZeroDivisionError):
        try:
            exact = Fraction(float(raw))
        except ValueError:
            return Math(rf"\text{{{raw}}}", raw)
    sign, size = ("-", -exact) if exact < 0 else ("", exact)
    if size.denominator == 1:
        return Math(f"{sign}{size.numerator}", f"{sign and '−'}{size.numerator}")
    if size.denominator <= 4 and size.numerator < 10:
        text = _VULGAR.get(size, f"{size.numerator}/{size.denominator}")
        return Math(
            rf"{sign}\tfrac{{{size.numerator}}}{{{size.denominator}}}", f"{sign and '−'}{text}"
        )
    shown = f"{float(size):.3g}"
    if "e" in shown:
        mantissa, exponent = shown.split("e")
        return Math(
            rf"{sign}{mantissa} \cdot 10^{{{int(exponent)}}}",
            f"{sign and '−'}{mantissa}·10^{int(exponent)}",
        )
    return Math(f"{sign}{shown}", f"{sign and '−'}{shown}")


def value(raw: str) -> Math:
    """A side's value at a witness: a number, or a list of them (one number when all agree)."""
    raw = raw.strip()
    if raw.startswith("[") and raw.endswith("]"):
        items = [number(x) for x in raw[1:-1].split(",") if x.strip()]
        if len({m.text for m in items}) == 1:
            return items[0]
        return Math(
            r"\left(" + ", ".join(m.tex for m in items) + r"\right)",
            "(" + ", ".join(m.text for m in items) + ")",
        )
    if re.fullmatch(r"-?[\d./e+-]+", raw):
        return number(raw)
    return Math(rf"\text{{{_short(raw, 40)}}}", _short(raw, 40))


def _short(text: str, width: int = 150) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# -- rendering ----------------------------------------------------------------------------------
def as_text(phrase: Phrase) -> str:
    """Unicode text for the terminal."""
    return "".join(span.text if isinstance(span, Math) else span for span in phrase)


def as_markdown(phrase: Phrase) -> str:
    """Markdown with inline ``$…$`` mathematics (GitHub, Jupyter and KaTeX render it)."""
    return "".join(
        f"${span.tex.strip()}$" if isinstance(span, Math) else markdown_escape(span)
        for span in phrase
    )


def markdown_escape(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]<>#|$])", r"\\\1", text)


def verdict_phrase(verdict: Verdict) -> Phrase:
    """A verdict on its own (no catalog at hand): status, method, conditions, example."""
    head = " ".join(part for part in (tag(verdict.status), verdict.claim) if part)
    spans: list[Span] = [f"{head} — {verdict.method}"]
    if verdict.conditions:
        spans.append("; holds only when ")
        for index, condition in enumerate(verdict.conditions):
            spans.append(", " if index else "")
            spans.append(_condition_math(condition))
    elif verdict.counterexample is not None and verdict.status is not Status.PROVED:
        spans += ["; ", *_example_only(verdict)]
    return tuple(s for s in spans if s != "")


def _condition_math(condition: str) -> Span:

    bases = {name: sp.IndexedBase(name) for name in re.findall(r"(\w+)\[", condition)}
    try:
        return expr_math(sp.sympify(condition, locals=bases))
    except (sp.SympifyError, TypeError, SyntaxError, AttributeError):
        return condition


def _example_only(verdict: Verdict) -> Phrase:
    witness = verdict.counterexample
    spans: list[Span] = ["e.g. at "]
    for index, piece in enumerate(point(witness.point)):
        spans += [", " if index else "", piece]
    spans += [": ", value(witness.lhs), " vs ", value(witness.rhs)]
    return tuple(s for s in spans if s != "")


def verdict_tex(verdict: Verdict) -> str:
    """A verdict as LaTeX text with inline mathematics (Jupyter's ``_repr_latex_``)."""
    body = "".join(
        span.tex if isinstance(span, Math) else rf"\text{{{_tex_text(span)}}}"
        for span in verdict_phrase(verdict)
    )
    return f"${body}$"


def _tex_text(text: str) -> str:
    return re.sub(r"([&%$#_{}])", r"\\\1", text).replace("—", "--").replace("\u2192", "->")


def statement_phrase(line: Line | None, formula: Formula) -> Phrase:
    """The statement a tag judges: the claim's mathematics, its words, or the formula line."""
    if line is None:
        return (formula_line(formula),)
    return (line.math,) if line.math is not None else (line.words,)


def tag(status: Status) -> str:
    return f"[{status.value}]"


def lines_text(formula: Formula, judged: Sequence[Judged], indent: str = "") -> list[str]:
    """The judged lines for the terminal: ``[tag] statement   true: …`` then the reasons."""
    out = []
    for item in judged:
        mark = tag(item.status) if item.status is not None else " " * 6
        beside = f"   {as_text(item.beside)}" if item.beside else ""
        out.append(f"{indent}{mark} {as_text(statement_phrase(item.line, formula))}{beside}")
        out += [f"{indent}    {as_text(reason)}" for reason in item.why]
    return out


__all__ = [
    "Judged",
    "Math",
    "NOTEWORTHY",
    "Phrase",
    "Span",
    "as_markdown",
    "as_text",
    "judge",
    "lines_text",
    "markdown_escape",
    "number",
    "point",
    "reasons",
    "statement_phrase",
    "tag",
    "value",
]
