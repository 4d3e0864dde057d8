"""Stable rewrites: named, tested transformations applied to an expression before printing.

Modelled on ``sympy.codegen.rewriting``: each rewrite is a frozen dataclass with a name, a
one-line reason, and a ``query``/``value`` pair handed to ``expr.replace`` (bottom-up).
``RECOGNISE`` runs on the formula before differentiation (so that σ' comes out as σ(1 − σ)
rather than as a quotient of exponentials that overflows); ``STABLE`` runs on the lowered
array expression; ``weighted_rewrites`` adds the 0·log 0 guards, which need to know which
weights can be zero; ``CANCEL`` then puts cancelling rational sums over one denominator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sympy as sp

from symml.catalog.primitives import sigmoid, softplus
from symml.kernels.nodes import (
    AxisLogSumExp,
    AxisSoftmax,
    AxisSum,
    DSigmoid,
    Expm1,
    FMod,
    Log1p,
    LogSigmoid,
    LogSoftmax,
    LogSumExp,
    Quotient,
    ReduceMax,
    ReduceSum,
    Softmax,
    XDivY,
    XLog1pY,
    XLogY,
)


@dataclass(frozen=True)
class Rewrite:
    """One named rewrite: ``expr.replace(query, value)``."""

    name: str
    reason: str
    query: Callable[[Any], bool]
    value: Callable[[Any], Any]

    def __call__(self, expr: Any) -> Any:
        if not isinstance(expr, sp.Basic):
            return expr
        return expr.replace(self.query, self.value)


def apply_all(expr: Any, rewrites: Iterable[Rewrite], rounds: int = 3) -> Any:
    """Apply the rewrites in order, repeating until nothing changes (at most ``rounds``)."""
    rewrites = tuple(rewrites)
    for _ in range(rounds):
        before = expr
        for rewrite in rewrites:
            expr = rewrite(expr)
        if expr == before:
            break
    return expr


# -- helpers ---------------------------------------------------------------------------------


def _exp_arg(e: Any) -> Any:
    return e.args[0] if isinstance(e, sp.exp) else None


def _one_plus(e: Any) -> Any:
    """u when e = 1 + u, else None."""
    if isinstance(e, sp.Add) and sp.S.One in e.args:
        return e - 1
    return None


def _minus_one_plus(e: Any) -> Any:
    if isinstance(e, sp.Add) and sp.S.NegativeOne in e.args:
        return e + 1
    return None


def _is_exp_power_of_one_plus_exp(e: Any) -> bool:
    if not (isinstance(e, sp.Pow) and e.exp.is_Integer and e.exp < 0):
        return False
    u = _one_plus(e.base)
    return isinstance(u, sp.exp)


def _sigmoid_from_power(e: sp.Pow) -> Any:
    w = _one_plus(e.base).args[0]
    return sigmoid(-w) ** (-e.exp)


def _exp_with_sigmoid(e: Any) -> bool:
    if not isinstance(e, sp.Mul):
        return False
    exps = [f for f in e.args if isinstance(f, sp.exp)]
    sigs = {_sig_arg(f) for f in e.args if _sig_arg(f) is not None}
    return any(-x.args[0] in sigs for x in exps)


def _sig_arg(f: Any) -> Any:
    base = f.base if isinstance(f, sp.Pow) and f.exp.is_Integer and f.exp > 0 else f
    return base.args[0] if isinstance(base, sigmoid) else None


def _combine_exp_sigmoid(e: sp.Mul) -> Any:
    """exp(w)·σ(−w)^k = σ(w)·σ(−w)^(k−1): e^w/(1 + e^w) is σ(w)."""
    factors = list(e.args)
    for x in [f for f in factors if isinstance(f, sp.exp)]:
        w = x.args[0]
        for f in factors:
            if _sig_arg(f) == -w:
                k = f.exp if isinstance(f, sp.Pow) else 1
                factors.remove(x)
                factors.remove(f)
                return sp.Mul(*factors) * sigmoid(w) * sigmoid(-w) ** (k - 1)
    return e


def _tanh_quotient(e: Any) -> Any:
    """u when e = (exp(u) − exp(−u)) / (exp(u) + exp(−u)), else None."""
    if not isinstance(e, sp.Mul):
        return None
    for f in e.args:
        if isinstance(f, sp.Pow) and f.exp == -1 and isinstance(f.base, sp.Add):
            terms = f.base.args
            if len(terms) == 2 and all(isinstance(t, sp.exp) for t in terms):
                u = terms[0].args[0]
                if terms[1].args[0] == -u:
                    rest = e / f
                    if sp.expand(rest - (sp.exp(u) - sp.exp(-u))) == 0:
                        return u
                    if sp.expand(rest + (sp.exp(u) - sp.exp(-u))) == 0:
                        return -u
    return None


RECOGNISE: tuple[Rewrite, ...] = (
    Rewrite(
        "tanh_from_exp",
        "(eᵘ − e⁻ᵘ)/(eᵘ + e⁻ᵘ) overflows to inf/inf for |u| > 710; tanh(u) does not",
        lambda e: _tanh_quotient(e) is not None,
        lambda e: sp.tanh(_tanh_quotient(e)),
    ),
    Rewrite(
        "sigmoid_from_exp",
        "1/(1 + e⁻ᵘ)ᵏ is σ(u)ᵏ, whose derivative stays finite where e⁻ᵘ overflows",
        _is_exp_power_of_one_plus_exp,
        _sigmoid_from_power,
    ),
    Rewrite(
        "sigmoid_times_exp",
        "eʷ·σ(−w) is σ(w): the quotient eʷ/(1 + eʷ) is inf/inf for large w",
        _exp_with_sigmoid,
        _combine_exp_sigmoid,
    ),
    Rewrite(
        "softplus_from_log",
        "log(1 + eᵘ) overflows for u > 710; softplus(u) = logaddexp(0, u) does not",
        lambda e: isinstance(e, sp.log) and isinstance(_one_plus(e.args[0]), sp.exp),
        lambda e: softplus(_one_plus(e.args[0]).args[0]),
    ),
)


# -- stable forms of the lowered expression ---------------------------------------------------


def _has_one_minus_sigmoid(e: Any) -> bool:
    return (
        isinstance(e, sp.Add)
        and sp.S.One in e.args
        and any(isinstance(-t, sigmoid) for t in e.args)
    )


def _one_minus_sigmoid(e: sp.Add) -> Any:
    term = next(t for t in e.args if isinstance(-t, sigmoid))
    return e - 1 - term + sigmoid(-(-term).args[0])


def _softmax_candidates(e: sp.Mul) -> tuple[Any, int] | None:
    """(u, k) when e has a factor ReduceSum(exp(u))^(−k)."""
    for f in e.args:
        if isinstance(f, sp.Pow) and f.exp.is_Integer and f.exp < 0:
            if isinstance(f.base, ReduceSum) and isinstance(f.base.args[0], sp.exp):
                return f.base.args[0].args[0], int(-f.exp)
    return None


def _fold_softmax(e: sp.Mul) -> Any:
    """exp(u)/Σexp(u) → Softmax(u); Σ(c·exp(u))/Σexp(u) → Σ(c·Softmax(u)) (the denominator is
    constant along the axis, so it moves inside the sum)."""
    found = _softmax_candidates(e)
    if found is None:
        return e
    u, k = found
    denominator = ReduceSum(sp.exp(u))
    factors = [f for f in e.args if not (isinstance(f, sp.Pow) and f.base == denominator)]
    soft = Softmax(u)
    changed = True
    while k > 0 and changed:
        changed = False
        for n, f in enumerate(factors):
            if f == sp.exp(u):
                factors[n], k, changed = soft, k - 1, True
                break
            if isinstance(f, sp.Pow) and f.base == sp.exp(u) and f.exp.is_Integer and f.exp > 0:
                factors[n] = sp.exp(u) ** (f.exp - 1) * soft
                k, changed = k - 1, True
                break
            if isinstance(f, ReduceSum) and f.args[0].has(sp.exp(u)):
                inner = f.args[0].xreplace({sp.exp(u): soft})
                if not inner.has(sp.exp(u)):
                    factors[n], k, changed = ReduceSum(inner), k - 1, True
                    break
    return sp.Mul(*factors) * denominator ** (-k)


def _table_softmax(e: sp.Mul) -> Any:
    """exp(u)·AxisSum(exp(u), k)⁻¹ (one of each) as AxisSoftmax(u, k), or None."""
    for f in e.args:
        if not (isinstance(f, sp.Pow) and f.exp == -1 and isinstance(f.base, AxisSum)):
            continue
        total, position = f.base.args
        if isinstance(total, sp.exp) and total in e.args:
            rest = [g for g in e.args if g is not f and g != total]
            return sp.Mul(*rest) * AxisSoftmax(total.args[0], position)
    return None


def product_rewrites(nonnegative: Callable[[Any], bool]) -> tuple[Rewrite, ...]:
    """Π over an index as exp Σ log: a product becomes an axis reduction (there is no
    product one), and its logarithm, the usual next step (a likelihood), a plain sum.
    Only for factors that cannot be negative on the declared domains: log of a negative
    factor is nan, while a zero factor gives log 0 = −inf and exp(−inf) = 0, the product."""
    return (
        Rewrite(
            "product_as_log_sum",
            "an axis reduction for Π; exp Σ log p over a long sequence is then a "
            "log-sum-exp, where the product itself underflows",
            lambda e: isinstance(e, sp.Product) and nonnegative(e.function),
            lambda e: sp.exp(sp.Sum(sp.log(e.function), *e.limits)),
        ),
    )


def log_ratio_rewrites(nonnegative: Callable[[Any], bool]) -> tuple[Rewrite, ...]:
    """log(a/b) as log a − log b, for a and b that cannot be negative on the declared domains.
    The quotient overflows where b is subnormal (KL divergence with Q = 10⁻³⁹ in float32 is
    62.2, not inf) and is 0/0 where both are 0. A weight w·log(a/b) is distributed as
    w·log a − w·log b, so that the 0·log 0 guards see each term. The price: the two logs
    round apart, an absolute error of about |log a|·ε where log(a/b) had ε."""

    def quotient(e: Any) -> tuple[Any, Any] | None:
        if not isinstance(e, sp.log):
            return None
        a, b = sp.fraction(e.args[0])
        if b == 1 or not all(
            nonnegative(f) or (f.is_number and f.is_positive)
            for f in sp.Mul.make_args(a) + sp.Mul.make_args(b)
        ):
            return None
        return a, b

    def weighted(e: Any) -> bool:
        return isinstance(e, sp.Mul) and any(quotient(f) for f in e.args)

    def distribute(e: sp.Mul) -> Any:
        factor = next(f for f in e.args if quotient(f))
        a, b = quotient(factor)
        rest = e / factor
        return rest * sp.log(a) - rest * sp.log(b)

    def split(e: Any) -> Any:
        a, b = quotient(e)
        return sp.log(a) - sp.log(b)

    return (
        Rewrite(
            "weighted_log_ratio",
            "w·log(a/b) overflows where b is subnormal; w·log a − w·log b does not",
            weighted,
            distribute,
        ),
        Rewrite(
            "log_ratio",
            "log(a/b) overflows where b is subnormal; log a − log b does not",
            lambda e: quotient(e) is not None,
            split,
        ),
    )


def _sigmoid_pair(e: Any) -> Any:
    """u when the product e has factors σ(u) and σ(−u), else None."""
    if not isinstance(e, sp.Mul):
        return None
    args = [f.args[0] for f in e.args if isinstance(f, sigmoid)]
    for u in args:
        if -u in args and not u.could_extract_minus_sign():
            return u
    return None


def _dsigmoid(e: sp.Mul) -> Any:
    u = _sigmoid_pair(e)
    rest = [f for f in e.args if f not in (sigmoid(u), sigmoid(-u))]
    return sp.Mul(*rest) * DSigmoid(u)


def _one_minus_tanh_squared(e: Any) -> tuple[Any, Any] | None:
    """(c, u) when the sum e has the terms c and −c·tanh(u)² (SymPy distributes c over
    c·(1 − tanh²u)), else None."""
    if not isinstance(e, sp.Add):
        return None
    constant = e.as_coeff_Add()[0]
    if constant == 0:
        return None
    for t in e.args:
        c, square = t.as_coeff_Mul()
        if (
            c == -constant
            and isinstance(square, sp.Pow)
            and square.exp == 2
            and isinstance(square.base, sp.tanh)
        ):
            return constant, square.base.args[0]
    return None


def _sech_squared(e: sp.Add) -> Any:
    c, u = _one_minus_tanh_squared(e)
    return e - c + c * sp.tanh(u) ** 2 + 4 * c * DSigmoid(2 * u)


#: Past this size a rational sum is left as it is: sp.factor's time grows fast with it, and
#: the catalog's cancelling quotients (F1's gradient) are far smaller.
RATIONAL_OPS_LIMIT = 30


def _cancels(e: Any) -> bool:
    """A sum of rational terms in symbols, one of them subtracted, small enough to factor."""
    return (
        isinstance(e, sp.Add)
        and bool(e.free_symbols)
        and any(t.could_extract_minus_sign() for t in e.args)
        and any(isinstance(t, sp.Mul | sp.Pow) for t in e.args)
        and sp.count_ops(e) <= RATIONAL_OPS_LIMIT
        and e.is_rational_function(*e.free_symbols)
    )


def _factored(e: sp.Add) -> Any:
    combined = sp.factor(sp.cancel(sp.together(e)))
    return combined if sp.count_ops(combined) < sp.count_ops(e) else e


STABLE: tuple[Rewrite, ...] = (
    Rewrite(
        "one_minus_sigmoid",
        "1 − σ(u) cancels to 0 for u > 37 (float64); σ(−u) keeps every digit",
        _has_one_minus_sigmoid,
        _one_minus_sigmoid,
    ),
    Rewrite(
        "dsigmoid",
        "σ(u)σ(−u) as e/(1 + e)², e = e^−|u|: one exp instead of two, exact in both tails",
        lambda e: _sigmoid_pair(e) is not None,
        _dsigmoid,
    ),
    Rewrite(
        "log_sigmoid",
        "log σ(u) is log 0 = −inf for u < −745; log_expit(u) = −softplus(−u) is exact",
        lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sigmoid),
        lambda e: LogSigmoid(e.args[0].args[0]),
    ),
    Rewrite(
        "logsumexp",
        "log Σ exp(u) overflows for u > 710; with the maximum subtracted it cannot",
        lambda e: (
            isinstance(e, sp.log)
            and isinstance(e.args[0], ReduceSum)
            and isinstance(e.args[0].args[0], sp.exp)
        ),
        lambda e: LogSumExp(e.args[0].args[0].args[0]),
    ),
    Rewrite(
        "table_logsumexp",
        "log Σⱼ exp(u) over a table axis overflows, or is log 0, where u is far from 0 "
        "(CTC's Σ log p over a long sequence); with the maximum subtracted it is exact",
        lambda e: (
            isinstance(e, sp.log)
            and isinstance(e.args[0], AxisSum)
            and isinstance(e.args[0].args[0], sp.exp)
        ),
        lambda e: AxisLogSumExp(e.args[0].args[0].args[0], e.args[0].args[1]),
    ),
    Rewrite(
        "table_softmax",
        "exp(u)/Σⱼ exp(u) over a table axis is 0/0 where every exp underflows; with the "
        "maximum subtracted it is exact",
        lambda e: isinstance(e, sp.Mul) and _table_softmax(e) is not None,
        lambda e: _table_softmax(e),
    ),
    Rewrite(
        "softmax",
        "exp(u)/Σ exp(u) is inf/inf for u > 710; with the maximum subtracted it is exact",
        lambda e: isinstance(e, sp.Mul) and _softmax_candidates(e) is not None,
        _fold_softmax,
    ),
    Rewrite(
        "log_softmax",
        "log softmax(u) = u − logsumexp(u) never takes log 0",
        lambda e: isinstance(e, sp.log) and isinstance(e.args[0], Softmax),
        lambda e: LogSoftmax(e.args[0].args[0]),
    ),
    Rewrite(
        "log1p",
        "log(1 + u) loses every digit of u below 1e-16; log1p(u) keeps them",
        lambda e: isinstance(e, sp.log) and _one_plus(e.args[0]) is not None,
        lambda e: Log1p(_one_plus(e.args[0])),
    ),
    Rewrite(
        "expm1",
        "exp(u) − 1 cancels for small u; expm1(u) does not",
        lambda e: (
            isinstance(e, sp.Add)
            and isinstance(_minus_one_plus(e), sp.Add | sp.exp)
            and any(isinstance(t, sp.exp) for t in e.args)
        ),
        lambda e: _expm1(e),
    ),
    Rewrite(
        "sech_squared",
        "1 − tanh(u)², tanh's derivative, is 0 for |u| > 19 (float64) where sech²(u) is not; "
        "4σ(2u)σ(−2u) is sech²(u) with every digit in both tails",
        lambda e: _one_minus_tanh_squared(e) is not None,
        _sech_squared,
    ),
)


def _expm1(e: sp.Add) -> Any:
    term = next(t for t in e.args if isinstance(t, sp.exp))
    return e + 1 - term + Expm1(term.args[0])


#: After the 0·log 0 guards: a guarded term (BCE′'s −y/ŷ as xdivy) is not a rational
#: function, so its pole stays apart from the others, where the guard can still catch it.
CANCEL: tuple[Rewrite, ...] = (
    Rewrite(
        "rational_cancel",
        "a quotient's derivative, as SymPy writes it, subtracts nearly equal terms "
        "(F1's ∂/∂P = 2R/(P + R) − 2PR/(P + R)² loses 5 digits in float32 at R = 10⁻⁴ P); "
        "over one denominator and factored, 2R²/(P + R)², nothing cancels. Taken only when "
        "it has fewer operations",
        _cancels,
        _factored,
    ),
)


# -- 0·log 0 ----------------------------------------------------------------------------------


def weighted_rewrites(vanishing: Callable[[Any], bool]) -> tuple[Rewrite, ...]:
    """xlogy-style guards for terms w·log(x), w·log1p(x), w/x whose weight w can be 0.

    ``vanishing(w)`` says whether w can be exactly 0 in the declared domains (a label y ∈ {0, 1},
    a probability in [0, 1]); at such a point the term is 0 even where log(x) or 1/x is not
    finite, which is the limit the formula means (0·log 0 = 0).
    """

    def split(e: Any, kind: Callable[[Any], bool]) -> tuple[Any, Any, Any] | None:
        if not isinstance(e, sp.Mul):
            return None
        singular = [f for f in e.args if kind(f)]
        if len(singular) != 1:
            return None
        coefficient = sp.Mul(*[f for f in e.args if f.is_number])
        weight = sp.Mul(*[f for f in e.args if not f.is_number and f is not singular[0]])
        if weight == 1 or weight.has(sp.log, Log1p) or not vanishing(weight):
            return None
        inner = singular[0].base if isinstance(singular[0], sp.Pow) else singular[0].args[0]
        at_pole = inner + 1 if isinstance(singular[0], Log1p) else inner
        if not vanishing(at_pole):
            return None
        return coefficient, weight, singular[0]

    def is_log(f: Any) -> bool:
        return isinstance(f, sp.log)

    def is_log1p(f: Any) -> bool:
        return isinstance(f, Log1p)

    def is_inverse(f: Any) -> bool:
        return isinstance(f, sp.Pow) and f.exp == -1

    def build(kind: Callable[[Any], bool], node: type) -> Callable[[Any], Any]:
        def value(e: Any) -> Any:
            c, w, s = split(e, kind)
            inner = s.base if isinstance(s, sp.Pow) else s.args[0]
            return c * node(w, inner)

        return value

    return (
        Rewrite(
            "xlogy",
            "w·log(x) is 0·(−inf) = nan where w = x = 0; its limit, 0, is what the formula means",
            lambda e: split(e, is_log) is not None,
            build(is_log, XLogY),
        ),
        Rewrite(
            "xlog1py",
            "w·log1p(x) is 0·(−inf) = nan where w = 0, x = −1; the term is 0 there",
            lambda e: split(e, is_log1p) is not None,
            build(is_log1p, XLog1pY),
        ),
        Rewrite(
            "xdivy",
            "w/x is 0/0 = nan where w = x = 0 (a cross-entropy gradient at a matching label)",
            lambda e: split(e, is_inverse) is not None,
            build(is_inverse, XDivY),
        ),
    )


# -- poles and periods --------------------------------------------------------------------------


def pole_rewrites(near_zero: Callable[[Any], bool]) -> tuple[Rewrite, ...]:
    """w·x⁻ⁿ as (w/x)/x… for an argument x that can come near 0 (``near_zero(x)``).

    SymPy writes w/T² as w·T⁻², and the common subexpressions hoist 1/T²: at a subnormal T
    that is inf, and a w that is 0 there (softmax(z/T)'s derivative by T where the softmax is
    one-hot) gives inf·0 = nan. Divided step by step, 0/T/T is 0 and a tiny w stays finite.
    """

    def pole(f: Any) -> bool:
        return (
            isinstance(f, sp.Pow)
            and isinstance(f.base, sp.Symbol)
            and f.exp.is_Integer
            and f.exp <= -2
            and near_zero(f.base)
        )

    def splits(e: Any) -> bool:
        return (
            isinstance(e, sp.Mul)
            and sum(1 for f in e.args if pole(f)) == 1
            and any(not f.is_number and not pole(f) for f in e.args)
        )

    def divided(e: sp.Mul) -> Any:
        singular = next(f for f in e.args if pole(f))
        coefficient = sp.Mul(*[f for f in e.args if f.is_number])
        value = sp.Mul(*[f for f in e.args if not f.is_number and f is not singular])
        for _ in range(int(-singular.exp)):
            value = Quotient(value, singular.base)
        return coefficient * value

    def shared_pole(e: Any) -> Any:
        """The pole every term of a sum has, or None."""
        if not isinstance(e, sp.Add):
            return None
        poles = [{f for f in sp.Mul.make_args(t) if pole(f)} for t in e.args]
        common = set.intersection(*poles)
        return next(iter(sorted(common, key=str)), None)

    def sum_divided(e: sp.Add) -> Any:
        singular = shared_pole(e)
        value = sp.Add(*[t / singular for t in e.args])
        for _ in range(int(-singular.exp)):
            value = Quotient(value, singular.base)
        return value

    return (
        Rewrite(
            "divide_sum_by_pole",
            "a/T² − b/T² divides a − b once: at a tiny T, a/T² and b/T² are both inf where "
            "a − b is 0 (softmax(z/T)'s derivative at its winner), and inf − inf is nan",
            lambda e: shared_pole(e) is not None,
            sum_divided,
        ),
        Rewrite(
            "divide_by_pole",
            "w·T⁻² hoists 1/T², inf at a subnormal T, so a vanishing w gives inf·0 = nan; "
            "(w/T)/T is 0 there, and finite wherever the true value is",
            splits,
            divided,
        ),
    )


def _ratio(u: Any) -> tuple[Any, Any, type] | None:
    """(a, b, how) when u is a/b with b an argument: ``how`` is XDivY for a guarded
    quotient, Quotient for a·b⁻¹."""
    if isinstance(u, XDivY | Quotient) and isinstance(u.args[1], sp.Symbol):
        return u.args[0], u.args[1], type(u)
    if isinstance(u, sp.Mul):
        inverse = [f for f in u.args if isinstance(f, sp.Pow) and f.exp == -1]
        if len(inverse) == 1 and isinstance(inverse[0].base, sp.Symbol):
            rest = sp.Mul(*[f for f in u.args if f is not inverse[0]])
            if rest != 1:
                return rest, inverse[0].base, Quotient
    return None


def _integer_pi_ratio(e: Any) -> tuple[Any, Any, Any, type] | None:
    """(k·π, a, b, how) for cos or sin of k·π·a/b with an integer k ≠ 0 and a not yet
    reduced, else None."""
    if not isinstance(e, sp.cos | sp.sin) or not isinstance(e.args[0], sp.Mul):
        return None
    factors = e.args[0].args
    number = sp.Mul(*[f for f in factors if f.is_number])
    k = number / sp.pi
    if not (k.is_Integer and k != 0):
        return None
    found = _ratio(sp.Mul(*[f for f in factors if not f.is_number]))
    if found is None or isinstance(found[0], FMod):
        return None
    return (number, *found)


def _reduced_period(e: Any) -> Any:
    number, a, b, how = _integer_pi_ratio(e)
    return type(e)(number * how(FMod(a, 2 * b), b))


def scaled_softmax_rewrites(positive: Callable[[Any], bool]) -> tuple[Rewrite, ...]:
    """softmax(z/T) as softmax((z − c)/T), c the z where z/T is largest.

    At a tiny T, z/T overflows to ±inf and softmax(±inf, …) is nan, although the true value
    is one-hot. Shifted first, (z − c)/T is 0 at the winner and ≤ 0 (down to −inf) elsewhere:
    every exp is exact. ``positive(T)`` says the winner is max z; otherwise T's sign picks.
    """

    def scaled(e: Any) -> bool:
        if not isinstance(e, Softmax):
            return False
        found = _ratio(e.args[0])
        return found is not None and not found[0].has(ReduceMax)

    def shifted(e: Softmax) -> Any:
        z, t, _ = _ratio(e.args[0])
        top = ReduceMax(z)
        if not positive(t):
            top = sp.Piecewise((top, t > 0), (-ReduceMax(-z), True))
        return Softmax(Quotient(z - top, t))

    return (
        Rewrite(
            "shift_before_scaling",
            "softmax(z/T) is softmax(±inf, …) = nan when z/T overflows (a tiny T); "
            "(z − max z)/T is ≤ 0 and 0 at the winner, so its exps are exact",
            scaled,
            shifted,
        ),
    )


#: cos(kπ·t/T) with t/T past the float range (a subnormal T) is cos(inf) = nan, although
#: t and T are exact and so is the true value. t − 2T·⌊t/2T⌋ is exact in floating point
#: (C's fmod), and cos(kπ·fmod(t, 2T)/T) is the same number for every integer k.
PERIODIC: tuple[Rewrite, ...] = (
    Rewrite(
        "reduce_period",
        "cos(π t/T) is cos(inf) = nan when t/T overflows (a subnormal T); fmod(t, 2T) is exact, "
        "so cos(π fmod(t, 2T)/T) has every digit the arguments define",
        lambda e: _integer_pi_ratio(e) is not None,
        _reduced_period,
    ),
)


def fold_constants(expr: Any) -> Any:
    """Irrational constants (√2, π, log 2) become one float, computed once at build time."""
    if not isinstance(expr, sp.Basic):
        return expr

    def foldable(e: Any) -> bool:
        return (
            isinstance(e, sp.Expr)
            and e.is_number
            and not e.is_Rational
            and not isinstance(e, sp.Float)
            and e.is_real is not False
        )

    # Rounded once from 30 digits to the nearest double: the literal the printer writes.
    return expr.replace(foldable, lambda e: sp.Float(float(sp.N(e, 30))))


# -- kinks -----------------------------------------------------------------------------------

#: Differences with more operations than this are compared as they are, not factored first
#: (factoring is SymPy work that grows with the expression; a kink is usually z vs α·z).
KINK_FACTOR_LIMIT = 40


def kink_sign(a: Any, b: Any) -> tuple[Any, Any]:
    """``(s, 0)`` with ``s`` of the sign of ``a − b``, computed so that it cannot round to
    zero: the difference factored, each factor's sign taken on its own (``np.sign`` is
    exact) and multiplied. ``z − α·z`` as a float is 0 wherever α·z rounds to z (α = 1, a
    subnormal z); ``sign(z)·sign(1 − α)`` compares z with the kink at 0 and 1 with α, and a
    float subtraction of two different numbers is never 0 (gradual underflow)."""
    difference = a - b
    if sp.count_ops(difference) > KINK_FACTOR_LIMIT:
        return difference, sp.S.Zero
    coeff, factors = sp.factor(difference).as_coeff_mul()
    if len(factors) <= 1:  # nothing to split: the difference itself, compared with 0
        return difference, sp.S.Zero
    signs = [sp.sign(coeff)]
    for f in factors:
        base, exp = f.as_base_exp()
        if exp.is_Integer and exp.is_even:
            signs.append(sp.sign(base) ** 2)  # 0 at the kink, 1 elsewhere
        elif exp.is_Integer:
            signs.append(sp.sign(base))
        else:
            signs.append(sp.sign(f))
    return sp.Mul(*signs), sp.S.Zero


def _kink_pieces(e: Any) -> Any:
    """max(a₁, …, aₙ) as aᵢ where aᵢ is strictly above every later argument, the last one
    otherwise (min: strictly below). Differentiated, each piece keeps its own derivative and
    the conditions stay complementary, so a tie (α = 1 in max(z, α·z), where both pieces
    have slope 1) takes one piece's slope, never none: SymPy's α·H(α·z − z) + H(z − α·z)
    was 0 there, and at every subnormal z."""
    args = list(e.args)
    above = sp.StrictGreaterThan if isinstance(e, sp.Max) else sp.StrictLessThan
    pieces = []
    for n, a in enumerate(args[:-1]):
        conditions = []
        for b in args[n + 1 :]:
            s, zero = kink_sign(a, b)
            conditions.append(above(s, zero))
        pieces.append((a, sp.And(*conditions)))
    pieces.append((args[-1], sp.true))
    return sp.Piecewise(*pieces)


#: Rewrites before differentiation: SymPy's derivative of max/min is a Heaviside of the
#: difference of the arguments, which rounds to 0 where they are close.
KINKS: tuple[Rewrite, ...] = (
    Rewrite(
        "kink_pieces",
        "d max(z, α·z) as α·H(α·z − z) + H(z − α·z) is 0 where α·z rounds to z (α = 1, "
        "subnormal z); max as complementary pieces on the exact sign of the difference",
        lambda e: isinstance(e, sp.Max | sp.Min) and not any(a == 0 for a in e.args),
        _kink_pieces,
    ),
)
