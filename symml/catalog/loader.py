"""Load a directory of catalog files, validate every entry, look entries up."""

from __future__ import annotations

import difflib
import functools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from symml.catalog.index import CatalogIndex, IndexEntry, catalog_version, read_index, write_index
from symml.errors import CatalogError, UnknownFormulaError

if TYPE_CHECKING:
    from symml.catalog.model import Formula


class Catalog:
    """The validated formulas of a catalog folder, in sheet order.

    Parts are executed when first needed: ``get`` and ``part`` execute one file, ``formulas``
    and iteration all of them. What only needs names (``ids``, ``summaries``, ``suggest``,
    ``parts``) comes from the index."""

    def __init__(
        self, root: str, index: CatalogIndex, loaded: dict[str, tuple[Formula, ...]]
    ) -> None:
        self.root = root
        self.index = index
        self._loaded = dict(loaded)  # file name → its formulas
        self._lock = threading.Lock()

    @property
    def parts(self) -> tuple[tuple[int, str], ...]:
        return tuple(sorted((number, title) for number, title, _ in self.index.parts))

    @property
    def formulas(self) -> tuple[Formula, ...]:
        by_id = {f.id: f for file in self.index.files() for f in self._file(file)}
        return tuple(by_id[entry.id] for entry in self.index.entries)

    def ids(self) -> tuple[str, ...]:
        return tuple(entry.id for entry in self.index.entries)

    def summaries(self, part: int | None = None) -> tuple[IndexEntry, ...]:
        """What ``symml list`` shows, without executing any catalog file."""
        if part is not None:
            self._check_part(part)
        return tuple(e for e in self.index.entries if part is None or e.part == part)

    def __iter__(self) -> Iterator[Formula]:
        return iter(self.formulas)

    def __len__(self) -> int:
        return len(self.index.entries)

    def __contains__(self, formula_id: object) -> bool:
        return any(e.id == formula_id for e in self.index.entries)

    def get(self, formula_id: str) -> Formula:
        for entry in self.index.entries:
            if entry.id == formula_id:
                return next(f for f in self._file(entry.file) if f.id == formula_id)
        raise UnknownFormulaError(formula_id, self.suggest(formula_id))

    def suggest(self, formula_id: str) -> str | None:
        """The closest id, comparing whole ids and the part after the dot."""
        ids = list(self.ids())
        close = difflib.get_close_matches(formula_id, ids, n=1, cutoff=0.6)
        if close:
            return close[0]
        slugs = {i.split(".", 1)[1]: i for i in ids}
        tail = formula_id.rsplit(".", 1)[-1]
        close = difflib.get_close_matches(tail, list(slugs), n=1, cutoff=0.6)
        return slugs[close[0]] if close else None

    def part(self, number: int) -> tuple[Formula, ...]:
        self._check_part(number)
        file = next(f for n, _, f in self.index.parts if n == number)
        return self._file(file)

    def _check_part(self, number: int) -> None:
        if number not in dict(self.parts):
            known = ", ".join(str(n) for n, _ in self.parts)
            raise CatalogError(f"part {number}", f"no such part; the parts are {known}")

    def _file(self, file: str) -> tuple[Formula, ...]:
        with self._lock:
            if file not in self._loaded:
                from symml.catalog import building  # deferred: start-up (list needs none)

                # validated when this catalog version was indexed
                self._loaded[file] = building.load_file(Path(self.root) / file)
            return self._loaded[file]

    def __reduce__(self) -> tuple:
        return (load_catalog, (self.root,))


def builtin_root() -> Path:
    """Where the built-in catalog is: inside the installed package, or the checkout."""
    try:
        import symml.derivations as shipped  # deferred: present only when installed

        return Path(shipped.__file__).parent
    except ImportError:  # running from a source tree that was never installed
        return Path(__file__).resolve().parents[2] / "derivations"


@functools.lru_cache(maxsize=4)
def load_catalog(root: str | Path | None = None) -> Catalog:
    """The catalog under ``root`` (default: built-in): every ``p*.py`` file, each entry
    validated once per catalog version (docs/architecture.md, "the catalog index")."""
    folder = Path(root) if root is not None else builtin_root()
    files = sorted(folder.glob("p*.py"))
    if not files:
        raise CatalogError(str(folder), "no catalog files (p*.py) in this folder")
    # every Python file of the folder: a catalog file may import a helper beside it
    version = catalog_version(sorted(folder.glob("*.py")))
    index = read_index(version)
    if index is not None:
        return Catalog(str(folder), index, {})
    from symml.catalog import validation  # deferred: start-up (only a new version needs it)

    loaded, index = validation.load_and_validate(files, version)
    write_index(index)
    return Catalog(str(folder), index, loaded)
