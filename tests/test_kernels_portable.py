"""The portable body (run for Dask, JAX and CuPy arrays) computes what the in-place NumPy body
computes, for every elementwise and indexed kernel and every gradient kernel.

A printer slip shows up here first: a power printed as x*x once landed in a denominator as
a/x*x, i.e. (a/x)·x, in the portable body only."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_kernels_numeric import (  # noqa: E402
    CATALOG,
    ELEMENTWISE_AND_INDEXED,
    _families,
    _sample,
)

from symml.kernels import NotKernelisable, kernel  # noqa: E402


def _both_bodies(k, arrays):
    values = [np.asarray(arrays[a], dtype=float) for a in k.args]
    fast = k(**dict(zip(k.args, values, strict=True)))
    portable = k.portable(*values, axis=-1)
    fast = fast if isinstance(fast, tuple) else (fast,)
    return fast, portable


@pytest.mark.parametrize("formula_id", ELEMENTWISE_AND_INDEXED)
def test_portable_body_matches_the_in_place_body(formula_id):
    formula = CATALOG.get(formula_id)
    forward = kernel(formula)
    families = _families(formula, formula.expr)
    _, arrays = _sample(formula, list(forward.args), random.Random(5), families)
    try:
        gradients = kernel(formula, grad="all")
    except NotKernelisable:
        gradients = {}
    for name, k in [("value", forward), *gradients.items()]:
        args = dict(arrays)
        if "grad_out" in k.args:
            first = arrays[k.args[0]]
            args["grad_out"] = np.linspace(0.3, 1.1, np.size(first)).reshape(np.shape(first))
        fast, portable = _both_bodies(k, args)
        for f, p in zip(fast, portable, strict=True):
            expected = np.squeeze(f) if np.ndim(p) > np.ndim(f) else f
            np.testing.assert_allclose(
                np.broadcast_to(np.squeeze(p) if np.ndim(p) > np.ndim(f) else p, np.shape(f)),
                expected,
                rtol=1e-10,
                atol=1e-12,
                err_msg=f"{formula_id} {name}",
            )
