"""``symml list`` and ``symml show ID``: the catalog's entries.

``list`` reads the catalog's index only, so it executes no catalog file."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from symml.catalog.loader import Catalog

EXIT_OK = 0


def add_commands(subparsers: Any) -> dict[str, Any]:
    commands = subparsers
    listing = commands.add_parser("list", help="list the catalog's formulas")
    listing.add_argument("--part", type=int, help="only this sheet part (1-14)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")

    show = commands.add_parser("show", help="one formula with its symbols and claims")
    show.add_argument("id", help="a formula id, e.g. activations.sigmoid")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=cmd_list)
    show.set_defaults(handler=cmd_show)
    return {"list": cmd_list, "show": cmd_show}


def cmd_list(catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    entries = catalog.summaries(args.part)
    if args.json:
        from symml.render import serialize

        json.dump([serialize.summary(e) for e in entries], out, ensure_ascii=False, indent=1)
        out.write("\n")
        return EXIT_OK
    width = max(len(e.id) for e in entries)
    current = None
    for entry in entries:
        if entry.part != current:
            current = entry.part
            out.write(f"\nPart {entry.part}: {entry.part_title}\n")
        first_line = entry.sheet.splitlines()[0]
        out.write(f"  {entry.id:<{width}}  {entry.name:<40} {first_line}\n")
    claims = sum(e.claims for e in entries)
    out.write(f"\n{len(entries)} formulas, {claims} claims\n")
    return EXIT_OK


def cmd_show(catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    from symml.render import serialize
    from symml.render.entry import entry_text

    formula = catalog.get(args.id)
    if args.json:
        json.dump(serialize.formula(formula), out, ensure_ascii=False, indent=1)
        out.write("\n")
        return EXIT_OK
    out.write(entry_text(formula))
    return EXIT_OK
