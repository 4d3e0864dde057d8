"""The one error kernels add: a formula with no numeric meaning, and why."""

from __future__ import annotations

from symml.errors import SymmlError, UsageError


class NotKernelisable(SymmlError, ValueError):
    """A formula (or a part of one) that cannot become an array function."""

    def __init__(self, reason: str, formula_id: str | None = None) -> None:
        self.reason = reason
        self.formula_id = formula_id
        where = f"formula '{formula_id}'" if formula_id else "this expression"
        super().__init__(f"{where} has no numeric kernel: {reason}")

    def for_formula(self, formula_id: str) -> NotKernelisable:
        return NotKernelisable(self.reason, formula_id)


class MissingBackend(UsageError):
    """An optional backend whose package is not installed."""

    def __init__(self, backend: str, package: str, extra: str) -> None:
        self.backend = backend
        self.package = package
        self.extra = extra
        super().__init__(
            f"backend '{backend}' needs the {package} package: pip install 'symml[{extra}]'"
        )
