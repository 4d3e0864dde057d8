"""`symml check` on notes: the sheet's own claims, a refuted claim, declarations, the CLI."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from symml import parse_cli
from symml.check import check_file
from symml.parse.unicode import parse_unicode, unicode_to_latex

SHEET = Path("/work/shared/sheet/ml-formula-sheet.md")


def run(argv: list[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    handlers = parse_cli.add_commands(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(argv)
    out = io.StringIO()
    return handlers[args.cmd](None, args, out), out.getvalue()


def test_unicode_sheet_lines_translate():
    assert unicode_to_latex("∂L/∂W") == r"\frac{\partial L}{\partial W}"
    assert "^{(-z)}" in unicode_to_latex("e^(-z)")
    assert str(parse_unicode("σ'(z) = σ(z)(1 - σ(z))")) == (
        "Eq(Derivative(sigmoid(z), z), (1 - sigmoid(z))*sigmoid(z))"
    )


# The sheet lines that are claims in the catalog, with the verdict `symml verify` gives them
# (docs/errata.md): every line of an update rule carries the verdict of its block.
SHEET_VERDICTS = {
    38: "proved",  # σ'(z) = σ(z)(1 - σ(z))
    45: "proved",  # tanh'(z) = 1 - tanh²(z)
    52: "conditional",  # ReLU'(z): not at the kink
    88: "proved",  # MSE ∂L/∂ŷᵢ
    109: "proved",  # BCE ∂L/∂ŷ
    171: "proved",  # gradient descent
    177: "proved",  # SGD
    182: "proved",  # momentum
    183: "proved",
    189: "refuted",  # Nesterov: the look-ahead point drops η
    190: "refuted",
    195: "proved",  # AdaGrad (ε inside the root: a convention)
    196: "proved",
    202: "proved",  # RMSprop
    203: "proved",
    209: "proved",  # Adam
    210: "proved",
    212: "proved",
    213: "proved",
    215: "proved",
    223: "proved",  # AdamW (m̂, v̂ from the Adam block)
}


@pytest.fixture(scope="module")
def sheet_findings():
    if not SHEET.exists():
        pytest.skip("the shared sheet is not beside the repo")
    return {f.line: f for f in check_file(SHEET, timeout=5)}


def test_sheet_claims_agree_with_verify(sheet_findings):
    assert {n: sheet_findings[n].status for n in SHEET_VERDICTS} == SHEET_VERDICTS
    refuted = sorted(n for n, f in sheet_findings.items() if f.status == "refuted")
    assert refuted == [189, 190]
    assert "recorded" not in {f.status for f in sheet_findings.values()}


def test_sheet_update_rules_name_algorithm_and_witness(sheet_findings):
    nesterov = sheet_findings[189].detail
    assert nesterov.startswith("as nesterov (named by the heading)")
    assert "W=" in nesterov and "grad_L=" in nesterov  # the witness point
    assert sheet_findings[190].detail == "as nesterov (named by the heading): see line 189"
    assert "ε inside the square root" in sheet_findings[195].detail
    assert "torch.optim.RMSprop" in sheet_findings[202].detail
    assert "mhat, vhat as in the rule above" in sheet_findings[223].detail


def test_update_rule_without_heading_matches_best_reference(tmp_path):
    note = tmp_path / "opt.md"
    note.write_text(
        "# My optimizer\n\n```\nv := β·v + ∂L/∂W\nW := W - η·v\n```\n\n"
        "# Another\n\n```\nW := W + η · ∂L/∂W\n```\n",
        encoding="utf-8",
    )
    rows = {f.line: f for f in check_file(note, timeout=5)}
    assert rows[4].status == rows[5].status == "proved"
    assert rows[4].detail.startswith("as momentum (the best-matching reference)")
    assert rows[11].status == "refuted"  # ascent, not descent


def test_assignment_of_no_known_algorithm_is_recorded(tmp_path):
    note = tmp_path / "loop.md"
    note.write_text("# Loop\n\n```\ni := i + 1\n```\n\n### Adam\n\n```\nq := 2·q\n```\n")
    rows = {f.line: f for f in check_file(note, timeout=5)}
    assert rows[4].status == rows[10].status == "recorded"
    assert rows[4].detail.startswith("not checked: no reference algorithm (gradient_descent,")
    assert rows[10].detail == (
        "not checked: as adam, the block assigns q, which the adam reference does not"
    )


def test_refuted_claim_exits_1_with_witness(tmp_path):
    note = tmp_path / "notes.md"
    note.write_text(
        "---\nscalar z\n---\n# Notes\n\n"
        "$$\\sigma(z) = \\frac{1}{1+e^{-z}}$$\n\n"
        "The derivative is $\\sigma'(z) = \\sigma(z)(1+\\sigma(z))$.\n",
        encoding="utf-8",
    )
    code, text = run(["check", str(note)])
    assert code == 1
    assert "notes.md:8: refuted" in text and "witness" in text
    code, text = run(["check", str(note), "--json"])
    rows = json.loads(text)
    assert [r["status"] for r in rows] == ["proved", "refuted"]


def test_tex_declarations_make_matrices(tmp_path):
    note = tmp_path / "n.tex"
    note.write_text(
        "% symml: matrix W m n\n% symml: vector x n\n"
        "\\[ \\frac{\\partial}{\\partial x} (x^T x) = 2x \\]\n",
        encoding="utf-8",
    )
    code, text = run(["check", str(note), "--all"])
    assert "n.tex:3:" in text


def test_parse_command_prints_reading():
    code, text = run(["parse", r"\hat{y}_i + \log x"])
    assert code == 0
    assert "yhat_i" in text and "natural logarithm" in text
