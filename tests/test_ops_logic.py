"""Predicates: NumPy's answers, boolean Tensors outside any graph."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al

X = np.array([[1.0, np.nan, -np.inf], [0.0, 2.0, np.inf]])
Y = np.array([1.0 + 1e-9, np.nan, 0.0])


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "logical_not"])
def test_unary_predicates_match_numpy(name):
    t = al.Tensor(X, requires_grad=True)
    out = getattr(al, name)(t)
    np.testing.assert_array_equal(out.data, getattr(np, name)(X))
    assert out.dtype == bool and not out.requires_grad
    np.testing.assert_array_equal(getattr(t, name)().data, out.data)


@pytest.mark.parametrize("name", ["equal", "not_equal", "less", "less_equal", "greater",
                                  "greater_equal", "logical_and", "logical_or", "logical_xor"])
def test_binary_predicates_broadcast_like_numpy(name):
    with np.errstate(invalid="ignore"):
        expected = getattr(np, name)(X, Y)
    out = getattr(al, name)(al.Tensor(X, requires_grad=True), Y)
    np.testing.assert_array_equal(out.data, expected)
    assert out.dtype == bool and not out.requires_grad


def test_isclose_and_allclose_match_numpy():
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.0, "atol": 1e-12}):
        np.testing.assert_array_equal(al.isclose(X, Y, **kw).data, np.isclose(X, Y, **kw))
        assert al.allclose(X, Y, **kw) == np.allclose(X, Y, **kw)
    assert al.Tensor([1.0, np.nan]).allclose([1.0, np.nan], equal_nan=True) is True
    assert al.allclose(al.Tensor([1.0]), 1.0 + 1e-6) is True
