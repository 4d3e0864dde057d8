from pathlib import Path

import pytest

from symml.catalog import load_catalog
from symml.sheet_source import default_sheet_path


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
