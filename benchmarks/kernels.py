"""Benchmark symml kernels against hand-written NumPy, sympy.lambdify and numexpr.

Not a test: run `python benchmarks/kernels.py [--sizes 1e6 1e7] [--repeats 7]`. Every
variant of a formula is timed in one process, interleaved (one call of each per round),
and the median of the rounds is reported with its ratio to the hand-written NumPy and the
fraction of the memory-bandwidth bound: (arrays read + written) × bytes ÷ the bandwidth of
a one-thread `c = a + b` measured in the same run. Writes benchmarks/results/kernels.json
benchmarks/results/kernels.md
(the tables of docs/kernels.md) and docs/kernels_bench.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's symml, not an older installed copy

import numpy as np  # noqa: E402
import scipy.special as sx  # noqa: E402
import sympy as sp  # noqa: E402

from symml import load_catalog  # noqa: E402
from symml.catalog.primitives import elementary, sigmoid  # noqa: E402
from symml.kernels import kernel  # noqa: E402

ROW = 1000  # row length of the axis formulas (softmax, LayerNorm)

try:
    import numexpr as ne

    ne.set_num_threads(1)
except ImportError:  # numexpr is optional: a hand-written baseline only
    ne = None
try:
    import numba
except ImportError:  # numba is optional
    numba = None
BACKENDS = ("numpy", "numba")


def _available(backend):
    return {"numba": numba}.get(backend, np) is not None


# -- hand-written NumPy, as an expert writes it (in place where it helps) ----------------------


def np_sigmoid(z):
    out = np.negative(z)
    np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def np_sigmoid_grad(z):
    s = np_sigmoid(z)
    return s * (1 - s)


def np_gelu(z):
    return 0.5 * z * (1 + sx.erf(z * 0.7071067811865476))


def np_gelu_grad(z):
    return (
        0.5 * (1 + sx.erf(z * 0.7071067811865476)) + z * np.exp(-0.5 * z * z) * 0.3989422804014327
    )


def np_softmax(z):
    e = z - z.max(axis=-1, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def np_bce(y, p):
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


def np_bce_grad(y, p):
    return (p - y) / (p * (1 - p))


def np_adam(W, g, m, v, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, t=3):
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * (g * g)
    denom = np.sqrt(v / (1 - b2**t))
    denom += eps
    W -= (lr / (1 - b1**t)) * m / denom
    return m, v, W


def np_layernorm(x, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    d = x - mu
    var = np.mean(d * d, axis=-1, keepdims=True)
    d /= np.sqrt(var + eps)
    return d


def np_lstm_h(a_f, a_i, a_g, a_o, c_prev):
    c = sx.expit(a_f) * c_prev + sx.expit(a_i) * np.tanh(a_g)
    return sx.expit(a_o) * np.tanh(c)


# -- the cases --------------------------------------------------------------------------------


def _cases():
    cat = load_catalog()
    z = sp.Symbol("z", real=True)
    cases = []

    def add(name, k, hand, natural, args, make, traffic, numexpr_text=None):
        cases.append(
            dict(
                name=name,
                kernel=k,
                hand=hand,
                natural=natural,
                args=args,
                make=make,
                traffic=traffic,
                numexpr=numexpr_text,
            )
        )

    def uniform(lo, hi):
        return lambda rng, n, dt: rng.uniform(lo, hi, size=n).astype(dt)

    normal = lambda rng, n, dt: rng.normal(size=n).astype(dt)  # noqa: E731
    sig = cat.get("activations.sigmoid")
    add("sigmoid", "activations.sigmoid", np_sigmoid, sig.expr, ["z"], [normal], 2, "1/(1+exp(-z))")
    add(
        "sigmoid'",
        ("activations.sigmoid", "z"),
        np_sigmoid_grad,
        sp.diff(sig.expr, sig.symbol("z").symbol),
        ["z"],
        [normal],
        2,
        "exp(-z)/((1+exp(-z))*(1+exp(-z)))",
    )
    gelu = cat.get("activations.gelu")
    gz = gelu.symbol("z").symbol
    add("GELU", "activations.gelu", np_gelu, elementary(gelu.expr), ["z"], [normal], 2)
    add(
        "GELU'",
        ("activations.gelu", "z"),
        np_gelu_grad,
        elementary(sp.diff(gelu.expr, gz)),
        ["z"],
        [normal],
        2,
    )
    soft = cat.get("activations.softmax")
    add("softmax (rows of 1000)", "activations.softmax", np_softmax, None, ["z_vec"], [normal], 2)
    bce = cat.get("losses.bce")
    y, p = bce.symbol("y_prob").symbol, bce.symbol("yhat_prob").symbol
    binary = lambda rng, n, dt: (rng.uniform(size=n) < 0.5).astype(dt)  # noqa: E731
    add(
        "BCE",
        "losses.bce",
        np_bce,
        bce.expr,
        ["y_prob", "yhat_prob"],
        [binary, uniform(0.01, 0.99)],
        3,
        "-(y_prob*log(yhat_prob) + (1-y_prob)*log1p(-yhat_prob))",
    )
    add(
        "BCE'",
        ("losses.bce", "yhat_prob"),
        np_bce_grad,
        sp.diff(bce.expr, p),
        ["y_prob", "yhat_prob"],
        [binary, uniform(0.01, 0.99)],
        3,
        "(yhat_prob - y_prob)/(yhat_prob*(1-yhat_prob))",
    )
    add(
        "Adam step",
        "adam",
        np_adam,
        None,
        ["W", "g", "m", "v"],
        [normal, normal, normal, uniform(0, 1)],
        7,
    )
    add("LayerNorm (rows of 1000)", "layernorm", np_layernorm, None, ["x"], [normal], 2)
    add(
        "LSTM cell h",
        "lstm",
        np_lstm_h,
        None,
        ["a_f", "a_i", "a_g", "a_o", "c_prev"],
        [normal] * 5,
        6,
        None,
    )
    del soft, y, z
    return cases


def _layernorm_expr():
    cat = load_catalog()
    norm, mean, var = (cat.get(f"layernorm.{n}") for n in ("normalize", "mean", "variance"))
    mu, s2 = norm.symbol("mu").symbol, norm.symbol("sigma_sq").symbol
    mean_expr = mean.expr
    expr = norm.expr.xreplace({s2: var.expr.xreplace({mu: mean_expr}), mu: mean_expr})
    return expr, norm


def _lstm_expr():
    names = sp.symbols("a_f a_i a_g a_o c_prev", real=True)
    a_f, a_i, a_g, a_o, c_prev = names
    c = sigmoid(a_f) * c_prev + sigmoid(a_i) * sp.tanh(a_g)
    return sigmoid(a_o) * sp.tanh(c)


def build_kernels(case, backend):
    spec = case["kernel"]
    if spec == "adam":
        return kernel("optim.adam_step", step=True, backend=backend)
    if spec == "layernorm":
        expr, norm = _layernorm_expr()
        from symml.kernels.kernel import build, plan_for

        plan = plan_for(norm.__class__(**{**norm.__dict__, "expr": expr}))
        return build(plan, None, expr, None, backend, -1)
    if spec == "lstm":
        return kernel(_lstm_expr(), backend=backend)
    if isinstance(spec, tuple):
        return kernel(spec[0], grad=spec[1], backend=backend)
    return kernel(spec, backend=backend)


def bandwidth(n, dtype, repeats):
    a = np.ones(n, dtype)
    b = np.ones(n, dtype)
    c = np.empty(n, dtype)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.add(a, b, out=c)
        times.append(time.perf_counter() - t0)
    return 3 * n * np.dtype(dtype).itemsize / statistics.median(times)


def run(sizes, repeats, dtypes, backends=BACKENDS, only=None):
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        for dtype in dtypes:
            bw = bandwidth(n, dtype, repeats)
            for case in _cases():
                if only and not any(o.lower() in case["name"].lower() for o in only):
                    continue
                data = [make(rng, n, dtype) for make in case["make"]]
                if case["name"].startswith(("softmax", "LayerNorm")):
                    data = [d.reshape(-1, ROW) for d in data]
                variants: dict[str, Callable[[], object]] = {}
                hand = case["hand"]
                if case["kernel"] == "adam":
                    state = [d.copy() for d in data]
                    variants["hand-written NumPy"] = lambda s=state, h=hand: h(
                        s[0], s[1], s[2], s[3]
                    )
                    for backend in backends:
                        if not _available(backend):
                            continue
                        k = build_kernels(case, backend)
                        st = [d.copy() for d in data]
                        variants[f"symml[{backend}]"] = lambda k=k, s=st: k(
                            W=s[0],
                            g=s[1],
                            m=s[2],
                            v=s[3],
                            eta=1e-3,
                            epsilon=1e-8,
                            beta_1=0.9,
                            beta_2=0.999,
                            t=3,
                            out=(s[2], s[3], s[0]),
                        )
                else:
                    variants["hand-written NumPy"] = lambda h=hand, d=data: h(*d)
                    for backend in backends:
                        if not _available(backend):
                            continue
                        k = build_kernels(case, backend)
                        if backend == "numba" and "nb.prange" not in k.source:
                            continue
                        kwargs = dict(zip(case["args"], data, strict=True))
                        kwargs.update({a: 1e-5 for a in k.args if a not in kwargs})  # epsilon
                        variants[f"symml[{backend}]"] = lambda k=k, kw=kwargs: k(**kw)
                    if case["natural"] is not None:
                        syms = sorted(
                            case["natural"].free_symbols, key=lambda s: case["args"].index(str(s))
                        )
                        f = sp.lambdify(syms, case["natural"], modules=["scipy", "numpy"])
                        variants["sympy.lambdify"] = lambda f=f, d=data: f(*d)
                    if case["numexpr"] and ne is not None:
                        env = dict(zip(case["args"], data, strict=True))
                        variants["numexpr (hand)"] = lambda t=case["numexpr"], e=env: ne.evaluate(
                            t, e
                        )
                times = {name: [] for name in variants}
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    for f in variants.values():  # warm-up (compiles, caches)
                        f()
                    for _ in range(repeats):
                        for name, f in variants.items():
                            t0 = time.perf_counter()
                            f()
                            times[name].append(time.perf_counter() - t0)
                base = statistics.median(times["hand-written NumPy"])
                bound = case["traffic"] * n * np.dtype(dtype).itemsize / bw
                for name, ts in times.items():
                    med = statistics.median(ts)
                    rows.append(
                        dict(
                            formula=case["name"],
                            n=n,
                            dtype=np.dtype(dtype).name,
                            variant=name,
                            seconds=med,
                            speedup_vs_hand=base / med,
                            bandwidth_fraction=bound / med,
                            bandwidth_GBps=bw / 1e9,
                        )
                    )
                    print(
                        f"{case['name']:26s} N={n:.0e} {np.dtype(dtype).name:7s} {name:20s} "
                        f"{med * 1e3:9.2f} ms  x{base / med:5.2f} vs hand  "
                        f"{100 * bound / med:5.1f}% of bound",
                        flush=True,
                    )
    return rows


def chart(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dtype = "float64" if any(r["dtype"] == "float64" for r in rows) else rows[0]["dtype"]
    chosen = [r for r in rows if r["n"] == min(r["n"] for r in rows) and r["dtype"] == dtype]
    formulas = list(dict.fromkeys(r["formula"] for r in chosen))
    variants = list(dict.fromkeys(r["variant"] for r in chosen))
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / len(variants)
    for k, v in enumerate(variants):
        xs, ys = [], []
        for i, f in enumerate(formulas):
            match = [r for r in chosen if r["formula"] == f and r["variant"] == v]
            if match:
                xs.append(i + k * width)
                ys.append(match[0]["speedup_vs_hand"])
        ax.bar(xs, ys, width, label=v)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(
        [i + 0.4 - width / 2 for i in range(len(formulas))], formulas, rotation=20, ha="right"
    )
    ax.set_ylabel("speed-up vs hand-written NumPy")
    ax.set_title(f"symml kernels, N = {chosen[0]['n']:.0e}, {dtype} (higher is faster)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def markdown(rows):
    """The docs' tables: × hand-written NumPy per backend, and Adam/BCE′ against the bound."""

    def get(formula, dtype, n, variant):
        return next(
            (
                r
                for r in rows
                if (r["formula"], r["dtype"], r["n"], r["variant"]) == (formula, dtype, n, variant)
            ),
            None,
        )

    sizes = sorted({r["n"] for r in rows})
    formulas = list(dict.fromkeys(r["formula"] for r in rows))
    dtypes = list(dict.fromkeys(r["dtype"] for r in rows))
    backends = ("symml[numpy]", "symml[numba]")
    head = ["formula", "dtype"]
    for n in sizes:
        head += [f"hand ms, {n:.0e}"] + [f"{b[6:-1]} ×, {n:.0e}" for b in backends]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for dtype in dtypes:
        for formula in formulas:
            cells = [formula, dtype]
            for n in sizes:
                hand = get(formula, dtype, n, "hand-written NumPy")
                cells.append(f"{hand['seconds'] * 1e3:.2f}" if hand else "–")
                for b in backends:
                    r = get(formula, dtype, n, b)
                    x = f"{r['speedup_vs_hand']:.2f}" if r else "–"
                    bold = r and b == "symml[numpy]" and r["speedup_vs_hand"] < 1
                    cells.append(f"**{x}**" if bold else x)
            lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for n in sizes:
        ratios = [r["speedup_vs_hand"] for r in rows if r["n"] == n and r["variant"] == backends[0]]
        if ratios:
            lines.append(
                f"numpy backend at N = {n:.0e}: median {statistics.median(ratios):.2f}×, "
                f"lowest {min(ratios):.2f}× over {len(ratios)} rows."
            )
    lines += [
        "",
        "| formula | dtype | variant | "
        + " | ".join(f"{n:.0e} ms | % of bound" for n in sizes)
        + " |",
        "|---|---|---|" + "---:|---:|" * len(sizes),
    ]
    for formula in ("Adam step", "BCE'"):
        for dtype in dtypes:
            variants = dict.fromkeys(
                r["variant"] for r in rows if r["formula"] == formula and r["dtype"] == dtype
            )
            for v in variants:
                if v == "sympy.lambdify":
                    continue
                cells = [formula, dtype, v]
                for n in sizes:
                    r = get(formula, dtype, n, v)
                    cells += (
                        [f"{r['seconds'] * 1e3:.2f}", f"{100 * r['bandwidth_fraction']:.0f} %"]
                        if r
                        else ["–", "–"]
                    )
                lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _commit():
    """The checkout's commit, with "+changes" when the code differs from it (the results
    and charts an earlier run rewrote do not count)."""
    import subprocess

    def git(*args):
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return None
    changed = git(
        "status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks/results", ":!docs"
    )
    return head + ("+changes" if changed else "")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--only", nargs="+", help="formulas whose name contains one of these")
    parser.add_argument(
        "--name",
        default="kernels",
        help="results/NAME.json, results/NAME.md and docs/NAME_bench.png (e.g. small_arrays "
        "for a run at --sizes 100 1e4, which measures the call overhead)",
    )
    args = parser.parse_args()
    rows = run(
        [int(s) for s in args.sizes],
        args.repeats,
        [np.dtype(d) for d in args.dtypes],
        args.backends,
        args.only,
    )
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor() or platform.machine(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.machine()
    )
    machine = dict(
        platform=platform.platform(),
        cpu=cpu,
        nproc=os.cpu_count(),
        python=platform.python_version(),
        numpy=np.__version__,
        scipy=sx.__name__ and __import__("scipy").__version__,
        numexpr=ne.__version__ if ne else None,
        numba=numba.__version__ if numba else None,
        command="python " + " ".join(sys.argv),
        commit=_commit(),
    )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps(dict(machine=machine, rows=rows), indent=1))
    (out / f"{args.name}.md").write_text(markdown(rows))
    chart(rows, ROOT / "docs" / f"{args.name}_bench.png")


if __name__ == "__main__":
    main()
