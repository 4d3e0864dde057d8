"""Kernels at a subnormal divisor, against mpmath with enough digits to hold t/T exactly.

A temperature or a period can be any positive float; at a subnormal one, 1/T², z/T and t/T
leave the float range although every true value is finite. The rewrites that keep them
finite are in ``symml.kernels.rewrite`` (pole_rewrites, scaled_softmax_rewrites, PERIODIC).
"""

from __future__ import annotations

import importlib.util

import mpmath
import numpy as np
import pytest

from symml import kernel

BACKENDS = ["numpy"] + [b for b in ("numba",) if importlib.util.find_spec(b)]
TINY = [5e-324, -5e-324, 1e-310, -2.5e-315, 1.4e-45, -3e-44]


def _softmax_and_dT(z: list[float], t: float) -> tuple[list[float], list[float]]:
    """softmax(z/T) and its derivative by T, s·(Σ s z − z)/T², at 60 digits."""
    with mpmath.workdps(60):
        t_ = mpmath.mpf(t)
        u = [mpmath.mpf(v) / t_ for v in z]
        top = max(u)
        e = [mpmath.exp(v - top) for v in u]
        s = [v / sum(e) for v in e]
        mean = sum(si * mpmath.mpf(zi) for si, zi in zip(s, z, strict=True))
        d = [si * (mean - mpmath.mpf(zi)) / t_**2 for si, zi in zip(s, z, strict=True)]
        return [float(v) for v in s], [float(v) for v in d]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("t", TINY + [0.7, -3.0])
def test_softmax_with_temperature_and_its_derivative_at_a_subnormal_temperature(backend, dtype, t):
    z = np.array([[-0.88, 0.083, -0.27, 0.083 + 2**-20]], dtype=dtype)
    t_arr = np.array([[t]], dtype=dtype)
    if t_arr[0, 0] == 0:
        pytest.skip("the temperature underflows to 0 in this dtype")
    value = kernel("activations.softmax_temperature", backend=backend)(z, t_arr)
    by_t = kernel("activations.softmax_temperature", grad="T", backend=backend)(z, t_arr)
    want_value, want_dt = _softmax_and_dT([float(v) for v in z[0]], float(t_arr[0, 0]))
    assert value.dtype == by_t.dtype == dtype
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(by_t))
    tol = 8 * float(np.finfo(dtype).eps)
    np.testing.assert_allclose(value[0], want_value, rtol=tol, atol=tol)
    # The derivative is 0 at a tiny T (one-hot softmax) and O(1) at an ordinary one.
    np.testing.assert_allclose(by_t[0], want_dt, rtol=64 * tol, atol=64 * tol)


def _cosine(t: float, t_period: float) -> float:
    """cos(π t/T) with t/T held exactly (t/T < 2^1100 needs 400 digits)."""
    with mpmath.workdps(400):
        return float(mpmath.cos(mpmath.pi * mpmath.mpf(t) / mpmath.mpf(t_period)))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("t, period", [(0.5, 5e-324), (1.7, 1e-310), (3.0, 2.0), (1e6, 7.0)])
def test_cosine_schedule_at_a_subnormal_period_against_mpmath(backend, t, period):
    args = {
        name: np.array([v])
        for name, v in {"t": t, "eta_min": 0.1, "eta_max": 1.0, "T": period}.items()
    }
    value = kernel("schedules.cosine", backend=backend)(**args)[0]
    by_eta_min = kernel("schedules.cosine", grad="eta_min", backend=backend)(**args)[0]
    c = _cosine(t, period)
    assert value == pytest.approx(0.1 + 0.45 * (1 + c), abs=1e-12)
    assert by_eta_min == pytest.approx(0.5 * (1 - c), abs=1e-12)
