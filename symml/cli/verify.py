"""``symml verify``: the sheet's claims checked, as a table, JSON or the errata report."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from symml.catalog.loader import Catalog


def add_commands(subparsers: Any) -> dict[str, Any]:
    commands = subparsers
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
    check.set_defaults(handler=cmd_verify)
    return {"verify": cmd_verify}


def cmd_verify(catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    from symml.engine.checking import print_progress, verify
    from symml.render import report

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
    from symml.engine.frameworks import installed, parse_frameworks

    if text is None:
        return installed() if json_output else ()
    return parse_frameworks(text)


def _frameworks(text: str | None, json_output: bool = False) -> tuple[str, ...]:
    """The frameworks ``--against`` names; unnamed, the installed defaults for ``--json``
    (an audit reads the convention notes there) and none for the table."""
    from symml.engine.frameworks import installed, parse_frameworks

    if text is None:
        return installed() if json_output else ()
    return parse_frameworks(text)
