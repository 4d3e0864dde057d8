"""The ``symml`` command line: ``main(argv) -> exit code``.

Exit codes: 0 success, 1 a check failed (or an internal error, or the reader of stdout went
away), 2 a usage error (unknown id, bad option value, unreadable file, unwritable output).
docs/reliability.md has the whole promise.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from symml import __version__, serialize
from symml.catalog import Catalog, load_catalog
from symml.errors import SymmlError, UsageError
from symml.model import Formula
from symml.statement import correction_math
from symml.text import text, unicode_text

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# Modules that add subcommands: each has ``add_commands(subparsers) -> {name: handler}``, a
# handler being ``handler(catalog, args, out) -> exit code``.
EXTENSIONS: tuple[str, ...] = (
    "symml.sheet_cli",
    "symml.parse_cli",
    "symml.kernels_cli",
    "symml.latex_cli",
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

    listing = commands.add_parser("list", help="list the catalog's formulas")
    listing.add_argument("--part", type=int, help="only this sheet part (1-14)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")

    show = commands.add_parser("show", help="one formula with its symbols and claims")
    show.add_argument("id", help="a formula id, e.g. activations.sigmoid")
    show.add_argument("--json", action="store_true", help="machine-readable output")

    check = commands.add_parser(
        "verify", help="check the sheet's claims and compare with the catalog's expectations"
    )
    check.add_argument("ids", nargs="*", metavar="ID", help="formula ids (default: all)")
    check.add_argument("--part", type=int, help="only this sheet part (1-14)")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.add_argument("--seed", type=int, default=0, help="seed of the numeric sampling")
    check.add_argument("--timeout", type=float, default=10.0, help="seconds per symbolic step")
    check.add_argument("--workers", type=int, default=2, help="claims checked at once")
    check.add_argument("--strict", action="store_true", help="also fail on numeric/inconclusive")
    check.add_argument("--errata", action="store_true", help="print the errata report (Markdown)")
    check.add_argument(
        "--against",
        default=None,
        metavar="FRAMEWORKS",
        help="also run the 'matches' claims against these frameworks: a comma-separated "
        "list of jax, optax, torch, 'all' or 'none' (default: none for the table and "
        "--errata, which keeps verify fast; with --json, every one installed, their "
        "verdicts cached per framework version)",
    )
    check.add_argument(
        "--no-cache",
        action="store_true",
        help="check every claim afresh (default: reuse cached proofs)",
    )

    grad = commands.add_parser("grad", help="derive a gradient symbolically")
    grad.add_argument("id", nargs="?", help="a formula id")
    grad.add_argument("--wrt", help="the symbol to differentiate by")
    grad.add_argument("--expr", help="an expression instead of a formula, e.g. '1/(1+exp(-z))'")
    grad.add_argument(
        "--upstream",
        metavar="G",
        help="for a matrix-valued formula: the VJP ∂⟨G, F⟩/∂(--wrt), G named as given",
    )
    grad.add_argument(
        "--shape",
        action="append",
        default=[],
        metavar="NAME=DIMS",
        help="with --expr: a matrix (X=n,n) or column vector (x=n); repeat for each",
    )
    shown = grad.add_mutually_exclusive_group()
    shown.add_argument("--latex", action="store_true", help="print each result as LaTeX")
    shown.add_argument("--json", action="store_true", help="machine-readable results")

    for module_name in EXTENSIONS:
        module = importlib.import_module(module_name)
        _COMMANDS.update(module.add_commands(commands))
    return parser


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
        catalog = load_catalog(args.catalog)
        handler = _COMMANDS[args.command]
        code = handler(catalog, args, out)
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


def _cmd_list(catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    formulas = catalog.part(args.part) if args.part is not None else catalog.formulas
    if args.json:
        json.dump([serialize.summary(f) for f in formulas], out, ensure_ascii=False, indent=1)
        out.write("\n")
        return EXIT_OK
    width = max(len(f.id) for f in formulas)
    current = None
    for formula in formulas:
        if formula.part != current:
            current = formula.part
            out.write(f"\nPart {formula.part}: {formula.part_title}\n")
        first_line = formula.sheet.splitlines()[0]
        out.write(f"  {formula.id:<{width}}  {formula.name:<40} {first_line}\n")
    claims = sum(len(f.claims) for f in formulas)
    out.write(f"\n{len(formulas)} formulas, {claims} claims\n")
    return EXIT_OK


def _cmd_show(catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    formula = catalog.get(args.id)
    if args.json:
        json.dump(serialize.formula(formula), out, ensure_ascii=False, indent=1)
        out.write("\n")
        return EXIT_OK
    out.write(render(formula))
    return EXIT_OK


def render(formula: Formula) -> str:
    """The human-readable form of one entry."""
    lines = [
        f"{formula.id} — {formula.name}  (part {formula.part}: {formula.part_title})",
        "",
        "sheet:",
        *(f"    {line}" for line in formula.sheet.splitlines()),
        "",
        "formula:",
    ]
    value = text(formula.expr)
    lines.append(
        f"    {text(formula.lhs)} = {value}" if formula.lhs is not None else f"    {value}"
    )
    lines += ["", "symbols:"]
    for spec in formula.symbols:
        meaning = f" — {spec.meaning}" if spec.meaning else ""
        lines.append(f"    {spec.name}: {spec.describe()}{meaning}")
    if formula.claims:
        lines += ["", "claims (as the sheet states them):"]
    for number, claim in enumerate(formula.claims, 1):
        lines.append(f"  {number}. [{claim.kind}] {claim.sheet.splitlines()[0]}")
        lines += [f"     {extra}" for extra in claim.sheet.splitlines()[1:]]
        lines.append(f"     expected verdict: {claim.expected}")
        for key, value in _statement(claim):
            lines.append(f"     {key}: {value}")
        if claim.conditions:
            lines.append(
                "     holds when: "
                + ", ".join(c if isinstance(c, str) else unicode_text(c) for c in claim.conditions)
            )
        if claim.correction is not None:
            corrected = correction_math(formula, claim.correction)
            lines.append(
                f"     correction: {corrected.text if corrected else _text(claim.correction)}"
            )
        for reading in claim.readings:
            mark = {True: "correct", False: "wrong", None: "in use"}[reading.correct]
            lines.append(f"     reading ({mark}): {reading.name}: {text(reading.expr)}")
        if claim.note:
            lines.append(f"     note: {claim.note}")
    if formula.notes or formula.sheet_notes:
        lines += ["", "notes:", *(f"    {n}" for n in (*formula.sheet_notes, *formula.notes))]
    if formula.conventions:
        lines += ["", "conventions:"]
        lines += [f"    {c.framework}: {c.difference}" for c in formula.conventions]
    return "\n".join(lines) + "\n"


def _text(value) -> str:
    if isinstance(value, tuple):
        return "; ".join(f"{text(t)} := {text(v)}" for t, v in value)
    return value if isinstance(value, str) else text(value)


def _statement(claim) -> list[tuple[str, str]]:
    data = serialize.claim(claim)["statement"]
    rows = []
    for key, value in data.items():
        if isinstance(value, dict) and "text" in value:
            rows.append((key, value["text"]))
        elif isinstance(value, dict):
            rows.append((key, ", ".join(f"{k}={v['text'] if v else v}" for k, v in value.items())))
        elif isinstance(value, list) and value:
            rows.append((key, "; ".join(f"{a['text']} := {b['text']}" for a, b in value)))
        elif isinstance(value, str):
            rows.append((key, value))
    return rows


def _cmd_verify(catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    from symml import report
    from symml.verify import print_progress, verify

    verdicts = verify(
        args.ids or None,
        catalog=catalog,
        part=args.part,
        seed=args.seed,
        timeout=args.timeout,
        workers=args.workers,
        progress=print_progress if not args.ids else None,
        use_cache=not args.no_cache,
        against=_frameworks(args.against, args.json),
    )
    if args.json:
        json.dump(report.to_json(verdicts, seed=args.seed), out, ensure_ascii=False, indent=1)
        out.write("\n")
    elif args.errata:
        out.write(report.errata(verdicts, catalog))
    else:
        out.write(report.table(verdicts, catalog))
    return report.exit_code(verdicts, strict=args.strict)


def _frameworks(text: str | None, json_output: bool = False) -> tuple[str, ...]:
    """The frameworks ``--against`` names; unnamed, the installed defaults for ``--json``
    (an audit reads the convention notes there) and none for the table."""
    from symml.frameworks import installed, parse_frameworks

    if text is None:
        return installed() if json_output else ()
    return parse_frameworks(text)


def _cmd_grad(catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    from symml.derive import grad, printed, variables, vjp
    from symml.expressions import parse_expression, parse_shape
    from symml.latex import latex

    if bool(args.id) == bool(args.expr):
        raise UsageError("give a formula ID or --expr EXPRESSION (one of the two)")
    if args.shape and not args.expr:
        raise UsageError("--shape declares the matrices of --expr; a formula has its own shapes")
    shapes = dict(parse_shape(text) for text in args.shape)
    target = parse_expression(args.expr, shapes=shapes) if args.expr else catalog.get(args.id)
    shown: list[dict[str, str]] = []

    def show(result: Any) -> None:
        if args.json:
            # --expr as the user wrote it; SymPy's own form of a 1×1 product is index sums
            shown.append({**result.as_dict(), **({"of": args.expr} if args.expr else {})})
        elif args.latex:
            wrt = latex(result.wrt)
            out.write(
                rf"\frac{{\partial f}}{{\partial {wrt}}} = {printed(result.shown, printer=latex)}"
                + "\n"
            )
        else:
            out.write(result.describe() + "\n")

    answered = 0
    if args.upstream:
        if not args.wrt:
            raise UsageError("--upstream needs --wrt: the matrix to differentiate by")
        show(vjp(target, args.wrt, args.upstream))
        answered = 1
    elif args.wrt:
        for result in grad(target, args.wrt):
            show(result)
            answered += 1
    else:
        chosen = variables(target)
        if not chosen:
            raise UsageError(f"{args.id or args.expr}: nothing to differentiate by")
        for variable in chosen:  # each variable answers or says in one line why not
            try:
                (result,) = grad(target, variable)
            except SymmlError as exc:
                if args.json:
                    shown.append({"wrt": str(variable), "refused": str(exc)})
                else:
                    out.write(f"∂/∂{variable}: refused: {exc}\n")
                continue
            show(result)
            answered += 1
    if args.json:
        json.dump(shown, out, ensure_ascii=False, indent=1)
        out.write("\n")
    return EXIT_OK if answered else EXIT_FAILED


_COMMANDS = {"list": _cmd_list, "show": _cmd_show, "verify": _cmd_verify, "grad": _cmd_grad}
