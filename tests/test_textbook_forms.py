"""`symml grad` in the forms a textbook prints: the softmax Jacobian as diag(s) − s sᵀ, an
LSTM gate's Jacobian through the block of W_f that multiplies h, and ReLU's derivative with
the note that it does not exist at the kink."""

import io
import json

import pytest
import sympy as sp

from symml import calculus
from symml.calculus import named
from symml.calculus.nodes import Named, softmax_of
from symml.cli.main import main

n = sp.Symbol("n", integer=True, positive=True)
z = sp.MatrixSymbol("z", n, 1)

RELU_NOTE = (
    "not differentiable where z = 0 (a kink): the derivative does not exist there; the formula "
    "gives Heaviside(0) = 1/2 there, SymPy's convention; frameworks pick one side instead "
    "(PyTorch and JAX: relu′(0) = 0)"
)


def grad(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["grad", *argv], out=out)
    return code, out.getvalue()


def test_the_softmax_jacobian_prints_as_diag_s_minus_s_s_transposed():
    code, out = grad("--expr", "softmax(z)", "--shape", "z=n", "--wrt", "z")
    assert code == 0
    first, note = out.splitlines()
    assert first.startswith("∂/∂z: DiagMatrix(s) - s*s.T    [Jacobian ∂f_i/∂x_j (rows follow")
    assert "matrix calculus at symbolic sizes, cross-checked elementwise at n=2; n=3" in first
    assert note == "  note: s = softmax(z) = exp(z)/Σ exp(z)"


def test_the_softmax_jacobian_in_json_names_s():
    code, out = grad("--expr", "softmax(z)", "--shape", "z=3", "--wrt", "z", "--json")
    (result,) = json.loads(out)
    assert code == 0
    assert (result["value"], result["note"]) == (
        "DiagMatrix(s) - s*s.T",
        "s = softmax(z) = exp(z)/Σ exp(z)",
    )


def test_a_wrong_named_form_is_caught_by_the_guard(monkeypatch):
    """A textbook form with a flipped sign is not returned: the plain, checked form is."""

    def wrong(of, wrt):
        s = Named("s", softmax_of(wrt))
        return sp.MatAdd(sp.DiagMatrix(s), s * s.T), "s = softmax(z)"

    monkeypatch.setattr(named, "FORMS", (named.Form("wrong on purpose", wrong),))
    result = calculus.matrix_derivative(softmax_of(z), z)
    assert result.legend == ""
    assert not result.value.atoms(Named)


@pytest.mark.parametrize(
    ("wrt", "block"),
    [("h_prev", "W_f[:, :H]"), ("x_t", "W_f[:, H:]")],
)
def test_the_lstm_gate_jacobian_reads_off_the_block_of_w_f(wrt, block):
    code, out = grad("lstm.forget_gate", "--wrt", wrt)
    assert code == 0
    value = out.split("    [")[0]
    assert value.endswith(f"*{block}")
    assert "Matrix([" not in value.split("+ b_f))")[-1]  # no [I; 0] block left to multiply


def test_relu_gradient_carries_the_kink_note():
    code, out = grad("activations.relu", "--wrt", "z")
    assert code == 0
    assert out.splitlines() == ["∂/∂z: Heaviside(z)    [sympy.diff]", f"  note: {RELU_NOTE}"]
    code, out = grad("activations.relu", "--wrt", "z", "--json")
    assert json.loads(out)[0]["note"] == RELU_NOTE


def test_abs_gradient_names_the_kink_without_the_relu_remark():
    code, out = grad("--expr", "abs(x**3 - 2)", "--wrt", "x")
    assert code == 0
    note = out.splitlines()[1]
    assert note == (
        "  note: not differentiable where x**3 - 2 = 0 (a kink): the derivative does not exist "
        "there; the formula gives sign(0) = 0 there, SymPy's convention"
    )


def test_a_smooth_gradient_has_no_note():
    code, out = grad("activations.sigmoid", "--wrt", "z")
    assert code == 0 and "note:" not in out


def test_the_layer_norm_variance_goes_through_the_rules():
    """Σ_i (x_i − Σ_j x_j/n)²/n, the index sums SymPy makes of ‖x − x̄1‖²/n, is read as
    (x − x̄1)ᵀ(x − x̄1)/n and differentiated by matrix calculus (it was elementwise)."""
    j = sp.Symbol("j", integer=True)
    i = sp.Symbol("i", integer=True)
    x = sp.MatrixSymbol("x", n, 1)
    mean = sp.Sum(x[j, 0], (j, 0, n - 1)) / n
    variance = sp.Sum((x[i, 0] - mean) ** 2, (i, 0, n - 1)) / n
    result = calculus.matrix_derivative(variance, x)
    assert result.symbolic_sizes
    assert result.method.startswith("matrix calculus at symbolic sizes, cross-checked")
