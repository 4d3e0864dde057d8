"""The result of checking one claim."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from typing import Any

from symml.catalog.model import Status
from symml.evaluate.numeric import Counterexample


@dataclass(frozen=True)
class Verdict:
    """``status`` and the ``method`` that settled it; for refuted, conditional and ambiguous
    claims a ``counterexample`` or the ``conditions``, and a one-line ``detail``."""

    status: Status
    method: str
    detail: str = ""
    counterexample: Counterexample | None = None
    conditions: tuple[str, ...] = ()
    seconds: float = 0.0
    notes: tuple[str, ...] = ()
    claim: str = ""  # "activations.sigmoid#1" for catalog claims
    sheet: str = ""
    kind: str = ""
    expected: Status | None = None
    readings: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)
    cached: bool = False  # revived from the proof cache (its seconds are the original run's)

    @property
    def as_expected(self) -> bool | None:
        return None if self.expected is None else self.status is self.expected

    def _repr_latex_(self) -> str:
        """Notebooks show the verdict in words and mathematics (symml.render.explain).

        The explainer sits in the render layer above this one, so it is looked up by name
        when a notebook asks, never at import."""
        return importlib.import_module("symml.render.explain").verdict_tex(self)

    def with_(self, **changes: Any) -> Verdict:
        return replace(self, **changes)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Verdict:
        witness = data.get("counterexample")
        return cls(
            status=Status(data["status"]),
            method=data["method"],
            detail=data.get("detail", ""),
            counterexample=Counterexample(**witness) if witness else None,
            conditions=tuple(data.get("conditions", ())),
            seconds=float(data.get("seconds", 0.0)),
            notes=tuple(data.get("notes", ())),
            claim=data.get("claim", ""),
            sheet=data.get("sheet_text", ""),
            kind=data.get("kind", ""),
            expected=Status(data["expected"]) if data.get("expected") else None,
            readings=tuple((r["name"], r["status"], r["detail"]) for r in data.get("readings", ())),
            cached=True,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "claim": self.claim,
            "kind": self.kind,
            "sheet_text": self.sheet,
            "status": self.status.value,
            "expected": self.expected.value if self.expected else None,
            "as_expected": self.as_expected,
            "method": self.method,
            "detail": self.detail,
            "counterexample": (
                {
                    "point": self.counterexample.point,
                    "lhs": self.counterexample.lhs,
                    "rhs": self.counterexample.rhs,
                }
                if self.counterexample
                else None
            ),
            "conditions": list(self.conditions),
            "readings": [{"name": n, "status": s, "detail": d} for n, s, d in self.readings],
            "notes": list(self.notes),
            "seconds": round(self.seconds, 4),
            "cached": self.cached,
        }
