"""Kernels of the catalog's max over an index (cnn.max_pool), two-index table
(info.mutual_information) and 2-D convolution (cnn.convolution): each forward kernel against
the catalog formula written out at concrete sizes, each gradient against central
differences, float32 kept, and the edges (ties of a max, zeros of a joint table)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy as sp
from sympy.core.function import AppliedUndef

from symml import load_catalog
from symml.evaluate.explicit import explicit
from symml.evaluate.numeric import sample_value
from symml.kernels import kernel

CATALOG = load_catalog()


def _spec(formula, name):
    return next(s for s in formula.symbols if s.name == name)


def _size(formula, name):
    return next(s for s in formula.expr.free_symbols if str(s) == name)


def _draw(formula, name, shape, rng):
    domain = _spec(formula, name).domain
    values = [float(sample_value(domain, rng)) for _ in range(int(np.prod(shape)))]
    return np.array(values).reshape(shape)


def _fill(expr, name, value):
    """Every element name[a, b, …] of expr (1-based) replaced by value(indices). By label:
    writing out at concrete sizes gives the family a new (concrete) shape."""
    return expr.replace(
        lambda e: isinstance(e, sp.Indexed) and str(e.base.label) == name,
        lambda e: value(*(int(ix) for ix in e.indices)),
    )


def _central(f, x, h=1e-6):
    """∂f/∂x by central differences, f: array → scalar."""
    grad = np.zeros_like(x)
    for position in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[position] = h
        grad[position] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


# -- max over an index: cnn.max_pool ------------------------------------------------------------

MAX_POOL = CATALOG.get("cnn.max_pool")
N_WINDOW = 5


def _max_reference(values):
    """The catalog's max(x[i], (i, 1, N)) at N = 5: the declared function is max(x₁ … x_N)."""
    written = MAX_POOL.expr.replace(
        lambda e: isinstance(e, AppliedUndef) and type(e).__name__ == "max",
        lambda e: sp.Max(*(e.args[0].xreplace({e.args[1][0]: k}) for k in range(1, N_WINDOW + 1))),
    )
    return float(_fill(written, "x", lambda k: sp.Float(values[k - 1], 30)))


def test_max_pool_forward_matches_the_catalog():
    x = _draw(MAX_POOL, "x", (6, N_WINDOW), random.Random(1))
    result = kernel(MAX_POOL)(x=x)
    assert result.shape == (6,)
    np.testing.assert_array_equal(result, [_max_reference(row) for row in x])


def test_max_pool_axis_is_selectable_and_bodies_agree():
    x = np.random.default_rng(2).normal(size=(N_WINDOW, 4))
    k = kernel(MAX_POOL)
    np.testing.assert_array_equal(k(x=x, axis=0), x.max(axis=0))
    np.testing.assert_array_equal(k.portable(x, axis=0)[0][0], x.max(axis=0))
    g = kernel(MAX_POOL, grad="x")
    np.testing.assert_array_equal(g(x=x, axis=0), g.portable(x, axis=0)[0])


def test_max_pool_gradient_matches_central_differences():
    x = _draw(MAX_POOL, "x", (4, N_WINDOW), random.Random(3))  # distinct values: smooth there
    f = kernel(MAX_POOL)
    g = kernel(MAX_POOL, grad="x")
    analytic = g(x=x)
    numeric = np.stack([_central(lambda r: float(f(x=r)), row) for row in x])
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_max_pool_gradient_goes_to_the_first_maximum_on_ties():
    x = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 5.0], [-np.inf, -1.0, 4.0, 4.0]])
    grad = kernel(MAX_POOL, grad="x")(x=x)
    np.testing.assert_array_equal(grad, [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0]])
    assert grad.sum(axis=-1).tolist() == [1.0, 1.0, 1.0]  # the whole gradient, once


def test_max_pool_keeps_float32():
    x = np.random.default_rng(4).normal(size=(3, 7)).astype(np.float32)
    assert kernel(MAX_POOL)(x=x).dtype == np.float32
    assert kernel(MAX_POOL, grad="x")(x=x).dtype == np.float32


# -- a two-index table: info.mutual_information -------------------------------------------------

MI = CATALOG.get("info.mutual_information")
K_X, L_Y = 2, 3


def _mi_reference(table):
    """The catalog's I(X;Y) written out at k = 2, l = 3 and evaluated with 30 digits."""
    sizes = {_size(MI, "k"): K_X, _size(MI, "l"): L_Y}
    written = explicit(MI.expr, sizes)
    return float(sp.N(_fill(written, "p", lambda a, b: sp.Float(table[a - 1, b - 1], 30)), 30))


def test_mutual_information_forward_matches_the_catalog_on_a_batch():
    rng = random.Random(5)
    tables = _draw(MI, "p", (4, K_X, L_Y), rng)
    tables[2] /= tables[2].sum()  # one normalised joint distribution, as well as raw weights
    result = kernel(MI)(p=tables)
    assert result.shape == (4,)
    np.testing.assert_allclose(result, [_mi_reference(t) for t in tables], rtol=1e-12)
    independent = np.outer([0.3, 0.7], [0.2, 0.5, 0.3])
    assert abs(kernel(MI)(p=independent)) < 1e-15


def test_mutual_information_is_finite_at_zeros():
    """0·log 0 = 0: the value at a table with zeros (one a whole row, a zero marginal) is the
    limit of the formula, here the written-out formula at 1e-40 in place of each 0."""
    table = np.array([[0.0, 0.25, 0.25], [0.5, 0.0, 0.0]])
    empty_row = np.array([[0.0, 0.0, 0.0], [0.2, 0.5, 0.3]])
    k = kernel(MI)
    for t in (table, empty_row):
        value = k(p=t)
        assert np.isfinite(value)
        np.testing.assert_allclose(value, _mi_reference(np.where(t == 0, 1e-40, t)), atol=1e-12)
    assert k(p=table) == pytest.approx(np.log(2))  # X determines Y: I = H(X) = log 2
    assert k(p=empty_row) == pytest.approx(0.0, abs=1e-15)
    assert np.isfinite(k(p=table.astype(np.float32)))


def test_mutual_information_gradient_matches_central_differences():
    tables = _draw(MI, "p", (3, K_X, L_Y), random.Random(6))
    f = kernel(MI)
    g = kernel(MI, grad="p")
    analytic = g(p=tables)
    assert analytic.shape == tables.shape
    numeric = np.stack([_central(lambda t: float(f(p=t)), t) for t in tables])
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_mutual_information_gradient_at_a_zero_cell_is_minus_infinity():
    """∂I/∂p_ij = log(p_ij / (p_X(i)·p_Y(j))) − 1 → −∞ as p_ij → 0 with both marginals > 0."""
    table = np.array([[0.0, 0.25, 0.25], [0.5, 0.0, 0.0]])
    with np.errstate(divide="ignore"):
        grad = kernel(MI, grad="p")(p=table)
        expected = np.log(table / (table.sum(1, keepdims=True) * table.sum(0))) - 1
    assert np.all(np.isneginf(grad[table == 0]))
    np.testing.assert_allclose(grad[table > 0], expected[table > 0], rtol=1e-12)


def test_mutual_information_keeps_float32():
    tables = _draw(MI, "p", (2, K_X, L_Y), random.Random(7))
    low = tables.astype(np.float32)
    value = kernel(MI)(p=low)
    grad = kernel(MI, grad="p")(p=low)
    assert value.dtype == np.float32 and grad.dtype == np.float32
    np.testing.assert_allclose(value, kernel(MI)(p=tables), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(grad, kernel(MI, grad="p")(p=tables), rtol=1e-5)


# -- a 2-D convolution: cnn.convolution ---------------------------------------------------------

CONV = CATALOG.get("cnn.convolution")
KH, KW, H, W = 2, 3, 3, 4


def _conv_reference(kernel_values, image):
    """The catalog's Σₘₙ f[m, n]·g[i − m, j − n] at K = 2×3, input 3×4 (1-based, g = 0
    outside 1..H × 1..W), written out for every i, j in 1..H + K_h + 1 × 1..W + K_w + 1."""
    sizes = {_size(CONV, "K_h"): KH, _size(CONV, "K_w"): KW}
    sizes |= {_size(CONV, "H_in"): H, _size(CONV, "W_in"): W}
    written = explicit(CONV.expr, sizes)
    written = _fill(written, "f", lambda a, b: sp.Float(kernel_values[a - 1, b - 1], 30))
    i, j = _size(CONV, "i"), _size(CONV, "j")

    def element(r, c):
        inside = 1 <= r <= H and 1 <= c <= W
        return sp.Float(image[r - 1, c - 1], 30) if inside else sp.S.Zero

    out = np.zeros((H + KH + 1, W + KW + 1))
    for r in range(1, H + KH + 2):
        for c in range(1, W + KW + 2):
            out[r - 1, c - 1] = float(_fill(written.xreplace({i: r, j: c}), "g", element))
    return out


def test_convolution_forward_matches_the_catalog():
    rng = random.Random(8)
    fv, gv = _draw(CONV, "f", (KH, KW), rng), _draw(CONV, "g", (H, W), rng)
    result = kernel(CONV)(f=fv, g=gv)
    assert result.shape == (H + KH - 1, W + KW - 1)
    reference = _conv_reference(fv, gv)
    # The formula is 0 outside i = 2..H + K_h, j = 2..W + K_w; the kernel returns that support:
    # element [r, c] (0-based) is conv[r + 2, c + 2].
    assert not reference[0].any() and not reference[:, 0].any()
    assert not reference[-1].any() and not reference[:, -1].any()
    np.testing.assert_allclose(result, reference[1:-1, 1:-1], rtol=1e-12, atol=1e-12)
    scipy_signal = pytest.importorskip("scipy.signal")
    np.testing.assert_allclose(result, scipy_signal.convolve2d(gv, fv, mode="full"), rtol=1e-12)


def test_convolution_broadcasts_a_batch():
    rng = np.random.default_rng(9)
    fv, gv = rng.normal(size=(KH, KW)), rng.normal(size=(5, H, W))
    k = kernel(CONV)
    batched = k(f=fv, g=gv)
    assert batched.shape == (5, H + KH - 1, W + KW - 1)
    for b in range(5):
        np.testing.assert_allclose(batched[b], k(f=fv, g=gv[b]), rtol=1e-14)
    kernels = rng.normal(size=(5, KH, KW))
    both = k(f=kernels, g=gv)
    np.testing.assert_allclose(both[3], k(f=kernels[3], g=gv[3]), rtol=1e-14)


@pytest.mark.parametrize("wrt", ["f", "g"])
@pytest.mark.parametrize("batch", [(), (3,)])
def test_convolution_gradients_match_central_differences(wrt, batch):
    """VJPs: Σ grad_out ⊙ ∂conv/∂f and ∂/∂g; with a batch of inputs and one kernel f, the
    gradient by f is summed over the batch (f was broadcast along it)."""
    rng = np.random.default_rng(10)
    fv, gv = rng.normal(size=(KH, KW)), rng.normal(size=(*batch, H, W))
    upstream = rng.normal(size=(*batch, H + KH - 1, W + KW - 1))
    f = kernel(CONV)
    grad = kernel(CONV, grad=wrt)
    assert grad.args == ("f", "g", "grad_out")
    analytic = grad(f=fv, g=gv, grad_out=upstream)
    x = fv if wrt == "f" else gv
    assert analytic.shape == x.shape

    def loss(value):
        args = {"f": fv, "g": gv, wrt: value}
        return float((f(**args) * upstream).sum())

    np.testing.assert_allclose(analytic, _central(loss, x), rtol=1e-6, atol=1e-8)


def test_convolution_keeps_float32():
    rng = np.random.default_rng(11)
    fv = rng.normal(size=(KH, KW)).astype(np.float32)
    gv = rng.normal(size=(2, H, W)).astype(np.float32)
    upstream = rng.normal(size=(2, H + KH - 1, W + KW - 1)).astype(np.float32)
    assert kernel(CONV)(f=fv, g=gv).dtype == np.float32
    for wrt in ("f", "g"):
        assert kernel(CONV, grad=wrt)(f=fv, g=gv, grad_out=upstream).dtype == np.float32


def test_the_cross_correlation_reading_is_not_taken_for_a_convolution():
    from symml.kernels import NotKernelisable

    (reading,) = [r for c in CONV.claims for r in c.readings if "cross" in r.name]
    with pytest.raises(NotKernelisable, match="shifted index"):
        kernel(reading.expr)


# -- losses.ctc: −log Σⱼ Πₜ P[j, t], a product over a table axis --------------------------------


def _ctc_direct(P):
    return -np.log(np.prod(P, axis=-1).sum(axis=-1))


def test_ctc_product_becomes_a_log_sum_and_a_stable_logsumexp():
    source = kernel("losses.ctc").source
    assert "rt.logsumexp(xp.sum(xp.log(P), axis=axis, keepdims=True), axis - 1)" in source
    assert "rt.softmax(" in kernel("losses.ctc", grad="P").source


def test_ctc_forward_matches_the_product_on_a_batch():
    P = np.random.default_rng(21).uniform(0.05, 0.95, size=(2, 3, 4))
    np.testing.assert_allclose(kernel("losses.ctc")(P=P), _ctc_direct(P), rtol=1e-13)


def test_ctc_gradient_matches_central_differences():
    k, g = kernel("losses.ctc"), kernel("losses.ctc", grad="P")
    P = np.random.default_rng(22).uniform(0.05, 0.95, size=(3, 4))
    h = 1e-6
    numeric = np.zeros_like(P)
    for index in np.ndindex(P.shape):
        up, down = P.copy(), P.copy()
        up[index] += h
        down[index] -= h
        numeric[index] = (k(P=up) - k(P=down)) / (2 * h)
    np.testing.assert_allclose(g(P=P), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ctc_of_a_long_sequence_is_finite_where_the_product_underflows(dtype):
    import mpmath

    P = np.random.default_rng(23).uniform(0.01, 0.1, size=(3, 400)).astype(dtype)
    with np.errstate(divide="ignore"):
        assert np.isinf(_ctc_direct(P))  # every Πₜ underflows to 0: −log 0
    with mpmath.workdps(50):
        rows = [mpmath.fprod(mpmath.mpf(float(x)) for x in row) for row in P]
        exact = float(-mpmath.log(mpmath.fsum(rows)))
    got = kernel("losses.ctc")(P=P)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, exact, rtol=4 * np.finfo(dtype).eps)
    gradient = kernel("losses.ctc", grad="P")(P=P)
    assert gradient.dtype == dtype and np.isfinite(gradient).all()
