"""Composite linear algebra: ``outer``, ``inner``, ``dot``, ``tensordot`` (NumPy's semantics,
through ``reshape``/``transpose``/``matmul``), ``slogdet`` and ``svd``."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor, as_tensor

__all__ = ["outer", "inner", "dot", "tensordot", "slogdet", "svd"]

METHODS = ["dot"]


def outer(a: Any, b: Any) -> Tensor:
    """The outer product of the flattened ``a`` and ``b`` (``np.outer``).

    Example
    -------
    >>> al.outer([1.0, 2.0], [3.0, 4.0])
    Tensor([[3., 4.],
            [6., 8.]], dtype=float64)
    """
    return as_tensor(a, "outer").reshape(-1, 1) * as_tensor(b, "outer").reshape(1, -1)


def _axes_lists(axes: Any, a: Tensor, b: Tensor) -> tuple[list[int], list[int]]:
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        k = int(axes)
        if not 0 <= k <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: axes={k} needs at least {k} dimensions in both, got "
                             f"{a.shape} and {b.shape}")
        return list(range(a.ndim - k, a.ndim)), list(range(k))
    try:
        xa, xb = axes
        xa = [operator.index(v) for v in (xa if isinstance(xa, (tuple, list)) else (xa,))]
        xb = [operator.index(v) for v in (xb if isinstance(xb, (tuple, list)) else (xb,))]
    except (TypeError, ValueError):
        raise TypeError(f"tensordot: axes must be an int or a pair of axis lists, got "
                        f"{axes!r:.60}") from None
    if len(xa) != len(xb):
        raise ValueError(f"tensordot: {len(xa)} axes of a against {len(xb)} axes of b")
    for ax, t in ((xa, a), (xb, b)):
        for v in ax:
            if not -t.ndim <= v < t.ndim:
                raise ValueError(f"tensordot: axis {v} is out of range for shape {t.shape}")
    return [v % a.ndim for v in xa], [v % b.ndim for v in xb]


def tensordot(a: Any, b: Any, axes: Any = 2) -> Tensor:
    """The sum of products over ``axes`` (an int ``k``: the last ``k`` of ``a`` with the first
    ``k`` of ``b``; or two lists of axes), as ``np.tensordot``.

    Example
    -------
    >>> al.tensordot(np.ones((2, 3)), np.ones((3, 4)), axes=1).shape
    (2, 4)
    """
    ta, tb = as_tensor(a, "tensordot"), as_tensor(b, "tensordot")
    xa, xb = _axes_lists(axes, ta, tb)
    for i, j in zip(xa, xb):
        if ta.shape[i] != tb.shape[j]:
            raise ValueError(f"tensordot: axis {i} of a {ta.shape} and axis {j} of b "
                             f"{tb.shape} differ in length")
    free_a = [d for d in range(ta.ndim) if d not in xa]
    free_b = [d for d in range(tb.ndim) if d not in xb]
    k = int(np.prod([ta.shape[d] for d in xa]))
    left = ta.transpose(*free_a, *xa).reshape(-1, k)
    right = tb.transpose(*xb, *free_b).reshape(k, -1)
    return (left @ right).reshape(tuple(ta.shape[d] for d in free_a)
                                  + tuple(tb.shape[d] for d in free_b))


def inner(a: Any, b: Any) -> Tensor:
    """The sum of products over the last axes of ``a`` and ``b`` (``np.inner``).

    Example
    -------
    >>> al.inner([1.0, 2.0], [3.0, 4.0])
    Tensor(11., dtype=float64)
    """
    ta, tb = as_tensor(a, "inner"), as_tensor(b, "inner")
    if ta.ndim == 0 or tb.ndim == 0:
        return ta * tb
    return tensordot(ta, tb, ([-1], [-1]))


def dot(a: Any, b: Any) -> Tensor:
    """NumPy's ``dot``: a product with a scalar, the inner product of vectors, the matrix
    product of matrices, else a sum over the last axis of ``a`` and the second-to-last of
    ``b``.

    Example
    -------
    >>> al.dot([1.0, 2.0], [3.0, 4.0])
    Tensor(11., dtype=float64)
    """
    ta, tb = as_tensor(a, "dot"), as_tensor(b, "dot")
    if ta.ndim == 0 or tb.ndim <= 1:    # a scalar factor, or a vector b: the same as np.inner
        return inner(ta, tb)
    return tensordot(ta, tb, ([-1], [-2]))


def slogdet(x: Any) -> tuple[Tensor, Tensor]:
    """``(sign, log|det|)`` of square matrices, as ``np.linalg.slogdet``; the sign is a
    constant, ``log|det|`` differentiable (gradient ``X⁻ᵀ``).

    Example
    -------
    >>> sign, logabs = al.slogdet([[1.0, 2.0], [3.0, 4.0]])
    >>> sign, logabs
    (Tensor(-1., dtype=float64), Tensor(0.69314718, dtype=float64))
    """
    t = as_tensor(x, "slogdet")
    logabs = ops.OPS["logabsdet"](t)
    return Tensor(np.linalg.slogdet(t.data)[0]), logabs


def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """The singular value decomposition ``x = U diag(S) Vh`` of matrices ``(..., m, n)``, as
    ``np.linalg.svd`` / ``torch.linalg.svd``: a tuple ``(U, S, Vh)``, or ``S`` alone when
    ``compute_uv=False`` (that is :func:`svdvals`).

    Differentiable in U, S and Vh (PyTorch's rule). As in PyTorch, the gradient through U or Vh
    is only defined for distinct nonzero singular values (repeated ones give inf/nan: the
    singular vectors are not unique there; S alone is always fine), the function must not
    depend on the sign of a singular vector pair, and with ``full_matrices=True`` the columns
    of U and rows of Vh beyond ``min(m, n)`` get no gradient (an arbitrary basis).

    Example
    -------
    >>> u, s, vh = al.svd([[3.0, 0.0], [0.0, -4.0], [0.0, 0.0]], full_matrices=False)
    >>> u.shape, s, vh.shape
    ((3, 2), Tensor([4., 3.], dtype=float64), (2, 2))
    """
    t = as_tensor(x, "svd")
    for name, flag in (("full_matrices", full_matrices), ("compute_uv", compute_uv)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"svd: {name} must be a bool, got {flag!r:.40}")
    if not compute_uv:
        return ops.OPS["svdvals"](t)
    if t.ndim < 2:
        raise ValueError(f"svd: expected matrices (..., m, n), got shape {t.shape}")
    packed = ops.OPS["svd"](t, full_matrices=bool(full_matrices))
    m, n = t.shape[-2:]
    k = min(m, n)
    cols, rows = (m, n) if full_matrices else (k, k)
    return (packed[..., :m, :cols], packed[..., m, :k],
            packed[..., m + 1:, :rows].mT)
