"""The cases issue 18 listed, each with its exact one-line message or its exact value: user
mistakes the CLI reported as "internal error", kernel calls that raised NumPy's or Python's
own exceptions, the leaky-ReLU gradient that was 0, float32 matrix kernels that gave nan,
and a Unicode argument name the generated code read as a temporary."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

from symml import kernel
from symml.cli.main import main
from symml.errors import UsageError

REPO = Path(__file__).resolve().parents[1]


def run(*argv: str) -> tuple[int, str]:
    return main(list(argv), out=io.StringIO()), ""


def cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv), out=io.StringIO())
    return code, capsys.readouterr().err


# -- the command line ------------------------------------------------------------------------


def test_check_on_a_directory_named_like_notes(capsys, tmp_path):
    folder = tmp_path / "x.md"
    folder.mkdir()
    assert cli(capsys, "check", str(folder)) == (
        2,
        f"symml: '{folder}' is a directory, not a notes file: pass the file inside it\n",
    )


def test_check_on_invalid_utf8(capsys, tmp_path):
    path = tmp_path / "latin1.md"
    path.write_bytes("$\\sigma(z)$ caf\xe9".encode("latin-1"))
    assert cli(capsys, "check", str(path)) == (
        2,
        f"symml: '{path}' is not UTF-8 text (byte 0xe9 at offset 15): save it as UTF-8 and "
        "check it again\n",
    )


def test_check_on_a_binary_file(capsys, tmp_path):
    path = tmp_path / "image.md"
    path.write_bytes(b"PK\x03\x04\x00\x00zip")
    assert cli(capsys, "check", str(path)) == (
        2,
        f"symml: '{path}' is a binary file (it has NUL bytes at offset 4), not notes text: "
        "pass a UTF-8 .md or .tex file\n",
    )


def test_check_reads_a_sidecar_that_is_not_text_as_a_usage_error(capsys, tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("$x = x$\n")
    (tmp_path / "notes.md.symml").write_bytes(b"\xff\xff")
    code, err = cli(capsys, "check", str(path))
    assert code == 2
    assert err.startswith(f"symml: '{tmp_path / 'notes.md.symml'}' is not UTF-8 text")


@pytest.mark.parametrize(
    "target, problem",
    [
        ("/proc/symml-sheet.tex", "cannot write there (No such file or directory)"),
        ("{tmp}/a-file/sheet.tex", "{tmp}/a-file is a file, not a folder"),
    ],
)
def test_sheet_into_an_unwritable_place(capsys, tmp_path, target, problem):
    (tmp_path / "a-file").write_text("x")
    target, problem = target.format(tmp=tmp_path), problem.format(tmp=tmp_path)
    code, err = cli(capsys, "sheet", "--no-verdicts", "--no-plots", "-o", target)
    assert (code, err) == (2, f"symml: -o {target}: {problem}; pick a writable path\n")


def test_sheet_into_a_directory(capsys, tmp_path):
    code, err = cli(capsys, "sheet", "--no-verdicts", "--no-plots", "-o", str(tmp_path))
    assert (code, err) == (
        2,
        f"symml: -o {tmp_path}: that is a directory; name a file, e.g. -o {tmp_path}/sheet.tex\n",
    )


@pytest.mark.parametrize("command", ["verify", "check"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0"])
def test_timeouts_that_are_not_a_positive_finite_number(capsys, tmp_path, command, value):
    notes = tmp_path / "n.md"
    notes.write_text("$x = x$\n")
    target = "activations.sigmoid" if command == "verify" else str(notes)
    code, err = cli(capsys, command, target, f"--timeout={value}")
    shown = f"{float(value):g}"
    assert (code, err) == (
        2,
        f"symml: --timeout {shown}: must be a positive number of seconds, finite "
        f"(e.g. --timeout 10)\n",
    )


def test_verify_workers_below_one(capsys):
    assert cli(capsys, "verify", "activations.sigmoid", "--workers", "0") == (
        2,
        "symml: --workers 0: must be at least 1 (e.g. --workers 2)\n",
    )


def test_a_closed_stdout(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdout", None)
    assert main(["list"]) == 2
    assert capsys.readouterr().err == (
        "symml: standard output is closed, so there is nowhere to write the result: run symml "
        "with stdout open (or redirected to a file)\n"
    )


def _symml(argv: list[str], **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "symml", *argv], cwd=REPO, env=env, stderr=subprocess.PIPE, **kwargs
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_output_to_a_full_disk():
    with open("/dev/full", "w") as full:
        process = _symml(["list"], stdout=full)
        _, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert err.decode() == (
        "symml: cannot write the output: No space left on device; free some space or write "
        "elsewhere\n"
    )


def test_a_reader_that_goes_away_stops_symml_quietly():
    process = _symml(["list", "--json"], stdout=subprocess.PIPE)
    process.stdout.close()  # before symml writes: its first write meets a closed pipe
    _, err = process.communicate(timeout=120)
    assert err.decode() == ""
    assert process.returncode == 1


# -- kernels: shapes -------------------------------------------------------------------------


def test_a_gradient_on_shapes_that_do_not_broadcast_has_the_value_kernels_message():
    args = dict(W=np.ones(3), g=np.ones(4), eta=0.1)
    with pytest.raises(UsageError) as value:
        kernel("optim.sgd")(**args)
    with pytest.raises(UsageError) as gradient:
        kernel("optim.sgd", grad="W")(**args)  # dW is 1: it reads neither W nor g
    prefix = "arguments of shapes W (3,), g (4,), eta () do not fit together"
    assert str(value.value).startswith(f"kernel 'optim.sgd': {prefix}")
    assert str(gradient.value).startswith(f"kernel 'optim.sgd d/dW': {prefix}")


def test_a_matrix_kernel_given_vectors_names_the_arguments():
    with pytest.raises(UsageError) as excinfo:
        kernel("lstm.candidate")(*[np.ones(3)] * 4)
    assert str(excinfo.value) == (
        "kernel 'lstm.candidate': arguments of shapes h_prev (3,), x_t (3,), W_c (3,), b_c (3,) "
        "do not fit together (declared: h_prev column vector of length H, x_t column vector of "
        "length D, W_c H×D + H matrix, b_c column vector of length H): an argument has fewer "
        "axes than the formula indexes it by"
    )


@pytest.mark.parametrize("shape", [(0,), (2, 0)])
def test_max_pool_gradient_on_an_empty_axis_is_refused_like_its_value(shape):
    x = np.ones(shape)
    messages = []
    for grad in (None, "x"):
        with pytest.raises(UsageError) as excinfo:
            kernel("cnn.max_pool", grad=grad)(x=x)
        messages.append(str(excinfo.value).split(": ", 1)[1])
    assert (
        messages[0]
        == messages[1]
        == (
            f"arguments of shapes x {shape} do not fit together (declared: x indexed family over "
            "N): zero-size array to reduction operation maximum which has no identity"
        )
    )


def test_float128_input_to_a_kernel_with_a_scipy_function():
    with pytest.raises(UsageError) as excinfo:
        kernel("activations.gelu")(np.ones(3, np.longdouble))
    assert str(excinfo.value) == (
        "kernel 'activations.gelu': its special functions take float32 or float64, not "
        "float128: pass arrays of one of those (e.g. x.astype(np.float64))"
    )


# -- samplers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda s, r: s(r, 3, mu=None, sigma=1.0),
            "sampler 'vae.reparameterization': mu is NoneType, not a real number: pass a "
            "number or an array of them",
        ),
        (
            lambda s, r: s(r, 3, mu=0.0, sigma=1 + 2j),
            "sampler 'vae.reparameterization': sigma is complex, not a real number: pass a "
            "number or an array of them",
        ),
        (
            lambda s, r: s(r, 3, mu="x", sigma=1.0),
            "sampler 'vae.reparameterization': mu is str, not a real number: pass a number or "
            "an array of them",
        ),
        (
            lambda s, r: s(r, "3", mu=0.0, sigma=1.0),
            "sampler 'vae.reparameterization': shape '3' is not a shape: pass whole numbers "
            "≥ 0, e.g. shape=(3, 4)",
        ),
        (
            lambda s, r: s(r, (1e20,), mu=0.0, sigma=1.0),
            "sampler 'vae.reparameterization': shape (1e+20,) has more than 5e+18 elements, "
            "which NumPy cannot index: pass a smaller shape",
        ),
        (
            lambda s, r: s(r, 3, dtype="foo", mu=0.0, sigma=1.0),
            "sampler 'vae.reparameterization': dtype must be float32 or float64, not 'foo'",
        ),
        (
            lambda s, r: s(r, None, mu=np.zeros(2), sigma=np.ones(3)),
            "sampler 'vae.reparameterization': parameters of shapes mu (2,), sigma (3,) do not "
            "broadcast together: pass arrays that do",
        ),
        (
            lambda s, r: s(r, (2,), mu=np.zeros((3, 4)), sigma=1.0),
            "sampler 'vae.reparameterization': 'mu' has shape (3, 4), which does not broadcast "
            "to the sample's shape (2,): pass shape= that it fits",
        ),
    ],
)
def test_bad_sampler_calls_are_one_line_refusals(call, message):
    sampler = kernel("vae.reparameterization")
    with pytest.raises(UsageError) as excinfo:
        call(sampler, np.random.default_rng(0))
    assert str(excinfo.value) == message


def test_a_sample_too_large_to_allocate_is_refused():
    sampler = kernel("vae.reparameterization")
    with pytest.raises(UsageError) as excinfo:
        sampler(np.random.default_rng(0), (10**12,), mu=0.0, sigma=1.0)
    assert str(excinfo.value) == (
        "sampler 'vae.reparameterization': a sample of shape (1000000000000,) in float64 takes "
        "8e+12 bytes, more than this machine can allocate: pass a smaller shape"
    )


# -- kinks: the leaky-ReLU gradient -----------------------------------------------------------

TINY = [5e-324, -5e-324, 1e-310, -1e-310, 1.0, -1.0, 3.5, -2e300]


def _exact_slope(z: float, alpha: float) -> float:
    """d/dz max(z, αz) away from z = 0, from mpmath's derivative of the max at 60 digits."""
    with mpmath.workdps(60):
        zz, a = mpmath.mpf(z), mpmath.mpf(alpha)
        return float(mpmath.diff(lambda t: max(t, a * t), zz, h=abs(zz) / 10**20))


@pytest.mark.parametrize("alpha", [1.0, 0.01, 0.6, 2.0])
def test_leaky_relu_gradient_is_the_slope_at_every_z_including_alpha_one_and_subnormals(alpha):
    z = np.array(TINY)
    got = kernel("activations.leaky_relu", grad="z")(z=z, alpha=alpha)
    # it was α·H(αz − z) + H(z − αz): 0 for α = 1 everywhere and wherever αz rounds to z
    assert got.tolist() == [_exact_slope(v, alpha) for v in TINY]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaky_relu_gradient_by_alpha_is_z_or_zero(dtype):
    z = np.array([2.0, -3.0, np.finfo(dtype).smallest_subnormal], dtype)
    got = kernel("activations.leaky_relu", grad="alpha")(z=z, alpha=dtype(0.5))
    assert got.dtype == dtype
    assert got.tolist() == [0.0, -3.0, 0.0]


def test_kinks_of_any_max_or_min_come_from_the_sign_not_the_difference():
    z, c = sp.Symbol("z", real=True), sp.Symbol("c", positive=True)
    sub = 5e-324
    for expr, slopes in [
        # max(z, c·z) with c = 1 is z; min(3z, c·z) at a subnormal z compares z with 0
        (sp.Max(z, c * z), {(sub, 1.0): 1.0, (-sub, 1.0): 1.0, (-sub, 0.5): 0.5}),
        (sp.Min(3 * z, c * z), {(sub, 0.5): 0.5, (-sub, 0.5): 3.0, (sub, 3.0): 3.0}),
    ]:
        g = kernel(expr, grad="z")
        for (zv, cv), slope in slopes.items():
            assert g(z=np.array([zv]), c=cv)[0] == slope, (expr, zv, cv)


# -- float32 matrices near ±1e30 --------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e30, -1e30])
def test_layer_norm_in_float32_of_entries_near_1e30(scale):
    rng = np.random.default_rng(3)
    x = (rng.uniform(0.5, 1.0, (4, 1, 5)) * scale).astype(np.float32)
    gamma = np.ones((1, 5), np.float32)
    beta = np.zeros((1, 5), np.float32)
    k = kernel("transformer.layer_norm")
    got = k(x=x, gamma=gamma, beta=beta, epsilon=np.float32(1e-5))
    assert got.dtype == np.float32
    with mpmath.workdps(40):
        for row, out in zip(x.reshape(4, 5), got.reshape(4, 5), strict=True):
            v = [mpmath.mpf(float(a)) for a in row]
            mean = sum(v) / 5
            var = sum((a - mean) ** 2 for a in v) / 5
            exact = [float((a - mean) / mpmath.sqrt(var + mpmath.mpf(float(np.float32(1e-5)))))
                     for a in v]  # fmt: skip
            np.testing.assert_allclose(out, exact, rtol=1e-5)


def test_feed_forward_block_gradient_in_float32_with_weights_near_1e30():
    rng = np.random.default_rng(4)
    shapes = {"W_1": (3, 3), "b_1": (1, 3), "W_2": (3, 3), "b_2": (1, 3), "gamma_2": (1, 3)}
    shapes.update({"beta_2": (1, 3), "xp": (1, 3)})
    values = {name: rng.uniform(0.5, 1.0, shape) for name, shape in shapes.items()}
    values["W_1"] *= 1e30
    values["epsilon"] = 1e-5
    forward = kernel("transformer.block_ffn")(**values)
    values["grad_out"] = rng.uniform(0.5, 1.0, forward.shape)
    g = kernel("transformer.block_ffn", grad="W_1")
    want = g(**values)  # float64: finite
    got = g(**{n: np.asarray(v, np.float32) for n, v in values.items()})
    assert got.dtype == np.float32 and np.isfinite(want).all()
    # float32 throughout gave nan in all 9 elements (a variance of squares of 1e30s)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-35)


# -- generated names after NFKC ----------------------------------------------------------------


def test_an_argument_that_normalises_to_a_temporary_is_read_as_itself():
    x, t1 = sp.Symbol("x", real=True), sp.Symbol("𝐭𝟏", real=True)  # NFKC: t1
    k = kernel(sp.exp(x) * t1 + sp.sin(x) * t1 + x * x * t1)
    xs, ts = np.array([1.0, 2.0]), np.array([10.0, 20.0])
    want = np.exp(xs) * ts + np.sin(xs) * ts + xs * xs * ts
    np.testing.assert_allclose(k(xs, ts), want, rtol=1e-15)
    np.testing.assert_allclose(k(x=xs, **{"𝐭𝟏": ts}), want, rtol=1e-15)
    assert "def portable(x, t1_, *, axis):" in k.source


def test_two_arguments_that_are_one_python_name_are_refused():
    x, bold = sp.Symbol("x", real=True), sp.Symbol("𝐱", real=True)
    with pytest.raises(UsageError) as excinfo:
        kernel(x + 2 * bold)
    assert str(excinfo.value) == (
        "kernel 'x + 2*𝐱': arguments 'x' and '𝐱' are the same name 'x' in Python source "
        "(Unicode NFKC form, other characters as _): rename one of the symbols"
    )


# -- time bounds: powers too large to compute ----------------------------------------------------


@pytest.mark.parametrize(
    "expr, problem",
    [
        ("9**9**9**9", "9**387420489 has about 10^8 digits, past symml's limit of 100000; "
         "write it as a smaller number or keep the exponent symbolic"),
        ("z**(10**20)", "z**100000000000000000000 has an exponent past symml's limit of 10000; "
         "write it as exp(100000000000000000000*log(z)) or use a smaller power"),
    ],
)  # fmt: skip
def test_grad_of_a_power_too_large_to_compute_is_refused_at_once(capsys, expr, problem):
    # both ran for minutes (SymPy computing 370 million digits, or (7/10)**(10**20))
    assert cli(capsys, "grad", "--expr", expr, "--wrt", "z") == (
        2,
        f"symml: expression: {problem}\n",
    )


def test_parse_of_a_tower_of_powers_is_refused_at_once(capsys):
    # left unevaluated it was read, but 9^{9^{9^{9}}} + 1 then hung SymPy (issue 17)
    code = main(["parse", "9^{9^{9^{9}}}"], out=io.StringIO())
    assert code == 2
    assert capsys.readouterr().err == (
        "symml: cannot read '^{9^{9}}}' at column 4 of '9^{9^{9^{9}}}': a power that has "
        "about 10^8 digits, past symml's limit of 100000; write a smaller number\n"
    )


@pytest.mark.parametrize("backend", ["numba"])
def test_fused_backends_refuse_what_the_numpy_kernels_refuse(backend):
    pytest.importorskip(backend)
    with pytest.raises(UsageError) as shapes:
        kernel("optim.sgd", backend=backend)(W=np.ones(3), g=np.ones(4), eta=0.1)
    assert str(shapes.value).startswith(
        "kernel 'optim.sgd': arguments of shapes W (3,), g (4,), eta () do not fit together"
    )
    with pytest.raises(UsageError) as wide:
        kernel("activations.gelu", backend=backend)(np.ones(3, np.longdouble))
    assert str(wide.value).startswith("kernel 'activations.gelu': its special functions take")
