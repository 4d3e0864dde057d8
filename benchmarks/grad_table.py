"""Writes docs/grad-table.md: what `symml grad` answers for every catalog (formula, variable)
pair, with the counts per outcome and the wall time.

    python3 benchmarks/grad_table.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's symml, not an older installed copy

from symml.catalog.loader import load_catalog  # noqa: E402
from symml.render.grad_table import counts, markdown, rows  # noqa: E402


def main() -> None:
    start = time.perf_counter()
    table = rows(load_catalog())
    seconds = time.perf_counter() - start
    (ROOT / "docs" / "grad-table.md").write_text(markdown(table), encoding="utf-8")
    totals = dict(counts(table))
    print(f"{len(table)} pairs in {seconds:.1f} s: {totals}")
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "grad_table.json").write_text(
        json.dumps({"pairs": len(table), "seconds": round(seconds, 1), "counts": totals}, indent=1)
    )


if __name__ == "__main__":
    main()
