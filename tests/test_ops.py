"""Every primitive in the op table: forward against NumPy, VJP against finite differences and
against PyTorch, over scalar, vector, matrix, batched and broadcasting shapes."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import ops

from .spec import SPECS, cases, make_inputs

CASES = list(cases())
IDS = [f"{name}-{k}-{shapes}" for name, k, shapes, _ in CASES]


def test_every_op_has_a_spec():
    assert set(ops.OPS) == set(SPECS), (
        f"ops without a spec: {sorted(set(ops.OPS) - set(SPECS))}; "
        f"specs without an op: {sorted(set(SPECS) - set(ops.OPS))}")


def test_every_op_documents_its_derivative():
    for name, op in ops.OPS.items():
        assert op.rules and all(r.strip() for r in op.rules), name


def _call(spec, xs, params):
    return spec.fn(*xs, **params)


@pytest.mark.parametrize(("name", "k", "shapes", "params"), CASES, ids=IDS)
def test_forward_matches_numpy(name, k, shapes, params, rng):
    spec = SPECS[name]
    xs = make_inputs(spec, shapes, rng)
    out = _call(spec, [al.Tensor(x) for x in xs], params)
    assert isinstance(out, al.Tensor)
    expected = np.asarray(spec.ref(*xs, **params))
    assert out.shape == expected.shape
    assert out.dtype == expected.dtype
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "k", "shapes", "params"), CASES, ids=IDS)
def test_vjp_matches_finite_differences(name, k, shapes, params, rng):
    spec = SPECS[name]
    xs = make_inputs(spec, shapes, rng)
    atol = spec.extra.get("atol", 1e-6)
    assert al.gradcheck(lambda *ts: _call(spec, ts, params), xs, eps=spec.extra.get("eps", 1e-6),
                        atol=atol, rtol=1e-5,
                        seed=k)


@pytest.mark.parametrize(("name", "k", "shapes", "params"), CASES, ids=IDS)
def test_gradient_shapes_and_dtypes_follow_inputs(name, k, shapes, params, rng):
    spec = SPECS[name]
    for dtype in (np.float32, np.float64):
        ts = [al.Tensor(x.astype(dtype), requires_grad=True)
              for x in make_inputs(spec, shapes, rng)]
        out = _call(spec, ts, params)
        out.backward(np.ones(out.shape, dtype=out.dtype))
        for t in ts:
            assert t.grad is not None
            assert t.grad.shape == t.shape
            assert t.grad.dtype == t.dtype


@pytest.mark.parametrize(("name", "k", "shapes", "params"), CASES, ids=IDS)
def test_matches_pytorch(name, k, shapes, params, rng):
    torch = pytest.importorskip("torch")
    spec = SPECS[name]
    if spec.torch is None:
        pytest.skip(f"{name} is internal (the VJP of getitem); checked by finite differences")
    xs = make_inputs(spec, shapes, rng)
    ts = [al.Tensor(x, requires_grad=True) for x in xs]
    out = _call(spec, ts, params)
    tx = [torch.tensor(x, requires_grad=True) for x in xs]
    tout = spec.torch(*tx, **params)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    u = rng.normal(size=out.shape)
    out.backward(u)
    tout.backward(torch.tensor(u))
    for t, tt in zip(ts, tx):
        np.testing.assert_allclose(t.grad.data, tt.grad.numpy(), rtol=1e-10, atol=1e-12)
