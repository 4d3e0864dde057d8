"""The faster forms of the kernels compute what the plain forms compute: the sum of squares
as one dot per row, softmax into out=, numba's unguarded loop with its fix-up loop."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from symml import load_catalog
from symml.kernels import kernel
from symml.kernels.kernel import build, plan_for
from symml.kernels.source import fast_source

CATALOG = load_catalog()

sys.path.insert(0, str(Path(__file__).parent))
from catalog_kernels import catalog_kernels  # noqa: E402

# Labels and probabilities at and beyond the endpoints, and nan: every guard is exercised.
Y = np.array([0, 1, 0, 1, 0.5, np.nan, 0, 1, 0.3, 0.25])
P = np.array([0, 1, 1, 0, 0.5, 0.3, np.nan, 1e-300, 1.0, 0.75])


def _layer_norm():
    norm, mean, var = (CATALOG.get(f"layernorm.{n}") for n in ("normalize", "mean", "variance"))
    mu, s2 = norm.symbol("mu").symbol, norm.symbol("sigma_sq").symbol
    expr = norm.expr.xreplace({s2: var.expr.xreplace({mu: mean.expr}), mu: mean.expr})
    plan = plan_for(norm.__class__(**{**norm.__dict__, "expr": expr}))
    return plan, build(plan, None, expr, None, "numpy", -1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_sums_its_squares_in_one_dot_and_stays_accurate(dtype):
    plan, k = _layer_norm()
    body = fast_source(plan, (True, False))
    assert "rt.sum_squares(" in body
    assert not re.search(r"xp\.multiply\((t\d+), \1\)", body)  # no squared temporary
    rng = np.random.default_rng(5)
    eps = np.finfo(dtype).eps
    for offset in (0.0, 100.0):  # 100: the centring cancels about 5 bits
        x = (rng.normal(size=(64, 1000)) * 3 + offset).astype(dtype)
        got = k(x=x, epsilon=1e-5)
        exact = x.astype(np.longdouble)
        centred = exact - exact.mean(axis=-1, keepdims=True)
        want = centred / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + 1e-5)
        err = np.abs(got - want) / eps  # outputs are of order 1: ulps of 1
        assert got.dtype == dtype
        # Measured: 31 ulps at offset 100 (the input's own centring), the same as the
        # squared temporary summed pairwise gave; a median under half an ulp.
        assert float(err.max()) < (40 if offset else 8)
        assert float(np.median(err)) < (8 if offset else 0.5)


def test_sum_squares_is_the_squared_sum_on_any_axis():
    from symml.kernels.backends import get_backend

    rt = get_backend("numpy").rt
    u = np.random.default_rng(6).normal(size=(3, 5, 7))
    for axis in (-1, 0, 1):
        np.testing.assert_allclose(
            rt.sum_squares(u, axis), np.sum(u * u, axis=axis, keepdims=True), rtol=1e-14
        )
    ints = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(rt.sum_squares(ints, -1), [[5], [50]])


def test_softmax_writes_into_out_and_may_overwrite_its_input():
    soft = kernel("activations.softmax")
    z = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0], [-np.inf, 0.0, 1.0]])
    want = soft(z_vec=z.copy())
    out = np.empty_like(z)
    assert soft(z_vec=z, out=out) is out
    np.testing.assert_array_equal(out, want)
    same = z.copy()
    soft(z_vec=same, out=same)
    np.testing.assert_array_equal(same, want)
    np.testing.assert_allclose(want[1], np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum(), rtol=1e-15)
    np.testing.assert_array_equal(want[0], [1.0, 0.0, 0.0])


@pytest.mark.parametrize("grad", [None, "yhat_prob"])
@pytest.mark.parametrize("backend", ["numba"])
def test_fused_unguarded_pass_with_fix_up_equals_the_guarded_numpy_kernel(backend, grad):
    pytest.importorskip(backend, reason=f"{backend} is not installed")
    fused = kernel("losses.bce", grad=grad, backend=backend)
    plain = kernel("losses.bce", grad=grad)
    with np.errstate(all="ignore"):
        want = plain(y_prob=Y, yhat_prob=P)
        got = fused(y_prob=Y, yhat_prob=P)
        # The fix-up must also run when the caller's out= holds the result.
        out = np.empty_like(P)
        fused(y_prob=Y, yhat_prob=P, out=out)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(out, want)
    assert np.isfinite(got[4])  # an interior point never reaches the fix-up


def test_numba_fix_up_loop_recomputes_only_non_finite_elements():
    pytest.importorskip("numba", reason="numba is not installed")
    from symml.kernels.backends.numba import numba_source
    from symml.kernels.plan import unguarded_plan

    k = kernel("losses.bce", grad="yhat_prob", backend="numba")
    counted = numba_source(unguarded_plan(k.plan), (True, True), "count")
    assert "bad += 0 if math.isfinite(r0) else 1" in counted and "_xdivy" not in counted
    fixup = numba_source(k.plan, (True, True), "fixup")
    assert "if not (math.isfinite(out0[i])):" in fixup and "_xdivy" in fixup


def test_numba_leaves_float32_simd_functions_to_numpy():
    pytest.importorskip("numba", reason="numba is not installed")
    from symml.kernels.backends.numba import numpy_simd_wins

    z = np.linspace(-100, 100, 101).astype(np.float32)
    sig = kernel("activations.sigmoid", backend="numba")
    assert numpy_simd_wins(sig.plan)
    np.testing.assert_array_equal(sig(z=z), kernel("activations.sigmoid")(z=z))
    assert not [k for k in sig.loops.compiled if k[0] == "plain"]  # no loop compiled for float32
    # Φ has no SIMD loop in NumPy either: GELU keeps its fused loop.
    assert not numpy_simd_wins(kernel("activations.gelu", backend="numba").plan)
    assert not numpy_simd_wins(kernel("losses.bce", grad="yhat_prob", backend="numba").plan)
    # BCE's logs are NumPy's vectorised log (log1p through rt.log1p): the NumPy body wins.
    bce = kernel("losses.bce", backend="numba")
    assert numpy_simd_wins(bce.plan)
    y = np.array([0, 1, 0, 1, 0.5], np.float32)
    p = np.array([0, 1, 0.25, 1e-30, 0.5], np.float32)
    np.testing.assert_array_equal(
        bce(y_prob=y, yhat_prob=p), kernel("losses.bce")(y_prob=y, yhat_prob=p)
    )


def _log1p_reference(values):
    import mpmath

    with mpmath.workdps(40):
        return np.array([float(mpmath.log1p(mpmath.mpf(float(v)))) for v in values])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log1p_on_numpys_vectorised_log_stays_within_two_ulp(dtype):
    from symml.kernels.backends import get_backend

    rt = get_backend("numpy").rt
    rng = np.random.default_rng(11)
    smallest = np.log10(np.finfo(dtype).tiny)
    u = np.concatenate(
        [
            rng.uniform(-1, 1, 2000),
            -(10 ** rng.uniform(smallest, 0, 1000)),  # down to −1: log(1 + u) → −inf
            10 ** rng.uniform(smallest, 10, 1000),  # below half an ulp of 1: w − 1 = 0
        ]
    ).astype(dtype)
    u = u[u > -1]
    error = np.abs(rt.log1p(u) - _log1p_reference(u)) / np.abs(_log1p_reference(u))
    assert error.max() <= 2 * np.finfo(dtype).eps


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log1p_edges_are_numpys_even_when_out_is_the_input(dtype):
    from symml.kernels.backends import get_backend

    rt = get_backend("numpy").rt
    edges = np.array([0.0, -0.0, -1.0, np.inf, -np.inf, np.nan, -2.0, 1e-30, -1e-30], dtype)
    with np.errstate(all="ignore"):
        expected = np.log1p(edges)
        got = rt.log1p(edges)
        in_place = edges.copy()
        same = rt.log1p(in_place, out=in_place)
    np.testing.assert_array_equal(got, expected)
    numbers = ~np.isnan(expected)
    np.testing.assert_array_equal(np.signbit(got[numbers]), np.signbit(expected[numbers]))
    assert same is in_place
    np.testing.assert_array_equal(in_place, expected)
    assert got.dtype == dtype


def test_bce_body_takes_log1p_on_the_log_and_negates_no_term():
    from symml.kernels.plan import unguarded_plan

    k = kernel("losses.bce")
    body = fast_source(unguarded_plan(k.plan), (True, True))
    assert "rt.log1p(" in body and "xp.log1p(" not in body
    assert "xp.negative(t" not in body  # −(1 − y)·log1p(−ŷ) printed as (y − 1)·log1p(−ŷ)
    assert "xp.subtract(y_prob, 1)" in body
    y = np.array([0.0, 1.0, 0.0, 1.0, 0.3], np.float32)
    p = np.array([1e-30, 0.999, 0.5, 1e-30, 0.7], np.float32)
    expected = -(y.astype(float) * np.log(p.astype(float)) + (1 - y) * np.log1p(-p.astype(float)))
    got = k(y_prob=y, yhat_prob=p)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=4 * np.finfo(np.float32).eps)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("-(1 - y)*exp(w) - x*log(w)", "xp.subtract(y, 1)"),
        ("-(x - y)*exp(w) - w", "xp.subtract(y, x)"),
    ],
)
def test_a_sum_of_negative_terms_gives_its_sign_to_a_difference(expr, expected):
    syms = {n: sp.Symbol(n, positive=True) for n in "wxy"}
    source = kernel(sp.sympify(expr, locals=syms)).source
    fast = source.split("def fast")[1]
    assert expected in fast
    assert "xp.negative(" not in fast


def _softmax_reference(rows):
    import mpmath

    with mpmath.workdps(40):
        out = []
        for row in rows:
            e = [mpmath.exp(mpmath.mpf(float(v))) for v in row]
            total = mpmath.fsum(e)
            out.append([float(x / total) for x in e])
    return np.array(out)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("offset", "shifted"),
    [(0.0, False), (-30.0, True), (60.0, False), (700.0, True)],
    ids=["ordinary", "all-negative", "large", "overflowing"],
)
def test_softmax_skips_the_shift_only_where_exp_cannot_overflow_or_underflow(
    monkeypatch, dtype, offset, shifted
):
    import symml.kernels.backends.runtime as runtime

    if dtype == np.float32 and offset == 60.0:
        offset = 40.0  # float32's exp overflows at 88.7
    seen = []
    real = runtime.unshifted_exp_is_exact
    monkeypatch.setattr(
        runtime, "unshifted_exp_is_exact", lambda *a: seen.append(real(*a)) or seen[-1]
    )
    rng = np.random.default_rng(4)
    z = (rng.normal(size=(6, 50)) * 3 + offset).astype(dtype)
    z[:, 0] = np.abs(z[:, 0]) if offset == 0.0 else z[:, 0]  # every row's maximum ≥ 0
    got = kernel("activations.softmax")(z_vec=z)
    assert seen == [not shifted]
    expected = _softmax_reference(z)
    tiny = np.finfo(dtype).tiny
    np.testing.assert_allclose(got, expected, rtol=8 * np.finfo(dtype).eps, atol=tiny)


def test_softmax_row_sum_cannot_overflow_without_the_shift():
    from symml.kernels.backends.runtime import unshifted_exp_is_exact

    limit = np.log(np.finfo(np.float64).max) - np.log(1000) - 1
    assert unshifted_exp_is_exact(np.array([[0.0], [limit]]), np.dtype(np.float64), 1000)
    assert not unshifted_exp_is_exact(np.array([[limit + 0.01]]), np.dtype(np.float64), 1000)
    assert not unshifted_exp_is_exact(np.array([[-1e-9]]), np.dtype(np.float64), 1000)
    assert not unshifted_exp_is_exact(np.array([[np.nan]]), np.dtype(np.float64), 1000)
    z = np.full((2, 1000), limit)
    got = kernel("activations.softmax")(z_vec=z)
    np.testing.assert_allclose(got, 1e-3, rtol=1e-12)


def _sigmoid_reference(z):
    return 1 / (1 + np.exp(-z.astype(np.longdouble)))


def _dsigmoid_reference(z):
    e = np.exp(-np.abs(z.astype(np.longdouble)))
    return e / (1 + e) ** 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["new", "in place", "shifted overlap", "strided"])
@pytest.mark.parametrize(
    ("function", "reference"), [("expit", _sigmoid_reference), ("dsigmoid", _dsigmoid_reference)]
)
def test_sigmoid_in_blocks_is_right_beyond_exps_range_in_every_layout(
    monkeypatch, dtype, layout, function, reference
):
    import symml.kernels.backends.runtime as runtime
    from symml.kernels.backends import get_backend

    monkeypatch.setattr(runtime, "EXPIT_BLOCK_BYTES", 64 * np.dtype(dtype).itemsize)
    rt = get_backend("numpy").rt
    top = 800.0 if dtype == np.float64 else 100.0  # beyond exp's range, in a middle block
    z = np.linspace(-top, top, 1001).astype(dtype)
    z[::97] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, 5.0, -5.0, 30.0, -30.0, 700.0][
        : z[::97].size
    ]
    exact = reference(z)
    compute = getattr(rt, function)
    if layout == "new":
        got = compute(z)
    elif layout == "in place":
        got = z.copy()
        assert compute(got, out=got) is got
    elif layout == "shifted overlap":
        buffer = np.concatenate([z, [0]]).astype(dtype)
        got = compute(buffer[:-1], out=buffer[1:])
    else:
        wide = np.repeat(z, 2)
        got = compute(wide[::2])
    assert got.dtype == dtype
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(
            got, exact.astype(np.float64), rtol=4 * np.finfo(dtype).eps, atol=np.finfo(dtype).tiny
        )


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_logsumexp_reduces_the_axis_asked_for(axis):
    """The in-place body once called rt.logsumexp without the axis: axis=0 gave the
    log-sum-exp of the rows, silently."""
    z, i = sp.IndexedBase("z", real=True), sp.Symbol("i", integer=True)
    n = sp.Symbol("n", integer=True, positive=True)
    k = kernel(sp.log(sp.Sum(sp.exp(z[i]), (i, 1, n))))
    assert "rt.logsumexp(z, axis=axis)" in k.source
    x = np.random.default_rng(9).normal(size=(3, 4)) * 300
    top = x.max(axis=axis, keepdims=True)
    want = np.squeeze(np.log(np.exp(x - top).sum(axis=axis, keepdims=True)) + top, axis=axis)
    np.testing.assert_allclose(k(z=x, axis=axis), want, rtol=1e-13)


@pytest.mark.parametrize(
    "formula_id",
    [
        f.id
        for f, k in catalog_kernels()
        if not k.plan.matrix and k.plan.axes == 1 and k.plan.families
    ],
)
def test_axis_0_on_x_is_axis_minus_1_on_its_transpose(formula_id):
    """Every one-axis kernel and its gradients reduce the axis they are given: a body that
    ignored it (as rt.logsumexp's call once did) gives other numbers, or another shape."""
    rng = np.random.default_rng(len(formula_id))
    for k in [kernel(formula_id), *kernel(formula_id, grad="all").values()]:
        values = {
            a: rng.uniform(0.1, 0.9, size=(4, 5)) if a in k.plan.families else 0.3 for a in k.args
        }
        transposed = {a: v.T.copy() if isinstance(v, np.ndarray) else v for a, v in values.items()}
        with np.errstate(all="ignore"):
            first, last = k(**values, axis=0), k(**transposed, axis=-1)
        pairs = zip(
            first if isinstance(first, tuple) else (first,),
            last if isinstance(last, tuple) else (last,),
            strict=True,
        )
        for a, b in pairs:
            np.testing.assert_allclose(np.asarray(a), np.asarray(b).T, rtol=1e-12)


def _as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize(
    ("formula_id", "wrt"), [("optim.adam_step", None), ("losses.bce", "yhat_prob")]
)
def test_numba_float32_loops_compute_in_float32(formula_id, wrt):
    """Numbers in the loop are the arrays' type (``_F``) and Python numbers are cast: a bare
    0.5 or a float64 β₁ makes numba widen every element to double (Adam: 3.5× slower)."""
    pytest.importorskip("numba", reason="numba is not installed")
    options = {"step": True} if wrt is None else {"grad": wrt}
    fused = kernel(formula_id, backend="numba", **options)
    plain = kernel(formula_id, **options)
    rng = np.random.default_rng(8)
    numbers = {"eta": 1e-3, "epsilon": 1e-8, "beta_1": 0.9, "beta_2": 0.999, "t": 3}
    values = {
        a: numbers.get(a) or rng.uniform(0.1, 0.9, size=1000).astype(np.float32) for a in fused.args
    }
    for got, want in zip(_as_tuple(fused(**values)), _as_tuple(plain(**values)), strict=True):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=2e-6)
    (loop,) = fused.loops.compiled.values()
    (signature,) = loop.signatures
    assert all("float64" not in str(t) for t in signature)
    assert "fpext float" not in loop.inspect_llvm(signature)  # no float → double in the loop
