"""Scalar: each op against finite differences and PyTorch, the bridge to object arrays, the same
MLP as Scalars and as Tensors, the two-path worked example, and the shared engine's behaviour
(deep chains, accumulation, hooks, retain_grads, no_grad, create_graph)."""

from __future__ import annotations

import copy
import math
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import Scalar, grads, scalars, values
from autograd_lite.scalar import SCALAR_OPS


@dataclass
class Case:
    """``f`` on Scalars (and on torch tensors), at ``point``; ``op`` is the primitive it tests."""

    name: str
    op: str
    f: Callable[..., Any]
    point: tuple[float, ...]


CASES = [
    Case("add", "add", lambda a, b: a + b, (0.7, -1.3)),
    Case("add number", "add", lambda a: 2.5 + a + 1, (0.7,)),
    Case("mul", "mul", lambda a, b: a * b, (0.7, -1.3)),
    Case("mul self", "mul", lambda a: a * a * 3, (-0.4,)),
    Case("pow", "pow", lambda a, b: a ** b, (1.7, 0.6)),
    Case("pow number", "pow", lambda a: a ** 3 + a ** -2 + a ** 0.5, (1.3,)),
    Case("rpow", "pow", lambda a: 2 ** a, (0.9,)),
    Case("neg", "neg", lambda a: -a, (0.7,)),
    Case("sub", "neg", lambda a, b: a - b - 1 + (3 - b), (0.7, -1.3)),
    Case("div", "pow", lambda a, b: a / b + 1 / a + b / 4, (0.7, -1.3)),
    Case("exp", "exp", lambda a: a.exp(), (0.3,)),
    Case("log", "log", lambda a: a.log(), (2.3,)),
    Case("tanh", "tanh", lambda a: a.tanh(), (-0.6,)),
    Case("sigmoid", "sigmoid", lambda a: a.sigmoid(), (0.8,)),
    Case("sigmoid negative", "sigmoid", lambda a: (a * 30).sigmoid(), (-0.5,)),
    Case("relu positive", "relu", lambda a: a.relu(), (0.8,)),
    Case("relu negative", "relu", lambda a: a.relu() + a, (-0.8,)),
    Case("composite", "mul", lambda a, b: (a * b + b.exp()).tanh() / (1 + a * a).log(), (0.3, 0.5)),
]
IDS = [c.name for c in CASES]


def _grads(case: Case, point: tuple[float, ...]) -> tuple[float, list[float]]:
    xs = [Scalar(v) for v in point]
    y = case.f(*xs)
    y.backward()
    return y.value, [x.grad for x in xs]


def _value(case: Case, point: tuple[float, ...]) -> float:
    return case.f(*[Scalar(v) for v in point]).value


def test_every_scalar_op_has_a_case():
    assert set(SCALAR_OPS) == {c.op for c in CASES}
    for op in SCALAR_OPS.values():
        assert len(op.rules) == len(op.vjps) and op.name


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_matches_central_differences(case):
    _, gs = _grads(case, case.point)
    eps = 1e-6
    for i in range(len(case.point)):
        up = list(case.point)
        down = list(case.point)
        up[i] += eps
        down[i] -= eps
        fd = (_value(case, tuple(up)) - _value(case, tuple(down))) / (2 * eps)
        assert gs[i] == pytest.approx(fd, rel=1e-6, abs=1e-8), (case.name, i)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_value_and_gradient_match_torch_float64(case):
    torch = pytest.importorskip("torch")
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in case.point]
    out = case.f(*ts)
    out.backward()
    value, gs = _grads(case, case.point)
    assert value == pytest.approx(out.item(), rel=1e-14, abs=1e-15)
    for g, t in zip(gs, ts):
        assert g == pytest.approx(t.grad.item(), rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("case", [c for c in CASES if len(c.point) == 1],
                         ids=[c.name for c in CASES if len(c.point) == 1])
def test_second_derivative_via_create_graph_matches_differences_of_the_first(case):
    x = Scalar(case.point[0])
    case.f(x).backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Scalar)
    x.grad = None
    if not g.requires_grad:          # f is linear: f'' = 0
        second = 0.0
    else:
        g.backward()
        second = x.grad
    eps = 1e-5
    fd = (_grads(case, (case.point[0] + eps,))[1][0]
          - _grads(case, (case.point[0] - eps,))[1][0]) / (2 * eps)
    assert second == pytest.approx(fd, rel=1e-5, abs=1e-7)


def test_second_derivative_of_a_cube():
    x = Scalar(1.5)
    (x ** 3).backward(create_graph=True)
    g = x.grad
    assert g.value == pytest.approx(3 * 1.5 ** 2)
    x.grad = None
    g.backward()
    assert x.grad == pytest.approx(6 * 1.5)


def test_values_are_python_floats_and_numbers_work_on_both_sides():
    x = Scalar(2)
    assert type(x.value) is float
    for y in (x * np.float64(3), np.float64(3) * x, 3 - x, 3 / x, 3 ** x, x ** 3, -x, +x):
        assert isinstance(y, Scalar) and type(y.value) is float
    assert (3 - x).value == 1.0 and (3 / x).value == 1.5 and (x / 4).value == 0.5
    assert x.op is None and (x * 2).op.name == "mul" and (x * 2).op.rules == ("g · y", "g · x")


def test_errors_name_the_op_and_the_input():
    with pytest.raises(ValueError, match=r"log\(-1.0\)"):
        Scalar(-1.0).log()
    with pytest.raises(ValueError, match="pow"):
        Scalar(-8.0) ** (1 / 3)
    with pytest.raises(ValueError, match="pow"):
        Scalar(0.0) ** -1
    with pytest.raises(TypeError, match="Scalar: expected a real number, got str"):
        Scalar("a")
    with pytest.raises(TypeError):
        Scalar(1.0) + "a"


def test_sigmoid_is_stable_for_large_inputs():
    assert Scalar(-1000.0).sigmoid().value == 0.0
    assert Scalar(1000.0).sigmoid().value == 1.0


# ---------------------------------------------------------------------------------------------
# The shared engine


def test_second_backward_doubles_leaf_gradients_exactly():
    x = Scalar(2.0)
    y = (x * 2) * 3
    y.backward()
    y.backward()
    assert x.grad == 12.0    # micrograd gives 18


def test_million_node_chain_backpropagates_without_recursion_error():
    x = Scalar(0.5)
    y = x
    n = 1_000_000
    assert n > sys.getrecursionlimit() * 100
    for _ in range(n):
        y = -y
    y.backward()
    assert x.grad == 1.0


def test_intermediates_keep_no_gradient_unless_asked():
    x = Scalar(3.0)
    h = x * x
    kept = h * 2
    kept.retain_grad()
    y = kept + h
    y.backward()
    assert h.grad is None and kept.grad == 1.0 and x.grad == 18.0
    x.grad = None
    y.backward(retain_grads=True)
    assert h.grad == 3.0 and y.grad == 1.0 and x.grad == 18.0


def test_hooks_see_and_may_replace_the_gradient():
    x = Scalar(3.0)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g))
    handle = h.register_hook(lambda g: g * 10)
    x.register_hook(lambda g: seen.append(("leaf", g)))
    (h * h).backward()
    assert seen == [12.0, ("leaf", 240.0)] and x.grad == 240.0
    handle.remove()
    x.grad = None
    (h * h).backward()
    assert x.grad == 24.0


def test_no_grad_records_nothing():
    x = Scalar(2.0)
    with al.no_grad():
        y = (x * 3).exp() + x
    assert not y.requires_grad and y.is_leaf and y.op is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    c = Scalar(1.0, requires_grad=False)
    assert not (c * 2).requires_grad


def test_upstream_gradient_and_diamond():
    x = Scalar(3.0)
    a = x * 2
    b = x * x
    (a + b).backward(grad=0.5)
    assert x.grad == 0.5 * (2 + 2 * 3.0)


# ---------------------------------------------------------------------------------------------
# The bridge


def test_scalars_names_elements_and_values_grads_read_back():
    W = scalars(np.arange(6.0).reshape(2, 3), name="W")
    b = scalars([1.0, 2.0, 3.0], name="b")
    assert W.dtype == object and W.shape == (2, 3)
    assert W[1, 2].name == "W[1,2]" and b[2].name == "b[2]" and W[1, 2].value == 5.0
    np.testing.assert_array_equal(values(W), np.arange(6.0).reshape(2, 3))
    assert np.isnan(grads(W)).sum() == 0 and not grads(W).any()   # no backward yet: zeros
    x = np.array([[1.0, -1.0]])
    y = x @ W + b                                # index notation: y_j = Σ_i x_i W_ij + b_j
    assert y.shape == (1, 3) and isinstance(y[0, 0], Scalar)
    np.testing.assert_allclose(values(y), x @ np.arange(6.0).reshape(2, 3) + [1, 2, 3])
    np.exp(y).sum().backward()                   # np.exp calls Scalar.exp on each element
    e = np.exp(values(y))
    np.testing.assert_allclose(grads(W), x.T @ e, rtol=1e-14)
    np.testing.assert_allclose(grads(b), e[0], rtol=1e-14)


def test_bridge_rejects_what_it_cannot_read():
    with pytest.raises(TypeError, match="scalars: expected an array of real numbers"):
        scalars(["a"])
    with pytest.raises(TypeError, match="grads: expected Scalars, got float"):
        grads(np.array([1.0], dtype=object))
    np.testing.assert_array_equal(values(np.array([Scalar(1.0), 2], dtype=object)), [1.0, 2.0])


# ---------------------------------------------------------------------------------------------
# Index notation beside matrix notation


def _relu(a: np.ndarray) -> np.ndarray:
    return np.frompyfunc(Scalar.relu, 1, 1)(a)


def test_mlp_softmax_cross_entropy_same_gradients_as_tensors(rng):
    X = rng.standard_normal((3, 4))
    W1, b1 = rng.standard_normal((4, 5)), rng.standard_normal(5)
    W2, b2 = rng.standard_normal((5, 3)), rng.standard_normal(3)
    labels = np.array([2, 0, 1])
    onehot = np.eye(3)[labels]

    # Index notation: one Scalar per number.
    S = [scalars(a, name) for a, name in ((X, "X"), (W1, "W1"), (b1, "b1"), (W2, "W2"),
                                          (b2, "b2"))]
    z = _relu(S[0] @ S[1] + S[2]) @ S[3] + S[4]
    log_p = [[z[i, k] - sum(np.exp(z[i])).log() for k in range(3)] for i in range(3)]
    loss_s = -sum(log_p[i][labels[i]] for i in range(3)) / 3
    loss_s.backward()

    # Matrix notation: one Tensor per array op, built from primitives.
    T = [al.Tensor(a, requires_grad=True) for a in (X, W1, b1, W2, b2)]
    logits = al.relu(T[0] @ T[1] + T[2]) @ T[3] + T[4]
    loss_t = -(al.log_softmax(logits) * onehot).sum() / 3
    loss_t.backward()

    assert loss_s.value == pytest.approx(loss_t.item(), abs=1e-12)
    for s, t in zip(S, T):
        np.testing.assert_allclose(grads(s), t.grad.data, rtol=0, atol=1e-12)


@pytest.mark.parametrize("t", [(1.0, 0.0), (0.0, 1.0)])
def test_weight_reaching_the_loss_through_two_paths(t):
    h = [Scalar(v, f"h{i + 1}") for i, v in enumerate((0.5, -1.2, 2.0))]
    w = {(i, j): Scalar(v, f"w{i}{j}") for (i, j), v in
         zip([(i, j) for i in (1, 2, 3) for j in (1, 2)], (0.1, -0.3, 0.7, 0.2, -0.5, 0.4))}
    y1 = w[1, 1] * h[0] + w[2, 1] * h[1] + w[3, 1] * h[2]
    y2 = w[1, 2] * h[0] + w[2, 2] * h[1] + w[3, 2] * h[2]
    e1, e2 = y1.exp(), y2.exp()
    o1, o2 = e1 / (e1 + e2), e2 / (e1 + e2)      # w21 reaches L through o1 and o2
    L = -(t[0] * o1.log() + t[1] * o2.log())
    L.backward()
    o = (o1.value, o2.value)
    assert w[2, 1].grad == pytest.approx(h[1].value * (o[0] - t[0]), rel=1e-13)
    for (i, j), wij in w.items():
        assert wij.grad == pytest.approx(h[i - 1].value * (o[j - 1] - t[j - 1]), rel=1e-13)
    assert math.isclose(o[0] + o[1], 1.0)


# ---------------------------------------------------------------------------------------------
# Special points and crashes (issue 14): the same answers as Tensor and PyTorch, never a Python
# exception from a derivative at a singular point.

SPECIAL = [   # (f on Scalars or Tensors, the point, PyTorch's gradient at it)
    ("sqrt at 0", lambda x: x.sqrt(), (0.0,)),
    ("x**0 at 0", lambda x: x ** 0, (0.0,)),
    ("x**0.5 at 0", lambda x: x ** 0.5, (0.0,)),
    ("x**1 at 0", lambda x: x ** 1, (0.0,)),
    ("x**2 at 0", lambda x: x ** 2, (0.0,)),
    ("0**b, b = 2", lambda x, y: x ** y, (0.0, 2.0)),
    ("0**b, b = 0", lambda x, y: x ** y, (0.0, 0.0)),
    ("0**b, b = 0.5", lambda x, y: x ** y, (0.0, 0.5)),
    ("(-1)**b, b = 2", lambda x, y: x ** y, (-1.0, 2.0)),
    ("2**b at b = 0", lambda x, y: x ** y, (2.0, 0.0)),
]


@pytest.mark.parametrize(("what", "f", "point"), SPECIAL, ids=[s[0] for s in SPECIAL])
def test_gradients_at_special_points_follow_pytorch(what, f, point):
    torch = pytest.importorskip("torch")
    xs = [Scalar(v) for v in point]
    f(*xs).backward()
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point]
    f(*ts).backward()
    got = [x.grad for x in xs]
    want = [t.grad.item() for t in ts]
    np.testing.assert_array_equal(got, want)
    tensors = [al.Tensor(np.array(v), requires_grad=True) for v in point]   # Scalar == Tensor
    with np.errstate(all="ignore"):
        f(*tensors).backward()
    np.testing.assert_array_equal([t.grad.item() for t in tensors], got)


def test_second_derivative_at_a_singular_point_is_ieee():
    x = Scalar(0.0)
    x.sqrt().backward(create_graph=True)
    g, x.grad = x.grad, None
    assert g.value == math.inf
    g.backward()
    assert x.grad == -math.inf          # d/dx ½x^(−½) = −¼x^(−3/2): −inf at 0, as for Tensor


def test_division_by_zero_says_so():
    for f in (lambda: Scalar(1.0) / 0, lambda: 3 / Scalar(0.0), lambda: Scalar(2.0) / Scalar(0.0)):
        with pytest.raises(ZeroDivisionError, match="div: .* division by zero"):
            f()


def test_truthiness_follows_the_value():
    assert not Scalar(0.0) and not Scalar(-0.0) and Scalar(2.0) and Scalar(float("nan"))
    assert [s.value for s in (Scalar(0.0), Scalar(1.0)) if s] == [1.0]


@pytest.mark.parametrize("how", ["pickle", "deepcopy", "copy"])
def test_pickling_and_copying_keep_the_value_not_the_history(how):
    x = Scalar(1.0, name="x")
    y = x
    for _ in range(5000):
        y = y * 1.0001 + 0.0
    y.grad = 2.5
    clone = {"pickle": lambda s: pickle.loads(pickle.dumps(s)), "deepcopy": copy.deepcopy,
             "copy": copy.copy}[how](y)
    assert clone.value == y.value and clone.grad == 2.5 and clone.is_leaf
    assert clone.requires_grad
    named = {"pickle": lambda s: pickle.loads(pickle.dumps(s)), "deepcopy": copy.deepcopy,
             "copy": copy.copy}[how](x)
    assert named.name == "x" and named.value == 1.0 and named is not x
