"""Part 5 of the sheet: weight penalties, dropout, batch and layer normalization."""

import sympy as sp
from sympy.stats import Bernoulli

from symml.catalog.declare import Part
from symml.catalog.domains import binary, interval, nonnegative, positive, real
from symml.catalog.model import Convention, Derivative, Matches, Property, Status

P = Part(5, "Regularization")

P.section("regularization")
n = P.size("n", meaning="number of weights")
i = P.index("i", meaning="the weight the derivative is taken for")
j = P.index("j", meaning="summation index over the weights")
W = P.indexed("W", n, meaning="the weights W_1 … W_n")
L = P.function(
    "L",
    meaning="the unregularised loss, written as a function of the weight W_i "
    "(the other weights held fixed)",
)
L_total = P.scalar("L_total", real, meaning="regularised loss")
lam = P.scalar("lambda", positive, meaning="regularisation strength λ")
a = P.scalar("a", real, meaning="activation aᵢ of one unit")
p = P.scalar(
    "p",
    interval(0, 1, hi_open=False),
    typical=sp.Rational(1, 2),
    meaning="keep probability",
    sheet="- p ≈ 0.5 (keep probability)",
)
B = P.random(
    "B", Bernoulli, p, domain=binary, meaning="keep mask of the unit: 1 with probability p"
)

_PER_COORDINATE = (
    "L is an unknown function of all the weights; SymPy cannot apply an undefined function to a "
    "family of symbolic length, so it is written L(W_i), the loss as a function of the one "
    "weight being differentiated with the others held fixed. The penalty keeps the full sum.",
)
P.formula(
    "regularization.l2",
    "L2 regularization (ridge)",
    sheet="L_total = L + (λ/2)·Σ W²",
    expr=L(W[i]) + lam / 2 * sp.Sum(W[j] ** 2, (j, 1, n)),
    lhs=L_total,
    notes=_PER_COORDINATE,
    claims=[
        Derivative(
            sheet="∂L_total/∂W = ∂L/∂W + λ·W",
            wrt=W[i],
            claimed=sp.Derivative(L(W[i]), W[i]) + lam * W[i],
            note="Elementwise: ∂L_total/∂W_i = ∂L/∂W_i + λ·W_i.",
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "the optimizers' weight_decay=λ adds λ·W to the gradient, "
            "which is this penalty (for Adam it is coupled L2, unlike AdamW's "
            "decoupled decay).",
        ),
    ),
)
P.formula(
    "regularization.l1",
    "L1 regularization (lasso)",
    sheet="L_total = L + λ·Σ|W|",
    expr=L(W[i]) + lam * sp.Sum(sp.Abs(W[j]), (j, 1, n)),
    lhs=L_total,
    notes=(
        *_PER_COORDINATE,
        "Not differentiable at W_i = 0; the usual subgradient of the penalty is λ·sign(W_i).",
    ),
)
P.formula(
    "regularization.dropout_train",
    "Dropout (training, inverted)",
    sheet="Training: aᵢ = aᵢ · Bernoulli(p) / p",
    expr=a * B / p,
    lhs=a,
    notes=(
        "The sheet overwrites aᵢ; the mask is drawn independently for every unit and every "
        "forward pass.",
    ),
    claims=[
        Property(
            sheet="Testing: a (no change)",
            predicate="expectation",
            params=(("value", a),),
            note="Dividing by p keeps the expected activation equal to a, which is why the "
            "test-time activation needs no rescaling (inverted dropout).",
        ),
        Property(
            sheet="- p ≈ 0.5 (keep probability)",
            predicate="expectation",
            subject=B,
            params=(("value", p),),
            note="p is the probability that the mask keeps the unit: E[Bernoulli(p)] = "
            "P(B = 1) = p (PyTorch's p is the drop probability; see the matches claim).",
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "nn.Dropout(p) takes the DROP probability: p_torch = 1 - p; "
            "it also scales kept units by 1/(1 - p_torch) in training.",
        ),
    ),
)
P.formula(
    "regularization.dropout_test",
    "Dropout (testing)",
    sheet="Testing: a (no change)",
    expr=a,
    lhs=a,
    conventions=(Convention("PyTorch", "nn.Dropout is the identity in eval() mode."),),
)

P.also(
    "regularization.dropout_train",
    Matches(
        sheet="Training: aᵢ = aᵢ · Bernoulli(p) / p",
        framework="torch",
        reference="torch.nn.functional.dropout (a kept unit)",
        subject=a / p,
        inputs=(("input", a), ("p", p)),
        expected=Status.DIFFERS,
        badge="p keeps or drops",
        difference="torch's p is the drop probability: a kept unit becomes a/(1 - p), "
        "and a fraction p of the units is dropped, not kept",
        agrees_when="torch's p = 1 - (the sheet's p); the two coincide only at p = 1/2",
        note="Compared on a unit the mask keeps (Bernoulli(p) = 1): the sheet gives a/p.",
    ),
)

# Here m is the batch size (in part 4 it is Adam's first moment) and σ² is a variance (in
# part 1 σ is the sigmoid).
P.section("batchnorm")
m = P.size("m", meaning="batch size (number of samples normalised together)")
i = P.index("i", meaning="sample in the batch")
x = P.indexed("x", m, meaning="one feature's values x_1 … x_m over the batch")
mu = P.scalar("mu", real, meaning="batch mean μ")
sigma_sq = P.scalar("sigma_sq", nonnegative, meaning="batch variance σ² (not the sigmoid)")
epsilon = P.scalar("epsilon", positive, meaning="small constant for numerical stability")
xhat = P.indexed("xhat", m, meaning="normalised values x̂ᵢ")
y = P.indexed("y", m, meaning="outputs yᵢ of the batch-norm layer")
gamma = P.scalar("gamma", real, meaning="learnable scale γ")
beta = P.scalar("beta", real, meaning="learnable shift β")

_BN_TORCH = Convention(
    "PyTorch",
    "nn.BatchNorm1d/2d normalise with this biased variance in "
    "training, but the running variance used at eval time is updated with the "
    "unbiased (1/(m-1)) estimate; default ε = 1e-5.",
)
P.formula(
    "batchnorm.mean",
    "Batch norm: mean",
    sheet="μ = (1/m)Σᵢ xᵢ",
    expr=sp.Sum(x[i], (i, 1, m)) / m,
    lhs=mu,
    notes=("Computed per feature over the m samples of the batch.",),
)
P.formula(
    "batchnorm.variance",
    "Batch norm: variance",
    sheet="σ² = (1/m)Σᵢ (xᵢ - μ)²",
    expr=sp.Sum((x[i] - mu) ** 2, (i, 1, m)) / m,
    lhs=sigma_sq,
    notes=("The biased (1/m) variance.",),
    conventions=(_BN_TORCH,),
)
P.formula(
    "batchnorm.normalize",
    "Batch norm: normalise",
    sheet="x̂ᵢ = (xᵢ - μ)/√(σ² + ε)",
    expr=(x[i] - mu) / sp.sqrt(sigma_sq + epsilon),
    lhs=xhat[i],
)
P.formula(
    "batchnorm.affine",
    "Batch norm: scale and shift",
    sheet="yᵢ = γ·x̂ᵢ + β",
    expr=gamma * xhat[i] + beta,
    lhs=y[i],
    sheet_notes=("- γ, β = learnable parameters",),
    conventions=(
        Convention(
            "PyTorch", "affine=True (default) learns γ (init 1) and β (init 0) per feature."
        ),
    ),
)

l = P.index("l", meaning="summation index of the batch statistics")
_batch_mean = sp.Sum(x[l], (l, 1, m)) / m
_batch_normalized = (x[i] - _batch_mean) / sp.sqrt(
    sp.Sum((x[l] - _batch_mean) ** 2, (l, 1, m)) / m + epsilon
)
P.also(
    "batchnorm.normalize",
    Matches(
        sheet="x̂ᵢ = (xᵢ - μ)/√(σ² + ε)",
        framework="jax",
        reference="jax.nn.standardize",
        subject=_batch_normalized,
        inputs=(("x", x[i]), ("epsilon", epsilon)),
        over=(i, m),
        sizes=((m, 5),),
        note="μ and σ² are the batch statistics of the two lines above, substituted.",
    ),
    Matches(
        sheet="x̂ᵢ = (xᵢ - μ)/√(σ² + ε)",
        framework="torch",
        reference="torch.nn.functional.batch_norm (training)",
        subject=_batch_normalized,
        inputs=(("input", x[i]), ("eps", epsilon)),
        over=(i, m),
        sizes=((m, 5),),
        note="Training mode: the batch's own mean and biased variance (one feature, m samples).",
    ),
)

P.section("layernorm")
d = P.size("d", meaning="number of features of one sample")
j = P.index("j", meaning="feature")
x = P.indexed("x", d, meaning="one sample's features x_1 … x_d")
mu = P.scalar("mu", real, meaning="mean μ across the features")
sigma_sq = P.scalar("sigma_sq", nonnegative, meaning="variance σ² across the features")
epsilon = P.scalar("epsilon", positive, meaning="small constant for numerical stability")
xhat = P.indexed("xhat", d, meaning="normalised features x̂ⱼ")

_LN_TORCH = Convention(
    "PyTorch",
    "nn.LayerNorm uses the same biased variance, default ε = 1e-5, "
    "and by default follows x̂ with a learnable γ·x̂ + β (elementwise_affine=True), "
    "which the sheet omits.",
)
P.formula(
    "layernorm.mean",
    "Layer norm: mean",
    sheet="μ = (1/d)Σⱼ xⱼ    (mean across features)",
    expr=sp.Sum(x[j], (j, 1, d)) / d,
    lhs=mu,
)
P.formula(
    "layernorm.variance",
    "Layer norm: variance",
    sheet="σ² = (1/d)Σⱼ (xⱼ - μ)²",
    expr=sp.Sum((x[j] - mu) ** 2, (j, 1, d)) / d,
    lhs=sigma_sq,
    notes=("The biased (1/d) variance.",),
)
P.formula(
    "layernorm.normalize",
    "Layer norm: normalise",
    sheet="x̂ = (x - μ)/√(σ² + ε)",
    expr=(x[j] - mu) / sp.sqrt(sigma_sq + epsilon),
    lhs=xhat[j],
    notes=("The sheet writes the vector form; it applies to every feature j.",),
    conventions=(_LN_TORCH,),
)

_k = P.index("k", meaning="summation index of the feature statistics")
_mean = sp.Sum(x[_k], (_k, 1, d)) / d
_normalized = (x[j] - _mean) / sp.sqrt(sp.Sum((x[_k] - _mean) ** 2, (_k, 1, d)) / d + epsilon)
for _framework, _reference, _inputs in (
    ("jax", "jax.nn.standardize", (("x", x[j]), ("epsilon", epsilon))),
    ("torch", "torch.nn.functional.layer_norm", (("input", x[j]), ("eps", epsilon))),
):
    P.also(
        "layernorm.normalize",
        Matches(
            sheet="x̂ = (x - μ)/√(σ² + ε)",
            framework=_framework,
            reference=_reference,
            subject=_normalized,
            inputs=_inputs,
            over=(j, d),
            sizes=((d, 5),),
            note="μ and σ² are the feature statistics of the two lines above, substituted.",
        ),
    )
