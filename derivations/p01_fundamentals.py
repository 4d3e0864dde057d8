"""Part 1 of the sheet: forward pass and activation functions."""

import sympy as sp

from symml.catalog.declare import Part
from symml.catalog.domains import interval, positive, real, unit_open
from symml.catalog.model import (
    Convention,
    Derivative,
    Identity,
    Matches,
    Notation,
    Property,
    Reading,
    Status,
)
from symml.catalog.primitives import Phi, leaky_relu, relu, sigmoid

P = Part(1, "Neural network fundamentals")

P.section("forward")  # column vectors
m = P.size("m", meaning="output width of the layer")
n = P.size("n", meaning="input width of the layer")
W = P.matrix("W", m, n, meaning="weight matrix", sheet="- W ∈ ℝ^(m×n) (weight matrix)")
x = P.vector("x", n, meaning="input vector", sheet="- x ∈ ℝ^n (input vector)")
b = P.vector("b", m, meaning="bias vector", sheet="- b ∈ ℝ^m (bias vector)")
z_vec = P.vector(
    "z", m, meaning="pre-activation output z", sheet="- z ∈ ℝ^m (pre-activation output)"
)

h_1 = P.size("h_1", meaning="width of the first hidden layer")
h_2 = P.size("h_2", meaning="width of the second layer")
W_1 = P.matrix("W_1", h_1, n, meaning="first-layer weights")
b_1 = P.vector("b_1", h_1, meaning="first-layer bias")
W_2 = P.matrix("W_2", h_2, h_1, meaning="second-layer weights")
b_2 = P.vector("b_2", h_2, meaning="second-layer bias")
z_1 = P.vector("z_1", h_1, meaning="first-layer pre-activation")
a_1 = P.vector("a_1", h_1, meaning="first-layer activation")
z_2 = P.vector("z_2", h_2, meaning="second-layer pre-activation")
a_2 = P.vector("a_2", h_2, meaning="second-layer activation")
act = P.function(
    "sigma",
    meaning="the activation σ of the multi-layer block, applied elementwise "
    "(any activation, not necessarily the sigmoid)",
)

P.formula(
    "forward.linear",
    "Linear layer",
    sheet="z = Wx + b",
    expr=W * x + b,
    lhs=z_vec,
    notes=("Vectors are columns in this part.",),
)

P.formula(
    "forward.layer1_pre",
    "Multi-layer: first pre-activation",
    sheet="z₁ = W₁x + b₁",
    expr=W_1 * x + b_1,
    lhs=z_1,
)
P.formula(
    "forward.layer1_act",
    "Multi-layer: first activation",
    sheet="a₁ = σ(z₁)",
    expr=z_1.applyfunc(act),
    lhs=a_1,
    notes=(
        "σ here is the generic activation, applied elementwise; in the activation "
        "section the same letter means the sigmoid.",
    ),
    claims=[
        Notation(
            sheet="a₁ = σ(z₁)",
            expected=Status.AMBIGUOUS,
            note="σ names both the sigmoid and 'any activation' on the same sheet.",
            readings=(
                Reading("σ is the generic activation", z_1.applyfunc(act), True),
                Reading("σ is the sigmoid", z_1.applyfunc(sigmoid), None),
            ),
        )
    ],
)
P.formula(
    "forward.layer2_pre",
    "Multi-layer: second pre-activation",
    sheet="z₂ = W₂a₁ + b₂",
    expr=W_2 * a_1 + b_2,
    lhs=z_2,
)
P.formula(
    "forward.layer2_act",
    "Multi-layer: second activation",
    sheet="a₂ = σ(z₂)\n...",
    expr=z_2.applyfunc(act),
    lhs=a_2,
    notes=("'...' repeats the pattern for further layers.",),
)

P.section("activations")  # scalar functions of a scalar, then softmax over k logits
z = P.scalar("z", real, meaning="pre-activation (scalar)")
alpha = P.scalar(
    "alpha",
    positive,
    typical=sp.Rational(1, 100),
    meaning="negative slope",
    sheet="LeakyReLU(z) = max(αz, z)  where α ≈ 0.01",
)

t = P.scalar("t", real, meaning="integration variable of Φ")
k = P.size("k", meaning="number of classes")
zs = P.indexed("z_vec", k, meaning="logits z_1 … z_k (the sheet's z)")
i = P.index("i", meaning="output class")
j = P.index("j", meaning="summation index")
T = P.scalar("T", real, meaning="temperature (the sheet does not say it must be positive)")

P.formula(
    "activations.sigmoid",
    "Sigmoid",
    sheet="σ(z) = 1 / (1 + e^(-z))",
    expr=1 / (1 + sp.exp(-z)),
    lhs=sigmoid(z),
    claims=[
        Derivative(sheet="σ'(z) = σ(z)(1 - σ(z))", wrt=z, claimed=sigmoid(z) * (1 - sigmoid(z))),
        Property(sheet="Range: (0, 1)", predicate="range", params=(("interval", unit_open),)),
    ],
)
P.formula(
    "activations.tanh",
    "Tanh",
    sheet="tanh(z) = (e^z - e^(-z)) / (e^z + e^(-z))",
    expr=(sp.exp(z) - sp.exp(-z)) / (sp.exp(z) + sp.exp(-z)),
    lhs=sp.tanh(z),
    claims=[
        Identity(
            sheet="tanh(z) = (e^z - e^(-z)) / (e^z + e^(-z))",
            lhs=sp.tanh(z),
            rhs=(sp.exp(z) - sp.exp(-z)) / (sp.exp(z) + sp.exp(-z)),
        ),
        Derivative(sheet="tanh'(z) = 1 - tanh²(z)", wrt=z, claimed=1 - sp.tanh(z) ** 2),
        Property(
            sheet="Range: (-1, 1)", predicate="range", params=(("interval", interval(-1, 1)),)
        ),
    ],
)
P.formula(
    "activations.relu",
    "ReLU",
    sheet="ReLU(z) = max(0, z)",
    expr=sp.Max(0, z),
    lhs=relu(z),
    claims=[
        Derivative(
            sheet="ReLU'(z) = 1 if z > 0, else 0",
            wrt=z,
            claimed=sp.Piecewise((1, z > 0), (0, True)),
            expected=Status.CONDITIONAL,
            conditions=(sp.Ne(z, 0),),
            note="ReLU is not differentiable at z = 0; 0 there is a subgradient convention "
            "(PyTorch and JAX use it too).",
        ),
    ],
)
P.formula(
    "activations.leaky_relu",
    "Leaky ReLU",
    sheet="LeakyReLU(z) = max(αz, z)  where α ≈ 0.01",
    expr=sp.Max(alpha * z, z),
    lhs=leaky_relu(z, alpha),
    claims=[
        Identity(
            sheet="LeakyReLU(z) = max(αz, z)  where α ≈ 0.01",
            lhs=leaky_relu(z, alpha),
            rhs=sp.Max(alpha * z, z),
            note="max(αz, z) is the leaky ReLU only for α ≤ 1; for α > 1 it returns αz for z > 0.",
            expected=Status.CONDITIONAL,
            conditions=(alpha <= 1,),
        ),
    ],
)
P.formula(
    "activations.gelu",
    "GELU",
    sheet="GELU(z) = z · Φ(z)",
    expr=z * Phi(z),
    sheet_notes=("where Φ(z) is CDF of standard normal",),
    claims=[
        Identity(
            sheet="where Φ(z) is CDF of standard normal",
            lhs=Phi(z),
            rhs=sp.Integral(sp.exp(-(t**2) / 2), (t, -sp.oo, z)) / sp.sqrt(2 * sp.pi),
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "nn.GELU(approximate='tanh') and jax.nn.gelu "
            "(approximate=True by default) use 0.5z(1+tanh(√(2/π)(z+0.044715z³))), "
            "which differs from zΦ(z) by up to about 4.7e-4 (near |z| ≈ 2.5).",
        ),
    ),
)

softmax_i = sp.exp(zs[i]) / sp.Sum(sp.exp(zs[j]), (j, 1, k))
P.formula(
    "activations.softmax",
    "Softmax",
    sheet="softmax(z)ᵢ = exp(zᵢ) / Σⱼ exp(zⱼ)",
    expr=softmax_i,
    claims=[
        Property(
            sheet="Output: probability distribution (sums to 1)",
            predicate="sums_to",
            params=(("index", i), ("lower", 1), ("upper", k), ("value", sp.S.One)),
        ),
        Property(
            sheet="Output: probability distribution (sums to 1)",
            predicate="range",
            params=(("interval", unit_open),),
        ),
    ],
)


def _tempered(temp):
    return sp.exp(zs[i] / temp) / sp.Sum(sp.exp(zs[j] / temp), (j, 1, k))


P.formula(
    "activations.softmax_temperature",
    "Softmax with temperature",
    sheet="softmax(z, T)ᵢ = exp(zᵢ/T) / Σⱼ exp(zⱼ/T)",
    expr=_tempered(T),
    claims=[
        Property(
            sheet="- T < 1: sharper (more confident)",
            predicate="sharper_below",
            params=(("var", T), ("pivot", sp.S.One), ("index", i), ("upper", k)),
            expected=Status.CONDITIONAL,
            conditions=(T > 0,),
            note="Holds for 0 < T < 1 on logits that are not all equal; for T < 0 the "
            "order of the classes flips, and T = 0 is undefined.",
        ),
        Property(
            sheet="- T > 1: smoother (more random)",
            predicate="smoother_above",
            params=(("var", T), ("pivot", sp.S.One), ("index", i), ("upper", k)),
            expected=Status.PROVED,
            note="Peakedness measured by the largest probability (and the entropy).",
        ),
    ],
)


# -- The same functions in the frameworks (checked by `symml verify --against jax,torch`) -------
_LEAKY = dict(
    expected=Status.DIFFERS,
    badge="α > 1",
    difference="max(αz, z) returns αz for z > 0 once α > 1; the frameworks return z",
    agrees_when="α ≤ 1",
)
_VECTOR = dict(over=(i, k), sizes=((k, 4),))
for _id, _jax, _torch, _extra in (
    ("activations.sigmoid", "jax.nn.sigmoid", "torch.sigmoid", {}),
    ("activations.tanh", "jax.numpy.tanh", "torch.tanh", {}),
    ("activations.relu", "jax.nn.relu", "torch.relu", {}),
):
    _sheet = next(f.sheet for f in P.formulas if f.id == _id)
    P.also(
        _id,
        Matches(sheet=_sheet, framework="jax", reference=_jax, inputs=(("x", z),)),
        Matches(sheet=_sheet, framework="torch", reference=_torch, inputs=(("input", z),)),
    )
P.also(
    "activations.leaky_relu",
    Matches(
        sheet="LeakyReLU(z) = max(αz, z)  where α ≈ 0.01",
        framework="jax",
        reference="jax.nn.leaky_relu",
        inputs=(("x", z), ("negative_slope", alpha)),
        **_LEAKY,
    ),
    Matches(
        sheet="LeakyReLU(z) = max(αz, z)  where α ≈ 0.01",
        framework="torch",
        reference="torch.nn.functional.leaky_relu",
        inputs=(("input", z), ("negative_slope", alpha)),
        **_LEAKY,
    ),
)
P.also(
    "activations.gelu",
    Matches(
        sheet="GELU(z) = z · Φ(z)",
        framework="jax",
        reference="jax.nn.gelu",
        inputs=(("x", z),),
        expected=Status.DIFFERS,
        badge="tanh approximation",
        difference="jax.nn.gelu approximates by default: 0.5z(1 + tanh(√(2/π)(z + 0.044715z³)))",
        agrees_when="jax.nn.gelu(z, approximate=False)",
    ),
    Matches(
        sheet="GELU(z) = z · Φ(z)",
        framework="torch",
        reference="torch.nn.functional.gelu",
        inputs=(("input", z),),
        note="torch's default approximate='none' is the exact z·Φ(z).",
    ),
)
P.also(
    "activations.softmax",
    Matches(
        sheet="softmax(z)ᵢ = exp(zᵢ) / Σⱼ exp(zⱼ)",
        framework="jax",
        reference="jax.nn.softmax",
        inputs=(("x", zs[i]),),
        **_VECTOR,
    ),
    Matches(
        sheet="softmax(z)ᵢ = exp(zᵢ) / Σⱼ exp(zⱼ)",
        framework="torch",
        reference="torch.softmax",
        inputs=(("input", zs[i]),),
        **_VECTOR,
    ),
)
P.also(
    "activations.softmax_temperature",
    Matches(
        sheet="softmax(z, T)ᵢ = exp(zᵢ/T) / Σⱼ exp(zⱼ/T)",
        framework="jax",
        reference="jax.nn.softmax",
        inputs=(("x", zs[i] / T),),
        note="The frameworks take the temperature by dividing the logits: softmax(z / T).",
        **_VECTOR,
    ),
    Matches(
        sheet="softmax(z, T)ᵢ = exp(zᵢ/T) / Σⱼ exp(zⱼ/T)",
        framework="torch",
        reference="torch.softmax",
        inputs=(("input", zs[i] / T),),
        note="The frameworks take the temperature by dividing the logits: softmax(z / T).",
        **_VECTOR,
    ),
)

# -- The derivatives against autodiff: the frameworks' gradient at every input, z = 0 too ------
for _id, _sheet, _reference in (
    ("activations.sigmoid", "σ'(z) = σ(z)(1 - σ(z))", "jax.grad(jax.nn.sigmoid)"),
    ("activations.tanh", "tanh'(z) = 1 - tanh²(z)", "jax.grad(jax.numpy.tanh)"),
    ("activations.relu", "ReLU'(z) = 1 if z > 0, else 0", "jax.grad(jax.nn.relu)"),
):
    _claimed = next(
        c.claimed for f in P.formulas if f.id == _id for c in f.claims if c.sheet == _sheet
    )
    P.also(
        _id,
        Matches(
            sheet=_sheet,
            framework="jax",
            reference=_reference,
            subject=_claimed,
            inputs=(("x", z),),
            note="At z = 0 ReLU has no derivative; JAX, like the sheet, returns 0 there."
            if _id == "activations.relu"
            else "",
        ),
    )
P.also(
    "activations.relu",
    Matches(
        sheet="ReLU'(z) = 1 if z > 0, else 0",
        framework="torch",
        reference="torch.autograd of torch.relu",
        subject=sp.Piecewise((1, z > 0), (0, True)),
        inputs=(("input", z),),
        note="At z = 0 ReLU has no derivative; PyTorch, like the sheet, returns 0 there.",
    ),
)
