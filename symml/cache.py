"""A proof cache: verdicts of catalog claims, keyed by everything that determines them.

The key covers the claim's expressions (``srepr``), the symbols' domains, the seed and a
hash of the engine's own source, so a changed claim or a changed engine is checked afresh.
Location: ``$SYMML_CACHE_DIR``, else ``$XDG_CACHE_HOME/symml``, else ``~/.cache/symml``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import sympy as sp

from symml.model import Claim, Formula
from symml.verdict import Verdict

ENGINE_MODULES = (
    "algorithms",
    "calculus/crosscheck",
    "calculus/derivative",
    "calculus/differential",
    "calculus/expand",
    "calculus/matrix_form",
    "calculus/readoff",
    "calculus/scalar",
    "derivative_check",
    "equality",
    "explicit",
    "functions",
    "numeric",
    "properties",
    "symbolic",
    "verify",
    "verdict",
)
_LOCK = threading.Lock()


def cache_dir() -> Path:
    if os.environ.get("SYMML_CACHE_DIR"):
        return Path(os.environ["SYMML_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "symml"


@functools.lru_cache(maxsize=1)
def engine_version() -> str:
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for name in ENGINE_MODULES:
        digest.update((package / f"{name}.py").read_bytes())
    return digest.hexdigest()[:16]


def _text(value: Any) -> str:
    if isinstance(value, sp.Basic):
        return sp.srepr(_canonical(value))
    if isinstance(value, (tuple, list)):
        return "(" + ",".join(_text(v) for v in value) + ")"
    if hasattr(value, "__dataclass_fields__"):
        return type(value).__name__ + _text(
            tuple(getattr(value, f) for f in value.__dataclass_fields__)
        )
    return repr(value)


def _canonical(expr: sp.Basic) -> sp.Basic:
    """Dummies renamed in order of appearance: their indices differ from process to process."""
    dummies: list[sp.Dummy] = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Dummy) and node not in dummies:
            dummies.append(node)
    if not dummies:
        return expr
    return expr.xreplace({d: sp.Symbol(f"_dummy{k}_{d.name}") for k, d in enumerate(dummies)})


def key(formula: Formula, claim: Claim, seed: int, timeout: float) -> str:
    parts = [
        engine_version(),
        str(seed),
        str(timeout),
        formula.id,
        _text(formula.expr),
        _text(claim),
        _text(tuple((s.name, s.domain, s.shape, s.kind) for s in formula.symbols)),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _path() -> Path:
    return cache_dir() / f"verdicts-{engine_version()}.json"


def load() -> dict[str, dict[str, Any]]:
    try:
        return json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def store(entries: dict[str, dict[str, Any]]) -> None:
    """Merge ``entries`` into the cache file atomically; a read-only disk is not an error."""
    if not entries:
        return
    with _LOCK:
        merged = load() | entries
        try:
            folder = cache_dir()
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", dir=folder, delete=False, suffix=".tmp", encoding="utf-8"
            ) as handle:
                json.dump(merged, handle)
            os.replace(handle.name, _path())
        except OSError:
            return


def revive(data: dict[str, Any]) -> Verdict:
    return Verdict.from_json(data)
