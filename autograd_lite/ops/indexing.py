"""Indexing along an axis with an array of indices: ``take_along_axis`` (PyTorch's ``gather``)
and its transpose, the accumulating scatter.

``take_along_axis`` follows NumPy (the indices broadcast against ``x`` on the other axes);
its VJP adds each cotangent back at the index it was taken from (repeated indices accumulate),
and that scatter's VJP takes the cotangent at the same indices again (a ``getitem``), so both
differentiate to any order. The scatter's indices may cover less than its output outside
``axis`` (as ``torch.scatter_add``).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .core import Op, data, normalize_axes
from .spellings import dim_alias


def _int_indices(indices: Any, where: str) -> np.ndarray:
    idx = np.asarray(data(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{where}: indices must be integers, got dtype {idx.dtype}")
    return idx


def _take_front(x: Any, indices: Any, axis: int) -> tuple:
    idx = _int_indices(indices, "take_along_axis")
    xd = data(x)
    try:
        kind = np.asarray(xd).dtype.kind
    except ValueError:   # ragged lists
        kind = "O"
    if kind not in "biuf":
        raise TypeError(f"take_along_axis: expected numeric data, got {type(xd).__name__}")
    ndim = np.ndim(xd)
    if ndim == 0:
        raise ValueError("take_along_axis: x needs at least one dimension")
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"take_along_axis: axis must be an int, got {axis!r:.40}") from None
    (axis,) = normalize_axes(axis, ndim, "take_along_axis")
    if idx.ndim != ndim:
        raise ValueError(f"take_along_axis: indices need as many dimensions as x, got "
                         f"{idx.shape} for x of shape {np.shape(data(x))}")
    return (x,), {"indices": idx, "axis": axis}


def _take_check(x: np.ndarray, *, indices: np.ndarray, axis: int) -> None:
    n = x.shape[axis]
    if indices.size and not (-n <= indices.min() and indices.max() < n):
        raise IndexError(f"take_along_axis: index out of range for axis {axis} of length {n} "
                         f"(got {indices.min()}..{indices.max()})")
    raise ValueError(f"take_along_axis: indices {tuple(indices.shape)} do not broadcast "
                     f"against x {tuple(x.shape)} outside axis {axis}")


def _take_vjp(g: Any, out: Any, x: Any, *, indices: np.ndarray, axis: int) -> Any:
    shape = list(g.shape)
    shape[axis] = x.shape[axis]      # the broadcast input; summed down to x centrally
    return scatter_along(g, indices=np.broadcast_to(indices, g.shape), axis=axis,
                         shape=tuple(shape))


take_along_axis = Op(
    "take_along_axis", lambda x, *, indices, axis: np.take_along_axis(x, indices, axis=axis),
    (_take_vjp,), rules=("g added back at the indices (repeats accumulate)",),
    summary="The elements of ``x`` at ``indices`` along ``axis`` (NumPy's "
    "``take_along_axis``; ``al.gather`` is PyTorch's spelling).",
    example=">>> al.take_along_axis([[1.0, 2.0], [3.0, 4.0]], np.array([[1], [0]]), axis=1)\n"
    "Tensor([[2.],\n        [3.]], dtype=float64)",
    public="take_along_axis", front=dim_alias("take_along_axis")(_take_front),
    check=_take_check, reads_values=False)


def _full_index(indices: np.ndarray, axis: int) -> tuple:
    """An index for every element of ``indices``: itself along ``axis``, positions elsewhere."""
    grid = list(np.ogrid[tuple(slice(0, n) for n in indices.shape)])
    grid[axis] = indices
    return tuple(grid)


def _scatter_along(g: np.ndarray, *, indices: np.ndarray, axis: int, shape: tuple) -> np.ndarray:
    z = np.zeros(shape, dtype=g.dtype)
    np.add.at(z, _full_index(indices, axis), g)
    return z


scatter_along = Op(
    "scatter_along", _scatter_along,
    (lambda g, out, src, *, indices, axis, shape: g[_full_index(indices, axis)],),
    rules=("g taken at the indices (a getitem)",),
    internal="the VJP of take_along_axis; reached through al.scatter_add", reads_values=False)
