"""The composite shape and indexing functions: forward against NumPy, gradients against
PyTorch and finite differences, second derivatives."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al


def _check(f, tf, xs, rng, *, second=True):
    """Forward and gradient of ``f`` against PyTorch's ``tf``, then finite differences."""
    torch = pytest.importorskip("torch")
    ts = [al.Tensor(x, requires_grad=True) for x in xs]
    out = f(*ts)
    u = rng.normal(size=out.shape)
    out.backward(u)
    txs = [torch.tensor(x, requires_grad=True) for x in xs]
    tout = tf(*txs)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    tout.backward(torch.tensor(u))
    for t, tt in zip(ts, txs):
        np.testing.assert_allclose(t.grad.data, tt.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert al.gradcheck(f, xs)
    if second:
        assert al.gradgradcheck(lambda *a: f(*a) * f(*a), xs)


PADS = [("constant", (1, 2)), ("constant", ((0, 1), (2, 0), (1, 1))), ("reflect", (2, 1)),
        ("reflect", ((0, 0), (1, 1), (4, 6))), ("replicate", (3, 1)),
        ("circular", ((0, 0), (0, 0), (2, 3))), ("circular", ((0, 0), (1, 1), (5, 0)))]


@pytest.mark.parametrize(("mode", "width"), PADS, ids=[f"{m}-{w}" for m, w in PADS])
def test_pad_matches_numpy_and_finite_differences(mode, width, rng):
    x = rng.normal(size=(2, 3, 4))
    np_mode = {"replicate": "edge", "circular": "wrap"}.get(mode, mode)
    np.testing.assert_array_equal(al.pad(x, width, mode).data, np.pad(x, width, np_mode))
    assert al.gradcheck(lambda t: al.pad(t, width, mode), [x])
    assert al.gradgradcheck(lambda t: al.pad(t, width, mode) ** 2, [x])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_matches_pytorch_on_the_last_axes(mode, rng):
    F = pytest.importorskip("torch.nn.functional")
    x = rng.normal(size=(2, 3, 5))
    _check(lambda t: al.pad(t, ((0, 0), (1, 2), (2, 1)), mode, **(
               {"value": 0.5} if mode == "constant" else {})),
           lambda t: F.pad(t, (2, 1, 1, 2), mode, **({"value": 0.5} if mode == "constant"
                                                        else {})), [x], rng, second=False)


def test_split_array_split_and_chunk(rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(7, 2))
    for spec in (7, [2, 5], [-3], [3, 3, 9]):
        ours = al.split(x, spec)
        assert [p.data.tolist() for p in ours] == [p.tolist() for p in np.split(x, spec)]
    for k in (2, 3, 4):
        assert [p.shape for p in al.array_split(x, k)] == [p.shape for p in np.array_split(x, k)]
        assert [p.shape for p in al.chunk(x, k)] == [tuple(p.shape) for p in
                                                      torch.chunk(torch.tensor(x), k)]
    w = [rng.normal(size=p.shape) for p in np.array_split(x, 3, axis=0)]
    assert al.gradcheck(lambda t: sum((p * wi).sum() for p, wi in
                                      zip(al.array_split(t, 3), w)), [x])
    assert [p.shape for p in al.split(x, 2, axis=-1)] == [(7, 1), (7, 1)]


def test_repeat_tile_flip_roll(rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(2, 3))
    _check(lambda t: al.repeat(t, 2, axis=1), lambda t: t.repeat_interleave(2, dim=1), [x], rng)
    _check(lambda t: al.repeat_interleave(t, [1, 0, 3], axis=-1),
           lambda t: t.repeat_interleave(torch.tensor([1, 0, 3]), dim=-1), [x], rng)
    _check(lambda t: al.repeat(t, 2), lambda t: t.reshape(-1).repeat_interleave(2), [x], rng)
    _check(lambda t: al.tile(t, (2, 1, 3)), lambda t: t.repeat(2, 1, 3), [x], rng)
    np.testing.assert_array_equal(al.tile(x, 2).data, np.tile(x, 2))
    _check(lambda t: al.flip(t, -1), lambda t: torch.flip(t, (-1,)), [x], rng)
    _check(lambda t: t.flip(), lambda t: torch.flip(t, (0, 1)), [x], rng)
    _check(lambda t: al.roll(t, 2, -1), lambda t: torch.roll(t, 2, -1), [x], rng)
    _check(lambda t: t.roll((1, -4), (0, 1)), lambda t: torch.roll(t, (1, -4), (0, 1)), [x], rng)
    _check(lambda t: al.roll(t, 4), lambda t: torch.roll(t, 4), [x], rng)


def test_diagonals_and_triangles(rng):
    torch = pytest.importorskip("torch")
    m = rng.normal(size=(3, 4))
    b = rng.normal(size=(2, 3, 4))
    v = rng.normal(size=3)
    for k in (0, 1, -2):
        _check(lambda t, k=k: al.diag(t, k), lambda t, k=k: torch.diag(t, k), [v], rng)
        _check(lambda t, k=k: al.diag(t, k), lambda t, k=k: torch.diag(t, k), [m], rng)
        _check(lambda t, k=k: al.triu(t, k), lambda t, k=k: torch.triu(t, k), [b], rng)
        _check(lambda t, k=k: t.tril(k), lambda t, k=k: torch.tril(t, k), [b], rng)
        _check(lambda t, k=k: al.trace(t, k), lambda t, k=k: torch.diagonal(t, k).sum(),
               [m], rng)
    _check(lambda t: al.diagonal(t, 1, -1, 0), lambda t: torch.diagonal(t, 1, -1, 0), [b], rng)
    np.testing.assert_array_equal(al.diagonal(b, -1, 2, 1).data, np.diagonal(b, -1, 2, 1))
    np.testing.assert_array_equal(al.trace(b, 0, 1, 2).data, np.trace(b, 0, 1, 2))
    assert al.triu(np.array([[np.inf, np.inf], [np.inf, 1.0]])).data.tolist() == [
        [np.inf, np.inf], [0.0, 1.0]]


def test_gather_scatter_add_and_index_add(rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(3, 4))
    idx = np.array([[0, 3], [2, 2], [-1, 0]])
    _check(lambda t: al.gather(t, 1, idx), lambda t: torch.gather(t, 1, torch.tensor(idx % 4)),
           [x], rng)
    idx0 = np.array([[2, 0, 1], [2, 2, 0]])
    _check(lambda t: t.gather(0, idx0), lambda t: torch.gather(t, 0, torch.tensor(idx0)),
           [x], rng)
    src = rng.normal(size=(2, 3))
    _check(lambda t, s: al.scatter_add(t, 0, idx0, s),
           lambda t, s: t.scatter_add(0, torch.tensor(idx0), s), [x, src], rng)
    _check(lambda t, s: t.scatter_add(-1, idx % 4, s),
           lambda t, s: t.scatter_add(-1, torch.tensor(idx % 4), s), [x, src.T.copy()], rng)
    big = rng.normal(size=(3, 4))   # src larger than index: only its leading block is used
    assert al.gradcheck(lambda t, s: al.scatter_add(t, 0, idx0, s), [x, big])
    np.testing.assert_allclose(al.scatter_add(x, 0, idx0, big).data,
                               al.scatter_add(x, 0, idx0, big[:2, :3]).data)
    ii = np.array([2, 0, 2, 2])
    source = rng.normal(size=(3, 4))
    _check(lambda t, s: al.index_add(t, 1, ii, s, alpha=0.5),
           lambda t, s: t.index_add(1, torch.tensor(ii), s, alpha=0.5), [x, source], rng)


def test_axes_flatten_meshgrid_and_stacking(rng):
    torch = pytest.importorskip("torch")
    b = rng.normal(size=(2, 3, 4))
    _check(lambda t: al.moveaxis(t, 0, -1), lambda t: torch.movedim(t, 0, -1), [b], rng)
    _check(lambda t: t.moveaxis((0, 2), (1, 0)), lambda t: torch.movedim(t, (0, 2), (1, 0)),
           [b], rng)
    assert al.moveaxis(b, (0, 1), (-1, -2)).shape == np.moveaxis(b, (0, 1), (-1, -2)).shape
    _check(lambda t: al.swapaxes(t, 0, 2), lambda t: torch.swapaxes(t, 0, 2), [b], rng)
    _check(lambda t: al.flatten(t, 1), lambda t: torch.flatten(t, 1), [b], rng)
    _check(lambda t: al.flatten(t, 0, -2), lambda t: torch.flatten(t, 0, -2), [b], rng)
    _check(lambda t: t.unflatten(-1, (2, -1)), lambda t: t.unflatten(-1, (2, -1)), [b], rng)
    a, c = rng.normal(size=3), rng.normal(size=2)
    for indexing in ("xy", "ij"):
        ours = al.meshgrid(a, c, indexing=indexing)
        for o, n in zip(ours, np.meshgrid(a, c, indexing=indexing)):
            np.testing.assert_array_equal(o.data, n)
        _check(lambda s, t, i=indexing: sum((g * (k + 1)) for k, g in
                                            enumerate(al.meshgrid(s, t, indexing=i))),
               lambda s, t, i=indexing: sum((g * (k + 1)) for k, g in
                                            enumerate(torch.meshgrid(s, t, indexing=i))),
               [a, c], rng)
    three = al.meshgrid(a, c, a[:2])
    assert [g.shape for g in three] == [g.shape for g in np.meshgrid(a, c, a[:2])]
    m = rng.normal(size=(2, 3))
    _check(lambda s, t: al.vstack([s, t]), lambda s, t: torch.vstack([s, t]), [m, a], rng)
    _check(lambda s, t: al.hstack([s, t]), lambda s, t: torch.hstack([s, t]), [m, m[:, :1]],
           rng)
