"""An optimizer update of a user's notes matched to a reference by ROLE, not by name.

Notes write Adam as ``m, v, m̂, v̂, W`` or ``v, s, v̂, ŝ, x`` or ``m_t = β₁m_{t-1} + …``;
the references of ``symml.engine.algorithms`` name their roles ``m, v, mhat, vhat, W, g, eta,
beta_1, …``. Here the block's steps are put in one form (time indices ``x_t``/``x_{t-1}``
or ``x_{t+1}``/``x_t`` taken off, the gradient ∇J(θ), ∂L/∂W, g_t made the role g), and every
injective assignment of the block's names to the reference's roles is tried on numbers:

- one that agrees with a variant of the reference is the reading (then checked symbolically);
- none agreeing, the block is not that algorithm under ANY naming: with the algorithm
  named by the notes' heading, it is refuted (on the most plausible naming, for the witness);
- a block that lacks a state the reference keeps (momentum without its velocity) is not
  compared with it at all: it may be a different algorithm shown for contrast.

Conventions in use besides the catalog's (momentum with η inside the velocity, or as an
exponential average) are variants here, so that a correct update in them is not refuted.
"""

from __future__ import annotations

import cmath
import itertools
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from symml.catalog.domains import natural, nonnegative, positive, real, unit_open
from symml.catalog.model import Domain, SymbolSpec
from symml.engine import algorithms

GRADIENT_FUNCTION = "grad_L"  # ∇L(…) evaluated elsewhere than at the parameter (Nesterov)
# The roles of the references and their domains, as the catalog declares them
# (derivations/p04_optimization.py), so notes are checked on the same values.
ROLE_DOMAINS: dict[str, Domain] = {
    "W": real,
    "g": real,
    "eta": positive,
    "beta": unit_open,
    "beta_1": unit_open,
    "beta_2": unit_open,
    "epsilon": positive,
    "lambda": positive,
    "v_mom": real,
    "v": nonnegative,
    "m": real,
    "mhat": real,
    "vhat": nonnegative,
    "G": nonnegative,
    "t": natural,
}
# names notes give each role: only to choose the naming a refutation is shown in
HINTS: dict[str, tuple[str, ...]] = {
    "W": ("W", "w", "theta", "x", "params"),
    "eta": ("eta", "alpha", "lr", "gamma"),
    "beta": ("beta", "gamma", "mu", "rho"),
    "beta_1": ("beta_1", "beta1", "b_1"),
    "beta_2": ("beta_2", "beta2", "b_2"),
    "epsilon": ("epsilon", "varepsilon", "eps", "delta"),
    "lambda": ("lambda", "wd"),
    "v_mom": ("v", "m", "b", "z", "u"),
    "v": ("v", "s", "u", "r"),
    "m": ("m", "v"),
    "mhat": ("mhat", "vhat"),
    "vhat": ("vhat", "shat"),
    "G": ("G", "s", "v", "r", "E", "n", "h"),
    "t": ("t", "k"),
}
STATE_FREE_ROLES = ("W", "g", "t", GRADIENT_FUNCTION)
TIME_INDEX = re.compile(r"^(?P<base>.+?)_\(?(?P<index>[tk])(?P<shift>[+-]1)?\)?$")
GRADIENT_NAMES = frozenset({"g", "grad", "gradient"})
MAX_TARGETS = 6  # more targets than any reference keeps (Adam: 4 besides W): not matched


def spec(role: str) -> SymbolSpec:
    if role == GRADIENT_FUNCTION:
        return SymbolSpec(role, sp.Function(role, real=True), "function", real)
    domain = ROLE_DOMAINS[role]
    return SymbolSpec(role, sp.Symbol(role, **domain.assumptions()), "scalar", domain)


def role(name: str) -> Any:
    return spec(name).symbol


# -- variants in use besides the catalog's -----------------------------------------------------
def _momentum_eta_inside(s: Callable[[str], Any]) -> tuple[tuple[str, Any], ...]:
    v = s("beta") * s("v_mom") + s("eta") * s("g")
    return (("v_mom", v), ("W", s("W") - v))


def _momentum_average(s: Callable[[str], Any]) -> tuple[tuple[str, Any], ...]:
    v = s("beta") * s("v_mom") + (1 - s("beta")) * s("g")
    return (("v_mom", v), ("W", s("W") - s("eta") * v))


def _momentum_descent_velocity(s: Callable[[str], Any]) -> tuple[tuple[str, Any], ...]:
    v = s("beta") * s("v_mom") - s("eta") * s("g")
    return (("v_mom", v), ("W", s("W") + v))


def _nesterov_descent_velocity(s: Callable[[str], Any]) -> tuple[tuple[str, Any], ...]:
    v = s("beta") * s("v_mom") - s("eta") * s(GRADIENT_FUNCTION)(s("W") + s("beta") * s("v_mom"))
    return (("v_mom", v), ("W", s("W") + v))


def _nesterov_torch(s: Callable[[str], Any]) -> tuple[tuple[str, Any], ...]:
    v = s("beta") * s("v_mom") + s("g")
    return (("v_mom", v), ("W", s("W") - s("eta") * (s("g") + s("beta") * v)))


def _adam_eps_inside(s: Callable[[str], Any]) -> tuple[tuple[str, Any], ...]:
    m = s("beta_1") * s("m") + (1 - s("beta_1")) * s("g")
    v = s("beta_2") * s("v") + (1 - s("beta_2")) * s("g") ** 2
    mhat = m / (1 - s("beta_1") ** s("t"))
    vhat = v / (1 - s("beta_2") ** s("t"))
    W = s("W") - s("eta") * mhat / sp.sqrt(vhat + s("epsilon"))
    return (("m", m), ("v", v), ("mhat", mhat), ("vhat", vhat), ("W", W))


CONVENTIONS: dict[str, tuple[algorithms.Variant, ...]] = {
    "momentum": (
        algorithms.Variant("v ← βv + ηg; W ← W − v", _momentum_eta_inside, "η inside the velocity"),
        algorithms.Variant(
            "v ← βv + (1 − β)g; W ← W − ηv",
            _momentum_average,
            "the velocity as an exponential average of the gradients",
        ),
        algorithms.Variant(
            "v ← βv − ηg; W ← W + v", _momentum_descent_velocity, "a descent velocity"
        ),
    ),
    "nesterov": (
        algorithms.Variant(
            "v ← βv − η∇L(W + βv); W ← W + v",
            _nesterov_descent_velocity,
            "a descent velocity (Sutskever 2013, as written in many notes)",
        ),
        algorithms.Variant(
            "torch.optim.SGD(nesterov=True): v ← βv + g; W ← W − η(g + βv)",
            _nesterov_torch,
            "the gradient at W, and the look-ahead taken in the step (PyTorch's form)",
        ),
    ),
    "adam": (
        algorithms.Variant(
            "ε inside the root: W ← W − η·m̂/√(v̂ + ε)",
            _adam_eps_inside,
            "ε inside the square root; torch.optim.Adam and the paper divide by √v̂ + ε",
        ),
    ),
}


def variants(algorithm: str) -> tuple[algorithms.Variant, ...]:
    return (*algorithms.REFERENCES[algorithm], *CONVENTIONS.get(algorithm, ()))


# -- the block in one form ----------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    """A block's steps over plain names: targets in order, the parameter last."""

    steps: tuple[tuple[sp.Symbol, Any], ...]
    parameter: sp.Symbol
    origin: tuple[int, ...] = ()  # the input line of each step (-1: taken from another block)

    @property
    def targets(self) -> tuple[sp.Symbol, ...]:
        return tuple(dict.fromkeys(t for t, _ in self.steps))

    def states(self) -> set[sp.Symbol]:
        """Targets whose own earlier value their update reads (a recurrence)."""
        found = set()
        assigned: set[sp.Symbol] = set()
        for target, value in self.steps:
            if target not in assigned and value.has(target):
                found.add(target)
            assigned.add(target)
        return found - {self.parameter}

    def scalars(self) -> set[sp.Symbol]:
        names = set(self.targets) | {role("g")}
        free = set().union(*(sp.sympify(v).free_symbols for _, v in self.steps))
        return {s for s in free if s not in names}


class Unreadable(ValueError):
    """The block cannot be put in one form; the message says why."""


def _plain(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def normalize(steps: Iterable[tuple[Any, Any]], gradients: dict[Any, Any]) -> Block:
    """Steps as read (``x_t``, ``x_{t-1}``, gradient symbols) in one form. ``gradients``:
    the gradient symbols of the readings (∂L/∂W) taken with respect to the parameter."""
    steps = list(steps)
    if not steps or not all(isinstance(t, sp.Symbol) for t, _ in steps):
        raise Unreadable("an update assigns names, not expressions")
    parsed = {t: TIME_INDEX.match(t.name) for t, _ in steps}
    shifts = {m["shift"] for m in parsed.values() if m is not None}
    new_shift = "+1" if "+1" in shifts else None  # x_{t+1} = x_t − …: old values at t
    old_shift = None if new_shift else "-1"
    bases = {t: (m["base"] if m is not None else t.name) for t, m in parsed.items()}
    target_bases = set(bases.values())
    parameter = _plain(bases[steps[-1][0]])

    def plain(symbol: Any) -> Any:
        match = TIME_INDEX.match(symbol.name)
        if match is None:
            return _plain(symbol.name)
        if match["base"] in target_bases and match["shift"] not in (new_shift, old_shift):
            raise Unreadable(f"{symbol} is neither the new nor the previous value")
        return _plain(match["base"])

    def previous(symbol: Any) -> bool:
        match = TIME_INDEX.match(symbol.name)
        return match is not None and match["base"] in target_bases and match["shift"] == old_shift

    out: list[tuple[sp.Symbol, Any]] = []
    origin: list[int] = []
    assigned: set[str] = set()
    gradient_names: set[str] = set()
    for number, (target, value) in enumerate(steps):
        value = sp.sympify(value)
        value = value.xreplace({s: role("g") for s in value.free_symbols if s in gradients})
        for symbol in value.free_symbols:
            base = plain(symbol).name
            if previous(symbol) and base in assigned:
                raise Unreadable(f"{symbol} is read after {base} was updated")
            if not previous(symbol) and base in target_bases - assigned - {bases[target]}:
                if TIME_INDEX.match(symbol.name) is not None:
                    raise Unreadable(f"{symbol} is read before it is assigned")
        value = value.xreplace({s: plain(s) for s in value.free_symbols if s != role("g")})
        name = bases[target]
        if _is_gradient(value, parameter):
            gradient_names.add(name)
            continue
        out.append((_plain(name), value))
        origin.append(number)
        assigned.add(name)
    if not out:
        raise Unreadable("the block only names the gradient")
    g = role("g")
    kept = {t.name for t, _ in out}
    # g_t, grad and the names a line set to the gradient are the gradient, unless updated
    gradient_like = [
        s
        for _, v in out
        for s in sp.sympify(v).free_symbols
        if s.name not in kept
        and (s.name in gradient_names or s.name.split("_")[0] in GRADIENT_NAMES)
    ]
    final = []
    for target, value in out:
        value = value.xreplace({s: g for s in gradient_like})
        value = value.replace(
            lambda e: (
                isinstance(e, AppliedUndef)
                and e.func.__name__ == GRADIENT_FUNCTION
                and e.args == (parameter,)
            ),
            lambda e: g,
        )
        value = value.replace(
            lambda e: isinstance(e, sp.Derivative) and e.variables == (parameter,), lambda e: g
        )
        final.append((target, value))
    if final[-1][0] != parameter:
        raise Unreadable("the last assignment is not the parameter's")
    if not sp.sympify(final[-1][1]).has(parameter):
        # m̂ = m/(1 − β₁ᵗ) last: the step of the parameter (W ← W − …) is not in the block
        raise Unreadable(f"the block ends with {parameter}, which is not a step of the parameter")
    return Block(tuple(final), parameter, tuple(origin))


def _is_gradient(value: Any, parameter: sp.Symbol) -> bool:
    """g_t = ∇J(θ_{t-1}), g = ∂L/∂W: a line that names the gradient, not a step."""
    if value == role("g"):
        return True
    if isinstance(value, sp.Derivative) and value.variables == (parameter,):
        return True
    return (
        isinstance(value, AppliedUndef)
        and value.func.__name__ == GRADIENT_FUNCTION
        and value.args == (parameter,)
    )


# -- matching by role ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Naming:
    """The block's names as the reference's roles, and the variant they agree with."""

    names: dict[sp.Symbol, Any]  # block symbol -> role symbol (targets and scalars)
    variant: algorithms.Variant | None  # None: no variant agrees under any naming
    zero: tuple[str, ...] = ()  # roles the block leaves out, taken as 0 (ε)

    def steps(self, block: Block) -> tuple[tuple[Any, Any], ...]:
        zero = {role(r): 0 for r in self.zero}
        return tuple(
            (self.names.get(t, t), sp.sympify(v).xreplace(self.names).xreplace(zero))
            for t, v in block.steps
        )

    def describe(self) -> str:
        pairs = sorted((str(k), str(v)) for k, v in self.names.items() if str(k) != str(v))
        return ", ".join(f"{k} as {v}" for k, v in pairs)


def _roles_of(variant: algorithms.Variant) -> tuple[list[str], list[str]]:
    """The targets of a variant and the scalar roles it reads."""
    used: list[str] = []

    def s(name: str) -> Any:
        if name not in used:
            used.append(name)
        return spec(name).symbol

    targets = [t for t, _ in variant.steps(s)]
    scalars = [r for r in used if r not in targets and r not in STATE_FREE_ROLES]
    return targets, scalars


def _states_of(variant: algorithms.Variant) -> set[str]:
    steps = variant.steps(role)
    return {t for t, v in steps if t != "W" and sp.sympify(v).has(role(t))}


def namings(algorithm: str, block: Block) -> Iterable[tuple[dict[sp.Symbol, Any], tuple[str, ...]]]:
    """Every naming of the block's targets and scalars by the algorithm's roles under which
    the block keeps every state the reference keeps; the roles left out (only ε may be)."""
    targets, scalars = set(), set()
    states: set[str] = set()
    for variant in variants(algorithm):
        t, s = _roles_of(variant)
        targets |= set(t) - {"W"}
        scalars |= set(s)
        states |= _states_of(variant)
    others = [t for t in block.targets if t != block.parameter]
    block_states = block.states()
    free = sorted(block.scalars() - {_plain("t"), _plain("k")}, key=str)
    time = [s for s in block.scalars() if s.name in ("t", "k")]
    if len(free) > len(scalars) or len(others) > MAX_TARGETS:
        return
    pool = [*sorted(targets), *[None] * len(others)]
    for chosen in dict.fromkeys(itertools.permutations(pool, len(others))):
        naming = dict(zip(others, chosen, strict=True))
        if any(naming[s] not in states for s in block_states):
            continue  # a state the reference does not keep: another algorithm
        if any(naming[s] in states for s in others if s not in block_states):
            continue  # a step that does not read its own old value is not a state
        if not states <= {r for r in naming.values() if r}:
            continue  # the block lacks a state the reference keeps
        if len({r for r in chosen if r}) != len([r for r in chosen if r]):
            continue
        names: dict[sp.Symbol, Any] = {block.parameter: role("W")}
        names |= {s: role(r) for s, r in naming.items() if r}
        names |= {s: _plain(f"{s.name}_step") for s, r in naming.items() if r is None}
        names |= {s: role("t") for s in time}
        for picked in itertools.permutations(sorted(scalars), len(free)):
            left_out = tuple(sorted(set(scalars) - set(picked)))
            if set(left_out) - {"epsilon"}:
                missing = tuple(r for r in left_out if r != "epsilon")
                yield names | {s: role(r) for s, r in zip(free, picked, strict=True)}, missing
            else:
                yield names | {s: role(r) for s, r in zip(free, picked, strict=True)}, left_out


def _sample(seed: int) -> dict[Any, Any]:
    rng = random.Random(seed)
    values: dict[Any, Any] = {}
    for name, domain in ROLE_DOMAINS.items():
        symbol = role(name)
        if domain is natural:
            values[symbol] = sp.Integer(rng.randint(1, 6))
        elif domain is unit_open:
            values[symbol] = sp.Float(rng.uniform(0.05, 0.95))
        elif domain in (positive, nonnegative):
            values[symbol] = sp.Float(rng.uniform(0.1, 2.0))
        else:
            values[symbol] = sp.Float(rng.uniform(-2.0, 2.0))
    return values


def _gradient_value(x: complex) -> complex:
    """grad_L(x) as a fixed smooth function, so two steps calling it compare on numbers."""
    return cmath.sin(3 * x) + x**2 / 2


MODULES = [{GRADIENT_FUNCTION: _gradient_value}, "cmath"]
SEEDS = (1, 2)


class _Numbers:
    """A block's steps compiled once, run on numbers under any naming."""

    def __init__(self, block: Block) -> None:
        free = set().union(*(sp.sympify(v).free_symbols for _, v in block.steps))
        self.symbols = sorted(free | set(block.targets), key=str)
        try:
            self.functions = [
                sp.lambdify(self.symbols, sp.sympify(v), modules=MODULES) for _, v in block.steps
            ]
        except Exception as exc:  # a function numbers cannot run here (Σ, Max, …)
            raise Unreadable(
                f"the update is not compared on numbers ({type(exc).__name__})"
            ) from None
        self.targets = [t for t, _ in block.steps]
        self.points = {seed: _sample(seed) for seed in SEEDS}

    def values(self, naming: Naming, seed: int) -> dict[Any, complex]:
        point = self.points[seed]
        return {s: complex(point.get(naming.names.get(s, s), 0.0)) for s in self.symbols}

    def run(self, naming: Naming, seed: int, reference: dict[str, complex] | None = None):
        """Each step's value in order; with ``reference``, each step on its own (the
        targets above it take the reference's values)."""
        env = self.values(naming, seed)
        out = []
        for target, function in zip(self.targets, self.functions, strict=True):
            try:
                value = complex(function(*(env[s] for s in self.symbols)))
            except Exception:  # noqa: BLE001 - any failure is "no number", never a verdict
                value = complex("nan")
            out.append(value)
            role_name = str(naming.names.get(target, target))
            if reference is not None and role_name in reference:
                env[target] = reference[role_name]
            else:
                env[target] = value
        return out


_REFERENCES: dict[tuple[str, str, tuple[str, ...], int], dict[str, complex]] = {}


def _reference_numbers(variant: algorithms.Variant, zero: tuple[str, ...], seed: int):
    key = (variant.name, variant.convention, zero, seed)
    if key not in _REFERENCES:
        point = _sample(seed) | {role(r): 0 for r in zero}
        values = {}
        for name, value in algorithms.run(variant.steps(role)).items():
            function = sp.lambdify(list(point), sp.sympify(value), modules=MODULES)
            try:
                values[name] = complex(function(*(complex(v) for v in point.values())))
            except Exception:  # noqa: BLE001 - any failure is "no number"
                values[name] = complex("nan")
        _REFERENCES[key] = values
    return _REFERENCES[key]


def _close(a: complex, b: complex) -> bool:
    return abs(a - b) <= 1e-9 * (1 + abs(b))


def match(algorithm: str, block: Block) -> tuple[Naming, bool] | None:
    """The naming under which the block is the algorithm (and True), or the most plausible
    naming when none is (and False); None when no naming keeps the reference's states."""
    numbers = _Numbers(block)
    best: tuple[int, Naming] | None = None
    for names, left_out in namings(algorithm, block):
        missing = tuple(r for r in left_out if r != "epsilon")
        naming = Naming(names, None, tuple(r for r in left_out if r == "epsilon"))
        if not missing:
            for variant in variants(algorithm):
                if _agrees_on_numbers(numbers, naming, variant):
                    return Naming(names, variant, naming.zero), True
        score = _plausibility(names)
        if best is None or score > best[0]:
            best = (score, naming)
    return (best[1], False) if best is not None else None


def _agrees_on_numbers(numbers: _Numbers, naming: Naming, variant: algorithms.Variant) -> bool:
    for seed in SEEDS:
        reference = _reference_numbers(variant, naming.zero, seed)
        final: dict[str, complex] = {}
        for target, value in zip(numbers.targets, numbers.run(naming, seed), strict=True):
            final[str(naming.names.get(target, target))] = value
        shared = [k for k in reference if k in final]
        if "W" not in shared or not all(_close(final[k], reference[k]) for k in shared):
            return False
    return True


def _plausibility(names: dict[sp.Symbol, Any]) -> int:
    score = 0
    for symbol, target in names.items():
        hints = HINTS.get(str(target), ())
        if symbol.name in hints:
            score += len(hints) - hints.index(symbol.name) + 1
    return score


def reference_states(algorithm: str) -> set[str]:
    return set().union(*(_states_of(v) for v in variants(algorithm)))


# -- which line is wrong --------------------------------------------------------------------
def local_steps(
    block: Block, naming: Naming, variant: algorithms.Variant
) -> list[tuple[int, Any, Any]]:
    """Each step on its own: its value with the REFERENCE's values for the steps above it
    (so a line is not blamed for a slip above it), and the reference's value for its target
    (None for an intermediate the reference has no name for)."""
    zero = {role(r): 0 for r in naming.zero}
    reference = {
        k: sp.sympify(v).xreplace(zero) for k, v in algorithms.run(variant.steps(role)).items()
    }
    env: dict[Any, Any] = {}
    found = []
    for k, (target, value) in enumerate(naming.steps(block)):
        local = sp.sympify(value).xreplace(env)
        expected = reference.get(str(target))
        env[target] = expected if expected is not None else local
        found.append((k, local, expected))
    return found


def failing_steps(
    algorithm: str, block: Block, naming: Naming, numbers: _Numbers | None = None
) -> set[int]:
    """The steps that agree with no variant of the reference, each taken on its own (the
    steps above it with the reference's values)."""
    numbers = numbers or _Numbers(block)
    passing: set[int] = set()
    judged: set[int] = set()
    for variant in variants(algorithm):
        agree: dict[int, bool] = {}
        for seed in SEEDS:
            reference = _reference_numbers(variant, naming.zero, seed)
            local = numbers.run(naming, seed, reference)
            for k, target in enumerate(numbers.targets):
                expected = reference.get(str(naming.names.get(target, target)))
                if expected is None or cmath.isnan(local[k]) or cmath.isnan(expected):
                    continue  # no number is no judgement: the line is not blamed on it
                agree[k] = agree.get(k, True) and _close(local[k], expected)
        judged |= set(agree)
        passing |= {k for k, ok in agree.items() if ok}
    return judged - passing


def blame(algorithm: str, block: Block) -> tuple[Naming, set[int]] | None:
    """For a block that is not the algorithm under any naming: the namings under which the
    fewest steps are wrong, and the steps wrong under every one of them (empty when which
    step is wrong depends on the naming)."""
    best: list[tuple[Naming, set[int]]] = []
    best_key: tuple[int, int] | None = None
    numbers = _Numbers(block)
    for names, left_out in namings(algorithm, block):
        naming = Naming(names, None, tuple(r for r in left_out if r == "epsilon"))
        failing = failing_steps(algorithm, block, naming, numbers)
        # fewest wrong lines, then the fewest lines read as intermediates
        key = (len(failing), sum(1 for r in names.values() if str(r).endswith("_step")))
        if best_key is None or key < best_key:
            best, best_key = [(naming, failing)], key
        elif key == best_key:
            best.append((naming, failing))
    if not best:
        return None
    common = set.intersection(*(f for _, f in best))
    return best[0][0], common


def reference_scalars(algorithm: str) -> set[str]:
    return set().union(*(set(_roles_of(v)[1]) for v in variants(algorithm)))
