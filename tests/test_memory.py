"""Memory: a long training run stays flat, and a dropped graph is freed by reference counting.

Graphs hold no reference cycles (a node refers only to its parents, its op and its params), so
dropping the output frees every node at once, with Python's cyclic garbage collector switched
off. The training test runs 1,000 steps of a small MLP under ``tracemalloc`` and compares step
100 with step 1,000 three ways:

* NumPy array data (NumPy's own tracemalloc domain): no growth at all. Leaking any array once per
  step would add at least 900 allocations.
* Python objects, counted by type: no type grows by 100 or more (a per-step leak adds 900).
* All traced memory: under 1 MiB. The growth measured is CPython's free lists filling up (freed
  1- and 2-tuples kept for reuse, capped at 2,000 per size: 144 KiB in the composed run, about
  0.5 KiB with the fused loss), not live objects; leaking one step's graph (about 30 KB here)
  would add 27 MB.
"""

from __future__ import annotations

import collections
import gc
import tracemalloc
import weakref
from collections.abc import Iterator

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import data, nn, optim
from autograd_lite.functional import cross_entropy


@pytest.fixture
def no_cyclic_gc() -> Iterator[None]:
    """Only reference counting may free anything inside the test."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _census() -> collections.Counter:
    return collections.Counter(type(o).__name__ for o in gc.get_objects())


def _numpy_bytes(snapshot: tracemalloc.Snapshot) -> int:
    only_numpy = [tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain)]
    return sum(s.size for s in snapshot.filter_traces(only_numpy).statistics("filename"))


@pytest.mark.parametrize("optimizer, fused", [("sgd", True), ("adam", False)])
def test_training_memory_stays_flat(optimizer, fused):
    split = data.load("moons")
    model = nn.MLP([2, 32, 32, 2], rng=0)
    opt = (optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "sgd"
           else optim.Adam(model.parameters(), lr=1e-2))
    loader = data.DataLoader(split.X_train, split.y_train, batch_size=32, shuffle=True, seed=0)

    def batches() -> Iterator:
        while True:
            yield from loader

    marks = {}
    stream = batches()
    tracemalloc.start()
    try:
        for step in range(1, 1001):
            xb, yb = next(stream)
            loss = cross_entropy(model(xb), yb, fused=fused)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step in (100, 1000):
                traced = tracemalloc.get_traced_memory()[0]
                marks[step] = (traced, _numpy_bytes(tracemalloc.take_snapshot()), _census())
    finally:
        tracemalloc.stop()
    (t100, np100, c100), (t1000, np1000, c1000) = marks[100], marks[1000]
    assert np1000 - np100 <= 0, f"NumPy data grew by {np1000 - np100} bytes"
    grown = {k: c1000[k] - c100[k] for k in c1000 if c1000[k] - c100[k] >= 100}
    assert not grown, f"objects accumulating: {grown}"
    assert t1000 - t100 < 2**20, f"traced memory grew by {t1000 - t100} bytes"
    assert loss.item() < 0.1      # it trained (moons is easy)


def _mlp_graph(fused: bool) -> tuple:
    model = nn.MLP([4, 8, 3], rng=0)
    x = np.random.default_rng(0).standard_normal((5, 4))
    logits = model(x.astype(np.float32))
    loss = cross_entropy(logits, np.array([0, 1, 2, 1, 0]), fused=fused)
    return model, logits, loss


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("mode", ["no backward", "backward", "retain_grads", "create_graph"])
def test_a_dropped_graph_is_freed_without_the_cyclic_gc(no_cyclic_gc, fused, mode):
    model, logits, loss = _mlp_graph(fused)
    nodes = [weakref.ref(n) for n in al.engine.toposort(loss, all_nodes=True)
             if n._parents]                     # every op node (leaves are the parameters)
    assert len(nodes) >= 6
    if mode != "no backward":
        loss.backward(retain_grads=mode == "retain_grads", create_graph=mode == "create_graph")
    del logits, loss
    if mode == "create_graph":     # the recorded gradients refer to the forward graph...
        assert any(r() is not None for r in nodes)
        model.zero_grad()          # ...until they are dropped
    alive = [r() for r in nodes if r() is not None]
    assert not alive, f"{len(alive)} nodes still alive: {alive[:3]}"


def test_hooks_and_names_hold_no_graph_alive(no_cyclic_gc):
    x = al.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="x")
    h = al.tanh(x * 2)
    h.name = "h"
    seen = []
    h.register_hook(lambda g: seen.append(g.shape))
    handle = x.register_hook(lambda g: g * 1.0)
    loss = (h * h).sum()
    loss.name = "loss"
    loss.backward()
    assert seen == [(2, 3)]
    ref_h, ref_loss = weakref.ref(h), weakref.ref(loss)
    del h, loss
    assert ref_h() is None and ref_loss() is None
    handle.remove()
    assert x.grad.shape == (2, 3)      # the leaf and its gradient live on


def test_a_dropped_scalar_graph_is_freed(no_cyclic_gc):
    W = al.scalars(np.array([[0.1, -0.2], [0.3, 0.4]]), name="W")
    X = np.array([[1.0, 2.0], [-1.0, 0.5]])
    loss = np.tanh(X @ W).sum()
    refs = [weakref.ref(n) for n in al.engine.toposort(loss) if n._parents]
    assert len(refs) > 8
    loss.backward()
    del loss
    assert all(r() is None for r in refs)
    assert al.grads(W).shape == (2, 2)


def test_gradients_do_not_keep_the_graph_alive(no_cyclic_gc):
    """``.grad`` after an ordinary backward is a leaf: it refers to no node of the graph."""
    x = al.Tensor(np.ones(3), requires_grad=True)
    y = al.exp(x) * 3
    ref = weakref.ref(y)
    y.sum().backward()
    del y
    assert ref() is None and x.grad.is_leaf
