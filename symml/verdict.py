"""The result of checking one claim."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from symml.model import Status
from symml.numeric import Counterexample


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

    @property
    def as_expected(self) -> bool | None:
        return None if self.expected is None else self.status is self.expected

    def with_(self, **changes: Any) -> Verdict:
        return replace(self, **changes)

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
        }
