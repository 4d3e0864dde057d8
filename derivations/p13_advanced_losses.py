"""Part 13 of the sheet: contrastive, triplet and CTC losses."""

import sympy as sp

from symml.catalog.declare import Part
from symml.catalog.domains import binary, nonnegative, positive, unit_open
from symml.catalog.model import Convention, Matches, Notation, Reading, Status

P = Part(13, "Advanced loss functions")

P.section("losses")  # one pair / one triplet / one sequence
L = P.scalar("L", nonnegative, meaning="the loss the entry defines")
y = P.scalar("y", binary, meaning="pair label: 1 = similar pair, 0 = dissimilar pair")
d = P.scalar(
    "d",
    nonnegative,
    meaning="distance between the two embeddings",
    sheet="- d = distance between embeddings",
)
m = P.scalar("m", positive, meaning="margin for dissimilar pairs", sheet="- m = margin")

D = P.size("D", meaning="embedding dimension")
a = P.indexed("a", D, meaning="anchor embedding (its D coordinates)", sheet="- a = anchor")
p = P.indexed(
    "p", D, meaning="positive embedding (same class as the anchor)", sheet="- p = positive"
)
n = P.indexed("n", D, meaning="negative embedding (another class)", sheet="- n = negative")
dist = P.function(
    "dist",
    domain=nonnegative,
    meaning="the sheet's distance d(·,·) between two embeddings (unspecified: "
    "Euclidean or squared Euclidean)",
)
margin = P.scalar("margin", positive, meaning="triplet margin")

A = P.size(
    "A",
    meaning="number of alignments π in Align(y) (label paths with blanks and "
    "repeats that collapse to y)",
)
T = P.size("T", meaning="number of input time steps")
j = P.index("j", meaning="alignment π_j ∈ Align(y)")
t = P.index("t", meaning="time step")
Pa = P.indexed(
    "P",
    A,
    T,
    domain=unit_open,
    meaning="P(πₜ|x): the network's probability, at step t, of the t-th symbol of alignment π_j",
)

_contrastive = sp.S.Half * y * d**2 + sp.S.Half * (1 - y) * sp.Max(0, m - d) ** 2
_hadsell = sp.S.Half * (1 - y) * d**2 + sp.S.Half * y * sp.Max(0, m - d) ** 2
P.formula(
    "losses.contrastive",
    "Contrastive loss",
    sheet="L = ½·y·d² + ½·(1-y)·max(0, m - d)²",
    expr=_contrastive,
    lhs=L,
    claims=[
        Notation(
            sheet="L = ½·y·d² + ½·(1-y)·max(0, m - d)²",
            expected=Status.AMBIGUOUS,
            note="The sheet does not say which label marks a similar pair; its formula pulls "
            "pairs with y = 1 together, while Hadsell, Chopra & LeCun (2006) use Y = 0 for "
            "similar pairs, so a label from one convention gives a different loss in the "
            "other.",
            readings=(
                Reading("y = 1 marks a similar pair (the sheet's formula)", _contrastive, None),
                Reading("y = 0 marks a similar pair (Hadsell et al. 2006)", _hadsell, None),
            ),
        ),
    ],
    conventions=(
        Convention(
            "paper",
            "Hadsell, Chopra & LeCun 2006 write "
            "(1−Y)·½·D² + Y·½·max(0, m − D)² with Y = 0 for similar pairs: the "
            "label is flipped relative to the sheet.",
        ),
    ),
)
P.formula(
    "losses.triplet",
    "Triplet loss",
    sheet="L = max(0, d(a,p) - d(a,n) + margin)",
    expr=sp.Max(0, dist(a, p) - dist(a, n) + margin),
    lhs=L,
    notes=(
        "The embeddings are indexed families over D coordinates (not MatrixSymbols, which "
        "make an undefined function of them non-real) and d is left unspecified.",
    ),
    conventions=(
        Convention(
            "paper",
            "FaceNet (Schroff et al. 2015) uses squared Euclidean distances "
            "‖f(a) − f(p)‖² − ‖f(a) − f(n)‖² + α.",
        ),
        Convention(
            "PyTorch",
            "nn.TripletMarginLoss uses the non-squared p-norm distance "
            "(p=2, plus eps=1e-6 inside the norm), margin default 1.0, and averages "
            "over the batch.",
        ),
    ),
)
P.formula(
    "losses.ctc",
    "CTC loss",
    sheet="L = -log P(y|x) = -log Σ_{π∈Align(y)} ∏ₜ P(πₜ|x)",
    expr=-sp.log(sp.Sum(sp.Product(Pa[j, t], (t, 1, T)), (j, 1, A))),
    lhs=L,
    notes=(
        "The alignments are indexed j = 1 … A and each is a path of length T; P(πₜ|x) is "
        "the softmax output at step t for the symbol πₜ. L ≥ 0 because the alignments are "
        "disjoint paths, so the sum is P(y|x) ≤ 1 (the declared domain of P alone does not "
        "enforce it).",
    ),
    conventions=(
        Convention(
            "PyTorch",
            "nn.CTCLoss takes log-probabilities (log_softmax "
            "outputs) of shape (T, N, C), blank index 0 by default, and with "
            "reduction='mean' divides each sequence's loss by its target length "
            "before averaging over the batch.",
        ),
    ),
)

# -- The triplet loss in the frameworks: d is the Euclidean distance -------------------------
_c = P.index("c", meaning="embedding coordinate")


def _euclidean(u, w):
    return sp.sqrt(sp.Sum((u[_c] - w[_c]) ** 2, (_c, 1, D)))


_TRIPLET = "L = max(0, d(a,p) - d(a,n) + margin)"
_EPS = dict(
    expected=Status.DIFFERS,
    agrees_when="eps=0",
    note="d is taken to be the Euclidean distance, the frameworks' default (p = 2).",
)
P.also(
    "losses.triplet",
    Matches(
        sheet=_TRIPLET,
        framework="optax",
        reference="optax.losses.triplet_margin_loss",
        subject=sp.Max(0, _euclidean(a, p) - _euclidean(a, n) + margin),
        inputs=(("anchors", a[_c]), ("positives", p[_c]), ("negatives", n[_c]), ("margin", margin)),
        over=(_c, D),
        sizes=((D, 3),),
        badge="eps in the distance",
        difference="optax adds eps = 1e-6 under the root of each distance: √(Σ(a - p)² + eps)",
        **_EPS,
    ),
    Matches(
        sheet=_TRIPLET,
        framework="torch",
        reference="torch.nn.functional.triplet_margin_loss",
        subject=sp.Max(0, _euclidean(a, p) - _euclidean(a, n) + margin),
        inputs=(("anchor", a[_c]), ("positive", p[_c]), ("negative", n[_c]), ("margin", margin)),
        over=(_c, D),
        sizes=((D, 3),),
        badge="eps in the distance",
        difference="torch adds eps = 1e-6 to each difference: ‖a - p + eps‖",
        **_EPS,
    ),
)
