"""What a new user runs is a test: every command and Python block of README.md, and the blocks
of docs/*.md marked ``<!-- runnable -->``, run as printed in an empty folder.

A shell command must exit 0 unless its line says ``(exit N)``. Python blocks run the three ways
a user runs them (a saved script, ``python3 -``, ``python3 -c``), each exactly once: symml's
worker processes must not import the user's script again.

The shell runs the ``symml`` console script. In CI's fresh virtual environment that is the
installed one; in a development checkout without an install a stand-in on PATH runs
``python -m symml`` from the checkout, so the same commands are exercised.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shlex
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parent.parent
README = CHECKOUT / "README.md"
FENCE = re.compile(
    r"(?P<marker><!-- runnable -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)^```", re.M | re.S
)
HEREDOC = re.compile(r"<<-?\s*'?(\w+)'?")
EXIT = re.compile(r"\(exit (\d+)\b")


@dataclass(frozen=True)
class Block:
    source: str  # "README.md" or "docs/x.md"
    line: int
    lang: str
    body: str


@dataclass(frozen=True)
class Command:
    text: str
    exit_code: int


def blocks(path: Path, *, all_blocks: bool) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        if match["lang"] not in ("bash", "python"):
            continue
        if not all_blocks and not match["marker"]:
            continue
        line = text.count("\n", 0, match.start("body")) + 1
        found.append(Block(str(path.relative_to(CHECKOUT)), line, match["lang"], match["body"]))
    return found


def commands(body: str) -> list[Command]:
    """A bash block as commands: one a line, a heredoc with its lines, comments dropped."""
    found: list[Command] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        text = line
        heredoc = HEREDOC.search(line)
        if heredoc:
            while i < len(lines):
                text += "\n" + lines[i]
                i += 1
                if lines[i - 1].strip() == heredoc[1]:
                    break
        expected = EXIT.search(line)
        found.append(Command(text, int(expected[1]) if expected else 0))
    return found


README_BLOCKS = blocks(README, all_blocks=True)
DOC_BLOCKS = [
    b for doc in sorted((CHECKOUT / "docs").glob("*.md")) for b in blocks(doc, all_blocks=False)
]
INSTALL_BLOCK, TEST_BLOCK = README_BLOCKS[0], README_BLOCKS[1]
SHELL_BLOCKS = [b for b in README_BLOCKS[2:] + DOC_BLOCKS if b.lang == "bash"]
PYTHON_BLOCKS = [b for b in README_BLOCKS + DOC_BLOCKS if b.lang == "python"]


def _installed() -> bool:
    """symml is installed (not run from the checkout) in the environment running the tests.

    The symml.egg-info that pip's in-tree build leaves in the checkout is not an install:
    taken for one, it made this suite run the README's `pip install .` into whatever Python
    ran the tests, a machine's own included."""
    for dist in importlib.metadata.distributions(name="symml"):
        where = Path(str(dist.locate_file(""))).resolve()
        if where == CHECKOUT or CHECKOUT in where.parents:
            continue
        if (dist.read_text("direct_url.json") or "").find('"editable": true') < 0:
            return True
    return False


@pytest.fixture(scope="module")
def user_env(tmp_path_factory) -> dict[str, str]:
    """The environment of a user's shell: symml on PATH, a proof cache of its own."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["SYMML_CACHE_DIR"] = str(tmp_path_factory.mktemp("readme-cache"))
    env.setdefault("SYMML_SHEET", str(CHECKOUT.parent / "shared" / "sheet" / "ml-formula-sheet.md"))
    bin_dir = Path(sys.executable).parent
    if not _installed():
        bin_dir = tmp_path_factory.mktemp("bin")
        shim = bin_dir / "symml"
        shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m symml "$@"\n')
        shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
        env["PYTHONPATH"] = str(CHECKOUT)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_the_readme_opens_with_the_two_fresh_machine_commands():
    install, tests = commands(INSTALL_BLOCK.body), commands(TEST_BLOCK.body)
    assert [c.text for c in install] == ["python3 -m pip install . && symml verify"]
    assert [c.text for c in tests] == ["python3 -m pip install -q '.[test]' && python3 -m pytest"]


def test_ci_runs_exactly_the_readme_test_command():
    ci = (CHECKOUT / ".ci" / "run").read_text(encoding="utf-8")
    command = commands(TEST_BLOCK.body)[0].text
    assert command in [line.strip() for line in ci.splitlines()]


@pytest.mark.skipif(
    not _installed(), reason="runs where symml is installed (CI's fresh virtual environment)"
)
def test_the_readme_install_command_runs_as_printed(user_env):
    # It reinstalls the checkout into the environment the tests run in, which CI made from
    # this same checkout: the code under test does not change.
    command = commands(INSTALL_BLOCK.body)[0].text
    done = subprocess.run(
        ["bash", "-c", command.replace("python3", shlex.quote(sys.executable), 1)],
        cwd=CHECKOUT,
        env=user_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=lambda b: f"{b.source}:{b.line}")
def test_shell_block_runs_as_printed(block, user_env, tmp_path):
    for command in commands(block.body):
        done = subprocess.run(
            ["bash", "-c", command.text],
            cwd=tmp_path,
            env=user_env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == command.exit_code, (
            f"{block.source}: `{command.text}` exited {done.returncode}, "
            f"expected {command.exit_code}:\n{done.stderr[-3000:]}"
        )
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        assert "internal error" not in done.stderr, done.stderr


def test_the_readme_pdf_command_writes_a_pdf_and_nothing_else(user_env, tmp_path):
    if "symml sheet --pdf -o sheet.pdf" not in README.read_text(encoding="utf-8"):
        pytest.fail("the README no longer shows `symml sheet --pdf -o sheet.pdf`")
    from symml.render import sheet

    if sheet.tex_engine() is None:
        pytest.skip("pdflatex missing: run .ci/install-tex.sh")
    done = subprocess.run(
        ["bash", "-c", "symml sheet --no-verdicts --pdf -o sheet.pdf"],
        cwd=tmp_path,
        env=user_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sheet.pdf"]
    assert (tmp_path / "sheet.pdf").read_bytes().startswith(b"%PDF-")


def _runs_once(block: Block, how: str, env: dict[str, str], folder: Path) -> None:
    marker = "symml-readme-block-ran"
    code = f"print({marker!r})\n" + block.body
    if how == "script":
        script = folder / "example.py"
        script.write_text(code, encoding="utf-8")
        argv, stdin = [sys.executable, str(script)], None
    elif how == "stdin":
        argv, stdin = [sys.executable, "-"], code
    else:
        argv, stdin = [sys.executable, "-c", code], None
    done = subprocess.run(
        argv, cwd=folder, env=env, input=stdin, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{block.source}:{block.line} ({how}):\n{done.stderr[-3000:]}"
    assert done.stdout.count(marker) == 1, (
        f"{block.source}:{block.line} ({how}) ran {done.stdout.count(marker)} times:\n"
        f"{done.stdout[-2000:]}"
    )
    assert "Traceback" not in done.stderr, done.stderr[-3000:]


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: f"{b.source}:{b.line}")
def test_python_block_runs_once_as_a_script(block, user_env, tmp_path):
    _runs_once(block, "script", user_env, tmp_path)


@pytest.mark.parametrize("how", ["stdin", "command"])
def test_the_checking_example_runs_once_from_stdin_and_from_c(how, user_env, tmp_path):
    (block,) = [b for b in PYTHON_BLOCKS if "check_derivative" in b.body]
    _runs_once(block, how, user_env, tmp_path)


def test_an_unguarded_script_taking_a_matrix_gradient_runs_once(user_env, tmp_path):
    block = Block(
        "test",
        0,
        "python",
        "import sympy as sp\nimport symml\nX = sp.MatrixSymbol('X', 2, 2)\n"
        "print(symml.grad(sp.Trace(X * X), X)[0].value)\n",
    )
    _runs_once(block, "script", user_env, tmp_path)
