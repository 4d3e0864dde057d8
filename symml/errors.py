"""The errors symml raises.

Policy: every error symml raises on purpose is a ``SymmlError`` and also the matching
built-in (``KeyError``, ``ValueError``, ``TypeError``, ``TimeoutError``) so callers can catch
either. The message is one line: the culprit, what is wrong with it, and how to fix it.
Errors keep their culprit in fields so programs need not parse the message, and every
argument of an error's ``__init__`` is one of its fields: that is how it pickles (a worker's
error reaches the caller as the same error, fields and all).
"""

from __future__ import annotations

import inspect
from typing import Any


class SymmlError(Exception):
    """Base class of every error symml raises on purpose."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""

    def __reduce__(self) -> tuple[Any, ...]:
        """Rebuilt from its fields: the default, ``cls(*args)``, passes the message where
        ``__init__`` takes the culprit."""
        cls = type(self)
        if not any("__init__" in vars(c) for c in cls.__mro__ if issubclass(c, SymmlError)):
            return cls, self.args, dict(vars(self))
        names = list(inspect.signature(cls.__init__).parameters)[1:]
        missing = [n for n in names if not hasattr(self, n)]
        if missing:
            raise TypeError(
                f"{cls.__name__} does not keep its argument '{missing[0]}' as a field; "
                "store every __init__ argument on self so the error can be pickled"
            )
        return cls, tuple(getattr(self, n) for n in names), dict(vars(self))


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
