"""The documentation site (mkdocs.yml): the narrative pages and the API reference generated
from the docstrings build with warnings as errors."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("mkdocs") is None, reason="mkdocs not installed (test extra)")
def test_the_site_builds_strict_with_an_api_reference(tmp_path):
    done = subprocess.run(
        [shutil.which("mkdocs"), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    engine = (tmp_path / "site" / "api" / "engine" / "index.html").read_text(encoding="utf-8")
    assert "check_derivative" in engine and "A claim in, a verdict out" in engine
