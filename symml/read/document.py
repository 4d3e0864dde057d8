"""Where the mathematics of a notes file is: the scanning half of ``symml check``.

A Markdown file is cut into math segments (``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]``, their
Markdown-escaped forms ``\\\\(…\\\\)`` and ``\\\\[…\\\\]``, and bare ``\\begin{align}``-style
environments), each display cut into its rows (``aligned``/``align*``/``gather``/``split``
rows at their top-level ``\\\\``; a ``bmatrix`` keeps its own rows), each row with the line it
starts on. What is not math is left alone:

- a YAML front matter that is not symml's (``layout: page``); symml's declarations are a
  ``symml:`` key in the front matter, a ```` ```symml ```` fenced block, or (as before) a
  front-matter block of declaration lines only;
- fenced code in a language (```` ```python ````, ```` ```{.python .input} ````) and indented
  code; a bare fence is read as plain Unicode math (the formula sheet's form) unless its
  lines look like a program, and a fence marked ``math`` is a LaTeX display.

The prose before a formula can make it not a claim ("True or False", "suppose", "assume",
"if … then", "the wrong …"): the segment carries the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from symml.read.errors import LatexParseError
from symml.read.statements import split_statements

# -- front matter and declaration blocks ----------------------------------------------------
YAML_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:(\s|$)")
SYMML_KEY = re.compile(r"^symml\s*:\s*(?P<inline>.*)$")


@dataclass(frozen=True)
class Header:
    """The front matter of a Markdown file: symml's declarations in it, and its last line."""

    declarations: str  # symml's declaration text ("" when the front matter has none)
    end: int  # 0-based index of the closing ``---`` (-1 when there is no front matter)


def front_matter(lines: list[str]) -> Header:
    """``---`` … ``---`` at the top: a YAML header (symml reads only its ``symml:`` key,
    inline ``symml: vector x n; matrix W m n`` or a block ``symml: |`` of indented lines),
    or a block of symml declaration lines, the older form."""
    if not lines or lines[0].strip() != "---":
        return Header("", -1)
    end = next((k for k in range(1, len(lines)) if lines[k].strip() in ("---", "...")), None)
    if end is None:
        return Header("", -1)
    body = lines[1:end]
    if not any(YAML_KEY.match(line) for line in body):
        return Header("\n".join(body), end)  # declaration lines: symml's own block
    for k, line in enumerate(body):
        match = SYMML_KEY.match(line)
        if match is None:
            continue
        inline = match["inline"].strip()
        if inline and inline not in ("|", ">", "|-", ">-"):
            return Header(inline.strip("\"'"), end)
        block = []
        for following in body[k + 1 :]:
            if following.strip() and not following[:1].isspace():
                break
            block.append(following.strip().lstrip("- ").strip())
        return Header("\n".join(block), end)
    return Header("", end)  # someone else's front matter (Jekyll, Hugo): not symml's


# -- code ----------------------------------------------------------------------------------
FENCE = re.compile(r"^(?P<indent>\s{0,3})(?P<mark>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
# a line that is a program's, not a formula's: the formula sheet's bare fences have none
PROGRAM_LINE = re.compile(
    r"^\s*(def |class |import |from \S+ import |for .+ in .+:|while .+:|if .+:\s*$|return\b|"
    r"print\(|@\w|>>>|\$ )|\b(np|torch|tf|jnp|nn|F|plt|d2l|self)\.\w|;\s*$|^\s*#\s|\s@\s|\.T\b"
)


@dataclass(frozen=True)
class Fence:
    start: int  # 0-based line of the opening fence
    end: int  # 0-based line of the closing fence (or the last line)
    language: str  # "" for a bare fence


def _language(info: str) -> str:
    """```` ```python ````, ```` ```{.python .input} ````, ```` ```py title="x" ````: python."""
    words = re.findall(r"[A-Za-z][\w+#-]*", info)
    return words[0].lower() if words else ""


def fences(lines: list[str]) -> list[Fence]:
    found: list[Fence] = []
    k = 0
    while k < len(lines):
        match = FENCE.match(lines[k])
        if match is None:
            k += 1
            continue
        mark = match["mark"]
        close = next(
            (j for j in range(k + 1, len(lines)) if lines[j].strip().startswith(mark)),
            len(lines) - 1,
        )
        found.append(Fence(k, close, _language(match["info"])))
        k = close + 1
    return found


def looks_like_program(lines: list[str]) -> bool:
    return any(PROGRAM_LINE.search(line) for line in lines)


def indented_code(lines: list[str], skip: set[int]) -> set[int]:
    """Lines of indented code blocks: indented by four spaces (or a tab) after a blank line,
    when the paragraph before is not a list (whose continuation lines are indented too)."""
    found: set[int] = set()
    in_list = False
    k = 0
    while k < len(lines):
        line = lines[k]
        if k in skip:
            k += 1
            continue
        if re.match(r"^\s{0,3}([-*+]|\d+[.)])\s", line):
            in_list = True
        elif not line.strip():
            pass
        elif not line[:1].isspace():
            in_list = False
        blank_before = k == 0 or not lines[k - 1].strip()
        if blank_before and not in_list and re.match(r"^( {4}|\t)\S", line):
            while k < len(lines) and (not lines[k].strip() or re.match(r"^( {4}|\t)", lines[k])):
                if lines[k].strip():
                    found.add(k)
                k += 1
            continue
        k += 1
    return found


# -- math segments -------------------------------------------------------------------------
ENVIRONMENTS = r"(?:equation|align|alignat|gather|multline|eqnarray|flalign)\*?"
MATH_PATTERNS: tuple[tuple[re.Pattern[str], bool, bool], ...] = (
    # (pattern, display, Markdown-escaped); earlier patterns win where two overlap
    (re.compile(r"\$\$(.+?)\$\$", re.S), True, False),
    (re.compile(r"\\\\\[(.+?)\\\\\]", re.S), True, True),
    (re.compile(r"(?<!\\)\\\[(.+?)\\\]", re.S), True, False),
    (re.compile(rf"(\\begin\{{({ENVIRONMENTS})\}}.+?\\end\{{\2\}})", re.S), True, False),
    (re.compile(r"\\\\\((.+?)\\\\\)", re.S), False, True),
    (re.compile(r"(?<!\\)\\\((.+?)\\\)", re.S), False, False),
    (re.compile(r"(?<![\\$])\$([^$\n]+?)\$(?!\$)"), False, False),
)
# the wrappers whose rows are formulas of their own; a matrix or cases keeps its rows
ROW_ENVIRONMENTS = re.compile(
    r"\\(begin|end)\{(?:aligned|align|alignat|alignedat|gather|gathered|split|equation|"
    r"multline|eqnarray|flalign)\*?\}(?:\{\d+\})?"
)
ANY_ENVIRONMENT = re.compile(r"\\(begin|end)\{[A-Za-z*]+\}")
LABELS = re.compile(r"\\(?:label|tag\*?)\{[^{}]*\}|\\nonumber|\\notag")


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line the row starts on
    text: str


def unescape(text: str) -> str:
    """Math written for a Markdown processor that eats one backslash (``\\\\\\\\`` rows,
    ``\\_`` subscripts): the LaTeX it renders."""
    text = text.replace("\\\\\\\\", "\\\\")
    return re.sub(r"\\([_*{}|#])", lambda m: m[1] if m[1] in "_*#" else "\\" + m[1], text)


def rows(body: str, first_line: int) -> list[Row]:
    """A display's formulas: its rows at top-level ``\\\\`` once the aligned wrappers are
    taken off (a ``bmatrix`` or ``cases`` keeps its rows), ``&`` alignment dropped, a row
    opening with a relation (``&= …``) continued from the right side of the row above."""
    body = LABELS.sub("", ROW_ENVIRONMENTS.sub(lambda m: " " * len(m[0]), body))
    found: list[Row] = []
    depth = 0
    start = 0
    k = 0
    cuts: list[tuple[int, int]] = []
    while k < len(body):
        env = ANY_ENVIRONMENT.match(body, k)
        if env is not None:
            depth += 1 if env[1] == "begin" else -1
            k = env.end()
            continue
        if body.startswith("\\\\", k) and depth == 0:
            cuts.append((start, k))
            k += 2
            start = k
            continue
        if body[k] == "\\":
            k += 2
            continue
        k += 1
    cuts.append((start, len(body)))
    previous_right = ""
    for a, b in cuts:
        raw = body[a:b]
        text = re.sub(r"\s+", " ", _drop_alignment(raw)).strip().rstrip(".,;").strip()
        text = re.sub(r"(\\[,;!: ]|\\quad|\\qquad|~|\s)+$", "", text).rstrip(".,;").strip()
        if not text:
            continue
        line = first_line + body.count("\n", 0, a + len(raw) - len(raw.lstrip()))
        if re.match(r"^=(?!=)", text) and previous_right:
            text = f"{previous_right} {text}"
        for piece in _side_by_side(text):
            for claim in _chain_pairs(piece):
                found.append(Row(line, claim))
                previous_right = _right_side(claim)
    return found


PROSE_OR_SPACING = re.compile(r"\\(?:q?quad|text|mbox|textrm|mathrm\s*\{\s*(?:if|for|and|where))")


def _chain_pairs(text: str) -> list[str]:
    """``a = b = c``: each adjacent pair is a claim of its own (``split_statements``); a chain
    of inequalities (``0 \\le p \\le 1``, a condition) stays whole, and so does a formula with
    words or spacing in it (``a = b, \\quad c = d \\quad \\text{for } x``: what the words
    qualify is not cut apart)."""
    if PROSE_OR_SPACING.search(text):
        return [text]
    try:
        claims = split_statements(text)
    except LatexParseError:
        return [text]
    return [c.text for c in claims] if len(claims) > 1 else [text]


GAP = r"(?:\s|\\[,;:! ]|~)*"  # spaces and LaTeX spacing commands
SPACING = re.compile(
    rf"{GAP},?{GAP}(?:\\q?quad{GAP})+(?:\\(?:text|mbox|textrm)\{{\s*and\s*\}}{GAP}(?:\\q?quad{GAP})*)?"
    rf"|{GAP},?{GAP}\\(?:text|mbox|textrm)\{{\s*and\s*\}}{GAP}"
)
RELATION = re.compile(r"(?<![<>!:\\])=|\\(?:le|ge|leq|geq|neq|leftarrow|gets)(?![A-Za-z])")


def _side_by_side(text: str) -> list[str]:
    """``f(x) = x^3 \\qquad f'(x) = 3x^2``, ``A = 1 \\text{ and } B = 1``: formulas set side by
    side with a ``\\quad`` or joined by "and", each with its own relation, are formulas of their
    own (a ``\\quad`` before words, ``\\quad \\text{if } x = 0``, is not)."""
    pieces = [p.strip().rstrip(".,;").strip() for p in SPACING.split(text)]
    if len(pieces) > 1 and all(
        RELATION.search(p) and not re.match(r"\\(?:text|mbox|textrm)\b", p) for p in pieces
    ):
        return pieces
    return [text]


def _drop_alignment(text: str) -> str:
    """``&`` separates alignment columns, except inside a matrix or cases environment."""
    out = []
    depth = 0
    k = 0
    while k < len(text):
        env = ANY_ENVIRONMENT.match(text, k)
        if env is not None:
            depth += 1 if env[1] == "begin" else -1
            out.append(env[0])
            k = env.end()
            continue
        if text[k] == "\\" and k + 1 < len(text):
            out.append(text[k : k + 2])
            k += 2
            continue
        out.append(" " if text[k] == "&" and depth == 0 else text[k])
        k += 1
    return "".join(out)


def _right_side(text: str) -> str:
    """The text after the last top-level ``=`` of a row with no other relation (so that
    ``a = b`` ⏎ ``= c`` is the claim b = c), else ""."""
    if re.search(
        r"\\(?:le|ge|leq|geq|neq|approx|propto|sim|in|to|leftarrow)(?![A-Za-z])|[<>]", text
    ):
        return ""
    depth = 0
    last = -1
    for k, char in enumerate(text):
        if char in "{([":
            depth += 1
        elif char in "})]":
            depth -= 1
        elif char == "=" and depth == 0:
            last = k
    return text[last + 1 :].strip() if last >= 0 else ""


# -- what the prose says about the formula after it ------------------------------------------
NOT_A_CLAIM = re.compile(
    r"\btrue or false\b|\bsuppose\b|\bassum(?:e|ing)\b|\bif\b[^.?!]*\bthen\b|\bwrong\b|"
    r"\bincorrect(?:ly)?\b|\bmistaken(?:ly)?\b|\bmistake\b|\berroneous(?:ly)?\b|\bfallac\w*|"
    r"\bis it true\b|\bnot true\b|\bfalse\b",
    re.I,
)


def lead_in(prose: str) -> str:
    """The prose that introduces a formula: the paragraph it sits in, up to it."""
    paragraphs = [p for p in re.split(r"\n\s*\n", prose) if p.strip()]
    return paragraphs[-1] if paragraphs else ""


def not_a_claim(prose: str) -> str:
    """Why the formula after this prose is not a claim ("" when it is one)."""
    match = NOT_A_CLAIM.search(lead_in(prose))
    if match is None:
        return ""
    return f'context: not a claim (the text before it says "{match.group(0)}")'
