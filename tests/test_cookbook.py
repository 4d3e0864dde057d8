"""The Matrix Cookbook set: every true identity accepted, every mutated twin refuted with a
witness, and grad answering in matrix form (see tests/cookbook_cases.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sympy as sp

from symml.catalog.model import Status
from symml.engine.checking import check_derivative

sys.path.insert(0, str(Path(__file__).parent))
from cookbook_cases import CASES  # noqa: E402

IDS = [c.name for c in CASES]


def test_the_set_is_large_enough():
    assert len(CASES) >= 35


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_true_identity_is_accepted(case):
    verdict = check_derivative(case.of, case.wrt, case.true)
    assert verdict.status is Status.PROVED, (case.name, verdict)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_mutated_twin_is_refuted_with_a_witness(case):
    verdict = check_derivative(case.of, case.wrt, case.twin)
    assert verdict.status is Status.REFUTED, (case.name, case.mutation, verdict)
    assert verdict.counterexample is not None
    assert verdict.counterexample.point


def test_grad_answers_in_matrix_form_for_nearly_all():
    from symml.calculus.crosscheck import mismatch
    from symml.calculus.derivative import check_assignments
    from symml.engine.derive import grad

    in_matrix_form = 0
    for case in CASES:
        (result,) = grad(case.of, case.wrt)
        if isinstance(result.value, sp.MatrixExpr) and not isinstance(result.value, sp.MatrixBase):
            in_matrix_form += 1
            assert result.checked.startswith(("matrix calculus", "Jacobian")), result.checked
            found = mismatch(case.true, case.of, case.wrt, check_assignments([case.of, case.wrt]))
            assert found is None, case.name  # the reference answer agrees with the same guard
    assert in_matrix_form >= len(CASES) - 2
