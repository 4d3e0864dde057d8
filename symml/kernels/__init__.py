"""Kernels: every formula and its gradient as a fast, stable NumPy function."""

from symml.kernels.errors import MissingBackend, NotKernelisable
from symml.kernels.kernel import Kernel, kernel
from symml.kernels.sampling import Sampler

__all__ = ["Kernel", "MissingBackend", "NotKernelisable", "Sampler", "kernel"]
