"""Property tests (hypothesis): broadcasting binary ops and reductions over random shapes."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as al

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
    "maximum": al.maximum,
}


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_broadcasting_binary_ops_match_finite_differences(shapes, op, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=shapes.input_shapes[0])
    b = rng.normal(size=shapes.input_shapes[1]) + 0.05  # avoid exact ties for maximum
    out = BINARY[op](al.Tensor(a), al.Tensor(b))
    assert out.shape == shapes.result_shape
    assert al.gradcheck(BINARY[op], [a, b], seed=seed, atol=1e-5, rtol=1e-4)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_reductions_match_numpy_and_finite_differences(shape, data):
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    keepdims = data.draw(st.booleans())
    reduce = data.draw(st.sampled_from(["sum", "mean", "max", "logsumexp"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.permutation(np.linspace(-2, 2, int(np.prod(shape)))).reshape(shape)  # no ties
    f = (lambda t: getattr(t, reduce)(axis=axis, keepdims=keepdims))
    ref = {"sum": np.sum, "mean": np.mean, "max": np.max,
           "logsumexp": lambda v, axis, keepdims: np.log(np.sum(np.exp(v), axis=axis,
                                                                keepdims=keepdims))}[reduce]
    np.testing.assert_allclose(f(al.Tensor(x)).data, ref(x, axis=axis, keepdims=keepdims),
                               rtol=1e-12)
    assert al.gradcheck(f, [x], atol=1e-5, rtol=1e-4)


@given(shapes=hnp.mutually_broadcastable_shapes(signature="(m,n),(n,p)->(m,p)",
                                                max_dims=2, max_side=3),
       seed=st.integers(0, 2**16))
def test_batched_matmul_gradients(shapes, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=shapes.input_shapes[0])
    b = rng.normal(size=shapes.input_shapes[1])
    assert al.gradcheck(lambda x, y: x @ y, [a, b], seed=seed)
