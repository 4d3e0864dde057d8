"""Sampling kernels: every random formula's draws against the moments sympy.stats gives for
the catalog's own distribution (fixed seed, 6-sigma tolerances), dtypes, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
from sympy.stats import E, variance

from symml import load_catalog
from symml.errors import UsageError
from symml.kernels import NotKernelisable, kernel
from symml.kernels.sampling import Sampler

CATALOG = load_catalog()
N = 200_000

CASES = [
    ("init.xavier", {"n_in": 300, "n_out": 100}),
    ("init.he", {"n_in": 50}),
    ("regularization.dropout_train", {"a": 3.0, "p": 0.8}),
    ("vae.reparameterization", {"mu": 1.5, "sigma": 0.5}),
    ("diffusion.forward", {"beta_t": 0.1, "x_prev": 2.0}),
]


def _moments(formula_id, params):
    f = CATALOG.get(formula_id)
    subs = {s.symbol: params[s.name] for s in f.symbols if s.name in params}
    value = f.expr.xreplace(subs)
    return float(E(value)), float(variance(value))


@pytest.mark.parametrize(("formula_id", "params"), CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sample_moments_match_the_catalog_distribution(formula_id, params, dtype):
    k = kernel(formula_id)
    assert isinstance(k, Sampler) and set(k.args) == set(params)
    x = k(np.random.default_rng(0), (N,), dtype=dtype, **params)
    assert x.shape == (N,) and x.dtype == dtype
    mean, var = _moments(formula_id, params)
    x = x.astype(np.float64)
    # Standard errors: of the mean sqrt(var/N); of the variance about var·sqrt(2/N) (plus
    # the excess kurtosis of a two-point Bernoulli draw, bounded here by a factor 3).
    assert abs(x.mean() - mean) < 6 * np.sqrt(var / N)
    assert abs(x.var() - var) < 6 * 3 * var * np.sqrt(2 / N)


def test_he_uses_the_standard_deviation_reading():
    x = kernel("init.he")(np.random.default_rng(1), (N,), n_in=8)
    # std √(2/8) = 0.5, variance 0.25; the other reading would give std (2/8)^(1/4) ≈ 0.71.
    assert abs(x.std() - 0.5) < 0.005
    assert abs(x.var() - 0.25) < 0.005


def test_xavier_stays_inside_its_bound():
    x = kernel("init.xavier")(np.random.default_rng(2), (400, 300), n_in=300, n_out=400)
    bound = np.sqrt(6 / 700)
    assert x.shape == (400, 300)
    assert -bound <= x.min() < -0.99 * bound and 0.99 * bound < x.max() <= bound


def test_dropout_keeps_or_rescales_each_unit_and_keeps_float32():
    a = np.full((100, 1000), 3.0, np.float32)
    out = kernel("regularization.dropout_train")(np.random.default_rng(3), a=a, p=0.75)
    assert out.shape == a.shape and out.dtype == np.float32
    assert set(np.unique(out)) == {np.float32(0), np.float32(4)}
    assert abs((out == 0).mean() - 0.25) < 0.01


def test_a_seed_reproduces_the_draws_and_out_is_written():
    k = kernel("vae.reparameterization")
    first = k(np.random.default_rng(5), 10, mu=0.0, sigma=1.0)
    buffer = np.empty(10)
    second = k(np.random.default_rng(5), 10, mu=0.0, sigma=1.0, out=buffer)
    assert second is buffer
    np.testing.assert_array_equal(first, second)


def test_sampler_errors_are_one_line():
    k = kernel("init.he")
    with pytest.raises(UsageError, match="needs rng=numpy.random.default_rng"):
        k(np.random.RandomState(0), 3, n_in=4)
    with pytest.raises(UsageError, match="needs shape="):
        k(np.random.default_rng(0), n_in=4)
    with pytest.raises(UsageError, match="is missing n_in"):
        k(np.random.default_rng(0), 3)
    with pytest.raises(UsageError, match="no argument 'n_out'"):
        k(np.random.default_rng(0), 3, n_in=4, n_out=2)


def test_random_formulas_without_a_sampler_or_gradient_say_why():
    with pytest.raises(NotKernelisable, match="diffusion.reverse.*unknown function"):
        kernel("diffusion.reverse")
    with pytest.raises(NotKernelisable, match="random quantity"):
        kernel("vae.reparameterization", grad="mu")


def test_source_shows_the_draw_and_the_formula():
    src = kernel("init.he").source
    assert "sqrt(2)/sqrt(n_in)) * rng.standard_normal(shape, dtype)" in src
    assert "return B*a/p" in kernel("regularization.dropout_train").source


RNG = np.random.default_rng(11)
SAMPLER_ERRORS = [
    (
        "an integer out=",
        lambda: kernel("init.he")(RNG, (3,), n_in=1, out=np.zeros(3, np.int64)),
        "sampler 'init.he': out= has dtype int64; the sample is floats: pass a float32 or "
        "float64 array (or no out=)",
    ),
    (
        "a larger out=",
        lambda: kernel("init.he")(RNG, (3,), n_in=1, out=np.zeros((2, 3))),
        "sampler 'init.he': out= has shape (2, 3); the sample's shape is (3,): pass an array "
        "of that shape (or no out=)",
    ),
    (
        "a fan-in of 0",
        lambda: kernel("init.he")(RNG, (3,), n_in=0),
        "sampler 'init.he': n_in = 0 is outside its domain 'natural' [1, ∞), whole numbers: "
        "pass values in it",
    ),
    (
        "a fractional fan-in",
        lambda: kernel("init.he")(RNG, (3,), n_in=2.5),
        "sampler 'init.he': n_in = 2.5 is outside its domain 'natural' [1, ∞), whole numbers: "
        "pass values in it",
    ),
    (
        "a keep probability above 1",
        lambda: kernel("regularization.dropout_train")(RNG, (5,), a=np.ones(5), p=1.5),
        "sampler 'regularization.dropout_train': p = 1.5 is outside its domain (0, 1]: pass "
        "values in it",
    ),
    (
        "a negative σ",
        lambda: kernel("vae.reparameterization")(RNG, (2,), mu=0.0, sigma=-1.0),
        "sampler 'vae.reparameterization': sigma = -1 is outside its domain 'positive' (0, ∞): "
        "pass values in it",
    ),
    (
        "a fractional shape",
        lambda: kernel("init.he")(RNG, 3.7, n_in=2),
        "sampler 'init.he': shape 3.7 is not a shape: pass whole numbers ≥ 0, e.g. shape=(3, 4)",
    ),
    (
        "float16",
        lambda: kernel("init.he")(RNG, (3,), n_in=2, dtype=np.float16),
        "sampler 'init.he': dtype must be float32 or float64, not float16",
    ),
    (
        "a parameter that does not fit the shape",
        lambda: kernel("regularization.dropout_train")(RNG, (5,), a=np.ones((2, 5)), p=0.5),
        "sampler 'regularization.dropout_train': 'a' has shape (2, 5), which does not "
        "broadcast to the sample's shape (5,): pass shape= that it fits",
    ),
]


@pytest.mark.parametrize(
    "call, message", [c[1:] for c in SAMPLER_ERRORS], ids=[c[0] for c in SAMPLER_ERRORS]
)
def test_sampler_refuses_in_one_line(call, message):
    # Each used to run: int out= cut the draws to integers, a larger out= repeated them,
    # n_in = 0 gave ±inf, p = 1.5 a biased sample, shape 3.7 was rounded down to 3.
    with pytest.raises(UsageError) as caught:
        call()
    assert str(caught.value) == message
