"""Part 10 of the sheet: entropy, KL divergence, cross-entropy, mutual information."""

import sympy as sp

from symml.catalog.declare import Part
from symml.catalog.domains import nonnegative, real, unit_open
from symml.catalog.model import (
    Convention,
    Domain,
    Identity,
    Matches,
    Notation,
    Property,
    Reading,
    Status,
)

P = Part(10, "Probability & information theory")

P.section("info")  # distributions over a finite set of outcomes, natural log
k = P.size("k", meaning="number of outcomes of X")
l = P.size("l", meaning="number of outcomes of Y (mutual information)")
x = P.index("x", meaning="outcome of X")
Pd = P.indexed("P", k, domain=unit_open, meaning="distribution P(x) over k outcomes")
Qd = P.indexed("Q", k, domain=unit_open, meaning="distribution Q(x) over the same k outcomes")
H_P = P.scalar("H_P", nonnegative, meaning="entropy H(X) = H(P) of X ~ P")
D_KL = P.scalar("D_KL", real, meaning="KL divergence D_KL(P||Q) (≥ 0 once P and Q each sum to 1)")
H_PQ = P.scalar("H_PQ", nonnegative, meaning="cross-entropy H(P,Q)")

i = P.index("i", meaning="outcome of X in the joint distribution")
j = P.index("j", meaning="outcome of Y in the joint distribution")
u = P.index("u", meaning="summation index of the marginal p_Y")
v = P.index("v", meaning="summation index of the marginal p_X")
p = P.indexed("p", k, l, domain=unit_open, meaning="joint distribution p(i, j) of (X, Y)")
I_XY = P.scalar("I_XY", real, meaning="mutual information I(X;Y)")

_entropy = -sp.Sum(Pd[x] * sp.log(Pd[x]), (x, 1, k))
_kl = sp.Sum(Pd[x] * sp.log(Pd[x] / Qd[x]), (x, 1, k))
_cross = -sp.Sum(Pd[x] * sp.log(Qd[x]), (x, 1, k))

P.formula(
    "info.entropy",
    "Entropy",
    sheet="H(X) = -Σ P(x)·log P(x)",
    expr=_entropy,
    lhs=H_P,
    notes=("log is read as the natural log (nats) throughout this part.",),
    claims=[
        Notation(
            sheet="H(X) = -Σ P(x)·log P(x)",
            expected=Status.AMBIGUOUS,
            note="The log base is unstated; nats and bits differ by the factor ln 2.",
            readings=(
                Reading("natural log (nats; what PyTorch and JAX use)", _entropy, None),
                Reading(
                    "log base 2 (bits; information theory)",
                    -sp.Sum(Pd[x] * sp.log(Pd[x], 2), (x, 1, k)),
                    None,
                ),
            ),
        ),
        Property(
            sheet="Entropy (uncertainty)",
            predicate="range",
            params=(("interval", Domain("nonnegative", 0, sp.oo, lo_open=False)),),
            expected=Status.NUMERIC,
            note="Expected numeric (no symbolic prover for the sign of a sum of symbolic "
            "length). An uncertainty is never negative: every term -P(x)·log P(x) is ≥ 0 for "
            "0 < P(x) < 1 (and H = 0 only for a certain outcome).",
        ),
    ],
)
P.formula(
    "info.kl_divergence",
    "KL divergence",
    sheet="D_KL(P||Q) = Σ P(x)·log(P(x)/Q(x))",
    expr=_kl,
    lhs=D_KL,
    notes=(
        "P and Q are read as distributions (each sums to 1 over the k outcomes); the "
        "declared domains only give 0 < P(x), Q(x) < 1.",
    ),
    conventions=(
        Convention(
            "PyTorch",
            "torch.nn.functional.kl_div(input, target) takes log Q "
            "as input and computes D_KL(target || Q): the argument order is "
            "reversed from the notation D_KL(P||Q) (and reduction='mean' averages "
            "over elements; 'batchmean' gives the true KL).",
        ),
    ),
)
P.formula(
    "info.cross_entropy",
    "Cross-entropy",
    sheet="H(P,Q) = -Σ P(x)·log Q(x)",
    expr=_cross,
    lhs=H_PQ,
    claims=[
        Identity(
            sheet="= H(P) + D_KL(P||Q)",
            lhs=_cross,
            rhs=_entropy + _kl,
            note="Holds for P, Q > 0 (the unit_open domains).",
        ),
    ],
)

_pX = sp.Sum(p[i, v], (v, 1, l))  # p_X(i)
_pY = sp.Sum(p[u, j], (u, 1, k))  # p_Y(j)
_mi_entropies = (
    -sp.Sum(_pX * sp.log(_pX), (i, 1, k))
    - sp.Sum(_pY * sp.log(_pY), (j, 1, l))
    + sp.Sum(p[i, j] * sp.log(p[i, j]), (i, 1, k), (j, 1, l))
)
_mi_definition = sp.Sum(p[i, j] * sp.log(p[i, j] / (_pX * _pY)), (i, 1, k), (j, 1, l))
P.formula(
    "info.mutual_information",
    "Mutual information",
    sheet="I(X;Y) = H(X) + H(Y) - H(X,Y)",
    expr=_mi_entropies,
    lhs=I_XY,
    notes=(
        "H(X) here takes a random variable, while H(P) above takes a distribution; the "
        "marginals are p_X(i) = Σⱼ p(i, j) and p_Y(j) = Σᵢ p(i, j).",
    ),
    claims=[
        Identity(
            sheet="I(X;Y) = H(X) + H(Y) - H(X,Y)",
            lhs=_mi_entropies,
            rhs=_mi_definition,
            note="Against the definition Σᵢⱼ p(i,j)·log(p(i,j)/(p_X(i)·p_Y(j))).",
        ),
    ],
)

P.also(
    "info.kl_divergence",
    Matches(
        sheet="D_KL(P||Q) = Σ P(x)·log(P(x)/Q(x))",
        framework="optax",
        reference="optax.kl_divergence",
        inputs=(("log_predictions", sp.log(Qd[x])), ("targets", Pd[x])),
        over=(x, k),
        sizes=((k, 4),),
        note="optax.kl_divergence(log Q, P) is Σ P·(log P - log Q): the sheet's order.",
    ),
)
P.also(
    "info.entropy",
    Matches(
        sheet="H(X) = -Σ P(x)·log P(x)",
        framework="jax",
        reference="sum of jax.scipy.special.entr",
        inputs=(("x", Pd[x]),),
        over=(x, k),
        sizes=((k, 4),),
    ),
)
P.also(
    "info.kl_divergence",
    Matches(
        sheet="D_KL(P||Q) = Σ P(x)·log(P(x)/Q(x))",
        framework="torch",
        reference="torch.nn.functional.kl_div (reduction='sum')",
        inputs=(("input", sp.log(Qd[x])), ("target", Pd[x])),
        over=(x, k),
        sizes=((k, 4),),
        note="kl_div(log Q, P) is Σ P·(log P - log Q): torch takes the log of the second "
        "distribution first, the reverse of the sheet's reading order.",
    ),
)
P.also(
    "info.entropy",
    Matches(
        sheet="H(X) = -Σ P(x)·log P(x)",
        framework="torch",
        reference="sum of torch.special.entr",
        inputs=(("input", Pd[x]),),
        over=(x, k),
        sizes=((k, 4),),
    ),
)
_SOFTMAX_CE = dict(
    over=(x, k),
    sizes=((k, 4),),
    expected=Status.DIFFERS,
    agrees_when="Σₓ Q(x) = 1 (Q a distribution, as the sheet means it)",
)
P.also(
    "info.cross_entropy",
    Matches(
        sheet="H(P,Q) = -Σ P(x)·log Q(x)",
        framework="optax",
        reference="optax.softmax_cross_entropy",
        inputs=(("logits", sp.log(Qd[x])), ("labels", Pd[x])),
        badge="softmax of the logits",
        difference="optax takes logits and normalises them with a softmax, so log Q(x) is "
        "replaced by log(Q(x)/Σ Q)",
        **_SOFTMAX_CE,
    ),
    Matches(
        sheet="H(P,Q) = -Σ P(x)·log Q(x)",
        framework="torch",
        reference="torch.nn.functional.cross_entropy (probability targets)",
        inputs=(("input", sp.log(Qd[x])), ("target", Pd[x])),
        badge="softmax of the logits",
        difference="torch takes logits and normalises them with a log-softmax, so log Q(x) is "
        "replaced by log(Q(x)/Σ Q)",
        **_SOFTMAX_CE,
    ),
)
