"""Textbook forms that need a name: the softmax Jacobian is diag(s) − s sᵀ with s = softmax(z).

Each form is a rule (a frozen dataclass in ``FORMS``): it recognises the function, builds
the textbook expression with the named parts (``symml.calculus.nodes.Named``) and the legend
that says what each name stands for. The caller still passes the result through the guard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.matrices.expressions.matexpr import MatrixExpr

from symml.calculus.nodes import Named, softmax_of
from symml.calculus.sameness import same


@dataclass(frozen=True)
class Form:
    """A named textbook form of ∂of/∂wrt: ``build(of, wrt)`` → (value, legend) or None."""

    name: str
    build: Callable[[Any, sp.MatrixSymbol], tuple[MatrixExpr, str] | None]


def _softmax_jacobian(of: Any, wrt: sp.MatrixSymbol) -> tuple[MatrixExpr, str] | None:
    """∂softmax(z)/∂z = diag(s) − s sᵀ."""
    if not (isinstance(of, MatrixExpr) and wrt.shape[1] == 1 and of.shape == wrt.shape):
        return None
    maps = [e for e in sp.preorder_traversal(of) if isinstance(e, ElementwiseApplyFunction)]
    if not any(e.expr == wrt for e in maps) or not same(of, softmax_of(wrt)):
        return None
    s = Named("s", softmax_of(wrt))
    return sp.MatAdd(DiagMatrix(s), -s * s.T), f"s = softmax({wrt}) = exp({wrt})/Σ exp({wrt})"


FORMS: tuple[Form, ...] = (Form("softmax Jacobian", _softmax_jacobian),)


def named_form(of: Any, wrt: sp.MatrixSymbol) -> tuple[MatrixExpr, str] | None:
    """The first named textbook form that recognises ∂of/∂wrt, with its legend."""
    for form in FORMS:
        found = form.build(of, wrt)
        if found is not None:
            return found
    return None
