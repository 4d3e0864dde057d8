"""Benchmark: how long each command takes to start, against ``python -c "import sympy"``.

Issue 16's budget, as ratios to the baseline measured in the same run (these machines are
noisy; the ratio is what is compared): ``import symml`` ≤ 1.2×, ``symml show ID`` and
``symml list`` ≤ 1.5×, ``symml grad activations.sigmoid`` ≤ 2×, ``symml parse`` ≤ 1.5×.
Each command runs ``--repeat`` times (default 5) in a fresh process, interleaved with the
baseline, and the median is kept. Prints a table, writes benchmarks/results/startup.json.

The package runs from bytecode, as an installed one does (pip byte-compiles at install):
the checkout is byte-compiled first, since a machine that sets PYTHONDONTWRITEBYTECODE (this
one does) would otherwise compile every module on every run. The ``symml`` command freezes the garbage collector before it exits
(``symml.cli.main.run``), which spares it a last collection over SymPy's caches at shutdown;
the baseline pays that collection. One row without a budget shows the baseline frozen the
same way, so the work beyond SymPy can be read off on equal terms. Two more split ``symml
parse``: SymPy and the reader package imported, then also latex2sympy2_extended imported and
its reading of the same formula (the second reading, which turns misreadings into refusals),
both without the freeze.

    python3 benchmarks/startup.py [--repeat N]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

#: (label, command, budget as a ratio to the baseline)
COMMANDS: tuple[tuple[str, list[str], float | None], ...] = (
    ('python -c "import sympy"', [PY, "-c", "import sympy"], None),
    ("import sympy, then gc.freeze()", [PY, "-c", "import sympy, gc; gc.freeze()"], None),
    ("import symml", [PY, "-c", "import symml"], 1.2),
    ("symml list", [PY, "-m", "symml", "list"], 1.5),
    ("symml show activations.sigmoid", [PY, "-m", "symml", "show", "activations.sigmoid"], 1.5),
    ("symml parse '\\sigma(x)'", [PY, "-m", "symml", "parse", "\\sigma(x)"], 1.5),
    ("symml grad activations.sigmoid", [PY, "-m", "symml", "grad", "activations.sigmoid"], 2.0),
    ("import sympy, symml.read", [PY, "-c", "import sympy, symml.read"], None),
    (
        "  + latex2sympy2_extended's reading",
        [
            PY,
            "-c",
            "import sympy, symml.read, latex2sympy2_extended as l; l.latex2sympy(r'\\sigma(x)')",
        ],
        None,
    ),
)


def seconds(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for folder in ("symml", "derivations"):
        compileall.compile_dir(ROOT / folder, quiet=1)
    times: dict[str, list[float]] = {label: [] for label, _, _ in COMMANDS}
    for round_ in range(args.repeat):
        for label, command, _ in COMMANDS:
            times[label].append(seconds(command))
        print(f"round {round_ + 1}/{args.repeat} done", file=sys.stderr)
    medians = {label: statistics.median(t) for label, t in times.items()}
    baseline = medians[COMMANDS[0][0]]
    print(f"{'command':<36} {'median s':>9} {'ratio':>7} {'budget':>7}  within")
    rows = {}
    for label, _, budget in COMMANDS:
        ratio = medians[label] / baseline
        within = "" if budget is None else ("yes" if ratio <= budget else "NO")
        shown = "" if budget is None else f"{budget:.1f}×"
        print(f"{label:<36} {medians[label]:9.3f} {ratio:6.2f}× {shown:>7}  {within}")
        rows[label] = {
            "median_seconds": round(medians[label], 4),
            "runs_seconds": [round(t, 4) for t in times[label]],
            "ratio_to_import_sympy": round(ratio, 3),
            "budget": budget,
        }
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_end": list(os.getloadavg()),
        },
        "commands": rows,
    }
    out = ROOT / "benchmarks" / "results" / "startup.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
