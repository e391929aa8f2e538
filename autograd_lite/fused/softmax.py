"""``log_softmax`` and ``softmax`` as fused primitives, each with its composed twin.

Fused, each is one node that keeps only its output for backward; the VJPs need nothing else
(float16 arrays are worked in float32 and rounded once, as PyTorch's CPU kernels do):

    log_softmax:  dx = g − softmax(x)·Σ g      (softmax(x) = exp(out))
    softmax:      dx = out ⊙ (g − Σ g ⊙ out)

written with ops, so under ``create_graph=True`` they are recorded and differentiable again (an
ordinary backward runs the same formula in place on one fresh array).
Composed (``fused=False``), they are :func:`autograd_lite.functional.log_softmax` (``x − max −
log Σ exp(x − max)``) and :func:`autograd_lite.functional.softmax` — four to seven nodes each.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional, ops
from ..ops.core import in_float32
from ..ops.spellings import dim_alias
from ..tensor import Tensor, as_tensor
from .common import array, keep, one_axis, recording

__all__ = ["log_softmax", "softmax"]


def _shifted(x: np.ndarray, axis: int | None) -> np.ndarray:
    """``x − max`` along ``axis`` (a fresh array; rows whose max is ±inf are not shifted)."""
    m = x.max(axis=axis, keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0)
    return array(x - m)


@in_float32
def _log_softmax_forward(x: np.ndarray, *, axis: int | None) -> np.ndarray:
    out = _shifted(x, axis)
    with np.errstate(divide="ignore"):
        out -= np.log(np.exp(out).sum(axis=axis, keepdims=True))
    return out


def _log_softmax_rule(g: Any, out: Any, axis: Any) -> Any:
    return g - ops.exp(out) * keep(g, axis)


def _softmax_rule(g: Any, out: Any, axis: Any) -> Any:
    return out * (g - keep(g * out, axis))


@in_float32
def _log_softmax_vjp(g: Any, out: Any, x: Any, *, axis: int | None) -> Any:
    if recording(g, out):
        return _log_softmax_rule(g, out, axis)
    dx = array(np.exp(out))           # an ordinary backward: one fresh array, worked in place
    dx *= keep(g, axis)
    return np.subtract(g, dx, out=dx)


@in_float32
def _softmax_vjp(g: Any, out: Any, x: Any, *, axis: int | None) -> Any:
    if recording(g, out):
        return _softmax_rule(g, out, axis)
    dx = array(g * out)
    s = keep(dx, axis)
    np.subtract(g, s, out=dx)
    dx *= out
    return dx


def _batched(rule: Any) -> tuple:
    """The VJP for a batch of cotangents (a leading batch axis): the formula (not the in-place
    path, whose buffer has ``out``'s shape) along the axis counted from the end (a 0-d input:
    along no axis)."""
    @in_float32
    def batched(g: Any, out: Any, x: Any, *, axis: int | None) -> Any:
        return rule(g, out, () if axis is None else axis - np.ndim(out))
    return (batched,)


@in_float32
def _softmax_forward(x: np.ndarray, *, axis: int | None) -> np.ndarray:
    e = _shifted(x, axis)
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _fused(name: str, forward: Any, vjp: Any, rule: Any, text: str, formula: str) -> ops.Op:
    return ops.Op(name, forward, (vjp,), rules=(text,),
                  internal=f"reached as {name}(..., fused=True)",
                  summary=f"Fused {formula} along ``axis``; keeps only its output.",
                  batch=_batched(rule))


_log_softmax = _fused("log_softmax", _log_softmax_forward, _log_softmax_vjp, _log_softmax_rule,
                      "g − softmax(x)·Σg", "``log softmax``: ``x − max − log Σ exp(x − max)``")
_softmax = _fused("softmax", _softmax_forward, _softmax_vjp, _softmax_rule,
                  "out ⊙ (g − Σ g ⊙ out)", "softmax: ``exp(x − max) / Σ exp(x − max)``")


@dim_alias("log_softmax")
def log_softmax(x: Any, axis: int = -1, *, fused: bool = True) -> Tensor:
    """Log-probabilities along ``axis``, as PyTorch's ``F.log_softmax``; stable for any logits.

    ``fused=True``: one node, VJP ``g − softmax(x)·Σg`` from its output alone; ``fused=False``:
    :func:`autograd_lite.functional.log_softmax`, composed from primitives.

    Example
    -------
    >>> x = Tensor([1.0, 2.0, 1000.0], requires_grad=True)
    >>> y = log_softmax(x)
    >>> y
    Tensor([-999., -998.,    0.], dtype=float64, op=log_softmax)
    >>> np.allclose(y.data, log_softmax(x, fused=False).data)
    True
    """
    if not fused:
        return functional.log_softmax(x, axis=axis)
    t = as_tensor(x, "log_softmax", floating=True)
    return _log_softmax(t, axis=one_axis(axis, t.ndim, "log_softmax"))


@dim_alias("softmax")
def softmax(x: Any, axis: int = -1, *, fused: bool = True, naive: bool = False) -> Tensor:
    """Probabilities along ``axis``, as PyTorch's ``F.softmax``; stable for any logits.

    ``fused=True``: one node, VJP ``out ⊙ (g − Σ g ⊙ out)``; ``fused=False``:
    :func:`autograd_lite.functional.softmax`, composed from primitives; ``naive=True`` (composed
    only) skips subtracting the max, to show ``exp`` overflowing.

    Example
    -------
    >>> softmax([1000.0, 2000.0, 3000.0])
    Tensor([0., 0., 1.], dtype=float64)
    >>> softmax([0.0, 0.0], fused=False)
    Tensor([0.5, 0.5], dtype=float64)
    """
    if naive or not fused:
        return functional.softmax(x, axis=axis, naive=naive)
    t = as_tensor(x, "softmax", floating=True)
    return _softmax(t, axis=one_axis(axis, t.ndim, "softmax"))
