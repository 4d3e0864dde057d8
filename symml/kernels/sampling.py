"""Sampling kernels: a formula with random quantities (an initialiser, dropout, the VAE and
diffusion noise) as ``sampler(rng, shape, **parameters)``.

Each random symbol is drawn from the distribution the catalog records (its
``sympy.stats`` distribution, parameters evaluated from the formula's symbols), in the
requested dtype and with the caller's ``numpy.random.Generator``; the formula is then an
ordinary kernel of the draws. init.he's ``N(0, √(2/n_in))`` is read, like sympy.stats and
the catalog's Notation claim, with the second argument as the standard deviation.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp
from sympy.stats import Expectation
from sympy.stats.crv_types import NormalDistribution, UniformDistribution
from sympy.stats.frv_types import BernoulliDistribution
from sympy.stats.rv import RandomSymbol, pspace

from symml.catalog.model import Formula
from symml.errors import UsageError
from symml.kernels.errors import NotKernelisable
from symml.kernels.plan import why_not

#: Makes the kernel of an expression (``kernel.kernel``); a kernel has ``args`` and takes
#: them by name.
MakeKernel = Callable[[sp.Basic], Any]

Draw = Callable[[np.random.Generator, tuple[int, ...], np.dtype, list[Any]], Any]


def _normal(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype, p: list[Any]):
    mean, std = p
    x = rng.standard_normal(shape, dtype=dtype)
    x *= std
    x += mean
    return x


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype, p: list[Any]):
    lo, hi = p
    x = rng.random(shape, dtype=dtype)
    x *= hi - lo
    x += lo
    return x


def _bernoulli(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype, p: list[Any]):
    prob, success, failure = p
    return np.where(rng.random(shape, dtype=dtype) < prob, success, failure).astype(dtype)


@dataclass(frozen=True)
class Distribution:
    """How to draw one sympy.stats distribution: the generator call, as source and code."""

    kind: type
    text: str  # the draw as it reads in a sampler's source
    draw: Draw


DISTRIBUTIONS: tuple[Distribution, ...] = (
    Distribution(NormalDistribution, "({1}) * rng.standard_normal(shape, dtype) + ({0})", _normal),
    Distribution(UniformDistribution, "({0}) + ({1} - ({0})) * rng.random(shape, dtype)", _uniform),
    Distribution(
        BernoulliDistribution, "where(rng.random(shape, dtype) < ({0}), {1}, {2})", _bernoulli
    ),
)


@dataclass(frozen=True)
class RandomDraw:
    """One random symbol of the formula, its distribution and its parameters' kernels."""

    name: str
    distribution: Distribution
    params: tuple[Any, ...]  # SymPy expressions of the formula's symbols
    evaluate: tuple[Callable[[Mapping[str, Any]], Any], ...]


@dataclass(frozen=True)
class Sampler:
    """A compiled random formula: ``sampler(rng, shape, *, dtype=None, out=None, **params)``.

    ``shape`` defaults to the broadcast shape of the array parameters; ``dtype`` to their
    floating dtype (float64 when there are none). ``rng`` must be a NumPy Generator, so a
    fixed seed reproduces every draw.
    """

    name: str
    args: tuple[str, ...]
    outputs: tuple[str, ...]
    source: str
    formula: Formula | None
    expr: Any
    draws: tuple[RandomDraw, ...]
    backend: str = "numpy"
    _value: Callable[[Mapping[str, Any]], Any] = field(repr=False, default=None)

    def __call__(
        self,
        rng: np.random.Generator,
        shape: int | Sequence[int] | None = None,
        *,
        dtype: Any = None,
        out: Any = None,
        **params: Any,
    ) -> Any:
        if not isinstance(rng, np.random.Generator):
            raise UsageError(
                f"sampler '{self.name}' needs rng=numpy.random.default_rng(seed), "
                f"got {type(rng).__name__}"
            )
        unknown = sorted(set(params) - set(self.args))
        if unknown:
            raise UsageError(
                f"sampler '{self.name}' has no argument '{unknown[0]}'; "
                f"it takes {', '.join(self.args) or 'no parameters'}"
            )
        missing = [a for a in self.args if a not in params]
        if missing:
            raise UsageError(f"sampler '{self.name}' is missing {', '.join(missing)}")
        values = {k: self._real(k, v) for k, v in params.items()}
        self._check_domains(values)
        arrays = [v for v in values.values() if np.ndim(v) > 0]
        if dtype is None:
            dtype = np.result_type(*arrays) if arrays else np.dtype(np.float64)
        requested = dtype
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            dtype = None
        if dtype not in (np.float32, np.float64):
            # NumPy's Generator draws float32 and float64 only.
            raise UsageError(
                f"sampler '{self.name}': dtype must be float32 or float64, "
                f"not {dtype if dtype is not None else repr(requested)}"
            )
        if shape is None:
            if not arrays:
                raise UsageError(f"sampler '{self.name}' needs shape= (no array parameter)")
            try:
                shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
            except ValueError:
                given = ", ".join(f"{k} {np.shape(v)}" for k, v in values.items() if np.ndim(v))
                raise UsageError(
                    f"sampler '{self.name}': parameters of shapes {given} do not broadcast "
                    "together: pass arrays that do"
                ) from None
        shape = self._shape(shape)
        for k, v in values.items():
            if np.ndim(v) and not _fits(np.shape(v), shape):
                raise UsageError(
                    f"sampler '{self.name}': '{k}' has shape {np.shape(v)}, which does not "
                    f"broadcast to the sample's shape {shape}: pass shape= that it fits"
                )
        if out is not None:
            _check_out(self.name, out, shape)
        values = {k: v.astype(dtype) if np.ndim(v) else dtype.type(v) for k, v in values.items()}
        try:
            for d in self.draws:
                p = [_cast(e(values), dtype) for e in d.evaluate]
                values[d.name] = d.distribution.draw(rng, shape, dtype, p)
        except MemoryError:
            size = float(np.prod([float(n) for n in shape])) * dtype.itemsize
            raise UsageError(
                f"sampler '{self.name}': a sample of shape {shape} in {dtype} takes "
                f"{size:.3g} bytes, more than this machine can allocate: pass a smaller shape"
            ) from None
        result = self._value(values)
        result = np.asarray(result).astype(dtype, copy=False)
        if result.shape != shape:
            result = np.broadcast_to(result, shape).copy()
        if out is not None:
            out[...] = result
            return out
        return result

    def _shape(self, shape: Any) -> tuple[int, ...]:
        """The sample's shape as integers; a fractional or negative size is refused, not
        rounded down."""
        refusal = UsageError(
            f"sampler '{self.name}': shape {shape!r} is not a shape: pass whole numbers ≥ 0, "
            "e.g. shape=(3, 4)"
        )
        try:
            sizes = [shape] if np.ndim(shape) == 0 else list(shape)
        except (TypeError, ValueError):
            raise refusal from None
        for size in sizes:
            if isinstance(size, bool | str | bytes) or not isinstance(size, numbers.Real):
                raise refusal
            if not math.isfinite(size) or not float(size).is_integer() or size < 0:
                raise refusal
        if math.prod(int(size) for size in sizes) > MAX_ELEMENTS:
            raise UsageError(
                f"sampler '{self.name}': shape {shape!r} has more than {MAX_ELEMENTS:.0e} "
                "elements, which NumPy cannot index: pass a smaller shape"
            )
        return tuple(int(size) for size in sizes)

    def _real(self, name: str, value: Any) -> Any:
        """A parameter as float64 (an array, or a float for a 0-d value), or a refusal naming
        it: a string, None, a complex number, a ragged list."""
        try:
            return _as_float(value)
        except (TypeError, ValueError):
            pass
        what = f"an array of {value.dtype}" if hasattr(value, "dtype") else type(value).__name__
        raise UsageError(
            f"sampler '{self.name}': {name} is {what}, not a real number: pass a number or "
            "an array of them"
        )

    def _check_domains(self, values: Mapping[str, Any]) -> None:
        """Parameters outside their declared domains (n_in = 0, a probability 1.5, σ < 0)
        would give inf, nan or a biased sample: refused, naming the value and the domain."""
        if self.formula is None:
            return
        specs = {spec.name: spec for spec in self.formula.symbols}
        for name, value in values.items():
            spec = specs.get(name)
            if spec is None:
                continue
            bad = _outside(spec.domain, value)
            if bad is not None:
                raise UsageError(
                    f"sampler '{self.name}': {name} = {bad:g} is outside its domain "
                    f"{_describe(spec.domain)}: pass values in it"
                )


def _outside(domain: Any, value: Any) -> float | None:
    """The first element of value outside the domain (nan included), or None."""
    a = np.asarray(value, dtype=np.float64)
    bad = np.isnan(a)
    if domain.values:
        bad |= ~np.isin(a, [float(w) for w in domain.values])
    else:
        lo, hi = float(domain.lo), float(domain.hi)
        bad |= (a <= lo) if domain.lo_open else (a < lo)
        bad |= (a >= hi) if domain.hi_open else (a > hi)
        if domain.integer:
            bad |= np.isfinite(a) & (a != np.round(a))
    return float(a[bad].flat[0]) if bad.any() else None


def _describe(domain: Any) -> str:
    if domain.values:
        return "{" + ", ".join(str(w) for w in domain.values) + "}"
    lo = "(" if domain.lo_open else "["
    hi = ")" if domain.hi_open else "]"
    ends = f"{lo}{sp.sstr(domain.lo)}, {sp.sstr(domain.hi)}{hi}".replace("oo", "∞")
    named = (
        ends if domain.name.replace(" ", "") == ends.replace(" ", "") else f"'{domain.name}' {ends}"
    )
    return named + (", whole numbers" if domain.integer else "")


def _check_out(name: str, out: Any, shape: tuple[int, ...]) -> None:
    """The kernels' out= checks: a sample written into an integer buffer would be cut down
    to integers, and one into a larger buffer repeated along the extra axes."""
    where = f"sampler '{name}': out="
    if not isinstance(out, np.ndarray):
        raise UsageError(f"{where} is a {type(out).__name__}; pass a NumPy array (or no out=)")
    if not out.flags.writeable:
        raise UsageError(f"{where} is read-only; pass a writable array (or no out=)")
    if out.dtype.kind != "f":
        raise UsageError(
            f"{where} has dtype {out.dtype}; the sample is floats: pass a float32 or float64 "
            "array (or no out=)"
        )
    if out.shape != shape:
        raise UsageError(
            f"{where} has shape {out.shape}; the sample's shape is {shape}: pass an array of "
            "that shape (or no out=)"
        )


#: The most elements NumPy can put in one array (its index type is a signed 64-bit integer).
MAX_ELEMENTS = 2**62


def _fits(small: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(small, shape) == shape
    except ValueError:
        return False


def _as_float(v: Any) -> Any:
    """A real value as a float array (integers become float64), or a float when it is 0-d. Anything else (a string,
    None, complex values, a ragged list) raises TypeError or ValueError."""
    a = np.asarray(v)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"not a real number: {a.dtype}")
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    return a if a.ndim else float(a)


def _cast(v: Any, dtype: np.dtype) -> Any:
    return np.asarray(v).astype(dtype) if np.ndim(v) else dtype.type(v)


def _evaluator(expr: Any, make_kernel: MakeKernel) -> Callable[[Mapping[str, Any]], Any]:
    """An expression of the parameters as a function of the value dict (a kernel when it has
    symbols, else a constant)."""
    if not expr.free_symbols:
        value = float(expr)
        return lambda values: value
    k = make_kernel(expr)
    return lambda values: k(**{a: values[a] for a in k.args})


def random_symbols(expr: Any) -> list[RandomSymbol]:
    return sorted(expr.atoms(RandomSymbol), key=str) if isinstance(expr, sp.Basic) else []


def sampler(formula: Formula | sp.Basic, make_kernel: MakeKernel) -> Sampler:
    """The sampling kernel of a formula whose expression holds random symbols. ``make_kernel``
    makes the kernel of an expression without them (``kernel.kernel``): the formula's value
    once its random symbols are drawn, and their distributions' parameters."""
    f = formula if isinstance(formula, Formula) else None
    expr = f.expr if f else formula
    name = f.id if f else sp.sstr(expr)[:40]
    if expr.has(Expectation):  # an expectation is not a draw: the kernel's own reason
        raise NotKernelisable(why_not(expr), f.id if f else None)
    draws, plain = [], {}
    for r in random_symbols(expr):
        dist = pspace(r).distribution
        rule = next((d for d in DISTRIBUTIONS if isinstance(dist, d.kind)), None)
        if rule is None:
            raise NotKernelisable(f"no sampler for a {type(dist).__name__}", f.id if f else None)
        params = tuple(sp.sympify(a) for a in dist.args)
        draws.append(
            RandomDraw(
                str(r.symbol), rule, params, tuple(_evaluator(p, make_kernel) for p in params)
            )
        )
        plain[r] = sp.Symbol(str(r.symbol), real=True)
    value = expr.xreplace(plain)
    reason = why_not(value)
    if reason:
        raise NotKernelisable(reason, f.id if f else None)
    drawn = {d.name for d in draws}
    used = {str(s) for s in value.free_symbols} | {
        str(s) for d in draws for p in d.params for s in p.free_symbols
    }
    used -= drawn
    order = [s.name for s in f.symbols if s.name in used] if f else []
    args = tuple(order + sorted(used - set(order)))
    if isinstance(value, sp.Symbol) and str(value) in drawn:
        compute: Callable[[Mapping[str, Any]], Any] = lambda values: values[str(value)]  # noqa: E731
        body = f"    return {value}"
    else:
        k = make_kernel(value)
        compute = lambda values: k(**{a: values[a] for a in k.args})  # noqa: E731
        body = f"    return {sp.sstr(value)}"
    lines = [
        f"def sample(rng, shape, dtype, {', '.join(args)}):"
        if args
        else "def sample(rng, shape, dtype):"
    ]
    for d in draws:
        text = d.distribution.text.format(*(sp.sstr(p) for p in d.params))
        lines.append(f"    {d.name} = {text}  # {type(pspace_of(expr, d.name)).__name__}")
    lines.append(body)
    output = (
        str(f.lhs)
        if f is not None and f.lhs is not None
        else (draws[0].name if len(draws) == 1 else "value")
    )
    return Sampler(
        name,
        args,
        (output,),
        "\n".join(lines) + "\n",
        f,
        expr,
        tuple(draws),
        "numpy",
        compute,
    )


def pspace_of(expr: Any, name: str) -> Any:
    r = next(r for r in random_symbols(expr) if str(r.symbol) == name)
    return pspace(r).distribution
