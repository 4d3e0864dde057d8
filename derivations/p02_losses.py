"""Part 2 of the sheet: loss functions (regression and classification)."""

import sympy as sp

from symml.catalog.declare import Part
from symml.catalog.domains import (
    binary,
    interval,
    nonnegative,
    positive,
    real,
    signs,
    unit_closed,
    unit_open,
)
from symml.catalog.model import Convention, Derivative, Matches, Notation, Property, Reading, Status

P = Part(2, "Loss functions")

# One section holds every loss, so letters the sheet reuses with different meanings get
# distinct names: y_vec/yhat_vec (n regression samples), y/yhat (one Huber sample),
# y_prob/yhat_prob (BCE, focal), y_cls/yhat_cls/z (k classes), y_sign/yhat_score (hinge).
P.section("losses")
n = P.size("n", meaning="number of samples averaged over")
k = P.size("k", meaning="number of classes")
i = P.index("i", meaning="sample or class the derivative is taken for")
j = P.index("j", meaning="summation index")
l = P.index("l", meaning="summation index of the softmax denominator")

y_vec = P.indexed("y_vec", n, meaning="regression targets y_1 … y_n (the sheet's yᵢ)")
yhat_vec = P.indexed("yhat_vec", n, meaning="regression predictions ŷ_1 … ŷ_n (the sheet's ŷᵢ)")

y = P.scalar("y", real, meaning="regression target of one sample (Huber)")
yhat = P.scalar("yhat", real, meaning="regression prediction of one sample (Huber)")
delta = P.scalar(
    "delta", positive, meaning="Huber threshold δ between the quadratic and linear parts"
)

y_prob = P.scalar(
    "y_prob",
    unit_closed,
    meaning="binary target y of BCE (a label in {0, 1}, or a soft target in [0, 1])",
)
yhat_prob = P.scalar("yhat_prob", unit_open, meaning="predicted probability ŷ (BCE; focal loss)")

y_cls = P.indexed(
    "y_cls",
    k,
    domain=binary,
    meaning="one-hot target y over the k classes",
    sheet="- y = one-hot vector [0,0,1,0,...]",
)
yhat_cls = P.indexed(
    "yhat_cls",
    k,
    domain=unit_open,
    meaning="predicted class probabilities ŷ (softmax of the logits z)",
    sheet="- ŷ = predicted probabilities from softmax",
)
z = P.indexed("z", k, meaning="logits z_1 … z_k that the softmax turns into ŷ")

alpha = P.scalar(
    "alpha",
    interval(0, 1, hi_open=False),
    meaning="focal-loss class weight α",
    sheet="- α: class weight",
)
gamma = P.scalar(
    "gamma",
    nonnegative,
    typical=2,
    meaning="focusing parameter γ",
    sheet="- γ: focusing parameter (typically 2)",
)
y_label = P.scalar(
    "y_label",
    binary,
    meaning="a 0/1 class label (used to spell out readings of the focal and hinge losses)",
)

y_sign = P.scalar("y_sign", signs, meaning="hinge-loss label y ∈ {-1, +1}")
yhat_score = P.scalar(
    "yhat_score", real, meaning="raw classifier score ŷ (hinge loss; not a probability)"
)

P.formula(
    "losses.mse",
    "Mean squared error",
    sheet="L = (1/n) Σᵢ (yᵢ - ŷᵢ)²",
    expr=sp.Sum((y_vec[j] - yhat_vec[j]) ** 2, (j, 1, n)) / n,
    notes=("The sum runs over j so that the derivative can be taken with respect to ŷᵢ.",),
    claims=[
        Derivative(
            sheet="∂L/∂ŷᵢ = (2/n)(ŷᵢ - yᵢ)",
            wrt=yhat_vec[i],
            claimed=sp.Rational(2) / n * (yhat_vec[i] - y_vec[i]),
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "nn.MSELoss(reduction='mean') is this loss averaged over "
            "all elements; reduction='sum' drops the 1/n.",
        ),
    ),
)
P.formula(
    "losses.mae",
    "Mean absolute error",
    sheet="L = (1/n) Σᵢ |yᵢ - ŷᵢ|",
    expr=sp.Sum(sp.Abs(y_vec[j] - yhat_vec[j]), (j, 1, n)) / n,
    notes=(
        "Not differentiable where yᵢ = ŷᵢ; frameworks use the subgradient (1/n)·sign(ŷᵢ - yᵢ), "
        "0 at the kink.",
    ),
    conventions=(Convention("PyTorch", "nn.L1Loss; its gradient at yᵢ = ŷᵢ is 0 (sign(0) = 0)."),),
)
P.formula(
    "losses.huber",
    "Huber loss",
    sheet="L = { ½(y - ŷ)²           if |y - ŷ| ≤ δ\n    { δ|y - ŷ| - ½δ²      otherwise",
    expr=sp.Piecewise(
        ((y - yhat) ** 2 / 2, sp.Abs(y - yhat) <= delta),
        (delta * sp.Abs(y - yhat) - delta**2 / 2, True),
    ),
    notes=("Written in the residual r = y - ŷ of one sample; the batch loss averages it.",),
    claims=[
        Property(
            sheet="Huber Loss (robust to outliers)",
            predicate="bounded_derivative",
            params=(("var", yhat), ("bound", delta)),
            expected=Status.NUMERIC,
            note="Robustness: the gradient with respect to ŷ never exceeds δ in size, so an "
            "outlier pulls no harder than δ (MSE's gradient grows with the residual). Expected "
            "numeric: the bound is checked by sampling both pieces and the join; the engine has "
            "no symbolic prover for inequalities over piecewise functions.",
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "nn.HuberLoss(delta=δ) is this loss; nn.SmoothL1Loss(beta=δ) "
            "is this loss divided by δ.",
        ),
    ),
)
P.formula(
    "losses.bce",
    "Binary cross-entropy",
    sheet="L = -[y·log(ŷ) + (1-y)·log(1-ŷ)]",
    expr=-(y_prob * sp.log(yhat_prob) + (1 - y_prob) * sp.log(1 - yhat_prob)),
    notes=("log is the natural logarithm.",),
    claims=[
        Derivative(
            sheet="∂L/∂ŷ = -(y/ŷ) + (1-y)/(1-ŷ)",
            wrt=yhat_prob,
            claimed=-(y_prob / yhat_prob) + (1 - y_prob) / (1 - yhat_prob),
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "nn.BCELoss clamps each log term at -100, so the loss stays "
            "finite at ŷ ∈ {0, 1}; nn.BCEWithLogitsLoss takes the logit instead of ŷ.",
        ),
    ),
)

_softmax_j = sp.exp(z[j]) / sp.Sum(sp.exp(z[l]), (l, 1, k))
_softmax_i = sp.exp(z[i]) / sp.Sum(sp.exp(z[l]), (l, 1, k))
P.formula(
    "losses.cce",
    "Categorical cross-entropy",
    sheet="L = -Σᵢ yᵢ · log(ŷᵢ)",
    expr=-sp.Sum(y_cls[i] * sp.log(yhat_cls[i]), (i, 1, k)),
    notes=("The derivative claim differentiates the loss with ŷ replaced by softmax(z).",),
    claims=[
        Derivative(
            sheet="∂L/∂zᵢ = ŷᵢ - yᵢ  (when combined with softmax)",
            of=-sp.Sum(y_cls[j] * sp.log(_softmax_j), (j, 1, k)),
            wrt=z[i],
            claimed=_softmax_i - y_cls[i],
            expected=Status.CONDITIONAL,
            conditions=(sp.Eq(sp.Sum(y_cls[j], (j, 1, k)), 1),),
            note="The gradient is ŷᵢ·Σⱼ yⱼ - yᵢ; it equals ŷᵢ - yᵢ only when the targets sum to 1 "
            "(one-hot or a probability vector).",
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "nn.CrossEntropyLoss takes the logits z (it applies "
            "log_softmax itself) and class indices or probability targets, and "
            "averages over the batch.",
        ),
    ),
)

_p_t = sp.Piecewise((yhat_prob, sp.Eq(y_label, 1)), (1 - yhat_prob, True))
P.formula(
    "losses.focal",
    "Focal loss",
    sheet="L = -α(1 - ŷ)^γ · log(ŷ)",
    expr=-alpha * (1 - yhat_prob) ** gamma * sp.log(yhat_prob),
    notes=(
        "As written this is only the positive-class term; the full focal loss (Lin et al. 2017) "
        "uses p_t = ŷ if y = 1 else 1 - ŷ, and α_t = α if y = 1 else 1 - α.",
    ),
    claims=[
        Notation(
            sheet="L = -α(1 - ŷ)^γ · log(ŷ)",
            expected=Status.AMBIGUOUS,
            note="The sheet does not say whether ŷ is the probability of the true class (p_t) or "
            "the predicted probability of class 1; for a label y = 0 the two give different losses.",
            readings=(
                Reading(
                    "ŷ is the probability of the true class (p_t)",
                    -alpha * (1 - _p_t) ** gamma * sp.log(_p_t),
                    True,
                ),
                Reading(
                    "ŷ is the predicted probability of class 1, whatever the label",
                    -alpha * (1 - yhat_prob) ** gamma * sp.log(yhat_prob),
                    False,
                    note="for y = 0 this is not the focal loss",
                ),
            ),
        ),
        Property(
            sheet="- γ: focusing parameter (typically 2)",
            predicate="monotone",
            params=(("var", gamma), ("direction", "decreasing")),
            expected=Status.NUMERIC,
            note="Expected numeric (the engine proves no inequality over ŷ and γ together). "
            "Focusing: raising γ lowers the loss of every example, most for confident ones "
            "(the factor (1-ŷ)^γ), so training focuses on the hard ones; γ = 0 is α·CE.",
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "torchvision.ops.sigmoid_focal_loss takes logits and uses "
            "p_t and α_t (defaults α = 0.25, γ = 2).",
        ),
    ),
)
P.formula(
    "losses.hinge",
    "Hinge loss",
    sheet="L = max(0, 1 - y·ŷ)",
    expr=sp.Max(0, 1 - y_sign * yhat_score),
    notes=("ŷ is a raw score, not a probability.",),
    claims=[
        Notation(
            sheet="L = max(0, 1 - y·ŷ)",
            expected=Status.AMBIGUOUS,
            note="The labels must be ±1, which the sheet does not say; with the {0, 1} labels it "
            "uses for BCE, y = 0 gives L = 1 for every score.",
            readings=(
                Reading(
                    "y ∈ {-1, +1} (label b ∈ {0, 1} mapped to 2b - 1)",
                    sp.Max(0, 1 - (2 * y_label - 1) * yhat_score),
                    True,
                ),
                Reading(
                    "y ∈ {0, 1} as in binary cross-entropy",
                    sp.Max(0, 1 - y_label * yhat_score),
                    False,
                ),
            ),
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "nn.MultiMarginLoss is the multi-class hinge loss (class "
            "index targets); nn.HingeEmbeddingLoss is a different loss.",
        ),
    ),
)


# -- The same losses in the frameworks (checked by `symml verify --against optax,torch`) -------
_SAMPLES = dict(over=(j, n), sizes=((n, 5),))
_LOGIT = sp.log(yhat_prob / (1 - yhat_prob))  # the frameworks take logits where the sheet has ŷ
P.also(
    "losses.mse",
    Matches(
        sheet="L = (1/n) Σᵢ (yᵢ - ŷᵢ)²",
        framework="optax",
        reference="mean of optax.squared_error",
        inputs=(("predictions", yhat_vec[j]), ("targets", y_vec[j])),
        **_SAMPLES,
    ),
    Matches(
        sheet="L = (1/n) Σᵢ (yᵢ - ŷᵢ)²",
        framework="torch",
        reference="torch.nn.functional.mse_loss",
        inputs=(("input", yhat_vec[j]), ("target", y_vec[j])),
        **_SAMPLES,
    ),
)
P.also(
    "losses.mae",
    Matches(
        sheet="L = (1/n) Σᵢ |yᵢ - ŷᵢ|",
        framework="torch",
        reference="torch.nn.functional.l1_loss",
        inputs=(("input", yhat_vec[j]), ("target", y_vec[j])),
        **_SAMPLES,
    ),
)
_HUBER = "L = { ½(y - ŷ)²           if |y - ŷ| ≤ δ\n    { δ|y - ŷ| - ½δ²      otherwise"
P.also(
    "losses.huber",
    Matches(
        sheet=_HUBER,
        framework="optax",
        reference="optax.huber_loss",
        inputs=(("predictions", yhat), ("targets", y), ("delta", delta)),
    ),
    Matches(
        sheet=_HUBER,
        framework="torch",
        reference="torch.nn.functional.huber_loss",
        inputs=(("input", yhat), ("target", y), ("delta", delta)),
    ),
)
P.also(
    "losses.bce",
    Matches(
        sheet="L = -[y·log(ŷ) + (1-y)·log(1-ŷ)]",
        framework="optax",
        reference="optax.sigmoid_binary_cross_entropy",
        inputs=(("logits", _LOGIT), ("labels", y_prob)),
        note="optax takes the logit log(ŷ/(1-ŷ)) of the sheet's probability ŷ.",
    ),
    Matches(
        sheet="L = -[y·log(ŷ) + (1-y)·log(1-ŷ)]",
        framework="torch",
        reference="torch.nn.functional.binary_cross_entropy",
        inputs=(("input", yhat_prob), ("target", y_prob)),
        note="torch clamps each log at -100, which only ŷ within e⁻¹⁰⁰ of 0 or 1 reaches.",
    ),
)
P.also(
    "losses.cce",
    Matches(
        sheet="L = -Σᵢ yᵢ · log(ŷᵢ)",
        framework="optax",
        reference="optax.softmax_cross_entropy",
        inputs=(("logits", sp.log(yhat_cls[i])), ("labels", y_cls[i])),
        over=(i, k),
        sizes=((k, 4),),
        expected=Status.DIFFERS,
        badge="softmax of the logits",
        difference="optax takes logits and normalises them with a softmax, so log ŷ is "
        "replaced by log(ŷᵢ/Σⱼ ŷⱼ)",
        agrees_when="Σᵢ ŷᵢ = 1 (ŷ from a softmax, as the sheet's note says)",
    ),
    Matches(
        sheet="L = -Σᵢ yᵢ · log(ŷᵢ)",
        framework="torch",
        reference="torch.nn.functional.cross_entropy (probability targets)",
        inputs=(("input", sp.log(yhat_cls[i])), ("target", y_cls[i])),
        over=(i, k),
        sizes=((k, 4),),
        expected=Status.DIFFERS,
        badge="softmax of the logits",
        difference="torch takes logits and normalises them with a log-softmax, so log ŷ is "
        "replaced by log(ŷᵢ/Σⱼ ŷⱼ)",
        agrees_when="Σᵢ ŷᵢ = 1 (ŷ from a softmax, as the sheet's note says)",
    ),
)
P.also(
    "losses.focal",
    Matches(
        sheet="L = -α(1 - ŷ)^γ · log(ŷ)",
        framework="optax",
        reference="optax.sigmoid_focal_loss",
        inputs=(("logits", _LOGIT), ("labels", 1), ("alpha", alpha), ("gamma", gamma)),
        note="The sheet's loss is the positive-class term: optax with label 1 (weight α).",
    ),
)
P.also(
    "losses.hinge",
    Matches(
        sheet="L = max(0, 1 - y·ŷ)",
        framework="optax",
        reference="optax.hinge_loss",
        inputs=(("predictor_outputs", yhat_score), ("targets", y_sign)),
        note="optax takes labels in {-1, +1}, the reading the catalog marks correct.",
    ),
)

# -- The derivatives against autodiff of the optax losses -------------------------------------
_mse_derivative = next(c for c in P.formulas[0].claims if c.sheet.startswith("∂L/∂ŷᵢ"))
P.also(
    "losses.mse",
    Matches(
        sheet="∂L/∂ŷᵢ = (2/n)(ŷᵢ - yᵢ)",
        framework="optax",
        reference="jax.grad of the mean of optax.squared_error",
        subject=_mse_derivative.claimed,
        inputs=(("predictions", yhat_vec[i]), ("targets", y_vec[i])),
        over=(i, n),
        sizes=((n, 5),),
    ),
)
P.also(
    "losses.bce",
    Matches(
        sheet="∂L/∂ŷ = -(y/ŷ) + (1-y)/(1-ŷ)",
        framework="optax",
        reference="jax.grad of optax.sigmoid_binary_cross_entropy in ŷ",
        subject=-(y_prob / yhat_prob) + (1 - y_prob) / (1 - yhat_prob),
        inputs=(("probability", yhat_prob), ("labels", y_prob)),
        note="optax takes logits; the gradient is taken through logit(ŷ) = log(ŷ/(1-ŷ)).",
    ),
)
P.also(
    "losses.cce",
    Matches(
        sheet="∂L/∂zᵢ = ŷᵢ - yᵢ  (when combined with softmax)",
        framework="optax",
        reference="jax.grad of optax.softmax_cross_entropy in the logits",
        subject=_softmax_i - y_cls[i],
        inputs=(("logits", z[i]), ("labels", y_cls[i])),
        over=(i, k),
        sizes=((k, 4),),
        where=(sp.Eq(sp.Sum(y_cls[j], (j, 1, k)), 1),),
        note="y one-hot, as the sheet says (only sampled labels that sum to 1 are used).",
    ),
)
