"""Kernels: API, stable forms at extreme points (one test per case), dtypes, fused steps,
rewrites, errors, the CLI and the Dask path."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
import sympy as sp

from symml import load_catalog
from symml.catalog.primitives import sigmoid
from symml.cli import main as cli
from symml.errors import UsageError
from symml.kernels import MissingBackend, NotKernelisable, kernel
from symml.kernels import rewrite as rw
from symml.kernels.backends import get_backend
from symml.kernels.nodes import LogSigmoid, ReduceSum, Softmax, XDivY, XLogY
from symml.kernels.plan import unguarded_plan

CATALOG = load_catalog()
DTYPES = [np.float64, np.float32]


@pytest.fixture(autouse=True)
def _no_warnings():
    # A stable kernel never overflows on the way to a finite answer.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _z(values, dtype):
    return np.array(values, dtype=dtype)


# -- the extreme-value cases the issue names --------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_case_sigmoid_at_plus_minus_1000(dtype):
    k = kernel("activations.sigmoid")
    out = k(z=_z([-1000, 0, 1000], dtype))
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_case_sigmoid_derivative_at_plus_minus_1000(dtype):
    g = kernel("activations.sigmoid", grad="z")
    out = g(z=_z([-1000, 0, 1000, -30], dtype))
    assert out.dtype == dtype
    np.testing.assert_allclose(out[:3], [0.0, 0.25, 0.0])
    # σ'(−30) = e⁻³⁰/(1+e⁻³⁰)² keeps its relative accuracy in the tail.
    np.testing.assert_allclose(out[3], np.exp(-30) / (1 + np.exp(-30)) ** 2, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_case_softmax_of_1000_0_minus_1000(dtype):
    k = kernel("activations.softmax")
    out = k(z_vec=_z([1000, 0, -1000], dtype))
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, [1.0, 0.0, 0.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_case_softmax_temperature_of_large_logits(dtype):
    k = kernel("activations.softmax_temperature")
    out = k(z_vec=_z([[1000, 0, -1000], [1, 1, 1]], dtype), T=0.5)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_case_bce_at_yhat_0_and_1_with_matching_label(dtype):
    k = kernel("losses.bce")
    out = k(y_prob=_z([0, 1], dtype), yhat_prob=_z([0, 1], dtype))
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, [0.0, 0.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_case_bce_gradient_at_yhat_0_and_1_with_matching_label(dtype):
    g = kernel("losses.bce", grad="yhat_prob")
    out = g(y_prob=_z([0, 1], dtype), yhat_prob=_z([0, 1], dtype))
    assert out.dtype == dtype
    # y = 0: L = −log(1 − ŷ), L' = 1/(1 − ŷ) = 1; y = 1: L = −log ŷ, L' = −1/ŷ = −1.
    np.testing.assert_array_equal(out, [1.0, -1.0])


def _bce_of_logit():
    f = CATALOG.get("losses.bce")
    z = sp.Symbol("z", real=True)
    y, yhat = f.symbol("y_prob").symbol, f.symbol("yhat_prob").symbol
    return f.expr.xreplace({yhat: 1 / (1 + sp.exp(-z))}), y, z


@pytest.mark.parametrize("dtype", DTYPES)
def test_case_bce_of_sigmoid_at_abs_z_1000(dtype):
    expr, _, _ = _bce_of_logit()
    k = kernel(expr)
    assert k.args == ("y_prob", "z")
    z = _z([1000, -1000, 1000, -1000], dtype)
    y = _z([1, 0, 0, 1], dtype)
    out = k(y_prob=y, z=z)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, [0.0, 0.0, 1000.0, 1000.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_case_bce_of_sigmoid_gradient_at_abs_z_1000(dtype):
    expr, _, _ = _bce_of_logit()
    g = kernel(expr, grad="z")
    z = _z([1000, -1000, 1000, -1000, 0], dtype)
    y = _z([1, 0, 0, 1, 1], dtype)
    out = g(y_prob=y, z=z)
    assert out.dtype == dtype
    # ∂/∂z = σ(z) − y
    np.testing.assert_allclose(out, [0.0, 0.0, 1.0, -1.0, -0.5])


@pytest.mark.parametrize("dtype", DTYPES)
def test_case_tanh_formula_at_plus_minus_1000(dtype):
    k = kernel("activations.tanh")
    g = kernel("activations.tanh", grad="z")
    z = _z([-1000, 0, 1000], dtype)
    np.testing.assert_array_equal(k(z=z), [-1, 0, 1])
    np.testing.assert_array_equal(g(z=z), [0, 1, 0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_case_cross_entropy_with_zero_probabilities(dtype):
    k = kernel("losses.cce")
    out = k(y_cls=_z([0, 1, 0], dtype), yhat_cls=_z([0, 1, 0], dtype))
    assert out.dtype == dtype
    assert out == 0.0


def test_case_softmax_gradient_is_finite_at_large_logits():
    g = kernel("activations.softmax", grad="z_vec")
    assert g.args == ("z_vec", "grad_out")
    out = g(z_vec=np.array([1000.0, 0, -1000]), grad_out=np.array([1.0, 0, 0]))
    np.testing.assert_allclose(out, [0.0, 0.0, 0.0], atol=1e-300)
    out = g(z_vec=np.zeros(2), grad_out=np.array([1.0, 0]))
    np.testing.assert_allclose(out, [0.25, -0.25])


# -- dtypes, integers, broadcasting, axes ----------------------------------------------------


@pytest.mark.parametrize(
    "formula_id", ["activations.gelu", "losses.mse", "info.kl_divergence", "layernorm.variance"]
)
def test_float32_in_float32_out_with_float64_scalars(formula_id):
    k = kernel(formula_id)
    values = {a: np.full((2, 3), 0.5, np.float32) for a in k.args}
    if "mu" in values:
        values["mu"] = 0.25  # a Python float must not promote the arithmetic
    out = k(**values)
    assert out.dtype == np.float32


def test_integer_inputs_are_converted_not_truncated():
    k = kernel("activations.sigmoid")
    out = k(z=np.array([0, 1]))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [0.5, 1 / (1 + np.exp(-1))])
    assert kernel("metrics.precision")(TP=np.array([1]), FP=np.array([2]))[0] == pytest.approx(
        1 / 3
    )


def test_reductions_follow_the_axis_argument():
    k = kernel("losses.mse")
    y = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(k(y, np.zeros((2, 3))), (y**2).mean(axis=-1))
    np.testing.assert_allclose(k(y, np.zeros((2, 3)), axis=0), (y**2).mean(axis=0))
    assert kernel("losses.mse", axis=0)(y, np.zeros((2, 3))).shape == (3,)


def test_broadcasting_and_positional_arguments():
    k = kernel("activations.leaky_relu")
    assert k.args == ("z", "alpha")
    z = np.array([[-2.0], [3.0]])
    np.testing.assert_allclose(k(z, np.array([0.1, 0.2])), [[-0.2, -0.4], [3, 3]])


def test_out_is_written_in_place():
    k = kernel("activations.gelu")
    z = np.linspace(-3, 3, 7)
    buffer = np.empty_like(z)
    result = k(z=z, out=buffer)
    assert result is buffer
    np.testing.assert_allclose(buffer, k(z=z))


def test_gradient_of_a_constant_broadcasts_to_the_input():
    g = kernel("optim.sgd", grad="W")
    out = g(W=np.zeros(3, np.float32), g=np.ones(3, np.float32), eta=0.1)
    assert out.shape == (3,) and out.dtype == np.float32
    np.testing.assert_array_equal(out, [1, 1, 1])


# -- fused optimizer steps --------------------------------------------------------------------


def test_adam_step_updates_state_in_place():
    step = kernel("optim.adam_step", step=True)
    assert step.outputs == ("m", "v", "W")
    rng = np.random.default_rng(0)
    W, g, m, v = (rng.normal(size=50) for _ in range(4))
    v = np.abs(v)
    lr, b1, b2, eps, t = 1e-3, 0.9, 0.999, 1e-8, 3
    m_ref = b1 * m + (1 - b1) * g
    v_ref = b2 * v + (1 - b2) * g * g
    W_ref = W - lr * (m_ref / (1 - b1**t)) / (np.sqrt(v_ref / (1 - b2**t)) + eps)
    result = step(W=W, g=g, eta=lr, epsilon=eps, beta_1=b1, beta_2=b2, m=m, v=v, t=t, out=(m, v, W))
    assert result[0] is m and result[2] is W
    np.testing.assert_allclose(m, m_ref)
    np.testing.assert_allclose(v, v_ref)
    np.testing.assert_allclose(W, W_ref)


@pytest.mark.parametrize(
    "formula_id", ["optim.rmsprop_step", "optim.adamw_step", "optim.momentum_step"]
)
def test_fused_steps_stay_float32(formula_id):
    step = kernel(formula_id, step=True)
    values = {a: np.full(4, 0.5, np.float32) for a in step.args}
    values.update(
        {
            n: 0.9
            for n in ("eta", "beta", "beta_1", "beta_2", "epsilon", "t", "lambda")
            if n in values
        }
    )
    results = step(**values)
    results = results if isinstance(results, tuple) else (results,)
    assert all(r.dtype == np.float32 for r in results)


def test_nesterov_step_has_no_fused_kernel():
    with pytest.raises(NotKernelisable, match="optim.nesterov_step.*unknown function"):
        kernel("optim.nesterov_step", step=True)


# -- the rewrites, one by one ------------------------------------------------------------------


def test_rewrite_sigmoid_from_exp_and_times_exp():
    z = sp.Symbol("z", real=True)
    assert rw.apply_all(1 / (1 + sp.exp(-z)), rw.RECOGNISE) == sigmoid(z)
    assert rw.apply_all(sp.exp(-z) / (1 + sp.exp(-z)) ** 2, rw.RECOGNISE) == sigmoid(z) * sigmoid(
        -z
    )


def test_rewrite_log_sigmoid_and_one_minus_sigmoid():
    z = sp.Symbol("z", real=True)
    assert rw.apply_all(sp.log(1 - sigmoid(z)), rw.STABLE) == LogSigmoid(-z)


def test_rewrite_softmax_folds_the_vjp():
    g, u = sp.symbols("g u")
    s = ReduceSum(sp.exp(u))
    vjp = g * sp.exp(u) / s - sp.exp(u) * ReduceSum(g * sp.exp(u)) / s**2
    assert rw.apply_all(vjp, rw.STABLE) == g * Softmax(u) - ReduceSum(g * Softmax(u)) * Softmax(u)


def test_rewrite_xlogy_only_where_the_weight_can_vanish():
    y, p = sp.symbols("y p")
    always = rw.weighted_rewrites(lambda w: True)
    never = rw.weighted_rewrites(lambda w: False)
    assert rw.apply_all(y * sp.log(p), always) == XLogY(y, p)
    assert rw.apply_all(y / p, always) == XDivY(y, p)
    assert rw.apply_all(y * sp.log(p), never) == y * sp.log(p)


def test_rewrite_sech_squared():
    z = sp.Symbol("z", real=True)
    from symml.kernels.nodes import DSigmoid

    assert rw.apply_all(1 - sp.tanh(z) ** 2, rw.STABLE) == 4 * DSigmoid(2 * z)
    assert rw.apply_all(3 * (1 - sp.tanh(z) ** 2), rw.STABLE) == 12 * DSigmoid(2 * z)
    assert rw.apply_all(2 - sp.tanh(z) ** 2, rw.STABLE) == 2 - sp.tanh(z) ** 2


def test_rewrite_rational_cancel_only_where_it_has_fewer_operations():
    p, r = sp.symbols("p r", positive=True)
    assert rw.apply_all(2 * r / (p + r) - 2 * p * r / (p + r) ** 2, rw.CANCEL) == (
        2 * r**2 / (p + r) ** 2
    )
    beta, m, g = sp.symbols("beta m g")
    momentum = beta * m + (1 - beta) * g  # factoring would not shorten it
    assert rw.apply_all(momentum, rw.CANCEL) == momentum
    assert rw.apply_all(XDivY(r, p) - r / (p + 1), rw.CANCEL) == XDivY(r, p) - r / (p + 1)


def test_rewrite_log_ratio_only_for_nonnegative_parts():
    p, q, x = sp.symbols("P Q x")
    nonnegative = rw.log_ratio_rewrites(lambda e: str(e) in ("P", "Q"))
    assert rw.apply_all(p * sp.log(p / q), nonnegative) == p * sp.log(p) - p * sp.log(q)
    assert rw.apply_all(sp.log(p / q) + 1, nonnegative) == sp.log(p) - sp.log(q) + 1
    assert rw.apply_all(sp.log(x / q), nonnegative) == sp.log(x / q)


def test_rewrite_log1p_expm1_and_folding():
    x = sp.Symbol("x")
    from symml.kernels.nodes import Expm1, Log1p

    assert rw.apply_all(sp.log(1 + x), rw.STABLE) == Log1p(x)
    assert rw.apply_all(sp.exp(x) - 1, rw.STABLE) == Expm1(x)
    folded = rw.fold_constants(sp.sqrt(2) * x)
    coefficient, rest = folded.as_coeff_Mul()
    assert rest == x and float(coefficient) == 2**0.5


def test_source_is_readable_and_uses_stable_calls():
    assert "rt.expit" in kernel("activations.sigmoid").source
    assert "rt.dsigmoid" in kernel("activations.sigmoid", grad="z").source
    assert "rt.softmax" in kernel("activations.softmax").source
    src = kernel("losses.bce").source
    assert "sx.xlogy" in src and "sx.xlog1py" in src
    assert "**" not in kernel("losses.mse").source  # powers by multiplication


# -- not kernelisable, errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula_id", "reason"),
    [
        ("regularization.l2", "unknown function (L)"),
        ("gan.generator_loss", "expectation"),
        ("metrics.roc_auc", "integral"),
        ("losses.triplet", "unknown function (dist)"),
        ("forward.layer1_act", "unknown function (sigma)"),
    ],
)
def test_not_kernelisable_names_the_formula_and_the_reason(formula_id, reason):
    with pytest.raises(NotKernelisable) as info:
        kernel(formula_id)
    message = str(info.value)
    assert message.startswith(f"formula '{formula_id}' has no numeric kernel: ")
    assert reason in message and "\n" not in message


def test_a_product_of_factors_that_may_be_negative_is_refused():
    x, t, n = sp.IndexedBase("x", real=True), sp.Symbol("t", integer=True), sp.Symbol("n")
    with pytest.raises(NotKernelisable, match="product over an index of factors that may be"):
        kernel(sp.Product(x[t], (t, 1, n)))


def test_call_errors_are_one_line():
    k = kernel("losses.bce")
    with pytest.raises(UsageError, match="missing yhat_prob"):
        k(y_prob=1.0)
    with pytest.raises(UsageError, match="no argument 'q'"):
        k(y_prob=1.0, yhat_prob=0.5, q=1)
    with pytest.raises(UsageError, match="no argument 'w' to differentiate by"):
        kernel("losses.bce", grad="w")


def test_missing_optional_backend_names_the_extra(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name == "numba":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    monkeypatch.setattr("importlib.import_module", lambda n: fake(n))
    with pytest.raises(MissingBackend) as info:
        get_backend("numba")
    assert str(info.value) == "backend 'numba' needs the numba package: pip install 'symml[numba]'"


def test_the_removed_numexpr_backend_says_why_and_what_to_use():
    with pytest.raises(UsageError) as info:
        kernel("activations.sigmoid", backend="numexpr")
    assert str(info.value) == (
        "backend 'numexpr' was removed: it was slower than the numpy backend in all 24 cells "
        "of benchmarks/kernels.py (docs/changelog.md); use backend='numpy' or 'numba'"
    )


# -- matrices -------------------------------------------------------------------------------------


def test_attention_is_batched_and_stable():
    k = kernel("attention.scaled_dot_product")
    rng = np.random.default_rng(1)
    Q, K, V = (
        rng.normal(size=(2, 3, 4)) * 300,
        rng.normal(size=(2, 5, 4)),
        rng.normal(size=(2, 5, 2)),
    )
    out = k(Q=Q, K=K, V=V)
    scores = Q @ K.swapaxes(-1, -2) / 2.0
    scores -= scores.max(-1, keepdims=True)
    weights = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    np.testing.assert_allclose(out, weights @ V)


def test_lstm_cell_and_gate():
    gate = kernel("lstm.forget_gate")
    rng = np.random.default_rng(2)
    h, x, W, b = (
        rng.normal(size=(3, 1)),
        rng.normal(size=(2, 1)),
        rng.normal(size=(3, 5)),
        rng.normal(size=(3, 1)),
    )
    expected = 1 / (1 + np.exp(-(W @ np.vstack([h, x]) + b)))
    np.testing.assert_allclose(gate(h_prev=h, x_t=x, W_f=W, b_f=b), expected)
    cell = kernel("lstm.cell")
    np.testing.assert_allclose(cell(C_prev=h, f_t=b, i_t=h, Ctilde=b), h * b + b * h)


# -- CLI and Dask -------------------------------------------------------------------------------


def test_cli_prints_the_gradient_source(monkeypatch, capsys):
    monkeypatch.setattr(cli, "EXTENSIONS", ("symml.cli.kernel",))
    out = io.StringIO()
    assert cli.main(["kernel", "activations.sigmoid", "--grad", "z"], out) == 0
    text = out.getvalue()
    assert text.startswith("# activations.sigmoid d/dz: (z) -> (dz)")
    assert "rt.dsigmoid(z)" in text
    out = io.StringIO()
    assert cli.main(["kernel", "diffusion.reverse"], out) == 1
    assert out.getvalue() == ""
    assert capsys.readouterr().err.startswith(
        "symml: formula 'diffusion.reverse' has no numeric kernel: an unknown function"
    )
    out = io.StringIO()
    assert cli.main(["kernel", "init.he"], out) == 0
    assert "rng.standard_normal(shape, dtype)" in out.getvalue()


def test_dask_arrays_run_on_the_numpy_backend():
    da = pytest.importorskip("dask.array", reason="dask is not installed (pip install dask)")
    z = da.from_array(np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]]), chunks=(1, 3))
    soft = kernel("activations.softmax")(z_vec=z)
    assert isinstance(soft, da.Array)
    np.testing.assert_allclose(soft.compute(), kernel("activations.softmax")(z_vec=z.compute()))
    loss = kernel("losses.bce")(
        y_prob=da.from_array(np.array([0.0, 1.0])), yhat_prob=da.from_array(np.array([0.0, 1.0]))
    )
    np.testing.assert_array_equal(loss.compute(), [0.0, 0.0])


_a, _b, _c = sp.symbols("a b c", real=True)


@pytest.mark.parametrize("backend", ["numba"])
@pytest.mark.parametrize(
    "expr",
    [
        _a / (_b + 1) ** 2,  # a fused printer once wrote a/(b + 1)*(b + 1), i.e. a
        sp.Max(_a, _b, _c),  # … and kept only the first two arguments of a max
        sp.Min(_a, _b, _c),
        sp.Piecewise((_a, sp.And(_a > 1, _b < 3)), (_c, sp.Or(_b > 2, _c > 5)), (0, True)),
    ],
    ids=["power", "max3", "min3", "and-or"],
)
def test_fused_backends_print_as_numpy_does(backend, expr):
    pytest.importorskip(backend, reason=f"{backend} is not installed")
    values = dict(a=[1.0, 5.0, 2.0], b=[3.0, 1.0, 2.5], c=[2.0, 2.0, 9.0])
    plain = kernel(expr)
    args = {name: np.array(values[name]) for name in plain.args}
    np.testing.assert_allclose(kernel(expr, backend=backend)(**args), plain(**args))


# -- fast forms: float32 σ, σ', the unguarded body with a guarded fix-up -------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_and_its_derivative_keep_dtype_accuracy_and_both_tails(dtype):
    z = np.linspace(-120, 120, 4801).astype(dtype)
    exact = 1 / (1 + np.exp(-z.astype(np.longdouble)))
    e = np.exp(-np.abs(z.astype(np.longdouble)))
    derivative = e / (1 + e) ** 2
    tol = 2e-6 if dtype == np.float32 else 1e-14
    tiny = np.finfo(dtype).tiny  # below it float32 results flush towards 0
    s = kernel("activations.sigmoid")(z=z)
    d = kernel("activations.sigmoid", grad="z")(z=z)
    assert s.dtype == dtype and d.dtype == dtype
    np.testing.assert_allclose(s, exact.astype(np.float64), rtol=tol, atol=tiny)
    # σ'(30) = 9.4e-14 keeps its digits (σ(1 − σ) would be 0 there).
    np.testing.assert_allclose(d, derivative.astype(np.float64), rtol=4 * tol, atol=tiny)
    assert d[np.searchsorted(z, 30)] > 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_gradient_runs_unguarded_and_fixes_only_the_endpoints(dtype):
    g = kernel("losses.bce", grad="yhat_prob")
    plan = unguarded_plan(g.plan)
    assert "XDivY" not in str(plan.outputs)  # one fraction, no guard
    y = _z([0, 1, 0, 1, 1, 0, 0.5], dtype)
    p = _z([0, 1, 1, 0, 0.5, 0.25, 0], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 1/0 at a wrong label is a true, warned infinity
        out = g(y_prob=y, yhat_prob=p)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, [1, -1, np.inf, -np.inf, -2, 4 / 3, -np.inf], rtol=1e-6)


def test_guarded_body_runs_alone_when_out_overlaps_an_input():
    g = kernel("losses.bce", grad="yhat_prob")
    y, p = np.array([0.0, 1.0, 1.0]), np.array([0.0, 1.0, 0.5])
    out = g(y_prob=y, yhat_prob=p, out=p)
    assert out is p
    np.testing.assert_array_equal(p, [1.0, -1.0, -2.0])


def test_unguarded_plan_keeps_guards_that_a_comparison_could_hide():
    y, p = sp.symbols("y p")
    from symml.kernels.plan import Plan

    plan = Plan(
        "t",
        (sp.Piecewise((1, XDivY(y, p) > 0), (0, True)),),
        ("v",),
        (False,),
        ("y", "p"),
        frozenset(),
        None,
    )
    assert unguarded_plan(plan) is None


# -- numba ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula_id", "wrt"),
    [
        ("losses.bce", "yhat_prob"),
        ("losses.bce", None),
        ("activations.sigmoid", "z"),
        ("activations.gelu", "z"),
        ("activations.leaky_relu", None),
    ],
)
def test_numba_backend_matches_numpy(formula_id, wrt):
    pytest.importorskip("numba", reason="numba is not installed (pip install numba)")
    fused = kernel(formula_id, grad=wrt, backend="numba")
    plain = kernel(formula_id, grad=wrt)
    assert "nb.prange" in fused.source
    rng = np.random.default_rng(6)
    values = {a: rng.uniform(0.05, 0.95, size=(4, 5)) for a in plain.args}
    if "y_prob" in values:
        values["y_prob"] = (values["y_prob"] > 0.5).astype(float)
    np.testing.assert_allclose(fused(**values), plain(**values), rtol=1e-12)
    z = _z([-1000, 0, 1000], np.float32)
    if plain.args == ("z",):
        out = fused(z=z)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, plain(z=z))
    if "y_prob" in values:  # the 0·log 0 guards at the endpoints
        y = _z([0, 1], np.float64)
        np.testing.assert_array_equal(fused(y_prob=y, yhat_prob=y), plain(y_prob=y, yhat_prob=y))


def test_numba_adam_step_in_place_and_reductions_fall_back():
    pytest.importorskip("numba", reason="numba is not installed (pip install numba)")
    fused = kernel("optim.adam_step", step=True, backend="numba")
    plain = kernel("optim.adam_step", step=True)
    rng = np.random.default_rng(7)
    W, g, m, v = (rng.uniform(0, 1, size=30).astype(np.float32) for _ in range(4))
    hyper = dict(eta=1e-3, epsilon=1e-8, beta_1=0.9, beta_2=0.999, t=5)
    expected = plain(W=W, g=g, m=m, v=v, **hyper)
    result = fused(W=W, g=g, m=m, v=v, **hyper, out=(m, v, W))
    assert result[2] is W and W.dtype == np.float32
    for got, want in zip((m, v, W), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    soft = kernel("activations.softmax", backend="numba")
    assert soft.source.startswith("# numba: not elementwise")
    z = np.array([[1000.0, 0, -1000]])
    np.testing.assert_array_equal(soft(z_vec=z), kernel("activations.softmax")(z_vec=z))


def test_missing_numba_names_the_extra(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name == "numba":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr("importlib.import_module", lambda n: fake(n))
    with pytest.raises(MissingBackend, match=r"pip install 'symml\[numba\]'"):
        kernel("activations.sigmoid", backend="numba")


def test_finite_check_false_alarm_leaves_a_large_finite_gradient_unchanged():
    # r·r overflows float32 for |r| ≈ 1e20 although every element is finite: the fix-up
    # pass then finds nothing to recompute and the optimistic values stand.
    y = np.array([1.0, 0.0, 1.0], dtype=np.float32)
    p = np.array([1e-20, 0.5, 0.25], dtype=np.float32)
    d = kernel("losses.bce", grad="yhat_prob")(y_prob=y, yhat_prob=p)
    assert d.dtype == np.float32
    np.testing.assert_allclose(d, [-1e20, 2.0, -4.0], rtol=1e-6)
