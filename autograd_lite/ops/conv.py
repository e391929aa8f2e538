"""Convolution primitives: ``conv2d``, ``conv1d``, ``conv_transpose2d``, ``unfold``, ``fold``.

Layouts follow PyTorch: inputs NCHW, weights ``(C_out, C_in/groups, kH, kW)``. Inside, images
are channel-major, ``(C, N, H, W)``: the padded input is copied once to that layout, its sliding
windows (``as_strided``) are copied row by row to the transposed column matrix
``Xcolᵀ (C·kH·kW, N·H'·W')`` (im2col) and ``Y = Wmat @ Xcolᵀ`` is one BLAS product with the
weight as PyTorch stores it — done chunk by chunk of the batch, so that each chunk's columns
are still in cache for their product. The three convolution ops are closed under
differentiation, which is what makes them differentiable to any order:

* ``conv2d(x, w)``: ``dx = conv_transpose2d(g, w)``, ``dw = conv2d_weight(x, g)``;
* ``conv_transpose2d(g, w)``: ``dg = conv2d(h, w)``, ``dw = conv2d_weight(h, g)``;
* ``conv2d_weight(x, g)``: ``dx = conv_transpose2d(g, v)``, ``dg = conv2d(x, v)``

(``h``/``v`` the incoming cotangents). ``conv2d_weight`` is ``gmat @ Xcol`` (the windows copied
again from the padded input the forward kept). With stride 1 and thin margins, the forward and
``conv2d_weight`` run on the padded grid instead (:mod:`.conv_grid`: ``kW`` shifted copies of
the flattened images, read ``kH`` times at row offsets, rather than ``kH·kW`` window copies).
``conv_transpose2d`` is ``Wmatᵀ @ gmat`` added back into the windows (col2im); in the
channel-major layout, with ``g`` on the padded grid, that is one shifted addition of whole
images per kernel tap (each chunk of the batch complete on its own) — measured faster than the
convolution of the padded ``g`` with the flipped kernel, whose column matrix is twice as wide
to copy, and for a strided convolution it spends no product on an upsampled ``g``'s zeros.
Padding is ``(top, bottom, left, right)`` inside the ops; the public fronts accept
PyTorch's forms plus ``"same"``/``"valid"`` and asymmetric pairs.
"""

from __future__ import annotations

import numbers
import operator
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .conv_grid import conv_rows, transpose_rows, weight_rows
from .core import Op, data

Pads = tuple[int, int, int, int]


# ---------------------------------------------------------------------------------------------
# Argument normalisation (shared with ops/pool.py)


def pair(v: Any, name: str, where: str, *, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints as a pair, each at least ``minimum``; errors name ``where``."""
    items = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(items) != 2 or any(isinstance(i, bool) or not isinstance(i, numbers.Integral)
                              for i in items):
        raise TypeError(f"{where}: {name} must be an int or a pair of ints, got {v!r:.60}")
    out = (operator.index(items[0]), operator.index(items[1]))
    if min(out) < minimum:
        raise ValueError(f"{where}: {name} must be at least {minimum}, got {v!r}")
    return out


def pads_of(padding: Any, kernel: tuple[int, int], dilation: tuple[int, int],
            stride: tuple[int, int], where: str) -> Pads:
    """``padding`` as ``(top, bottom, left, right)``.

    Accepts an int, ``(pH, pW)``, ``((top, bottom), (left, right))``, ``"valid"`` (none) or
    ``"same"`` (stride 1 only; an odd total puts the extra row/column at the bottom/right, as
    PyTorch does).
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{where}: padding='same' needs stride 1, got stride {stride}")
            th, tw = (d * (k - 1) for d, k in zip(dilation, kernel))
            return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        raise ValueError(f"{where}: padding must be an int, a pair, 'same' or 'valid', got "
                         f"{padding!r}")
    if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(
            isinstance(p, (tuple, list)) for p in padding):
        (t, b), (left, r) = (pair(p, "padding", where, minimum=0) for p in padding)
        return (t, b, left, r)
    ph, pw = pair(padding, "padding", where, minimum=0)
    return (ph, ph, pw, pw)


def out_size(n: int, k: int, s: int, d: int, lo: int, hi: int) -> int:
    """Number of windows of ``k`` taps (dilation ``d``, stride ``s``) over ``lo + n + hi``."""
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


def _shape(x: Any) -> tuple:
    return tuple(np.shape(data(x)))


def _dtype(x: Any) -> Any:
    return getattr(data(x), "dtype", "")


def _need(x: Any, ndim: int, what: str, where: str) -> tuple:
    s = _shape(x)
    if len(s) != ndim:
        raise ValueError(f"{where}: expected {what} ({ndim}-D), got shape {s} {_dtype(x)}")
    return s


# ---------------------------------------------------------------------------------------------
# NumPy kernels. Inside, images are channel-major, (C, N, H, W) ("CNHW"): the padded copy swaps
# two outer axes (whole rows move), the windows' copy to columns runs along image rows, a
# ``(C_out, ·)`` product result is already one contiguous block per output channel, and the
# weight needs no transpose (PyTorch's layout is (C_out, C_in·kH·kW) row-major).


def _padded(x: np.ndarray, pads: Pads) -> np.ndarray:
    """``x`` (N, C, H, W) zero-padded (negative pads crop) and copied to (C, N, H', W')."""
    t, b, left, r = pads
    H, W = x.shape[2:]
    x = x[:, :, max(-t, 0):H - max(-b, 0), max(-left, 0):W - max(-r, 0)]
    t, b, left, r = (max(p, 0) for p in pads)
    N, C, H, W = x.shape
    out = np.zeros((C, N, H + t + b, W + left + r), dtype=x.dtype)
    out[:, :, t:t + H, left:left + W] = x.transpose(1, 0, 2, 3)
    return out


def _window_view(xp: np.ndarray, k: tuple, stride: tuple, dilation: tuple,
                 out_hw: tuple) -> np.ndarray:
    """``(A, B, kH, kW, H', W')`` view of the windows of a padded ``(A, B, H, W)`` array."""
    sA, sB, sH, sW = xp.strides
    (kh, kw), (sh, sw), (dh, dw) = k, stride, dilation
    return as_strided(xp, xp.shape[:2] + (kh, kw) + tuple(out_hw),
                      (sA, sB, sH * dh, sW * dw, sH * sh, sW * sw), writeable=False)


def _add_windows(cols: np.ndarray, out: np.ndarray, stride: tuple, dilation: tuple) -> None:
    """col2im: add ``cols`` ``(A, B, kH, kW, H', W')`` into the windows of ``out`` ``(A, B, H,
    W)`` (a loop over the kH·kW kernel offsets only)."""
    kh, kw, Ho, Wo = cols.shape[2:]
    (sh, sw), (dh, dw) = stride, dilation
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + (Ho - 1) * sh + 1:sh,
                j * dw:j * dw + (Wo - 1) * sw + 1:sw] += cols[:, :, i, j]


CHUNK = 1 << 19   # elements in one batch chunk's column matrix (2 MB in float32)


def _chunks(n: int, per_image: int) -> list[tuple[int, int]]:
    """Batch ranges whose column matrices hold about ``CHUNK`` elements (at least one image):
    a chunk's columns are still in cache when its product reads them, and no huge temporary is
    allocated (a fresh 38 MB array costs ≈ 4 ms of page faults before the first write)."""
    step = max(1, CHUNK // max(per_image, 1))
    return [(a, min(a + step, n)) for a in range(0, n, step)]


GRID_SLACK = 1.25   # stride 1: products over the padded grid while it is at most 25 % larger


def _on_grid(xp: np.ndarray, stride: tuple, out_hw: tuple) -> bool:
    """Whether the stride-1 kernels of :mod:`.conv_grid` serve (``kW`` shifted copies instead of
    ``kH·kW``, for products over the padded grid's margins too)."""
    return tuple(stride) == (1, 1) and xp.shape[2] * xp.shape[3] <= GRID_SLACK * out_hw[0] * \
        out_hw[1]


def _per_image(xp: np.ndarray, ksize: tuple, groups: int) -> int:
    """A chunk's budget per image on the padded grid (as im2col's columns would hold)."""
    return xp.shape[0] // groups * ksize[0] * ksize[1] * xp.shape[2] * xp.shape[3]


def _cols(xp: np.ndarray, k: tuple, stride: tuple, dilation: tuple, groups: int,
          out_hw: tuple) -> np.ndarray:
    """im2col, transposed: the ``(groups, C/groups·kH·kW, n·H'·W')`` columns of the windows of a
    padded channel-major ``(C, n, H, W)`` batch (a row-by-row copy)."""
    C, kk = xp.shape[0], k[0] * k[1]
    win = _window_view(xp, k, stride, dilation, out_hw)       # (C, n, kH, kW, H', W')
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(groups, C // groups * kk, -1)


def _by_group(a: np.ndarray, groups: int) -> np.ndarray:
    """An NCHW array, channel-major and contiguous, as ``(groups, C/groups, N, H·W)``."""
    N, C, H, W = a.shape
    return np.ascontiguousarray(a.transpose(1, 0, 2, 3)).reshape(groups, C // groups, N, H * W)


def _conv_saving(x: np.ndarray, w: np.ndarray, *, stride: tuple, pads: Pads, dilation: tuple,
                 groups: int) -> tuple[np.ndarray, np.ndarray]:
    """The convolution ``Wmat @ Xcolᵀ``, chunk by chunk of the batch, and the padded
    channel-major input (kept: the weight gradient copies its windows again, chunk by chunk)."""
    xp = _padded(x, pads)
    N, (Co, cg, kh, kw) = xp.shape[1], w.shape
    hw = tuple(out_size(n, k, s, d, 0, 0) for n, k, s, d in zip(xp.shape[2:], (kh, kw), stride,
                                                                   dilation))
    if _on_grid(xp, stride, hw):
        return conv_rows(xp, w, dilation, groups, hw, _chunks(N, _per_image(xp, (kh, kw), groups)),
                         np.result_type(x, w)), xp
    wmat = w.reshape(groups, Co // groups, cg * kh * kw)
    y = np.empty((N, Co) + hw, dtype=np.result_type(x, w))
    for a, b in _chunks(N, cg * kh * kw * hw[0] * hw[1]):
        cols = _cols(xp[:, a:b], (kh, kw), stride, dilation, groups, hw)
        y[a:b] = np.matmul(wmat, cols).reshape(Co, b - a, *hw).transpose(1, 0, 2, 3)
    return y, xp


def _conv(x: np.ndarray, w: np.ndarray, **params: Any) -> np.ndarray:
    return _conv_saving(x, w, **params)[0]


def _conv_weight(x: np.ndarray, g: np.ndarray, *, stride: tuple, pads: Pads, dilation: tuple,
                 groups: int, ksize: tuple, padded: np.ndarray | None = None) -> np.ndarray:
    """``dW = gmat @ Xcol``, summed over chunks of the batch (or on the padded grid)."""
    N, Co, Ho, Wo = g.shape
    xp = _padded(x, pads) if padded is None else padded   # the forward's, when conv2d saved it
    if _on_grid(xp, stride, (Ho, Wo)):
        return weight_rows(xp, g, ksize, dilation, groups, _chunks(N, _per_image(xp, ksize,
                                                                                 groups)),
                           np.result_type(x, g))
    cg, gm = xp.shape[0] // groups, _by_group(g, groups)
    dw = np.zeros((groups, Co // groups, cg * ksize[0] * ksize[1]), dtype=np.result_type(x, g))
    for a, b in _chunks(N, dw.shape[2] * Ho * Wo):
        cols = _cols(xp[:, a:b], ksize, stride, dilation, groups, (Ho, Wo))
        dw += np.matmul(gm[:, :, a:b].reshape(groups, Co // groups, -1), cols.transpose(0, 2, 1))
    return dw.reshape(Co, cg, *ksize)


def _conv_t(g: np.ndarray, w: np.ndarray, *, stride: tuple, pads: Pads, dilation: tuple,
            groups: int, out_hw: tuple) -> np.ndarray:
    """The transposed convolution: the columns ``Wmatᵀ @ gmat`` added back into their windows
    (col2im), chunk by chunk of the batch — no product is spent on the zeros a strided
    convolution's upsampled gradient would hold. With stride 1, ``g`` is first placed on the
    padded output grid (zeros around): each kernel tap is then one addition of the flattened
    images shifted by the tap's offset (the zeros' columns land on padding), instead of one
    addition per image row (:func:`.conv_grid.transpose_rows`)."""
    N, Co, Hg, Wg = g.shape
    _, cg, kh, kw = w.shape
    t, b, left, r = pads
    wmat = w.reshape(groups, Co // groups, cg * kh * kw).transpose(0, 2, 1)
    C, (H, W) = groups * cg, out_hw
    Hp, Wp = t + H + max(b, 0), left + W + max(r, 0)
    dx = np.empty((N, C, H, W), dtype=np.result_type(g, w))
    if tuple(stride) != (1, 1):
        gm, out = _by_group(g, groups), np.zeros((C, N, Hp, Wp), dtype=dx.dtype)
        for a, z in _chunks(N, cg * kh * kw * Hg * Wg):
            cols = np.matmul(wmat, gm[:, :, a:z].reshape(groups, Co // groups, -1))
            _add_windows(cols.reshape(C, kh, kw, z - a, Hg, Wg).transpose(0, 3, 1, 2, 4, 5),
                         out[:, a:z], stride, dilation)
            dx[a:z] = out[:, a:z, t:t + H, left:left + W].transpose(1, 0, 2, 3)
        return dx
    return transpose_rows(g, w, pads, dilation, groups, out_hw,
                          _chunks(N, cg * kh * kw * Hp * Wp), dx.dtype)


# ---------------------------------------------------------------------------------------------
# The ops


def _conv2d_front(x: Any, weight: Any, *, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                  groups: int = 1) -> tuple:
    where = "conv2d"
    N, C, H, W = _need(x, 4, "an input batch (N, C, H, W)", where)
    Co, cg, kh, kw = _need(weight, 4, "a weight (C_out, C_in/groups, kH, kW)", where)
    s, d = pair(stride, "stride", where), pair(dilation, "dilation", where)
    g = _groups(groups, C, Co, cg, where)
    pads = pads_of(padding, (kh, kw), d, s, where)
    _fits((H, W), (kh, kw), d, pads, where, _shape(x))
    return (x, weight), {"stride": s, "pads": pads, "dilation": d, "groups": g}


def _groups(groups: Any, C: int, Co: int, cg: int, where: str) -> int:
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive int, got {groups!r}")
    if C != cg * groups or Co % groups:
        raise ValueError(f"{where}: the input has {C} channels and the weight expects "
                         f"{cg}·groups = {cg * groups} (groups={groups}); C_out={Co} must also "
                         f"be divisible by groups")
    return int(groups)


def _fits(hw: tuple, k: tuple, d: tuple, pads: Pads, where: str, shape: tuple) -> None:
    for n, kk, dd, lo, hi in zip(hw, k, d, pads[::2], pads[1::2]):
        if n + lo + hi < dd * (kk - 1) + 1:
            raise ValueError(f"{where}: the kernel {tuple(k)} (dilation {tuple(d)}) is larger "
                             f"than the padded input {shape} with padding {pads}")


def _conv2d_dx(g: Any, out: Any, x: Any, w: Any, *, stride: tuple, pads: Pads, dilation: tuple,
               groups: int, saved: Any = None) -> Any:
    return conv_transpose2d(g, w, stride=stride, pads=pads, dilation=dilation, groups=groups,
                            out_hw=tuple(x.shape[2:]))


def _conv2d_dw(g: Any, out: Any, x: Any, w: Any, *, stride: tuple, pads: Pads, dilation: tuple,
               groups: int, saved: Any = None) -> Any:
    return conv2d_weight(x, g, stride=stride, pads=pads, dilation=dilation, groups=groups,
                         ksize=tuple(w.shape[2:]), padded=saved)


conv2d = Op("conv2d", _conv_saving, (_conv2d_dx, _conv2d_dw),
            rules=("conv_transpose2d(g, w): g convolved with the flipped kernel",
                   "conv2d_weight(x, g) = Xcolᵀ @ gmat: x correlated with g"),
            summary="2-D convolution (cross-correlation, as PyTorch) of an NCHW batch with a "
            "``(C_out, C_in/groups, kH, kW)`` weight; keyword-only ``stride``, ``padding`` (int, "
            "pair, ``((top, bottom), (left, right))``, ``'same'``, ``'valid'``), ``dilation``, "
            "``groups``. Add a bias with ``+ b.reshape(1, -1, 1, 1)``.",
            example=">>> x = np.arange(16.0).reshape(1, 1, 4, 4)\n"
            ">>> al.conv2d(x, np.ones((1, 1, 2, 2)), stride=2)\n"
            "Tensor([[[[10., 18.],\n          [42., 50.]]]], dtype=float64)",
            public="conv2d", front=_conv2d_front, saves=True)


def _ct_front(x: Any, weight: Any, *, stride: Any = 1, padding: Any = 0,
              output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> tuple:
    where = "conv_transpose2d"
    N, C, H, W = _need(x, 4, "an input batch (N, C_in, H, W)", where)
    Ci, og, kh, kw = _need(weight, 4, "a weight (C_in, C_out/groups, kH, kW)", where)
    s, d = pair(stride, "stride", where), pair(dilation, "dilation", where)
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive int, got {groups!r}")
    if Ci != C or C % groups:
        raise ValueError(f"{where}: the input has {C} channels, the weight's first axis is {Ci}"
                         f" (they must agree and be divisible by groups={groups})")
    if isinstance(padding, str):
        raise ValueError(f"{where}: padding must be an int or pairs, got {padding!r}")
    pads = pads_of(padding, (kh, kw), d, s, where)
    op = pair(output_padding, "output_padding", where, minimum=0)
    if op[0] >= max(s[0], d[0]) or op[1] >= max(s[1], d[1]):
        raise ValueError(f"{where}: output_padding {op} must be smaller than stride {s} or "
                         f"dilation {d}")
    hw = tuple((n - 1) * ss - lo - hi + dd * (k - 1) + o + 1 for n, ss, lo, hi, dd, k, o in
               zip((H, W), s, pads[::2], pads[1::2], d, (kh, kw), op))
    if min(hw) < 1:
        raise ValueError(f"{where}: the output would have size {hw}; reduce the padding {pads}")
    return (x, weight), {"stride": s, "pads": pads, "dilation": d, "groups": int(groups),
                         "out_hw": hw}


def _conv_to(x: Any, w: Any, hw: tuple, *, stride: tuple, pads: Pads, dilation: tuple,
             groups: int) -> Any:
    """``conv2d(x, w)`` cut to the spatial size ``hw`` (a transposed convolution's output
    padding can add rows no window of the forward covered)."""
    y = conv2d(x, w, stride=stride, pads=pads, dilation=dilation, groups=groups)
    return y if tuple(y.shape[2:]) == tuple(hw) else y[:, :, :hw[0], :hw[1]]


conv_transpose2d = Op(
    "conv_transpose2d", _conv_t,
    (lambda g, out, x, w, *, stride, pads, dilation, groups, out_hw:
     _conv_to(g, w, x.shape[2:], stride=stride, pads=pads, dilation=dilation, groups=groups),
     lambda g, out, x, w, *, stride, pads, dilation, groups, out_hw:
     conv2d_weight(g, x, stride=stride, pads=pads, dilation=dilation, groups=groups,
                   ksize=tuple(w.shape[2:]))),
    rules=("conv2d(g, w)", "conv2d_weight(g, x)"),
    summary="Transposed 2-D convolution (the input-gradient of ``conv2d``; PyTorch's weight "
    "layout ``(C_in, C_out/groups, kH, kW)``); keyword-only ``stride``, ``padding``, "
    "``output_padding``, ``groups``, ``dilation``.",
    example=">>> al.conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), stride=2).shape"
    "\n(1, 1, 4, 4)",
    public="conv_transpose2d", front=_ct_front)

conv2d_weight = Op(
    "conv2d_weight", _conv_weight,
    (lambda v, out, x, g, *, stride, pads, dilation, groups, ksize, padded=None:
     conv_transpose2d(g, v, stride=stride, pads=pads, dilation=dilation, groups=groups,
                      out_hw=tuple(x.shape[2:])),
     lambda v, out, x, g, *, stride, pads, dilation, groups, ksize, padded=None:
     _conv_to(x, v, g.shape[2:], stride=stride, pads=pads, dilation=dilation, groups=groups)),
    rules=("conv_transpose2d(x, g)", "conv2d(x, g)"),
    internal="the weight-gradient of conv2d (a correlation of the input with the output "
    "gradient); reached through conv2d's VJP")


def _conv1d_front(x: Any, weight: Any, *, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                  groups: int = 1) -> tuple:
    where = "conv1d"
    N, C, L = _need(x, 3, "an input batch (N, C, L)", where)
    Co, cg, k = _need(weight, 3, "a weight (C_out, C_in/groups, k)", where)
    s, d = (_single(v, name, where) for v, name in ((stride, "stride"), (dilation, "dilation")))
    g = _groups(groups, C, Co, cg, where)
    if isinstance(padding, (tuple, list)) and len(padding) == 2:
        pads = (0, 0) + pair(padding, "padding", where, minimum=0)
    else:
        pads = pads_of(padding, (1, k), (1, d), (1, s), where)
    _fits((L,), (k,), (d,), pads[2:], where, _shape(x))
    return (x, weight), {"stride": s, "pads": pads[2:], "dilation": d, "groups": g}


def _single(v: Any, name: str, where: str) -> int:
    """An int or a 1-tuple (PyTorch accepts both for conv1d)."""
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise TypeError(f"{where}: {name} must be an int or a 1-tuple, got {v!r:.60}")
        v = v[0]
    return pair(v, name, where)[0]


def _as2d(stride: int, pads: tuple, dilation: int) -> dict:
    return {"stride": (1, stride), "pads": (0, 0) + tuple(pads), "dilation": (1, dilation)}


def _conv1d(x: np.ndarray, w: np.ndarray, *, stride: int, pads: tuple, dilation: int,
            groups: int) -> np.ndarray:
    return _conv(x[:, :, None], w[:, :, None], groups=groups, **_as2d(stride, pads, dilation))[
        :, :, 0]


def _4d(a: Any) -> Any:
    return a.reshape(a.shape[:2] + (1,) + a.shape[2:])


conv1d = Op(
    "conv1d", _conv1d,
    (lambda g, out, x, w, *, stride, pads, dilation, groups:
     conv_transpose2d(_4d(g), _4d(w), groups=groups, out_hw=(1, x.shape[2]),
                      **_as2d(stride, pads, dilation)).reshape(x.shape),
     lambda g, out, x, w, *, stride, pads, dilation, groups:
     conv2d_weight(_4d(x), _4d(g), groups=groups, ksize=(1, w.shape[2]),
                   **_as2d(stride, pads, dilation)).reshape(w.shape)),
    rules=("conv_transpose2d(g, w) on the height-1 image",
           "conv2d_weight(x, g) on the height-1 image"),
    summary="1-D convolution of an ``(N, C, L)`` batch with a ``(C_out, C_in/groups, k)`` "
    "weight (``conv2d`` on a height-1 image); keyword-only ``stride``, ``padding`` (int, "
    "``(left, right)``, ``'same'``, ``'valid'``), ``dilation``, ``groups``.",
    example=">>> al.conv1d([[[1.0, 2.0, 3.0, 4.0]]], [[[1.0, -1.0]]])\n"
    "Tensor([[[-1., -1., -1.]]], dtype=float64)",
    public="conv1d", front=_conv1d_front)


# ---------------------------------------------------------------------------------------------
# unfold / fold (im2col / col2im, PyTorch's layout: (N, C·kH·kW, L), channel-major)


def _window_args(x: Any, kernel_size: Any, dilation: Any, padding: Any, stride: Any,
                 where: str) -> dict:
    k = pair(kernel_size, "kernel_size", where)
    d, s = pair(dilation, "dilation", where), pair(stride, "stride", where)
    ph, pw = pair(padding, "padding", where, minimum=0)
    return {"ksize": k, "dilation": d, "pads": (ph, ph, pw, pw), "stride": s}


def _unfold_front(x: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                  stride: Any = 1) -> tuple:
    shape = _need(x, 4, "an input batch (N, C, H, W)", "unfold")
    p = _window_args(x, kernel_size, dilation, padding, stride, "unfold")
    _fits(shape[2:], p["ksize"], p["dilation"], p["pads"], "unfold", shape)
    return (x,), p


def _unfold(x: np.ndarray, *, ksize: tuple, dilation: tuple, pads: Pads,
            stride: tuple) -> np.ndarray:
    t, b, left, r = pads
    xp = np.pad(x, ((0, 0), (0, 0), (t, b), (left, r)))
    N, C, Hp, Wp = xp.shape
    (kh, kw), (dh, dw), (sh, sw) = ksize, dilation, stride
    Ho, Wo = out_size(Hp, kh, sh, dh, 0, 0), out_size(Wp, kw, sw, dw, 0, 0)
    return _window_view(xp, ksize, stride, dilation, (Ho, Wo)).reshape(N, C * kh * kw, Ho * Wo)


def _fold(cols: np.ndarray, *, out_hw: tuple, ksize: tuple, dilation: tuple, pads: Pads,
          stride: tuple) -> np.ndarray:
    """col2im: each window's column added back where it came from."""
    (H, W), (kh, kw), (dh, dw), (sh, sw), (t, b, left, r) = out_hw, ksize, dilation, stride, pads
    Ho, Wo = out_size(H, kh, sh, dh, t, b), out_size(W, kw, sw, dw, left, r)
    N = cols.shape[0]
    c6 = cols.reshape(N, -1, kh, kw, Ho, Wo)
    out = np.zeros((N, c6.shape[1], H + t + b, W + left + r), dtype=cols.dtype)
    _add_windows(c6, out, stride, dilation)
    return out[:, :, t:t + H, left:left + W]


def _fold_front(x: Any, output_size: Any, kernel_size: Any, dilation: Any = 1,
                padding: Any = 0, stride: Any = 1) -> tuple:
    N, ckk, L = _need(x, 3, "columns (N, C·kH·kW, L)", "fold")
    p = _window_args(x, kernel_size, dilation, padding, stride, "fold")
    H, W = pair(output_size, "output_size", "fold")
    (kh, kw), (dh, dw), (sh, sw), (t, b, left, r) = (p["ksize"], p["dilation"], p["stride"],
                                                     p["pads"])
    Ho, Wo = out_size(H, kh, sh, dh, t, b), out_size(W, kw, sw, dw, left, r)
    if ckk % (kh * kw) or Ho < 1 or Wo < 1 or Ho * Wo != L:
        raise ValueError(f"fold: columns of shape {(N, ckk, L)} do not match output_size "
                         f"{(H, W)} with kernel {(kh, kw)}: expected C·{kh * kw} rows and "
                         f"{max(Ho, 0) * max(Wo, 0)} columns (blocks)")
    return (x,), {**p, "out_hw": (H, W)}


unfold = Op("unfold", _unfold,
            (lambda g, out, x, *, ksize, dilation, pads, stride:
             fold(g, out_hw=tuple(x.shape[2:]), ksize=ksize, dilation=dilation, pads=pads,
                  stride=stride),),
            rules=("fold(g)  (col2im: columns added back into their windows)",),
            summary="im2col: every sliding window of an NCHW batch as a column, "
            "``(N, C·kH·kW, L)`` (PyTorch's ``F.unfold``).",
            example=">>> al.unfold(np.arange(9.0).reshape(1, 1, 3, 3), 2).data[0]\n"
            "array([[0., 1., 3., 4.],\n       [1., 2., 4., 5.],\n       [3., 4., 6., 7.],\n"
            "       [4., 5., 7., 8.]])",
            public="unfold", front=_unfold_front, reads_values=False)

fold = Op("fold", _fold,
          (lambda g, out, x, *, out_hw, ksize, dilation, pads, stride:
           unfold(g, ksize=ksize, dilation=dilation, pads=pads, stride=stride),),
          rules=("unfold(g)  (im2col)",),
          summary="col2im: columns ``(N, C·kH·kW, L)`` summed back into an NCHW image of "
          "``output_size`` (PyTorch's ``F.fold``; ``fold(unfold(x))`` counts each pixel once per "
          "window covering it).",
          example=">>> al.fold(np.ones((1, 4, 4)), (3, 3), 2).data[0, 0]\n"
          "array([[1., 2., 1.],\n       [2., 4., 2.],\n       [1., 2., 1.]])",
          public="fold", front=_fold_front, reads_values=False)
