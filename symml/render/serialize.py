"""The stable JSON form of catalog entries (schema documented in docs/json-schema.md)."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

import symml.catalog.primitives
from symml.catalog.building import index_entry
from symml.catalog.index import IndexEntry
from symml.catalog.model import (
    Claim,
    Derivative,
    Domain,
    Formula,
    Identity,
    Matches,
    Property,
    SymbolSpec,
    UpdateRule,
)
from symml.render.latex import latex


def expression(expr: Any) -> dict[str, str] | None:
    """An expression as ``{"srepr", "text", "latex"}``; None stays None."""
    if expr is None:
        return None
    if isinstance(expr, Domain):
        return {"srepr": "", "text": expr.describe(), "latex": expr.describe()}
    if not isinstance(expr, sp.Basic):
        expr = sp.sympify(expr)
    return {"srepr": sp.srepr(expr), "text": sp.sstr(expr), "latex": _latex(expr)}


def _input(value: Any) -> Any:
    if isinstance(value, (bool, str)):
        return {"srepr": "", "text": repr(value), "latex": repr(value)}
    return expression(value)


def _latex(expr: sp.Basic) -> str:
    # Imported lazily: the printer is heavier than the rest of the data model.

    return latex(expr)


def symbol(spec: SymbolSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "kind": spec.kind,
        "domain": spec.domain.describe(),
        "shape": [str(d) for d in spec.shape.dims],
        "shape_text": spec.shape.describe(),
        "meaning": spec.meaning,
        "sheet_text": spec.sheet,
        "typical": str(spec.typical) if spec.typical is not None else None,
        "distribution": spec.distribution or None,
        "stands_for": (
            {"of": expression(spec.stands_for[0]), "wrt": str(spec.stands_for[1])}
            if spec.stands_for
            else None
        ),
    }


def claim(item: Claim) -> dict[str, Any]:
    statement: dict[str, Any] = {}
    if isinstance(item, Derivative):
        statement = {
            "of": expression(item.of),
            "wrt": expression(item.wrt),
            "claimed": expression(item.claimed),
            "where": [[expression(a), expression(b)] for a, b in item.where],
        }
    elif isinstance(item, Identity):
        statement = {"lhs": expression(item.lhs), "rhs": expression(item.rhs)}
    elif isinstance(item, Property):
        statement = {
            "predicate": item.predicate,
            "subject": expression(item.subject),
            "params": {k: expression(v) for k, v in item.params},
        }
    elif isinstance(item, Matches):
        statement = {
            "framework": item.framework,
            "reference": item.reference,
            "inputs": {
                k: expression(sp.Tuple(*v)) if isinstance(v, tuple) else _input(v)
                for k, v in item.inputs
            },
            "subject": expression(item.subject),
            "rule": (
                [[expression(t), expression(v)] for t, v in item.run.assignments]
                if item.run
                else []
            ),
            "observe": expression(item.run.observe) if item.run else None,
            "difference": item.difference or None,
            "agrees_when": item.agrees_when or None,
        }
    elif isinstance(item, UpdateRule):
        statement = {
            "algorithm": item.algorithm,
            "assignments": [[expression(t), expression(v)] for t, v in item.assignments],
        }
    correction = item.correction
    if isinstance(correction, tuple):
        correction_json: Any = [[expression(t), expression(v)] for t, v in correction]
    elif isinstance(correction, str):
        correction_json = correction
    else:
        correction_json = expression(correction)
    return {
        "kind": item.kind.value,
        "sheet_text": item.sheet,
        "expected": item.expected.value,
        "statement": statement,
        "correction": correction_json,
        "conditions": [c if isinstance(c, str) else expression(c) for c in item.conditions],
        "readings": [
            {"name": r.name, "expr": expression(r.expr), "correct": r.correct, "note": r.note}
            for r in item.readings
        ],
        "note": item.note,
    }


def formula(entry: Formula) -> dict[str, Any]:
    return {
        **_head(entry),
        "text": sp.sstr(entry.expr),
        "latex": _latex(entry.expr),
        "lhs": expression(entry.lhs),
        "symbols": [symbol(s) for s in entry.symbols],
        "claims": [claim(c) for c in entry.claims],
        "notes": list(entry.notes),
        "sheet_notes": list(entry.sheet_notes),
        "conventions": [
            {"framework": c.framework, "difference": c.difference} for c in entry.conventions
        ],
        "source": entry.source,
    }


def summary(entry: IndexEntry) -> dict[str, Any]:
    """The short form ``symml list --json`` prints, from the catalog's index (the same keys
    as the head of ``formula``)."""
    return {
        "id": entry.id,
        "part": entry.part,
        "part_title": entry.part_title,
        "name": entry.name,
        "sheet_text": entry.sheet,
        "expr": entry.expr,
        "claims": entry.claims,
    }


def _head(entry: Formula) -> dict[str, Any]:
    """The keys ``formula`` shares with ``summary``, in the same order."""
    head = summary(index_entry(entry, entry.source))
    del head["claims"]
    return head


@functools.lru_cache(maxsize=1)
def _srepr_namespace() -> dict[str, Any]:
    """A closed namespace of the classes ``srepr`` emits (no builtins)."""
    import importlib

    modules = [
        "sympy",
        "sympy.core.symbol",
        "sympy.core.numbers",
        "sympy.matrices.expressions",
        "sympy.matrices.expressions.applyfunc",
        "sympy.matrices.expressions.special",
        "sympy.matrices.expressions.hadamard",
        "sympy.matrices.expressions.matexpr",
        "sympy.stats",
        "sympy.stats.rv",
        "sympy.stats.crv",
        "sympy.stats.frv",
        "sympy.stats.crv_types",
        "sympy.stats.frv_types",
        "sympy.sets.sets",
        "sympy.sets.fancysets",
        "sympy.tensor.indexed",
        "sympy.concrete.summations",
        "sympy.logic.boolalg",
        "sympy.functions.elementary.piecewise",
        "sympy.core.function",
        "sympy.core.containers",
        "sympy.stats.joint_rv_types",
        "sympy.matrices.expressions.blockmatrix",
    ]
    names: dict[str, Any] = {"__builtins__": {}}
    for module_name in modules:
        module = importlib.import_module(module_name)
        names.update({k: v for k, v in vars(module).items() if not k.startswith("_")})
    names.update({f.__name__: f for f in symml.catalog.primitives.PRIMITIVES})
    return names


def from_srepr(text: str) -> Any:
    """Rebuild an expression from ``sympy.srepr`` output in a closed namespace."""
    return eval(text, dict(_srepr_namespace()))  # noqa: S307 - closed namespace, srepr only
