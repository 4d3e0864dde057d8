"""Whether a framework can be used here, and if not, the one-line reason."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
from pathlib import Path

from symml.catalog import references
from symml.catalog.model import FRAMEWORKS
from symml.errors import UsageError

_MODULES = {"jax": ("jax",), "optax": ("optax", "jax"), "torch": ("torch",)}
_DISTRIBUTIONS = {
    "jax": ("jax", "jaxlib"),
    "optax": ("optax", "jax", "jaxlib"),
    "torch": ("torch",),
}
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


# what `symml verify --json` runs unless told otherwise: every framework installed, since the
# convention notes (ε placement in torch.optim.RMSprop, dropout's p) are what an audit reads;
# their verdicts are cached per framework version, so only the first run pays for them
DEFAULT_FRAMEWORKS = ("jax", "optax", "torch")


def installed(frameworks: tuple[str, ...] = DEFAULT_FRAMEWORKS) -> tuple[str, ...]:
    """Those of ``frameworks`` that can run here (found without importing them)."""
    return tuple(f for f in frameworks if not unavailable(f))


@functools.cache
def fingerprint(framework: str) -> str:
    """What a cached ``matches`` verdict depends on besides its claim: the installed versions
    of the framework's distributions and the source of ``symml.engine.frameworks`` (read from the
    installed metadata, so nothing is imported)."""
    digest = hashlib.sha256()
    for name in _DISTRIBUTIONS.get(framework, (framework,)):
        try:
            digest.update(f"{name}={importlib.metadata.version(name)};".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{name}=?;".encode())
    sources = [*Path(__file__).resolve().parent.glob("*.py"), Path(references.__file__)]
    for source in sorted(sources):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def parse_frameworks(text: str) -> tuple[str, ...]:
    """An ``--against`` value: a comma-separated list of frameworks, 'all' or 'none'."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names in ([], ["none"]):
        return ()
    if names == ["all"]:
        return FRAMEWORKS
    unknown = [n for n in names if n not in FRAMEWORKS]
    if unknown:
        raise UsageError(
            f"--against {text}: unknown framework '{unknown[0]}'; "
            f"use a comma-separated list of {', '.join(FRAMEWORKS)}, 'all' or 'none'"
        )
    return tuple(names)
