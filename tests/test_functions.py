"""ML primitives: each fdiff agrees with the derivative of its elementary rewrite."""

import mpmath
import pytest
import sympy as sp

from symml.catalog.primitives import PRIMITIVES, Phi, elementary, leaky_relu, relu, sigmoid

z = sp.Symbol("z", real=True)
ALPHA = sp.Rational(1, 10)


def _applied(primitive):
    return primitive(z, ALPHA) if primitive is leaky_relu else primitive(z)


@pytest.mark.parametrize("primitive", PRIMITIVES, ids=lambda p: p.__name__)
@pytest.mark.parametrize("point", [-3.5, -0.25, 0.75, 2.0])
def test_fdiff_matches_the_derivative_of_the_rewrite(primitive, point):
    applied = _applied(primitive)
    ours = elementary(applied.diff(z)).subs(z, sp.Rational(str(point)))
    reference = elementary(applied).diff(z).subs(z, sp.Rational(str(point)))
    assert abs(sp.N(ours - reference, 30)) < 1e-25


@pytest.mark.parametrize("primitive", PRIMITIVES, ids=lambda p: p.__name__)
def test_derivative_against_mpmath_central_difference(primitive):
    applied = elementary(_applied(primitive))
    f = sp.lambdify(z, applied, modules="mpmath")
    mpmath.mp.dps = 40
    point = mpmath.mpf("0.3")
    numeric = mpmath.diff(f, point)
    symbolic = sp.N(elementary(_applied(primitive).diff(z)).subs(z, sp.Rational(3, 10)), 40)
    assert abs(numeric - mpmath.mpf(str(symbolic))) < mpmath.mpf("1e-30")


def test_known_values():
    assert sigmoid(0) == sp.S.Half
    assert Phi(0) == sp.S.Half
    assert relu(sp.Symbol("p", positive=True)) == sp.Symbol("p", positive=True)
    assert sigmoid(z).diff(z) == sigmoid(z) * (1 - sigmoid(z))


def test_rewrite_to_elementary():
    assert sigmoid(z).rewrite("elementary") == 1 / (1 + sp.exp(-z))
    assert Phi(z).rewrite(sp.erf) == (1 + sp.erf(z / sp.sqrt(2))) / 2
