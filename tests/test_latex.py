"""The ML-notation LaTeX printer: golden strings for a representative set, and its rules.

Regenerate the golden file after a deliberate notation change with
``SYMML_REGEN_GOLDEN=1 python3 -m pytest tests/test_latex.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sympy as sp

from symml.catalog import primitives as functions
from symml.render.latex import collisions, latex, name_tex

GOLDEN = Path(__file__).parent / "golden" / "latex.json"
REGEN = os.environ.get("SYMML_REGEN_GOLDEN") == "1"

# (case name, formula id, grad wrt or None)
CASES = [
    ("sigmoid", "activations.sigmoid", None),
    ("sigmoid_grad", "activations.sigmoid", "z"),
    ("tanh", "activations.tanh", None),
    ("tanh_grad", "activations.tanh", "z"),
    ("relu", "activations.relu", None),
    ("leaky_relu", "activations.leaky_relu", None),
    ("gelu", "activations.gelu", None),
    ("softmax", "activations.softmax", None),
    ("mse", "losses.mse", None),
    ("bce", "losses.bce", None),
    ("cce", "losses.cce", None),
    ("huber_piecewise", "losses.huber", None),
    ("warmup_piecewise", "schedules.warmup", None),
    ("grad_w_rule", "backprop.grad_w", None),
    ("grad_x_rule", "backprop.grad_x", None),
    ("grad_z_activation_rule", "backprop.grad_z_activation", None),
    ("adam_m", "optim.adam_m", None),
    ("adam_mhat", "optim.adam_mhat", None),
    ("adam_step", "optim.adam_step", None),
    ("attention", "attention.scaled_dot_product", None),
    ("lstm_cell", "lstm.cell", None),
    ("batchnorm_normalize", "batchnorm.normalize", None),
    ("max_pool", "cnn.max_pool", None),
    ("he_init_distribution", "init.he", None),
    ("gan_expectation", "gan.generator_loss", None),
    ("diffusion_forward", "diffusion.forward", None),
    ("conv_double_sum", "cnn.convolution", None),
]


def _stored() -> dict[str, str]:
    return json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}


@pytest.fixture(scope="module")
def golden():
    stored = _stored()
    yield stored
    if REGEN:
        GOLDEN.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n", encoding="utf-8")


@pytest.mark.parametrize(("case", "formula_id", "wrt"), CASES, ids=[c[0] for c in CASES])
def test_golden_latex(catalog, golden, case, formula_id, wrt):
    text = latex(catalog.get(formula_id), grad=wrt)
    if REGEN:
        golden[case] = text
        return
    assert case in golden, f"no golden string for {case}; run with SYMML_REGEN_GOLDEN=1"
    assert text == golden[case]


def test_golden_file_has_no_stale_cases():
    assert set(_stored()) == {c[0] for c in CASES}


@pytest.mark.parametrize(
    ("name", "tex"),
    [
        ("yhat", r"\hat{y}"),
        ("beta_1", r"\beta_{1}"),
        ("eta_max", r"\eta_{\mathrm{max}}"),
        ("L_total", r"L_{\mathrm{total}}"),
        ("Acc", r"\mathrm{Acc}"),
        ("dL_dz", r"\frac{\partial L}{\partial z}"),
        ("dL_dz2", r"\frac{\partial L}{\partial z_{2}}"),
        ("h_prev", "h_{t-1}"),
        ("W_Q_i", "W_{Q,i}"),
        ("z_vec", "z"),
        ("yhat_cls", r"\hat{y}"),
        ("Ctilde", r"\tilde{C}"),
        ("sigma_sq", r"\sigma^{2}"),
    ],
)
def test_names(name, tex):
    assert name_tex(name) == tex


def test_tags_kept_when_dropping_them_would_merge_two_symbols():
    assert collisions(["y_prob", "y_label", "yhat_prob"]) == {"y_prob", "y_label"}
    y_prob, y_label = sp.symbols("y_prob y_label")
    assert latex(y_prob - y_label) == r"y_{\mathrm{prob}} - y_{\mathrm{label}}"
    assert latex(y_prob) == "y"


def test_context_names_count_as_collisions():
    assert latex(sp.Symbol("y_cls"), context=["y_vec"]) == r"y_{\mathrm{cls}}"


def test_indexed_drops_the_tag_and_keeps_the_index():
    z_vec, i = sp.IndexedBase("z_vec"), sp.Symbol("i")
    assert latex(z_vec[i]) == "z_{i}"
    assert latex(sp.IndexedBase("yhat_vec")[i]) == r"\hat{y}_{i}"


def test_terms_are_written_positive_first():
    x, mu = sp.symbols("x mu")
    assert latex(x - mu) == r"x - \mu"
    assert latex(-mu + x) == r"x - \mu"
    assert latex(1 - x) == "1 - x"


def test_products_put_coefficients_first():
    g, beta = sp.symbols("g beta")
    assert latex((1 - beta) * g**2) == r"\left(1 - \beta\right) g^{2}"
    assert latex(g * beta) == r"\beta g"


def test_sigmoid_and_log():
    z = sp.Symbol("z")
    assert latex(functions.sigmoid(z)) == r"\sigma\left(z\right)"
    assert latex(sp.log(z)) == r"\log{\left(z \right)}"


def test_transpose_and_hadamard():
    W = sp.MatrixSymbol("W", 3, 2)
    A, B = sp.MatrixSymbol("A", 2, 2), sp.MatrixSymbol("B", 2, 2)
    assert latex(W.T) == r"W^{\top}"
    assert latex(sp.hadamard_product(A, B)) == r"A \odot B"


def test_constant_matrices_carry_their_size():
    """x 1 alone does not say whether 1 is d×1 (row sums) or d×d (row sums spread out)."""
    d = sp.Symbol("d", integer=True, positive=True)
    x = sp.MatrixSymbol("x", 1, d)
    assert latex(x * sp.OneMatrix(d, 1)) == r"x \mathbf{1}_{d \times 1}"
    assert latex(x * sp.OneMatrix(d, d)) == r"x \mathbf{1}_{d \times d}"
    assert latex(sp.Symbol("epsilon") * sp.Identity(d)) == r"\epsilon \mathbb{I}_{d}"


def test_sum_with_bounds():
    x, j, n = sp.IndexedBase("x"), sp.Symbol("j"), sp.Symbol("n")
    assert latex(sp.Sum(x[j], (j, 1, n))) == r"\sum_{j=1}^{n} x_{j}"


def test_grad_of_an_expression():
    z = sp.Symbol("z")
    assert (
        latex(1 / (1 + sp.exp(-z)), grad="z")
        == r"\sigma\left(z\right) \left(1 - \sigma\left(z\right)\right)"
    )


def test_a_derivative_goes_last_in_a_product_so_d_dw_applies_to_it_alone():
    w = sp.Symbol("w", real=True)
    z, g = sp.Function("z"), sp.Function("g")
    text = latex(sp.Derivative(z(w), w) * g(w))
    assert text.endswith(r"\frac{d}{d w} z\left(w\right)"), text
    two = latex(sp.Derivative(z(w), w) * sp.Derivative(g(w), w))
    assert two.startswith(r"\left(\frac{d}{d w}"), two
