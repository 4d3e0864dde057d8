"""Whether a framework can be used here, and if not, the one-line reason."""

from __future__ import annotations

import functools
import importlib.util

_MODULES = {"jax": ("jax",), "optax": ("optax", "jax"), "torch": ("torch",)}
_INSTALL = {
    "jax": "pip install 'symml[jax]'",
    "optax": "pip install 'symml[optax]'",
    "torch": "pip install 'symml[torch]'",
}


@functools.cache
def unavailable(framework: str) -> str:
    """Empty when ``framework`` is importable; otherwise why its claims are skipped."""
    for module in _MODULES.get(framework, (framework,)):
        try:
            found = importlib.util.find_spec(module)
        except (ImportError, ValueError):  # a broken install, or a module blocked on purpose
            found = None
        if found is None:
            return (
                f"skipped: {module} is not installed, so the {framework} claims cannot run "
                f"({_INSTALL.get(framework, 'install it')} to run them)"
            )
    return ""
