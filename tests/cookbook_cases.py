"""Matrix Cookbook (Petersen & Pedersen, 2012) identities and ML-layer gradients, each with a
mutated twin (a transpose dropped, a sign flipped, a factor lost).

Shared by tests/test_cookbook.py and benchmarks/calculus_vs_sympy.py. Section numbers refer
to the Cookbook's 2012 edition; sizes are symbolic (n, m, d) unless a case says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.matrices.expressions.hadamard import HadamardProduct

from symml.catalog.primitives import sigmoid, softplus


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    of: Any
    wrt: Any
    true: Any
    twin: Any
    mutation: str


n, m, d = sp.symbols("n m d", integer=True, positive=True)
X, A, B = (sp.MatrixSymbol(s, n, n) for s in "XAB")
W, Amn = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("A", m, n)
a, b, x, w = (sp.MatrixSymbol(s, n, 1) for s in "abxw")
g, y, c = sp.MatrixSymbol("g", m, 1), sp.MatrixSymbol("y", m, 1), sp.MatrixSymbol("c", m, 1)
z = sp.MatrixSymbol("z", n, 1)
D = sp.MatrixSymbol("D", m, n)  # design matrix of least squares (m samples, n features)
Q, K, G = sp.MatrixSymbol("Q", n, d), sp.MatrixSymbol("K", m, d), sp.MatrixSymbol("G", n, m)
lam = sp.Symbol("lambda", positive=True)
u = sp.Dummy("u")
I_n = sp.Identity(n)
ones = sp.OneMatrix(n, 1)


def _ew(body: Any, arg: Any) -> Any:
    return ElementwiseApplyFunction(sp.Lambda(u, body), arg)


def _dot(p: Any, q: Any) -> Any:
    return (p.T * q)[0, 0]


exp_z = _ew(sp.exp(u), z)
total = (sp.OneMatrix(1, n) * exp_z)[0, 0]
softmax = exp_z / total
lse = sp.log(total)
centred = x - ones * (ones.T * x) / n

CASES: tuple[Case, ...] = (
    # -- traces (Cookbook §2.5) ------------------------------------------------------------------
    Case("tr X", "(99)", sp.Trace(X), X, I_n, 2 * I_n, "factor"),
    Case("tr AX", "(100)", sp.Trace(A * X), X, A.T, A, "transpose"),
    Case("tr XA", "(100)", sp.Trace(X * A), X, A.T, A, "transpose"),
    Case("tr AXB", "(101)", sp.Trace(A * X * B), X, A.T * B.T, A * B, "transpose"),
    Case("tr XᵀA", "(103)", sp.Trace(X.T * A), X, A, A.T, "transpose"),
    Case("tr XᵀX", "(107)", sp.Trace(X.T * X), X, 2 * X, X, "factor"),
    Case("tr X²", "(106)", sp.Trace(X**2), X, 2 * X.T, 2 * X, "transpose"),
    Case("tr X³", "(108)", sp.Trace(X**3), X, 3 * (X**2).T, 3 * X**2, "transpose"),
    Case("tr XᵀAX", "(110)", sp.Trace(X.T * A * X), X, (A + A.T) * X, 2 * A * X, "transpose"),
    Case("tr XAXᵀ", "(111)", sp.Trace(X * A * X.T), X, X * (A + A.T), 2 * X * A, "transpose"),
    Case(
        "tr AX⁻¹B",
        "(124)",
        sp.Trace(A * X.inverse() * B),
        X,
        -(X.inverse() * B * A * X.inverse()).T,
        (X.inverse() * B * A * X.inverse()).T,
        "sign",
    ),
    Case(
        "tr X⁻¹",
        "(124)",
        sp.Trace(X.inverse()),
        X,
        -(X.inverse() ** 2).T,
        -(X.inverse() ** 2),
        "transpose",
    ),
    # -- determinants (§2.1.2) -------------------------------------------------------------------
    Case(
        "det X",
        "(49)",
        sp.Determinant(X),
        X,
        sp.Determinant(X) * X.inverse().T,
        sp.Determinant(X) * X.inverse(),
        "transpose",
    ),
    Case(
        "log det X", "(57)", sp.log(sp.Determinant(X)), X, X.inverse().T, X.inverse(), "transpose"
    ),
    Case(
        "det AXB",
        "(51)",
        sp.Determinant(A * X * B),
        X,
        sp.Determinant(A * X * B) * X.inverse().T,
        sp.Determinant(A * X * B) * X.inverse(),
        "transpose",
    ),
    Case(
        "log det XᵀX",
        "(55)",
        sp.log(sp.Determinant(X.T * X)),
        X,
        2 * X.inverse().T,
        X.inverse().T,
        "factor",
    ),
    Case(
        "det X²",
        "(53)",
        sp.Determinant(X**2),
        X,
        2 * sp.Determinant(X) ** 2 * X.inverse().T,
        sp.Determinant(X) ** 2 * X.inverse().T,
        "factor",
    ),
    Case(
        "det X⁻¹",
        "(56)",
        sp.Determinant(X.inverse()),
        X,
        -sp.Determinant(X.inverse()) * X.inverse().T,
        sp.Determinant(X.inverse()) * X.inverse().T,
        "sign",
    ),
    # -- inverses (§2.2) -------------------------------------------------------------------------
    Case(
        "aᵀX⁻¹b",
        "(61)",
        _dot(a, X.inverse() * b),
        X,
        -X.inverse().T * a * b.T * X.inverse().T,
        -X.inverse() * a * b.T * X.inverse(),
        "transpose",
    ),
    # -- bilinear and quadratic forms (§2.4) ------------------------------------------------------
    Case("aᵀXb", "(70)", _dot(a, X * b), X, a * b.T, b * a.T, "transpose"),
    Case("aᵀXᵀb", "(71)", _dot(a, X.T * b), X, b * a.T, a * b.T, "transpose"),
    Case("gᵀWx (m×n)", "(70)", _dot(g, W * x), W, g * x.T, -g * x.T, "sign"),
    Case("gᵀWx by x", "(69)", _dot(g, W * x), x, W.T * g, 2 * W.T * g, "factor"),
    Case("bᵀx", "(69)", _dot(b, x), x, b, -b, "sign"),
    Case("xᵀx", "(§2.4.2)", _dot(x, x), x, 2 * x, x, "factor"),
    Case("xᵀBx", "(81)", _dot(x, B * x), x, (B + B.T) * x, 2 * B * x, "transpose"),
    Case(
        "aᵀXᵀXb",
        "(77)",
        _dot(a, X.T * X * b),
        X,
        X * (a * b.T + b * a.T),
        2 * X * a * b.T,
        "transpose",
    ),
    Case(
        "xᵀAᵀAx", "(§2.4.2)", _dot(A * x, A * x), x, 2 * A.T * A * x, 2 * A * A.T * x, "transpose"
    ),
    # -- norms (§2.6) ----------------------------------------------------------------------------
    Case("‖x‖₂", "(129)", sp.sqrt(_dot(x, x)), x, x / sp.sqrt(_dot(x, x)), x, "factor"),
    Case(
        "‖X‖_F",
        "(§2.6)",
        sp.sqrt(sp.Trace(X.T * X)),
        X,
        X / sp.sqrt(sp.Trace(X.T * X)),
        X,
        "factor",
    ),
    Case(
        "‖Ax − c‖² by x",
        "(84)",
        _dot(Amn * x - c, Amn * x - c),
        x,
        2 * Amn.T * (Amn * x - c),
        2 * Amn.T * (Amn * x + c),
        "sign",
    ),
    Case(
        "‖Wx − y‖² by W",
        "(§2.4)",
        _dot(W * x - y, W * x - y),
        W,
        2 * (W * x - y) * x.T,
        (W * x - y) * x.T,
        "factor",
    ),
    # -- least squares, softmax, log-sum-exp, layers ---------------------------------------------
    Case(
        "ridge ½‖Dw − y‖² + λ/2‖w‖²",
        "normal equations",
        _dot(D * w - y, D * w - y) / 2 + lam * _dot(w, w) / 2,
        w,
        D.T * (D * w - y) + lam * w,
        D.T * (D * w - y) - lam * w,
        "sign",
    ),
    Case("log-sum-exp", "softmax", lse, z, softmax, exp_z, "factor"),
    Case(
        "softmax Jacobian",
        "diag(s) − s sᵀ",
        softmax,
        z,
        DiagMatrix(softmax) - softmax * softmax.T,
        DiagMatrix(softmax) + softmax * softmax.T,
        "sign",
    ),
    Case(
        "cross-entropy of softmax",
        "−yᵀ log s",
        -_dot(x, z) + lse * _dot(ones, x),
        z,
        softmax * _dot(ones, x) - x,
        x - softmax * _dot(ones, x),
        "sign",
    ),
    Case(
        "dense layer gᵀσ(Wx)",
        "backprop",
        _dot(g, _ew(sigmoid(u), W * x)),
        W,
        HadamardProduct(g, _ew(sigmoid(u) * (1 - sigmoid(u)), W * x)) * x.T,
        HadamardProduct(g, _ew(sigmoid(u), W * x)) * x.T,
        "factor",
    ),
    Case(
        "Wᵀ(δ ⊙ σ′(z)) by x",
        "backprop",
        _dot(g, _ew(sigmoid(u), W * x)),
        x,
        W.T * HadamardProduct(g, _ew(sigmoid(u) * (1 - sigmoid(u)), W * x)),
        W.T * g,
        "factor",
    ),
    Case(
        "1ᵀ tanh(x)",
        "element-wise",
        (sp.OneMatrix(1, n) * _ew(sp.tanh(u), x))[0, 0],
        x,
        _ew(1 - sp.tanh(u) ** 2, x),
        _ew(sp.tanh(u), x),
        "factor",
    ),
    Case(
        "1ᵀ softplus(x)",
        "element-wise",
        (sp.OneMatrix(1, n) * _ew(softplus(u), x))[0, 0],
        x,
        _ew(sigmoid(u), x),
        _ew(sigmoid(-u), x),
        "sign",
    ),
    Case(
        "attention scores ⟨G, QKᵀ⟩/√d",
        "attention",
        sp.Trace(G.T * Q * K.T) / sp.sqrt(d),
        Q,
        G * K / sp.sqrt(d),
        G * K * sp.sqrt(d),
        "factor",
    ),
    Case(
        "layer-norm variance ‖x − x̄‖²/n",
        "layer norm",
        _dot(centred, centred) / n,
        x,
        2 * centred / n,
        2 * x / n,
        "factor",
    ),
)
