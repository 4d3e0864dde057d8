"""∂(vector)/∂(scalar) in matrix form: SymPy's matrix diff by a scalar is given only after
the element-wise guard agrees (layer norm by ε), and refused when it does not."""

from __future__ import annotations

import pytest
import sympy as sp

from symml import calculus, grad, load_catalog
from symml.errors import DerivationError


def _layer_norm():
    formula = load_catalog().get("transformer.layer_norm")
    epsilon = next(s for s in formula.expr.free_symbols if str(s) == "epsilon")
    return formula, epsilon


def test_layer_norm_by_epsilon_is_a_row_checked_elementwise():
    formula, _ = _layer_norm()
    (result,) = grad(formula, wrt="epsilon")
    assert isinstance(result.value, sp.MatrixExpr)
    assert result.value.shape == formula.expr.shape
    assert result.checked.startswith("SymPy's matrix derivative, cross-checked elementwise at d=")


def test_a_wrong_matrix_diff_by_a_scalar_is_refused(monkeypatch):
    formula, epsilon = _layer_norm()
    true_diff = sp.diff
    monkeypatch.setattr(sp, "diff", lambda e, *a, **k: 2 * true_diff(e, *a, **k))
    with pytest.raises(DerivationError) as info:
        calculus.derivative_by_scalar(formula.expr, epsilon)
    assert "disagrees with the element-wise one" in str(info.value)


def test_a_matrix_of_several_columns_by_a_scalar_is_refused_in_one_line():
    t = sp.Symbol("t", real=True)
    x = sp.MatrixSymbol("X", 3, 2)
    with pytest.raises(DerivationError) as info:
        calculus.derivative_by_scalar(t * x, t)
    assert str(info.value) == (
        "t: the derivative of a matrix with several columns by a scalar is not offered in "
        "matrix form; differentiate one column, or an entry, instead"
    )
