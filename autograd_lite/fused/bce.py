"""Binary cross-entropy on logits, fused and composed, as PyTorch's
``F.binary_cross_entropy_with_logits``.

Per element, with ``l = 1 + (pos_weight − 1)·y`` (``l = 1`` without ``pos_weight``) and the
element weight ``w``:

    loss = w·[(1 − y)·z + l·softplus(−z)],   softplus(−z) = max(−z, 0) + log(1 + e^−|z|)

which is ``−w·[pos_weight·y·log σ(z) + (1 − y)·log(1 − σ(z))]`` rewritten so that no ``exp``
overflows and no ``log`` sees 0: it is finite for every finite ``z``. Its derivatives are

    ∂/∂z = w·[(1 − y) − l·σ(−z)]     (σ(z) − y without weights)
    ∂/∂y = w·[−z + (pos_weight − 1)·softplus(−z)]

The fused form is one node that saves nothing (``z`` and ``y`` are kept by the graph anyway; the
VJP recomputes ``σ(−z)``). ``fused=False`` is the textbook form ``−[y log σ(z) + (1 − y)
log(1 − σ(z))]`` composed from primitives: ``1 − σ(z)`` rounds to 0 once ``z`` passes ~17
(float32) or ~37 (float64), and the loss becomes ``inf`` and its gradient NaN — which is what the
stability sweep shows. :func:`stable_composed` composes the stable formula from primitives.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..ops.core import data
from ..tensor import Tensor, as_tensor
from .common import array, recording

__all__ = ["binary_cross_entropy_with_logits", "stable_composed", "softplus_neg"]

REDUCTIONS = ("none", "sum", "mean")


def softplus_neg(z: Any) -> Any:
    """``log(1 + e^−z) = −z·[z < 0] + log(1 + e^−|z|)`` with ops (arrays or Tensors), stable for
    any ``z`` and smooth at 0: the sign of ``z`` is a constant mask, so the derivative there is
    ``−σ(0) = −1/2``, not the ``0`` that ``relu'(0)`` and ``abs'(0)`` would give."""
    zd = data(z)
    neg = (zd < 0).astype(zd.dtype)
    sign = 1 - 2 * neg
    return -(z * neg) + ops.log(1 + ops.exp(-(z * sign)))


def _reduce(loss: Any, reduction: str) -> Any:
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if reduction == "mean" else loss


def _upstream(g: Any, shape: tuple, reduction: str) -> Any:
    """The incoming cotangent per element (``1/n`` folded in for the mean)."""
    if reduction == "mean":
        return g * (1.0 / max(int(np.prod(shape)), 1))
    return g


def _forward(z: np.ndarray, y: np.ndarray, *, weight: Any, pos_weight: Any,
             reduction: str) -> np.ndarray:
    sp = array(np.abs(z))                   # softplus(−z) = log1p(e^−|z|) − min(z, 0)
    np.negative(sp, out=sp)
    np.exp(sp, out=sp)
    np.log1p(sp, out=sp)
    sp -= np.minimum(z, 0)
    if pos_weight is not None:
        sp *= 1 + (pos_weight - 1) * y
    loss = (1 - y) * z
    loss += sp
    if weight is not None:
        loss *= weight
    return _reduce(loss, reduction)


def _vjp_logits(g: Any, out: Any, z: Any, y: Any, *, weight: Any, pos_weight: Any,
                reduction: str) -> Any:
    if recording(g, z, y):
        s = ops.sigmoid(-z)                          # σ(−z) = 1 − σ(z), stable either way
    else:                                            # σ(−z) = {e, 1}/(1 + e), e = e^−|z|
        e = np.exp(-np.abs(z))
        s = np.where(z >= 0, e, 1)
        e += 1
        s /= e
    if pos_weight is not None:
        s = s * (1 + (pos_weight - 1) * y)
    dz = (1 - y) - s
    if weight is not None:
        dz = dz * weight
    return dz * _upstream(g, z.shape, reduction)


def _vjp_target(g: Any, out: Any, z: Any, y: Any, *, weight: Any, pos_weight: Any,
                reduction: str) -> Any:
    dy = -z
    if pos_weight is not None:
        dy = dy + (pos_weight - 1) * softplus_neg(z)
    if weight is not None:
        dy = dy * weight
    return dy * _upstream(g, z.shape, reduction)


_bce = ops.Op(
    "binary_cross_entropy_with_logits", _forward, (_vjp_logits, _vjp_target),
    rules=("g ⊙ w ⊙ ((1 − y) − l·σ(−z)), l = 1 + (pos_weight − 1)·y",
           "g ⊙ w ⊙ (−z + (pos_weight − 1)·softplus(−z))"),
    internal="reached as binary_cross_entropy_with_logits(..., fused=True)",
    summary="Fused binary cross-entropy on logits, ``w·[(1 − y)·z + l·softplus(−z)]``, finite "
    "for any ``z``; saves nothing (the VJP recomputes σ(−z)).")


def _check(logits: Any, target: Any, weight: Any, pos_weight: Any,
           reduction: str) -> tuple[Tensor, Any, Any, Any]:
    name = "binary_cross_entropy_with_logits"
    z = as_tensor(logits, name, what="logits", floating=True)
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: unknown reduction {reduction!r}; expected one of "
                         f"{', '.join(map(repr, REDUCTIONS))}")
    y = target if isinstance(target, Tensor) else np.asarray(target)
    ydata = y._data if isinstance(y, Tensor) else y
    if ydata.dtype.kind not in "biuf":
        raise TypeError(f"{name}: target must be numbers, got dtype {ydata.dtype}")
    if ydata.shape != z.shape:
        raise ValueError(f"{name}: target has shape {ydata.shape}, expected the logits' shape "
                         f"{z.shape} (as PyTorch)")
    if not isinstance(y, Tensor) or ydata.dtype != z.dtype:
        y = y.astype(z.dtype) if isinstance(y, Tensor) else ydata.astype(z.dtype)
    consts = []
    for what, c in (("weight", weight), ("pos_weight", pos_weight)):
        if c is not None:
            c = np.asarray(c._data if isinstance(c, Tensor) else c)
            if c.dtype.kind not in "biuf":
                raise TypeError(f"{name}: {what} must be numbers, got dtype {c.dtype}")
            try:
                np.broadcast_shapes(c.shape, z.shape)
            except ValueError:
                raise ValueError(f"{name}: {what} of shape {c.shape} does not broadcast against "
                                 f"logits {z.shape}") from None
            if np.broadcast_shapes(c.shape, z.shape) != z.shape:
                raise ValueError(f"{name}: {what} of shape {c.shape} would broadcast logits "
                                 f"{z.shape} to a larger shape")
            c = c.astype(z.dtype)
        consts.append(c)
    return z, y, consts[0], consts[1]


def binary_cross_entropy_with_logits(logits: Any, target: Any, weight: Any = None,
                                     pos_weight: Any = None, reduction: str = "mean", *,
                                     fused: bool = True) -> Tensor:
    """Sigmoid + binary cross-entropy, as PyTorch's ``F.binary_cross_entropy_with_logits``.

    Parameters
    ----------
    logits : float array ``z``, any shape. target : ``y`` of the same shape (usually in [0, 1];
        gradients flow to it when it requires grad).
    weight : a per-element weight broadcastable to ``z`` (a constant).
    pos_weight : the weight of positive examples, broadcastable to ``z`` — typically one per
        class along the last axis (a constant).
    reduction : ``"mean"`` (over all elements), ``"sum"`` or ``"none"``.
    fused : one node, stable for any ``|z|``, VJP ``σ(z) − y`` (weighted); ``False`` the textbook
        ``−[y log σ(z) + (1 − y) log(1 − σ(z))]`` composed from primitives, which overflows to
        ``inf`` for large ``|z|`` (on purpose: compare them with the stability sweep).

    Example
    -------
    >>> z = Tensor([0.0, 40.0, -40.0], requires_grad=True)
    >>> loss = binary_cross_entropy_with_logits(z, [1.0, 0.0, 0.0])
    >>> loss
    Tensor(13.56438239, dtype=float64, op=binary_cross_entropy_with_logits)
    >>> loss.backward(); z.grad          # (σ(z) − y) / 3
    Tensor([-0.16666667,  0.33333333,  0.        ], dtype=float64)
    """
    z, y, w, pw = _check(logits, target, weight, pos_weight, reduction)
    if fused:
        return _bce(z, y, weight=w, pos_weight=pw, reduction=reduction)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = ops.sigmoid(z)
        pos = y * ops.log(p)
        if pw is not None:
            pos = pos * pw
        loss = -(pos + (1 - y) * ops.log(1 - p))
    if w is not None:
        loss = loss * w
    return _reduce(loss, reduction)


def stable_composed(logits: Any, target: Any, weight: Any = None, pos_weight: Any = None,
                    reduction: str = "mean") -> Tensor:
    """The stable formula ``w·[(1 − y)·z + l·softplus(−z)]`` composed from primitives
    (:func:`softplus_neg`: products with sign masks, ``exp``, ``log``): finite for any ``z``,
    but a graph of a dozen nodes.

    Example
    -------
    >>> stable_composed(Tensor([40.0]), [0.0], reduction="sum")
    Tensor(40., dtype=float64)
    """
    z, y, w, pw = _check(logits, target, weight, pos_weight, reduction)
    sp = softplus_neg(z)
    if pw is not None:
        sp = sp * (1 + (pw - 1) * y)
    loss = (1 - y) * z + sp
    if w is not None:
        loss = loss * w
    return _reduce(loss, reduction)
