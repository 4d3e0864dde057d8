"""The ``symml`` command line: ``main(argv) -> exit code``.

Exit codes: 0 success, 1 a check failed, 2 a usage error (unknown id, bad option).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from symml import __version__, serialize
from symml.catalog import Catalog, load_catalog
from symml.errors import SymmlError, UsageError
from symml.model import Formula
from symml.text import text

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# Modules that add subcommands: each has ``add_commands(subparsers) -> {name: handler}``, a
# handler being ``handler(catalog, args, out) -> exit code``.
EXTENSIONS: tuple[str, ...] = ("symml.sheet_cli", "symml.parse_cli", "symml.kernels_cli")


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
        default="",
        metavar="FRAMEWORKS",
        help="also run the 'matches' claims against these frameworks: a comma-separated "
        "list of jax, optax, torch, or 'all' (default: none, which keeps verify fast)",
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

    for module_name in EXTENSIONS:
        module = importlib.import_module(module_name)
        _COMMANDS.update(module.add_commands(commands))
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        catalog = load_catalog(args.catalog)
        handler = _COMMANDS[args.command]
        return handler(catalog, args, out)
    except SymmlError as exc:
        print(f"symml: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a bug: one line for the user, the traceback with SYMML_DEBUG=1
        if os.environ.get("SYMML_DEBUG"):
            raise
        detail = " ".join(str(exc).split())[:200]
        print(
            f"symml: internal error in '{args.command}': {type(exc).__name__}: {detail} "
            "(rerun with SYMML_DEBUG=1 for the traceback and report it)",
            file=sys.stderr,
        )
        return EXIT_FAILED


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
            lines.append("     holds when: " + ", ".join(text(c) for c in claim.conditions))
        if claim.correction is not None:
            lines.append(f"     correction: {_text(claim.correction)}")
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

    if args.timeout <= 0:
        raise UsageError(f"--timeout {args.timeout:g}: must be a positive number of seconds")
    verdicts = verify(
        args.ids or None,
        catalog=catalog,
        part=args.part,
        seed=args.seed,
        timeout=args.timeout,
        workers=args.workers,
        progress=print_progress if not args.ids else None,
        use_cache=not args.no_cache,
        against=_frameworks(args.against),
    )
    if args.json:
        json.dump(report.to_json(verdicts, seed=args.seed), out, ensure_ascii=False, indent=1)
        out.write("\n")
    elif args.errata:
        out.write(report.errata(verdicts, catalog))
    else:
        out.write(report.table(verdicts))
    return report.exit_code(verdicts, strict=args.strict)


def _frameworks(text: str) -> tuple[str, ...]:
    from symml.model import FRAMEWORKS

    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return FRAMEWORKS
    unknown = [n for n in names if n not in FRAMEWORKS]
    if unknown:
        raise UsageError(
            f"--against {text}: unknown framework '{unknown[0]}'; "
            f"use a comma-separated list of {', '.join(FRAMEWORKS)}, or 'all'"
        )
    return tuple(names)


def _cmd_grad(catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    from symml.derive import grad
    from symml.expressions import parse_expression

    if bool(args.id) == bool(args.expr):
        raise UsageError("give a formula ID or --expr EXPRESSION (one of the two)")
    target = parse_expression(args.expr) if args.expr else catalog.get(args.id)
    for result in grad(target, args.wrt, all_symbols=args.wrt is None):
        out.write(result.describe() + "\n")
    return EXIT_OK


_COMMANDS = {"list": _cmd_list, "show": _cmd_show, "verify": _cmd_verify, "grad": _cmd_grad}
