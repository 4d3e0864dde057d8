"""The error the LaTeX and Unicode readers raise when they cannot read with confidence."""

from __future__ import annotations

from symml.errors import SymmlError


class LatexParseError(SymmlError, ValueError):
    """Text the reader refuses: where (``position``, 0-based), what (``fragment``), and a fix."""

    def __init__(self, text: str, position: int, fragment: str, problem: str, hint: str) -> None:
        self.text = text
        self.position = position
        self.fragment = fragment
        self.problem = problem
        self.hint = hint
        super().__init__(
            f"cannot read '{fragment}' at column {position} of '{text}': {problem}; {hint}"
        )
