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
    57: "conditional",  # LeakyReLU(z) = max(αz, z): only for α ≤ 1
    88: "proved",  # MSE ∂L/∂ŷᵢ
    109: "proved",  # BCE ∂L/∂ŷ
    171: "proved",  # gradient descent
    177: "proved",  # SGD
    182: "proved",  # momentum
    183: "proved",
    189: "refuted",  # Nesterov: the look-ahead point drops η
    190: "proved",  # W := W - η·v is right, given the reference's v: the slip is line 189
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
    234: "proved",  # L2: ∂L_total/∂W = ∂L/∂W + λ·W, entry by entry
    418: "proved",  # H(P,Q) = H(P) + D_KL(P||Q), the functionals defined above
    463: "refuted",  # warmup + decay: jumps at t_warmup
}


@pytest.fixture(scope="module")
def sheet_findings():
    if not SHEET.exists():
        pytest.skip("the shared sheet is not beside the repo")
    return {f.line: f for f in check_file(SHEET, timeout=5)}


def test_sheet_claims_agree_with_verify(sheet_findings):
    assert {n: sheet_findings[n].status for n in SHEET_VERDICTS} == SHEET_VERDICTS
    refuted = sorted(n for n, f in sheet_findings.items() if f.status == "refuted")
    assert refuted == [189, 463]
    assert "recorded" not in {f.status for f in sheet_findings.values()}


def test_sheet_lines_read_since_the_word_subscripts_and_brace_blocks(sheet_findings):
    """What each newly read line of the sheet comes out as, exactly."""
    expected = {
        98: ("defined", "L := Piecewise(((y - yhat)**2/2, delta >= Abs(y - yhat)), "
             "(-delta**2/2 + delta*Abs(y - yhat), True))"),
        233: ("defined", "L_total := L + lambda*Sum(W[j]**2, (j, 1, n))/2"),
        239: ("defined", "L_total := L + lambda*Sum(Abs(W[j]), (j, 1, n))"),
        276: ("defined", "O := floor((-K + 2*P + W)/S) + 1"),
        286: ("defined", "y := Sum(x[i], (i, 1, n))/n"),
        296: ("defined", "y_t := W_hgamma*h_t + b_gamma"),
        397: ("defined", "SS_res := Sum((y[i] - yhat[i])**2, (i, 1, n))"),
        448: ("defined", "eta(t) := eta_0*gamma**floor(t/k)"),
        453: ("defined", "eta(t) := eta_0*exp(-lambda*t)"),
        458: ("defined", "eta(t) := eta_min + (eta_max/2 - eta_min/2)*(cos(pi*t/T) + 1)"),
        536: ("notation", "a legend entry: ∂ means partial derivative"),
        548: ("notation", "a legend entry: := means assignment/update"),
    }  # fmt: skip
    assert {n: (sheet_findings[n].status, sheet_findings[n].detail) for n in expected} == expected
    assert "read entry by entry: ∂/∂W[i]" in sheet_findings[234].detail
    assert "L read as an unknown function of W[i]" in sheet_findings[234].detail
    warmup = sheet_findings[463]
    assert warmup.text.startswith("η(t) = { ⏎ η_max · t/t_warmup")
    assert "left limit eta_max ≠ value eta_max*(t_total - t_warmup)/t_total at t = t_warmup" in (
        warmup.detail
    )
    # the rows of a brace block and the legend are not lines of their own
    assert not {99, 464, 465, 466} & set(sheet_findings)
    assert {sheet_findings[n].status for n in range(536, 549)} == {"notation"}
    # backprop with ^T: L is undefined, so skipped, and the transpose still named
    assert sheet_findings[144].status == "skipped"
    assert sheet_findings[144].detail.startswith("L is not defined in this file; also")
    assert "^T on a name not declared a matrix" in sheet_findings[144].detail
    # a continuation line is read with the left side above it
    assert sheet_findings[418].detail.startswith("symbolic: expand logarithms")
    assert sheet_findings[418].detail.endswith(
        "; the functionals as defined above, on distributions P, Q"
    )


def test_sheet_information_softmax_and_leaky_relu_lines(sheet_findings):
    """Part 10's functionals, the softmax heads and the leaky ReLU's slope, exactly."""
    dist = "read as the probabilities of a distribution over the values x, summed over x"
    expected = {
        68: ("defined", "softmax(z)_i := exp(z[i])/Sum(exp(z[j]), (j, 1, n)); "
             "Σ_j runs to the default size n (no bound written)"),
        74: ("defined", "softmax(z, T)_i := exp(z[i]/T)/Sum(exp(z[j]/T), (j, 1, n)); "
             "Σ_j runs to the default size n (no bound written)"),
        407: ("defined", f"H(X) := -Sum(log(P[x])*P[x], (x, 1, n)); P(x) {dist}; "
              "X read as a random variable with distribution P"),
        412: ("defined", f"D_KL(P, Q) := Sum(log(P[x]/Q[x])*P[x], (x, 1, n)); P(x), Q(x) {dist}"),
        417: ("defined", f"H(P, Q) := -Sum(log(Q[x])*P[x], (x, 1, n)); P(x), Q(x) {dist}"),
        423: ("skipped", "I(X;Y) is not checked: H(X, Y): H is defined at line 417 as H(P, Q), "
              "and X, Y are not distributions of this document; H(Y): H is defined at line "
              "407 as H(X), and Y is not a distribution of this document"),
    }  # fmt: skip
    assert {n: (sheet_findings[n].status, sheet_findings[n].detail) for n in expected} == expected
    leaky = sheet_findings[57].detail
    assert leaky.startswith("fails without alpha <= 1: at alpha=")
    assert leaky.endswith(
        "; checked with alpha <= 1: a leaky ReLU's slope is at most 1 (its negative side is "
        "damped); holds when alpha <= 1"
    )


def test_l2_and_l1_gradients_entry_by_entry(tmp_path):
    note = tmp_path / "reg.md"
    note.write_text(
        "# Reg\n\n```\nL_total = L + (λ/2)·Σ W²\n∂L_total/∂W = ∂L/∂W + λ·W\n```\n\n"
        "```\nL_total = L + (λ/2)·Σ W²\n∂L_total/∂W = ∂L/∂W + 2λ·W\n```\n\n"
        "```\nL_total = L + λ·Σ|W|\n∂L_total/∂W = ∂L/∂W + λ·sign(W)\n```\n",
        encoding="utf-8",
    )
    rows = {f.line: f for f in check_file(note, timeout=5)}
    assert [rows[n].status for n in (5, 10, 15)] == ["proved", "refuted", "conditional"]
    assert "witness" in rows[10].detail
    assert "not at its kinks" in rows[15].detail


def test_piecewise_schedule_must_be_continuous_but_a_step_may_jump(tmp_path):
    note = tmp_path / "sched.md"
    note.write_text(
        "# S\n\n```\nη(t) = {\n  η_max · t/t_w  if t < t_w\n"
        "  η_max · (t_T - t)/(t_T - t_w)  otherwise\n}\n```\n\n"
        "```\ns(x) = {\n  1  if x > 0\n  0  otherwise\n}\n```\n\n"
        "```\nL = { ½(y - ŷ)²   if |y - ŷ| ≤ δ\n    { δ|y - ŷ| - ½δ²   otherwise\n```\n",
        encoding="utf-8",
    )
    rows = {f.line: f for f in check_file(note, timeout=5)}
    assert rows[4].status == "defined"  # continuous: the decay divides by t_T - t_w
    assert rows[4].detail == (
        "eta(t) := Piecewise((eta_max*t/t_w, t < t_w), (eta_max*(-t + t_T)/(t_T - t_w), True))"
    )
    assert rows[11].status == "defined"  # a step function is meant to jump
    assert rows[18].status == "defined"
    assert sorted(rows) == [4, 11, 18]


def test_labels_remarks_legend_and_word_subscripts(tmp_path):
    note = tmp_path / "misc.md"
    note.write_text(
        "# M\n\n```\nAvg: y = (1/n)Σᵢ xᵢ\nC = a + b (candidate cell)\n"
        "∇   = gradient\nL   = softmax\nW ~ N(0, √(2/n_in))\nL = P(x)·log P(x)\n```\n",
        encoding="utf-8",
    )
    rows = {f.line: f for f in check_file(note, timeout=5)}
    assert (rows[4].status, rows[4].detail) == ("defined", "y := Sum(x[i], (i, 1, n))/n")
    assert (rows[5].status, rows[5].detail) == ("defined", "C := a + b")
    assert (rows[6].status, rows[6].kind) == ("notation", "notation")
    assert rows[7].status != "notation"  # '= softmax' may be math: not a legend entry
    assert rows[8].status == "unread" and "\\sim" in rows[8].detail  # ~ is not a space here
    assert rows[9].status == "unread" and "'P(' may be a call" in rows[9].detail  # no Σ


def test_functionals_of_distributions(tmp_path):
    """H and D_KL hold for the whole document; a wrong identity between them is refuted;
    P( stays refused where no Σ over its bare argument under a log settles it."""
    note = tmp_path / "info.md"
    note.write_text(
        "# Info\n\n```\nH(X) = -Σ P(x)·log P(x)\n```\n\n"
        "```\nD_KL(P||Q) = Σ P(x)·log(P(x)/Q(x))\n```\n\n"
        "```\nH(P,Q) = -Σ P(x)·log Q(x)\n       = H(Q) + D_KL(P||Q)\n"
        "D_KL(P||Q) = D_KL(Q||P)\nH(Q) = -Σ Q(y)·log Q(y)\nH(Z) + 1 = 1\n```\n\n"
        "```\nv = p(1-p)·Σ log p(x)\nL = -Σ P(x)·log P(y)\nL = -Σ x·P(x)·log P(x)\n"
        "LeakyReLU(z) = max(0.01z, z)\nsoftmax(z)ᵢ = exp(xᵢ) / Σⱼ exp(xⱼ)\n```\n",
        encoding="utf-8",
    )
    rows = {f.line: f for f in check_file(note, timeout=5)}
    statuses = {n: f.status for n, f in rows.items()}
    assert statuses == {
        4: "defined", 8: "defined", 12: "defined",
        13: "refuted",  # H(P,Q) = H(Q) + D_KL(P||Q): H(P), not H(Q)
        14: "refuted",  # D_KL is not symmetric
        15: "proved",  # the bound letter does not matter
        16: "skipped",  # Z is no distribution of the document
        20: "unread", 21: "unread", 22: "unread", 23: "unread", 24: "unread",
    }  # fmt: skip
    assert "; witness at P[1]=" in rows[13].detail
    assert rows[16].detail == (
        "not checked: H(Z): H is defined at line 4 as H(X), and Z is not a distribution of "
        "this document"
    )
    assert "'p(' may be a call or a product" in rows[20].detail
    assert "'P(' may be a call or a product" in rows[21].detail  # P(x) and P(y)
    assert "'P(' may be a call or a product" in rows[22].detail  # x also outside the calls
    assert "LeakyReLU takes 2 argument(s), got 1" in rows[23].detail  # no α to take
    assert rows[24].detail == (
        "softmax(z)_i: the right side must be over z and the index i; declare the function "
        "to read it otherwise"
    )


def test_sheet_update_rules_name_algorithm_and_witness(sheet_findings):
    nesterov = sheet_findings[189].detail
    assert nesterov.startswith("as nesterov (named by the heading)")
    assert "W=" in nesterov and "grad_L=" in nesterov  # the witness point
    assert sheet_findings[190].detail.startswith(
        "as nesterov (named by the heading): this line, with the reference's values for the "
        "lines above, against Nesterov (Sutskever 2013)"
    )
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
    assert rows[4].detail.endswith("; read with v as v_mom")
    # ascent matches no reference, and no heading names one: it may be meant (policy
    # gradient), so it is recorded, not refuted
    assert rows[11].status == "recorded"


def test_assignment_of_no_known_algorithm_is_recorded(tmp_path):
    note = tmp_path / "loop.md"
    note.write_text("# Loop\n\n```\ni := i + 1\n```\n\n### Adam\n\n```\nq := 2·q\n```\n")
    rows = {f.line: f for f in check_file(note, timeout=5)}
    assert rows[4].status == "recorded"
    assert rows[4].detail.startswith("not checked: no reference algorithm (gradient_descent,")
    assert rows[10].status == "unread"  # the heading names Adam: a claim left unread
    assert rows[10].detail == (
        "not checked: as adam (named by the heading), the block does not keep the "
        "reference's state (m, v) under any naming"
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
