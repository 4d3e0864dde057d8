"""The Matrix Cookbook set: every true identity accepted, every mutated twin refuted with a
witness, and grad answering in matrix form (see tests/cookbook_cases.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from symml.model import Status
from symml.verify import check_derivative

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
