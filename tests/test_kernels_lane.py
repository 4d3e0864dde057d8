"""The fast lane (``InPlace.lane``, symml/kernels/backends/inplace.py) gives what the general
call gives, and leaves to the general call everything it does not check for."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from symml import load_catalog
from symml.errors import UsageError
from symml.kernels import blocking, kernel
from symml.kernels.kernel import Kernel

CATALOG = load_catalog()

sys.path.insert(0, str(Path(__file__).parent))
from catalog_kernels import catalog_kernels  # noqa: E402

# Every kernel the in-place body takes: no matrices, at most one axis.
KERNELS = [f.id for f, k in catalog_kernels() if not k.plan.matrix and k.plan.axes <= 1]


def _arguments(k, dtype, rng):
    """Arrays for the families and every second other argument, Python floats for the rest,
    inside (0.1, 0.9) where every catalog domain has points."""
    values = {}
    for n, name in enumerate(k.args):
        if name in k.plan.families or n % 2 == 0:
            values[name] = rng.uniform(0.1, 0.9, size=(3, 5)).astype(dtype)
        else:
            values[name] = float(rng.uniform(0.1, 0.9))
    return values


def _general(compiled, /, **values):
    """The general call: an explicit axis keeps the lane out."""
    return compiled(**values, axis=compiled.axis)


def _outputs(result):
    return result if isinstance(result, tuple) else (result,)


@pytest.fixture
def lane_only(monkeypatch):
    """The general call fails: what passes went down the lane."""
    monkeypatch.setattr(Kernel, "_run", lambda *a: pytest.fail("the general path ran"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("formula_id", KERNELS)
def test_lane_gives_the_general_calls_results(formula_id, dtype):
    k = kernel(formula_id)
    values = _arguments(k, dtype, np.random.default_rng(len(formula_id)))
    with np.errstate(all="ignore"):
        want = _general(k, **values)
        got = k(**values)
        positional = k(*values.values())
    for a, b, c in zip(_outputs(want), _outputs(got), _outputs(positional), strict=True):
        np.testing.assert_array_equal(b, a)
        np.testing.assert_array_equal(c, a)
        assert np.asarray(b).dtype == np.asarray(a).dtype
        assert np.shape(b) == np.shape(a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_float_arrays_and_numbers_take_the_lane(lane_only, dtype):
    z = np.linspace(-3, 3, 7).astype(dtype)
    s = kernel("activations.sigmoid")(z=z)
    assert s.dtype == dtype
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-z.astype(float))), rtol=1e-6)
    W, g, m, v = (np.full(4, x, dtype) for x in (1.0, 0.5, 0.0, 0.0))
    step = kernel("optim.adam_step", step=True)
    result = step(W=W, g=g, m=m, v=v, eta=0.1, epsilon=1e-8, beta_1=0.9, beta_2=0.999, t=1)
    assert all(r.dtype == dtype for r in result)  # float64 numbers cast, not promoting


def test_adam_in_place_through_the_lane_matches_the_general_call():
    step = kernel("optim.adam_step", step=True)
    rng = np.random.default_rng(1)
    state = [rng.normal(size=50) for _ in range(2)] + [rng.uniform(0, 1, 50) for _ in range(2)]
    lane_state = [a.copy() for a in state]
    general_state = [a.copy() for a in state]
    numbers = dict(eta=1e-3, epsilon=1e-8, beta_1=0.9, beta_2=0.999, t=3)
    for s in (lane_state, general_state):
        W, g, m, v = s
        kwargs = dict(W=W, g=g, m=m, v=v, out=(m, v, W), **numbers)
        result = step(**kwargs) if s is lane_state else step(**kwargs, axis=step.axis)
        assert result[0] is m and result[1] is v and result[2] is W
    for a, b in zip(lane_state, general_state, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("case", "z"),
    [
        ("a list", [0.0, 1.0]),
        ("integers", np.arange(4)),
        ("a 0-d array", np.array(0.5)),
        ("float16", np.ones(3, np.float16)),
        ("a subclass", np.ma.masked_array([0.0, 1.0])),
    ],
)
def test_what_the_lane_does_not_check_goes_down_the_general_path(monkeypatch, case, z):
    calls = []
    real = Kernel._run
    monkeypatch.setattr(Kernel, "_run", lambda self, *a: calls.append(case) or real(self, *a))
    got = kernel("activations.sigmoid")(z=z)
    assert calls == [case]
    np.testing.assert_allclose(
        np.asarray(got, float), 1 / (1 + np.exp(-np.asarray(z, float))), 1e-3
    )


def test_mixed_dtypes_and_shapes_go_down_the_general_path(monkeypatch):
    calls = []
    real = Kernel._run
    monkeypatch.setattr(Kernel, "_run", lambda self, *a: calls.append(1) or real(self, *a))
    g = kernel("losses.bce", grad="yhat_prob")
    y = np.array([0.0, 1.0, 1.0])
    mixed = g(y_prob=y, yhat_prob=np.array([0.2, 0.7, 0.9], np.float32))
    broadcast = g(y_prob=y, yhat_prob=np.array([0.5]))
    assert len(calls) == 2
    assert mixed.dtype == np.float64  # float32 and float64 arrays: float64, as NumPy promotes
    np.testing.assert_allclose(broadcast, [2.0, -2.0, -2.0])


def test_arrays_larger_than_the_cache_are_left_to_blocking(monkeypatch):
    monkeypatch.setattr(blocking, "last_level_cache_bytes", lambda: 1024)
    monkeypatch.setattr(blocking, "BLOCK_BYTES", 800)
    blocked = []
    inplace_module = importlib.import_module("symml.kernels.backends.inplace")
    real = inplace_module.run_blocked
    monkeypatch.setattr(inplace_module, "run_blocked", lambda *a: blocked.append(1) or real(*a))
    g = kernel("losses.bce", grad="yhat_prob")
    y = np.tile([0.0, 1.0], 500)
    p = np.full(1000, 0.25)
    np.testing.assert_allclose(g(y_prob=y, yhat_prob=p), np.tile([4 / 3, -4.0], 500))
    assert blocked  # too big for the lane: the general path blocked it


def test_an_endpoint_met_by_the_unguarded_body_is_fixed_by_the_general_path():
    bce = kernel("losses.bce")
    y = np.array([0.0, 1.0, 0.0, 1.0])
    p = np.array([0.0, 1.0, 0.5, 0.5])
    np.testing.assert_allclose(bce(y_prob=y, yhat_prob=p), [0, 0, np.log(2), np.log(2)])


def test_the_general_path_still_names_a_wrong_argument_or_out():
    k = kernel("activations.sigmoid")
    with pytest.raises(UsageError, match="has no argument 'x'; it takes z"):
        k(x=np.ones(3))
    step = kernel("optim.adam_step", step=True)
    W = np.ones(3)
    with pytest.raises(
        UsageError, match="has 3 outputs; out= is a ndarray: pass a tuple of 3 arrays"
    ):
        step(W=W, g=W, m=W, v=W, eta=0.1, epsilon=1e-8, beta_1=0.9, beta_2=0.99, t=1, out=W)
