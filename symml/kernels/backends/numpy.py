"""The numpy backend: the portable body on NumPy, and the in-place body (``inplace``) for
NumPy arrays of one shape. Dask arrays run the portable body on it too."""

from __future__ import annotations

import numpy as np

from symml.kernels.backends.base import Backend
from symml.kernels.backends.runtime import Runtime


def backend(name: str = "numpy") -> Backend:
    """NumPy with SciPy's special functions; ``name`` for a backend that runs on it (numba)."""
    # SciPy's special functions take 0.6 s to import: loaded with the first kernel built.
    import scipy.special as sx

    return Backend(name, np, sx, Runtime(np, sx), True)
