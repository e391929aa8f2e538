"""The conv kernels work chunk by chunk of the batch (ops/conv.py ``CHUNK``): with chunks of one
image, every result equals the one-chunk result (which tests/test_ops.py checks against
PyTorch and finite differences); the stride-1 weight gradient, which reuses its chunk buffers,
matches the slow reference with a ragged last chunk too."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.ops import conv

from .spec import SPECS
from .spec_conv import _taps, np_conv2d

_np_conv_weight = SPECS["conv2d_weight"].ref   # the slow reference (a loop over kernel taps)

GRID = [  # (stride, padding, dilation, groups)
    (1, 1, 1, 1), (2, 1, 1, 1), (1, ((0, 2), (1, 0)), 2, 2), (2, 0, (1, 2), 4), (3, 2, 1, 1),
    (1, "same", 1, 4)]


def _everything(x, w, t, **kw):
    """conv2d's output, its input and weight gradients, and a transposed convolution's."""
    X, Wt = al.Tensor(x, requires_grad=True), al.Tensor(w, requires_grad=True)
    y = al.conv2d(X, Wt, **kw)
    y.backward(np.cos(y.data))
    ct = al.conv_transpose2d(y.data, w, stride=kw["stride"], padding=1, groups=kw["groups"],
                             dilation=kw["dilation"])   # (C_in, C_out/groups, kH, kW) = w's shape
    return [y.data, X.grad.data, Wt.grad.data, ct.data, al.unfold(x, 2).data,
            al.fold(t, x.shape[2:], 2).data]


@pytest.mark.parametrize("stride, padding, dilation, groups", GRID)
@pytest.mark.parametrize("slack", [0.0, float("inf")])   # stride 1: im2col, the padded grid
def test_chunks_of_one_image_give_the_one_chunk_result(monkeypatch, stride, padding, dilation,
                                                       groups, slack):
    monkeypatch.setattr(conv, "GRID_SLACK", slack)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 8, 9, 7))
    w = rng.standard_normal((8, 8 // groups, 3, 2))
    t = rng.standard_normal((5, 8 * 4, 8 * 6))
    kw = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    whole = _everything(x, w, t, **kw)
    monkeypatch.setattr(conv, "CHUNK", 1)
    assert conv._chunks(5, 100) == [(i, i + 1) for i in range(5)]
    for a, b in zip(_everything(x, w, t, **kw), whole):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("pads, dilation, groups, ksize, gshape", [
    ((1, 1, 1, 1), (1, 1), 1, (3, 3), (6, 9, 7)),
    ((0, 2, 1, 0), (2, 1), 2, (2, 3), (4, 9, 6)),        # asymmetric, dilated, grouped
    ((0, 0, 0, 0), (1, 1), 1, (3, 2), (6, 5, 4)),        # g smaller than the full output
    ((2, 0, 0, 1), (1, 3), 3, (1, 2), (6, 11, 4)),       # (an output_padding's weight VJP)
])
@pytest.mark.parametrize("images", [1, 2, 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stride_one_on_the_padded_grid_with_ragged_chunks(monkeypatch, pads, dilation, groups,
                                                          ksize, gshape, images, dtype):
    """The grid kernels (conv_grid.py) reuse their chunk buffers: a ragged last chunk must not
    read the previous chunk's values (the weight gradient, the forward and the transposed
    convolution, against the references)."""
    monkeypatch.setattr(conv, "GRID_SLACK", float("inf"))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 6, 9, 7)).astype(dtype)
    g = rng.standard_normal((5,) + gshape).astype(dtype)
    Hp, Wp = 9 + pads[0] + pads[1], 7 + pads[2] + pads[3]
    per_image = 6 // groups * ksize[0] * ksize[1] * Hp * Wp   # the weight gradient's budget
    monkeypatch.setattr(conv, "CHUNK", per_image * images)
    kw = {"pads": pads, "dilation": dilation, "groups": groups, "ksize": ksize}
    dw = conv.conv2d_weight(x, g, stride=(1, 1), **kw)
    assert dw.dtype == dtype and dw.flags.c_contiguous
    want = _np_conv_weight(x.astype(np.float64), g.astype(np.float64), stride=(1, 1), **kw)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(dw, want, rtol=tol, atol=tol * np.abs(want).max())
    w = rng.standard_normal((gshape[0], 6 // groups) + ksize).astype(dtype)
    y = conv.conv2d(x, w, stride=(1, 1), pads=pads, dilation=dilation, groups=groups)
    want = np_conv2d(x.astype(np.float64), w.astype(np.float64), dilation=dilation,
                     groups=groups, padding=((pads[0], pads[1]), (pads[2], pads[3])))
    assert y.dtype == dtype and y.shape == want.shape
    np.testing.assert_allclose(y, want, rtol=tol, atol=tol * np.abs(want).max())
    w = rng.standard_normal((gshape[0], 6 // groups) + ksize).astype(dtype)
    dx = conv.conv_transpose2d(g, w, stride=(1, 1), out_hw=(9, 7), **{k: kw[k] for k in kw
                                                                       if k != "ksize"})
    padded = np.zeros((5, 6, Hp, Wp))                 # the adjoint, tap by tap: the windows
    for outs, i, j, window in _taps(padded, gshape[0], groups, ksize, (1, 1), dilation,
                                    gshape[1:]):      # are views of ``padded``
        window += np.einsum("nohw,oc->nchw", g[:, outs], w[outs, :, i, j])
    want = padded[:, :, pads[0]:pads[0] + 9, pads[2]:pads[2] + 7]
    assert dx.dtype == dtype
    np.testing.assert_allclose(dx, want, rtol=tol, atol=tol * np.abs(want).max())
