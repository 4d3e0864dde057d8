"""Matrix calculus (symml.calculus) and the matrix path of check_derivative.

Each false verdict of issue 14 is a case here: SymPy's matrix ``diff`` gives 0 for
∂ log det X/∂X and ∂(gᵀWx)/∂W at concrete sizes, and the old checker trusted it.
"""

from __future__ import annotations

import importlib
import re

import pytest
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from symml import calculus
from symml.calculus.expand import expanded
from symml.catalog.model import Status
from symml.engine.checking import check_derivative
from symml.errors import DerivationError

n = sp.Symbol("n", integer=True, positive=True)
m = sp.Symbol("m", integer=True, positive=True)
differential_module = importlib.import_module("symml.calculus.differential")
X3 = sp.MatrixSymbol("X", 3, 3)
A3, B3 = sp.MatrixSymbol("A", 3, 3), sp.MatrixSymbol("B", 3, 3)
g3, W34, x4 = sp.MatrixSymbol("g", 3, 1), sp.MatrixSymbol("W", 3, 4), sp.MatrixSymbol("x", 4, 1)
Xn = sp.MatrixSymbol("X", n, n)
An, Bn = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("B", n, n)
Wmn, xn, gm = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("g", m, 1)


def _point(witness) -> dict[str, sp.Rational]:
    return {k: sp.Rational(v) for k, v in witness.point.items()}


def _explicit_at(matrix: sp.MatrixSymbol, point: dict[str, sp.Rational]) -> sp.Matrix:
    rows, cols = (int(d) for d in matrix.shape)
    return sp.Matrix(rows, cols, lambda i, j: point[f"{matrix.name}[{i}, {j}]"])


# -- the measured failures: check_derivative on matrix claims --------------------------------
def test_log_det_zero_claim_is_refuted_with_a_witness_that_reproduces():
    verdict = check_derivative(sp.log(sp.Determinant(X3)), X3, sp.ZeroMatrix(3, 3))
    assert verdict.status is Status.REFUTED
    assert "X: 3×3" in verdict.detail
    x0 = _explicit_at(X3, _point(verdict.counterexample))
    assert x0.det() != 0
    assert x0.inv().T != sp.zeros(3, 3)  # the true gradient at the witness is not the claim


@pytest.mark.parametrize(
    ("label", "of", "wrt", "claimed"),
    [
        ("log det, 3×3", sp.log(sp.Determinant(X3)), X3, X3.inverse().T),
        ("det, 3×3", sp.Determinant(X3), X3, sp.Determinant(X3) * X3.inverse().T),
        (
            "det(AXB), 3×3",
            sp.Determinant(A3 * X3 * B3),
            X3,
            sp.Determinant(A3 * X3 * B3) * X3.inverse().T,
        ),
        ("gᵀWx, 3×4", (g3.T * W34 * x4)[0, 0], W34, g3 * x4.T),
        ("gᵀWx as a 1×1 product", g3.T * W34 * x4, W34, g3 * x4.T),
    ],
)
def test_true_matrix_claims_at_concrete_sizes_are_proved(label, of, wrt, claimed):
    verdict = check_derivative(of, wrt, claimed)
    assert verdict.status is Status.PROVED, (label, verdict)
    assert "matrix calculus" in verdict.method or "elementwise at sizes" in verdict.method


@pytest.mark.parametrize(
    ("label", "of", "wrt", "claimed", "method"),
    [
        ("log det", sp.log(sp.Determinant(Xn)), Xn, Xn.inverse().T, "symbolic sizes"),
        ("det", sp.Determinant(Xn), Xn, sp.Determinant(Xn) * Xn.T.inverse(), "symbolic sizes"),
        (
            "det(AXB)",
            sp.Determinant(An * Xn * Bn),
            Xn,
            sp.Determinant(An * Xn * Bn) * Xn.inverse().T,
            "symbolic sizes",
        ),
        ("gᵀWx", (gm.T * Wmn * xn)[0, 0], Wmn, gm * xn.T, "symbolic sizes"),
    ],
)
def test_true_matrix_claims_at_symbolic_sizes_are_proved_by_matrix_calculus(
    label, of, wrt, claimed, method
):
    verdict = check_derivative(of, wrt, claimed)
    assert verdict.status is Status.PROVED, (label, verdict)
    assert verdict.method.startswith(f"matrix calculus at {method}"), verdict.method
    assert "cross-checked elementwise at" in verdict.method


@pytest.mark.parametrize(
    ("label", "claimed"),
    [
        ("transpose dropped (x gᵀ)", x4 * g3.T),
        ("sign flipped", -g3 * x4.T),
        ("factor lost / doubled", 2 * g3 * x4.T),
        ("zero", sp.ZeroMatrix(3, 4)),
        ("the other vector", g3 * sp.OneMatrix(1, 4)),
    ],
)
def test_mutated_bilinear_gradients_are_refuted_with_a_witness(label, claimed):
    verdict = check_derivative((g3.T * W34 * x4)[0, 0], W34, claimed)
    assert verdict.status is Status.REFUTED, (label, verdict)
    assert verdict.counterexample is not None
    if verdict.method == "shape check":
        assert verdict.counterexample.lhs == "shape (3, 4)"
        return
    point = _point(verdict.counterexample)
    g0, x0 = _explicit_at(g3, point), _explicit_at(x4, point)
    claimed0 = expanded(claimed, {}).xreplace(
        {
            MatrixElement(s, i, j): v
            for s, v0 in ((g3, g0), (x4, x0))
            for i in range(v0.rows)
            for j in range(v0.cols)
            for v in [v0[i, j]]
        }
    )
    assert g0 * x0.T != claimed0


@pytest.mark.parametrize(
    ("label", "claimed"),
    [("X⁻¹ (transpose dropped)", Xn.inverse()), ("Xᵀ", Xn.T), ("−X⁻ᵀ", -Xn.inverse().T)],
)
def test_mutated_log_det_gradients_at_symbolic_sizes_are_refuted(label, claimed):
    verdict = check_derivative(sp.log(sp.Determinant(Xn)), Xn, claimed)
    assert verdict.status is Status.REFUTED, (label, verdict)
    assert re.search(r"\(sizes n=\d\)", verdict.detail)
    assert verdict.counterexample is not None


def test_a_scalar_variable_inside_a_determinant_is_not_a_constant():
    t = sp.Symbol("t", real=True)
    M = sp.MatrixSymbol("M", 2, 2)
    of = sp.Determinant(M + t * sp.Identity(2))
    wrong = sp.S.Zero
    assert check_derivative(of, t, wrong).status is Status.REFUTED
    right = sp.Trace(M) + 2 * t
    assert check_derivative(of, t, right).status is Status.PROVED


# -- symml.calculus: textbook results ----------------------------------------------------------
a_n, b_n, y_m, A_mn, b_m = (
    sp.MatrixSymbol("a", n, 1),
    sp.MatrixSymbol("b", n, 1),
    sp.MatrixSymbol("y", m, 1),
    sp.MatrixSymbol("A", m, n),
    sp.MatrixSymbol("b", m, 1),
)


@pytest.mark.parametrize(
    ("of", "wrt", "expected"),
    [
        (sp.log(sp.Determinant(Xn)), Xn, "X.T**(-1)"),
        (sp.Determinant(Xn), Xn, "Determinant(X)*X.T**(-1)"),
        ((a_n.T * Xn * b_n)[0, 0], Xn, "a*b.T"),
        ((gm.T * Wmn * xn)[0, 0], Wmn, "g*x.T"),
        (((Wmn * xn - y_m).T * (Wmn * xn - y_m))[0, 0], Wmn, "2*(W*x - y)*x.T"),
        (((A_mn * xn - b_m).T * (A_mn * xn - b_m))[0, 0], xn, "2*A.T*(A*x - b)"),
        (sp.Trace(Wmn.T * Wmn), Wmn, "2*W"),
        (sp.Trace(An * Xn), Xn, "A.T"),
        ((xn.T * Bn * xn)[0, 0], xn, "(B + B.T)*x"),
        (sp.Trace(Xn.T * An * Xn), Xn, "(A + A.T)*X"),
        (Wmn * xn, xn, "W"),
    ],
)
def test_matrix_derivative_in_textbook_form(of, wrt, expected):
    result = calculus.matrix_derivative(of, wrt)
    assert sp.sstr(result.value) == expected
    assert len(result.checked_at) == 2  # two assignments of concrete sizes
    assert result.checked_at[0] != result.checked_at[1]


def test_the_guard_catches_a_wrong_rule(monkeypatch):
    """A rule with a sign error is caught by the element-wise cross-check, not returned."""
    wrong = differential_module.Rule(
        sp.Inverse,
        "d(A⁻¹) = +A⁻¹ dA A⁻¹ (wrong on purpose)",
        lambda e, df: sp.MatMul(e, df.d(e.arg), e),
    )
    monkeypatch.setitem(differential_module.RULES, sp.Inverse, wrong)
    of = sp.Trace(Xn.inverse() * Bn)
    with pytest.raises(DerivationError, match="disagrees with elementwise differentiation"):
        calculus.matrix_derivative(of, Xn)


def test_a_matrix_valued_function_by_a_matrix_is_refused_with_the_reason():
    with pytest.raises(DerivationError, match=r"4-index tensor; ask for a VJP"):
        calculus.matrix_derivative(Xn * An, Xn)


def test_the_expansion_refuses_what_it_cannot_write_out():
    from sympy.matrices.expressions.kronecker import KroneckerProduct

    with pytest.raises(DerivationError, match="cannot be written out element-wise"):
        expanded(sp.Trace(KroneckerProduct(X3, A3)), {})


def test_unknown_function_of_a_matrix_and_a_scalar_is_refused_by_the_rules():
    L, t = sp.Function("L"), sp.Symbol("t")
    with pytest.raises(DerivationError, match="unknown function of several arguments"):
        calculus.matrix_derivative(L(Wmn * xn, t), Wmn)


def test_vector_jacobian_product():
    G = sp.MatrixSymbol("G", m, 1)
    result = calculus.vector_jacobian_product(Wmn * xn, Wmn, G)
    assert sp.sstr(result.value) == "G*x.T"


def test_a_relu_layer_gradient_is_conditional_on_the_kink():
    """gᵀ relu(Wx): ∂/∂W = (g ⊙ H(Wx)) xᵀ holds except where an entry of Wx is 0."""
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
    from sympy.matrices.expressions.hadamard import HadamardProduct

    u = sp.Dummy("u")
    layer = ElementwiseApplyFunction(sp.Lambda(u, sp.Max(0, u)), Wmn * xn)
    step = ElementwiseApplyFunction(sp.Lambda(u, sp.Heaviside(u)), Wmn * xn)
    claimed = HadamardProduct(gm, step) * xn.T
    verdict = check_derivative(gm.T * layer, Wmn, claimed)
    assert verdict.status is Status.CONDITIONAL, verdict
    assert verdict.conditions == ("every entry of W*x is nonzero",)
    as_element = check_derivative((gm.T * layer)[0, 0], Wmn, claimed)  # an index sum
    assert as_element.status is Status.CONDITIONAL, as_element
    wrong = check_derivative(gm.T * layer, Wmn, gm * xn.T)
    assert wrong.status is Status.REFUTED
