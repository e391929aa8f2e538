"""Tensor construction, dtype rules, NumPy interop, operators, repr, factories and errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import Tensor


def test_construction_and_dtype_rules():
    assert Tensor(3).dtype == np.float64
    assert Tensor([1, 2, 3]).dtype == np.float64
    assert Tensor([1.0, 2.0], dtype=np.float32).dtype == np.float32
    assert Tensor(np.arange(3)).dtype == np.arange(3).dtype         # integer targets stay ints
    assert Tensor(np.zeros(2, np.float32)).dtype == np.float32
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], name="x")
    assert x.shape == (2, 2) and x.ndim == 2 and x.size == 4 and x.name == "x"


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        Tensor(np.arange(3), requires_grad=True)
    assert Tensor([1, 2], requires_grad=True).dtype == np.float64


def test_non_numeric_data_is_rejected():
    with pytest.raises(TypeError, match="expected numeric data"):
        Tensor(["a", "b"])
    with pytest.raises(TypeError, match="expected numeric data"):
        Tensor(None)
    with pytest.raises(ValueError, match="rectangular"):
        Tensor([[1.0], [1.0, 2.0]])


def test_float32_stays_float32_with_python_numbers():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    y = (x * 2.0 + 1 - 0.5) / 3.0 ** 1
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_mixed_float32_float64_follows_numpy_and_grads_keep_input_dtype():
    a = Tensor(np.ones(2, np.float32), requires_grad=True)
    b = Tensor(np.ones(2, np.float64), requires_grad=True)
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_numpy_interop_both_sides():
    x = Tensor([1.0, 2.0], requires_grad=True)
    arr = np.array([3.0, 4.0])
    for y in (arr * x, x * arr, arr + x, arr - x, arr / x, np.multiply(arr, x)):
        assert isinstance(y, Tensor) and y.requires_grad
    m = np.ones((2, 2)) @ x
    assert isinstance(m, Tensor)
    assert isinstance(np.exp(x), Tensor)
    np.testing.assert_array_equal(np.asarray(x), [1.0, 2.0])
    (arr * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, arr)


def test_reverse_operators_with_python_numbers():
    x = Tensor(2.0, requires_grad=True)
    y = 1 - x + 3 * x - 8 / x + 2 ** x
    y.backward()
    np.testing.assert_allclose(x.grad.item(), -1 + 3 + 8 / 4 + np.log(2) * 4)


def test_comparisons_are_boolean_and_not_recorded():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for c in (x > 1.5, x >= 2, x < 2, x <= 2, x == 2, x != 2, np.greater(x, 1)):
        assert isinstance(c, Tensor)
        assert c.dtype == bool and not c.requires_grad
    np.testing.assert_array_equal((x > 1.5).data, [False, True, True])


def test_indexing_with_a_tensor_mask():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x[x > 0].sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 1.0])


def test_repeated_integer_indices_accumulate():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])


def test_repr_shows_values_dtype_and_op():
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    assert repr(x) == "Tensor([1., 2.], dtype=float64, requires_grad=True, name='x')"
    assert repr(x * 2) == "Tensor([2., 4.], dtype=float64, op=mul)"


def test_item_numpy_detach_zero_grad():
    x = Tensor([[2.5]], requires_grad=True)
    assert x.item() == 2.5 and isinstance(x.item(), float)
    assert x.numpy() is x.data
    with pytest.raises(ValueError, match="only one-element tensors"):
        Tensor([1.0, 2.0]).item()
    (x * 2).sum().backward()
    assert x.grad is not None
    x.zero_grad()
    assert x.grad is None


def test_methods_compose_correctly():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2, 3, 4))
    x = Tensor(a, requires_grad=True)
    checks = [
        (x.mean(), a.mean()), (x.mean(axis=(0, 2)), a.mean(axis=(0, 2))),
        (x.T, a.T), (x.mT, np.swapaxes(a, -1, -2)), (x.squeeze(), a),
        (x.unsqueeze(1), a[:, None]), (x.reshape(6, 4), a.reshape(6, 4)),
        (x.reshape((4, 6)), a.reshape(4, 6)),
        (x.expand(5, 2, 3, 4), np.broadcast_to(a, (5, 2, 3, 4))),
        (x[:, :1].squeeze(1), a[:, 0]), (x.flatten(), a.ravel()),
    ]
    for got, want in checks:
        np.testing.assert_allclose(got.data, want)
    assert al.gradcheck(lambda t: t.mean(axis=1, keepdims=True) * t.unsqueeze(0).squeeze(0), [a])


def test_stack_and_concatenate():
    xs = [np.random.default_rng(i).normal(size=(2, 3)) for i in range(3)]
    np.testing.assert_array_equal(al.stack(xs, axis=1).data, np.stack(xs, axis=1))
    assert al.gradcheck(lambda a, b, c: al.stack([a, b, c], axis=-1), xs)
    with pytest.raises(ValueError, match="stack: all tensors need the same shape"):
        al.stack([np.ones(2), np.ones(3)])


def test_factories():
    assert al.zeros(2, 3).shape == (2, 3) and al.zeros((2, 3)).dtype == np.float64
    assert al.ones(4, dtype=np.float32).dtype == np.float32
    assert al.zeros_like(np.ones((2, 2), np.float32)).dtype == np.float32
    assert al.ones_like(al.ones(3)).data.sum() == 3
    np.testing.assert_array_equal(al.randn(3, rng=0).data, al.randn(3, rng=0).data)
    assert 0 <= al.rand(10, rng=1).data.min() and al.rand(10, rng=1).data.max() < 1
    assert al.arange(4).dtype == np.float64
    np.testing.assert_array_equal(al.eye(2).data, np.eye(2))
    t = al.tensor(np.ones(2))
    assert t.requires_grad is False
    src = np.ones(2)
    al.tensor(src).data[0] = 5
    assert src[0] == 1  # tensor() copies
    with pytest.raises(ValueError, match="shape must be non-negative integers"):
        al.zeros(-1)


@pytest.mark.parametrize(("a", "b", "sym"), [((2, 3), (4,), "+"), ((2, 3), (3, 2), "+")])
def test_binary_shape_mismatch_names_op_and_shapes(a, b, sym):
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) \+ \(\d, ?\d?\) cannot be"):
        Tensor(np.ones(a)) + Tensor(np.ones(b))


def test_binary_errors_for_each_operator():
    x, y = Tensor(np.ones((2, 3))), Tensor(np.ones((4,)))
    for op, name in [(lambda: x - y, "sub"), (lambda: x * y, "mul"), (lambda: x / y, "div"),
                     (lambda: x ** y, "pow"), (lambda: al.maximum(x, y), "maximum")]:
        with pytest.raises(ValueError, match=rf"^{name}: shapes \(2, 3\) .* \(4,\) cannot be"):
            op()


def test_matmul_errors_name_the_inner_dimensions():
    with pytest.raises(ValueError, match=r"matmul: \(3, 4\) @ \(5, 2\): inner dimensions 4 and 5 "
                                         r"differ"):
        Tensor(np.ones((3, 4))) @ Tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"matmul: \(\) @ \(3,\): both operands need"):
        Tensor(1.0) @ Tensor(np.ones(3))
    with pytest.raises(ValueError, match="batch dimensions"):
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((5, 4, 2)))


def test_shape_op_errors():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"reshape: cannot reshape an array of shape \(2, 3\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match="transpose: axes"):
        x.transpose(0, 0)
    with pytest.raises(ValueError, match="broadcast_to: cannot broadcast"):
        x.broadcast_to((4, 3))
    with pytest.raises(IndexError, match="getitem: index"):
        x[5]
    with pytest.raises(ValueError, match="squeeze: axis 1"):
        x.squeeze(1)
    with pytest.raises(ValueError, match="concatenate: shapes"):
        al.concatenate([x, np.ones((2, 2))], axis=0)
    with pytest.raises(ValueError, match="max: cannot reduce an empty axis"):
        Tensor(np.ones((0, 3))).max(axis=0)
    with pytest.raises(ValueError, match="clip: give at least one"):
        x.clip()


def test_conventions_at_ties_and_kinks():
    x = Tensor([0.0, -1.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 1.0])       # relu'(0) = 0
    x.zero_grad()
    abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, -1.0, 1.0])      # abs'(0) = 0
    y = Tensor([3.0, 1.0, 3.0], requires_grad=True)
    y.max().backward()
    np.testing.assert_array_equal(y.grad.data, [0.5, 0.0, 0.5])       # ties share
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([1.0, 1.0], requires_grad=True)
    al.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.5, 1.0])
    np.testing.assert_array_equal(b.grad.data, [0.5, 0.0])
    c = Tensor([-1.0, 0.0, 1.0, 2.0], requires_grad=True)
    c.clip(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(c.grad.data, [0.0, 1.0, 1.0, 0.0])  # boundaries pass


def test_logsumexp_and_softmax_are_stable():
    z = Tensor([1000.0, 2000.0, 3000.0], requires_grad=True)
    np.testing.assert_allclose(al.logsumexp(z).item(), 3000.0)
    np.testing.assert_allclose(al.softmax(z).data, [0.0, 0.0, 1.0])
    with np.errstate(all="ignore"):
        assert np.isnan(al.softmax(z, naive=True).data).all()
    rng = np.random.default_rng(0)
    assert al.gradcheck(lambda t: al.softmax(t, axis=0), [rng.normal(size=(3, 2))])
    assert al.gradcheck(lambda t: al.log_softmax(t), [rng.normal(size=(2, 4))])


def test_comparisons_give_boolean_constants_with_tensors_arrays_numbers():
    a = al.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = al.nn.Parameter(np.array([3.0, 2.0, 1.0]))   # a Tensor subclass
    for got, want in ((a < b, [True, False, False]), (a <= 2.0, [True, True, False]),
                      (a > np.array([0.0, 5.0, 1.0]), [True, False, True]),
                      (a >= b, [False, True, True]), (a == b, [False, True, False]),
                      (a != 2, [True, False, True]), (b < a, [False, False, True])):
        assert type(got) is al.Tensor and not got.requires_grad and got.dtype == bool
        np.testing.assert_array_equal(got.data, want)
    assert hash(a) != hash(b)   # comparisons do not cost Tensor its identity hash
    with pytest.raises(TypeError):
        a < al.Scalar(1.0)
