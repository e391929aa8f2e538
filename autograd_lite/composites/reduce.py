"""Composite reductions: aliases, statistics, sorting, running extremes, norms, and the
selections without gradient (``argmax``, ``any``, ...), which return integer or boolean Tensors.

Conventions where the issue is silent: ``var``/``std`` default to NumPy's ``ddof=0``
(``correction=1`` gives PyTorch's default); ``sort``/``topk``/``argsort`` break ties by position
(a stable sort), and the gradient follows the element that was moved; ``cummax``/``cummin`` send
the gradient to the latest position of the running extreme (as PyTorch); ``norm`` follows
``np.linalg.norm``/``torch.linalg.norm`` and its subgradient at 0 is 0 (matrix norms from
singular values: an exactly-zero singular value passes no gradient, see :func:`svdvals`).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import ops
from ..ops.core import normalize_axes
from ..tensor import Tensor, as_tensor

__all__ = [
    "mod", "var", "std", "amax", "amin", "argmax", "argmin", "argsort", "any", "all", "sort",
    "topk", "cummax", "cummin", "quantile", "median", "norm",
]



def _axis(axis: Any, ndim: int, where: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{where}: axis must be an int, got {axis!r:.40}")
    return normalize_axes(int(axis), ndim, where)[0] if ndim else 0


def _count(shape: tuple, axis: Any, where: str) -> int:
    return math.prod(shape[a] for a in normalize_axes(axis, len(shape), where))


# ---------------------------------------------------------------------------------------------
# Aliases


def mod(x: Any, y: Any) -> Tensor:
    """Alias of :func:`remainder` (NumPy's name; ``x % y``).

    Example
    -------
    >>> al.mod([5.0, -5.0], 3.0)
    Tensor([2., 1.], dtype=float64)
    """
    return ops.OPS["remainder"](*[as_tensor(v, "mod") if not isinstance(v, (int, float)) else v
                                   for v in (x, y)])


def amax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Alias of :func:`max` (PyTorch's name; tied elements share the gradient equally).

    Example
    -------
    >>> al.amax([[1.0, 5.0], [3.0, 2.0]], axis=1)
    Tensor([5., 3.], dtype=float64)
    """
    return as_tensor(x, "amax").max(axis, keepdims)


def amin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Alias of :func:`min`, as :func:`amax` of :func:`max`.

    Example
    -------
    >>> al.amin([[1.0, 5.0], [3.0, 2.0]]), al.amin([[1.0, 5.0], [3.0, 2.0]], axis=0)
    (Tensor(1., dtype=float64), Tensor([1., 2.], dtype=float64))
    """
    return as_tensor(x, "amin").min(axis, keepdims)


# ---------------------------------------------------------------------------------------------
# Statistics


def _ddof(where: str, ddof: Any, correction: Any) -> float:
    if ddof is not None and correction is not None:
        raise ValueError(f"{where}: give ddof (NumPy) or correction (PyTorch), not both")
    c = ddof if ddof is not None else correction if correction is not None else 0
    if isinstance(c, bool) or not isinstance(c, numbers.Real) or c < 0:
        raise TypeError(f"{where}: ddof/correction must be a non-negative number, got {c!r:.40}")
    return float(c)


def var(x: Any, axis: Any = None, *, ddof: Any = None, correction: Any = None,
        keepdims: bool = False) -> Tensor:
    """Variance over ``axis``: ``Σ(x − mean)² / (N − ddof)``.

    ``ddof`` (NumPy) and ``correction`` (PyTorch) are the same number; the default is NumPy's 0
    (PyTorch's default is ``correction=1``). ``N <= ddof`` gives NaN.

    Example
    -------
    >>> al.var([1.0, 2.0, 3.0, 4.0], ddof=1)
    Tensor(1.66666667, dtype=float64)
    """
    return _var(as_tensor(x, "var"), axis, ddof, correction, keepdims, "var")


def _var(t: Tensor, axis: Any, ddof: Any, correction: Any, keepdims: bool, where: str) -> Tensor:
    c = _ddof(where, ddof, correction)
    n = _count(t.shape, axis, where)
    d = t - t.mean(axis, keepdims=True)
    return (d * d).sum(axis, keepdims) * (1.0 / (n - c) if n > c else float("nan"))


def std(x: Any, axis: Any = None, *, ddof: Any = None, correction: Any = None,
        keepdims: bool = False) -> Tensor:
    """Standard deviation over ``axis``: ``√var`` (see :func:`var` for ``ddof``/``correction``).

    Example
    -------
    >>> al.std([1.0, 3.0])
    Tensor(1., dtype=float64)
    """
    return ops.sqrt(_var(as_tensor(x, "std"), axis, ddof, correction, keepdims, "std"))


def quantile(x: Any, q: float, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The ``q``-quantile (``0 <= q <= 1``) over ``axis`` (``None``: all), interpolating
    linearly between the two nearest order statistics (NumPy's and PyTorch's default).

    Example
    -------
    >>> al.quantile([1.0, 2.0, 3.0, 4.0], 0.25)
    Tensor(1.75, dtype=float64)
    """
    t = as_tensor(x, "quantile")
    if isinstance(q, bool) or not isinstance(q, numbers.Real) or not 0 <= q <= 1:
        raise ValueError(f"quantile: q must be a number in [0, 1], got {q!r:.40}")
    if axis is None:
        flat = t.reshape(-1)
        r = quantile(flat, q, 0)
        return r.reshape((1,) * t.ndim) if keepdims else r
    a = _axis(axis, t.ndim, "quantile")
    if t.ndim == 0:
        return t
    n = t.shape[a]
    if n == 0:
        raise ValueError(f"quantile: cannot reduce an empty axis of shape {t.shape}")
    s = sort(t, a)
    pos = q * (n - 1)
    lo, hi = int(math.floor(pos)), int(math.ceil(pos))
    frac = pos - lo
    take = (lambda i: s[(slice(None),) * a + (slice(i, i + 1),)])
    r = take(lo) if frac == 0 else take(lo) * (1 - frac) + take(hi) * frac
    return r if keepdims else r.squeeze(a)


def median(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The median over ``axis`` (NumPy's: the mean of the two middle values when their number
    is even; ``torch.median`` returns the lower one).

    Example
    -------
    >>> al.median([3.0, 1.0, 4.0, 2.0])
    Tensor(2.5, dtype=float64)
    """
    return quantile(as_tensor(x, "median"), 0.5, axis, keepdims)


# ---------------------------------------------------------------------------------------------
# Selections without gradient


def _constant(fn: Any, x: Any, axis: Any, keepdims: bool, where: str, *, one_axis: bool
              ) -> Tensor:
    """``fn(x, axis, keepdims)`` on the values of ``x``: a Tensor outside any graph."""
    t = as_tensor(x, where)
    if axis is not None:
        axis = _axis(axis, t.ndim, where) if one_axis else normalize_axes(axis, t.ndim, where)
    return Tensor(fn(t._data, axis=axis, keepdims=keepdims))


def argmax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Index of the maximum over ``axis`` (``None``: of the flattened array; the first at
    ties). No gradient.

    Example
    -------
    >>> al.argmax([[1.0, 5.0], [3.0, 2.0]], axis=1)
    Tensor([1, 0], dtype=int64)
    """
    return _constant(np.argmax, x, axis, keepdims, "argmax", one_axis=True)


def argmin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Index of the minimum over ``axis``, as :func:`argmax` finds the maximum.

    Example
    -------
    >>> al.argmin([[1.0, 5.0], [3.0, 2.0]], axis=1, keepdims=True)
    Tensor([[0],
            [1]], dtype=int64)
    """
    return _constant(np.argmin, x, axis, keepdims, "argmin", one_axis=True)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether any element over ``axis`` is nonzero (a boolean Tensor; no gradient).

    Example
    -------
    >>> al.any([[0.0, 1.0], [0.0, 0.0]], axis=1)
    Tensor([ True, False], dtype=bool)
    """
    return _constant(np.any, x, axis, keepdims, "any", one_axis=False)


def all(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether every element over ``axis`` (``None``: all of them) is nonzero; see :func:`any`.

    Example
    -------
    >>> al.all([[1.0, 1.0], [0.0, 1.0]]), al.all([[1.0, 1.0], [0.0, 1.0]], axis=1)
    (Tensor(False, dtype=bool), Tensor([ True, False], dtype=bool))
    """
    return _constant(np.all, x, axis, keepdims, "all", one_axis=False)


def _order(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    if descending:   # stable descending: reverse a stable ascending sort of the reversed array
        n = x.shape[axis]
        flip = (slice(None),) * axis + (slice(None, None, -1),)
        return (n - 1 - np.argsort(x[flip], axis=axis, kind="stable"))[flip]
    return np.argsort(x, axis=axis, kind="stable")


def argsort(x: Any, axis: int = -1, descending: bool = False) -> Tensor:
    """The indices that sort ``x`` along ``axis`` (stable: ties keep their order). No gradient.

    Example
    -------
    >>> al.argsort([3.0, 1.0, 2.0])
    Tensor([1, 2, 0], dtype=int64)
    """
    t = as_tensor(x, "argsort")
    if t.ndim == 0:
        return Tensor(np.zeros((), dtype=np.int64))
    return Tensor(_order(t._data, _axis(axis, t.ndim, "argsort"), bool(descending)))


def sort(x: Any, axis: int = -1, descending: bool = False) -> Tensor:
    """``x`` sorted along ``axis`` (values; stable, so tied elements keep their order and each
    gets the gradient of the position it moved to).

    Example
    -------
    >>> al.sort([3.0, 1.0, 2.0], descending=True)
    Tensor([3., 2., 1.], dtype=float64)
    """
    t = as_tensor(x, "sort")
    if t.ndim == 0:
        return t
    a = _axis(axis, t.ndim, "sort")
    return ops.OPS["take_along_axis"](t, indices=_order(t._data, a, bool(descending)), axis=a)


def topk(x: Any, k: int, axis: int = -1, largest: bool = True) -> Tensor:
    """The ``k`` largest (``largest=False``: smallest) values along ``axis``, in order (ties:
    the earlier position first). The gradient goes back to where each value came from.

    Example
    -------
    >>> al.topk([1.0, 4.0, 2.0, 3.0], 2)
    Tensor([4., 3.], dtype=float64)
    """
    t = as_tensor(x, "topk")
    a = _axis(axis, t.ndim, "topk")
    n = t.shape[a] if t.ndim else 1
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise ValueError(f"topk: k must be an int in [0, {n}], got {k!r:.40}")
    if t.ndim == 0:
        return t
    idx = _order(t._data, a, bool(largest))[(slice(None),) * a + (slice(0, int(k)),)]
    return ops.OPS["take_along_axis"](t, indices=idx, axis=a)


def _cumulative(x: Any, axis: int, where: str, accumulate: Any) -> Tensor:
    t = as_tensor(x, where)
    if t.ndim == 0:
        return t
    a = _axis(axis, t.ndim, where)
    d = t._data
    running = accumulate(d, axis=a)
    shape = [1] * d.ndim
    shape[a] = d.shape[a]
    positions = np.arange(d.shape[a]).reshape(shape)
    idx = np.maximum.accumulate(np.where(d == running, positions, 0), axis=a)
    return ops.OPS["take_along_axis"](t, indices=idx, axis=a)


def cummax(x: Any, axis: int = -1) -> Tensor:
    """Running maximum along ``axis`` (values; the gradient goes to the latest position holding
    the running maximum, as PyTorch).

    Example
    -------
    >>> al.cummax([1.0, 3.0, 2.0, 5.0])
    Tensor([1., 3., 3., 5.], dtype=float64)
    """
    return _cumulative(x, axis, "cummax", np.maximum.accumulate)


def cummin(x: Any, axis: int = -1) -> Tensor:
    """Running minimum along ``axis``, as :func:`cummax` takes the running maximum.

    Example
    -------
    >>> al.cummin([[3.0, 1.0], [2.0, 4.0]], axis=0)
    Tensor([[3., 1.],
            [2., 1.]], dtype=float64)
    """
    return _cumulative(x, axis, "cummin", np.minimum.accumulate)


# ---------------------------------------------------------------------------------------------
# Norms


def _vector_norm(t: Tensor, order: Any, axis: Any, keepdims: bool) -> Tensor:
    if order is None or order == 2:
        order = 2
    if order == math.inf:
        return abs(t).max(axis, keepdims)
    if order == -math.inf:
        return abs(t).min(axis, keepdims)
    if order == 0:
        return (t * 0).sum(axis, keepdims) + Tensor((t._data != 0).sum(
            axis=normalize_axes(axis, t.ndim), keepdims=keepdims).astype(t.dtype))
    if isinstance(order, bool) or not isinstance(order, numbers.Real) or not order > 0:
        raise ValueError(f"norm: a vector ord must be a positive number, 0 or ±inf, got "
                         f"{order!r:.40}")
    return ops.OPS["vector_norm"](t, p=float(order), axis=axis, keepdims=bool(keepdims))


def _matrix_norm(t: Tensor, order: Any, axes: tuple[int, int], keepdims: bool) -> Tensor:
    row, col = axes
    if order in (None, "fro"):
        return ops.OPS["vector_norm"](t, p=2.0, axis=(row, col), keepdims=bool(keepdims))
    if order in (1, -1, math.inf, -math.inf):
        inner, outer = (row, col) if order in (1, -1) else (col, row)
        s = abs(t).sum(inner, keepdims=True)
        s = s.max(outer, keepdims=True) if order > 0 else s.min(outer, keepdims=True)
        return s if keepdims else s.squeeze((row, col))
    if order in (2, -2, "nuc"):
        order_ = [*(a for a in range(t.ndim) if a not in (row, col)), row, col]
        sv = ops.OPS["svdvals"](t if order_ == list(range(t.ndim)) else t.transpose(*order_))
        s = sv.sum(-1) if order == "nuc" else sv.max(-1) if order == 2 else sv.min(-1)
        if keepdims:
            s = s.reshape(tuple(1 if a in (row, col) else n for a, n in enumerate(t.shape)))
        return s
    raise ValueError(f"norm: matrix ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, got "
                     f"{order!r:.40}")


def norm(x: Any, ord: Any = None, axis: Any = None,  # noqa: A002  (NumPy's name)
         keepdims: bool = False) -> Tensor:
    """Vector or matrix norm, as ``np.linalg.norm`` / ``torch.linalg.norm``.

    ``axis=None``: the 2-norm of the flattened array when ``ord`` is ``None``, else a vector
    norm (1-D) or a matrix norm (2-D). An int ``axis``: vector norms (``ord`` any ``p > 0``,
    ``inf``, ``-inf``, ``0`` — the count of nonzeros, gradient 0). A pair: matrix norms
    (``'fro'``, ``'nuc'`` the sum of the singular values, ``2``/``-2`` the largest/smallest
    singular value, ``1``, ``-1``, ``inf``, ``-inf``), batched over the other axes. The
    subgradient at 0 is 0 (as PyTorch for vector norms; for ``2``, ``-2`` and ``'nuc'`` a
    singular value that is exactly 0 passes no gradient, where PyTorch passes ``u vᵀ``).

    Example
    -------
    >>> al.norm([3.0, 4.0])
    Tensor(5., dtype=float64)
    """
    t = as_tensor(x, "norm")
    if axis is None:
        if ord is None:
            return _vector_norm(t, 2, None, keepdims)
        if t.ndim == 2:
            return _matrix_norm(t, ord, (0, 1), keepdims)
        if t.ndim != 1:
            raise ValueError(f"norm: ord={ord!r} needs a 1-D or 2-D tensor (or axis), got "
                             f"shape {t.shape}")
        return _vector_norm(t, ord, None, keepdims)
    axes = normalize_axes(axis, t.ndim, "norm")
    if isinstance(axis, (tuple, list)) and len(axis) == 2:
        return _matrix_norm(t, ord, (axes[0], axes[1]) if axes == tuple(
            a % t.ndim for a in axis) else (axes[1], axes[0]), keepdims)
    if len(axes) != 1 and t.ndim:
        raise ValueError(f"norm: axis must be an int or a pair of ints, got {axis!r}")
    return _vector_norm(t, ord, axis, keepdims)


METHODS = ["var", "std", "amax", "amin", "argmax", "argmin", "argsort", "any", "all", "sort",
           "topk", "cummax", "cummin", "quantile", "median", "norm"]
