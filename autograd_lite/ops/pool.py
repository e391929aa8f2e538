"""Pooling primitives: ``max_pool2d``, ``avg_pool2d``, ``adaptive_avg_pool2d`` (NCHW, PyTorch's
arguments, output sizes and conventions).

* ``max_pool2d`` routes each window's gradient to its first maximum in row-major window order,
  as PyTorch's CPU kernel does (ties go to the earliest element; overlapping windows add). Its
  VJP scatters ``g`` to the saved positions (``pool_scatter``, whose own VJP gathers them back).
* ``avg_pool2d`` is a window sum scaled by one divisor per output position (PyTorch's, including
  ``count_include_pad`` and the ``ceil_mode`` overrun); its VJP is a transposed convolution with
  a kernel of ones, so it is differentiable to any order.
* ``adaptive_avg_pool2d`` is ``Ph @ x @ Pwᵀ`` with averaging matrices built from PyTorch's window
  bounds ``[⌊i·H/H'⌋, ⌈(i+1)·H/H'⌉)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .conv import Pads, _need, conv_transpose2d, pair
from .core import Op, data
from .linalg import matmul


def _pool_size(n: int, k: int, s: int, d: int, p: int, ceil: bool) -> int:
    """PyTorch's pooling output size (a ceil-mode window must start inside the input or the
    left padding)."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool_front(where: str, x: Any, kernel_size: Any, stride: Any, padding: Any,
                dilation: Any, ceil_mode: bool) -> dict:
    N, C, H, W = _need(x, 4, "an input batch (N, C, H, W)", where)
    k = pair(kernel_size, "kernel_size", where)
    s = k if stride is None or stride == () else pair(stride, "stride", where)
    p = pair(padding, "padding", where, minimum=0)
    d = pair(dilation, "dilation", where)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{where}: padding {p} must be at most half the kernel size {k}")
    hw = tuple(_pool_size(n, kk, ss, dd, pp, bool(ceil_mode))
               for n, kk, ss, dd, pp in zip((H, W), k, s, d, p))
    if min(hw) < 1:
        raise ValueError(f"{where}: the kernel {k} (dilation {d}, padding {p}) does not fit an "
                         f"input of shape {(N, C, H, W)}")
    need = [(o - 1) * ss + dd * (kk - 1) + 1 for o, ss, dd, kk in zip(hw, s, d, k)]
    pads = (p[0], need[0] - H - p[0], p[1], need[1] - W - p[1])
    return {"ksize": k, "stride": s, "dilation": d, "pads": pads, "out_hw": hw}


def _windows(x: np.ndarray, fill: float, ksize: tuple, stride: tuple, dilation: tuple,
             pads: Pads, out_hw: tuple) -> np.ndarray:
    """``(N, C, H', W', kH, kW)`` window view of ``x`` padded with ``fill``."""
    N, C, H, W = x.shape
    t, b, left, r = pads
    xp = np.full((N, C, t + H + max(b, 0), left + W + max(r, 0)), fill, dtype=x.dtype)
    xp[:, :, t:t + H, left:left + W] = x
    sN, sC, sH, sW = xp.strides
    return as_strided(xp, (N, C, *out_hw, *ksize),
                      (sN, sC, sH * stride[0], sW * stride[1], sH * dilation[0],
                       sW * dilation[1]), writeable=False)


# ---------------------------------------------------------------------------------------------
# max_pool2d


def _max_front(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False) -> tuple:
    return (x,), _pool_front("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)


def _max_pool(x: np.ndarray, *, ksize: tuple, stride: tuple, dilation: tuple, pads: Pads,
              out_hw: tuple) -> tuple[np.ndarray, np.ndarray]:
    N, C, H, W = x.shape
    low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    win = _windows(x, low, ksize, stride, dilation, pads, out_hw)
    cols = win.reshape(N, C, *out_hw, -1)
    arg = cols.argmax(axis=-1)                      # the first maximum (NaN counts as maximum)
    out = np.take_along_axis(cols, arg[..., None], axis=-1)[..., 0]
    kw = ksize[1]
    rows = np.arange(out_hw[0])[:, None] * stride[0] + (arg // kw) * dilation[0] - pads[0]
    cols_ = np.arange(out_hw[1]) * stride[1] + (arg % kw) * dilation[1] - pads[2]
    # a window of -inf only (padding and -inf inputs) goes to its first input element, as PyTorch
    np.clip(rows, 0, H - 1, out=rows)
    np.clip(cols_, 0, W - 1, out=cols_)
    plane = (np.arange(N)[:, None] * C + np.arange(C))[:, :, None, None] * (H * W)
    return out, plane + rows * W + cols_            # flat positions in x of each maximum


max_pool2d = Op(
    "max_pool2d", _max_pool,
    (lambda g, out, x, *, ksize, stride, dilation, pads, out_hw, saved:
     pool_scatter(g, index=saved, shape=tuple(x.shape)),),
    rules=("g routed to each window's first maximum (overlaps add)",),
    summary="2-D max pooling of an NCHW batch (``kernel_size``, ``stride`` = kernel by default, "
    "``padding``, ``dilation``, ``ceil_mode``, as PyTorch); the gradient goes to each window's "
    "first maximum.",
    example=">>> al.max_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)\n"
    "Tensor([[[[ 5.,  7.],\n          [13., 15.]]]], dtype=float64)",
    public="max_pool2d", front=_max_front, saves=True)


def _scatter(g: np.ndarray, *, index: np.ndarray, shape: tuple) -> np.ndarray:
    flat = np.bincount(index.ravel(), weights=g.ravel(), minlength=math.prod(shape))
    return flat.astype(g.dtype, copy=False).reshape(shape)


pool_scatter = Op("pool_scatter", _scatter,
                  (lambda g, out, x, *, index, shape: g.reshape(-1)[index],),
                  rules=("g gathered at the saved positions",),
                  internal="the VJP of max_pool2d (adds each window's gradient at its maximum)",
                  reads_values=False)


# ---------------------------------------------------------------------------------------------
# avg_pool2d


def _avg_front(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> tuple:
    where = "avg_pool2d"
    p = _pool_front(where, x, kernel_size, stride, padding, 1, ceil_mode)
    H, W = np.shape(data(x))[2:]
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int) \
                or divisor_override < 1:
            raise ValueError(f"{where}: divisor_override must be a positive int, got "
                             f"{divisor_override!r}")
        scale = np.full(p["out_hw"], 1.0 / divisor_override)
    else:
        per = []
        for n, o, k, s, lo in zip((H, W), p["out_hw"], p["ksize"], p["stride"], p["pads"][::2]):
            start = np.arange(o) * s - lo
            end = np.minimum(start + k, n + lo)
            size = end - start                          # padding counted, the overrun not
            if not count_include_pad:
                size = np.minimum(end, n) - np.maximum(start, 0)
            per.append(size)
        scale = 1.0 / np.multiply.outer(per[0], per[1]).astype(np.float64)
    return (x,), {**p, "scale": scale}


def _avg_pool(x: np.ndarray, *, ksize: tuple, stride: tuple, dilation: tuple, pads: Pads,
              out_hw: tuple, scale: np.ndarray) -> np.ndarray:
    win = _windows(x, 0.0, ksize, stride, dilation, pads, out_hw)
    return win.sum(axis=(4, 5)) * scale.astype(x.dtype)


def _avg_vjp(g: Any, out: Any, x: Any, *, ksize: tuple, stride: tuple, dilation: tuple,
             pads: Pads, out_hw: tuple, scale: np.ndarray) -> Any:
    N, C, H, W = x.shape
    dtype = data(g).dtype
    gs = (g * scale.astype(dtype)).reshape(N * C, 1, *out_hw)
    dx = conv_transpose2d(gs, np.ones((1, 1, *ksize), dtype=dtype), stride=stride, pads=pads,
                          dilation=dilation, groups=1, out_hw=(H, W))
    return dx.reshape(x.shape)


avg_pool2d = Op(
    "avg_pool2d", _avg_pool, (_avg_vjp,),
    rules=("g ⊙ 1/divisor spread evenly over each window (conv_transpose2d with ones)",),
    summary="2-D average pooling of an NCHW batch (``kernel_size``, ``stride`` = kernel by "
    "default, ``padding``, ``ceil_mode``, ``count_include_pad``, ``divisor_override``, as "
    "PyTorch).",
    example=">>> al.avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)\n"
    "Tensor([[[[ 2.5,  4.5],\n          [10.5, 12.5]]]], dtype=float64)",
    public="avg_pool2d", front=_avg_front, reads_values=False)


# ---------------------------------------------------------------------------------------------
# adaptive_avg_pool2d


def _averaging(n: int, o: int) -> np.ndarray:
    """``(o, n)``: row i averages PyTorch's adaptive window ``[⌊i·n/o⌋, ⌈(i+1)·n/o⌉)``."""
    m = np.zeros((o, n))
    for i in range(o):   # one row per output position (a handful), not per pixel
        a, b = (i * n) // o, -((-(i + 1) * n) // o)
        m[i, a:b] = 1.0 / (b - a)
    return m


def _adaptive_front(x: Any, output_size: Any) -> tuple:
    where = "adaptive_avg_pool2d"
    N, C, H, W = _need(x, 4, "an input batch (N, C, H, W)", where)
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(sizes) != 2:
        raise TypeError(f"{where}: output_size must be an int or a pair, got {output_size!r}")
    sizes = tuple(n if s is None else s for s, n in zip(sizes, (H, W)))
    ho, wo = pair(sizes, "output_size", where)
    return (x,), {"ph": _averaging(H, ho), "pw": _averaging(W, wo)}


adaptive_avg_pool2d = Op(
    "adaptive_avg_pool2d",
    lambda x, *, ph, pw: np.matmul(np.matmul(ph.astype(x.dtype), x), pw.T.astype(x.dtype)),
    (lambda g, out, x, *, ph, pw:
     matmul(matmul(ph.T.astype(data(g).dtype), g), pw.astype(data(g).dtype)),),
    rules=("Phᵀ @ g @ Pw  (Ph, Pw the averaging matrices)",),
    summary="Average pooling to a fixed ``output_size`` (an int or a pair; ``None`` keeps that "
    "size), with PyTorch's window bounds; ``Ph @ x @ Pwᵀ``.",
    example=">>> al.adaptive_avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 1)\n"
    "Tensor([[[[7.5]]]], dtype=float64)",
    public="adaptive_avg_pool2d", front=_adaptive_front, reads_values=False)
