"""Run symbolic steps under a deadline, in worker processes that can be killed.

SymPy's ``simplify``/``equals`` can run for hours, in Python loops or in C code. A thread
cannot be stopped and SIGALRM works only on the main thread of a POSIX process, so every
bounded step runs in a worker process that is killed when its deadline passes.

``run_bounded(fn, *args, timeout=...)`` sends ``fn`` and its arguments to a worker by pickle:
``fn`` must be importable by name in a fresh process (a module-level function, a builtin, a
``functools.partial`` of one); lambdas, closures and functions of test modules loaded with
``--import-mode=importlib`` are not. Arguments and results must pickle too (SymPy objects do).
Unlike plain multiprocessing, a worker never imports the caller's main script: symml is a
library, and a user's script, a ``python -`` heredoc or ``python -c`` must run once, with no
``if __name__ == "__main__":`` guard. The price: ``fn`` and the objects it receives cannot be
defined in that script (a SymPy ``Function`` class written there, say); such a call gets a
one-line error saying so.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import multiprocessing
import numbers
import os
import pickle
import signal
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.reduction import ForkingPickler
from typing import Any, TypeVar

import sympy as sp

from symml.errors import SymbolicTimeout

__all__ = [
    "configure",
    "deadline",
    "map_bounded",
    "remaining",
    "run_bounded",
    "run_with_deadline",
    "shutdown",
]

T = TypeVar("T")
R = TypeVar("R")

# Generous: a spawned worker imports sympy before it is ready, and that is not the step's time.
_STARTUP_SECONDS = 120.0
_READY = b"ready"


def run_bounded(
    fn: Callable[..., R], /, *args: Any, timeout: float, step: str = "symbolic step", **kwargs: Any
) -> R:
    """Return ``fn(*args, **kwargs)`` computed in a worker process within ``timeout`` seconds.

    Raises ``SymbolicTimeout(step, timeout)`` when the deadline passes (the worker is killed
    and replaced on demand) and re-raises whatever ``fn`` raised. The deadline starts once a
    worker is free; waiting for one (all busy) is not counted.
    """
    seconds = _checked_timeout(timeout)
    left = remaining()
    if left is not None:
        if left <= 0:
            raise SymbolicTimeout(step, seconds)
        seconds = min(seconds, left)
    if _POOL.inside_worker:
        # A worker may not start workers of its own. The outer call's deadline bounds this
        # process; inside a deadline() block the step also gets its own share, by SIGALRM.
        if left is None:
            return fn(*args, **kwargs)
        return _alarm_bounded(fn, args, kwargs, seconds, step)
    # Pickle before taking a worker, so an unpicklable argument costs no worker.
    request = _dumps((fn, args, kwargs))
    worker = _POOL.acquire()
    reply: bytes | None = None
    timed_out = False
    try:
        worker.conn.send_bytes(request)
        if worker.conn.poll(seconds):
            reply = worker.conn.recv_bytes()
        else:
            timed_out = True
    except (EOFError, OSError):
        pass  # the worker died mid-call; reported below with its exit code
    finally:
        # Only a worker that answered is known to be waiting for the next request.
        _POOL.release(worker, reusable=reply is not None)
    if timed_out:
        raise SymbolicTimeout(step, seconds)
    if reply is None:
        raise RuntimeError(
            f"{step}: the worker process exited with code {worker.process.exitcode} before "
            "answering (crashed, ran out of memory, or was shut down); retry the step"
        )
    kind, payload, remote_traceback = _loads(reply)
    if kind == "error":
        payload.add_note(f"raised in a symml worker process:\n{remote_traceback}")
        raise payload
    return payload


def run_with_deadline(
    fn: Callable[..., R],
    /,
    *args: Any,
    timeout: float,
    grace: float,
    step: str = "call",
    **kwargs: Any,
) -> R:
    """``fn(*args, **kwargs)`` as one deadline: every bounded step inside shares ``timeout``
    seconds (``deadline``), and the whole call is killed at ``timeout + grace`` (the grace is
    for the steps after the symbolic ones: sampling, formatting). Raises ``SymbolicTimeout``
    when the call is killed.

    The call runs in a worker process, so nothing inside it (a ``solve``, a huge expansion)
    can outlive the deadline. Arguments that cannot be pickled (a function class defined
    in a test) make it run here instead, where only the bounded steps are bounded.
    """
    seconds = _checked_timeout(timeout)
    if _POOL.inside_worker:
        with deadline(seconds):
            return fn(*args, **kwargs)
    try:
        _dumps((fn, args, kwargs))
    except Exception:
        with deadline(seconds):
            return fn(*args, **kwargs)
    return run_bounded(
        _call_with_deadline, fn, seconds, args, kwargs, timeout=seconds + grace, step=step
    )


def _call_with_deadline(
    fn: Callable[..., R], seconds: float, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> R:
    with deadline(seconds):
        return fn(*args, **kwargs)


class deadline:  # noqa: N801 - used as a context manager, like contextlib's
    """Within the block, every ``run_bounded`` step gets at most what is left of ``seconds``
    (a step past the end times out at once). Blocks nest; the earlier end wins."""

    def __init__(self, seconds: float) -> None:
        self.seconds = _checked_timeout(seconds)
        self.previous: float | None = None

    def __enter__(self) -> deadline:
        self.previous = getattr(_DEADLINE, "end", None)
        end = time.monotonic() + self.seconds
        _DEADLINE.end = end if self.previous is None else min(end, self.previous)
        return self

    def __exit__(self, *exc: object) -> None:
        _DEADLINE.end = self.previous


def remaining() -> float | None:
    """Seconds left of the innermost ``deadline`` block of this thread, None outside one."""
    end = getattr(_DEADLINE, "end", None)
    return None if end is None else end - time.monotonic()


class _Expired(BaseException):
    """Raised by SIGALRM inside a worker's bounded step. A BaseException, so that library code
    catching ``Exception`` cannot swallow it."""


def _alarm_bounded(
    fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any], seconds: float, step: str
) -> R:
    """``fn`` run here, stopped by SIGALRM after ``seconds`` (main thread of a worker only; a
    step on another thread runs unbounded, under the worker's own deadline)."""
    if threading.current_thread() is not threading.main_thread():
        return fn(*args, **kwargs)
    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    started = time.monotonic()
    limit = seconds if outer_left <= 0 else min(seconds, outer_left)
    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return fn(*args, **kwargs)
    except _Expired:
        raise SymbolicTimeout(step, seconds) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left > 0:
            # The enclosing step's alarm goes on with what it has left (at once if none).
            signal.setitimer(
                signal.ITIMER_REAL, max(outer_left - (time.monotonic() - started), 1e-6)
            )


def _expire(signum: int, frame: Any) -> None:
    raise _Expired


def map_bounded(
    fn: Callable[[T], R], items: Iterable[T], *, timeout: float, step: str = "symbolic step"
) -> list[R | Exception]:
    """Run ``fn(item)`` for every item in parallel across the pool, each under its own deadline.

    Returns, in input order, each item's value or the exception it raised (a
    ``SymbolicTimeout`` instance when its deadline passed); nothing is raised per item.
    """
    _checked_timeout(timeout)
    items = list(items)
    if not items:
        return []

    def one(item: T) -> R | Exception:
        try:
            return run_bounded(fn, item, timeout=timeout, step=step)
        except Exception as exc:
            return exc

    # One parent thread per busy worker: each thread blocks on its worker's pipe.
    with ThreadPoolExecutor(min(len(items), _POOL.size), "symml-bounded") as threads:
        return list(threads.map(one, items))


def configure(workers: int) -> int:
    """Set how many worker processes may run at once; returns the previous number."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers={workers!r}: must be an integer >= 1")
    return _POOL.resize(workers)


def shutdown() -> None:
    """Kill every worker process; later calls start fresh ones. Runs at interpreter exit."""
    _POOL.shutdown()


def _checked_timeout(timeout: float) -> float:
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, numbers.Real)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ValueError(
            f"timeout={timeout!r}: must be a finite number of seconds > 0; pass e.g. timeout=10"
        )
    return float(timeout)


class _Worker:
    """One worker process and the parent's end of its pipe; used by one call at a time."""

    def __init__(self, context: BaseContext) -> None:
        self.conn, child_end = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child_end,), name="symml-bounded-worker", daemon=True
        )
        with _main_script_hidden():
            self.process.start()
        child_end.close()  # so a dead worker shows up as EOF on our end
        try:
            ready = self.conn.poll(_STARTUP_SECONDS) and self.conn.recv_bytes() == _READY
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.kill()
            raise RuntimeError(
                f"a symml worker process did not start within {_STARTUP_SECONDS:g} s "
                f"(exit code {self.process.exitcode}); check that sympy and symml import, and that "
                "the main script runs its code under `if __name__ == '__main__':`"
            )

    def kill(self) -> None:
        # SIGKILL, not SIGTERM: the worker may be stuck in C code that never checks signals.
        # join() reaps it, so no zombie is left behind.
        self.process.kill()
        self.process.join()
        self.conn.close()


class _Pool:
    """The worker processes of this process; every field is guarded by ``changed``."""

    def __init__(self, size: int) -> None:
        self._reset(size)

    def _reset(self, size: int) -> None:
        self.changed = threading.Condition()
        self.size = size
        self.idle: list[_Worker] = []
        self.busy: set[_Worker] = set()
        self.starting = 0
        self.context: BaseContext | None = None
        self.inside_worker = False

    def acquire(self) -> _Worker:
        with self.changed:
            while True:
                while self.idle:
                    worker = self.idle.pop()  # most recently used: warmest caches
                    if worker.process.is_alive():
                        self.busy.add(worker)
                        return worker
                    worker.kill()
                if len(self.busy) + self.starting < self.size:
                    break
                self.changed.wait()
            self.starting += 1
            context = _fork_context()
            if context is None:
                context = self.context = self.context or _new_context()
        # Started outside the lock: a spawned worker takes about a second to be ready.
        try:
            worker = _Worker(context)
        except BaseException:
            with self.changed:
                self.starting -= 1
                self.changed.notify()
            raise
        with self.changed:
            self.starting -= 1
            self.busy.add(worker)
        return worker

    def release(self, worker: _Worker, *, reusable: bool) -> None:
        with self.changed:
            owned = worker in self.busy  # not after shutdown(), which already let go of it
            self.busy.discard(worker)
            room = len(self.idle) + len(self.busy) + self.starting < self.size
            keep = reusable and owned and room
            if keep:
                self.idle.append(worker)
            self.changed.notify()
        if not keep:
            worker.kill()

    def resize(self, size: int) -> int:
        with self.changed:
            previous, self.size = self.size, size
            surplus = self.idle[size:]
            del self.idle[size:]
            self.changed.notify_all()
        for worker in surplus:
            worker.kill()
        return previous

    def shutdown(self) -> None:
        with self.changed:
            idle, busy = self.idle, list(self.busy)
            self.idle, self.busy = [], set()
            self.changed.notify_all()
        for worker in idle:
            worker.kill()
        for worker in busy:
            # Its caller is blocked on the pipe; that thread sees EOF and closes the pipe, which
            # must not be closed under it here.
            worker.process.kill()
            worker.process.join()

    def forget_after_fork(self) -> None:
        # A forked child shares the parent's pipes; it must never talk to the parent's workers.
        self._reset(self.size)


_STARTING = threading.Lock()


@contextlib.contextmanager
def _main_script_hidden() -> Iterator[None]:
    """Start a worker without the caller's main script.

    multiprocessing's spawn and forkserver methods tell each new process to import the
    parent's ``__main__`` (by path or module name), which runs a user's unguarded script a
    second time, or fails outright for ``python -`` (``<stdin>``). The preparation data is
    read from ``sys.modules["__main__"]`` while ``Process.start`` runs, so a bare module
    stands in for it there; the lock keeps two starting workers from swapping it at once.
    """
    with _STARTING:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if main is not None:
                sys.modules["__main__"] = main


#: Modules a fork server imports once, so that each worker forked from it starts warm: what
#: bounded steps run (``symml`` itself imports nothing until a name is used).
PRELOAD = ("sympy", __name__, "symml.engine.checking", "symml.engine.derive")
#: Libraries that start threads of their own (invisible to ``threading``); a process that
#: has imported one is never forked.
THREADED_LIBRARIES = ("jax", "torch", "numba", "dask", "tensorflow", "cupy")


def _fork_context() -> BaseContext | None:
    """A plain fork when it is safe: POSIX, one thread, no threaded library loaded.

    A one-shot command (``symml grad``) has imported what its step needs, so a fork starts
    the worker in milliseconds, where a fork server or spawn first imports SymPy again
    (most of a second). With other threads alive a fork can copy a held lock, so then the
    fork server is used."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    if threading.active_count() != 1 or any(name in sys.modules for name in THREADED_LIBRARIES):
        return None
    return multiprocessing.get_context("fork")


def _new_context() -> BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # The fork server imports these once, so each new worker (a fork of it) starts in
        # milliseconds instead of importing sympy for a second. The preload list belongs to
        # the process-wide fork server; it has no effect if that server is already running.
        context.set_forkserver_preload(list(PRELOAD))
        return context
    return multiprocessing.get_context("spawn")


def _serve(conn: Connection) -> None:
    """The worker's loop: answer requests until the parent closes the pipe."""
    # Ctrl-C reaches the whole process group; the parent decides what happens to the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _POOL.inside_worker = True
    conn.send_bytes(_READY)
    while True:
        try:
            request = conn.recv_bytes()
        except EOFError:
            return
        conn.send_bytes(_answer(request))


def _answer(request: bytes) -> bytes:
    try:
        fn, args, kwargs = _loads(request)
        value = fn(*args, **kwargs)
    except Exception as exc:
        return _error_reply(exc)
    except _Expired:  # an alarm that fired just as its step returned
        return _error_reply(SymbolicTimeout("a bounded step", 0))
    try:
        return _dumps(("value", value, None))
    except Exception as exc:
        problem = TypeError(f"the result of {fn!r} cannot be pickled back to the caller: {exc}")
        return _error_reply(problem)


def _loads(data: bytes) -> Any:
    return pickle.loads(data)


class _Pickler(ForkingPickler):
    """Pickles sums, products and powers as built. SymPy rebuilds an object by calling its
    class on its arguments, which evaluates again what the sender built unevaluated
    (σ·(1 − σ) came back as (1 − σ)·σ); these three are rebuilt from their arguments as
    they stand, which for an evaluated object is the same object."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) in _AS_BUILT:
            return _as_built, (type(obj), obj.args)
        return NotImplemented


def _as_built(cls: type, args: tuple[Any, ...]) -> Any:
    return cls(*args, evaluate=False)


def _dumps(obj: Any) -> bytes:
    return bytes(_Pickler.dumps(obj))


def _error_reply(exc: Exception) -> bytes:
    remote_traceback = "".join(traceback.format_exception(exc))
    try:
        reply = _dumps(("error", exc, remote_traceback))
        # Loading it here too: a pickle that loads wrong or not at all in the caller would
        # replace the real error with a confusing one. symml's own errors pickle from their
        # fields (errors.SymmlError.__reduce__); another library's error that does not is
        # sent as its class name and message.
        copy = pickle.loads(reply)[1]
        if type(copy) is type(exc) and str(copy) == str(exc):
            return reply
    except Exception:
        pass
    name = type(exc).__qualname__
    if type(exc).__module__ != "builtins":
        name = f"{type(exc).__module__}.{name}"
    fallback = RuntimeError(f"{name}: {exc}")
    return _dumps(("error", fallback, remote_traceback))


_AS_BUILT = (sp.Add, sp.Mul, sp.Pow)
_POOL = _Pool(os.cpu_count() or 2)
_DEADLINE = threading.local()
atexit.register(shutdown)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_POOL.forget_after_fork)
