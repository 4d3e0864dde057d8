"""One display of notes → the claims it makes, each a formula ``read_latex`` reads alone.

ML notes write several claims in one display: rows of ``aligned``/``align*``/``gather``/
``split`` separated by ``\\\\`` (a row starting with ``&=`` goes on from the previous row's
right side), chains ``a = b = c`` (each adjacent pair is a claim), statements joined by
``\\text{and}`` or spaced apart by ``\\quad``. ``split_statements`` cuts a display there, at the
top level only: the ``\\\\`` rows of a ``bmatrix`` or ``cases`` inside a claim stay in it.
Alignment ``&`` and ``\\label``/``\\tag``/``\\nonumber`` are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from symml.read.errors import LatexParseError
from symml.read.latex import Reading, read_latex

#: Environments that only lay rows out: their body is a list of claims.
LAYOUT_ENVIRONMENTS = frozenset(
    "aligned align align* alignat alignat* gather gather* gathered split equation equation* "
    "eqnarray eqnarray* multline multline* displaymath math".split()
)
#: Relations a chain is cut at, as written (longest first, so ``\leq`` is not ``\le``).
RELATION_WORDS = (
    r"\leftarrow",
    r"\coloneqq",
    r"\approx",
    r"\leqslant",
    r"\geqslant",
    r"\equiv",
    r"\gets",
    r"\leq",
    r"\geq",
    r"\neq",
    r"\le",
    r"\ge",
    r"\ne",
    ":=",
    "=",
    "<",
    ">",
)
INEQUALITIES_UP = frozenset([r"\leq", r"\le", r"\leqslant", "<"])
INEQUALITIES_DOWN = frozenset([r"\geq", r"\ge", r"\geqslant", ">"])
_DROPPED = re.compile(r"\\(?:label|tag\*?)\s*\{[^{}]*\}|\\(?:nonumber|notag)\b")
#: A joining word between two statements: \text{and}, \;\text{and}\;, \quad, \qquad.
_JOINER = re.compile(
    r"(?:,\s*)?(?:\\[,;:!]\s*|\\q?quad\s*)*"
    r"(?:\\(?:text|mathrm|textrm|mbox)\s*\{\s*(?:and|,\s*and)\s*\}|\\q?quad\b)"
    r"(?:\s*\\[,;:!]|\s*\\q?quad\b)*"
)
PROSE_WORDS = frozenset(
    "where for if when with and or since so then thus hence otherwise s.t. subject given "
    "all each every".split()
)
_WORD_START = re.compile(r"\\(?:text|mathrm|textrm|mbox)\s*\{\s*([A-Za-z][A-Za-z ,.]*)\}")


@dataclass(frozen=True)
class Statement:
    """One claim of a display: its LaTeX (``a = b``) and the row of the display it is on."""

    text: str
    row: int


def split_statements(latex: str) -> tuple[Statement, ...]:
    """The claims of one display, in order (see the module docstring)."""
    body = _DROPPED.sub(" ", latex).strip()
    body = _unwrapped(body)
    statements: list[Statement] = []
    previous_right: str | None = None
    rows = _joined_continuations(_top_level_split(body, r"\\"))
    for row_number, row in enumerate(rows):
        row = " ".join(_top_level_split(row, "&"))
        for part in _parts(row):
            relations = _relations(part)
            if relations and relations[0][0] == 0:
                if previous_right is None:
                    raise LatexParseError(
                        latex,
                        0,
                        part[:20],
                        "a row that starts with a relation and no row before it",
                        "write the left side",
                    )
                part = f"{previous_right} {part}"
                relations = _relations(part)
            pieces = _chain(part, relations)
            statements += [Statement(re.sub(r"\s+", " ", p), row_number) for p in pieces]
            if relations:
                previous_right = part[relations[-1][1] :].strip().rstrip(",.;").strip()
    return tuple(statements)


def read_statements(latex: str, *, symbols: Any = None) -> tuple[Reading, ...]:
    """``read_latex`` of every claim of ``split_statements(latex)``; a claim that cannot be
    read raises its own ``LatexParseError`` (its text is the claim's)."""
    return tuple(read_latex(s.text, symbols=symbols) for s in split_statements(latex))


def _unwrapped(text: str) -> str:
    """The body of layout environments wrapped around the whole text."""
    while True:
        match = re.fullmatch(r"\\begin\s*\{([a-z]+\*?)\}(.*)\\end\s*\{\1\}", text, re.DOTALL)
        if match is None or match.group(1) not in LAYOUT_ENVIRONMENTS:
            return text
        inner = match.group(2)
        if min(_depths(inner), default=0) < 0:
            return text  # \begin{aligned}…\end{aligned} … \begin{aligned}…: two blocks
        text = inner.strip()


def _depths(text: str) -> list[int]:
    """The nesting (braces, brackets, environments) before each character of ``text``; a
    command word takes its first character's depth for all its characters."""
    depths = [0] * len(text)
    depth, i = 0, 0
    while i < len(text):
        c = text[i]
        step = 1
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt.isalpha():
                step = 1
                while i + step < len(text) and text[i + step].isalpha():
                    step += 1
                word = text[i : i + step]
                for k in range(i, i + step):
                    depths[k] = depth
                depth += 1 if word == r"\begin" else -1 if word == r"\end" else 0
                i += step
                continue
            step = 2
            for k in range(i, i + step):
                depths[k] = depth
            depth += 1 if nxt == "{" else -1 if nxt == "}" else 0
            i += step
            continue
        depths[i] = depth
        depth += 1 if c in "{([" else -1 if c in "})]" else 0
        i += 1
    return depths


def _top_level_split(text: str, separator: str) -> list[str]:
    """``text`` cut at ``separator`` outside braces, brackets and environments (``&`` and
    ``\\\\`` are matched where they are themselves, not inside another command)."""
    depths = _depths(text)
    parts, start, i = [], 0, 0
    while i < len(text):
        if depths[i] == 0 and text.startswith(separator, i) and _token_start(text, i):
            parts.append(text[start:i])
            i += len(separator)
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return parts


def _token_start(text: str, i: int) -> bool:
    """Whether a token starts at ``i``: not after an odd run of backslashes (``\\&``)."""
    run = 0
    while i - run - 1 >= 0 and text[i - run - 1] == "\\":
        run += 1
    return run % 2 == 0


def _joined_continuations(rows: list[str]) -> list[str]:
    """Rows that go on from the previous one (it ends with an operator, or this one starts
    with ``+``/``-`` after the alignment): one expression broken over lines."""
    out: list[str] = []
    for row in rows:
        text = row.strip()
        if not text:
            continue
        text = re.sub(r"^\[[^\]]*\]", "", text).strip()  # \\[2pt]: the row's spacing
        if not text:
            continue
        bare = text.lstrip("&").lstrip()
        bare = re.sub(r"^(?:\\q?quad|\\[,;:!])\s*", "", bare)
        ends = out and re.search(r"(?:[+\-]|\\cdot|\\times)\s*&?\s*$", out[-1])
        if out and (bare[:1] in ("+", "-") or ends):
            out[-1] = f"{out[-1]} {bare}"
        else:
            out.append(text)
    return out


def _parts(row: str) -> list[str]:
    """A row cut at its joining words; parts that are prose (\\text{where …}) are left out."""
    parts = []
    for piece in _split_joiners(row):
        piece = piece.strip().strip(",;").rstrip(".").strip()  # the sentence's punctuation
        if not piece or _is_prose(piece):
            continue
        parts.append(piece)
    return parts


def _is_prose(piece: str) -> bool:
    """Whether a part starts with words (``\\text{for all } x``), not with a name written in
    text (``\\text{ELU}(x) = …``, ``\\text{lr} = 0.1``)."""
    match = _WORD_START.match(piece)
    if match is None:
        return False
    words = match.group(1).strip().lower()
    return " " in words or words.rstrip(",.") in PROSE_WORDS


def _split_joiners(row: str) -> list[str]:
    pieces, start = [], 0
    depths = _depths(row)
    for match in _JOINER.finditer(row):
        if depths[match.start()] == 0:
            pieces.append(row[start : match.start()])
            start = match.end()
    pieces.append(row[start:])
    return pieces


def _relations(text: str) -> list[tuple[int, int, str]]:
    """(start, end, relation) of the relations of ``text`` at the top level."""
    found = []
    depths = _depths(text)
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and not text[i + 1].isalpha():
            i += 2
            continue
        for word in RELATION_WORDS:
            if text.startswith(word, i):
                end = i + len(word)
                is_command = word.startswith("\\")
                if is_command and end < len(text) and text[end].isalpha():
                    continue  # \leqslant read whole, \left not \le
                if not is_command and word in "<>" and text.startswith(("<=", ">="), i):
                    continue
                if depths[i] == 0:
                    found.append((i, end, word))
                i = end - 1
                break
        else:
            if text[i] == "\\":
                j = i + 1
                while j < len(text) and text[j].isalpha():
                    j += 1
                i = j - 1
        i += 1
    return found


def _chain(part: str, relations: list[tuple[int, int, str]]) -> list[str]:
    """``a = b = c`` → ``a = b``, ``b = c``; a chain of inequalities one way stays whole
    (``0 < x < 1`` is one claim, both at once)."""
    if len(relations) < 2:
        return [part]
    words = {w for _, _, w in relations}
    if words <= INEQUALITIES_UP or words <= INEQUALITIES_DOWN:
        return [part]
    sides, start = [], 0
    for begin, end, _ in relations:
        sides.append(part[start:begin].strip())
        start = end
    sides.append(part[start:].strip())
    return [f"{sides[k]} {relations[k][2]} {sides[k + 1]}".strip() for k in range(len(relations))]
