"""Linear algebra beyond the spec table: second derivatives of the square-matrix primitives,
and the composites ``outer``/``inner``/``dot``/``tensordot``/``slogdet`` against NumPy and
PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al

from .spec import SPECS, make_inputs
from .spec_linalg import _shift, _spd


@pytest.mark.parametrize("name", ["inv", "det", "logabsdet", "solve", "cholesky"])
def test_square_matrix_ops_second_derivatives(name, rng):
    spec = SPECS[name]
    for shapes, params in spec.cases[:2]:
        xs = make_inputs(spec, shapes, rng)
        assert al.gradgradcheck(lambda *ts: spec.fn(*ts, **params), xs)


def test_solve_and_slogdet_second_derivatives(rng):
    a, b, v = rng.normal(size=(3, 3)), rng.normal(size=(3, 2)), rng.normal(size=3)
    assert al.gradgradcheck(lambda s, t: al.solve(_shift(s), t), [a, b])
    assert al.gradgradcheck(lambda s, t: al.solve(_shift(s), t), [a, v])
    assert al.gradgradcheck(lambda s: al.slogdet(_shift(s))[1], [a])


def test_slogdet_matches_numpy_and_pytorch(rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(4, 3, 3))
    sign, logabs = al.slogdet(x)
    ns, nl = np.linalg.slogdet(x)
    np.testing.assert_array_equal(sign.data, ns)
    np.testing.assert_allclose(logabs.data, nl, rtol=1e-12)
    t = al.Tensor(x, requires_grad=True)
    al.slogdet(t)[1].sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    torch.linalg.slogdet(tx)[1].sum().backward()
    np.testing.assert_allclose(t.grad.data, tx.grad.numpy(), rtol=1e-10)


def test_cholesky_gradient_is_symmetric_as_pytorch(rng):
    torch = pytest.importorskip("torch")
    a = _spd(rng.normal(size=(3, 3)))
    u = rng.normal(size=(3, 3))
    t = al.Tensor(a, requires_grad=True)
    al.cholesky(t).backward(u)
    tx = torch.tensor(a, requires_grad=True)
    torch.linalg.cholesky(tx).backward(torch.tensor(u))
    np.testing.assert_allclose(t.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(t.grad.data, t.grad.data.T)


PRODUCTS = [("outer", (3,), (4,)), ("outer", (2, 2), (3,)), ("inner", (3,), (3,)),
            ("inner", (2, 3), (4, 3)), ("inner", (), (2, 3)), ("dot", (3,), (3,)),
            ("dot", (2, 3), (3, 4)), ("dot", (2, 3), (3,)), ("dot", (2, 4, 3), (5, 3, 2)),
            ("dot", (), (3,)), ("tensordot", (2, 3, 4), (3, 4, 5)),
            ("tensordot", (2, 3, 4), (4, 2))]


@pytest.mark.parametrize(("name", "sa", "sb"), PRODUCTS,
                         ids=[f"{n}-{a}-{b}" for n, a, b in PRODUCTS])
def test_products_match_numpy_and_finite_differences(name, sa, sb, rng):
    a, b = rng.normal(size=sa), rng.normal(size=sb)
    kw = {}
    if name == "tensordot":
        kw = {"axes": 2} if sb == (3, 4, 5) else {"axes": ([2, 0], [0, 1])}
    expected = getattr(np, name)(a, b, **kw)
    out = getattr(al, name)(a, b, **kw)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert al.gradcheck(lambda s, t: getattr(al, name)(s, t, **kw), [a, b])
    assert al.gradgradcheck(lambda s, t: getattr(al, name)(s, t, **kw) ** 2, [a, b])


def test_products_match_pytorch(rng):
    torch = pytest.importorskip("torch")
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 3, 5))
    t, s = al.Tensor(a, requires_grad=True), al.Tensor(b, requires_grad=True)
    al.tensordot(t, s, ([1, 2], [1, 0])).sum().backward()
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    torch.tensordot(ta, tb, ([1, 2], [1, 0])).sum().backward()
    np.testing.assert_allclose(t.grad.data, ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(s.grad.data, tb.grad.numpy(), rtol=1e-12)
    v, w = rng.normal(size=3), rng.normal(size=4)
    np.testing.assert_allclose(al.outer(v, w).data, torch.outer(torch.tensor(v),
                                                               torch.tensor(w)).numpy())
    assert al.Tensor(v).dot(v).data == pytest.approx(float(v @ v))
