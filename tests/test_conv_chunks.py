"""The conv kernels work chunk by chunk of the batch (ops/conv.py ``CHUNK``): with chunks of one
image, every result equals the one-chunk result (which tests/test_ops.py checks against
PyTorch and finite differences)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.ops import conv

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
def test_chunks_of_one_image_give_the_one_chunk_result(monkeypatch, stride, padding, dilation,
                                                       groups):
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
