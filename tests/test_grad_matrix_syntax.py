"""`symml grad --expr` in matrix syntax: shapes declared with --shape, answers in matrix form,
and what the reader refuses rather than guesses."""

import io
import json

import pytest

from symml.cli.main import main
from symml.errors import ExpressionError
from symml.read.expressions import parse_expression, parse_shape


def grad(capsys, *argv: str) -> tuple[int, str, str]:
    out = io.StringIO()
    code = main(["grad", *argv], out=out)
    return code, out.getvalue(), capsys.readouterr().err


@pytest.mark.parametrize(
    "expr, shapes, wrt, answer",
    [
        ("log(det(X))", ["X=n,n"], "X", "X.T**(-1)"),
        ("det(X)", ["X=3,3"], "X", "Determinant(X)*X.T**(-1)"),
        ("a.T @ X @ b", ["X=n,m", "a=n", "b=m"], "X", "a*b.T"),
        ("g.T @ W @ x", ["g=m", "W=m,n", "x=n"], "W", "g*x.T"),
        ("x.T @ A @ x", ["A=n,n", "x=n"], "x", "(A + A.T)*x"),
        ("norm(A @ x - b)**2", ["A=m,n", "x=n", "b=m"], "x", "2*A.T*(A*x - b)"),
        ("norm(W @ x - y)**2", ["W=m,n", "x=n", "y=m"], "W", "2*(W*x - y)*x.T"),
        ("tr(A @ X @ B)", ["A=p,m", "X=m,n", "B=n,p"], "X", "A.T*B.T"),
    ],
)
def test_matrix_expressions_get_their_textbook_gradient(capsys, expr, shapes, wrt, answer):
    argv = ["--expr", expr, "--wrt", wrt]
    for shape in shapes:
        argv += ["--shape", shape]
    code, out, err = grad(capsys, *argv)
    assert (code, err) == (0, "")
    assert out.startswith(f"∂/∂{wrt}: {answer}    [matrix calculus at ")
    assert "cross-checked elementwise at" in out


def test_json_and_latex_output(capsys):
    argv = ["--expr", "log(det(X))", "--shape", "X=n,n", "--wrt", "X"]
    code, out, _ = grad(capsys, *argv, "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert row["of"] == "log(det(X))"
    assert (row["wrt"], row["value"], row["form"]) == ("X", "X.T**(-1)", "matrix")
    code, out, _ = grad(capsys, *argv, "--latex")
    assert (code, out) == (0, r"\frac{\partial f}{\partial X} = \left(X^{\top}\right)^{-1}" + "\n")


@pytest.mark.parametrize(
    "expr, shapes, problem",
    [
        ("X * Y", ["X=n,n", "Y=n,n"], "* between two matrices: write A @ B for the matrix "
         "product or hadamard(A, B) for the element-wise product"),
        ("X**2", ["X=n,n"], "a power of a matrix: write X @ X for the matrix power, "
         "hadamard(X, X) for the element-wise one, or inv(X) for the inverse"),
        ("exp(X)", ["X=n,n"], "exp of a matrix: apply it to a scalar (an entry, a trace, a norm)"),
        ("x.T", [], ".T of a scalar; give it a shape, e.g. --shape x=n"),
        ("A @ x", ["A=m,n", "x=k"], "@ of m×n and k×1 matrices: the inner sizes differ"),
        ("det(A)", ["A=m,n"], "det of a m×n matrix; it needs a square one"),
        ("X + 1", ["X=n,n"], "+ or - of n×n and a scalar: both sides need the same shape"),
    ],
)  # fmt: skip
def test_what_matrix_syntax_refuses_in_one_line(capsys, expr, shapes, problem):
    argv = ["--expr", expr]
    for shape in shapes:
        argv += ["--shape", shape]
    code, out, err = grad(capsys, *argv)
    assert (code, out) == (2, "")
    assert err == f"symml: cannot read expression {expr!r}: {problem}\n"


@pytest.mark.parametrize("text", ["x=n,n,n", "=n", "x", "x=0", "x=n-1"])
def test_a_bad_shape_is_refused(text):
    with pytest.raises(ExpressionError):
        parse_shape(text)


def test_a_one_by_one_product_reads_as_its_entry():
    value = parse_expression("x.T @ x", shapes={"x": parse_shape("x=n")[1]})
    assert not value.is_Matrix and value.is_commutative
