"""The hostile-input suite's shared parts: the tally each probe counts into (printed at the
end of the run by ``conftest.pytest_terminal_summary``), a CLI runner that records how a
run ended, and the inputs kernels are probed with: shapes and layouts read off the
formula's declared symbols, domain-aware ordinary values and extreme ones.

Imported by path (``--import-mode=importlib``), like ``catalog_kernels``.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp

from symml.cli.main import main
from symml.errors import SymmlError

#: The columns of the report, in order. The ones in ``MUST_BE_ZERO`` are asserted 0.
COLUMNS = (
    "runs",
    "refused",
    "tracebacks",
    "internal_errors",
    "bad_exits",
    "multi_line_errors",
    "code_executed",
    "elements",
    "nonfinite_where_finite",
    "wrong_dtype",
    "far",
    "no_reference",
)
MUST_BE_ZERO = (
    "tracebacks",
    "internal_errors",
    "bad_exits",
    "multi_line_errors",
    "code_executed",
    "nonfinite_where_finite",
    "wrong_dtype",
)

TALLY: dict[str, Counter[str]] = {}
#: The first few failures of each probe, for the assertion message.
EXAMPLES: dict[str, list[str]] = {}


def count(probe: str, column: str, n: int = 1, example: str | None = None) -> None:
    TALLY.setdefault(probe, Counter())[column] += n
    if example is not None and column in MUST_BE_ZERO:
        EXAMPLES.setdefault(probe, [])
        if len(EXAMPLES[probe]) < 5:
            EXAMPLES[probe].append(f"{column}: {example}")


def failures(probe: str) -> dict[str, int]:
    tally = TALLY.get(probe, Counter())
    return {c: tally[c] for c in MUST_BE_ZERO if tally[c]}


def assert_clean(probe: str) -> None:
    bad = failures(probe)
    assert TALLY.get(probe, Counter())["runs"] > 0, f"probe {probe} ran nothing"
    assert not bad, f"{probe}: {bad}; e.g. {EXAMPLES.get(probe, [])}"


def report_lines() -> list[str]:
    """The table printed at the end of the run: one row per probe."""
    shown = [
        c
        for c in COLUMNS
        if c in MUST_BE_ZERO or c in ("runs", "refused") or any(t[c] for t in TALLY.values())
    ]
    width = max([len(p) for p in TALLY] + [5])
    header = f"{'probe':<{width}}  " + "  ".join(f"{c:>{max(len(c), 6)}}" for c in shown)
    lines = [header, "-" * len(header)]
    for probe in sorted(TALLY):
        t = TALLY[probe]
        lines.append(f"{probe:<{width}}  " + "  ".join(f"{t[c]:>{max(len(c), 6)}}" for c in shown))
    totals = Counter()
    for t in TALLY.values():
        totals.update(t)
    lines.append(
        f"{'total':<{width}}  " + "  ".join(f"{totals[c]:>{max(len(c), 6)}}" for c in shown)
    )
    return lines


# -- the command line -------------------------------------------------------------------------

#: A file that only code run from a fuzzed string would create (``PAYLOADS`` create it).
MARKER = Path(tempfile.gettempdir()) / f"symml-hostile-ran-code-{os.getpid()}"
PAYLOADS = [
    f"__import__('pathlib').Path({str(MARKER)!r}).touch()",
    f"open({str(MARKER)!r}, 'w')",
    f"[c for c in ().__class__.__base__.__subclasses__()] or open({str(MARKER)!r}, 'w')",
]


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run_cli(probe: str, argv: Sequence[str]) -> Run:
    """``symml.cli.main.main(argv)`` in-process, counted: a traceback is any exception other than
    argparse's SystemExit; an internal error is main's "internal error" line; an exit code
    must be 0, 1 or 2; a usage error (2) is one line on stderr."""
    out, err = io.StringIO(), io.StringIO()
    shown = " ".join(repr(a) for a in argv)[:160]
    count(probe, "runs")
    try:
        with contextlib.redirect_stderr(err):
            code = main(list(argv), out=out)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:  # noqa: BLE001 - the thing being counted
        count(probe, "tracebacks", example=f"{shown}: {type(exc).__name__}: {exc}"[:300])
        return Run(-1, out.getvalue(), err.getvalue())
    if MARKER.exists():
        MARKER.unlink()
        count(probe, "code_executed", example=shown)
    text = err.getvalue()
    if "internal error" in text:
        count(probe, "internal_errors", example=f"{shown}: {text.strip()[:200]}")
    if "Traceback" in text:
        count(probe, "tracebacks", example=f"{shown}: {text.strip()[-200:]}")
    if code not in (0, 1, 2):
        count(probe, "bad_exits", example=f"{shown}: exit {code}")
    if code == 2:
        count(probe, "refused")
        errors = [line for line in text.splitlines() if line.startswith(("symml:", "usage:"))]
        if len(errors) != 1 or not text.endswith("\n"):
            count(probe, "multi_line_errors", example=f"{shown}: {text[:200]!r}")
    return Run(code, out.getvalue(), text)


# -- kernel inputs ---------------------------------------------------------------------------

#: Every size symbol of a shape becomes this, so the declared shapes fit together.
SIZE = 3


def _float(e: Any) -> float:
    return float(e) if e.is_finite else (math.inf if e > 0 else -math.inf)


def ordinary(domain: Any, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Values well inside a declared domain (a probability in [0.1, 0.9], a rate > 0)."""
    return np.asarray(_ordinary(domain, shape, rng), dtype=np.float64)


def _ordinary(domain: Any, shape: tuple[int, ...], rng: np.random.Generator) -> Any:
    if domain is None:
        return rng.normal(size=shape)
    if domain.values:
        return rng.choice([float(v) for v in domain.values], size=shape)
    lo, hi = _float(domain.lo), _float(domain.hi)
    if domain.integer:
        low = 1 if lo <= 0 < 1 <= hi and domain.lo_open else max(lo, 0)
        low = int(max(low, lo if math.isfinite(lo) else 0))
        high = int(min(hi, low + 8)) if math.isfinite(hi) else low + 8
        return rng.integers(low, max(high, low) + 1, size=shape).astype(float)
    if math.isfinite(lo) and math.isfinite(hi):
        return rng.uniform(lo + 0.1 * (hi - lo), hi - 0.1 * (hi - lo), size=shape)
    if math.isfinite(lo):
        return lo + rng.uniform(0.5, 2.0, size=shape)
    if math.isfinite(hi):
        return hi - rng.uniform(0.5, 2.0, size=shape)
    return rng.normal(size=shape)


def extremes(dtype: np.dtype) -> list[float]:
    """The finite values floating point gets wrong most often, for this dtype: ±1e30, the
    smallest subnormal, ±1e-30, values a rounding away from 0 and 1."""
    info = np.finfo(dtype)
    sub = float(info.smallest_subnormal)
    return [
        1e30,
        -1e30,
        sub,
        -sub,
        1e-30,
        -1e-30,
        0.0,
        1.0,
        -1.0,
        float(1 - info.epsneg),
        float(info.tiny),
    ]


NONFINITE = [math.inf, -math.inf, math.nan]


def inside(domain: Any, values: np.ndarray) -> np.ndarray:
    """Which values lie in the domain (every one when there is none)."""
    if domain is None:
        return np.ones(values.shape, bool)
    with np.errstate(invalid="ignore"):
        if domain.values:
            return np.isin(values, [float(v) for v in domain.values])
        lo, hi = _float(domain.lo), _float(domain.hi)
        ok = (values > lo) if domain.lo_open else (values >= lo)
        ok &= (values < hi) if domain.hi_open else (values <= hi)
        if domain.integer:
            ok &= np.isfinite(values) & (values == np.round(values))
        return ok


def with_extremes(
    domain: Any,
    base: np.ndarray,
    dtype: np.dtype,
    rng: np.random.Generator,
    share: float,
    finite: bool,
) -> np.ndarray:
    """``base`` with a share of its elements replaced by extreme values of the domain (and,
    unless ``finite``, by ±inf and nan)."""
    pool = np.array(extremes(dtype) + ([] if finite else NONFINITE))
    pool = pool[inside(domain, pool)] if finite else pool
    out = base.copy()
    if pool.size == 0 or out.size == 0:
        return out
    pick = rng.random(out.shape) < share
    out[pick] = rng.choice(pool, size=int(pick.sum()))
    return out


@dataclass(frozen=True)
class Slot:
    """One argument of a kernel: its shape at SIZE and its domain (None when undeclared)."""

    name: str
    shape: tuple[int, ...]
    domain: Any
    batched: bool  # a scalar of the formula: takes the call's batch shape


def slots(k: Any, formula: Any, batch: tuple[int, ...]) -> list[Slot]:
    """The arguments' shapes for one call: families get the batch shape and their declared
    trailing axes, matrices their declared shape, scalars the batch shape."""
    plan = k.plan
    found = []
    for a in k.args:
        try:
            spec = formula.symbol(a) if formula is not None else None
        except KeyError:
            spec = None
        domain = spec.domain if spec is not None else None
        dims = ()
        if spec is not None and spec.shape.dims:
            dims = tuple(
                int(sp.sympify(d).subs(dict.fromkeys(_sizes(d), SIZE))) for d in spec.shape.dims
            )
        if plan.matrix:
            found.append(Slot(a, dims, domain, False))
        elif a in plan.families:
            trailing = dims[-plan.axes :] if len(dims) >= plan.axes else (SIZE,) * plan.axes
            found.append(Slot(a, batch + trailing, domain, False))
        else:
            found.append(Slot(a, batch, domain, True))
    return found


def _sizes(d: Any) -> set[Any]:
    return sp.sympify(d).free_symbols


LAYOUTS: dict[str, Callable[[np.ndarray], Any]] = {
    "c": lambda a: np.ascontiguousarray(a),
    "fortran": lambda a: np.asfortranarray(a),
    "strided": lambda a: np.repeat(a, 2, axis=-1)[..., ::2] if a.ndim else a,
    "reversed": lambda a: a[..., ::-1].copy()[..., ::-1] if a.ndim else a,
    "readonly": lambda a: _readonly(a),
    "list": lambda a: a.tolist(),
}


def _readonly(a: np.ndarray) -> np.ndarray:
    b = a.copy()
    b.flags.writeable = False
    return b


def expected_dtype(values: Sequence[Any]) -> np.dtype:
    """The result dtype the kernels promise: the float arrays' common dtype (integer arrays
    and lists count as float64), else the numbers' (a Python float is float64)."""
    arrays, numbers = [], []
    for v in values:
        if isinstance(v, list | tuple):
            arrays.append(np.dtype(np.float64))
            continue
        dtype = np.asarray(v).dtype
        dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
        (arrays if np.ndim(v) else numbers).append(dtype)
    chosen = arrays or numbers
    return np.result_type(*chosen) if chosen else np.dtype(np.float64)


def call(k: Any, values: Sequence[Any]) -> tuple[list[np.ndarray] | None, BaseException | None]:
    """The kernel's outputs as a list (None and the exception when it raised)."""
    try:
        with np.errstate(all="ignore"):
            result = k(*values)
    except Exception as exc:  # noqa: BLE001 - the probes classify it
        return None, exc
    return list(result) if isinstance(result, tuple) else [result], None


def is_refusal(exc: BaseException) -> bool:
    return isinstance(exc, SymmlError)
