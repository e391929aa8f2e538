"""Emitters for scans, norms, indexing along an axis, determinants, convolutions, pooling and
einsum (``ops/scan.py``, ``reduce.py``, ``indexing.py``, ``linalg.py``, ``conv.py``,
``pool.py``, ``einsum.py``), including the internal ops their VJPs record
(``conv2d_weight``, ``pool_scatter``, ``scatter_along``), so gradient graphs export too.

``Conv``, ``ConvTranspose``, ``AveragePool`` and ``Col2Im`` have no float64 kernel in ONNX
Runtime's CPU provider: a float64 graph computes them exactly as an ``Einsum`` (or a sum) of
the input's strided windows, one ``Slice`` per kernel offset (``fold``: the columns padded into
place and summed); float32/float16 graphs use the ONNX ops. ``Det`` has no such pattern:
float64 values are cast to float32 around it (``float_only``). Scans without an ONNX op
(``cumprod``, ``logcumsumexp``) are a ⌈log₂ n⌉-step doubling scan (Hillis–Steele): exact with
zeros and in float64.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ops import normalize_axes
from ._builder import INT64_MIN, Builder
from ._emitters import Emitter, _index_input, scatter_added
from ._emitters_math import VIA_FLOAT32, float_only


def _flat(b: Builder, t: Any) -> tuple[str, int, bool]:
    """The scanned value, its axis, and whether the op is the identity (a 0-d input)."""
    (x,) = t._parents
    xin, axis = b.typed(x, t.dtype), t._params["axis"]
    if axis is None:
        return b.node("Reshape", [xin, b.ints([-1])]), 0, False
    return xin, axis, x.ndim == 0


def _cumsum(b: Builder, t: Any) -> str:
    x, axis, same = _flat(b, t)
    if same:
        return b.node("Identity", [x])
    return b.node("CumSum", [x, b.const(np.int64(axis))])


def _doubling(combine: Any, fill: float) -> Emitter:
    """A scan as ⌈log₂ n⌉ steps ``out = combine(out, out shifted by k)``, k = 1, 2, 4, ..."""
    def emit(b: Builder, t: Any) -> str:
        out, axis, same = _flat(b, t)
        if same:
            return b.node("Identity", [out])
        shape = list(t.shape)
        n, k = shape[axis], 1
        while k < n:
            head = b.const(np.full([k if i == axis else s for i, s in enumerate(shape)], fill,
                                   dtype=t.dtype))
            body = b.node("Slice", [out, b.ints([0]), b.ints([n - k]), b.ints([axis])])
            out = combine(b, t, out, b.node("Concat", [head, body], axis=axis))
            k *= 2
        return b.node("Identity", [out]) if n <= 1 else out
    return emit


def _logaddexp(b: Builder, t: Any, x: str, y: str) -> str:
    """``max + log(1 + e^(min − max))`` (−inf with −inf gives −inf, not NaN)."""
    m = b.node("Max", [x, y])
    d = b.node("Sub", [b.node("Min", [x, y]), m])
    d = b.node("Where", [b.node("IsNaN", [d]), b.const(np.asarray(-np.inf, t.dtype)), d])
    one = b.const(np.asarray(1, t.dtype))
    return b.node("Add", [m, b.node("Log", [b.node("Add", [one, b.node("Exp", [d])])])])


def _vector_norm(b: Builder, t: Any) -> str:
    (x,) = t._parents
    xin, p = b.typed(x, t.dtype), t._params["p"]
    axes = normalize_axes(t._params["axis"], x.ndim) if x.ndim else ()
    keep = int(t._params["keepdims"])

    def total(v: str) -> str:
        return b.node("ReduceSum", [v, b.ints(axes)], keepdims=keep) if axes else v

    if p == 1:
        return total(b.node("Abs", [xin]))
    if p == 2:
        return b.node("Sqrt", [total(b.node("Mul", [xin, xin]))])
    c = lambda v: b.const(np.asarray(v, t.dtype))
    return b.node("Pow", [total(b.node("Pow", [b.node("Abs", [xin]), c(p)])), c(1 / p)])


def _take_along_axis(b: Builder, t: Any) -> str:
    (x,) = t._parents
    idx, axis = t._params["indices"], t._params["axis"]
    xin = b.name(x)
    full = [x.shape[axis] if i == axis else n for i, n in enumerate(t.shape)]
    if tuple(full) != x.shape:
        xin = b.node("Expand", [xin, b.ints(full)])
    if idx.shape != t.shape:
        idx = np.broadcast_to(idx, t.shape).copy()
    return b.node("GatherElements", [xin, _index_input(b, idx)], axis=axis)


def _scatter_along(b: Builder, t: Any) -> str:
    (g,) = t._parents
    idx, axis = t._params["indices"], t._params["axis"]
    if idx.shape != g.shape:
        idx = np.broadcast_to(idx, g.shape).copy()
    return scatter_added(b, t.shape, _index_input(b, idx), b.typed(g, t.dtype), t.dtype, axis)


def _det(b: Builder, t: Any) -> str:
    return float_only(b, "Det", [b.typed(t._parents[0], t.dtype)], t.dtype)


# ---------------------------------------------------------------------------------------------
# Convolutions: pads (top, bottom, left, right) here, [top, left, bottom, right] in ONNX


def _crop(b: Builder, x: str, shape: tuple, pads: tuple) -> tuple[str, list[int]]:
    """Negative pads as a crop (Slice) of ``x``; the remaining pads in ONNX's order."""
    t, bo, left, r = pads
    if min(pads) < 0:
        H, W = shape[2:]
        x = b.node("Slice", [x, b.ints([max(-t, 0), max(-left, 0)]),
                             b.ints([H - max(-bo, 0), W - max(-r, 0)]), b.ints([2, 3])])
    return x, [max(t, 0), max(left, 0), max(bo, 0), max(r, 0)]


def _windows(b: Builder, x: str, shape: tuple, ksize: tuple, dilation: tuple, stride: tuple,
             pads: tuple) -> tuple[str, int, int]:
    """``(N, C, kH·kW, H', W')``: zero padding (negative pads crop), then one strided Slice
    per kernel offset, stacked; and ``H'``, ``W'``."""
    (kh, kw), (dh, dw), (sh, sw) = ksize, dilation, stride
    x, (top, left, bot, r) = _crop(b, x, shape, pads)
    H = shape[2] - max(-pads[0], 0) - max(-pads[1], 0)
    W = shape[3] - max(-pads[2], 0) - max(-pads[3], 0)
    Ho = (H + top + bot - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + left + r - dw * (kw - 1) - 1) // sw + 1
    if top or left or bot or r:
        x = b.node("Pad", [x, b.ints([0, 0, top, left, 0, 0, bot, r])])
    two, steps = b.ints([2]), b.ints([sh, sw])
    parts = [b.node("Unsqueeze", [b.node("Slice", [
        x, b.ints([i * dh, j * dw]), b.ints([i * dh + (Ho - 1) * sh + 1,
                                             j * dw + (Wo - 1) * sw + 1]),
        b.ints([2, 3]), steps]), two]) for i in range(kh) for j in range(kw)]
    return (parts[0] if len(parts) == 1 else b.node("Concat", parts, axis=2)), Ho, Wo


def _conv(b: Builder, x: str, shape: tuple, w: str, wshape: tuple, dtype: Any, p: dict) -> str:
    """ONNX ``Conv``; in float64 (no ONNX Runtime kernel) the same as an ``Einsum`` of the
    input's windows with the weight, so the graph stays float64."""
    if np.dtype(dtype) != np.float64:
        x, pads = _crop(b, x, shape, p["pads"])
        return b.node("Conv", [x, w], strides=list(p["stride"]), pads=pads,
                      dilations=list(p["dilation"]), group=p["groups"])
    Co, cg, kh, kw = wshape
    G = p["groups"]
    win, Ho, Wo = _windows(b, x, shape, (kh, kw), p["dilation"], p["stride"], p["pads"])
    win = b.node("Reshape", [win, b.ints([0, G, cg, kh * kw, Ho, Wo])])
    w4 = b.node("Reshape", [w, b.ints([G, Co // G, cg, kh * kw])])
    y = b.node("Einsum", [win, w4], equation="ngckhw,gock->ngohw")
    return b.node("Reshape", [y, b.ints([0, Co, Ho, Wo])])


def _conv2d(b: Builder, t: Any) -> str:
    x, w = t._parents
    return _conv(b, b.typed(x, t.dtype), x.shape, b.typed(w, t.dtype), w.shape, t.dtype,
                 t._params)


def _upsample(b: Builder, x: str, C: int, H: int, W: int, sh: int,
              sw: int) -> tuple[str, int, int]:
    """``x`` (N, C, H, W) with ``s − 1`` zeros between neighbours, and its new height, width."""
    if sh == 1 and sw == 1:
        return x, H, W
    u = b.node("Pad", [b.node("Unsqueeze", [x, b.ints([3, 5])]),
                       b.ints([0, 0, 0, 0, 0, 0, 0, 0, 0, sh - 1, 0, sw - 1])])
    u = b.node("Reshape", [u, b.ints([0, C, H * sh, W * sw])])
    Hu, Wu = (H - 1) * sh + 1, (W - 1) * sw + 1
    return b.node("Slice", [u, b.ints([0, 0]), b.ints([Hu, Wu]), b.ints([2, 3])]), Hu, Wu


def _full_transposed(b: Builder, x: str, shape: tuple, w: str, wshape: tuple, dtype: Any,
                     p: dict) -> str:
    """The transposed convolution without pads: ``ConvTranspose``; in float64 a convolution
    of the zero-upsampled input, padded by ``d·(k − 1)``, with the flipped kernel, channels
    exchanged within each group (what ``ops/conv.py`` computes)."""
    (sh, sw), (dh, dw), G = p["stride"], p["dilation"], p["groups"]
    if np.dtype(dtype) != np.float64:
        return b.node("ConvTranspose", [x, w], strides=[sh, sw], dilations=[dh, dw], group=G)
    N, C, H, W = shape
    Ci, og, kh, kw = wshape
    cg = C // G
    x, H, W = _upsample(b, x, C, H, W, sh, sw)
    wt = b.node("Reshape", [w, b.ints([G, cg, og, kh, kw])])
    wt = b.node("Reshape", [b.node("Transpose", [wt], perm=[0, 2, 1, 3, 4]),
                            b.ints([G * og, cg, kh, kw])])
    wt = b.node("Slice", [wt, b.ints([-1, -1]), b.ints([INT64_MIN, INT64_MIN]), b.ints([2, 3]),
                          b.ints([-1, -1])])
    ph, pw = dh * (kh - 1), dw * (kw - 1)
    return _conv(b, x, (N, C, H, W), wt, (G * og, cg, kh, kw), dtype,
                 {"stride": (1, 1), "dilation": (dh, dw), "groups": G,
                  "pads": (ph, ph, pw, pw)})


def _conv_transpose2d(b: Builder, t: Any) -> str:
    """``ConvTranspose`` without pads (its full output), then cut (or zero-extended) to the
    rows ``[top, top + H_out)`` and columns ``[left, left + W_out)``: any pads, negative ones
    too, and any output padding (ONNX wants it below the stride)."""
    x, w = t._parents
    p = t._params
    (sh, sw), (dh, dw), (top, _, left, _) = p["stride"], p["dilation"], p["pads"]
    kh, kw = w.shape[2:]
    H, W = x.shape[2:]
    y = _full_transposed(b, b.typed(x, t.dtype), x.shape, b.typed(w, t.dtype), w.shape,
                         t.dtype, p)
    full = [(n - 1) * s + d * (k - 1) + 1 for n, s, d, k in ((H, sh, dh, kh), (W, sw, dw, kw))]
    starts, outs = [top, left], list(p["out_hw"])
    before = [max(-s, 0) for s in starts]
    after = [max(s + o - f, 0) for s, o, f in zip(starts, outs, full)]
    if any(before) or any(after):
        y = b.node("Pad", [y, b.ints([0, 0, *before, 0, 0, *after])])
    starts = [s + lo for s, lo in zip(starts, before)]
    if starts == [0, 0] and [f + lo + hi for f, lo, hi in zip(full, before, after)] == outs:
        return y
    return b.node("Slice", [y, b.ints(starts), b.ints([s + o for s, o in zip(starts, outs)]),
                            b.ints([2, 3])])


def _conv2d_weight(b: Builder, t: Any) -> str:
    """The weight gradient as a convolution of the input (channels as the batch) with the
    output gradient (as the kernel): stride and dilation exchange, groups stay groups."""
    x, g = t._parents
    p = t._params
    G, (kh, kw) = p["groups"], p["ksize"]
    N, C, H, W = x.shape
    _, Co, Ho, Wo = g.shape
    cg, og = C // G, Co // G
    xin, pads = _crop(b, b.typed(x, t.dtype), x.shape, p["pads"])
    Hc, Wc = (H - max(-p["pads"][0], 0) - max(-p["pads"][1], 0),
              W - max(-p["pads"][2], 0) - max(-p["pads"][3], 0))
    xs = b.node("Reshape", [xin, b.ints([N, G, cg, Hc, Wc])])
    xs = b.node("Reshape", [b.node("Transpose", [xs], perm=[2, 1, 0, 3, 4]),
                            b.ints([cg, G * N, Hc, Wc])])
    gs = b.node("Reshape", [b.typed(g, t.dtype), b.ints([N, G, og, Ho, Wo])])
    gs = b.node("Reshape", [b.node("Transpose", [gs], perm=[1, 2, 0, 3, 4]),
                            b.ints([G * og, N, Ho, Wo])])
    y = _conv(b, xs, (cg, G * N, Hc, Wc), gs, (G * og, N, Ho, Wo), t.dtype,
              {"stride": p["dilation"], "dilation": p["stride"], "groups": G,
               "pads": (pads[0], pads[2], pads[1], pads[3])})
    y = b.node("Slice", [y, b.ints([0, 0]), b.ints([kh, kw]), b.ints([2, 3])])
    return b.node("Transpose", [y], perm=[1, 0, 2, 3])


def _conv1d(b: Builder, t: Any) -> str:
    x, w = t._parents
    p = t._params
    two = b.ints([2])
    x4 = b.node("Unsqueeze", [b.typed(x, t.dtype), two])
    w4 = b.node("Unsqueeze", [b.typed(w, t.dtype), two])
    shape = (x.shape[0], x.shape[1], 1, x.shape[2])
    y = _conv(b, x4, shape, w4, (w.shape[0], w.shape[1], 1, w.shape[2]), t.dtype,
              {"stride": (1, p["stride"]),
               "pads": (0, 0, *p["pads"]), "dilation": (1, p["dilation"]),
               "groups": p["groups"]})
    return b.node("Squeeze", [y, two])


def _unfold(b: Builder, t: Any) -> str:
    """The windows (one strided Slice per kernel offset), stacked channel-major."""
    (x,) = t._parents
    p = t._params
    kh, kw = p["ksize"]
    win, Ho, Wo = _windows(b, b.typed(x, t.dtype), x.shape, p["ksize"], p["dilation"],
                           p["stride"], p["pads"])
    return b.node("Reshape", [win, b.ints([0, x.shape[1] * kh * kw, Ho * Wo])])


def _fold(b: Builder, t: Any) -> str:
    """ONNX ``Col2Im``; in float64 (no ONNX Runtime kernel) each kernel offset's columns
    spread out by the stride, padded into place and summed, then the padding cut."""
    (x,) = t._parents
    p = t._params
    top, bot, left, r = p["pads"]
    if t.dtype == np.float64:
        (H, W), (kh, kw), (dh, dw), (sh, sw) = p["out_hw"], p["ksize"], p["dilation"], p["stride"]
        C = t.shape[1]
        Hp, Wp = H + top + bot, W + left + r
        Ho, Wo = (Hp - dh * (kh - 1) - 1) // sh + 1, (Wp - dw * (kw - 1) - 1) // sw + 1
        cols = b.node("Reshape", [b.typed(x, t.dtype), b.ints([0, C, kh, kw, Ho, Wo])])
        parts = []
        for i in range(kh):
            for j in range(kw):
                c = b.node("Slice", [cols, b.ints([i, j]), b.ints([i + 1, j + 1]),
                                     b.ints([2, 3])])
                u, Hu, Wu = _upsample(b, b.node("Reshape", [c, b.ints([0, C, Ho, Wo])]), C,
                                      Ho, Wo, sh, sw)
                parts.append(b.node("Pad", [u, b.ints([0, 0, i * dh, j * dw, 0, 0,
                                                       Hp - i * dh - Hu, Wp - j * dw - Wu])]))
        full = parts[0] if len(parts) == 1 else b.node("Sum", parts)
        return b.node("Slice", [full, b.ints([top, left]), b.ints([top + H, left + W]),
                                b.ints([2, 3])])
    return float_only(b, "Col2Im", [b.typed(x, t.dtype)], t.dtype, b.ints(p["out_hw"]),
                      b.ints(p["ksize"]), dilations=list(p["dilation"]),
                      pads=[top, left, bot, r], strides=list(p["stride"]))


def _einsum(b: Builder, t: Any) -> str:
    """``Einsum``; an operand whose letter has size 1 where another's has n is expanded first
    (NumPy broadcasts such ``...`` axes, ONNX wants equal sizes)."""
    ins, out = t._params["spec"]
    size: dict[str, int] = {}
    for sub, x in zip(ins, t._parents):
        for c, n in zip(sub, x.shape):
            size[c] = max(size.get(c, 1), n)
    values = []
    for sub, x in zip(ins, t._parents):
        v = b.typed(x, t.dtype)
        full = [size[c] for c in sub]
        values.append(v if list(x.shape) == full else b.node("Expand", [v, b.ints(full)]))
    return b.node("Einsum", values, equation=",".join(ins) + "->" + out)


# ---------------------------------------------------------------------------------------------
# Pooling


def _max_pool2d(b: Builder, t: Any) -> str:
    (x,) = t._parents
    p = t._params
    xin, pads = _crop(b, b.name(x), x.shape, p["pads"])
    return b.node("MaxPool", [xin], kernel_shape=list(p["ksize"]), strides=list(p["stride"]),
                  dilations=list(p["dilation"]), pads=pads)


def _pool_scatter(b: Builder, t: Any) -> str:
    """The gradient added at the forward's (frozen) positions of each window's maximum."""
    (g,) = t._parents
    index, shape = t._params["index"], tuple(t._params["shape"])
    flat = scatter_added(b, (math.prod(shape),), b.const(index.reshape(-1).astype(np.int64),
                                                        "positions"),
                         b.node("Reshape", [b.typed(g, t.dtype), b.ints([-1])]), t.dtype, 0)
    return b.node("Reshape", [flat, b.ints(shape)])


def _avg_pool2d(b: Builder, t: Any) -> str:
    """Every window padded explicitly (count_include_pad), so ONNX divides by kH·kW; times
    ``kH·kW·scale``, PyTorch's divisor per output position."""
    (x,) = t._parents
    p = t._params
    xin = b.typed(x, t.dtype)
    if t.dtype == np.float64:    # no AveragePool kernel: the windows' sum
        win, _, _ = _windows(b, xin, x.shape, p["ksize"], p["dilation"], p["stride"],
                             p["pads"])
        total = b.node("ReduceSum", [win, b.ints([2])], keepdims=0)
        return b.node("Mul", [total, b.const(p["scale"].astype(t.dtype), "divisor")])
    xin, pads = _crop(b, xin, x.shape, p["pads"])
    avg = b.node("AveragePool", [xin], kernel_shape=list(p["ksize"]),
                 strides=list(p["stride"]), pads=pads, count_include_pad=1)
    k = p["ksize"][0] * p["ksize"][1]
    return b.node("Mul", [avg, b.const((p["scale"] * k).astype(t.dtype), "divisor")])


def _adaptive_avg_pool2d(b: Builder, t: Any) -> str:
    (x,) = t._parents
    ph, pw = t._params["ph"], t._params["pw"]
    y = b.node("MatMul", [b.const(ph.astype(t.dtype)), b.typed(x, t.dtype)])
    return b.node("MatMul", [y, b.const(np.ascontiguousarray(pw.T).astype(t.dtype))])


CONV_EMITTERS: dict[str, Emitter] = {
    "cumsum": _cumsum,
    "cumprod": _doubling(lambda b, t, x, y: b.node("Mul", [x, y]), 1.0),
    "logcumsumexp": _doubling(_logaddexp, -np.inf),
    "vector_norm": _vector_norm,
    "take_along_axis": _take_along_axis, "scatter_along": _scatter_along,
    "det": _det,
    "logabsdet": lambda b, t: b.node("Log", [b.node("Abs", [_det(b, t)])]),
    "conv2d": _conv2d, "conv_transpose2d": _conv_transpose2d, "conv2d_weight": _conv2d_weight,
    "conv1d": _conv1d, "unfold": _unfold, "fold": _fold, "einsum": _einsum,
    "max_pool2d": _max_pool2d, "pool_scatter": _pool_scatter, "avg_pool2d": _avg_pool2d,
    "adaptive_avg_pool2d": _adaptive_avg_pool2d,
}
"""Emitters of the scan, indexing, linear-algebra, convolution, pooling and einsum ops."""

VIA_FLOAT32.update({"det": "Det", "logabsdet": "Det"})
