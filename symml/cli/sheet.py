"""``symml sheet`` (the cheat sheet as LaTeX, PDF or Markdown) and ``symml plot ID``."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from symml.catalog.loader import Catalog
from symml.errors import UsageError

EXIT_OK, EXIT_FAILED = 0, 1
# the sheet's framework marks unless --against says otherwise: torch's ~30 claims take about
# as long as the rest of the catalog when the proof cache is cold, so it is marked when named
SHEET_FRAMEWORKS = ("jax", "optax")


def add_commands(subparsers: Any) -> dict[str, Any]:
    sheet = subparsers.add_parser("sheet", help="the catalog as a printable cheat sheet")
    sheet.add_argument(
        "-o",
        "--output",
        help="file to write: .tex, .md or .pdf (default: stdout; with --pdf sheet.pdf)",
    )
    sheet.add_argument("--pdf", action="store_true", help="compile to PDF (implied by -o X.pdf)")
    sheet.add_argument("--part", type=int, nargs="+", action="extend", help="only these parts")
    sheet.add_argument(
        "--verdicts",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="verify the claims and mark each (default; from the proof cache where it can)",
    )
    sheet.add_argument(
        "--no-cache", action="store_true", help="check every claim afresh (as `verify --no-cache`)"
    )
    sheet.add_argument(
        "--against",
        metavar="FRAMEWORKS",
        help="mark each formula with the framework functions it agrees with (=) or differs "
        "from (≠): a comma-separated list of jax, optax, torch, 'all' or 'none' (default: "
        "jax,optax, the quick ones; a framework not installed is left out with a note; the "
        "verdicts come from the proof cache where it can)",
    )
    sheet.add_argument(
        "--format", choices=("tex", "md"), help="LaTeX or Markdown (default: from -o, else tex)"
    )
    sheet.add_argument("--no-plots", action="store_true", help="leave the figures out")
    sheet.add_argument("--no-gradients", action="store_true", help="leave derived gradients out")
    sheet.add_argument(
        "--dpi",
        type=float,
        help="draw the figures as .png at this resolution (e.g. 300 for print; "
        "default: vector figures, PDF for LaTeX and SVG for Markdown)",
    )

    plot = subparsers.add_parser("plot", help="draw a scalar formula and its derivative")
    plot.add_argument("id", help="a formula id, e.g. activations.gelu")
    plot.add_argument("-o", "--output", help="out.png, out.svg or out.pdf (default: ID.png)")
    plot.add_argument("--var", help="the variable on the x axis (default: the only free one)")
    plot.add_argument("--dpi", type=float, help="resolution of a .png (default: 100)")
    sheet.set_defaults(handler=cmd_sheet)
    plot.set_defaults(handler=cmd_plot)
    return {"sheet": cmd_sheet, "plot": cmd_plot}


@dataclass(frozen=True)
class SheetRequest:
    """What ``symml sheet`` was asked to write, with -o, --pdf and --format reconciled."""

    output: Path | None  # None: the source to stdout
    format: str  # "tex" or "md"
    pdf: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SheetRequest:
        output = Path(args.output) if args.output else None
        suffix = output.suffix.lower() if output else ""
        pdf = args.pdf or suffix == ".pdf"
        fmt = args.format or ("md" if suffix == ".md" else "tex")
        if pdf and fmt != "tex":
            raise UsageError("--pdf needs --format tex (the PDF is compiled from LaTeX)")
        if pdf and output is None:
            output = Path("sheet.pdf")
        return cls(output, fmt, pdf)

    @property
    def source_name(self) -> str:
        """The LaTeX/Markdown file's name: beside a .pdf target it shares the stem."""
        assert self.output is not None
        if self.output.suffix.lower() == ".pdf":
            return self.output.stem + ".tex"
        return self.output.name


def cmd_sheet(catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    from symml.render import sheet

    request = SheetRequest.from_args(args)
    parts = sorted(set(args.part)) if args.part else [n for n, _ in catalog.parts]
    for number in parts:
        catalog.part(number)  # an unknown part is a usage error (CatalogError) before any work
    if request.pdf and sheet.tex_engine() is None:
        raise UsageError(sheet.INSTALL_HINT)
    _check_dpi(args.dpi)
    if request.output is not None:
        writable(request.output)  # before the ~45 s of checking, not after
    formulas = [f for f in catalog if f.part in parts]

    frameworks, missing = _marked_frameworks(args.against) if args.verdicts else ((), ())
    verdicts = {}
    if args.verdicts:
        from symml.engine.checking import print_progress, verify

        ids = [f.id for f in formulas]
        checked = verify(
            ids,
            catalog=catalog,
            progress=print_progress,
            use_cache=not args.no_cache,
            against=frameworks,
        )
        verdicts = sheet.by_formula(checked)

    def source_text(figures: dict[int, list[Path]]) -> str:
        built = sheet.entries(formulas, verdicts=verdicts, with_gradients=not args.no_gradients)
        options = sheet.SheetOptions(
            figures=figures,
            with_verdicts=args.verdicts,
            frameworks=tuple(f for f in frameworks if f not in missing),
            missing=missing,
        )
        build = sheet.build_tex if request.format == "tex" else sheet.build_markdown
        return build(catalog, built, options)

    if request.output is None:
        out.write(source_text({}))
        return EXIT_OK

    # Everything is built in a scratch folder and moved into place only when it is complete,
    # so a failed build leaves nothing half-written where the user asked for the sheet.
    with tempfile.TemporaryDirectory(prefix="symml-sheet-") as scratch:
        source = Path(scratch) / request.source_name
        figures: dict[int, list[Path]] = {}
        if not args.no_plots:
            from symml.render import plots

            folder = source.parent / f"{source.stem}-figures"
            suffix = ".pdf" if request.format == "tex" else ".svg"
            suffix = ".png" if args.dpi is not None else suffix
            drawn = plots.sheet_figures(catalog, folder, parts, suffix, dpi=args.dpi)
            figures = {
                p: [path.relative_to(source.parent) for path in paths] for p, paths in drawn.items()
            }
        source.write_text(source_text(figures), encoding="utf-8")
        products = [source] if request.output.suffix.lower() != ".pdf" else []
        if figures and products:
            products.append(source.parent / f"{source.stem}-figures")
        if request.pdf:
            try:
                pdf = sheet.compile_pdf(source)
            except sheet.SheetError as exc:
                print(
                    f"symml: {exc}; nothing was written to {request.output}. To see the whole "
                    f"log, write the source with `symml sheet -o {source.name}` and run "
                    f"`{sheet.tex_engine()} {source.name}` on it",
                    file=sys.stderr,
                )
                return EXIT_FAILED
            if products:
                products += [pdf, source.with_suffix(".log")]
            else:
                products = [pdf]
        # The source shares the target's stem, so the compiled PDF already has its name.
        for written in _move_into(products, request.output.parent):
            out.write(f"wrote {written}\n")
    return EXIT_OK


def _marked_frameworks(text: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The frameworks whose marks the sheet shows, and those of them not installed (their
    claims are skipped, so the sheet builds without them and says so)."""
    from symml.engine.frameworks import parse_frameworks, unavailable

    chosen = SHEET_FRAMEWORKS if text is None else parse_frameworks(text)
    return chosen, tuple(f for f in chosen if unavailable(f))


def _check_dpi(dpi: float | None) -> None:
    if dpi is not None and not 10 <= dpi <= 2400:
        raise UsageError(f"--dpi {dpi:g}: pick a resolution between 10 and 2400")


def _move_into(products: list[Path], folder: Path) -> list[Path]:
    """Copy finished files and folders into ``folder``; their new paths."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        moved = []
        for product in products:
            target = folder / product.name
            if product.is_dir():
                # Figures replace their old versions; anything else in the folder stays.
                shutil.copytree(product, target, dirs_exist_ok=True)
            elif target.is_dir():
                raise UsageError(f"-o {target}: a folder of that name is in the way; name a file")
            else:
                shutil.copyfile(product, target)
            moved.append(target)
    except OSError as exc:
        raise UsageError(
            f"cannot write into {folder}: {exc.strerror or exc}; pick a writable folder with -o"
        ) from None
    return moved


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
    from symml.render import plots

    formula = catalog.get(args.id)
    output = Path(args.output) if args.output else Path(f"{formula.id}.png")
    if output.suffix not in (".png", ".svg", ".pdf"):
        raise UsageError(f"-o {output}: the figure is written as .png, .svg or .pdf")
    _check_dpi(args.dpi)
    try:
        path = plots.plot_formula(formula, output, args.var, dpi=args.dpi)
    except plots.PlotError as exc:
        raise UsageError(str(exc)) from None
    out.write(f"wrote {path}\n")
    return EXIT_OK
