"""Part 3 of the sheet: backpropagation.

The loss is an unspecified scalar function L of the layer output, so each rule is checked
for every loss at once. Upstream gradients (∂L/∂z, ∂L/∂a) are symbols of the shape of
what they differentiate (denominator layout, column vectors as in Part 1); each records
what it stands for, so the verifier can expand it at concrete sizes.
"""

import sympy as sp

from symml.catalog.declare import Part
from symml.catalog.model import Derivative, Reading, Status

P = Part(3, "Backpropagation")

P.section("backprop")
m = P.size("m", meaning="output width")
n = P.size("n", meaning="input width")
h = P.size("h", meaning="hidden width of the two-layer network")
o = P.size("o", meaning="output width of the two-layer network")
W = P.matrix("W", m, n, meaning="weights")
x = P.vector("x", n, meaning="input")
b = P.vector("b", m, meaning="bias")
z = P.vector("z", m, meaning="pre-activation")
a = P.vector("a", m, meaning="activation")
Lf = P.function("L", meaning="the loss: any scalar function of the layer output")
act = P.function("sigma", meaning="the activation, applied elementwise (any activation)")
w_s = P.scalar("w", meaning="a scalar weight (chain rule)")
zf = P.function("z_of_w", meaning="the pre-activation as a function of a scalar weight")

W_1 = P.matrix("W_1", h, n, meaning="first-layer weights")
b_1 = P.vector("b_1", h, meaning="first-layer bias")
z_1 = P.vector("z_1", h, meaning="first-layer pre-activation")
a_1 = P.vector("a_1", h, meaning="first-layer activation")
W_2 = P.matrix("W_2", o, h, meaning="second-layer weights")
b_2 = P.vector("b_2", o, meaning="second-layer bias")
z_2 = P.vector("z_2", o, meaning="second-layer pre-activation")
a_2 = P.vector("a_2", o, meaning="second-layer activation (the network output)")

_u = sp.Dummy("u")
dact = sp.Lambda(_u, act(_u).diff(_u))  # σ' applied elementwise


def _act(v):
    return v.applyfunc(act)


dL_dz = P.gradient("dL_dz", Lf(z), z)
dL_da = P.gradient("dL_da", Lf(a), a)
dL_dz2 = P.gradient("dL_dz2", Lf(_act(z_2)), z_2)
dL_da2 = P.gradient("dL_da2", Lf(a_2), a_2)
dL_da1 = P.gradient("dL_da1", Lf(_act(W_2 * a_1 + b_2)), a_1)
dL_dz1 = P.gradient("dL_dz1", Lf(_act(W_2 * _act(z_1) + b_2)), z_1)

DOT_NOTE = (
    "The sheet's legend defines '·' as matrix multiplication or dot product; read that "
    "way ∂L/∂a · σ'(z) is a scalar. The rule holds with the elementwise product ⊙."
)

P.formula(
    "backprop.chain_rule",
    "Chain rule",
    sheet="∂L/∂W = ∂L/∂z · ∂z/∂W",
    expr=sp.Subs(sp.Derivative(Lf(_u), _u), _u, zf(w_s)) * sp.Derivative(zf(w_s), w_s),
    notes=(
        "Checked for a scalar weight. For a matrix W, ∂z/∂W is a third-order tensor and "
        "'·' is a contraction over the index of z.",
    ),
    claims=[
        Derivative(
            sheet="∂L/∂W = ∂L/∂z · ∂z/∂W",
            of=Lf(zf(w_s)),
            wrt=w_s,
            claimed=sp.Subs(sp.Derivative(Lf(_u), _u), _u, zf(w_s)) * sp.Derivative(zf(w_s), w_s),
        )
    ],
)
P.formula(
    "backprop.single_layer", "Single layer (backprop)", sheet="z = Wx + b", expr=W * x + b, lhs=z
)
P.formula(
    "backprop.grad_w",
    "Gradient w.r.t. the weights",
    sheet="∂L/∂W = ∂L/∂z · x^T",
    expr=dL_dz * x.T,
    claims=[
        Derivative(
            sheet="∂L/∂W = ∂L/∂z · x^T",
            of=Lf(W * x + b),
            wrt=W,
            claimed=dL_dz * x.T,
            where=((z, W * x + b),),
        )
    ],
)
P.formula(
    "backprop.grad_b",
    "Gradient w.r.t. the bias",
    sheet="∂L/∂b = ∂L/∂z",
    expr=dL_dz,
    claims=[
        Derivative(
            sheet="∂L/∂b = ∂L/∂z", of=Lf(W * x + b), wrt=b, claimed=dL_dz, where=((z, W * x + b),)
        )
    ],
)
P.formula(
    "backprop.grad_x",
    "Gradient w.r.t. the input",
    sheet="∂L/∂x = W^T · ∂L/∂z",
    expr=W.T * dL_dz,
    claims=[
        Derivative(
            sheet="∂L/∂x = W^T · ∂L/∂z",
            of=Lf(W * x + b),
            wrt=x,
            claimed=W.T * dL_dz,
            where=((z, W * x + b),),
        )
    ],
)
P.formula("backprop.activation", "Through an activation", sheet="a = σ(z)", expr=_act(z), lhs=a)


def _through_activation(sheet, upstream, pre, of, where):
    elementwise = sp.hadamard_product(upstream, pre.applyfunc(dact))
    dotted = upstream.T * pre.applyfunc(dact)
    return Derivative(
        sheet=sheet,
        of=of,
        wrt=pre,
        claimed=elementwise,
        where=where,
        expected=Status.AMBIGUOUS,
        note=DOT_NOTE,
        readings=(
            Reading("elementwise product ∂L/∂a ⊙ σ'(z)", elementwise, correct=True),
            Reading("dot product, as the sheet's legend defines '·'", dotted, correct=False),
        ),
    )


P.formula(
    "backprop.grad_z_activation",
    "Gradient through the activation",
    sheet="∂L/∂z = ∂L/∂a · σ'(z)",
    expr=sp.hadamard_product(dL_da, z.applyfunc(dact)),
    claims=[_through_activation("∂L/∂z = ∂L/∂a · σ'(z)", dL_da, z, Lf(_act(z)), ((a, _act(z)),))],
)
P.formula(
    "backprop.grad_w2",
    "Two layers: gradient w.r.t. W₂",
    sheet="∂L/∂W₂ = ∂L/∂z₂ · a₁^T",
    expr=dL_dz2 * a_1.T,
    claims=[
        Derivative(
            sheet="∂L/∂W₂ = ∂L/∂z₂ · a₁^T",
            of=Lf(_act(W_2 * a_1 + b_2)),
            wrt=W_2,
            claimed=dL_dz2 * a_1.T,
            where=((z_2, W_2 * a_1 + b_2),),
        )
    ],
)
P.formula(
    "backprop.grad_z2",
    "Two layers: gradient w.r.t. z₂",
    sheet="∂L/∂z₂ = ∂L/∂a₂ · σ'(z₂)",
    expr=sp.hadamard_product(dL_da2, z_2.applyfunc(dact)),
    claims=[
        _through_activation(
            "∂L/∂z₂ = ∂L/∂a₂ · σ'(z₂)", dL_da2, z_2, Lf(_act(z_2)), ((a_2, _act(z_2)),)
        )
    ],
)
P.formula(
    "backprop.grad_a1",
    "Two layers: gradient w.r.t. a₁",
    sheet="∂L/∂a₁ = W₂^T · ∂L/∂z₂",
    expr=W_2.T * dL_dz2,
    claims=[
        Derivative(
            sheet="∂L/∂a₁ = W₂^T · ∂L/∂z₂",
            of=Lf(_act(W_2 * a_1 + b_2)),
            wrt=a_1,
            claimed=W_2.T * dL_dz2,
            where=((z_2, W_2 * a_1 + b_2),),
        )
    ],
)
P.formula(
    "backprop.grad_w1",
    "Two layers: gradient w.r.t. W₁",
    sheet="∂L/∂W₁ = ∂L/∂z₁ · x^T",
    expr=dL_dz1 * x.T,
    claims=[
        Derivative(
            sheet="∂L/∂W₁ = ∂L/∂z₁ · x^T",
            of=Lf(_act(W_2 * _act(W_1 * x + b_1) + b_2)),
            wrt=W_1,
            claimed=dL_dz1 * x.T,
            where=((z_1, W_1 * x + b_1),),
        )
    ],
)
P.formula(
    "backprop.grad_z1",
    "Two layers: gradient w.r.t. z₁",
    sheet="∂L/∂z₁ = ∂L/∂a₁ · σ'(z₁)",
    expr=sp.hadamard_product(dL_da1, z_1.applyfunc(dact)),
    claims=[
        _through_activation(
            "∂L/∂z₁ = ∂L/∂a₁ · σ'(z₁)",
            dL_da1,
            z_1,
            Lf(_act(W_2 * _act(z_1) + b_2)),
            ((a_1, _act(z_1)),),
        )
    ],
)
