"""Part 6 of the sheet: convolution, output size, pooling."""

import sympy as sp

from symml.catalog.declare import Part
from symml.catalog.domains import count, integer, natural
from symml.catalog.model import Convention, Identity, Matches, Notation, Reading, Status

P = Part(6, "Convolutional neural networks")

P.section("cnn")  # 2-D maps as indexed families; one spatial dimension for the output size
K_h = P.size("K_h", meaning="kernel height (range of the sheet's m)")
K_w = P.size("K_w", meaning="kernel width (range of the sheet's n)")
H_in = P.size("H_in", meaning="height of the input map g")
W_in = P.size("W_in", meaning="width of the input map g")
f = P.indexed("f", K_h, K_w, meaning="kernel f[m, n], m = 1..K_h, n = 1..K_w")
g = P.indexed(
    "g",
    H_in,
    W_in,
    meaning="input map g[r, c]; taken as 0 outside 1..H_in × 1..W_in (zero padding)",
)
conv = P.indexed(
    "conv",
    H_in + K_h - 1,
    W_in + K_w - 1,
    meaning="(f ∗ g), the output map (full convolution has "
    "(H_in + K_h − 1) × (W_in + K_w − 1) entries)",
)
i = P.index("i", meaning="output row; also the element index of the pooling window")
j = P.index("j", meaning="output column")
m = P.index("m", meaning="kernel row (summation index)")
n = P.index("n", meaning="kernel column (summation index; the pooling formula's n is N here)")

W = P.size("W", meaning="input width", sheet="- W = input width")
K = P.size("K", meaning="kernel size", sheet="- K = kernel size")
pad = P.scalar("P", count, meaning="padding (zeros added on each side)", sheet="- P = padding")
S = P.scalar("S", natural, meaning="stride", sheet="- S = stride")
O = P.scalar("O", integer, meaning="output width (a positive size only when W + 2P ≥ K)")

N = P.size(
    "N",
    meaning="number of values in the pooling window (the sheet's n, renamed: "
    "n is a convolution index in this section)",
)
x = P.indexed("x", N, meaning="values x₁ … x_N in the pooling window")
y = P.scalar("y", meaning="pooled output")
max_over = P.function(
    "max",
    meaning="maximum over an index range: max(x[i], (i, 1, N)) = max(x₁, …, x_N), "
    "written like Sum because sp.Max cannot take a symbolic number of arguments",
)

convolution = sp.Sum(f[m, n] * g[i - m, j - n], (m, 1, K_h), (n, 1, K_w))
correlation = sp.Sum(f[m, n] * g[i + m, j + n], (m, 1, K_h), (n, 1, K_w))

P.formula(
    "cnn.convolution",
    "2-D convolution",
    sheet="(f ∗ g)[i,j] = ΣₘΣₙ f[m,n] · g[i-m, j-n]",
    expr=convolution,
    lhs=conv[i, j],
    notes=(
        "f is the kernel, summed over its K_h × K_w support; g is 0 outside its support.",
        "The sheet reuses m and n: here they are kernel indices, elsewhere n counts pooled "
        "values (N in this file) and m is the key count of attention (part 8).",
    ),
    claims=[
        Notation(
            sheet="(f ∗ g)[i,j] = ΣₘΣₙ f[m,n] · g[i-m, j-n]",
            expected=Status.AMBIGUOUS,
            note="As written this is true (flipped) convolution; the 'convolution' layers of deep "
            "learning compute cross-correlation, which differs unless the kernel is flipped.",
            readings=(
                Reading("mathematical convolution (as written)", convolution, True),
                Reading("cross-correlation as in conv layers", correlation, None),
            ),
        )
    ],
    conventions=(
        Convention(
            "PyTorch",
            "nn.Conv2d / F.conv2d compute cross-correlation without flipping "
            "the kernel: out[i,j] = Σₘ Σₙ f[m,n]·g[i+m, j+n] (0-based, after padding), "
            "plus a bias.",
        ),
        Convention(
            "JAX",
            "jax.lax.conv_general_dilated (and flax.linen.Conv) also compute "
            "cross-correlation; jax.scipy.signal.convolve2d flips the kernel as the sheet "
            "does.",
        ),
    ),
)

P.formula(
    "cnn.output_size",
    "Convolution output size",
    sheet="O = ⌊(W - K + 2P)/S⌋ + 1",
    expr=sp.floor((W - K + 2 * pad) / S) + 1,
    lhs=O,
    claims=[
        Identity(
            sheet="O = ⌊(W - K + 2P)/S⌋ + 1",
            lhs=sp.floor((W - K + 2 * pad) / S) + 1,
            rhs=sp.floor((W + 2 * pad - (K - 1) - 1) / S + 1),
            note="PyTorch's Conv2d size ⌊(W + 2P − D(K−1) − 1)/S + 1⌋ with dilation D = 1; equal for "
            "all integers because ⌊a + 1⌋ = ⌊a⌋ + 1. The size is positive only when W + 2P ≥ K.",
        )
    ],
    conventions=(
        Convention(
            "PyTorch",
            "nn.Conv2d documents ⌊(W + 2P − D(K−1) − 1)/S + 1⌋ with dilation D "
            "(default 1, which gives the sheet's formula); pooling layers with "
            "ceil_mode=True use ⌈·⌉ instead of ⌊·⌋.",
        ),
    ),
)

P.formula(
    "cnn.max_pool",
    "Max pooling",
    sheet="Max: y = max(x₁, x₂, ..., xₙ)",
    expr=max_over(x[i], sp.Tuple(i, 1, N)),
    lhs=y,
    notes=(
        "max(x[i], (i, 1, N)) is an undefined function standing for max over i = 1..N; "
        "sp.Max needs a concrete number of arguments, which the sheet's n is not.",
    ),
    conventions=(
        Convention(
            "PyTorch",
            "nn.MaxPool2d pads with −∞ (never with zeros), so padding does not change the maximum.",
        ),
    ),
)

P.formula(
    "cnn.avg_pool",
    "Average pooling",
    sheet="Avg: y = (1/n)Σᵢ xᵢ",
    expr=sp.Sum(x[i], (i, 1, N)) / N,
    lhs=y,
    conventions=(
        Convention(
            "PyTorch",
            "nn.AvgPool2d with padding counts the padded zeros in n by default "
            "(count_include_pad=True), so border windows average fewer real values.",
        ),
    ),
)


# -- The same operations in the frameworks (checked by `symml verify --against jax,torch`) -----
_CONV = "(f ∗ g)[i,j] = ΣₘΣₙ f[m,n] · g[i-m, j-n]"
_FULL_MAP = dict(
    # with 1-based f and g, the full convolution is nonzero for i = 2 … H_in + K_h
    over=((i, 2, H_in + K_h), (j, 2, W_in + K_w)),
    sizes=((K_h, 2), (K_w, 3), (H_in, 4), (W_in, 3)),
    zero_outside=(g,),
)
P.also(
    "cnn.convolution",
    Matches(
        sheet=_CONV,
        framework="jax",
        reference="jax.scipy.signal.convolve2d",
        inputs=(("in1", g), ("in2", f), ("mode", "full")),
        note="g is 0 outside its support (the 'full' mode).",
        **_FULL_MAP,
    ),
    Matches(
        sheet=_CONV,
        framework="torch",
        reference="torch.nn.functional.conv2d (full padding)",
        inputs=(("input", g), ("weight", f)),
        expected=Status.DIFFERS,
        badge="kernel not flipped",
        difference="torch's conv2d computes cross-correlation: the kernel is not flipped",
        agrees_when="the kernel is flipped first (torch.flip(f, (0, 1)))",
        **_FULL_MAP,
    ),
)
_WIDTH = dict(
    inputs=(("width", W), ("kernel", K), ("padding", pad), ("stride", S)),
    where=(W + 2 * pad >= K,),
    note="The frameworks refuse W + 2P < K, where the formula gives no positive size.",
)
P.also(
    "cnn.output_size",
    Matches(
        sheet="O = ⌊(W - K + 2P)/S⌋ + 1",
        framework="jax",
        reference="jax.lax.conv_general_dilated (output width)",
        **_WIDTH,
    ),
    Matches(
        sheet="O = ⌊(W - K + 2P)/S⌋ + 1",
        framework="torch",
        reference="torch.nn.functional.conv1d (output width)",
        **_WIDTH,
    ),
)
P.also(
    "cnn.avg_pool",
    Matches(
        sheet="Avg: y = (1/n)Σᵢ xᵢ",
        framework="torch",
        reference="torch.nn.functional.avg_pool1d",
        inputs=(("input", x[i]),),
        over=(i, N),
        sizes=((N, 4),),
        note="One window covering the n values, no padding.",
    ),
)
P.also(
    "cnn.max_pool",
    *(
        Matches(
            sheet="Max: y = max(x₁, x₂, ..., xₙ)",
            framework=framework,
            reference=reference,
            subject=sp.Max(*(x[n] for n in range(1, 5))),
            inputs=((argument, x[i]),),
            over=(i, N),
            sizes=((N, 4),),
            note="One window covering the n = 4 values, no padding: the sheet's max is "
            "Max(x₁, x₂, x₃, x₄) there.",
        )
        for framework, reference, argument in (
            ("jax", "jax.numpy.max", "a"),
            ("torch", "torch.nn.functional.max_pool1d", "input"),
        )
    ),
)
