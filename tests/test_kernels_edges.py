"""Edge cases a review of the kernels found wrong, each against an independent reference
(mpmath at 50 digits, NumPy's own reductions) or an exact error message: derivatives that
lost their digits, a divergence that overflowed, shapes that broadcast the wrong way, and
inputs that reached NumPy or SciPy unchecked."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from symml import kernel
from symml.errors import UsageError


def _exact(f) -> float:
    with mpmath.workdps(50):
        return float(f())


# -- digits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype, z", [(np.float64, 20.0), (np.float64, -30.0), (np.float32, 10.0), (np.float32, 4.0)]
)
def test_case_tanh_derivative_keeps_its_tail(dtype, z):
    # 1 − tanh² is exactly 0 from |z| ≈ 19 (float64), 9 (float32) on; sech² is not.
    got = kernel("activations.tanh", grad="z")(z=np.array([z], dtype))
    assert got.dtype == dtype
    exact = _exact(lambda: mpmath.sech(z) ** 2)
    assert got[0] == pytest.approx(exact, rel=float(8 * np.finfo(dtype).eps))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("precision, recall", [(0.5, 1e-4), (0.1, 1e-8), (0.99, 1e-3)])
def test_case_f1_gradient_does_not_cancel(dtype, precision, recall):
    p, r = dtype(precision), dtype(recall)
    got = kernel("metrics.f1", grad="Prec")(Prec=np.array([p]), Rec=np.array([r]))[0]
    exact = _exact(lambda: 2 * mpmath.mpf(float(r)) ** 2 / (mpmath.mpf(float(p)) + float(r)) ** 2)
    # SymPy's 2R/(P + R) − 2PR/(P + R)² gave 29 % off at (0.1, 1e-8) in float32.
    assert got == pytest.approx(exact, rel=float(8 * np.finfo(dtype).eps))


@pytest.mark.parametrize("dtype, tiny", [(np.float32, 1e-39), (np.float64, 1e-310)])
def test_case_kl_divergence_with_a_subnormal_probability_is_finite(dtype, tiny):
    p = np.array([0.7, 0.3], dtype)
    q = np.array([tiny, 1 - tiny], dtype)
    pf, qf = [mpmath.mpf(float(v)) for v in p], [mpmath.mpf(float(v)) for v in q]
    exact = _exact(lambda: sum(a * mpmath.log(a / b) for a, b in zip(pf, qf, strict=True)))
    got = kernel("info.kl_divergence")(P=p, Q=q)
    assert got.dtype == dtype
    assert float(got) == pytest.approx(exact, rel=float(16 * np.finfo(dtype).eps))
    dp = kernel("info.kl_divergence", grad="P")(P=p, Q=q)
    exact_dp = [_exact(lambda a=a, b=b: mpmath.log(a / b) + 1) for a, b in zip(pf, qf, strict=True)]
    np.testing.assert_allclose(dp, exact_dp, rtol=16 * np.finfo(dtype).eps)


def test_case_kl_divergence_keeps_its_zero_terms():
    p = np.array([0.0, 0.5, 0.5])
    q = np.array([0.0, 0.25, 0.75])
    assert float(kernel("info.kl_divergence")(P=p, Q=q)) == pytest.approx(
        0.5 * np.log(2) + 0.5 * np.log(0.5 / 0.75), rel=1e-15
    )


# -- shapes ---------------------------------------------------------------------------------


def test_a_gradient_that_does_not_read_the_widest_argument_has_the_calls_shape():
    # ∂BCE/∂y = log(1 − ŷ) − log ŷ has no y in it; with y (4, 1) and ŷ (1, 6) it is still
    # one value per element of the (4, 6) loss.
    y = np.full((4, 1), 0.5)
    yhat = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]])
    got = kernel("losses.bce", grad="y_prob")(y_prob=y, yhat_prob=yhat)
    assert got.shape == (4, 6) and got.flags.writeable
    np.testing.assert_allclose(got, np.broadcast_to(np.log1p(-yhat) - np.log(yhat), (4, 6)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_constant_gradient_of_numbers_is_a_number_of_their_dtype(dtype):
    k = kernel("optim.adagrad_step", grad="W")
    got = k(*(dtype(v) for v in (1, 2, 0.1, 1, 1e-8)))
    assert type(got) is dtype and got == 1


@pytest.mark.parametrize("shape, axis", [((4, 4), -1), ((3, 5), -1), ((5, 3), 0), ((2, 3, 4), 1)])
def test_a_reduced_output_chains_into_the_kernel_that_reads_it(shape, axis):
    # layernorm.mean's μ comes out one value per row (squeezed); variance and normalize read
    # it as such, not lined up with the last axis (which, for a square batch, gave
    # variances of 100+ for rows whose variance is below 1).
    x = np.random.default_rng(1).normal(size=shape)
    mu = kernel("layernorm.mean")(x=x, axis=axis)
    var = kernel("layernorm.variance")(x=x, mu=mu, axis=axis)
    np.testing.assert_allclose(var, x.var(axis=axis), rtol=1e-12)
    normal = kernel("layernorm.normalize")(x=x, mu=mu, sigma_sq=var, epsilon=0.0, axis=axis)
    want = (x - x.mean(axis=axis, keepdims=True)) / x.std(axis=axis, keepdims=True)
    np.testing.assert_allclose(normal, want, rtol=1e-10, atol=1e-12)


# -- one-line errors ------------------------------------------------------------------------


CASES = [
    (
        "a string",
        lambda: kernel("activations.sigmoid")("abc"),
        "kernel 'activations.sigmoid': 'z' is a str; the kernels compute with real numbers: "
        "pass a number or an array of them",
    ),
    (
        "None",
        lambda: kernel("activations.sigmoid")(None),
        "kernel 'activations.sigmoid': 'z' is None; the kernels compute with real numbers: "
        "pass a number or an array of them",
    ),
    (
        "a list of strings",
        lambda: kernel("activations.sigmoid")(["a", "b"]),
        "kernel 'activations.sigmoid': 'z' is a list that is not all numbers; the kernels "
        "compute with real numbers: pass a number or an array of them",
    ),
    (
        "complex values",
        lambda: kernel("activations.sigmoid")(np.array([1 + 1j])),
        "kernel 'activations.sigmoid': 'z' is an array of complex128 (its real part is .real); "
        "the kernels compute with real numbers: pass a number or an array of them",
    ),
    (
        "an axis out of range",
        lambda: kernel("activations.softmax")(np.zeros((2, 3)), axis=2),
        "kernel 'activations.softmax': axis=2 is out of range for 'z_vec' of 2 dimensions: "
        "pass an axis in [-2, 1]",
    ),
    (
        "a vector for a table",
        lambda: kernel("info.mutual_information")(np.full(4, 0.25)),
        "kernel 'info.mutual_information': 'p' has shape (4,); it is indexed along 2 axes: "
        "pass an array of at least 2 dimensions",
    ),
    (
        "shapes that do not broadcast",
        lambda: kernel("losses.bce")(np.zeros(3), np.full(4, 0.5)),
        "kernel 'losses.bce': arguments of shapes y_prob (3,), yhat_prob (4,) do not fit "
        "together: operands could not be broadcast together with shapes (3,) (4,)",
    ),
    (
        "softmax out= of another shape",
        lambda: kernel("activations.softmax")(np.zeros((2, 3)), out=np.empty(3)),
        "kernel 'activations.softmax': out= for 'value' has shape (3,); the result's shape is "
        "(2, 3): pass an array of that shape (or no out=)",
    ),
    (
        "a per-row value that matches no row",
        lambda: kernel("layernorm.variance")(np.ones((3, 5)), np.ones(5)),
        "kernel 'layernorm.variance': 'mu' has shape (5,), one axis fewer than 'x' (3, 5), so "
        "it is one value per row, but the rows are (3,): pass an array of that shape, or one "
        "with the axis kept",
    ),
]


@pytest.mark.parametrize("call, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_one_line_naming_it(call, message):
    with pytest.raises(UsageError) as caught:
        call()
    assert str(caught.value) == message


def test_a_matrix_kernel_says_which_shapes_do_not_fit():
    k = kernel("transformer.layer_norm")
    with pytest.raises(UsageError) as caught:
        k(np.ones((4, 6)), np.ones((1, 6)), np.ones((1, 6)), 1e-5)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        "kernel 'transformer.layer_norm': arguments of shapes x (4, 6), gamma (1, 6), "
        "beta (1, 6), epsilon () do not fit together (declared: x "
    )


@pytest.mark.parametrize("grad", [None, "z_vec"])
def test_softmax_of_rows_with_no_element_is_empty(grad):
    k = kernel("activations.softmax", grad=grad)
    rows = np.zeros((3, 0))
    got = k(*([rows] * len(k.args)))
    assert got.shape == (3, 0)


@pytest.mark.parametrize("formula", ["layernorm.mean", "cnn.max_pool"])
def test_gradients_of_dask_arrays_stay_lazy(formula):
    # A constant gradient (∂μ/∂x = 1/n) and a one-hot mask used to come back as NumPy
    # arrays, computed at once: no good for an array larger than memory.
    da = pytest.importorskip("dask.array")
    x = np.random.default_rng(2).normal(size=(6, 4))
    k = kernel(formula, grad="x")
    got = k(*([da.from_array(x, chunks=(3, 4))] * len(k.args)))
    assert isinstance(got, da.Array)
    np.testing.assert_allclose(got.compute(), k(*([x] * len(k.args))))


def test_arguments_named_like_the_bodys_own_names_keep_their_values():
    # t1, _c0 (a temporary and a common subexpression of the generated body) and outs
    # (its out= list) were taken for the body's own: a wrong result, or a SyntaxError.
    import sympy as sp

    t1, c0, outs = sp.symbols("t1 _c0 outs", real=True)
    expr = sp.exp(t1) * c0 + outs * (sp.exp(t1) + 1)
    k = kernel(expr)
    rng = np.random.default_rng(3)
    values = {name: rng.normal(size=5) for name in k.args}
    want = np.exp(values["t1"]) * values["_c0"] + values["outs"] * (np.exp(values["t1"]) + 1)
    np.testing.assert_allclose(k(**values), want, rtol=1e-14)
    np.testing.assert_allclose(k(*[values[a] for a in k.args]), want, rtol=1e-14)


def test_a_formula_with_a_recorded_correction_says_so_and_computes_the_sheets_form():
    # The sheet's warmup schedule jumps at t_warmup (the catalog refutes its continuity and
    # records a continuous form beside it): the kernel computes the sheet's, never a silent
    # correction, and its source names the correction, which kernel(expr) compiles.
    from symml import load_catalog

    formula = load_catalog().get("schedules.warmup")
    (correction,) = [c.correction for c in formula.claims if c.correction is not None]
    k = kernel(formula)
    assert k.source.startswith(
        "# note: the sheet's formula; the catalog records a correction (refuted): Piecewise("
    )
    at = dict(t=np.array([9.999, 10.0]), eta_max=0.1, t_warmup=10.0, t_total=100.0)
    np.testing.assert_allclose(k(**at), [0.09999, 0.09])  # the sheet's jump
    np.testing.assert_allclose(kernel(correction)(**at), [0.09999, 0.1])  # continuous
