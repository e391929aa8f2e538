"""NumPy functions on Tensors record the graph (or raise naming the function), and the PyTorch
spellings are aliases of one implementation each."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.interop_numpy import HANDLED, LATER

X = np.arange(1.0, 7.0).reshape(2, 3)

CASES = [
    ("sum", lambda x: np.sum(x), lambda x: x.sum()),
    ("sum axis", lambda x: np.sum(x, axis=-1, keepdims=True), lambda x: x.sum(-1, True)),
    ("mean", lambda x: np.mean(x, axis=0), lambda x: x.mean(0)),
    ("max", lambda x: np.max(x, axis=1), lambda x: x.max(1)),
    ("amax", lambda x: np.amax(x), lambda x: x.max()),
    ("min", lambda x: np.min(x, 0), lambda x: x.min(0)),
    ("amin", lambda x: np.amin(x, axis=(0, 1)), lambda x: x.min((0, 1))),
    ("dot", lambda x: np.dot(x, x.T), lambda x: x @ x.T),
    ("dot 1-D", lambda x: np.dot(x[0], x[1]), lambda x: (x[0] * x[1]).sum()),
    ("dot scalar", lambda x: np.dot(x, 2.0), lambda x: x * 2.0),
    ("where", lambda x: np.where(x.data > 3, x, -x), lambda x: al.where(x.data > 3, x, -x)),
    ("concatenate", lambda x: np.concatenate([x, x * 2], axis=1),
     lambda x: al.concatenate([x, x * 2], axis=1)),
    ("concatenate None", lambda x: np.concatenate([x, x], axis=None),
     lambda x: al.concatenate([x.reshape(-1), x.reshape(-1)])),
    ("stack", lambda x: np.stack([x, x], axis=-1), lambda x: al.stack([x, x], axis=-1)),
    ("clip", lambda x: np.clip(x, 2, 5), lambda x: x.clip(2, 5)),
    ("clip one-sided", lambda x: np.clip(x, None, 4), lambda x: x.clip(None, 4)),
    ("transpose", lambda x: np.transpose(x), lambda x: x.T),
    ("reshape", lambda x: np.reshape(x, (3, 2)), lambda x: x.reshape(3, 2)),
    ("squeeze", lambda x: np.squeeze(x[None], axis=0), lambda x: x),
    ("expand_dims", lambda x: np.expand_dims(x, (0, -1)), lambda x: x.reshape(1, 2, 3, 1)),
    ("broadcast_to", lambda x: np.broadcast_to(x, (4, 2, 3)), lambda x: x.broadcast_to((4, 2, 3))),
    ("swapaxes", lambda x: np.swapaxes(x, 0, 1), lambda x: x.T),
    ("copy", lambda x: np.copy(x), lambda x: x * 1.0),
    ("matmul (ufunc)", lambda x: np.matmul(x, x.T), lambda x: x @ x.T),
]


@pytest.mark.parametrize("name, numpy_call, tensor_call", CASES, ids=[c[0] for c in CASES])
def test_numpy_functions_record_the_graph(name, numpy_call, tensor_call, rng):
    x = al.Tensor(X.copy(), requires_grad=True)
    out = numpy_call(x)
    assert isinstance(out, al.Tensor) and out.requires_grad, f"{name} cut the graph"
    y = al.Tensor(X.copy(), requires_grad=True)
    ref = tensor_call(y)
    np.testing.assert_array_equal(out.data, ref.data)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    ref.backward(g)
    np.testing.assert_allclose(x.grad.data, y.grad.data, rtol=1e-12)


def test_value_functions_return_numpy_results():
    x = al.Tensor(X, requires_grad=True)
    assert np.shape(x) == (2, 3) and np.ndim(x) == 2 and np.size(x) == 6
    assert np.argmax(x) == 5 and np.allclose(x, X) and np.array_equal(x, X)
    np.testing.assert_array_equal(np.where(x > 3), np.where(X > 3))
    np.testing.assert_allclose(x, X)                 # NumPy's testing helpers see the values
    z = np.zeros_like(x)
    assert type(z) is np.ndarray and z.shape == (2, 3)    # a constant array, as on arrays


@pytest.mark.parametrize("call, match", [
    (lambda x: np.sum(x, out=np.zeros(())), r"np.sum on a Tensor: the argument out= is not"),
    (lambda x: np.mean(x, dtype=np.float32), r"np.mean on a Tensor: the argument dtype= is not"),
    (lambda x: np.histogram(x), r"np.histogram has no autograd_lite counterpart: on a Tensor "
     r"it would return a plain array cut from the graph. Use np.histogram\(t.data\)"),
    (lambda x: np.linalg.eig(x @ x.T), r"np.linalg.eig has no autograd_lite counterpart"),
    (lambda x: np.dot(x[None], x.T), r"np.dot on Tensors: shapes \(1, 2, 3\) and \(3, 2\)"),
    (lambda x: np.clip(x, np.zeros(3), 4), r"np.clip on a Tensor: array bounds"),
])
def test_unsupported_numpy_calls_are_clear_errors(call, match):
    with pytest.raises(TypeError, match=match):
        call(al.Tensor(X, requires_grad=True))


def test_functions_added_later_are_found_by_name():
    x = al.Tensor(X, requires_grad=True)
    for name in sorted(LATER):
        if hasattr(al, name) and name in ("var", "std", "cumsum", "prod", "flip"):
            out = getattr(np, name)(x)
            assert isinstance(out, al.Tensor)
            np.testing.assert_allclose(out.data, getattr(np, name)(X), rtol=1e-12)
    assert np.sum in HANDLED and np.einsum not in HANDLED


# -- PyTorch spellings -------------------------------------------------------------------------


def test_dim_and_keepdim_are_aliases_of_axis_and_keepdims():
    x = al.Tensor(X, requires_grad=True)
    for name in ("sum", "max", "min", "logsumexp", "mean"):
        a = getattr(x, name)(dim=1, keepdim=True)
        b = getattr(x, name)(axis=1, keepdims=True)
        np.testing.assert_array_equal(a.data, b.data)
        np.testing.assert_array_equal(getattr(al, name)(x, dim=0).data,
                                      getattr(al, name)(x, axis=0).data)
        with pytest.raises(TypeError, match=f"{name}: give axis= or its alias dim=, not both"):
            getattr(x, name)(axis=0, dim=1)
        with pytest.raises(TypeError, match="give keepdims= or its alias keepdim=, not both"):
            getattr(x, name)(keepdims=True, keepdim=True)


def test_every_axis_argument_has_the_dim_spelling():
    """PyTorch users type dim=: every public function and Tensor method with an axis takes it
    (cross_entropy and nll_loss excepted: PyTorch's have no dim either)."""
    import inspect

    from autograd_lite.ops.spellings import takes_dim_alias
    missing = [n for n in al.__all__ if takes_dim_alias(getattr(al, n, None))]
    missing += [f"Tensor.{n}" for n in dir(al.Tensor)
                if not n.startswith("_") and takes_dim_alias(getattr(al.Tensor, n))]
    assert sorted(missing) == ["cross_entropy", "nll_loss"]
    x = al.Tensor(X, requires_grad=True)
    checks = [(x.softmax(dim=0), x.softmax(0)), (al.log_softmax(x, dim=0), al.log_softmax(x, 0)),
              (x.cumsum(dim=1), x.cumsum(1)), (al.stack([x, x], dim=1), al.stack([x, x], 1)),
              (x.unsqueeze(dim=1), x.unsqueeze(1)),
              (x.var(dim=1, keepdim=True), x.var(1, keepdims=True)),
              (al.concatenate([x, x], dim=1), al.concatenate([x, x], 1)),
              (x.argmax(dim=0), x.argmax(0)), (x.norm(dim=1), x.norm(axis=1)),
              (x.sort(dim=0), x.sort(0)), (al.flip(x, dim=1), al.flip(x, 1))]
    for a, b in checks:
        np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(TypeError, match="cumsum: give axis= or its alias dim=, not both"):
        x.cumsum(0, dim=1)
    with pytest.raises(TypeError, match="var: give keepdims= or its alias keepdim=, not both"):
        al.var(x, 0, keepdims=True, keepdim=True)
    assert "dim" in inspect.signature(al.softmax).parameters


def test_pytorch_method_aliases():
    x = al.Tensor(X.astype(np.float32), requires_grad=True)
    assert x.view(3, 2).shape == (3, 2) and x.view(-1).shape == (6,)
    np.testing.assert_array_equal(x.clamp(min=2.0, max=4.0).data, np.clip(X, 2, 4))
    np.testing.assert_array_equal(x.clamp(max=3.0).data, np.minimum(X, 3))
    c = x.clone()
    assert c is not x and c.data is not x.data and c.requires_grad
    assert x.float().dtype == np.float32 and x.double().dtype == np.float64
    assert x.to(np.float64).dtype == np.float64 and x.to("cpu") is x
    v = x[0]
    assert x.t().shape == (3, 2) and v.t() is v
    (c.sum() + x.double().sum() + x.t().sum() + x.view(6).sum()).backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 4.0))
    with pytest.raises(ValueError, match=r"t: expects a tensor with at most 2 dimensions"):
        al.Tensor(np.zeros((1, 2, 3))).t()
    assert al.cat([x, x], dim=1).shape == (2, 6) and al.cat([x, x]).shape == (4, 3)
    g = x.grad
    g.zero_()
    assert (g.data == 0).all()


def test_later_functions_are_looked_up_at_call_time(monkeypatch):
    x = al.Tensor(X, requires_grad=True)
    calls = []

    def cumsum(a, axis=None):
        calls.append(axis)
        return a * 2.0

    monkeypatch.setattr(al, "cumsum", cumsum, raising=False)
    out = np.cumsum(x, axis=1)
    assert calls == [1] and isinstance(out, al.Tensor) and out.requires_grad
    with pytest.raises(TypeError, match="np.cumsum on a Tensor: out= is not supported"):
        np.cumsum(x, out=np.zeros(6))
