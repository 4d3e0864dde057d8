"""`symml grad` over every catalog (formula, variable) pair: no crash, and the answers the
issue asked for (docs/grad-table.md is the generated table)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from symml.render.grad_table import CRASH, ELEMENTWISE, MATRIX_FORM, REFUSED, SCALAR, rows

DOC = Path(__file__).resolve().parent.parent / "docs" / "grad-table.md"


@pytest.fixture(scope="module")
def table(catalog):
    return {(r.formula, r.variable): r for r in rows(catalog, timeout=5.0)}


def test_no_pair_crashes(table):
    crashes = [(k, r.answer) for k, r in table.items() if r.outcome == CRASH]
    assert crashes == []
    assert len(table) >= 200


def test_every_refusal_is_one_line_with_a_reason(table):
    for r in table.values():
        if r.outcome == REFUSED:
            assert "\n" not in r.answer and ": " in r.answer, r


@pytest.mark.parametrize(
    ("formula", "variable", "outcome", "pattern"),
    [
        ("lstm.forget_gate", "h_prev", MATRIX_FORM, r"^DiagMatrix\(.*\*W_f\[:, :H\]$"),
        ("backprop.grad_z_activation", "z", MATRIX_FORM, r"DiagMatrix\(dL_da\)"),
        ("losses.mse", "yhat_vec[i]", SCALAR, r"^2\*\(-y_vec\[i\] \+ yhat_vec\[i\]\)/n$"),
        ("losses.cce", "yhat_cls[j]", SCALAR, r"^-y_cls\[j\]/yhat_cls\[j\]$"),
        ("regularization.l2", "W[i]", SCALAR, r"^lambda\*W\[i\] \+ Derivative\(L\(W\[i\]\)"),
        ("forward.linear", "x", MATRIX_FORM, r"^W$"),
        ("forward.linear", "W", REFUSED, r"4-index tensor; ask for a VJP"),
        ("transformer.ffn", "x", MATRIX_FORM, r"Heaviside"),
    ],
)
def test_the_pairs_the_issue_measured(table, formula, variable, outcome, pattern):
    r = table[(formula, variable)]
    assert r.outcome == outcome, r
    assert re.search(pattern, r.answer), r.answer


def test_the_documented_table_lists_every_pair(table):
    text = DOC.read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| (\S+) \| `([^`]+)` \|", text, flags=re.M))
    assert listed == set(table)
    assert "crash: 0" in text
    assert {r.outcome for r in table.values()} <= {MATRIX_FORM, ELEMENTWISE, SCALAR, REFUSED}
