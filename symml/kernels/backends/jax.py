"""The jax backend: the portable body on ``jax.numpy``, float64 refused in 32-bit mode."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from symml.errors import UsageError
from symml.kernels.backends.base import Backend, need
from symml.kernels.backends.runtime import Runtime


def backend() -> Backend:
    """``jax.numpy`` and ``jax.scipy.special``; every body checks its arguments first."""
    jax = need("jax", "jax", "jax")
    import jax.numpy as jnp
    import jax.scipy.special as jsx

    return Backend("jax", jnp, jsx, Runtime(jnp, jsx), False, functools.partial(float64_check, jax))


def float64_check(jax: Any, name: str, values: Sequence[Any]) -> None:
    """A one-line error for a float64 argument (a NumPy array or scalar, or a jax array made
    while 64-bit mode was on) when jax runs in 32-bit mode, its default: jax would compute in
    float32 and the result come back float32, or float32 values in a float64 array (BCE at
    ŷ = 1 − 1e-12: −0.0 instead of 1e-12). Float64 stays float64 or is refused; the user's
    jax configuration is theirs to change. A float64 array jax already truncated on
    conversion is float32 here, and computes as float32 in, float32 out."""
    if jax.config.jax_enable_x64:
        return
    if any(getattr(v, "dtype", None) == np.float64 for v in values):
        raise UsageError(
            f"kernel '{name}' on jax: float64 input but jax runs in 32-bit mode "
            "(jax_enable_x64 is off): call jax.config.update('jax_enable_x64', True) before "
            "building kernels, or pass float32 arrays"
        )
