"""The elementwise math functions and activations beyond the spec table: second derivatives,
``erf`` against ``math.erf``, stability at ±1e4 in float32, PyTorch's values at special points."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_lite as al

from .spec import make_inputs
from .spec_activations import SPECS as ACTIVATIONS
from .spec_math import SPECS as MATH

GRADGRAD = {**MATH, **ACTIVATIONS}


@pytest.mark.parametrize("name", sorted(GRADGRAD))
def test_second_derivatives_match_finite_differences(name, rng):
    spec = GRADGRAD[name]
    for shapes, params in spec.cases[:3:2]:          # a 0-d case and a (2, 3) case
        xs = make_inputs(spec, shapes, rng)
        assert al.gradgradcheck(lambda *ts: spec.fn(*ts, **params), xs, atol=1e-5, rtol=1e-4)


def test_erf_is_within_a_few_ulp_of_math_erf():
    x = np.concatenate([np.linspace(-7, 7, 20001), [0.0, -0.0, 1e-300, 2.0, -2.0, 1.0, 30.0]])
    ref = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(al.erf(x).data, ref, rtol=0, atol=1.1e-15)
    np.testing.assert_allclose(al.erf(x).data, ref, rtol=1.1e-15, atol=1e-300)
    refc = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(al.erfc(x).data, refc, rtol=4e-15, atol=1e-300)
    assert np.isnan(al.erf([np.nan]).data).all() and np.isnan(al.erfc([np.nan]).data).all()
    assert al.erf([np.inf, -np.inf]).data.tolist() == [1.0, -1.0]
    assert al.erf(np.float32([0.5])).dtype == np.float32


STABLE = ["gelu", "silu", "softplus", "mish", "logsigmoid", "softsign", "elu", "celu", "selu",
          "leaky_relu", "hardtanh", "relu6", "hardsigmoid", "hardswish", "erf", "erfc"]


@pytest.mark.parametrize("name", STABLE)
def test_activations_are_finite_at_plus_minus_1e4_in_float32(name):
    torch = pytest.importorskip("torch")
    x = al.Tensor(np.float32([-1e4, -100.0, -20.0, 20.0, 100.0, 1e4]), requires_grad=True)
    f = getattr(al, name)
    out = f(x)
    out.sum().backward()
    assert out.dtype == np.float32 and np.isfinite(out.data).all(), out
    assert np.isfinite(x.grad.data).all(), x.grad
    tf = getattr(torch.nn.functional, name, None) or getattr(torch.special, name)
    tx = torch.tensor(x.data, dtype=torch.float64, requires_grad=True)   # the float64 truth
    tout = tf(tx)
    tout.sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-6, atol=1e-30)


def test_gelu_tanh_is_stable_too():
    x = al.Tensor(np.float32([-1e4, 1e4]), requires_grad=True)
    out = al.gelu(x, approximate="tanh")
    out.sum().backward()
    assert out.data.tolist() == [0.0, 1e4] and x.grad.data.tolist() == [0.0, 1.0]


def test_rounding_functions_have_zero_gradient_even_at_their_jumps():
    for f in (al.sign, al.floor, al.ceil, al.round, al.trunc):
        x = al.Tensor([-1.5, 0.0, 0.5, 2.0], requires_grad=True)
        f(x).sum().backward()
        assert x.grad.data.tolist() == [0.0] * 4, f


def test_round_halves_to_even_and_sign_of_zero_is_zero():
    assert al.round([0.5, 1.5, 2.5, -0.5]).data.tolist() == [0.0, 2.0, 2.0, -0.0]
    assert al.sign([0.0, -3.0]).data.tolist() == [0.0, -1.0]


def test_remainder_operator_and_reflected_forms():
    x = al.Tensor([5.0, -5.0], requires_grad=True)
    assert (x % 3).data.tolist() == [2.0, 1.0]
    assert (7.0 % al.Tensor([4.0])).data.tolist() == [3.0]
    assert np.remainder(x, 3.0).data.tolist() == [2.0, 1.0]     # the NumPy ufunc route
    (x % 3).sum().backward()
    assert x.grad.data.tolist() == [1.0, 1.0]


def test_special_slopes_follow_pytorch():
    torch = pytest.importorskip("torch")
    points = [-3.0, -1.0, 0.0, 1.0, 3.0, 6.0]
    for name, kw in [("leaky_relu", {}), ("elu", {}), ("celu", {}), ("selu", {}),
                     ("hardtanh", {}), ("relu6", {}), ("hardsigmoid", {}), ("hardswish", {}),
                     ("softplus", {"beta": 1.0, "threshold": 1.0})]:
        x = al.Tensor(points, requires_grad=True)
        getattr(al, name)(x, **kw).sum().backward()
        tx = torch.tensor(points, dtype=torch.float64, requires_grad=True)
        getattr(torch.nn.functional, name)(tx, **kw).sum().backward()
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-7, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
@pytest.mark.parametrize("name", sorted(n for n in GRADGRAD if GRADGRAD[n].cases[0][0] == ((),)))
def test_low_precision_inputs_keep_their_dtype(name, dtype, rng):
    spec = GRADGRAD[name]
    shapes, params = spec.cases[2]
    xs = make_inputs(spec, shapes, rng)
    want = spec.fn(*[al.Tensor(x) for x in xs], **params).data
    ts = [al.Tensor(x.astype(dtype), requires_grad=True) for x in xs]
    out = spec.fn(*ts, **params)
    out.backward(np.ones(out.shape, dtype))
    assert out.dtype == dtype and all(t.grad.dtype == dtype for t in ts)
    tol = 1e-2 if dtype == np.float16 else 1e-5
    np.testing.assert_allclose(out.data, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_hard_activations_equal_pytorch_bit_for_bit(dtype):
    """hardsigmoid and hardswish use PyTorch's formula and rounding, so equal inputs give equal
    outputs, and a kink further on (``1 / hardswish(-1)`` is −3, where hardswish's gradient
    switches) falls on the same side in both; found by the fuzzer (seed 59884), where
    ``x·clip(x/6 + ½, 0, 1)`` gave −2.9999999999999996."""
    torch = pytest.importorskip("torch")
    x = (np.random.default_rng(0).normal(size=20_000) * 4).astype(dtype)
    x[:6] = [-3, 3, -1, 0, 6, -6]
    for name in ("hardsigmoid", "hardswish"):
        want = getattr(torch.nn.functional, name)(torch.tensor(x)).numpy()
        got = getattr(al, name)(x).data
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
    assert 1 / al.hardswish(np.array(-1.0)).item() == -3.0
    # integers give float64 (true division), not integers truncated back
    ints = np.array([1, 2, -4])
    np.testing.assert_allclose(al.hardsigmoid(ints).data, [2 / 3, 5 / 6, 0.0], rtol=1e-15)
    np.testing.assert_allclose(al.hardswish(ints).data, [2 / 3, 5 / 3, 0.0], rtol=1e-15)


def test_arctan2_has_a_zero_gradient_at_the_origin_as_pytorch():
    """At (0, 0) the gradient of arctan2 is undefined: 0, PyTorch's choice (the plain formula
    gives 0/0 = NaN), its second derivatives 0 too; elsewhere the formula, unchanged."""
    y = al.Tensor(np.array([0.0, 1.0, 0.0]), requires_grad=True)
    x = al.Tensor(np.array([0.0, 2.0, -1.0]), requires_grad=True)
    al.arctan2(y, x).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [0.0, 0.4, -1.0])
    np.testing.assert_allclose(x.grad.data, [0.0, -0.2, 0.0])
    h = al.hessian(lambda v: al.arctan2(v[0], v[1]))(np.zeros(2))
    np.testing.assert_array_equal(h, np.zeros((2, 2)))
    assert al.gradgradcheck(al.arctan2, [np.array([1.0, -2.0]), np.array([0.5, 3.0])])
    torch = pytest.importorskip("torch")
    ty = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64, requires_grad=True)
    tx = torch.tensor([0.0, 2.0, -1.0], dtype=torch.float64, requires_grad=True)
    torch.atan2(ty, tx).sum().backward()
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-15)
