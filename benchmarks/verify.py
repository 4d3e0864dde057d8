"""Benchmark: `symml verify` over the whole catalog, from a cold process.

Runs, in this order and in fresh processes: (1) one worker thread, empty proof cache;
(2) two worker threads, empty proof cache; (3) two workers, warm cache. Prints a table of
wall-clock times with ratios to run (1), the slowest claims, writes
benchmarks/results/verify.json and draws docs/verify-benchmark.png.

    python3 benchmarks/verify.py
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(workers: int, cache: str, fresh: bool) -> tuple[float, dict]:
    env = dict(os.environ, SYMML_CACHE_DIR=cache)
    # --against none: the catalog's own claims, what plain `symml verify` checks (the
    # framework comparisons that --json adds by default run in the main process, one by one).
    command = [
        sys.executable,
        "-m",
        "symml",
        "verify",
        "--json",
        "--against",
        "none",
        "--workers",
        str(workers),
    ]
    if fresh:
        command.append("--no-cache")
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"symml verify failed: {done.stderr.strip().splitlines()[-1]}")
    return wall, json.loads(done.stdout)


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        runs = {}
        runs["cold, 1 worker"] = run(1, cache, fresh=True)
        runs["cold, 2 workers"] = run(2, cache, fresh=False)  # fills the cache
        runs["warm cache, 2 workers"] = run(2, cache, fresh=False)
    baseline = runs["cold, 1 worker"][0]
    print(f"{'run':<24} {'wall s':>8} {'ratio':>7}   claims")
    for name, (wall, data) in runs.items():
        summary = data["summary"]
        print(
            f"{name:<24} {wall:8.2f} {baseline / wall:6.2f}×   {summary['claims']} "
            f"({summary['proved']} proved, {summary['not_as_expected']} not as expected)"
        )
    per_claim = sorted(runs["cold, 1 worker"][1]["verdicts"], key=lambda v: -v["seconds"])
    print("\nslowest claims (cold, 1 worker):")
    for verdict in per_claim[:10]:
        print(f"  {verdict['claim']:<40} {verdict['seconds']:7.2f} s  {verdict['status']}")
    seconds = [v["seconds"] for v in per_claim]
    median = sorted(seconds)[len(seconds) // 2]
    print(
        f"\nper claim: median {median:.2f} s, total {sum(seconds):.1f} s over {len(seconds)} claims"
    )
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "runs": {
            name: {
                "wall_seconds": round(wall, 3),
                "ratio_to_cold_1_worker": round(baseline / wall, 3),
            }
            for name, (wall, _) in runs.items()
        },
        "per_claim_seconds": {v["claim"]: v["seconds"] for v in per_claim},
    }
    out = ROOT / "benchmarks" / "results" / "verify.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    _plot(per_claim, ROOT / "docs" / "verify-benchmark.png")
    print(f"\nwrote {out.relative_to(ROOT)} and docs/verify-benchmark.png")


def _plot(per_claim: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = per_claim[:20][::-1]
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.barh([v["claim"] for v in top], [v["seconds"] for v in top], color="#4477aa")
    ax.set_xlabel("seconds (cold process, 1 worker)")
    ax.set_title("symml verify: the 20 slowest claims")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
