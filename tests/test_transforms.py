"""Function transforms and higher-order gradients: grad, value_and_grad, vjp, jvp, jacobian,
hessian, hvp, gradgradcheck on every primitive, and backward(create_graph=True)."""

from __future__ import annotations

import doctest
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import engine, ops

from .spec import SPECS, cases, make_inputs

CASES = list(cases())
IDS = [f"{name}-{k}-{shapes}" for name, k, shapes, _ in CASES]


# ---------------------------------------------------------------------------------------------
# Second derivatives of every primitive


@pytest.mark.parametrize(("name", "k", "shapes", "params"), CASES, ids=IDS)
def test_every_primitive_is_twice_differentiable(name, k, shapes, params, rng):
    # Ops whose second derivative is identically zero (add, relu, getitem, ...) are checked too:
    # their recorded VJP must still be the right function of the upstream gradient.
    spec = SPECS[name]
    xs = make_inputs(spec, shapes, rng)
    assert al.gradgradcheck(lambda *ts: spec.fn(*ts, **params), xs,
                            eps=spec.extra.get("eps", 1e-6), atol=spec.extra.get("atol", 1e-5),
                            seed=k)


@pytest.mark.parametrize(("name", "k", "shapes", "params"), CASES, ids=IDS)
def test_second_order_gradients_keep_shapes_and_dtypes(name, k, shapes, params, rng):
    spec = SPECS[name]
    ts = [al.Tensor(x.astype(np.float32), requires_grad=True)
          for x in make_inputs(spec, shapes, rng)]
    out = spec.fn(*ts, **params)
    gs = engine.cotangents(out, ts, np.ones(out.shape, np.float32), create_graph=True)
    total = sum((g * g).sum() for g in gs if g is not None and g.requires_grad)
    for t, g in zip(ts, gs):
        assert g.shape == t.shape and g.dtype == np.float32
    if isinstance(total, al.Tensor):
        for t, gg in zip(ts, engine.cotangents(total, ts)):
            assert gg is None or (gg.shape == t.shape and gg.dtype == np.float32)


def test_gradgradcheck_catches_a_vjp_that_is_not_differentiable(monkeypatch, rng):
    # tanh' = 1 − out², but computed from the raw data: right first derivative, and a second
    # derivative that silently ignores the dependence of ``out`` on x.
    tanh = ops.OPS["tanh"]
    monkeypatch.setattr(tanh, "vjps", (lambda g, out, x: g * (1 - ops.core.data(out) ** 2),))
    x = rng.normal(size=(3,))
    assert al.gradcheck(al.tanh, [x])
    with pytest.raises(al.GradcheckError, match="gradcheck: input 0"):
        al.gradgradcheck(al.tanh, [x])
    assert not al.gradgradcheck(al.tanh, [x], raise_exception=False)


CE_OPTIONS = [{}, {"reduction": "none"}, {"weight": np.array([0.5, 2.0, 1.0]),
                                         "label_smoothing": 0.2}]


@pytest.mark.parametrize("fused", [False, True], ids=["composed", "fused"])
@pytest.mark.parametrize("target", ["indices", "probabilities"])
@pytest.mark.parametrize("options", CE_OPTIONS, ids=["mean", "none", "weight+smoothing"])
def test_cross_entropy_is_twice_differentiable(fused, target, options, rng):
    def ce(z, y):
        return al.functional.cross_entropy(z, y, fused=fused, **options)

    z = rng.normal(size=(4, 3))
    y = (np.array([0, 2, 1, 2]) if target == "indices"
         else rng.dirichlet(np.ones(3), size=4))
    assert al.gradgradcheck(ce, [z, y])          # probabilities: second derivatives in y too


# ---------------------------------------------------------------------------------------------
# backward(create_graph=True)


def test_default_backward_records_nothing():
    x = al.Tensor([0.5, -1.0], requires_grad=True)
    (x.tanh() * x).sum().backward()
    assert not x.grad.requires_grad and x.grad.is_leaf


def test_create_graph_gives_a_differentiable_gradient():
    x = al.Tensor([0.5, 2.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad                                    # 3x², itself a graph
    assert g.requires_grad and not g.is_leaf
    np.testing.assert_allclose(g.data, 3 * x.data ** 2)
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)


def test_cotangents_writes_no_grad_and_reports_unreached_inputs():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    w = al.Tensor([3.0, 4.0], requires_grad=True)
    unused = al.Tensor([0.0], requires_grad=True)
    gx, gu = engine.cotangents((x * w).sum(), [x, unused])
    np.testing.assert_array_equal(gx, w.data)
    assert gu is None
    assert x.grad is None and w.grad is None and unused.grad is None


# ---------------------------------------------------------------------------------------------
# grad and value_and_grad


def test_grad_of_arrays_returns_arrays():
    g = al.grad(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))
    assert type(g) is np.ndarray
    np.testing.assert_allclose(g, [3.0, 12.0])


def test_grad_accepts_numbers_lists_and_tensors():
    f = al.grad(lambda x: (x * x).sum())
    np.testing.assert_allclose(f(3.0), 6.0)
    np.testing.assert_allclose(f([1, 2]), [2.0, 4.0])
    np.testing.assert_allclose(f(al.Tensor([1.0, 2.0])), [2.0, 4.0])


def test_grad_keeps_float32():
    g = al.grad(lambda x: (x * x).sum())(np.ones(3, dtype=np.float32))
    assert g.dtype == np.float32


def test_argnums_int_tuple_and_negative(rng):
    x, y = rng.normal(size=3), rng.normal(size=3)

    def f(a, b, scale=1.0):
        return (a * b * b).sum() * scale

    np.testing.assert_allclose(al.grad(f)(x, y), y * y)
    np.testing.assert_allclose(al.grad(f, argnums=1)(x, y), 2 * x * y)
    np.testing.assert_allclose(al.grad(f, argnums=-1)(x, y, scale=2.0), 4 * x * y)
    gx, gy = al.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, y * y)
    np.testing.assert_allclose(gy, 2 * x * y)
    (gy_only,) = al.grad(f, argnums=(1,))(x, y)
    np.testing.assert_allclose(gy_only, 2 * x * y)
    value, (gx2, gy2) = al.value_and_grad(f, argnums=(0, 1))(x, y)
    assert type(value) is np.ndarray
    np.testing.assert_allclose(value, np.sum(x * y * y))
    np.testing.assert_allclose(gx2, gx)


def test_grad_of_an_unused_argument_is_zero():
    g = al.grad(lambda x, y: (x * 2).sum(), argnums=1)(np.ones(2), np.ones((2, 3)))
    np.testing.assert_array_equal(g, np.zeros((2, 3)))


def test_non_differentiated_arguments():
    seen = []

    def f(x, labels, tensor, *, scale):
        seen.extend([labels, tensor, scale])
        return (x * 2).sum()

    labels, tensor = np.array([1, 0]), al.Tensor([1.0])
    al.grad(f)(np.ones(2), labels, tensor, scale=3.0)
    assert isinstance(seen[0], al.Tensor) and np.shares_memory(seen[0].data, labels)  # wrapped
    assert not seen[0].requires_grad
    assert seen[1] is tensor and seen[2] == 3.0                        # the rest as given


@pytest.mark.parametrize(("argnums", "match"), [(2, "out of range"), (-3, "out of range"),
                                               ((0, 0), "repeated")])
def test_bad_argnums_are_rejected(argnums, match):
    with pytest.raises(ValueError, match=f"grad: .*{match}"):
        al.grad(lambda x, y: (x * y).sum(), argnums=argnums)(np.ones(2), np.ones(2))


def test_hessian_checks_argnums_and_gradgradcheck_needs_a_float_input():
    with pytest.raises(ValueError, match="hessian: repeated argument in argnums"):
        al.hessian(lambda x, y: (x * y).sum(), argnums=(0, 0))(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="gradgradcheck: no floating-point input"):
        al.gradgradcheck(lambda i: al.Tensor(i * 2.0), [np.arange(3)])


def test_non_scalar_output_is_a_clear_error():
    with pytest.raises(TypeError, match=r"grad: f must return a scalar .* shape \(2,\); use "
                                        "jacobian"):
        al.grad(lambda x: x * 2)(np.ones(2))


def test_non_tensor_output_is_a_clear_error():
    with pytest.raises(TypeError, match="grad: f must return a Tensor .* got float"):
        al.grad(lambda x: 1.0)(np.ones(2))


def test_integer_inputs_are_rejected():
    with pytest.raises(TypeError, match="grad: can only differentiate .* int64"):
        al.grad(lambda x: x.sum())(np.arange(3))


def test_grad_works_under_no_grad():
    with al.no_grad():
        g = al.grad(lambda x: (x * x).sum())(np.array([1.0, 2.0]))
        assert not al.is_grad_enabled()
    np.testing.assert_allclose(g, [2.0, 4.0])


def test_grad_of_grad_composes():
    d2 = al.grad(al.grad(lambda x: x.tanh()))
    x = np.array(0.7)
    t = np.tanh(x)
    np.testing.assert_allclose(d2(x), -2 * t * (1 - t * t))
    d3 = al.grad(al.grad(al.grad(lambda x: x ** 4)))
    np.testing.assert_allclose(d3(np.array(1.5)), 24 * 1.5)


# ---------------------------------------------------------------------------------------------
# Purity: no leftover state on the user's tensors


def test_transforms_leave_no_state_on_user_tensors(rng):
    w = al.Tensor(rng.normal(size=(3, 3)), requires_grad=True)   # closed over, like parameters
    x = al.Tensor(rng.normal(size=3), requires_grad=True)
    x_before, w_before = x.data.copy(), w.data.copy()

    def f(x):
        return (w @ x).tanh().sum()

    def g(x):
        return (w @ x).tanh()

    results = [al.grad(f)(x), al.value_and_grad(f)(x)[1], al.jacobian(g)(x), al.hessian(f)(x),
               al.hvp(f, x, np.ones(3)), al.vjp(g, x)[1](np.ones(3))[0],
               al.jvp(g, (x,), (np.ones(3),))[1]]
    for r in results:
        assert type(r) is np.ndarray
    for t in (x, w):
        assert t.grad is None
        assert t.is_leaf and t.requires_grad
    np.testing.assert_array_equal(x.data, x_before)
    np.testing.assert_array_equal(w.data, w_before)


# ---------------------------------------------------------------------------------------------
# Jacobians and Hessians


def _softmax_jacobian(p):
    return np.diag(p) - np.outer(p, p)


def test_jacobian_of_softmax(rng):
    z = rng.normal(size=5)
    p = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(al.jacobian(al.softmax)(z), _softmax_jacobian(p), atol=1e-15)


def test_jacobian_shape_is_output_shape_then_input_shape(rng):
    x, y = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    jx, jy = al.jacobian(lambda a, b: a @ b, argnums=(0, 1))(x, y)
    assert jx.shape == (2, 4, 2, 3) and jy.shape == (2, 4, 3, 4)
    # d(xy)_ij / dx_kl = δ_ik y_lj ; d(xy)_ij / dy_kl = x_ik δ_jl
    np.testing.assert_allclose(jx, np.einsum("ik,lj->ijkl", np.eye(2), y))
    np.testing.assert_allclose(jy, np.einsum("ik,jl->ijkl", x, np.eye(4)))
    assert al.jacobian(lambda a: a.sum())(x).shape == (2, 3)


def _composed_ce(z, y):
    return -(al.log_softmax(z) * y).sum(axis=-1).mean()


def _cross_entropies():
    """The available cross-entropies as f(logits, one_hot) with mean reduction over the batch."""
    fns = {"composed by hand": _composed_ce}
    ce = al.functional.cross_entropy
    for fused in (False, True):
        fns[f"cross_entropy(fused={fused}), probabilities"] = (
            lambda z, y, fused=fused: ce(z, y, fused=fused))
        fns[f"cross_entropy(fused={fused}), class indices"] = (
            lambda z, y, fused=fused: ce(z, np.argmax(y, axis=-1), fused=fused))
    return fns


@pytest.mark.parametrize("name", list(_cross_entropies()))
def test_hessian_of_cross_entropy_is_the_softmax_jacobian(name, rng):
    ce = _cross_entropies()[name]
    z = rng.normal(size=4)
    y = np.eye(4)[2]
    p = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(al.hessian(lambda z: ce(z, y))(z), _softmax_jacobian(p),
                               atol=1e-14)
    # a batch with mean reduction: one block per sample, scaled by 1/N, zero across samples
    n = 3
    zs = rng.normal(size=(n, 4))
    ys = np.eye(4)[[0, 3, 1]]
    h = al.hessian(lambda z: ce(z, ys))(zs)
    assert h.shape == (n, 4, n, 4)
    ps = np.exp(zs) / np.exp(zs).sum(axis=1, keepdims=True)
    for i in range(n):
        for j in range(n):
            block = _softmax_jacobian(ps[i]) / n if i == j else np.zeros((4, 4))
            np.testing.assert_allclose(h[i, :, j, :], block, atol=1e-14)


def test_hessian_of_a_polynomial_and_of_a_function_of_a_matrix(rng):
    np.testing.assert_allclose(al.hessian(lambda x: (x ** 3).sum())(np.array([1.0, 2.0])),
                               np.diag([6.0, 12.0]))
    a = rng.normal(size=(2, 3))
    h = al.hessian(lambda a: (a * a).sum() * 0.5)(a)            # the identity, shaped 2x3x2x3
    np.testing.assert_allclose(h.reshape(6, 6), np.eye(6))


SIZES = (3, 5, 2)


def _mlp_loss(w, x, y):
    """A 3-5-2 tanh MLP with its weights in one flat vector; mean squared error."""
    (n0, n1, n2), k = SIZES, 0
    layers = []
    for a, b in ((n0, n1), (n1, n2)):
        W = w[k:k + a * b].reshape(a, b)
        bias = w[k + a * b:k + a * b + b]
        layers.append((W, bias))
        k += a * b + b
    h = (x @ layers[0][0] + layers[0][1]).tanh()
    out = h @ layers[1][0] + layers[1][1]
    return ((out - y) ** 2).mean()


def test_hessian_of_an_mlp_loss_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    n = 3 * 5 + 5 + 5 * 2 + 2
    w, x, y = rng.normal(size=n) * 0.5, rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    h = al.hessian(_mlp_loss)(w, al.Tensor(x), al.Tensor(y))

    def torch_loss(w):
        W1, b1 = w[:15].reshape(3, 5), w[15:20]
        W2, b2 = w[20:30].reshape(5, 2), w[30:32]
        out = torch.tanh(torch.tensor(x) @ W1 + b1) @ W2 + b2
        return ((out - torch.tensor(y)) ** 2).mean()

    expected = torch.autograd.functional.hessian(torch_loss, torch.tensor(w)).numpy()
    assert h.shape == (n, n)
    np.testing.assert_allclose(h, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h, h.T, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# vjp, jvp and Hessian-vector products


def _two_input_f(x, w):
    return (w @ x).tanh() * x.sum()


def test_vjp_and_jvp_agree_with_the_jacobian(rng):
    x, w = rng.normal(size=3), rng.normal(size=(4, 3))
    jx, jw = al.jacobian(_two_input_f, argnums=(0, 1))(x, w)
    u = rng.normal(size=4)
    out, vjp_fn = al.vjp(_two_input_f, x, w)
    np.testing.assert_allclose(out, _two_input_f(al.Tensor(x), al.Tensor(w)).data)
    for _ in range(2):                           # vjp_fn can be called again
        ux, uw = vjp_fn(u)
        np.testing.assert_allclose(ux, np.tensordot(u, jx, axes=1), rtol=1e-12)
        np.testing.assert_allclose(uw, np.tensordot(u, jw, axes=1), rtol=1e-12)
    vx, vw = rng.normal(size=3), rng.normal(size=(4, 3))
    out2, jv = al.jvp(_two_input_f, (x, w), (vx, vw))
    np.testing.assert_allclose(out2, out)
    np.testing.assert_allclose(jv, jx @ vx + np.tensordot(jw, vw, axes=2), rtol=1e-12)


def test_vjp_rejects_a_mismatched_upstream_gradient():
    _, vjp_fn = al.vjp(lambda x: x * 2, np.ones(2))
    with pytest.raises(ValueError, match=r"vjp: the upstream gradient has shape \(3,\), but f's "
                                         r"output has shape \(2,\)"):
        vjp_fn(np.ones(3))


def test_transforms_nest_inside_grad():
    x = np.array([1.0, 2.0])
    # d/dx Σ (J v) for f = y³, v = 1: Σ 3x² → 6x ; d/dx Σ H v for f = Σ y⁴: Σ 12x² → 24x
    np.testing.assert_allclose(
        al.grad(lambda x: al.jvp(lambda y: y ** 3, (x,), (np.ones(2),))[1].sum())(x), 6 * x)
    np.testing.assert_allclose(
        al.grad(lambda x: al.hvp(lambda y: (y ** 4).sum(), x, np.ones(2)).sum())(x), 24 * x)
    np.testing.assert_allclose(al.jacobian(al.jacobian(lambda y: y ** 3))(x),
                               np.einsum("ij,jk->ijk", np.eye(2), np.diag(6 * x)))


def test_jvp_rejects_mismatched_tangents():
    with pytest.raises(ValueError, match=r"jvp: tangent of shape \(2,\) for a primal of shape "
                                         r"\(3,\)"):
        al.jvp(al.tanh, (np.ones(3),), (np.ones(2),))
    with pytest.raises(ValueError, match="jvp: got 1 primal"):
        al.jvp(al.tanh, (np.ones(3),), ())


def test_hvp_matches_the_hessian(rng):
    w, x, y = rng.normal(size=32) * 0.5, rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    v = rng.normal(size=32)

    def loss(w):
        return _mlp_loss(w, al.Tensor(x), al.Tensor(y))

    np.testing.assert_allclose(al.hvp(loss, w, v), al.hessian(loss)(w) @ v, rtol=1e-10,
                               atol=1e-12)


def test_hvp_on_a_10k_parameter_model_never_builds_the_hessian(rng):
    n_in, n_hidden = 24, 400
    n = n_in * n_hidden + n_hidden + n_hidden + 1               # 10,401 parameters
    x, y = rng.normal(size=(16, n_in)), rng.normal(size=(16, 1))

    def loss(w):
        W1 = w[:n_in * n_hidden].reshape(n_in, n_hidden)
        b1 = w[n_in * n_hidden:n_in * n_hidden + n_hidden]
        W2 = w[n - n_hidden - 1:n - 1].reshape(n_hidden, 1)
        h = (al.Tensor(x) @ W1 + b1).tanh()
        return (((h @ W2 + w[n - 1]) - al.Tensor(y)) ** 2).mean()

    w = rng.normal(size=n) * 0.1
    v = rng.normal(size=n)
    tracemalloc.start()
    try:
        hv = al.hvp(loss, w, v)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert hv.shape == (n,)
    assert peak < 0.02 * n * n * 8       # the full Hessian would need n² float64s (865 MB)
    eps = 1e-5                           # H v = d/dε ∇f(w + εv)
    fd = (al.grad(loss)(w + eps * v) - al.grad(loss)(w - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv, fd, rtol=1e-5, atol=1e-7)


def test_readme_example_runs():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Jacobians, Hessians and gradients of gradients", 1)[1]
    section = section.split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in section.split("```python\n")[1:]]
    assert len(blocks) == 4          # the transforms, containers, jvp over containers, the
                                     # vectorised Hessian
    scope: dict = {}
    for code in blocks:
        exec(compile(code, "README.md", "exec"), scope)


def test_docstring_examples_run():
    from autograd_lite import transforms
    assert doctest.testmod(transforms).failed == 0


# ---------------------------------------------------------------------------------------------
# Nested transforms with closures (issue 14, item 2: perturbation confusion)


def test_inner_transform_sees_a_closed_over_outer_variable():
    # d/dx [x · d/dy (x·y)] = d/dx x² = 2x (HIPS autograd, JAX and PyTorch agree)
    assert al.grad(lambda x: x * al.grad(lambda y: x * y)(2.0))(1.0) == 2.0
    assert al.grad(lambda x: al.grad(lambda y: al.grad(lambda z: x * y * z)(1.0))(1.0))(3.0) == 1.0


def test_mixed_partials_through_jacobian_of_grad():
    torch = pytest.importorskip("torch")
    f = lambda x, y: al.tanh(al.tanh(x) + al.tanh(y))  # noqa: E731
    got = al.jacobian(al.grad(f, argnums=1), 0)(0.3, -0.7)
    x = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(-0.7, dtype=torch.float64, requires_grad=True)
    (gy,) = torch.autograd.grad(torch.tanh(torch.tanh(x) + torch.tanh(y)), y, create_graph=True)
    assert np.isclose(got, torch.autograd.grad(gy, x)[0].item(), rtol=1e-12)


@pytest.mark.parametrize("t", ["value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp"])
def test_every_transform_inside_grad_sees_closures(t):
    # inner(y) = x·y³ at y = 2 with x closed over: every inner result is a multiple of x.
    inner = {"value_and_grad": lambda x: sum(al.value_and_grad(lambda y: x * y ** 3)(2.0)),
             "vjp": lambda x: al.vjp(lambda y: x * y ** 3, 2.0)[1](np.float64(1.0))[0],
             "jvp": lambda x: al.jvp(lambda y: x * y ** 3, (2.0,), (1.0,))[1],
             "jacobian": lambda x: al.jacobian(lambda y: x * y ** 3)(2.0),
             "hessian": lambda x: al.hessian(lambda y: x * y ** 3)(2.0),
             "hvp": lambda x: al.hvp(lambda y: x * y ** 3, 2.0, 1.0)}[t]
    expected = {"value_and_grad": 8 + 12, "vjp": 12, "jvp": 12, "jacobian": 12, "hessian": 12,
                "hvp": 12}[t]
    assert float(al.grad(lambda x: inner(x) * x)(1.5)) == pytest.approx(2 * 1.5 * expected)


@pytest.mark.parametrize("depth", [2, 3])
@pytest.mark.parametrize("seed", range(12))
def test_random_nested_transforms_with_closures(depth, seed):
    # Random compositions of all seven transforms, each inner function closing over every outer
    # variable, at points that move with the outer variable or not: against PyTorch (create_graph)
    # and central finite differences.
    torch = pytest.importorskip("torch")  # noqa: F841
    from .fuzz_nested import ALT, TorchT, nested
    rng = np.random.default_rng(100 * depth + seed)
    prog, desc = nested(rng, depth, 2)
    x0 = rng.normal(size=2)
    got = al.grad(lambda x: prog(ALT, x))(x0)
    T = TorchT()
    want = T.grad(lambda x: prog(T, x))(x0).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10, err_msg=desc)
    eps = 1e-6
    fd = [(prog(ALT, x0 + eps * e).item() - prog(ALT, x0 - eps * e).item()) / (2 * eps)
          for e in np.eye(2)]
    np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-6, err_msg=desc)
