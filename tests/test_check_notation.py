"""`symml check` on the notation of issue 17's rest: unbounded sums Σ_j, expectations 𝔼,
densities p(x), and a gradient written with the wrong shape. A correct line is never refuted."""

from __future__ import annotations

from pathlib import Path

import pytest

from symml.check import check_file


def verdicts(tmp_path: Path, *lines: str, prose: str = "") -> list[str]:
    """The status of each display line, in order (one display a line)."""
    text = prose + "\n\n" + "\n\n".join(f"$${line}$$" for line in lines) + "\n"
    path = tmp_path / "notes.md"
    path.write_text(text, encoding="utf-8")
    found = [f for f in check_file(path, timeout=5) if f.line > prose.count("\n") + 1]
    return [f.status for f in found]


# -- unbounded sums: one range per index letter, shared within the file ------------------------
SUMS_CORRECT = [
    r"\log\sum_j e^{z_j + c} = c + \log\sum_j e^{z_j}",
    r"\frac{\partial}{\partial z_k} \log \sum_j e^{z_j} = \frac{e^{z_k}}{\sum_j e^{z_j}}",
    r"\frac{\partial}{\partial z_k} \frac{e^{z_i}}{\sum_j e^{z_j}} = "
    r"\frac{e^{z_i}}{\sum_j e^{z_j}} \left(\delta_{ik} - \frac{e^{z_k}}{\sum_j e^{z_j}}\right)",
    r"\frac{\partial}{\partial z_k} \left(-\log \frac{e^{z_y}}{\sum_j e^{z_j}}\right) = "
    r"\frac{e^{z_k}}{\sum_j e^{z_j}} - \delta_{ky}",
    r"\sum_j \frac{e^{z_j}}{\sum_k e^{z_k}} = 1",
    r"\frac1N \sum_i c = c",
    r"\frac{1}{N}\sum_i (x_i + y_i) = \frac1N\sum_i x_i + \frac1N \sum_i y_i",
    r"\frac{\partial}{\partial w} \frac1n\sum_i (w x_i - y_i)^2 = \frac2n \sum_i (w x_i - y_i) x_i",
]

SUMS_WRONG = [
    r"\log\sum_j e^{z_j + c} = \log\sum_j e^{z_j}",
    r"\frac{\partial}{\partial z_k} \log \sum_j e^{z_j} = e^{z_k}",
    r"\frac{\partial}{\partial z_k} \frac{e^{z_i}}{\sum_j e^{z_j}} = "
    r"\frac{e^{z_i}}{\sum_j e^{z_j}} \left(\delta_{ik} + \frac{e^{z_k}}{\sum_j e^{z_j}}\right)",
    r"\frac{\partial}{\partial z_k} \frac{e^{z_i}}{\sum_j e^{z_j}} = "
    r"- \frac{e^{z_i} e^{z_k}}{(\sum_j e^{z_j})^2}",
    r"\frac{\partial}{\partial z_k} \left(-\log \frac{e^{z_y}}{\sum_j e^{z_j}}\right) = "
    r"\frac{e^{z_k}}{\sum_j e^{z_j}} - 1",
]


@pytest.mark.parametrize("line", SUMS_CORRECT)
def test_unbounded_sums_correct_lines_are_proved(tmp_path, line):
    assert verdicts(tmp_path, line) == ["proved"]


@pytest.mark.parametrize("line", SUMS_WRONG)
def test_unbounded_sums_slips_are_refuted(tmp_path, line):
    assert verdicts(tmp_path, line) == ["refuted"]


def test_unbounded_sum_runs_to_the_bound_the_file_writes(tmp_path):
    prose = r"The loss is $L = \frac{1}{m}\sum_{i=1}^{m} \ell_i$ over $m$ examples."
    assert verdicts(tmp_path, r"\sum_i 1 = m", prose=prose) == ["proved"]


def test_a_sum_set_to_a_number_is_a_condition_not_refuted(tmp_path):
    assert verdicts(tmp_path, r"\sum_j p_j = 1") == ["skipped"]
