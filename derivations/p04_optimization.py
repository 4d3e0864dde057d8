"""Part 4 of the sheet: optimization algorithms, one coordinate of the weights at a time."""

import sympy as sp
from sympy.stats import Normal

from symml.catalog.declare import Part
from symml.catalog.domains import natural, nonnegative, positive, real, unit_open
from symml.catalog.model import Convention, Matches, Property, Run, Status, UpdateRule

P = Part(4, "Optimization algorithms")

# Every rule acts elementwise, so W and the gradient are one real coordinate. Momentum's
# velocity v and Adam's second moment v share a letter on the sheet; the velocity is named
# v_mom here (it can be negative, Adam's v cannot).
P.section("optim")
W = P.scalar("W", real, meaning="one weight (the rules act elementwise on every coordinate)")
g = P.scalar("g", real, meaning="∂L/∂W at the current W")
grad_L = P.function("grad_L", meaning="∇L as a function of the weights")
eta = P.scalar("eta", positive, meaning="learning rate η", sheet="- η = learning rate")
beta = P.scalar(
    "beta",
    unit_open,
    typical=sp.Rational(9, 10),
    meaning="momentum coefficient β (momentum, Nesterov); decay rate of the squared-"
    "gradient average (RMSprop)",
    sheet="- β ≈ 0.9 (momentum coefficient)",
)
v_mom = P.scalar("v_mom", real, meaning="velocity v of momentum and Nesterov momentum")
G = P.scalar(
    "G",
    nonnegative,
    meaning="accumulated squared gradients (AdaGrad: sum; RMSprop: exponential moving average)",
)
epsilon = P.scalar(
    "epsilon",
    positive,
    typical=sp.Rational(1, 10**8),
    meaning="small constant for numerical stability",
    sheet="- ε ≈ 10⁻⁸ (numerical stability)",
)
beta_1 = P.scalar(
    "beta_1",
    unit_open,
    typical=sp.Rational(9, 10),
    meaning="decay rate of Adam's first moment",
    sheet="- β₁ ≈ 0.9",
)
beta_2 = P.scalar(
    "beta_2",
    unit_open,
    typical=sp.Rational(999, 1000),
    meaning="decay rate of Adam's second moment",
    sheet="- β₂ ≈ 0.999",
)
m = P.scalar("m", real, meaning="Adam's first moment (moving average of the gradient)")
v = P.scalar(
    "v", nonnegative, meaning="Adam's second moment (moving average of the squared gradient)"
)
mhat = P.scalar("mhat", real, meaning="bias-corrected first moment m̂")
vhat = P.scalar("vhat", nonnegative, meaning="bias-corrected second moment v̂")
t = P.scalar("t", natural, meaning="step count (1 at the first step)")
s = P.index("s", meaning="a past step")
mu_g = P.scalar("mu_g", real, meaning="mean of the gradients fed to Adam (prose claims)")
sigma_g = P.scalar(
    "sigma_g", positive, meaning="standard deviation of the gradients fed to Adam (prose claims)"
)
g_rand = P.random(
    "g_rand",
    Normal,
    mu_g,
    sigma_g,
    meaning="a gradient drawn with mean μ_g and std σ_g (the same law at every step)",
)
lam = P.scalar(
    "lambda",
    positive,
    typical=sp.Rational(1, 100),
    meaning="weight decay λ",
    sheet="- λ = weight decay (typically 0.01)",
)


def _against(sheet, rule, optax_ref, optax_args, torch_ref, torch_args, **extra):
    """The two ``matches`` claims of an update rule: optax and torch.optim, step by step."""
    run = Run(
        rule,
        weights=W,
        gradient=extra.pop("gradient", g),
        step=extra.pop("step", None),
        observe=extra.pop("observe", None),
    )
    optax_extra = extra.pop("optax", {})
    torch_extra = extra.pop("torch", {})
    return [
        Matches(
            sheet=sheet,
            framework="optax",
            reference=optax_ref,
            inputs=optax_args,
            run=run,
            **optax_extra,
        ),
        Matches(
            sheet=sheet,
            framework="torch",
            reference=torch_ref,
            inputs=torch_args,
            run=run,
            **torch_extra,
        ),
    ]


# -- Gradient descent, SGD ----------------------------------------------------------------
P.formula(
    "optim.gradient_descent",
    "Vanilla gradient descent",
    sheet="W := W - η · ∂L/∂W",
    expr=W - eta * g,
    lhs=W,
    claims=[
        UpdateRule(
            sheet="W := W - η · ∂L/∂W",
            algorithm="gradient_descent",
            assignments=((W, W - eta * g),),
        ),
        *_against(
            "W := W - η · ∂L/∂W",
            ((W, W - eta * g),),
            "optax.sgd",
            (("learning_rate", eta),),
            "torch.optim.SGD",
            (("lr", eta),),
        ),
    ],
)
P.formula(
    "optim.sgd",
    "Stochastic gradient descent",
    sheet="W := W - η · ∂L/∂W  (computed on mini-batch)",
    expr=W - eta * g,
    lhs=W,
    notes=(
        "Here g is the gradient of the loss on the current mini-batch, an unbiased estimate of "
        "the full-data gradient.",
    ),
    claims=[
        UpdateRule(
            sheet="W := W - η · ∂L/∂W  (computed on mini-batch)",
            algorithm="sgd",
            assignments=((W, W - eta * g),),
        ),
        *_against(
            "W := W - η · ∂L/∂W  (computed on mini-batch)",
            ((W, W - eta * g),),
            "optax.sgd",
            (("learning_rate", eta),),
            "torch.optim.SGD",
            (("lr", eta),),
        ),
    ],
    conventions=(Convention("PyTorch", "torch.optim.SGD(momentum=0) is this step."),),
)

# -- Momentum -----------------------------------------------------------------------------
_MOMENTUM = "v := β·v + ∂L/∂W\nW := W - η·v"
P.formula(
    "optim.momentum_velocity",
    "SGD with momentum: velocity",
    sheet="v := β·v + ∂L/∂W",
    expr=beta * v_mom + g,
    lhs=v_mom,
)
P.formula(
    "optim.momentum_step",
    "SGD with momentum: step",
    sheet="W := W - η·v",
    expr=W - eta * v_mom,
    lhs=W,
    claims=[
        UpdateRule(
            sheet=_MOMENTUM,
            algorithm="momentum",
            assignments=((v_mom, beta * v_mom + g), (W, W - eta * v_mom)),
        ),
        *_against(
            _MOMENTUM,
            ((v_mom, beta * v_mom + g), (W, W - eta * v_mom)),
            "optax.sgd(momentum)",
            (("learning_rate", eta), ("momentum", beta)),
            "torch.optim.SGD(momentum)",
            (("lr", eta), ("momentum", beta)),
        ),
    ],
    conventions=(
        Convention("PyTorch", "torch.optim.SGD(momentum=β, dampening=0) is exactly this rule."),
        Convention(
            "Other texts",
            "some write v := β·v + (1-β)·∂L/∂W (an EMA; equivalent after "
            "rescaling η by 1/(1-β)) or v := β·v - η·∂L/∂W, W := W + v (Keras; equivalent "
            "for a constant η).",
        ),
    ),
)

# -- Nesterov -----------------------------------------------------------------------------
_NESTEROV = "v := β·v + ∂L/∂W(W - β·v)\nW := W - η·v"
# The frameworks' parameters are the look-ahead point W - η·β·v of Sutskever's form (their
# gradient is taken there); the comparison observes that point of the sheet's rule.
_NESTEROV_DIFFERS = dict(
    expected=Status.DIFFERS,
    badge="look-ahead point",
    difference="the sheet takes the gradient at W - β·v; the frameworks' Nesterov step is "
    "Sutskever's, whose look-ahead point is W - η·β·v",
    agrees_when="η = 1 (then W - β·v is the look-ahead point)",
    note="the frameworks' parameters are compared with the sheet's W - η·β·v",
)
P.formula(
    "optim.nesterov_velocity",
    "Nesterov momentum: velocity",
    sheet="v := β·v + ∂L/∂W(W - β·v)",
    expr=beta * v_mom + grad_L(W - beta * v_mom),
    lhs=v_mom,
    notes=("∂L/∂W(·) is the gradient evaluated at the look-ahead point.",),
)
P.formula(
    "optim.nesterov_step",
    "Nesterov momentum: step",
    sheet="W := W - η·v",
    expr=W - eta * v_mom,
    lhs=W,
    claims=[
        UpdateRule(
            sheet=_NESTEROV,
            algorithm="nesterov",
            assignments=((v_mom, beta * v_mom + grad_L(W - beta * v_mom)), (W, W - eta * v_mom)),
            expected=Status.REFUTED,
            correction=(
                (v_mom, beta * v_mom + grad_L(W - eta * beta * v_mom)),
                (W, W - eta * v_mom),
            ),
            note="W moves by -η·v, so the look-ahead point is W - η·β·v; the sheet drops the η.",
        ),
        *_against(
            _NESTEROV,
            ((v_mom, beta * v_mom + grad_L(W - beta * v_mom)), (W, W - eta * v_mom)),
            "optax.sgd(nesterov=True)",
            (("learning_rate", eta), ("momentum", beta)),
            "torch.optim.SGD(nesterov=True)",
            (("lr", eta), ("momentum", beta)),
            gradient=grad_L,
            observe=W - eta * beta * v_mom,
            optax=_NESTEROV_DIFFERS,
            torch=_NESTEROV_DIFFERS,
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "torch.optim.SGD(nesterov=True) uses the equivalent form "
            "v := β·v + g, W := W - η·(g + β·v), with g the gradient at W.",
        ),
    ),
)

# -- AdaGrad ------------------------------------------------------------------------------
_ADAGRAD = "G := G + (∂L/∂W)²\nW := W - (η/√(G + ε)) · ∂L/∂W"
_EPS_OUTSIDE = (
    "puts ε outside the root: W := W - η·g/(√G + ε); the two differ noticeably only "
    "while G is near ε²."
)
P.formula(
    "optim.adagrad_accumulate",
    "AdaGrad: accumulate squared gradients",
    sheet="G := G + (∂L/∂W)²",
    expr=G + g**2,
    lhs=G,
)
P.formula(
    "optim.adagrad_step",
    "AdaGrad: step",
    sheet="W := W - (η/√(G + ε)) · ∂L/∂W",
    expr=W - eta / sp.sqrt(G + epsilon) * g,
    lhs=W,
    claims=[
        UpdateRule(
            sheet=_ADAGRAD,
            algorithm="adagrad",
            assignments=((G, G + g**2), (W, W - eta / sp.sqrt(G + epsilon) * g)),
        ),
        Property(
            sheet="AdaGrad (adaptive learning rate)",
            predicate="monotone",
            subject=eta / sp.sqrt(G + epsilon),
            params=(("var", G), ("direction", "decreasing")),
            note="Adaptive: each coordinate's effective rate η/√(G + ε) falls as its squared "
            "gradients accumulate in G (and never rises, since G only grows).",
        ),
        *_against(
            _ADAGRAD,
            ((G, G + g**2), (W, W - eta / sp.sqrt(G + epsilon) * g)),
            "optax.adagrad",
            (("learning_rate", eta), ("eps", epsilon), ("initial_accumulator_value", 0)),
            "torch.optim.Adagrad",
            (("lr", eta), ("eps", epsilon)),
            torch=dict(
                expected=Status.DIFFERS,
                badge="ε placement",
                difference="ε outside the square root: W - η·g/(√G + ε)",
                agrees_when="|g| ≫ √ε, where ε is negligible either way",
            ),
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "torch.optim.Adagrad " + _EPS_OUTSIDE + " Default ε = 1e-10; "
            "Duchi et al. (2011) also add ε to √G.",
        ),
    ),
)

# -- RMSprop ------------------------------------------------------------------------------
_RMSPROP = "G := β·G + (1-β)·(∂L/∂W)²\nW := W - (η/√(G + ε)) · ∂L/∂W"
P.formula(
    "optim.rmsprop_accumulate",
    "RMSprop: moving average of squared gradients",
    sheet="G := β·G + (1-β)·(∂L/∂W)²",
    expr=beta * G + (1 - beta) * g**2,
    lhs=G,
)
P.formula(
    "optim.rmsprop_step",
    "RMSprop: step",
    sheet="W := W - (η/√(G + ε)) · ∂L/∂W",
    expr=W - eta / sp.sqrt(G + epsilon) * g,
    lhs=W,
    sheet_notes=("- β ≈ 0.9",),
    notes=(
        "β here is the decay rate of the squared-gradient average (typically 0.9), not the "
        "momentum coefficient.",
    ),
    claims=[
        UpdateRule(
            sheet=_RMSPROP,
            algorithm="rmsprop",
            assignments=(
                (G, beta * G + (1 - beta) * g**2),
                (W, W - eta / sp.sqrt(G + epsilon) * g),
            ),
        ),
        *_against(
            _RMSPROP,
            ((G, beta * G + (1 - beta) * g**2), (W, W - eta / sp.sqrt(G + epsilon) * g)),
            "optax.rmsprop",
            (("learning_rate", eta), ("decay", beta), ("eps", epsilon)),
            "torch.optim.RMSprop",
            (("lr", eta), ("alpha", beta), ("eps", epsilon)),
            torch=dict(
                expected=Status.DIFFERS,
                badge="ε placement",
                difference="ε outside the square root: W - η·g/(√G + ε)",
                agrees_when="|g| ≫ √ε, where ε is negligible either way",
            ),
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "torch.optim.RMSprop calls β 'alpha' with default 0.99 (not 0.9), and " + _EPS_OUTSIDE,
        ),
    ),
)

# -- Adam ---------------------------------------------------------------------------------
_ADAM_M = "m := β₁·m + (1-β₁)·∂L/∂W         (first moment - mean)"
_ADAM_V = "v := β₂·v + (1-β₂)·(∂L/∂W)²      (second moment - variance)"
_ADAM_MHAT = "m̂ := m/(1-β₁^t)                   (bias correction)"
_ADAM_VHAT = "v̂ := v/(1-β₂^t)"
_ADAM_W = "W := W - η·m̂/(√v̂ + ε)"
_ADAM = "\n".join([_ADAM_M, _ADAM_V, "", _ADAM_MHAT, _ADAM_VHAT, "", _ADAM_W])
_ADAM_MOMENTS = (
    (m, beta_1 * m + (1 - beta_1) * g),
    (v, beta_2 * v + (1 - beta_2) * g**2),
    (mhat, m / (1 - beta_1**t)),
    (vhat, v / (1 - beta_2**t)),
)
# The prose beside m and v says what they track. m̂ₜ and v̂ₜ unrolled from m₀ = v₀ = 0 are
# weighted averages of the gradients seen (weights (1-β)β^(t-s)/(1-β^t), summing to 1);
# fed gradients of one law, their expectations are that law's moments.
_MHAT_OF = sp.Sum((1 - beta_1) * beta_1 ** (t - s) * g_rand, (s, 1, t)) / (1 - beta_1**t)
_VHAT_OF = sp.Sum((1 - beta_2) * beta_2 ** (t - s) * g_rand**2, (s, 1, t)) / (1 - beta_2**t)
P.formula(
    "optim.adam_m",
    "Adam: first moment",
    sheet=_ADAM_M,
    expr=beta_1 * m + (1 - beta_1) * g,
    lhs=m,
    claims=[
        Property(
            sheet=_ADAM_M,
            predicate="expectation",
            subject=_MHAT_OF,
            params=(("value", mu_g),),
            note="'first moment - mean': for gradients of mean μ_g, E[m̂ₜ] = μ_g at every "
            "t ≥ 1 (m itself is shrunk toward 0 by 1-β₁^t until the bias correction).",
        )
    ],
)
P.formula(
    "optim.adam_v",
    "Adam: second moment",
    sheet=_ADAM_V,
    expr=beta_2 * v + (1 - beta_2) * g**2,
    lhs=v,
    claims=[
        Property(
            sheet=_ADAM_V,
            predicate="expectation",
            subject=_VHAT_OF,
            params=(("value", mu_g**2 + sigma_g**2),),
            note="'second moment': E[v̂ₜ] = E[g²] = μ_g² + σ_g², the uncentred second moment.",
        ),
        Property(
            sheet=_ADAM_V,
            predicate="expectation",
            subject=_VHAT_OF,
            params=(("value", sigma_g**2),),
            expected=Status.CONDITIONAL,
            conditions=(sp.Eq(mu_g, 0),),
            note="'variance' needs an unstated condition: v tracks E[g²] = Var(g) + E[g]² (the "
            "Adam paper's 'uncentred variance'), the variance only when the mean gradient is "
            "0. A constant gradient g (σ_g = 0) shows it: v̂ₜ = g² at every step while the "
            "variance of the sequence is 0.",
        ),
    ],
)
P.formula(
    "optim.adam_mhat",
    "Adam: bias-corrected first moment",
    sheet=_ADAM_MHAT,
    expr=m / (1 - beta_1**t),
    lhs=mhat,
    claims=[
        Property(
            sheet=_ADAM_MHAT,
            predicate="expectation",
            params=(("value", g),),
            subject=sp.Sum((1 - beta_1) * beta_1 ** (t - s) * g, (s, 1, t)) / (1 - beta_1**t),
            note="With a constant gradient g, m̂_t = g (bias correction removes the (1-β₁^t) "
            "shrinkage); the subject is m̂_t unrolled from m_0 = 0.",
        )
    ],
)
P.formula(
    "optim.adam_vhat",
    "Adam: bias-corrected second moment",
    sheet=_ADAM_VHAT,
    expr=v / (1 - beta_2**t),
    lhs=vhat,
    claims=[
        Property(
            sheet=_ADAM_VHAT,
            predicate="expectation",
            params=(("value", g**2),),
            subject=sp.Sum((1 - beta_2) * beta_2 ** (t - s) * g**2, (s, 1, t)) / (1 - beta_2**t),
            note="The bias correction (stated for m̂, the same for v̂): with a constant gradient "
            "g, v̂ₜ = g² at every t ≥ 1; the subject is v̂ₜ unrolled from v₀ = 0.",
        )
    ],
)
P.formula(
    "optim.adam_step",
    "Adam: step",
    sheet=_ADAM_W,
    expr=W - eta * mhat / (sp.sqrt(vhat) + epsilon),
    lhs=W,
    sheet_notes=("- η ≈ 0.001",),
    notes=("t counts steps from 1, and m, v start at 0.",),
    claims=[
        UpdateRule(
            sheet=_ADAM,
            algorithm="adam",
            assignments=(*_ADAM_MOMENTS, (W, W - eta * mhat / (sp.sqrt(vhat) + epsilon))),
        ),
        *_against(
            _ADAM,
            (*_ADAM_MOMENTS, (W, W - eta * mhat / (sp.sqrt(vhat) + epsilon))),
            "optax.adam",
            (("learning_rate", eta), ("b1", beta_1), ("b2", beta_2), ("eps", epsilon)),
            "torch.optim.Adam",
            (("lr", eta), ("betas", (beta_1, beta_2)), ("eps", epsilon)),
            step=t,
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "torch.optim.Adam is this rule (defaults η = 1e-3, "
            "β = (0.9, 0.999), ε = 1e-8, ε outside the root).",
        ),
    ),
)

# -- AdamW --------------------------------------------------------------------------------
_ADAMW_W = "W := W - η·(m̂/(√v̂ + ε) + λ·W)"
P.formula(
    "optim.adamw_step",
    "AdamW: step with decoupled weight decay",
    sheet=_ADAMW_W,
    expr=W - eta * (mhat / (sp.sqrt(vhat) + epsilon) + lam * W),
    lhs=W,
    notes=(
        "m, v, m̂, v̂ are updated as in Adam; the decay λ·W is applied to the weights directly, "
        "not added to the gradient.",
    ),
    claims=[
        UpdateRule(
            sheet="\n".join([_ADAM_M, _ADAM_V, _ADAM_MHAT, _ADAM_VHAT, _ADAMW_W]),
            algorithm="adamw",
            assignments=(
                *_ADAM_MOMENTS,
                (W, W - eta * (mhat / (sp.sqrt(vhat) + epsilon) + lam * W)),
            ),
        ),
        Property(
            sheet="AdamW (Adam with weight decay)",
            predicate="endpoint",
            params=(
                ("var", lam),
                ("at", sp.S.Zero),
                ("value", W - eta * mhat / (sp.sqrt(vhat) + epsilon)),
            ),
            note="With λ = 0 the AdamW step is Adam's step.",
        ),
        *_against(
            "\n".join([_ADAM_M, _ADAM_V, _ADAM_MHAT, _ADAM_VHAT, _ADAMW_W]),
            (*_ADAM_MOMENTS, (W, W - eta * (mhat / (sp.sqrt(vhat) + epsilon) + lam * W))),
            "optax.adamw",
            (
                ("learning_rate", eta),
                ("b1", beta_1),
                ("b2", beta_2),
                ("eps", epsilon),
                ("weight_decay", lam),
            ),
            "torch.optim.AdamW",
            (("lr", eta), ("betas", (beta_1, beta_2)), ("eps", epsilon), ("weight_decay", lam)),
            step=t,
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "torch.optim.AdamW first sets W := W·(1 - ηλ), then takes the "
            "Adam step; the same update. Default λ = 0.01.",
        ),
    ),
)
