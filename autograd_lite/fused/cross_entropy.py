"""The fused softmax cross-entropy primitive: target processing, the forward kernel, the
closed-form VJPs and the op; the public wrapper is :func:`autograd_lite.functional.cross_entropy`.

The forward makes one sweep over blocks of rows, each small enough to stay in cache: ``exp`` of
the unshifted logits into a fresh array (the row max, which cancels, is subtracted only where a
row sum overflows or underflows), its row sums, and the scaling to ``softmax·τ/N``, on the
library's threads when there are several (:mod:`autograd_lite.threads`). It keeps that array for
the VJP, which turns it into the gradient in place (no second logits-sized array, and no pass at
all but the targets' subtraction when ``g`` is 1; recomputed on any later backward).
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

    index: Any        # each position's class (class axis kept; ignored: 0); None for probs
    flat: Any         # its offset in the C-ordered logits (intp; the one fancy index needed)
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
        positions = max(math.prod(shape) // max(n_classes, 1), 1)
        inv = 1.0 / positions if reduction == "mean" else 1.0
        return _Target(None, None, 1.0, 1.0, None, y, y.sum(axis=axis, keepdims=True), inv)
    index = target.reshape(shape[:axis] + (1,) + shape[axis + 1:])
    mask: Any = 1.0
    classes = _all_below(target, n_classes)      # one reduction: every index a class?
    if ignore_index is not None and (not classes or 0 <= ignore_index < n_classes):
        counted = index != ignore_index          # (skipped when every index is a class)
        if not counted.all():
            index = np.where(counted, index, 0)
            mask = counted.astype(dtype)
    if not classes and not _all_below(index, n_classes):   # out of range and not ignored:
        check_classes(target, shape, axis, ignore_index)   # the scan names the first
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
    return _Target(index, _flat(index, shape, axis), hot, mask, spread, None, tau, inv, empty)


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


def _flat(index: np.ndarray, shape: tuple, axis: int) -> np.ndarray:
    """The offset of each position's class ``index`` in a C-ordered array of ``shape``: one
    fancy index of the raveled array instead of one per axis (the other axes' offsets made
    once per shape and shared read-only)."""
    cached = _OFFSETS.get((shape, axis))
    if cached is None:
        offsets = sum(g * math.prod(shape[i + 1:]) for i, g in
                      enumerate(_along(np.zeros(index.shape, np.intp), axis)) if i != axis)
        offsets = np.asarray(offsets, dtype=np.intp)
        offsets.flags.writeable = False
        if len(_OFFSETS) > 64:
            _OFFSETS.clear()
        cached = _OFFSETS[shape, axis] = (offsets, math.prod(shape[axis + 1:]))
    offsets, stride = cached
    if index.dtype != np.intp:
        index = index.astype(np.intp)
    return offsets + index if stride == 1 else offsets + index * stride


_OFFSETS: dict = {}


def _pick(a: np.ndarray, y: _Target, axis: int) -> np.ndarray:
    """``a`` at each position's class (class axis kept)."""
    if a.flags.c_contiguous:
        return a.reshape(-1)[y.flat]
    return a[_along(y.index, axis)]


def _subtract_at(a: np.ndarray, y: _Target, axis: int, v: Any) -> None:
    """``a −= v`` at each position's class, in place (one class per position: no repeat)."""
    if a.flags.c_contiguous:
        a.reshape(-1)[y.flat] -= v       # (a view: C-ordered)
    else:
        a[_along(y.index, axis)] -= v


def _dense(y: _Target, shape: tuple, dtype: np.dtype) -> Any:
    """Y as a full array (class-index targets are otherwise kept sparse)."""
    if y.dense is not None:
        return y.dense
    dense = np.zeros(shape, dtype=dtype)
    dense.reshape(-1)[y.flat] = y.hot
    if y.spread is not None:
        dense += y.mask * y.spread
    return dense


class _Buffer(NamedTuple):
    """The one logits-sized array the fused cross-entropy keeps: ``softmax(z)·τ·scale``, the
    gradient for an upstream ``g = 1`` but for the target's part (``− Y·scale``)."""

    p: np.ndarray

    def __repr__(self) -> str:
        return f"softmax(z)·τ·scale{tuple(self.p.shape)} {self.p.dtype}"


class _Saved(_Buffer):
    """What the fused cross-entropy keeps for its VJP: the buffer and, as ``.target``, the
    target as processed by the forward, so the VJP does not redo that work."""

    def __new__(cls, p: np.ndarray, target: _Target) -> _Saved:
        self = super().__new__(cls, p)
        self.target = target
        self.spent = False   # a first backward turned ``p`` into its gradient
        return self

    def spend(self, z: np.ndarray, axis: int) -> np.ndarray:
        """The buffer for the VJP to overwrite with the gradient: the saved one the first time
        (no fresh logits-sized array), recomputed on any later backward through the node (the
        graph stays differentiable again: as correct, one pass slower)."""
        with _SPEND:         # two threads backpropagating one graph: one gets the buffer
            first, self.spent = not self.spent, True
        return self.p if first else _softmax_rows(z, axis, self.target)[0]


_SPEND = threading.Lock()

BLOCK_BYTES = 1 << 20
"""About the bytes of logits in one block of rows of the fused kernel: small enough that its
``exp`` stays in cache between the passes over it (``exp``, the row sums, the scaling), large
enough that NumPy's per-call cost does not show (measured on (4096, 1000) float32: blocks of
512 KiB to 1 MiB 0.84–0.93× the time of one block; 32 KiB 1.2–1.45×, the calls' cost)."""

SHIFT_ALL_BYTES = 1 << 15
"""Logits up to this size are always shifted by their row max (cheaper, for small arrays, than
checking the unshifted row sums); larger ones only where a row sum leaves the safe range."""


def _ce_forward(z: np.ndarray, target: np.ndarray, *, axis: int, weight: Any,
                ignore_index: int | None, reduction: str,
                label_smoothing: float) -> tuple[np.ndarray, _Saved]:
    """The fused forward: a stable log-sum-exp, the loss, and the scaled softmax for the VJP.
    float16 logits are worked in float32 and the loss rounded once, as PyTorch's CPU kernels
    accumulate (the saved buffer stays float32: the VJP's gradient is rounded once too)."""
    if z.dtype == np.float16:
        wide = [None if a is None else a.astype(np.float32) if a.dtype == np.float16 else a
                for a in (target, weight)]
        loss, saved = _ce_forward(z.astype(np.float32), wide[0], axis=axis, weight=wide[1],
                                  ignore_index=ignore_index, reduction=reduction,
                                  label_smoothing=label_smoothing)
        return loss.astype(np.float16), saved
    y = _target(target, z.shape, z.dtype, axis=axis, weight=weight, ignore_index=ignore_index,
                reduction=reduction, label_smoothing=label_smoothing)
    p, log_sumexp, picked, part = _softmax_rows(z, axis, y)
    if y.dense is not None:
        loss = -part                                           # −Σ_c Y·log_softmax(z)
        if not np.isfinite(np.add.reduce(part, axis=None)):   # a non-finite Y shows here
            check_probabilities(target)
    else:
        loss = _times(log_sumexp - picked, y.hot)              # −log p[y]·w[y]·mask
        if y.spread is not None:
            loss = loss - y.mask * part                        # − mask·Σ_c (ε/C)·w·log p
        if type(y.mask) is not float:                          # ignored: exactly 0, as PyTorch
            loss = np.where(y.mask != 0, loss, loss.dtype.type(0))   # (not 0·inf = NaN)
    return _reduce(loss, reduction, axis, y), _Saved(p, y)


def _softmax_rows(z: np.ndarray, axis: int, y: _Target) -> tuple:
    """``softmax(z)·τ·scale`` in a fresh array, ``log Σ exp(z − m)`` and ``z[y] − m`` (one per
    position, class axis kept; ``m`` the shift; None for probability targets) and, when the
    loss needs log-probabilities in full (probability targets, smoothing), ``Σ_c Y·log p`` (or
    ``Σ_c (ε/C)·w·log p``) per position.

    One sweep over blocks of rows (:data:`BLOCK_BYTES`, on the library's threads): each block's
    ``exp`` is written, summed and scaled while it is in cache. ``exp(z)`` is taken unshifted
    (the shift cancels, and the row max would cost a pass) except for small arrays and for
    log-probabilities in full; the blocks holding a position whose unshifted sum overflows or
    underflows are then done again, that position shifted by its max. Every position's result
    depends on its own logits alone, never on the blocks or the threads."""
    dense, spread, tau, inv = y.dense, y.spread, y.tau, y.inv_denom
    full = dense is not None or spread is not None
    if z.nbytes <= SHIFT_ALL_BYTES and not full:     # small: the plain passes, shifted
        p = np.subtract(z, np.maximum.reduce(z, axis=axis, keepdims=True))
        picked = _pick(p, y, axis)
        np.exp(p, out=p)
        sums = np.add.reduce(p, axis=axis, keepdims=True)
        np.multiply(p, (inv * tau) / sums, out=p)
        return p, np.log(sums), picked, None
    shape, dtype = z.shape, z.dtype
    pos = shape[:axis] + (1,) + shape[axis + 1:]
    p = np.empty_like(z)
    sums = np.empty(pos, dtype)
    shift = "all" if full or z.nbytes <= SHIFT_ALL_BYTES else None
    m = np.empty(pos, dtype) if shift else None
    part = np.empty(pos, dtype) if full else None
    tau_rows = type(tau) is not float and np.shape(tau)[:1] == shape[:1]
    lo, hi = _exp_limits(dtype, shape[axis])

    def sweep(blocks: Any) -> None:
        scratch = None
        # (each thread has its own error state; unshifted, a row whose sum overflows or
        # underflows gives inf or NaN until it is done again, shifted)
        quiet = "ignore" if shift is None else None
        with np.errstate(over="ignore", invalid=quiet, divide=quiet):
            for r in blocks:
                if not axis:       # classes along axis 0: one block, the whole array
                    r = slice(None)
                zb, pb, sb = z[r], p[r], sums[r]
                if shift is None:
                    np.exp(zb, out=pb)
                    np.add.reduce(pb, axis=axis, keepdims=True, out=sb)
                    np.multiply(pb, (inv * tau[r] if tau_rows else inv * tau) / sb, out=pb)
                    continue
                mb = m[r]
                np.maximum.reduce(zb, axis=axis, keepdims=True, out=mb)
                if shift == "unsafe":          # the other positions keep m = 0: unchanged
                    np.copyto(mb, 0, where=(sb >= lo) & (sb < hi))
                if not full:
                    np.subtract(zb, mb, out=pb)
                    np.exp(pb, out=pb)
                    np.add.reduce(pb, axis=axis, keepdims=True, out=sb)
                else:              # z − m kept in a block-sized scratch for log p
                    if scratch is None or scratch.shape[0] < zb.shape[0]:
                        scratch = np.empty_like(zb)
                    logp = scratch[:zb.shape[0]]
                    np.subtract(zb, mb, out=logp)
                    np.exp(logp, out=pb)
                    np.add.reduce(pb, axis=axis, keepdims=True, out=sb)
                    logp -= np.log(sb)
                    np.multiply(logp, spread if dense is None else dense[r], out=logp)
                    np.add.reduce(logp, axis=axis, keepdims=True, out=part[r])
                np.multiply(pb, (inv * tau[r] if tau_rows else inv * tau) / sb, out=pb)

    rows = shape[0] if axis else 1   # (blocks cut along axis 0, unless it is the class axis)
    block = max(BLOCK_BYTES // max(z.nbytes // max(rows, 1), 1), 1)
    threads.run_blocks(sweep, rows, block, z.nbytes)
    if shift is None and not (sums.size and np.minimum.reduce(sums, axis=None) >= lo
                              and np.maximum.reduce(sums, axis=None) < hi):
        shift, m = "unsafe", np.zeros(pos, dtype)      # (NaN sums fail the test: shifted;
        # the sweep reads shift and m when it runs: these blocks are done again, shifted)
        unsafe = ~((sums >= lo) & (sums < hi))
        again = np.unique(np.flatnonzero(unsafe.reshape(rows, -1).any(axis=1)) // block)
        sweep(slice(b * block, (b + 1) * block) for b in again)
    picked = None if y.index is None else (_pick(z, y, axis) if m is None
                                           else _pick(z, y, axis) - m)
    return p, np.log(sums), picked, part


def _scale_rows(a: np.ndarray, c: Any, axis: int) -> None:
    """``a *= c`` in place (``c`` a number or one value per position), in row blocks on the
    library's threads."""
    rows = a.shape[0] if axis else 1
    one = np.ndim(c) == 0
    if rows <= 1 or not (one or np.shape(c)[0] == rows):
        a *= c
        return
    per_row = max(a.nbytes // rows, 1)

    def sweep(blocks: Any) -> None:
        for r in blocks:
            np.multiply(a[r], c if one else c[r], out=a[r])
    threads.run_blocks(sweep, rows, BLOCK_BYTES // per_row, a.nbytes)


def _exp_limits(dtype: np.dtype, n_classes: int) -> tuple[float, float]:
    """The safe range ``[lo, hi)`` of an unshifted row sum ``Σ exp(z)``: finite, and its largest
    term (at least the sum over C) a normal number, with a margin; outside it (NaN included)
    the position is shifted by its max."""
    lim = _EXP_LIMIT.get(dtype)
    if lim is None:   # exp(±79.9) for float32, exp(±638.9) for float64
        m = 0.9 * math.log(float(np.finfo(dtype).max))
        lim = _EXP_LIMIT[dtype] = (math.exp(-m), math.exp(m))
    return n_classes * lim[0], lim[1]


def check_classes(target: np.ndarray, shape: tuple, axis: int, ignore_index: int | None, *,
                  name: str = "cross_entropy") -> None:
    """Raise an ``IndexError`` (from ``name``) naming the first class index of ``target``
    outside ``[0, C)`` that is not ``ignore_index`` (the full scan, run only when the one
    reduction of :func:`_all_below` found an index out of range)."""
    n_classes = shape[axis]
    bad = (target < 0) | (target >= n_classes)
    if ignore_index is not None:
        bad &= target != ignore_index
    if bad.any():
        pos = tuple(int(i) for i in np.argwhere(bad)[0])
        raise IndexError(f"{name}: target{list(pos)} = {target[pos]} is not a class "
                         f"index in [0, {n_classes}) (logits {shape}, class axis {axis}"
                         f"{'' if ignore_index is None else f', ignore_index {ignore_index}'})")


def check_probabilities(target: np.ndarray) -> None:
    """Raise a ``ValueError`` naming the first non-finite probability of ``target`` (the full
    scan, run only when the loss is not finite)."""
    bad = ~np.isfinite(target)     # any finite reals, as in PyTorch (gradient P·ΣY − Y)
    if bad.any():
        pos = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"cross_entropy: target probabilities must be finite; "
                         f"target{list(pos)} = {target[pos]}")


def _check(z: np.ndarray, target: np.ndarray, *, axis: int, ignore_index: int | None,
           **_: Any) -> None:
    """The op's check, run when its forward failed: a bad class index or probability, named."""
    if target.dtype.kind in "iu":
        check_classes(target, z.shape, axis, ignore_index)
    else:
        check_probabilities(target)


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
    """``(softmax(z)·τ − Y)·scale·g``, in place in the forward's buffer, which holds
    ``softmax(z)·τ·scale`` already (``_Saved.spend``): times ``g`` only when ``g`` is not 1, then
    ``Y·scale·g`` subtracted (at one class per position for class indices). Under
    ``create_graph`` (Tensor inputs) the same formula with the softmax recomputed."""
    reduction = params["reduction"]
    if isinstance(z, Tensor):      # create_graph: Y as a Tensor when the target requires grad
        y = _target(target, z.shape, z.dtype, axis=axis, **params)
        s = _upstream(g, z.shape, axis, reduction, y.inv_denom)
        dz = (_softmax(z, axis) * y.tau - _dense(y, z.shape, z.dtype)) * s
        return dz if type(y.mask) is float else ops.where(dz, 0.0, cond=y.mask != 0)
    y = saved.target               # processed once, by the forward
    dz = saved.spend(z, axis)
    if reduction == "none":
        s = _upstream(g, z.shape, axis, reduction, y.inv_denom)   # g per position
        _scale_rows(dz, s, axis)
    elif float(g) == 1.0:                       # (one number here: the loss is a scalar)
        s = y.inv_denom
    else:
        _scale_rows(dz, g, axis)
        s = _times(g, y.inv_denom)
    if y.dense is not None:
        dz -= s * y.dense
        return dz
    _subtract_at(dz, y, axis, _times(s, y.hot))
    if y.spread is not None:
        dz -= (s * y.mask) * y.spread
    if type(y.mask) is not float:   # ignored positions: exactly 0, whatever g (an infinite or
        np.copyto(dz, 0, where=y.mask == 0)           # NaN g times 0 is NaN), as in PyTorch
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
    "cross_entropy", _ce_forward, (_ce_vjp_logits, _ce_vjp_target), saves=True, check=_check,
    internal="reached as cross_entropy(..., fused=True)",
    rules=("g ⊙ (P − Y) / N", "−g ⊙ (1 − ε)·w ⊙ log P"),
    summary="Fused softmax + cross-entropy. dZ = g ⊙ (P·τ − Y)·scale, which is "
        "(P − Y)/N for one-hot targets and mean reduction; class weights, the ignore mask and "
        "label smoothing are folded into Y, τ = ΣY and the normaliser N. The target's VJP "
        "(probability targets only) is −g ⊙ (1 − ε)·w ⊙ log P.")


