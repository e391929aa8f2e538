"""Composite indexing functions: diagonals and triangles, ``gather`` and the accumulating
scatters ``scatter_add`` and ``index_add`` (PyTorch's argument order ``(x, axis, index, ...)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor, as_tensor
from .common import _along, _axis, _int, _ints

__all__ = ["diag", "diagonal", "trace", "triu", "tril", "gather", "scatter_add", "index_add"]

METHODS = ["diagonal", "trace", "triu", "tril", "gather", "scatter_add", "index_add"]


# ---------------------------------------------------------------------------------------------
# Diagonals and triangles


def _diag_index(n1: int, n2: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    r0, c0 = max(-offset, 0), max(offset, 0)
    length = max(0, min(n1 - r0, n2 - c0))
    k = np.arange(length)
    return k + r0, k + c0


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal ``offset`` of the matrices over ``axis1``, ``axis2``, as the last axis of
    the result (``np.diagonal``).

    Example
    -------
    >>> al.diagonal([[1.0, 2.0], [3.0, 4.0]])
    Tensor([1., 4.], dtype=float64)
    """
    t = as_tensor(x, "diagonal")
    if t.ndim < 2:
        raise ValueError(f"diagonal: needs at least 2 dimensions, got shape {t.shape}")
    a1, a2 = _axis(axis1, t.ndim, "diagonal"), _axis(axis2, t.ndim, "diagonal")
    if a1 == a2:
        raise ValueError(f"diagonal: axis1 and axis2 must differ, got {axis1} and {axis2}")
    rest = [d for d in range(t.ndim) if d not in (a1, a2)]
    m = t.transpose(*rest, a1, a2)
    rows, cols = _diag_index(t.shape[a1], t.shape[a2], _int(offset, "offset", "diagonal"))
    return m[(Ellipsis, rows, cols)]


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The sum of the diagonal ``offset`` (``np.trace``).

    Example
    -------
    >>> al.trace([[1.0, 2.0], [3.0, 4.0]])
    Tensor(5., dtype=float64)
    """
    return diagonal(as_tensor(x, "trace"), offset, axis1, axis2).sum(-1)


def diag(v: Any, k: int = 0) -> Tensor:
    """A 1-D ``v`` placed on diagonal ``k`` of a square matrix, or the diagonal ``k`` of a
    2-D ``v`` (``np.diag``).

    Example
    -------
    >>> al.diag([1.0, 2.0])
    Tensor([[1., 0.],
            [0., 2.]], dtype=float64)
    """
    t = as_tensor(v, "diag")
    k = _int(k, "k", "diag")
    if t.ndim == 2:
        return diagonal(t, k)
    if t.ndim != 1:
        raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {t.shape}")
    n = t.shape[0] + abs(k)
    return ops.scatter_add(t, index=_diag_index(n, n, k), shape=(n, n))


def _triangle(x: Any, k: int, where: str, fn: Any) -> Tensor:
    t = as_tensor(x, where)
    if t.ndim < 2:
        raise ValueError(f"{where}: needs at least 2 dimensions, got shape {t.shape}")
    keep = fn(np.ones(t.shape[-2:], dtype=bool), _int(k, "k", where))
    return ops.where(t, 0.0, cond=keep)


def triu(x: Any, k: int = 0) -> Tensor:
    """``x`` with the elements below diagonal ``k`` of its last two axes set to 0.

    Example
    -------
    >>> al.triu([[1.0, 2.0], [3.0, 4.0]])
    Tensor([[1., 2.],
            [0., 4.]], dtype=float64)
    """
    return _triangle(x, k, "triu", np.triu)


def tril(x: Any, k: int = 0) -> Tensor:
    """``x`` with the elements above diagonal ``k`` of its last two axes set to 0 (``k < 0``:
    below the main diagonal, e.g. a causal mask that hides the current position too).

    Example
    -------
    >>> al.tril(np.ones((3, 3)), k=-1)
    Tensor([[0., 0., 0.],
            [1., 0., 0.],
            [1., 1., 0.]], dtype=float64)
    """
    return _triangle(x, k, "tril", np.tril)


# ---------------------------------------------------------------------------------------------
# Gather and accumulating scatters (PyTorch's argument order)


def _index_for(t: Tensor, axis: Any, index: Any, where: str) -> tuple[int, np.ndarray]:
    a = _axis(axis, t.ndim, where)
    idx = _ints(index, where, "index")
    if idx.ndim != t.ndim:
        raise ValueError(f"{where}: index needs as many dimensions as x, got {idx.shape} for "
                         f"x of shape {t.shape}")
    if any(i > n for d, (i, n) in enumerate(zip(idx.shape, t.shape)) if d != a):
        raise ValueError(f"{where}: index {idx.shape} is larger than x {t.shape} outside "
                         f"axis {a}")
    n = t.shape[a]
    if idx.size and not (-n <= idx.min() and idx.max() < n):
        raise IndexError(f"{where}: index out of range for axis {a} of length {n}")
    return a, idx % max(n, 1)


def gather(x: Any, axis: int, index: Any) -> Tensor:
    """``out[i][j] = x[index[i][j]][j]`` for ``axis=0`` (and so on), as ``torch.gather``:
    ``index`` has ``x``'s number of dimensions and may be smaller than ``x`` outside ``axis``.

    Example
    -------
    >>> al.gather([[1.0, 2.0], [3.0, 4.0]], 1, np.array([[0, 0], [1, 0]]))
    Tensor([[1., 1.],
            [4., 3.]], dtype=float64)
    """
    t = as_tensor(x, "gather")
    a, idx = _index_for(t, axis, index, "gather")
    part = t[tuple(slice(None) if d == a else slice(0, n) for d, n in enumerate(idx.shape))]
    return ops.OPS["take_along_axis"](part, indices=idx, axis=a)


def scatter_add(x: Any, axis: int, index: Any, src: Any) -> Tensor:
    """``x`` plus ``src`` added at ``index`` along ``axis`` (repeated indices accumulate), as
    ``torch.scatter_add``: ``out[index[i][j]][j] += src[i][j]`` for ``axis=0``.

    Example
    -------
    >>> al.scatter_add(np.zeros(3), 0, np.array([0, 2, 0]), [1.0, 2.0, 3.0])
    Tensor([4., 0., 2.], dtype=float64)
    """
    t = as_tensor(x, "scatter_add")
    s = as_tensor(src, "scatter_add")
    a, idx = _index_for(t, axis, index, "scatter_add")
    if s.ndim != idx.ndim or any(i > n for i, n in zip(idx.shape, s.shape)):
        raise ValueError(f"scatter_add: src {s.shape} must cover index {idx.shape}")
    part = s[tuple(slice(0, n) for n in idx.shape)]
    return t + ops.OPS["scatter_along"](part, indices=idx, axis=a, shape=t.shape)


def index_add(x: Any, axis: int, index: Any, source: Any, alpha: float = 1.0) -> Tensor:
    """``x`` plus ``alpha · source`` added at positions ``index`` (1-D) along ``axis``
    (repeated indices accumulate), as ``torch.index_add``.

    Example
    -------
    >>> al.index_add(np.zeros((3, 1)), 0, np.array([2, 2]), [[1.0], [2.0]])
    Tensor([[0.],
            [0.],
            [3.]], dtype=float64)
    """
    t = as_tensor(x, "index_add")
    s = as_tensor(source, "index_add")
    a = _axis(axis, t.ndim, "index_add")
    idx = _ints(index, "index_add", "index")
    expected = t.shape[:a] + (idx.size,) + t.shape[a + 1:]
    if idx.ndim != 1 or s.shape != expected:
        raise ValueError(f"index_add: expected a 1-D index and source of shape {expected}, got "
                         f"index {idx.shape} and source {s.shape}")
    n = t.shape[a]
    if idx.size and not (-n <= idx.min() and idx.max() < n):
        raise IndexError(f"index_add: index out of range for axis {a} of length {n}")
    moved = s * alpha if alpha != 1 else s
    return t + ops.scatter_add(moved, index=_along(a, idx % n), shape=t.shape)
