"""Part 9 of the sheet: evaluation metrics (classification counts, ROC-AUC, R²)."""

import sympy as sp

from symml.catalog.declare import Part
from symml.catalog.domains import count, nonnegative, real, unit_closed
from symml.catalog.model import Convention, Identity, Notation, Reading, Status

P = Part(9, "Evaluation metrics")

P.section("metrics")  # confusion-matrix counts, then n regression samples
TP = P.scalar("TP", count, meaning="number of true positives")
TN = P.scalar("TN", count, meaning="number of true negatives")
FP = P.scalar("FP", count, meaning="number of false positives")
FN = P.scalar("FN", count, meaning="number of false negatives")
Acc = P.scalar("Acc", unit_closed, meaning="accuracy")
Prec = P.scalar("Prec", unit_closed, meaning="precision")
Rec = P.scalar("Rec", unit_closed, meaning="recall (sensitivity, true positive rate)")
F1 = P.scalar("F1", unit_closed, meaning="F1 score (a name, not F times 1)")

AUC = P.scalar("AUC", unit_closed, meaning="area under the ROC curve")
TPR = P.function(
    "TPR",
    domain=unit_closed,
    meaning="true positive rate as a function of the false positive rate (the ROC curve)",
)
u = P.scalar("u", unit_closed, meaning="false positive rate FPR, the integration variable")

n = P.size("n", meaning="number of samples")
i = P.index("i", meaning="sample")
j = P.index("j", meaning="summation index of the mean ȳ")
y = P.indexed("y", n, meaning="true targets y₁ … yₙ")
yhat = P.indexed("yhat", n, meaning="predictions ŷ₁ … ŷₙ")
R2 = P.scalar("R2", real, meaning="R² score (a name: it can be negative)")
SS_res = P.scalar("SS_res", nonnegative, meaning="residual sum of squares")
SS_tot = P.scalar("SS_tot", nonnegative, meaning="total sum of squares")

_ZERO_DIVISION = Convention(
    "scikit-learn",
    "precision_score/recall_score/f1_score return 0 (with a warning) when the "
    "denominator is 0, set by zero_division='warn'; zero_division=np.nan gives NaN instead.",
)

P.formula(
    "metrics.accuracy",
    "Accuracy",
    sheet="Acc = (TP + TN) / (TP + TN + FP + FN)",
    expr=(TP + TN) / (TP + TN + FP + FN),
    lhs=Acc,
    notes=("Undefined when there are no samples (TP + TN + FP + FN = 0).",),
)
_prec = TP / (TP + FP)
_rec = TP / (TP + FN)
P.formula(
    "metrics.precision",
    "Precision",
    sheet="Prec = TP / (TP + FP)",
    expr=_prec,
    lhs=Prec,
    notes=("Undefined when nothing is predicted positive (TP + FP = 0).",),
    conventions=(_ZERO_DIVISION,),
)
P.formula(
    "metrics.recall",
    "Recall",
    sheet="Rec = TP / (TP + FN)",
    expr=_rec,
    lhs=Rec,
    notes=("Undefined when there are no actual positives (TP + FN = 0).",),
    conventions=(_ZERO_DIVISION,),
)
P.formula(
    "metrics.f1",
    "F1 score",
    sheet="F1 = 2·(Prec·Rec)/(Prec + Rec)",
    expr=2 * (Prec * Rec) / (Prec + Rec),
    lhs=F1,
    notes=("The harmonic mean of precision and recall.",),
    claims=[
        Identity(
            sheet="F1 = 2·(Prec·Rec)/(Prec + Rec)",
            lhs=2 * (_prec * _rec) / (_prec + _rec),
            rhs=2 * TP / (2 * TP + FP + FN),
            expected=Status.CONDITIONAL,
            conditions=(TP > 0,),
            note="With TP = 0 precision and recall are 0 (or undefined), so 2PR/(P+R) is 0/0, "
            "while the count form 2TP/(2TP + FP + FN) is 0.",
        ),
    ],
    conventions=(_ZERO_DIVISION,),
)
P.formula(
    "metrics.roc_auc",
    "ROC-AUC",
    sheet="AUC = ∫ TPR d(FPR)",
    expr=sp.Integral(TPR(u), (u, 0, 1)),
    lhs=AUC,
    notes=(
        "TPR is read as a function of FPR over [0, 1] (the ROC curve); the sheet leaves "
        "the limits implicit.",
    ),
    conventions=(
        Convention(
            "scikit-learn",
            "roc_auc_score integrates the empirical ROC curve "
            "with the trapezoidal rule (linear interpolation between "
            "thresholds).",
        ),
    ),
)

_ybar = sp.Sum(y[j], (j, 1, n)) / n
_yhatbar = sp.Sum(yhat[j], (j, 1, n)) / n
_ss_res = sp.Sum((y[i] - yhat[i]) ** 2, (i, 1, n))
_ss_tot = sp.Sum((y[i] - _ybar) ** 2, (i, 1, n))
_pearson = sp.Sum((y[i] - _ybar) * (yhat[i] - _yhatbar), (i, 1, n)) / sp.sqrt(
    _ss_tot * sp.Sum((yhat[i] - _yhatbar) ** 2, (i, 1, n))
)

P.formula(
    "metrics.r2",
    "R² score",
    sheet="R² = 1 - (SS_res / SS_tot)",
    expr=1 - (SS_res / SS_tot),
    lhs=R2,
    notes=("Undefined when every yᵢ is equal (SS_tot = 0).",),
    claims=[
        Notation(
            sheet="R² = 1 - (SS_res / SS_tot)",
            expected=Status.AMBIGUOUS,
            note="The name R² reads as a square (so ≥ 0), but 1 − SS_res/SS_tot is negative for "
            "predictions worse than the mean; the two agree only for least-squares fits "
            "with an intercept.",
            readings=(
                Reading("1 − SS_res/SS_tot (can be negative)", 1 - _ss_res / _ss_tot, True),
                Reading(
                    "square of the correlation coefficient r² between y and ŷ", _pearson**2, False
                ),
            ),
        ),
    ],
    conventions=(
        Convention(
            "scikit-learn",
            "r2_score returns 1.0 for perfect predictions of a "
            "constant target and 0.0 otherwise when SS_tot = 0 "
            "(force_finite=True), instead of NaN/-inf.",
        ),
    ),
)
P.formula(
    "metrics.ss_res",
    "Residual sum of squares",
    sheet="SS_res = Σ(yᵢ - ŷᵢ)²",
    expr=_ss_res,
    lhs=SS_res,
)
P.formula(
    "metrics.ss_tot",
    "Total sum of squares",
    sheet="SS_tot = Σ(yᵢ - ȳ)²",
    expr=_ss_tot,
    lhs=SS_tot,
    notes=("The sheet never defines ȳ; it is read as the sample mean (1/n)Σⱼ yⱼ.",),
)
