"""The graph and the backward driver: accumulation, fan-out, grad mode, hooks, deep graphs."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.engine import toposort


def test_diamond_graph_sums_both_paths():
    x = al.Tensor(3.0, requires_grad=True)
    a = x * 2.0
    b = x * x
    (a + b).backward()
    assert x.grad.item() == 2.0 + 2 * 3.0


def test_fan_out_of_one_node_to_many():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    y = (h * 2 + h * 3 + h).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 6 * np.exp([1.0, 2.0]))


def test_second_backward_doubles_leaf_gradients_exactly():
    x = al.Tensor(2.0, requires_grad=True)
    y = (x * 2) * 3
    y.backward()
    y.backward()
    assert x.grad.item() == 12.0   # micrograd gets 18 here


def test_intermediates_keep_no_gradient_unless_asked():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    kept = x * 5
    kept.retain_grad()
    (h.sum() + kept.sum()).backward()
    assert h.grad is None
    np.testing.assert_array_equal(kept.grad.data, [1.0, 1.0])


def test_retain_grads_keeps_every_intermediate_gradient():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    y.backward(retain_grads=True)
    np.testing.assert_allclose(h.grad.data, 2 * h.data)
    assert y.grad.item() == 1.0


def test_graph_outlives_backward_and_can_be_differentiated_again():
    x = al.Tensor([1.0, -2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    first = x.grad.data.copy()
    x.zero_grad()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, first)
    assert y.op is not None and y._parents


def test_no_grad_records_nothing_and_nests():
    x = al.Tensor([1.0], requires_grad=True)
    with al.no_grad():
        y = x * 2
        assert not al.is_grad_enabled()
        with al.enable_grad():
            z = x * 2
            assert al.is_grad_enabled()
        assert not al.is_grad_enabled()
    assert al.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad


def test_no_grad_is_a_decorator_too():
    x = al.Tensor([1.0], requires_grad=True)

    @al.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    assert al.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = {}
    started = threading.Event()
    release = threading.Event()

    def worker():
        with al.no_grad():
            started.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    started.wait(5)
    seen["main"] = al.is_grad_enabled()
    release.set()
    t.join()
    assert seen["main"] is True


def test_grad_mode_per_thread_while_both_threads_compute():
    """One thread records and backpropagates while another computes under no_grad, in lockstep
    (a barrier each round), so every operation of one overlaps the other's grad mode."""
    rounds = 200
    barrier = threading.Barrier(2, timeout=10)
    errors: list[str] = []

    def recording():
        x = al.Tensor(np.linspace(-1, 1, 6), requires_grad=True)
        for k in range(rounds):
            barrier.wait()
            x.grad = None
            (al.tanh(x * 2) * x).sum().backward()
            t = np.tanh(2 * x.data)
            if not np.allclose(x.grad.data, t + 2 * x.data * (1 - t * t)):
                errors.append(f"wrong gradient in round {k}")

    def not_recording():
        w = al.Tensor(np.ones(6), requires_grad=True)
        with al.no_grad():
            for k in range(rounds):
                barrier.wait()
                if (al.tanh(w * 2) * w).sum().requires_grad or al.is_grad_enabled():
                    errors.append(f"recorded under no_grad in round {k}")

    def run(f):
        try:
            f()
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            errors.append(f"{f.__name__}: {type(e).__name__}: {e}")
            barrier.abort()

    threads = [threading.Thread(target=run, args=(f,)) for f in (recording, not_recording)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors[:3]
    assert al.is_grad_enabled()


def test_mode_change_count_is_positive_exactly_inside_a_mode_change():
    """Recording reads its thread's flags only while some thread is inside a mode change
    (engine._CHANGED, one token per change): the count must be positive inside every one, back
    to 0 after, also when the block raises, when used as a decorator, and around a backward
    pass."""
    from autograd_lite import engine
    count = engine._CHANGED
    assert len(count) == 0
    x = al.Tensor([1.0], requires_grad=True)
    with al.no_grad():
        assert len(count) == 1 and not (x * 2).requires_grad
        with al.enable_grad(), al.detect_anomaly():
            assert len(count) == 3 and (x * 2).requires_grad
    assert len(count) == 0 and (x * 2).requires_grad
    with pytest.raises(ZeroDivisionError), al.no_grad():
        1 / 0
    assert len(count) == 0

    @al.no_grad()
    def f():
        return len(count), (x * 2).requires_grad
    assert f() == (1, False) and len(count) == 0
    seen = []
    y = x * 3
    h = y.register_hook(lambda g: seen.append(len(count)))
    y.sum().backward()
    h.remove()
    y.register_hook(lambda g: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        y.sum().backward()
    assert seen == [1] and len(count) == 0


def test_detach_cuts_the_graph():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).detach()
    assert not y.requires_grad and y.is_leaf
    z = (y * x).sum()
    z.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 4.0])


def test_hook_sees_and_replaces_gradient():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    handle = h.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_array_equal(seen[0], [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [20.0, 20.0])
    handle.remove()
    x.zero_grad()
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_hook_on_leaf_and_wrong_shape_error():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: np.ones(3))
    with pytest.raises(ValueError, match=r"hook .* returned a gradient: got shape"):
        (x * 1).sum().backward()


def test_backward_of_non_scalar_needs_grad():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"non-scalar output needs an explicit grad"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad: got shape \(3,\), expected"):
        y.backward(np.ones(3))
    y.backward(np.array([1.0, 0.5]))
    np.testing.assert_array_equal(x.grad.data, [2.0, 1.0])


def test_backward_on_constant_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        al.Tensor(1.0).backward()


def test_toposort_is_deterministic_and_parents_first():
    x = al.Tensor(1.0, requires_grad=True, name="x")
    a = x * 2
    b = x + 1
    y = a * b
    order = toposort(y)
    assert order[0] is y and order[-1] is x
    pos = {id(n): i for i, n in enumerate(order)}
    for n in order:
        for p in n._parents:
            if p.requires_grad:
                assert pos[id(p)] > pos[id(n)]
    assert [id(n) for n in toposort(y)] == [id(n) for n in order]


def test_million_op_chain_backward_without_recursion():
    x = al.Tensor(0.5, requires_grad=True)
    y = x
    n = 1_000_000
    assert n > sys.getrecursionlimit() * 100
    for _ in range(n):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_backward_visits_each_node_once_even_with_exponentially_many_paths(monkeypatch):
    # y = y + y, 200 times: 2**200 paths from the root to x. A driver that walked paths (or
    # re-sorted per node) would never finish; ours runs each node's VJP exactly once.
    calls = []
    original = al.Tensor._vjp
    monkeypatch.setattr(al.Tensor, "_vjp", lambda self, g, cg: calls.append(self) or
                        original(self, g, cg))
    x = al.Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(200):
        y = y + y
    y.backward()
    assert len(calls) == 200 and len({id(n) for n in calls}) == 200
    assert x.grad.item() == 2.0 ** 200


def test_cotangents_are_released_after_use():
    import weakref

    x = al.Tensor(np.ones(1000), requires_grad=True)
    h = x * 2
    arrays = []
    h.register_hook(lambda g: arrays.append(weakref.ref(g._data)))   # the cotangent of h itself
    alive_at_x = []
    x.register_hook(lambda g: alive_at_x.append(arrays[0]() is not None))  # visited after h
    loss = h.exp().sum()
    loss.backward()
    assert len(arrays) == 1
    assert alive_at_x == [False]     # released during the pass, as soon as h's VJP used it
    # Nothing (no dict, no node attribute) keeps the intermediate cotangent once backward
    # returns, while the graph itself is still alive. Reference counting alone frees it.
    assert arrays[0]() is None
    assert h.grad is None and loss.requires_grad


def test_nodes_are_dict_keys_by_identity_never_by_elementwise_eq(monkeypatch):
    # toposort and backward key their sets/dicts by the nodes themselves: Tensor's == is
    # elementwise (it returns a Tensor), so it must never be called there.
    def boom(self, other):
        raise AssertionError("Tensor.__eq__ called by the engine")

    x = al.Tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 2, x * 2                      # equal values, distinct nodes
    y = (a * b + a).sum()
    monkeypatch.setattr(al.Tensor, "__eq__", boom)
    order = toposort(y)
    assert len(order) == len({id(n) for n in order})
    y.backward(retain_grads=True)
    (gx,) = al.engine.cotangents(y, [x])
    np.testing.assert_allclose(x.grad.data, 8 * x.data + 2)
    np.testing.assert_allclose(gx.data, x.grad.data)


def test_retain_grad_and_hooks_still_run_on_the_fast_path():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    k = h * h
    k.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    k.sum().backward()
    np.testing.assert_allclose(k.grad.data, [1.0, 1.0])
    assert h.grad is None                    # not retained: only k asked
    np.testing.assert_allclose(seen[0], 2 * h.data)
