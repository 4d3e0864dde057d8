"""The generated documents are what the current code generates: docs/errata.md byte for byte,
docs/sheet.pdf by its text (pdftotext; the PDF's own bytes carry pdflatex's timestamps).
Regenerate both with ``python3 scripts/regenerate_docs.py``."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from symml.cli import main as cli
from symml.engine.checking import verify
from symml.render import report, sheet

DOCS = Path(__file__).resolve().parent.parent / "docs"
REGENERATE = "run `python3 scripts/regenerate_docs.py` and review the diff"
FORBIDDEN = ("Ne(", "Eq(", "Sum(", "Piecewise(", "↦", "**", "<=")

needs_tex = pytest.mark.skipif(
    sheet.tex_engine() is None or shutil.which("pdftotext") is None,
    reason="pdflatex/pdftotext missing: run .ci/install-tex.sh",
)


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


# The frameworks of the test environment; torch is optional, so its claims stay out of the docs.
ERRATA_FRAMEWORKS = ("jax", "optax")


def test_errata_is_what_verify_writes(catalog):
    pytest.importorskip("optax", reason="the errata are measured against optax and jax")
    generated = report.errata(verify(catalog=catalog, against=ERRATA_FRAMEWORKS), catalog)
    assert generated == (DOCS / "errata.md").read_text(encoding="utf-8"), REGENERATE


@needs_tex
def test_sheet_pdf_text_is_what_the_sheet_command_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "EXTENSIONS", ("symml.cli.sheet",))
    target = tmp_path / "sheet.pdf"
    argv = ["sheet", "--pdf", "--against", ",".join(ERRATA_FRAMEWORKS), "-o", str(target)]
    assert cli.main(argv, io.StringIO()) == 0
    assert pdf_text(target) == pdf_text(DOCS / "sheet.pdf"), REGENERATE


@needs_tex
def test_sheet_pdf_reads_as_mathematics_with_the_nesterov_mark_on_the_velocity_line():
    text = pdf_text(DOCS / "sheet.pdf")
    assert {token: text.count(token) for token in FORBIDDEN} == dict.fromkeys(FORBIDDEN, 0)
    # -layout keeps each printed line together: the mark and the velocity update share one,
    # the corrected rule follows
    lines = subprocess.run(
        ["pdftotext", "-layout", str(DOCS / "sheet.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    marked = [
        n for n, line in enumerate(lines) if "[refuted] vmom ← βvmom + ∇L (W − βvmom )" in line
    ]
    assert len(marked) == 1
    # the corrected rule sits right under it (a neighbouring column may add a line between)
    below = lines[marked[0] + 1 : marked[0] + 4]
    assert any("true: vmom ← βvmom + ∇L (W − βηvmom )" in line for line in below), below
