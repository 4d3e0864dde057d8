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


@pytest.mark.skipif(not SHEET.exists(), reason="the shared sheet is not beside the repo")
def test_sheet_claims_agree_with_verify():
    by_line = {f.text: f.status for f in check_file(SHEET, timeout=5)}
    assert by_line["σ'(z) = σ(z)(1 - σ(z))"] == "proved"
    assert by_line["tanh'(z) = 1 - tanh²(z)"] == "proved"
    assert by_line["∂L/∂ŷᵢ = (2/n)(ŷᵢ - yᵢ)"] == "proved"
    assert by_line["∂L/∂ŷ = -(y/ŷ) + (1-y)/(1-ŷ)"] == "proved"
    assert by_line["ReLU'(z) = 1 if z > 0, else 0"] == "conditional"
    assert "refuted" not in by_line.values()


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
