"""``autograd_lite.linalg``: the linear-algebra functions under the namespace NumPy and PyTorch
users reach for (``np.linalg.norm``, ``torch.linalg.svdvals``). The same functions as
``al.norm``, ``al.det``, ... (one implementation each), plus PyTorch's and NumPy 2's
``matrix_norm`` and ``vector_norm``."""

from __future__ import annotations

from typing import Any

from .api import cholesky, det, inv, matmul, norm, slogdet, solve, svd, svdvals
from .ops.spellings import dim_alias
from .tensor import Tensor, as_tensor

__all__ = ["cholesky", "det", "inv", "matmul", "norm", "slogdet", "solve", "svd", "svdvals",
           "matrix_norm", "vector_norm"]


@dim_alias("matrix_norm")
def matrix_norm(x: Any, ord: Any = "fro", axis: tuple[int, int] = (-2, -1),  # noqa: A002
                keepdims: bool = False) -> Tensor:
    """A matrix norm over the two axes ``axis`` (default the last two, batched over the rest),
    as ``torch.linalg.matrix_norm`` (``dim=``) and ``np.linalg.matrix_norm``: ``ord`` is
    ``'fro'``, ``'nuc'``, ``2``, ``-2``, ``1``, ``-1``, ``inf`` or ``-inf`` (see :func:`norm`).

    Example
    -------
    >>> al.linalg.matrix_norm(np.stack([np.eye(2), 2 * np.eye(2)]), "nuc")
    Tensor([2., 4.], dtype=float64)
    """
    t = as_tensor(x, "matrix_norm")
    if t.ndim < 2:
        raise ValueError(f"matrix_norm: expected matrices (..., m, n), got shape {t.shape}")
    if not (isinstance(axis, (tuple, list)) and len(axis) == 2):
        raise TypeError(f"matrix_norm: axis must be a pair of ints, got {axis!r:.40}")
    return norm(t, ord, tuple(axis), keepdims)


@dim_alias("vector_norm")
def vector_norm(x: Any, ord: Any = 2, axis: Any = None,  # noqa: A002
                keepdims: bool = False) -> Tensor:
    """A vector norm over ``axis`` (an int, a tuple of ints, or ``None``: every element), as
    ``torch.linalg.vector_norm`` (``dim=``) and ``np.linalg.vector_norm``: ``ord`` any
    ``p > 0``, ``inf``, ``-inf`` or ``0``; the subgradient at 0 is 0.

    Example
    -------
    >>> al.linalg.vector_norm(np.ones((2, 2)), ord=1)
    Tensor(4., dtype=float64)
    """
    t = as_tensor(x, "vector_norm")
    if axis is None:
        return norm(t.reshape(-1), ord, 0, False).reshape((1,) * t.ndim if keepdims else ())
    if isinstance(axis, (tuple, list)) and len(axis) != 1:
        axes = tuple(a % t.ndim if t.ndim else a for a in axis)
        rest = [a for a in range(t.ndim) if a not in axes]
        moved = t.transpose(*rest, *axes)
        flat = moved.reshape(tuple(t.shape[a] for a in rest) + (-1,))
        out = norm(flat, ord, -1, False)
        if keepdims:
            out = out.reshape(tuple(1 if a in axes else n for a, n in enumerate(t.shape)))
        return out
    return norm(t, ord, axis[0] if isinstance(axis, (tuple, list)) else axis, keepdims)
