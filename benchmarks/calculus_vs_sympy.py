"""symml.calculus against SymPy's own matrix ``.diff`` on the Matrix Cookbook set
(tests/cookbook_cases.py). Each answer is judged by the same elementwise cross-check
(symml.calculus.crosscheck) at two assignments of concrete sizes. Prints a table, writes
benchmarks/results/calculus_vs_sympy.json, and replaces the table in docs/calculus.md
between its two marker lines.

    python3 benchmarks/calculus_vs_sympy.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's symml, not an older installed copy
sys.path.insert(0, str(ROOT / "tests"))

import sympy as sp  # noqa: E402
from cookbook_cases import CASES  # noqa: E402

from symml.calculus import matrix_derivative  # noqa: E402
from symml.calculus.crosscheck import mismatch  # noqa: E402
from symml.calculus.derivative import check_assignments  # noqa: E402
from symml.errors import SymmlError  # noqa: E402

BEGIN, END = "<!-- comparison: begin -->", "<!-- comparison: end -->"


def judge(candidate: object, of: object, wrt: sp.MatrixSymbol) -> str:
    """correct / transposed / wrong / not checkable, by the elementwise reference."""
    assignments = check_assignments([of, wrt])
    try:
        if mismatch(candidate, of, wrt, assignments) is None:
            return "correct"
        if (
            isinstance(candidate, sp.MatrixExpr)
            and mismatch(candidate.T, of, wrt, assignments) is None
        ):
            return "correct, transposed layout"
        return "**wrong**"
    except SymmlError as exc:
        return f"not checkable ({str(exc).split(': ')[-1][:40]})"
    except Exception as exc:  # SymPy's answer could not even be written out
        return f"not checkable ({type(exc).__name__})"


def sympy_answer(of: object, wrt: sp.MatrixSymbol) -> tuple[str, str, float]:
    start = time.perf_counter()
    try:
        value = sp.sympify(of).diff(wrt)
    except Exception as exc:
        return f"raises {type(exc).__name__}", "", time.perf_counter() - start
    seconds = time.perf_counter() - start
    return sp.sstr(value), judge(value, of, wrt), seconds


def ours(of: object, wrt: sp.MatrixSymbol) -> tuple[str, str, float]:
    start = time.perf_counter()
    try:
        result = matrix_derivative(of, wrt)
    except SymmlError as exc:
        return "refused", str(exc)[:60], time.perf_counter() - start
    return sp.sstr(result.value), "correct (guarded)", time.perf_counter() - start


def main() -> None:
    rows = []
    for case in CASES:
        s_text, s_verdict, s_time = sympy_answer(case.of, case.wrt)
        o_text, o_verdict, o_time = ours(case.of, case.wrt)
        rows.append(
            {
                "case": case.name,
                "sympy": s_text,
                "sympy_verdict": s_verdict,
                "sympy_seconds": round(s_time, 3),
                "symml": o_text,
                "symml_verdict": o_verdict,
                "symml_seconds": round(o_time, 3),
            }
        )
        print(f"{case.name:<34} sympy: {s_verdict:<28} symml: {o_verdict}")
    tally = {
        "sympy_correct": sum(r["sympy_verdict"].startswith("correct") for r in rows),
        "sympy_wrong": sum("wrong" in r["sympy_verdict"] for r in rows),
        "symml_correct": sum(r["symml_verdict"].startswith("correct") for r in rows),
        "cases": len(rows),
    }
    print(tally)
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "calculus_vs_sympy.json").write_text(
        json.dumps({"tally": tally, "rows": rows}, indent=1, ensure_ascii=False)
    )
    _write_doc(rows, tally)


def _cell(text: str, width: int = 60) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def _write_doc(rows: list[dict], tally: dict) -> None:
    doc = ROOT / "docs" / "calculus.md"
    text = doc.read_text(encoding="utf-8")
    lines = [
        BEGIN,
        f"{tally['cases']} cases. SymPy {sp.__version__} `.diff`: {tally['sympy_correct']} correct, "
        f"{tally['sympy_wrong']} wrong, the rest unevaluated or raising. symml.calculus: "
        f"{tally['symml_correct']} correct in matrix form (every result passed the guard).",
        "",
        "| case | SymPy `.diff` | verdict on SymPy | symml.calculus |",
        "|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | `{_cell(r['sympy'])}` | {r['sympy_verdict']} | `{_cell(r['symml'])}` |"
        )
    lines.append(END)
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    doc.write_text(head + "\n".join(lines) + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
