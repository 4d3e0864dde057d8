"""Matrix differential calculus by rules, cross-checked element-wise (see docs/calculus.md)."""

from symml.calculus.derivative import (
    GRADIENT,
    JACOBIAN,
    VJP,
    MatrixDerivative,
    claim_agrees,
    matrix_derivative,
    same,
    vector_jacobian_product,
)
from symml.calculus.differential import RULES, differential
from symml.calculus.expand import expanded

__all__ = [
    "GRADIENT",
    "JACOBIAN",
    "RULES",
    "VJP",
    "MatrixDerivative",
    "claim_agrees",
    "differential",
    "expanded",
    "matrix_derivative",
    "same",
    "vector_jacobian_product",
]
