"""The notation tables: Greek letters, math symbols, sub- and superscripts and accents, in
Unicode and in LaTeX. Every reader (``symml.read``) and printer (``symml.render``) takes its
tables from here, so a symbol reads as it prints.

Adding a symbol is one entry in one table below.
"""

from __future__ import annotations

#: LaTeX names of the Greek letters, lower case then the capitals LaTeX has a command for.
GREEK_LOWER = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
    "sigma tau upsilon phi chi psi omega"
).split()
GREEK_CAPITALS = "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split()
#: LaTeX's variant forms, read and printed like their letter
GREEK_VARIANTS = "varepsilon vartheta varpi varrho varsigma varphi".split()
#: Every LaTeX command name that is a Greek letter (``omicron`` is a Latin o in LaTeX).
GREEK_NAMES = frozenset(
    [*(n for n in GREEK_LOWER if n != "omicron"), *GREEK_CAPITALS, *GREEK_VARIANTS]
)

_SMALL = "αβγδεζηθικλμνξοπρστυφχψω"
_CAPITAL = "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ"
_LATIN_LOOKALIKE = dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΧ", "ABEZHIKMNOPTX", strict=True))

#: A Greek character → its LaTeX (``α`` → ``\alpha``; a capital LaTeX has no command for is
#: the Latin letter it looks like: ``Α`` → ``A``).
GREEK_LETTERS: dict[str, str] = {
    **{c: "\\" + n for c, n in zip(_SMALL, GREEK_LOWER, strict=True) if n != "omicron"},
    "ο": "o",
    **{c: "\\" + n.capitalize() for c, n in zip(_CAPITAL, GREEK_LOWER, strict=True)},
    **{c: latin for c, latin in _LATIN_LOOKALIKE.items()},
    "ϵ": r"\epsilon",
    "ϕ": r"\phi",
    "ϑ": r"\theta",
    "ς": r"\sigma",
}

#: Math symbols: the Unicode character → the LaTeX command that prints it. (A reader gives
#: each command its meaning: ``⊙``/``\odot`` and ``∘``/``\circ`` between matrices are both the
#: element-wise product.)
MATH_SYMBOLS: dict[str, str] = {
    "·": r"\cdot",
    "⋅": r"\cdot",
    "×": r"\times",
    "⊙": r"\odot",
    "∘": r"\circ",
    "∂": r"\partial",
    "∇": r"\nabla",
    "∑": r"\sum",
    "Σ": r"\sum",  # in a formula sheet, a capital sigma standing alone is a sum
    "∏": r"\prod",
    "∫": r"\int",
    "≤": r"\leq",
    "≥": r"\geq",
    "≠": r"\neq",
    "≈": r"\approx",
    "∈": r"\in",
    "∉": r"\notin",
    "→": r"\to",
    "↦": r"\mapsto",
    "←": r"\leftarrow",
    "⇒": r"\Rightarrow",
    "√": r"\surd",
    "∞": r"\infty",
    "−": "-",
    "±": r"\pm",
    "‖": r"\|",
    "ℝ": r"\mathbb{R}",
    "⌊": r"\lfloor",
    "⌋": r"\rfloor",
    "⌈": r"\lceil",
    "⌉": r"\rceil",
    "∼": r"\sim",
    "∀": r"\forall",
    "∃": r"\exists",
    "⊤": r"\top",
    "ᵀ": r"^{\top}",
    "∪": r"\cup",
    "∩": r"\cap",
    "⊆": r"\subseteq",
    "ℓ": r"\ell",
    "…": r"\ldots",
    "½": r"\frac{1}{2}",
    "¼": r"\frac{1}{4}",
}

#: Unicode subscripts → what they stand for (``ᵦ`` is a Greek subscript: β).
SUBSCRIPTS: dict[str, str] = {
    **dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎", "0123456789+-=()", strict=True)),
    **dict(zip("ᵢⱼₖₜₙₘₐₑₒₓₗₚₛᵣᵤᵥₕ", "ijktnmaeoxlpsruvh", strict=True)),
    **dict(zip("ᵦᵧᵨᵩᵪ", "βγρφχ", strict=True)),
}
#: Unicode superscripts → what they stand for (``ᵀ``: the transpose).
SUPERSCRIPTS: dict[str, str] = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿᵗᵀ", "0123456789+-=()intT", strict=True))

#: The names a reader takes as a one-letter symbol name: the Greek letters (not their variant
#: forms, which it refuses rather than guess) and ℓ.
LETTER_NAMES = frozenset(n for n in GREEK_NAMES if n not in GREEK_VARIANTS) | {"ell"}

#: Font commands: a bold (or other) face keeps the name; these faces also give an undeclared
#: name a shape (lower case a vector, capitals a matrix).
BOLD_FACES = frozenset(r"\mathbf \boldsymbol \bm \vec \mathbfit \mathit \mathsf \mathcal".split())
SHAPED_BOLD_FACES = frozenset(r"\mathbf \boldsymbol \bm \vec \mathbfit".split())
#: Commands that wrap a word (a name or an operator name): ``\mathrm{lr}``, ``\text{and}``.
WORD_WRAPPERS = frozenset(r"\mathrm \operatorname \text \textrm \textit \mbox".split())

#: Combining accents (after a letter, Unicode's NFD form) → the LaTeX accent.
COMBINING_ACCENTS: dict[str, str] = {
    "\u0302": r"\hat",
    "\u0303": r"\tilde",
    "\u0304": r"\bar",
    "\u0305": r"\bar",
    "\u0307": r"\dot",
}
#: LaTeX accents → the word a symbol's name carries for them (``\hat{y}`` is ``yhat``).
ACCENT_WORDS: dict[str, str] = {r"\hat": "hat", r"\bar": "bar", r"\tilde": "tilde", r"\dot": "dot"}


def greek_tex(char: str) -> str | None:
    """The LaTeX of a Greek character, or None for any other character."""
    return GREEK_LETTERS.get(char)


def script_tex(value: str) -> str:
    """What a sub- or superscript character stands for, as LaTeX (``ᵧ`` stands for γ:
    ``\\gamma``; ``₁`` for 1)."""
    return GREEK_LETTERS.get(value, value)
