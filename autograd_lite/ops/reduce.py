"""Reductions: sum, max, min, logsumexp, prod, the vector p-norm.

Each takes PyTorch's ``dim=``/``keepdim=`` as aliases of ``axis=``/``keepdims=`` (with ``dim``,
``max``/``min`` still return only the values, not PyTorch's ``(values, indices)``).

``max``/``min`` split the gradient evenly between tied elements (as PyTorch's ``amax``).
``prod`` is exact with zeros; the p-norm's subgradient at 0 is 0 (both as PyTorch).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .core import Op, data, kept, normalize_axes
from .elementwise import absolute, exp, where
from .shape import broadcast_to


def torch_aliases(name: str, axis: Any, keepdims: Any, dim: Any, keepdim: Any,
                  default_axis: Any = None) -> tuple:
    """``dim=``/``keepdim=``, PyTorch's spellings, as aliases of ``axis=``/``keepdims=``."""
    if dim is not None:
        if axis is not default_axis:
            raise TypeError(f"{name}: give axis= or its alias dim=, not both")
        axis = dim
    if keepdim is not None:
        if keepdims:
            raise TypeError(f"{name}: give keepdims= or its alias keepdim=, not both")
        keepdims = keepdim
    return axis, keepdims


def _front(name: str, default_axis: Any = None) -> Callable:
    def front(x: Any, axis: Any = default_axis, keepdims: bool = False, *, dim: Any = None,
              keepdim: bool | None = None) -> tuple:
        axis, keepdims = torch_aliases(name, axis, keepdims, dim, keepdim, default_axis)
        if axis is not None and not isinstance(axis, (int, np.integer)):
            axis = tuple(axis) if isinstance(axis, (tuple, list)) else axis
        if axis is not None:
            normalize_axes(axis, np.ndim(data(x)), name)   # type and range errors, named
        return (x,), {"axis": None if axis is None else _plain(axis), "keepdims": bool(keepdims)}
    return front


def _plain(axis: Any) -> Any:
    return int(axis) if isinstance(axis, (int, np.integer)) else tuple(int(a) for a in axis)


def _check(name: str) -> Callable:
    def check(x: np.ndarray, *, axis: Any, keepdims: bool) -> None:
        axes = normalize_axes(axis, x.ndim, name)
        if name not in ("sum", "prod") and any(x.shape[a] == 0 for a in axes):
            raise ValueError(f"{name}: cannot reduce an empty axis of an array of shape "
                             f"{tuple(x.shape)} (axis={axis!r})")
    return check


def _reduce(fn: Callable) -> Callable:
    """A NumPy reduction that also takes axis 0 / -1 on a 0-d array (as PyTorch does). ``fn`` is
    a ufunc's ``reduce`` (what ``np.sum`` and its kin call, without their Python wrapper)."""
    def forward(x: np.ndarray, *, axis: Any, keepdims: bool) -> np.ndarray:
        return fn(x, axis=None if x.ndim == 0 else axis, keepdims=keepdims)
    return forward


def _kept_batch(g: Any, shape: tuple, axis: Any, keepdims: bool) -> Any:
    """:func:`kept` for a batch of cotangents ``g`` (a leading batch axis)."""
    if keepdims or not shape:
        return g
    axes = normalize_axes(axis, len(shape))
    return g.reshape((g.shape[0],) + tuple(1 if i in axes else n for i, n in enumerate(shape)))


def _batched(rule: Callable) -> tuple:
    """A reduction's VJP for a batch of cotangents: ``g`` and ``out`` in the keepdims form, so
    the rule only broadcasts them."""
    def batched(g: Any, out: Any, x: Any, *, axis: Any, keepdims: bool, **params: Any) -> Any:
        if not keepdims and x.ndim:
            g = _kept_batch(g, x.shape, axis, keepdims)
            out = kept(out, x.shape, axis, keepdims)
        return rule(g, out, x, axis=axis, keepdims=True, **params)
    return (batched,)


SMALL = 4096   # inputs up to this size get the sum's cotangent as a fresh array, not a view


def _sum_vjp(g: Any, out: Any, x: Any, *, axis: Any, keepdims: bool) -> Any:
    if type(g) is np.ndarray and x.size <= SMALL:   # cheaper than broadcast_to's view
        spread = np.empty(x.shape, g.dtype)
        # (summed over every axis, g broadcasts as it is: a 0-d array, or kept axes of 1)
        spread[...] = g if axis is None or keepdims else kept(g, x.shape, axis, keepdims)
        return spread
    return broadcast_to(kept(g, x.shape, axis, keepdims), shape=x.shape)


reduce_sum = Op("sum", _reduce(np.add.reduce), (_sum_vjp,),
                rules=("g broadcast back over the summed axes",),
                summary="Sum over ``axis`` (an int, a tuple, or ``None`` for all).",
                example=">>> al.sum([[1.0, 2.0], [3.0, 4.0]], axis=-1)\n"
                "Tensor([3., 7.], dtype=float64)",
                public="sum", method="sum", front=_front("sum"), check=_check("sum"),
                reads_values=False,
                batch=(lambda g, out, x, *, axis, keepdims: broadcast_to(
                    _kept_batch(g, x.shape, axis, keepdims), shape=(g.shape[0],) + x.shape),))


def _extreme_vjp(g: Any, out: Any, x: Any, *, axis: Any, keepdims: bool) -> Any:
    xd = data(x)
    od = kept(data(out), xd.shape, axis, keepdims)
    mask = (xd == od).astype(g.dtype)
    mask /= mask.sum(axis=None if xd.ndim == 0 else axis, keepdims=True)   # ties share evenly
    return kept(g, xd.shape, axis, keepdims) * mask


def _extreme(name: str, fn: Callable, word: str, example: str) -> Op:
    return Op(name, _reduce(fn), (_extreme_vjp,),
              rules=(f"g routed to the {word} (split evenly at ties)",),
              summary=f"{word.capitalize()} over ``axis``; tied elements share the gradient "
              "equally.",
              example=f">>> al.{name}([[1.0, 5.0], [3.0, 2.0]], axis=0)\n{example}",
              public=name, method=name, front=_front(name), check=_check(name),
              batch=_batched(_extreme_vjp))


reduce_max = _extreme("max", np.maximum.reduce, "maximum", "Tensor([3., 5.], dtype=float64)")
reduce_min = _extreme("min", np.minimum.reduce, "minimum", "Tensor([1., 2.], dtype=float64)")


def _logsumexp(x: np.ndarray, *, axis: Any, keepdims: bool) -> np.ndarray:
    if x.ndim == 0:
        return x.copy()
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # -inf rows stay -inf, +inf rows stay +inf
    s = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return s if keepdims else (np.squeeze(s, axis=axis) if axis is not None else s.reshape(()))


def _logsumexp_vjp(g: Any, out: Any, x: Any, *, axis: Any, keepdims: bool) -> Any:
    return kept(g, x.shape, axis, keepdims) * exp(x - kept(out, x.shape, axis, keepdims))


logsumexp = Op("logsumexp", _logsumexp, (_logsumexp_vjp,),
               rules=("g ⊙ softmax(x)",),
               summary="``log Σ exp(x)`` over ``axis`` (default: the last), computed stably "
               "(the max is subtracted first).",
               example=">>> al.logsumexp([1000.0, 1000.0])   # 1000 + log 2, no overflow\n"
               "Tensor(1000.69314718, dtype=float64)",
               public="logsumexp", method="logsumexp", front=_front("logsumexp", -1),
               check=_check("logsumexp"), batch=_batched(_logsumexp_vjp))


# ---------------------------------------------------------------------------------------------
# Product and p-norm


def _prod_vjp(g: Any, out: Any, x: Any, *, axis: Any, keepdims: bool) -> Any:
    gk = kept(g, x.shape, axis, keepdims)
    xd = data(x)
    zero = xd == 0
    if not zero.any():
        return gk * kept(out, x.shape, axis, keepdims) / x
    # The product of the *other* factors, in O(n) and exact to second order: write
    # x = x1 ⊙ xz (x1: zeros replaced by 1; xz: the rest replaced by 1), so
    # others(x) = others(x1) ⊙ others(xz). x1 has no zeros (others = Π x1 / x1); others(xz)
    # is, by the number of zeros in the slice, 1 (none), 1 at the zero and that zero's value
    # elsewhere (one), the other zero's value at each zero and 0 elsewhere (two), 0 (more): a
    # product of two or more zeros has value and first derivative 0.
    reduced = None if xd.ndim == 0 else axis
    count = zero.sum(axis=reduced, keepdims=True)
    x1 = where(1.0, x, cond=zero)
    others1 = reduce_prod(x1, axis=axis, keepdims=True) / x1
    at_zeros = where(x, 0.0, cond=zero)
    total = reduce_sum(at_zeros, axis=axis, keepdims=True)
    one, two = count == 1, count == 2
    z = where(1.0, total, cond=zero | ~one)     # rows with one zero: 1 there, its value elsewhere
    z = where(total - at_zeros, z, cond=two & zero)
    z = where(0.0, z, cond=(two & ~zero) | (count > 2))
    return gk * (others1 * z)


reduce_prod = Op("prod", _reduce(np.multiply.reduce), (_prod_vjp,),
                 rules=("g ⊙ Π of the other factors",),   # O(n), also with zeros
                 summary="Product over ``axis``; the gradient is exact with zeros in the input "
                 "(with one zero, its gradient is the product of the others; with two or more, "
                 "0), as PyTorch.",
                 example=">>> al.prod([[1.0, 2.0], [3.0, 4.0]], axis=-1)\n"
                 "Tensor([ 2., 12.], dtype=float64)",
                 public="prod", method="prod", front=_front("prod"), check=_check("prod"),
                 batch=_batched(_prod_vjp))


def _vector_norm(x: np.ndarray, *, p: float, axis: Any, keepdims: bool) -> np.ndarray:
    ax = None if x.ndim == 0 else axis
    if p == 2:
        return np.sqrt(np.sum(x * x, axis=ax, keepdims=keepdims))
    if p == 1:
        return np.sum(np.abs(x), axis=ax, keepdims=keepdims)
    return np.sum(np.abs(x) ** p, axis=ax, keepdims=keepdims) ** (1 / p)


def _vector_norm_vjp(g: Any, out: Any, x: Any, *, p: float, axis: Any, keepdims: bool) -> Any:
    gk = kept(g, x.shape, axis, keepdims)
    sign = np.sign(data(x))
    if p == 1:
        return gk * sign
    ok = kept(out, x.shape, axis, keepdims)
    safe = where(1.0, ok, cond=data(ok) == 0)      # a zero norm has subgradient 0 (PyTorch)
    if p == 2:
        return gk * x / safe
    return gk * sign * absolute(x) ** (p - 1) / safe ** (p - 1)


vector_norm = Op("vector_norm", _vector_norm, (_vector_norm_vjp,),
                 rules=("g ⊙ sign(x)|x|^(p−1) / ‖x‖^(p−1) (0 where ‖x‖ = 0)",),
                 summary="The p-norm ``(Σ|x|^p)^(1/p)`` over ``axis`` for a finite ``p >= 1`` "
                 "(``al.norm`` is the general entry, with ∞, 0 and matrix norms).",
                 internal="reached through al.norm and Tensor.norm",
                 batch=_batched(_vector_norm_vjp))
