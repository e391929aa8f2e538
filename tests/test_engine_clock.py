"""The clock, the backward order and shared constants.

Every recorded node and every tracked in-place write takes the next tick of one clock: a node's
inputs are older than it, so sorting by tick (newest first) is a topological order, and a write
is "after" a node exactly when its tick is larger. A Python number is one shared, read-only
constant node.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.engine import backward_order, toposort


def _random_graph(seed: int) -> tuple[list, al.Tensor]:
    rng = np.random.default_rng(seed)
    leaves = [al.Tensor(rng.standard_normal(3), requires_grad=True) for _ in range(3)]
    pool = list(leaves) + [al.Tensor(rng.standard_normal(3))]   # one constant input too
    for _ in range(40):
        a, b = (pool[i] for i in rng.integers(0, len(pool), 2))
        pool.append([a * b, a + 0.5, al.tanh(a) - b, a * 0.5][rng.integers(0, 4)])
    return leaves, sum(pool[-8:], al.Tensor(np.zeros(3))).sum()


@pytest.mark.parametrize("seed", range(5))
def test_backward_order_is_a_topological_order_of_the_same_nodes(seed):
    _, root = _random_graph(seed)
    order = backward_order(root)
    assert {id(n) for n in order} == {id(n) for n in toposort(root)}
    assert order[0] is root
    place = {id(n): i for i, n in enumerate(order)}
    for n in order:                       # every node before each of its inputs
        for p in n._parents:
            if p.requires_grad:
                assert place[id(n)] < place[id(p)]


def test_nodes_recorded_by_several_threads_keep_a_valid_order():
    x = al.Tensor(np.ones(2), requires_grad=True)
    outs = [None] * 4

    def work(i: int) -> None:
        y = x
        for _ in range(200):
            y = y * 1.001 + 0.001
        outs[i] = y

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = outs[0] + outs[1] + outs[2] + outs[3]
    total.sum().backward()
    assert np.allclose(x.grad.data, 4 * 1.001 ** 200)


def test_a_write_after_recording_is_caught_and_one_before_is_not():
    a = al.Tensor([1.0, 2.0])
    a.mul_(2.0)                          # before: the node reads the new values, fine
    x = al.Tensor([3.0, 4.0], requires_grad=True)
    y = (x * a).sum()
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]
    a.add_(1.0)                          # after: the gradient would use the new values
    with pytest.raises(RuntimeError, match="modified in place after mul recorded it"):
        y.backward()


def test_a_python_number_is_one_shared_read_only_constant():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    y, z = x * 0.5, x * 0.5
    c = y._parents[1]
    assert c is z._parents[1] and not c.requires_grad and not c._data.flags.writeable
    assert al.graph_stats(y + z).nodes == 8   # x, 0.5, 2 × (mul, result), add, result
    with pytest.raises(ValueError, match="read-only"):
        c.add_(1.0)
    with pytest.raises(ValueError, match="shared constant"):
        c.data = np.asarray(3.0)
    with pytest.raises(RuntimeError, match="shared constant"):
        c.requires_grad_()
    assert float(c.data) == 0.5
    assert (x * 0.5)._parents[1] is c and (x.astype(np.float32) * 0.5)._parents[1] is not c
