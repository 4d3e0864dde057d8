"""Benchmark: what the element-wise guard costs the kernels' matrix gradients.

For every (matrix formula, matrix symbol) pair of the catalog, ``symml.calculus.reverse_vjp``
is timed twice in one process: the first call applies the reverse-mode rules and runs the
guard (the result written out element-wise at two assignments of sizes, two points each);
the second finds the passed guard remembered, so it is the rules alone. Prints a table with
the ratio of the two, writes benchmarks/results/reverse_vjp.json.

    python3 benchmarks/reverse_vjp.py
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from symml.calculus import reverse_vjp
from symml.catalog.loader import load_catalog
from symml.errors import DerivationError

ROOT = Path(__file__).resolve().parent.parent


def timed(expr: MatrixExpr, wrt: sp.MatrixSymbol) -> tuple[float, float, str]:
    upstream = sp.MatrixSymbol("grad_out", *expr.shape)
    times = []
    outcome = "guarded"
    for _ in range(2):
        start = time.perf_counter()
        try:
            reverse_vjp(expr, wrt, upstream)
        except DerivationError as exc:
            outcome = f"refused: {exc.problem}"
        times.append(time.perf_counter() - start)
    return times[0], times[1], outcome


def main() -> None:
    rows = []
    for formula in load_catalog():
        expr = formula.expr
        if not isinstance(expr, MatrixExpr):
            continue
        for wrt in sorted(expr.atoms(sp.MatrixSymbol), key=lambda m: str(m.name)):
            first, again, outcome = timed(expr, wrt)
            rows.append(
                {
                    "formula": formula.id,
                    "wrt": str(wrt.name),
                    "guarded_s": first,
                    "rules_s": again,
                    "outcome": outcome,
                }
            )
    print(f"{'formula':<34} {'wrt':<14} {'guarded s':>10} {'rules s':>9} {'ratio':>8}")
    for r in rows:
        ratio = r["guarded_s"] / max(r["rules_s"], 1e-9)
        note = "" if r["outcome"] == "guarded" else f"   {r['outcome'][:40]}"
        print(
            f"{r['formula']:<34} {r['wrt']:<14} {r['guarded_s']:10.3f} {r['rules_s']:9.4f} "
            f"{ratio:7.0f}×{note}"
        )
    guarded = sum(r["guarded_s"] for r in rows)
    rules = sum(r["rules_s"] for r in rows)
    print(
        f"\n{len(rows)} pairs: {guarded:.1f} s with the guard, {rules:.2f} s rules alone "
        f"({guarded / max(rules, 1e-9):.0f}×); refused {sum(r['outcome'] != 'guarded' for r in rows)}"
    )
    out = ROOT / "benchmarks" / "results" / "reverse_vjp.json"
    out.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "sympy": sp.__version__,
                "pairs": rows,
                "total_guarded_s": guarded,
                "total_rules_s": rules,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
