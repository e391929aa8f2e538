"""Elementwise primitives: arithmetic, functions, selections, casts.

Conventions at non-differentiable points (as PyTorch): ``relu'(0) = 0``, ``abs'(0) = 0``;
``maximum``/``minimum`` give half the gradient to each input where they are equal; ``clip``
passes the gradient where ``lo <= x <= hi`` (boundaries included); ``x ** y`` has
``∂/∂x = 0`` where ``y == 0`` and ``∂/∂y = 0`` where ``x == 0`` and ``y >= 0``.
"""

from __future__ import annotations

import numbers
import operator
from typing import Any

import numpy as np

from .core import Op, check_broadcast, data


def _binary(name: str, symbol: str, forward: Any, vjps: tuple, rules: tuple, summary: str,
            example: str, *, ufunc: Any, method: str | None = None,
            reads_values: bool = True) -> Op:
    return Op(name, forward, vjps, rules=rules, summary=summary, example=example, public=name,
              method=method, ufunc=ufunc, check=check_broadcast(name, symbol),
              reads_values=reads_values, batch=True)


def _unary(name: str, forward: Any, vjp: Any, rule: str, summary: str, example: str, *,
           ufunc: Any = None) -> Op:
    return Op(name, forward, (vjp,), rules=(rule,), summary=summary, example=example,
              public=name, method=name, ufunc=ufunc, batch=True)


# ---------------------------------------------------------------------------------------------
# Arithmetic

add = _binary("add", "+", operator.add,
              (lambda g, out, x, y: g,
               lambda g, out, x, y: g),
              ("g", "g"), "``x + y`` with broadcasting.",
              ">>> al.add([1.0, 2.0], 3.0)\nTensor([4., 5.], dtype=float64)",
              ufunc=np.add, reads_values=False)

sub = _binary("sub", "-", operator.sub,
              (lambda g, out, x, y: g,
               lambda g, out, x, y: -g),
              ("g", "−g"), "``x − y`` with broadcasting.",
              ">>> al.sub([3.0, 5.0], [1.0, 2.0])\nTensor([2., 3.], dtype=float64)",
              ufunc=np.subtract, reads_values=False)

mul = _binary("mul", "*", operator.mul,
              (lambda g, out, x, y: g * y,
               lambda g, out, x, y: g * x),
              ("g ⊙ y", "g ⊙ x"), "``x ⊙ y`` (elementwise product) with broadcasting.",
              ">>> al.mul([1.0, 2.0], [3.0, 4.0])\nTensor([3., 8.], dtype=float64)",
              ufunc=np.multiply)

div = _binary("div", "/", operator.truediv,
              (lambda g, out, x, y: g / y,
               lambda g, out, x, y: -g * out / y),
              ("g / y", "−g ⊙ x / y²"), "``x / y`` (true division) with broadcasting.",
              ">>> al.div([1.0, 3.0], 2.0)\nTensor([0.5, 1.5], dtype=float64)",
              ufunc=np.true_divide)


def _pow_dx(g: Any, out: Any, x: Any, y: Any) -> Any:
    # y·x^(y−1) is 0 where y == 0 (PyTorch). Only x == 0 makes that 0·∞: there the base is
    # swapped for a safe 1, so neither this rule nor its derivatives (the mixed one is
    # x^(y−1) = 1/x at y == 0 elsewhere) meet 0·∞.
    zero = (data(y) == 0) & (data(x) == 0)
    return g * y * (where(1.0, x, cond=zero) if zero.any() else x) ** (y - 1)


def _pow_dy(g: Any, out: Any, x: Any, y: Any) -> Any:
    # x^y·log x is 0 where x == 0 and y >= 0 (PyTorch): log reads a safe 1 there.
    zero = (data(x) == 0) & (data(y) >= 0)
    return g * out * log(where(1.0, x, cond=zero) if zero.any() else x)


pow_ = _binary("pow", "**", np.power, (_pow_dx, _pow_dy),
               ("g ⊙ y ⊙ x^(y−1)", "g ⊙ x^y ⊙ log x"),
               "``x ** y`` with broadcasting; at ``y == 0`` and at ``x == 0, y >= 0`` the "
               "gradients are 0, as in PyTorch.",
               ">>> al.pow([2.0, 3.0], 2)\nTensor([4., 9.], dtype=float64)",
               ufunc=np.power, method="pow")

neg = Op("neg", operator.neg, (lambda g, out, x: -g,), rules=("−g",),
         summary="``−x``.", example=">>> al.negative([1.0, -2.0])\n"
         "Tensor([-1.,  2.], dtype=float64)",
         public="negative", ufunc=np.negative, reads_values=False, batch=True)

# ---------------------------------------------------------------------------------------------
# Functions


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0, -x))


exp = _unary("exp", np.exp, lambda g, out, x: g * out, "g ⊙ exp(x)", "Elementwise ``e**x``.",
             ">>> al.exp([0.0])\nTensor([1.], dtype=float64)", ufunc=np.exp)
log = _unary("log", np.log, lambda g, out, x: g / x, "g / x", "Elementwise natural logarithm.",
             ">>> al.log([1.0])\nTensor([0.], dtype=float64)", ufunc=np.log)
sqrt = _unary("sqrt", np.sqrt, lambda g, out, x: g / (2 * out), "g / (2√x)",
              "Elementwise square root (its gradient at 0 is infinite).",
              ">>> al.sqrt([4.0, 9.0])\nTensor([2., 3.], dtype=float64)", ufunc=np.sqrt)
absolute = _unary("abs", np.abs, lambda g, out, x: g * np.sign(data(x)), "g ⊙ sign(x)",
                  "Elementwise ``|x|``; its gradient at 0 is 0.",
                  ">>> al.abs([-2.0, 3.0])\nTensor([2., 3.], dtype=float64)", ufunc=np.absolute)
tanh = _unary("tanh", np.tanh, lambda g, out, x: g * (1 - out * out), "g ⊙ (1 − tanh²x)",
              "Elementwise hyperbolic tangent.",
              ">>> al.tanh([0.0])\nTensor([0.], dtype=float64)", ufunc=np.tanh)
sigmoid = _unary("sigmoid", _sigmoid, lambda g, out, x: g * (out * (1 - out)),
                 "g ⊙ σ(x)(1 − σ(x))",
                 "Elementwise logistic function ``1 / (1 + e**−x)``, stable for large ``|x|``.",
                 ">>> al.sigmoid([0.0])\nTensor([0.5], dtype=float64)")
relu = _unary("relu", lambda x: np.maximum(x, 0), lambda g, out, x: masked(g, data(x) > 0),
              "g ⊙ [x > 0]", "Elementwise ``max(x, 0)``; its gradient at 0 is 0.",
              ">>> al.relu([-1.0, 2.0])\nTensor([0., 2.], dtype=float64)")


def masked(g: Any, mask: Any) -> Any:
    """``g`` where ``mask`` holds, else 0: a selection, not a product, so an infinite or NaN
    ``g`` outside the mask gives 0 (as PyTorch's masked rules do), never 0·∞ = NaN."""
    mask = np.asarray(mask, dtype=bool)
    if type(g) is np.ndarray and g.size >= _BIG and g.dtype.char in "fd":
        return _select_by_product(g, mask)   # a plain backward: the same values, faster
    return where(g, 0.0, cond=mask)


_BIG = 4096   # below this size np.where is as fast (measured on float32 ReLU masks); float16
#              (whose check sum would overflow easily) always selects


def _select_by_product(g: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``np.where(mask, g, 0)``, computed as a product: NumPy's ``where`` branches on every
    element, 4-10× slower than ``g * mask`` on a random mask (ReLU's) of 10⁴-10⁶ elements.

    The product is the selection wherever ``g`` is finite, except that a negative ``g`` times
    False gives −0.0, which ``+ 0.0`` turns into +0.0 (as is a −0.0 of ``g`` itself: equal as
    numbers). Where ``g`` is infinite or NaN the product may be NaN (0·∞): only then select.
    One dot product ``c·c`` tells (it is not finite when ``c`` holds a NaN or an infinity, or
    overflows: then the selection is made, the same values), cheaper than a NaN mask and, as
    BLAS runs it, about 3× faster than a sum.
    """
    c = np.multiply(g, mask)
    flat = c.ravel()   # (c is fresh, so contiguous: a view)
    if not np.isfinite(np.dot(flat, flat)):
        return np.where(mask, g, 0.0)
    c += 0.0
    return c


def _select(a: Any, b: Any, like: Any) -> np.ndarray:
    """1 where a > b, ½ where a == b, 0 elsewhere, in the dtype of ``like``."""
    a, b = data(a), data(b)
    return ((a > b) + 0.5 * (a == b)).astype(like.dtype, copy=False)


def _share(g: Any, s: np.ndarray) -> Any:
    return masked(g, s > 0) * s   # 0 (not NaN) where the input lost, even for an infinite g


def _extremum(name: str, ufunc: Any, word: str, sign: str, example: str) -> Op:
    """``maximum`` or ``minimum``: the gradient goes to the winner, half to each at ties."""
    first, second = (0, 1) if name == "maximum" else (1, 0)
    return _binary(name, "vs", ufunc,
                   (lambda g, out, x, y: _share(g, _select((x, y)[first], (x, y)[second], g)),
                    lambda g, out, x, y: _share(g, _select((x, y)[second], (x, y)[first], g))),
                   (f"g ⊙ [x {sign} y] (½ at ties)", f"g ⊙ [y {sign} x] (½ at ties)"),
                   f"Elementwise {word}; where the inputs tie each gets half the gradient.",
                   f">>> al.{name}([1.0, 5.0], [3.0, 2.0])\n{example}", ufunc=ufunc)


maximum = _extremum("maximum", np.maximum, "maximum", ">", "Tensor([3., 5.], dtype=float64)")
minimum = _extremum("minimum", np.minimum, "minimum", "<", "Tensor([1., 2.], dtype=float64)")


def _where_front(cond: Any, x: Any, y: Any) -> tuple:
    c = np.asarray(data(cond))
    if c.dtype.kind not in "biuf":
        raise TypeError(f"where: the condition must be boolean (or numbers), got dtype {c.dtype}")
    return (x, y), {"cond": c.astype(bool, copy=False)}


def _where_check(x: Any, y: Any, *, cond: np.ndarray) -> None:
    try:
        np.broadcast_shapes(cond.shape, np.shape(x), np.shape(y))
    except ValueError:
        raise ValueError(f"where: condition {tuple(cond.shape)}, x {tuple(np.shape(x))} and y "
                         f"{tuple(np.shape(y))} cannot be broadcast together") from None


where = Op("where", lambda x, y, *, cond: np.where(cond, x, y),
           (lambda g, out, x, y, *, cond: masked(g, cond),
            lambda g, out, x, y, *, cond: masked(g, ~cond)),
           rules=("g ⊙ cond", "g ⊙ ¬cond"),
           summary="``x`` where ``cond`` is true, else ``y`` (the condition carries no "
           "gradient).",
           example=">>> al.where([True, False], [1.0, 2.0], [3.0, 4.0])\n"
           "Tensor([1., 4.], dtype=float64)",
           public="where", front=_where_front, check=_where_check, reads_values=False,
           batch=True)


def _clip_front(x: Any, lo: float | None = None, hi: float | None = None) -> tuple:
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of lo and hi")
    for bound in (lo, hi):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, numbers.Real)):
            raise TypeError(f"clip: lo and hi must be real numbers or None, got {lo!r:.20} and "
                            f"{hi!r:.20}")
    return (x,), {"lo": lo, "hi": hi}


def _inside(x: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
    m = np.ones(x.shape, dtype=bool)
    if lo is not None:
        m &= x >= lo
    if hi is not None:
        m &= x <= hi
    return m


clip = Op("clip", lambda x, *, lo, hi: np.clip(x, lo, hi),
          (lambda g, out, x, *, lo, hi: masked(g, _inside(data(x), lo, hi)),),
          rules=("g ⊙ [lo ≤ x ≤ hi]",),
          summary="``x`` limited to ``[lo, hi]``; the gradient passes where ``lo <= x <= hi``.",
          example=">>> al.clip([-2.0, 0.5, 3.0], -1, 1)\nTensor([-1. ,  0.5,  1. ], "
          "dtype=float64)",
          public="clip", method="clip", front=_clip_front, batch=True)


def _astype_front(x: Any, dtype: Any) -> tuple:
    try:
        dtype = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"astype: {e}") from None
    if dtype.kind not in "biuf":
        raise TypeError(f"astype: expected a numeric dtype, got {dtype}")
    return (x,), {"dtype": dtype}


astype = Op("astype", lambda x, *, dtype: x.astype(dtype),
            (lambda g, out, x, *, dtype: g.astype(x.dtype),), rules=("g cast back to x.dtype",),
            summary="``x`` converted to ``dtype`` (differentiable between floating dtypes).",
            example=">>> al.astype([1.5, 2.5], np.float32)\nTensor([1.5, 2.5], dtype=float32)",
            public="astype", method="astype", front=_astype_front, reads_values=False,
            batch=True)
