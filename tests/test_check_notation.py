"""`symml check` on the notation of issue 17's rest: unbounded sums Σ_j, expectations 𝔼,
densities p(x), and a gradient written with the wrong shape. A correct line is never refuted."""

from __future__ import annotations

from pathlib import Path

import pytest

from symml.read.check import check_file


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


# -- expectations: linear, tried on finite distributions ---------------------------------------
@pytest.mark.parametrize(
    "line",
    [
        r"\mathbb{E}[aX+b] = a\mathbb{E}[X]+b",
        r"\mathbb{E}[X + Y] = \mathbb{E}[X] + \mathbb{E}[Y]",
        r"\mathbb{E}[(X-\mathbb{E}[X])^2] = \mathbb{E}[X^2] - \mathbb{E}[X]^2",
        r"\mathbb{E}_{x\sim p}[f(x) + g(x)] = \mathbb{E}_{x\sim p}[f(x)] + \mathbb{E}_{x\sim p}[g(x)]",
        r"\mathbb{E}_{x \sim p}[c] = c",
        r"\mathbb{E}_{x}[3x - 1] = 3\mathbb{E}_{x}[x] - 1",
    ],
)
def test_expectation_linearity_is_proved(tmp_path, line):
    assert verdicts(tmp_path, line) == ["proved"]


@pytest.mark.parametrize(
    "line, shown",
    [
        (r"\mathbb{E}[X^2] = \mathbb{E}[X]^2", "X = "),
        (r"\mathbb{E}[e^{X}] = e^{\mathbb{E}[X]}", "X = "),
        (r"\mathbb{E}_{x \sim p}[x] = \mathbb{E}_{x \sim q}[x]", "under q"),
    ],
)
def test_expectation_slips_are_refuted_by_a_finite_distribution(tmp_path, line, shown):
    path = tmp_path / "notes.md"
    path.write_text(f"$${line}$$\n", encoding="utf-8")
    (finding,) = check_file(path, timeout=5)
    assert finding.status == "refuted" and "w.p." in finding.detail and shown in finding.detail


def test_expectation_of_a_product_needs_independence(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text(r"$$\mathbb{E}[XY] = \mathbb{E}[X]\mathbb{E}[Y]$$" + "\n", encoding="utf-8")
    (finding,) = check_file(path, timeout=5)
    assert finding.status == "conditional" and "independent" in finding.detail


@pytest.mark.parametrize(
    "line",
    [
        r"\mathbb{E}[X] = \mu",  # a name for the mean
        r"\mathbb{E}[X^2] = \sigma^2 + \mu^2",
        r"\mathbb{E}_{x\sim p}[f(x)] = f(\mathbb{E}_{x\sim p}[x])",  # unknown f: not sampled
        r"\mathbb{E}[a x] = a \mathbb{E}[x]",  # which is random? refused
        r"\mathbb{E}[(X-\mathbb{E}[X])^3] = 0",  # a moment's value: true of symmetric laws
        r"\mathbb{E}_{z \sim \mathcal{N}(0,1)}[z^2] = 1",  # a law given with its parameters
        r"\nabla_\theta \mathbb{E}_{x \sim p}[f(x, \theta)] = \mathbb{E}_{x \sim p}[\nabla_\theta f(x, \theta)]",
    ],
)
def test_expectation_claims_not_settled_are_never_refuted(tmp_path, line):
    (status,) = verdicts(tmp_path, line)
    assert status in ("skipped", "unread")


def test_expectation_over_pairs(tmp_path):
    line = r"\mathbb{E}_{(x, y) \sim \mathcal{D}}[x y + 2] = \mathbb{E}_{(x, y) \sim \mathcal{D}}[y x] + 2"
    assert verdicts(tmp_path, line) == ["proved"]


# -- densities: unknown positive functions -----------------------------------------------------
@pytest.mark.parametrize(
    "line, status",
    [
        (r"\frac{d}{dx} \log p(x) = \frac{p'(x)}{p(x)}", "proved"),
        (r"\frac{d}{dx} \log p(x) = p'(x)", "refuted"),
        (
            r"\nabla_\theta \log p(x \mid \theta) = \frac{\nabla_\theta p(x \mid \theta)}{p(x \mid \theta)}",
            "proved",
        ),
        (
            r"\frac{\partial}{\partial \theta} \log p(x \mid \theta) = \frac{1}{p(x \mid \theta)}",
            "refuted",
        ),
        (r"\log \frac{p(x)}{q(x)} = \log p(x) - \log q(x)", "proved"),
    ],
)
def test_densities_are_unknown_positive_functions(tmp_path, line, status):
    assert verdicts(tmp_path, line) == [status]


def test_p_of_an_expression_of_p_stays_a_product_question(tmp_path):
    assert verdicts(tmp_path, r"p(1-p) = p - p^2") == ["unread"]


# -- gradient shapes ---------------------------------------------------------------------------
SHAPES = r"With \(\mathbf{x} \in \mathbb{R}^{n}\), \(\boldsymbol{\delta} \in \mathbb{R}^{m}\) and \(\mathbf{W} \in \mathbb{R}^{m \times n}\)."


def test_a_gradient_of_the_wrong_shape_is_refuted_naming_the_shapes(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text(
        SHAPES
        + "\n\n$$\\frac{\\partial}{\\partial \\mathbf{W}} \\left( \\boldsymbol{\\delta}^\\top "
        "\\mathbf{W} \\mathbf{x} \\right) = \\mathbf{x} \\boldsymbol{\\delta}^\\top$$\n\n"
        "$$\\frac{\\partial}{\\partial \\mathbf{W}} \\left( \\boldsymbol{\\delta}^\\top "
        "\\mathbf{W} \\mathbf{x} \\right) = \\boldsymbol{\\delta} \\mathbf{x}^\\top$$\n",
        encoding="utf-8",
    )
    wrong, right = [f for f in check_file(path, timeout=5) if f.line > 1]
    assert wrong.status == "refuted"
    assert "m × n" in wrong.detail and "n × m" in wrong.detail and "transposed" in wrong.detail
    assert right.status == "proved"


def test_a_shape_the_reader_guessed_refutes_nothing(tmp_path):
    # δ is not declared: its shape (n) is the reader's default, so no shape verdict
    path = tmp_path / "notes.md"
    path.write_text(
        r"With \(\mathbf{x} \in \mathbb{R}^{n}\), \(\mathbf{W} \in \mathbb{R}^{m \times n}\)."
        "\n\n$$\\frac{\\partial L}{\\partial \\mathbf{W}} = \\boldsymbol{\\delta} \\mathbf{x}^\\top$$\n",
        encoding="utf-8",
    )
    assert [f.status for f in check_file(path, timeout=5) if f.line > 1] == ["unread"]


def test_a_mean_defined_nowhere_refutes_nothing_and_defined_it_is_used(tmp_path):
    line = r"\frac{1}{n}\sum_i (x_i - \bar{x})^2 = \frac{1}{n}\sum_i x_i^2 - \bar{x}^2"
    assert verdicts(tmp_path, line) == ["skipped"]
    defined = r"\bar{x} = \frac1n \sum_i x_i"
    slip = r"\frac{1}{n}\sum_i (x_i - \bar{x})^2 = \frac{1}{n}\sum_i x_i^2 + \bar{x}^2"
    assert verdicts(tmp_path, defined, line, slip) == ["defined", "proved", "refuted"]


def test_a_moment_named_above_is_used_in_the_claims_below(tmp_path):
    lines = (
        r"\mu = \mathbb{E}[X]",
        r"\mathbb{E}[(X-\mu)^2] = \mathbb{E}[X^2] - \mu^2",
        r"\mathbb{E}[(X-\mu)^2] = \mathbb{E}[X^2] + \mu^2",
        r"\mathbb{E}[\mathbb{E}[X]] = \mathbb{E}[X]",
    )
    assert verdicts(tmp_path, *lines) == ["defined", "proved", "refuted", "proved"]


def test_softmax_jacobian_in_the_entries_defined_above(tmp_path):
    lines = (
        r"s_i = \frac{e^{z_i}}{\sum_j e^{z_j}}",
        r"\frac{\partial s_i}{\partial z_k} = s_i (\delta_{ik} - s_k)",
        r"\frac{\partial s_i}{\partial z_k} = s_i (1 - s_k)",
    )
    assert verdicts(tmp_path, *lines) == ["defined", "proved", "refuted"]
    path = tmp_path / "notes.md"
    (slip,) = [f for f in check_file(path, timeout=5) if f.status == "refuted"]
    assert "i=1, k=2, n=2" in slip.detail  # the witness names the sizes and the indices


def test_cross_entropy_gradient_by_an_entry(tmp_path):
    lines = (
        r"L = -\sum_k y_k \log \hat{y}_k",
        r"\frac{\partial L}{\partial \hat{y}_k} = -\frac{y_k}{\hat{y}_k}",
        r"\frac{\partial L}{\partial \hat{y}_k} = \frac{y_k}{\hat{y}_k}",
    )
    assert verdicts(tmp_path, *lines) == ["defined", "proved", "refuted"]


def test_two_letter_subscript_of_a_family_is_an_entry_not_a_product(tmp_path):
    grad = r"\frac{\partial}{\partial w_k} \frac{1}{2}\sum_i (y_i - \sum_j w_j x_{ij})^2 = "
    right = r"-\sum_i (y_i - \sum_j w_j x_{ij}) x_{ik}"
    wrong = r"\sum_i (y_i - \sum_j w_j x_{ij}) x_{ik}"
    assert verdicts(tmp_path, grad + right, grad + wrong) == ["proved", "refuted"]


@pytest.mark.parametrize(
    "line",
    [
        r"\log p(x, y) = \log p(x) + \log p(y \mid x)",  # the chain rule of probability
        r"p(y \mid x) = \frac{p(x \mid y) p(y)}{p(x)}",  # Bayes
        r"p(x, y) = p(x) p(y)",  # independence: an assumption
    ],
)
def test_densities_of_different_arguments_are_never_refuted(tmp_path, line):
    assert verdicts(tmp_path, line) == ["skipped"]


def test_logs_of_densities_split(tmp_path):
    lines = (
        r"\log (p(x) q(x)) = \log p(x) + \log q(x)",
        r"\log q(z) - \log p(z) = \log \frac{q(z)}{p(z)}",
    )
    assert verdicts(tmp_path, *lines) == ["proved", "proved"]


def test_a_random_name_defined_above_keeps_its_names_random(tmp_path):
    lines = (
        r"X = Y + Z",
        r"\mathbb{E}[X^2] = \mathbb{E}[X]^2",
        r"\mathbb{E}[X] = \mathbb{E}[Y] + \mathbb{E}[Z]",
    )
    assert verdicts(tmp_path, *lines) == ["defined", "refuted", "proved"]


def test_a_law_the_text_states_leaves_only_linearity(tmp_path):
    prose = r"Let $X \sim \text{Bernoulli}(p)$."
    lines = (r"\mathbb{E}[X^2] = \mathbb{E}[X]", r"\mathbb{E}[Y^2] = \mathbb{E}[Y]")
    assert verdicts(tmp_path, *lines, prose=prose) == ["skipped", "refuted"]


def test_entries_defined_above_are_used_under_a_sum(tmp_path):
    lines = (
        r"\hat{y}_j = \frac{\exp(o_j)}{\sum_k \exp(o_k)}",
        r"\sum_j \hat{y}_j = 1",
        r"\sum_j \hat{y}_j = 2",
        r"\frac{\partial \hat{y}_j}{\partial o_j} = \hat{y}_j (1 - \hat{y}_j)",
    )
    assert verdicts(tmp_path, *lines) == ["defined", "proved", "refuted", "proved"]


def test_a_sum_index_written_again_outside_the_sum(tmp_path):
    lines = (
        r"\frac{\partial}{\partial w_i} \sum_i w_i^2 = 2 w_i",
        r"\frac{\partial}{\partial w_i} \frac{1}{2}\sum_i (w_i x_i - y_i)^2 = (w_i x_i - y_i) x_i",
        r"\frac{\partial}{\partial w_i} \sum_i w_i^2 = 2 \sum_i w_i",
    )
    assert verdicts(tmp_path, *lines) == ["proved", "proved", "refuted"]


def test_kronecker_delta_under_a_sum_sifts(tmp_path):
    assert verdicts(tmp_path, r"\sum_j \delta_{ij} x_j = x_i", r"\sum_j \delta_{ij} = 1") == [
        "proved",
        "proved",
    ]


def test_a_transposed_gradient_alone_holds_in_numerator_layout(tmp_path):
    # a file that writes its gradients in numerator layout (as some textbooks do) is not
    # refuted for it: the verdict is conditional and names both layouts
    path = tmp_path / "notes.md"
    path.write_text(
        SHAPES
        + "\n\n$$\\frac{\\partial}{\\partial \\mathbf{W}} \\left( \\boldsymbol{\\delta}^\\top "
        "\\mathbf{W} \\mathbf{x} \\right) = \\mathbf{x} \\boldsymbol{\\delta}^\\top$$\n\n"
        "$$\\frac{\\partial}{\\partial \\mathbf{W}} \\left( \\boldsymbol{\\delta}^\\top "
        "\\mathbf{W} \\mathbf{x} \\right) = \\mathbf{x} \\mathbf{x}^\\top$$\n",
        encoding="utf-8",
    )
    transposed, wrong = [f for f in check_file(path, timeout=5) if f.line > 1]
    assert transposed.status == "conditional"
    assert "holds in numerator layout" in transposed.detail
    assert "delta*x.T" in transposed.detail
    assert wrong.status == "refuted"  # n × n is neither W's shape nor its transpose's
    assert "x*x.T is n × n" in wrong.detail and "numerator" not in wrong.detail


def test_a_chain_is_a_claim_per_adjacent_pair(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text(
        "$$\\frac{d}{dx} x^3 = 3x^2 = 3 x \\cdot x$$\n\n"
        "$$x^2 - 1 = (x-1)(x+1) = (x-1)^2$$\n\n"
        "$$0 \\le p \\le 1$$\n",
        encoding="utf-8",
    )
    found = [(f.line, f.text, f.status) for f in check_file(path, timeout=5)]
    assert found[:4] == [
        (1, r"\frac{d}{dx} x^3 = 3x^2", "proved"),
        (1, r"3x^2 = 3 x \cdot x", "proved"),
        (3, "x^2 - 1 = (x-1)(x+1)", "proved"),
        (3, "(x-1)(x+1) = (x-1)^2", "refuted"),
    ]
    assert [f for f in found if f[0] == 5] == [(5, r"0 \le p \le 1", found[4][2])]
    assert found[4][2] != "refuted"  # a chain of inequalities is a condition, kept whole


def test_a_square_matrix_gradient_transposed_is_conditional_too(tmp_path):
    # W square: the shapes cannot tell the layouts apart, the values do
    path = tmp_path / "notes.md"
    square = (
        r"With $\mathbf{x} \in \mathbb{R}^{3}$, $\boldsymbol{\delta} \in \mathbb{R}^{3}$ "
        r"and $\mathbf{W} \in \mathbb{R}^{3 \times 3}$."
    )
    claim = (
        "$$\\frac{\\partial}{\\partial \\mathbf{W}} \\left( \\boldsymbol{\\delta}^\\top "
        "\\mathbf{W} \\mathbf{x} \\right) = %s$$\n"
    )
    path.write_text(
        square + "\n\n" + claim % r"\mathbf{x} \boldsymbol{\delta}^\top", encoding="utf-8"
    )
    (transposed,) = [f for f in check_file(path, timeout=5) if f.line > 1]
    assert transposed.status == "conditional" and "holds in numerator layout" in transposed.detail
    path.write_text(
        square
        + "\n\n"
        + claim % r"\mathbf{x} \boldsymbol{\delta}^\top"
        + "\n"
        + claim % r"\boldsymbol{\delta} \mathbf{x}^\top"
        + "\n"
        + claim % r"2 \boldsymbol{\delta} \mathbf{x}^\top",
        encoding="utf-8",
    )
    transposed, right, doubled = [f for f in check_file(path, timeout=5) if f.line > 1]
    assert (transposed.status, right.status, doubled.status) == ("refuted", "proved", "refuted")
    assert "this file writes its gradients with the variable's shape" in transposed.detail
    assert "numerator" not in doubled.detail
