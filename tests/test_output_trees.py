"""Issue 16 leftovers: ``vjp`` and ``jvp`` of functions returning containers of Tensors (output
pytrees, as JAX), ``hessian`` with a tuple ``argnums`` (nested blocks ``H[i][j]``), and
``nn.init.dirac_``; against torch.func / torch.autograd.functional / torch.nn.init where
installed and central finite differences."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import autograd_lite as al

from .trees import leaves, like

Out = namedtuple("Out", "act total")


def _f(x, w):
    """A nested output: {"h": (tanh(x w), sum of squares), "n": Out(...)}; float64 or float32."""
    h = al.tanh(x @ w)
    return {"h": (h, (h * h).sum()), "n": Out(act=al.exp(x) * 2.0, total=[(x * x).sum()])}


def _torch_f(torch):
    def f(x, w):
        h = torch.tanh(x @ w)
        return {"h": (h, (h * h).sum()), "n": Out(act=torch.exp(x) * 2.0, total=[(x * x).sum()])}
    return f


def _inputs(rng, dtype=np.float64):
    return rng.normal(size=(4, 3)).astype(dtype), rng.normal(size=(3, 2)).astype(dtype)


def _value(tree):
    return [np.asarray(leaf.data if isinstance(leaf, al.Tensor) else leaf)
            for leaf in leaves(tree)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_vjp_of_a_nested_output_matches_torch(rng, dtype):
    torch = pytest.importorskip("torch")
    x, w = _inputs(rng, dtype)
    out, vjp_fn = al.vjp(_f, x, w)
    assert type(out) is dict and type(out["n"]) is Out and type(out["n"].total) is list
    u = like(out, [rng.normal(size=np.shape(o)).astype(dtype) for o in leaves(out)])
    gx, gw = vjp_fn(u)
    assert gx.dtype == dtype and gw.dtype == dtype
    tout, tvjp = torch.func.vjp(_torch_f(torch), torch.tensor(x), torch.tensor(w))
    tu = like(out, [torch.tensor(a) for a in leaves(u)])
    tgx, tgw = tvjp(tu)
    tol = 1e-10 if dtype == np.float64 else 1e-5
    for a, b in zip(_value(out), leaves(tout)):
        np.testing.assert_allclose(a, b.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(gx, tgx.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(gw, tgw.numpy(), rtol=tol, atol=tol)


def test_vjp_of_an_output_tree_matches_finite_differences(rng):
    x, w = _inputs(rng)
    out, vjp_fn = al.vjp(_f, x, w)
    u = like(out, [rng.normal(size=np.shape(o)) for o in leaves(out)])
    gx, _ = vjp_fn(u)
    eps, fd = 1e-6, np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        hi, lo = _value(_f(al.Tensor(x + e), w)), _value(_f(al.Tensor(x - e), w))
        fd[i] = sum(((a - b) / (2 * eps) * c).sum() for a, b, c in zip(hi, lo, leaves(u)))
    np.testing.assert_allclose(gx, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_jvp_of_a_nested_output_matches_torch_and_finite_differences(rng, dtype):
    torch = pytest.importorskip("torch")
    x, w = _inputs(rng, dtype)
    vx, vw = _inputs(rng, dtype)
    out, dout = al.jvp(_f, (x, w), (vx, vw))
    assert type(dout) is dict and type(dout["n"]) is Out and type(dout["n"].total) is list
    assert all(d.dtype == dtype for d in leaves(dout))
    tout, tdout = torch.func.jvp(_torch_f(torch), (torch.tensor(x), torch.tensor(w)),
                                 (torch.tensor(vx), torch.tensor(vw)))
    tol = 1e-10 if dtype == np.float64 else 1e-5
    for a, b in zip(leaves(dout), leaves(tdout)):
        np.testing.assert_allclose(a, b.numpy(), rtol=tol, atol=tol)
    if dtype == np.float64:
        eps = 1e-6
        hi = _value(_f(al.Tensor(x + eps * vx), al.Tensor(w + eps * vw)))
        lo = _value(_f(al.Tensor(x - eps * vx), al.Tensor(w - eps * vw)))
        for a, b, c in zip(leaves(dout), hi, lo):
            np.testing.assert_allclose(a, (b - c) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_output_trees_with_closures_inside_grad(rng):
    """grad through a jvp and a vjp whose outputs are tuples, the functions closing over the
    outer argument ``s``: against finite differences of the same expression."""
    x, v = rng.normal(size=3), rng.normal(size=3)

    def outer(s):
        f = lambda y: (al.sin(y * s), (y * s * s).sum())          # noqa: E731
        _, (d1, d2) = al.jvp(f, (x,), (v,))
        _, vjp_fn = al.vjp(f, x)
        (g,) = vjp_fn((np.ones(3), np.array(2.0)))
        return d1.sum() + d2 + (g * g).sum()
    g = al.grad(outer)(np.array(0.7))
    eps = 1e-6
    fd = (np.asarray(outer(np.array(0.7 + eps))) - np.asarray(outer(np.array(0.7 - eps)))) / (
        2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-6)


def test_output_leaves_that_do_not_depend_on_the_input_get_zeros():
    out, vjp_fn = al.vjp(lambda x: (x * 2, al.Tensor(np.ones(2))), np.ones(3))
    np.testing.assert_array_equal(vjp_fn((np.ones(3), np.ones(2)))[0], np.full(3, 2.0))
    _, vjp_fn = al.vjp(lambda x: [al.Tensor(np.ones(2))], np.ones(3))
    np.testing.assert_array_equal(vjp_fn([np.ones(2)])[0], np.zeros(3))
    _, dout = al.jvp(lambda x: (x * 2, al.Tensor(np.ones(2))), (np.ones(3),), (np.ones(3),))
    np.testing.assert_array_equal(dout[0], np.full(3, 2.0))
    np.testing.assert_array_equal(dout[1], np.zeros(2))


@pytest.mark.parametrize(("u", "exc", "match"), [
    ({"a": np.ones(2)}, ValueError,
     r"vjp: the upstream gradient u must be a dict with the output's keys 'a', 'b', got keys "
     "'a'"),
    ({"a": np.ones(2), "b": [np.ones(3)]}, ValueError,
     r"vjp: the upstream gradient u\['b'\] must be a list or tuple of 2 items, as the output, "
     "got 1"),
    ({"a": np.ones(2), "b": (np.ones(3), np.ones(2))}, ValueError,
     r"vjp: the upstream gradient has shape \(2,\), but f's output has shape \(\) "
     r"\(at u\['b'\]\[1\]\)"),
    ({"a": (np.ones(2), np.ones(2)), "b": (np.ones(3), 1.0)}, ValueError,
     r"vjp: the upstream gradient u\['a'\] is a tuple of several arrays, but the output there "
     "is one array"),
])
def test_mismatched_upstream_gradients_are_named(u, exc, match):
    _, vjp_fn = al.vjp(lambda x: {"a": x[:2], "b": (x * 3, x.sum())}, np.ones(3))
    with pytest.raises(exc, match=match):
        vjp_fn(u)


def test_non_tensor_leaf_in_the_output_is_a_clear_error():
    with pytest.raises(TypeError, match=r"vjp: f must return a Tensor \(or a container of "
                                        "Tensors\\).*got ndarray"):
        al.vjp(lambda x: (x, np.ones(2)), np.ones(2))
    with pytest.raises(TypeError, match=r"jvp: f must return a Tensor \(or a container"):
        al.jvp(lambda x: {"a": 1.0}, (np.ones(2),), (np.ones(2),))


# ---------------------------------------------------------------------------------------------
# hessian with a tuple argnums


def _g(x, y, c):
    return (al.sin(x) @ y * c).sum() + (x ** 2).sum() * (y ** 3).sum()


def test_hessian_with_tuple_argnums_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x, y, c = rng.normal(size=(2, 3)), rng.normal(size=3), 1.5
    H = al.hessian(_g, argnums=(0, 1))(x, y, c)
    tH = torch.autograd.functional.hessian(
        lambda a, b: (torch.sin(a) @ b * c).sum() + (a ** 2).sum() * (b ** 3).sum(),
        (torch.tensor(x), torch.tensor(y)))
    shapes = [x.shape, y.shape]
    for i in range(2):
        for j in range(2):
            assert H[i][j].shape == shapes[i] + shapes[j]
            np.testing.assert_allclose(H[i][j], tH[i][j].numpy(), rtol=1e-10, atol=1e-12)
    assert al.hessian(_g, argnums=(1,))(x, y, c)[0][0].shape == (3, 3)    # ((H,),) as JAX
    np.testing.assert_allclose(al.hessian(_g, argnums=(1, 0), vectorize=False)(x, y, c)[1][0],
                               H[0][1], rtol=1e-12)


def test_hessian_with_tuple_argnums_of_scalars_containers_and_closures(rng):
    H = al.hessian(lambda a, b: a ** 2 * b ** 3, argnums=(0, 1))(2.0, 3.0)   # plain numbers
    np.testing.assert_allclose(np.array(H, dtype=float), [[54.0, 108.0], [108.0, 72.0]])
    w = rng.normal(size=2)
    d = {"p": rng.normal(size=2), "q": np.array(0.3)}
    f = lambda d, x: (d["p"] * x * w).sum() * d["q"] + (x ** 2).sum()     # noqa: E731
    H = al.hessian(f, argnums=(0, 1))(d, rng.normal(size=2))
    np.testing.assert_allclose(H[0]["q"][1], d["p"] * w, rtol=1e-12)       # ∂²f/∂q∂x = p·w
    np.testing.assert_allclose(H[1][0]["p"], np.diag(w * d["q"]), rtol=1e-12)
    np.testing.assert_allclose(H[1][1], 2 * np.eye(2), rtol=1e-12)
    assert H[0]["p"][0]["q"].shape == (2,)


# ---------------------------------------------------------------------------------------------
# nn.init.dirac_


@pytest.mark.parametrize(("shape", "groups"), [((4, 2, 3), 1), ((2, 5, 1), 1), ((6, 3, 3, 3), 2),
                                               ((8, 2, 3, 4), 4), ((4, 6, 2, 3, 5), 2),
                                               ((3, 3, 4, 4), 3)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dirac_matches_torch(shape, groups, dtype):
    torch = pytest.importorskip("torch")
    p = al.nn.Parameter(np.full(shape, 7.0, dtype=dtype))
    assert al.nn.init.dirac_(p, groups=groups) is p and p.dtype == dtype
    expected = torch.nn.init.dirac_(torch.full(shape, 7.0), groups=groups).numpy()
    np.testing.assert_array_equal(p.data, expected)


def test_dirac_conv_is_the_identity_on_the_channels():
    x = np.random.default_rng(0).normal(size=(1, 3, 5, 5))
    w = al.nn.init.dirac_(al.nn.Parameter(np.empty((3, 3, 3, 3))))
    np.testing.assert_allclose(al.conv2d(al.Tensor(x), w, padding=1).data, x, rtol=1e-12)


@pytest.mark.parametrize(("shape", "groups", "match"), [
    ((3, 3), 1, r"dirac_: needs a 3-, 4- or 5-D tensor, got \(3, 3\)"),
    ((3, 3, 3), 2, r"dirac_: groups must be a positive integer dividing dim 0 of shape "
                   r"\(3, 3, 3\), got 2"),
    ((4, 3, 3), 0, "got 0"),
])
def test_dirac_bad_input(shape, groups, match):
    with pytest.raises(ValueError, match=match):
        al.nn.init.dirac_(al.nn.Parameter(np.ones(shape)), groups=groups)
