"""``symml grad``: a gradient derived symbolically, of a catalog formula or an expression."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from symml.catalog.loader import Catalog
from symml.errors import SymmlError, UsageError

EXIT_OK, EXIT_FAILED = 0, 1


def add_commands(subparsers: Any) -> dict[str, Any]:
    commands = subparsers
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
    grad.set_defaults(handler=cmd_grad)
    return {"grad": cmd_grad}


def cmd_grad(catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    from symml.engine.derive import grad, printed, variables, vjp

    if bool(args.id) == bool(args.expr):
        raise UsageError("give a formula ID or --expr EXPRESSION (one of the two)")
    if args.shape and not args.expr:
        raise UsageError("--shape declares the matrices of --expr; a formula has its own shapes")
    if args.expr:
        from symml.read.expressions import parse_expression, parse_shape

        shapes = dict(parse_shape(text) for text in args.shape)
        target = parse_expression(args.expr, shapes=shapes)
    else:
        target = catalog.get(args.id)
    shown: list[dict[str, str]] = []

    def show(result: Any) -> None:
        if args.json:
            # --expr as the user wrote it; SymPy's own form of a 1×1 product is index sums
            shown.append({**result.as_dict(), **({"of": args.expr} if args.expr else {})})
        elif args.latex:
            from symml.render.latex import latex

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
