"""Parse time per corpus formula: median over repeats; prints a table, writes JSON."""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "data"))

from corpus import CORPUS  # noqa: E402

from symml.read import LatexParseError, SymbolTable, parse_latex  # noqa: E402


def main(repeats: int = 20) -> None:
    rows = []
    for latex, _, decl in CORPUS:
        table = SymbolTable.parse(decl)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            try:
                parse_latex(latex, symbols=table)
            except LatexParseError:
                pass
            times.append(time.perf_counter() - start)
        rows.append({"latex": latex, "median_ms": statistics.median(times) * 1000})
    for row in sorted(rows, key=lambda r: -r["median_ms"])[:15]:
        print(f"{row['median_ms']:8.3f} ms  {row['latex'][:70]}")
    overall = statistics.median(r["median_ms"] for r in rows)
    print(f"median over {len(rows)} formulas: {overall:.3f} ms")
    out = ROOT / "benchmarks" / "results" / "parse.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"median_ms": overall, "formulas": rows}, indent=1))


if __name__ == "__main__":
    main()
