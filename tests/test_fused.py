"""The fused pairs (autograd_lite.fused): fused ≡ composed to rounding, one node saving only what
its VJP needs, second derivatives, PyTorch parity in float32 and float64, extreme inputs,
attention's blocks and memory, errors, LayerNorm and a BCE classifier."""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import fused as F
from autograd_lite.fused import attention

THOROUGH = os.environ.get("AUTOGRAD_LITE_THOROUGH") == "1"


def _pairs(rng):
    """(name, fn(fused) -> f(*tensors), float64 inputs) for every pair."""
    z, y = rng.normal(size=(4, 5)), rng.random((4, 5))
    x, w, b = rng.normal(size=(3, 2, 6)), rng.normal(size=6), rng.normal(size=6)
    q, k, v = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 7, 3)), rng.normal(size=(2, 7, 4))
    pw, ew = rng.random(5) + 0.5, rng.random((4, 1))
    return [
        ("log_softmax", lambda f: lambda t: F.log_softmax(t, axis=0, fused=f), [z]),
        ("softmax", lambda f: lambda t: F.softmax(t, fused=f), [z]),
        ("bce", lambda f: lambda a, t: F.binary_cross_entropy_with_logits(
            a, t, ew, pw, fused=f), [z, y]),
        ("layer_norm", lambda f: lambda a, c, d: F.layer_norm(a, 6, c, d, fused=f), [x, w, b]),
        ("layer_norm 2 axes", lambda f: lambda a: F.layer_norm(a, (2, 6), fused=f), [x]),
        ("attention", lambda f: lambda a, c, d: F.scaled_dot_product_attention(
            a, c, d, fused=f), [q, k, v]),
        ("attention causal", lambda f: lambda a, c, d: F.scaled_dot_product_attention(
            a, c, d, causal=True, fused=f), [q, k[:, :5], v[:, :5]]),
        ("attention mask", lambda f: lambda a, c, d: F.scaled_dot_product_attention(
            a, c, d, mask=np.arange(7) % 3 != 1, fused=f), [q, k, v]),
    ]


PAIR_NAMES = [p[0] for p in _pairs(np.random.default_rng(0))]


def _value_and_grads(fn, xs, dtype, u):
    ts = [al.Tensor(x.astype(dtype), requires_grad=True) for x in xs]
    out = fn(*ts)
    out.backward(u.astype(dtype).reshape(out.shape))
    return out, [t.grad.data for t in ts]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", PAIR_NAMES)
def test_fused_equals_composed_to_rounding(name, dtype, rng):
    _, make, xs = next(p for p in _pairs(rng) if p[0] == name)
    out = make(True)(*[al.Tensor(x) for x in xs])
    u = rng.normal(size=out.shape)
    a, ga = _value_and_grads(make(True), xs, dtype, u)
    b, gb = _value_and_grads(make(False), xs, dtype, u)
    assert a.dtype == b.dtype == dtype
    tol = 20 * np.finfo(dtype).eps
    np.testing.assert_allclose(a.data, b.data, rtol=tol, atol=tol)
    for x, y in zip(ga, gb):
        assert x.dtype == dtype
        np.testing.assert_allclose(x, y, rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("name", PAIR_NAMES)
def test_fused_is_one_node_and_twice_differentiable(name, rng):
    _, make, xs = next(p for p in _pairs(rng) if p[0] == name)
    ts = [al.Tensor(x, requires_grad=True) for x in xs]
    fused, composed = al.graph_stats(make(True)(*ts)), al.graph_stats(make(False)(*ts))
    assert sum(fused.ops.values()) == 1, fused.ops
    assert sum(composed.ops.values()) > 1
    assert al.gradcheck(make(True), xs)
    assert al.gradgradcheck(make(True), xs)


def test_saved_residuals_are_what_the_vjp_needs(rng):
    x = al.Tensor(rng.normal(size=(8, 16)), requires_grad=True)
    for out in (F.log_softmax(x), F.softmax(x)):          # the output only
        assert "saved" not in out._params
    ln = F.layer_norm(x, 16)
    assert [a.shape for a in ln._params["saved"]] == [(8, 1), (8, 1)]    # μ and 1/σ per row
    bce = F.binary_cross_entropy_with_logits(x, np.ones((8, 16)))
    assert "saved" not in bce._params                      # σ(−z) is recomputed from z
    q = al.Tensor(rng.normal(size=(2, 9, 4)), requires_grad=True)
    out = F.scaled_dot_product_attention(q, q, q)
    saved = out._params["saved"]
    assert saved["lse"].shape == (2, 9, 2) and saved["pending"] is None
    out.backward(np.ones(out.shape))
    assert saved["pending"] is None                         # handed over and released


@pytest.mark.parametrize("kw", [{}, {"causal": True}, {"mask": "bool"}, {"mask": "float"},
                                {"mask": "row"}])
def test_attention_blocks_agree_with_one_block(kw, rng, monkeypatch):
    q, k, v = (rng.normal(size=(2, 11, 3)) for _ in range(3))
    if kw.get("mask") == "bool":
        kw = {"mask": rng.random((11, 11)) > 0.4}
        kw["mask"][:, 0] = True                              # no fully masked row
    elif kw.get("mask") == "float":
        kw = {"mask": rng.normal(size=(2, 11, 11))}
    elif kw.get("mask") == "row":
        kw = {"mask": rng.normal(size=(11,))}
    u = rng.normal(size=(2, 11, 3))
    results = []
    for block in (128, 4, 1):
        monkeypatch.setattr(attention, "BLOCK", block)
        out, grads = _value_and_grads(lambda *t: F.scaled_dot_product_attention(*t, **kw),
                                      [q, k, v], np.float64, u)
        results.append((out.data, grads))
    out, grads = _value_and_grads(lambda *t: F.scaled_dot_product_attention(*t, fused=False, **kw),
                                  [q, k, v], np.float64, u)
    for o, gs in results:
        np.testing.assert_allclose(o, out.data, rtol=1e-12, atol=1e-12)
        for a, b in zip(gs, grads):
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


def _peak(fn, xs):
    ts = [al.Tensor(x, requires_grad=True) for x in xs]
    tracemalloc.start()
    try:
        out = fn(*ts)
        out.backward(np.ones(out.shape, out.dtype))
        return tracemalloc.get_traced_memory()[1], [t.grad.data for t in ts]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("n", [2048] if THOROUGH else [1024])
def test_attention_peak_memory_is_linear_in_n(n, rng):
    """At N = 2048, d = 64 (thorough; 1024 by default) the fused peak is ≤ 0.2× the composed one,
    with float32 gradients equal to 1e-5 relative."""
    xs = [rng.normal(size=(n, 64)).astype(np.float32) for _ in range(3)]
    fused, gf = _peak(F.scaled_dot_product_attention, xs)
    composed, gc = _peak(lambda *t: F.scaled_dot_product_attention(*t, fused=False), xs)
    assert fused <= 0.2 * composed, (fused, composed)
    for a, b in zip(gf, gc):
        assert np.abs(a - b).max() <= 1e-5 * np.abs(b).max()


def test_pytorch_parity_float32_and_extremes(rng):
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    checks = []
    z = (rng.normal(size=(6, 5)) * 30).astype(np.float32)
    z[0, 0], z[1, 1] = 1e4, -1e4
    y = (rng.random((6, 5)) > 0.5).astype(np.float32)
    pw = np.array([0.5, 1.0, 2.0, 3.0, 1.5], np.float32)
    checks.append((lambda a: F.binary_cross_entropy_with_logits(a, y, pos_weight=pw),
                   lambda a: tF.binary_cross_entropy_with_logits(
                       a, torch.as_tensor(y).to(a.dtype),
                       pos_weight=torch.as_tensor(pw).to(a.dtype)), z))
    checks.append((lambda a: F.log_softmax(a, axis=0), lambda a: tF.log_softmax(a, dim=0), z))
    checks.append((lambda a: F.softmax(a), lambda a: tF.softmax(a, dim=-1), z))
    x = (100 + rng.normal(size=(4, 8))).astype(np.float32)   # an offset
    checks.append((lambda a: F.layer_norm(a, 8), lambda a: tF.layer_norm(a, (8,)), x))
    q = (rng.normal(size=(2, 33, 8)) * 10).astype(np.float32)   # scores of order 100
    checks.append((lambda a: F.scaled_dot_product_attention(a, a, a, causal=True),
                   lambda a: tF.scaled_dot_product_attention(a, a, a, is_causal=True), q))
    for dtype in (np.float32, np.float64):
        for ours, theirs, data in checks:
            t = al.Tensor(data.astype(dtype), requires_grad=True)
            tt = torch.tensor(data.astype(dtype), requires_grad=True)
            out, tout = ours(t), theirs(tt)
            u = rng.normal(size=out.shape).astype(dtype)
            out.backward(u)
            tout.backward(torch.as_tensor(u))
            tol = 5e-5 if dtype == np.float32 else 1e-10
            assert np.isfinite(out.data).all() and np.isfinite(t.grad.data).all()
            np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=tol, atol=tol)
            np.testing.assert_allclose(t.grad.data, tt.grad.numpy(), rtol=tol, atol=tol)


def test_textbook_bce_breaks_where_the_fused_one_does_not():
    z = al.Tensor(np.array([-100.0, 50.0, 0.0], np.float32), requires_grad=True)
    y = np.array([1.0, 0.0, 1.0], np.float32)
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="sum")
    assert np.isclose(loss.item(), 150 + np.log(2), rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(z.grad.data, [-1.0, 1.0, -0.5])
    with np.errstate(all="ignore"):
        assert np.isinf(F.binary_cross_entropy_with_logits(z, y, fused=False).item())
        assert np.isclose(F.stable_composed(z, y, reduction="sum").item(), loss.item())


def test_stable_composed_bce_is_smooth_at_zero():
    z = al.Tensor(np.zeros(3), requires_grad=True)
    F.stable_composed(z, np.array([0.0, 0.5, 1.0]), reduction="sum").backward()
    np.testing.assert_allclose(z.grad.data, [0.5, 0.0, -0.5])   # σ(0) − y


def test_layer_norm_module_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    ln = al.nn.LayerNorm((3, 4))
    ln.weight.data[...] = rng.normal(size=(3, 4))
    ln.bias.data[...] = rng.normal(size=(3, 4))
    tln = torch.nn.LayerNorm((3, 4))
    with torch.no_grad():
        tln.weight.copy_(torch.as_tensor(ln.weight.data))
        tln.bias.copy_(torch.as_tensor(ln.bias.data))
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    out, tout = ln(x), tln(torch.as_tensor(x))
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ln.weight.grad.data, tln.weight.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert [n for n, _ in ln.named_parameters()] == ["weight", "bias"]
    assert al.nn.LayerNorm(4, elementwise_affine=False).parameters() == []


@pytest.mark.parametrize(("call", "kind", "message"), [
    (lambda: F.log_softmax(np.array([1, 2])), TypeError,
     "log_softmax: input must be floating point"),
    (lambda: F.softmax(np.zeros(3), axis=1), ValueError, "softmax: axis 1 is out of range"),
    (lambda: F.binary_cross_entropy_with_logits(np.zeros(3), np.zeros(2)), ValueError,
     "binary_cross_entropy_with_logits: target has shape (2,), expected the logits' shape (3,)"),
    (lambda: F.binary_cross_entropy_with_logits(np.zeros(3), np.zeros(3), reduction="avg"),
     ValueError, "unknown reduction 'avg'"),
    (lambda: F.binary_cross_entropy_with_logits(np.zeros((2, 3)), np.zeros((2, 3)),
                                                pos_weight=np.ones(2)), ValueError,
     "pos_weight of shape (2,) does not broadcast against logits (2, 3)"),
    (lambda: F.layer_norm(np.zeros((2, 3)), 4), ValueError,
     "layer_norm: normalized_shape (4,) must be the trailing dimensions of the input's shape"),
    (lambda: F.layer_norm(np.zeros((2, 3)), 3, weight=np.ones(2)), ValueError,
     "layer_norm: weight has shape (2,), expected normalized_shape (3,)"),
    (lambda: F.scaled_dot_product_attention(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 4))),
     ValueError, "scaled_dot_product_attention: shapes do not fit"),
    (lambda: F.scaled_dot_product_attention(np.zeros((2, 3)), np.zeros((2, 3)),
                                            np.zeros((2, 3)), mask=np.ones((3, 3), bool),
                                            causal=True), ValueError, "not both"),
    (lambda: F.scaled_dot_product_attention(np.zeros((2, 3)), np.zeros((2, 3)),
                                            np.zeros((2, 3)), mask=np.ones((3, 3), bool)),
     ValueError, "mask of shape (3, 3) does not broadcast to the scores' shape (2, 2)"),
])
def test_bad_inputs_name_the_function(call, kind, message):
    with pytest.raises(kind) as e:
        call()
    assert message in str(e.value)


def test_binary_classifier_trains_with_bce(rng):
    """The README's example: logistic regression on two Gaussian blobs."""
    x = np.concatenate([rng.normal(-1, 1, (100, 2)), rng.normal(1, 1, (100, 2))])
    y = np.repeat([0.0, 1.0], 100)[:, None]
    model = al.nn.Linear(2, 1, dtype=np.float64, rng=0)
    opt = al.optim.SGD(model.parameters(), lr=0.5)
    first = None
    for _ in range(100):
        loss = al.binary_cross_entropy_with_logits(model(x), y)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    accuracy = ((model(x).data > 0) == (y > 0.5)).mean()
    assert loss.item() < 0.5 * first and accuracy > 0.85


@pytest.mark.parametrize("name", PAIR_NAMES)
def test_float16_stays_float16_and_close(name, rng):
    _, make, xs = next(p for p in _pairs(rng) if p[0] == name)
    out = make(True)(*[al.Tensor(x) for x in xs])
    u = rng.normal(size=out.shape)
    half, gh = _value_and_grads(make(True), xs, np.float16, u)
    full, gf = _value_and_grads(make(True), xs, np.float64, u)
    assert half.dtype == np.float16 and all(g.dtype == np.float16 for g in gh)
    np.testing.assert_allclose(half.data, full.data, rtol=2e-2, atol=2e-2)
    for a, b in zip(gh, gf):
        np.testing.assert_allclose(a, b, rtol=5e-2, atol=5e-2 * np.abs(b).max())


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False), (False, False, True),
                                   (True, False, True)])
def test_attention_computes_and_keeps_only_the_needed_cotangents(needs, rng):
    xs = [rng.normal(size=(2, 6, 3)) for _ in range(3)]
    u = rng.normal(size=(2, 6, 3))
    ts = [al.Tensor(x, requires_grad=n) for x, n in zip(xs, needs)]
    out = F.scaled_dot_product_attention(*ts)
    out.backward(u)
    assert out._params["saved"]["pending"] is None
    ref = [al.Tensor(x, requires_grad=True) for x in xs]
    F.scaled_dot_product_attention(*ref, fused=False).backward(u)
    for t, r, n in zip(ts, ref, needs):
        if n:
            np.testing.assert_allclose(t.grad.data, r.grad.data, rtol=1e-12, atol=1e-13)
        else:
            assert t.grad is None


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("fused", [True, False])
def test_attention_rows_with_nothing_to_attend_to_give_zeros_as_pytorch(kind, fused, rng):
    torch = pytest.importorskip("torch")
    keep = np.array([[True, True, False], [False, False, False], [True, False, True]])
    mask = keep if kind == "bool" else np.where(keep, 0.0, -np.inf)
    q, u = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    t = al.Tensor(q, requires_grad=True)
    out = al.scaled_dot_product_attention(t, t, t, mask=mask, fused=fused)
    out.backward(u)
    tq = torch.tensor(q, requires_grad=True)
    tout = torch.nn.functional.scaled_dot_product_attention(tq, tq, tq,
                                                            attn_mask=torch.as_tensor(mask))
    tout.backward(torch.as_tensor(u))
    assert (out.data[1] == 0).all()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t.grad.data, tq.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_float16_softmax_is_worked_in_float32_and_rounded_once(name):
    """float16 softmax and log_softmax run in float32 and round once, as PyTorch's CPU kernels:
    the forward within an ulp of the float64 result, the VJP within an ulp of its float64 rule
    applied to the saved float16 output, where float16 throughout loses ~10 % to cancellation
    in ``g − Σ g·p`` (found by the fuzzer); the VJP no farther from it than PyTorch's."""
    rng = np.random.default_rng(5)
    x = (rng.normal(size=(64, 5)) * 3).astype(np.float16)
    g = (1 + 0.2 * rng.normal(size=(64, 5))).astype(np.float16)   # g·p sums close to g
    got = al.Tensor(x, requires_grad=True)
    out = getattr(al, name)(got, axis=-1)
    out.backward(g)
    o, g64 = out.data.astype(np.float64), g.astype(np.float64)
    rule = (g64 - np.exp(o) * g64.sum(-1, keepdims=True) if name == "log_softmax"
            else o * (g64 - (g64 * o).sum(-1, keepdims=True)))
    want = getattr(al, name)(x.astype(np.float64), axis=-1).data
    for a, e in ((out.data, want), (got.grad.data, rule)):
        assert a.dtype == np.float16
        ulp = np.spacing(np.abs(e).astype(np.float16)).astype(np.float64)
        np.testing.assert_array_less(np.abs(a - e), ulp + 1e-7)
    torch = pytest.importorskip("torch")
    t = torch.tensor(x, requires_grad=True)
    getattr(torch, name)(t, dim=-1).backward(torch.tensor(g))
    ulp = np.spacing(np.abs(rule).astype(np.float16)).astype(np.float64)
    theirs = np.abs(t.grad.numpy().astype(np.float64) - rule)    # (log_softmax: up to 5 ulps)
    np.testing.assert_array_less(np.abs(got.grad.data - rule), theirs + ulp)


@pytest.mark.parametrize("target", ["index", "prob"])
def test_float16_cross_entropy_is_worked_in_float32_and_rounded_once(target):
    """The fused cross-entropy on float16 logits works in float32 and rounds the loss and the
    gradient once (PyTorch's accumulation): each within an ulp of the float64 result, where
    float16 throughout was 2 ulps off the loss (found by the fuzzer, seed 63004)."""
    rng = np.random.default_rng(6)
    z = (rng.normal(size=(16, 7)) * 2).astype(np.float16)
    y = (rng.integers(0, 7, 16) if target == "index"
         else rng.dirichlet(np.ones(7), 16).astype(np.float16))
    got = al.Tensor(z, requires_grad=True)
    loss = al.cross_entropy(got, y, reduction="sum")
    loss.backward()
    ref = al.Tensor(z.astype(np.float64), requires_grad=True)
    want = al.cross_entropy(ref, y if target == "index" else y.astype(np.float64),
                            reduction="sum")
    want.backward()
    assert loss.dtype == got.grad.dtype == np.float16
    for a, e in ((loss.data, want.data), (got.grad.data, ref.grad.data)):
        ulp = np.spacing(np.abs(e).astype(np.float16)).astype(np.float64)
        np.testing.assert_array_less(np.abs(a - e), ulp + 1e-7)
