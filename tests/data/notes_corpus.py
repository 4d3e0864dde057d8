"""The notes corpus (tests/data/notes/) and how `symml check`'s findings score against it.

Per line of a file: a line is judged when a finding on it has a verdict (proved, numeric,
conditional, refuted); refuted when one is refuted. Recall is judged claims over claims;
precision is counted as correct lines refuted (the goal: none); a slip is caught when refuted.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NOTES = Path(__file__).resolve().parent / "notes"
JUDGED = ("proved", "numeric", "conditional", "refuted")


def expected() -> dict[str, dict[str, Any]]:
    with (NOTES / "expected.toml").open("rb") as handle:
        return tomllib.load(handle)


@dataclass
class Score:
    file: str
    claims: int = 0
    judged: int = 0
    slips: int = 0
    slips_judged: int = 0
    slips_caught: int = 0
    correct_refuted: list[int] = field(default_factory=list)  # ok lines refuted: must be []
    slips_passed: list[int] = field(default_factory=list)  # slips judged but not refuted
    other_refuted: list[int] = field(default_factory=list)  # refuted lines not listed

    @property
    def recall(self) -> float:
        return self.judged / self.claims if self.claims else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "recall": round(self.recall, 3)}


def score(name: str, findings: list[Any], expect: dict[str, Any]) -> Score:
    statuses: dict[int, set[str]] = {}
    for f in findings:
        statuses.setdefault(f.line, set()).add(f.status)
    ok = set(expect.get("ok", []))
    slips = {int(k) for k in expect.get("slips", {})}
    result = Score(name, claims=len(ok) + len(slips), slips=len(slips))
    for line in sorted(ok | slips):
        seen = statuses.get(line, set())
        judged = bool(seen & set(JUDGED))
        result.judged += judged
        if line in ok and "refuted" in seen:
            result.correct_refuted.append(line)
        if line in slips and judged:
            result.slips_judged += 1
            if "refuted" in seen:
                result.slips_caught += 1
            else:
                result.slips_passed.append(line)
    result.other_refuted = sorted(
        n for n, seen in statuses.items() if "refuted" in seen and n not in ok | slips
    )
    return result
