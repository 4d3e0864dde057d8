"""Cache blocking: a kernel run block by block gives exactly what it gives in one piece.

The cache size is patched small so that small arrays are blocked, with many blocks and a
ragged last one; each test compares against the same kernel with blocking switched off.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from symml.kernels import blocking, kernel

inplace_module = importlib.import_module("symml.kernels.backends.inplace")

N_ROWS, ROW = 37, 11  # 37 rows: the last block is short


@pytest.fixture
def blocked(monkeypatch):
    """Tiny caches: every kernel of these tests runs in blocks of a few hundred bytes. The
    fixture counts the blocked runs, so a test also fails when blocking was not used."""
    monkeypatch.setattr(blocking, "last_level_cache_bytes", lambda: 1024)
    monkeypatch.setattr(blocking, "BLOCK_BYTES", 4 * 5 * ROW)
    calls = []
    real = inplace_module.run_blocked

    def counting(body, plan, *args):
        calls.append(plan.rows // plan.rows_per_block + 1)
        return real(body, plan, *args)

    monkeypatch.setattr(inplace_module, "run_blocked", counting)
    yield calls
    assert calls and all(blocks >= 3 for blocks in calls), calls


def _unblocked(k, **arrays):
    saved = blocking.last_level_cache_bytes
    blocking.last_level_cache_bytes = lambda: 1 << 62
    try:
        return k(**arrays)
    finally:
        blocking.last_level_cache_bytes = saved


def test_choose_blocking_only_when_the_working_set_spills_out_of_the_cache(monkeypatch):
    monkeypatch.setattr(blocking, "BLOCK_BYTES", 800)
    small = [np.ones(1000)]
    assert blocking.choose_blocking(small, [None], elementwise=True, axis=-1, reduced=[False]) is (
        None
    )
    plan = blocking.choose_blocking(
        small, [None], elementwise=True, axis=-1, reduced=[False], cache_bytes=1000
    )
    assert plan is not None and plan.row_length == 1 and plan.rows == 1000
    assert plan.rows_per_block == 100


@pytest.mark.parametrize(
    "reason, values, outs, elementwise",
    [
        ("shapes differ", [np.ones((4, 5)), np.ones(5)], [None], True),
        ("not C-contiguous", [np.ones((10, 6))[:, ::2]], [None], True),
        ("reduction over a leading axis", [np.ones((40, 5))], [None], False),
    ],
)
def test_choose_blocking_refuses_what_blocks_cannot_cut(reason, values, outs, elementwise):
    axis = 0 if "leading" in reason else -1
    got = blocking.choose_blocking(
        values, outs, elementwise=elementwise, axis=axis, reduced=[False], cache_bytes=8
    )
    assert got is None, reason


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_elementwise_gradient_matches_the_unblocked_kernel(blocked, dtype):
    rng = np.random.default_rng(1)
    y = (rng.uniform(size=N_ROWS * ROW) < 0.5).astype(dtype)
    p = rng.uniform(0.01, 0.99, size=N_ROWS * ROW).astype(dtype)
    p[[0, 5, -1]] = [0.0, 1.0, 0.0]  # endpoints: the guarded body fixes them block by block
    y[[0, 5, -1]] = [0.0, 1.0, 0.0]
    k = kernel("losses.bce", grad="yhat_prob")
    got = k(y_prob=y, yhat_prob=p)
    want = _unblocked(k, y_prob=y, yhat_prob=p)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)
    assert np.isfinite(got).all()


def test_axis_kernel_blocks_whole_rows(blocked):
    z = np.random.default_rng(2).normal(size=(N_ROWS, ROW)) * 300
    k = kernel("activations.softmax_temperature")
    got = k(z_vec=z, T=0.5)
    np.testing.assert_array_equal(got, _unblocked(k, z_vec=z, T=0.5))
    np.testing.assert_allclose(got.sum(axis=-1), 1.0)


@pytest.mark.parametrize(
    ("formula", "arg"), [("activations.softmax", "z_vec"), ("activations.sigmoid", "z")]
)
def test_a_body_of_one_call_runs_in_one_piece(monkeypatch, formula, arg):
    """σ and softmax are one library call each: no temporaries for a block to keep in cache."""
    monkeypatch.setattr(blocking, "last_level_cache_bytes", lambda: 1024)
    monkeypatch.setattr(blocking, "BLOCK_BYTES", 4 * 5 * ROW)
    monkeypatch.setattr(inplace_module, "run_blocked", pytest.fail)
    z = np.random.default_rng(3).normal(size=(N_ROWS, ROW))
    got = kernel(formula)(**{arg: z})
    assert got.shape == z.shape and np.isfinite(got).all()


def test_reduced_output_is_gathered_row_by_row(blocked):
    rng = np.random.default_rng(3)
    y = rng.dirichlet(np.ones(ROW), size=N_ROWS)
    p = rng.dirichlet(np.ones(ROW), size=N_ROWS)
    k = kernel("losses.cce")
    got = k(y_cls=y, yhat_cls=p)
    want = _unblocked(k, y_cls=y, yhat_cls=p)
    assert got.shape == (N_ROWS,)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    np.testing.assert_allclose(got, -(y * np.log(p)).sum(axis=-1), rtol=1e-12)


def test_adam_state_updated_in_place_block_by_block(blocked):
    rng = np.random.default_rng(4)
    n = N_ROWS * ROW
    W, g, m = (rng.normal(size=n) for _ in range(3))
    v = rng.uniform(size=n)
    k = kernel("optim.adam_step", step=True)
    params = dict(eta=1e-3, epsilon=1e-8, beta_1=0.9, beta_2=0.999, t=3)
    want = _unblocked(k, W=W, g=g, m=m, v=v, **params)
    state = [W.copy(), m.copy(), v.copy()]
    got = k(W=state[0], g=g, m=state[1], v=state[2], **params, out=(state[1], state[2], state[0]))
    assert got[0] is state[1] and got[2] is state[0]
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


def test_shifted_overlap_runs_in_one_piece(monkeypatch):
    """An out= that overlaps an input at an offset cannot be blocked (block k would
    overwrite what block k+1 still has to read); the kernel runs unblocked instead."""
    monkeypatch.setattr(blocking, "last_level_cache_bytes", lambda: 1024)
    monkeypatch.setattr(blocking, "BLOCK_BYTES", 4 * 5 * ROW)
    monkeypatch.setattr(inplace_module, "run_blocked", pytest.fail)
    z = np.linspace(-5, 5, N_ROWS * ROW + 1)
    k = kernel("activations.sigmoid")
    want = 1 / (1 + np.exp(-z[:-1]))
    buffer = z.copy()
    got = k(z=buffer[:-1], out=buffer[1:])
    np.testing.assert_allclose(got, want, rtol=1e-12)
