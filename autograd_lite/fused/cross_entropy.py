"""The fused softmax cross-entropy primitive: target processing, the forward kernel, the
closed-form VJPs and the op; the public wrapper is :func:`autograd_lite.functional.cross_entropy`.

The forward makes one ``exp`` pass of the unshifted logits into a fresh array and sums it (the
row max, which cancels, is subtracted in that same array only when a row sum overflows or
underflows), keeps that array for the VJP, which overwrites it with the gradient (no second
logits-sized array; recomputed on any later backward through the node). Both big passes run in
row blocks on the library's threads when there are several (:mod:`autograd_lite.threads`).
"""

from __future__ import annotations

import math
import threading
from typing import Any, NamedTuple

import numpy as np

from .. import ops, threads
from ..tensor import Tensor
from .common import composed_log_softmax as _log_softmax
from .common import composed_softmax as _softmax

# Both forms (fused here, composed in autograd_lite.functional) see the target as one
# distribution Y over the classes of each position, with the class weights w, the ignore mask
# and the label smoothing ε folded in (exactly PyTorch's ``F.cross_entropy``):
#
#   class indices y:  Y = (1 − ε)·w[y]·mask·onehot(y) + mask·(ε/C)·w
#   probabilities t:  Y = w ⊙ ((1 − ε)·t + ε/C)
#
# loss = −Σ_c Y_c log softmax(z)_c per position, then summed, or averaged over Σ w[y]·mask
# (class indices) or over the number of positions (probabilities). Its gradient is
#
#   ∂L/∂z = (softmax(z)·τ − Y)·scale,  τ = Σ_c Y_c,
#
# i.e. p − y for a one-hot target, (P − Y)/N for a batch mean: the softmax Jacobian
# diag(p) − p pᵀ is never built.

REDUCTIONS = ("none", "sum", "mean")


class _Target(NamedTuple):
    """The target as a distribution Y over the classes; per-position arrays keep the class axis
    (length 1), so they broadcast against the logits. Class indices are kept sparse."""

    at: Any           # index tuple of each position's class (ignored: class 0); None for probs
    hot: Any          # (1 − ε)·w[y]·mask: Y at the target class (1.0 when trivial)
    mask: Any         # 1 where counted, 0 where ignored (1.0 when nothing is ignored)
    spread: Any       # (ε/C)·w along the class axis, the smoothing part of Y; None when ε = 0
    dense: Any        # Y itself for probability targets (a Tensor when the target is); else None
    tau: Any          # Σ_c Y
    inv_denom: float  # 1 / the mean's denominator (1.0 for "sum" and "none"; 0.0 when empty)
    empty: bool = False   # "mean" over a batch whose every target is ignored: the loss is NaN
                          # (0/0) but the gradient 0, as in PyTorch (padding writes no NaN)


def _target(target: Any, shape: tuple, dtype: np.dtype, *, axis: int, weight: Any,
            ignore_index: int | None, reduction: str, label_smoothing: float) -> _Target:
    """Fold weights, ignore mask and smoothing into Y; works on arrays and on Tensor targets."""
    n_classes = shape[axis]
    eps = label_smoothing
    wc = None if weight is None else weight.reshape([-1 if i == axis else 1
                                                     for i in range(len(shape))])
    if isinstance(target, Tensor) and not target.requires_grad:
        target = target._data
    if target.dtype.kind == "f":           # probabilities (a Tensor if they require grad)
        y = target if eps == 0 else target * (1 - eps) + eps / n_classes
        if wc is not None:
            y = y * wc
        positions = max(int(np.prod(shape)) // max(n_classes, 1), 1)
        inv = 1.0 / positions if reduction == "mean" else 1.0
        return _Target(None, 1.0, 1.0, None, y, y.sum(axis=axis, keepdims=True), inv)
    index = target.reshape(shape[:axis] + (1,) + shape[axis + 1:])
    mask: Any = 1.0
    if ignore_index is not None and (0 <= ignore_index < n_classes
                                     or not _all_below(target, n_classes)):
        counted = index != ignore_index          # (skipped when every index is a class)
        if not counted.all():
            index = np.where(counted, index, 0)
            mask = counted.astype(dtype)
    w_y = 1.0 if weight is None else weight[index]
    hot = (1 - eps) * w_y * mask if eps or weight is not None else mask
    spread = None if eps == 0 else (eps / n_classes) * (1.0 if wc is None else wc)
    tau = hot if spread is None else hot + mask * (eps if weight is None else eps / n_classes
                                                   * float(weight.sum()))
    inv, empty = 1.0, False
    if reduction == "mean":
        trivial = weight is None and isinstance(mask, float)
        denom = index.size if trivial else float(np.sum(w_y * mask))
        empty = not trivial and not np.any(mask)      # nothing counted (or no positions)
        inv = 0.0 if empty else 1.0 / denom if denom else float("nan")
    return _Target(_along(index, axis), hot, mask, spread, None, tau, inv, empty)


def _times(x: Any, c: Any) -> Any:
    """``x·c``, skipping a multiplication by the constant 1 (no extra node, no extra pass)."""
    return x if type(c) is float and c == 1.0 else x * c


def _reduce(loss: Any, reduction: str, axis: int, y: _Target) -> Any:
    """Per-position losses (class axis kept, length 1) reduced as asked."""
    if reduction == "none":
        return loss.squeeze(axis)
    if y.empty:                  # 0/0: NaN, with a zero gradient (0·loss + NaN)
        return loss.sum() * 0.0 + float("nan")
    return _times(np.add.reduce(loss, axis=None) if type(loss) is np.ndarray else loss.sum(),
                  y.inv_denom)


def _upstream(g: Any, shape: tuple, axis: int, reduction: str, inv_denom: float) -> Any:
    """The incoming cotangent per position (class axis kept), times the mean's 1/denominator."""
    if reduction == "none":
        g = g.reshape(tuple(1 if i == axis else n for i, n in enumerate(shape)))
    return _times(g, inv_denom)


def _along(index: np.ndarray, axis: int) -> tuple:
    """An index tuple picking ``index`` (class axis kept, length 1) along ``axis`` at every
    position, as ``take_along_axis`` does (an ``arange`` grid per other axis, made once per
    shape and shared read-only: small batches gain)."""
    grids = _GRIDS.get((index.shape, axis))
    if grids is None:   # (the grid along ``axis`` itself is made too, never used)
        nd = index.ndim
        grids = [np.arange(n).reshape((1,) * i + (n,) + (1,) * (nd - i - 1))
                 for i, n in enumerate(index.shape)]
        for a in grids:
            a.flags.writeable = False
        if len(_GRIDS) > 64:
            _GRIDS.clear()
        _GRIDS[index.shape, axis] = grids
    at = grids.copy()
    at[axis] = index
    return tuple(at)


_GRIDS: dict = {}


def _dense(y: _Target, shape: tuple, dtype: np.dtype) -> Any:
    """Y as a full array (class-index targets are otherwise kept sparse)."""
    if y.dense is not None:
        return y.dense
    dense = np.zeros(shape, dtype=dtype)
    dense[y.at] = y.hot
    if y.spread is not None:
        dense += y.mask * y.spread
    return dense


class _Softmax(NamedTuple):
    """The softmax, unnormalised (softmax(z) = exp / sumexp; the VJP divides, saving the forward
    a full pass)."""

    exp: np.ndarray          # exp(z − m): m the row max, or 0 when exp(z) is safe
    sumexp: np.ndarray       # its sum along the class axis (kept, length 1)

    def __repr__(self) -> str:
        return f"exp(z − m){tuple(self.exp.shape)} {self.exp.dtype}"


class _Saved(_Softmax):
    """What the fused cross-entropy keeps for its VJP: the unnormalised softmax (iterating gives
    its two arrays) and, as ``.target``, the target as processed by the forward, so the VJP does
    not redo that work."""

    def __new__(cls, exp: np.ndarray, sumexp: np.ndarray, target: _Target) -> _Saved:
        self = super().__new__(cls, exp, sumexp)
        self.target = target
        self.spent = False   # a first backward turned ``exp`` into its gradient
        return self

    def spend(self, z: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
        """``exp`` and ``sumexp`` for the VJP to overwrite with the gradient: the saved buffer
        the first time (no fresh logits-sized array), recomputed on any later backward through
        the node (the graph stays differentiable again: as correct, one pass slower)."""
        with _SPEND:         # two threads backpropagating one graph: one gets the buffer
            first, self.spent = not self.spent, True
        if first:
            return self.exp, self.sumexp
        e = np.exp(z - z.max(axis=axis, keepdims=True))
        return e, e.sum(axis=axis, keepdims=True)


_SPEND = threading.Lock()


def _ce_forward(z: np.ndarray, target: np.ndarray, *, axis: int, weight: Any,
                ignore_index: int | None, reduction: str,
                label_smoothing: float) -> tuple[np.ndarray, _Saved]:
    """The fused forward: a stable log-sum-exp, the loss, and the softmax saved for the VJP."""
    y = _target(target, z.shape, z.dtype, axis=axis, weight=weight, ignore_index=ignore_index,
                reduction=reduction, label_smoothing=label_smoothing)
    full_logp = y.dense is not None or y.spread is not None
    if not full_logp:            # exp(z) unshifted first: the shift cancels in softmax, and
        e, sumexp = _exp_and_sums(z, axis)    # the row max would cost a full pass
        if _sums_are_safe(sumexp, z.shape[axis], z.dtype):
            shifted, picked = z, z[y.at]
        else:                    # some row overflowed or underflowed: shift, in the same buffer
            shifted = np.subtract(z, z.max(axis=axis, keepdims=True), out=e)
            picked = shifted[y.at]
            e = np.exp(shifted, out=shifted)
            sumexp = np.add.reduce(e, axis=axis, keepdims=True)
    else:                        # log softmax is needed in full: z − max, then exp(z − max)
        shifted = z - z.max(axis=axis, keepdims=True)
        picked = None if y.at is None else shifted[y.at]
        e = np.exp(shifted)
        sumexp = np.add.reduce(e, axis=axis, keepdims=True)   # softmax(z) = e / sumexp
    log_sumexp = np.log(sumexp)
    if full_logp:
        logp = shifted
        logp -= log_sumexp                                     # log_softmax(z)
    if y.dense is not None:
        loss = -(y.dense * logp).sum(axis=axis, keepdims=True)
    else:
        loss = _times(log_sumexp - picked, y.hot)              # −log p[y]·w[y]·mask
        if y.spread is not None:
            loss = loss - y.mask * (logp * y.spread).sum(axis=axis, keepdims=True)
    return _reduce(loss, reduction, axis, y), _Saved(e, sumexp, y)


def _exp_and_sums(z: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """``exp(z)`` in a fresh array and its sums along ``axis`` (kept), overflow left to the
    caller's check; in blocks of rows on the library's threads when there are several."""
    if axis == 0 or threads.get_num_threads() == 1:
        with np.errstate(over="ignore"):
            e = np.exp(z)
            return e, np.add.reduce(e, axis=axis, keepdims=True)
    e = np.empty_like(z)
    sumexp = np.empty(z.shape[:axis] + (1,) + z.shape[axis + 1:], z.dtype)

    def rows(r: slice) -> None:
        with np.errstate(over="ignore"):     # (each thread has its own error state)
            np.exp(z[r], out=e[r])
            np.add.reduce(e[r], axis=axis, keepdims=True, out=sumexp[r])
    threads.run_rows(rows, z.shape[0], z.nbytes)
    return e, sumexp


def _scale_rows(a: np.ndarray, c: np.ndarray, axis: int) -> None:
    """``a *= c`` in place (``c`` one value per position), in row blocks like the forward."""
    if axis == 0 or threads.get_num_threads() == 1 or np.shape(c)[:1] != a.shape[:1]:
        a *= c
    else:
        threads.run_rows(lambda r: np.multiply(a[r], c[r], out=a[r]), a.shape[0], a.nbytes)


def _sums_are_safe(sumexp: np.ndarray, n_classes: int, dtype: np.dtype) -> bool:
    """Whether every row's ``Σ exp(z)`` is finite and its largest term (at least the sum over
    C) a normal number, with a margin: then subtracting the row max (which cancels in softmax
    and in the loss) is not needed. NaN fails the test (the shifted path then gives NaN)."""
    lim = _EXP_LIMIT.get(dtype)
    if lim is None:   # exp(±79.9) for float32, exp(±638.9) for float64
        m = 0.9 * math.log(float(np.finfo(dtype).max))
        lim = _EXP_LIMIT[dtype] = (math.exp(-m), math.exp(m))
    return bool(sumexp.size and np.minimum.reduce(sumexp, axis=None) >= n_classes * lim[0]
                and np.maximum.reduce(sumexp, axis=None) < lim[1])


def _all_below(index: np.ndarray, n: int) -> bool:
    """Whether every integer in ``index`` lies in ``[0, n)``: one reduction (read as unsigned,
    a negative index wraps to a huge number)."""
    if not index.size:
        return True
    if index.dtype.kind == "i":
        index = index.view(_UNSIGNED.get(index.dtype) or _UNSIGNED.setdefault(
            index.dtype, np.dtype(index.dtype.str.replace("i", "u"))))
    return bool(np.maximum.reduce(index, axis=None) < n)


_UNSIGNED: dict = {}
_EXP_LIMIT: dict = {}


def _ce_vjp_logits(g: Any, out: Any, z: Any, target: Any, *, saved: _Saved, axis: int,
                   **params: Any) -> Any:
    """``(softmax(z)·τ − Y)·scale``, in place in the forward's ``exp`` buffer (``_Saved.spend``);
    under ``create_graph`` (Tensor inputs) the same formula with the softmax recomputed."""
    if isinstance(z, Tensor):      # create_graph: Y as a Tensor when the target requires grad
        y = _target(target, z.shape, z.dtype, axis=axis, **params)
        s = _upstream(g, z.shape, axis, params["reduction"], y.inv_denom)
        return (_softmax(z, axis) * y.tau - _dense(y, z.shape, z.dtype)) * s
    y = saved.target               # processed once, by the forward
    s = _upstream(g, z.shape, axis, params["reduction"], y.inv_denom)
    dz, sumexp = saved.spend(z, axis)
    _scale_rows(dz, _times(s, y.tau) / sumexp, axis)          # softmax(z)·τ·scale, in place
    if y.dense is not None:
        dz -= s * y.dense
        return dz
    dz[y.at] -= _times(s, y.hot)   # one class per position: no repeated index
    if y.spread is not None:
        dz -= (s * y.mask) * y.spread
    return dz


def _ce_vjp_target(g: Any, out: Any, z: Any, target: Any, *, saved: _Saved, axis: int,
                   weight: Any, reduction: str, label_smoothing: float, **_: Any) -> Any:
    """``−g ⊙ (1 − ε)·w ⊙ log_softmax(z)`` (probability targets; class indices have none)."""
    n_positions = max(z.size // max(z.shape[axis], 1), 1)
    inv = 1.0 / n_positions if reduction == "mean" else 1.0
    s = _upstream(g, z.shape, axis, reduction, inv) * -(1 - label_smoothing)
    logp = _log_softmax(z, axis)
    if weight is not None:
        logp = logp * weight.reshape([-1 if i == axis else 1 for i in range(z.ndim)])
    return logp * s


_cross_entropy = ops.Op(
    "cross_entropy", _ce_forward, (_ce_vjp_logits, _ce_vjp_target), saves=True,
    internal="reached as cross_entropy(..., fused=True)",
    rules=("g ⊙ (P − Y) / N", "−g ⊙ (1 − ε)·w ⊙ log P"),
    summary="Fused softmax + cross-entropy. dZ = g ⊙ (P·τ − Y)·scale, which is "
        "(P − Y)/N for one-hot targets and mean reduction; class weights, the ignore mask and "
        "label smoothing are folded into Y, τ = ΣY and the normaliser N. The target's VJP "
        "(probability targets only) is −g ⊙ (1 − ε)·w ⊙ log P.")


