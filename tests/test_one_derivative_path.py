"""One derivative path (issue 14, item 1): every derivative symml computes goes through
``symml.calculus``. A source scan keeps ``sympy.diff`` / ``expr.diff`` out of every other
module; the small API those modules call is tested here against hand-derived values."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from symml import calculus
from symml.calculus import reverse
from symml.errors import DerivationError

PACKAGE = Path(__file__).resolve().parent.parent / "symml"
CALCULUS = PACKAGE / "calculus"
NUMPY_NAMES = {"np", "numpy"}
# Modules symml.calculus must not import: they call it (imports run one way).
CALLERS = (
    "symml.kernels",
    "symml.engine.derive",
    "symml.engine.derivative_check",
    "symml.render.plots",
)


def diff_calls(source: str) -> list[tuple[int, str]]:
    """(line, call) of every ``diff(...)`` / ``x.diff(...)`` whose receiver is not numpy."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "diff":
            found.append((node.lineno, "diff(...)"))
        elif isinstance(func, ast.Attribute) and func.attr == "diff":
            receiver = func.value
            if isinstance(receiver, ast.Name) and receiver.id in NUMPY_NAMES:
                continue
            found.append((node.lineno, f"{ast.unparse(receiver)}.diff(...)"))
    return found


def _outside_calculus() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if CALCULUS not in p.parents]


def test_the_scan_sees_every_spelling_of_a_derivative_call():
    source = "import numpy as np\nsp.diff(f, x)\nf.diff(x)\n(a + b).diff(x)\ndiff(f)\nnp.diff(v)\n"
    assert diff_calls(source) == [
        (2, "sp.diff(...)"),
        (3, "f.diff(...)"),
        (4, "a + b.diff(...)"),
        (5, "diff(...)"),
    ]


def test_no_module_outside_calculus_differentiates():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {call}"
        for path in _outside_calculus()
        for line, call in diff_calls(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "call symml.calculus instead:\n" + "\n".join(offenders)


def test_calculus_does_not_import_its_callers():
    imported = []
    for path in sorted(CALCULUS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            imported += [f"{path.name}: {n}" for n in names if n.startswith(CALLERS)]
    assert imported == []


x, y = sp.symbols("x y", real=True)
n = sp.Symbol("n", integer=True, positive=True)
X = sp.MatrixSymbol("X", n, n)


def test_scalar_derivative_is_ordinary_calculus():
    assert calculus.scalar_derivative(sp.sin(x) * y, x) == sp.cos(x) * y
    assert calculus.scalar_derivative(x**3, x, 2) == 6 * x


@pytest.mark.parametrize(
    ("expr", "wrt", "culprit", "role"),
    [
        (X * x, x, "x*X", "the expression"),
        (sp.Trace(X), X, "X", "the variable"),
    ],
)
def test_scalar_derivative_refuses_a_matrix_expression(expr, wrt, culprit, role):
    with pytest.raises(DerivationError) as caught:
        calculus.scalar_derivative(expr, wrt)
    assert str(caught.value) == (
        f"{culprit}: {role} is a matrix expression; scalar calculus does not apply "
        "(use symml.calculus.matrix_derivative or vector_jacobian_product)"
    )


A2, B2 = sp.MatrixSymbol("A", 2, 2), sp.MatrixSymbol("B", 2, 2)


@pytest.mark.parametrize(
    ("expr", "wrt", "culprit"),
    [
        (sp.log(sp.Determinant(x * X)), x, "Determinant(x*X)"),
        (sp.Trace(A2 * B2) + 1, A2[0, 0], "Trace(A*B)"),
        (sp.Inverse(X)[0, 1], X[0, 0], "(X**(-1))[0, 1]"),
    ],
)
def test_an_unexpanded_matrix_operation_is_not_differentiated_as_a_constant(expr, wrt, culprit):
    with pytest.raises(DerivationError) as caught:
        calculus.scalar_derivative(expr, wrt)
    assert str(caught.value) == (
        f"{culprit}: an unexpanded matrix operation depends on {wrt}; write it out "
        "element-wise first (symml.calculus.expanded) or use matrix_derivative"
    )


def test_elements_of_a_written_out_matrix_are_scalars():
    written = calculus.expanded(sp.Trace(A2 * B2), {})
    assert calculus.scalar_derivative(written, A2[0, 1]) == B2[1, 0]
    assert calculus.scalar_derivative(sp.Determinant(X) * x, x) == sp.Determinant(X)


def test_a_step_schedule_is_flat_between_its_jumps():
    schedule = y * sp.floor(x / 10)
    assert calculus.scalar_derivative(schedule, x).has(sp.Derivative)
    assert calculus.scalar_derivative(schedule, x, flat_steps=True) == 0


def test_deltas_of_a_family_derivative_are_summed_out():
    v, i, w = sp.IndexedBase("v"), sp.Symbol("i", integer=True), sp.Symbol("w", integer=True)
    total = sp.Sum(v[i] ** 2, (i, 1, n))
    raw = calculus.scalar_derivative(total, v[w])
    assert raw.has(sp.KroneckerDelta)
    assert calculus.scalar_derivative(total, v[w], deltas=True) == 2 * v[w]


def test_derivatives_done_evaluates_scalar_derivatives_and_leaves_matrix_ones():
    written = sp.Derivative(sp.sin(x) ** 2, x) + 1
    assert calculus.derivatives_done(written) == 2 * sp.sin(x) * sp.cos(x) + 1
    t = sp.Symbol("t")
    matrix_one = sp.Derivative(t * X, t)
    assert calculus.derivatives_done(matrix_one) == matrix_one


def test_elementwise_gradient_and_jacobian_follow_the_layout():
    a, b = sp.symbols("a b")
    wrt = sp.Matrix([[a, b]])
    assert calculus.elementwise_gradient(a**2 * b, wrt) == sp.Matrix([[2 * a * b, a**2]])
    jac = calculus.elementwise_jacobian(sp.Matrix([a * b, a + b, b]), sp.Matrix([a, b]))
    assert jac == sp.Matrix([[b, a], [1, 1], [0, 1]])


W = sp.MatrixSymbol("W", n, 3)
v3, b_n = sp.MatrixSymbol("v", 3, 1), sp.MatrixSymbol("b", n, 1)
G = sp.MatrixSymbol("G", n, 1)


def test_reverse_vjp_of_a_linear_layer():
    assert reverse.reverse_vjp(W * v3 + b_n, W, G) == G * sp.Transpose(v3)
    assert reverse.reverse_vjp(W * v3 + b_n, b_n, G) == G
    assert reverse.reverse_vjp(W * v3 + b_n, sp.MatrixSymbol("Z", 2, 2), G) is None


def test_reverse_vjp_slope_hook_rewrites_only_the_element_wise_derivative():
    z = sp.Dummy("z")
    layer = ElementwiseApplyFunction(sp.Lambda(z, sp.Max(0, z)), W * v3)
    marked = sp.Function("step")
    value = reverse.reverse_vjp(
        layer, W, G, slope=lambda body: body.replace(sp.Heaviside, lambda u, *_: marked(u))
    )
    assert value.has(marked) and not value.has(sp.Heaviside)


def test_a_wrong_reverse_rule_is_caught_by_the_guard(monkeypatch):
    def transpose_dropped(e, g, walk):
        return walk(e.arg, g)

    monkeypatch.setitem(reverse.RULES, sp.Transpose, transpose_dropped)
    A = sp.MatrixSymbol("A", n, n)
    with pytest.raises(DerivationError, match="disagrees with elementwise differentiation"):
        reverse.reverse_vjp(sp.Transpose(A) * sp.MatrixSymbol("u", n, 1), A, G)


def test_reverse_vjp_refuses_an_operation_without_a_rule():
    with pytest.raises(DerivationError) as caught:
        reverse.reverse_vjp(sp.Inverse(X) * b_n, X, G)
    assert str(caught.value) == "X**(-1): no reverse-mode rule: the matrix operation Inverse"


def test_family_vjp_sums_the_upstream_against_each_element():
    z, g = sp.IndexedBase("z"), sp.IndexedBase("g")
    i, p = sp.Symbol("i", integer=True), sp.Symbol("p", integer=True, positive=True)
    softplus = sp.log(1 + sp.exp(z[i]))
    value = calculus.family_vjp(softplus, i, n, z[p], g)
    assert sp.simplify(value - g[p] * sp.exp(z[p]) / (1 + sp.exp(z[p]))) == 0
