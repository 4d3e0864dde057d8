"""Source generation: a plan as the Python source of its bodies (compiled by the backend).

The portable body is whole-array expressions on the backend's namespace (NumPy, Dask, JAX,
CuPy); the in-place body, for NumPy arrays of one shape, reuses temporaries and may write
into the caller's out= buffers. Arguments get code names safe in Python source.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from typing import Any

import sympy as sp

from symml.errors import UsageError
from symml.kernels.lower import AXIS_LEN
from symml.kernels.plan import Plan
from symml.kernels.printer import FULL, SCALAR, InPlaceEmitter, KernelPrinter

#: Names the generated bodies read (the namespaces, the axis, the out= buffers): an argument
#: of one of these names is renamed.
RESERVED = {"xp", "sx", "rt", "np", "axis", "n_axis", "out", "outs"}
#: The generated bodies' own names: temporaries t1, t2 … and common subexpressions _c0 ….
GENERATED = re.compile(r"t\d+|_c\d+")


def code_name(name: str) -> str:
    """The name an argument has in the generated source. Python reads identifiers in NFKC
    form (``𝐭𝟏`` is ``t1``), so the check against the generated names (``t1``, ``_c0``) and
    the reserved ones is made on the normalised name, and the normalised name is written."""
    normal = unicodedata.normalize("NFKC", name)
    safe = "".join(c if c.isalnum() or c == "_" else "_" for c in normal)
    if (
        keyword.iskeyword(safe)
        or safe in RESERVED
        or GENERATED.fullmatch(safe)
        or not safe.isidentifier()
    ):
        safe += "_"
    return safe


def check_code_names(plan: Plan) -> None:
    """Two arguments that are one name in the source (``𝐱`` and ``x`` under NFKC, ``a-b`` and
    ``a_b``) are refused: the body could only read one of them."""
    seen: dict[str, str] = {}
    for a in plan.args:
        code = code_name(a)
        if code in seen:
            raise UsageError(
                f"kernel '{plan.name}': arguments '{seen[code]}' and '{a}' are the same name "
                f"'{code}' in Python source (Unicode NFKC form, other characters as _): "
                "rename one of the symbols"
            )
        seen[code] = a


def code_names(plan: Plan) -> dict[Any, str]:
    """The name each symbol of the plan's outputs has in the generated source: arguments and
    sizes by their code names, the axis length as ``n_axis``."""
    names: dict[Any, str] = {AXIS_LEN: "n_axis"}
    sized = {n for n, _ in plan.sizes}
    by_name = {a: code_name(a) for a in plan.args}
    for expr in plan.outputs:
        if isinstance(expr, sp.Basic):
            for s in expr.free_symbols:
                if s != AXIS_LEN and str(s) in by_name:
                    names[s] = by_name[str(s)]
                elif str(s) in sized:
                    names[s] = code_name(str(s))
    return names


def _header(plan: Plan, kind: str) -> list[str]:
    params = ", ".join(code_name(a) for a in plan.args)
    extra = "outs" if kind == "fast" else ""
    signature = f"def {kind}({params}, *, axis{', ' + extra if extra else ''}):"
    lines = [signature]
    if any(isinstance(e, sp.Basic) and e.has(AXIS_LEN) for e in plan.outputs):
        lines.append(f"    n_axis = {code_name(plan.axis_source)}.shape[axis]")
    for size, code in plan.sizes:
        lines.append(
            f"    {code_name(size)} = {code_name(code.split('.')[0])}.{code.split('.', 1)[1]}"
        )
    return lines


def _cse(plan: Plan) -> tuple[list[tuple[Any, Any]], list[Any]]:
    symbols = sp.numbered_symbols("_c", real=True)
    exprs = [e if isinstance(e, sp.Basic) else sp.sympify(e) for e in plan.outputs]
    return sp.cse(exprs, symbols=symbols, order="none")


def portable_source(plan: Plan) -> str:
    """The portable body: whole-array expressions on ``xp``, for every backend and array."""
    names = code_names(plan)
    printer = KernelPrinter(names)
    replacements, reduced = _cse(plan)
    lines = _header(plan, "portable")
    for sym, expr in replacements:
        names[sym] = str(sym)
        lines.append(f"    {sym} = {printer.doprint(expr)}")
    results = ", ".join(printer.doprint(e) for e in reduced)
    lines.append(f"    return ({results},)")
    return "\n".join(lines) + "\n"


def fast_source(
    plan: Plan, arrays: tuple[bool, ...], outs: tuple[int | None, ...] | None = None
) -> str:
    """The in-place body for this mask of array arguments. ``outs`` (see ``out_layout``)
    compiles it for the caller's out= buffers: per output None (none given), −1 (apart from
    every input) or the index of the input argument it is."""
    names = code_names(plan)
    classes = {
        code_name(a): (FULL if is_array else SCALAR)
        for a, is_array in zip(plan.args, arrays, strict=True)
    }
    classes["n_axis"] = SCALAR
    emitter = InPlaceEmitter(classes, names)
    replacements, reduced = _cse(plan)
    for sym, expr in replacements:
        emitter.define(sym, expr)
    results = [emitter.operand(e) for e in reduced]
    # Reduced outputs are squeezed afterwards, so only full ones write into the caller's out.
    out_names, targets, given = [], [], []
    for n, (text, cls, _) in enumerate(results):
        if cls == FULL and text.startswith("t") and text not in targets:
            targets.append(text)
            out_names.append(f"outs[{n}]")
            layout = None if outs is None else outs[n]
            given.append(
                None if layout is None else "" if layout < 0 else code_name(plan.args[layout])
            )
    emitter.allocate(targets, out_names, None if outs is None else given)
    lines = _header(plan, "fast")
    lines += [f"    {line}" for line in emitter.lines()]
    lines.append(f"    return ({', '.join(r[0] for r in results)},)")
    return "\n".join(lines) + "\n"
