"""The optional backends at their edges: names the numba loop makes up against the
arguments' names, floor and ceiling at nan and past 2⁶³ on numba, Piecewise branches of
scalars only and Dask input on numba, and float64 inputs on jax in its default 32-bit mode.

Each backend's tests are skipped where its package is not installed."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from symml import load_catalog
from symml.errors import UsageError
from symml.kernels import NotKernelisable, kernel
from symml.kernels.source import code_name

sys.path.insert(0, str(Path(__file__).parent))
from catalog_kernels import catalog_kernels  # noqa: E402

CATALOG = load_catalog()
DTYPES = [np.float64, np.float32]


def _as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


# -- numba: the loop's own names never shadow an argument ------------------------------------

#: The names the numba loop used to give its locals whatever the arguments were called: the
#: loop index, the count of non-finite elements, the outputs and results, the hoisted and
#: common subexpressions, and the modules the loop reads.
LOOP_NAMES = re.compile(r"i|bad|nb|math|np|_F|out\d+|r\d+|_h\d+|_c\d+")


def _collides(args):
    names = [code_name(a) for a in args]
    return any(LOOP_NAMES.fullmatch(n) or any(n == f"{p}_i" for p in names) for n in names)


def _colliding_kernels():
    """(formula id, wrt) of every catalog kernel, and gradient kernel, whose arguments are
    named as the numba loop's locals were, and that numba runs as a loop."""
    from symml.kernels.backends.numba import loopable

    cases = []
    for f, k in catalog_kernels():
        if not _collides(k.args):
            continue
        if loopable(k.plan):
            cases.append((f.id, None))
        try:
            gradients = kernel(f, grad="all")
        except NotKernelisable:
            continue
        cases += [(f.id, n) for n, g in gradients.items() if loopable(g.plan)]
    return cases


COLLIDING = _colliding_kernels()


def test_the_colliding_kernels_include_the_positional_encodings():
    assert ("transformer.positional_even", None) in COLLIDING
    assert ("transformer.positional_odd", None) in COLLIDING


def _values(formula, names, dtype):
    """Points of the declared domains, one per element, as arrays of ``dtype``."""
    from test_kernels_numeric import _families, _sample

    families = _families(formula, formula.expr)
    _, arrays = _sample(formula, list(names), random.Random(5), families)
    return {a: np.ascontiguousarray(v, dtype=dtype) for a, v in arrays.items()}


def _loop_result(fused, values, dtype):
    """The numba loop itself on these arrays (on float32 a plan of NumPy SIMD functions
    otherwise runs the NumPy body)."""
    flat = [v.reshape(-1) for v in values]
    outs = [np.empty(flat[0].shape, dtype) for _ in fused.outputs]
    fused.loops.loop("plain", tuple(True for _ in values), dtype)(*flat, *outs)
    return [o.reshape(values[0].shape) for o in outs]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("formula_id", "wrt"), COLLIDING)
def test_numba_loop_names_never_shadow_an_argument(formula_id, wrt, dtype):
    pytest.importorskip("numba", reason="numba is not installed")
    formula = CATALOG.get(formula_id)
    plain = kernel(formula, grad=wrt)
    fused = kernel(formula, grad=wrt, backend="numba")
    assert "nb.prange" in fused.source
    values = _values(formula, plain.args, dtype)
    if "grad_out" in plain.args:
        values["grad_out"] = np.linspace(0.3, 1.1, values[plain.args[0]].size, dtype=dtype)
    values = {a: values[a] for a in plain.args}
    want = _as_tuple(plain(**values))
    rtol, atol = (1e-12, 1e-13) if dtype == np.float64 else (2e-5, 2e-5)
    loop = _loop_result(fused, list(values.values()), dtype)
    for got in (_as_tuple(fused(**values)), loop):
        for g, w in zip(got, want, strict=True):
            assert g.dtype == dtype
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def test_numba_loop_takes_arguments_named_as_its_locals_and_modules():
    pytest.importorskip("numba", reason="numba is not installed")
    from symml.kernels.backends.numba import compile_loop, numba_source

    names = ["i", "x", "x_i", "r0", "out0", "bad", "_c0", "_h0", "math", "nb", "_F", "_expit"]
    i, x, x_i, r0, out0, bad, c0, h0, math_, nb_, F, expit = sp.symbols(names, real=True)
    expr = (
        sp.exp(x * i) / (1 + x_i**2)
        + r0 * out0
        - bad * c0
        + sp.sqrt(h0**2 + 1) * math_
        + nb_ * sp.Abs(F)
        + expit * sp.exp(x * i)
    )
    plain = kernel(expr)
    fused = kernel(expr, backend="numba")
    rng = np.random.default_rng(9)
    for dtype in DTYPES:
        values = {a: rng.uniform(0.1, 0.9, size=7).astype(dtype) for a in plain.args}
        values["_h0"] = 0.75  # a scalar: √(h0² + 1) is hoisted out of the loop as _h…
        want = plain(**values)
        rtol = 1e-12 if dtype == np.float64 else 1e-5
        got = fused(**values)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=rtol)
        assert any(isinstance(key, tuple) for key in fused.loops.compiled)  # the loop ran
        # The counting and fix-up loops (of guarded plans) name their locals the same way.
        mask = tuple(a != "_h0" for a in plain.args)
        flat = [v if a == "_h0" else v.reshape(-1) for a, v in values.items()]
        flat = [dtype(v) if isinstance(v, float) else v for v in flat]
        for mode in ("count", "fixup"):
            loop = compile_loop(numba_source(fused.plan, mask, mode), "names", dtype)
            out = np.full(7, np.nan, dtype)
            bad = loop(*flat, out)
            assert bad == 0 if mode == "count" else bad is None
            np.testing.assert_allclose(out, want, rtol=rtol)


# -- numba: floor and ceiling stay floating point ----------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_numba_step_schedule_at_nan_and_past_two_to_the_63(dtype):
    pytest.importorskip("numba", reason="numba is not installed")
    fused = kernel("schedules.step", backend="numba")
    plain = kernel("schedules.step")
    t = np.array([np.nan, 1e30, -1e30, np.inf, 0.0, 5.0, 7.5, 1e19], dtype=dtype)
    values = dict(
        t=t,
        eta_0=np.full(t.size, 0.1, dtype),
        gamma=np.full(t.size, 0.5, dtype),
        k=np.full(t.size, 2.0, dtype),
    )
    with np.errstate(over="ignore"):  # 0.5^−5e29 is inf on both
        want = plain(**values)
        got = fused(**values)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[0]) and got[1] == 0 and got[5] == dtype(0.1 * 0.25)
    (loop,) = fused.loops.compiled.values()
    if dtype == np.float32:  # np.floor of a float32 is a float32: no float → double
        (signature,) = loop.signatures
        assert "fpext float" not in loop.inspect_llvm(signature)


@pytest.mark.parametrize("dtype", DTYPES)
def test_numba_ceiling_at_nan_and_past_two_to_the_63(dtype):
    pytest.importorskip("numba", reason="numba is not installed")
    x, y = sp.symbols("x y", real=True)
    expr = sp.ceiling(x) * y + sp.floor(-x)
    fused = kernel(expr, backend="numba")
    plain = kernel(expr)
    values = dict(
        x=np.array([np.nan, 1e30, -1e30, 2.5, -2.5, 9.3e18], dtype=dtype),
        y=np.full(6, 2.0, dtype),
    )
    got = fused(**values)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, plain(**values))


# -- jax: float64 in 32-bit mode -----------------------------------------------------------------

JAX_MESSAGE = (
    "kernel 'losses.bce' on jax: float64 input but jax runs in 32-bit mode (jax_enable_x64 is "
    "off): call jax.config.update('jax_enable_x64', True) before building kernels, or pass "
    "float32 arrays"
)


@pytest.fixture
def jax_32bit():
    """jax in its default 32-bit mode for the test; the mode before is restored after."""
    jax = pytest.importorskip("jax", reason="jax is not installed")
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", False)
    yield jax
    jax.config.update("jax_enable_x64", before)


def _wired(k):
    """The kernel as built: ``build`` wraps its portable body in the backend's check
    (``chosen.checked(plan.name, chosen.compile(portable, "portable"))``)."""
    return k


def test_jax_refuses_float64_in_32_bit_mode(jax_32bit):
    jnp = jax_32bit.numpy
    bce = _wired(kernel("losses.bce", backend="jax"))
    y = np.array([0.0, 1.0])
    p = np.array([1e-10, 1 - 1e-12])
    with pytest.raises(UsageError) as raised:
        bce(y_prob=y, yhat_prob=p)
    assert str(raised.value) == JAX_MESSAGE
    with pytest.raises(UsageError, match=re.escape(JAX_MESSAGE)):
        bce(y_prob=y.astype(np.float32), yhat_prob=p)  # one float64 argument is enough
    with pytest.raises(UsageError, match=re.escape(JAX_MESSAGE)):
        bce(y_prob=0.0, yhat_prob=0.5)  # Python floats are float64
    # A jax float64 array made while 64-bit mode was on.
    jax_32bit.config.update("jax_enable_x64", True)
    y64, p64 = jnp.asarray(y), jnp.asarray(p)
    jax_32bit.config.update("jax_enable_x64", False)
    assert y64.dtype == np.float64
    with pytest.raises(UsageError, match=re.escape(JAX_MESSAGE)):
        bce(y_prob=y64, yhat_prob=p64)
    # float32 still runs, NumPy or jax arrays, with a Python-float argument too.
    y32, p32 = y.astype(np.float32), np.array([1e-3, 1 - 1e-3], np.float32)
    want = kernel("losses.bce")(y_prob=y32, yhat_prob=p32)
    for args in ((y32, p32), (jnp.asarray(y32), jnp.asarray(p32))):
        got = bce(y_prob=args[0], yhat_prob=args[1])
        assert got.dtype == np.float32
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)
    sgd = _wired(kernel("optim.sgd", backend="jax"))
    got = sgd(W=p32, g=y32, eta=0.1)
    assert got.dtype == np.float32
    # In 64-bit mode, float64 stays float64: BCE at ŷ = 1 − 1e-12 is 1e-12, not −0.
    jax_32bit.config.update("jax_enable_x64", True)
    got = bce(y_prob=y, yhat_prob=p)
    assert got.dtype == np.float64
    np.testing.assert_allclose(np.asarray(got), kernel("losses.bce")(y_prob=y, yhat_prob=p))


def test_jax_kernel_refuses_float64_in_32_bit_mode_as_built(jax_32bit):
    bce = kernel("losses.bce", backend="jax")
    with pytest.raises(UsageError, match=re.escape(JAX_MESSAGE)):
        bce(y_prob=np.array([0.0, 1.0]), yhat_prob=np.array([1e-10, 1 - 1e-12]))


# -- numba: a Piecewise branch of scalars only -------------------------------------------------


def _elementwise_cases():
    """(formula, wrt, NumPy kernel) of every catalog kernel of scalar arguments (no family, no
    matrix, no size read off an argument), forward and each gradient."""
    cases = []
    for f, k in catalog_kernels():
        plan = k.plan
        if plan.matrix or plan.families or plan.axes > 1 or plan.sizes:
            continue
        cases.append((f, None, k))
        try:
            gradients = kernel(f, grad="all")
        except NotKernelisable:
            continue
        cases += [(f, name, g) for name, g in gradients.items()]
    return cases


def _domain_point(formula, names, rng):
    """A Python float inside each argument's declared domain."""
    from symml.evaluate.numeric import sample_value

    specs = {s.name: s.domain for s in formula.symbols}
    return {a: float(sample_value(specs.get(a), rng)) for a in names}


def _piecewise_cases():
    """(formula, wrt, NumPy kernel, the symbols of its Piecewise conditions) of every catalog
    kernel with a Piecewise."""
    cases = []
    for formula, wrt, plain in _elementwise_cases():
        pieces = [p for e in plain.plan.outputs for p in e.atoms(sp.Piecewise)]
        if pieces:
            conditions = [c for p in pieces for _, c in p.args if c != sp.true]
            cases.append((formula, wrt, plain, conditions))
    return cases


def _straddling(formula, plain, conditions, name, rng):
    """The other arguments at a point of their domains, ``name`` an array of points of its
    domain, checked to lie on both sides of every condition that reads it."""
    from symml.evaluate.numeric import sample_value

    domain = next((s.domain for s in formula.symbols if s.name == name), None)
    point = _domain_point(formula, plain.args, rng)
    draws = [sample_value(domain, rng) for _ in range(24)]
    # Around the other arguments' values too (t against t_warmup, y against ŷ ± δ).
    others = [sp.Rational(v) for a, v in point.items() if a != name]
    draws += [o * k for o in others for k in (sp.S.Half, 2)]
    draws += [o + k * p for o in others for p in others for k in (-1, 1)]
    draws += [10 * x for x in draws]
    draws = [x for x in draws if domain is None or domain.contains(x)]
    values = {**point, name: np.array(draws, dtype=float)}
    code = _code_names(plain)
    lookup = {code_name(a): values[a] for a in plain.args}
    for c in conditions:
        symbols = sorted(c.free_symbols, key=str)
        if code_name(name) not in {code[s] for s in symbols}:
            continue
        truth = sp.lambdify(symbols, c, "numpy")(*[lookup[code[s]] for s in symbols])
        assert np.any(truth) and not np.all(truth), (formula.id, name, c)
    return values


def _code_names(k):
    """The code name of each symbol of a kernel's plan."""
    from symml.kernels.source import code_names

    return {s: n for s, n in code_names(k.plan).items() if isinstance(s, sp.Symbol)}


@pytest.mark.parametrize("backend", ["numba"])
def test_piecewise_kernels_with_an_array_variable_are_what_numpy_gives(backend):
    # A branch reading only scalars (the warmup schedule's ∂/∂t: η/t_w, then −η/T) was
    # hoisted whole, an ExprCondPair replaced by a symbol, and SymPy's Piecewise raised
    # "ExprCondPair.__new__() missing 2 required positional arguments" building the body.
    pytest.importorskip(backend, reason=f"{backend} is not installed")
    cases = _piecewise_cases()
    ids = {(f.id, w) for f, w, _, _ in cases}
    assert {("schedules.warmup", "t"), ("losses.huber", None)} <= ids
    for formula, wrt, plain, conditions in cases:
        fused = kernel(formula, grad=wrt, backend=backend)
        variables = {s for c in conditions for s in c.free_symbols}
        names = {code_name(a): a for a in plain.args}
        code = _code_names(plain)
        for name in sorted({names[code[s]] for s in variables}):
            values = _straddling(formula, plain, conditions, name, random.Random(formula.id))
            where = (formula.id, wrt, name)
            with np.errstate(all="ignore"):
                want = plain(**values)
                try:
                    got = fused(**values)
                except Exception as exc:  # noqa: BLE001 - the case is named below
                    pytest.fail(f"{where}: {type(exc).__name__}: {exc}")
            for g, w in zip(_as_tuple(got), _as_tuple(want), strict=True):
                assert g.shape == w.shape and g.dtype == w.dtype, where
                np.testing.assert_allclose(g, w, rtol=1e-12, atol=0, equal_nan=True)


# -- numba: Dask input stays lazy ---------------------------------------------------------------


@pytest.mark.parametrize("backend", ["numba"])
def test_dask_input_stays_lazy_on_the_fused_backends(backend):
    # numexpr computed a dask input at once and returned NumPy arrays; numba, given dask
    # next to NumPy arrays, took the dask array for a number and the loop raised.
    pytest.importorskip(backend, reason=f"{backend} is not installed")
    da = pytest.importorskip("dask.array", reason="dask is not installed")
    import dask

    z = np.linspace(-30, 30, 12)
    sigmoid = kernel("activations.sigmoid", backend=backend)
    with dask.config.set(scheduler="synchronous"):
        got = sigmoid(z=da.from_array(z, chunks=4))
        assert isinstance(got, da.Array)
        np.testing.assert_allclose(got.compute(), kernel("activations.sigmoid")(z=z), rtol=1e-14)

        step = kernel("optim.adam_step", step=True, backend=backend)
        rng = np.random.default_rng(6)
        state = dict(W=rng.normal(size=8), g=rng.normal(size=8), m=rng.normal(size=8) * 0.1)
        state["v"] = rng.uniform(0.01, 0.1, size=8)
        hyper = dict(eta=1e-3, epsilon=1e-8, beta_1=0.9, beta_2=0.999, t=3)
        want = kernel("optim.adam_step", step=True)(**state, **hyper)
        lazy = {a: da.from_array(v, chunks=4) for a, v in state.items()}
        mixed = {**state, "g": lazy["g"]}  # one dask array among NumPy ones
        for arrays in (lazy, mixed):
            got = step(**arrays, **hyper)
            assert len(got) == len(want)
            for g, w in zip(got, want, strict=True):
                assert isinstance(g, da.Array)
                np.testing.assert_allclose(g.compute(), w, rtol=1e-13)
