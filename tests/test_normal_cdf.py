"""The vectorised Φ (symml/kernels/normal_cdf.py) against independent references. float32:
SciPy's float64 ndtr on a dense grid, mpmath at 50 digits in the tails, its own fit in exact
arithmetic, and the special values. float64: SciPy's ndtr bit for bit where both take the
same path, mpmath across the whole normal range."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import scipy.special as sx

from symml.kernels import kernel
from symml.kernels.backends import NDTR_MIN_SIZE, get_backend
from symml.kernels.normal_cdf import BLOCK_BYTES, DENOMINATOR, NUMERATOR

RT = get_backend("numpy").rt
BLOCK = BLOCK_BYTES // 4
TINY = float(np.finfo(np.float32).tiny)


def _ulps(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|got − exact| in units of the float32 spacing at the exact value."""
    spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - exact) / spacing


def test_fit_is_within_its_stated_error_in_exact_arithmetic():
    a = np.linspace(0, 14, 100_001)
    fitted = np.polyval([float(c) for c in NUMERATOR[::-1]], a) / np.polyval(
        [float(c) for c in DENOMINATOR[::-1]], a
    )
    exact = 0.5 * sx.erfcx(a / np.sqrt(2))
    # 5.6e-9 with the float64 coefficients; rounding them to float32 adds < 3e-8 at most.
    assert np.max(np.abs(fitted / exact - 1)) < 4e-8


def test_within_8_ulp_of_float64_ndtr_over_the_float32_range():
    z = np.linspace(-14, 14, 1_000_001, dtype=np.float32)
    got = RT.ndtr(z)
    assert got.dtype == np.float32
    exact = sx.ndtr(z.astype(np.float64))
    normal = exact > TINY
    assert np.max(_ulps(got[normal], exact[normal])) <= 8
    # Below the normal range Φ is subnormal and so is NumPy's exp there: the absolute error
    # stays within 4 of the smallest subnormal steps (measured 2.8).
    smallest = float(np.finfo(np.float32).smallest_subnormal)
    assert np.max(np.abs(got[~normal] - exact[~normal])) <= 4 * smallest


@pytest.mark.parametrize("z", [-13.0, -10.0, -6.0, -5.0, -1.5, -1e-3, 1e-3, 0.7, 3.0, 6.0])
def test_tails_against_mpmath(z):
    with mpmath.workdps(50):
        exact = float(mpmath.ncdf(z))
    got = RT.ndtr(np.full(NDTR_MIN_SIZE, z, np.float32))
    assert np.all(_ulps(got, np.full(got.shape, exact)) <= 8)


def test_left_tail_keeps_its_relative_accuracy_where_the_erf_form_loses_it():
    z = np.full(NDTR_MIN_SIZE, -6.0, np.float32)
    with mpmath.workdps(50):
        exact = float(mpmath.ncdf(-6))
    erf_form = 0.5 * (1 + sx.erf(z * np.float32(0.7071067811865476)))
    assert erf_form[0] == 0  # the hand-written form: 1 + erf cancels to nothing
    assert abs(RT.ndtr(z)[0] / exact - 1) < 1e-6


def test_special_values():
    specials = [-np.inf, -1e30, -20.0, -0.0, 0.0, 20.0, 1e30, np.inf, np.nan]
    z = np.resize(np.array(specials, np.float32), NDTR_MIN_SIZE)
    with np.errstate(all="raise"):  # no warning escapes for inputs with a finite answer
        got = RT.ndtr(z)
    np.testing.assert_array_equal(got[:9], [0, 0, 0, 0.5, 0.5, 1, 1, 1, np.nan])


def test_blocks_out_aliasing_and_layouts_give_the_same_numbers():
    rng = np.random.default_rng(3)
    z = (rng.normal(size=2 * BLOCK + 123) * 4).astype(np.float32)
    want = RT.ndtr(z)
    np.testing.assert_array_equal(
        want, np.concatenate([RT.ndtr(z[: BLOCK - 7]), RT.ndtr(z[BLOCK - 7 :])])
    )
    same = z.copy()
    assert RT.ndtr(same, out=same) is same
    np.testing.assert_array_equal(same, want)
    shifted = np.concatenate([z, np.zeros(1, np.float32)])
    RT.ndtr(shifted[:-1], out=shifted[1:])  # overlapping at an offset
    np.testing.assert_array_equal(shifted[1:], want)
    grid = z[: 200 * 150].reshape(200, 150)
    np.testing.assert_array_equal(RT.ndtr(grid.T), RT.ndtr(np.ascontiguousarray(grid.T)))


def test_small_arrays_take_scipy():
    for dtype in (np.float32, np.float64):
        z = np.linspace(-8, 8, NDTR_MIN_SIZE - 1, dtype=dtype)
        np.testing.assert_array_equal(RT.ndtr(z), sx.ndtr(z))


def test_float64_is_scipys_ndtr_where_both_take_erfc_and_within_1_ulp_between():
    rng = np.random.default_rng(5)
    z = np.concatenate([np.linspace(-38.5, 9, 400_001), rng.normal(size=200_000) * 4])
    got, want = RT.ndtr(z), sx.ndtr(z)
    assert got.dtype == np.float64
    erfc_side = (z <= 0) | (z >= np.sqrt(2))
    np.testing.assert_array_equal(got[erfc_side], want[erfc_side])
    # (0, √2): ndtr takes ½ + ½·erf, this form 1 − ½·erfc.
    between = ~erfc_side
    assert np.max(np.abs(got[between] - want[between]) / np.spacing(want[between])) <= 1


def test_float64_against_mpmath_over_the_normal_range():
    z = np.linspace(-37.5, 8.2, NDTR_MIN_SIZE)
    with mpmath.workdps(50):
        exact = np.array([float(mpmath.ncdf(mpmath.mpf(float(v)))) for v in z[::8]])
    got = RT.ndtr(z)[::8]
    # erfc reads |z|/√2 rounded: a relative error of z²·2⁻⁵³ in Φ's left tail, inherent in
    # any Φ on erfc(z/√2) (SciPy's ndtr has the same), on top of erfc's few ulp.
    bound = (z[::8] ** 2 + 8) * 2.0**-52
    assert np.all(np.abs(got / exact - 1) <= bound)


def test_float64_special_values_and_out_aliasing():
    specials = [-np.inf, -1e300, -40.0, -0.0, 0.0, 40.0, 1e300, np.inf, np.nan]
    z = np.resize(np.array(specials), NDTR_MIN_SIZE)
    with np.errstate(all="raise"):
        got = RT.ndtr(z)
    np.testing.assert_array_equal(got[:9], [0, 0, sx.ndtr(-40.0), 0.5, 0.5, 1, 1, 1, np.nan])
    rng = np.random.default_rng(4)
    values = rng.normal(size=3 * (BLOCK // 2) + 5) * 3
    want = RT.ndtr(values)
    same = values.copy()
    assert RT.ndtr(same, out=same) is same
    np.testing.assert_array_equal(same, want)


@pytest.mark.parametrize("wrt", [None, "z"])
def test_gelu_kernels_in_float64_give_scipys_values(wrt):
    k = kernel("activations.gelu", grad=wrt)
    z = np.random.default_rng(6).normal(size=4 * NDTR_MIN_SIZE) * 3
    ndtr, density = sx.ndtr(z), np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
    want = z * ndtr if wrt is None else ndtr + z * density
    # Relative to the terms' size: GELU′ = Φ + z·φ cancels near its root z ≈ −0.75.
    terms = np.abs(z) * ndtr if wrt is None else ndtr + np.abs(z) * density
    assert np.max(np.abs(k(z=z) - want) / np.maximum(terms, 1e-300)) < 1e-15


@pytest.mark.parametrize("wrt", [None, "z"])
def test_gelu_kernels_use_it_in_float32(wrt):
    k = kernel("activations.gelu", grad=wrt)
    assert "rt.ndtr(" in k.source
    z = np.linspace(-12, 12, 4 * NDTR_MIN_SIZE, dtype=np.float32)
    got = k(z=z)
    assert got.dtype == np.float32
    exact = k(z=z.astype(np.float64))
    z64 = z.astype(np.float64)
    # The error bound scales with the terms: Φ(z) + z·φ(z) cancels near its root z ≈ −0.75,
    # and its φ is NumPy's float32 exp(−z²/2), whose argument is rounded.
    terms = (
        np.abs(z64) * sx.ndtr(z64)
        if wrt is None
        else sx.ndtr(z64) + np.abs(z64) * np.exp(-z64 * z64 / 2) / np.sqrt(2 * np.pi)
    )
    scale = np.maximum(terms, TINY)
    bound = 1e-6 if wrt is None else 1e-5
    assert np.max(np.abs(got - exact) / scale) < bound
