"""The catalog's index: what every entry is called and where it lives, kept between runs.

Building the catalog means executing all of its files (about a second); most commands need
one entry or only the list of names. The first load of a catalog version validates every
entry and writes this index; later loads read it, and a part is executed only when one of
its entries is asked for. The version is a hash of the catalog files and of the sources
that decide what a valid entry is (this package), plus the Python and SymPy versions, so an
edited file or a new symml builds the index afresh. A malformed or foreign index file is a
miss, never a source of entries.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from symml.runtime.folders import cache_dir, write_atomically

FORMAT = 1


@dataclass(frozen=True)
class IndexEntry:
    """One formula as ``symml list`` shows it, and the file that declares it."""

    id: str
    part: int
    part_title: str
    name: str
    sheet: str
    claims: int
    expr: str  # srepr of the formula's expression
    file: str


@dataclass(frozen=True)
class CatalogIndex:
    version: str
    parts: tuple[tuple[int, str, str], ...]  # (number, title, file name), in file order
    entries: tuple[IndexEntry, ...]  # in sheet order

    def files(self) -> tuple[str, ...]:
        return tuple(file for _, _, file in self.parts)


def catalog_version(files: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for source in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    digest.update(platform.python_version().encode())
    # SymPy's version, read from its release file: importlib.metadata costs more start-up
    # than everything else ``symml list`` does
    spec = importlib.util.find_spec("sympy")
    if spec is not None and spec.origin is not None:
        release = Path(spec.origin).with_name("release.py")
        digest.update(release.read_bytes() if release.exists() else spec.origin.encode())
    return digest.hexdigest()[:20]


def _path(catalog_version: str) -> Path:
    return cache_dir() / f"catalog-index-{catalog_version}.json"


def read_index(catalog_version: str) -> CatalogIndex | None:
    """The stored index of this catalog version, or None (absent, unreadable, malformed)."""
    try:
        data = json.loads(_path(catalog_version).read_text(encoding="utf-8"))
        if data["format"] != FORMAT or data["version"] != catalog_version:
            return None
        parts = tuple((int(n), str(t), str(f)) for n, t, f in data["parts"])
        entries = tuple(IndexEntry(**entry) for entry in data["entries"])
        files = {file for _, _, file in parts}
        if not entries or any(e.file not in files for e in entries):
            return None
        return CatalogIndex(catalog_version, parts, entries)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_index(index: CatalogIndex) -> None:
    """Store the index; a cache folder that cannot be written only costs the next run time."""
    data = {
        "format": FORMAT,
        "version": index.version,
        "parts": [list(p) for p in index.parts],
        "entries": [asdict(e) for e in index.entries],
    }
    try:
        write_atomically(_path(index.version), json.dumps(data, ensure_ascii=False))
    except OSError:
        pass
