"""Part 8 of the sheet: attention and the transformer block.

Vectors are ROWS in this part (x is 1 × d and the FFN computes xW₁), as in Vaswani et al. 2017.
"""

import sympy as sp

from symml.catalog.declare import Part
from symml.catalog.domains import count, positive
from symml.catalog.model import Convention, Matches, Notation, Reading, Status

P = Part(8, "Transformers & attention")


def _row_softmax(S, cols):
    """Row-wise softmax of a matrix with ``cols`` columns, as a matrix expression:
    exp(S) ⊙ ((exp(S)·1)^(∘−1) · 1ᵀ), i.e. every entry divided by its row's sum of exponentials."""
    E = S.applyfunc(sp.exp)
    row_sums = E * sp.OneMatrix(cols, 1)
    return sp.hadamard_product(E, row_sums.applyfunc(lambda t: 1 / t) * sp.OneMatrix(1, cols))


def _attention(q, k, v, d):
    """softmax(q kᵀ / √d) · v with the softmax taken over each row (over the keys)."""
    return _row_softmax(q * k.T / sp.sqrt(d), k.shape[0]) * v


SOFTMAX_NOTE = (
    "softmax is row-wise (over the keys). An undefined sympy function applied to a "
    "matrix would act as a scalar factor and give the wrong shape (m × dᵥ), so the "
    "expression spells the row softmax out: exp(S) ⊙ ((exp(S)·1)^(∘−1)·1ᵀ), "
    "with 1 the all-ones vector and exp, ^(∘−1) elementwise."
)

P.section("attention")
n = P.size("n", meaning="number of queries")
m = P.size("m", meaning="number of keys and values")
d_k = P.size("d_k", meaning="dimension of keys (and queries)", sheet="- dₖ = dimension of keys")
d_v = P.size("d_v", meaning="dimension of values")
Q = P.matrix("Q", n, d_k, meaning="queries (one per row)", sheet="- Q = queries (n × dₖ)")
K = P.matrix("K", m, d_k, meaning="keys (one per row)", sheet="- K = keys (m × dₖ)")
V = P.matrix("V", m, d_v, meaning="values (one per row)", sheet="- V = values (m × dᵥ)")
Attention = P.matrix("Attention", n, d_v, meaning="Attention(Q, K, V)")

d_model = P.size("d_model", meaning="model width")
h = P.size("h", meaning="number of heads")
Q_in = P.matrix(
    "Q_in",
    n,
    d_model,
    meaning="the Q of MultiHead(Q,K,V) and head_i: queries of width d_model (renamed "
    "because Q is n × dₖ in the attention formula)",
)
K_in = P.matrix("K_in", m, d_model, meaning="the K of MultiHead(Q,K,V): keys of width d_model")
V_in = P.matrix("V_in", m, d_model, meaning="the V of MultiHead(Q,K,V): values of width d_model")
W_Q_i = P.matrix("W_Q_i", d_model, d_k, meaning="query projection WᵢQ of head i")
W_K_i = P.matrix("W_K_i", d_model, d_k, meaning="key projection WᵢK of head i")
W_V_i = P.matrix("W_V_i", d_model, d_v, meaning="value projection WᵢV of head i")
head_i = P.matrix("head_i", n, d_v, meaning="output of head i (i = 1..h)")
heads = P.matrix(
    "Concat_heads",
    n,
    h * d_v,
    meaning="Concat(head₁,...,headₕ): the h heads (each n × dᵥ, head_i as in "
    "attention.head) side by side, n × h·dᵥ",
)
W_O = P.matrix("W_O", h * d_v, d_model, meaning="output projection W^O")
MultiHead = P.matrix("MultiHead", n, d_model, meaning="MultiHead(Q,K,V)")

P.formula(
    "attention.scaled_dot_product",
    "Scaled dot-product attention",
    sheet="Attention(Q, K, V) = softmax(QK^T/√dₖ)·V",
    expr=_attention(Q, K, V, d_k),
    lhs=Attention,
    notes=("Rows are vectors in this part; · is the matrix product.", SOFTMAX_NOTE),
    conventions=(
        Convention(
            "PyTorch",
            "F.scaled_dot_product_attention computes the same softmax(QKᵀ/√dₖ)V "
            "over the last axis, with optional masks, dropout and a custom scale.",
        ),
    ),
)
P.formula(
    "attention.head",
    "Attention head",
    sheet="head_i = Attention(QWᵢQ, KWᵢK, VWᵢV)",
    expr=_attention(Q_in * W_Q_i, K_in * W_K_i, V_in * W_V_i, d_k),
    lhs=head_i,
    notes=(
        "Q, K, V here are n × d_model, m × d_model, m × d_model (Q_in, K_in, V_in); the "
        "projections WᵢQ, WᵢK are d_model × dₖ and WᵢV is d_model × dᵥ.",
        SOFTMAX_NOTE,
    ),
    conventions=(
        Convention(
            "PyTorch",
            "nn.MultiheadAttention adds biases to the Q, K, V projections "
            "(bias=True by default) and stores all heads' projections in one "
            "in_proj_weight of shape 3·d_model × d_model (dₖ = dᵥ = d_model/h).",
        ),
    ),
)
P.formula(
    "attention.multihead",
    "Multi-head attention",
    sheet="MultiHead(Q,K,V) = Concat(head₁,...,headₕ)·W^O",
    expr=heads * W_O,
    lhs=MultiHead,
    notes=(
        "The number of heads h is symbolic, so Concat(head₁,...,headₕ) cannot be a "
        "BlockMatrix; it is the declared n × h·dᵥ matrix Concat_heads (for a concrete h it "
        "is BlockMatrix([[head_1, ..., head_h]]), each head_i as in attention.head).",
    ),
    conventions=(
        Convention(
            "PyTorch",
            "nn.MultiheadAttention's out_proj has a bias (bias=True by "
            "default), which the sheet omits.",
        ),
    ),
)

_QKV = dict(
    inputs=(("query", Q), ("key", K), ("value", V)),
    sizes=((n, 3), (m, 4), (d_k, 2), (d_v, 2)),
    note="One head, no mask; the frameworks' softmax runs over the keys of each query row.",
)
P.also(
    "attention.scaled_dot_product",
    Matches(
        sheet="Attention(Q, K, V) = softmax(QK^T/√dₖ)·V",
        framework="jax",
        reference="jax.nn.dot_product_attention",
        rtol=1e-5,
        **{
            **_QKV,
            "note": "jax.nn.dot_product_attention always takes the softmax in float32 (its "
            "source says so), even for float64 inputs: it agrees to float32 precision only.",
        },
    ),
    Matches(
        sheet="Attention(Q, K, V) = softmax(QK^T/√dₖ)·V",
        framework="torch",
        reference="torch.nn.functional.scaled_dot_product_attention",
        **_QKV,
    ),
)

# -- multi-head attention in full: h = 2 heads of width dₖ = dᵥ = 1 (small, for 30 digits) ----
W_Q = P.matrix(
    "W_Q",
    d_model,
    h * d_k,
    meaning="the query projections of all heads side by side: head i uses columns "
    "(i−1)·dₖ+1 … i·dₖ (its WᵢQ); the layout of torch's in_proj_weight (transposed)",
)
W_K = P.matrix("W_K", d_model, h * d_k, meaning="the key projections of all heads side by side")
W_V = P.matrix("W_V", d_model, h * d_v, meaning="the value projections of all heads side by side")
_MH_SIZES = {n: 2, m: 2, d_model: 2, d_k: 1, d_v: 1, h: 2}


def _multihead_in_full(
    q=Q_in, k=K_in, v=V_in, w_q=W_Q, w_k=W_K, w_v=W_V, w_o=W_O, dk=d_k, dv=d_v
) -> sp.MatrixExpr:
    """Concat(head₁, head₂)·W^O with every head_i as in attention.head: head i projects with
    columns (i−1)·dₖ+1 … i·dₖ of W_Q, W_K (dᵥ of W_V), and Concat(head₁, head₂)·W^O is
    head₁·(rows 1 … dᵥ of W^O) + head₂·(rows dᵥ+1 … 2dᵥ). The transformer block's claim
    passes its own sequence and weights (self-attention: q = k = v)."""
    terms = [
        _attention(
            q * w_q[:, c * dk : (c + 1) * dk],
            k * w_k[:, c * dk : (c + 1) * dk],
            v * w_v[:, c * dv : (c + 1) * dv],
            dk,
        )
        * w_o[c * dv : (c + 1) * dv, :]
        for c in range(_MH_SIZES[h])
    ]
    return sp.MatAdd(*terms)


_MULTIHEAD = dict(
    sheet="MultiHead(Q,K,V) = Concat(head₁,...,headₕ)·W^O",
    subject=_multihead_in_full(),
    inputs=(
        ("query", Q_in),
        ("key", K_in),
        ("value", V_in),
        ("W_Q", W_Q),
        ("W_K", W_K),
        ("W_V", W_V),
        ("W_O", W_O),
    ),
    sizes=tuple(_MH_SIZES.items()),
)
P.also(
    "attention.multihead",
    Matches(
        framework="jax",
        reference="jax.nn.dot_product_attention (2 heads)",
        rtol=1e-5,
        note="Concat(head₁, head₂)·W^O with each head as in attention.head; jax.nn computes "
        "each head's attention (its softmax in float32, hence agreement to float32 precision "
        "only), the projections are matrix products.",
        **_MULTIHEAD,
    ),
    Matches(
        framework="torch",
        reference="torch.nn.functional.multi_head_attention_forward (2 heads)",
        note="nn.MultiheadAttention's computation with biases off: in_proj_weight stacks "
        "W_Qᵀ, W_Kᵀ, W_Vᵀ (torch multiplies by Wᵀ), out_proj_weight is (W^O)ᵀ; torch's "
        "head i takes the same columns as the sheet's head_i.",
        **_MULTIHEAD,
    ),
)

P.section("transformer")  # row vectors: one position of the sequence
d = P.size("d", meaning="model width d_model")
d_ff = P.size("d_ff", meaning="hidden width of the feed-forward network")
pos = P.scalar("pos", count, meaning="position in the sequence (from 0)")
i = P.index("i", meaning="frequency index, 0 ≤ i < d/2")
PE = P.function("PE", meaning="positional encoding PE(pos, column)")
epsilon = P.scalar("epsilon", positive, meaning="small constant for numerical stability")
x = P.matrix("x", 1, d, meaning="input row vector (one position)")
gamma = P.matrix("gamma", 1, d, meaning="LayerNorm scale γ (learned, one per feature)")
beta = P.matrix("beta", 1, d, meaning="LayerNorm shift β (learned, one per feature)")
LayerNorm_x = P.matrix("LayerNorm_x", 1, d, meaning="LayerNorm(x)")
W_1 = P.matrix("W_1", d, d_ff, meaning="first FFN weights")
b_1 = P.matrix("b_1", 1, d_ff, meaning="first FFN bias (row)")
W_2 = P.matrix("W_2", d_ff, d, meaning="second FFN weights")
b_2 = P.matrix("b_2", 1, d, meaning="second FFN bias (row)")
FFN_x = P.matrix("FFN_x", 1, d, meaning="FFN(x)")
MHA_x = P.matrix(
    "MHA_x",
    1,
    d,
    meaning="MultiHeadAttention(x): this position's row of MultiHead(X, X, X) "
    "(self-attention, attention.multihead with Q = K = V = the sequence X "
    "whose row is x); it depends on the whole sequence",
)
gamma_1 = P.matrix("gamma_1", 1, d, meaning="γ of the first LayerNorm of the block")
beta_1 = P.matrix("beta_1", 1, d, meaning="β of the first LayerNorm of the block")
gamma_2 = P.matrix("gamma_2", 1, d, meaning="γ of the second LayerNorm of the block")
beta_2 = P.matrix("beta_2", 1, d, meaning="β of the second LayerNorm of the block")
xp = P.matrix("xp", 1, d, meaning="x' (output of the attention sub-layer)")
xpp = P.matrix("xpp", 1, d, meaning="x'' (output of the block)")
# the whole block over a sequence, for its comparison with torch (transformer.block_ffn's claim)
n_seq = P.size("n", meaning="number of positions in the sequence X")
d_head = P.size("d_k", meaning="width of each head's queries, keys and values (d/h)")
X = P.matrix("X", n_seq, d, meaning="the sequence, one position per row (x is one of its rows)")
W_Q_block = P.matrix(
    "W_Q",
    d,
    d,
    meaning="the block's query projections of all heads side by side (attention.multihead's "
    "W_Q with d_model = d)",
)
W_K_block = P.matrix("W_K", d, d, meaning="the block's key projections of all heads side by side")
W_V_block = P.matrix("W_V", d, d, meaning="the block's value projections of all heads side by side")
W_O_block = P.matrix("W_O", d, d, meaning="the block's output projection W^O")
MHA_X = P.matrix(
    "MHA_X",
    n_seq,
    d,
    meaning="MultiHead(X, X, X), self-attention over the sequence: MHA_x is its row of x",
)
Xp = P.matrix("Xp", n_seq, d, meaning="the x' of every position of the sequence, one per row")


def _normalized(row):
    """x̂ = (x − μ)/√(σ² + ε), with μ = x·1/d and σ² = (x − μ)^∘2·1/d the mean and biased
    variance over the d features, kept as 1 × 1 matrices (no element sums, nothing evaluated;
    ^∘ is the elementwise power HadamardPower)."""
    ones_col, ones_row = sp.OneMatrix(d, 1), sp.OneMatrix(1, d)
    mu = row * ones_col / d
    centered = row - mu * ones_row
    var = sp.HadamardPower(centered, 2) * ones_col / d
    return sp.HadamardPower(var + epsilon * sp.OneMatrix(1, 1), -sp.S.Half) * centered


def _layer_norm(row, g, b):
    return sp.hadamard_product(g, _normalized(row)) + b


def _ffn(row):
    return (row * W_1 + b_1).applyfunc(lambda t: sp.Max(0, t)) * W_2 + b_2


POST_LN = Convention(
    "PyTorch",
    "nn.TransformerEncoderLayer's default norm_first=False is this post-LN block; "
    "most current models (GPT-2 onward; norm_first=True) use pre-LN: x' = x + MHA(LN(x)), "
    "x'' = x' + FFN(LN(x')).",
)

P.formula(
    "transformer.positional_even",
    "Positional encoding (even columns)",
    sheet="PE(pos, 2i) = sin(pos/10000^(2i/d))",
    expr=sp.sin(pos / 10000 ** (2 * i / d)),
    lhs=PE(pos, 2 * i),
)
P.formula(
    "transformer.positional_odd",
    "Positional encoding (odd columns)",
    sheet="PE(pos, 2i+1) = cos(pos/10000^(2i/d))",
    expr=sp.cos(pos / 10000 ** (2 * i / d)),
    lhs=PE(pos, 2 * i + 1),
    notes=("Even and odd columns share the frequency 1/10000^(2i/d), interleaving sin and cos.",),
)

xhat = _normalized(x)
P.formula(
    "transformer.layer_norm",
    "Layer normalization",
    sheet="LayerNorm(x) = γ·(x - μ)/√(σ² + ε) + β",
    expr=_layer_norm(x, gamma, beta),
    lhs=LayerNorm_x,
    notes=(
        "μ = (1/d)Σⱼ xⱼ and σ² = (1/d)Σⱼ (xⱼ − μ)² are the mean and biased variance over the "
        "d features of x, written out in the expression as μ = x·1/d and σ² = (x − μ)^∘2·1/d "
        "(1 the all-ones column, ^∘2 elementwise), both 1 × 1.",
        "γ and β are d-vectors applied elementwise.",
    ),
    claims=[
        Notation(
            sheet="LayerNorm(x) = γ·(x - μ)/√(σ² + ε) + β",
            expected=Status.AMBIGUOUS,
            note="The sheet's legend defines · as matrix multiplication or dot product, but here γ "
            "scales each feature; read as a dot product γ·x̂ᵀ is one scalar (broadcast here to "
            "add β).",
            readings=(
                Reading("elementwise γ⊙x̂", _layer_norm(x, gamma, beta), True),
                Reading("dot product γ·x̂ᵀ", (gamma * xhat.T) * sp.OneMatrix(1, d) + beta, False),
            ),
        )
    ],
    conventions=(
        Convention(
            "PyTorch",
            "nn.LayerNorm(d) matches: biased variance over the last axis, ε "
            "inside the square root (default 1e-5), elementwise γ (weight) and β (bias).",
        ),
    ),
)
P.formula(
    "transformer.ffn",
    "Position-wise feed-forward network",
    sheet="FFN(x) = max(0, xW₁ + b₁)W₂ + b₂",
    expr=_ffn(x),
    lhs=FFN_x,
    notes=("Row-vector convention (xW₁); max(0, ·) is taken elementwise, i.e. ReLU.",),
    conventions=(
        Convention(
            "PyTorch",
            "nn.Linear stores W as out × in and computes x Wᵀ + b; "
            "nn.TransformerEncoderLayer's FFN also applies dropout after the ReLU.",
        ),
    ),
)
block_attention = P.formula(
    "transformer.block_attention",
    "Transformer block: attention sub-layer",
    sheet="x' = LayerNorm(x + MultiHeadAttention(x))",
    expr=_layer_norm(x + MHA_x, gamma_1, beta_1),
    lhs=xp,
    notes=(
        "x' and x'' are named xp and xpp. The block is written for one position (row x); "
        "MultiHeadAttention(x) is that position's row of self-attention over the sequence.",
        "Post-LN block of Vaswani et al. 2017; each LayerNorm has its own γ, β.",
    ),
    conventions=(POST_LN,),
)
block_ffn = P.formula(
    "transformer.block_ffn",
    "Transformer block: feed-forward sub-layer",
    sheet="x'' = LayerNorm(x' + FFN(x'))",
    expr=_layer_norm(xp + _ffn(xp), gamma_2, beta_2),
    lhs=xpp,
    notes=("FFN as in transformer.ffn (W₁, b₁, W₂, b₂) applied to x'.",),
    conventions=(POST_LN,),
)

P.also(
    "transformer.layer_norm",
    Matches(
        sheet="LayerNorm(x) = γ·(x - μ)/√(σ² + ε) + β",
        framework="torch",
        reference="torch.nn.functional.layer_norm (with weight and bias)",
        inputs=(("input", x), ("weight", gamma), ("bias", beta), ("eps", epsilon)),
        sizes=((d, 4),),
        note="γ·x̂ read elementwise, the reading the catalog marks correct.",
    ),
)


# -- the whole post-LN block over a sequence, against torch's encoder layer ---------------------
# n = 3 positions, d = 4, h = 2 heads of width dₖ = dᵥ = 2, d_ff = 3. The catalog side is computed
# in steps (numbers pass between them): expanding the composition into one expression at these
# sizes does not finish in minutes.
_BLOCK_SIZES = {n_seq: 3, d: 4, d_head: 2, d_ff: 3}


def _each_row(expr, sequences) -> sp.MatrixExpr:
    """``expr``, written for one position, at every position of the sequence: each 1 × d
    symbol replaced by that row of the n × d matrix it stands for, the rows stacked."""
    rows = [
        expr.xreplace({one: whole[r, :] for one, whole in sequences.items()})
        for r in range(_BLOCK_SIZES[n_seq])
    ]
    return sp.BlockMatrix([[row] for row in rows])


P.also(
    "transformer.block_ffn",
    Matches(
        sheet="x'' = LayerNorm(x' + FFN(x'))",
        framework="torch",
        reference="torch.nn.TransformerEncoderLayer (post-LN, 2 heads)",
        steps=(
            (
                MHA_X,
                _multihead_in_full(
                    X, X, X, W_Q_block, W_K_block, W_V_block, W_O_block, d_head, d_head
                ),
            ),
            (Xp, _each_row(block_attention.expr, {x: X, MHA_x: MHA_X})),
        ),
        subject=_each_row(block_ffn.expr, {xp: Xp}),
        inputs=(
            ("src", X),
            ("W_Q", W_Q_block),
            ("W_K", W_K_block),
            ("W_V", W_V_block),
            ("W_O", W_O_block),
            ("W_1", W_1),
            ("b_1", b_1),
            ("W_2", W_2),
            ("b_2", b_2),
            ("gamma_1", gamma_1),
            ("beta_1", beta_1),
            ("gamma_2", gamma_2),
            ("beta_2", beta_2),
            ("eps", epsilon),
        ),
        sizes=tuple(_BLOCK_SIZES.items()),
        note="The whole block over a sequence of n = 3 positions (d = 4, h = 2 heads of width "
        "2, d_ff = 3), computed in steps: MultiHead(X, X, X) as in attention.multihead, then "
        "every row through transformer.block_attention and this formula. torch's "
        "in_proj_weight stacks W_Qᵀ, W_Kᵀ, W_Vᵀ, out_proj.weight is (W^O)ᵀ, "
        "linear1/linear2 are W₁ᵀ, b₁ and W₂ᵀ, b₂ (nn.Linear computes x·Wᵀ + b), norm1/norm2 "
        "are (γ₁, β₁), (γ₂, β₂) with layer_norm_eps = ε; the attention's biases are 0 (the "
        "sheet has none), dropout 0, eval mode.",
    ),
)
