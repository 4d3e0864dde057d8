"""symml: a symbolic derivation engine for machine-learning formulas."""

from symml.catalog import Catalog, load_catalog
from symml.errors import (
    CatalogError,
    DeclarationError,
    DerivationError,
    ExpressionError,
    SymbolicTimeout,
    SymmlError,
    UnknownFormulaError,
)
from symml.functions import Phi, gelu, leaky_relu, relu, sigmoid, softplus
from symml.model import (
    Claim,
    ClaimKind,
    Convention,
    Derivative,
    Domain,
    Formula,
    Identity,
    Notation,
    Property,
    Reading,
    Shape,
    Status,
    SymbolSpec,
    UpdateRule,
)

__all__ = [
    "Catalog",
    "CatalogError",
    "Claim",
    "ClaimKind",
    "Convention",
    "DeclarationError",
    "Derivative",
    "DerivationError",
    "Domain",
    "ExpressionError",
    "Formula",
    "Identity",
    "Notation",
    "Phi",
    "Property",
    "Reading",
    "Shape",
    "Status",
    "SymbolSpec",
    "SymbolicTimeout",
    "SymmlError",
    "UnknownFormulaError",
    "UpdateRule",
    "gelu",
    "leaky_relu",
    "load_catalog",
    "relu",
    "sigmoid",
    "softplus",
]
__version__ = "0.1.0"
