"""The catalog ships inside the package: it loads from an installed copy, not the checkout."""

import json
import os
import subprocess
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent


def test_installed_package_loads_the_catalog_outside_the_checkout(tmp_path):
    script = (
        "import json, symml\n"
        "from symml.catalog.loader import builtin_root\n"
        "c = symml.load_catalog()\n"
        "print(json.dumps({'file': symml.__file__, 'root': str(builtin_root()), 'n': len(c)}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["n"] >= 110
    # With a plain `pip install .` both the code and the catalog come from site-packages.
    if CHECKOUT not in Path(info["file"]).resolve().parents:
        assert CHECKOUT not in Path(info["root"]).resolve().parents
        assert Path(info["root"]).name == "derivations"


def test_console_script_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "symml", "show", "activations.sigmoid"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "σ'(z) = σ(z)(1 - σ(z))" in done.stdout


def test_every_package_of_the_source_tree_is_in_the_wheel():
    # A subpackage missing from pyproject's list imports from a checkout and fails installed.
    import tomllib

    listed = set(
        tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(CHECKOUT).parts)
        for init in (CHECKOUT / "symml").rglob("__init__.py")
    }
    assert found <= listed, sorted(found - listed)
    assert "symml.derivations" in listed
