"""The jax backend: every elementwise and indexed kernel, and its gradients, agree with the
numpy backend at points of the declared domains, and keep their stable forms at the extremes.

Skipped where jax is not installed (``pip install 'symml[jax]'``)."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="jax is not installed (pip install jax)"
)

sys.path.insert(0, str(Path(__file__).parent))
from test_kernels_numeric import (  # noqa: E402
    CATALOG,
    ELEMENTWISE_AND_INDEXED,
    _families,
    _sample,
)

from symml.kernels import NotKernelisable, kernel  # noqa: E402


@pytest.fixture(scope="module")
def jnp():
    import jax

    jax.config.update("jax_enable_x64", True)  # compare float64 with float64
    import jax.numpy as jnp

    return jnp


@pytest.mark.parametrize("formula_id", ELEMENTWISE_AND_INDEXED)
def test_jax_kernels_match_numpy(formula_id, jnp):
    formula = CATALOG.get(formula_id)
    plain = kernel(formula)
    on_jax = kernel(formula, backend="jax")
    families = _families(formula, formula.expr)
    _, arrays = _sample(formula, list(plain.args), random.Random(11), families)
    expected = plain(**arrays)
    got = on_jax(**{k: jnp.asarray(v) for k, v in arrays.items()})
    for e, g in zip(np.atleast_1d(expected), np.atleast_1d(got), strict=True):
        np.testing.assert_allclose(np.asarray(g), e, rtol=1e-9, atol=1e-12)
    try:
        gradients = kernel(formula, grad="all")
    except NotKernelisable:
        return
    for name, plain_grad in gradients.items():
        jax_grad = kernel(formula, grad=name, backend="jax")
        args = {**arrays}
        if "grad_out" in plain_grad.args:
            args["grad_out"] = np.linspace(0.3, 1.1, arrays[plain_grad.args[0]].size).reshape(
                arrays[plain_grad.args[0]].shape
            )
        args = {k: args[k] for k in plain_grad.args}
        np.testing.assert_allclose(
            np.asarray(jax_grad(**{k: jnp.asarray(v) for k, v in args.items()})),
            plain_grad(**args),
            rtol=1e-9,
            atol=1e-12,
            err_msg=f"d/d{name}",
        )


@pytest.mark.parametrize(
    ("formula_id", "grad", "inputs", "expected"),
    [
        ("activations.sigmoid", None, {"z": [-1000.0, 0.0, 1000.0]}, [0.0, 0.5, 1.0]),
        ("activations.sigmoid", "z", {"z": [-1000.0, 0.0, 1000.0]}, [0.0, 0.25, 0.0]),
        ("activations.softmax", None, {"z_vec": [[1000.0, 0.0, -1000.0]]}, [[1.0, 0.0, 0.0]]),
        (
            "losses.bce",
            None,
            {"y_prob": [0.0, 1.0], "yhat_prob": [0.0, 1.0]},
            [0.0, 0.0],
        ),
    ],
)
def test_jax_kernels_are_stable_at_the_extremes(formula_id, grad, inputs, expected, jnp):
    for dtype in (jnp.float32, jnp.float64):
        k = kernel(formula_id, grad=grad, backend="jax")
        got = k(**{name: jnp.asarray(v, dtype=dtype) for name, v in inputs.items()})
        assert got.dtype == dtype
        np.testing.assert_allclose(np.asarray(got), expected, atol=1e-7)
