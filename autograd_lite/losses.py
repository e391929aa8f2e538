"""Loss functions with PyTorch's names, options and defaults, composed of primitives.

Every loss here is an ordinary function of Tensor operations (no VJP of its own), so gradients,
gradients of gradients and gradients with respect to the target (where PyTorch has one) come
from the primitives. Each takes ``reduction="mean" | "sum" | "none"`` (``kl_div`` also
``"batchmean"``) as in ``torch.nn.functional``.

Decisions where PyTorch is loose or silent:

- ``input`` and ``target`` must have the same shape (PyTorch broadcasts them with a warning; a
  ``(n, 1)`` prediction against an ``(n,)`` target silently builds an ``(n, n)`` loss, so here it
  is an error). A target that does not require grad is converted to the input's dtype.
- ``binary_cross_entropy`` clamps each log at −100 as PyTorch does, so the loss is finite for
  probabilities of exactly 0 and 1. Its gradient is that of the clamped forward: identical to
  PyTorch's wherever ``x(1 − x) ≥ 1e-12``; at the clamped points themselves it is the derivative
  of the other (unclamped) term, where PyTorch divides by ``1e-12`` instead.
- ``nll_loss`` takes the class axis as ``axis=-1`` (the convention of :func:`cross_entropy`
  here; PyTorch's is dim 1, the same for ``(N, C)`` input) and ``ignore_index=-100``.

``binary_cross_entropy_with_logits`` is a fused op and lives with the other fused ops.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import api, ops
from .fused.cross_entropy import _along, check_classes
from .tensor import Tensor, as_tensor

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "nll_loss", "kl_div", "margin_ranking_loss", "cosine_embedding_loss"]

REDUCTIONS = ("mean", "sum", "none")


# ---------------------------------------------------------------------------------------------
# Validation (once, at the public boundary) and reduction


def _like(target: Any, x: Tensor, name: str, what: str = "target") -> Tensor:
    """``target`` as a float Tensor of ``x``'s shape (and dtype, unless it requires grad)."""
    t = as_tensor(target, name, what=what, floating=True)
    if t.shape != x.shape:
        raise ValueError(f"{name}: {what} has shape {t.shape}, input has shape {x.shape}; they "
                         f"must match (reshape one, e.g. pred.reshape(-1) for an (n, 1) "
                         f"prediction)")
    if t.dtype != x.dtype:
        if t.requires_grad:
            raise TypeError(f"{name}: {what} has dtype {t.dtype}, input has dtype {x.dtype}; "
                            f"convert one (a target that requires grad is not converted)")
        t = Tensor._leaf(t._data.astype(x.dtype))
    return t


def _reduction(reduction: Any, name: str, allowed: tuple = REDUCTIONS) -> str:
    if reduction not in allowed:
        raise ValueError(f"{name}: unknown reduction {reduction!r}; expected one of "
                         f"{', '.join(map(repr, allowed))}")
    return reduction


def _real(value: Any, name: str, what: str, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: {what} must be a real number, got {type(value).__name__}")
    if not low <= value < np.inf:
        raise ValueError(f"{name}: {what} must be finite and >= {low:g}, got {value}")
    return float(value)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    """Elementwise losses reduced as asked (the mean of an empty loss is NaN, as in PyTorch)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return loss.mean()


# ---------------------------------------------------------------------------------------------
# Regression losses


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002 - PyTorch's name
    """Mean squared error ``(input − target)²``, as ``torch.nn.functional.mse_loss``.

    Example
    -------
    >>> al.mse_loss(al.tensor([1.0, 2.0, 4.0]), [1.0, 1.0, 1.0])
    Tensor(3.33333333, dtype=float64)
    """
    x = as_tensor(input, "mse_loss", floating=True)
    d = x - _like(target, x, "mse_loss")
    return _reduce(d * d, _reduction(reduction, "mse_loss"))


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002 - PyTorch's name
    """Mean absolute error ``|input − target|`` (gradient 0 where they are equal, as PyTorch).

    Example
    -------
    >>> al.l1_loss(al.tensor([1.0, 2.0, 4.0]), [1.0, 1.0, 1.0], reduction="sum")
    Tensor(4., dtype=float64)
    """
    x = as_tensor(input, "l1_loss", floating=True)
    return _reduce(abs(x - _like(target, x, "l1_loss")), _reduction(reduction, "l1_loss"))


def _huber(x: Tensor, target: Tensor, delta: float) -> Tensor:
    """``½d²`` where ``|d| < delta``, else ``delta·(|d| − ½delta)`` (``|d|`` when delta is 0)."""
    d = x - target
    a = abs(d)
    if delta == 0.0:
        return a
    quadratic = np.abs(d._data) < delta
    return api.where(quadratic, 0.5 * d * d, delta * (a - 0.5 * delta))


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> Tensor:  # noqa: A002 - PyTorch's name
    """``½d²/beta`` where ``|d| < beta``, else ``|d| − ½beta`` (``d = input − target``), as
    ``torch.nn.functional.smooth_l1_loss``; ``beta=0`` is the L1 loss. It is
    ``huber_loss(delta=beta) / beta``.

    Example
    -------
    >>> al.smooth_l1_loss(al.tensor([0.5, 3.0]), [0.0, 0.0], reduction="none")
    Tensor([0.125, 2.5  ], dtype=float64)
    """
    x = as_tensor(input, "smooth_l1_loss", floating=True)
    beta = _real(beta, "smooth_l1_loss", "beta")
    loss = _huber(x, _like(target, x, "smooth_l1_loss"), beta)
    return _reduce(loss if beta in (0.0, 1.0) else loss * (1.0 / beta),
                   _reduction(reduction, "smooth_l1_loss"))


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:  # noqa: A002 - PyTorch's name
    """``½d²`` where ``|d| < delta``, else ``delta·(|d| − ½delta)``, as
    ``torch.nn.functional.huber_loss`` (``delta`` must be positive).

    Example
    -------
    >>> al.huber_loss(al.tensor([0.5, 3.0]), [0.0, 0.0], reduction="none", delta=2.0)
    Tensor([0.125, 4.   ], dtype=float64)
    """
    x = as_tensor(input, "huber_loss", floating=True)
    delta = _real(delta, "huber_loss", "delta")
    if delta == 0:
        raise ValueError("huber_loss: delta must be positive, got 0")
    return _reduce(_huber(x, _like(target, x, "huber_loss"), delta),
                   _reduction(reduction, "huber_loss"))


# ---------------------------------------------------------------------------------------------
# Classification losses


def _clamped_log(p: Tensor, keep: np.ndarray) -> Tensor:
    """``max(log p, −100)`` with a finite gradient everywhere: where ``keep`` is false (p is so
    small that the log is clamped) the value is −100 and no gradient flows."""
    safe = api.where(keep, p, 1.0)
    return api.where(keep, safe.log(), -100.0)


def binary_cross_entropy(input: Any, target: Any, weight: Any = None,  # noqa: A002 - PyTorch's name
                         reduction: str = "mean") -> Tensor:
    """``−w·(t·log x + (1 − t)·log(1 − x))`` for probabilities ``x`` in [0, 1], each log
    clamped at −100 (as ``torch.nn.functional.binary_cross_entropy``).

    For logits use ``binary_cross_entropy_with_logits`` (stable, one fused node).

    Example
    -------
    >>> al.binary_cross_entropy(al.tensor([0.9, 0.2]), [1.0, 0.0])
    Tensor(0.16425203, dtype=float64)
    """
    name = "binary_cross_entropy"
    x = as_tensor(input, name, floating=True)
    t = _like(target, x, name)
    reduction = _reduction(reduction, name)
    xd = x._data
    if not np.all((xd >= 0) & (xd <= 1)):
        bad = np.argwhere(~((xd >= 0) & (xd <= 1)))[0]
        raise ValueError(f"{name}: input must be probabilities in [0, 1], got "
                         f"input{list(map(int, bad))} = {xd[tuple(bad)]} (for logits use "
                         f"binary_cross_entropy_with_logits)")
    with np.errstate(divide="ignore"):
        keep_x = np.log(xd) > -100
        keep_1mx = np.log1p(-xd) > -100
    loss = -(t * _clamped_log(x, keep_x) + (1.0 - t) * _clamped_log(1.0 - x, keep_1mx))
    if weight is not None:
        w = as_tensor(weight, name, what="weight", floating=True)
        try:
            np.broadcast_shapes(w.shape, x.shape)
        except ValueError:
            raise ValueError(f"{name}: weight of shape {w.shape} does not broadcast to the "
                             f"input's shape {x.shape}") from None
        loss = loss * (w if w.requires_grad else w._data.astype(x.dtype))
    return _reduce(loss, reduction)


def nll_loss(input: Any, target: Any, weight: Any = None, *, axis: int = -1,  # noqa: A002 - PyTorch's name
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood ``−w[y]·input[y]`` of log-probabilities ``input`` (classes along
    ``axis``) at integer class indices ``target``, as ``torch.nn.functional.nll_loss``.

    ``"mean"`` divides by the summed weights of the counted (not ignored) targets; positions whose
    target equals ``ignore_index`` count for nothing. ``nll_loss(log_softmax(z), y)`` is
    ``cross_entropy(z, y)``.

    Example
    -------
    >>> logp = al.log_softmax(al.tensor([[2.0, 0.5, -1.0], [0.0, 0.0, 0.0]]))
    >>> al.nll_loss(logp, np.array([0, -100]))      # the second row is ignored
    Tensor(0.2413113, dtype=float64)
    """
    name = "nll_loss"
    x = as_tensor(input, name, floating=True)
    reduction = _reduction(reduction, name)
    if x.ndim == 0:
        raise ValueError(f"{name}: input needs a class axis, got a scalar")
    (axis,) = ops.normalize_axes(axis, x.ndim, name)
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{name}: ignore_index must be an int, got {ignore_index!r:.20}")
    y = target._data if isinstance(target, Tensor) else np.asarray(target)
    n_classes = x.shape[axis]
    want = x.shape[:axis] + x.shape[axis + 1:]
    if y.dtype.kind not in "iu" or y.shape != want:
        raise ValueError(f"{name}: target must be integer class indices of shape {want} (input "
                         f"{x.shape}, class axis {axis}), got shape {y.shape} dtype {y.dtype}")
    check_classes(y, x.shape, axis, ignore_index, name=name)
    counted = y != ignore_index
    index = np.expand_dims(np.where(counted, y, 0), axis)
    w = np.expand_dims(counted, axis).astype(x.dtype)
    if weight is not None:
        wc = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
        if wc.dtype.kind not in "biuf" or wc.shape != (n_classes,):
            raise ValueError(f"{name}: weight must be {n_classes} numbers (one per class), got "
                             f"shape {wc.shape} dtype {wc.dtype}")
        w = w * wc.astype(x.dtype)[index]
    loss = -(x[_along(index, axis)] * w)
    if reduction == "none":
        return loss.squeeze(axis)
    total = loss.sum()
    if reduction == "sum":
        return total
    denom = float(w.sum())
    return total * (1.0 / denom if denom else float("nan"))


def kl_div(input: Any, target: Any, reduction: str = "mean", log_target: bool = False) -> Tensor:  # noqa: A002 - PyTorch's name
    """Kullback–Leibler divergence ``t·(log t − input)`` with ``input`` log-probabilities and
    ``target`` probabilities (log-probabilities with ``log_target=True``: ``eᵗ·(t − input)``),
    as ``torch.nn.functional.kl_div``; terms with ``t = 0`` are 0.

    ``reduction="batchmean"`` (the mathematically right one) divides the sum by the batch size
    ``input.shape[0]``; ``"mean"`` divides by the number of elements, as PyTorch does.

    Example
    -------
    >>> logq = al.log(al.tensor([0.5, 0.5]))
    >>> al.kl_div(logq, [0.9, 0.1], reduction="sum")     # KL(p ‖ q) for p = [0.9, 0.1]
    Tensor(0.36806421, dtype=float64)
    """
    name = "kl_div"
    x = as_tensor(input, name, floating=True)
    t = _like(target, x, name)
    reduction = _reduction(reduction, name, REDUCTIONS + ("batchmean",))
    if log_target:
        loss = t.exp() * (t - x)
    else:
        positive = t._data > 0
        loss = t * (api.where(positive, t, 1.0).log() - x)
    if reduction != "batchmean":
        return _reduce(loss, reduction)
    if x.ndim == 0:
        raise ValueError(f"{name}: reduction='batchmean' needs a batch axis, got a scalar input")
    return loss.sum() * (1.0 / x.shape[0] if x.shape[0] else float("nan"))


# ---------------------------------------------------------------------------------------------
# Ranking and embedding losses


def _signs(y: Any, shape: tuple, name: str, dtype: np.dtype) -> np.ndarray:
    arr = y._data if isinstance(y, Tensor) else np.asarray(y)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: target must be numbers 1 or -1, got dtype {arr.dtype}")
    try:
        return np.broadcast_to(arr, shape).astype(dtype)
    except ValueError:
        raise ValueError(f"{name}: target of shape {arr.shape} does not broadcast to "
                         f"{shape}") from None


def margin_ranking_loss(input1: Any, input2: Any, target: Any, margin: float = 0.0,
                        reduction: str = "mean") -> Tensor:
    """``max(0, −y·(x₁ − x₂) + margin)`` with ``y`` in {1, −1}, as
    ``torch.nn.functional.margin_ranking_loss`` (the gradient passes at exactly 0, as there).

    Example
    -------
    >>> al.margin_ranking_loss(al.tensor([1.0, 0.0]), al.tensor([0.0, 1.0]), [1, 1], margin=0.5)
    Tensor(0.75, dtype=float64)
    """
    name = "margin_ranking_loss"
    x1 = as_tensor(input1, name, what="input1", floating=True)
    x2 = _like(input2, x1, name, "input2")
    y = _signs(target, x1.shape, name, x1.dtype)
    margin = _real(margin, name, "margin", low=-np.inf)
    return _reduce(api.clip(-y * (x1 - x2) + margin, 0.0, None), _reduction(reduction, name))


def cosine_embedding_loss(input1: Any, input2: Any, target: Any, margin: float = 0.0,
                          reduction: str = "mean") -> Tensor:
    """``1 − cos(x₁, x₂)`` where ``y = 1``, ``max(0, cos(x₁, x₂) − margin)`` where ``y = −1``,
    the cosine along the last axis of 1-D or 2-D inputs (``1e-12`` added to each squared norm),
    as ``torch.nn.functional.cosine_embedding_loss``.

    Example
    -------
    >>> al.cosine_embedding_loss(al.tensor([[1.0, 0.0]]), al.tensor([[1.0, 1.0]]), [1])
    Tensor(0.29289322, dtype=float64)
    """
    name = "cosine_embedding_loss"
    x1 = as_tensor(input1, name, what="input1", floating=True)
    x2 = _like(input2, x1, name, "input2")
    if x1.ndim not in (1, 2):
        raise ValueError(f"{name}: inputs must be 1-D or 2-D, got shape {x1.shape}")
    y = _signs(target, x1.shape[:-1], name, x1.dtype)
    margin = _real(margin, name, "margin", low=-1.0)
    dot = (x1 * x2).sum(axis=-1)
    denom = (((x1 * x1).sum(axis=-1) + 1e-12) * ((x2 * x2).sum(axis=-1) + 1e-12)).sqrt()
    cos = dot / denom
    loss = (api.where(y == 1, 1.0 - cos, 0.0)
            + api.where(y == -1, api.clip(cos - margin, 0.0, None), 0.0))
    return _reduce(loss, _reduction(reduction, name))
