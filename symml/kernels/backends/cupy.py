"""The cupy backend: the portable body on CuPy arrays, with ``cupyx.scipy.special``."""

from __future__ import annotations

import importlib

from symml.kernels.backends.base import Backend, need
from symml.kernels.backends.runtime import Runtime


def backend() -> Backend:
    """CuPy and its special functions (no in-place body: that one is NumPy's)."""
    cupy = need("cupy", "cupy", "cupy")
    csx = importlib.import_module("cupyx.scipy.special")
    return Backend("cupy", cupy, csx, Runtime(cupy, csx), False)
