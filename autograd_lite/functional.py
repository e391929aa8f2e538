"""Composite functions made of primitives: softmax, log_softmax, logsumexp."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops
from .tensor import Tensor, as_tensor

__all__ = ["softmax", "log_softmax", "logsumexp"]


def _float(x: Any, name: str) -> Tensor:
    t = as_tensor(x)
    if t.dtype.kind != "f":
        raise TypeError(f"{name}: expected floating-point input, got dtype {t.dtype}")
    return t


def logsumexp(x: Any, axis: int = -1, keepdims: bool = False) -> Tensor:
    """``log Σ_axis exp(x)``, stable for large inputs (the max is subtracted first).

    Example
    -------
    >>> logsumexp(Tensor([1000.0, 1000.0]))   # 1000 + log 2, no overflow
    """
    return ops.logsumexp(_float(x, "logsumexp"), axis=axis, keepdims=keepdims)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``x − logsumexp(x)`` along ``axis``: log-probabilities, stable for any logits."""
    x = _float(x, "log_softmax")
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax(x: Any, axis: int = -1, *, naive: bool = False) -> Tensor:
    """``exp(x) / Σ exp(x)`` along ``axis``, composed from primitives.

    The max along ``axis`` is subtracted first (it cancels mathematically, and keeps ``exp`` from
    overflowing). ``naive=True`` skips that step on purpose, to show the overflow:
    ``softmax([1000, 2000, 3000], naive=True)`` is NaN, the stable one ``[0, 0, 1]``.
    """
    x = _float(x, "softmax")
    if not naive:
        x = x - x.max(axis=axis, keepdims=True).detach()
    with np.errstate(over="ignore", invalid="ignore"):
        e = x.exp()
        return e / e.sum(axis=axis, keepdims=True)
