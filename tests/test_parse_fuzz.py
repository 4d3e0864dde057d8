"""Random LaTeX and mutated corpus entries: a result or a LatexParseError, nothing else."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symml.read import LatexParseError, parse_latex

sys.path.insert(0, str(Path(__file__).parent / "data"))
from corpus import CORPUS  # noqa: E402

PIECES = [
    "x", "y", "W", "\\sigma", "\\frac{", "}{", "}", "{", "(", ")", "^", "_", "'", "+", "-",
    "\\cdot", "=", ":=", "\\sum_{j=1}^{n}", "\\partial", "d", "\\log", "e", "2", "0.5", "|",
    "\\hat{y}", "\\begin{cases}", "&", "\\\\", "\\end{cases}", "\\max(", ",", "\\sqrt", "[", "]",
    "\\odot", "^T", "^{(l)}", "\\mathrm{lr}", "z_i", "\\operatorname{ReLU}", "\\nabla_", "\\theta",
]  # fmt: skip
SETTINGS = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def only_result_or_parse_error(text: str) -> None:
    try:
        parse_latex(text)
    except LatexParseError:
        pass


@SETTINGS
@given(st.lists(st.sampled_from(PIECES), max_size=14).map(" ".join))
def test_random_latex(text):
    only_result_or_parse_error(text)


@SETTINGS
@given(
    st.sampled_from([latex for latex, _, _ in CORPUS]),
    st.integers(min_value=0, max_value=200),
    st.sampled_from(["", "{", "}", "(", ")", "^", "_", "\\", "'", "=", "-", "|", "&"]),
)
def test_mutated_corpus(latex, at, insert):
    at = at % (len(latex) + 1)
    only_result_or_parse_error(latex[:at] + insert + latex[at + 1 :])
