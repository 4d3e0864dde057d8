"""Notes leave things unstated that a verdict must not read as false: a function they name
but never define, and targets that sum to 1. Neither may turn a correct line into a
refuted one; a line wrong under the intended meaning stays refuted."""

from __future__ import annotations

from pathlib import Path

import pytest

from symml.read.check import check_file

SOFTMAX_CE = (
    r"\frac{\partial}{\partial z_i} \left(-\sum_j y_j \log \frac{e^{z_j}}{\sum_k e^{z_k}}\right)"
)
SOFTMAX_I = r"\frac{e^{z_i}}{\sum_k e^{z_k}}"


def _verdicts(tmp_path: Path, *lines: str) -> dict[int, tuple[str, str]]:
    note = tmp_path / "notes.md"
    note.write_text(
        "# Notes\n\n" + "\n\n".join(f"$${line}$$" for line in lines) + "\n", encoding="utf-8"
    )
    return {f.line: (f.status, f.detail) for f in check_file(note, timeout=10)}


def test_a_function_named_on_one_side_only_is_not_refuted(tmp_path):
    # φ, the normal density beside Φ, is defined nowhere: the line is about that φ, and a
    # polynomial standing in for it refuted a correct line.
    found = _verdicts(
        tmp_path,
        r"\frac{d}{dx} x\,\Phi(x) = \Phi(x) + x\,\phi(x)",
        r"\Phi'(x) = \phi(x)",
    )
    assert found[3] == (
        "skipped",
        "phi is not defined in this section and stands on one side only: some particular "
        "function, not every function; define it (phi(t) = …) to check the line",
    )
    assert found[5][0] == "skipped"


def test_a_function_defined_above_is_used_and_the_line_judged(tmp_path):
    found = _verdicts(
        tmp_path,
        r"\phi(t) = \frac{1}{\sqrt{2\pi}} e^{-t^2/2}",
        r"\frac{d}{dx} x\,\Phi(x) = \Phi(x) + x\,\phi(x)",
        r"\frac{d}{dx} x\,\Phi(x) = \Phi(x) + \phi(x)",
    )
    assert found[3][0] == "defined"
    assert found[5][0] == "proved"
    assert found[7][0] == "refuted"


@pytest.mark.parametrize(
    ("claim", "status"),
    [
        (r"\frac{d}{dx}\left(f(x) g(x)\right) = f'(x) g(x) + f(x) g'(x)", "proved"),
        # a rule for every f and g mentions them on both sides: refuted for a stand-in
        (r"\frac{d}{dx}\left(f(x) g(x)\right) = f'(x) g'(x)", "refuted"),
        (r"\frac{d}{dx} f(x)^2 = 2 f(x)", "refuted"),
    ],
)
def test_rules_for_every_function_are_still_judged(tmp_path, claim, status):
    assert _verdicts(tmp_path, claim)[3][0] == status


def test_cross_entropy_gradient_holds_for_targets_summing_to_one(tmp_path):
    found = _verdicts(tmp_path, f"{SOFTMAX_CE} = {SOFTMAX_I} - y_i")
    status, detail = found[3]
    assert status == "conditional"
    assert detail.startswith(
        "holds when Σ_j y_j = 1 (y one-hot or a probability vector, as a target is), which "
        "the notes do not state; without it refuted: at "
    )


def test_a_cross_entropy_gradient_wrong_for_every_target_stays_refuted(tmp_path):
    found = _verdicts(tmp_path, f"{SOFTMAX_CE} = y_i - {SOFTMAX_I}")
    assert found[3][0] == "refuted"


SHAPES = r"Let $x \in \mathbb{R}^n$ and $A \in \mathbb{R}^{n \times n}$."


def _with_shapes(tmp_path: Path, *lines: str) -> dict[int, tuple[str, str]]:
    note = tmp_path / "vectors.md"
    body = "\n\n".join(f"$${line}$$" for line in lines)
    note.write_text(f"# Vectors\n\n{SHAPES}\n\n{body}\n", encoding="utf-8")
    return {f.line: (f.status, f.detail) for f in check_file(note, timeout=10)}


def test_quadratic_form_gradient_holds_for_a_symmetric_matrix(tmp_path):
    found = _with_shapes(
        tmp_path,
        r"\nabla_x (x^\top A x) = 2Ax",
        r"\nabla_x (x^\top A x) = (A + A^\top)x",
        r"\nabla_x (x^\top A x) = Ax",
    )
    status, detail = found[5]
    assert status == "conditional"
    assert detail.startswith(
        "holds when A is symmetric (A = Aᵀ), which the notes do not state; without it "
        "refuted: at n=2, "
    )
    assert found[7][0] == "proved"
    assert found[9][0] == "refuted"  # wrong for symmetric A too


def test_families_under_a_log_are_taken_positive_as_for_single_names(tmp_path):
    # log(p_i/q_i) splits only for positive entries; sampled negative, the sides were complex
    # and the line inconclusive
    found = _verdicts(
        tmp_path,
        r"\sum_{i=1}^{n} p_i \log \frac{p_i}{q_i} = \sum_{i=1}^{n} p_i \log p_i - "
        r"\sum_{i=1}^{n} p_i \log q_i",
        r"\sum_{i=1}^{n} p_i \log \frac{p_i}{q_i} = \sum_{i=1}^{n} p_i \log q_i - "
        r"\sum_{i=1}^{n} p_i \log p_i",
    )
    status, detail = found[3]
    assert status == "proved"
    assert detail.endswith("checked for p, q > 0 (under a log or a root, as notes mean them)")
    assert found[5][0] == "refuted"
