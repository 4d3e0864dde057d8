"""A proof cache: verdicts of catalog claims, keyed by everything that determines them.

The key covers the claim's expressions (``srepr``), the symbols' domains, the seed, the
deadline, a hash of every source file of the package and the versions of Python, SymPy,
mpmath and NumPy, so a changed claim, engine or library is checked afresh.

What is read back is validated, never trusted: each entry carries a seal (a hash of its key
and its verdict), and an entry whose seal does not match, or that does not make a verdict,
is dropped: the claim is checked again. A file that is not a cache at all is ignored the
same way, with a one-line note naming it. (The seal catches corruption and hand edits; it is
not a defence against someone who rewrites the file with this module's own code.)

Writes are atomic (a temporary file renamed into place) and serialised across processes by
an advisory lock, so two ``symml verify`` runs at once lose no entry and never leave a torn
file. Location: ``$SYMML_CACHE_DIR``, else ``$XDG_CACHE_HOME/symml``, else
``~/.cache/symml``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import platform
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from symml.catalog.model import Claim, Formula, Status
from symml.engine.verdict import Verdict
from symml.runtime.folders import cache_dir, write_atomically

_LOCK = threading.Lock()
#: Statuses a cached verdict may have: what is stored (errors and timeouts are not).
STORABLE = frozenset(s.value for s in Status) - {Status.ERROR.value, Status.INCONCLUSIVE.value}


@functools.lru_cache(maxsize=1)
def engine_version() -> str:
    """A hash of every source file of the package and of the libraries' versions."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    versions = (platform.python_version(), sp.__version__, mpmath.__version__, np.__version__)
    digest.update("\x1f".join(versions).encode())
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


def seal(entry_key: str, verdict: dict[str, Any]) -> str:
    """The hash an entry is stored with: of its key and its verdict, canonically written."""
    text = entry_key + "\x1f" + json.dumps(verdict, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def cache_path() -> Path:
    return cache_dir() / f"verdicts-{engine_version()}.json"


def _valid(entry_key: str, entry: Any) -> bool:
    if not isinstance(entry, dict) or set(entry) != {"seal", "verdict"}:
        return False
    verdict = entry["verdict"]
    if not isinstance(verdict, dict) or verdict.get("status") not in STORABLE:
        return False
    if entry["seal"] != seal(entry_key, verdict):
        return False
    try:
        Verdict.from_json(verdict)
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return True


def _note(path: Path, problem: str) -> None:
    print(
        f"symml: ignoring {problem} in the proof cache '{path}'; those claims are checked "
        "afresh (delete the file to silence this)",
        file=sys.stderr,
    )


def _read(path: Path, *, quiet: bool = False) -> dict[str, dict[str, Any]]:
    """The valid entries of the cache file; anything else is a miss."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        if not quiet:
            _note(path, "a file that is not a cache")
        return {}
    kept = {k: v for k, v in data.items() if isinstance(k, str) and _valid(k, v)}
    if len(kept) != len(data) and not quiet:
        _note(path, f"{len(data) - len(kept)} malformed or altered entries")
    return kept


def load() -> dict[str, dict[str, Any]]:
    """Validated verdicts by key (their JSON form)."""
    return {k: v["verdict"] for k, v in _read(cache_path()).items()}


@contextlib.contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """An advisory lock across processes (where the platform has one)."""
    try:
        import fcntl
    except ImportError:  # Windows: the atomic rename alone
        yield
        return
    with open(folder / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def store(entries: dict[str, dict[str, Any]]) -> None:
    """Merge ``entries`` (verdicts by key) into the cache file atomically; a read-only disk
    is not an error."""
    if not entries:
        return
    sealed = {k: {"seal": seal(k, v), "verdict": v} for k, v in entries.items()}
    with _LOCK:
        try:
            folder = cache_dir()
            folder.mkdir(parents=True, exist_ok=True)
            with _exclusive(folder):
                merged = _read(cache_path(), quiet=True) | sealed
                write_atomically(cache_path(), json.dumps(merged))
        except OSError:
            return


def revive(data: dict[str, Any]) -> Verdict:
    return Verdict.from_json(data)
