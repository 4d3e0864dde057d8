"""symml.runtime.bounded: symbolic steps run in killable worker processes, under a deadline.

The functions sent to workers come from the standard library and sympy: functions of this
module are not importable by name in a worker under ``--import-mode=importlib``.
"""

import functools
import math
import multiprocessing
import os
import pickle
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sympy as sp

from symml.errors import DerivationError, SymbolicTimeout
from symml.runtime import bounded
from symml.runtime.bounded import configure, map_bounded, run_bounded, shutdown

x = sp.Symbol("x")
MARGIN = 1.5  # seconds allowed past a deadline for killing the worker and returning
WORKER_NAME = "symml-bounded-worker"


@pytest.fixture(scope="module", autouse=True)
def _kill_workers_afterwards():
    yield
    shutdown()


def _alive(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _workers() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == WORKER_NAME]


def test_a_fast_sympy_step_returns_its_value():
    assert run_bounded(sp.simplify, sp.sin(x) ** 2 + sp.cos(x) ** 2, timeout=30) == 1
    assert run_bounded(int, "ff", base=16, timeout=30) == 255


def test_a_hanging_step_times_out_and_the_next_call_gets_a_fresh_worker():
    previous = configure(1)  # one worker, so the hanging call and the next one share a slot
    try:
        stuck_pid = run_bounded(os.getpid, timeout=30)
        started = time.monotonic()
        with pytest.raises(SymbolicTimeout) as caught:
            run_bounded(time.sleep, 60, timeout=0.5, step="nap")
        assert time.monotonic() - started < 0.5 + MARGIN
        assert (caught.value.step, caught.value.seconds) == ("nap", 0.5)
        assert isinstance(caught.value, TimeoutError)
        assert not _alive(stuck_pid)
        assert run_bounded(os.getpid, timeout=30) != stuck_pid
        assert run_bounded(sp.factorial, 5, timeout=30) == 120
    finally:
        configure(previous)


def test_an_exception_in_the_worker_is_reraised_with_its_message():
    with pytest.raises(ValueError, match="math domain error"):
        run_bounded(math.sqrt, -1, timeout=30)
    assert run_bounded(math.sqrt, 4, timeout=30) == 2.0  # the worker survives it


def test_an_unpicklable_function_fails_in_the_caller():
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        run_bounded(lambda: 1, timeout=30)


def test_symml_errors_keep_their_type_and_fields_across_processes():
    _, error, _ = pickle.loads(bounded._error_reply(DerivationError("d/dx f", "no closed form")))
    assert type(error) is DerivationError
    assert (error.what, error.problem) == ("d/dx f", "no closed form")
    assert str(error) == "d/dx f: no closed form"


def test_an_exception_that_cannot_be_pickled_becomes_a_runtime_error():
    class Local(Exception):  # not importable by name, so it cannot be pickled
        pass

    _, error, _ = pickle.loads(bounded._error_reply(Local("went wrong")))
    assert type(error) is RuntimeError
    assert "Local" in str(error) and "went wrong" in str(error)


def test_calls_from_four_threads_at_once_all_return_their_results():
    with ThreadPoolExecutor(4) as threads:
        futures = [
            threads.submit(run_bounded, sp.expand, (x + i) ** 2, timeout=30) for i in range(4)
        ]
        results = [future.result() for future in futures]
    assert results == [sp.expand((x + i) ** 2) for i in range(4)]


def test_map_bounded_returns_values_and_exceptions_in_order():
    sources = ["1 + 1", "1 / 0", "__import__('time').sleep(60)", "2 * 3"]
    started = time.monotonic()
    results = map_bounded(eval, sources, timeout=1, step="eval")
    assert time.monotonic() - started < 1 + MARGIN + 1  # items overlap, plus a worker restart
    assert results[0] == 2 and results[3] == 6
    assert isinstance(results[1], ZeroDivisionError)
    assert isinstance(results[2], SymbolicTimeout) and results[2].step == "eval"
    assert map_bounded(eval, [], timeout=1) == []


def test_a_bounded_step_may_itself_call_run_bounded():
    inner = functools.partial(run_bounded, timeout=30)
    assert run_bounded(inner, math.sqrt, 4.0, timeout=30) == 2.0


@pytest.mark.parametrize("timeout", [None, 0, -1, float("nan"), float("inf"), "10"])
def test_a_timeout_that_is_not_a_positive_number_is_rejected(timeout):
    with pytest.raises(ValueError, match="timeout"):
        run_bounded(math.sqrt, 4, timeout=timeout)
    with pytest.raises(ValueError, match="timeout"):
        map_bounded(math.sqrt, [4], timeout=timeout)


@pytest.mark.parametrize("workers", [0, -2, 1.5, True])
def test_a_pool_size_that_is_not_a_positive_integer_is_rejected(workers):
    with pytest.raises(ValueError, match="workers"):
        configure(workers)


def test_shutdown_leaves_no_worker_process_alive():
    with ThreadPoolExecutor(2) as threads:
        pids = set(threads.map(lambda _: run_bounded(os.getpid, timeout=30), range(4)))
    assert _workers()
    shutdown()
    assert _workers() == []
    assert not any(_alive(pid) for pid in pids)
    assert run_bounded(math.sqrt, 9, timeout=30) == 3.0  # the pool starts again on demand
