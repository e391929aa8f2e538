"""Softmax cross-entropy, fused and composed: against each other, finite differences, PyTorch and
the closed-form gradient, over every option combination; extreme logits; errors; second
derivatives."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import ops, threads
from autograd_lite.functional import cross_entropy as public_cross_entropy
from autograd_lite.functional import naive_cross_entropy, softmax
from autograd_lite.fused import cross_entropy as fused_ce

from .spec import _torch_cross_entropy, np_cross_entropy

C = 4


def cross_entropy(logits, target, **kw):
    """Classes on the last axis throughout this file (logits with more than two axes need an
    explicit axis when the target fits both layouts)."""
    return public_cross_entropy(logits, target, **{"axis": -1, **kw})


WEIGHT = np.array([0.5, 1.0, 2.0, 1.5])
BATCH_SHAPES = [(3,), (2, 3), (2, 1, 2)]
OPTIONS = list(itertools.product(
    ("mean", "sum", "none"),          # reduction
    (None, "w"),                      # weight
    (None, 1, -100),                  # ignore_index (a real class, or a sentinel)
    (0.0, 0.25),                      # label smoothing
    ("index", "prob"),                # target form
    BATCH_SHAPES,                     # 1-3 leading batch dims
))
OPTIONS = [o for o in OPTIONS if not (o[4] == "prob" and o[2] is not None)]  # an error, as in torch
IDS = [f"{r}-w{w}-ign{i}-ls{ls}-{kind}-{shape}" for r, w, i, ls, kind, shape in OPTIONS]


def _case(reduction, weight, ignore, smoothing, kind, batch, seed=0):
    """Logits (float64), a target and keyword options for one combination."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=batch + (C,))
    if kind == "prob":
        target = rng.random(batch + (C,))          # soft, not normalised: Σ ≠ 1
    else:
        target = rng.integers(0, C, batch)
        if ignore is not None:
            target.flat[0] = ignore                 # at least one ignored position
            target.flat[-1] = 2                     # at least one counted position
    kw = dict(weight=None if weight is None else WEIGHT, ignore_index=ignore,
              reduction=reduction, label_smoothing=smoothing)
    return z, target, kw


def _value_and_grad(z, target, **kw):
    t = al.Tensor(z, requires_grad=True)
    out = cross_entropy(t, target, **kw)
    out.backward(np.ones(out.shape, dtype=out.dtype))
    return out.data, t.grad.data


@pytest.mark.parametrize("options", OPTIONS, ids=IDS)
def test_fused_equals_composed_and_numpy(options):
    z, target, kw = _case(*options)
    v_fused, g_fused = _value_and_grad(z, target, **kw)
    v_comp, g_comp = _value_and_grad(z, target, fused=False, **kw)
    np.testing.assert_allclose(v_fused, v_comp, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g_fused, g_comp, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(v_fused, np_cross_entropy(z, target=target, **kw), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("options", OPTIONS, ids=IDS)
def test_both_match_finite_differences(options):
    z, target, kw = _case(*options)
    for fused in (True, False):
        assert al.gradcheck(lambda t: cross_entropy(t, target, fused=fused, **kw), [z],
                            atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", OPTIONS, ids=IDS)
def test_both_match_pytorch(options, dtype):
    torch = pytest.importorskip("torch")
    z, target, kw = _case(*options)
    z = z.astype(dtype)
    tz = torch.tensor(z, requires_grad=True)
    tout = _torch_cross_entropy(tz, target=target, **kw)
    tout.backward(torch.ones_like(tout))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    for fused in (True, False):
        value, grad = _value_and_grad(z, target, fused=fused, **kw)
        assert value.dtype == grad.dtype == dtype
        np.testing.assert_allclose(value, tout.detach().numpy(), **tol)
        np.testing.assert_allclose(grad, tz.grad.numpy(), **tol)


@pytest.fixture
def tiny_blocks(monkeypatch):
    """The fused kernel's path for large logits on small ones: ``exp`` unshifted (the max only
    where a row sum leaves the safe range), one row per block, blocks shared by three threads."""
    monkeypatch.setattr(fused_ce, "SHIFT_ALL_BYTES", 0)
    monkeypatch.setattr(fused_ce, "BLOCK_BYTES", 1)
    monkeypatch.setattr(threads, "MIN_BLOCK_BYTES", 1)
    al.set_num_threads(3)
    yield
    al.set_num_threads(1)


@pytest.mark.parametrize("options", OPTIONS, ids=IDS)
def test_the_blocked_kernel_on_threads_matches_pytorch(options, tiny_blocks):
    # float32, the last position's logits shifted by 90 (exp overflows there: that row alone is
    # shifted, in a later block), and an upstream g that is not 1 (the VJP's scaling pass)
    torch = pytest.importorskip("torch")
    z, target, kw = _case(*options)
    z = z.astype(np.float32)
    z.reshape(-1, C)[-1] += 90
    tz = torch.tensor(z, requires_grad=True)
    tout = _torch_cross_entropy(tz, target=target, **kw)
    g = np.random.default_rng(1).uniform(0.5, 2, tout.shape).astype(np.float32)
    tout.backward(torch.tensor(g))
    t = al.Tensor(z, requires_grad=True)
    out = cross_entropy(t, target, **kw)
    out.backward(g)
    assert threads._STATE["pool"] is not None or z.shape[0] == 1
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(t.grad.data, tz.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_probability_targets_get_gradients_too():
    """Soft targets that require grad: d loss / d t = −(1 − ε)·w ⊙ log softmax(z), as PyTorch."""
    z, target, kw = _case("mean", "w", None, 0.25, "prob", (2, 3))
    for fused in (True, False):
        assert al.gradcheck(lambda z, t: cross_entropy(z, t, fused=fused, **kw), [z, target])
    torch = pytest.importorskip("torch")
    tt = torch.tensor(target, requires_grad=True)
    _torch_cross_entropy(torch.tensor(z), target=tt, **kw).backward()
    t = al.Tensor(target, requires_grad=True)
    cross_entropy(z, t, **kw).backward()
    np.testing.assert_allclose(t.grad.data, tt.grad.numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# The closed form


@pytest.mark.parametrize("fused", [True, False])
def test_mean_gradient_is_softmax_minus_onehot_over_n(fused, rng):
    n = 16
    z = rng.normal(size=(n, 7))
    y = rng.integers(0, 7, n)
    _, grad = _value_and_grad(z, y, fused=fused)
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    np.testing.assert_allclose(grad, (p - np.eye(7)[y]) / n, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("fused", [True, False])
def test_soft_targets_summing_to_tau_give_p_tau_minus_y(fused, rng):
    z = rng.normal(size=(5, 6))
    y = rng.random((5, 6)) * rng.uniform(0.2, 3.0, (5, 1))     # each row sums to its own τ
    _, grad = _value_and_grad(z, y, reduction="sum", fused=fused)
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    np.testing.assert_allclose(grad, p * y.sum(-1, keepdims=True) - y, rtol=1e-12, atol=1e-15)


def test_class_axis_can_be_anywhere(rng):
    z = rng.normal(size=(2, 5, 3))           # classes on axis 1, as PyTorch lays them out
    y = rng.integers(0, 5, (2, 3))
    for fused in (True, False):
        moved = cross_entropy(np.moveaxis(z, 1, -1), y, fused=fused, reduction="none")
        np.testing.assert_allclose(cross_entropy(z, y, axis=1, fused=fused,
                                                 reduction="none").data, moved.data, rtol=1e-14)
        assert al.gradcheck(lambda t: cross_entropy(t, y, axis=1, fused=fused), [z])


@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize("layout", ["F", "transposed", "strided"])
def test_logits_in_any_memory_layout(layout, large, rng, monkeypatch):
    # the picked logits and the subtraction at the targets use flat offsets into C-ordered
    # arrays: other layouts must take the per-axis index instead (small and blocked paths)
    if large:
        monkeypatch.setattr(fused_ce, "SHIFT_ALL_BYTES", 0)
        monkeypatch.setattr(fused_ce, "BLOCK_BYTES", 1)
    base = rng.normal(size=(6, 5))
    z = {"F": np.asfortranarray(base), "transposed": base.T.copy().T,
         "strided": np.repeat(base, 2, axis=1)[:, ::2]}[layout]
    assert not z.flags.c_contiguous
    y = np.array([0, 4, 2, 2, 1, 3])
    for kw in ({}, {"reduction": "none"}, {"label_smoothing": 0.1, "weight": np.ones(5)}):
        got = _value_and_grad(z, y, **kw)
        want = _value_and_grad(np.ascontiguousarray(z), y, **kw)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("large", [False, True])
def test_no_positions_and_classes_along_axis_0(large, monkeypatch):
    # empty batches (every reduction) and 1-d logits (the class axis is the only one: the
    # blocks cannot cut it) on both paths of the kernel
    if large:
        monkeypatch.setattr(fused_ce, "SHIFT_ALL_BYTES", 0)
        monkeypatch.setattr(fused_ce, "BLOCK_BYTES", 1)
    for reduction in ("none", "sum", "mean"):
        value, grad = _value_and_grad(np.zeros((0, 4)), np.zeros(0, int), reduction=reduction)
        assert grad.shape == (0, 4) and (np.isnan(value) if reduction == "mean" else value == 0
                                         if reduction == "sum" else value.shape == (0,))
    z = np.array([1.0, 2.0, 95.0, -3.0], dtype=np.float32)
    for g in (1.0, 0.5):
        t = al.Tensor(z, requires_grad=True)
        public_cross_entropy(t, np.array(2), reduction="sum").backward(np.float32(g))
        p = np.exp(z.astype(np.float64) - 95.0)
        p /= p.sum()
        np.testing.assert_allclose(t.grad.data, g * (p - np.eye(4)[2]), atol=1e-7)


def test_fused_is_one_node_that_saves_only_the_softmax(rng):
    z = al.Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    loss = cross_entropy(z, np.array([0, 2, 1, 1]))
    assert loss.op is ops.OPS["cross_entropy"]
    assert all(p.is_leaf for p in loss._parents)
    saved = loss._params["saved"]
    assert [a.shape for a in saved] == [(4, 3)]      # one array: softmax(z)·τ/N, τ = 1 here
    np.testing.assert_allclose(saved.p * 4, softmax(z).data, rtol=1e-15)
    assert "P" in loss.op.rules[0] and "Y" in loss.op.rules[0]
    composed = cross_entropy(z, np.array([0, 2, 1, 1]), fused=False)
    assert len(al.engine.toposort(composed)) > 3


# ---------------------------------------------------------------------------------------------
# Stability


EXTREME = [
    (np.array([[1e4, -1e4, 0.0]]), np.array([1])),
    (np.array([[1000.0, 2000.0, 3000.0]]), np.array([0])),
    (np.array([[5.0, 5.0, 5.0]]), np.array([2])),
    (np.array([[-1e4, 1e4, 3.0], [1000.0, 2000.0, 3000.0], [7.0, 7.0, 7.0]]),
     np.array([0, 1, 2])),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("z", "y"), EXTREME, ids=["pm1e4", "1000-3000", "equal", "all"])
def test_extreme_logits_stay_finite_and_naive_does_not(z, y, dtype):
    z = z.astype(dtype)
    expected = np_cross_entropy(z.astype(np.float64), target=y)
    for fused in (True, False):
        value, grad = _value_and_grad(z, y, fused=fused)
        assert np.isfinite(value) and np.isfinite(grad).all()
        np.testing.assert_allclose(value, expected, rtol=1e-6)
        p = softmax(z.astype(np.float64)).data
        np.testing.assert_allclose(grad, (p - np.eye(3)[y]) / len(y), rtol=1e-6, atol=1e-7)
    naive = naive_cross_entropy(z, y)
    equal_rows_only = np.all(z == z[:, :1])
    assert np.isfinite(naive.item()) == bool(equal_rows_only)


def test_naive_softmax_overflows_as_documented():
    with np.errstate(all="ignore"):
        assert np.isnan(softmax(np.array([1000.0, 2000.0, 3000.0]), naive=True).data).all()
    np.testing.assert_allclose(softmax(np.array([1000.0, 2000.0, 3000.0])).data, [0, 0, 1])


# ---------------------------------------------------------------------------------------------
# Errors


BAD = [
    (np.zeros((2, 3)), np.array([0, 3]), {}, IndexError, r"target\[1\] = 3 .*\[0, 3\)"),
    (np.zeros((2, 2, 3)), np.array([[0, 1], [-1, 2]]), {}, IndexError, r"target\[1, 0\] = -1"),
    (np.zeros((2, 3)), np.array([0, 5]), {"ignore_index": 5}, None, None),
    (np.zeros((2, 3)), np.array([0, 1, 2]), {}, ValueError, r"fits neither form.*\(2,\)"),
    (np.zeros((2, 3)), np.zeros((2, 4)), {}, ValueError, "fits neither form"),
    (np.zeros((2, 3)), np.array([0.0, 1.0]), {}, ValueError, "integer array of shape"),
    (np.zeros((2, 3)), np.array([[0.5, np.nan, 0.5], [1, 0, 0]]), {}, ValueError,
     r"finite.*target\[0, 1\] = nan"),
    (np.zeros((2, 3)), np.array([0, 1]), {"weight": np.ones(4)}, ValueError,
     r"weight has shape \(4,\), expected \(3,\)"),
    (np.zeros((2, 3)), np.array([0, 1]), {"reduction": "avg"}, ValueError,
     "unknown reduction 'avg'"),
    (np.zeros((2, 3), dtype=np.int64), np.array([0, 1]), {}, TypeError,
     "logits must be floating point, got dtype int64"),
    (np.zeros((2, 3)), np.array([0, 1]), {"label_smoothing": 1.5}, ValueError,
     r"label_smoothing must be in \[0, 1\]"),
    (np.zeros(()), np.array(0), {}, ValueError, "class axis"),
    (np.zeros((2, 3)), np.ones((2, 3)), {"ignore_index": 0}, ValueError,
     "ignore_index=0 applies to class-index targets only"),
]


@pytest.mark.parametrize(("z", "y", "kw", "error", "match"), BAD)
@pytest.mark.parametrize("fused", [True, False])
def test_bad_input_raises_a_clear_error(z, y, kw, error, match, fused):
    if error is None:          # an ignored sentinel may lie outside [0, C)
        assert np.isfinite(cross_entropy(z, y, fused=fused, **kw).item())
        return
    with pytest.raises(error, match=f"cross_entropy: .*{match}"):
        cross_entropy(z, y, fused=fused, **kw)


@pytest.mark.parametrize("fused", [True, False])
def test_the_full_scans_run_only_on_the_error_path(fused, monkeypatch):
    # valid targets are checked by one reduction (class indices) or by the loss being finite
    # (probabilities); the scans that name a bad value run only when those fail
    def scan(*args):
        raise AssertionError("a full scan on the fast path")
    monkeypatch.setattr(fused_ce, "check_classes", scan)
    monkeypatch.setattr(fused_ce, "check_probabilities", scan)
    monkeypatch.setattr(al.functional, "check_probabilities", scan)
    z = np.random.default_rng(0).normal(size=(4, 3))
    for y, kw in [(np.array([0, 2, 1, 1]), {}), (np.array([0, -100, 1, 1]), {}),
                  (np.array([0, 2, 1, 1]), {"ignore_index": 1}),
                  (np.random.default_rng(1).random((4, 3)), {"label_smoothing": 0.1})]:
        assert np.isfinite(cross_entropy(z, y, fused=fused, **kw).item())


@pytest.mark.parametrize("dtype", ["int8", "int32", ">i8", "uint8", "uint64"])
@pytest.mark.parametrize("ignore_index", [-100, None, 2])
def test_the_one_reduction_range_check_holds_for_every_integer_dtype(dtype, ignore_index):
    # the common case is checked with one reduction over the targets read as unsigned (a
    # negative index wraps above C); the culprit is then found and named
    z = np.random.default_rng(0).normal(size=(4, 3))
    good = np.array([0, 2, 1, 1]).astype(dtype)
    want = cross_entropy(z, good.astype(np.int64), ignore_index=ignore_index).item()
    assert cross_entropy(z, good, ignore_index=ignore_index).item() == want
    for bad, shown in ([0, 1, 3, 1], 3), ([0, -1, 1, 1], -1):
        if np.dtype(dtype).kind == "u" and shown < 0:
            continue
        with pytest.raises(IndexError, match=rf"target\[{bad.index(shown)}\] = {shown} "):
            cross_entropy(z, np.array(bad).astype(dtype), ignore_index=ignore_index)
    if np.dtype(dtype).kind == "i" and ignore_index == -100:    # the sentinel itself is fine
        y = np.array([0, -100, 1, 1]).astype(dtype)
        assert cross_entropy(z, y).item() == pytest.approx(
            cross_entropy(z[[0, 2, 3]], np.array([0, 1, 1])).item(), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Second derivatives


def _hvp(z, target, v, **kw):
    """H·v by differentiating the gradient recorded with create_graph=True."""
    t = al.Tensor(z, requires_grad=True)
    cross_entropy(t, target, **kw).sum().backward(create_graph=True)
    g = t.grad
    assert g.requires_grad
    t.grad = None
    (g * v).sum().backward()
    return t.grad.data


SECOND = [o for o in OPTIONS if o[-1] == (2, 3) and o[2] != -100]


@pytest.mark.parametrize("options", SECOND, ids=[f"{o}" for o in SECOND])
def test_hessian_vector_products_fused_equal_composed(options):
    z, target, kw = _case(*options)
    v = np.random.default_rng(7).normal(size=z.shape)
    np.testing.assert_allclose(_hvp(z, target, v, **kw), _hvp(z, target, v, fused=False, **kw),
                               rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("kind", ["index", "prob"])
def test_hessian_vector_product_matches_pytorch(kind):
    torch = pytest.importorskip("torch")
    z, target, kw = _case("mean", "w", None, 0.25, kind, (3,))
    v = np.random.default_rng(3).normal(size=z.shape)
    tz = torch.tensor(z, requires_grad=True)
    (g,) = torch.autograd.grad(_torch_cross_entropy(tz, target=target, **kw), tz,
                               create_graph=True)
    (tg,) = torch.autograd.grad((g * torch.tensor(v)).sum(), tz)
    for fused in (True, False):
        np.testing.assert_allclose(_hvp(z, target, v, fused=fused, **kw), tg.numpy(),
                                   rtol=1e-10, atol=1e-13)


def test_softmax_jacobian_is_diag_p_minus_ppt(rng):
    """The Hessian of CE in z is the softmax Jacobian diag(p) − p pᵀ (for one position)."""
    z = rng.normal(size=(5,))
    p = softmax(z).data
    rows = [_hvp(z, np.array(1), e) for e in np.eye(5)]
    np.testing.assert_allclose(np.array(rows), np.diag(p) - np.outer(p, p), atol=1e-14)


@pytest.mark.parametrize("top", [0.0, 30.0, 75.0, 78.0, 85.0, 88.0, -85.0, -100.0])
def test_fused_is_exact_on_both_sides_of_the_unshifted_exp_fast_path(top):
    # The fused forward skips the max subtraction only when exp(z) is safe for every row; near
    # float32's exp limits (88.7 overflow, −87.3 smallest normal) it must shift and stay exact.
    rng = np.random.default_rng(3)
    z = (rng.normal(size=(6, 10)) + top).astype(np.float32)
    y = rng.integers(0, 10, size=6)
    zt = al.Tensor(z, requires_grad=True)
    loss = al.functional.cross_entropy(zt, y)
    loss.backward()
    z64 = z.astype(np.float64)
    m = z64.max(axis=1, keepdims=True)
    logp = z64 - m - np.log(np.exp(z64 - m).sum(axis=1, keepdims=True))
    p = np.exp(logp)
    onehot = np.eye(10)[y]
    assert np.isfinite(loss.item()) and np.isfinite(zt.grad.data).all()
    np.testing.assert_allclose(loss.item(), -logp[np.arange(6), y].mean(), rtol=1e-5)
    np.testing.assert_allclose(zt.grad.data, (p - onehot) / 6, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# PyTorch's contract at the edges (issue 14: items 4, 5 and "Cross-entropy: PyTorch's contract")


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.2}, {"weight": WEIGHT},
                                {"weight": WEIGHT, "label_smoothing": 0.1}])
def test_an_all_ignored_batch_has_a_nan_mean_and_a_zero_gradient(fused, kw):
    torch = pytest.importorskip("torch")
    z = np.random.default_rng(0).normal(size=(3, C))
    y = np.full(3, -100)
    t = al.Tensor(z, requires_grad=True)
    loss = public_cross_entropy(t, y, fused=fused, **kw)
    loss.backward()
    tz = torch.tensor(z, requires_grad=True)
    tl = _torch_cross_entropy(tz, target=y, **dict(kw))
    tl.backward()
    assert np.isnan(loss.item()) and np.isnan(tl.item())
    np.testing.assert_array_equal(t.grad.data, tz.grad.numpy())
    np.testing.assert_array_equal(t.grad.data, np.zeros_like(z))
    # second order: the Hessian-vector product is zero too
    hv = al.hvp(lambda u: public_cross_entropy(u, y, fused=fused, **kw), z, np.ones_like(z))
    np.testing.assert_array_equal(hv, np.zeros_like(z))


@pytest.mark.parametrize("fused", [True, False])
def test_large_logits_do_not_cancel(fused):
    torch = pytest.importorskip("torch")
    z16 = np.full((1, 4), 1e4, dtype=np.float16)
    np.testing.assert_allclose(al.log_softmax(z16).data, np.full((1, 4), -np.log(4)), rtol=1e-3)
    assert public_cross_entropy(z16, np.array([2]), fused=fused).item() == pytest.approx(
        np.log(4), rel=1e-3)
    z = (np.random.default_rng(1).normal(size=(8, 5)) + 1e4).astype(np.float32)
    y = np.arange(8) % 5
    want = torch.nn.functional.cross_entropy(torch.tensor(z, dtype=torch.float64),
                                             torch.tensor(y)).item()
    got = public_cross_entropy(z, y, fused=fused).item()
    assert abs(got - want) < 1e-6
    np.testing.assert_allclose(
        al.log_softmax(z).data,
        torch.log_softmax(torch.tensor(z, dtype=torch.float64), -1).numpy(), atol=2e-6)


def test_log_softmax_stays_a_graph_of_primitives_and_twice_differentiable(rng):
    from autograd_lite.functional import log_softmax  # the composed one
    z = rng.normal(size=(3, 4)) * 5
    assert al.gradcheck(lambda t: log_softmax(t, axis=0), [z])
    assert al.gradgradcheck(lambda t: log_softmax(t, axis=-1), [z])
    out = log_softmax(al.Tensor(z, requires_grad=True))
    names = {n.op.name for n in al.engine.toposort(out) if getattr(n, "op", None) is not None}
    assert names <= set(ops.OPS) and "logsumexp" in names


@pytest.mark.parametrize("fused", [True, False])
def test_ignore_index_defaults_to_minus_100_as_in_pytorch(fused):
    torch = pytest.importorskip("torch")
    z = np.random.default_rng(2).normal(size=(4, C))
    y = np.array([1, -100, 3, -100])
    t = al.Tensor(z, requires_grad=True)
    loss = public_cross_entropy(t, y, fused=fused)
    loss.backward()
    tz = torch.tensor(z, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tz, torch.tensor(y))
    tl.backward()
    assert loss.item() == pytest.approx(tl.item(), rel=1e-12)
    np.testing.assert_allclose(t.grad.data, tz.grad.numpy(), rtol=1e-12, atol=1e-15)
    with pytest.raises(IndexError, match="ignore_index -100"):
        public_cross_entropy(z, np.array([1, -1, 0, 0]), fused=fused)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.2}, {"weight": WEIGHT}])
@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_an_ignored_position_counts_for_exactly_nothing(fused, kw, bad):
    """An ignored position's loss is 0 and its gradient exactly 0 even when its logits or its
    upstream gradient are infinite or NaN (0·inf would be NaN), as in PyTorch; the others'
    are untouched. Found by the fuzzer: hypot(x, ce) at (0, 0) sends NaN upstream."""
    with np.errstate(all="ignore"):      # (inf·0 and NaN on purpose)
        _ignored_position_check(fused, kw, bad)


def _ignored_position_check(fused, kw, bad):
    torch = pytest.importorskip("torch")
    z = np.random.default_rng(4).normal(size=(4, C))
    z[3] = bad                                        # an ignored row of non-finite logits
    y = np.array([1, -100, 3, -100])
    g = np.array([1.0, bad, 2.0, 1.0])                # a non-finite upstream at position 1
    t = al.Tensor(z, requires_grad=True)
    loss = public_cross_entropy(t, y, reduction="none", fused=fused, **kw)
    loss.backward(g)
    tz = torch.tensor(z, requires_grad=True)
    tl = _torch_cross_entropy(tz, target=y, reduction="none", **kw)
    tl.backward(torch.tensor(g))
    np.testing.assert_array_equal(loss.data[[1, 3]], [0.0, 0.0])
    np.testing.assert_array_equal(t.grad.data[1], np.zeros(C))
    np.testing.assert_allclose(loss.data, tl.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(t.grad.data[:3], tz.grad.numpy()[:3], rtol=1e-12, atol=1e-15)
    # The ignored row of non-finite logits: the fused VJP knows the loss does not depend on it
    # (0); composed, log_softmax's own VJP gives 0·NaN there, as PyTorch's does (NaN).
    want = np.zeros(C) if fused else tz.grad.numpy()[3]
    np.testing.assert_array_equal(t.grad.data[3], want)
    # a scalar upstream that is not finite: the ignored rows stay 0 (mean and sum)
    for reduction in ("mean", "sum"):
        t = al.Tensor(z[:3], requires_grad=True)
        public_cross_entropy(t, y[:3], reduction=reduction, fused=fused, **kw).backward(
            np.float64(bad))
        np.testing.assert_array_equal(t.grad.data[1], np.zeros(C))
        assert np.isnan(t.grad.data[[0, 2]]).all() or np.isinf(t.grad.data[[0, 2]]).any()


@pytest.mark.parametrize("fused", [True, False])
def test_probability_targets_may_be_any_finite_reals(fused):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    z, y = rng.normal(size=(5, C)), rng.normal(size=(5, C)) * 3     # negative, unnormalised
    t = al.Tensor(z, requires_grad=True)
    loss = public_cross_entropy(t, y, reduction="sum", fused=fused)
    loss.backward()
    tz = torch.tensor(z, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tz, torch.tensor(y), reduction="sum")
    tl.backward()
    assert loss.item() == pytest.approx(tl.item(), rel=1e-12)
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    np.testing.assert_allclose(t.grad.data, p * y.sum(-1, keepdims=True) - y, rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(t.grad.data, tz.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert al.gradcheck(lambda u: public_cross_entropy(u, y, fused=fused), [z])


@pytest.mark.parametrize("fused", [True, False])
def test_more_than_two_axes_without_axis_name_both_readings(fused):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    z = rng.normal(size=(2, 4, 4, 4))
    y = rng.integers(0, 4, (2, 4, 4))
    with pytest.raises(ValueError, match=r"axis 1 \(PyTorch's layout.*axis -1.*pass axis=1"):
        public_cross_entropy(z, y, fused=fused)
    with pytest.raises(ValueError, match="pass axis=1"):           # probabilities: always both
        public_cross_entropy(z, rng.random(z.shape), fused=fused)
    want = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor(y)).item()
    assert public_cross_entropy(z, y, axis=1, fused=fused).item() == pytest.approx(want)
    assert public_cross_entropy(z, y, axis=-1, fused=fused).item() != pytest.approx(want)
    # only PyTorch's layout fits: it is taken (and matches PyTorch)
    z3, y3 = rng.normal(size=(2, 3, 5)), rng.integers(0, 3, (2, 5))
    want = torch.nn.functional.cross_entropy(torch.tensor(z3), torch.tensor(y3)).item()
    assert public_cross_entropy(z3, y3, fused=fused).item() == pytest.approx(want, rel=1e-12)
    # only the last-axis layout fits: it is taken
    y4 = rng.integers(0, 5, (2, 3))
    assert public_cross_entropy(z3, y4, fused=fused).item() == pytest.approx(
        public_cross_entropy(z3, y4, axis=-1, fused=fused).item())


def test_the_composed_loss_validates_once_at_the_boundary(monkeypatch, rng):
    from autograd_lite import functional
    calls = []
    for name in ("_float", "_check_ce"):
        real = getattr(functional, name)
        monkeypatch.setattr(functional, name,
                            lambda *a, _real=real, _n=name, **k: calls.append(_n) or _real(*a, **k))
    z = al.Tensor(rng.normal(size=(3, C)), requires_grad=True)
    functional.cross_entropy(z, np.array([0, 1, 2]), fused=False, label_smoothing=0.1).backward()
    assert calls == ["_check_ce"]
