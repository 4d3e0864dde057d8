"""One catalog entry as text for the terminal: what ``symml show`` prints."""

from __future__ import annotations

from symml.catalog.model import Claim, Formula
from symml.render import serialize
from symml.render.statement import correction_math
from symml.render.text import text, unicode_text


def entry_text(formula: Formula) -> str:
    """The human-readable form of one entry."""
    lines = [
        f"{formula.id} — {formula.name}  (part {formula.part}: {formula.part_title})",
        "",
        "sheet:",
        *(f"    {line}" for line in formula.sheet.splitlines()),
        "",
        "formula:",
    ]
    value = text(formula.expr)
    lines.append(
        f"    {text(formula.lhs)} = {value}" if formula.lhs is not None else f"    {value}"
    )
    lines += ["", "symbols:"]
    for spec in formula.symbols:
        meaning = f" — {spec.meaning}" if spec.meaning else ""
        lines.append(f"    {spec.name}: {spec.describe()}{meaning}")
    if formula.claims:
        lines += ["", "claims (as the sheet states them):"]
    for number, claim in enumerate(formula.claims, 1):
        lines.append(f"  {number}. [{claim.kind}] {claim.sheet.splitlines()[0]}")
        lines += [f"     {extra}" for extra in claim.sheet.splitlines()[1:]]
        lines.append(f"     expected verdict: {claim.expected}")
        for key, value in _statement(claim):
            lines.append(f"     {key}: {value}")
        if claim.conditions:
            lines.append(
                "     holds when: "
                + ", ".join(c if isinstance(c, str) else unicode_text(c) for c in claim.conditions)
            )
        if claim.correction is not None:
            corrected = correction_math(formula, claim.correction)
            lines.append(
                f"     correction: {corrected.text if corrected else _text(claim.correction)}"
            )
        for reading in claim.readings:
            mark = {True: "correct", False: "wrong", None: "in use"}[reading.correct]
            lines.append(f"     reading ({mark}): {reading.name}: {text(reading.expr)}")
        if claim.note:
            lines.append(f"     note: {claim.note}")
    if formula.notes or formula.sheet_notes:
        lines += ["", "notes:", *(f"    {n}" for n in (*formula.sheet_notes, *formula.notes))]
    if formula.conventions:
        lines += ["", "conventions:"]
        lines += [f"    {c.framework}: {c.difference}" for c in formula.conventions]
    return "\n".join(lines) + "\n"


def _text(value: object) -> str:
    if isinstance(value, tuple):
        return "; ".join(f"{text(t)} := {text(v)}" for t, v in value)
    return value if isinstance(value, str) else text(value)


def _statement(claim: Claim) -> list[tuple[str, str]]:
    data = serialize.claim(claim)["statement"]
    rows = []
    for key, value in data.items():
        if isinstance(value, dict) and "text" in value:
            rows.append((key, value["text"]))
        elif isinstance(value, dict):
            rows.append((key, ", ".join(f"{k}={v['text'] if v else v}" for k, v in value.items())))
        elif isinstance(value, list) and value:
            rows.append((key, "; ".join(f"{a['text']} := {b['text']}" for a, b in value)))
        elif isinstance(value, str):
            rows.append((key, value))
    return rows
