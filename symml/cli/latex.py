"""``symml latex ID [--grad VAR]``: one formula (or its derivative) as LaTeX, for a paper or a
slide; the left-hand side as the sheet names it, updates with ←."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from symml.catalog.loader import Catalog
from symml.errors import UsageError

EXIT_OK = 0


def add_commands(subparsers: Any) -> dict[str, Any]:
    command = subparsers.add_parser("latex", help="one formula (or its derivative) as LaTeX")
    command.add_argument("id", help="a formula id, e.g. activations.gelu")
    command.add_argument("--grad", metavar="VAR", help="its derivative by VAR instead")
    command.set_defaults(handler=cmd_latex)
    return {"latex": cmd_latex}


def cmd_latex(catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    from symml.engine.derive import DerivationError
    from symml.render.statement import formula_line, gradient_line

    formula = catalog.get(args.id)
    if args.grad is None:
        out.write(formula_line(formula).tex + "\n")
        return EXIT_OK
    names = [s.name for s in formula.symbols]
    if args.grad not in names:
        raise UsageError(
            f"--grad {args.grad}: '{formula.id}' has no symbol '{args.grad}'; "
            f"pick one of {', '.join(names)}"
        )
    try:
        out.write(gradient_line(formula, args.grad).tex + "\n")
    except DerivationError as exc:
        raise UsageError(f"--grad {args.grad}: {exc}") from None
    return EXIT_OK
