"""`symml kernel ID [--grad SYMBOL] [--backend B] [--step] [--axis N]`: print a kernel's source."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TextIO

from symml.catalog.loader import Catalog
from symml.errors import UsageError


def add_commands(
    subparsers: Any,
) -> dict[str, Callable[[Catalog, argparse.Namespace, TextIO], int]]:
    parser = subparsers.add_parser(
        "kernel", help="print the generated NumPy source of a formula's kernel"
    )
    parser.add_argument("id", help="formula id, e.g. activations.sigmoid")
    parser.add_argument("--grad", metavar="SYMBOL", help="the gradient kernel by SYMBOL")
    # Checked by get_backend, which names the backends and says why a removed one is gone.
    parser.add_argument("--backend", default="numpy", help="numpy (default), numba, jax or cupy")
    parser.add_argument("--axis", type=int, default=-1, help="reduction axis (default -1)")
    parser.add_argument(
        "--step", action="store_true", help="an optimizer's update rule as one fused step"
    )
    parser.set_defaults(handler=run)
    return {"kernel": run}


def run(catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    from symml.kernels import NotKernelisable, kernel

    formula = catalog.get(args.id)
    if args.grad and args.step:
        raise UsageError("--grad and --step do not go together; pick one")
    try:
        k = kernel(formula, grad=args.grad, backend=args.backend, axis=args.axis, step=args.step)
    except NotKernelisable as exc:  # not the caller's mistake (exit 1), but an error still
        print(f"symml: {exc}", file=sys.stderr)
        return 1
    print(f"# {k.name}: ({', '.join(k.args)}) -> ({', '.join(k.outputs)})", file=out)
    print(k.source, end="", file=out)
    return 0
