"""The note a gradient carries when its function has kinks (ReLU, |·|, Max, Piecewise).

``d relu(z)/dz = Heaviside(z)`` is right everywhere except at z = 0, where the derivative
does not exist; the formula still gives a number there (SymPy's Heaviside(0) = 1/2), which
is a convention, not a derivative. ``symml grad`` says so next to the result.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from symml.catalog.primitives import elementary
from symml.engine.derivative_check import switch_arguments

# What each step function is worth at its switch point, as SymPy evaluates it.
CONVENTIONS: tuple[tuple[Any, str], ...] = (
    (sp.Heaviside, "Heaviside(0) = 1/2"),
    (sp.sign, "sign(0) = 0"),
)
FRAMEWORKS = "frameworks pick one side instead (PyTorch and JAX: relu′(0) = 0)"


def kink_note(of: Any, value: Any, wrt: Any) -> str:
    """Where ``of`` is not differentiable and which convention ``value`` uses there; ""
    when ``of`` has no kink in ``wrt``."""
    places = _kinks(of, wrt)
    if not places:
        return ""
    where = " and ".join(places)
    text = f"not differentiable where {where} (a kink): the derivative does not exist there"
    used = [c for step, c in CONVENTIONS if isinstance(value, sp.Basic) and value.has(step)]
    if used:
        text += f"; the formula gives {', '.join(used)} there, SymPy's convention"
        if _has_relu(of):
            text += f"; {FRAMEWORKS}"
    return text


def _has_relu(of: Any) -> bool:
    """max(0, u) somewhere in ``of`` (however ReLU was written)."""
    return any(
        isinstance(node, sp.Max) and sp.S.Zero in node.args
        for node in sp.preorder_traversal(elementary(of))
    )


def _kinks(of: Any, wrt: Any) -> list[str]:
    if not isinstance(of, sp.Basic):
        return []
    places: list[str] = []
    if isinstance(of, sp.MatrixExpr):
        for node in sp.preorder_traversal(of):
            if isinstance(node, ElementwiseApplyFunction) and node.expr.has(wrt):
                u = sp.Dummy("u")
                if switch_arguments(node.function(u)):
                    places.append(f"an entry of {sp.sstr(node.expr)} is 0")
        return list(dict.fromkeys(places))
    for argument in switch_arguments(of):
        if not argument.has(wrt):
            continue
        if argument.could_extract_minus_sign():
            argument = -argument
        places.append(f"{sp.sstr(argument)} = 0")
    return list(dict.fromkeys(places))
