"""Specs of the convolution and pooling ops (merged into ``tests/spec.py``'s table).

The NumPy references are written the slow, obvious way — a loop over the kernel offsets, each
an ``einsum`` of a strided slice — so they share no code with the im2col kernels they check.
"""

from __future__ import annotations

import warnings

import numpy as np

import autograd_lite as al
from autograd_lite import ops

from .spec import Spec


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _pads(padding, k, d):
    """(top, bottom, left, right) for every padding form the ops accept."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        th, tw = (dd * (kk - 1) for dd, kk in zip(d, k))
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    if isinstance(padding, (tuple, list)) and isinstance(padding[0], (tuple, list)):
        return (*padding[0], *padding[1])
    ph, pw = _pair(padding)
    return (ph, ph, pw, pw)


def np_conv2d(x, w, *, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    Co, cg, kh, kw = w.shape
    t, b, left, r = _pads(padding, (kh, kw), (dh, dw))
    xp = np.pad(x, ((0, 0), (0, 0), (t, b), (left, r)))
    N, C, Hp, Wp = xp.shape
    Ho, Wo = (Hp - dh * (kh - 1) - 1) // sh + 1, (Wp - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((N, Co, Ho, Wo))
    for outs, i, j, patch in _taps(xp, Co, groups, (kh, kw), (sh, sw), (dh, dw), (Ho, Wo)):
        out[:, outs] += np.einsum("nchw,oc->nohw", patch, w[outs, :, i, j])
    return out


def _taps(xp, Co, groups, ksize, stride, dilation, out_size):
    """For each group and kernel offset (i, j): the group's output channels (a slice), i, j and
    the input window ``Xpad[n, c, i·d + s·a, j·d + s·b]`` over output positions (a, b)."""
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = ksize, stride, dilation, out_size
    cg, og = xp.shape[1] // groups, Co // groups
    for gi in range(groups):
        for i in range(kh):
            for j in range(kw):
                yield (slice(gi * og, (gi + 1) * og), i, j,
                       xp[:, gi * cg:(gi + 1) * cg, i * dh:i * dh + (Ho - 1) * sh + 1:sh,
                          j * dw:j * dw + (Wo - 1) * sw + 1:sw])


def np_conv_transpose2d(x, w, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The adjoint of np_conv2d, as a scatter: each input pixel adds its kernel-weighted copy."""
    (sh, sw), (dh, dw), (ph, pw), (oh, ow) = (_pair(v) for v in (stride, dilation, padding,
                                                                 output_padding))
    N, C, H, W = x.shape
    _, og, kh, kw = w.shape
    cg = C // groups
    full = np.zeros((N, og * groups, (H - 1) * sh + dh * (kh - 1) + 1 + oh,
                     (W - 1) * sw + dw * (kw - 1) + 1 + ow))
    for gi in range(groups):
        for i in range(kh):
            for j in range(kw):
                full[:, gi * og:(gi + 1) * og, i * dh:i * dh + (H - 1) * sh + 1:sh,
                     j * dw:j * dw + (W - 1) * sw + 1:sw] += np.einsum(
                    "nchw,co->nohw", x[:, gi * cg:(gi + 1) * cg], w[gi * cg:(gi + 1) * cg, :, i, j])
    Hout = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1
    Wout = (W - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1
    return full[:, :, ph:ph + Hout, pw:pw + Wout]


def np_conv1d(x, w, *, stride=1, padding=0, dilation=1, groups=1):
    if isinstance(padding, (tuple, list)):
        padding = ((0, 0), tuple(padding))
    elif not isinstance(padding, str):
        padding = (0, padding)
    return np_conv2d(x[:, :, None], w[:, :, None], stride=(1, stride), padding=padding,
                     dilation=(1, dilation), groups=groups)[:, :, 0]


def _torch_conv2d(x, w, *, padding=0, **kw):
    import torch.nn.functional as F
    if isinstance(padding, (tuple, list)) and isinstance(padding[0], (tuple, list)):
        (t, b), (left, r) = padding
        return F.conv2d(F.pad(x, (left, r, t, b)), w, **kw)
    return F.conv2d(x, w, padding=padding, **kw)


def _torch_conv1d(x, w, *, padding=0, **kw):
    import torch.nn.functional as F
    if isinstance(padding, (tuple, list)):
        return F.conv1d(F.pad(x, tuple(padding)), w, **kw)
    with warnings.catch_warnings():   # PyTorch warns that 'same' with an even kernel copies
        warnings.simplefilter("ignore")
        return F.conv1d(x, w, padding=padding, **kw)


def _windows_loop(xp, k, s, d, out_hw):
    """(kH·kW, N, C, H', W'): every kernel offset's strided slice of the padded input."""
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = k, s, d, out_hw
    return np.stack([xp[:, :, i * dh:i * dh + (Ho - 1) * sh + 1:sh,
                        j * dw:j * dw + (Wo - 1) * sw + 1:sw]
                     for i in range(kh) for j in range(kw)])


def _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode):
    k = _pair(kernel_size)
    s = k if stride is None else _pair(stride)
    p, d = _pair(padding), _pair(dilation)
    out = []
    for n, kk, ss, pp, dd in zip(x.shape[2:], k, s, p, d):
        o = -(-(n + 2 * pp - dd * (kk - 1) - 1) // ss) if ceil_mode else \
            (n + 2 * pp - dd * (kk - 1) - 1) // ss
        o += 1
        if ceil_mode and (o - 1) * ss >= n + pp:
            o -= 1
        out.append(o)
    extra = [max((o - 1) * ss + dd * (kk - 1) + 1 - n - pp, pp) for o, ss, dd, kk, n, pp in
             zip(out, s, d, k, x.shape[2:], p)]
    return k, s, p, d, tuple(out), extra


def np_max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    k, s, p, d, out, extra = _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode)
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], extra[0]), (p[1], extra[1])),
                constant_values=-np.inf)
    return _windows_loop(xp, k, s, d, out).max(axis=0)


def np_avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                  count_include_pad=True, divisor_override=None):
    k, s, p, d, out, extra = _pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode)
    pads = ((0, 0), (0, 0), (p[0], extra[0]), (p[1], extra[1]))
    total = _windows_loop(np.pad(x, pads), k, s, d, out).sum(axis=0)
    if divisor_override:
        return total / divisor_override
    # the divisor: window sums of a mask that is 1 on the input (and on the padding, when it
    # counts), 0 on the ceil-mode overrun
    mask = np.ones((1, 1) + x.shape[2:])
    mask = np.pad(mask, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])),
                  constant_values=1.0 if count_include_pad else 0.0)
    mask = np.pad(mask, ((0, 0), (0, 0), (0, extra[0] - p[0]), (0, extra[1] - p[1])))
    return total / _windows_loop(mask, k, s, d, out).sum(axis=0)


def np_adaptive_avg_pool2d(x, output_size):
    ho, wo = _pair(output_size)
    ho, wo = ho or x.shape[2], wo or x.shape[3]
    H, W = x.shape[2:]
    out = np.zeros(x.shape[:2] + (ho, wo))
    for i in range(ho):
        for j in range(wo):
            a, b = i * H // ho, -(-(i + 1) * H // ho)
            c, e = j * W // wo, -(-(j + 1) * W // wo)
            out[:, :, i, j] = x[:, :, a:b, c:e].mean(axis=(2, 3))
    return out


def np_unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    k, d, p, s = (_pair(v) for v in (kernel_size, dilation, padding, stride))
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    out = tuple((n - dd * (kk - 1) - 1) // ss + 1 for n, dd, kk, ss in zip(xp.shape[2:], d, k, s))
    w = _windows_loop(xp, k, s, d, out)                 # (kk, N, C, H', W')
    N, C = x.shape[:2]
    return w.transpose(1, 2, 0, 3, 4).reshape(N, C * k[0] * k[1], -1)


def np_fold(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of np_unfold: ⟨fold(c), x⟩ = ⟨c, unfold(x)⟩, computed column by column."""
    H, W = _pair(output_size)
    N = cols.shape[0]
    C = cols.shape[1] // (_pair(kernel_size)[0] * _pair(kernel_size)[1])
    out = np.zeros((N, C, H, W))
    basis = np.zeros((1, C, H, W))
    for c in range(C):
        for i in range(H):
            for j in range(W):
                basis[:] = 0
                basis[0, c, i, j] = 1
                u = np_unfold(basis, kernel_size, dilation, padding, stride)
                out[:, c, i, j] = np.einsum("nkl,kl->n", cols, u[0])
    return out


def _t(name):
    import torch.nn.functional as F
    return getattr(F, name)


X = (2, 4, 5, 6)
SPECS: dict[str, Spec] = {
    "conv2d": Spec(lambda x, w, **kw: al.conv2d(x, w, **kw), np_conv2d, _torch_conv2d, [
        ((X, (3, 4, 3, 3)), {}),
        ((X, (3, 4, 3, 2)), {"stride": 2, "padding": 1}),
        ((X, (6, 2, 2, 3)), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2),
                             "groups": 2}),
        ((X, (4, 1, 3, 3)), {"padding": "same", "groups": 4}),           # depthwise
        ((X, (2, 4, 2, 2)), {"padding": "same", "dilation": 2}),
        ((X, (3, 4, 2, 3)), {"padding": ((0, 2), (1, 0)), "stride": 3}),  # asymmetric
        (((1, 2, 7, 3), (5, 2, 1, 1)), {"padding": "valid"}),
    ]),
    "conv_transpose2d": Spec(lambda x, w, **kw: al.conv_transpose2d(x, w, **kw),
                             np_conv_transpose2d,
                             lambda x, w, **kw: _t("conv_transpose2d")(x, w, **kw), [
        (((2, 4, 3, 4), (4, 3, 3, 3)), {}),
        (((2, 4, 3, 4), (4, 2, 3, 2)), {"stride": 2, "padding": 1, "output_padding": 1}),
        (((2, 4, 3, 3), (4, 3, 2, 2)), {"stride": (1, 2), "dilation": 2, "groups": 2,
                                        "output_padding": (1, 0)}),
        (((1, 2, 4, 4), (2, 1, 3, 3)), {"stride": 3, "padding": 2, "groups": 2}),
    ]),
    "conv2d_weight": Spec(
        lambda x, g, **kw: ops.conv.conv2d_weight(x, g, **kw),
        lambda x, g, *, stride, pads, dilation, groups, ksize: _np_conv_weight(
            x, g, stride, pads, dilation, groups, ksize),
        None, [
            ((X, (2, 3, 3, 4)), {"stride": (1, 1), "pads": (0, 0, 0, 0), "dilation": (1, 1),
                                 "groups": 1, "ksize": (3, 3)}),
            ((X, (2, 4, 3, 2)), {"stride": (2, 2), "pads": (1, 0, 1, 1), "dilation": (1, 2),
                                 "groups": 2, "ksize": (2, 2)}),
            ((X, (2, 4, 6, 5)), {"stride": (1, 1), "pads": (1, 2, 0, 1), "dilation": (2, 1),
                                 "groups": 2, "ksize": (2, 3)}),
        ]),
    "conv1d": Spec(lambda x, w, **kw: al.conv1d(x, w, **kw), np_conv1d, _torch_conv1d, [
        (((2, 4, 9), (3, 4, 3)), {}),
        (((2, 4, 9), (6, 2, 3)), {"stride": 2, "padding": 1, "groups": 2, "dilation": 2}),
        (((2, 4, 8), (4, 4, 4)), {"padding": "same"}),
        (((1, 2, 6), (3, 2, 2)), {"padding": (2, 0), "stride": 3}),
    ]),
    "unfold": Spec(lambda x, **kw: al.unfold(x, **kw), np_unfold,
                   lambda x, **kw: _t("unfold")(x, **kw), [
        (((2, 3, 5, 4),), {"kernel_size": 2}),
        (((1, 2, 6, 5),), {"kernel_size": (3, 2), "dilation": (1, 2), "padding": 1,
                           "stride": (2, 1)}),
    ]),
    "fold": Spec(lambda c, **kw: al.fold(c, **kw), np_fold, lambda c, **kw: _t("fold")(c, **kw),
                 [(((2, 12, 12),), {"output_size": (5, 4), "kernel_size": 2}),
                  (((1, 12, 15),), {"output_size": (6, 5), "kernel_size": (3, 2),
                                   "dilation": (1, 2), "padding": 1, "stride": (2, 1)})]),
    "max_pool2d": Spec(lambda x, **kw: al.max_pool2d(x, **kw), np_max_pool2d,
                       lambda x, **kw: _t("max_pool2d")(x, **kw), [
        ((X,), {"kernel_size": 2}),
        ((X,), {"kernel_size": 3, "stride": 1, "padding": 1}),
        (((2, 3, 7, 6),), {"kernel_size": (3, 2), "stride": 2, "dilation": (2, 1),
                           "ceil_mode": True}),
        (((1, 2, 5, 5),), {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}),
    ]),
    "pool_scatter": Spec(
        lambda g, **kw: ops.pool.pool_scatter(g, **kw),
        lambda g, *, index, shape: np.bincount(index.ravel(), g.ravel(),
                                               int(np.prod(shape))).reshape(shape),
        None, [(((2, 3),), {"index": np.array([[0, 4, 4], [7, 1, 0]]), "shape": (2, 4)})]),
    "avg_pool2d": Spec(lambda x, **kw: al.avg_pool2d(x, **kw), np_avg_pool2d,
                       lambda x, **kw: _t("avg_pool2d")(x, **kw), [
        ((X,), {"kernel_size": 2}),
        ((X,), {"kernel_size": 3, "stride": 2, "padding": 1}),
        ((X,), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False,
                "ceil_mode": True}),
        (((1, 2, 7, 5),), {"kernel_size": (2, 3), "stride": (2, 2), "ceil_mode": True}),
        (((1, 2, 4, 4),), {"kernel_size": 2, "divisor_override": 3}),
    ]),
    "adaptive_avg_pool2d": Spec(lambda x, **kw: al.adaptive_avg_pool2d(x, **kw),
                                np_adaptive_avg_pool2d,
                                lambda x, **kw: _t("adaptive_avg_pool2d")(x, **kw), [
        ((X,), {"output_size": 1}),
        ((X,), {"output_size": (2, 4)}),
        (((1, 2, 7, 5),), {"output_size": (3, None)}),
    ]),
}


def _np_conv_weight(x, g, stride, pads, dilation, groups, ksize):
    """dW[o,c,k,l] = Σ_{n,i,j} Xpad[n,c,i·s+k·d, j·s+l·d]·g[n,o,i,j], a loop over (k, l)."""
    (sh, sw), (dh, dw), (kh, kw) = stride, dilation, ksize
    t, b, left, r = pads
    xp = np.pad(x, ((0, 0), (0, 0), (t, b), (left, r)))
    N, Co, Ho, Wo = g.shape
    dw_ = np.zeros((Co, x.shape[1] // groups, kh, kw))
    for outs, i, j, patch in _taps(xp, Co, groups, (kh, kw), (sh, sw), (dh, dw), (Ho, Wo)):
        dw_[outs, :, i, j] = np.einsum("nchw,nohw->oc", patch, g[:, outs])
    return dw_
