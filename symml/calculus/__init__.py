"""Every derivative symml computes: matrix calculus by rules, reverse-mode VJPs for the
kernels, scalar calculus; each matrix result cross-checked element-wise (docs/calculus.md)."""

from symml.calculus.crosscheck import Mismatch, mismatch, reference_derivative
from symml.calculus.derivative import (
    GRADIENT,
    JACOBIAN,
    VJP,
    MatrixDerivative,
    check_assignments,
    claim_agrees,
    derivative_by_scalar,
    matrix_derivative,
    same,
    sizes_text,
    vector_jacobian_product,
)
from symml.calculus.differential import RULES, differential
from symml.calculus.expand import expanded
from symml.calculus.reverse import reverse_vjp
from symml.calculus.scalar import (
    collapse_deltas,
    derivatives_done,
    drop_step_derivatives,
    elementwise_gradient,
    elementwise_jacobian,
    family_vjp,
    scalar_derivative,
)

__all__ = [
    "GRADIENT",
    "JACOBIAN",
    "RULES",
    "VJP",
    "MatrixDerivative",
    "Mismatch",
    "check_assignments",
    "claim_agrees",
    "derivative_by_scalar",
    "collapse_deltas",
    "derivatives_done",
    "differential",
    "drop_step_derivatives",
    "elementwise_gradient",
    "elementwise_jacobian",
    "expanded",
    "family_vjp",
    "matrix_derivative",
    "mismatch",
    "reference_derivative",
    "reverse_vjp",
    "same",
    "sizes_text",
    "scalar_derivative",
    "vector_jacobian_product",
]
