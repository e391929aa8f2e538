"""``jvp`` over containers: primals that are dicts, lists and tuples of arrays (nested), tangents
of the same structure, checked against ``torch.func.jvp`` and central finite differences, with
closures and inside other transforms; mismatched structures raise errors naming the place. And
``hessian`` of a container argument (nested blocks, as JAX)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import autograd_lite as al

from .trees import leaves, like

Pair = namedtuple("Pair", "w b")


def _model(params, x):
    """A small two-layer net reading a nested container: {"l1": (W, b), "l2": [W, b]}."""
    w1, b1 = params["l1"]
    w2, b2 = params["l2"]
    return al.tanh(x @ w1 + b1) @ w2 + b2


def _params(rng):
    return {"l1": (rng.normal(size=(3, 4)), rng.normal(size=4)),
            "l2": [rng.normal(size=(4, 2)), rng.normal(size=2)]}


def _finite_difference(f, primals, tangents, eps=1e-6):
    """(f(p + εv) − f(p − εv)) / 2ε over every leaf at once."""
    def shifted(sign):
        return [like(p, [a + sign * eps * v for a, v in zip(leaves(p), leaves(t))])
                for p, t in zip(primals, tangents)]
    hi = np.asarray(f(*shifted(1)).data)
    lo = np.asarray(f(*shifted(-1)).data)
    return (hi - lo) / (2 * eps)


def test_nested_dict_primal_matches_finite_differences(rng):
    params = _params(rng)
    x = rng.normal(size=(5, 3))
    v = like(params, [rng.normal(size=np.shape(a)) for a in leaves(params)])
    f = lambda p: _model(p, x)              # noqa: E731  (a closure over x)
    out, jv = al.jvp(f, (params,), (v,))
    np.testing.assert_allclose(out, _model(params, x).data, rtol=1e-12)
    np.testing.assert_allclose(jv, _finite_difference(f, (params,), (v,)), rtol=1e-6,
                               atol=1e-8)


def test_matches_torch_func_jvp(rng):
    torch = pytest.importorskip("torch")
    params = _params(rng)
    x = rng.normal(size=(5, 3))
    v = like(params, [rng.normal(size=np.shape(a)) for a in leaves(params)])
    out, jv = al.jvp(lambda p, xx: _model(p, xx), (params, x), (v, np.ones_like(x)))

    def torch_model(p, xx):
        return torch.tanh(xx @ p["l1"][0] + p["l1"][1]) @ p["l2"][0] + p["l2"][1]
    to_t = lambda tree: like(tree, [torch.tensor(a) for a in leaves(tree)])  # noqa: E731
    tout, tjv = torch.func.jvp(torch_model, (to_t(params), torch.tensor(x)),
                               (to_t(v), torch.ones(5, 3, dtype=torch.float64)))
    np.testing.assert_allclose(out, tout.numpy(), rtol=1e-12)
    np.testing.assert_allclose(jv, tjv.numpy(), rtol=1e-10, atol=1e-12)


def test_dict_keys_in_another_order_and_namedtuples(rng):
    w, b = rng.normal(size=3), rng.normal(size=3)
    vw, vb = rng.normal(size=3), rng.normal(size=3)
    f = lambda d: (d["w"] * al.exp(d["b"])).sum()        # noqa: E731
    _, jv1 = al.jvp(f, ({"w": w, "b": b},), ({"b": vb, "w": vw},))
    expected = (vw * np.exp(b)).sum() + (w * np.exp(b) * vb).sum()
    np.testing.assert_allclose(jv1, expected, rtol=1e-12)
    g = lambda p: (p.w * al.exp(p.b)).sum()              # noqa: E731
    _, jv2 = al.jvp(g, (Pair(w, b),), (Pair(vw, vb),))
    np.testing.assert_allclose(jv2, expected, rtol=1e-12)


def test_inside_other_transforms_with_closures(rng):
    """grad of a jvp over a dict, the dict closing over the outer argument: against finite
    differences of the same jvp."""
    w = rng.normal(size=3)
    v = {"a": rng.normal(size=3), "b": [rng.normal(size=3)]}

    def outer(s):
        f = lambda d: (al.sin(d["a"] * s) * d["b"][0]).sum()   # noqa: E731
        return al.jvp(f, ({"a": w, "b": [w * 2]},), (v,))[1]
    g = al.grad(outer)(np.array(0.7))
    eps = 1e-6
    fd = (np.asarray(outer(np.array(0.7 + eps))) - np.asarray(outer(np.array(0.7 - eps)))) / (
        2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-6)


@pytest.mark.parametrize(("tangent", "match"), [
    ({"a": np.ones(2)}, r"tangents\[0\] must be a dict with the primal's keys 'a', 'b', got "
                        r"keys 'a'"),
    ([np.ones(2), np.ones(2)], r"tangents\[0\] must be a dict with the primal's keys 'a', 'b', "
                               "got a list"),
    ({"a": np.ones(2), "b": (np.ones(2),)}, r"tangents\[0\]\['b'\] must be a list or tuple of 2 "
                                            "items, as the primal, got 1"),
    ({"a": np.ones(2), "b": (np.ones(2), np.ones(3))},
     r"tangent of shape \(3,\) for a primal of shape \(2,\) \(at tangents\[0\]\['b'\]\[1\]\)"),
    ({"a": {"x": np.ones(2)}, "b": (np.ones(2), np.ones(2))},
     r"the tangent tangents\[0\]\['a'\] is a dict of several arrays, but the primal there is "
     "one array"),
])
def test_mismatched_tangents_are_named(tangent, match):
    primal = {"a": np.ones(2), "b": (np.ones(2), np.ones(2))}
    with pytest.raises(ValueError, match=match):
        al.jvp(lambda d: d["a"] * d["b"][0] * d["b"][1], (primal,), (tangent,))


def test_primals_must_be_a_sequence():
    with pytest.raises(TypeError, match="jvp: primals must be a tuple or list"):
        al.jvp(al.tanh, np.ones(2), (np.ones(2),))


def test_hessian_over_a_nested_container_matches_torch(rng):
    torch = pytest.importorskip("torch")
    d = {"w": rng.normal(size=(2, 3)), "b": [rng.normal(size=3)]}
    x = rng.normal(size=(4, 2))
    h = al.hessian(lambda p, xx: al.tanh(xx @ p["w"] + p["b"][0]).sum() ** 2)(d, x)
    th = torch.autograd.functional.hessian(
        lambda w, b: torch.tanh(torch.tensor(x) @ w + b).sum() ** 2,
        (torch.tensor(d["w"]), torch.tensor(d["b"][0])))
    blocks = {("w", "w"): h["w"]["w"], ("w", "b"): h["w"]["b"][0],
              ("b", "w"): h["b"][0]["w"], ("b", "b"): h["b"][0]["b"][0]}
    index = {"w": 0, "b": 1}
    for (i, j), block in blocks.items():
        assert isinstance(block, np.ndarray)
        np.testing.assert_allclose(block, th[index[i]][index[j]].numpy(), rtol=1e-10, atol=1e-12)
    assert isinstance(h["b"], list) and h["w"]["b"][0].shape == (2, 3, 3)


def test_hessian_over_a_container_inside_grad():
    """d/ds of Σ diag ∂²(s·Σa³)/∂a² = Σ 6a, with s closed over by the inner function."""
    g = al.grad(lambda s: al.hessian(lambda p: (p["a"] ** 3 * s).sum())(
        {"a": np.array([1.0, 2.0])})["a"]["a"].sum())(np.array(2.0))
    np.testing.assert_allclose(g, 18.0)
