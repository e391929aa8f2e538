"""Losses: values and gradients against PyTorch (float32 and float64, every reduction, extreme
inputs), finite differences and second derivatives, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}


def _compare(ours_fn, torch_fn, arrays, dtype, grad_args=(0,), reduction_kw=None, tol=None,
             **kw):
    """Run both on the same data; compare the loss and the gradient of each float argument."""
    reductions = reduction_kw or ["mean", "sum", "none"]
    rng = np.random.default_rng(0)
    tol = tol or TOL[dtype]
    for reduction in reductions:
        xs = [al.Tensor(a.copy(), requires_grad=i in grad_args) if a.dtype.kind == "f"
              else a for i, a in enumerate(arrays)]
        ts = [torch.tensor(a.copy(), requires_grad=i in grad_args and a.dtype.kind == "f")
              for i, a in enumerate(arrays)]
        out = ours_fn(*xs, reduction=reduction, **kw)
        ref = torch_fn(*ts, reduction=reduction, **kw)
        assert out.dtype == dtype
        np.testing.assert_allclose(out.data, ref.detach().numpy(), **tol)
        g = rng.standard_normal(out.shape).astype(dtype)
        out.backward(g)
        ref.backward(torch.tensor(g))
        for i in grad_args:
            np.testing.assert_allclose(xs[i].grad.data, ts[i].grad.numpy(), **tol,
                                       err_msg=f"gradient of argument {i} ({reduction})")


DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_losses_match_torch(name, dtype, rng):
    x = rng.standard_normal((4, 3)).astype(dtype)
    t = rng.standard_normal((4, 3)).astype(dtype)
    t[0, 0] = x[0, 0]                                         # an exact tie: l1's gradient is 0
    _compare(getattr(al, name), getattr(F, name), [x, t], dtype, grad_args=(0, 1))
    big = (np.array([1e4, -1e4, 0.0]) if dtype == np.float32 else np.array([1e150, -1e150, 0.0]))
    _compare(getattr(al, name), getattr(F, name), [big.astype(dtype), np.zeros(3, dtype)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, param, values", [
    ("smooth_l1_loss", "beta", [1.0, 0.5, 0.0, 3.0]),
    ("huber_loss", "delta", [1.0, 0.5, 3.0]),
])
def test_smooth_l1_and_huber_match_torch(name, param, values, dtype, rng):
    x = (rng.standard_normal(12) * 3).astype(dtype)
    t = rng.standard_normal(12).astype(dtype)
    x[0] = t[0]                                                # d = 0
    x[1] = t[1] + dtype(0.5)                                   # |d| = beta/delta exactly
    for v in values:
        _compare(getattr(al, name), getattr(F, name), [x, t], dtype, grad_args=(0, 1),
                 **{param: v})


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_matches_torch(dtype, rng):
    x = rng.uniform(0.01, 0.99, (5, 2)).astype(dtype)
    t = rng.uniform(0, 1, (5, 2)).astype(dtype)
    _compare(al.binary_cross_entropy, F.binary_cross_entropy, [x, t], dtype, grad_args=(0, 1))
    w = rng.uniform(0.5, 2, (5, 2)).astype(dtype)
    for reduction in ["mean", "none"]:
        ours = al.binary_cross_entropy(x, t, weight=w, reduction=reduction)
        ref = F.binary_cross_entropy(torch.tensor(x), torch.tensor(t), weight=torch.tensor(w),
                                     reduction=reduction)
        np.testing.assert_allclose(ours.data, ref.numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_at_the_extremes(dtype):
    """Probabilities 0 and 1 (logs clamped at −100 as PyTorch) and values near them."""
    tiny = np.finfo(dtype).tiny
    eps = np.finfo(dtype).eps
    x = np.array([0.0, 1.0, 0.0, 1.0, tiny, 1 - eps, 1e-6, 1 - 1e-6], dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.3, 0.7], dtype)
    ours = al.binary_cross_entropy(x, t, reduction="none")
    ref = F.binary_cross_entropy(torch.tensor(x), torch.tensor(t), reduction="none")
    np.testing.assert_allclose(ours.data, ref.numpy(), **TOL[dtype])
    assert ours.data[0] == 100.0
    # gradients: identical to PyTorch where x(1 − x) >= 1e-12, finite everywhere
    xt = al.Tensor(x, requires_grad=True)
    al.binary_cross_entropy(xt, t, reduction="sum").backward()
    assert np.isfinite(xt.grad.data).all()
    xr = torch.tensor(x, requires_grad=True)
    F.binary_cross_entropy(xr, torch.tensor(t), reduction="sum").backward()
    safe = x * (1 - x) >= 1e-12
    assert safe.sum() >= 2
    np.testing.assert_allclose(xt.grad.data[safe], xr.grad.numpy()[safe], rtol=1e-4)
    np.testing.assert_array_equal(xt.grad.data[2:4], [1.0, -1.0])   # the unclamped term's


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_torch(dtype, weighted, rng):
    logp = np.log(rng.dirichlet(np.ones(4), size=6)).astype(dtype)
    y = np.array([0, 3, 1, -100, 2, 3])
    w = rng.uniform(0.5, 2, 4).astype(dtype) if weighted else None
    for reduction in ["mean", "sum", "none"]:
        x = al.Tensor(logp, requires_grad=True)
        xr = torch.tensor(logp, requires_grad=True)
        out = al.nll_loss(x, y, weight=w, reduction=reduction)
        ref = F.nll_loss(xr, torch.tensor(y), weight=None if w is None else torch.tensor(w),
                         reduction=reduction)
        np.testing.assert_allclose(out.data, ref.detach().numpy(), **TOL[dtype])
        g = rng.standard_normal(out.shape).astype(dtype)
        out.backward(g)
        ref.backward(torch.tensor(g))
        np.testing.assert_allclose(x.grad.data, xr.grad.numpy(), **TOL[dtype])


def test_nll_loss_class_axis_and_cross_entropy(rng):
    z = rng.standard_normal((2, 3, 5))                          # classes on the last axis
    y = rng.integers(0, 5, (2, 3))
    np.testing.assert_allclose(al.nll_loss(al.log_softmax(z), y).data,
                               al.cross_entropy(z, y).data, rtol=1e-12)
    zt = np.moveaxis(z, -1, 1)                                 # PyTorch's layout: axis 1
    ref = F.nll_loss(F.log_softmax(torch.tensor(zt), 1), torch.tensor(y), reduction="none")
    np.testing.assert_allclose(al.nll_loss(al.log_softmax(zt, axis=1), y, axis=1,
                                           reduction="none").data, ref.numpy(), rtol=1e-12)
    assert np.isnan(al.nll_loss(al.log_softmax(z[0]), np.full(3, -100)).item())   # as PyTorch


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")   # torch's
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(dtype, log_target, rng):
    logq = np.log(rng.dirichlet(np.ones(5), size=3)).astype(dtype)
    p = rng.dirichlet(np.ones(5), size=3).astype(dtype)
    p[0, 0] = 0.0                                                # a zero probability: term 0
    t = np.log(p + 1e-3).astype(dtype) if log_target else p
    grads = (0, 1) if log_target else (0,)
    _compare(al.kl_div, F.kl_div, [logq, t], dtype, grad_args=grads,
             reduction_kw=["mean", "sum", "none", "batchmean"], log_target=log_target)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_div_target_gradient_where_positive(dtype, rng):
    logq = np.log(rng.dirichlet(np.ones(4), size=2)).astype(dtype)
    p = rng.dirichlet(np.ones(4), size=2).astype(dtype)
    _compare(al.kl_div, F.kl_div, [logq, p], dtype, grad_args=(0, 1),
             reduction_kw=["batchmean"])


@pytest.mark.parametrize("dtype", DTYPES)
def test_margin_ranking_and_cosine_embedding_match_torch(dtype, rng):
    a = rng.standard_normal(6).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    y = np.array([1, -1, 1, -1, 1, -1], dtype)
    _compare(al.margin_ranking_loss, F.margin_ranking_loss, [a, b, y], dtype, grad_args=(0, 1),
             margin=0.3)
    x1 = rng.standard_normal((6, 4)).astype(dtype)
    x2 = rng.standard_normal((6, 4)).astype(dtype)
    x2[0] = 0.0                                        # a zero vector (eps keeps it finite)
    ill = dict(rtol=1e-8, atol=1e-12) if dtype == np.float64 else None   # |grad| ~ 1e4 at 0
    _compare(al.cosine_embedding_loss, F.cosine_embedding_loss, [x1, x2, y], dtype,
             grad_args=(0, 1), margin=-0.2, tol=ill)
    _compare(al.cosine_embedding_loss, F.cosine_embedding_loss, [x1[1], x2[1], y[:1][0]], dtype,
             grad_args=(0, 1))


CASES = {
    "mse_loss": (lambda x, t: al.mse_loss(x, t), [(3, 2), (3, 2)]),
    "l1_loss": (lambda x, t: al.l1_loss(x, t, reduction="sum"), [(4,), (4,)]),
    "smooth_l1_loss": (lambda x, t: al.smooth_l1_loss(x, t, beta=0.7), [(5,), (5,)]),
    "huber_loss": (lambda x, t: al.huber_loss(x, t, delta=0.8, reduction="none"), [(5,), (5,)]),
    "binary_cross_entropy": (lambda x, t: al.binary_cross_entropy(al.sigmoid(x), t.sigmoid()),
                             [(2, 3), (2, 3)]),
    "nll_loss": (lambda x: al.nll_loss(al.log_softmax(x), np.array([2, 0, -100]),
                                       weight=np.array([1.0, 2.0, 0.5])), [(3, 3)]),
    "kl_div": (lambda x, t: al.kl_div(al.log_softmax(x), al.softmax(t), reduction="batchmean"),
               [(2, 4), (2, 4)]),
    "kl_div log_target": (lambda x, t: al.kl_div(x, t, log_target=True), [(2, 4), (2, 4)]),
    "margin_ranking_loss": (lambda a, b: al.margin_ranking_loss(a, b, np.array([1, -1, 1, -1]),
                                                                margin=0.1), [(4,), (4,)]),
    "cosine_embedding_loss": (lambda a, b: al.cosine_embedding_loss(
        a, b, np.array([1, -1, 1]), margin=-0.5), [(3, 4), (3, 4)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_and_gradgradcheck(name):
    f, shapes = CASES[name]
    rng = np.random.default_rng(7)
    xs = [rng.standard_normal(s) for s in shapes]
    assert al.gradcheck(f, xs)
    assert al.gradgradcheck(f, xs)


@pytest.mark.parametrize("call, error, match", [
    (lambda: al.mse_loss(np.ones((3, 1)), np.ones(3)), ValueError,
     r"mse_loss: target has shape \(3,\), input has shape \(3, 1\)"),
    (lambda: al.l1_loss(np.ones(3), np.ones(3), reduction="avg"), ValueError,
     "l1_loss: unknown reduction 'avg'"),
    (lambda: al.mse_loss(np.arange(3), np.ones(3)), TypeError, "mse_loss: input must be floating"),
    (lambda: al.smooth_l1_loss(np.ones(2), np.ones(2), beta=-1.0), ValueError,
     "smooth_l1_loss: beta must be finite and >= 0"),
    (lambda: al.huber_loss(np.ones(2), np.ones(2), delta=0.0), ValueError,
     "huber_loss: delta must be positive"),
    (lambda: al.binary_cross_entropy(np.array([0.5, 1.5]), np.ones(2)), ValueError,
     r"binary_cross_entropy: input must be probabilities in \[0, 1\], got input\[1\] = 1.5"),
    (lambda: al.nll_loss(np.zeros((2, 3)), np.array([0, 3])), IndexError,
     r"nll_loss: target\[1\] = 3 is not a class index in \[0, 3\)"),
    (lambda: al.nll_loss(np.zeros((2, 3)), np.array([0.0, 1.0])), ValueError,
     r"nll_loss: target must be integer class indices of shape \(2,\)"),
    (lambda: al.nll_loss(np.zeros((2, 3)), np.array([0, 1]), weight=np.ones(2)), ValueError,
     "nll_loss: weight must be 3 numbers"),
    (lambda: al.kl_div(np.zeros(()), np.zeros(()), reduction="batchmean"), ValueError,
     "kl_div: reduction='batchmean' needs a batch axis"),
    (lambda: al.cosine_embedding_loss(np.ones((1, 2, 2)), np.ones((1, 2, 2)), [1]), ValueError,
     "cosine_embedding_loss: inputs must be 1-D or 2-D"),
    (lambda: al.margin_ranking_loss(np.ones(2), np.ones(2), ["a", "b"]), TypeError,
     "margin_ranking_loss: target must be numbers"),
])
def test_bad_inputs_are_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_float32_stays_float32_and_targets_are_converted():
    x = al.Tensor(np.ones(3, np.float32), requires_grad=True)
    loss = al.mse_loss(x, np.zeros(3))                          # a float64 array target
    assert loss.dtype == np.float32
    with pytest.raises(TypeError, match="mse_loss: target has dtype float64, input has dtype"):
        al.mse_loss(x, al.Tensor(np.zeros(3), requires_grad=True))


@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_inputs_match_torch(dtype):
    """Huge residuals, huge and tiny log-probabilities, log-targets far out: finite, as PyTorch."""
    big = 1e4 if dtype == np.float32 else 1e150
    x = np.array([big, -big, 0.5, 0.0], dtype)
    t = np.array([-big, big, 0.5, 1e-30], dtype)
    for name, kw in [("smooth_l1_loss", dict(beta=0.5)), ("huber_loss", dict(delta=2.0)),
                     ("margin_ranking_loss", dict(margin=1.0))]:
        args = [x, t] if name != "margin_ranking_loss" else [x, t, np.array([1, -1, 1, -1], dtype)]
        _compare(getattr(al, name), getattr(F, name), args, dtype, grad_args=(0, 1), **kw)
    logp = np.array([[-1e4, 0.0, -1e4], [-0.0, -80.0, -1e3]], dtype)
    _compare(lambda a, b, reduction: al.nll_loss(a, b, reduction=reduction),
             lambda a, b, reduction: F.nll_loss(a, b, reduction=reduction),
             [logp, np.array([0, 2])], dtype)
    q = np.array([[-1e4, -1e-8, -50.0]], dtype)
    p = np.array([[0.0, 1.0, 1e-30 if dtype == np.float64 else 1e-38]], dtype)
    _compare(al.kl_div, F.kl_div, [q, p], dtype, reduction_kw=["sum", "none"])
    _compare(al.kl_div, F.kl_div, [q, q], dtype, grad_args=(0, 1), reduction_kw=["sum"],
             log_target=True)
