"""Scans (cumulative ops) along one axis: ``cumsum``, ``cumprod``, ``logcumsumexp``.

``axis=None`` scans the flattened array (as NumPy); a 0-d array accepts axis 0 and −1 and is
returned as it is (as PyTorch). ``cumprod``'s gradient is exact with zeros in the input (each
element's gradient is the sum over later outputs of the product of the *other* factors),
in O(n) and to second order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import Op, data, normalize_axes
from .elementwise import exp, where
from .shape import transpose
from .spellings import dim_alias


def _front(name: str) -> Any:
    def front(x: Any, axis: int | None = None) -> tuple:
        if axis is not None:
            if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
                raise TypeError(f"{name}: axis must be None or an int, got {axis!r:.40}")
            axis = (normalize_axes(int(axis), np.ndim(data(x)), name) or (0,))[0]
        return (x,), {"axis": axis}
    return dim_alias(name)(front)


def _work(x: Any, axis: int | None) -> tuple[Any, int]:
    """``x`` as scanned: flattened for ``axis=None``, 1-D for a 0-d array; and the axis."""
    if axis is None or x.ndim == 0:
        return x.reshape(-1), 0
    return x, axis


def _scan(fn: Any) -> Any:
    def forward(x: np.ndarray, *, axis: int | None) -> np.ndarray:
        w, ax = _work(x, axis)
        out = fn(w, axis=ax)
        return out.reshape(()) if x.ndim == 0 and axis is not None else out
    return forward


def _flip(t: Any, axis: int) -> Any:
    return t[(slice(None),) * axis + (slice(None, None, -1),)]


def _back(r: Any, x: Any) -> Any:
    """A cotangent computed on the scanned view, in ``x``'s shape."""
    return r.reshape(x.shape)


def _revcumsum(g: Any, axis: int) -> Any:
    """``Σ_{k >= i} g_k`` along ``axis`` (the VJP of ``cumsum``)."""
    return _flip(cumsum(_flip(g, axis), axis=axis), axis)


def _cumsum_vjp(g: Any, out: Any, x: Any, *, axis: int | None) -> Any:
    gw, ax = _work(g, axis)
    return _back(_revcumsum(gw, ax), x)


cumsum = Op("cumsum", _scan(np.cumsum), (_cumsum_vjp,),
            rules=("reverse cumulative sum of g",),
            summary="Cumulative sum along ``axis`` (``None``: over the flattened array).",
            example=">>> al.cumsum([1.0, 2.0, 3.0])\nTensor([1., 3., 6.], dtype=float64)",
            public="cumsum", method="cumsum", front=_front("cumsum"), reads_values=False)


def _cumprod_vjp(g: Any, out: Any, x: Any, *, axis: int | None) -> Any:
    xw, ax = _work(x, axis)
    gw, _ = _work(g, axis)
    ow, _ = _work(out, axis)
    zero = data(xw) == 0
    if not zero.any():
        return _back(_revcumsum(gw * ow, ax) / xw, x)
    # With zeros, in O(n) and exact to second order: ∂out_k/∂x_i = Π_{j ≤ k, j ≠ i} x_j is
    # (C1_k / x1_i)·W_ik with x1 = x with zeros replaced by 1, C1 = cumprod(x1), and W_ik the
    # product of the zeros up to k other than x_i: 1 before the first zero f, x_f up to the
    # second s, x_s (for i = f) up to the third; two or more zeros make 0 (value and slope).
    seen = np.cumsum(zero, axis=ax)              # zeros at or before each position
    x1 = where(1.0, xw, cond=zero)
    c1 = gw * cumprod(x1, axis=ax)

    def tail(band: int) -> Any:                  # Σ_{k ≥ i, k in band} g_k C1_k
        return _revcumsum(c1 * (seen == band), ax)

    def zero_value(band: int) -> Any:            # the value of the band-th zero (0, live slope)
        return where(xw, 0.0, cond=zero & (seen == band)).sum(axis=ax, keepdims=True)

    a, b, c = tail(0), tail(1), tail(2)
    xf, xs = zero_value(1), zero_value(2)
    r = where(a + xf * b, 0.0, cond=seen == 0)                   # before the first zero
    r = where(b + xs * c, r, cond=zero & (seen == 1))           # the first zero
    r = where(xf * b, r, cond=~zero & (seen == 1))               # between the first two
    r = where(xf * c, r, cond=zero & (seen == 2))               # the second zero
    return _back(r / x1, x)


cumprod = Op("cumprod", _scan(np.cumprod), (_cumprod_vjp,),
             rules=("Σ_{k ≥ i} g_k Π_{j ≤ k, j ≠ i} x_j",),
             summary="Cumulative product along ``axis`` (``None``: over the flattened array); "
             "its gradient is exact with zeros in the input.",
             example=">>> al.cumprod([1.0, 2.0, 3.0])\nTensor([1., 2., 6.], dtype=float64)",
             public="cumprod", method="cumprod", front=_front("cumprod"))


def _logcumsumexp(x: np.ndarray, *, axis: int) -> np.ndarray:
    return np.logaddexp.accumulate(x, axis=axis)


def _logcumsumexp_vjp(g: Any, out: Any, x: Any, *, axis: int | None) -> Any:
    xw, ax = _work(x, axis)
    gw, _ = _work(g, axis)
    ow, _ = _work(out, axis)
    # Σ_{k >= i} g_k e^(x_i − out_k): shifted by the total c = out_last >= every out_k, which is
    # safe while the outputs along the axis span less than ~700; beyond, the (n, n) terms.
    od = data(ow)
    c = od[(slice(None),) * ax + (slice(-1, None),)]
    c = np.where(np.isfinite(c), c, 0)
    with np.errstate(invalid="ignore"):
        span = np.nanmax(np.where(np.isfinite(od), c - od, 0), initial=0)
    if span < 700:
        return _back(exp(xw - c) * _revcumsum(gw * exp(c - ow), ax), x)
    perm = tuple([d for d in range(xw.ndim) if d != ax] + [ax])
    xl, gl, ol = (transpose(t, axes=perm) for t in (xw, gw, ow))
    n = xl.shape[-1]
    later = np.triu(np.ones((n, n), dtype=bool))            # k >= i
    terms = exp(where(xl[..., :, None] - ol[..., None, :], -np.inf, cond=later))
    r = (terms * gl[..., None, :]).sum(axis=xl.ndim)
    return _back(transpose(r, axes=tuple(np.argsort(perm))), x)


logcumsumexp = Op("logcumsumexp", _scan(_logcumsumexp), (_logcumsumexp_vjp,),
                  rules=("Σ_{k ≥ i} g_k e^(x_i − out_k)",),
                  summary="``log Σ_{j ≤ i} e^(x_j)`` along ``axis``, computed stably (also its "
                  "gradient: when the outputs along the axis span over ~700 it takes n² "
                  "memory).",
                  example=">>> al.logcumsumexp([0.0, 0.0])\nTensor([0.        , 0.69314718], "
                  "dtype=float64)",
                  public="logcumsumexp", method="logcumsumexp", front=_front("logcumsumexp"))
