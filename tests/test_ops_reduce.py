"""Reductions, scans, sorting and norms beyond the spec table: zeros in ``prod``/``cumprod``,
ties, second derivatives, and the composite functions against NumPy and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import ops


def _torch_grad(f, x, u=None):
    torch = pytest.importorskip("torch")
    tx = torch.tensor(x, requires_grad=True)
    out = f(tx)
    out.backward(torch.ones_like(out) if u is None else torch.tensor(u))
    grad = np.zeros(x.shape) if tx.grad is None else tx.grad.numpy()   # None: no path (ord 0)
    return out.detach().numpy(), grad


def _ours(f, x, u=None):
    t = al.Tensor(x, requires_grad=True)
    out = f(t)
    out.backward(np.ones(out.shape) if u is None else u)
    return out.data, t.grad.data


def _agree(f, tf, x, rng, rtol=1e-10):
    out = np.asarray(f(al.Tensor(x)).data)
    u = rng.normal(size=out.shape)
    ours = _ours(f, x, u)
    theirs = _torch_grad(tf, x, u)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=rtol, atol=1e-12)


ZEROS = [np.array([2.0, 0.0, 3.0, 4.0]), np.array([0.0, 2.0, 0.0, 5.0]),
         np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0], [1.0, 2.0, -1.0]]), np.array(0.0)]


@pytest.mark.parametrize("x", ZEROS, ids=["one zero", "two zeros", "matrix", "0-d"])
def test_prod_with_zeros_matches_pytorch_and_finite_differences(x, rng):
    torch = pytest.importorskip("torch")
    _agree(lambda t: t.prod(), lambda t: torch.prod(t), x, rng)
    if x.ndim == 2:
        _agree(lambda t: t.prod(axis=-1), lambda t: torch.prod(t, -1), x, rng)
        _agree(lambda t: t.prod(axis=0, keepdims=True), lambda t: torch.prod(t, 0, True), x, rng)
    assert al.gradcheck(lambda t: t.prod(axis=-1 if x.ndim else None), [x])
    assert al.gradgradcheck(lambda t: t.prod(axis=-1 if x.ndim else None), [x])


def test_prod_second_derivatives_with_zero_zero_one_two_and_three_zeros_per_row(rng):
    x = rng.uniform(0.5, 1.5, size=(4, 5))
    x[1, 2] = 0.0
    x[2, [0, 3]] = 0.0
    x[3, [0, 2, 4]] = 0.0
    assert al.gradgradcheck(lambda t: t.prod(axis=1), [x])
    assert al.gradgradcheck(lambda t: t.prod(axis=(0, 1)), [x])
    assert al.gradgradcheck(lambda t: t.prod(axis=0, keepdims=True), [x])


def test_prod_gradient_with_a_zero_is_linear_in_the_axis_length():
    x = al.Tensor(np.r_[np.zeros(1), np.ones(200_000)], requires_grad=True)   # n² would be 4e10
    x.prod().backward()
    assert x.grad.data[0] == 1.0 and not x.grad.data[1:].any()


@pytest.mark.parametrize("x", ZEROS[:3], ids=["one zero", "two zeros", "matrix"])
def test_cumprod_with_zeros_matches_pytorch_and_finite_differences(x, rng):
    torch = pytest.importorskip("torch")
    _agree(lambda t: al.cumprod(t, axis=-1), lambda t: torch.cumprod(t, -1), x, rng)
    if x.ndim == 2:
        _agree(lambda t: al.cumprod(t, axis=0), lambda t: torch.cumprod(t, 0), x, rng)
    assert al.gradcheck(lambda t: al.cumprod(t, axis=-1), [x])
    assert al.gradgradcheck(lambda t: al.cumprod(t, axis=-1), [x])


def test_cumprod_with_zero_to_three_zeros_per_row_to_second_order(rng):
    torch = pytest.importorskip("torch")
    x = rng.uniform(0.5, 1.5, size=(6, 6)) * rng.choice([-1, 1], size=(6, 6))
    x[1, 0] = 0.0
    x[2, [1, 4]] = 0.0
    x[3, [0, 2, 5]] = 0.0
    x[4, 5] = 0.0
    x[5, [2, 3]] = 0.0
    _agree(lambda t: al.cumprod(t, axis=1), lambda t: torch.cumprod(t, 1), x, rng)
    _agree(lambda t: al.cumprod(t, axis=0), lambda t: torch.cumprod(t, 0), x, rng)
    assert al.gradgradcheck(lambda t: al.cumprod(t, axis=1), [x])
    assert al.gradgradcheck(lambda t: al.cumprod(t.T, axis=0), [x])
    big = al.Tensor(np.r_[np.ones(5), 0.0, np.ones(200_000)], requires_grad=True)
    al.cumprod(big).sum().backward()       # linear in the axis length (n² would be 4e10)
    assert big.grad.data[5] == 200_001 and big.grad.data[0] == 5.0


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "logcumsumexp", "prod"])
def test_scans_and_prod_second_derivatives(name, rng):
    x = rng.normal(size=(2, 3))
    f = getattr(al, name)
    assert al.gradgradcheck(lambda t: f(t, axis=1), [x])
    assert al.gradgradcheck(lambda t: f(t), [x])


def test_logcumsumexp_is_stable_for_large_inputs():
    x = al.Tensor([1000.0, 1000.0, -1000.0], requires_grad=True)
    out = al.logcumsumexp(x)
    out.sum().backward()
    np.testing.assert_allclose(out.data, [1000.0, 1000 + np.log(2), 1000 + np.log(2)])
    np.testing.assert_allclose(x.grad.data, [2.0, 1.0, 0.0])
    torch = pytest.importorskip("torch")
    wide = np.array([[-1000.0, 0.0, 5.0, -2000.0], [3.0, -800.0, 1.0, 2.0]])
    rng = np.random.default_rng(0)
    _agree(lambda t: al.logcumsumexp(t, axis=1), lambda t: torch.logcumsumexp(t, 1), wide, rng)
    assert al.gradgradcheck(lambda t: al.logcumsumexp(t, axis=1), [wide])


def test_vector_norm_and_indexing_second_derivatives(rng):
    x = rng.normal(size=(3, 4))
    for p in (1.0, 2.0, 3.0):
        assert al.gradgradcheck(lambda t, p=p: ops.OPS["vector_norm"](
            t, p=p, axis=-1, keepdims=False), [x])
    idx = np.array([[0, 2, 2], [1, 1, 3], [3, 0, 0]])
    assert al.gradgradcheck(lambda t: al.take_along_axis(t, idx, axis=1), [x])
    assert al.gradgradcheck(lambda t: ops.OPS["scatter_along"](t, indices=idx, axis=1,
                                                               shape=(3, 4)), [x[:, :3]])


# ---------------------------------------------------------------------------------------------
# Composites


@pytest.mark.parametrize("kw", [{}, {"axis": 0}, {"axis": -1, "keepdims": True},
                                {"axis": (0, 2)}, {"axis": 1, "correction": 1},
                                {"axis": None, "ddof": 1}])
def test_var_and_std_match_pytorch(kw, rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(2, 3, 4))
    c = kw.get("correction", kw.get("ddof", 0))
    axis = kw.get("axis")
    dim = tuple(range(3)) if axis is None else axis
    keep = kw.get("keepdims", False)
    for name in ("var", "std"):
        _agree(lambda t, name=name: getattr(al, name)(t, **kw),
               lambda t, name=name: getattr(torch, name)(t, dim=dim, correction=c, keepdim=keep),
               x, rng)
        np.testing.assert_allclose(getattr(al, name)(x, **kw).data,
                                   getattr(np, name)(x, axis=axis, ddof=c, keepdims=keep))
    assert al.gradgradcheck(lambda t: al.std(t, **kw), [x])


def test_sort_topk_and_argsort_follow_pytorch_with_ties(rng):
    torch = pytest.importorskip("torch")
    x = np.array([[3.0, 1.0, 3.0, 2.0, 1.0], [0.5, -1.0, 2.0, 2.0, 0.0]])
    for desc in (False, True):
        _agree(lambda t, d=desc: al.sort(t, axis=-1, descending=d),
               lambda t, d=desc: torch.sort(t, dim=-1, descending=d, stable=True).values, x, rng)
        np.testing.assert_array_equal(
            al.argsort(x, descending=desc).data,
            torch.sort(torch.tensor(x), descending=desc, stable=True).indices.numpy())
    _agree(lambda t: al.sort(t, axis=0), lambda t: torch.sort(t, dim=0, stable=True).values,
           x, rng)
    y = rng.normal(size=(3, 5))   # topk without ties (PyTorch leaves their order unspecified)
    for largest in (True, False):
        _agree(lambda t, g=largest: al.topk(t, 3, largest=g),
               lambda t, g=largest: torch.topk(t, 3, largest=g).values, y, rng)
    _agree(lambda t: t.topk(2, axis=0), lambda t: torch.topk(t, 2, dim=0).values, y, rng)
    assert al.sort(al.Tensor(2.0)).data == 2.0
    assert al.gradgradcheck(lambda t: al.sort(t) * al.sort(t), [y])


def test_cummax_and_cummin_follow_pytorch_at_ties(rng):
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 3.0, 3.0, 2.0, 5.0, 5.0], [2.0, 2.0, 1.0, 1.0, 0.0, 3.0]])
    for name in ("cummax", "cummin"):
        for axis in (-1, 0):
            _agree(lambda t, n=name, a=axis: getattr(al, n)(t, axis=a),
                   lambda t, n=name, a=axis: getattr(torch, n)(t, dim=a).values, x, rng)


@pytest.mark.parametrize("q", [0.0, 0.25, 0.5, 0.9, 1.0])
def test_quantile_and_median_match_numpy_and_pytorch(q, rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(3, 4))
    np.testing.assert_allclose(al.quantile(x, q).data, np.quantile(x, q))
    np.testing.assert_allclose(al.quantile(x, q, axis=1, keepdims=True).data,
                               np.quantile(x, q, axis=1, keepdims=True))
    _agree(lambda t: al.quantile(t, q, axis=0), lambda t: torch.quantile(t, q, dim=0), x, rng)
    np.testing.assert_allclose(al.median(x, axis=-1).data, np.median(x, axis=-1))


NORMS = [(None, None, (3, 4)), (1, None, (4,)), (np.inf, None, (4,)), (-np.inf, None, (4,)),
         (0, None, (4,)), (3, None, (4,)), (2, -1, (3, 4)), (1, 0, (3, 4)), (np.inf, 1, (3, 4)),
         (0.5, -1, (3, 4)), ("fro", None, (3, 4)), ("fro", (0, 1), (2, 3, 4)),
         (1, None, (3, 4)), (-1, (1, 0), (3, 4)), (np.inf, (0, 1), (3, 4)),
         (-np.inf, (-1, 0), (2, 3, 4)), (None, None, ())]


@pytest.mark.parametrize(("ord_", "axis", "shape"), NORMS,
                         ids=[f"{o}-{a}-{s}" for o, a, s in NORMS])
def test_norm_matches_numpy_and_pytorch(ord_, axis, shape, rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=shape)
    np.testing.assert_allclose(al.norm(x, ord_, axis).data, np.linalg.norm(x, ord_, axis),
                               rtol=1e-12)
    _agree(lambda t: al.norm(t, ord_, axis), lambda t: torch.linalg.norm(t, ord_, axis), x, rng)
    _agree(lambda t: al.norm(t, ord_, axis, keepdims=True),
           lambda t: torch.linalg.norm(t, ord_, axis, keepdim=True), x, rng)


def test_norm_subgradient_at_zero_is_zero():
    for ord_, axis in ((None, None), (1, -1), (3, -1), (np.inf, 0), ("fro", None), (2, None)):
        x = al.Tensor(np.zeros((2, 2)), requires_grad=True)
        al.norm(x.reshape(-1) if ord_ == 2 else x, ord_, axis).sum().backward()
        assert x.grad.data.tolist() == [[0.0, 0.0], [0.0, 0.0]], ord_
    x = al.Tensor(np.zeros(3), requires_grad=True)
    al.norm(x, 2).backward(create_graph=True)
    assert np.isfinite(x.grad.data).all()


def test_selections_without_gradient_match_numpy(rng):
    x = rng.normal(size=(3, 4)).round(0)
    for name in ("argmax", "argmin"):
        for axis, keep in ((None, False), (0, False), (-1, True)):
            np.testing.assert_array_equal(getattr(al, name)(x, axis, keep).data,
                                          getattr(np, name)(x, axis=axis, keepdims=keep))
    for name in ("any", "all"):
        for axis in (None, 0, (0, 1)):
            np.testing.assert_array_equal(getattr(al, name)(x, axis).data,
                                          getattr(np, name)(x, axis=axis))
    t = al.Tensor(x, requires_grad=True)
    assert t.argmax().dtype == np.int64 and not t.argmax().requires_grad
    assert t.amax(0).data.tolist() == x.max(0).tolist()
    assert al.amin(x, 1).data.tolist() == x.min(1).tolist()
