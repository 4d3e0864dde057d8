"""symml.grad: derivatives in readable form, cross-checked, and refused when SymPy is wrong."""

import pytest
import sympy as sp

from symml import grad, sigmoid
from symml.errors import DerivationError

z = sp.Symbol("z", real=True)


def test_sigmoid_derivative_reads_as_sigma_times_one_minus_sigma(catalog):
    (result,) = grad(catalog.get("activations.sigmoid"))
    assert sp.sstr(result.readable) == "(1 - sigmoid(z))*sigmoid(z)"
    assert sp.simplify(result.readable.rewrite(sp.exp) - result.value) == 0


def test_tanh_derivative_reads_as_one_minus_tanh_squared(catalog):
    (result,) = grad(catalog.get("activations.tanh"))
    assert result.readable == 1 - sp.tanh(z) ** 2


def test_an_expression_is_recognised_as_the_sigmoid():
    (result,) = grad(1 / (1 + sp.exp(-z)), z)
    assert result.readable == sp.Mul(sigmoid(z), 1 - sigmoid(z), evaluate=False)


def test_softmax_cross_entropy_gradient_is_yhat_minus_y_under_sum_y_one():
    k = sp.Symbol("k", integer=True, positive=True)
    i, j, m = sp.symbols("i j m", integer=True, nonnegative=True)
    logits, y = sp.IndexedBase("z"), sp.IndexedBase("y")
    total = sp.Sum(sp.exp(logits[m]), (m, 1, k))
    loss = -sp.Sum(y[j] * sp.log(sp.exp(logits[j]) / total), (j, 1, k))
    yhat = sp.IndexedBase("yhat")
    (plain,) = grad(loss, logits[i])
    assert plain.readable == yhat[i] * sp.Sum(y[j], (j, 1, k)) - y[i]
    (one_hot,) = grad(loss, logits[i], conditions=[sp.Eq(sp.Sum(y[j], (j, 1, k)), 1)])
    assert one_hot.readable == yhat[i] - y[i]


def test_matrix_gradient_is_cross_checked():
    m, n = sp.symbols("m n", integer=True, positive=True)
    W = sp.MatrixSymbol("W", m, n)
    (result,) = grad(sp.Trace(W.T * W), W)
    assert result.value == 2 * W
    assert "cross-checked elementwise" in result.checked


@pytest.mark.parametrize(("case", "expected"), [("log det", "X.T**(-1)"), ("bilinear", "g*x.T")])
def test_sympy_wrong_matrix_derivatives_are_not_returned(case, expected):
    """SymPy 1.14's matrix diff gives 0 for both; grad gives the true gradient, by the rules
    of symml.calculus, cross-checked elementwise."""
    m, n = sp.symbols("m n", integer=True, positive=True)
    X = sp.MatrixSymbol("X", n, n)
    W, x, g = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("g", m, 1)
    expr, wrt = {"log det": (sp.log(sp.Determinant(X)), X), "bilinear": ((g.T * W * x)[0, 0], W)}[
        case
    ]
    (result,) = grad(expr, wrt)
    assert sp.sstr(result.value) == expected
    assert result.checked.startswith("matrix calculus at symbolic sizes, cross-checked elementwise")


def test_explicit_sizes_give_the_true_log_det_gradient():
    n = sp.Symbol("n", integer=True, positive=True)
    X = sp.MatrixSymbol("X", n, n)
    (result,) = grad(sp.log(sp.Determinant(X)), X, sizes={n: 2})
    expected = sp.Matrix(X.subs(n, 2).as_explicit()).inv().T
    assert sp.simplify(result.value - expected) == sp.zeros(2, 2)


def test_ambiguous_variable_needs_wrt(catalog):
    with pytest.raises(DerivationError, match=r"several variables \(alpha, z\); pass --wrt"):
        grad(catalog.get("activations.leaky_relu"))


def test_jacobian_of_a_vector_function_is_in_numerator_layout(catalog):
    linear = catalog.get("forward.linear")
    (by_x,) = grad(linear, "x")
    assert by_x.value == linear.symbol("W").symbol
    assert "Jacobian" in by_x.checked
    (by_b,) = grad(linear, "b")
    assert by_b.value == sp.Identity(linear.symbol("m").symbol)
