"""What every backend is, and the out= buffer bookkeeping the NumPy backends share.

A ``Backend`` names the modules a kernel's generated source runs against: ``xp`` the array
namespace, ``sx`` the special functions (expit, log_expit, xlogy, ndtr), ``rt`` the runtime
(``runtime.Runtime``); whether NumPy's in-place body may be used; and what its arguments are
checked for before a body runs (jax: float64 in 32-bit mode).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symml.errors import UsageError
from symml.kernels.backends.runtime import Runtime, same_view
from symml.kernels.errors import MissingBackend


@dataclass(frozen=True)
class Backend:
    """A backend: its modules and whether NumPy's in-place body may be used."""

    name: str
    xp: Any
    sx: Any
    rt: Runtime
    inplace: bool
    #: ``check(kernel_name, values)`` raises for arguments this backend could not honour.
    check: Callable[[str, Sequence[Any]], None] | None = None

    def checked(self, name: str, body: Callable[..., Any]) -> Callable[..., Any]:
        """Kernel ``name``'s compiled body, checking its arguments first where this backend
        could not honour them (on jax, ``jax.float64_check``); on the others (nothing to
        check) the body itself, so a call costs nothing more."""
        check = self.check
        if check is None:
            return body

        @functools.wraps(body)
        def checked_body(*values: Any, **options: Any) -> Any:
            check(name, values)
            return body(*values, **options)

        return checked_body

    def compile(self, source: str, name: str) -> Callable[..., Any]:
        """The function ``name`` defined by generated ``source``, run against this backend's
        array namespace (``xp``), special functions (``sx``) and runtime (``rt``)."""
        namespace: dict[str, Any] = {"xp": self.xp, "sx": self.sx, "rt": self.rt}
        exec(compile(source, f"<symml kernel {name}>", "exec"), namespace)  # noqa: S102
        return namespace[name]


def need(backend: str, package: str, extra: str) -> Any:
    """The optional package a backend runs on, or a one-line error naming the extra that
    installs it."""
    try:
        return importlib.import_module(package)
    except ImportError:
        raise MissingBackend(backend, package, extra) from None


def out_list(out: Any, count: int, name: str) -> list[Any]:
    """A call's out= as one entry per output (None where none is given), or a one-line error
    when it is not one array per output."""
    if out is None:
        return [None] * count
    if count == 1 and not isinstance(out, tuple | list):
        return [out]
    if not isinstance(out, tuple | list) or len(out) != count:
        wanted = "a NumPy array" if count == 1 else f"a tuple of {count} arrays"
        got = f"a {type(out).__name__}" + (
            f" of {len(out)}" if isinstance(out, tuple | list) else ""
        )
        raise UsageError(
            f"kernel '{name}' has {count} output{'s' if count > 1 else ''}; out= is {got}: "
            f"pass {wanted}"
        )
    return list(out)


def numpy_value(v: Any) -> bool:
    """A NumPy array or a number: what the in-place and fused bodies take. Anything else (a
    dask array) runs the portable body."""
    return isinstance(v, np.ndarray | np.generic | float | int)


def out_layout(outs: Sequence[Any], values: Sequence[Any]) -> tuple[int | None, ...] | None:
    """Where each out= buffer lies: None (no buffer), −1 (apart from every input array) or
    the index of the input that is the very same memory (an optimizer state updated in
    place). None overall when a buffer overlaps an input any other way (a shifted or strided
    view, or two inputs that are one array): a body cannot write it while still reading."""
    layout: list[int | None] = []
    for o in outs:
        if o is None:
            layout.append(None)
            continue
        found = -1
        for j, v in enumerate(values):
            if not isinstance(v, np.ndarray) or not (o is v or np.may_share_memory(o, v)):
                continue
            if found >= 0 or not (o is v or same_view(o, v)):
                return None
            found = j
        layout.append(found)
    return tuple(layout)


def into_outs(results: Sequence[Any], outs: Sequence[Any]) -> list[Any]:
    """Each result in its out= buffer where one was given: copied there when the body wrote
    it elsewhere (a fresh array, or one deferred past the inputs its buffer overlapped)."""
    final = []
    for r, o in zip(results, outs, strict=True):
        if o is not None and r is not o:
            o[...] = r
        final.append(r if o is None else o)
    return final


def writes_an_input(layout: tuple[int | None, ...] | None) -> bool:
    """Whether an ``out_layout`` puts some output into an input's memory: then a second,
    guarded pass over the flagged elements would read inputs the first pass overwrote, so
    the guarded body runs alone."""
    return layout is not None and any(j is not None and j >= 0 for j in layout)
