"""Gradient kernels of matrix formulas, checked against the elementwise Jacobian.

The reference is independent of the kernels' matrix rules: ``symml.evaluate.explicit`` writes the
formula out element by element at concrete sizes, SymPy differentiates each element by each
element of the variable, and Σ grad_out ⊙ ∂F/∂X is formed from that Jacobian.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy as sp

from symml.calculus import elementwise_jacobian
from symml.catalog.loader import load_catalog
from symml.evaluate.explicit import elements, explicit, size_assignments
from symml.kernels import kernel

CATALOG = load_catalog()
MATRIX_IDS = (
    "forward.linear",
    "forward.layer1_pre",
    "forward.layer2_pre",
    "backprop.single_layer",
    "backprop.grad_w",
    "backprop.grad_b",
    "backprop.grad_x",
    "backprop.grad_w1",
    "backprop.grad_w2",
    "backprop.grad_a1",
    "rnn.hidden",
    "rnn.output",
    "lstm.forget_gate",
    "lstm.input_gate",
    "lstm.candidate",
    "lstm.cell",
    "lstm.output_gate",
    "lstm.hidden",
    "gru.update_gate",
    "gru.reset_gate",
    "gru.candidate",
    "gru.hidden",
    "attention.scaled_dot_product",
    "attention.head",
    "attention.multihead",
    "transformer.ffn",
)


def _cases() -> list[tuple[str, str]]:
    cases = []
    for fid in MATRIX_IDS:
        expr = CATALOG.get(fid).expr
        for m in sorted(expr.atoms(sp.MatrixSymbol), key=lambda s: str(s.name)):
            cases.append((fid, str(m.name)))
    return cases


@functools.cache
def _explicit(fid: str, sizes: tuple[tuple[sp.Symbol, int], ...]) -> sp.Matrix:
    return sp.Matrix(explicit(CATALOG.get(fid).expr, dict(sizes)))


def _reference(fid, sizes, wrt_name, values, grad_out):
    """Σ grad_out ⊙ ∂F/∂X from the elementwise Jacobian; the other arguments are numbers
    before differentiating (the same Jacobian, far smaller expressions)."""
    expr = CATALOG.get(fid).expr
    matrices = {str(m.name): m for m in expr.atoms(sp.MatrixSymbol)}
    others, own = {}, {}
    for name, m in matrices.items():
        for element, v in zip(elements(m, sizes), values[name].ravel(), strict=True):
            (own if name == wrt_name else others)[element] = sp.Float(v)
    full = _explicit(fid, tuple(sorted(sizes.items(), key=str))).xreplace(others)
    wrt = elements(matrices[wrt_name], sizes)
    jac = elementwise_jacobian(sp.Matrix(list(full)), sp.Matrix(list(wrt)))
    numeric = np.array(jac.xreplace(own).evalf(), dtype=float)
    return (grad_out.ravel() @ numeric).reshape(wrt.shape)


@pytest.mark.parametrize(("fid", "wrt"), _cases())
def test_matrix_gradient_matches_the_elementwise_jacobian(fid, wrt):
    formula = CATALOG.get(fid)
    expr = formula.expr
    sizes = size_assignments([expr])[0]
    rng = np.random.default_rng(7)
    values = {}
    for m in expr.atoms(sp.MatrixSymbol):
        shape = tuple(int(d) for d in m.xreplace(sizes).shape)
        values[str(m.name)] = rng.normal(size=shape)
    out_shape = tuple(int(d) for d in expr.xreplace(sizes).shape)
    grad_out = rng.normal(size=out_shape)
    k = kernel(fid, grad=wrt)
    assert k.args[-1] == "grad_out"
    assert k.outputs == (f"d{wrt}",)
    named = {a: values[a] for a in k.args if a in values}
    got = k(**named, grad_out=grad_out)
    expected = _reference(fid, sizes, wrt, values, grad_out)
    assert got.shape == values[wrt].shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_linear_gradients_are_batched_and_summed_to_the_arguments_shape():
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 1))
    x, g = rng.normal(size=(5, 4, 1)), rng.normal(size=(5, 3, 1))
    grads = kernel("forward.linear", grad="all")
    assert sorted(grads) == ["W", "b", "x"]
    dW = grads["W"](W=W, x=x, b=b, grad_out=g)
    np.testing.assert_allclose(dW, np.einsum("bi,bj->ij", g[..., 0], x[..., 0]))
    np.testing.assert_allclose(grads["b"](W=W, x=x, b=b, grad_out=g), g.sum(axis=0))
    np.testing.assert_allclose(grads["x"](W=W, x=x, b=b, grad_out=g), W.T @ g)


def test_attention_gradient_is_stable_at_large_logits():
    rng = np.random.default_rng(2)
    Q, K, V = rng.normal(size=(2, 3, 5)) * 300, rng.normal(size=(6, 5)), rng.normal(size=(6, 2))
    dQ = kernel("attention.scaled_dot_product", grad="Q")
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = dQ(Q=Q, K=K, V=V, grad_out=rng.normal(size=(2, 3, 2)))
    assert value.shape == Q.shape and np.isfinite(value).all()
    assert "rt.softmax" in dQ.source


def test_matrix_gradient_by_an_unknown_argument_names_the_arguments():
    with pytest.raises(
        ValueError, match="no argument 'U' to differentiate by; the formula has W, b, x"
    ):
        kernel("forward.linear", grad="U")
