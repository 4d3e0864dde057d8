"""The cheat sheet: the catalog as a printable LaTeX document (or Markdown), with verdicts.

``build(catalog, parts, verdicts=..., figures=...)`` returns the document text; a formula that
cannot be typeset is left out with one line on stderr naming it, and the rest still builds.
``compile_pdf`` runs pdflatex (or lualatex) on it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import sympy as sp

from symml.catalog import Catalog
from symml.errors import SymmlError
from symml.latex import latex
from symml.model import Derivative, Formula, Status
from symml.verdict import Verdict

INSTALL_HINT = (
    "no pdflatex or lualatex found; on Debian/Ubuntu: apt-get install texlive-latex-base "
    "texlive-latex-recommended texlive-fonts-recommended"
)


class SheetError(SymmlError, RuntimeError):
    """The sheet could not be compiled to PDF."""


# -- text escaping ---------------------------------------------------------------------------
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
_MATH_CHARS = {
    "≤": r"\leq",
    "≥": r"\geq",
    "≠": r"\neq",
    "≈": r"\approx",
    "∈": r"\in",
    "∉": r"\notin",
    "∑": r"\sum",
    "∏": r"\prod",
    "→": r"\to",
    "↦": r"\mapsto",
    "√": r"\surd",
    "∞": r"\infty",
    "×": r"\times",
    "·": r"\cdot",
    "−": "-",
    "∘": r"\circ",
    "⊙": r"\odot",
    "‖": r"\|",
    "∂": r"\partial",
    "∇": r"\nabla",
    "ℝ": r"\mathbb{R}",
    "⌊": r"\lfloor",
    "⌋": r"\rfloor",
    "⌈": r"\lceil",
    "⌉": r"\rceil",
    "±": r"\pm",
    "∼": r"\sim",
    "∀": r"\forall",
    "∃": r"\exists",
    "⇒": r"\Rightarrow",
    "⊤": r"\top",
    "ᵀ": r"^{\top}",
    "∫": r"\int",
    "∪": r"\cup",
    "∩": r"\cap",
    "⊆": r"\subseteq",
    "ℓ": r"\ell",
}
_TEXT_CHARS = {
    "—": "---",
    "–": "--",
    "…": r"\ldots{}",
    "‘": "`",
    "’": "'",
    "′": "'",
    "“": "``",
    "”": "''",
    "é": r"\'e",
    "ü": r"\"u",
    "ö": r"\"o",
    "\u00a0": "~",
}
_SUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉₊₋ₜᵢⱼₖₙₘ", "0123456789+-tijknm")
_SUP = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ⁿ", "0123456789+-n")
_COMBINING = {"\u0302": r"\hat", "\u0303": r"\tilde", "\u0304": r"\bar", "\u0307": r"\dot"}


def _greek(char: str) -> str | None:
    name = unicodedata.name(char, "")
    match = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER (\w+)", name)
    if not match:
        return None
    letter = match[2].lower()
    letter = {"lamda": "lambda"}.get(letter, letter)
    if match[1] == "CAPITAL":
        capital = letter.capitalize()
        known = "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split()
        return "\\" + capital if capital in known else letter[0].upper()
    return "\\" + ("epsilon" if letter == "epsilon" else letter)


def escape(text: str) -> str:
    """Plain text (a name, a sheet line, a witness) made safe inside a LaTeX document.

    TeX's special characters are escaped; Unicode math (σ, ≤, ŷ, x₁, ²) is set as math;
    anything else outside ASCII becomes '?', so user text can never break the document.
    """
    out: list[str] = []
    chars = unicodedata.normalize("NFD", text)
    for index, char in enumerate(chars):
        if char in _COMBINING:
            continue
        following = chars[index + 1] if index + 1 < len(chars) else ""
        accent = _COMBINING.get(following)
        if char in _SPECIAL:
            out.append(_SPECIAL[char])
        elif char.isascii():
            out.append(rf"$\{accent[1:]}{{{char}}}$" if accent and char.isalpha() else char)
        elif char in _TEXT_CHARS:
            out.append(_TEXT_CHARS[char])
        elif char in _MATH_CHARS:
            out.append(rf"\ensuremath{{{_MATH_CHARS[char]}}}")
        elif (greek := _greek(char)) is not None:
            out.append(
                rf"\ensuremath{{{accent}{{{greek}}}}}" if accent else rf"\ensuremath{{{greek}}}"
            )
        elif char.translate(_SUB) != char:
            out.append(rf"\ensuremath{{_{{{char.translate(_SUB)}}}}}")
        elif char.translate(_SUP) != char:
            out.append(rf"\ensuremath{{^{{{char.translate(_SUP)}}}}}")
        elif unicodedata.combining(char):
            continue
        else:
            out.append("?")
    return "".join(out)


# -- the content of one entry ------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """What the sheet shows for one formula, already as LaTeX math (None: not typeset)."""

    formula: Formula
    tex: str | None
    gradients: tuple[str, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    problem: str = ""


Typesetter = Callable[[Formula], str]

_MARK = {
    Status.PROVED: ("proved", "proved"),
    Status.NUMERIC: ("numeric", "numeric"),
    Status.REFUTED: ("refuted", "refuted"),
    Status.CONDITIONAL: ("conditional", "conditional"),
    Status.AMBIGUOUS: ("ambiguous", "ambiguous"),
    Status.INCONCLUSIVE: ("inconclusive", "inconclusive"),
    Status.ERROR: ("error", "error"),
    Status.DIFFERS: ("differs", "differs"),
}
_FAILING = (Status.REFUTED, Status.CONDITIONAL, Status.AMBIGUOUS, Status.ERROR)


def gradients(formula: Formula, printer_context: Sequence[str] = ()) -> tuple[str, ...]:
    """LaTeX of the derived gradients worth showing: by each symbol a derivative claim is
    about, or by the only variable of a scalar formula; any that cannot be derived is omitted."""
    from symml.derive import grad

    targets: list[str] = []
    for claim in formula.claims:
        if (
            isinstance(claim, Derivative)
            and claim.of is None
            and isinstance(claim.wrt, (sp.Symbol, sp.MatrixSymbol))
        ):
            targets.append(str(claim.wrt))
    if not targets:
        if not isinstance(formula.expr, sp.Expr) or isinstance(formula.expr, sp.MatrixExpr):
            return ()
        scalars = [s for s in formula.symbols if s.kind == "scalar" and formula.expr.has(s.symbol)]
        if len(scalars) != 1 or formula.expr.has(sp.Sum, sp.Indexed):
            return ()
        targets = [scalars[0].name]
    shown = []
    for wrt in dict.fromkeys(targets):
        try:
            value = grad(formula, wrt)[0].value
            if isinstance(value, sp.Basic) and value.has(sp.Subs, sp.Derivative):
                continue  # a chain of unspecified functions: the formula already says it
            shown.append(latex(formula, grad=wrt, context=printer_context))
        except Exception:  # noqa: BLE001 - a gradient the engine cannot give is just left out
            continue
    return tuple(shown)


def entries(
    formulas: Iterable[Formula],
    *,
    verdicts: Mapping[str, Sequence[Verdict]] | None = None,
    with_gradients: bool = True,
    typeset: Typesetter | None = None,
    report: TextIO | None = None,
) -> list[Entry]:
    """Typeset every formula; one that fails is reported by id and kept as untypeset."""
    typeset = typeset or latex
    report = report if report is not None else sys.stderr
    out = []
    for formula in formulas:
        try:
            tex = typeset(formula)
        except Exception as exc:  # noqa: BLE001 - user catalogs: report by id, keep building
            problem = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:200]
            print(
                f"symml sheet: {formula.id}: cannot be typeset ({problem}); left out", file=report
            )
            out.append(Entry(formula, None, problem=problem))
            continue
        shown = gradients(formula) if with_gradients else ()
        out.append(Entry(formula, tex, shown, tuple((verdicts or {}).get(formula.id, ()))))
    return out


def by_formula(verdicts: Iterable[Verdict]) -> dict[str, list[Verdict]]:
    grouped: dict[str, list[Verdict]] = {}
    for verdict in verdicts:
        grouped.setdefault(verdict.claim.split("#")[0], []).append(verdict)
    return grouped


def witness(verdict: Verdict) -> str:
    """One line: the condition, counterexample or detail behind a failing verdict."""
    if verdict.conditions:
        text = "holds when " + ", ".join(verdict.conditions)
    elif verdict.counterexample is not None:
        text = verdict.counterexample.describe()
    else:
        text = verdict.detail
    text = " ".join(text.split())
    return text if len(text) <= 160 else text[:159] + "…"


# -- LaTeX document ------------------------------------------------------------------------------
PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[landscape,margin=0.9cm,top=0.8cm,bottom=1cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{multicol}
\usepackage{graphicx}
\usepackage[dvipsnames]{xcolor}
\setlength{\columnsep}{0.5cm}
\setlength{\columnseprule}{0.2pt}
\setlength{\parindent}{0pt}
\setlength{\parskip}{1pt}
\pagestyle{plain}
\newsavebox{\symmlbox}
% A formula at its natural size, shrunk to the column when it is wider.
\newcommand{\formula}[1]{\sbox{\symmlbox}{$\displaystyle #1$}%
  \par\smallskip\centerline{\ifdim\wd\symmlbox>\linewidth
  \resizebox{\linewidth}{!}{\usebox{\symmlbox}}\else\usebox{\symmlbox}\fi}\par\smallskip}
\newcommand{\entry}[2]{\par\medskip{\raggedright\textbf{#1}\hfill
  {\scriptsize\ttfamily\color{gray}#2}\par}}
\newcommand{\verdict}[2]{{\scriptsize\sffamily\color{#1}[#2]}}
\newcommand{\witness}[1]{\par{\raggedright\scriptsize\itshape #1\par}}
\newcommand{\partsection}[1]{\par\bigskip{\large\bfseries\color{MidnightBlue}#1}\par
  \vspace{-2pt}\rule{\linewidth}{0.4pt}\par}
"""

_COLOURS = {
    Status.PROVED: "ForestGreen",
    Status.NUMERIC: "teal",
    Status.REFUTED: "red",
    Status.CONDITIONAL: "orange",
    Status.AMBIGUOUS: "violet",
    Status.INCONCLUSIVE: "gray",
    Status.ERROR: "red",
    Status.DIFFERS: "orange",
}


@dataclass(frozen=True)
class SheetOptions:
    title: str = "ML formula sheet, checked by symml"
    figures: Mapping[int, Sequence[Path]] = field(default_factory=dict)
    with_verdicts: bool = True


def build_tex(catalog: Catalog, built: Sequence[Entry], options: SheetOptions) -> str:
    """The whole document: a section per part, then the errata."""
    parts = dict(catalog.parts)
    lines = [PREAMBLE, r"\begin{document}", r"\footnotesize"]
    lines.append(
        rf"{{\Large\bfseries {escape(options.title)}}}\hfill"
        rf"{{\scriptsize {len(built)} formulas"
        + (r"; marks: verdict of each claim the sheet makes" if options.with_verdicts else "")
        + r"}\par\smallskip"
    )
    lines.append(r"\begin{multicols*}{3}")
    current = None
    for entry in built:
        formula = entry.formula
        if formula.part != current:
            if current is not None:
                lines += _figures(options.figures.get(current, ()))
            current = formula.part
            title = parts.get(current, formula.part_title)
            lines.append(rf"\partsection{{{current}. {escape(title)}}}")
        lines += _entry_tex(entry, options.with_verdicts)
    if current is not None:
        lines += _figures(options.figures.get(current, ()))
    lines += _errata_tex(built)
    lines += [r"\end{multicols*}", r"\end{document}", ""]
    return "\n".join(lines)


def _entry_tex(entry: Entry, with_verdicts: bool) -> list[str]:
    formula = entry.formula
    marks = ""
    if with_verdicts and entry.verdicts:
        marks = " " + " ".join(
            rf"\verdict{{{_COLOURS[v.status]}}}{{{_MARK[v.status][1]}}}" for v in entry.verdicts
        )
    lines = [rf"\entry{{{escape(formula.name)}{marks}}}{{{escape(formula.id)}}}"]
    if entry.tex is None:
        lines.append(r"{\scriptsize\itshape (formula not typeset)}\par")
        return lines
    lines.append(rf"\formula{{{entry.tex}}}")
    for gradient in entry.gradients:
        lines.append(rf"\formula{{{gradient}}}")
    if with_verdicts:
        for verdict in entry.verdicts:
            if verdict.status in _FAILING:
                line = escape(f"{verdict.status.value}: {witness(verdict)}")
                lines.append(rf"\witness{{{line}}}")
    return lines


def _figures(paths: Sequence[Path]) -> list[str]:
    return [
        rf"\par\smallskip\centerline{{\includegraphics[width=\linewidth]{{{p.as_posix()}}}}}"
        for p in paths
    ]


def corrections(built: Sequence[Entry]) -> list[tuple[Formula, Any, Any]]:
    """(formula, claim, correction) for every claim that records a corrected form."""
    found = []
    for entry in built:
        for claim in entry.formula.claims:
            if claim.correction is not None:
                found.append((entry.formula, claim, claim.correction))
    return found


def correction_tex(formula: Formula, correction: Any) -> str | None:
    """The corrected form as LaTeX math, or None when it is prose."""
    printer_context = [s.name for s in formula.symbols]
    if isinstance(correction, str):
        return None
    if isinstance(correction, tuple):
        return r" ,\quad ".join(
            rf"{latex(t, context=printer_context)} \leftarrow {latex(v, context=printer_context)}"
            for t, v in correction
        )
    if isinstance(correction, sp.Basic):
        return latex(correction, context=printer_context)
    return None


def _errata_tex(built: Sequence[Entry]) -> list[str]:
    found = corrections(built)
    if not found:
        return []
    lines = [r"\partsection{Errata: corrected forms}"]
    for formula, claim, correction in found:
        lines.append(rf"\entry{{{escape(formula.name)}}}{{{escape(formula.id)}}}")
        lines.append(rf"{{\scriptsize sheet: {escape(claim.sheet.splitlines()[0])}}}\par")
        try:
            tex = correction_tex(formula, correction)
        except Exception:  # noqa: BLE001 - a correction that cannot be typeset is shown as text
            tex = None
        if tex is None:
            lines.append(rf"{{\scriptsize correct: {escape(str(correction))}}}\par")
        else:
            lines.append(rf"\formula{{{tex}}}")
        if claim.note:
            lines.append(rf"\witness{{{escape(claim.note)}}}")
    return lines


# -- Markdown ------------------------------------------------------------------------------------
def build_markdown(catalog: Catalog, built: Sequence[Entry], options: SheetOptions) -> str:
    parts = dict(catalog.parts)
    lines = [f"# {options.title}", ""]
    current = None
    for entry in built:
        formula = entry.formula
        if formula.part != current:
            current = formula.part
            lines += [f"## {current}. {parts.get(current, formula.part_title)}", ""]
            for path in options.figures.get(current, ()):
                lines += [f"![{path.stem}]({path.as_posix()})", ""]
        marks = ""
        if options.with_verdicts and entry.verdicts:
            marks = " " + " ".join(f"`[{v.status.value}]`" for v in entry.verdicts)
        lines += [f"### {_md_text(formula.name)}{marks}", "", f"`{formula.id}`", ""]
        if entry.tex is None:
            lines += ["*(formula not typeset)*", ""]
            continue
        lines += ["$$", entry.tex, "$$", ""]
        for gradient in entry.gradients:
            lines += ["$$", gradient, "$$", ""]
        if options.with_verdicts:
            for verdict in entry.verdicts:
                if verdict.status in _FAILING:
                    lines += [f"> **{verdict.status.value}**: {_md_text(witness(verdict))}", ""]
    found = corrections(built)
    if found:
        lines += ["## Errata: corrected forms", ""]
        for formula, claim, correction in found:
            lines += [
                f"### {_md_text(formula.name)}",
                "",
                f"sheet: `{claim.sheet.splitlines()[0]}`",
                "",
            ]
            try:
                tex = correction_tex(formula, correction)
            except Exception:  # noqa: BLE001
                tex = None
            lines += ["$$", tex, "$$", ""] if tex else [f"correct: {_md_text(str(correction))}", ""]
    return "\n".join(lines)


def _md_text(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]<>#|])", r"\\\1", text)


# -- PDF -------------------------------------------------------------------------------------------
def tex_engine() -> str | None:
    for engine in ("pdflatex", "lualatex"):
        if shutil.which(engine):
            return engine
    return None


def compile_pdf(tex_path: Path, *, engine: str | None = None, timeout: float = 300.0) -> Path:
    """Compile ``tex_path`` in its folder; the PDF's path, or SheetError with the first error."""
    engine = engine or tex_engine()
    if engine is None:
        raise SheetError(INSTALL_HINT)
    tex_path = Path(tex_path).resolve()
    command = [engine, "-interaction=nonstopmode", "-halt-on-error", tex_path.name]
    for _ in range(2):  # twice, so page references settle
        run = subprocess.run(
            command,
            cwd=tex_path.parent,
            capture_output=True,
            text=True,
            timeout=timeout,
            errors="replace",
        )
        if run.returncode != 0:
            raise SheetError(f"{engine} failed on {tex_path.name}: {first_error(tex_path)}")
    return tex_path.with_suffix(".pdf")


def first_error(tex_path: Path) -> str:
    log = Path(tex_path).with_suffix(".log")
    if not log.exists():
        return "no log written"
    lines = log.read_text(errors="replace").splitlines()
    for number, line in enumerate(lines):
        if line.startswith("!"):
            context = " ".join(x.strip() for x in lines[number : number + 3])
            return f"{context} (see {log.name})"
    return f"see {log.name}"


def log_problems(log_text: str) -> list[str]:
    """Errors and undefined references in a LaTeX log."""
    problems = [line for line in log_text.splitlines() if line.startswith("!")]
    problems += [line for line in log_text.splitlines() if "undefined" in line.lower()]
    return problems
