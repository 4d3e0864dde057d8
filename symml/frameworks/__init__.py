"""The sheet against the frameworks: ``matches`` claims checked against jax, optax and torch."""

from symml.frameworks.available import unavailable
from symml.frameworks.matching import Measurement, check
from symml.frameworks.references import REFERENCES, Reference

__all__ = ["REFERENCES", "Measurement", "Reference", "check", "unavailable"]
