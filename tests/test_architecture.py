"""The house rules of docs/architecture.md, checked on the source: the folders are the
pipeline, imports run one way, no private name crosses a module, and ``import symml`` loads
nothing it does not need."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "symml"
LAYERS = ("cli", "read", "render", "kernels", "engine", "calculus", "evaluate", "catalog")
DEFERRED = "# deferred:"


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_folders_are_the_pipeline():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert folders == {*LAYERS, "runtime"}
    loose = {p.name for p in PACKAGE.glob("*.py")}
    assert loose <= {"__init__.py", "__main__.py", "errors.py", "notation.py"}


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter not installed")
def test_imports_run_one_way():
    """The layers contract in pyproject.toml ([tool.importlinter]), function-local imports
    included: a module imports only from the layers below its own."""
    done = subprocess.run(
        [shutil.which("lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 kept, 0 broken" in done.stdout


def _imports(tree: ast.AST) -> list[tuple[ast.AST, bool]]:
    """Every import of a symml module, and whether it sits inside a function."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside |= {id(n) for n in ast.walk(node) if n is not node}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("symml"):
            found.append((node, id(node) in inside))
        elif isinstance(node, ast.Import) and any(a.name.startswith("symml") for a in node.names):
            found.append((node, id(node) in inside))
    return found


def test_no_private_name_crosses_a_module():
    crossings = []
    for path in sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = set()
        for node, _ in _imports(tree):
            for alias in node.names:
                name = alias.name.rsplit(".", 1)[-1]
                if name.startswith("_") and not name.startswith("__"):
                    crossings.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
                aliases.add(alias.asname or alias.name.split(".")[0])
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                crossings.append(f"{path.relative_to(ROOT)}:{node.lineno} uses {node.attr}")
    assert crossings == []


def test_function_local_imports_are_commands_or_deferred_on_purpose():
    """Inside a function, a symml module is imported only by a command handler (a command
    loads what it runs, when it runs) or with a ``# deferred:`` reason on the line."""
    unexplained = []
    for path in sources():
        if path.relative_to(PACKAGE).parts[0] == "cli":
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for node, local in _imports(ast.parse("\n".join(lines))):
            if local and DEFERRED not in lines[node.lineno - 1]:
                unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert unexplained == []


def test_import_symml_loads_nothing_else():
    """The package re-exports lazily: ``import symml`` imports no SymPy and no NumPy, and a
    public name is there on first use."""
    code = (
        "import sys, symml\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'sympy', 'numpy'})\n"
        "print(len(heavy), callable(symml.grad), symml.Status.PROVED.value)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.split() == ["0", "True", "proved"]


def test_every_exported_name_is_there_and_no_submodule_is_shadowed():
    import symml

    for name in symml.__all__:
        assert getattr(symml, name) is not None
    submodules = {p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" or p.is_dir()}
    assert not set(symml.__all__) & submodules
