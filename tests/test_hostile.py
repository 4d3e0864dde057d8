"""The hostile-input suite (issue 18): random and adversarial input to every subcommand,
every catalog kernel and its gradients, and the samplers, counted per probe. The counts are
printed at the end of the run (``conftest.pytest_terminal_summary``); each test asserts its
probe found no traceback, no "internal error" for a user's mistake, no exit code outside
{0, 1, 2}, no usage error of more than one line, no nan or ±inf where the true value is
finite (a float128 run of the same kernel, or float64 where SciPy has no float128 loop),
and no result of the wrong dtype.

Bounded to about a minute: hypothesis runs derandomised with max_examples set per probe,
the expensive subcommands (verify, sheet, plot) get a few cheap ids or a listed set of
adversarial cases, and check runs with --timeout 1.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symml.kernels.plan import GRAD_OUT

sys.path.insert(0, str(Path(__file__).parent))
import hostile as H  # noqa: E402
from catalog_kernels import (  # noqa: E402
    catalog_gradients,
    catalog_kernels,
    catalog_samplers,
)


def bounded(examples: int, deadline_ms: int = 20_000) -> settings:
    return settings(
        max_examples=examples,
        deadline=deadline_ms,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )


def clean_example(probe: str, before: dict[str, int]) -> None:
    """This example added no failure to the probe (so hypothesis shrinks the one that did)."""
    after = H.failures(probe)
    assert after == before, f"{probe}: {after}; e.g. {H.EXAMPLES.get(probe, [])}"


# -- the command line ------------------------------------------------------------------------

CHEAP_IDS = ["activations.sigmoid", "losses.mse", "cnn.max_pool", "optim.sgd"]
ODD = [
    "",
    " ",
    "-",
    "--",
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "1e309",
    "99999999999999999999999",
    "0x10",
    "é",
    "𝐭𝟏",
    "\u202e",
    "a\x00b",
    "x" * 300,
    "../../etc/passwd",
    "/dev/null",
    "/nonexistent/dir/f.md",
    "activations.",
    ".sigmoid",
    "activations.sigmoid#1",
    "ACTIVATIONS.SIGMOID",
    "__import__('os').system('echo pwned')",
    "lambda: 0",
    "exec('1')",
    "9**9**9**9",
    "z**(10**200)",
    "9^{9^{9^{9}}}",
    "(" * 50,
    "z" + "+z" * 40,
    "\\frac{",
    "\\sigma(z)",
    "\\sum_{i=1}^{n} x_i",
    "matrix W m n",
    "vector x n",
    "1/(1+exp(-z))",
    "log(0)",
    "Max(z, alpha*z)",
    *H.PAYLOADS,
]
OPTIONS = [
    "--json",
    "--part",
    "--seed",
    "--timeout",
    "--workers",
    "--strict",
    "--errata",
    "--no-cache",
    "--wrt",
    "--expr",
    "--grad",
    "--backend",
    "--axis",
    "--step",
    "--unicode",
    "--declare",
    "--all",
    "--format",
    "--help",
    "-h",
    "--bogus",
    "--catalog",
]
TOKENS = st.sampled_from(ODD + OPTIONS + CHEAP_IDS + ["z", "alpha", "numba", "numexpr", "7"])
#: Subcommands whose every run is cheap whatever follows (verify, sheet and plot have
#: their own probes below).
CHEAP_COMMANDS = ["list", "show", "grad", "parse", "kernel", "check", "bogus", ""]


@bounded(60)
@given(command=st.sampled_from(CHEAP_COMMANDS), rest=st.lists(TOKENS, max_size=5))
def test_random_arguments_to_every_cheap_subcommand(command, rest):
    if command == "grad" and "--expr" not in rest and "--wrt" not in rest:
        rest = [*rest, "--wrt", "z"]  # all gradients of a large formula are slow, not wrong
    argv = [command, *rest] if command else rest
    if command == "check":
        argv += ["--timeout", "1"]
    before = H.failures("cli.random_argv")
    H.run_cli("cli.random_argv", argv)
    clean_example("cli.random_argv", before)


@bounded(40)
@given(
    expr=st.one_of(
        st.sampled_from(ODD),
        st.sampled_from(["1/(1+exp(-z))", "z**2*x", "log(1+exp(z))", "Max(z, 0)", "sqrt(z)"]),
        st.lists(
            st.sampled_from(
                [
                    "z",
                    "x",
                    "(",
                    ")",
                    "+",
                    "-",
                    "*",
                    "/",
                    "**",
                    "exp",
                    "log",
                    "sqrt",
                    "1",
                    "0",
                    "2.5",
                    "e",
                    "pi",
                    ",",
                    "Max",
                    "Abs",
                    "sigmoid",
                    "_",
                    ".",
                    "[",
                    "]",
                    "'",
                    "1e308",
                ]
            ),  # fmt: skip
            min_size=1,
            max_size=12,
        ).map("".join),
    ),
    wrt=st.sampled_from(["z", "x", "q", "", "𝐳", "z z", "1"]),
)
def test_grad_of_random_expressions(expr, wrt):
    before = H.failures("cli.grad_expr")
    H.run_cli("cli.grad_expr", ["grad", "--expr", expr, "--wrt", wrt])
    clean_example("cli.grad_expr", before)


@bounded(40)
@given(
    latex=st.lists(
        st.sampled_from(
            [
                "x",
                "W",
                "\\sigma",
                "\\frac{",
                "}{",
                "}",
                "{",
                "(",
                ")",
                "^",
                "_",
                "'",
                "+",
                "=",
                "\\sum_{j=1}^{n}",
                "\\log",
                "\\begin{cases}",
                "&",
                "\\\\",
                "\\end{cases}",
                "\\max(",
                ",",
                "\\sqrt",
                "\\odot",
                "^T",
                "\\nabla_",
                "\\theta",
                "é",
                "\x00",
                "%",
                "$",
                "9^{9^{9^{9}}}",
                "2^{-99999}",
            ]
        ),  # fmt: skip
        max_size=10,
    ).map("".join),
    declare=st.lists(st.sampled_from(ODD + ["matrix W 2 2", "scalar z positive"]), max_size=2),
    unicode=st.booleans(),
)
def test_parse_of_random_latex_and_declarations(latex, declare, unicode):
    argv = ["parse", latex, *[a for d in declare for a in ("--declare", d)]]
    argv += ["--unicode"] if unicode else []
    before = H.failures("cli.parse")
    H.run_cli("cli.parse", argv)
    clean_example("cli.parse", before)


SECONDS = ["nan", "inf", "-inf", "-1", "0", "1e-9", "abc", "1e309", "0.5", "", "1e-320"]


@bounded(25)
@given(
    ids=st.sampled_from(
        [["activations.sigmoid"]] * 4 + [["sigmod"], ["x" * 99], ["é", "activations.relu"]]
    ),
    timeout=st.sampled_from([*SECONDS, "5", "5", "5", "5"]),
    seed=st.sampled_from(["0", "0", "0", "-1", "99999999999999999999999", "1.5", "x"]),
    workers=st.sampled_from(["1", "1", "2", "2", "0", "-3", "1000000", "a"]),
    flags=st.lists(st.sampled_from(["--json", "--strict", "--errata", "--no-cache"]), max_size=2),
)
def test_verify_with_odd_options(ids, timeout, seed, workers, flags):
    argv = ["verify", *ids, "--timeout", timeout, "--seed", seed]
    argv += ["--workers", workers, *flags]
    before = H.failures("cli.verify")
    run = H.run_cli("cli.verify", argv)
    clean_example("cli.verify", before)
    if timeout in ("nan", "inf", "-inf", "-1", "0", "1e309"):
        assert run.code == 2  # refused before any claim is checked


def _note_text() -> st.SearchStrategy[bytes]:
    lines = [
        "# Notes",
        "$\\sigma'(z) = \\sigma(z)(1 - \\sigma(z))$",
        "$$\\frac{d}{dz}\\tanh(z) = 1 - \\tanh^2(z)$$",
        "$f(x) = x^2$ and $f'(x) = 3x$",
        "```\nmath\n```",
        "---\nsymbols:\n  z: scalar\n---",
        "\\begin{equation} x = \\end{equation}",
        "$\\frac{$",
        "$$",
        "é ü 𝐭𝟏 \u202e",
        "$" * 40,
        *(f"${p}$" for p in H.PAYLOADS),
    ]
    text = st.lists(st.sampled_from(lines), max_size=6).map(lambda ls: "\n".join(ls).encode())
    raw = st.binary(max_size=200)
    broken = st.sampled_from([b"\xff\xfe$x$", b"ok\x00binary", b"\xc3(", b"\xef\xbb\xbf$x = x$"])
    return st.one_of(text, raw, broken)


@bounded(40)
@given(
    content=_note_text(),
    suffix=st.sampled_from([".md", ".tex", ".txt", "", ".MD"]),
    as_dir=st.booleans(),
    sidecar=st.one_of(st.none(), _note_text()),
    options=st.lists(st.sampled_from(["--json", "--all"]), max_size=2),
    timeout=st.sampled_from(["1", "1", "nan", "-2", "inf"]),
)
def test_check_on_random_files(
    tmp_path_factory, content, suffix, as_dir, sidecar, options, timeout
):
    folder = tmp_path_factory.mktemp("notes")
    path = folder / f"notes{suffix}"
    if as_dir:
        path.mkdir()
    else:
        path.write_bytes(content)
    if sidecar is not None:
        (folder / f"notes{suffix}.symml").write_bytes(sidecar)
    before = H.failures("cli.check")
    H.run_cli("cli.check", ["check", str(path), "--timeout", timeout, *options])
    clean_example("cli.check", before)


def _adversarial_sheet_and_plot(tmp: Path) -> list[list[str]]:
    quick = ["--no-verdicts", "--no-plots", "--no-gradients"]
    (tmp / "a-file").write_text("x")
    return [
        ["sheet", *quick, "-o", "/proc/symml-sheet.tex"],
        ["sheet", *quick, "-o", str(tmp)],
        ["sheet", *quick, "-o", str(tmp / "a-file" / "sheet.tex")],
        ["sheet", *quick, "--part", "99"],
        ["sheet", *quick, "--part", "-1", "0"],
        ["sheet", *quick, "--format", "md", "--pdf"],
        ["sheet", *quick, "--format", "pdf"],
        ["sheet", *quick, "--format", "md", "--part", "1", "-o", str(tmp / "new" / "s.md")],
        ["plot", "sigmod"],
        ["plot", "activations.sigmoid", "-o", str(tmp / "f.jpg")],
        ["plot", "activations.sigmoid", "-o", "/proc/symml.png"],
        ["plot", "activations.sigmoid", "-o", str(tmp / "a-file" / "f.png")],
        ["plot", "activations.sigmoid", "--var", "q", "-o", str(tmp / "f.png")],
        ["plot", "losses.mse", "-o", str(tmp / "f.png")],
        ["plot", "activations.sigmoid", "-o", str(tmp / "f.svg")],
        ["--catalog", "/nonexistent", "list"],
        ["--catalog", str(tmp / "a-file"), "list"],
        ["--catalog", str(tmp / "new"), "list"],
        ["kernel", "activations.sigmoid", "--axis", "99999999999999999999"],
        ["kernel", "activations.sigmoid", "--grad", "q"],
        ["kernel", "optim.adam_step", "--step", "--grad", "W"],
        ["kernel", "init.he"],
        ["kernel", "activations.sigmoid", "--backend", "cupy"],
        ["show", "activations.sigmoid", "--json"],
        ["list", "--part", "0"],
    ]


def test_sheet_plot_and_global_options_on_adversarial_arguments(tmp_path):
    for argv in _adversarial_sheet_and_plot(tmp_path):
        H.run_cli("cli.sheet_plot_misc", argv)
    H.assert_clean("cli.sheet_plot_misc")


# -- kernels ---------------------------------------------------------------------------------


def _all_kernels():
    forward = [(f, None, k) for f, k in catalog_kernels()]
    return forward + list(catalog_gradients())


@pytest.fixture(scope="module")
def kernels():
    return _all_kernels()


FORWARD = {}


def _forward(formula):
    if formula.id not in FORWARD:
        FORWARD[formula.id] = dict((f.id, k) for f, k in catalog_kernels())[formula.id]
    return FORWARD[formula.id]


def _inputs(formula, k, batch, rng, make):
    """Arguments for one call: ``make(slot) -> value`` for each, and grad_out of the forward
    output's shape for a vector-Jacobian kernel. None when the forward kernel refuses them."""
    slots = {s.name: s for s in H.slots(k, formula, batch)}
    values = {name: make(slot) for name, slot in slots.items() if name != GRAD_OUT}
    if GRAD_OUT in slots:
        forward = _forward(formula)
        extra = {s.name: make(s) for s in H.slots(forward, formula, batch) if s.name not in values}
        values.update(extra)
        out, _ = H.call(forward, [values[a] for a in forward.args])
        if out is None:
            return None
        values[GRAD_OUT] = make(H.Slot(GRAD_OUT, np.shape(out[0]), None, False))
    return [values[a] for a in k.args]


def _reference(k, values, dtype):
    """The same kernel in float128 (float64 when the inputs are float32 and a SciPy
    function has no float128 loop), or None."""
    for wide in (np.longdouble, np.float64):
        if np.dtype(wide).itemsize <= np.dtype(dtype).itemsize:
            continue
        got, _ = H.call(k, [np.asarray(v, dtype=wide) for v in values])
        if got is not None:
            return [np.asarray(g, dtype=np.longdouble) for g in got]
    return None


def _judge(probe, k, values, got, dtype, where):
    """Count the results: dtype, and nan/inf where the reference is finite and fits."""
    want = H.expected_dtype(values)
    for g in got:
        if np.asarray(g).dtype != want:
            H.count(probe, "wrong_dtype", example=f"{where}: {np.asarray(g).dtype} for {want}")
    if not all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in values):
        return
    ref = _reference(k, values, dtype)
    if ref is None:
        H.count(probe, "no_reference")
        return
    limit = float(np.finfo(want).max) / 4
    for g, r in zip(got, ref, strict=True):
        g = np.asarray(g, dtype=np.longdouble)
        if g.shape != r.shape:
            continue
        H.count(probe, "elements", int(g.size))
        fits = np.isfinite(r) & (np.abs(r) < limit)
        bad = fits & ~np.isfinite(g)
        if bad.any():
            H.count(probe, "nonfinite_where_finite", int(bad.sum()), example=where)
            if os.environ.get("SYMML_HOSTILE_DEBUG"):
                shown = [np.asarray(v).tolist() for v in values]
                print("NONFINITE", where, shown, g[bad], r[bad])
        tol = 1e-3 if want == np.float32 else 1e-9
        with np.errstate(all="ignore"):
            far = fits & np.isfinite(g) & (np.abs(g - r) > tol * np.abs(r) + 1e-30)
        H.count(probe, "far", int(far.sum()))


def _name(formula, wrt):
    return formula.id + (f" d/d{wrt}" if wrt else "")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_kernel_and_gradient_on_extreme_finite_values(kernels, dtype):
    """±1e30, subnormals, ±1e-30, 1 − ε (those in the argument's domain) in half the
    elements of one argument at a time, the others ordinary: nan or ±inf only where the
    true value is not finite. (Two extreme arguments together, t = 1e30 over T = 5e-324 in
    a cosine schedule, ask for more exponent range than the dtype has.)"""
    probe = f"kernels.extremes.{np.dtype(dtype).name}"
    rng = np.random.default_rng(18)
    for formula, wrt, k in kernels:
        for target in [a for a in k.args if a != GRAD_OUT]:

            def make(slot, target=target):
                base = H.ordinary(slot.domain, slot.shape, rng)
                if slot.name == target:
                    base = H.with_extremes(slot.domain, base, dtype, rng, 0.5, True)
                return base.astype(dtype)

            values = _inputs(formula, k, (6,), rng, make)
            if values is None:
                continue
            got = _counted_call(probe, formula, wrt, k, values)
            if got is None:
                continue
            where = f"{_name(formula, wrt)} extreme {target}"
            _judge(probe, k, values, got, dtype, where)
    H.assert_clean(probe)


def _counted_call(probe, formula, wrt, k, values):
    """The kernel's results, counted as a run; None after counting a refusal or a traceback."""
    H.count(probe, "runs")
    got, exc = H.call(k, values)
    if got is None:
        if H.is_refusal(exc):
            H.count(probe, "refused")
        else:
            H.count(probe, "tracebacks", example=f"{_name(formula, wrt)}: {exc!r}"[:200])
    return got


def test_every_kernel_and_gradient_on_infinities_and_nan(kernels):
    """±inf and nan among the inputs: a result (nan allowed) of the right dtype, never a
    raw exception."""
    probe = "kernels.nonfinite_inputs"
    rng = np.random.default_rng(19)
    for formula, wrt, k in kernels:
        for dtype in (np.float32, np.float64):

            def make(slot, dtype=dtype):
                base = H.ordinary(slot.domain, slot.shape, rng)
                return H.with_extremes(slot.domain, base, dtype, rng, 0.5, False).astype(dtype)

            values = _inputs(formula, k, (5,), rng, make)
            if values is None:
                continue
            got = _counted_call(probe, formula, wrt, k, values)
            if got is None:
                continue
            want = H.expected_dtype(values)
            for g in got:
                if np.asarray(g).dtype != want:
                    H.count(probe, "wrong_dtype", example=_name(formula, wrt))
    H.assert_clean(probe)


KINDS = ["float64", "float32", "int64", "list", "number"]
BATCHES = [(), (0,), (1,), (4,), (2, 3), (3, 1), (1, 0)]


@bounded(150, deadline_ms=30_000)
@given(data=st.data())
def test_kernels_on_random_layouts_dtypes_and_shapes(kernels, data):
    """0-d, empty, Fortran-order, strided, reversed, read-only, int and list arguments,
    batch shapes that broadcast: a result of the promised dtype, finite where the float128
    run is, or symml's refusal."""
    probe = "kernels.layouts"
    formula, wrt, k = data.draw(st.sampled_from(kernels), label="kernel")
    batch = data.draw(st.sampled_from(BATCHES), label="batch")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    rng = np.random.default_rng(seed)
    extreme = data.draw(st.booleans(), label="extreme")
    base_kind = data.draw(st.sampled_from(["float64", "float32"]), label="dtype")

    def make(slot):
        kind = data.draw(st.sampled_from(KINDS), label=f"{slot.name} kind")
        values = H.ordinary(slot.domain, slot.shape, rng)
        if extreme:
            values = H.with_extremes(slot.domain, values, np.dtype(base_kind), rng, 0.3, True)
        if kind == "int64":
            return np.clip(np.round(values), -(2**62), 2**62).astype(np.int64)
        if kind == "number" and slot.batched:
            return float(values.flat[0]) if values.size else 0.5
        array = values.astype(base_kind if kind in ("list", "number") else kind)
        layout = data.draw(st.sampled_from(sorted(H.LAYOUTS)), label=f"{slot.name} layout")
        if kind == "list":
            layout = "list"
        return H.LAYOUTS[layout](array)

    values = _inputs(formula, k, batch, rng, make)
    if values is None:
        return
    before = H.failures(probe)
    got = _counted_call(probe, formula, wrt, k, values)
    if got is not None:
        dtype = H.expected_dtype(values)
        _judge(probe, k, values, got, dtype, f"{_name(formula, wrt)} batch {batch}")
    clean_example(probe, before)


JUNK = [
    "x",
    None,
    1 + 2j,
    {},
    [],
    [[1.0], [2.0, 3.0]],
    np.array(["a"]),
    np.array([1 + 1j]),
    object(),
    np.ones((7,)),
    np.ones((2, 5, 7)),
    np.ones((0, 0)),
    np.ones(3, dtype=np.float16),
    np.ones(3, dtype=np.longdouble),
    np.ones(3, dtype=bool),
    np.datetime64("2020-01-01"),
]


@bounded(150, deadline_ms=30_000)
@given(data=st.data())
def test_kernels_on_wrong_arguments(kernels, data):
    """Shapes that do not broadcast, too few axes, strings, None, complex, ragged lists,
    unknown names, an axis out of range, odd out= buffers: a result or symml's one-line
    refusal, never a raw exception."""
    probe = "kernels.wrong_arguments"
    formula, wrt, k = data.draw(st.sampled_from(kernels), label="kernel")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    values = _inputs(formula, k, (4,), rng, lambda s: H.ordinary(s.domain, s.shape, rng))
    if values is None:
        return
    spoil = data.draw(st.sampled_from(["junk", "shape", "axis", "out", "name", "count"]))
    kwargs = {}
    position = data.draw(st.integers(0, len(values) - 1), label="position")
    if spoil == "junk":
        values[position] = data.draw(st.sampled_from(JUNK), label="junk")
    elif spoil == "shape":
        shape = data.draw(st.lists(st.integers(0, 5), max_size=3).map(tuple), label="shape")
        values[position] = rng.normal(size=shape)
    elif spoil == "axis":
        kwargs["axis"] = data.draw(st.sampled_from([5, -9, 2**40, 1.5, "0"]), label="axis")
    elif spoil == "out":
        kwargs["out"] = data.draw(
            st.sampled_from([np.empty(1), np.empty(4, np.int64), [1.0], "x", (np.empty(4),) * 3]),
            label="out",
        )
    elif spoil == "name":
        kwargs["bogus"] = 1.0
    else:
        values = values[:-1] if data.draw(st.booleans()) else [*values, 1.0]
    before = H.failures(probe)
    H.count(probe, "runs")
    try:
        with np.errstate(all="ignore"):
            k(*values, **kwargs)
    except Exception as exc:  # noqa: BLE001
        if H.is_refusal(exc):
            H.count(probe, "refused")
            if "\n" in str(exc):
                H.count(probe, "multi_line_errors", example=f"{_name(formula, wrt)}: {exc}")
        else:
            H.count(probe, "tracebacks", example=f"{_name(formula, wrt)} {spoil}: {exc!r}"[:200])
    clean_example(probe, before)


# -- samplers --------------------------------------------------------------------------------


SAMPLERS = catalog_samplers()
PARAMETERS = [
    0.5,
    2.0,
    0.0,
    -1.0,
    1.5,
    1e30,
    -1e30,
    5e-324,
    math.nan,
    math.inf,
    -math.inf,
    3,
    True,
    "x",
    None,
    1 + 2j,
    [],
    [0.5, 0.2],
    [[1], [2, 3]],
    np.full((2,), 0.5),
    np.full((3, 4), 0.5),
    np.array(["a"]),
    object(),
]
SHAPES = [3, (2,), (), (0,), None, -1, 2.5, "3", (2, -1), [[1]], (1e12,), 1e20, math.nan, True]


@bounded(120, deadline_ms=30_000)
@given(
    sampler=st.sampled_from(SAMPLERS),
    data=st.data(),
    shape=st.sampled_from(SHAPES),
    dtype=st.sampled_from([None, np.float32, "float64", "foo", int, 3, np.float16]),
    rng=st.sampled_from(["generator", "generator", None, 0, "legacy"]),
)
def test_samplers_with_parameters_outside_their_domains(sampler, data, shape, dtype, rng):
    probe = "samplers"
    params = {a: data.draw(st.sampled_from(PARAMETERS), label=a) for a in sampler.args}
    generator = {
        "generator": np.random.default_rng(0),
        "legacy": np.random.RandomState(0),
    }.get(rng, rng)
    before = H.failures(probe)
    H.count(probe, "runs")
    try:
        with np.errstate(all="ignore"):
            result = sampler(generator, shape, dtype=dtype, **params)
    except Exception as exc:  # noqa: BLE001
        if H.is_refusal(exc):
            H.count(probe, "refused")
        else:
            H.count(probe, "tracebacks", example=f"{sampler.name} {params} {shape}: {exc!r}"[:200])
    else:
        want = np.dtype(dtype) if dtype is not None else None
        if want is not None and result.dtype != want:
            H.count(probe, "wrong_dtype", example=f"{sampler.name}: {result.dtype} for {want}")
    clean_example(probe, before)
