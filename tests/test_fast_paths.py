"""Each tuned fast path agrees with the general path it shortcuts (nothing here is timed).

* ``masked``: above ``_BIG`` elements a plain array cotangent is selected by a product
  (``_select_by_product``); it must equal ``np.where(mask, g, 0)`` (infinities and NaNs
  included; zeros are +0.0, never a product's -0.0 outside the mask), and ReLU's gradient must be
  the same on both sides of the size.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.ops import elementwise


def _same(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> bool:
    """Equal dtype, shape and values (NaN equal to NaN), and +0.0 wherever ``mask`` is False."""
    outside = np.broadcast_to(~mask, a.shape)
    return (a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
            and not np.signbit(a[outside]).any())


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("special", [None, np.inf, -np.inf, np.nan])
def test_select_by_product_is_where(dtype, special):
    rng = np.random.default_rng(0)
    g = rng.standard_normal(5000).astype(dtype)     # negative g outside the mask: -0.0 risk
    mask = rng.random(5000) > 0.5
    g[:4] = [-0.0, 0.0, -3.0, 2.0]
    mask[:4] = [True, True, False, False]
    if special is not None:
        g[10:14] = special
        mask[10:14] = [True, False, True, False]
    got = elementwise._select_by_product(g, mask)
    assert _same(got, np.where(mask, g, 0.0), mask)


def test_select_by_product_broadcasts_the_mask_as_where_does():
    g = np.random.default_rng(1).standard_normal((64, 80))
    mask = np.arange(80) % 3 == 0
    assert _same(elementwise._select_by_product(g, mask), np.where(mask, g, 0.0), mask)
    no = np.asarray(False)
    assert _same(elementwise._select_by_product(g, no), np.zeros_like(g), no)


@pytest.mark.parametrize("n", [elementwise._BIG - 1, elementwise._BIG])
def test_relu_gradient_is_the_same_below_and_above_the_fast_path_size(n):
    rng = np.random.default_rng(2)
    x = al.Tensor(rng.standard_normal(n).astype(np.float32), requires_grad=True)
    g = rng.standard_normal(n).astype(np.float32)
    g[:3] = [np.inf, -np.inf, -1.0]
    x.data[:3] = [-1.0, -1.0, -1.0]                  # masked out: 0, not NaN, not -0.0
    al.relu(x).backward(g)
    mask = x.data > 0
    assert _same(x.grad.data, np.where(mask, g, np.float32(0)), mask)
