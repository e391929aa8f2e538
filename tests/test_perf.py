"""Correctness of the tuned hot paths (nothing here is timed: speed is measured in benchmarks/).

* the fused cross-entropy's VJP overwrites the forward's saved ``exp`` buffer with the gradient
  the first time; any later backward through the same node recomputes it, and must agree;
* ``Tensor._vjp``'s one-input fast path, cached Python-number constants, ``kept(axis=None)``.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import functional as F


def _logits(seed: int = 0, shape: tuple = (6, 5), dtype: type = np.float64) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _reference_grad(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_backward_twice_on_one_graph_is_exact_twice(dtype):
    z = al.Tensor(_logits(dtype=dtype), requires_grad=True)
    y = np.array([0, 4, 2, 2, 1, 3])
    loss = F.cross_entropy(z, y)
    loss.backward()
    first = z.grad.data.copy()
    np.testing.assert_allclose(first, _reference_grad(z.data.astype(np.float64), y),
                               rtol=1e-5 if dtype == np.float32 else 1e-12)
    loss.backward()            # the saved buffer is spent: recomputed, and accumulated
    np.testing.assert_allclose(z.grad.data, 2 * first, rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(z.grad.data, 3 * first, rtol=1e-6)


def test_the_spent_buffer_is_never_seen_again_by_a_later_backward():
    # the first backward's gradient is stored as the leaf's .grad (it is the saved buffer);
    # changing that .grad in place must not change what a second backward computes
    z = al.Tensor(_logits(1), requires_grad=True)
    y = np.array([1, 1, 0, 4, 2, 3])
    loss = F.cross_entropy(z, y, label_smoothing=0.1, weight=np.linspace(0.5, 2, 5))
    loss.backward()
    first = z.grad.data.copy()
    z.grad.data[...] = 1e6
    z.grad = None
    loss.backward()
    np.testing.assert_allclose(z.grad.data, first, rtol=1e-12)


def test_cross_entropy_gradient_through_a_shared_node_and_transforms():
    z0, y = _logits(2), np.array([0, 1, 2, 3, 4, 0])
    g = al.grad(lambda z: F.cross_entropy(z, y) + F.cross_entropy(z, y, fused=False))(z0)
    np.testing.assert_allclose(g, 2 * _reference_grad(z0, y), rtol=1e-10)
    # a Jacobian backpropagates one cotangent per row through the same fused node
    jac = al.jacobian(lambda z: F.cross_entropy(z, y, reduction="none"))(z0)
    composed = al.jacobian(lambda z: F.cross_entropy(z, y, reduction="none", fused=False))(z0)
    np.testing.assert_allclose(jac, composed, rtol=1e-10, atol=1e-14)
    # second order still recomputes the softmax differentiably
    assert al.gradgradcheck(lambda z: F.cross_entropy(z, y), [al.Tensor(z0, requires_grad=True)])


def test_cross_entropy_backward_from_threads_on_one_graph():
    z = al.Tensor(_logits(3, (64, 7)), requires_grad=True)
    y = np.arange(64) % 7
    loss = F.cross_entropy(z, y)
    results, errors = [], []

    def run():
        try:
            results.append(al.engine.cotangents(loss, [z])[0])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results:
        np.testing.assert_allclose(r, _reference_grad(z.data, y), rtol=1e-12)


def test_cross_entropy_arange_grids_are_cached_read_only_and_shape_specific():
    for n in (3, 5, 3):
        z = al.Tensor(_logits(4, (n, 4)), requires_grad=True)
        y = np.arange(n) % 4
        F.cross_entropy(z, y).backward()
        np.testing.assert_allclose(z.grad.data, _reference_grad(z.data, y), rtol=1e-12)
    index = np.zeros((3, 1), dtype=np.intp)
    rows, cols = F._along(index, 1)
    assert cols is index and rows.shape == (3, 1) and not rows.flags.writeable
    assert F._along(index, 1)[0] is rows          # cached


def test_one_input_fast_path_matches_finite_differences_and_skips_constants():
    x = al.Tensor([0.3, -1.2, 2.0], requires_grad=True)
    assert al.gradcheck(lambda t: al.tanh(t * 0.5).sum() + al.exp(t).sum(axis=0), [x])
    c = al.Tensor([1.0, 2.0, 3.0])         # a constant input: no VJP runs for it
    y = al.tanh(c) * x
    y.sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad.data, np.tanh([1.0, 2.0, 3.0]))


def test_cached_number_constants_keep_weak_dtypes_and_errors():
    x32 = al.Tensor(np.ones(2, np.float32), requires_grad=True)
    for _ in range(2):                      # the second time from the cache
        assert (x32 * 2.5).dtype == np.float32 and (2.5 * x32).dtype == np.float32
        assert (al.Tensor(np.array([1, 2], np.int8)) * 3).dtype == np.int8
    assert (x32 * -0.0).data.tolist() == [-0.0, -0.0]
    with pytest.raises(TypeError, match="mul"):
        x32 * [1, "a"]
    with pytest.raises(OverflowError, match="int8"):
        al.Tensor(np.array([1], np.int8)) * 1000


def test_sum_over_all_axes_backward_shapes():
    for shape in [(3,), (2, 3), (2, 1, 4)]:
        x = al.Tensor(np.ones(shape), requires_grad=True)
        (x.sum() * 2.0).backward()
        np.testing.assert_array_equal(x.grad.data, np.full(shape, 2.0))
