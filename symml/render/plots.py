"""Figures of catalog formulas, drawn with matplotlib (Agg) from the catalog's own expressions.

Every curve is ``sympy.lambdify`` of a catalog expression (primitives rewritten to elementary
functions), with the other parameters fixed at their ``SymbolSpec.typical`` value or, where the
catalog gives none, at a conventional value from ``DEFAULTS``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402
from sympy.stats.rv import RandomSymbol  # noqa: E402

from symml import calculus
from symml.catalog import primitives as functions  # noqa: E402
from symml.catalog.loader import Catalog  # noqa: E402
from symml.catalog.model import Formula  # noqa: E402
from symml.errors import SymmlError, UsageError  # noqa: E402
from symml.render.latex import latex

# Parameter values where the catalog records no typical value (conventional defaults).
DEFAULTS: dict[str, float] = {
    "alpha": 0.25,
    "gamma": 2.0,
    "delta": 1.0,
    "eta_0": 0.1,
    "eta_max": 0.1,
    "eta_min": 0.005,
    "lambda": 0.03,
    "k": 30.0,
    "T": 100.0,
    "t_warmup": 10.0,
    "t_total": 100.0,
    "y": 0.0,
    "y_prob": 1.0,
    "y_label": 1.0,
    "y_sign": 1.0,
    "m": 1.0,
    "margin": 1.0,
}

# Where a section uses a letter differently (γ is a decay factor in the schedules).
SECTION_DEFAULTS: dict[str, dict[str, float]] = {"schedules": {"gamma": 0.5}}

STYLE = {
    "figure.figsize": (3.4, 2.1),
    "font.size": 7,
    "axes.titlesize": 8,
    "axes.labelsize": 7,
    "legend.fontsize": 6,
    "lines.linewidth": 1.2,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


class PlotError(SymmlError, ValueError):
    """A formula that cannot be drawn as a curve of one variable."""

    def __init__(self, formula_id: str, problem: str) -> None:
        self.formula_id = formula_id
        self.problem = problem
        super().__init__(
            f"formula '{formula_id}' cannot be plotted: {problem}; `symml plot` draws scalar "
            "formulas of one variable"
        )


_NUMERIC = [
    {"erf": np.vectorize(math.erf), "Heaviside": lambda x, *_: np.heaviside(x, 0.5)},
    "numpy",
]


def numeric(expr: Any, var: sp.Symbol) -> Callable[[np.ndarray], np.ndarray]:
    """A NumPy function of ``var`` for a scalar expression (primitives made elementary)."""
    body = functions.elementary(expr)
    fn = sp.lambdify(var, body, modules=_NUMERIC)

    def call(x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(fn(x), dtype=float), x.shape)

    return call


def value_of(formula: Formula, name: str) -> float | None:
    for spec in formula.symbols:
        if spec.name == name and spec.typical is not None:
            return float(spec.typical)
    return SECTION_DEFAULTS.get(formula.section, {}).get(name, DEFAULTS.get(name))


@dataclass(frozen=True)
class Curve:
    """One scalar formula as a function of one variable, over a range."""

    formula: Formula
    var: sp.Symbol
    expr: Any
    lo: float
    hi: float


def curve(formula: Formula, var_name: str | None = None) -> Curve:
    """The formula as a function of its one free variable (others at typical values)."""
    expr = formula.expr
    if not isinstance(expr, sp.Expr) or isinstance(expr, sp.MatrixExpr):
        raise PlotError(formula.id, "it is not a scalar expression")
    if expr.atoms(sp.Indexed, RandomSymbol) or expr.has(sp.Sum):
        raise PlotError(formula.id, "it sums over an indexed family or has random symbols")
    if expr.atoms(sp.core.function.AppliedUndef):
        raise PlotError(formula.id, "it uses an unspecified function")
    free = sorted(expr.free_symbols, key=lambda s: s.name)
    if var_name is None:
        candidates = [s for s in free if value_of(formula, s.name) is None]
        if len(candidates) != 1:
            names = ", ".join(s.name for s in candidates) or "none"
            raise PlotError(formula.id, f"it has {len(candidates)} free variables ({names})")
        var = candidates[0]
    else:
        var = next((s for s in free if s.name == var_name), None)
        if var is None:
            raise PlotError(formula.id, f"it has no variable '{var_name}'")
    fixed = {s: value_of(formula, s.name) for s in free if s != var}
    unset = [s.name for s, v in fixed.items() if v is None]
    if unset:
        raise PlotError(
            formula.id,
            f"{', '.join(unset)} {'has' if len(unset) == 1 else 'have'} no typical value to "
            f"hold {'it' if len(unset) == 1 else 'them'} at while '{var.name}' varies",
        )
    expr = expr.subs(fixed)
    spec = next((s for s in formula.symbols if s.symbol == var), None)
    lo, hi = _range(spec)
    return Curve(formula, var, expr, lo, hi)


def _range(spec: Any) -> tuple[float, float]:
    if spec is None:
        return (-4.0, 4.0)
    domain = spec.domain
    lo = float(domain.lo) if domain.lo.is_finite else None
    hi = float(domain.hi) if domain.hi.is_finite else None
    if lo is not None and hi is not None:
        pad = 1e-3 * (hi - lo)
        return (lo + pad, hi - pad)
    if lo is not None:
        return (lo + (1e-2 if domain.lo_open else 0.0), lo + 100.0 if spec.name == "t" else 5.0)
    return (-4.0, 4.0)


def _axes(title: str, xlabel: str, ylabel: str) -> tuple[Any, Any]:
    fig, ax = plt.subplots()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig, ax


def _mathname(symbol: sp.Symbol) -> str:

    return f"${latex(symbol)}$"


def plot_formula(
    formula: Formula, path: Path, var_name: str | None = None, *, dpi: float | None = None
) -> Path:
    """The formula and its first derivative over a sensible range, saved to ``path``.

    ``dpi`` sets the resolution of a raster (.png) figure; matplotlib's default is 100.
    """
    c = curve(formula, var_name)
    x = np.linspace(c.lo, c.hi, 600)
    with plt.rc_context(STYLE):
        fig, ax = _axes(formula.name, _mathname(c.var), "value")
        ax.plot(x, numeric(c.expr, c.var)(x), label="f")
        # A step schedule's floor has derivative 0 between its jumps, as for its kernels.
        derivative = calculus.scalar_derivative(c.expr, c.var, flat_steps=True)
        ax.plot(x, numeric(derivative, c.var)(x), "--", label=f"df/d{_mathname(c.var)}")
        ax.legend()
        return _save(fig, path, dpi=dpi)


def _save(fig: Any, path: Path, *, dpi: float | None = None) -> Path:
    """The figure written to ``path`` (its folder made); a path that cannot be written is
    one line naming it, not an OSError from matplotlib."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.tight_layout()
        fig.savefig(path, dpi=dpi if dpi is not None else "figure")
    except OSError as exc:
        culprit = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
        raise UsageError(
            f"cannot write {path}: {exc.strerror}{culprit}; pick a writable path"
        ) from None
    finally:
        plt.close(fig)
    return path


def _multi(
    catalog: Catalog,
    ids: Sequence[str],
    path: Path,
    title: str,
    ylabel: str,
    with_derivative: bool,
) -> Path | None:
    present = [catalog.get(i) for i in ids if i in catalog]
    if not present:
        return None
    with plt.rc_context(STYLE):
        fig, ax = _axes(title, "", ylabel)
        xlabel = ""
        for formula in present:
            c = curve(formula)
            x = np.linspace(c.lo, c.hi, 600)
            (line,) = ax.plot(x, numeric(c.expr, c.var)(x), label=formula.name)
            if with_derivative:
                d = numeric(calculus.scalar_derivative(c.expr, c.var), c.var)(x)
                ax.plot(x, d, "--", color=line.get_color(), linewidth=0.8)
            xlabel = _mathname(c.var)
        ax.set_xlabel(xlabel + ("   (dashed: derivative)" if with_derivative else ""))
        ax.legend()
        return _save(fig, path)


ACTIVATIONS = (
    "activations.sigmoid",
    "activations.tanh",
    "activations.relu",
    "activations.leaky_relu",
    "activations.gelu",
)
SCHEDULES = ("schedules.step", "schedules.exponential", "schedules.cosine", "schedules.warmup")
CLASSIFICATION = ("losses.bce", "losses.focal", "losses.hinge")


def activations(catalog: Catalog, path: Path) -> Path | None:
    return _multi(catalog, ACTIVATIONS, path, "Activations and derivatives", "value", True)


def schedules(catalog: Catalog, path: Path) -> Path | None:
    figure = _multi(catalog, SCHEDULES, path, "Learning-rate schedules", r"$\eta(t)$", False)
    return figure


def regression_losses(catalog: Catalog, path: Path) -> Path | None:
    """Squared, absolute and Huber loss of one sample with y = 0, over the prediction."""
    yhat = sp.Symbol("yhat")
    with plt.rc_context(STYLE):
        fig, ax = _axes(r"Regression losses ($y = 0$)", r"prediction $\hat{y}$", "loss")
        x = np.linspace(-3, 3, 600)
        ax.plot(x, numeric(yhat**2, yhat)(x), label="squared (MSE term)")
        ax.plot(x, numeric(sp.Abs(yhat), yhat)(x), label="absolute (MAE term)")
        if "losses.huber" in catalog:
            c = curve(catalog.get("losses.huber"))
            ax.plot(x, numeric(c.expr, c.var)(x), label=r"Huber ($\delta = 1$)")
        ax.legend()
        return _save(fig, path)


def classification_losses(catalog: Catalog, path: Path) -> Path | None:
    """BCE and focal loss of the true class (y = 1) over ŷ; hinge over the score."""
    present = [catalog.get(i) for i in CLASSIFICATION if i in catalog]
    if not present:
        return None
    with plt.rc_context(STYLE):
        fig, ax = _axes(
            r"Classification losses ($y = 1$)", r"predicted probability / score $\hat{y}$", "loss"
        )
        for formula in present:
            c = curve(formula)
            lo, hi = (0.005, 0.995) if c.lo >= 0 else (-1.0, 2.0)
            x = np.linspace(lo, hi, 600)
            ax.plot(x, numeric(c.expr, c.var)(x), label=formula.name)
        ax.set_ylim(0, 4)
        ax.legend()
        return _save(fig, path)


def softmax_temperature(catalog: Catalog, path: Path) -> Path | None:
    """Softmax of the logits (2, 1, 0.1) as the temperature T varies."""
    if "activations.softmax_temperature" not in catalog:
        return None
    formula = catalog.get("activations.softmax_temperature")
    logits = (2.0, 1.0, 0.1)
    T = next(s.symbol for s in formula.symbols if s.name == "T")
    base = next(s.symbol for s in formula.symbols if s.kind == "indexed")
    i = next(s.symbol for s in formula.symbols if s.name == "i")
    k = next(s.symbol for s in formula.symbols if s.name == "k")
    temps = np.geomspace(0.1, 10, 400)
    with plt.rc_context(STYLE):
        fig, ax = _axes("Softmax with temperature", r"temperature $T$", "probability")
        for position, z in enumerate(logits, 1):
            expr = formula.expr.subs({i: position, k: len(logits)}).doit()
            expr = expr.xreplace(
                {
                    a: logits[int(a.indices[0]) - 1]
                    for a in expr.atoms(sp.Indexed)
                    if str(a.base) == str(base)
                }
            )
            ax.plot(temps, numeric(expr, T)(temps), label=f"$z_{position} = {z:g}$")
        ax.set_xscale("log")
        ax.legend()
        return _save(fig, path)


# (file stem, figure function, part the figure belongs to)
SHEET_FIGURES: tuple[tuple[str, Callable[[Catalog, Path], Path | None], int], ...] = (
    ("activations", activations, 1),
    ("softmax-temperature", softmax_temperature, 1),
    ("regression-losses", regression_losses, 2),
    ("classification-losses", classification_losses, 2),
    ("schedules", schedules, 12),
)


def sheet_figures(
    catalog: Catalog,
    folder: Path,
    parts: Sequence[int],
    suffix: str = ".pdf",
    dpi: float | None = None,
) -> dict[int, list[Path]]:
    """Draw the sheet's figures for the chosen parts; {part: [paths]}. ``dpi``: the resolution
    of raster figures (.png; 300 prints sharply), default matplotlib's figure dpi."""
    drawn: dict[int, list[Path]] = {}
    for stem, draw, part in SHEET_FIGURES:
        if part not in parts:
            continue
        with plt.rc_context({"figure.dpi": dpi} if dpi is not None else {}):
            path = draw(catalog, Path(folder) / f"{stem}{suffix}")
        if path is not None:
            drawn.setdefault(part, []).append(path)
    return drawn
