"""`matches` claims: the sheet's formulas against jax, optax and torch."""

import io
import json
import math
import re
from dataclasses import replace

import numpy as np
import pytest
import sympy as sp
from scipy.special import erf

from symml.catalog.model import Matches, Run, Status
from symml.catalog.validation import validate
from symml.cli.main import main
from symml.engine.checking import check_claim, verify
from symml.engine.frameworks import REFERENCES, available, table
from symml.errors import CatalogError
from symml.render import report

optax = pytest.importorskip("optax", reason="optax is a test dependency (pip install optax)")


def _claim(catalog, formula_id, reference):
    formula = catalog.get(formula_id)
    number, claim = next(
        (k, c)
        for k, c in enumerate(formula.claims, 1)
        if isinstance(c, Matches) and c.reference == reference
    )
    return formula, number, claim


def _symbols(formula):
    return {s.name: s.symbol for s in formula.symbols}


# -- mutation: a slightly wrong update rule no longer matches optax ---------------------------
def _adam_with(catalog, change):
    formula, _, claim = _claim(catalog, "optim.adam_step", "optax.adam")
    s = _symbols(formula)
    rule = dict(claim.run.assignments)
    change(rule, s)
    mutated = replace(claim, run=replace(claim.run, assignments=tuple(rule.items())))
    return check_claim(formula, mutated)


@pytest.mark.parametrize(
    "name, change",
    [
        (
            "ε moved inside the square root",
            lambda r, s: r.__setitem__(
                s["W"],
                s["W"] - s["eta"] * s["mhat"] / sp.sqrt(s["vhat"] + s["epsilon"]),
            ),
        ),
        (
            "β₁ and β₂ swapped in the first moment",
            lambda r, s: r.__setitem__(s["m"], s["beta_2"] * s["m"] + (1 - s["beta_2"]) * s["g"]),
        ),
        (
            "bias correction of m̂ dropped",
            lambda r, s: r.__setitem__(s["mhat"], s["m"]),
        ),
    ],
)
def test_a_mutated_adam_rule_differs_from_optax_with_a_witness(catalog, name, change):
    verdict = _adam_with(catalog, change)
    assert verdict.status is Status.DIFFERS, (name, verdict.detail)
    assert verdict.detail.startswith("differs from optax.adam; step ")
    assert verdict.counterexample is not None
    assert set(verdict.counterexample.point) >= {"eta", "beta_1", "beta_2", "epsilon", "g"}


def _mutated(catalog, formula_id, reference, change):
    formula, _, claim = _claim(catalog, formula_id, reference)
    rule = dict(claim.run.assignments)
    change(rule, _symbols(formula))
    return check_claim(
        formula, replace(claim, run=replace(claim.run, assignments=tuple(rule.items())))
    )


@pytest.mark.parametrize(
    "formula_id, reference, name, change",
    [
        (
            "optim.adamw_step",
            "optax.adamw",
            "decoupled weight decay dropped",
            lambda r, s: r.__setitem__(
                s["W"], s["W"] - s["eta"] * s["mhat"] / (sp.sqrt(s["vhat"]) + s["epsilon"])
            ),
        ),
        (
            "optim.momentum_step",
            "optax.sgd(momentum)",
            "velocity as an average (1 - β)·g",
            lambda r, s: r.__setitem__(
                s["v_mom"], s["beta"] * s["v_mom"] + (1 - s["beta"]) * s["g"]
            ),
        ),
        (
            "optim.adam_step",
            "torch.optim.Adam",
            "bias correction of v̂ dropped",
            lambda r, s: r.__setitem__(s["vhat"], s["v"]),
        ),
    ],
)
def test_other_mutated_rules_differ_from_their_framework(
    catalog, formula_id, reference, name, change
):
    framework = reference.split(".")[0]
    if available.unavailable(framework):
        pytest.skip(available.unavailable(framework))
    assert check_claim(*_claim(catalog, formula_id, reference)[::2]).status is Status.NUMERIC
    verdict = _mutated(catalog, formula_id, reference, change)
    assert verdict.status is Status.DIFFERS, (name, verdict.detail)
    assert verdict.detail.startswith(f"differs from {reference}; step ")
    assert verdict.counterexample is not None and "g" in verdict.counterexample.point


def test_the_unmutated_adam_rule_agrees_with_optax(catalog):
    formula, number, claim = _claim(catalog, "optim.adam_step", "optax.adam")
    verdict = check_claim(formula, claim)
    assert verdict.status is Status.NUMERIC
    assert verdict.method.startswith(
        "numeric, float64 optax.adam against the catalog rule run step by step, "
        "10 random and 2 extreme runs: largest difference "
    )
    assert verdict.claim == f"optim.adam_step#{number}"


def test_rmsprop_with_epsilon_outside_the_root_differs_from_optax_at_a_tiny_gradient(catalog):
    formula, _, claim = _claim(catalog, "optim.rmsprop_step", "optax.rmsprop")
    s = _symbols(formula)
    G, W, eta, g, eps = s["G"], s["W"], s["eta"], s["g"], s["epsilon"]
    moved = ((G, claim.run.assignments[0][1]), (W, W - eta * g / (sp.sqrt(G) + eps)))
    verdict = check_claim(formula, replace(claim, run=replace(claim.run, assignments=moved)))
    assert verdict.status is Status.DIFFERS
    point = verdict.counterexample.point
    # the first step from G = 0: η·g/√((1-β)g² + ε) on the sheet's side against
    # η·g/(√((1-β)g²) + ε) on the mutated one; their ratio is the reported factor
    beta, gval = float(point["beta"]), float(point["g"])
    epsv = float(point["epsilon"])
    if verdict.detail.split("; ")[1].startswith("step 1 "):
        ratio = (math.sqrt((1 - beta) * gval**2) + epsv) / math.sqrt((1 - beta) * gval**2 + epsv)
        factor = float(verdict.detail.split("differs by ")[1].split("×")[0])
        assert factor == pytest.approx(max(ratio, 1 / ratio), rel=1e-3)


# -- functions: differences measured against an independent reference --------------------------
def test_gelu_differs_from_jax_default_by_the_tanh_approximation_error(catalog):
    formula, _, claim = _claim(catalog, "activations.gelu", "jax.nn.gelu")
    verdict = check_claim(formula, claim)
    assert verdict.status is Status.DIFFERS
    assert verdict.conditions == ("jax.nn.gelu(z, approximate=False)",)
    z = float(verdict.counterexample.point["z"])
    exact = 0.5 * z * (1 + erf(z / math.sqrt(2)))
    approx = 0.5 * z * (1 + math.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)))
    assert float(verdict.counterexample.lhs) == pytest.approx(exact, rel=1e-5)
    assert float(verdict.counterexample.rhs) == pytest.approx(approx, rel=1e-5)
    grid = np.linspace(-8, 8, 20001)
    worst = np.max(
        np.abs(
            0.5 * grid * erf(grid / np.sqrt(2))
            - 0.5 * grid * np.tanh(np.sqrt(2 / np.pi) * (grid + 0.044715 * grid**3))
        )
    )
    largest = float(verdict.method.split("largest difference ")[1].split()[0])
    assert 1e-4 < largest <= worst * 1.001


def test_leaky_relu_witness_has_alpha_above_one_and_a_positive_input(catalog):
    formula, _, claim = _claim(catalog, "activations.leaky_relu", "jax.nn.leaky_relu")
    verdict = check_claim(formula, claim)
    assert verdict.status is Status.DIFFERS
    alpha, z = (float(verdict.counterexample.point[k]) for k in ("alpha", "z"))
    assert alpha > 1 and z > 0
    assert float(verdict.counterexample.lhs) == pytest.approx(alpha * z, rel=1e-5)
    assert float(verdict.counterexample.rhs) == pytest.approx(z, rel=1e-5)


def test_vector_formulas_compare_every_component(catalog):
    formula, _, claim = _claim(catalog, "activations.softmax_temperature", "jax.nn.softmax")
    assert check_claim(formula, claim).status is Status.NUMERIC
    wrong = replace(claim, subject=formula.expr.subs(_symbols(formula)["T"], 1))
    verdict = check_claim(formula, wrong)
    assert verdict.status is Status.DIFFERS
    assert "component" in verdict.detail


# -- the catalog refuses matches claims it cannot check ----------------------------------------
def test_catalog_names_an_unknown_reference_and_suggests_the_nearest(catalog):
    formula, number, claim = _claim(catalog, "activations.gelu", "jax.nn.gelu")
    bad = replace(claim, reference="jax.nn.gelu_exact")
    with pytest.raises(
        CatalogError, match="unknown 'jax.nn.gelu_exact'; did you mean 'jax.nn.gelu'"
    ):
        validate(replace(formula, claims=(bad,)))


@pytest.mark.parametrize("missing", ["agrees_when", "badge", "difference"])
def test_catalog_requires_the_difference_and_the_agreeing_setting(catalog, missing):
    formula, _, claim = _claim(catalog, "activations.gelu", "jax.nn.gelu")
    with pytest.raises(
        CatalogError,
        match="record the difference, the setting under which they agree and a few words",
    ):
        validate(replace(formula, claims=(replace(claim, **{missing: ""}),)))


def test_catalog_requires_a_run_for_an_optimizer(catalog):
    formula, _, claim = _claim(catalog, "optim.adam_step", "optax.adam")
    with pytest.raises(CatalogError, match="optax.adam needs a Run of the update rule"):
        validate(replace(formula, claims=(replace(claim, run=None),)))


def test_catalog_requires_a_matrix_symbol_for_each_step(catalog):
    formula, _, claim = _claim(catalog, "transformer.block_ffn", _ENCODER)
    (_, value), rest = claim.steps[0], claim.steps[1:]
    wrong = replace(claim, steps=((_symbols(formula)["epsilon"], value), *rest))
    with pytest.raises(CatalogError, match="each of its steps gives its value to a matrix symbol"):
        validate(replace(formula, claims=(wrong,)))
    validate(formula)


def test_catalog_refuses_a_reference_of_another_framework(catalog):
    formula, _, claim = _claim(catalog, "optim.adam_step", "optax.adam")
    with pytest.raises(CatalogError, match="optax.adam belongs to optax, not to 'torch'"):
        validate(replace(formula, claims=(replace(claim, framework="torch"),)))


# -- the claims added for the schedulers, cross-entropy, pooling and multi-head attention -------
_LARGEST = re.compile(r"largest difference (\S+) \((\S+) relative\)")


@pytest.mark.parametrize(
    "formula_id, reference, status, relative_below",
    [
        ("schedules.step", "torch.optim.lr_scheduler.StepLR", Status.NUMERIC, 1e-14),
        ("schedules.exponential", "torch.optim.lr_scheduler.ExponentialLR", Status.NUMERIC, 1e-13),
        ("schedules.cosine", "torch.optim.lr_scheduler.CosineAnnealingLR", Status.NUMERIC, 1e-12),
        ("info.cross_entropy", "optax.softmax_cross_entropy", Status.DIFFERS, 1.0),
        (
            "info.cross_entropy",
            "torch.nn.functional.cross_entropy (probability targets)",
            Status.DIFFERS,
            1.0,
        ),
        (
            "losses.cce",
            "torch.nn.functional.cross_entropy (probability targets)",
            Status.DIFFERS,
            1.0,
        ),
        (
            "info.kl_divergence",
            "torch.nn.functional.kl_div (reduction='sum')",
            Status.NUMERIC,
            1e-12,
        ),
        ("info.entropy", "sum of torch.special.entr", Status.NUMERIC, 1e-14),
        ("cnn.max_pool", "jax.numpy.max", Status.NUMERIC, 1e-300),
        ("cnn.max_pool", "torch.nn.functional.max_pool1d", Status.NUMERIC, 1e-300),
        # jax.nn.dot_product_attention takes its softmax in float32
        ("attention.multihead", "jax.nn.dot_product_attention (2 heads)", Status.NUMERIC, 1e-5),
        (
            "attention.multihead",
            "torch.nn.functional.multi_head_attention_forward (2 heads)",
            Status.NUMERIC,
            1e-12,
        ),
        (
            "transformer.block_ffn",
            "torch.nn.TransformerEncoderLayer (post-LN, 2 heads)",
            Status.NUMERIC,
            1e-12,
        ),
    ],
)
def test_new_matches_claims_give_their_measured_verdict(
    catalog, formula_id, reference, status, relative_below
):
    formula, _, claim = _claim(catalog, formula_id, reference)
    if available.unavailable(claim.framework):
        pytest.skip(available.unavailable(claim.framework))
    verdict = check_claim(formula, claim)
    assert verdict.status is status, verdict.detail
    largest, relative = (float(v) for v in _LARGEST.search(verdict.method).groups())
    if status is Status.NUMERIC:
        assert relative < relative_below or largest == 0.0, verdict.method
    else:  # a difference of the order of the values themselves, with its witness
        assert 0.1 < relative <= relative_below, verdict.method
        assert verdict.counterexample is not None and verdict.conditions


# -- the whole post-LN block against nn.TransformerEncoderLayer, computed in steps --------------
_ENCODER = "torch.nn.TransformerEncoderLayer (post-LN, 2 heads)"


def _rows(expr, count):
    """``expr`` (1 × d, written with the free row index r) at rows 0 … count-1, stacked."""
    return sp.BlockMatrix([[expr(r)] for r in range(count)])


def _pre_ln(catalog, formula, claim):
    """The block with LayerNorm before each sub-layer (pre-LN, torch's norm_first=True), built
    from the catalog's own layer norm, FFN and the claim's multi-head attention step:
    x' = x + MHA(LN₁(x)), x'' = x' + FFN(LN₂(x'))."""
    s = _symbols(formula)
    layer_norm = catalog.get("transformer.layer_norm")
    t = _symbols(layer_norm)
    ffn = catalog.get("transformer.ffn").expr
    X, Xp, MHA_X = s["X"], s["Xp"], s["MHA_X"]
    count = dict(claim.sizes)[s["n"]]

    def norm(row, gamma, beta):
        return layer_norm.expr.xreplace({t["x"]: row, t["gamma"]: gamma, t["beta"]: beta})

    XN = sp.MatrixSymbol("XN", *X.shape)
    multihead = dict(claim.steps)[MHA_X].xreplace({X: XN})
    steps = (
        (XN, _rows(lambda r: norm(X[r, :], s["gamma_1"], s["beta_1"]), count)),
        (MHA_X, multihead),
        (Xp, X + MHA_X),
    )
    subject = _rows(
        lambda r: Xp[r, :] + ffn.xreplace({t["x"]: norm(Xp[r, :], s["gamma_2"], s["beta_2"])}),
        count,
    )
    return replace(claim, steps=steps, subject=subject)


def test_a_pre_ln_block_differs_from_the_post_ln_encoder_layer_with_a_witness(catalog):
    if available.unavailable("torch"):
        pytest.skip(available.unavailable("torch"))
    formula, _, claim = _claim(catalog, "transformer.block_ffn", _ENCODER)
    verdict = check_claim(formula, _pre_ln(catalog, formula, claim))
    assert verdict.status is Status.DIFFERS, verdict.detail
    assert verdict.detail.startswith(f"differs from {_ENCODER}; component ")
    witness = verdict.counterexample
    assert witness is not None
    assert {"epsilon", "X[0, 0]", "W_Q[0, 0]", "gamma_1[0, 0]", "b_2[0, 3]"} <= set(witness.point)
    assert abs(float(witness.lhs) - float(witness.rhs)) > 1e-3
    largest, relative = (float(v) for v in _LARGEST.search(verdict.method).groups())
    assert relative > 0.01, verdict.method


def test_steps_evaluate_the_numbers_of_the_expanded_expression(catalog):
    """Multi-head attention's torch claim computed as one step (the matrix expression with
    numbers for its matrices) measures exactly what its expanded entries measure."""
    if available.unavailable("torch"):
        pytest.skip(available.unavailable("torch"))
    reference = "torch.nn.functional.multi_head_attention_forward (2 heads)"
    formula, _, claim = _claim(catalog, "attention.multihead", reference)
    target = sp.MatrixSymbol("MH", *formula.lhs.shape)
    staged = replace(claim, steps=((target, claim.subject),), subject=target)
    expanded, stepped = check_claim(formula, claim), check_claim(formula, staged)
    assert stepped.status is expanded.status is Status.NUMERIC
    assert stepped.method == expanded.method.replace(" at 30 digits,", " at 30 digits in 1 step,")


def test_the_block_claim_is_skipped_without_torch(catalog, monkeypatch):
    available.unavailable.cache_clear()
    real = available.importlib.util.find_spec
    monkeypatch.setattr(
        available.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "torch" else real(name, *a),
    )
    try:
        formula, _, claim = _claim(catalog, "transformer.block_ffn", _ENCODER)
        verdict = check_claim(formula, claim)
    finally:
        available.unavailable.cache_clear()
    assert verdict.status is Status.INCONCLUSIVE
    assert verdict.method.startswith("skipped: torch is not installed")


@pytest.mark.parametrize(
    "reference",
    ["optax.softmax_cross_entropy", "torch.nn.functional.cross_entropy (probability targets)"],
)
def test_cross_entropy_witness_is_the_softmax_normalisation(catalog, reference):
    formula, _, claim = _claim(catalog, "info.cross_entropy", reference)
    if available.unavailable(claim.framework):
        pytest.skip(available.unavailable(claim.framework))
    verdict = check_claim(formula, claim)
    point = verdict.counterexample.point
    P = np.array([float(point[f"P[{n}]"]) for n in range(1, 5)])
    Q = np.array([float(point[f"Q[{n}]"]) for n in range(1, 5)])
    sheet, framework = float(verdict.counterexample.lhs), float(verdict.counterexample.rhs)
    assert sheet == pytest.approx(-(P * np.log(Q)).sum(), rel=1e-4)
    assert framework == pytest.approx(-(P * np.log(Q / Q.sum())).sum(), rel=1e-4)
    # normalising Q makes them agree (the recorded setting)
    assert claim.agrees_when.startswith("Σₓ Q(x) = 1")


def test_torch_cosine_annealing_climbs_back_after_t_max_as_the_sheet_does(catalog):
    """Unlike optax (which holds η_min), torch's CosineAnnealingLR follows the cosine past T."""
    formula, _, claim = _claim(
        catalog, "schedules.cosine", "torch.optim.lr_scheduler.CosineAnnealingLR"
    )
    if available.unavailable("torch"):
        pytest.skip(available.unavailable("torch"))
    call = REFERENCES[claim.reference].load()
    at_2T = float(call(last_epoch=20.0, lr=1.0, T_max=10.0, eta_min=0.1))
    assert at_2T == pytest.approx(1.0, rel=1e-12)  # η_max again at t = 2T


# -- running them: skipped by default, --against, a missing framework ---------------------------
def test_plain_verify_skips_matches_claims_and_against_runs_them(catalog):
    plain = verify(["activations.gelu"], catalog=catalog, processes=False)
    assert [v.kind for v in plain] == ["identity"]
    ran = verify(["activations.gelu"], catalog=catalog, processes=False, against=("jax",))
    assert [(v.kind, v.status) for v in ran] == [
        ("identity", plain[0].status),
        ("matches", Status.DIFFERS),
    ]


def test_a_missing_framework_is_skipped_with_its_reason(catalog, monkeypatch):
    available.unavailable.cache_clear()
    real = available.importlib.util.find_spec
    monkeypatch.setattr(
        available.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "torch" else real(name, *a),
    )
    try:
        verdicts = verify(["losses.mae"], catalog=catalog, processes=False, against=("torch",))
    finally:
        available.unavailable.cache_clear()
    skipped = [v for v in verdicts if v.kind == "matches"]
    assert [(v.status, v.expected) for v in skipped] == [(Status.INCONCLUSIVE, None)]
    assert skipped[0].method == (
        "skipped: torch is not installed, so the torch claims cannot run "
        "(pip install 'symml[torch]' to run them)"
    )
    assert report.exit_code(verdicts) == 0


def test_cli_against_rejects_an_unknown_framework(capsys):
    assert main(["verify", "activations.gelu", "--against", "optax,tensorflow"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "symml: --against optax,tensorflow: unknown framework 'tensorflow'; use a "
        "comma-separated list of jax, optax, torch, 'all' or 'none'\n"
    )


def test_json_without_against_runs_the_installed_frameworks_and_caches_them(monkeypatch, tmp_path):
    monkeypatch.setenv("SYMML_CACHE_DIR", str(tmp_path))
    runs = []
    for _ in range(2):
        out = io.StringIO()
        assert main(["verify", "optim.rmsprop_step", "--json"], out=out) == 0
        runs.append(json.loads(out.getvalue()))
    first, second = ({v["claim"]: v for v in r["verdicts"] if v["kind"] == "matches"} for r in runs)
    by_reference = {v["detail"].split(":")[0].split(";")[0]: v for v in first.values()}
    assert by_reference["agrees with optax.rmsprop"]["status"] == "numeric"
    if not available.unavailable("torch"):
        torch_rms = by_reference["differs from torch.optim.RMSprop"]
        assert torch_rms["status"] == "differs" and torch_rms["counterexample"] is not None
        assert runs[0]["summary"]["differs"] == 1
    assert not any(v["cached"] for v in first.values())
    assert all(v["cached"] for v in second.values())  # keyed by the framework's version
    assert [(v["status"], v["detail"]) for v in second.values()] == [
        (v["status"], v["detail"]) for v in first.values()
    ]


def test_plain_verify_and_against_none_run_no_matches_claims():
    for argv in (["optim.rmsprop_step"], ["optim.rmsprop_step", "--json", "--against", "none"]):
        out = io.StringIO()
        assert main(["verify", *argv, "--no-cache"], out=out) == 0
        assert "matches" not in out.getvalue() and "rmsprop_step#1" in out.getvalue()


def test_cli_errata_gain_the_frameworks_section(catalog):
    out = io.StringIO()
    code = main(
        [
            "verify",
            "activations.gelu",
            "optim.rmsprop_step",
            "--against",
            "jax,optax",
            "--errata",
            "--no-cache",
        ],
        out=out,
    )
    text = out.getvalue()
    assert code == 0
    assert "## Differs from the frameworks (1)" in text
    assert "- `activations.gelu` ≠ jax.nn.gelu: jax.nn.gelu approximates by default" in text
    assert text.count("; agrees when jax.nn.gelu(z, approximate=False)") == 1
    assert "- `optim.rmsprop_step` = optax.rmsprop" in text


# -- the docs table lists every matches claim with its expected verdict -------------------------
def test_docs_frameworks_table_lists_every_matches_claim(catalog):
    from pathlib import Path

    doc = Path(__file__).resolve().parent.parent / "docs" / "frameworks.md"
    text = doc.read_text(encoding="utf-8")
    body = text.split(table.BEGIN, 1)[1].split(table.END, 1)[0].strip().splitlines()[2:]
    listed = []
    for line in body:
        cells = [c.strip() for c in line.strip("|").split("|")]
        listed.append((cells[0].strip("`"), cells[1].strip("`"), cells[2]))
    expected = table.rows(catalog)
    assert [(f, r) for f, r, _ in listed] == [(f, r) for f, r, _ in expected], (
        "docs/frameworks.md is stale: python -m symml.engine.frameworks.table docs/frameworks.md"
    )
    stale = [
        (f, r, got, want)
        for (f, r, got), (_, _, want) in zip(listed, expected, strict=True)
        if got != want and got != "inconclusive"
    ]
    assert stale == []


def test_matches_claims_of_every_framework_exist(catalog):
    frameworks = {c.framework for f in catalog for c in f.claims if isinstance(c, Matches)}
    assert frameworks == {"jax", "optax", "torch"}
    optimizers = {
        c.reference for f in catalog for c in f.claims if isinstance(c, Matches) and c.run
    }
    assert {
        "optax.sgd",
        "optax.sgd(momentum)",
        "optax.sgd(nesterov=True)",
        "optax.adagrad",
        "optax.rmsprop",
        "optax.adam",
        "optax.adamw",
    } <= optimizers
    assert all(isinstance(c.run, Run) for f in catalog for c in f.claims if getattr(c, "run", None))


# -- the recorded setting under which a framework agrees does make it agree ---------------------
def test_gelu_agrees_with_jax_when_not_approximated(catalog):
    formula, _, claim = _claim(catalog, "activations.gelu", "jax.nn.gelu")
    exact = replace(claim, inputs=(*claim.inputs, ("approximate", False)), expected=Status.NUMERIC)
    assert check_claim(formula, exact).status is Status.NUMERIC


@pytest.mark.parametrize(
    "formula_id, reference, where",
    [
        ("activations.leaky_relu", "jax.nn.leaky_relu", lambda s: s["alpha"] <= 1),
        ("schedules.cosine", "optax.cosine_decay_schedule", lambda s: s["t"] <= s["T"]),
        (
            "schedules.warmup",
            "optax.join_schedules(linear warmup, linear decay)",
            lambda s: s["t"] < s["t_warmup"],
        ),
    ],
)
def test_a_difference_vanishes_under_its_recorded_setting(catalog, formula_id, reference, where):
    formula, _, claim = _claim(catalog, formula_id, reference)
    assert check_claim(formula, claim).status is Status.DIFFERS
    agreeing = replace(claim, where=(where(_symbols(formula)),))
    verdict = check_claim(formula, agreeing)
    assert verdict.status is Status.NUMERIC, verdict.detail


def test_nesterov_with_the_look_ahead_at_w_minus_eta_beta_v_agrees_with_optax(catalog):
    formula, _, claim = _claim(catalog, "optim.nesterov_step", "optax.sgd(nesterov=True)")
    s = _symbols(formula)
    W, v, beta, eta, grad_L = s["W"], s["v_mom"], s["beta"], s["eta"], s["grad_L"]
    sutskever = ((v, beta * v + grad_L(W - eta * beta * v)), (W, W - eta * v))
    fixed = replace(claim, run=replace(claim.run, assignments=sutskever))
    assert check_claim(formula, fixed).status is Status.NUMERIC
    verdict = check_claim(formula, claim)
    assert verdict.status is Status.DIFFERS
    assert verdict.detail.split("; ")[2].startswith("step 2 differs by ")  # step 1 agrees (v₀ = 0)
