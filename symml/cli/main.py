"""The ``symml`` command line: ``main(argv) -> exit code``.

Exit codes: 0 success, 1 a check failed (or an internal error, or the reader of stdout went
away), 2 a usage error (unknown id, bad option value, unreadable file, unwritable output).
docs/reliability.md has the whole promise.
"""

from __future__ import annotations

import argparse
import errno
import gc
import importlib
import math
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from symml import __version__
from symml.catalog.loader import load_catalog
from symml.errors import SymmlError, UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# One module per command group: each has ``add_commands(subparsers)``, which gives every
# command it adds a handler (``set_defaults(handler=…)``), ``handler(catalog, args, out) ->
# exit code``. A command module imports what its handlers run when they run, so that every
# command starts with only what it needs (benchmarks/startup.py).
CORE: tuple[str, ...] = ("symml.cli.catalog", "symml.cli.verify", "symml.cli.grad")
EXTENSIONS: tuple[str, ...] = (
    "symml.cli.sheet",
    "symml.cli.parse",
    "symml.cli.kernel",
    "symml.cli.latex",
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"symml: {message} (see `symml --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symml", description="A checked catalog of ML formulas.")
    parser.add_argument("--catalog", help="a folder of catalog files (default: the built-in sheet)")
    parser.add_argument("--version", action="version", version=f"symml {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    for module_name in (*CORE, *EXTENSIONS):
        importlib.import_module(module_name).add_commands(commands)
    return parser


def run() -> None:
    """The ``symml`` console script and ``python -m symml``: ``main()``, then exit with its code.

    Before the process exits, ``gc.freeze()`` moves every object still alive out of the cyclic
    collector's reach, so that interpreter shutdown does not walk SymPy's caches once more in a
    last collection: that walk is most of a command's shutdown (benchmarks/startup.py). The
    atexit handlers, module teardown and the flushing of streams run as usual; only cyclic
    garbage left at exit is not collected, and the operating system frees it with the process.
    ``main`` itself stays free of it: tests and scripts call it in a process that goes on."""
    code = main()
    gc.freeze()
    sys.exit(code)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        if out is None:  # python3 -m symml >&-
            raise UsageError(
                "standard output is closed, so there is nowhere to write the result: run "
                "symml with stdout open (or redirected to a file)"
            )
        check_options(args)
        # a command that reads no catalog entry says so (set_defaults(needs_catalog=False));
        # a --catalog the user names is loaded (and refused if it is not one) all the same
        needed = getattr(args, "needs_catalog", True) or args.catalog is not None
        catalog = load_catalog(args.catalog) if needed else None
        code = args.handler(catalog, args, out)
        out.flush()  # a full disk or a closed pipe is reported here, not at interpreter exit
        return code
    except SymmlError as exc:
        _say(f"symml: {exc}")
        return EXIT_USAGE
    except BrokenPipeError:
        return _pipe_closed(out)
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            return _pipe_closed(out)
        _say(f"symml: {_os_problem(exc)}")
        _discard_output(out)
        return EXIT_USAGE
    except Exception as exc:  # a bug: one line for the user, the traceback with SYMML_DEBUG=1
        if os.environ.get("SYMML_DEBUG"):
            raise
        detail = " ".join(str(exc).split())[:200]
        _say(
            f"symml: internal error in '{args.command}': {type(exc).__name__}: {detail} "
            "(rerun with SYMML_DEBUG=1 for the traceback and report it)"
        )
        return EXIT_FAILED


#: Options that are a number of seconds: positive and finite, checked before any work.
SECONDS_OPTIONS: tuple[str, ...] = ("timeout",)


def check_options(args: argparse.Namespace) -> None:
    """Option values argparse's types let through but no command can use (``--timeout nan``):
    one-line usage errors before the catalog is loaded."""
    for name in SECONDS_OPTIONS:
        value = getattr(args, name, None)
        if value is not None and not (math.isfinite(value) and value > 0):
            raise UsageError(
                f"--{name} {value:g}: must be a positive number of seconds, finite "
                f"(e.g. --{name} 10)"
            )
    workers = getattr(args, "workers", None)
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers}: must be at least 1 (e.g. --workers 2)")


def _pipe_closed(out: TextIO) -> int:
    """The reader went away (``symml list | head -1``): stop quietly, as Unix tools do."""
    _discard_output(out)
    return EXIT_FAILED


def _discard_output(out: TextIO) -> None:
    """Point stdout at /dev/null after a failed write, so the interpreter's final flush of
    what is still buffered does not report the same broken pipe or full disk again."""
    if out is sys.stdout:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass


def _os_problem(exc: OSError) -> str:
    """An OSError from writing the output or reading a file, as culprit, problem, fix."""
    problem = exc.strerror or type(exc).__name__
    if exc.filename is not None:
        return f"'{exc.filename}': {problem}; check the path and its permissions"
    if exc.errno == errno.ENOSPC:
        return f"cannot write the output: {problem}; free some space or write elsewhere"
    return f"cannot write the output: {problem}; check where stdout goes"


def _say(line: str) -> None:
    """A line on stderr, if there is one to write to."""
    try:
        if sys.stderr is not None:
            print(line, file=sys.stderr)
    except (OSError, ValueError):
        pass
