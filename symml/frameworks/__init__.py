"""The sheet against the frameworks: ``matches`` claims checked against jax, optax and torch."""

from symml.frameworks.available import (
    DEFAULT_FRAMEWORKS,
    fingerprint,
    installed,
    parse_frameworks,
    unavailable,
)
from symml.frameworks.matching import Measurement, check
from symml.frameworks.references import REFERENCES, Reference

__all__ = [
    "DEFAULT_FRAMEWORKS",
    "REFERENCES",
    "Measurement",
    "Reference",
    "check",
    "fingerprint",
    "installed",
    "parse_frameworks",
    "unavailable",
]
