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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import sympy as sp

from symml.catalog.loader import Catalog
from symml.catalog.model import Derivative, Formula, Matches, Status
from symml.engine.derive import grad
from symml.engine.verdict import Verdict
from symml.errors import SymmlError
from symml.notation import (
    COMBINING_ACCENTS,
    MATH_SYMBOLS,
    SUBSCRIPTS,
    SUPERSCRIPTS,
    greek_tex,
    script_tex,
)
from symml.render.explain import Judged, Phrase, as_markdown, judge, statement_phrase
from symml.render.statement import Math, correction_math, formula_line, gradient_line, sheet_tex

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


def escape(text: str) -> str:
    """Plain text (a name, a sheet line, a witness) made safe inside a LaTeX document.

    TeX's special characters are escaped; Unicode math (σ, ≤, ŷ, x₁, ²) is set as math;
    anything else outside ASCII becomes '?', so user text can never break the document.
    """
    out: list[str] = []
    chars = unicodedata.normalize("NFD", text)
    for index, char in enumerate(chars):
        if char in COMBINING_ACCENTS:
            continue
        following = chars[index + 1] if index + 1 < len(chars) else ""
        accent = COMBINING_ACCENTS.get(following)
        if char in _SPECIAL:
            out.append(_SPECIAL[char])
        elif char.isascii():
            out.append(rf"$\{accent[1:]}{{{char}}}$" if accent and char.isalpha() else char)
        elif char in _TEXT_CHARS:
            out.append(_TEXT_CHARS[char])
        elif char in MATH_SYMBOLS:
            out.append(rf"\ensuremath{{{MATH_SYMBOLS[char]}}}")
        elif (greek := greek_tex(char)) is not None:
            out.append(
                rf"\ensuremath{{{accent}{{{greek}}}}}" if accent else rf"\ensuremath{{{greek}}}"
            )
        elif char in SUBSCRIPTS:
            out.append(rf"\ensuremath{{_{{{script_tex(SUBSCRIPTS[char])}}}}}")
        elif char in SUPERSCRIPTS:
            out.append(rf"\ensuremath{{^{{{script_tex(SUPERSCRIPTS[char])}}}}}")
        elif unicodedata.combining(char):
            continue
        else:
            out.append("?")
    return "".join(out)


# -- the content of one entry ------------------------------------------------------------------
@dataclass(frozen=True)
class Mark:
    """A framework function the formula agrees with or differs from (a ``matches`` verdict)."""

    agrees: bool
    reference: str
    badge: str = ""  # what differs, in a few words

    @property
    def text(self) -> str:
        """``= optax.adam`` or ``≠ torch.optim.RMSprop (ε placement)``."""
        return f"{'=' if self.agrees else '≠'} {self.reference}" + (
            f" ({self.badge})" if self.badge else ""
        )

    @property
    def tex(self) -> str:
        # pdflatex builds ≠ from two glyphs that text extraction reads as "=", so a difference
        # is said in words: the PDF's text must not read as agreement
        words = f"= {self.reference}" if self.agrees else f"differs from {self.reference}"
        return escape(words + (f" ({self.badge})" if self.badge else ""))


@dataclass(frozen=True)
class Entry:
    """What the sheet shows for one formula, already as LaTeX math (None: not typeset)."""

    formula: Formula
    tex: str | None
    gradients: tuple[str, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    problem: str = ""
    judged: tuple[Judged, ...] = ()  # each claim's lines with their tags (symml.render.explain)
    marks: tuple[Mark, ...] = ()  # the framework functions it agrees with or differs from


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


def gradients(formula: Formula, printer_context: Sequence[str] = ()) -> tuple[str, ...]:
    """LaTeX of the derived gradient worth showing: by the only variable of a scalar formula
    whose sheet states no derivative (a derivative the sheet states is shown as its claim,
    with its tag); one that cannot be derived is omitted."""

    targets: list[str] = []
    if any(isinstance(claim, Derivative) for claim in formula.claims):
        return ()
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
            shown.append(gradient_line(formula, wrt).tex)
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
    typeset = typeset or (lambda formula: formula_line(formula).tex)
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
        mine = tuple((verdicts or {}).get(formula.id, ()))
        claims = tuple(v for v in mine if v.kind != "matches")
        marks = framework_marks(formula, mine)
        out.append(
            Entry(formula, tex, shown, mine, judged=_judged(formula, claims, report), marks=marks)
        )
    return _placed(out)


def framework_marks(formula: Formula, verdicts: Sequence[Verdict]) -> tuple[Mark, ...]:
    """``= reference`` for each framework function the formula agrees with, ``≠ reference
    (badge)`` for each it differs from; a comparison that did not run (its framework is not
    installed) or failed has no mark."""
    marks = []
    for verdict in verdicts:
        number = int(verdict.claim.split("#")[1]) if "#" in verdict.claim else 0
        if verdict.kind != "matches" or not 1 <= number <= len(formula.claims):
            continue
        claim = formula.claims[number - 1]
        if not isinstance(claim, Matches):
            continue
        if verdict.status is Status.NUMERIC:
            marks.append(Mark(True, claim.reference))
        elif verdict.status in (Status.DIFFERS, Status.REFUTED):
            marks.append(Mark(False, claim.reference, claim.badge))
    return tuple(marks)


def _judged(formula: Formula, verdicts: Sequence[Verdict], report: TextIO) -> tuple[Judged, ...]:
    found: list[Judged] = []
    for verdict in verdicts:
        number = int(verdict.claim.split("#")[1]) if "#" in verdict.claim else 0
        if not 1 <= number <= len(formula.claims):
            continue
        try:
            found += judge(formula, number, verdict)
        except Exception as exc:  # noqa: BLE001 - one claim that cannot be typeset: say so
            print(f"symml sheet: {verdict.claim}: verdict not typeset ({exc})", file=report)
            found.append(Judged(verdict.claim, None, verdict.status, verdict.method))
    return tuple(found)


def _placed(built: list[Entry]) -> list[Entry]:
    """Each update line's tag moved to the entry that prints that line (the Nesterov rule is
    judged on the step's entry, its error is on the velocity entry's line)."""
    owners: dict[tuple[str, str], list[int]] = {}
    for index, entry in enumerate(built):
        if entry.formula.lhs is not None:
            key = (str(entry.formula.lhs), str(entry.formula.expr))
            owners.setdefault(key, []).append(index)
    moved: dict[int, list[Judged]] = {index: [] for index in range(len(built))}
    for index, entry in enumerate(built):
        for item in entry.judged:
            assignment = item.line.assignment if item.line is not None else None
            key = (str(assignment[0]), str(assignment[1])) if assignment else None
            owner = _nearest(owners.get(key, []) if key else [], index, built)
            if owner is None:
                moved[index].append(item)
            elif item.status is not None:
                moved[owner].append(replace(item, line=None))
    return [replace(entry, judged=tuple(moved[index])) for index, entry in enumerate(built)]


def by_formula(verdicts: Iterable[Verdict]) -> dict[str, list[Verdict]]:
    grouped: dict[str, list[Verdict]] = {}
    for verdict in verdicts:
        grouped.setdefault(verdict.claim.split("#")[0], []).append(verdict)
    return grouped


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
\newlength{\symmlroom}
% \fitmath{math}{room}: the math in display style; in text style (limits beside the sums) when
% that is too wide; shrunk only when even that does not fit.
\newcommand{\fitmath}[2]{\sbox{\symmlbox}{$\displaystyle #1$}%
  \ifdim\wd\symmlbox>#2\sbox{\symmlbox}{$\textstyle #1$}\fi
  \ifdim\wd\symmlbox>#2\sbox{\symmlbox}{\resizebox{#2}{!}{\usebox{\symmlbox}}}\fi}
% \formula[{broken}]{math}: a formula too wide for the column is set as its broken form
% (one term per line) when it has one. No glue after it: the claims under it stay with it.
\newcommand{\formula}[2][]{\sbox{\symmlbox}{$\displaystyle #2$}%
  \ifdim\wd\symmlbox>\linewidth\if\relax\detokenize{#1}\relax\fitmath{#2}{\linewidth}%
  \else\fitmath{#1}{\linewidth}\fi\else\fitmath{#2}{\linewidth}\fi
  \par\nobreak\vspace{2pt plus 1pt}\centerline{\usebox{\symmlbox}}\par}
% A heading stays with what follows it: no column break after it (\nobreak before the glue).
\newcommand{\entry}[2]{\par\vspace{4pt plus 2pt minus 1pt}{\raggedright\textbf{#1}\hfill
  {\scriptsize\ttfamily\color{gray}#2}\par}\nobreak}
\newcommand{\verdict}[2]{{\scriptsize\sffamily\color{#1}[#2]}}
% The framework functions a formula agrees with (=) or differs from (≠), under it.
\newcommand{\frameworks}[1]{\par\nobreak{\raggedright\scriptsize\sffamily\color{gray}#1\par}}
% A statement with its verdict tag in front; a statement too wide to sit beside its tag goes
% on the next line, centred, at full width.
\newsavebox{\symmltag}
\newcommand{\claim}[3][]{\par\nobreak\vspace{2pt plus 1pt}\nobreak\noindent\sbox{\symmltag}{#2\ }%
  \setlength{\symmlroom}{\linewidth}\addtolength{\symmlroom}{-\wd\symmltag}%
  \sbox{\symmlbox}{$\displaystyle #3$}%
  \ifdim\wd\symmlbox>\symmlroom\sbox{\symmlbox}{$\textstyle #3$}\fi
  \ifdim\wd\symmlbox>\symmlroom\usebox{\symmltag}\par\nobreak\formula[{#1}]{#3}%
  \else\usebox{\symmltag}\usebox{\symmlbox}\par\fi}
% A statement in the sheet's own words, with its verdict tags in front.
\newcommand{\saying}[2]{\par\nobreak\vspace{2pt plus 1pt}\noindent#1\ {\small #2}\par}
% The correction beside the claim it corrects, and the short reasons under it.
\newcommand{\beside}[1]{\par\nobreak{\raggedright\scriptsize\hangindent=1.5em\hspace*{1.5em}%
  $\hookrightarrow$ #1\par}}
\newcommand{\witness}[1]{\par\nobreak{\raggedright\scriptsize\itshape\hangindent=1.5em
  \hspace*{1.5em}#1\par}}
\newcommand{\partsection}[1]{\par\vspace{8pt plus 3pt minus 2pt}{\large\bfseries\color{MidnightBlue}#1}\par\nobreak
  \vspace{-2pt}\nobreak\rule{\linewidth}{0.4pt}\par\nobreak}
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
    frameworks: tuple[str, ...] = ()  # whose marks the sheet shows
    missing: tuple[str, ...] = ()  # frameworks whose marks are left out: not installed


def frameworks_note(options: SheetOptions) -> str:
    """The header's sentence on the framework marks (empty when there are none)."""
    if not options.frameworks and not options.missing:
        return ""
    note = ""
    if options.frameworks:
        note = (
            f"Under a formula: the functions of {', '.join(options.frameworks)} that compute "
            "the same (=) or differ in a convention (measured numerically by symml verify)"
        )
    if options.missing:
        names = " and ".join(options.missing)
        note += ("; " if note else "") + f"no marks for {names}: not installed here"
    return note


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
    if frameworks_note(options):
        lines.append(rf"{{\scriptsize\sffamily {escape(frameworks_note(options))}}}\par\smallskip")
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
        lines += entry_tex(entry, options.with_verdicts)
    if current is not None:
        lines += _figures(options.figures.get(current, ()))
    lines += _errata_tex(built)
    lines += [r"\end{multicols*}", r"\end{document}", ""]
    return "\n".join(lines)


def _nearest(candidates: Sequence[int], index: int, built: Sequence[Entry]) -> int | None:
    """The entry that prints a line: the claim's own, else the closest one before it in
    the same part (AdaGrad and RMSprop both print W ← W − ηg/√(G + ε))."""
    if index in candidates:
        return index
    part = built[index].formula.part
    before = [c for c in candidates if c < index and built[c].formula.part == part]
    return max(before) if before else None


def _grouped(items: Sequence[Judged]) -> list[list[Judged]]:
    """Judgements of the same sheet words together: one line, one tag per claim."""
    groups: dict[Any, list[Judged]] = {}
    for item in items:
        key = item.line.words if item.line is not None and item.line.math is None else id(item)
        groups.setdefault(key or id(item), []).append(item)
    return list(groups.values())


def entry_tex(entry: Entry, with_verdicts: bool) -> list[str]:
    formula = entry.formula
    lines = [rf"\entry{{{escape(formula.name)}}}{{{escape(formula.id)}}}"]
    if entry.tex is None:
        lines.append(r"{\scriptsize\itshape (formula not typeset)}\par")
        return lines
    judged = entry.judged if with_verdicts else ()
    on_formula = [j for j in judged if j.line is None]
    shown = legible(formula, entry.tex)
    if on_formula:
        lines += _judged_tex(shown, on_formula)
    else:
        lines.append(rf"\formula{_alt(shown)}{{{shown}}}")
    for gradient in entry.gradients:
        lines.append(rf"\formula{{{gradient}}}")
    if entry.marks:
        lines.append(rf"\frameworks{{{escape(' · ').join(m.tex for m in entry.marks)}}}")
    for group in _grouped([j for j in judged if j.line is not None]):
        line = group[0].line
        math = line.math.tex if line.math is not None else None
        lines += _judged_tex(math, group, words=line.words)
    return lines


def broken(tex: str) -> str | None:
    """``lhs = a - b + c`` as ``aligned`` rows, one top-level term per row (for a formula too
    wide for its column); None when there is nothing to break."""
    depth, cut, terms = 0, [], []
    equals = -1
    index = 0
    while index < len(tex):
        if tex.startswith(r"\left", index) and not tex[index + 5 : index + 6].isalpha():
            depth += 1
        elif tex.startswith(r"\right", index) and not tex[index + 6 : index + 7].isalpha():
            depth -= 1
        elif tex.startswith(r"\begin", index):
            depth += 1
        elif tex.startswith(r"\end", index):
            depth -= 1
        elif tex[index] == "{":
            depth += 1
        elif tex[index] == "}":
            depth -= 1
        elif depth == 0 and equals < 0 and tex.startswith(" = ", index):
            equals = index
        elif depth == 0 and equals >= 0 and tex.startswith((" - ", " + "), index):
            cut.append(index)
        index += 1
    cut = [c for c in cut if tex[equals + 3 : c].strip()]  # a leading sign starts no row
    if equals < 0 or not cut:
        return None
    bounds = [equals + 3, *cut, len(tex)]
    terms = [tex[a:b].strip() for a, b in zip(bounds, bounds[1:], strict=False)]
    rows = [rf"{tex[:equals]} &= {terms[0]}"] + [rf"&\quad {t}" for t in terms[1:]]
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


_LEGIBLE = 60  # visible symbols in one row of a formula that still reads at column width


def visible(tex: str) -> int:
    """About how many symbols a piece of LaTeX shows (commands, braces and scripts aside)."""
    return len(re.sub(r"\\[A-Za-z]+|[{}^_ &]", "", tex))


def legible(formula: Formula, tex: str) -> str:
    """The formula as printed on the sheet: the catalog's expression, or the sheet's own
    compact line where the expression expands into something no column can hold (a
    transformer block with its layer norm written out); ``symml latex ID`` gives the whole."""
    if visible(tex) <= _LEGIBLE:
        return tex
    rows = (broken(tex) or tex).split(r"\\")
    if max(visible(row) for row in rows) <= _LEGIBLE:
        return tex
    try:
        return sheet_tex(formula.sheet.strip().splitlines()[0])
    except ValueError:
        return tex


def _alt(tex: str) -> str:
    alternative = broken(tex)
    return f"[{{{alternative}}}]" if alternative else ""


def _tags_tex(items: Sequence[Judged]) -> str:
    return " ".join(
        rf"\verdict{{{_COLOURS[j.status]}}}{{{_MARK[j.status][1]}}}"
        for j in items
        if j.status is not None
    )


def _judged_tex(math: str | None, items: Sequence[Judged], words: str = "") -> list[str]:
    """A statement with its tags in front, the correction beside it, the reasons under it."""
    tags = _tags_tex(items)
    if math is not None:
        alt = _alt(math)
        lines = [rf"\claim{alt}{{{tags}}}{{{math}}}" if tags else rf"\formula{alt}{{{math}}}"]
    else:
        lines = [rf"\saying{{{tags}}}{{{escape(words)}}}"]
    for item in items:
        if item.beside:
            lines.append(rf"\beside{{{phrase_tex(item.beside)}}}")
        lines += [rf"\witness{{{phrase_tex(reason)}}}" for reason in item.why]
    return lines


def phrase_tex(phrase: Phrase) -> str:
    """Words and mathematics in a LaTeX paragraph (text escaped, mathematics in $…$)."""
    return "".join(f"${span.tex}$" if isinstance(span, Math) else escape(span) for span in phrase)


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
    """The corrected form as LaTeX math (``lhs = …``, updates with ←), or None when it is prose."""

    math = correction_math(formula, correction)
    return math.tex if math is not None else None


def _quote_tex(sheet_text: str) -> str:
    """The sheet's lines verbatim (every line: a piecewise schedule is several)."""
    lines = [escape(line.rstrip()) for line in sheet_text.strip().splitlines()]
    return r"\\ ".join(lines)


def _errata_tex(built: Sequence[Entry]) -> list[str]:
    found = corrections(built)
    if not found:
        return []
    lines = [r"\partsection{Errata: corrected forms}"]
    for formula, claim, correction in found:
        lines.append(rf"\entry{{{escape(formula.name)}}}{{{escape(formula.id)}}}")
        lines.append(
            rf"{{\scriptsize\raggedright sheet:\\ \hspace*{{1em}}\parbox[t]{{\dimexpr\linewidth-1em}}"
            rf"{{\raggedright {_quote_tex(claim.sheet)}}}\par}}\nobreak"
        )
        try:
            tex = correction_tex(formula, correction)
        except Exception:  # noqa: BLE001 - a correction that cannot be typeset is shown as text
            tex = None
        lines.append(r"{\scriptsize correct:}\nobreak")
        if tex is None:
            lines.append(rf"{{\scriptsize {escape(str(correction))}}}\par")
        else:
            lines.append(rf"\formula{{{tex}}}")
        if claim.note:
            lines.append(rf"\witness{{{escape(claim.note)}}}")
    return lines


# -- Markdown ------------------------------------------------------------------------------------
def build_markdown(catalog: Catalog, built: Sequence[Entry], options: SheetOptions) -> str:
    """The sheet as Markdown that GitHub and Jupyter render: ``$$…$$`` displays, ``$…$`` inline,
    only macros KaTeX knows."""
    parts = dict(catalog.parts)
    lines = [f"# {options.title}", ""]
    if frameworks_note(options):
        lines += [f"*{_md_text(frameworks_note(options))}*", ""]
    current = None
    for entry in built:
        formula = entry.formula
        if formula.part != current:
            current = formula.part
            lines += [f"## {current}. {parts.get(current, formula.part_title)}", ""]
            for path in options.figures.get(current, ()):
                lines += [f"![{path.stem}]({path.as_posix()})", ""]
        lines += [f"### {_md_text(formula.name)}", "", f"`{formula.id}`", ""]
        if entry.tex is None:
            lines += ["*(formula not typeset)*", ""]
            continue
        lines += entry_markdown(entry, options.with_verdicts)
    found = corrections(built)
    if found:
        lines += ["## Errata: corrected forms", ""]
        for formula, claim, correction in found:
            lines += [f"### {_md_text(formula.name)}", "", "Sheet:", "", "```"]
            lines += [line.rstrip() for line in claim.sheet.strip().splitlines()]
            lines += ["```", ""]
            try:
                tex = correction_tex(formula, correction)
            except Exception:  # noqa: BLE001
                tex = None
            lines += (
                ["Correct:", "", "$$", tex, "$$", ""]
                if tex
                else [f"Correct: {_md_text(str(correction))}", ""]
            )
    return "\n".join(lines)


def entry_markdown(entry: Entry, with_verdicts: bool = True) -> list[str]:
    """One entry's mathematics in Markdown: the formula, then each statement with its tag."""
    judged = entry.judged if with_verdicts else ()
    on_formula = [j for j in judged if j.line is None]
    lines: list[str] = []
    if on_formula:
        lines += _judged_markdown(Math(entry.tex, ""), on_formula)
    else:
        lines += ["$$", entry.tex, "$$", ""]
    for gradient in entry.gradients:
        lines += ["$$", gradient, "$$", ""]
    if entry.marks:
        lines += [_md_text("  ·  ".join(m.text for m in entry.marks)), ""]
    for group in _grouped([j for j in judged if j.line is not None]):
        lines += _judged_markdown(statement_phrase(group[0].line, entry.formula)[0], group)
    return lines


def _judged_markdown(statement: Math | str, items: Sequence[Judged]) -> list[str]:
    tags = " ".join(f"**[{j.status.value}]**" for j in items if j.status is not None)
    shown = (
        rf"$\displaystyle {statement.tex}$" if isinstance(statement, Math) else _md_text(statement)
    )
    lines = [f"{tags} {shown}".strip(), ""]
    for item in items:
        if item.beside:
            lines += [f"&emsp;↳ {as_markdown(item.beside)}", ""]
        lines += [f"&emsp;{as_markdown(reason)}" + "  " for reason in item.why]
        if item.why:
            lines.append("")
    return lines


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
