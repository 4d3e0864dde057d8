"""`symml check` on the notes corpus (tests/data/notes/): recall, precision, slips caught.

Prints a table per file and writes benchmarks/results/notes.json. Recall is claims judged
over the claims a careful reader would check (tests/data/notes/expected.toml); precision is
the number of correct lines refuted (the goal is 0); slips caught are planted mistakes refuted.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "data"))

from notes_corpus import NOTES, expected, score  # noqa: E402

from symml.read.check import check_file  # noqa: E402


def main(timeout: float = 10.0) -> None:
    rows = []
    started = time.perf_counter()
    for name, expect in expected().items():
        start = time.perf_counter()
        findings = check_file(NOTES / name, timeout=timeout)
        result = score(name, findings, expect)
        rows.append({**result.as_dict(), "seconds": round(time.perf_counter() - start, 2)})
    header = f"{'file':30} {'claims':>6} {'judged':>6} {'recall':>7} {'wrong':>5} {'slips':>9}  s"
    print(header)
    for row in rows:
        slips = f"{row['slips_caught']}/{row['slips']}"
        print(
            f"{row['file']:30} {row['claims']:6} {row['judged']:6} {row['recall']:7.0%} "
            f"{len(row['correct_refuted']):5} {slips:>9}  {row['seconds']}"
        )
    claims = sum(r["claims"] for r in rows)
    judged = sum(r["judged"] for r in rows)
    wrong = sum(len(r["correct_refuted"]) for r in rows)
    slips = sum(r["slips"] for r in rows)
    caught = sum(r["slips_caught"] for r in rows)
    passed = sum(len(r["slips_passed"]) for r in rows)
    total = {
        "claims": claims,
        "judged": judged,
        "recall": round(judged / claims, 3),
        "correct_refuted": wrong,
        "slips": slips,
        "slips_caught": caught,
        "slips_judged_not_refuted": passed,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(
        f"{'total':30} {claims:6} {judged:6} {judged / claims:7.0%} {wrong:5} "
        f"{caught}/{slips:<7}  {total['seconds']}"
    )
    out = ROOT / "benchmarks" / "results" / "notes.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"total": total, "files": rows}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
