"""Kernels: every formula and its gradient as a fast, stable NumPy function."""

from symml.kernels.errors import MissingBackend, NotKernelisable
from symml.kernels.kernel import Kernel, kernel

__all__ = ["Kernel", "MissingBackend", "NotKernelisable", "kernel"]
