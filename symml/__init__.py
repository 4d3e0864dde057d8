"""symml: a symbolic derivation engine for machine-learning formulas."""

from symml.catalog import Catalog, load_catalog
from symml.derive import Gradient, grad
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
from symml.kernels import Kernel, NotKernelisable, kernel
from symml.latex import latex
from symml.model import (
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
from symml.parse import LatexParseError, SymbolTable, parse_latex
from symml.verdict import Verdict
from symml.verify import check_claim, check_derivative, check_identity, verify

__all__ = [
    "Kernel",
    "NotKernelisable",
    "kernel",
    "LatexParseError",
    "SymbolTable",
    "latex",
    "parse_latex",
    "Gradient",
    "Verdict",
    "check_claim",
    "check_derivative",
    "check_identity",
    "grad",
    "verify",
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
    "Matches",
    "Run",
    "UpdateRule",
    "gelu",
    "leaky_relu",
    "load_catalog",
    "relu",
    "sigmoid",
    "softplus",
]
__version__ = "0.1.0"
