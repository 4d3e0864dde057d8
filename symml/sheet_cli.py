"""``symml sheet`` (the cheat sheet as LaTeX, PDF or Markdown) and ``symml plot ID``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from symml.catalog import Catalog
from symml.errors import UsageError

EXIT_OK, EXIT_FAILED = 0, 1


def add_commands(subparsers: Any) -> dict[str, Any]:
    sheet = subparsers.add_parser("sheet", help="the catalog as a printable cheat sheet")
    sheet.add_argument(
        "-o", "--output", help="file to write (default: stdout; with --pdf sheet.tex)"
    )
    sheet.add_argument("--pdf", action="store_true", help="also compile to PDF with pdflatex")
    sheet.add_argument("--part", type=int, nargs="+", action="extend", help="only these parts")
    sheet.add_argument(
        "--verdicts",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="verify the claims and mark each (default; --no-verdicts skips the ~45 s check)",
    )
    sheet.add_argument("--format", choices=("tex", "md"), default="tex", help="LaTeX or Markdown")
    sheet.add_argument("--no-plots", action="store_true", help="leave the figures out")
    sheet.add_argument("--no-gradients", action="store_true", help="leave derived gradients out")

    plot = subparsers.add_parser("plot", help="draw a scalar formula and its derivative")
    plot.add_argument("id", help="a formula id, e.g. activations.gelu")
    plot.add_argument("-o", "--output", help="out.png, out.svg or out.pdf (default: ID.png)")
    plot.add_argument("--var", help="the variable on the x axis (default: the only free one)")
    return {"sheet": cmd_sheet, "plot": cmd_plot}


def cmd_sheet(catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    from symml import sheet

    parts = sorted(set(args.part)) if args.part else [n for n, _ in catalog.parts]
    for number in parts:
        catalog.part(number)  # an unknown part is a usage error (CatalogError) before any work
    if args.pdf and args.format != "tex":
        raise UsageError("--pdf needs --format tex")
    if args.pdf and sheet.tex_engine() is None:
        raise UsageError(sheet.INSTALL_HINT)
    output = Path(args.output) if args.output else (Path("sheet.tex") if args.pdf else None)
    if output is not None:
        writable(output)  # before the ~45 s of checking, not after
    formulas = [f for f in catalog if f.part in parts]

    verdicts = {}
    if args.verdicts:
        from symml.verify import verify

        ids = [f.id for f in formulas]
        verdicts = sheet.by_formula(verify(ids, catalog=catalog))

    figures: dict[int, list[Path]] = {}
    if not args.no_plots and output is not None:
        from symml import plots

        folder = output.parent / f"{output.stem}-figures"
        suffix = ".pdf" if args.format == "tex" else ".svg"
        drawn = plots.sheet_figures(catalog, folder, parts, suffix)
        figures = {
            p: [path.relative_to(output.parent) for path in paths] for p, paths in drawn.items()
        }

    built = sheet.entries(formulas, verdicts=verdicts, with_gradients=not args.no_gradients)
    options = sheet.SheetOptions(figures=figures, with_verdicts=args.verdicts)
    build = sheet.build_tex if args.format == "tex" else sheet.build_markdown
    text = build(catalog, built, options)
    if output is None:
        out.write(text)
        return EXIT_OK
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _unwritable(output, exc) from None
    out.write(f"wrote {output}\n")
    if args.pdf:
        try:
            pdf = sheet.compile_pdf(output)
        except sheet.SheetError as exc:
            print(f"symml: {exc}", file=sys.stderr)
            return EXIT_FAILED
        out.write(f"wrote {pdf}\n")
    return EXIT_OK


def writable(output: Path) -> None:
    """``-o`` names a file symml can create: its folder made if missing, not a directory."""
    if output.is_dir():
        raise UsageError(
            f"-o {output}: that is a directory; name a file, e.g. -o {output}/sheet.tex"
        )
    existing = next((p for p in output.parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise UsageError(f"-o {output}: {existing} is a file, not a folder; pick a writable path")
    existed = output.exists()
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with open(output, "a", encoding="utf-8"):
            pass
        if not existed:
            output.unlink()  # only a probe: the sheet is written when it is built
    except OSError as exc:
        raise _unwritable(output, exc) from None


def _unwritable(output: Path, exc: OSError) -> UsageError:
    problem = exc.strerror or type(exc).__name__
    return UsageError(f"-o {output}: cannot write there ({problem}); pick a writable path")


def cmd_plot(catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    from symml import plots

    formula = catalog.get(args.id)
    output = Path(args.output) if args.output else Path(f"{formula.id}.png")
    if output.suffix not in (".png", ".svg", ".pdf"):
        raise UsageError(f"-o {output}: the figure is written as .png, .svg or .pdf")
    try:
        path = plots.plot_formula(formula, output, args.var)
    except plots.PlotError as exc:
        raise UsageError(str(exc)) from None
    out.write(f"wrote {path}\n")
    return EXIT_OK
