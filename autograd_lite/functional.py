"""Composite functions made of primitives (softmax, log_softmax, logsumexp, the composed
cross-entropy) and :func:`cross_entropy`, the public wrapper of both forms (the fused primitive
with its closed-form VJP is :mod:`autograd_lite.fused.cross_entropy`)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import ops
from .fused.common import composed_log_softmax as _log_softmax
from .fused.common import composed_softmax as _softmax
from .fused.cross_entropy import (
    REDUCTIONS,
    _along,
    _cross_entropy,
    _reduce,
    _target,
    _times,
    check_classes,
    check_probabilities,
)
from .tensor import Tensor, as_tensor

__all__ = ["softmax", "log_softmax", "logsumexp", "cross_entropy", "naive_cross_entropy"]


def _float(x: Any, name: str, axis: Any = None) -> Tensor:
    """``x`` as a floating-point Tensor, ``axis`` checked against it (a 0-d input takes axis 0
    or -1, as in PyTorch)."""
    t = as_tensor(x, name, floating=True)
    if axis is not None and t.ndim:
        ops.normalize_axes(axis, t.ndim, name)
    return t


def logsumexp(x: Any, axis: int = -1, keepdims: bool = False) -> Tensor:
    """``log Σ_axis exp(x)``, stable for large inputs (the max is subtracted first).

    Example
    -------
    >>> logsumexp(Tensor([1000.0, 1000.0]))   # 1000 + log 2, no overflow
    Tensor(1000.69314718, dtype=float64)
    """
    return ops.logsumexp(_float(x, "logsumexp", axis), axis=axis, keepdims=keepdims)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``(x − m) − log Σ exp(x − m)`` along ``axis`` (``m`` the max): log-probabilities.

    The shift is applied once and never added back, so nothing cancels: float16 logits all
    equal to 1e4 give ``−log C`` each. A graph of primitives (``m`` is a constant: the function
    does not depend on it).

    Example
    -------
    >>> log_softmax([0.0, 0.0])
    Tensor([-0.69314718, -0.69314718], dtype=float64)
    >>> log_softmax(np.full(4, 1e4, dtype=np.float16))
    Tensor([-1.387, -1.387, -1.387, -1.387], dtype=float16)
    """
    return _log_softmax(_float(x, "log_softmax", axis), axis)


def softmax(x: Any, axis: int = -1, *, naive: bool = False) -> Tensor:
    """``exp(x) / Σ exp(x)`` along ``axis``, composed from primitives.

    The max along ``axis`` is subtracted first (it cancels mathematically, and keeps ``exp`` from
    overflowing). ``naive=True`` skips that step on purpose, to show the overflow:
    ``softmax([1000, 2000, 3000], naive=True)`` is NaN, the stable one ``[0, 0, 1]``.

    Example
    -------
    >>> softmax([1000.0, 2000.0, 3000.0])
    Tensor([0., 0., 1.], dtype=float64)
    """
    return _softmax(_float(x, "softmax", axis), axis, naive)


def _check_ce(logits: Any, target: Any, axis: int, weight: Any, ignore_index: Any,
              reduction: str, label_smoothing: float) -> tuple[Tensor, Any, int, Any]:
    """Validate and normalise the arguments of :func:`cross_entropy` (clear errors up front)."""
    name = "cross_entropy"
    z = as_tensor(logits, name, what="logits")
    if z.dtype.kind != "f":
        raise TypeError(f"{name}: logits must be floating point, got dtype {z.dtype} "
                        "(convert them with .astype(np.float32) or np.float64)")
    if z.ndim == 0:
        raise ValueError(f"{name}: logits need a class axis, got a scalar")
    t = target if isinstance(target, Tensor) else np.asarray(target)
    tdata = t._data if isinstance(t, Tensor) else t
    if axis is None:
        axis = _class_axis(z.shape, tdata, name)
    axis = z.ndim - 1 if type(axis) is int and axis == -1 else (   # the common case, quickly
        ops.normalize_axes(axis, z.ndim, name)[0])
    n_classes = z.shape[axis]
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: unknown reduction {reduction!r}; expected one of "
                         f"{', '.join(map(repr, REDUCTIONS))}")
    if type(label_smoothing) is not float and (isinstance(label_smoothing, bool) or   # (quick
            not isinstance(label_smoothing, numbers.Real)):                    # when common)
        raise TypeError(f"{name}: label_smoothing must be a real number, got "
                        f"{type(label_smoothing).__name__}")
    if type(ignore_index) is not int and ignore_index is not None and (
            isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral)):
        raise TypeError(f"{name}: ignore_index must be an int or None, got {ignore_index!r:.20}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    if weight is not None:
        weight = np.asarray(weight._data if isinstance(weight, Tensor) else weight)
        if weight.dtype.kind not in "biuf":
            raise TypeError(f"{name}: weight must be numbers, got dtype {weight.dtype}")
        if not np.all(np.isfinite(weight)):
            raise ValueError(f"{name}: weight must be finite, got {weight}")
        if weight.shape != (n_classes,):
            raise ValueError(f"{name}: weight has shape {weight.shape}, expected ({n_classes},) "
                             f"(one per class of logits {z.shape}, class axis {axis})")
        weight = weight.astype(z.dtype, copy=False)
    index_shape = z.shape[:axis] + z.shape[axis + 1:]
    if tdata.dtype.kind in "iu" and tdata.shape == index_shape:   # (the range: by the forms'
        return z, tdata, axis, weight                     # one reduction, named if out of it)
    if tdata.dtype.kind == "f" and tdata.shape == z.shape:
        if ignore_index is not None and ignore_index != IGNORE_INDEX:
            raise ValueError(f"{name}: ignore_index={ignore_index} applies to class-index "
                             "targets only, not to probabilities (as in PyTorch)")
        if isinstance(t, Tensor):   # (finite? the forms' loss tells, then the scan names it)
            y = t.astype(z.dtype) if t.requires_grad else t._data.astype(z.dtype)
            return z, y, axis, weight
        return z, tdata.astype(z.dtype, copy=False), axis, weight
    raise ValueError(f"{name}: target of shape {tdata.shape} and dtype {tdata.dtype} fits neither "
                     f"form for logits {z.shape} (class axis {axis}): class indices need an "
                     f"integer array of shape {index_shape}, probabilities a float array of "
                     f"shape {z.shape}")


def _class_axis(shape: tuple, target: np.ndarray, name: str) -> int:
    """The class axis when none is given: the last one, unless the logits have more than two
    axes and only PyTorch's layout (classes at axis 1) fits the target; an error when both
    readings fit, since they give different losses."""
    if len(shape) <= 2:
        return -1
    fits = []
    for axis in (1, -1):
        index_shape = shape[:axis] + shape[axis + 1:] if axis == 1 else shape[:-1]
        if (target.dtype.kind in "iu" and target.shape == index_shape) or (
                target.dtype.kind == "f" and target.shape == shape):
            fits.append(axis)
    if len(fits) == 2:
        raise ValueError(
            f"{name}: logits {shape} with target {target.shape} ({target.dtype}) fit two "
            f"readings: classes along axis 1 (PyTorch's layout, {shape[1]} classes) or along "
            f"axis -1 ({shape[-1]} classes), which give different losses; pass axis=1 "
            "(PyTorch's layout) or axis=-1")
    return fits[0] if fits else -1


IGNORE_INDEX = -100   # PyTorch's default: positions whose class index is -100 count for nothing


def cross_entropy(logits: Any, target: Any, *, axis: int | None = None, weight: Any = None,
                  ignore_index: int | None = IGNORE_INDEX, reduction: str = "mean",
                  label_smoothing: float = 0.0, fused: bool = True) -> Tensor:
    """Softmax cross-entropy between ``logits`` and ``target``, as PyTorch's ``F.cross_entropy``.

    Parameters
    ----------
    logits : float array, the classes along ``axis``, any other axes batch axes.
    target : integer class indices (``logits``' shape without the class axis) or probabilities
        (``logits``' shape; any finite reals, as in PyTorch: soft, unnormalised or negative).
    axis : the class axis. By default the last one; for logits with more than two axes, axis 1
        (PyTorch's layout) when only that reading fits the target's shape, and an error naming
        both readings when both fit (pass ``axis=1`` or ``axis=-1``).
    weight : one weight per class (a constant: no gradient flows to it).
    ignore_index : positions whose class index equals it count for nothing; ``-100`` by
        default, as in PyTorch (``None``: none ignored). Class indices only: another value with
        probabilities is an error, as in PyTorch.
    reduction : ``"mean"`` (over the summed weights of the counted targets; over the number of
        positions for probabilities), ``"sum"`` or ``"none"``. A mean over a batch whose every
        target is ignored is NaN (0/0) with a zero gradient, as in PyTorch.
    label_smoothing : ε in [0, 1]: the target is mixed with the uniform distribution.
    fused : one primitive with a stable log-sum-exp forward and the closed-form VJP
        ``(softmax(z) − y)·scale``, saving only the softmax; ``False`` composes the loss from
        primitives (``log_softmax``, indexing, products, sums), every step a graph node.

    Raises
    ------
    TypeError : integer logits. IndexError : a class index outside ``[0, C)`` (naming it and its
    position). ValueError : a target shape fitting neither form (or two class axes, see
    ``axis``), non-finite probabilities, a weight of the wrong length, an unknown reduction,
    ``ignore_index`` with probabilities, ``label_smoothing`` outside [0, 1].

    Example
    -------
    >>> z = Tensor([[2.0, 0.5, -1.0]], requires_grad=True)
    >>> cross_entropy(z, np.array([0])).backward()
    >>> z.grad.data.round(4)          # softmax(z) − onehot(0)
    array([[-0.2144,  0.1753,  0.0391]])
    """
    z, target, axis, weight = _check_ce(logits, target, axis, weight, ignore_index, reduction,
                                        label_smoothing)
    params = dict(axis=axis, weight=weight, ignore_index=ignore_index, reduction=reduction,
                  label_smoothing=float(label_smoothing))
    if fused:
        return _cross_entropy(z, target, **params)
    return _composed_cross_entropy(z, target, **params)


def _composed_cross_entropy(z: Tensor, target: Any, *, axis: int, **params: Any) -> Tensor:
    """The same loss built from primitives only, every step a node."""
    y = _target(target, z.shape, z.dtype, axis=axis, **params)
    logp = _log_softmax(z, axis)                  # (z − m) − log Σ exp(z − m), unchecked
    if y.dense is not None:
        loss = -(logp * y.dense).sum(axis=axis, keepdims=True)
    else:
        loss = _times(-logp[_along(y.index, axis)], y.hot)  # −log p[y]·w[y]·mask
        if y.spread is not None:
            loss = loss - _times((logp * y.spread).sum(axis=axis, keepdims=True), y.mask)
        if type(y.mask) is not float:   # ignored positions: a where, not a product by 0 (whose
            loss = ops.where(loss, 0.0, cond=y.mask != 0)   # VJP turns g = inf into NaN)
    if y.dense is not None and not np.isfinite(np.add.reduce(loss.data, axis=None)):
        check_probabilities(target._data if isinstance(target, Tensor) else target)
    return _reduce(loss, params["reduction"], axis, y)


def naive_cross_entropy(logits: Any, target: Any, axis: int = -1) -> Tensor:
    """``−log softmax(z)[y]`` averaged, with the *naive* softmax (no max subtraction).

    For demonstration only: ``exp`` overflows for logits above ~88 (float32) or ~709 (float64),
    and the loss becomes NaN where the stable forms stay finite.
    """
    z, target, axis, _ = _check_ce(logits, target, axis, None, None, "mean", 0.0)  # checked once
    if target.dtype.kind == "f":
        raise ValueError("naive_cross_entropy: expects class indices")
    check_classes(target, z.shape, axis, None, name="naive_cross_entropy")
    with np.errstate(all="ignore"):
        logp = softmax(z, axis=axis, naive=True).log()
        return -logp[_along(np.expand_dims(target, axis), axis)].mean()
