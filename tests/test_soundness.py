"""False verdicts on scalar claims (issue 14), deadlines and the size guard.

Each test here failed on the code before the fix (commit aaf0f14): a refutation read from
fixed-precision cancellation, a kink accepted when written one way and refuted another, a
nonzero constant difference reported as ``numeric``, a ``timeout=`` that bounded nothing, and
powers that hang SymPy before any deadline is checked.
"""

from __future__ import annotations

import functools
import time

import mpmath
import pytest
import sympy as sp

import symml
from symml.catalog.model import Domain, Status
from symml.catalog.primitives import relu
from symml.engine.checking import check_derivative, check_identity
from symml.errors import SymbolicTimeout
from symml.evaluate import enclosure, numeric
from symml.read.expressions import parse_expression
from symml.runtime import bounded
from symml.runtime.guard import SizeError

x, z, t = sp.symbols("x z t", real=True)


# -- 1. cancellation is never a refutation; a refutation is certified -----------------------
@pytest.mark.parametrize("n", [40, 60])
def test_a_power_against_its_expansion_is_proved_by_the_normal_form(n):
    verdict = check_identity((t + 1) ** n, sp.expand((t + 1) ** n))
    assert verdict.status is Status.PROVED
    assert verdict.method == "symbolic: normal form (expand/cancel/together)"


def test_without_symbolic_time_cancellation_gives_numeric_not_refuted():
    """No time for normal forms: sampling alone must not read cancellation in the expanded
    side (terms of 10⁴⁰ cancelling to 10¹³) as a difference."""
    verdict = check_identity((x + 1) ** 60, sp.expand((x + 1) ** 60), timeout=1e-6)
    assert verdict.status is Status.NUMERIC
    assert verdict.method == "numeric: agreed at 12 sampled points (30 digits)"


def test_sampling_of_an_expanded_power_finds_no_counterexample():
    result = numeric.compare((x + 1) ** 60, sp.expand((x + 1) ** 60), {}, samples=12)
    assert result.counterexample is None
    assert result.agreed == 12


def test_a_tiny_real_difference_under_cancellation_is_certified():
    """The same cancellation plus a true difference of 10⁻³⁰·x: refuted, the difference
    certified on intervals, and the witness prints both sides to the digits that differ."""
    wrong = sp.expand((x + 1) ** 60) + x / 10**30
    verdict = check_identity((x + 1) ** 60, wrong, timeout=1e-6)
    assert verdict.status is Status.REFUTED
    assert verdict.method.startswith(
        "numeric sampling, difference certified by interval arithmetic"
    )
    point = sp.Rational(verdict.counterexample.point["x"])
    exact = ((point + 1) ** 60 - sp.expand((x + 1) ** 60 + x / 10**30).subs(x, point)) * 10**30
    assert exact == -point != 0
    assert verdict.counterexample.lhs != verdict.counterexample.rhs


def test_without_an_interval_form_raised_precision_certifies():
    """Γ has no interval version here: precision raised past the error bound decides."""
    wrong = check_identity(sp.gamma(x + 3), sp.gamma(x + 3) + x / 10**25, timeout=1e-6)
    assert wrong.status is Status.REFUTED
    assert wrong.method == (
        "numeric sampling, difference certified by precision raised to 120 digits "
        "(no interval form)"
    )
    positive = {x: Domain("positive", 0, sp.oo)}  # at x = −1 the right side is 0·Γ(0)
    right = check_identity(
        sp.gamma(x + 3), (x + 2) * (x + 1) * sp.gamma(x + 1), domain=positive, timeout=1e-6
    )
    assert right.status is Status.NUMERIC


def test_an_enclosure_never_picks_a_branch_by_rounding():
    """3x + 1 at x = −1/3 is exactly 0; in floating point it is ±tiny. The enclosure holds
    both branches of the step, so it cannot certify H(3x + 1) ≠ ½ there."""
    at = {x: sp.Rational(-1, 3)}
    found = enclosure.separate([sp.Heaviside(3 * x + 1)], [sp.S.Half], at)
    assert found is not None and found.differ is False
    assert enclosure.separate([sp.Heaviside(x)], [sp.S.Half], {x: sp.Rational(1, 10**40)}).differ


def test_enclosures_contain_the_value():
    """Against mpmath at 200 digits, for every function the evaluator encloses."""
    point = {x: sp.Rational(7, 10)}
    expr = (
        sp.exp(x) * sp.sin(x) / sp.cos(x)
        + sp.log(x)
        + sp.sqrt(x)
        + sp.tanh(x)
        + sp.erf(x)
        + sp.erfc(x)
        + sp.atan(x)
        + sp.cosh(x)
        + x ** sp.Rational(3, 2)
        + sp.Abs(x - 1)
        + sp.Max(x, 1 - x)
        + sp.Min(x, 2)
        + sp.pi
        + sp.E
    )
    (box,) = enclosure.enclose_all([expr], point, 128)
    with mpmath.workdps(200):
        v = mpmath.mpf(7) / 10
        value = (
            mpmath.exp(v) * mpmath.tan(v)
            + mpmath.log(v)
            + mpmath.sqrt(v)
            + mpmath.tanh(v)
            + mpmath.erf(v)
            + mpmath.erfc(v)
            + mpmath.atan(v)
            + mpmath.cosh(v)
            + v**1.5
            + abs(v - 1)
            + max(v, 1 - v)
            + min(v, 2)
            + mpmath.pi
            + mpmath.e
        )
        lo, hi = mpmath.mpf(box._mpi_[0]), mpmath.mpf(box._mpi_[1])
        assert lo <= value <= hi
        assert hi - lo < mpmath.mpf(10) ** -30


# -- 2. kinks, whatever way the claim is written ---------------------------------------------
RELU_WRITTEN = {
    "symml relu": relu(z),
    "Max(0, z)": sp.Max(0, z),
    "Max(z, 0)": sp.Max(z, 0),
    "Piecewise": sp.Piecewise((z, z > 0), (0, True)),
}
STEP_WRITTEN = {
    "Heaviside": sp.Heaviside(z),
    "Piecewise": sp.Piecewise((1, z > 0), (0, True)),
    "Heaviside(z, 1)": sp.Heaviside(z, 1),
}


@pytest.mark.parametrize("step", list(STEP_WRITTEN), ids=str)
@pytest.mark.parametrize("function", list(RELU_WRITTEN), ids=str)
def test_relu_derivative_is_conditional_on_z_not_zero_however_written(function, step):
    verdict = check_derivative(RELU_WRITTEN[function], z, STEP_WRITTEN[step])
    assert verdict.status is Status.CONDITIONAL
    assert verdict.conditions == ("Ne(z, 0)",)
    assert verdict.counterexample.point == {"z": "0"}
    assert verdict.counterexample.lhs == "undefined (kink)"
    assert verdict.detail.startswith(
        "at z = 0 the derivative does not exist (one-sided 0 and 1.00000)"
    )


@pytest.mark.parametrize("function", list(RELU_WRITTEN), ids=str)
def test_a_wrong_relu_derivative_is_refuted_however_written(function):
    verdict = check_derivative(RELU_WRITTEN[function], z, 2 * sp.Heaviside(z))
    assert verdict.status is Status.REFUTED
    point = sp.Rational(verdict.counterexample.point["z"])
    assert point > 0  # where the slope is 1 and the claim 2
    assert float(verdict.counterexample.rhs) == 2.0


@pytest.mark.parametrize("function", list(RELU_WRITTEN), ids=str)
def test_a_stated_condition_still_gives_the_readme_verdict(function):
    verdict = check_derivative(
        RELU_WRITTEN[function], z, sp.Piecewise((1, z > 0), (0, True)), conditions=[sp.Ne(z, 0)]
    )
    assert verdict.status is Status.CONDITIONAL
    assert verdict.conditions == ("Ne(z, 0)",)
    assert verdict.method == (
        "symbolic: direct; fails without the condition: non-smooth point analysis"
    )
    assert verdict.detail.startswith(
        "fails without Ne(z, 0): at z = 0 the derivative does not exist"
    )


def test_the_kink_of_abs_of_a_transcendental_function_is_located():
    """d/dx |x⁷ + x³ + eˣ − 2| = sign(…)·(…) fails at the root of the inner function, which
    has no closed form: it is found numerically and the claim is conditional on it."""
    inner = x**7 + x**3 + sp.exp(x) - 2
    verdict = check_derivative(sp.Abs(inner), x, sp.sign(inner) * sp.diff(inner, x))
    assert verdict.status is Status.CONDITIONAL
    assert verdict.conditions == ("Ne(x**7 + x**3 + exp(x) - 2, 0)",)
    with mpmath.workdps(50):
        root = mpmath.mpf(verdict.counterexample.point["x"])
        assert abs(root**7 + root**3 + mpmath.exp(root) - 2) < mpmath.mpf(10) ** -25
    assert verdict.counterexample.lhs == "undefined (kink)"


def test_a_smooth_join_is_not_a_kink():
    verdict = check_derivative(z * sp.Abs(z), z, 2 * sp.Abs(z))
    assert verdict.status is Status.PROVED
    assert "differentiable at the join z = 0" in verdict.notes


def test_a_claimed_derivative_that_jumps_where_the_function_is_smooth_is_refuted():
    verdict = check_derivative(z**2, z, sp.Piecewise((2 * z, sp.Ne(z, 0)), (5, True)))
    assert verdict.status is Status.REFUTED
    assert verdict.detail == "at z = 0 the derivative is 0; claimed 5.00000000000"
    assert verdict.counterexample.point == {"z": "0"}


def test_a_derivative_inside_an_identity_is_checked_at_its_kinks():
    verdict = check_identity(sp.Derivative(relu(z), z), sp.Heaviside(z))
    assert verdict.status is Status.CONDITIONAL
    assert verdict.conditions == ("Ne(z, 0)",)


# -- 3. a difference the symbolic check decides is refuted ----------------------------------
@pytest.mark.parametrize(
    "constant, shown",
    [
        (sp.Rational(1, 10**25), "1/10000000000000000000000000"),
        (sp.Float(1e-25), "1.00000000000000e-25"),
        (sp.Rational(1, 10**50), "1/" + "1" + "0" * 50),
    ],
    ids=["rational 1e-25", "float 1e-25", "rational 1e-50"],
)
def test_a_nonzero_constant_difference_is_refuted_with_a_witness(constant, shown):
    verdict = check_identity(sp.exp(t) + constant, sp.exp(t))
    assert verdict.status is Status.REFUTED
    assert verdict.method == "symbolic: the sides differ by a nonzero constant"
    assert verdict.detail.startswith(f"lhs − rhs = {shown} everywhere; at t=")
    witness = verdict.counterexample
    point = sp.Rational(witness.point["t"])
    lhs, rhs = sp.Float(witness.lhs, 80), sp.Float(witness.rhs, 80)
    assert lhs != rhs  # printed to the digits where they differ
    assert abs((lhs - rhs) - constant) < abs(constant) / 10**3
    assert abs(rhs - sp.exp(point)) < abs(constant) / 10**3


def test_a_tiny_non_constant_difference_is_refuted_too():
    verdict = check_identity(sp.exp(t) + t / 10**25, sp.exp(t), timeout=1e-6)
    assert verdict.status is Status.REFUTED
    assert "interval arithmetic" in verdict.method


# -- 4. timeout= is a deadline of the whole call ---------------------------------------------
def test_check_identity_with_timeout_2_returns_within_a_few_seconds():
    """Before: the numeric phase (a hundred-thousand-term sum carried out, unbounded) ran
    for minutes with timeout=2."""
    k = sp.Symbol("k", integer=True, positive=True)
    start = time.perf_counter()
    verdict = check_identity(sp.Sum(x**k / k, (k, 1, 100_000)), -sp.log(1 - x), timeout=2)
    elapsed = time.perf_counter() - start
    assert elapsed < 2 + symml.runtime.guard.grace(2) + 5  # the deadline, its grace, a worker start
    assert verdict.status is Status.INCONCLUSIVE
    assert verdict.detail == (
        "check_identity was stopped after 4.5 s; raise timeout= to wait longer"
    )


def test_a_step_inside_a_deadline_gets_only_what_is_left():
    start = time.perf_counter()
    # what is left of the 0.5 s: 0.5 s or a few milliseconds less, never the step's 30 s
    with bounded.deadline(0.5), pytest.raises(SymbolicTimeout, match=r"within 0\.(5|4\d+) s"):
        bounded.run_bounded(time.sleep, 10, timeout=30, step="sleep")
    assert time.perf_counter() - start < 5


def test_inside_the_deadline_worker_each_step_is_stopped_by_its_share():
    """The whole call is in a worker (killed at timeout + grace); a step inside it is
    stopped at the symbolic budget already, so the call can still answer."""
    inner = functools.partial(bounded.run_bounded, time.sleep, 30, timeout=60, step="sleep")
    start = time.perf_counter()
    with pytest.raises(SymbolicTimeout, match="sleep did not finish within 0.5 s"):
        bounded.run_with_deadline(inner, timeout=0.5, grace=20, step="call")
    assert time.perf_counter() - start < 10  # not the 20.5 s of the whole call


def test_a_call_past_its_grace_is_stopped():
    start = time.perf_counter()
    with pytest.raises(SymbolicTimeout, match="call did not finish within 1.5 s"):
        bounded.run_with_deadline(time.sleep, 30, timeout=0.5, grace=1, step="call")
    assert time.perf_counter() - start < 10


# -- 5. the size guard ------------------------------------------------------------------------
HUGE = {
    "x**999999999": (
        x**999999999,
        "x**999999999 has an exponent past symml's limit of 10000; "
        "write it as exp(999999999*log(x)) or use a smaller power",
    ),
    "10**10**10**10": (
        sp.Pow(10, sp.Pow(10, sp.Pow(10, 10, evaluate=False), evaluate=False), evaluate=False),
        "10**10**(10**10) has more than 10^300 digits, past symml's limit of 100000; "
        "write it as a smaller number or keep the exponent symbolic",
    ),
    "2**(2**40)": (
        sp.Pow(2, 2**40, evaluate=False),
        "2**1099511627776 has about 10^11 digits, past symml's limit of 100000; "
        "write it as a smaller number or keep the exponent symbolic",
    ),
}


@pytest.mark.parametrize("case", list(HUGE))
def test_huge_powers_are_refused_by_check_identity_and_check_derivative(case):
    expr, message = HUGE[case]
    start = time.perf_counter()
    with_x = sp.Add(expr, x, evaluate=False)  # expr + x would make SymPy compute 2**(2**40)
    verdict = check_identity(with_x, x)
    assert verdict.status is Status.ERROR
    assert verdict.detail == f"check_identity: {message}"
    verdict = check_derivative(with_x, x, sp.S.One)
    assert verdict.detail == f"check_derivative: {message}"
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("case", list(HUGE))
def test_huge_powers_are_refused_by_grad(case):
    expr, message = HUGE[case]
    with pytest.raises(SizeError) as error:
        symml.grad(sp.Add(expr, x, evaluate=False), x)
    assert str(error.value) == f"grad: {message}"


def test_the_expression_reader_refuses_a_tower_before_computing_it():
    with pytest.raises(SizeError, match=r"^expression: 10\*\*10000000000 has about 10\^10 digits"):
        parse_expression("10**10**10**10")


def test_deep_nesting_is_refused():
    deep = x
    for _ in range(300):  # ((x + 1)·x + 1)·x …: 600 levels of sums and products
        deep = (deep + 1) * x
    verdict = check_identity(deep, deep)
    assert verdict.status is Status.ERROR
    assert verdict.detail == (
        "check_identity: the expression (a Mul at the top) is nested more than 400 operations "
        "deep; split it into named parts or simplify it before checking"
    )


def test_ordinary_powers_pass_the_guard():
    assert check_identity((x + 1) ** 3, x**3 + 3 * x**2 + 3 * x + 1).status is Status.PROVED
    assert check_derivative(x**1000, x, 1000 * x**999).status is Status.PROVED
