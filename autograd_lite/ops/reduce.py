"""Reductions: sum, max, min, logsumexp.

``max``/``min`` split the gradient evenly between tied elements (as PyTorch's ``amax``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .core import Op, data, kept, normalize_axes
from .elementwise import exp
from .shape import broadcast_to


def _front(name: str, default_axis: Any = None) -> Callable:
    def front(x: Any, axis: Any = default_axis, keepdims: bool = False) -> tuple:
        if axis is not None and not isinstance(axis, (int, np.integer)):
            axis = tuple(axis) if isinstance(axis, (tuple, list)) else axis
        normalize_axes(axis, np.ndim(data(x)), name)   # type and range errors, named
        return (x,), {"axis": None if axis is None else _plain(axis), "keepdims": bool(keepdims)}
    return front


def _plain(axis: Any) -> Any:
    return int(axis) if isinstance(axis, (int, np.integer)) else tuple(int(a) for a in axis)


def _check(name: str) -> Callable:
    def check(x: np.ndarray, *, axis: Any, keepdims: bool) -> None:
        axes = normalize_axes(axis, x.ndim, name)
        if name != "sum" and any(x.shape[a] == 0 for a in axes):
            raise ValueError(f"{name}: cannot reduce an empty axis of an array of shape "
                             f"{tuple(x.shape)} (axis={axis!r})")
    return check


def _reduce(fn: Callable) -> Callable:
    """A NumPy reduction that also takes axis 0 / -1 on a 0-d array (as PyTorch does)."""
    def forward(x: np.ndarray, *, axis: Any, keepdims: bool) -> np.ndarray:
        return fn(x, axis=None if x.ndim == 0 else axis, keepdims=keepdims)
    return forward


reduce_sum = Op("sum", _reduce(np.sum),
                (lambda g, out, x, *, axis, keepdims:
                 broadcast_to(kept(g, x.shape, axis, keepdims), shape=x.shape),),
                rules=("g broadcast back over the summed axes",),
                summary="Sum over ``axis`` (an int, a tuple, or ``None`` for all).",
                example=">>> al.sum([[1.0, 2.0], [3.0, 4.0]], axis=-1)\n"
                "Tensor([3., 7.], dtype=float64)",
                public="sum", method="sum", front=_front("sum"), check=_check("sum"),
                reads_values=False)


def _extreme_vjp(g: Any, out: Any, x: Any, *, axis: Any, keepdims: bool) -> Any:
    xd = data(x)
    od = kept(data(out), xd.shape, axis, keepdims)
    mask = (xd == od).astype(g.dtype)
    mask /= mask.sum(axis=None if xd.ndim == 0 else axis, keepdims=True)   # ties share evenly
    return kept(g, xd.shape, axis, keepdims) * mask


reduce_max = Op("max", _reduce(np.max), (_extreme_vjp,),
                rules=("g routed to the maximum (split evenly at ties)",),
                summary="Maximum over ``axis``; tied elements share the gradient equally.",
                example=">>> al.max([[1.0, 5.0], [3.0, 2.0]], axis=0)\n"
                "Tensor([3., 5.], dtype=float64)",
                public="max", method="max", front=_front("max"), check=_check("max"))
reduce_min = Op("min", _reduce(np.min), (_extreme_vjp,),
                rules=("g routed to the minimum (split evenly at ties)",),
                summary="Minimum over ``axis``; tied elements share the gradient equally.",
                example=">>> al.min([[1.0, 5.0], [3.0, 2.0]], axis=0)\n"
                "Tensor([1., 2.], dtype=float64)",
                public="min", method="min", front=_front("min"), check=_check("min"))


def _logsumexp(x: np.ndarray, *, axis: Any, keepdims: bool) -> np.ndarray:
    if x.ndim == 0:
        return x.copy()
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # -inf rows stay -inf, +inf rows stay +inf
    s = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return s if keepdims else (np.squeeze(s, axis=axis) if axis is not None else s.reshape(()))


logsumexp = Op("logsumexp", _logsumexp,
               (lambda g, out, x, *, axis, keepdims:
                kept(g, x.shape, axis, keepdims) * exp(x - kept(out, x.shape, axis, keepdims)),),
               rules=("g ⊙ softmax(x)",),
               summary="``log Σ exp(x)`` over ``axis`` (default: the last), computed stably "
               "(the max is subtracted first).",
               example=">>> al.logsumexp([1000.0, 1000.0])   # 1000 + log 2, no overflow\n"
               "Tensor(1000.69314718, dtype=float64)",
               public="logsumexp", method="logsumexp", front=_front("logsumexp", -1),
               check=_check("logsumexp"))
