"""Hand-made verdicts for the golden rendering tests: fixed statuses, methods and witnesses, so the
expected strings pin symml's rendering and not the engine's current numbers."""

from __future__ import annotations

from symml.catalog.model import Status
from symml.engine.verdict import Verdict
from symml.evaluate.numeric import Counterexample

VERDICTS = {
    "activations.sigmoid": (
        Verdict(Status.PROVED, "symbolic: normal form", claim="activations.sigmoid#1"),
        Verdict(Status.PROVED, "symbolic: signs", claim="activations.sigmoid#2"),
    ),
    "activations.relu": (
        Verdict(
            Status.CONDITIONAL,
            "symbolic: direct; fails without the condition",
            conditions=("Ne(z, 0)",),
            claim="activations.relu#1",
        ),
    ),
    "losses.cce": (
        Verdict(
            Status.CONDITIONAL,
            "symbolic: normal form; fails without the condition",
            conditions=("Eq(Sum(y_cls[j], (j, 1, k)), 1)",),
            claim="losses.cce#1",
        ),
    ),
    "optim.nesterov_step": (
        Verdict(
            Status.REFUTED,
            "one step against Nesterov: numeric sampling",
            counterexample=Counterexample(
                point={
                    "W": "297/250",
                    "beta": "1/2",
                    "eta": "261/1000",
                    "v_mom": "-129/250",
                    "grad_L": "(u0) ↦ 13*u0**3/70 - 3*u0/5",
                },
                lhs="[-0.391490217977, 1.29017894689]",
                rhs="[-0.520142434657, 1.32375717545]",
            ),
            claim="optim.nesterov_step#1",
        ),
    ),
    "forward.layer1_act": (
        Verdict(
            Status.AMBIGUOUS,
            "readings evaluated at the same point",
            counterexample=Counterexample(
                point={"z_1[0, 0]": "1/2", "z_1[1, 0]": "1/2", "sigma": "(u0) ↦ u0/2"},
                lhs="[0.543214285714, 0.543214285714]",
                rhs="[0.622459331202, 0.622459331202]",
            ),
            readings=(
                ("σ is the generic activation", "correct", ""),
                ("σ is the sigmoid", "in use", ""),
            ),
            claim="forward.layer1_act#1",
        ),
    ),
}

# The entries each case shows: Nesterov's error sits on the velocity entry's line.
SHOWN = {
    "activations.sigmoid": ("activations.sigmoid",),
    "activations.relu": ("activations.relu",),
    "losses.cce": ("losses.cce",),
    "optim.nesterov_step": ("optim.nesterov_velocity", "optim.nesterov_step"),
    "forward.layer1_act": ("forward.layer1_act",),
}
