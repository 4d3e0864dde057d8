"""The catalog index: validated once per catalog version, then read instead of executing
every catalog file (docs/architecture.md, "the catalog index")."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from symml.catalog import building, index
from symml.catalog.loader import builtin_root, load_catalog
from symml.errors import UnknownFormulaError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A copy of two parts of the built-in catalog, with its own empty cache folder."""
    monkeypatch.setenv("SYMML_CACHE_DIR", str(tmp_path / "cache"))
    target = tmp_path / "catalog"
    target.mkdir()
    for name in ("p01_fundamentals.py", "p12_schedules.py"):
        shutil.copy(builtin_root() / name, target / name)
    load_catalog.cache_clear()
    yield target
    load_catalog.cache_clear()


def _index_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("catalog-index-*.json"))


def test_the_first_load_validates_and_writes_the_index_the_next_reads_it(folder, tmp_path):
    first = load_catalog(folder)
    (written,) = _index_files(tmp_path)
    load_catalog.cache_clear()
    again = load_catalog(folder)
    assert again.ids() == first.ids() and "activations.sigmoid" in again.ids()
    assert [e.name for e in again.summaries(12)] == [f.name for f in first.part(12)]
    assert json.loads(written.read_text())["entries"][0]["id"] == first.ids()[0]


def test_an_entry_executes_only_its_own_file(folder, monkeypatch):
    load_catalog(folder)
    load_catalog.cache_clear()
    executed: list[str] = []
    real = building.load_file

    def counted(path):
        executed.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(building, "load_file", counted)
    catalog = load_catalog(folder)
    assert catalog.get("schedules.cosine").part == 12
    assert catalog.get("schedules.step").part == 12  # the file is executed once
    assert executed == ["p12_schedules.py"]
    with pytest.raises(UnknownFormulaError, match="did you mean 'activations.sigmoid'"):
        catalog.get("activations.sigmod")
    assert executed == ["p12_schedules.py"]


def test_a_malformed_index_is_a_miss_never_a_source_of_entries(folder, tmp_path):
    load_catalog(folder)
    (written,) = _index_files(tmp_path)
    forged = json.loads(written.read_text())
    forged["entries"][0]["file"] = "p99_nowhere.py"
    written.write_text(json.dumps(forged))
    assert index.read_index(forged["version"]) is None
    written.write_text("not json")
    load_catalog.cache_clear()
    assert "activations.sigmoid" in load_catalog(folder).ids()  # built again
    assert json.loads(written.read_text())["version"] == forged["version"]


def test_an_edited_catalog_file_is_a_new_version(folder, tmp_path):
    load_catalog(folder)
    path = folder / "p12_schedules.py"
    path.write_text(path.read_text().replace('"Step decay"', '"Step decay (edited)"'))
    load_catalog.cache_clear()
    assert load_catalog(folder).get("schedules.step").name == "Step decay (edited)"
    assert len(_index_files(tmp_path)) == 2


def test_symml_list_imports_no_sympy_once_indexed(folder):
    code = (
        "import io, sys\n"
        "from symml.cli.main import main\n"
        f"code = main(['--catalog', {str(folder)!r}, 'list'], io.StringIO())\n"
        "print(code, 'sympy' in sys.modules)\n"
    )
    run = [sys.executable, "-c", code]
    first = subprocess.run(run, capture_output=True, text=True, check=True, cwd=ROOT)
    second = subprocess.run(run, capture_output=True, text=True, check=True, cwd=ROOT)
    assert first.stdout.split() == ["0", "True"]  # the first load validates every entry
    assert second.stdout.split() == ["0", "False"]
