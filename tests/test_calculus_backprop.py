"""Backpropagation by matrix calculus: an unspecified loss L of a vector, element-wise
unspecified activations σ, upstream gradients bound by ``where`` — at symbolic sizes, each
result cross-checked element-wise, each mutated claim refuted with a witness."""

from __future__ import annotations

import dataclasses
import importlib

import pytest
import sympy as sp
from sympy.core.function import AppliedUndef

from derivations import p03_backprop as bp
from symml import calculus
from symml.calculus.crosscheck import mismatch
from symml.calculus.derivative import check_assignments
from symml.calculus.nodes import GradientOf
from symml.catalog.loader import load_catalog
from symml.catalog.model import Status
from symml.engine.checking import check_claim
from symml.errors import DerivationError

differential_module = importlib.import_module("symml.calculus.differential")
layer = bp.Lf(bp.W * bp.x + bp.b)


def _act(v):
    return v.applyfunc(bp.act)  # σ element-wise, as the catalog writes it


two_layers = bp.Lf(_act(bp.W_2 * _act(bp.W_1 * bp.x + bp.b_1) + bp.b_2))


@pytest.mark.parametrize(
    ("of", "wrt", "expected"),
    [
        (layer, bp.W, "∇L(W*x + b)*x.T"),
        (layer, bp.x, "W.T*∇L(W*x + b)"),
        (layer, bp.b, "∇L(W*x + b)"),
    ],
)
def test_gradient_of_a_loss_of_a_layer_in_textbook_form(of, wrt, expected):
    result = calculus.matrix_derivative(of, wrt)
    assert sp.sstr(result.value) == expected
    assert result.symbolic_sizes and len(result.checked_at) == 2


def test_two_layer_gradient_chains_through_the_activations():
    """∂L/∂W₁ = (σ′(z₁) ⊙ W₂ᵀ(σ′(z₂) ⊙ ∇L(a₂))) xᵀ, with z₁ = W₁x + b₁ and z₂ = W₂σ(z₁) + b₂."""
    result = calculus.matrix_derivative(two_layers, bp.W_1)
    value = result.value
    assert isinstance(value, sp.MatMul) and value.args[-1] == bp.x.T
    (gradient,) = value.atoms(GradientOf)
    output = _act(bp.W_2 * _act(bp.W_1 * bp.x + bp.b_1) + bp.b_2)
    assert calculus.same(gradient.argument, output)  # the maps' bound variables differ
    assert "d L(A) = tr(∇L(A)ᵀ dA) (L any scalar function)" in result.rules


def test_the_guard_catches_a_wrong_loss_rule(monkeypatch):
    wrong = differential_module.Rule(
        AppliedUndef,
        "d L(A) = −tr(∇L(A)ᵀ dA) (wrong on purpose)",
        lambda e, df: -sp.Trace(sp.MatMul(sp.Transpose(GradientOf(e)), df.d(e.args[0]))),
    )
    monkeypatch.setitem(differential_module.RULES, AppliedUndef, wrong)
    with pytest.raises(DerivationError, match="disagrees with elementwise differentiation"):
        calculus.matrix_derivative(layer, bp.W)


@pytest.mark.parametrize(
    "candidate",
    [
        2 * GradientOf(layer) * bp.x.T,  # a factor too many
        GradientOf(bp.Lf(bp.W * bp.x)) * bp.x.T,  # ∇L at the wrong point
    ],
)
def test_the_guard_rejects_a_wrong_gradient_of_the_loss(candidate):
    assignments = check_assignments([layer, bp.W])
    assert mismatch(GradientOf(layer) * bp.x.T, layer, bp.W, assignments) is None
    found = mismatch(candidate, layer, bp.W, assignments)
    assert found is not None and found.sizes


CATALOG = load_catalog()


@pytest.mark.parametrize(
    "formula_id",
    [
        "backprop.grad_w",
        "backprop.grad_b",
        "backprop.grad_x",
        "backprop.grad_w2",
        "backprop.grad_a1",
        "backprop.grad_w1",
    ],
)
def test_backprop_claims_are_proved_by_matrix_calculus(formula_id):
    formula = CATALOG.get(formula_id)
    verdict = check_claim(formula, formula.claims[0])
    assert verdict.status is Status.PROVED
    assert verdict.method.startswith("matrix calculus at symbolic sizes")
    assert any(note.startswith("upstream dL_dz") for note in verdict.notes)


def test_the_dot_product_reading_is_refuted_by_its_shape():
    formula = CATALOG.get("backprop.grad_z1")
    verdict = check_claim(formula, formula.claims[0])
    assert verdict.status is Status.AMBIGUOUS
    dotted = verdict.readings[1]
    assert dotted[1] == "refuted"
    assert dotted[2] == "shapes differ: (2, 1) vs scalar (sizes h=2, o=3)"


def _mutated(formula_id: str, **changes):
    formula = CATALOG.get(formula_id)
    return formula, dataclasses.replace(formula.claims[0], **changes)


@pytest.mark.parametrize(
    ("formula_id", "changes"),
    [
        ("backprop.grad_w1", {"where": ((bp.z_1, bp.W_1 * bp.x),)}),  # b₁ dropped
        ("backprop.grad_x", {"claimed": 2 * bp.W.T * bp.dL_dz}),  # a factor too many
        (
            "backprop.grad_w2",
            {"claimed": bp.dL_dz2 * bp.a_1.T, "where": ((bp.z_2, bp.W_2 * bp.a_1),)},
        ),
    ],
)
def test_mutated_backprop_claims_are_refuted_with_a_witness(formula_id, changes):
    formula, claim = _mutated(formula_id, **changes)
    verdict = check_claim(formula, claim)
    assert verdict.status is Status.REFUTED
    assert verdict.counterexample is not None
