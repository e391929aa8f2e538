"""The library's row-block threads (``al.set_num_threads``) and the fused cross-entropy on them:
the same numbers on one thread and on several (nothing here is timed)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import threads


@pytest.fixture
def many_threads(monkeypatch):
    """Three threads, and blocks of any size worth one (so that tiny arrays split too)."""
    monkeypatch.setattr(threads, "MIN_BLOCK_BYTES", 1)
    al.set_num_threads(3)
    yield
    al.set_num_threads(1)


def test_run_blocks_raises_what_a_block_raised(many_threads):
    def fn(blocks):
        for rows in blocks:
            if rows.start > 0:
                raise ValueError(f"block {rows}")
    with pytest.raises(ValueError, match="block"):
        threads.run_blocks(fn, 9, 1, 9)


def test_one_thread_and_small_arrays_stay_on_the_calling_thread(many_threads):
    for n, nbytes in ((1, 1 << 30), (3, 0)):
        al.set_num_threads(n)
        calls = []
        threads.run_blocks(lambda blocks: calls.append((list(blocks),
                                                        threading.current_thread())), 8, 3, nbytes)
        assert calls == [([slice(0, 3), slice(3, 6), slice(6, 8)], threading.current_thread())]


@pytest.mark.parametrize("n", [0, -1, 1.5, True, "2"])
def test_set_num_threads_wants_a_positive_int(n):
    with pytest.raises(ValueError, match="set_num_threads: expected a positive int"):
        al.set_num_threads(n)


def _ce_run(z, y, g=None, **kw):
    t = al.Tensor(z, requires_grad=True)
    loss = al.cross_entropy(t, y, **kw)
    loss.backward(np.ones_like(loss.data) if g is None else g.reshape(loss.shape))
    return loss.data, t.grad.data


@pytest.mark.parametrize(("shape", "axis", "top"), [
    ((37, 11), -1, 0.0), ((37, 11), -1, 85.0), ((37, 11), -1, -100.0),
    ((37, 11), -1, {30: 95.0, 20: -120.0}), ((37, 11), -1, {1: 95.0}),
    ((5, 7, 6), 1, 0.0), ((5, 7, 6), 1, {4: 95.0}), ((5, 6, 7), -1, 3.0)])
@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.1}, {"upstream": True}])
def test_cross_entropy_is_the_same_on_several_threads_and_any_blocks(
        many_threads, monkeypatch, shape, axis, top, reduction, kw):
    # the kernel's path for large logits (exp unshifted, the max only where a row sum leaves the
    # safe range: every row, no row, or a few rows in a later block), blocks of 3 rows (37 is no
    # multiple of 3) on three threads against one block on one thread: the same numbers
    from autograd_lite.fused import cross_entropy as ce
    monkeypatch.setattr(ce, "SHIFT_ALL_BYTES", 0)
    rng = np.random.default_rng(0)
    z = rng.normal(size=shape).astype(np.float32)
    for row, offset in (top.items() if isinstance(top, dict) else [(slice(None), top)]):
        z[row] += offset
    c = shape[axis]
    y = rng.integers(0, c, size=tuple(n for i, n in enumerate(shape) if i != axis % len(shape)))
    kw = dict(kw)
    if kw.pop("upstream", False):          # g ≠ 1: the VJP's scaling pass in blocks too
        kw["g"] = rng.uniform(0.5, 2, y.shape if reduction == "none" else ()).astype(np.float32)
    monkeypatch.setattr(ce, "BLOCK_BYTES", 3 * z[0].nbytes)
    on_three = _ce_run(z, y, axis=axis, reduction=reduction, **kw)
    assert threads._STATE["pool"] is not None        # the blocks did go to the pool
    al.set_num_threads(1)
    monkeypatch.setattr(ce, "BLOCK_BYTES", z.nbytes)
    on_one = _ce_run(z, y, axis=axis, reduction=reduction, **kw)
    for a, b in zip(on_three, on_one):
        np.testing.assert_array_equal(a, b)          # each position's numbers depend on it alone
    assert np.isfinite(on_one[1]).all()


def test_run_blocks_hands_each_block_to_one_thread_whatever_the_count(many_threads):
    for n in (1, 3):
        al.set_num_threads(n)
        seen, slices = np.zeros(10, int), []

        def fn(blocks):
            for r in blocks:
                seen[r] += 1
                slices.append((r.start, r.stop))
        threads.run_blocks(fn, 10, 3, 10)
        np.testing.assert_array_equal(seen, np.ones(10, int))
        assert sorted(slices) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    threads.run_blocks(lambda blocks: seen.__setitem__(slice(None), len(list(blocks))), 0, 3, 0)
    assert (seen == 0).all()                         # no rows: one call, no block


@pytest.mark.parametrize("n_threads", [1, 3])
@pytest.mark.parametrize("top", [0.0, 90.0])          # exp(z) safe, and the shifted path
def test_fused_forward_and_backward_allocate_one_logits_sized_array(monkeypatch, n_threads,
                                                                     top):
    import tracemalloc
    monkeypatch.setattr(threads, "MIN_BLOCK_BYTES", 1)
    al.set_num_threads(n_threads)
    rng = np.random.default_rng(0)
    z = (rng.normal(size=(512, 200)) + top).astype(np.float32)
    y = rng.integers(0, 200, 512)
    try:
        tracemalloc.start()
        t = al.Tensor(z, requires_grad=True)
        al.cross_entropy(t, y).backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        al.set_num_threads(1)
    # the gradient, plus O(N), plus NumPy's ufunc buffers (64 KiB) in each running thread
    assert z.nbytes <= peak < z.nbytes + 64 * len(y) + 65536 * n_threads
    np.testing.assert_allclose(t.grad.data.sum(axis=1), 0, atol=1e-6)
