"""Reference optimizers: what an update rule claims to be, written as PyTorch computes it.

Each reference is a list of variants (the framework's form first, then other forms in use
such as ε inside the square root); a claimed rule that matches a non-framework variant is
correct but differs in convention, and the verdict says how.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp


@dataclass(frozen=True)
class Variant:
    name: str
    steps: Callable[[Callable[[str], Any]], tuple[tuple[str, Any], ...]]
    convention: str = ""  # how it differs from the framework's form, if it does


def _sgd(s):
    return (("W", s("W") - s("eta") * s("g")),)


def _momentum(s):
    v = s("beta") * s("v_mom") + s("g")
    return (("v_mom", v), ("W", s("W") - s("eta") * v))


def _nesterov(s):
    # Sutskever et al. (2013): the gradient at the look-ahead point W − η·β·v.
    v = s("beta") * s("v_mom") + s("grad_L")(s("W") - s("eta") * s("beta") * s("v_mom"))
    return (("v_mom", v), ("W", s("W") - s("eta") * v))


def _adagrad(outside: bool):
    def steps(s):
        G = s("G") + s("g") ** 2
        scale = (sp.sqrt(G) + s("epsilon")) if outside else sp.sqrt(G + s("epsilon"))
        return (("G", G), ("W", s("W") - s("eta") * s("g") / scale))

    return steps


def _rmsprop(outside: bool):
    def steps(s):
        G = s("beta") * s("G") + (1 - s("beta")) * s("g") ** 2
        scale = (sp.sqrt(G) + s("epsilon")) if outside else sp.sqrt(G + s("epsilon"))
        return (("G", G), ("W", s("W") - s("eta") * s("g") / scale))

    return steps


def _adam_moments(s):
    m = s("beta_1") * s("m") + (1 - s("beta_1")) * s("g")
    v = s("beta_2") * s("v") + (1 - s("beta_2")) * s("g") ** 2
    mhat = m / (1 - s("beta_1") ** s("t"))
    vhat = v / (1 - s("beta_2") ** s("t"))
    return m, v, mhat, vhat


def _adam(s):
    m, v, mhat, vhat = _adam_moments(s)
    W = s("W") - s("eta") * mhat / (sp.sqrt(vhat) + s("epsilon"))
    return (("m", m), ("v", v), ("mhat", mhat), ("vhat", vhat), ("W", W))


def _adamw(s):
    # torch.optim.AdamW: W ← W·(1 − η·λ), then the Adam step.
    m, v, mhat, vhat = _adam_moments(s)
    decayed = s("W") * (1 - s("eta") * s("lambda"))
    W = decayed - s("eta") * mhat / (sp.sqrt(vhat) + s("epsilon"))
    return (("m", m), ("v", v), ("mhat", mhat), ("vhat", vhat), ("W", W))


EPS_NOTE = (
    "ε inside the square root; PyTorch (torch.optim.{name}) and the original paper divide by √G + ε"
)

REFERENCES: Mapping[str, tuple[Variant, ...]] = {
    "gradient_descent": (Variant("W ← W − η·∇L", _sgd),),
    "sgd": (Variant("torch.optim.SGD: W ← W − η·g (g on a mini-batch)", _sgd),),
    "momentum": (Variant("torch.optim.SGD(momentum=β): v ← βv + g; W ← W − ηv", _momentum),),
    "nesterov": (
        Variant("Nesterov (Sutskever 2013): v ← βv + ∇L(W − ηβv); W ← W − ηv", _nesterov),
    ),
    "adagrad": (
        Variant("torch.optim.Adagrad: W ← W − η·g/(√G + ε)", _adagrad(True)),
        Variant(
            "ε inside the root: W ← W − η·g/√(G + ε)",
            _adagrad(False),
            EPS_NOTE.format(name="Adagrad"),
        ),
    ),
    "rmsprop": (
        Variant("torch.optim.RMSprop: W ← W − η·g/(√G + ε)", _rmsprop(True)),
        Variant(
            "ε inside the root: W ← W − η·g/√(G + ε)",
            _rmsprop(False),
            EPS_NOTE.format(name="RMSprop"),
        ),
    ),
    "adam": (Variant("torch.optim.Adam", _adam),),
    "adamw": (Variant("torch.optim.AdamW (decoupled weight decay)", _adamw),),
}


def run(assignments: tuple[tuple[Any, Any], ...]) -> dict[str, Any]:
    """Carry out sequential assignments; the final value of every target, by name."""
    state: dict[Any, Any] = {}
    for target, value in assignments:
        state[target] = sp.sympify(value).xreplace(state)
    return {str(k): v for k, v in state.items()}
