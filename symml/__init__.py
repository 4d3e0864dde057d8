"""symml: a symbolic derivation engine for machine-learning formulas.

The package re-exports its public API lazily: ``import symml`` loads nothing else, and
``symml.grad`` imports the gradient machinery the first time it is used, so every command
pays only for what it runs. The folders show the flow:

    catalog → evaluate → calculus → engine → kernels / render / read → cli

(``errors`` and ``runtime`` sit under all of them; docs/architecture.md draws it.)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name → the module that defines it; one line per name, nothing imported here
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("Catalog", "load_catalog"), "symml.catalog.loader"),
    **dict.fromkeys(
        (
            "Claim",
            "ClaimKind",
            "Convention",
            "Derivative",
            "Domain",
            "Formula",
            "Identity",
            "Matches",
            "Notation",
            "Property",
            "Reading",
            "Run",
            "Shape",
            "Status",
            "SymbolSpec",
            "UpdateRule",
        ),
        "symml.catalog.model",
    ),
    **dict.fromkeys(
        ("Phi", "gelu", "leaky_relu", "relu", "sigmoid", "softplus"), "symml.catalog.primitives"
    ),
    **dict.fromkeys(
        (
            "CatalogError",
            "DeclarationError",
            "DerivationError",
            "ExpressionError",
            "SymbolicTimeout",
            "SymmlError",
            "UnknownFormulaError",
        ),
        "symml.errors",
    ),
    **dict.fromkeys(("Gradient", "grad"), "symml.engine.derive"),
    **dict.fromkeys(
        ("check_claim", "check_derivative", "check_identity", "verify"), "symml.engine.checking"
    ),
    "Verdict": "symml.engine.verdict",
    **dict.fromkeys(("Kernel", "NotKernelisable", "kernel"), "symml.kernels"),
    "latex": "symml.render.latex",
    **dict.fromkeys(("LatexParseError", "SymbolTable", "parse_latex"), "symml.read"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'symml' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # what type checkers and IDEs see; never run
    from symml.catalog.loader import Catalog, load_catalog
    from symml.catalog.model import (
        Claim,
        ClaimKind,
        Convention,
        Derivative,
        Domain,
        Formula,
        Identity,
        Matches,
        Notation,
        Property,
        Reading,
        Run,
        Shape,
        Status,
        SymbolSpec,
        UpdateRule,
    )
    from symml.catalog.primitives import Phi, gelu, leaky_relu, relu, sigmoid, softplus
    from symml.engine.checking import check_claim, check_derivative, check_identity, verify
    from symml.engine.derive import Gradient, grad
    from symml.engine.verdict import Verdict
    from symml.errors import (
        CatalogError,
        DeclarationError,
        DerivationError,
        ExpressionError,
        SymbolicTimeout,
        SymmlError,
        UnknownFormulaError,
    )
    from symml.kernels import Kernel, NotKernelisable, kernel
    from symml.read import LatexParseError, SymbolTable, parse_latex
    from symml.render.latex import latex
