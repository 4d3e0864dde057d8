"""Part 7 of the sheet: vanilla RNN, LSTM and GRU cells (one time step)."""

import sympy as sp

from symml.catalog.declare import Part
from symml.catalog.domains import unit_open
from symml.catalog.model import Convention, Matches, Notation, Reading, Status
from symml.catalog.primitives import sigmoid

P = Part(7, "Recurrent neural networks")

CONCAT_NOTE = (
    "[hₜ₋₁, xₜ] is the concatenation of the two column vectors, a column of length "
    "H + D (BlockMatrix([[h_prev], [x_t]])); the weight matrix is H × (H + D)."
)

P.section("rnn")  # column vectors
H = P.size("H", meaning="hidden size")
D = P.size("D", meaning="input size")
M = P.size("M", meaning="output size")
h_prev = P.vector("h_prev", H, meaning="previous hidden state hₜ₋₁")
x_t = P.vector("x_t", D, meaning="input at step t")
h_t = P.vector("h_t", H, meaning="hidden state at step t")
y_t = P.vector("y_t", M, meaning="output at step t")
W_hh = P.matrix("W_hh", H, H, meaning="hidden-to-hidden weights")
W_xh = P.matrix("W_xh", H, D, meaning="input-to-hidden weights")
b_h = P.vector("b_h", H, meaning="hidden bias")
W_hy = P.matrix("W_hy", M, H, meaning="hidden-to-output weights")
b_y = P.vector("b_y", M, meaning="output bias")

P.formula(
    "rnn.hidden",
    "Vanilla RNN hidden state",
    sheet="hₜ = tanh(Wₕₕ·hₜ₋₁ + Wₓₕ·xₜ + bₕ)",
    expr=(W_hh * h_prev + W_xh * x_t + b_h).applyfunc(sp.tanh),
    lhs=h_t,
    notes=("Vectors are columns in this part; tanh is applied elementwise.",),
    conventions=(
        Convention(
            "PyTorch",
            "nn.RNN computes tanh(W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh) with two "
            "bias vectors (their sum plays the role of bₕ: same function class).",
        ),
    ),
)
P.formula(
    "rnn.output",
    "Vanilla RNN output",
    sheet="yₜ = Wₕᵧ·hₜ + bᵧ",
    expr=W_hy * h_t + b_y,
    lhs=y_t,
    conventions=(
        Convention(
            "PyTorch",
            "nn.RNN returns the hidden states hₜ as its output; the readout "
            "Wₕᵧ·hₜ + bᵧ is a separate nn.Linear.",
        ),
    ),
)

P.also(
    "rnn.hidden",
    Matches(
        sheet="hₜ = tanh(Wₕₕ·hₜ₋₁ + Wₓₕ·xₜ + bₕ)",
        framework="torch",
        reference="torch.nn.RNNCell",
        inputs=(("x", x_t), ("h", h_prev), ("W_xh", W_xh), ("W_hh", W_hh), ("b_h", b_h)),
        sizes=((H, 3), (D, 2)),
        note="torch's bias_hh is set to 0 and its bias_ih to bₕ.",
    ),
)


def _formula(formula_id):
    return next(f.expr for f in P.formulas if f.id == formula_id)


P.section("lstm")  # column vectors
H = P.size("H", meaning="hidden (and cell) size")
D = P.size("D", meaning="input size")
h_prev = P.vector("h_prev", H, meaning="previous hidden state hₜ₋₁")
x_t = P.vector("x_t", D, meaning="input at step t")
C_prev = P.vector("C_prev", H, meaning="previous cell state Cₜ₋₁")
W_f = P.matrix("W_f", H, H + D, meaning="forget-gate weights")
W_i = P.matrix("W_i", H, H + D, meaning="input-gate weights")
W_c = P.matrix("W_c", H, H + D, meaning="candidate-cell weights")
W_o = P.matrix("W_o", H, H + D, meaning="output-gate weights")
b_f = P.vector("b_f", H, meaning="forget-gate bias")
b_i = P.vector("b_i", H, meaning="input-gate bias")
b_c = P.vector("b_c", H, meaning="candidate-cell bias")
b_o = P.vector("b_o", H, meaning="output-gate bias")
f_t = P.vector("f_t", H, unit_open, meaning="forget gate")
i_t = P.vector("i_t", H, unit_open, meaning="input gate")
Ctilde = P.vector("Ctilde", H, meaning="candidate cell C̃ₜ")
C_t = P.vector("C_t", H, meaning="cell state")
o_t = P.vector("o_t", H, unit_open, meaning="output gate")
h_t = P.vector("h_t", H, meaning="hidden state")

hx = sp.BlockMatrix([[h_prev], [x_t]])

P.formula(
    "lstm.forget_gate",
    "LSTM forget gate",
    sheet="fₜ = σ(Wf·[hₜ₋₁, xₜ] + bf)    (forget gate)",
    expr=(W_f * hx + b_f).applyfunc(sigmoid),
    lhs=f_t,
    notes=(CONCAT_NOTE, "σ is the sigmoid, applied elementwise."),
    conventions=(
        Convention(
            "PyTorch",
            "nn.LSTM stacks the gate weights in the order (i, f, g, o) "
            "(g = candidate C̃), splits W·[h, x] into W_ih x + W_hh h, and uses two bias "
            "vectors b_ih + b_hh per gate (same function class).",
        ),
    ),
)
P.formula(
    "lstm.input_gate",
    "LSTM input gate",
    sheet="iₜ = σ(Wi·[hₜ₋₁, xₜ] + bi)    (input gate)",
    expr=(W_i * hx + b_i).applyfunc(sigmoid),
    lhs=i_t,
    notes=(CONCAT_NOTE,),
)
P.formula(
    "lstm.candidate",
    "LSTM candidate cell",
    sheet="C̃ₜ = tanh(Wc·[hₜ₋₁, xₜ] + bc) (candidate cell)",
    expr=(W_c * hx + b_c).applyfunc(sp.tanh),
    lhs=Ctilde,
    notes=(CONCAT_NOTE,),
)
P.formula(
    "lstm.cell",
    "LSTM cell state",
    sheet="Cₜ = fₜ ⊙ Cₜ₋₁ + iₜ ⊙ C̃ₜ      (cell state)",
    expr=sp.hadamard_product(f_t, C_prev) + sp.hadamard_product(i_t, Ctilde),
    lhs=C_t,
    sheet_notes=("- ⊙ = element-wise multiplication",),
)
P.formula(
    "lstm.output_gate",
    "LSTM output gate",
    sheet="oₜ = σ(Wo·[hₜ₋₁, xₜ] + bo)    (output gate)",
    expr=(W_o * hx + b_o).applyfunc(sigmoid),
    lhs=o_t,
    notes=(CONCAT_NOTE,),
)
P.formula(
    "lstm.hidden",
    "LSTM hidden state",
    sheet="hₜ = oₜ ⊙ tanh(Cₜ)             (hidden state)",
    expr=sp.hadamard_product(o_t, C_t.applyfunc(sp.tanh)),
    lhs=h_t,
)

_cell_state = _formula("lstm.cell").xreplace(
    {
        f_t: _formula("lstm.forget_gate"),
        i_t: _formula("lstm.input_gate"),
        Ctilde: _formula("lstm.candidate"),
    }
)
P.also(
    "lstm.hidden",
    Matches(
        sheet="hₜ = oₜ ⊙ tanh(Cₜ)             (hidden state)",
        framework="torch",
        reference="torch.nn.LSTMCell",
        subject=_formula("lstm.hidden").xreplace(
            {o_t: _formula("lstm.output_gate"), C_t: _cell_state}
        ),
        inputs=(
            ("x", x_t),
            ("h", h_prev),
            ("c", C_prev),
            ("W_i", W_i),
            ("W_f", W_f),
            ("W_c", W_c),
            ("W_o", W_o),
            ("b", sp.BlockMatrix([[b_i], [b_f], [b_c], [b_o]])),
        ),
        sizes=((H, 3), (D, 2)),
        note="The whole cell: the gates of the lines above substituted into hₜ; torch's "
        "gate order (i, f, g, o) and its split of W into the hₜ₋₁ and xₜ columns are mapped.",
    ),
)

P.section("gru")  # column vectors
H = P.size("H", meaning="hidden size")
D = P.size("D", meaning="input size")
h_prev = P.vector("h_prev", H, meaning="previous hidden state hₜ₋₁")
x_t = P.vector("x_t", D, meaning="input at step t")
W_z = P.matrix("W_z", H, H + D, meaning="update-gate weights")
W_r = P.matrix("W_r", H, H + D, meaning="reset-gate weights")
W = P.matrix("W", H, H + D, meaning="candidate weights")
z_t = P.vector("z_t", H, unit_open, meaning="update gate")
r_t = P.vector("r_t", H, unit_open, meaning="reset gate")
htilde = P.vector("htilde", H, meaning="candidate hidden state h̃ₜ")
h_t = P.vector("h_t", H, meaning="hidden state")

hx = sp.BlockMatrix([[h_prev], [x_t]])
ones = sp.OneMatrix(H, 1)
sheet_mix = sp.hadamard_product(ones - z_t, h_prev) + sp.hadamard_product(z_t, htilde)
torch_mix = sp.hadamard_product(z_t, h_prev) + sp.hadamard_product(ones - z_t, htilde)
NO_BIAS = "The sheet's GRU has no bias terms (unlike its LSTM); implementations add them."

P.formula(
    "gru.update_gate",
    "GRU update gate",
    sheet="zₜ = σ(Wz·[hₜ₋₁, xₜ])         (update gate)",
    expr=(W_z * hx).applyfunc(sigmoid),
    lhs=z_t,
    notes=(CONCAT_NOTE, NO_BIAS),
    conventions=(
        Convention(
            "PyTorch",
            "nn.GRU adds biases b_iz + b_hz inside the sigmoid and stacks the "
            "gates in the order (r, z, n).",
        ),
    ),
)
P.formula(
    "gru.reset_gate",
    "GRU reset gate",
    sheet="rₜ = σ(Wr·[hₜ₋₁, xₜ])         (reset gate)",
    expr=(W_r * hx).applyfunc(sigmoid),
    lhs=r_t,
    notes=(CONCAT_NOTE, NO_BIAS),
    conventions=(Convention("PyTorch", "nn.GRU adds biases b_ir + b_hr inside the sigmoid."),),
)
P.formula(
    "gru.candidate",
    "GRU candidate hidden state",
    sheet="h̃ₜ = tanh(W·[rₜ ⊙ hₜ₋₁, xₜ])",
    expr=(W * sp.BlockMatrix([[sp.hadamard_product(r_t, h_prev)], [x_t]])).applyfunc(sp.tanh),
    lhs=htilde,
    notes=(
        "[rₜ ⊙ hₜ₋₁, xₜ] is the column concatenation of rₜ ⊙ hₜ₋₁ and xₜ; the reset gate "
        "acts before the matrix product (Cho et al. 2014, Chung et al. 2014).",
        NO_BIAS,
    ),
    conventions=(
        Convention(
            "PyTorch",
            "nn.GRU applies the reset gate after the matrix product and has "
            "biases: nₜ = tanh(W_in xₜ + b_in + rₜ ⊙ (W_hn hₜ₋₁ + b_hn)), a different "
            "function of the same weights.",
        ),
    ),
)
P.formula(
    "gru.hidden",
    "GRU hidden state",
    sheet="hₜ = (1-zₜ) ⊙ hₜ₋₁ + zₜ ⊙ h̃ₜ",
    expr=sheet_mix,
    lhs=h_t,
    notes=("1 is the all-ones vector of length H.",),
    claims=[
        Notation(
            sheet="hₜ = (1-zₜ) ⊙ hₜ₋₁ + zₜ ⊙ h̃ₜ",
            expected=Status.AMBIGUOUS,
            note="Both placements of zₜ are in use (Chung et al. 2014 as on the sheet; Cho et al. 2014 "
            "and PyTorch swap them); for the same zₜ they give different hₜ, and the trained "
            "gate simply learns the complement.",
            readings=(
                Reading("sheet/Chung 2014: (1−z)⊙h_prev + z⊙htilde", sheet_mix, True),
                Reading("PyTorch/Cho 2014: z⊙h_prev + (1−z)⊙htilde", torch_mix, True),
            ),
        )
    ],
    conventions=(
        Convention(
            "PyTorch",
            "nn.GRU computes hₜ = (1 − zₜ) ⊙ nₜ + zₜ ⊙ hₜ₋₁: the roles of zₜ "
            "and 1 − zₜ are swapped relative to the sheet.",
        ),
    ),
)

P.also(
    "gru.hidden",
    Matches(
        sheet="hₜ = (1-zₜ) ⊙ hₜ₋₁ + zₜ ⊙ h̃ₜ",
        framework="torch",
        reference="torch.nn.GRUCell",
        subject=sheet_mix.xreplace(
            {
                z_t: _formula("gru.update_gate"),
                htilde: _formula("gru.candidate").xreplace({r_t: _formula("gru.reset_gate")}),
            }
        ),
        inputs=(("x", x_t), ("h", h_prev), ("W_r", W_r), ("W_z", W_z), ("W", W)),
        sizes=((H, 3), (D, 2)),
        expected=Status.DIFFERS,
        badge="z and 1 − z swapped",
        difference="torch.nn.GRUCell computes (1 - z) ⊙ n + z ⊙ hₜ₋₁ (z and 1 - z swapped) "
        "and applies the reset gate after the product: n = tanh(W_x·xₜ + r ⊙ (W_h·hₜ₋₁))",
        agrees_when="z is replaced by 1 - z and r = 1 (then the two candidates coincide)",
        note="The whole cell: the gates of the lines above substituted into hₜ.",
    ),
)
