"""Array backends, one module each: the modules a kernel's generated source runs against.

``numpy`` (the default; its in-place body for NumPy arrays of one shape is ``inplace``),
``numba`` (an elementwise plan as one parallel loop), ``jax`` and ``cupy`` (the portable body
on their arrays). ``base`` is what a backend is, ``runtime`` the operations every generated
body calls as ``rt.…``. Asking for a backend whose package is not installed raises a one-line
error naming the extra to install.
"""

from __future__ import annotations

from collections.abc import Callable

from symml.errors import UsageError
from symml.kernels.backends import cupy, jax, numba, numpy
from symml.kernels.backends.base import (
    Backend,
    into_outs,
    numpy_value,
    out_layout,
    out_list,
    same_view,
    writes_an_input,
)
from symml.kernels.backends.runtime import EXPIT_BLOCK_BYTES, NDTR_MIN_SIZE, Runtime

#: Each backend by name, as its module makes it.
FACTORIES: dict[str, Callable[[], Backend]] = {
    "numpy": numpy.backend,
    "numba": numba.backend,
    "jax": jax.backend,
    "cupy": cupy.backend,
}
BACKENDS = tuple(FACTORIES)
#: Backends symml had and removed, with the reason a caller is told.
REMOVED = {
    "numexpr": "it was slower than the numpy backend in all 24 cells of benchmarks/kernels.py "
    "(docs/changelog.md); use backend='numpy' or 'numba'",
}


def get_backend(name: str) -> Backend:
    """The backend called ``name``; numba runs on the NumPy namespace."""
    if name in REMOVED:
        raise UsageError(f"backend '{name}' was removed: {REMOVED[name]}")
    if name not in FACTORIES:
        raise UsageError(f"unknown backend '{name}'; choose one of {', '.join(BACKENDS)}")
    return FACTORIES[name]()


__all__ = [
    "BACKENDS",
    "EXPIT_BLOCK_BYTES",
    "FACTORIES",
    "NDTR_MIN_SIZE",
    "REMOVED",
    "Backend",
    "Runtime",
    "get_backend",
    "into_outs",
    "numpy_value",
    "out_layout",
    "out_list",
    "same_view",
    "writes_an_input",
]
