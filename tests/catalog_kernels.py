"""The catalog's forward kernels, built once per test session: the kernel test modules
parametrise over them, each keeping the ones it tests. Imported by path (the tests run with
``--import-mode=importlib``, so this directory is not on ``sys.path`` by itself)."""

from __future__ import annotations

import functools

from symml import load_catalog
from symml.catalog.model import Formula
from symml.kernels import NotKernelisable, kernel
from symml.kernels.kernel import Kernel
from symml.kernels.sampling import Sampler

CATALOG = load_catalog()


@functools.cache
def _compiled() -> tuple[tuple[Formula, Kernel | Sampler], ...]:
    """(formula, kernel) of every catalog formula that has one, samplers included."""
    found = []
    for f in CATALOG:
        try:
            found.append((f, kernel(f)))
        except NotKernelisable:
            continue
    return tuple(found)


def catalog_kernels() -> tuple[tuple[Formula, Kernel], ...]:
    """(formula, forward kernel) of every catalog formula with a deterministic kernel: the
    ones NotKernelisable and the samplers (random: tested by their moments in
    test_kernels_sampling) left out."""
    return tuple((f, k) for f, k in _compiled() if not isinstance(k, Sampler))


def catalog_samplers() -> tuple[Sampler, ...]:
    """The sampler of every catalog formula that draws random values (the initialisations)."""
    return tuple(k for _, k in _compiled() if isinstance(k, Sampler))


@functools.cache
def catalog_gradients() -> tuple[tuple[Formula, str, Kernel], ...]:
    """(formula, argument, gradient kernel) of every forward kernel's gradients by its
    differentiable arguments (``kernel(f, grad="all")``); formulas whose gradients cannot
    be kernels are left out."""
    found = []
    for f, _ in catalog_kernels():
        try:
            gradients = kernel(f, grad="all")
        except NotKernelisable:
            continue
        found += [(f, name, g) for name, g in gradients.items()]
    return tuple(found)
