"""The errors symml raises.

Policy: every error symml raises on purpose is a ``SymmlError`` and also the matching
built-in (``KeyError``, ``ValueError``, ``TypeError``, ``TimeoutError``) so callers can catch
either. The message is one line: the culprit, what is wrong with it, and how to fix it.
Errors keep their culprit in fields so programs need not parse the message.
"""

from __future__ import annotations


class SymmlError(Exception):
    """Base class of every error symml raises on purpose."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class UnknownFormulaError(SymmlError, KeyError):
    """An id that is not in the catalog."""

    def __init__(self, formula_id: str, suggestion: str | None = None) -> None:
        self.formula_id = formula_id
        self.suggestion = suggestion
        hint = f"; did you mean '{suggestion}'?" if suggestion else "; `symml list` shows the ids"
        super().__init__(f"no formula '{formula_id}'{hint}")


class CatalogError(SymmlError, ValueError):
    """A catalog file or entry that fails validation while loading."""

    def __init__(self, entry: str, problem: str) -> None:
        self.entry = entry
        self.problem = problem
        super().__init__(f"catalog entry '{entry}': {problem}")


class DeclarationError(SymmlError, ValueError):
    """A symbol, domain or shape declared inconsistently."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(f"symbol '{name}': {problem}")


class DerivationError(SymmlError, ValueError):
    """A derivative the engine cannot produce, or one that fails its cross-check."""

    def __init__(self, what: str, problem: str) -> None:
        self.what = what
        self.problem = problem
        super().__init__(f"{what}: {problem}")


class ExpressionError(SymmlError, ValueError):
    """A user expression string that cannot be read in symml's closed namespace."""

    def __init__(self, text: str, problem: str) -> None:
        self.text = text
        self.problem = problem
        super().__init__(f"cannot read expression {text!r}: {problem}")


class SymbolicTimeout(SymmlError, TimeoutError):
    """A symbolic step that ran past its deadline."""

    def __init__(self, step: str, seconds: float) -> None:
        self.step = step
        self.seconds = seconds
        super().__init__(
            f"{step} did not finish within {seconds:.3g} s; raise --timeout to wait longer"
        )


class UsageError(SymmlError, ValueError):
    """A command-line or API call whose arguments do not fit together."""
