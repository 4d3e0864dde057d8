"""The LaTeX reader: the measured pitfalls of bare parsers, the corpus, errors, threads."""

from __future__ import annotations

import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sympy as sp

from symml.catalog.primitives import relu, sigmoid
from symml.read import LatexParseError, SymbolTable, parse_latex, read_latex
from symml.read.table import INDEX_ASSUMPTIONS as INDEX

sys.path.insert(0, str(Path(__file__).parent / "data"))
from corpus import CORPUS, RAISES, namespace  # noqa: E402

z, x = sp.Symbol("z", real=True), sp.Symbol("x", real=True)
MATS = SymbolTable.parse("matrix W m n\nvector x n\nvector b m\nvector z m")


def same(got, expected) -> bool:
    """Structural equality, up to dummy names and to how SymPy happened to distribute."""
    if got == expected:
        return True
    strip = re.compile(r"dummy_index=\d+")
    if strip.sub("", sp.srepr(got)) == strip.sub("", sp.srepr(expected)):
        return True
    if isinstance(got, sp.Equality) and isinstance(expected, sp.Equality):
        return same(got.lhs, expected.lhs) and same(got.rhs, expected.rhs)
    if isinstance(got, sp.Expr) and isinstance(expected, sp.Expr):
        if got.free_symbols != expected.free_symbols:
            return False
        return sp.simplify(got - expected) == 0
    return False


def classify(latex: str, expected: str, decl: str) -> str:
    try:
        got = parse_latex(latex, symbols=SymbolTable.parse(decl))
    except LatexParseError:
        return "raised-as-expected" if expected == RAISES else "raised"
    if expected == RAISES:
        return "wrong"
    return "correct" if same(got, eval(expected, namespace())) else "wrong"


def test_corpus_is_read_correctly_or_refused_never_silently_wrong():
    outcomes = {(latex, decl): classify(latex, expected, decl) for latex, expected, decl in CORPUS}
    wrong = [k for k, v in outcomes.items() if v == "wrong"]
    refused = [k for k, v in outcomes.items() if v == "raised"]
    assert len(CORPUS) >= 80
    assert wrong == []
    good = sum(v in ("correct", "raised-as-expected") for v in outcomes.values())
    assert good / len(CORPUS) >= 0.95, refused


# -- each pitfall of the bare parsers, fixed ---------------------------------------------------
def test_log_is_natural_and_log2_is_base_two():
    assert parse_latex(r"\log x") == sp.log(x)
    assert parse_latex(r"\log_2 x") == sp.log(x, 2)


def test_e_to_a_power_is_exp():
    assert parse_latex(r"e^{-z}") == sp.exp(-z)


def test_primes_are_derivatives_not_dropped():
    got = parse_latex(r"\sigma'(z)")
    assert got == sp.Derivative(sigmoid(z), z)
    assert got.doit() == sigmoid(z).diff(z)


def test_partial_fraction_and_d_dz_forms():
    L = sp.Function("L", real=True)
    W = sp.MatrixSymbol("W", sp.Symbol("m", integer=True, positive=True, real=True), 1)
    table = SymbolTable.parse("vector W m\ndepends L W")
    assert parse_latex(r"\frac{\partial L}{\partial W}", symbols=table) == sp.Derivative(L(W), W)
    assert parse_latex(r"\frac{d}{dz} z^2") == sp.Derivative(z**2, z)


def test_calls_are_calls_not_products():
    got = parse_latex(r"\sigma(Wx+b)", symbols=MATS)
    assert isinstance(got, sp.matrices.expressions.applyfunc.ElementwiseApplyFunction)
    assert parse_latex(r"f(x + 1)") == sp.Function("f", real=True)(x + 1)


def test_operatorname_mathrm_text_name_functions():
    assert parse_latex(r"\operatorname{ReLU}(z)") == relu(z)
    assert parse_latex(r"\mathrm{ReLU}(z)") == relu(z)
    assert parse_latex(r"\text{sigmoid}(z)") == sigmoid(z)
    with pytest.raises(LatexParseError, match="softmax"):
        parse_latex(r"\operatorname{softmax}(z)")


def test_case_is_kept():
    got = parse_latex("W + w")
    assert {s.name for s in got.free_symbols} == {"W", "w"}


def test_gamma_and_I_are_symbols():
    assert parse_latex(r"\gamma") == sp.Symbol("gamma", real=True)
    assert parse_latex("I") == sp.Symbol("I", real=True)
    assert parse_latex(r"\pi") == sp.pi


def test_transpose_needs_a_declared_matrix():
    W = MATS.get("W")
    assert parse_latex(r"W^T", symbols=MATS) == W.T
    assert parse_latex(r"W^\top", symbols=MATS) == W.T
    with pytest.raises(LatexParseError, match="transpose or power"):
        parse_latex("x^T")


def test_layer_label_is_not_a_power():
    assert parse_latex(r"W^{(l)}") == sp.Symbol("W^(l)", real=True)


def test_project_naming_convention():
    assert parse_latex(r"\hat{y}_i") == sp.Symbol("yhat_i", real=True)
    assert parse_latex(r"\beta_1") == sp.Symbol("beta_1", real=True)
    assert parse_latex(r"\eta_{max}") == sp.Symbol("eta_max", real=True)


def test_multi_letter_names_refused_unless_declared():
    with pytest.raises(LatexParseError) as err:
        parse_latex(r"lr \cdot g")
    assert err.value.fragment.startswith("lr") and err.value.position == 0
    assert "\\mathrm{lr}" in err.value.hint
    assert parse_latex(r"lr \cdot g", symbols={"lr": "scalar"}) == sp.Symbol(
        "lr", real=True
    ) * sp.Symbol("g", real=True)


def test_relations_are_kept_not_solved():
    r = read_latex(r"\theta := \theta - \eta g")
    assert r.relation == ":=" and isinstance(r.expr, sp.Equality)
    assert read_latex(r"\theta \leftarrow \theta").relation == ":="
    assert read_latex("a = b").relation == "="


def test_cases_is_piecewise():
    got = parse_latex(r"\begin{cases} z & z > 0 \\ 0 & \text{otherwise} \end{cases}")
    assert got == sp.Piecewise((z, z > 0), (0, True))


def test_sums_with_and_without_bounds():
    i = sp.Symbol("i", integer=True, nonnegative=True, real=True)
    n = sp.Symbol("n", integer=True, positive=True, real=True)
    y = sp.IndexedBase("y", shape=(n,), real=True)
    assert parse_latex(r"\sum_{i} y_i", symbols=SymbolTable.parse("indexed y n")) == sp.Sum(
        y[i], (i, 1, n)
    )
    got = parse_latex(r"\sum_{i=1}^{n} y_i")
    assert got == sp.Sum(sp.IndexedBase("y", real=True)[i], (i, 1, sp.Symbol("n", real=True)))
    with pytest.raises(LatexParseError, match="upper bound"):
        parse_latex(r"\sum_{i} y_i")


def test_max_min_abs_odot():
    assert parse_latex(r"\max(0, z)") == sp.Max(0, z)
    assert parse_latex(r"\min\{x, z\}") == sp.Min(x, z)
    assert parse_latex(r"|x|") == sp.Abs(x)
    zz = MATS.get("z")
    assert parse_latex(r"z \odot z", symbols=MATS) == sp.hadamard_product(zz, zz)


def test_expectation_needs_random_symbols():
    import sympy.stats as stats

    X = stats.Normal("X", 0, 1)
    assert parse_latex(r"\mathbb{E}[X^2]", symbols={"X": X}) == stats.Expectation(X**2)
    with pytest.raises(LatexParseError, match="random"):
        parse_latex(r"\mathbb{E}[x]")


def test_undeclared_dependence_is_a_gradient_symbol_not_zero():
    r = read_latex(r"\frac{\partial \hat{y}}{\partial z}")
    assert r.expr != 0 and r.expr == sp.Symbol("dyhat_dz", real=True)
    assert r.gradients[0][1:] == (sp.Symbol("yhat", real=True), z)
    assert any("depends" in note for note in r.notes)


def test_sigma_generic_by_declaration():
    assert parse_latex(r"\sigma(z)", symbols=SymbolTable.parse("sigma generic")) == sp.Function(
        "sigma", real=True
    )(z)


def test_error_carries_position_fragment_hint():
    with pytest.raises(LatexParseError) as err:
        parse_latex(r"x + \foo{y}")
    assert err.value.position == 4
    assert err.value.fragment.startswith(r"\foo")
    assert err.value.hint
    assert isinstance(err.value, ValueError)


def test_bare_latex2sympy_pitfalls_are_real():
    """What the layer fixes, measured on the bare parser it replaces."""
    from latex2sympy2_extended import latex2sympy

    assert latex2sympy(r"\log x").args[-1] == 10  # log(x, 10) kept unevaluated
    assert latex2sympy("I") == sp.I
    assert latex2sympy(r"2\frac{1}{2}") == sp.Rational(5, 2)
    assert len(latex2sympy("W + w").free_symbols) == 1
    assert not latex2sympy(r"\sigma(Wx+b)").atoms(sp.Function)


def test_parsing_is_thread_safe_and_deterministic():
    texts = [t for t, expected, decl in CORPUS if expected != RAISES and not decl and "sum" in t]

    def run(text):
        return sp.srepr(parse_latex(text))

    serial = [run(t) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(run, texts * 3))
    assert parallel == serial * 3


# -- symml's own printed forms, and the notation the printer uses -------------------------------
def test_a_declared_name_is_found_under_the_form_the_printer_gives_it():
    y_prob, yhat_prob = sp.Symbol("y_prob", real=True), sp.Symbol("yhat_prob", real=True)
    table = SymbolTable.of({"y_prob": y_prob, "yhat_prob": yhat_prob})
    assert parse_latex(r"- y \log \hat{y}", symbols=table) == -y_prob * sp.log(yhat_prob)
    family = sp.IndexedBase("y_vec", shape=(sp.Symbol("n"),), real=True)
    j = sp.Symbol("j", integer=True)
    assert parse_latex("y_{j}", symbols=SymbolTable.of({"y_vec": family, "j": j})) == family[j]


def test_two_declared_names_printed_alike_are_refused():
    table = SymbolTable.parse("scalar y\nscalar y_prob")
    with pytest.raises(LatexParseError, match=r"'y' may be y or y_prob") as info:
        parse_latex("2 y", symbols=table)
    assert r"y_{\mathrm{prob}}" in info.value.hint


def test_printed_forms_that_are_not_names():
    sigma_sq, eps = sp.Symbol("sigma_sq", positive=True), sp.Symbol("epsilon", positive=True)
    table = SymbolTable.of({"sigma_sq": sigma_sq, "epsilon": eps})
    assert parse_latex(r"\sqrt{\sigma^{2} + \epsilon}", symbols=table) == sp.sqrt(sigma_sq + eps)
    x_prev = sp.Symbol("x_prev", real=True)
    assert parse_latex("x_{t-1}", symbols=SymbolTable.of({"x_prev": x_prev})) == x_prev
    # σ declared too: σ^{2} may be its square, so the reader refuses
    both = SymbolTable.of({"sigma_sq": sigma_sq, "sigma": sp.Symbol("sigma", positive=True)})
    with pytest.raises(LatexParseError, match="also reads as sigma"):
        parse_latex(r"\sigma^{2}", symbols=both)
    grad = sp.MatrixSymbol("dL_dz", sp.Symbol("m", integer=True, positive=True), 1)
    table = SymbolTable.of({"dL_dz": grad, "L": sp.Function("L")})
    assert parse_latex(r"\frac{\partial L}{\partial z}", symbols=table) == grad


def test_floor_ranges_substack_and_block_matrices():
    t, k = sp.Symbol("t", real=True), sp.Symbol("k", real=True)
    assert parse_latex(r"\left\lfloor{\frac{t}{k}}\right\rfloor") == sp.floor(t / k)
    assert parse_latex(r"\lceil t \rceil") == sp.ceiling(t)
    table = SymbolTable.parse("indexed f a b\nsize a\nsize b")
    f, a, b = (table.get(n) for n in "fab")
    m, n = sp.Symbol("m", **INDEX), sp.Symbol("n", **INDEX)
    got = parse_latex(r"\sum_{\substack{1 \leq m \leq a\\1 \leq n \leq b}} f_{m,n}", symbols=table)
    assert got == sp.Sum(f[m, n], (m, 1, a), (n, 1, b))
    table = SymbolTable.parse("vector h H\nvector x D\nmatrix W H S")
    h, x = table.get("h"), table.get("x")
    assert parse_latex(r"\left[\begin{matrix}h\\x\end{matrix}\right]", symbols=table) == (
        sp.BlockMatrix([[h], [x]])
    )
    with pytest.raises(LatexParseError, match="blocks and scalars"):
        parse_latex(r"\begin{bmatrix}h\\1\end{bmatrix}", symbols=table)


def test_max_over_a_range_softmax_and_elementwise_max():
    table = SymbolTable.parse("indexed x N\nsize N\nindex i\nfunction max")
    i, N = table.get("i"), table.get("N")
    got = parse_latex(r"\max_{1 \leq i \leq N} x_{i}", symbols=table)
    assert got == table.get("max")(table.get("x")[i], sp.Tuple(i, 1, N))
    with pytest.raises(LatexParseError, match="declare 'function max'"):
        parse_latex(r"\max_{1 \leq i \leq N} x_{i}", symbols=SymbolTable.parse("indexed x N"))
    W = MATS.get("W")
    got = parse_latex(r"\operatorname{softmax}\left(W\right)", symbols=MATS)
    assert got.shape == W.shape and isinstance(got, sp.HadamardProduct)
    with pytest.raises(LatexParseError, match="over which index"):
        parse_latex(r"\operatorname{softmax}(z)", symbols=MATS)
    z = MATS.get("z")
    got = parse_latex(r"\max(0, z)", symbols=MATS)
    assert got.shape == z.shape and got.function(-1) == 0 and got.expr == z


def test_evaluation_bar_integral_and_ones():
    L, g, w = sp.Function("L"), sp.Function("g"), sp.Symbol("w", real=True)
    table = SymbolTable.of({"L": L, "g": g, "w": w})
    got = parse_latex(r"\left. \frac{d}{d u} L(u) \right|_{u=g(w)}", symbols=table)
    assert isinstance(got, sp.Subs) and got.point == (g(w),)
    assert got.doit() == sp.Subs(sp.Derivative(L(w), w), w, g(w)).doit()
    u = sp.Symbol("u", real=True)
    table = SymbolTable.of({"u": u, "TPR": sp.Function("TPR")})
    got = parse_latex(r"\int\limits_{0}^{1} \mathrm{TPR}\left(u\right)\, du", symbols=table)
    assert got == sp.Integral(table.get("TPR")(u), (u, 0, 1))
    with pytest.raises(LatexParseError, match="undeclared x"):
        parse_latex(r"\int_0^1 x \, dx")
    z = MATS.get("z")
    assert parse_latex(r"\mathbf{1} - z", symbols=MATS) == sp.OneMatrix(*z.shape) - z
    with pytest.raises(LatexParseError, match="shape is unknown"):
        parse_latex(r"W \mathbf{1}", symbols=MATS)


def test_sized_ones_identity_and_elementwise_powers():
    """symml prints 𝟙 and 𝕀 with their sizes, so a product with them reads back."""
    table = SymbolTable.parse("size d\nmatrix x 1 d\nscalar epsilon")
    d, x, eps = table.get("d"), table.get("x"), table.get("epsilon")
    assert parse_latex(r"x \mathbf{1}_{d \times 1}", symbols=table) == x * sp.OneMatrix(d, 1)
    assert parse_latex(r"\frac{x \mathbf{1}_{d \times d}}{d}", symbols=table) == (
        x * sp.OneMatrix(d, d) / d
    )
    assert parse_latex(r"\epsilon \mathbb{I}_{d}", symbols=table) == eps * sp.Identity(d)
    assert parse_latex(r"x^{\circ {2}}", symbols=table) == sp.HadamardPower(x, 2)
    got = parse_latex(r"x^{\circ \left({- \frac{1}{2}}\right)}", symbols=table)
    assert got == sp.HadamardPower(x, -sp.S.Half)
    refusals = {
        r"x \mathbf{1}_{d}": "not 'rows \\\\times columns'",
        r"\mathbb{I}_{d \times d}": "an identity is square",
        r"\mathbb{I}": "size the text does not give",
        r"\mathbf{1}_{x \times 1}": "a size is a positive integer",
        r"\epsilon^{\circ 2}": "elementwise power of a scalar",
    }
    for text, message in refusals.items():
        with pytest.raises(LatexParseError, match=message):
            parse_latex(text, symbols=table)


def test_a_tagged_full_name_reads_where_the_bare_letter_is_ambiguous():
    """y_label and y_sign both print y; y_{\\mathrm{sign}} (the refusal's own hint) is one."""
    table = SymbolTable.parse("scalar y_label\nscalar y_sign")
    assert parse_latex(r"y_{\mathrm{sign}}", symbols=table) == table.get("y_sign")
    for ambiguous in ("y", "y_{i}", r"y_{\mathrm{foo}}"):
        with pytest.raises(LatexParseError, match="may be y_label or y_sign"):
            parse_latex(ambiguous, symbols=table)


def test_a_subscripted_declared_name_before_a_parenthesis_is_not_a_call():
    table = SymbolTable.parse("function eta\nscalar eta_max\nscalar t\nfunction mu_theta")
    t = table.get("t")
    assert parse_latex(r"\eta_{\mathrm{max}} \left(1 - t\right)", symbols=table) == (
        table.get("eta_max") * (1 - t)
    )
    assert parse_latex(r"\mu_{\theta}(t)", symbols=table) == table.get("mu_theta")(t)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("F1 = 2·(Prec·Rec)/(Prec + Rec)", "Eq(F1, 2*Prec*Rec/(Prec + Rec))"),
        ("z = Wx + b", "Eq(z, W*x + b)"),
        ("Acc = (TP + TN) / 2", None),
        ("L_G = -E[log D(G(z))]", None),
    ],
)
def test_unicode_words_are_names_and_capital_pairs_are_refused(text, expected):
    """Sheets spell names out: 'Prec' is one name, never P·r·e·c; 'TP' could be either."""
    from symml.read.unicode import parse_unicode

    if expected is None:
        with pytest.raises(LatexParseError):
            parse_unicode(text)
    else:
        assert sp.sstr(parse_unicode(text)) == expected


def test_declared_capital_pair_is_one_name():
    from symml.read.unicode import parse_unicode

    tp, fp = sp.Symbol("TP"), sp.Symbol("FP")
    assert parse_unicode("Prec = TP / (TP + FP)", symbols={"TP": tp, "FP": fp}) == sp.Eq(
        sp.Symbol("Prec", real=True), tp / (tp + fp)
    )


def test_sum_without_an_index_runs_over_the_one_subscript_or_the_entries_of_one_name():
    table = SymbolTable.parse("sumsize n")
    j = sp.Symbol("j", integer=True, nonnegative=True, real=True)
    n = sp.Symbol("n", integer=True, positive=True, real=True)
    reading = read_latex(r"\sum |W|", symbols=table)
    assert reading.expr == sp.Sum(sp.Abs(sp.IndexedBase("W", real=True)[j]), (j, 1, n))
    assert "Σ with no index over W read as the sum over all its entries W_j" in reading.notes[0]
    assert reading.families == ()  # W stays a plain name for the lines after it
    with pytest.raises(LatexParseError, match="over the subscripts i, j"):
        parse_latex(r"\sum x_i y_j", symbols=table)
    with pytest.raises(LatexParseError, match="over W, x: which one runs"):
        parse_latex(r"\sum x W", symbols=table)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("L_total = L + (λ/2)·Σ W²", "Eq(L_total, L + lambda*Sum(W[j]**2, (j, 1, n))/2)"),
        ("SS_res = Σ(yᵢ - ŷᵢ)²", "Eq(SS_res, Sum((y[i] - yhat[i])**2, (i, 1, n)))"),
        ("η_max · t/t_warmup", "eta_max*t/t_warmup"),
        ("n_in + n_out", "n_in + n_out"),
        ("γ^⌊t/k⌋", "gamma**floor(t/k)"),
        ("⌊(W - K + 2P)/S⌋ + 1", "floor((-K + 2*P + W)/S) + 1"),
        ("yₜ = Wₕᵧ·hₜ + bᵧ", "Eq(y_t, W_hgamma*h_t + b_gamma)"),
        ("W ~ N(0, 1)", None),  # ~ is "distributed as", not a space
        ("D_KL(P||Q) = 0", None),
    ],
)
def test_unicode_word_subscripts_floors_and_subscript_letters(text, expected):
    from symml.read.unicode import parse_unicode

    table = SymbolTable(default_size="n")
    if expected is None:
        with pytest.raises(LatexParseError):
            parse_unicode(text, symbols=table)
    else:
        assert sp.sstr(parse_unicode(text, symbols=table)) == expected
