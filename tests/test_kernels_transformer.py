"""The transformer-block entries (LayerNorm with its ε·I₁ term, the two residual blocks):
forward kernels against the formula written out element by element, and every matrix
gradient against the elementwise Jacobian, at concrete sizes."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy as sp

from symml.catalog.loader import load_catalog
from symml.evaluate.explicit import elements, explicit, size_assignments
from symml.kernels import kernel

CATALOG = load_catalog()
IDS = ("transformer.layer_norm", "transformer.block_attention", "transformer.block_ffn")
EPSILON = 1e-3


def _setup(fid):
    formula = CATALOG.get(fid)
    expr = formula.expr
    sizes = size_assignments([expr])[0]
    rng = np.random.default_rng(3)
    values = {
        str(m.name): rng.normal(size=tuple(int(d) for d in m.xreplace(sizes).shape))
        for m in expr.atoms(sp.MatrixSymbol)
    }
    eps = formula.symbol("epsilon").symbol
    return formula, expr, sizes, values, eps


def _numbers(expr, sizes, values, skip=None):
    subs = {}
    for m in expr.atoms(sp.MatrixSymbol):
        if str(m.name) == skip:
            continue
        for element, v in zip(elements(m, sizes), values[str(m.name)].ravel(), strict=True):
            subs[element] = sp.Float(v, 30)
    return subs


@pytest.mark.parametrize("fid", IDS)
def test_forward_matches_the_formula_written_out(fid):
    formula, expr, sizes, values, eps = _setup(fid)
    full = sp.Matrix(explicit(expr, sizes)).xreplace(_numbers(expr, sizes, values))
    expected = np.array(full.xreplace({eps: sp.Float(EPSILON, 30)}).evalf(), dtype=float)
    k = kernel(fid)
    got = k(**{a: values.get(a, EPSILON) for a in k.args})
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_layer_norm_kernel_is_the_textbook_layer_norm():
    rng = np.random.default_rng(4)
    x, gamma, beta = rng.normal(size=(6, 1, 8)), rng.normal(size=(1, 8)), rng.normal(size=(1, 8))
    got = kernel("transformer.layer_norm")(x=x, gamma=gamma, beta=beta, epsilon=1e-5)
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(got, (x - mean) / np.sqrt(var + 1e-5) * gamma + beta, rtol=1e-12)


def _cases():
    return [
        (fid, str(m.name))
        for fid in IDS
        for m in sorted(CATALOG.get(fid).expr.atoms(sp.MatrixSymbol), key=lambda s: str(s.name))
    ]


@functools.cache
def _written_out(fid):
    """The formula element by element at the test sizes, lambdified over the elements of
    its matrices in name order (built once per formula: the expansion takes seconds)."""
    formula, expr, sizes, values, eps = _setup(fid)
    full = sp.Matrix(explicit(expr, sizes)).xreplace({eps: sp.Float(EPSILON, 30)})
    matrices = {str(m.name): m for m in expr.atoms(sp.MatrixSymbol)}
    flat = [e for n in sorted(values) for e in elements(matrices[n], sizes)]
    return sp.lambdify(flat, full, modules="numpy")


@pytest.mark.parametrize(("fid", "wrt"), _cases())
def test_gradient_matches_central_differences_of_the_written_out_formula(fid, wrt):
    """Σ grad_out ⊙ ∂F/∂X by central differences of the element-by-element formula (SymPy's
    expansion, lambdified), independent of the kernels' vector-Jacobian rules."""
    formula, expr, sizes, values, eps = _setup(fid)
    out_shape = tuple(int(d) for d in expr.xreplace(sizes).shape)
    grad_out = np.random.default_rng(5).normal(size=out_shape)
    names = sorted(values)
    function = _written_out(fid)

    def loss(point):
        args = [v for n in names for v in point[n].ravel()]
        return float(np.sum(grad_out * np.asarray(function(*args), dtype=float)))

    expected = np.zeros_like(values[wrt])
    step = 1e-6
    for index in np.ndindex(values[wrt].shape):
        up = {n: v.copy() for n, v in values.items()}
        down = {n: v.copy() for n, v in values.items()}
        up[wrt][index] += step
        down[wrt][index] -= step
        expected[index] = (loss(up) - loss(down)) / (2 * step)
    k = kernel(fid, grad=wrt)
    got = k(**{a: values.get(a, EPSILON) for a in k.args if a != "grad_out"}, grad_out=grad_out)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)
