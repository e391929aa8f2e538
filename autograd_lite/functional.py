"""Composite functions made of primitives (softmax, log_softmax, logsumexp, the composed
cross-entropy) and the fused cross-entropy primitive with its closed-form VJP."""

from __future__ import annotations

import math
import numbers
import threading
from typing import Any, NamedTuple

import numpy as np

from . import ops
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


def _log_softmax(x: Any, axis: int) -> Any:
    """:func:`log_softmax` on a checked floating-point Tensor (or plain NumPy on an ndarray)."""
    m = x.max(axis=axis, keepdims=True)
    shifted = x - (m.detach() if isinstance(m, Tensor) else m)
    return shifted - ops.logsumexp(shifted, axis=axis, keepdims=True)


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


def _softmax(x: Tensor, axis: int, naive: bool = False) -> Tensor:
    """:func:`softmax` on a checked floating-point Tensor."""
    if not naive:
        x = x - x.max(axis=axis, keepdims=True).detach()
    with np.errstate(over="ignore", invalid="ignore"):
        e = x.exp()
        return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------------------------------------
# Cross-entropy, composed and fused
#
# Both forms see the target as one distribution Y over the classes of each position, with the
# class weights w, the ignore mask and the label smoothing ε folded in (exactly PyTorch's
# ``F.cross_entropy``):
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
    return x if isinstance(c, float) and c == 1.0 else x * c


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

    exp: np.ndarray          # exp(z − max)
    sumexp: np.ndarray       # its sum along the class axis (kept, length 1)

    def __repr__(self) -> str:
        return f"exp(z − max){tuple(self.exp.shape)} {self.exp.dtype}"


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
        with np.errstate(over="ignore"):      # the row max would cost a full pass
            e = np.exp(z)
            sumexp = np.add.reduce(e, axis=axis, keepdims=True)
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
    dz *= s * y.tau / sumexp                                  # softmax(z)·τ·scale, in place
    if y.dense is not None:
        dz -= s * y.dense
        return dz
    dz[y.at] -= s * y.hot          # one class per position: no repeated index
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
    if tdata.dtype.kind in "iu" and tdata.shape == index_shape:
        if not _all_below(tdata, n_classes):      # one reduction in the common case; only
            bad = (tdata < 0) | (tdata >= n_classes)    # then look for the culprit
            if ignore_index is not None:
                bad &= tdata != ignore_index
        else:
            bad = None
        if bad is not None and bad.any():
            pos = tuple(int(i) for i in np.argwhere(bad)[0])
            raise IndexError(f"{name}: target{list(pos)} = {tdata[pos]} is not a class index in "
                             f"[0, {n_classes}) (logits {z.shape}, class axis {axis}"
                             f"{'' if ignore_index is None else f', ignore_index {ignore_index}'})")
        return z, tdata, axis, weight
    if tdata.dtype.kind == "f" and tdata.shape == z.shape:
        if ignore_index is not None and ignore_index != IGNORE_INDEX:
            raise ValueError(f"{name}: ignore_index={ignore_index} applies to class-index "
                             "targets only, not to probabilities (as in PyTorch)")
        bad = ~np.isfinite(tdata)     # any finite reals, as in PyTorch (gradient P·ΣY − Y)
        if bad.any():
            pos = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{name}: target probabilities must be finite; "
                             f"target{list(pos)} = {tdata[pos]}")
        if isinstance(t, Tensor):
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
        loss = _times(-logp[y.at], y.hot)  # −log p[y]·w[y]·mask
        if y.spread is not None:
            loss = loss - _times((logp * y.spread).sum(axis=axis, keepdims=True), y.mask)
    return _reduce(loss, params["reduction"], axis, y)


def naive_cross_entropy(logits: Any, target: Any, axis: int = -1) -> Tensor:
    """``−log softmax(z)[y]`` averaged, with the *naive* softmax (no max subtraction).

    For demonstration only: ``exp`` overflows for logits above ~88 (float32) or ~709 (float64),
    and the loss becomes NaN where the stable forms stay finite.
    """
    z, target, axis, _ = _check_ce(logits, target, axis, None, None, "mean", 0.0)  # checked once
    if target.dtype.kind == "f":
        raise ValueError("naive_cross_entropy: expects class indices")
    with np.errstate(all="ignore"):
        logp = softmax(z, axis=axis, naive=True).log()
        return -logp[_along(np.expand_dims(target, axis), axis)].mean()
