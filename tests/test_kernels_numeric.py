"""Every kernel against SymPy/mpmath at random points of the declared domains, and every
gradient kernel against central differences and against SymPy's derivative of the
explicitly expanded formula (independent of the kernel's own delta collapsing)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from sympy.core.function import AppliedUndef

from symml import load_catalog
from symml.calculus import drop_step_derivatives
from symml.catalog.primitives import elementary
from symml.evaluate.numeric import sample_value
from symml.kernels import kernel

CATALOG = load_catalog()

sys.path.insert(0, str(Path(__file__).parent))
from catalog_kernels import catalog_kernels  # noqa: E402

SIZE = 4
POINTS = 5


def _outside_sampler(expr):
    """A declared function (max over an index) or a two-index family (a table, a convolution):
    the one-axis sampling below cannot write these out."""
    if isinstance(expr, sp.MatrixExpr) or expr.has(sp.MatrixSymbol):
        return False
    return bool(expr.atoms(AppliedUndef)) or any(
        len(a.indices) != 1 for a in expr.atoms(sp.Indexed)
    )


# Formulas of scalars and one-index families; the two-index ones and the declared functions
# are tested in test_kernels_families, the matrix ones in test_kernels_matrix_grad.
ELEMENTWISE_AND_INDEXED = [
    f.id
    for f, _ in catalog_kernels()
    if not _outside_sampler(f.expr)
    and not (isinstance(f.expr, sp.MatrixExpr) or f.expr.has(sp.MatrixSymbol))
]


def _explicit(formula, expr):
    """The formula at SIZE elements: sums written out, families as their elements."""
    sizes = {d: SIZE for s in formula.symbols if s.kind == "indexed" for d in s.shape.dims}
    return expr.xreplace(sizes).doit() if sizes else expr


def _families(formula, expr):
    """The indexed bases of the explicit expression (their shapes are concrete there)."""
    return {str(a.base.label): a.base for a in _explicit(formula, expr).atoms(sp.Indexed)}


def _sample(formula, names, rng, families):
    """Exact points (one per column) and the matching float64 arrays."""
    point_sets, arrays = [], {}
    for name in names:
        spec = next((s for s in formula.symbols if s.name == name), None)
        domain = spec.domain if spec is not None else None
        if name in families:
            values = [[sample_value(domain, rng) for _ in range(SIZE)] for _ in range(POINTS)]
            arrays[name] = np.array(values, dtype=float)
        else:
            values = [sample_value(domain, rng) for _ in range(POINTS)]
            # A scalar of an indexed formula is one value per row, broadcast along the axis.
            column = np.array(values, dtype=float)
            arrays[name] = column[:, None] if families else column
        point_sets.append(values)
    return point_sets, arrays


def _reference(expr, formula, names, points, families, column):
    subs = {}
    symbols = {str(s): s for s in expr.free_symbols}
    for name, values in zip(names, points, strict=True):
        if name in families:
            for k, v in enumerate(values[column]):
                subs[families[name][k + 1]] = v
        elif name in symbols:
            subs[symbols[name]] = values[column]
    return expr.xreplace(subs)


def _float(value):
    return float(sp.N(elementary(drop_step_derivatives(value)), 30))


@pytest.mark.parametrize("formula_id", ELEMENTWISE_AND_INDEXED)
def test_forward_matches_mpmath(formula_id):
    formula = CATALOG.get(formula_id)
    k = kernel(formula)
    rng = random.Random(formula_id)
    families = _families(formula, formula.expr)
    points, arrays = _sample(formula, k.args, rng, families)
    result = np.asarray(k(**arrays))
    full = _explicit(formula, formula.expr)
    free = {str(i) for a in formula.expr.atoms(sp.Indexed) for i in a.indices} & {
        str(s) for s in formula.expr.free_symbols
    }
    for column in range(POINTS):
        value = _reference(full, formula, k.args, points, families, column)
        if free:  # one element per position: compare every element
            (index,) = [s for s in formula.expr.free_symbols if str(s) in free]
            expected = [
                _float(
                    _reference(
                        full.xreplace({index: p + 1}), formula, k.args, points, families, column
                    )
                )
                for p in range(SIZE)
            ]
            np.testing.assert_allclose(result[column], expected, rtol=1e-10, atol=1e-12)
        else:
            np.testing.assert_allclose(result[column], _float(value), rtol=1e-10, atol=1e-12)


def _gradient_cases():
    cases = []
    for formula_id in ELEMENTWISE_AND_INDEXED:
        formula = CATALOG.get(formula_id)
        for name in kernel(formula, grad="all"):
            cases.append((formula_id, name))
    return cases


GRADIENTS = _gradient_cases()


@pytest.mark.parametrize(("formula_id", "wrt"), GRADIENTS)
def test_gradient_matches_symbolic_derivative(formula_id, wrt):
    formula = CATALOG.get(formula_id)
    g = kernel(formula, grad=wrt)
    rng = random.Random(formula_id + wrt)
    expr = formula.expr
    families = _families(formula, expr)
    if "grad_out" in g.args:
        families["grad_out"] = sp.IndexedBase("grad_out")
    points, arrays = _sample(formula, g.args, rng, families)
    result = np.asarray(g(**arrays))
    if result.ndim == 2 and wrt not in families and result.shape[1] == 1:
        result = result[:, 0]
    full = _explicit(formula, expr)
    free = [s for s in expr.free_symbols if any(s in a.indices for a in expr.atoms(sp.Indexed))]
    if free and "grad_out" not in g.args:  # a scalar's partial, one per element
        symbol = next(s for s in expr.free_symbols if str(s) == wrt)
        for column in range(POINTS):
            expected = [
                _float(
                    _reference(
                        sp.diff(full, symbol).xreplace({free[0]: p + 1}),
                        formula,
                        g.args,
                        points,
                        families,
                        column,
                    )
                )
                for p in range(SIZE)
            ]
            np.testing.assert_allclose(result[column], expected, rtol=1e-9, atol=1e-12)
        return
    if free:  # per-element formula: the kernel is Σᵢ grad_outᵢ ∂fᵢ
        full = sum(
            families["grad_out"][p + 1] * full.xreplace({free[0]: p + 1}) for p in range(SIZE)
        )
    for column in range(POINTS):
        if wrt in families:
            expected = [
                _float(
                    _reference(
                        sp.diff(full, families[wrt][p + 1]),
                        formula,
                        g.args,
                        points,
                        families,
                        column,
                    )
                )
                for p in range(SIZE)
            ]
        else:
            symbol = next(s for s in expr.free_symbols if str(s) == wrt)
            expected = _float(
                _reference(sp.diff(full, symbol), formula, g.args, points, families, column)
            )
        np.testing.assert_allclose(result[column], expected, rtol=1e-9, atol=1e-12)


SMOOTH = [
    ("activations.sigmoid", "z"),
    ("activations.tanh", "z"),
    ("activations.gelu", "z"),
    ("losses.bce", "yhat_prob"),
    ("losses.mse", "yhat_vec"),
    ("losses.cce", "yhat_cls"),
    ("activations.softmax", "z_vec"),
    ("activations.softmax_temperature", "T"),
    ("info.kl_divergence", "Q"),
    ("metrics.ss_tot", "y"),
    ("schedules.cosine", "t"),
    ("losses.focal", "yhat_prob"),
]


@pytest.mark.parametrize(("formula_id", "wrt"), SMOOTH)
def test_gradient_matches_central_differences(formula_id, wrt):
    formula = CATALOG.get(formula_id)
    f = kernel(formula)
    g = kernel(formula, grad=wrt)
    rng = random.Random(wrt)
    families = _families(formula, formula.expr)
    if "grad_out" in g.args:
        families["grad_out"] = sp.IndexedBase("grad_out")
    _, arrays = _sample(formula, g.args, rng, families)
    analytic = np.asarray(g(**arrays))
    base = dict(arrays)
    upstream = base.pop("grad_out", None)
    x = base[wrt]
    h = 1e-6
    if wrt not in families:  # a scalar: the partial derivative, element by element
        plus = np.asarray(f(**{**base, wrt: x + h}))
        minus = np.asarray(f(**{**base, wrt: x - h}))
        np.testing.assert_allclose(
            np.broadcast_to(analytic, plus.shape), (plus - minus) / (2 * h), rtol=1e-5, atol=1e-7
        )
        return
    numeric = np.zeros_like(x)
    for position in range(x.shape[1]):
        step = np.zeros_like(x)
        step[:, position] = h
        diff = np.asarray(f(**{**base, wrt: x + step})) - np.asarray(f(**{**base, wrt: x - step}))
        diff = diff / (2 * h)
        if upstream is not None:
            diff = (diff * upstream).sum(axis=-1)
        numeric[:, position] = diff
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)
