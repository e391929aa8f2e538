"""Transforms over containers (pytrees): dicts, lists and tuples of arrays, nested; the gradient
has the argument's structure, as in JAX and HIPS autograd."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import autograd_lite as al


def _loss(params, x):
    h = al.tanh(x @ params["layers"][0]["w"] + params["layers"][0]["b"])
    return ((h @ params["layers"][1]["w"]) ** 2).sum() + (params["scale"] * 0.5) ** 2


def _params(rng):
    return {"layers": [{"w": rng.normal(size=(3, 4)), "b": rng.normal(size=4)},
                       {"w": rng.normal(size=(4, 2))}],
            "scale": np.array(1.5)}


def test_grad_of_a_dict_returns_a_dict_of_the_same_structure(rng):
    params, x = _params(rng), rng.normal(size=(5, 3))
    g = al.grad(_loss)(params, x)
    assert set(g) == {"layers", "scale"} and isinstance(g["layers"], list)
    assert set(g["layers"][0]) == {"w", "b"} and set(g["layers"][1]) == {"w"}
    # the same gradient as differentiating each array on its own
    w0, b0, w1, s = (params["layers"][0]["w"], params["layers"][0]["b"],
                     params["layers"][1]["w"], params["scale"])
    flat = al.grad(lambda a, b, c, d: _loss({"layers": [{"w": a, "b": b}, {"w": c}],
                                              "scale": d}, x), argnums=(0, 1, 2, 3))(w0, b0, w1, s)
    for got, want in zip((g["layers"][0]["w"], g["layers"][0]["b"], g["layers"][1]["w"],
                          g["scale"]), flat):
        np.testing.assert_allclose(got, want, rtol=1e-12)
        assert isinstance(got, np.ndarray)


def test_grad_against_finite_differences_and_torch(rng):
    params, x = _params(rng), rng.normal(size=(5, 3))
    g = al.grad(_loss)(params, x)
    w = params["layers"][0]["w"]
    eps = 1e-6
    for idx in [(0, 0), (2, 3)]:
        up, dn = w.copy(), w.copy()
        up[idx] += eps
        dn[idx] -= eps
        f = [float(_loss({**params, "layers": [{"w": v, "b": params["layers"][0]["b"]},
                                                params["layers"][1]]}, al.Tensor(x)).data)
             for v in (up, dn)]
        assert abs((f[0] - f[1]) / (2 * eps) - g["layers"][0]["w"][idx]) < 1e-6
    torch = pytest.importorskip("torch")
    tp = {"layers": [{k: torch.tensor(v, requires_grad=True) for k, v in d.items()}
                     for d in params["layers"]],
          "scale": torch.tensor(params["scale"], requires_grad=True)}
    tx = torch.tensor(x)
    loss = ((torch.tanh(tx @ tp["layers"][0]["w"] + tp["layers"][0]["b"])
             @ tp["layers"][1]["w"]) ** 2).sum() + (tp["scale"] * 0.5) ** 2
    loss.backward()
    np.testing.assert_allclose(g["layers"][1]["w"], tp["layers"][1]["w"].grad.numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(g["scale"], tp["scale"].grad.numpy(), rtol=1e-10)


def test_tuples_namedtuples_and_tuple_argnums(rng):
    Pair = collections.namedtuple("Pair", "a b")
    p, q = Pair(rng.normal(size=2), rng.normal(size=2)), (rng.normal(size=3),)
    gp, gq = al.grad(lambda p, q: (p.a * p.b).sum() + (q[0] ** 2).sum(), argnums=(0, 1))(p, q)
    assert isinstance(gp, Pair) and isinstance(gq, tuple) and len(gq) == 1
    np.testing.assert_allclose(gp.a, p.b)
    np.testing.assert_allclose(gq[0], 2 * q[0])


def test_value_and_grad_vjp_and_jacobian_take_containers(rng):
    d = {"u": rng.normal(size=2), "v": rng.normal(size=2)}
    value, g = al.value_and_grad(lambda d: (d["u"] * d["v"]).sum())(d)
    assert float(value) == pytest.approx(float((d["u"] * d["v"]).sum()))
    np.testing.assert_allclose(g["u"], d["v"])
    out, vjp_fn = al.vjp(lambda d: d["u"] * d["v"], d)
    (gd,) = vjp_fn(np.ones(2))
    np.testing.assert_allclose(gd["v"], d["u"])
    jac = al.jacobian(lambda d: d["u"] * d["v"])(d)
    np.testing.assert_allclose(jac["u"], np.diag(d["v"]))


def test_lists_of_numbers_stay_array_data():
    g = al.grad(lambda x: (x * x).sum())([1.0, 2.0])
    np.testing.assert_array_equal(g, [2.0, 4.0])
    g = al.grad(lambda x: (x * x).sum())([[1.0], [3.0]])
    assert g.shape == (2, 1)


def test_nested_transforms_over_containers(rng):
    d = {"a": np.array(0.3), "b": np.array(-0.7)}
    f = lambda d: al.tanh(al.tanh(d["a"]) + al.tanh(d["b"]))   # noqa: E731
    mixed = al.grad(lambda a: al.grad(lambda d: f(d))({"a": a, "b": d["b"]})["b"])(d["a"])
    eps = 1e-5

    def gb(a):
        return al.grad(lambda d: f(d))({"a": np.array(a), "b": d["b"]})["b"]
    fd = (gb(0.3 + eps) - gb(0.3 - eps)) / (2 * eps)
    assert abs(float(mixed) - float(fd)) < 1e-7


def test_bad_leaves_are_named():
    with pytest.raises(TypeError, match="grad: "):
        al.grad(lambda d: d["a"].sum())({"a": "text"})
    with pytest.raises(ValueError, match="jvp: the tangent tangents.0. must be a dict"):
        al.jvp(lambda d: d["a"], ({"a": np.ones(2)},), (np.ones(2),))
