"""The vectorised backward (autograd_lite.vectorize): Jacobians and Hessians from one batched
backward pass agree with the row-by-row path over every case of every op in the spec tables,
first order, second order (the batched rules of the ops in recorded VJPs) and under
``create_graph`` (a vectorised Jacobian inside ``grad``); Hessians against PyTorch and finite
differences; hooks, chunking and the per-slice fallback."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import ops, vectorize

from .spec import SPECS, cases, make_inputs

CASES = list(cases())
IDS = [f"{name}-{k}-{shapes}" for name, k, shapes, _ in CASES]
TOL = {"rtol": 1e-11, "atol": 1e-12}


def _setup(name, shapes, params, rng):
    spec = SPECS[name]
    xs = make_inputs(spec, shapes, rng)
    diff = spec.diff or (True,) * len(xs)
    nums = tuple(i for i, d in enumerate(diff) if d)
    return (lambda *ts: spec.fn(*ts, **params)), xs, nums


@pytest.fixture(params=["whole", "rows of 1"])
def chunked(request, monkeypatch):
    """The batch as one chunk, and as chunks of one row (B = 1: a rule that ignores the batch
    axis would pass B > 1 only by luck of broadcasting, and B = 1 only by luck of shapes)."""
    if request.param != "whole":
        monkeypatch.setattr(vectorize, "BUDGET", 1)


@pytest.mark.parametrize(("name", "k", "shapes", "params"), CASES, ids=IDS)
def test_jacobian_vectorised_equals_row_by_row(name, k, shapes, params, rng, chunked):
    f, xs, nums = _setup(name, shapes, params, rng)
    fast = al.jacobian(f, argnums=nums, vectorize=True)(*xs)
    slow = al.jacobian(f, argnums=nums, vectorize=False)(*xs)
    for a, b in zip(fast, slow):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, **TOL)


@pytest.mark.parametrize(("name", "k", "shapes", "params"), CASES, ids=IDS)
def test_second_order_vectorised_equals_row_by_row(name, k, shapes, params, rng):
    """The Hessian of ⟨f(x), w⟩ backpropagates a batch through the recorded VJPs of the op; a
    vectorised Jacobian inside ``grad`` runs the batched rules recorded (``create_graph``)."""
    f, xs, nums = _setup(name, shapes, params, rng)
    w = rng.normal(size=np.shape(f(*[al.Tensor(x) for x in xs]).data))
    i = nums[0]

    def scalar(x):
        return (f(*xs[:i], x, *xs[i + 1:]) * w).sum()

    def through_jacobian(x, vec):
        j = al.jacobian(lambda z: f(*xs[:i], z, *xs[i + 1:]), vectorize=vec)(x)
        return (j * rng_w).sum()

    rng_w = np.random.default_rng(k).normal(size=w.shape + xs[i].shape)
    np.testing.assert_allclose(al.hessian(scalar)(xs[i]),
                               al.hessian(scalar, vectorize=False)(xs[i]), **TOL)
    np.testing.assert_allclose(al.grad(lambda x: through_jacobian(x, True))(xs[i]),
                               al.grad(lambda x: through_jacobian(x, False))(xs[i]), **TOL)


def _mlp(theta, X, y, tanh):
    W1, b1, w2, b2 = theta[:8].reshape((4, 2)), theta[8:10], theta[10:12], theta[12:]
    r = tanh(X @ W1 + b1) @ w2 + b2 - y
    return (r * r).mean()


def test_hessian_matches_pytorch_and_finite_differences(rng):
    torch = pytest.importorskip("torch")
    theta, X, y = rng.normal(size=13) * 0.5, rng.normal(size=(6, 4)), rng.normal(size=6)
    h = al.hessian(lambda t: _mlp(t, X, y, al.tanh))(theta)
    tX, ty = torch.tensor(X), torch.tensor(y)
    expected = torch.autograd.functional.hessian(lambda t: _mlp(t, tX, ty, torch.tanh),
                                                 torch.tensor(theta), vectorize=True).numpy()
    np.testing.assert_allclose(h, expected, rtol=1e-10, atol=1e-13)
    g = al.grad(lambda t: _mlp(t, X, y, al.tanh))
    eps = 1e-6
    fd = np.stack([(g(theta + eps * e) - g(theta - eps * e)) / (2 * eps) for e in np.eye(13)])
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-8)


def test_nested_transforms_with_closures(rng):
    """A vectorised Hessian closing over an enclosing transform's variable, differentiated."""
    x0, a0 = rng.normal(size=3), 0.7

    def outer(a, vec):
        h = al.hessian(lambda x: (a * x ** 3).sum() + (x.sum() * a) ** 2, vectorize=vec)(x0)
        return (h * h).sum()

    fast = al.grad(lambda a: outer(a, True))(np.asarray(a0))
    assert np.isclose(fast, al.grad(lambda a: outer(a, False))(np.asarray(a0)), rtol=1e-12)
    d = 1e-6
    fd = (outer(al.Tensor(a0 + d), True).item() - outer(al.Tensor(a0 - d), True).item()) / (2 * d)
    assert np.isclose(fast, fd, rtol=1e-6)


def test_containers_and_several_argnums(rng):
    p = {"w": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    x = rng.normal(size=3)

    def f(p, x):
        return al.tanh(x @ p["w"] + p["b"]) * x.sum()

    fast = al.jacobian(f, argnums=(0, 1))(p, x)
    slow = al.jacobian(f, argnums=(0, 1), vectorize=False)(p, x)
    for key in ("w", "b"):
        np.testing.assert_allclose(fast[0][key], slow[0][key], **TOL)
    np.testing.assert_allclose(fast[1], slow[1], **TOL)


def test_an_output_that_ignores_an_input_and_the_identity():
    j = al.jacobian(lambda x, y: x * 2, argnums=(0, 1))(np.ones(2), np.ones(3))
    np.testing.assert_array_equal(j[1], np.zeros((2, 3)))
    np.testing.assert_array_equal(al.jacobian(lambda x: x)(np.ones((2, 2))),
                                  np.eye(4).reshape(2, 2, 2, 2))
    assert al.jacobian(lambda x: x[:0])(np.ones(3)).shape == (0, 3)


def test_a_graph_with_hooks_falls_back_to_rows():
    seen = []

    def f(x):
        y = x * x
        y.register_hook(lambda g: seen.append(g.shape))
        return y * 3

    np.testing.assert_allclose(al.jacobian(f)(np.array([1.0, 2.0])), np.diag([6.0, 12.0]))
    assert seen == [(2,), (2,)]        # each hook saw one row's gradient, never a batch


def test_ops_without_a_batched_rule_run_slice_by_slice(rng, monkeypatch):
    """Every op stays correct with ``batch=False``: the plain VJP per slice."""
    for op in (ops.OPS["matmul"], ops.OPS["tanh"], ops.OPS["sum"], ops.OPS["getitem"]):
        monkeypatch.setattr(op, "batch", False)
    x, w = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    f = lambda w: al.tanh(x @ w)[:, 1:].sum(axis=0)   # noqa: E731
    np.testing.assert_allclose(al.hessian(lambda w: (f(w) ** 2).sum())(w),
                               al.hessian(lambda w: (f(w) ** 2).sum(), vectorize=False)(w), **TOL)
    np.testing.assert_allclose(al.jacobian(f)(w), al.jacobian(f, vectorize=False)(w), **TOL)


def test_advanced_indices_apart_use_the_fallback(rng):
    x = rng.normal(size=(3, 4, 5))
    index = (np.array([0, 2]), slice(None), np.array([1, 4]))   # NumPy moves those axes first
    assert ops.shape.batched_index(index) is None
    f = lambda x: x[index] * 2.0   # noqa: E731
    np.testing.assert_allclose(al.jacobian(f)(x), al.jacobian(f, vectorize=False)(x), **TOL)


def test_a_wrong_batched_rule_raises_instead_of_fitting(monkeypatch):
    monkeypatch.setattr(ops.OPS["tanh"], "batch", (lambda g, out, x: g.sum(axis=0),))
    with pytest.raises(RuntimeError, match=r"tanh \(input 0\): the batched VJP returned shape "
                                           r"\(3, 3\)"):
        al.jacobian(al.tanh)(np.ones((3, 3)))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_dtypes_follow_the_inputs(dtype, rng):
    x = rng.normal(size=(2, 3)).astype(dtype)
    w = rng.normal(size=(3, 2)).astype(dtype)

    def f(x):
        return al.softmax(al.tanh(x @ w), axis=0).astype(np.float64).sum(axis=-1) * 2.0

    fast, slow = al.jacobian(f)(x), al.jacobian(f, vectorize=False)(x)
    assert fast.dtype == slow.dtype == dtype and fast.shape == (2, 2, 3)
    np.testing.assert_allclose(fast, slow, rtol=1e-3 if dtype == np.float16 else 1e-6)
    h = al.hessian(lambda x: (al.tanh(x) ** 2).sum())(x)
    assert h.dtype == dtype
    np.testing.assert_allclose(h, al.hessian(lambda x: (al.tanh(x) ** 2).sum(),
                                             vectorize=False)(x), rtol=1e-3, atol=1e-3)
