"""The sheet against the frameworks: ``matches`` claims checked against jax, optax and torch."""

from symml.catalog.references import REFERENCES, Reference
from symml.engine.frameworks.available import (
    DEFAULT_FRAMEWORKS,
    fingerprint,
    installed,
    parse_frameworks,
    unavailable,
)
from symml.engine.frameworks.matching import Measurement, check

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
