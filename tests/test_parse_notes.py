"""The LaTeX reader on what ML notes write (issue 17): the silent misreads it no longer makes,
the constructs it reads, and what it refuses, each with the exact text."""

from __future__ import annotations

import time

import pytest
import sympy as sp

from symml.catalog.primitives import Phi, gelu, relu, sigmoid
from symml.read import (
    LatexParseError,
    SymbolTable,
    read_latex,
    read_statements,
    shape_declarations,
    split_statements,
)

R = {"real": True}
x, t, w, z, theta, eta, lam, a = sp.symbols("x t w z theta eta lambda a", **R)
eta_0 = sp.Symbol("eta_0", **R)
g, J, eta_f, p, a_f = (sp.Function(n, **R) for n in ("g", "J", "eta", "p", "a"))
nr = sp.Symbol("n", **R)


def expr(latex: str) -> sp.Basic:
    return read_latex(latex).expr


def refusal(latex: str) -> str:
    with pytest.raises(LatexParseError) as info:
        read_latex(latex)
    return f"{info.value.problem}; {info.value.hint}"


# -- silent misreads ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        (r"\frac{dg}{dx}(x)", sp.Derivative(g(x), x)),
        (r"\frac{d^2 g}{dx^2}(x)", sp.Derivative(g(x), (x, 2))),
        (r"\frac{dg}{dx}(a)", sp.Subs(sp.Derivative(g(x), x), x, a)),
        (r"\frac{\partial J}{\partial w}(w)", sp.Derivative(J(w), w)),
        (r"\frac{d}{dx}(x^2)", sp.Derivative(x**2, x)),  # the operator form is unchanged
    ],
)
def test_a_derivative_followed_by_parentheses_is_its_value_there(latex, expected):
    assert expr(latex) == expected


def test_a_derivative_followed_by_a_compound_bracket_is_refused():
    assert refusal(r"\frac{dg}{dx}(2x)") == (
        "a derivative followed by '(…)': its value there, or a product?; "
        r"write g'(2x) for its value at 2x, or \frac{dg}{dx} \cdot (…) for a product"
    )


def test_a_call_on_the_left_of_equals_defines_a_function():
    reading = read_latex(r"\eta(t) = \eta_0 e^{-\lambda t}")
    assert reading.expr == sp.Eq(eta_f(t), eta_0 * sp.exp(-lam * t))
    assert reading.defines == "eta"
    assert reading.functions == ("eta",)


@pytest.mark.parametrize(
    ("latex", "defines", "lhs"),
    [
        (r"p(x) = e^{-x}", "p", p(x)),
        (r"f(x) = x^2", "f", sp.Function("f", **R)(x)),
        (r"\eta_0(t) := 1/t", "eta_0", sp.Function("eta_0", **R)(t)),
        (r"g(x, t) = x t", "g", g(x, t)),
    ],
)
def test_definitions_name_the_function_they_define(latex, defines, lhs):
    reading = read_latex(latex)
    assert (reading.defines, reading.expr.lhs) == (defines, lhs)


def test_a_product_on_the_left_of_equals_stays_a_product():
    b, c = sp.symbols("b c", **R)
    reading = read_latex(r"a(b+c) = ab + ac")
    assert (reading.expr, reading.defines) == (sp.Eq(a * (b + c), a * b + a * c), None)


def test_nabla_of_a_call_is_the_gradient_at_the_argument():
    reading = read_latex(r"\theta \leftarrow \theta - \eta \nabla_\theta J(\theta)")
    assert reading.relation == ":="
    assert reading.expr == sp.Eq(theta, theta - eta * sp.Derivative(J(theta), theta))


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        ("1e-3", sp.Rational(1, 1000)),
        ("1e-6", sp.Rational(1, 10**6)),
        ("2.5e3", sp.Integer(2500)),
        ("10^{-3}", sp.Rational(1, 1000)),
        ("e^{-3}", sp.exp(-3)),
        (r"x \cdot 1e-3", x / 1000),
        (r"\frac12 x", x / 2),  # TeX takes one digit as an unbraced argument
        (r"\frac1n", 1 / sp.Symbol("n", **R)),
    ],
)
def test_numbers_are_read_as_written(latex, expected):
    assert expr(latex) == expected


def test_scientific_notation_is_noted():
    notes = read_latex("1e-3").notes
    assert "1e-3 read in scientific notation as 1·10^-3" in notes


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        ("x^23", "'^23': TeX puts only '2' in the superscript; write ^{23}, or ^{2} 3 for what "
         "TeX shows"),
        ("x_12", "'_12': TeX puts only '1' in the subscript; write _{12}, or _{1} 2 for what "
         "TeX shows"),
        ("x^2^3", "a double superscript (TeX refuses it); brace the power you mean: {x^{2}}^{3} "
         "or x^{2^{3}}"),
        ("2^3^4", "a double superscript (TeX refuses it); brace the power you mean: {x^{2}}^{3} "
         "or x^{2^{3}}"),
        ("x^{2}^{3}", "a double superscript (TeX refuses it); brace the power you mean: "
         "{x^{2}}^{3} or x^{2^{3}}"),
    ],
)  # fmt: skip
def test_scripts_tex_reads_otherwise_are_refused(latex, expected):
    assert refusal(latex) == expected


# -- size and time --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        ("2^{2^{40}}", "a power that has about 10^11 digits, past symml's limit of 100000"),
        ("10^{-999999999}", "a power that has about 10^8 digits, past symml's limit of 100000"),
        ("10^{-999999999} + 1", "a power that has about 10^8 digits, past symml's limit of "
         "100000"),
        ("2.5e-999999999", "a power that has about 10^8 digits, past symml's limit of 100000"),
        ("x^{2^{40}}", "a power that has an exponent past symml's limit of 10000"),
    ],
)  # fmt: skip
def test_huge_powers_are_refused_before_they_are_computed(latex, expected):
    started = time.monotonic()
    assert refusal(latex) == f"{expected}; write a smaller number"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(("opener", "closer"), [("{", "}"), ("(", ")"), (r"\frac{1}{", "}")])
def test_thirty_levels_of_nesting_are_read(opener, closer):
    latex = opener * 30 + "x" + closer * 30
    started = time.monotonic()
    reading = read_latex(latex)
    assert time.monotonic() - started < 5  # was exponential: 13 levels 14 s, 20 never ended
    assert reading.expr == x
    assert any("nested" in n and "not cross-checked" in n for n in reading.notes)


# -- several claims in one display ----------------------------------------------------------


@pytest.mark.parametrize(
    ("latex", "claims"),
    [
        ("a = b = c", ["a = b", "b = c"]),
        (r"a = b \leq c", ["a = b", r"b \leq c"]),
        ("0 < x < 1", ["0 < x < 1"]),  # one way: one claim, both at once
        (r"A = 1 \; \text{and} \; B = 1", ["A = 1", "B = 1"]),
        (r"A = 1 \text{ and } B = 1", ["A = 1", "B = 1"]),
        (r"x = 1,\quad y = 2", ["x = 1", "y = 2"]),
        (r"x^2 \geq 0 \quad \text{for all } x", [r"x^2 \geq 0"]),
        (
            r"\begin{aligned} v_t &= \beta v_{t-1} + g_t \\ "
            r"\theta_t &= \theta_{t-1} - \eta v_t \end{aligned}",
            [r"v_t = \beta v_{t-1} + g_t", r"\theta_t = \theta_{t-1} - \eta v_t"],
        ),
        (
            r"\begin{align*} f(x) &= (x+1)^2 \\ &= x^2 + 2x + 1 \label{eq:sq} \end{align*}",
            ["f(x) = (x+1)^2", "(x+1)^2 = x^2 + 2x + 1"],
        ),
        (r"\begin{gather} a = 1 \\[2pt] b = 2 \nonumber \end{gather}", ["a = 1", "b = 2"]),
        (r"\begin{split} L &= a \\ &\quad + b \end{split}", ["L = a + b"]),
        (
            r"\begin{equation}\begin{split} y &= x \\ &= 1 \end{split}\end{equation}",
            ["y = x", "x = 1"],
        ),
        (
            r"A = \begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}",
            [r"A = \begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}"],
        ),
        (
            r"f(z) = \begin{cases} z, & z > 0 \\ 0, & \text{otherwise} \end{cases}",
            [r"f(z) = \begin{cases} z, & z > 0 \\ 0, & \text{otherwise} \end{cases}"],
        ),
    ],
)
def test_a_display_is_cut_into_its_claims(latex, claims):
    assert [s.text for s in split_statements(latex)] == claims


def test_rows_are_numbered():
    latex = r"\begin{aligned} a &= b \\ &= c \\ d &= e \end{aligned}"
    assert [(s.text, s.row) for s in split_statements(latex)] == [
        ("a = b", 0),
        ("b = c", 1),
        ("d = e", 2),
    ]


def test_read_statements_reads_each_claim():
    readings = read_statements(r"\begin{aligned} f(x) &= (x+1)^2 \\ &= x^2 + 2x + 1 \end{aligned}")
    f = sp.Function("f", **R)
    assert [r.expr for r in readings] == [
        sp.Eq(f(x), (x + 1) ** 2, evaluate=False),
        sp.Eq((x + 1) ** 2, x**2 + 2 * x + 1, evaluate=False),
    ]


def test_a_matrix_keeps_its_rows_as_one_matrix():
    (reading,) = read_statements(
        r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix} = \begin{bmatrix} 1 & 2 \\ 3 & 2 + 2 \end{bmatrix}"
    )
    assert reading.expr.lhs == sp.ImmutableMatrix([[1, 2], [3, 4]])
    assert reading.expr.rhs == reading.expr.lhs


def test_a_row_starting_with_a_relation_needs_a_row_before():
    with pytest.raises(LatexParseError) as info:
        split_statements(r"\begin{aligned} &= c \end{aligned}")
    assert info.value.problem == "a row that starts with a relation and no row before it"


# -- names, cases ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        (
            r"f(z) = \begin{cases} z, & \text{if } z > 0 \\ 0, & \text{otherwise} \end{cases}",
            sp.Eq(sp.Function("f", **R)(z), sp.Piecewise((z, z > 0), (0, True))),
        ),
        (
            r"\mathrm{LeakyReLU}(x) = \begin{cases} x, & \text{ if } x \geq 0 \\ "
            r"\text{negative\_slope} \times x, & \text{ otherwise } \end{cases}",
            sp.Eq(
                sp.Function("LeakyReLU", **R)(x),
                sp.Piecewise((x, x >= 0), (sp.Symbol("negative_slope", **R) * x, True)),
            ),
        ),
        (r"\operatorname{ReLU}(z) = \max(0, z)", sp.Eq(relu(z), sp.Max(0, z))),
        (r"\operatorname{pReLU}(x)", sp.Function("pReLU", **R)(x)),
        (r"\textrm{prod}(x)", sp.Function("prod", **R)(x)),
        (r"\mathop{\textrm{sgn}}(x)", sp.sign(x)),
        (r"\text{negative\_slope} \times x", sp.Symbol("negative_slope", **R) * x),
    ],
)
def test_names_and_cases_as_notes_write_them(latex, expected):
    assert expr(latex) == expected


# -- shapes ---------------------------------------------------------------------------------

n = sp.Symbol("n", integer=True, positive=True)
vx, vy, vw, mW = (
    sp.MatrixSymbol("x", n, 1),
    sp.MatrixSymbol("y", n, 1),
    sp.MatrixSymbol("w", n, 1),
    sp.MatrixSymbol("W", n, n),
)


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        (r"\mathbf{W}\mathbf{x}", mW * vx),
        (r"\mathbf{x}^\top \mathbf{y} = \mathbf{y}^\top \mathbf{x}", sp.Eq(vx.T * vy, vy.T * vx)),
        (r"\boldsymbol{\theta}", sp.MatrixSymbol("theta", n, 1)),
        (r"\mathbf{x}_i", sp.MatrixSymbol("x_i", n, 1)),  # the i-th vector, not an entry
        (r"\mathcal{L}", sp.Symbol("L", **R)),  # calligraphic is a name, not a shape
    ],
)
def test_bold_lower_case_is_a_vector_and_bold_capitals_a_matrix(latex, expected):
    assert expr(latex) == expected


def test_a_quadratic_form_is_a_one_by_one_product():
    value = expr(r"\mathbf{x}^\top Q \mathbf{x}")
    assert value.shape == (1, 1)
    assert value == sp.Symbol("Q", **R) * vx.T * vx


def test_a_scalar_beside_a_one_by_one_product_joins_it():
    value = expr(r"\mathbf{w}^\top \mathbf{x} + b")
    assert value.shape == (1, 1)
    assert value == vw.T * vx + sp.Symbol("b", **R) * sp.OneMatrix(1, 1)


def test_declarations_win_over_bold():
    table = SymbolTable.parse("vector x d; matrix W m d")
    d, m = sp.symbols("d m", integer=True, positive=True)
    assert read_latex(r"\mathbf{W}\mathbf{x}", symbols=table).expr == (
        sp.MatrixSymbol("W", m, d) * sp.MatrixSymbol("x", d, 1)
    )


@pytest.mark.parametrize(
    ("latex", "lines"),
    [
        (r"\mathbf{x} \in \mathbb{R}^n", [("vector x n",)]),
        (r"\mathbf{W} \in \mathbb{R}^{m \times n}", [("matrix W m n",)]),
        (r"\mathbf{x}, \mathbf{y} \in \mathbb{R}^d", [("vector x d", "vector y d")]),
        (r"a \in \mathbb{R}", [("scalar a",)]),
        (r"\mathbf{b} \in \mathbb{R}^{1 \times h}", [("rowvector b h",)]),
        (r"\text{where } \mathbf{q} \in \mathbb{R}^{d_k}", [("vector q d_k",)]),
        (
            r"\mathbf{q} \in \mathbb{R}^d, \mathbf{W} \in \mathbb{R}^{d\times d}",
            [("vector q d",), ("matrix W d d",)],
        ),
        (r"f(x) \in \mathbb{R}", []),
        (r"z \in \mathbb{R}^{n+1}", []),
        (r"k \in \mathbb{N}", []),
    ],
)
def test_shape_declarations_of_the_notes(latex, lines):
    assert [d.lines() for d in shape_declarations(latex)] == lines


def test_shape_declarations_read_as_a_table():
    (declaration,) = shape_declarations(r"\mathbf{W} \in \mathbb{R}^{m \times n}")
    table = SymbolTable.parse("\n".join(declaration.lines()))
    m = sp.Symbol("m", integer=True, positive=True)
    assert table.get("W") == sp.MatrixSymbol("W", m, n)


# -- norms, partials, calls, primes ---------------------------------------------------------

xT = sp.Trace(vx.T * vx)


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        (r"\|x\|", sp.Abs(x)),
        (r"\|\mathbf{x}\|", sp.sqrt(xT)),
        (r"\|\mathbf{x}\|_2", sp.sqrt(xT)),
        (r"\lVert \mathbf{x} \rVert", sp.sqrt(xT)),
        (r"\|\mathbf{x}\|_2^2", xT),
        (r"\|\mathbf{W}\|_F", sp.sqrt(sp.Trace(mW.T * mW))),
        (r"2 \|x\|", 2 * sp.Abs(x)),
    ],
)
def test_norms(latex, expected):
    assert expr(latex) == expected


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        (r"\|\mathbf{W}\|", "the norm ‖X‖ of a matrix (Frobenius or spectral?)"),
        (r"\|\mathbf{x}\|_1", "the norm ‖·‖_1"),
    ],
)
def test_norms_refused(latex, expected):
    assert refusal(latex) == f"{expected}; write ‖X‖_F for the Frobenius norm"


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        (r"\partial_x f(x)", sp.Derivative(sp.Function("f", **R)(x), x)),
        (r"\nabla_{\mathbf{x}} f(\mathbf{x})", sp.MatrixSymbol("df_dx", n, 1)),  # x's shape
        (r"\nabla f(\mathbf{x})", sp.MatrixSymbol("df_dx", n, 1)),
        (r"\nabla f(x)", sp.Derivative(sp.Function("f", **R)(x), x)),
        (r"\partial_{\mathbf{w}} J", sp.MatrixSymbol("dJ_dw", n, 1)),  # ∂J/∂w, opaque
        (r"\nabla_x f", sp.Symbol("df_dx", **R)),
        (
            r"l(\mathbf{y}, \hat{\mathbf{y}})",
            sp.Function("l", **R)(vy, sp.MatrixSymbol("yhat", n, 1)),
        ),
        (
            r"a(\mathbf{q}, \mathbf{k}_i)",
            a_f(sp.MatrixSymbol("q", n, 1), sp.MatrixSymbol("k_i", n, 1)),
        ),
        (r"P(y \mid x)", sp.Function("P_given", positive=True)(sp.Symbol("y", **R), x)),
        (r"\mathbf{g}_t'", sp.MatrixSymbol("g_t'", n, 1)),
        (r"g_t'", sp.Symbol("g_t'", **R)),
        (r"f''(x)", sp.Derivative(sp.Function("f", **R)(x), (x, 2))),
        (r"\sigma_B^2", sp.Symbol("sigma_B", **R) ** 2),  # σ with a subscript: a symbol
        (r"(n+1)! = (n+1) n!", sp.Eq(sp.factorial(nr + 1), (nr + 1) * sp.factorial(nr))),
    ],
)
def test_derivatives_calls_primes_as_notes_write_them(latex, expected):
    assert expr(latex) == expected


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        ("y'", "a prime on 'y', which is not a function; declare it: 'function f'"),
        (r"\partial f", r"∂ outside a fraction; write \frac{\partial L}{\partial w}"),
        (r"p(1-p)", r"'p(' may be a call or a product; declare 'function p', or write p \cdot "
         "(…) for a product"),
        (r"\sum_j x_j", "a sum without an upper bound over an undeclared family; write "
         r"\sum_{i=1}^{n} or declare the family ('indexed y n')"),
    ],
)  # fmt: skip
def test_still_refused(latex, expected):
    assert refusal(latex) == expected


def test_the_second_reading_has_a_deadline(monkeypatch):
    from symml.read import library

    monkeypatch.setattr(library, "MAX_NESTING", 100)  # let the library try, and time it out
    monkeypatch.setattr(library, "DEADLINE_SECONDS", 0.3)
    started = time.monotonic()
    reading = read_latex("{" * 14 + "x" + "}" * 14)
    assert time.monotonic() - started < 3
    assert reading.expr == x
    assert "not cross-checked: latex2sympy2_extended did not finish within 0.3 s" in reading.notes


def test_the_whole_reading_has_a_deadline(monkeypatch):
    from symml.read import latex, library

    monkeypatch.setattr(library, "MAX_NESTING", 100)
    monkeypatch.setattr(latex, "READ_SECONDS", 0.2)
    started = time.monotonic()
    assert refusal("{" * 14 + "x" + "}" * 14) == (
        "reading it took more than 0.2 s; split it into smaller formulas"
    )
    assert time.monotonic() - started < 3


# -- vectors elementwise, as optimizer updates write them -----------------------------------


def test_an_rmsprop_block_reads_elementwise():
    s_t, s_prev, g_t, w_t, w_prev = (
        sp.MatrixSymbol(name, n, 1) for name in ("s_t", "s_t-1", "g_t", "w_t", "w_t-1")
    )
    eps = sp.Symbol("epsilon", **R)
    first, second = read_statements(
        r"""\begin{aligned}
        \mathbf{s}_t & = \mathbf{s}_{t-1} + \mathbf{g}_t^2, \\
        \mathbf{w}_t & = \mathbf{w}_{t-1} - \frac{\eta}{\sqrt{\mathbf{s}_t + \epsilon}} \cdot \mathbf{g}_t.
        \end{aligned}"""
    )
    assert first.expr == sp.Eq(s_t, s_prev + sp.HadamardPower(g_t, 2))
    root = (s_t + eps * sp.OneMatrix(n, 1)).applyfunc(sp.sqrt)
    step = sp.hadamard_product(eta * sp.HadamardPower(root, -1), g_t)
    assert str(second.expr) == str(sp.Eq(w_t, w_prev - step))  # up to the bound dummy
    assert second.expr.rhs.atoms(sp.MatrixSymbol) == {w_prev, s_t, g_t}
    assert "a power of a vector read elementwise (g_t^2 is g_t ⊙ g_t)" in first.notes


def test_a_square_matrix_keeps_its_matrix_power():
    assert expr(r"\mathbf{W}^2") == sp.MatPow(mW, 2)


# -- PyTorch's docstring formulas (their style: \text names, "x, & \text{ if }" rows) -------

alpha, beta, lam_ = sp.symbols("alpha beta lambda", **R)
max_val, min_val = sp.symbols("max_val min_val", **R)


@pytest.mark.parametrize(
    ("latex", "lhs", "rhs"),
    [
        (
            r"\text{ELU}(x) = \begin{cases} x, & \text{ if } x > 0\\ "
            r"\alpha * (\exp(x) - 1), & \text{ if } x \leq 0 \end{cases}",
            sp.Function("ELU", **R)(x),
            sp.Piecewise((x, x > 0), (alpha * (sp.exp(x) - 1), True)),
        ),
        (
            r"\text{HardTanh}(x) = \begin{cases} \text{max\_val} & \text{ if } x > "
            r"\text{ max\_val } \\ \text{min\_val} & \text{ if } x < \text{ min\_val } \\ "
            r"x & \text{ otherwise } \\ \end{cases}",
            sp.Function("HardTanh", **R)(x),
            sp.Piecewise((max_val, x > max_val), (min_val, x < min_val), (x, True)),
        ),
        (
            r"\text{Hardswish}(x) = \begin{cases} 0 & \text{if~} x \le -3, \\ x & "
            r"\text{if~} x \ge +3, \\ x \cdot (x + 3) /6 & \text{otherwise} \end{cases}",
            sp.Function("Hardswish", **R)(x),
            sp.Piecewise((0, x <= -3), (x, x >= 3), (x * (x + 3) / 6, True)),
        ),
        (
            r"\text{Softplus}(x) = \frac{1}{\beta} * \log(1 + \exp(\beta * x))",
            sp.Function("Softplus", **R)(x),  # β: PyTorch's own Softplus, not symml's
            sp.log(1 + sp.exp(beta * x)) / beta,
        ),
        (r"\text{GELU}(x) = x * \Phi(x)", gelu(x), x * Phi(x)),  # symml's GELU: a claim
        (r"\text{SiLU}(x) = x * \sigma(x)", sp.Function("SiLU", **R)(x), x * sigmoid(x)),
    ],
)
def test_pytorch_docstring_formulas(latex, lhs, rhs):
    (reading,) = read_statements(latex)
    assert (reading.expr.lhs, reading.expr.rhs) == (lhs, rhs)


def test_a_gradient_of_a_quadratic_form_has_the_shape_of_its_variable():
    mA = sp.MatrixSymbol("A", n, n)
    reading = read_latex(
        r"\nabla_{\mathbf{x}} \mathbf{x}^\top \mathbf{A} \mathbf{x} = "
        r"(\mathbf{A} + \mathbf{A}^\top)\mathbf{x}"
    )
    assert reading.expr.lhs == sp.Derivative(vx.T * mA * vx, vx)  # ∇ of the whole product
    assert reading.expr.rhs == (mA + mA.T) * vx
    assert "∂(scalar)/∂X read as the gradient, of X's shape" in reading.notes


@pytest.mark.parametrize("latex", [r"\eta(t)", r"\frac{d}{dt} \eta(t) = -\lambda \eta(t)"])
def test_a_name_of_one_name_outside_a_definition_is_refused(latex):
    # η·t was read without a word, and d/dt η(t) = -λη(t) refuted against it
    assert refusal(latex) == (
        "'eta(…)' of one name may be a call of eta or a product; declare 'function eta' or "
        r"define it (\eta(t) = …) for a call; write \eta \cdot (…) for a product"
    )


def test_a_declared_function_of_one_name_is_a_call():
    reading = read_latex(
        r"\frac{d}{dt} \eta(t) = -\lambda \eta(t)", symbols=SymbolTable.parse("function eta")
    )
    assert reading.expr == sp.Eq(sp.Derivative(eta_f(t), t), -lam * eta_f(t))


@pytest.mark.parametrize("latex", [r"\mathbf{x} \cdot \mathbf{y}", r"\mathbf{x}\mathbf{y}"])
def test_a_product_of_two_plain_vectors_is_refused(latex):
    assert refusal(latex) == (
        "a product of two vectors: a dot product or elementwise?; "
        r"write \mathbf{x}^\top \mathbf{y} for the dot product, \odot for elementwise"
    )


def test_bold_is_a_property_of_the_occurrence_not_of_the_letter():
    # x_i beside \mathbf{x} is an entry (a scalar), not the vector x_i
    reading = read_latex(r"\mathbf{x}^\top \mathbf{y} = \sum_{i=1}^n x_i y_i")
    assert reading.expr.lhs == vx.T * vy
    i = sp.Symbol("i", integer=True, nonnegative=True, real=True)
    entries = sp.Sum(
        sp.IndexedBase("x", real=True)[i] * sp.IndexedBase("y", real=True)[i], (i, 1, nr)
    )
    assert reading.expr.rhs == entries * sp.OneMatrix(1, 1)


def test_bold_name_of_a_declared_family_is_its_whole_vector():
    table = SymbolTable.parse("indexed x d")
    d = sp.Symbol("d", integer=True, positive=True)
    xd = sp.MatrixSymbol("x", d, 1)
    assert read_latex(r"\mathbf{x}^\top \mathbf{x}", symbols=table).expr == xd.T * xd


def test_a_gradient_step_keeps_its_gradient():
    # SymPy's shapeless Derivative(f(x), x) vanished from x - η∇f(x): Eq(x, x)
    reading = read_latex(r"\mathbf{x} \leftarrow \mathbf{x} - \eta \nabla f(\mathbf{x})")
    gradient = sp.MatrixSymbol("df_dx", n, 1)
    assert reading.expr == sp.Eq(vx, vx - eta * gradient)
    assert reading.gradients == ((gradient, sp.Function("f", **R)(vx), vx),)
    assert refusal(r"\mathbf{x} - \eta \nabla_{\mathbf{x}} (\mathbf{x}^\top \mathbf{x})") == (
        "a gradient by a vector or matrix inside arithmetic: SymPy gives it no shape; "
        "write the gradient alone on one side of '='"
    )


def test_scientific_notation_glued_to_a_letter_is_refused():
    assert refusal("1e-3x") == (
        "scientific notation followed by a letter, or a product with e?; "
        "write (1e-3) x for the number, or e^{…} for Euler's e"
    )


def test_the_deadline_holds_when_its_alarm_lands_in_a_gc_callback():
    # An exception raised inside a garbage-collector callback is printed and dropped: the
    # alarm fires again until one lands where it can stop the reading.
    import gc
    import warnings

    from symml.read.deadline import ReadingTimeout, within

    slept = []

    def slow_callback(phase, info):
        if phase == "start" and not slept:  # the first collection outlasts the deadline
            slept.append(True)
            time.sleep(0.4)

    def busy_with_garbage():
        gc.collect()  # runs past the deadline inside the callback
        stop = time.monotonic() + 10
        while time.monotonic() < stop:
            sum(range(20_000))

    gc.callbacks.append(slow_callback)
    started = time.monotonic()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ReadingTimeout):
                within(0.2, busy_with_garbage)
    finally:
        gc.callbacks.remove(slow_callback)
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("latex", "condition"),
    [
        (r"\mathbb{1}[x > 0]", "x > 0"),
        (r"\mathbb{1}_{x > 0}", "x > 0"),
        (r"\mathbb{1}\{y = k\}", "Eq(k, y)"),
        (r"\mathbb{1}[x \le 0]", "x <= 0"),
    ],
)
def test_an_indicator_is_one_where_its_condition_holds(latex, condition):
    value = read_latex(latex).expr
    assert isinstance(value, sp.Piecewise)
    assert value.args[0][0] == 1 and sp.sstr(value.args[0][1]) == condition
    assert value.args[1] == (0, True)


@pytest.mark.parametrize(
    ("latex", "problem"),
    [
        (r"\mathbb{1}[x]", "an indicator of something that is not a relation"),
        (r"\mathbb{1} x", r"\mathbb{1} without its condition"),
    ],
)
def test_an_indicator_without_a_relation_is_refused(latex, problem):
    with pytest.raises(LatexParseError) as info:
        read_latex(latex)
    assert problem in str(info.value)
