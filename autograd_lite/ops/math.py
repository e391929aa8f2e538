"""More elementwise functions: trigonometric, hyperbolic, logarithms and exponentials, ``erf``,
rounding, ``remainder``/``fmod``, ``hypot``.

Conventions (as PyTorch): ``sign``, ``floor``, ``ceil``, ``round`` and ``trunc`` have a zero
gradient everywhere (also at their jumps); ``round`` rounds half to even; ``remainder`` takes the
sign of the divisor (Python's ``%``, ``np.remainder``), ``fmod`` the sign of the dividend (C's
``fmod``), and their gradient with respect to the divisor is ``−floor(x / y)`` resp.
``−trunc(x / y)`` times ``g``. ``hypot``'s gradient at ``(0, 0)`` is NaN, as PyTorch's.

NumPy has no ``erf``: :func:`_erf` computes it to within about 1e-15 in float64 (a series
for ``|x| < 2``, a continued fraction for ``erfc`` beyond, each with as many terms as its band
of ``|x|`` needs); ``erfc`` keeps its relative accuracy where it is tiny.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .core import Op, check_broadcast, data
from .elementwise import _unary, exp, masked, sqrt, where

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _ex(name: str, arg: str, shows: str) -> str:
    return f">>> al.{name}({arg})\nTensor({shows}, dtype=float64)"


# ---------------------------------------------------------------------------------------------
# Trigonometric and hyperbolic

sin = _unary("sin", np.sin, lambda g, out, x: g * cos(x), "g ⊙ cos x", "Elementwise sine.",
             _ex("sin", "[0.0]", "[0.]"), ufunc=np.sin)
cos = _unary("cos", np.cos, lambda g, out, x: -g * sin(x), "−g ⊙ sin x", "Elementwise cosine.",
             _ex("cos", "[0.0]", "[1.]"), ufunc=np.cos)
tan = _unary("tan", np.tan, lambda g, out, x: g * (1 + out * out), "g ⊙ (1 + tan²x)",
             "Elementwise tangent.", _ex("tan", "[0.0]", "[0.]"), ufunc=np.tan)
arcsin = _unary("arcsin", np.arcsin, lambda g, out, x: g / sqrt(1 - x * x), "g / √(1 − x²)",
                "Elementwise inverse sine (NaN outside [−1, 1]).",
                _ex("arcsin", "[0.0]", "[0.]"), ufunc=np.arcsin)
arccos = _unary("arccos", np.arccos, lambda g, out, x: -g / sqrt(1 - x * x), "−g / √(1 − x²)",
                "Elementwise inverse cosine (NaN outside [−1, 1]).",
                _ex("arccos", "[1.0]", "[0.]"), ufunc=np.arccos)
arctan = _unary("arctan", np.arctan, lambda g, out, x: g / (1 + x * x), "g / (1 + x²)",
                "Elementwise inverse tangent.", _ex("arctan", "[0.0]", "[0.]"), ufunc=np.arctan)
sinh = _unary("sinh", np.sinh, lambda g, out, x: g * cosh(x), "g ⊙ cosh x",
              "Elementwise hyperbolic sine.", _ex("sinh", "[0.0]", "[0.]"), ufunc=np.sinh)
cosh = _unary("cosh", np.cosh, lambda g, out, x: g * sinh(x), "g ⊙ sinh x",
              "Elementwise hyperbolic cosine.", _ex("cosh", "[0.0]", "[1.]"), ufunc=np.cosh)
arcsinh = _unary("arcsinh", np.arcsinh, lambda g, out, x: g / sqrt(x * x + 1), "g / √(x² + 1)",
                 "Elementwise inverse hyperbolic sine.", _ex("arcsinh", "[0.0]", "[0.]"),
                 ufunc=np.arcsinh)
arccosh = _unary("arccosh", np.arccosh, lambda g, out, x: g / sqrt((x - 1) * (x + 1)),
                 "g / √(x² − 1)", "Elementwise inverse hyperbolic cosine (NaN below 1).",
                 _ex("arccosh", "[1.0]", "[0.]"), ufunc=np.arccosh)
arctanh = _unary("arctanh", np.arctanh, lambda g, out, x: g / (1 - x * x), "g / (1 − x²)",
                 "Elementwise inverse hyperbolic tangent (NaN outside [−1, 1]).",
                 _ex("arctanh", "[0.0]", "[0.]"), ufunc=np.arctanh)


def _over_radius2(num: Any, y: Any, x: Any) -> Any:
    """``num / (x² + y²)``, and 0 at the origin, PyTorch's choice for the undefined gradient
    there (the plain formula gives 0/0 = NaN); selected, so a second derivative there is 0 too."""
    d = x * x + y * y
    away = data(d) != 0
    if np.all(away):
        return num / d
    return where(num / where(d, 1.0, cond=away), 0.0, cond=away)


def _atan2_dy(g: Any, out: Any, y: Any, x: Any) -> Any:
    return _over_radius2(g * x, y, x)


def _atan2_dx(g: Any, out: Any, y: Any, x: Any) -> Any:
    return _over_radius2(-g * y, y, x)


arctan2 = Op("arctan2", np.arctan2, (_atan2_dy, _atan2_dx),
             rules=("g ⊙ x / (x² + y²), 0 at the origin (as PyTorch)",
                    "−g ⊙ y / (x² + y²), 0 at the origin"),
             summary="Elementwise angle of the point ``(x, y)``: ``arctan2(y, x)`` (note the "
             "order, as NumPy), with broadcasting.",
             example=">>> al.arctan2([1.0], [1.0])   # π/4\nTensor([0.78539816], dtype=float64)",
             public="arctan2", ufunc=np.arctan2, check=check_broadcast("arctan2", "vs"),
             batch=True)

# ---------------------------------------------------------------------------------------------
# Logarithms, exponentials, powers

log1p = _unary("log1p", np.log1p, lambda g, out, x: g / (1 + x), "g / (1 + x)",
               "Elementwise ``log(1 + x)``, accurate for small ``x``.",
               _ex("log1p", "[0.0]", "[0.]"), ufunc=np.log1p)
expm1 = _unary("expm1", np.expm1, lambda g, out, x: g * (out + 1), "g ⊙ eˣ",
               "Elementwise ``e**x − 1``, accurate for small ``x``.",
               _ex("expm1", "[0.0]", "[0.]"), ufunc=np.expm1)
log2 = _unary("log2", np.log2, lambda g, out, x: g / (x * _LN2), "g / (x ln 2)",
              "Elementwise base-2 logarithm.", _ex("log2", "[8.0]", "[3.]"), ufunc=np.log2)
log10 = _unary("log10", np.log10, lambda g, out, x: g / (x * _LN10), "g / (x ln 10)",
               "Elementwise base-10 logarithm.", _ex("log10", "[100.0]", "[2.]"),
               ufunc=np.log10)
exp2 = _unary("exp2", np.exp2, lambda g, out, x: g * out * _LN2, "g ⊙ 2ˣ ln 2",
              "Elementwise ``2**x``.", _ex("exp2", "[3.0]", "[8.]"), ufunc=np.exp2)
square = _unary("square", np.square, lambda g, out, x: g * (2 * x), "2 g ⊙ x",
                "Elementwise ``x**2``.", _ex("square", "[3.0]", "[9.]"), ufunc=np.square)
reciprocal = _unary("reciprocal", np.reciprocal, lambda g, out, x: -g * out * out, "−g / x²",
                    "Elementwise ``1 / x``.", _ex("reciprocal", "[4.0]", "[0.25]"),
                    ufunc=np.reciprocal)
rsqrt = _unary("rsqrt", lambda x: 1 / np.sqrt(x), lambda g, out, x: -0.5 * g * out * out * out,
               "−g / (2 x^{3/2})", "Elementwise ``1 / √x``.", _ex("rsqrt", "[4.0]", "[0.5]"))

# ---------------------------------------------------------------------------------------------
# The error function (NumPy has none)


def _erf_series(x: np.ndarray, terms: int) -> np.ndarray:
    """``erf`` for small ``|x|``: ``2/√π e^(−x²) Σ (2x²)^k x / (1·3···(2k+1))`` (positive terms,
    no cancellation)."""
    x2 = 2 * x * x
    term = x.copy()
    total = x.copy()
    for k in range(1, terms):
        term *= x2 / (2 * k + 1)
        total += term
    return _TWO_OVER_SQRT_PI * _exp_minus_square(x) * total


def _exp_minus_square(x: np.ndarray) -> np.ndarray:
    """``e^(−x²)`` without rounding ``x²``: ``x = z + (x − z)`` with ``z²`` exact."""
    z = np.floor(x * 4096) / 4096
    return np.exp(-z * z) * np.exp((z - x) * (z + x))


def _erfc_fraction(x: np.ndarray, terms: int) -> np.ndarray:
    """``erfc`` for ``x >= 1``: Laplace's continued fraction
    ``e^(−x²)/√π / (x + ½/(x + 1/(x + (3/2)/(x + ...))))``."""
    f = x.copy()
    for k in range(terms, 0, -1):
        f = x + (k / 2) / f
    return _exp_minus_square(x) / (math.sqrt(math.pi) * f)


# (upper end of a band of |x|, terms that reach ~1 ulp there), measured against math.erf(c)
_SERIES_TERMS = ((0.5, 16), (1.0, 22), (1.5, 28), (2.0, 34))
_FRACTION_TERMS = ((1.5, 180), (2.0, 80), (2.5, 50), (3.0, 40), (4.0, 32), (6.0, 22),
                   (np.inf, 16))


def _banded(a: np.ndarray, bands: tuple, fn: Any, start: float) -> np.ndarray:
    """``fn(a, terms)`` for ``a`` in ``[start, ∞)``, each band of values with its own terms."""
    out = np.empty_like(a)
    lo = start
    for hi, terms in bands:
        m = (a >= lo) & (a < hi)
        if m.any():
            out[m] = fn(a[m], terms)
        lo = hi
    return out


def _float(x: np.ndarray) -> tuple[np.ndarray, np.dtype]:
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    return x.astype(np.float64), dtype


def _erf_abs(a: np.ndarray) -> np.ndarray:
    """``erf`` of ``a >= 0`` (NaN-free): the series below 2, ``1 − erfc`` above (the series'
    rounding grows with its terms beyond)."""
    small = a < 2
    out = np.empty_like(a)
    out[small] = _banded(a[small], _SERIES_TERMS, _erf_series, 0.0)
    out[~small] = 1 - _erfc_big(a[~small])
    return out


def _erfc_big(a: np.ndarray) -> np.ndarray:
    """``erfc`` of ``a >= 1`` (the continued fraction; ``erfc(30)`` underflows to 0)."""
    return _banded(np.minimum(a, 30.0), _FRACTION_TERMS, _erfc_fraction, 1.0)


def _erf(x: np.ndarray) -> np.ndarray:
    x, dtype = _float(x)
    a = np.abs(x)
    nan = np.isnan(a)
    out = _erf_abs(np.where(nan, 0, a))
    out[nan] = np.nan
    return np.copysign(out, x).astype(dtype, copy=False)


def _erfc(x: np.ndarray) -> np.ndarray:
    x, dtype = _float(x)
    a = np.where(np.isnan(x), 0, np.abs(x))
    big = (x >= 1)
    out = np.empty_like(a)
    out[big] = _erfc_big(a[big])            # tiny values: their own relative accuracy
    out[~big] = 1 - np.copysign(_erf_abs(a[~big]), x[~big])
    out[np.isnan(x)] = np.nan
    return out.astype(dtype, copy=False)


erf = _unary("erf", _erf, lambda g, out, x: g * (_TWO_OVER_SQRT_PI * exp(-x * x)),
             "g ⊙ 2/√π e^(−x²)", "Elementwise error function (to about 1 ulp in float64).",
             _ex("erf", "[0.0]", "[0.]"))
erfc = _unary("erfc", _erfc, lambda g, out, x: g * (-_TWO_OVER_SQRT_PI * exp(-x * x)),
              "−g ⊙ 2/√π e^(−x²)",
              "Elementwise complementary error function ``1 − erf(x)``, accurate where it is "
              "tiny (large ``x``).", _ex("erfc", "[0.0]", "[1.]"))

# ---------------------------------------------------------------------------------------------
# Piecewise constant: zero gradient everywhere, as PyTorch


def _zero(g: Any, out: Any, x: Any) -> Any:
    return masked(g, False)   # zeros of g's shape (not g · 0, which is NaN for an infinite g)


sign = _unary("sign", np.sign, _zero, "0", "Elementwise sign (−1, 0 or 1); gradient 0.",
              _ex("sign", "[-2.0, 0.0, 3.0]", "[-1.,  0.,  1.]"), ufunc=np.sign)
floor = _unary("floor", np.floor, _zero, "0", "Elementwise floor; gradient 0.",
               _ex("floor", "[1.5, -1.5]", "[ 1., -2.]"), ufunc=np.floor)
ceil = _unary("ceil", np.ceil, _zero, "0", "Elementwise ceiling; gradient 0.",
              _ex("ceil", "[1.5, -1.5]", "[ 2., -1.]"), ufunc=np.ceil)
round_ = _unary("round", np.round, _zero, "0",
                "Elementwise rounding to the nearest integer, halves to even (as NumPy and "
                "PyTorch); gradient 0.", _ex("round", "[0.5, 1.5, 2.7]", "[0., 2., 3.]"),
                ufunc=np.rint)
trunc = _unary("trunc", np.trunc, _zero, "0", "Elementwise rounding towards zero; gradient 0.",
               _ex("trunc", "[1.5, -1.5]", "[ 1., -1.]"), ufunc=np.trunc)

# ---------------------------------------------------------------------------------------------
# Binary: remainders and hypot


def _remainder(name: str, fn: np.ufunc, rounding: np.ufunc, summary: str, shows: str,
               check: Any) -> Op:
    """``x − y·rounding(x / y)``: the gradient is ``g`` for ``x`` and ``−g·rounding(x / y)`` for
    ``y`` (the rounded quotient is piecewise constant)."""
    def dy(g: Any, out: Any, x: Any, y: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):
            return -g * rounding(data(x) / data(y))
    return Op(name, fn, (lambda g, out, x, y: g, dy),
              rules=("g", f"−g ⊙ {rounding.__name__}(x / y)"), summary=summary,
              example=f">>> al.{name}([5.0, -5.0], 3.0)\nTensor({shows}, dtype=float64)",
              public=name, ufunc=fn, check=check, batch=True)


remainder = _remainder("remainder", np.remainder, np.floor,
                       "Elementwise remainder with the sign of the divisor (Python's ``%``, "
                       "``torch.remainder``); ``x % y`` on Tensors.", "[2., 1.]",
                       check_broadcast("remainder", "%"))
fmod = _remainder("fmod", np.fmod, np.trunc,
                  "Elementwise remainder with the sign of the dividend (C's ``fmod``, "
                  "``torch.fmod``).", "[ 2., -2.]", check_broadcast("fmod", "vs"))
hypot = Op("hypot", np.hypot, (lambda g, out, x, y: g * x / out, lambda g, out, x, y: g * y / out),
           rules=("g ⊙ x / hypot(x, y)", "g ⊙ y / hypot(x, y)"),
           summary="Elementwise ``√(x² + y²)`` without overflow.",
           example=">>> al.hypot([3.0], [4.0])\nTensor([5.], dtype=float64)",
           public="hypot", ufunc=np.hypot, check=check_broadcast("hypot", "vs"), batch=True)
