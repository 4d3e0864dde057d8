"""Part 12 of the sheet: learning rate schedules."""

import sympy as sp

from symml.catalog.declare import Part
from symml.catalog.domains import interval, nonnegative, positive, real
from symml.catalog.model import Convention, Matches, Property, Status

P = Part(12, "Learning rate schedules")

P.section("schedules")  # t is the training step (or epoch), read as a nonnegative real
t = P.scalar(
    "t",
    nonnegative,
    meaning="training step or epoch, a nonnegative real (integer "
    "steps are a special case; ⌊t/k⌋ handles both)",
)
eta = P.function("eta", domain=real, meaning="the learning rate η(t) the entry defines")
eta_0 = P.scalar("eta_0", positive, meaning="initial learning rate η₀")
gamma = P.scalar("gamma", positive, meaning="decay factor per step of the step schedule")
k = P.size("k", meaning="number of steps (or epochs) between decays")
lam = P.scalar("lambda", real, meaning="decay rate of the exponential schedule")
eta_min = P.scalar("eta_min", positive, meaning="smallest learning rate of the cosine schedule")
eta_max = P.scalar("eta_max", positive, meaning="largest (peak) learning rate")
T = P.scalar("T", positive, meaning="length of the cosine half-period (steps to anneal)")
t_warmup = P.scalar("t_warmup", positive, meaning="number of warmup steps")
t_total = P.scalar("t_total", positive, meaning="total number of training steps")

_decreasing = (("var", t), ("direction", "decreasing"))

_step = eta_0 * gamma ** sp.floor(t / k)
P.formula(
    "schedules.step",
    "Step decay",
    sheet="η(t) = η₀ · γ^⌊t/k⌋",
    expr=_step,
    lhs=eta(t),
    claims=[
        Property(
            sheet="η(t) = η₀ · γ^⌊t/k⌋",
            predicate="monotone",
            params=_decreasing,
            expected=Status.CONDITIONAL,
            conditions=(gamma <= 1,),
            note="A decay needs γ ≤ 1 (the sheet does not say so); γ > 1 grows the rate.",
        ),
        Property(
            sheet="η(t) = η₀ · γ^⌊t/k⌋",
            predicate="endpoint",
            params=(("var", t), ("at", sp.S.Zero), ("value", eta_0)),
            note="Implied by the name η₀.",
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "optim.lr_scheduler.StepLR(step_size=k, gamma=γ) counts "
            "t in calls to scheduler.step(), usually epochs.",
        ),
    ),
)

_exp = eta_0 * sp.exp(-lam * t)
P.formula(
    "schedules.exponential",
    "Exponential decay",
    sheet="η(t) = η₀ · e^(-λt)",
    expr=_exp,
    lhs=eta(t),
    claims=[
        Property(
            sheet="η(t) = η₀ · e^(-λt)",
            predicate="monotone",
            params=_decreasing,
            expected=Status.CONDITIONAL,
            conditions=(lam >= 0,),
            note="A decay needs λ ≥ 0 (the sheet does not say so).",
        ),
        Property(
            sheet="η(t) = η₀ · e^(-λt)",
            predicate="endpoint",
            params=(("var", t), ("at", sp.S.Zero), ("value", eta_0)),
            note="Implied by the name η₀.",
        ),
    ],
    conventions=(
        Convention(
            "PyTorch", "optim.lr_scheduler.ExponentialLR(gamma) uses η₀·γ^t, i.e. λ = −ln γ."
        ),
    ),
)

_cos = eta_min + sp.S.Half * (eta_max - eta_min) * (1 + sp.cos(sp.pi * t / T))
P.formula(
    "schedules.cosine",
    "Cosine annealing",
    sheet="η(t) = η_min + ½(η_max - η_min)(1 + cos(πt/T))",
    expr=_cos,
    lhs=eta(t),
    notes=("Meant for 0 ≤ t ≤ T; past T the formula rises again (a cosine, not a restart).",),
    claims=[
        Property(
            sheet="η(t) = η_min + ½(η_max - η_min)(1 + cos(πt/T))",
            predicate="endpoint",
            params=(("var", t), ("at", sp.S.Zero), ("value", eta_max)),
            note="Implied by the names η_max and η_min.",
        ),
        Property(
            sheet="η(t) = η_min + ½(η_max - η_min)(1 + cos(πt/T))",
            predicate="endpoint",
            params=(("var", t), ("at", T), ("value", eta_min)),
            note="Implied by the names η_max and η_min.",
        ),
        Property(
            sheet="η(t) = η_min + ½(η_max - η_min)(1 + cos(πt/T))",
            predicate="monotone",
            params=(*_decreasing, ("interval", interval(0, T, lo_open=False, hi_open=False))),
            expected=Status.CONDITIONAL,
            conditions=(eta_max >= eta_min,),
            note="Non-increasing on 0 ≤ t ≤ T only when η_max ≥ η_min, which the names "
            "suggest but the sheet does not state.",
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "optim.lr_scheduler.CosineAnnealingLR(T_max, eta_min=0) "
            "uses T_max for T, takes η_max from the optimizer's initial lr, "
            "defaults η_min to 0 and never restarts (CosineAnnealingWarmRestarts "
            "does).",
        ),
    ),
)

_warmup = sp.Piecewise(
    (eta_max * t / t_warmup, t < t_warmup), (eta_max * (t_total - t) / t_total, True)
)
_warmup_fixed = sp.Piecewise(
    (eta_max * t / t_warmup, t < t_warmup), (eta_max * (t_total - t) / (t_total - t_warmup), True)
)
_WARMUP_SHEET = (
    "η(t) = {\n"
    "  η_max · t/t_warmup           if t < t_warmup\n"
    "  η_max · (t_total - t)/t_total  otherwise\n"
    "}"
)
P.formula(
    "schedules.warmup",
    "Linear warmup then linear decay",
    sheet=_WARMUP_SHEET,
    expr=_warmup,
    lhs=eta(t),
    notes=("Meant for 0 ≤ t ≤ t_total with t_warmup < t_total.",),
    assumptions=(t_warmup < t_total,),
    claims=[
        Property(
            sheet=_WARMUP_SHEET,
            predicate="continuous_at",
            params=(("var", t), ("at", t_warmup)),
            expected=Status.REFUTED,
            correction=_warmup_fixed,
            note="The schedule jumps at t = t_warmup: the warmup reaches η_max but the decay "
            "branch starts at η_max·(t_total − t_warmup)/t_total < η_max; dividing by "
            "t_total − t_warmup instead makes it continuous.",
        ),
        Property(
            sheet=_WARMUP_SHEET,
            predicate="endpoint",
            params=(("var", t), ("at", t_total), ("value", sp.S.Zero)),
            note="The rate reaches 0 at t_total (the entry assumes t_warmup < t_total).",
        ),
    ],
    conventions=(
        Convention(
            "Hugging Face transformers",
            "get_linear_schedule_with_warmup "
            "decays as η_max·(t_total − t)/(t_total − t_warmup) (clipped at 0), "
            "the continuous form.",
        ),
    ),
)


# -- The same schedules in optax (checked by `symml verify --against optax`) ---------------------
P.also(
    "schedules.step",
    Matches(
        sheet="η(t) = η₀ · γ^⌊t/k⌋",
        framework="optax",
        reference="optax.exponential_decay",
        inputs=(
            ("count", t),
            ("init_value", eta_0),
            ("transition_steps", k),
            ("decay_rate", gamma),
            ("staircase", True),
        ),
    ),
)
P.also(
    "schedules.exponential",
    Matches(
        sheet="η(t) = η₀ · e^(-λt)",
        framework="optax",
        reference="optax.exponential_decay",
        inputs=(
            ("count", t),
            ("init_value", eta_0),
            ("transition_steps", 1),
            ("decay_rate", sp.exp(-lam)),
        ),
        note="optax's decay_rate per step is e^(-λ).",
    ),
)
P.also(
    "schedules.cosine",
    Matches(
        sheet="η(t) = η_min + ½(η_max - η_min)(1 + cos(πt/T))",
        framework="optax",
        reference="optax.cosine_decay_schedule",
        inputs=(
            ("count", t),
            ("init_value", eta_max),
            ("decay_steps", T),
            ("alpha", eta_min / eta_max),
        ),
        expected=Status.DIFFERS,
        badge="holds η_min after T",
        difference="optax holds η_min after t = T; the sheet's cosine climbs back to η_max at 2T",
        agrees_when="0 ≤ t ≤ T",
    ),
)
P.also(
    "schedules.warmup",
    Matches(
        sheet=_WARMUP_SHEET,
        framework="optax",
        reference="optax.join_schedules(linear warmup, linear decay)",
        inputs=(("count", t), ("eta_max", eta_max), ("t_warmup", t_warmup), ("t_total", t_total)),
        expected=Status.DIFFERS,
        badge="jump at t_warmup",
        difference="the sheet's decay starts at η_max·(t_total - t_warmup)/t_total, a jump down "
        "from η_max at t_warmup, and goes negative after t_total; the linear warmup-then-decay "
        "schedule is continuous and stops at 0",
        agrees_when="t < t_warmup",
    ),
)


# -- ... and in torch.optim.lr_scheduler, which counts calls of scheduler.step() ----------------
_STEPS = sp.floor(t)  # torch's schedulers take integer steps: compared at t = ⌊t⌋
P.also(
    "schedules.step",
    Matches(
        sheet="η(t) = η₀ · γ^⌊t/k⌋",
        framework="torch",
        reference="torch.optim.lr_scheduler.StepLR",
        inputs=(("last_epoch", _STEPS), ("lr", eta_0), ("step_size", k), ("gamma", gamma)),
        note="After ⌊t⌋ calls of scheduler.step(); ⌊⌊t⌋/k⌋ = ⌊t/k⌋, so every real t is compared.",
    ),
)
P.also(
    "schedules.exponential",
    Matches(
        sheet="η(t) = η₀ · e^(-λt)",
        framework="torch",
        reference="torch.optim.lr_scheduler.ExponentialLR",
        subject=_exp.subs(t, _STEPS),
        inputs=(("last_epoch", _STEPS), ("lr", eta_0), ("gamma", sp.exp(-lam))),
        note="At whole steps t (torch counts calls of scheduler.step()), with γ = e^(-λ).",
    ),
)
P.also(
    "schedules.cosine",
    Matches(
        sheet="η(t) = η_min + ½(η_max - η_min)(1 + cos(πt/T))",
        framework="torch",
        reference="torch.optim.lr_scheduler.CosineAnnealingLR",
        subject=_cos.subs(t, _STEPS),
        inputs=(("last_epoch", _STEPS), ("lr", eta_max), ("T_max", T), ("eta_min", eta_min)),
        sizes=((T, 10),),
        note="At whole steps t with T = 10 (T_max is an integer); η_max is the optimizer's "
        "initial lr. Past T torch's cosine climbs back, as the sheet's does.",
    ),
)
