"""Verification: verdicts on the sheet's claims, mutations, matrix cases, conditions."""

import random
from dataclasses import replace

import pytest
import sympy as sp

from symml.catalog.loader import load_catalog
from symml.catalog.model import Derivative, Status
from symml.engine.checking import check_claim, check_derivative, check_identity, verify
from symml.evaluate.explicit import size_assignments
from symml.evaluate.numeric import evaluate

z = sp.Symbol("z", real=True)


@pytest.fixture(scope="module")
def verdicts():
    return {v.claim: v for v in verify(workers=2)}


def test_every_claim_has_a_verdict_and_none_is_an_error(catalog, verdicts):
    claims = [  # matches claims run only with against=... (tests/test_frameworks.py)
        f"{f.id}#{k}"
        for f in catalog
        for k, c in enumerate(f.claims, 1)
        if c.kind.value != "matches"
    ]
    assert sorted(verdicts) == sorted(claims)
    assert [c for c, v in verdicts.items() if v.status is Status.ERROR] == []


def test_every_verdict_is_what_the_catalog_expects(verdicts):
    mismatches = {
        c: (v.status.value, v.expected.value, v.detail)
        for c, v in verdicts.items()
        if not v.as_expected
    }
    assert mismatches == {}


def test_true_claims_are_proved_or_numeric_with_a_recorded_reason(catalog, verdicts):
    for formula in catalog:
        for number, claim in enumerate(formula.claims, 1):
            if claim.kind.value == "matches":  # run with against=...: tests/test_frameworks.py
                continue
            verdict = verdicts[f"{formula.id}#{number}"]
            if verdict.status is Status.NUMERIC:
                assert claim.note, f"{formula.id}#{number} is numeric without a reason"
            if verdict.status is Status.PROVED:
                assert verdict.method.startswith(
                    (
                        "symbolic",
                        "matrix calculus",
                        "one step",
                        "expectation",
                        "variance",
                        "the readings agree",
                    )
                ), verdict.method


def test_known_errata_are_found(verdicts):
    assert verdicts["optim.nesterov_step#1"].status is Status.REFUTED
    assert verdicts["schedules.warmup#1"].status is Status.REFUTED
    assert verdicts["activations.relu#1"].status is Status.CONDITIONAL
    assert "z = 0" in verdicts["activations.relu#1"].detail
    assert verdicts["losses.cce#1"].conditions == ("Eq(Sum(y_cls[j], (j, 1, k)), 1)",)
    assert verdicts["init.he#1"].status is Status.AMBIGUOUS
    assert verdicts["backprop.grad_z1#1"].status is Status.AMBIGUOUS


def test_nesterov_witness_reproduces_independently(catalog, verdicts):
    """Run both algorithms by hand, with the stand-in gradient the witness names."""
    witness = verdicts["optim.nesterov_step#1"].counterexample
    values = {k: sp.Rational(v) for k, v in witness.point.items() if k != "grad_L"}
    u0 = sp.Symbol("u0")
    grad = sp.Lambda(u0, sp.sympify(witness.point["grad_L"].split("↦")[1], locals={"u0": u0}))
    W, v, beta, eta = values["W"], values["v_mom"], values["beta"], values["eta"]
    sheet_v = beta * v + grad(W - beta * v)
    true_v = beta * v + grad(W - eta * beta * v)
    assert sheet_v != true_v
    assert float(W - eta * sheet_v) != pytest.approx(float(W - eta * true_v))


def _mutations(claimed, symbols):
    yield "sign flip", -claimed
    if isinstance(claimed, (sp.Mul, sp.MatMul)) and len(claimed.args) > 1:
        yield "dropped factor", type(claimed)(*claimed.args[1:])
    else:
        yield "doubled", 2 * claimed
    scalars = [s for s in symbols if isinstance(s, sp.Symbol) and s in claimed.free_symbols]
    others = [
        s
        for s in symbols
        if isinstance(s, sp.Symbol)
        and s not in scalars
        and s.assumptions0 == (scalars[0].assumptions0 if scalars else {})
    ]
    if scalars and others:
        yield "swapped symbol", claimed.xreplace({scalars[0]: others[0]})


def _true_derivative_claims(catalog):
    for formula in catalog:
        for claim in formula.claims:
            if isinstance(claim, Derivative) and claim.expected is Status.PROVED:
                yield formula, claim


def test_mutated_true_derivative_claims_are_refuted_with_reproducible_witnesses(catalog):
    checked = 0
    for formula, claim in _true_derivative_claims(catalog):
        of = claim.of if claim.of is not None else formula.expr
        symbols = [s.symbol for s in formula.symbols]
        domain = {s.name: s.domain for s in formula.symbols}
        for name, mutated in _mutations(claim.claimed, symbols):
            if size_assignments([claim.claimed, claim.wrt])[0]:
                # Matrix and indexed rules go through the catalog path (upstream gradients).
                verdict = check_claim(formula, replace(claim, claimed=mutated))
                assert verdict.status is Status.REFUTED, (formula.id, name, verdict)
                checked += 1
                continue
            verdict = check_derivative(of, claim.wrt, mutated, domain=domain)
            assert verdict.status is Status.REFUTED, (formula.id, name, verdict)
            assert verdict.counterexample is not None or verdict.method == "shape check"
            checked += 1
            if not all(
                k.isidentifier() and "↦" not in v for k, v in verdict.counterexample.point.items()
            ):
                continue  # indexed elements: reproduced through the catalog tests instead
            point = {
                formula.symbol(k).symbol: sp.Rational(v)
                for k, v in verdict.counterexample.point.items()
            }
            true_value = evaluate(sp.diff(of, claim.wrt), point, 40)
            claimed_value = evaluate(mutated, point, 40)
            assert abs(true_value - claimed_value) > 1e-20, (formula.id, name)
    assert checked >= 20


@pytest.mark.parametrize(
    ("claimed", "status"),
    [("X^-T", Status.PROVED), ("X^-1", Status.REFUTED), ("X^T", Status.REFUTED)],
)
def test_log_det_gradient(claimed, status):
    n = sp.Symbol("n", integer=True, positive=True)
    X = sp.MatrixSymbol("X", n, n)
    rhs = {"X^-T": X.inverse().T, "X^-1": X.inverse(), "X^T": X.T}[claimed]
    assert check_derivative(sp.log(sp.Determinant(X)), X, rhs).status is status


def test_bilinear_and_log_sum_exp_gradients():
    m, n = sp.symbols("m n", integer=True, positive=True)
    W, x, g = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("g", m, 1)
    assert check_derivative((g.T * W * x)[0, 0], W, g * x.T).status is Status.PROVED
    assert check_derivative((g.T * W * x)[0, 0], W, x * g.T).status is Status.REFUTED
    i = sp.Symbol("i", integer=True)
    logits = W * x
    total = sp.Sum(sp.exp(logits[i, 0]), (i, 0, m - 1))
    softmax = logits.applyfunc(sp.exp) / total
    assert check_derivative(sp.log(total), W, softmax * x.T).status is Status.PROVED
    assert check_derivative(sp.log(total), W, softmax * x.T * 2).status is Status.REFUTED


def test_only_numbers_never_give_proved():
    """With no time for symbolic steps, agreement is 'numeric', not 'proved'."""
    lhs = sp.sin(z) ** 2 + sp.cos(z) ** 2 + sp.exp(sp.log(1 + z**2))
    verdict = check_identity(lhs, 2 + z**2, timeout=1e-6)
    assert verdict.status is Status.NUMERIC
    assert verdict.method.startswith("numeric")


def test_conditional_claims_are_checked_both_ways():
    verdict = check_derivative(
        sp.Max(0, z), z, sp.Piecewise((1, z > 0), (0, True)), conditions=[sp.Ne(z, 0)]
    )
    assert verdict.status is Status.CONDITIONAL
    assert verdict.conditions == ("Ne(z, 0)",)
    assert verdict.counterexample.point == {"z": "0"}


def test_huber_join_is_reported_smooth(catalog):
    formula = catalog.get("losses.huber")
    yhat = formula.symbol("yhat").symbol
    verdict = check_claim(formula, formula.claims[0])
    assert verdict.status is Status.NUMERIC
    d = sp.diff(formula.expr, yhat)
    assert d.has(sp.Piecewise)


def test_a_wrong_identity_has_a_counterexample_at_high_precision():
    verdict = check_identity(sp.log(z**2), 2 * sp.log(z))
    assert verdict.status is Status.REFUTED
    value = sp.Rational(verdict.counterexample.point["z"])
    assert value < 0


def test_seed_makes_counterexamples_reproducible():
    first = check_identity(sp.sin(z), z, seed=3).counterexample
    again = check_identity(sp.sin(z), z, seed=3).counterexample
    assert first == again
    rng = random.Random(0)
    assert rng.random() == random.Random(0).random()


def test_verify_single_ids_and_unknown_id():
    verdicts = verify(["activations.sigmoid"])
    assert [v.claim for v in verdicts] == ["activations.sigmoid#1", "activations.sigmoid#2"]
    with pytest.raises(KeyError, match="did you mean 'activations.sigmoid'"):
        verify(["sigmod"])


def test_check_claim_catalog_default_loads():
    assert len(load_catalog()) >= 110


def test_proof_cache_reuses_verdicts_of_unchanged_claims(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMML_CACHE_DIR", str(tmp_path))
    first = verify(["activations.sigmoid", "losses.mse"], use_cache=True)
    again = verify(["activations.sigmoid", "losses.mse"], use_cache=True)
    assert [v.cached for v in first] == [False, False, False]
    assert [v.cached for v in again] == [True, True, True]
    assert [(v.claim, v.status, v.method) for v in again] == [
        (v.claim, v.status, v.method) for v in first
    ]


def test_claims_checked_in_threads_agree_with_worker_processes():
    in_workers = verify(["activations.relu", "optim.adam_step"])
    in_threads = verify(["activations.relu", "optim.adam_step"], processes=False)
    assert [(v.status, v.method) for v in in_workers] == [(v.status, v.method) for v in in_threads]


def test_a_claim_past_its_whole_deadline_is_inconclusive_not_a_hang(catalog, monkeypatch):
    import importlib

    verify_module = importlib.import_module(
        "symml.engine.checking"
    )  # the module, not symml.verify()

    monkeypatch.setattr(verify_module, "CLAIM_DEADLINE_FACTOR", 1e-4)
    formula = catalog.get("backprop.grad_w1")
    verdict = verify_module._check_in_worker(formula, formula.claims[0], 0, 10.0)
    assert verdict.status is Status.INCONCLUSIVE
    assert verdict.claim == "backprop.grad_w1#1"
    assert "raise --timeout" in verdict.detail


def test_a_condition_undefined_at_a_sample_skips_the_point_not_the_check():
    # p/q > 0 at q = 0 is zoo > 0, which SymPy refuses to order (a TypeError escaped
    # check_identity before); the point is skipped.
    p, q = sp.symbols("p q", real=True)
    verdict = check_identity(sp.log(p / q), sp.log(p) - sp.log(q), conditions=[p / q > 0])
    assert verdict.status is Status.CONDITIONAL
    assert "fails without the condition" in verdict.method
