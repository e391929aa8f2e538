"""Each tuned fast path agrees with the general path it shortcuts (nothing here is timed).

* ``masked``: above ``_BIG`` elements a plain array cotangent is selected by a product
  (``_select_by_product``); it must equal ``np.where(mask, g, 0)`` (infinities and NaNs
  included; zeros are +0.0, never a product's -0.0 outside the mask), and ReLU's gradient must be
  the same on both sides of the size. (It checks for infinities and NaNs with one dot product
  ``c·c``, so finite values that overflow it must also fall back to the selection.)
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import ops
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


def test_select_by_product_when_finite_values_overflow_the_check():
    # the check is one dot product c·c: finite values that overflow it take the selection path
    g = np.full(6000, 3e38, dtype=np.float32)
    g[::2] *= -1
    g[:3000:3] = 3e38
    mask = np.arange(6000) % 4 != 0
    with np.errstate(over="ignore"):
        c = g * mask
        assert not np.isfinite(np.dot(c, c))
        assert _same(elementwise._select_by_product(g, mask), np.where(mask, g, 0.0), mask)


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


# ---------------------------------------------------------------------------------------------
# Tensor._vjp: inputs unpacked by hand for one and two parents, a comprehension for more, the
# op's own Op.vjp for variadic ops; fit (unbroadcast, cast) called only on a mismatch.


def test_vjp_every_arity_and_variadic_agrees_with_finite_differences():
    rng = np.random.default_rng(3)
    a, b, c = (al.Tensor(rng.standard_normal((2, 3)), requires_grad=True) for _ in range(3))
    w, v = (al.Tensor(rng.standard_normal(3), requires_grad=True) for _ in range(2))
    assert al.gradcheck(lambda s: al.tanh(s).sum(), [a])                         # one input
    assert al.gradcheck(lambda s, t: (s * t).sum(), [a, b])                      # two
    assert al.gradcheck(lambda s, t, u: (al.layer_norm(s, 3, t, u) * c).sum(), [a, w, v])
    assert al.gradcheck(lambda s, t, u: al.einsum("ij,ij,ij->", s, t, u), [a, b, c])  # variadic
    assert al.gradcheck(lambda s, t: al.concatenate([s, t, s]).sum(), [a, b])    # variadic


def test_vjp_fits_a_cotangent_only_when_shape_or_dtype_differ():
    x32 = al.Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    b32 = al.Tensor(np.ones(3, np.float32), requires_grad=True)
    c64 = np.full((2, 3), 2.0)                          # a float64 constant: g·c is float64
    (x32 * c64 + b32).sum().backward()
    assert x32.grad.dtype == np.float32 and x32.grad.shape == (2, 3)   # cast
    assert b32.grad.dtype == np.float32 and b32.grad.shape == (3,)     # summed over the batch
    np.testing.assert_array_equal(x32.grad.data, np.full((2, 3), 2.0, np.float32))
    np.testing.assert_array_equal(b32.grad.data, np.full(3, 2.0, np.float32))


def test_vjp_gives_each_input_its_own_array_when_the_rule_passes_g_through():
    a = al.Tensor([1.0, 2.0], requires_grad=True)
    b = al.Tensor([3.0, 4.0], requires_grad=True)
    (a + b).backward(np.array([1.0, -1.0]))
    assert a.grad.data is not b.grad.data
    a.grad.data[:] = 0.0                                # b's gradient must not change
    np.testing.assert_array_equal(b.grad.data, [1.0, -1.0])
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    (x + x).sum().backward()                            # one input twice: accumulated
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_vjp_with_create_graph_runs_the_rules_on_tensors():
    x = al.Tensor([0.5, -1.0], requires_grad=True)
    y = (al.tanh(x) * x).sum()
    y.backward(create_graph=True)
    gx = x.grad
    assert gx.requires_grad
    t = np.tanh(x.data)
    np.testing.assert_allclose(gx.data, t + x.data * (1 - t * t), rtol=1e-12)
    assert al.gradgradcheck(lambda s: (al.tanh(s) * s * 0.5).sum(), [x])


# ---------------------------------------------------------------------------------------------
# unbroadcast: when only leading axes were added (a bias), it sums them without keepdims


@pytest.mark.parametrize("gshape, shape", [((5, 3), (3,)), ((2, 5, 3), (3,)), ((2, 5, 3), (5, 3)),
                                           ((4,), ()), ((2, 3), ()), ((2, 1, 3), (1, 3)),
                                           ((2, 4, 3), (1, 3)), ((4, 3), (4, 1))])
def test_unbroadcast_fast_case_equals_summing_every_broadcast_axis(gshape, shape):
    g = np.random.default_rng(4).standard_normal(gshape).astype(np.float32)
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and gshape[lead + i] != 1)
    want = g.sum(axis=axes, keepdims=True).reshape(shape)
    got = ops.unbroadcast(g, shape)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    t = ops.unbroadcast(al.Tensor(g, requires_grad=True), shape)   # a recorded cotangent
    assert isinstance(t, al.Tensor) and t.requires_grad
    np.testing.assert_array_equal(t.data, want)


def test_a_bias_gradient_through_create_graph_is_differentiable():
    b = al.Tensor([0.5, -1.0, 2.0], requires_grad=True)
    x = al.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert al.gradgradcheck(lambda s, t: ((s + t) ** 2).sum(), [x, b])


# ---------------------------------------------------------------------------------------------
# Adam's update runs in place through one scratch array: bit for bit the out-of-place formula


def _adam_reference(x, g, m, v, t, lr, b1, b2, eps, wd, decoupled, amsgrad, vmax):
    """The update as written before it went in place (on copies of the state)."""
    x, m, v = x.copy(), m.copy(), v.copy()
    if wd:
        if decoupled:
            x *= 1 - lr * wd
        else:
            g = g + wd * x
    m += (1 - b1) * (g - m)
    v *= b2
    v += (1 - b2) * (g * g)
    step_size = lr / (1 - b1 ** t)
    if amsgrad:
        v_used = vmax = np.maximum(v if vmax is None else vmax, v)
    else:
        v_used = v
    denom = np.sqrt(v_used)
    denom /= np.sqrt(1 - b2 ** t)
    denom += eps
    x -= step_size * (m / denom)
    return x, m, v, vmax


@pytest.mark.parametrize("cls, wd, amsgrad", [(al.optim.Adam, 0.0, False),
                                              (al.optim.Adam, 0.1, True),
                                              (al.optim.AdamW, 0.1, False)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 4), ()])
def test_adam_in_place_update_is_the_out_of_place_formula_bit_for_bit(cls, wd, amsgrad, dtype,
                                                                      shape):
    rng = np.random.default_rng(5)
    w = al.Tensor(np.asarray(rng.standard_normal(shape), dtype), requires_grad=True)
    opt = cls([w], lr=0.01, weight_decay=wd, amsgrad=amsgrad)
    x, m, v, vmax = w.data.copy(), np.zeros_like(w.data), np.zeros_like(w.data), None
    for t in range(1, 4):
        g = np.asarray(rng.standard_normal(shape), dtype)
        w.grad = al.Tensor(g.copy())
        opt.step()
        x, m, v, vmax = _adam_reference(x, g, m, v, t, 0.01, 0.9, 0.999, 1e-8, wd,
                                        cls is al.optim.AdamW, amsgrad, vmax)
        np.testing.assert_array_equal(w.data, x)
        np.testing.assert_array_equal(w.grad.data, g)        # the gradient is not spent


_N = 4097   # reduce.SMALL + 1 (checked below)


@pytest.mark.parametrize("shape, axis, keepdims, big", [
    ((3, 5), None, False, False), ((3, 5), 0, True, False), ((3, 5), -1, False, False),
    ((2, 3, 4), (0, -1), False, False), ((), None, False, False), ((), 0, True, False),
    ((_N, 3), None, False, True), ((_N, 3), 0, True, True), ((3, _N), -1, False, True),
    ((2, _N, 4), (0, -1), False, True), ((_N,), 0, False, True)])
def test_sum_vjp_fresh_array_below_small_and_view_above_agree(shape, axis, keepdims, big):
    # up to reduce.SMALL elements the sum's cotangent is spread into a fresh array, above it a
    # broadcast view: the same values either way, and the leaf's .grad is its own array
    from autograd_lite.ops import reduce
    assert _N == reduce.SMALL + 1
    x0 = np.random.default_rng(2).standard_normal(shape)
    x = al.Tensor(x0, requires_grad=True)
    s = x.sum(axis=axis, keepdims=keepdims)
    g = np.random.default_rng(3).standard_normal(s.shape)
    s.backward(g)
    axes = tuple(range(x0.ndim)) if axis is None else tuple(np.atleast_1d(axis) % max(x0.ndim, 1))
    expected = np.broadcast_to(np.expand_dims(g, axes) if not keepdims and x0.ndim else g, shape)
    np.testing.assert_array_equal(x.grad.data, expected)
    assert x.grad.data.flags.writeable and x.grad.data.base is None
    cot = reduce.reduce_sum.vjps[0](np.asarray(g), s.data, x0, axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(cot, expected)
    assert (cot.base is None) != big   # fresh below SMALL, a view of g above
