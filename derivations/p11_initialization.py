"""Part 11 of the sheet: Xavier/Glorot and He weight initialization."""

import sympy as sp
from sympy.stats import Normal, Uniform

from symml.catalog.declare import Part
from symml.catalog.model import Convention, Domain, Notation, Property, Reading, Status

P = Part(11, "Initialization")

P.section("init")  # one weight entry W as a random scalar; fans are layer widths
n_in = P.size("n_in", meaning="fan-in: number of inputs to the layer")
n_out = P.size("n_out", meaning="fan-out: number of outputs of the layer")
_a = sp.sqrt(6 / (n_in + n_out))
W_xavier = P.random(
    "W_xavier", Uniform, -_a, _a, meaning="one weight W under Xavier/Glorot initialization"
)
W_he = P.random(
    "W_he",
    Normal,
    0,
    sp.sqrt(2 / n_in),
    meaning="one weight W under He initialization, reading N's second argument "
    "as the standard deviation (sympy.stats.Normal takes the std)",
)
W_he_var = P.random(
    "W_he_var",
    Normal,
    0,
    (2 / n_in) ** sp.Rational(1, 4),
    meaning="one weight W under the other reading of N(0, √(2/n_in)): the second "
    "argument as the variance, so std (2/n_in)^(1/4)",
)

s_z = P.scalar("s_z", Domain("positive", 0, sp.oo), meaning="std of a layer's pre-activations")
Z = P.random("Z", Normal, 0, s_z, meaning="a pre-activation of the previous layer, N(0, s_z²)")

P.formula(
    "init.xavier",
    "Xavier/Glorot initialization",
    sheet="W ~ U(-√(6/(n_in + n_out)), √(6/(n_in + n_out)))",
    expr=W_xavier,
    lhs=None,
    sheet_notes=("For tanh/sigmoid",),
    notes=("The entry is the random weight itself; each entry of W is drawn independently.",),
    claims=[
        Property(
            sheet="W ~ U(-√(6/(n_in + n_out)), √(6/(n_in + n_out)))",
            predicate="variance",
            params=(("value", 2 / (n_in + n_out)),),
            note="Implicit: the bound is chosen so that Var(W) = 2/(n_in + n_out), "
            "Glorot's compromise between 1/n_in and 1/n_out.",
        ),
        Property(
            sheet="For tanh/sigmoid",
            predicate="variance",
            params=(("value", 2 / (n_in + n_out)),),
            expected=Status.AMBIGUOUS,
            note="Glorot & Bengio's argument linearises the activation at 0: a layer keeps the "
            "signal's variance when Var(W)·f'(0)² = 2/(n_in + n_out). tanh'(0) = 1 gives "
            "Xavier's variance; the sigmoid's σ'(0) = 1/4 would need 16 times more (and its "
            "outputs are not centred), so the statement holds for tanh, not for the sigmoid.",
            readings=(
                Reading("for tanh: W·tanh'(0) = W", W_xavier, True),
                Reading("for the sigmoid: W·σ'(0) = W/4", W_xavier / 4, False),
            ),
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "nn.init.xavier_uniform_ multiplies the bound by a gain "
            "(default 1; calculate_gain('tanh') = 5/3).",
        ),
    ),
)
P.formula(
    "init.he",
    "He initialization",
    sheet="W ~ N(0, √(2/n_in))",
    expr=W_he,
    lhs=None,
    sheet_notes=("For ReLU",),
    notes=(
        "sympy.stats.Normal(name, mean, std) takes the standard deviation, so the literal "
        "transcription is the std reading, which is He et al.'s Var(W) = 2/n_in.",
    ),
    claims=[
        Notation(
            sheet="W ~ N(0, √(2/n_in))",
            expected=Status.AMBIGUOUS,
            note="In the usual N(μ, σ²) notation, which the sheet itself uses in Part 14 "
            "(N(xₜ; √(1-βₜ)xₜ₋₁, βₜI) has covariance βₜI), the second argument is a "
            "variance; He initialization means std √(2/n_in), i.e. variance 2/n_in.",
            readings=(
                Reading("second argument is the standard deviation", W_he, True),
                Reading("second argument is the variance, as in Part 14", W_he_var, False),
            ),
        ),
        Property(
            sheet="For ReLU",
            predicate="expectation",
            params=(("value", s_z**2),),
            expected=Status.AMBIGUOUS,
            note="He et al.: through a ReLU, n_in·Var(W)·E[ReLU(Z)²] = n_in·Var(W)·s_z²/2 keeps "
            "the pre-activation variance s_z² from layer to layer exactly when Var(W) = 2/n_in: "
            "true under the std reading of N(0, √(2/n_in)), false under the variance reading.",
            readings=(
                Reading("std reading, Var(W) = 2/n_in", n_in * W_he**2 * sp.Max(0, Z) ** 2, True),
                Reading(
                    "variance reading, Var(W) = √(2/n_in)",
                    n_in * W_he_var**2 * sp.Max(0, Z) ** 2,
                    False,
                ),
            ),
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "nn.init.kaiming_normal_ uses std = gain/√fan_in with "
            "gain √2 for ReLU (mode='fan_in' by default; mode='fan_out' uses "
            "n_out).",
        ),
    ),
)
