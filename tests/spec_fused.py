"""Specs of the fused ops (autograd_lite.fused): each against an independent NumPy reference,
finite differences and PyTorch. The fused-vs-composed, second-order and extreme-input checks are
in test_fused.py."""

from __future__ import annotations

import numpy as np

import autograd_lite as al

from .spec import Spec


def _np_log_softmax(x, *, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def _np_bce(z, y, *, weight=None, pos_weight=None, reduction="mean"):
    pw = 1.0 if pos_weight is None else pos_weight     # −[pw·y log σ(z) + (1 − y) log σ(−z)]
    loss = -(pw * y * np.log(1 / (1 + np.exp(-z))) + (1 - y) * np.log(1 / (1 + np.exp(z))))
    if weight is not None:
        loss = loss * weight
    return {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](loss)


def _np_layer_norm(x, w, b, *, normalized_shape, eps=1e-5):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _np_attention(q, k, v, *, mask=None, causal=False, scale=None):
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if causal:
        mask = np.tril(np.ones((q.shape[-2], k.shape[-2]), bool))
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True) @ v


def _torch_bce(z, y, *, weight=None, pos_weight=None, reduction="mean"):
    import torch
    as_t = lambda a: None if a is None else torch.as_tensor(a)
    return torch.nn.functional.binary_cross_entropy_with_logits(
        z, y, weight=as_t(weight), pos_weight=as_t(pos_weight), reduction=reduction)


def _torch_attention(q, k, v, *, mask=None, causal=False, scale=None):
    import torch
    return torch.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=None if mask is None else torch.as_tensor(mask), is_causal=causal,
        scale=scale)


def _torch(name):
    def f(x, *, axis):
        import torch
        return getattr(torch, name)(x, dim=axis)
    return f


AXES = [(((),), {"axis": -1}), (((4,),), {"axis": 0}), (((2, 3),), {"axis": -1}),
        (((2, 3),), {"axis": 0}), (((2, 3, 4),), {"axis": 1})]
MASK = np.array([[True, False, True, True], [False, True, True, False], [True] * 4])

SPECS = {
    "log_softmax": Spec(lambda x, *, axis: al.log_softmax(x, axis=axis), _np_log_softmax,
                        _torch("log_softmax"), AXES),
    "softmax": Spec(lambda x, *, axis: al.softmax(x, axis=axis),
                    lambda x, *, axis: np.exp(_np_log_softmax(x, axis=axis)),
                    _torch("softmax"), AXES),
    "binary_cross_entropy_with_logits": Spec(
        lambda z, y, **kw: al.binary_cross_entropy_with_logits(z, y, **kw), _np_bce, _torch_bce,
        [(((5,), (5,)), {}), (((2, 3), (2, 3)), {"reduction": "none"}),
         (((2, 3), (2, 3)), {"reduction": "sum", "pos_weight": np.array([0.5, 2.0, 3.0])}),
         (((2, 3), (2, 3)), {"weight": np.array([[2.0], [0.5]]),
                             "pos_weight": np.array([0.5, 2.0, 3.0])}),
         (((), ()), {})]),
    "layer_norm": Spec(
        lambda x, w, b, **kw: al.layer_norm(x, weight=w, bias=b, **kw), _np_layer_norm,
        lambda x, w, b, *, normalized_shape, eps=1e-5: __import__("torch").nn.functional
        .layer_norm(x, normalized_shape, w, b, eps),
        [(((2, 4), (4,), (4,)), {"normalized_shape": (4,)}),
         (((2, 3, 4), (3, 4), (3, 4)), {"normalized_shape": (3, 4), "eps": 1e-3}),
         (((5,), (5,), (5,)), {"normalized_shape": (5,)})]),
    "scaled_dot_product_attention": Spec(
        lambda q, k, v, **kw: al.scaled_dot_product_attention(q, k, v, **kw), _np_attention,
        _torch_attention,
        [(((3, 2), (4, 2), (4, 3)), {}),
         (((2, 3, 2), (2, 4, 2), (2, 4, 1)), {"scale": 0.7}),
         (((2, 4, 3), (2, 4, 3), (2, 4, 2)), {"causal": True}),
         (((3, 2), (4, 2), (4, 3)), {"mask": MASK}),
         (((2, 3, 2), (4, 2), (4, 3)), {"mask": np.linspace(-1, 1, 12).reshape(3, 4)})]),
}
