"""ML primitives as SymPy functions.

Each primitive is one class that carries everything symml does with it: its derivative
(``fdiff``), its rewrite to elementary functions (``rewrite(sp.exp)`` /
``rewrite("elementary")``), its LaTeX (``latex_name``), the names the LaTeX reader accepts
for it (``reader_names``), and how kernels compute it: a stable operation of the kernel
runtime (``kernel_operation``: ``rt.<name>`` on NumPy, ``_<name>`` on numba) or a form in
other primitives (``kernel_form``). Adding a primitive is one class here, listed in
``PRIMITIVES``; a new kernel operation is then one method per backend.
``elementary(expr)`` rewrites every primitive at once; the verifier and the tests use it
to compare a primitive with its definition.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.function import ArgumentIndexError


class MLFunction(sp.Function):
    """Shared behaviour: ``rewrite("elementary")`` and a LaTeX name."""

    latex_name: str = ""
    #: the names the LaTeX reader accepts (``\operatorname{softplus}``), matched without case
    reader_names: tuple[str, ...] = ()
    #: the kernel runtime's stable operation that computes it, if it has one
    kernel_operation: str | None = None

    def kernel_form(self) -> sp.Basic:
        """What kernels compute for a primitive with no operation of its own (itself, else)."""
        return self

    def _eval_rewrite_as_elementary(self, *args, **kwargs):
        return self._elementary(*args)

    def _eval_rewrite_as_exp(self, *args, **kwargs):
        return self._elementary(*args)

    def _elementary(self, *args):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _latex(self, printer, exp=None):
        args = ", ".join(printer._print(a) for a in self.args)
        head = self.latex_name or rf"\operatorname{{{type(self).__name__}}}"
        text = rf"{head}\left({args}\right)"
        return rf"{text}^{{{exp}}}" if exp is not None else text


def _cdf_value(z):
    """Known values of a CDF-shaped function symmetric about ½ (σ, Φ): ½ at 0, 0 and 1 at
    ∓∞; None leaves the call unevaluated."""
    if z.is_zero:
        return sp.S.Half
    return {sp.S.Infinity: sp.S.One, sp.S.NegativeInfinity: sp.S.Zero}.get(z)


class sigmoid(MLFunction):
    """The logistic function σ(z) = 1 / (1 + e^{-z})."""

    nargs = 1
    latex_name = r"\sigma"
    reader_names = ("sigmoid",)
    kernel_operation = "expit"

    @classmethod
    def eval(cls, z):
        return _cdf_value(z)

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return self * (1 - self)

    def _elementary(self, z):
        return 1 / (1 + sp.exp(-z))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return True if self.args[0].is_extended_real else None


class Phi(MLFunction):
    """The standard normal CDF Φ(z) = (1 + erf(z/√2)) / 2."""

    nargs = 1
    latex_name = r"\Phi"
    kernel_operation = "ndtr"

    @classmethod
    def eval(cls, z):
        return _cdf_value(z)

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        z = self.args[0]
        return sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)

    def _elementary(self, z):
        return (1 + sp.erf(z / sp.sqrt(2))) / 2

    def _eval_rewrite_as_erf(self, z, **kwargs):
        return self._elementary(z)

    def _eval_is_real(self):
        return self.args[0].is_real


class relu(MLFunction):
    """max(0, z). Its derivative is the Heaviside step, undefined at 0."""

    nargs = 1
    latex_name = r"\operatorname{ReLU}"
    reader_names = ("relu",)

    @classmethod
    def eval(cls, z):
        if z.is_nonnegative:
            return z
        if z.is_nonpositive:
            return sp.S.Zero
        return None

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return sp.Heaviside(self.args[0])

    def _elementary(self, z):
        return sp.Max(0, z)

    def _eval_rewrite_as_Piecewise(self, z, **kwargs):
        return sp.Piecewise((z, z > 0), (0, True))

    def _eval_is_real(self):
        return self.args[0].is_real


class leaky_relu(MLFunction):
    """z for z > 0, alpha*z otherwise (PyTorch's LeakyReLU)."""

    nargs = 2
    latex_name = r"\operatorname{LeakyReLU}"
    reader_names = ("leakyrelu",)

    def kernel_form(self) -> sp.Basic:
        return self._elementary(*self.args)

    def fdiff(self, argindex=1):
        z, alpha = self.args
        if argindex == 1:
            return sp.Piecewise((1, z > 0), (alpha, True))
        if argindex == 2:
            return sp.Piecewise((0, z > 0), (z, True))
        raise ArgumentIndexError(self, argindex)

    def _elementary(self, z, alpha):
        return sp.Piecewise((z, z > 0), (alpha * z, True))

    def _eval_rewrite_as_Piecewise(self, z, alpha, **kwargs):
        return self._elementary(z, alpha)

    def _latex(self, printer, exp=None):
        z, alpha = (printer._print(a) for a in self.args)
        text = rf"\operatorname{{LeakyReLU}}_{{{alpha}}}\left({z}\right)"
        return rf"{text}^{{{exp}}}" if exp is not None else text


class gelu(MLFunction):
    """z Φ(z) (the exact GELU; PyTorch's default ``approximate='none'``)."""

    nargs = 1
    latex_name = r"\operatorname{GELU}"
    reader_names = ("gelu",)

    def kernel_form(self) -> sp.Basic:
        return self.args[0] * Phi(self.args[0])

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        z = self.args[0]
        return Phi(z) + z * Phi(z).fdiff()

    def _elementary(self, z):
        return z * (1 + sp.erf(z / sp.sqrt(2))) / 2


class softplus(MLFunction):
    """log(1 + e^z)."""

    nargs = 1
    latex_name = r"\operatorname{softplus}"
    reader_names = ("softplus",)
    kernel_operation = "softplus"

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return sigmoid(self.args[0])

    def _elementary(self, z):
        return sp.log(1 + sp.exp(z))


PRIMITIVES: tuple[type[MLFunction], ...] = (sigmoid, Phi, relu, leaky_relu, gelu, softplus)


def elementary(expr):
    """Rewrite every ML primitive in ``expr`` to elementary functions."""
    if not isinstance(expr, sp.Basic) or not expr.has(*PRIMITIVES):
        return expr
    return expr.replace(
        lambda e: isinstance(e, MLFunction),
        lambda e: e._elementary(*(elementary(a) for a in e.args)),
    )
