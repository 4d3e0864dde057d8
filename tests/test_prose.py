"""docs/prose.md accounts for every prose line of the sheet, and cites only real claims."""

import re
from pathlib import Path

import pytest
import sympy as sp

from symml.catalog.sheet_source import sheet_lines
from symml.engine.checking import check_claim

DOC = Path(__file__).resolve().parent.parent / "docs" / "prose.md"


def _rows(text: str) -> list[tuple[int, str, str, str]]:
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].isdigit():
            rows.append((int(cells[0]), cells[1], cells[2], cells[3]))
    return rows


def test_every_prose_line_of_the_sheet_is_a_claim_or_notation_only(sheet_text):
    listed = {(part, said) for part, said, _, _ in _rows(DOC.read_text(encoding="utf-8"))}
    prose = [
        (line.part, line.text) for line in sheet_lines(sheet_text, titles=True) if not line.in_code
    ]
    missing = [item for item in prose if item not in listed]
    assert missing == []


def test_every_row_says_how_it_is_recorded_and_cites_existing_claims(catalog):
    rows = _rows(DOC.read_text(encoding="utf-8"))
    assert len(rows) > 90
    for part, said, recorded, reason in rows:
        cited = re.findall(r"`([a-z_0-9]+\.[a-z_0-9]+)#(\d+)`", recorded)
        assert cited or recorded == "notation only", (part, said, recorded)
        assert reason, (part, said)
        for formula_id, number in cited:
            formula = catalog.get(formula_id)
            assert 1 <= int(number) <= len(formula.claims), (formula_id, number)
            assert formula.part == part, (formula_id, part)


def test_adams_variance_label_holds_only_for_a_zero_mean_gradient(catalog):
    formula = catalog.get("optim.adam_v")
    claim = formula.claims[1]
    assert "(second moment - variance)" in claim.sheet
    verdict = check_claim(formula, claim)
    assert (verdict.status.value, verdict.conditions) == ("conditional", ("Eq(mu_g, 0)",))
    point = verdict.counterexample.point
    mu, sigma = (float(sp.Rational(point[k])) for k in ("mu_g", "sigma_g"))
    # the witness: E[v̂] = μ² + σ² against the claimed variance σ²
    assert float(verdict.counterexample.lhs) == pytest.approx(mu**2 + sigma**2)
    assert float(verdict.counterexample.rhs) == pytest.approx(sigma**2)
