"""out= buffers. Every way of passing a step's arrays as its out= gives the numbers of a
call without out=, on every backend, through the fast lane (small arrays) and the blocked
general call (10⁶ elements); the in-place body for an optimizer's own state writes over
that state instead of into scratch arrays; an unusable out= gets a one-line error."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from symml.errors import UsageError
from symml.kernels import kernel
from symml.kernels.backends import out_layout
from symml.kernels.source import fast_source

STEPS = [
    "optim.momentum_step",
    "optim.adagrad_step",
    "optim.rmsprop_step",
    "optim.adam_step",
    "optim.adamw_step",
]
NUMBERS = {"eta": 0.01, "epsilon": 1e-8, "beta": 0.9, "beta_1": 0.9, "beta_2": 0.999}
NUMBERS.update({"t": 3, "lambda": 0.01})


def _backend(name: str) -> str:
    if name != "numpy":
        pytest.importorskip(name, reason=f"{name} is not installed (pip install {name})")
    return name


def _values(step, size, rng):
    return {a: NUMBERS[a] if a in NUMBERS else rng.uniform(0.1, 0.9, size=size) for a in step.args}


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("formula_id", STEPS)
@pytest.mark.parametrize("size", [100, 10**6])
def test_every_assignment_of_inputs_as_out_buffers(formula_id, backend, size):
    step = kernel(formula_id, step=True, backend=_backend(backend))
    rng = np.random.default_rng(1)
    arrays = [a for a in step.args if a not in NUMBERS]
    for names in itertools.permutations(arrays, len(step.outputs)):
        values = _values(step, size, rng)
        fresh = [np.array(r) for r in step(**{a: np.copy(v) for a, v in values.items()})]
        outs = tuple(values[n] for n in names)
        got = step(**values, out=outs)
        assert all(g is o for g, o in zip(got, outs, strict=True)), names
        for g, want in zip(got, fresh, strict=True):
            np.testing.assert_allclose(g, want, rtol=1e-12, err_msg=f"out={names}")


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("size", [100, 10**6])
def test_out_overlapping_an_input_at_an_offset(size, backend):
    step = kernel("optim.adam_step", step=True, backend=_backend(backend))
    rng = np.random.default_rng(2)
    values = _values(step, size, rng)
    memory = np.concatenate([values["g"], [0.0]])
    values["g"] = memory[:-1]
    fresh = [np.array(r) for r in step(**{a: np.copy(v) for a, v in values.items()})]
    # m′ into g shifted by one element: g is still read (for v′) after m′ is computed.
    got = step(**values, out=(memory[1:], values["v"], values["W"]))
    for g, want in zip(got, fresh, strict=True):
        np.testing.assert_allclose(g, want, rtol=1e-12)


def test_out_layout():
    a, b = np.zeros(10), np.zeros(10)
    apart = np.zeros(10)
    assert out_layout([None, apart, b], [a, 1.0, b]) == (None, -1, 2)
    assert out_layout([b[::-1]], [a, b]) is None  # the same memory, another view
    assert out_layout([a], [a, a]) is None  # one array given for two inputs


def test_adam_in_place_body_writes_over_its_state():
    step = kernel("optim.adam_step", step=True)
    mask = tuple(a not in NUMBERS for a in step.args)
    index = {a: k for k, a in enumerate(step.args)}
    body = fast_source(step.plan, mask, (index["m"], index["v"], index["W"]))
    # m·β₁ and v·β₂ (or g·g) go to the state buffers: one scratch array for the whole step,
    # where the body compiled without the layout allocates three.
    assert "xp.multiply(m, beta_1, out=outs[0])" in body
    assert len(_fresh_arrays(body)) == 1
    assert len(_fresh_arrays(fast_source(step.plan, mask))) == 3


def _fresh_arrays(body: str) -> list[str]:
    """The temporaries a body allocates: array operations without out=."""
    ops = re.findall(r"^    (t\d+) = xp\.\w+\(([^)]*)\)$", body, re.MULTILINE)
    return [t for t, args in ops if "out=" not in args and not _scalar(body, t)]


def _scalar(body: str, temp: str) -> bool:
    """Whether a temporary is a number: built from the hyper-parameters and other numbers."""
    line = re.search(rf"^    {temp} = xp\.\w+\((.*)\)$", body, re.MULTILINE).group(1)
    operands = [a.strip() for a in line.split(",") if "=" not in a]
    return all(
        o in NUMBERS or re.fullmatch(r"[\d.e-]+", o) or (o.startswith("t") and _scalar(body, o))
        for o in operands
    )


Z = np.linspace(-3, 3, 12)


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (
            np.empty(5),
            "kernel 'activations.sigmoid': out= for 'sigmoid(z)' has shape (5,); the result's "
            "shape is (12,): pass an array of that shape (or no out=)",
        ),
        (
            np.empty(12, dtype=int),
            "kernel 'activations.sigmoid': out= for 'sigmoid(z)' has dtype int64; the results "
            "are floats: pass a float32 or float64 array (or no out=)",
        ),
        (
            np.broadcast_to(np.empty(1), (12,)),
            "kernel 'activations.sigmoid': out= for 'sigmoid(z)' is read-only; pass a writable "
            "array (or no out=)",
        ),
        (
            [0.0] * 12,
            "kernel 'activations.sigmoid' has 1 output; out= is a list of 12: pass a NumPy array",
        ),
    ],
)
def test_an_unusable_out_is_named_before_anything_runs(out, message):
    k = kernel("activations.sigmoid")
    with pytest.raises(UsageError) as caught:
        k(z=Z, out=out)
    assert str(caught.value) == message


def test_a_reduced_output_of_another_shape_is_named():
    mse = kernel("losses.mse")
    values = {a: np.ones((3, 4)) for a in mse.args}
    with pytest.raises(UsageError) as caught:
        mse(**values, out=np.empty(4))
    assert str(caught.value) == (
        "kernel 'losses.mse': out= for 'value' has shape (4,); the result's shape is (3,): "
        "pass an array of that shape (or no out=)"
    )
    assert mse(**values, out=np.empty(3)).shape == (3,)
