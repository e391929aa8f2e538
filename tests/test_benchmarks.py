"""The benchmarks compare like with like: every implementation computes the same gradients.

(Nothing here is timed; the timings themselves are only ever reported, never asserted.)
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import mlp_step, op_overhead


def test_op_overhead_chain_has_200_elementwise_ops_and_matches_numpy_forward():
    assert len(op_overhead.CHAIN) == op_overhead.N_OPS == 200
    x0 = np.random.default_rng(0).standard_normal(op_overhead.SHAPE)
    expected = x0
    for kind, c in op_overhead.CHAIN:
        expected = {"mul": lambda v: v * c, "add": lambda v: v + c, "tanh": np.tanh}[kind](expected)
    np.testing.assert_allclose(op_overhead.implementations(x0)["NumPy forward only"](),
                               expected.sum(), rtol=1e-12)


def test_op_overhead_gradient_matches_finite_differences():
    x0 = np.random.default_rng(1).standard_normal(op_overhead.SHAPE)
    grad = op_overhead._autograd_lite(x0)()
    f = op_overhead._numpy_forward
    eps = 1e-6
    numeric = [(f(x0 + eps * e)() - f(x0 - eps * e)()) / (2 * eps) for e in np.eye(x0.size)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-9)


@pytest.mark.parametrize("impl", ["PyTorch", "HIPS autograd"])
def test_op_overhead_references_agree(impl):
    pytest.importorskip({"PyTorch": "torch", "HIPS autograd": "autograd"}[impl])
    x0 = np.random.default_rng(2).standard_normal(op_overhead.SHAPE)
    fns = op_overhead.implementations(x0)
    other = fns[impl]()
    other = other.numpy() if hasattr(other, "numpy") else other
    np.testing.assert_allclose(fns["autograd_lite"](), other, rtol=1e-10)


def test_mlp_step_implementations_agree_with_hand_numpy():
    params, X, y = mlp_step.problem(seed=3)
    fns = mlp_step.implementations(params, X, y)
    assert "autograd_lite (composed loss)" in fns
    ref_loss, ref = fns["hand NumPy"]()
    assert [g.shape for g in ref] == [p.shape for p in params]
    for name, step in fns.items():
        loss, grads = step()
        grads = [np.asarray(g) for g in grads]
        assert abs(float(loss) - ref_loss) < 1e-5 * abs(ref_loss), name
        for g, r in zip(grads, ref):
            assert g.dtype == np.float32, name
            np.testing.assert_allclose(g, r, rtol=1e-3, atol=1e-6 * np.abs(r).max(),
                                       err_msg=name)
