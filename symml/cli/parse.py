"""``symml parse`` (how a LaTeX formula is read) and ``symml check`` (claims in notes)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from symml.errors import UsageError


def add_commands(subparsers: Any) -> dict[str, Any]:
    parse = subparsers.add_parser("parse", help="read a LaTeX formula and show how it was read")
    parse.add_argument("latex", help=r"e.g. '\sigma(Wx + b)'")
    parse.add_argument("--unicode", action="store_true", help="plain Unicode math (σ'(z) = …)")
    parse.add_argument("--declare", action="append", default=[], help="e.g. 'matrix W m n'")
    check = subparsers.add_parser("check", help="verify the claims in .md/.tex notes")
    check.add_argument("files", nargs="+", help="notes to check (.md, .tex)")
    check.add_argument("--json", action="store_true", help="machine-readable findings")
    check.add_argument("--timeout", type=float, default=10.0, help="seconds per claim")
    check.add_argument("--all", action="store_true", help="also list unread and skipped lines")
    check.add_argument(
        "--allow-unread",
        action="store_true",
        help="exit 0 when claims were left unread (or nothing was checked) but none refuted",
    )
    check.add_argument(
        "--read-code",
        action="store_true",
        help="also read fenced code in a language and indented code as math",
    )
    check.add_argument(
        "--explain",
        type=int,
        metavar="LINE",
        help="show how the formulas on one line were read: reading, claim kind, method",
    )
    # neither reads the catalog: the reader has its own tables, check its own references
    parse.set_defaults(handler=cmd_parse, needs_catalog=False)
    check.set_defaults(handler=cmd_check, needs_catalog=False)
    return {"parse": cmd_parse, "check": cmd_check}


def cmd_parse(catalog: Any, args: argparse.Namespace, out: TextIO) -> int:
    import sympy as sp

    from symml.read import LatexParseError, SymbolTable, read_latex
    from symml.read.unicode import read_unicode

    table = SymbolTable.parse("\n".join(args.declare))
    reader = read_unicode if args.unicode else read_latex
    try:
        reading = reader(args.latex, symbols=table)
    except LatexParseError as exc:
        raise UsageError(str(exc)) from None
    out.write(f"expression: {sp.sstr(reading.expr)}\n")
    if reading.relation:
        out.write(f"relation: {reading.relation}\n")
    out.write("symbols:\n")
    for sym in sorted(_symbols(reading.expr), key=str):
        facts = ", ".join(k for k, v in sorted(getattr(sym, "assumptions0", {}).items()) if v)
        shape = f" shape {sym.shape}" if hasattr(sym, "shape") and sym.shape else ""
        out.write(f"  {sym}: {type(sym).__name__}{shape}{' (' + facts + ')' if facts else ''}\n")
    if reading.notes:
        out.write("read as:\n" + "".join(f"  - {n}\n" for n in reading.notes))
    return 0


def _symbols(expr: Any) -> set[Any]:
    import sympy as sp

    if not isinstance(expr, sp.Basic):
        return set()
    found = set(expr.free_symbols) | expr.atoms(sp.MatrixSymbol, sp.IndexedBase)
    return {s for s in found if not isinstance(s, sp.Indexed)}


def cmd_check(catalog: Any, args: argparse.Namespace, out: TextIO) -> int:
    """Exit 1 on a refuted claim; also, unless ``--allow-unread``, when claims were left
    unread or nothing was checked (a file whose claims all went unread does not pass)."""
    from symml.read.check import check_file, explain, summary

    findings = []
    for name in args.files:
        path = Path(name)
        if not path.exists() or path.suffix not in (".md", ".tex"):
            raise UsageError(f"'{name}': not an existing .md or .tex file")
        if args.explain is not None:
            out.write(explain(path, args.explain, timeout=args.timeout, read_code=args.read_code))
            continue
        findings += check_file(path, timeout=args.timeout, read_code=args.read_code)
    if args.explain is not None:
        return 0
    shown = [f for f in findings if args.all or f.status not in HIDDEN]
    tally = summary(findings)
    if args.json:
        json.dump([f.as_dict() for f in findings], out, indent=1, ensure_ascii=False)
        out.write("\n")
    else:
        for f in shown:
            out.write(f.describe() + "\n")
        out.write(tally.describe() + "\n")
    if tally.refuted:
        return 1
    if not args.allow_unread and (tally.unread or not tally.judged):
        return 1
    return 0


HIDDEN = ("unread", "skipped", "notation", "not-a-claim")
