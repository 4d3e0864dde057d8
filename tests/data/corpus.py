"""ML LaTeX with its intended meaning: (latex, expected, declarations).

``expected`` is a Python expression over the helpers of ``namespace()`` (explicit
Symbols with their assumptions), or ``RAISES`` when the honest answer is a
``LatexParseError``. ``declarations`` is the symbol-table text (``SymbolTable.parse``).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from symml.catalog import primitives as F

RAISES = "RAISES"


def namespace() -> dict[str, Any]:
    def R(name: str) -> sp.Symbol:
        return sp.Symbol(name, real=True)

    def Pos(name: str) -> sp.Symbol:
        return sp.Symbol(name, real=True, positive=True)

    def Size(name: str) -> sp.Symbol:
        return sp.Symbol(name, real=True, integer=True, positive=True)

    def Idx(name: str) -> sp.Symbol:
        return sp.Symbol(name, real=True, integer=True, nonnegative=True)

    def Fam(name: str, *sizes: Any) -> sp.IndexedBase:
        if sizes:
            return sp.IndexedBase(name, shape=sizes, real=True)
        return sp.IndexedBase(name, real=True)

    def M(name: str, rows: Any, cols: Any) -> sp.MatrixSymbol:
        return sp.MatrixSymbol(name, rows, cols)

    def Fn(name: str) -> Any:
        return sp.Function(name, real=True)

    return {
        "sp": sp,
        "R": R,
        "Pos": Pos,
        "Size": Size,
        "Idx": Idx,
        "Fam": Fam,
        "M": M,
        "Fn": Fn,
        "sigmoid": F.sigmoid,
        "relu": F.relu,
        "gelu": F.gelu,
        "softplus": F.softplus,
        "leaky_relu": F.leaky_relu,
        "Phi": F.Phi,
        "exp": sp.exp,
        "log": sp.log,
        "sqrt": sp.sqrt,
        "tanh": sp.tanh,
        "Max": sp.Max,
        "Min": sp.Min,
        "Abs": sp.Abs,
        "Sum": sp.Sum,
        "Eq": lambda a, b: sp.Eq(a, b, evaluate=False),
        "D": sp.Derivative,
        "Piecewise": sp.Piecewise,
        "E": sp.E,
        "pi": sp.pi,
        "S": sp.S,
        "true": sp.true,
    }


z, x, y = "R('z')", "R('x')", "R('y')"
MATS = "matrix W m n\nvector x n\nvector b m\nvector z m"

CORPUS: list[tuple[str, str, str]] = [
    # -- activations ------------------------------------------------------------------
    (r"\frac{1}{1+e^{-z}}", f"1/(1+exp(-{z}))", ""),
    (r"\sigma(z) = \frac{1}{1 + e^{-z}}", f"Eq(sigmoid({z}), 1/(1+exp(-{z})))", ""),
    (
        r"\sigma'(z) = \sigma(z)(1-\sigma(z))",
        f"Eq(D(sigmoid({z}), {z}), sigmoid({z})*(1-sigmoid({z})))",
        "",
    ),
    (r"\sigma(z)", "Fn('sigma')(R('z'))", "sigma generic"),
    (
        r"\tanh(z) = \frac{e^z - e^{-z}}{e^z + e^{-z}}",
        f"Eq(tanh({z}), (exp({z})-exp(-{z}))/(exp({z})+exp(-{z})))",
        "",
    ),
    (r"\tanh'(z) = 1 - \tanh^2(z)", f"Eq(D(tanh({z}), {z}), 1 - tanh({z})**2)", ""),
    (r"\operatorname{ReLU}(z) = \max(0, z)", f"Eq(relu({z}), Max(0, {z}))", ""),
    (r"\mathrm{ReLU}(z)", f"relu({z})", ""),
    (r"\text{GELU}(z) = z \Phi(z)", f"Eq(gelu({z}), {z}*Phi({z}))", ""),
    (r"\operatorname{softplus}(z) = \log(1 + e^{z})", f"Eq(softplus({z}), log(1+exp({z})))", ""),
    (r"\max(\alpha z, z)", f"Max(R('alpha')*{z}, {z})", ""),
    (r"\operatorname{LeakyReLU}(z, \alpha)", f"leaky_relu({z}, R('alpha'))", ""),
    (
        r"\begin{cases} z & z > 0 \\ \alpha z & \text{otherwise} \end{cases}",
        f"Piecewise(({z}, {z} > 0), (R('alpha')*{z}, true))",
        "",
    ),
    (
        r"\begin{cases} 1 & \text{if } z > 0 \\ 0 & \text{otherwise} \end{cases}",
        f"Piecewise((1, {z} > 0), (0, true))",
        "",
    ),
    (
        r"\frac{e^{z_i}}{\sum_{j=1}^{k} e^{z_j}}",
        "exp(Fam('z')[Idx('i')])/Sum(exp(Fam('z')[Idx('j')]), (Idx('j'), 1, R('k')))",
        "",
    ),
    (
        r"\frac{e^{z_i/T}}{\sum_{j=1}^{k} e^{z_j/T}}",
        "exp(Fam('z')[Idx('i')]/R('T'))/Sum(exp(Fam('z')[Idx('j')]/R('T')), (Idx('j'), 1, R('k')))",
        "",
    ),
    (
        r"\frac{\exp(z_i)}{\sum_{j} \exp(z_j)}",
        "exp(Fam('z', Size('k'))[Idx('i')])/Sum(exp(Fam('z', Size('k'))[Idx('j')]), "
        "(Idx('j'), 1, Size('k')))",
        "indexed z k",
    ),
    (
        r"\sigma(Wx + b)",
        "(M('W', Size('m'), Size('n'))*M('x', Size('n'), 1) + M('b', Size('m'), 1))"
        ".applyfunc(sigmoid)",
        MATS,
    ),
    (r"\operatorname{softmax}(z)_i", RAISES, ""),
    (r"\sigma(z)", f"sigmoid({z})", ""),
    (r"\Phi(z)", f"Phi({z})", ""),
    (r"\frac{d}{dz} \sigma(z)", f"D(sigmoid({z}), {z})", ""),
    (r"\frac{d}{dz}\left(\frac{1}{1+e^{-z}}\right)", f"D(1/(1+exp(-{z})), {z})", ""),
    (r"\frac{d\tanh(z)}{dz}", f"D(tanh({z}), {z})", ""),
    # -- losses -------------------------------------------------------------------------
    (
        r"\frac{1}{n}\sum_{i=1}^{n}(y_i - \hat{y}_i)^2",
        "Sum((Fam('y')[Idx('i')] - Fam('yhat')[Idx('i')])**2, (Idx('i'), 1, R('n')))/R('n')",
        "",
    ),
    (
        r"\frac{1}{n}\sum_{i}(y_i - \hat{y}_i)^2",
        "Sum((Fam('y', Size('n'))[Idx('i')] - Fam('yhat', Size('n'))[Idx('i')])**2, "
        "(Idx('i'), 1, Size('n')))/Size('n')",
        "indexed y n\nindexed yhat n\nsize n",
    ),
    (r"\frac{1}{n}\sum_{i}(y_i - \hat{y}_i)^2", RAISES, ""),
    (
        r"\frac{1}{n}\sum_{i=1}^{n} |y_i - \hat{y}_i|",
        "Sum(Abs(Fam('y')[Idx('i')] - Fam('yhat')[Idx('i')]), (Idx('i'), 1, R('n')))/R('n')",
        "",
    ),
    (
        r"L = -[y \log(\hat{y}) + (1-y)\log(1-\hat{y})]",
        "Eq(R('L'), -(R('y')*log(R('yhat')) + (1-R('y'))*log(1-R('yhat'))))",
        "",
    ),
    (
        r"-\sum_{i=1}^{k} y_i \log \hat{y}_i",
        "-Sum(Fam('y')[Idx('i')]*log(Fam('yhat')[Idx('i')]), (Idx('i'), 1, R('k')))",
        "",
    ),
    (
        r"-\alpha (1-\hat{y})^\gamma \log(\hat{y})",
        "-R('alpha')*(1-R('yhat'))**R('gamma')*log(R('yhat'))",
        "",
    ),
    (r"\max(0, 1 - y\hat{y})", "Max(0, 1 - R('y')*R('yhat'))", ""),
    (
        r"\frac{\partial L}{\partial \hat{y}} = -\frac{y}{\hat{y}} + \frac{1-y}{1-\hat{y}}",
        "Eq(R('dL_dyhat'), -R('y')/R('yhat') + (1-R('y'))/(1-R('yhat')))",
        "",
    ),
    (r"\frac{\partial L}{\partial \hat{y}}", "D(Fn('L')(R('yhat')), R('yhat'))", "depends L yhat"),
    (r"\frac{\partial \hat{y}}{\partial z}", "R('dyhat_dz')", ""),
    (r"\frac{\partial \hat{y}}{\partial z}", "D(Fn('yhat')(R('z')), R('z'))", "depends yhat z"),
    (r"\frac{\partial (\hat{y} + 1)}{\partial z}", RAISES, ""),
    (r"\frac{1}{2}(y - \hat{y})^2", "(R('y') - R('yhat'))**2/2", ""),
    (
        r"\delta |y - \hat{y}| - \frac{1}{2}\delta^2",
        "R('delta')*Abs(R('y') - R('yhat')) - R('delta')**2/2",
        "",
    ),
    (
        r"\begin{cases} \frac{1}{2}(y-\hat{y})^2 & |y-\hat{y}| \leq \delta \\ "
        r"\delta|y-\hat{y}| - \frac{1}{2}\delta^2 & \text{otherwise} \end{cases}",
        "Piecewise(((R('y')-R('yhat'))**2/2, Abs(R('y')-R('yhat')) <= R('delta')), "
        "(R('delta')*Abs(R('y')-R('yhat')) - R('delta')**2/2, true))",
        "",
    ),
    (r"\mathrm{KL}(p \| q)", RAISES, ""),
    (
        r"-\sum_{i=1}^{k} p_i \log \frac{q_i}{p_i}",
        "-Sum(Fam('p')[Idx('i')]*log(Fam('q')[Idx('i')]/Fam('p')[Idx('i')]), (Idx('i'), 1, R('k')))",
        "",
    ),
    # -- optimizers ---------------------------------------------------------------------
    (r"\theta := \theta - \eta g", "Eq(R('theta'), R('theta') - R('eta')*R('g'))", ""),
    (r"\theta \leftarrow \theta - \eta g", "Eq(R('theta'), R('theta') - R('eta')*R('g'))", ""),
    (
        r"W := W - \eta \frac{\partial L}{\partial W}",
        "Eq(M('W', Size('m'), Size('n')), M('W', Size('m'), Size('n')) - "
        "R('eta')*M('dL_dW', Size('m'), Size('n')))",
        MATS,
    ),
    (
        r"v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2",
        "Eq(R('v_t'), R('beta_2')*R('v_t-1') + (1-R('beta_2'))*R('g_t')**2)",
        "",
    ),
    (
        r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t",
        "Eq(R('m_t'), R('beta_1')*R('m_t-1') + (1-R('beta_1'))*R('g_t'))",
        "",
    ),
    (
        r"\hat{m}_t = \frac{m_t}{1-\beta_1^t}",
        "Eq(R('mhat_t'), R('m_t')/(1-R('beta_1')**R('t')))",
        "",
    ),
    (
        r"\theta_t = \theta_{t-1} - \frac{\eta \hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}",
        "Eq(R('theta_t'), R('theta_t-1') - R('eta')*R('mhat_t')/(sqrt(R('vhat_t')) + R('epsilon')))",
        "",
    ),
    (
        r"\eta_t = \eta_{min} + \frac{1}{2}(\eta_{max} - \eta_{min})(1 + \cos(\frac{t\pi}{T}))",
        "Eq(R('eta_t'), R('eta_min') + (R('eta_max')-R('eta_min'))*(1+sp.cos(R('t')*pi/R('T')))/2)",
        "",
    ),
    (r"\eta_{\mathrm{max}}", "R('eta_max')", ""),
    (r"\mathrm{lr} \cdot g", "R('lr')*R('g')", ""),
    (r"lr \cdot g", RAISES, ""),
    (r"lr \cdot g", "R('lr')*R('g')", "scalar lr"),
    (r"pos / 10000", RAISES, ""),
    (
        r"\theta - \eta \nabla_\theta L(\theta)",
        "R('theta') - R('eta')*D(Fn('L')(R('theta')), R('theta'))",
        "",
    ),
    (r"\eta_0 \gamma^{t}", "R('eta_0')*R('gamma')**R('t')", ""),
    (r"\frac{\eta_0}{\sqrt{t}}", "R('eta_0')/sqrt(R('t'))", ""),
    (
        r"\lambda \sum_{j=1}^{n} w_j^2",
        "R('lambda')*Sum(Fam('w')[Idx('j')]**2, (Idx('j'), 1, R('n')))",
        "",
    ),
    (
        r"\lambda \sum_{j=1}^{n} |w_j|",
        "R('lambda')*Sum(Abs(Fam('w')[Idx('j')]), (Idx('j'), 1, R('n')))",
        "",
    ),
    (r"\sqrt[3]{x}", f"{x}**(S(1)/3)", ""),
    # a subscript spelled as a word, unbraced: TeX takes \mathrm{…} as the one argument
    (r"L_\mathrm{total}", "R('L_total')", ""),
    (r"\eta_\operatorname{max} t / t_\mathrm{warmup}", "R('eta_max')*R('t')/R('t_warmup')", ""),
    # Σ with no index: the one subscript letter of the body, or every entry of one name
    (
        r"\frac{\lambda}{2} \sum W^2",
        "R('lambda')/2*Sum(Fam('W')[Idx('j')]**2, (Idx('j'), 1, Size('n')))",
        "sumsize n",
    ),
    (
        r"\sum (y_i - \hat{y}_i)^2",
        "Sum((Fam('y')[Idx('i')] - Fam('yhat')[Idx('i')])**2, (Idx('i'), 1, Size('n')))",
        "sumsize n",
    ),
    (r"\sum W^2", RAISES, ""),  # no bound written and no default size
    (r"\sum x y", RAISES, "sumsize n"),  # over x or over y?
    (r"\sum x_i y_j", RAISES, "sumsize n"),  # over i or over j?
    (r"\sum P(x) \log P(x)", RAISES, "sumsize n\nfunction P"),  # over values of x
    (r"\sum^{n} W^2", RAISES, "sumsize n"),
    # -- calculus claims -----------------------------------------------------------------
    (r"\frac{d}{dx} x^2 = 2x", f"Eq(D({x}**2, {x}), 2*{x})", ""),
    (r"\frac{d^2}{dx^2} x^3 = 6x", f"Eq(D({x}**3, ({x}, 2)), 6*{x})", ""),
    (
        r"\frac{\partial^2 f}{\partial x \partial y}",
        "D(Fn('f')(R('x'), R('y')), R('x'), R('y'))",
        "depends f x y",
    ),
    (r"\frac{\partial}{\partial x} (x y)", f"D({x}*{y}, {x})", ""),
    (r"f'(x)", f"D(Fn('f')({x}), {x})", ""),
    (r"f''(x)", f"D(Fn('f')({x}), ({x}, 2))", ""),
    (r"\frac{dy}{dx}", "R('dy_dx')", ""),
    (r"\log x", f"log({x})", ""),
    (r"\ln x", f"log({x})", ""),
    (r"\log_2 x", f"log({x}, 2)", ""),
    (r"\log_{10}(x)", f"log({x}, 10)", ""),
    (r"e^{-z}", f"exp(-{z})", ""),
    (r"e^x e^y", f"exp({x})*exp({y})", ""),
    (r"\exp(-\frac{x^2}{2})", f"exp(-{x}**2/2)", ""),
    (r"\log x y", RAISES, ""),
    (r"\int_0^1 x \, dx", RAISES, ""),
    (r"\lim_{x \to 0} x", RAISES, ""),
    (r"p(x)", RAISES, ""),
    (r"p(1-p)", "R('p')*(1-R('p'))", "scalar p"),
    (r"x(1-x)", f"{x}*(1-{x})", ""),
    (r"\frac{1}{\sqrt{2\pi}} e^{-x^2/2}", f"exp(-{x}**2/2)/sqrt(2*pi)", ""),
    # -- linear algebra --------------------------------------------------------------------
    (
        r"z = Wx + b",
        "Eq(M('z', Size('m'), 1), M('W', Size('m'), Size('n'))*M('x', Size('n'), 1) "
        "+ M('b', Size('m'), 1))",
        MATS,
    ),
    (r"W^T z", "M('W', Size('m'), Size('n')).T*M('z', Size('m'), 1)", MATS),
    (r"W^\top z", "M('W', Size('m'), Size('n')).T*M('z', Size('m'), 1)", MATS),
    (r"x^{\top} x", "M('x', Size('n'), 1).T*M('x', Size('n'), 1)", MATS),
    (r"x^T", RAISES, ""),
    (r"x^T", f"{x}**R('T')", "scalar T"),
    (r"z \odot z", "sp.hadamard_product(M('z', Size('m'), 1), M('z', Size('m'), 1))", MATS),
    (
        r"\frac{\partial L}{\partial W} = \frac{\partial L}{\partial z} x^T",
        "Eq(M('dL_dW', Size('m'), Size('n')), M('dL_dz', Size('m'), 1)*M('x', Size('n'), 1).T)",
        MATS,
    ),
    (r"W + b", RAISES, "matrix W m n\nvector b n"),
    (r"W + 1", RAISES, MATS),
    (r"\frac{x}{W}", RAISES, MATS),
    (
        r"A^{-1} b",
        "sp.Inverse(M('A', Size('n'), Size('n')))*M('b', Size('n'), 1)",
        "matrix A n n\nvector b n",
    ),
    (r"\mathbf{W}\mathbf{x}", "M('W', Size('m'), Size('n'))*M('x', Size('n'), 1)", MATS),
    (r"\mathbb{E}[x]", RAISES, ""),
    (r"\mathbb{R}^n", RAISES, ""),
    # -- naming ---------------------------------------------------------------------------
    (r"W + w", "R('W') + R('w')", ""),
    (r"\gamma x", f"R('gamma')*{x}", ""),
    (r"I + x", f"R('I') + {x}", ""),
    (r"\beta_1", "R('beta_1')", ""),
    (r"\hat{y}_i", "R('yhat_i')", ""),
    (r"\hat{y}", "R('yhat')", ""),
    (r"\bar{x}", "R('xbar')", ""),
    (r"\tilde{x}", "R('xtilde')", ""),
    (r"W^{(l)} a^{(l-1)} + b^{(l)}", "R('W^(l)')*R('a^(l-1)') + R('b^(l)')", ""),
    (r"\theta^*", "R('thetastar')", ""),
    (r"d_k", "R('d_k')", ""),
    (
        r"\frac{QK^T}{\sqrt{d_k}}",
        "M('Q', Size('n'), Size('d'))*M('K', Size('n'), Size('d')).T/sqrt(R('d_k'))",
        "matrix Q n d\nmatrix K n d",
    ),
    (r"\epsilon", "R('epsilon')", ""),
    (r"\varepsilon", "R('epsilon')", ""),
    (r"2 \cdot 3", "S(6)", ""),
    (r"0.01 x", f"S(1)/100*{x}", ""),
    (r"\frac{1}{2}", "S(1)/2", ""),
    (r"x_{i}", "R('x_i')", ""),
    (r"x \pm 1", RAISES, ""),
    (r"\sigma^{-1}(z)", RAISES, ""),
    (r"(x", RAISES, ""),
    (r"x +", RAISES, ""),
    (r"\frac{1}{0}", RAISES, ""),
    (r"a = b = c", RAISES, ""),
]
