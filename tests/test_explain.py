"""Verdicts for people (symml.render.explain, symml.render.statement): the rendered text of a few entries in
each output format, and the pieces they are built from.

The verdicts are made by hand (tests/render_cases.py), so these strings pin the rendering, not
the engine's current witnesses. After a deliberate change of the rendering, print the new text
with ``rendered(case, fmt)`` and review it before updating the strings.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sympy as sp

from symml.catalog.model import Status
from symml.engine.verdict import Verdict
from symml.evaluate.numeric import Counterexample
from symml.render import explain, sheet
from symml.render.statement import formula_line, sheet_tex
from symml.render.text import unicode_text

sys.path.insert(0, str(Path(__file__).parent))
from render_cases import SHOWN, VERDICTS  # noqa: E402


def rendered(catalog, case: str, fmt: str) -> str:
    """One case's entries as the sheet's LaTeX, the Markdown sheet, or terminal text."""
    formulas = [catalog.get(i) for i in SHOWN[case]]
    built = sheet.entries(formulas, verdicts={case: VERDICTS[case]}, with_gradients=False)
    if fmt == "tex":
        return "\n".join(line for e in built for line in sheet.entry_tex(e, True))
    if fmt == "md":
        return "\n".join(line for e in built for line in sheet.entry_markdown(e, True))
    formula = catalog.get(case)
    return "\n".join(
        line
        for v in VERDICTS[case]
        for line in explain.lines_text(
            formula, explain.judge(formula, int(v.claim.split("#")[1]), v)
        )
    )


GOLDEN = [
    (
        "activations.sigmoid",
        "tex",
        "\\entry{Sigmoid}{activations.sigmoid}\n"
        "\\formula{\\sigma\\left(z\\right) = \\frac{1}{1 + e^{- z}}}\n"
        "\\claim{\\verdict{ForestGreen}{proved}}{\\sigma'(z) = \\left(1 - \\sigma\\left(z\\right)\\right) \\sigma\\left(z\\right)}\n"
        "\\saying{\\verdict{ForestGreen}{proved}}{Range: (0, 1)}",
    ),
    (
        "activations.sigmoid",
        "md",
        "$$\n"
        "\\sigma\\left(z\\right) = \\frac{1}{1 + e^{- z}}\n"
        "$$\n"
        "\n"
        "**[proved]** $\\displaystyle \\sigma'(z) = \\left(1 - \\sigma\\left(z\\right)\\right) \\sigma\\left(z\\right)$\n"
        "\n"
        "**[proved]** Range: (0, 1)\n"
        "",
    ),
    (
        "activations.sigmoid",
        "text",
        "[proved] σ'(z) = (1 − σ(z))·σ(z)\n[proved] Range: (0, 1)",
    ),
    (
        "activations.relu",
        "tex",
        "\\entry{ReLU}{activations.relu}\n"
        "\\formula{\\operatorname{ReLU}\\left(z\\right) = \\max\\left(0, z\\right)}\n"
        "\\claim{\\verdict{orange}{conditional}}{\\operatorname{ReLU}'(z) = \\begin{cases} 1 & \\text{if } z > 0 \\\\ 0 & \\text{otherwise} \\end{cases}}\n"
        "\\witness{holds only when $z \\neq 0$}",
    ),
    (
        "activations.relu",
        "md",
        "$$\n"
        "\\operatorname{ReLU}\\left(z\\right) = \\max\\left(0, z\\right)\n"
        "$$\n"
        "\n"
        "**[conditional]** $\\displaystyle \\operatorname{ReLU}'(z) = \\begin{cases} 1 & \\text{if } z > 0 \\\\ 0 & \\text{otherwise} \\end{cases}$\n"
        "\n"
        "&emsp;holds only when $z \\neq 0$  \n"
        "",
    ),
    (
        "activations.relu",
        "text",
        "[conditional] ReLU'(z) = {1 if z > 0; 0 otherwise}\n    holds only when z ≠ 0",
    ),
    (
        "losses.cce",
        "tex",
        "\\entry{Categorical cross-entropy}{losses.cce}\n"
        "\\formula{L = - \\sum_{i=1}^{k} y_{i} \\log{\\left(\\hat{y}_{i} \\right)}}\n"
        "\\claim[{\\begin{aligned}\\frac{\\partial L}{\\partial z_{i}} &= \\frac{e^{z_{i}}}{\\sum_{l=1}^{k} e^{z_{l}}} \\\\ &\\quad - y_{i}\\end{aligned}}]{\\verdict{orange}{conditional}}{\\frac{\\partial L}{\\partial z_{i}} = \\frac{e^{z_{i}}}{\\sum_{l=1}^{k} e^{z_{l}}} - y_{i}}\n"
        "\\witness{holds only when $\\sum_{j=1}^{k} y_{j} = 1$}",
    ),
    (
        "losses.cce",
        "md",
        "$$\n"
        "L = - \\sum_{i=1}^{k} y_{i} \\log{\\left(\\hat{y}_{i} \\right)}\n"
        "$$\n"
        "\n"
        "**[conditional]** $\\displaystyle \\frac{\\partial L}{\\partial z_{i}} = \\frac{e^{z_{i}}}{\\sum_{l=1}^{k} e^{z_{l}}} - y_{i}$\n"
        "\n"
        "&emsp;holds only when $\\sum_{j=1}^{k} y_{j} = 1$  \n"
        "",
    ),
    (
        "losses.cce",
        "text",
        "[conditional] ∂L/∂zᵢ = exp(zᵢ)/Σₗ exp(zₗ) − yᵢ\n    holds only when Σⱼ yⱼ = 1",
    ),
    (
        "optim.nesterov_step",
        "tex",
        "\\entry{Nesterov momentum: velocity}{optim.nesterov\\_velocity}\n"
        "\\claim{\\verdict{red}{refuted}}{v_{\\mathrm{mom}} \\leftarrow \\beta v_{\\mathrm{mom}} + \\nabla L\\left(W - \\beta v_{\\mathrm{mom}}\\right)}\n"
        "\\beside{true: $v_{\\mathrm{mom}} \\leftarrow \\beta v_{\\mathrm{mom}} + \\nabla L\\left(W - \\beta \\eta v_{\\mathrm{mom}}\\right)$}\n"
        "\\witness{e.g. at $W = 1.19$, $\\beta = \\tfrac{1}{2}$, $\\eta = 0.261$, $v_{\\mathrm{mom}} = -0.516$ (with a test polynomial for $\\nabla L$): claimed $\\left(v_{\\mathrm{mom}}, W\\right)$ = $\\left(-0.391, 1.29\\right)$ vs true $\\left(-0.52, 1.32\\right)$}\n"
        "\\entry{Nesterov momentum: step}{optim.nesterov\\_step}\n"
        "\\formula{W \\leftarrow W - \\eta v_{\\mathrm{mom}}}",
    ),
    (
        "optim.nesterov_step",
        "md",
        "**[refuted]** $\\displaystyle v_{\\mathrm{mom}} \\leftarrow \\beta v_{\\mathrm{mom}} + \\nabla L\\left(W - \\beta v_{\\mathrm{mom}}\\right)$\n"
        "\n"
        "&emsp;↳ true: $v_{\\mathrm{mom}} \\leftarrow \\beta v_{\\mathrm{mom}} + \\nabla L\\left(W - \\beta \\eta v_{\\mathrm{mom}}\\right)$\n"
        "\n"
        "&emsp;e.g. at $W = 1.19$, $\\beta = \\tfrac{1}{2}$, $\\eta = 0.261$, $v_{\\mathrm{mom}} = -0.516$ (with a test polynomial for $\\nabla L$): claimed $\\left(v_{\\mathrm{mom}}, W\\right)$ = $\\left(-0.391, 1.29\\right)$ vs true $\\left(-0.52, 1.32\\right)$  \n"
        "\n"
        "$$\n"
        "W \\leftarrow W - \\eta v_{\\mathrm{mom}}\n"
        "$$\n"
        "",
    ),
    (
        "optim.nesterov_step",
        "text",
        "[refuted] v_mom ← β·v_mom + ∇L(W − β·v_mom)   true: v_mom ← β·v_mom + ∇L(W − β·η·v_mom)\n"
        "    e.g. at W = 1.19, β = ½, η = 0.261, v_mom = −0.516 (with a test polynomial for ∇L): claimed (v_mom, W) = (−0.391, 1.29) vs true (−0.52, 1.32)\n"
        "       W ← W − η·v_mom",
    ),
]


@pytest.mark.parametrize("case, fmt, expected", GOLDEN, ids=[f"{c}-{f}" for c, f, _ in GOLDEN])
def test_rendered_entries(catalog, case, fmt, expected):
    assert rendered(catalog, case, fmt) == expected


def test_nesterov_mark_sits_on_the_velocity_line_with_the_corrected_rule(catalog):
    text = rendered(catalog, "optim.nesterov_step", "tex")
    velocity, step = text.split(r"\entry{Nesterov momentum: step}")
    assert r"\verdict{red}{refuted}" in velocity and r"\beside{true: " in velocity
    assert r"\verdict" not in step


def test_ambiguity_names_its_readings_with_one_example_and_no_stand_in(catalog):
    formula = catalog.get("forward.layer1_act")
    [judged] = explain.judge(formula, 1, VERDICTS["forward.layer1_act"][0])
    assert [explain.as_text(r) for r in judged.why] == [
        "σ is the generic activation vs σ is the sigmoid: they differ, e.g. at z₁ = ½ "
        "(with a test polynomial for σ): 0.543 vs 0.622"
    ]


@pytest.mark.parametrize(
    "expr, expected",
    [
        (sp.Ne(sp.Symbol("z"), 0), "z ≠ 0"),
        (sp.Symbol("alpha") <= 1, "α ≤ 1"),
        (
            sp.Eq(
                sp.Sum(
                    sp.IndexedBase("y_cls")[sp.Symbol("j")], (sp.Symbol("j"), 1, sp.Symbol("k"))
                ),
                1,
            ),
            "Σⱼ yⱼ = 1",
        ),
        (sp.Symbol("beta_1") * sp.Symbol("m") + sp.Symbol("g") ** 2, "β₁·m + g²"),
        (sp.sqrt(sp.Symbol("x")), "√x"),
        (sp.Symbol("eta_max") / sp.Symbol("t_total"), "η_max/t_total"),
        (sp.Piecewise((1, sp.Symbol("z") > 0), (0, True)), "{1 if z > 0; 0 otherwise}"),
    ],
)
def test_unicode_text(expr, expected):
    assert unicode_text(expr) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("GELU(z)", r"\operatorname{GELU}(z)"),
        ("softmax(z)ᵢ", r"\operatorname{softmax}(z)_{i}"),
        ("∂L/∂W₂", r"\frac{\partial L}{\partial W_{2}}"),
        ("σ'(z)", r"\sigma'(z)"),
        ("tanh'(z)", r"\tanh'(z)"),
        ("L_total", r"L_{\mathrm{total}}"),
    ],
)
def test_sheet_notation_as_tex(text, expected):
    assert sheet_tex(text) == expected


@pytest.mark.parametrize(
    "formula_id, tex, text",
    [
        ("activations.gelu", r"\operatorname{GELU}(z) = z \Phi\left(z\right)", "GELU(z) = z·Φ(z)"),
        (
            "backprop.grad_w",
            r"\frac{\partial L}{\partial W} = \frac{\partial L}{\partial z} x^{\top}",
            "∂L/∂W = ∂L/∂z·xᵀ",
        ),
        ("optim.sgd", r"W \leftarrow W - \eta g", "W ← W − η·g"),
        (
            "losses.bce",
            r"L = - y \log{\left(\hat{y} \right)} - \left(1 - y\right) \log{\left(1 - \hat{y} \right)}",
            "L = −y·log(ŷ) − (1 − y)·log(1 − ŷ)",
        ),
    ],
)
def test_formula_lines_name_their_left_hand_side(catalog, formula_id, tex, text):
    line = formula_line(catalog.get(formula_id))
    assert (line.tex, line.text) == (tex, text)


@pytest.mark.parametrize(
    "raw, tex, text",
    [
        ("1/2", r"\tfrac{1}{2}", "½"),
        ("-129/250", "-0.516", "−0.516"),
        ("7", "7", "7"),
        ("0.543214285714", "0.543", "0.543"),
        ("1e-9", r"1 \cdot 10^{-9}", "1·10^-9"),
    ],
)
def test_witness_numbers_for_reading(raw, tex, text):
    shown = explain.number(raw)
    assert (shown.tex, shown.text) == (tex, text)


def test_broken_formula_has_one_term_per_row():
    assert sheet.broken(r"I = a \log{\left(a - b\right)} - c + d") == (
        r"\begin{aligned}I &= a \log{\left(a - b\right)} \\ &\quad - c \\ &\quad + d\end{aligned}"
    )
    assert sheet.broken(r"L = - \sum_{i} y_{i}") is None  # a leading sign starts no row


def test_repr_latex_of_formula_and_verdict(catalog):
    assert catalog.get("activations.gelu")._repr_latex_() == (
        r"$$\operatorname{GELU}(z) = z \Phi\left(z\right)$$"
    )
    verdict = Verdict(Status.CONDITIONAL, "symbolic", conditions=("Ne(z, 0)",), claim="a.b#1")
    assert verdict._repr_latex_() == (
        r"$\text{[conditional] a.b\#1 -- symbolic}\text{; holds only when }z \neq 0$"
    )
    refuted = Verdict(
        Status.REFUTED,
        "numeric",
        counterexample=Counterexample({"x": "1/2"}, lhs="1.0", rhs="2.0"),
    )
    assert refuted._repr_latex_() == (
        r"$\text{[refuted] -- numeric}\text{; }\text{e.g. at }x = \tfrac{1}{2}\text{: }1"
        r"\text{ vs }2$"
    )


def test_markdown_sheet_uses_only_katex_macros(monkeypatch, catalog):
    formulas = [catalog.get(i) for i in ("activations.relu", "losses.cce", "schedules.warmup")]
    built = sheet.entries(formulas, verdicts=VERDICTS, with_gradients=True)
    text = sheet.build_markdown(catalog, built, sheet.SheetOptions())
    for macro in (r"\ensuremath", r"\textless", r"\resizebox", r"\verdict", r"\hookrightarrow"):
        assert macro not in text
    assert "$$\n" in text and "$\\displaystyle " in text
