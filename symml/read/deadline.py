"""A deadline for one reading: the readers are pure Python, so SIGALRM can stop them.

``within(seconds, fn, *args)`` returns ``fn(*args)`` or raises ``ReadingTimeout``. The alarm
can be set only on the main thread; elsewhere the call runs unbounded (the readers' own
bounds, on length and nesting, still hold). An enclosing alarm, a bounded step of a symml
worker or an outer reading, goes on with what it has left, and fires if it ends first.
"""

from __future__ import annotations

import gc
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")
#: How often the alarm fires again once the deadline has passed.
REPEAT_SECONDS = 0.05


class ReadingTimeout(Exception):
    """A reading ran past its deadline (``seconds``)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"did not finish within {seconds:g} s")


class _Expired(BaseException):
    """Raised by the alarm; a BaseException so that ``except Exception`` in a library does
    not swallow it."""


def within(seconds: float, fn: Callable[..., R], *args: Any) -> R:
    """``fn(*args)``, stopped after ``seconds`` (see the module docstring)."""
    if threading.current_thread() is not threading.main_thread():
        return fn(*args)
    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    limit = seconds if outer_left <= 0 else min(seconds, outer_left)
    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, _expire)
    # Repeating after it first fires: an exception raised inside a garbage-collector callback
    # or a __del__ is printed and dropped, and the reading would run on to its end.
    signal.setitimer(signal.ITIMER_REAL, limit, REPEAT_SECONDS)
    try:
        return fn(*args)
    except _Expired:
        signal.setitimer(signal.ITIMER_REAL, 0)
        if outer_left > 0 and limit >= outer_left and callable(previous):
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            previous(signal.SIGALRM, None)  # the enclosing deadline passed: its own handler
        raise ReadingTimeout(seconds) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left > 0:
            left = outer_left - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6))


def _expire(signum: int, frame: Any) -> None:
    if _in_gc_callback(frame):
        return  # it would be dropped there: the repeating alarm fires again
    raise _Expired


def _in_gc_callback(frame: Any) -> bool:
    callbacks = {getattr(c, "__code__", None) for c in gc.callbacks} - {None}
    while callbacks and frame is not None:
        if frame.f_code in callbacks:
            return True
        frame = frame.f_back
    return False
