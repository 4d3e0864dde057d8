from pathlib import Path

import pytest

from symml.catalog.loader import load_catalog
from symml.catalog.sheet_source import default_sheet_path


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture(scope="session")
def sheet_text() -> str:
    path = default_sheet_path()
    if not path.exists():
        pytest.fail(f"reference sheet not found at {path}; set SYMML_SHEET to its path")
    return path.read_text(encoding="utf-8")


@pytest.fixture
def catalog_dir(tmp_path: Path):
    """Write catalog files into a fresh folder: ``catalog_dir({"p01_x.py": source})``."""

    def write(files: dict[str, str]) -> Path:
        for name, source in files.items():
            (tmp_path / name).write_text(source, encoding="utf-8")
        return tmp_path

    return write


@pytest.fixture(autouse=True, scope="session")
def _private_proof_cache(tmp_path_factory):
    """Tests never read or write the user's proof cache."""
    import os

    previous = os.environ.get("SYMML_CACHE_DIR")
    os.environ["SYMML_CACHE_DIR"] = str(tmp_path_factory.mktemp("symml-cache"))
    yield
    if previous is None:
        os.environ.pop("SYMML_CACHE_DIR", None)
    else:
        os.environ["SYMML_CACHE_DIR"] = previous


def pytest_terminal_summary(terminalreporter):
    """The hostile-input suite's counts per probe (tests/test_hostile.py), when it ran."""
    import sys

    hostile = sys.modules.get("hostile")
    if hostile is None or not hostile.TALLY:
        return
    terminalreporter.section("hostile input: counts per probe")
    for line in hostile.report_lines():
        terminalreporter.write_line(line)
