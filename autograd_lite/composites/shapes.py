"""Composite shape functions: padding, splitting, repetition, flips and rolls, axis moves,
flattening, grids, stacking.

Each is a few primitives (``getitem``, ``reshape``, ``transpose``, ``broadcast_to``,
``concatenate``, ``take_along_axis``, ``scatter_add``), so gradients and second derivatives
come from theirs. Index maps are computed in NumPy from shapes only.

Conventions: ``pad`` takes NumPy's ``pad_width`` (an int, a ``(before, after)`` pair, or one
pair per axis) and modes ``constant``, ``reflect``, ``replicate`` (NumPy's ``edge``) and
``circular`` (NumPy's ``wrap``), reflecting repeatedly where the padding exceeds the axis, as
NumPy; ``repeat`` is NumPy's (PyTorch's ``repeat_interleave``), ``tile`` NumPy's (PyTorch's
``Tensor.repeat``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import ops
from ..ops.core import normalize_axes
from ..tensor import Tensor, as_tensor
from .common import _along, _axis, _int, _ints

__all__ = [
    "pad", "split", "array_split", "chunk", "repeat", "repeat_interleave", "tile", "flip",
    "roll", "moveaxis", "swapaxes", "flatten", "unflatten", "meshgrid", "vstack", "hstack",
]

METHODS = ["flip", "roll", "moveaxis", "unflatten", "split", "chunk"]


# ---------------------------------------------------------------------------------------------
# Padding

_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "edge": "edge",
          "circular": "wrap", "wrap": "wrap"}


def pad(x: Any, pad_width: Any, mode: str = "constant", value: float = 0.0) -> Tensor:
    """``x`` padded as ``np.pad(x, pad_width, mode)``: ``mode`` is ``'constant'`` (``value``),
    ``'reflect'``, ``'replicate'`` (``'edge'``) or ``'circular'`` (``'wrap'``).

    Example
    -------
    >>> al.pad([1.0, 2.0, 3.0], (2, 1), mode="reflect")
    Tensor([3., 2., 1., 2., 3., 2.], dtype=float64)
    """
    t = as_tensor(x, "pad")
    if mode not in _MODES:
        raise ValueError(f"pad: mode must be one of {sorted(_MODES)}, got {mode!r:.40}")
    try:
        widths = np.broadcast_to(np.asarray(pad_width), (t.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r:.60} does not fit {t.ndim} axes (give an "
                         "int, a (before, after) pair or one pair per axis)") from None
    if widths.dtype.kind not in "iu" or (widths < 0).any():
        raise TypeError(f"pad: pad_width must be non-negative ints, got {pad_width!r:.60}")
    widths = widths.astype(int)
    shape = tuple(int(n + b + a) for n, (b, a) in zip(t.shape, widths))
    if mode == "constant":
        inner = tuple(slice(int(b), int(b) + n) for n, (b, _) in zip(t.shape, widths))
        out = ops.scatter_add(t, index=inner, shape=shape)
        if value:
            outside = np.ones(shape, dtype=bool)
            outside[inner] = False
            out = out + np.where(outside, value, 0).astype(t.dtype)
        return out
    if any(n == 0 and (b or a) for n, (b, a) in zip(t.shape, widths)):
        raise ValueError(f"pad: cannot pad an empty axis of shape {t.shape} in mode {mode!r}")
    maps = [np.pad(np.arange(n), (int(b), int(a)), mode=_MODES[mode])
            for n, (b, a) in zip(t.shape, widths)]
    return t[np.ix_(*maps)] if t.ndim else t


# ---------------------------------------------------------------------------------------------
# Splitting (lists of slices)


def _pieces(t: Tensor, bounds: Sequence[int], axis: int) -> list[Tensor]:
    return [t[_along(axis, slice(a, b))] for a, b in zip(bounds[:-1], bounds[1:])]


def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """``x`` split along ``axis`` into ``N`` nearly equal parts (the first ``n % N`` one
    longer) or at the given indices, as ``np.array_split``.

    Example
    -------
    >>> [p.shape for p in al.array_split(np.arange(5.0), 2)]
    [(3,), (2,)]
    """
    return _split(x, indices_or_sections, axis, "array_split", equal=False)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """``x`` split along ``axis`` into ``N`` equal parts or at the given indices, as
    ``np.split`` (a list of views whose gradients add up in ``x``).

    Example
    -------
    >>> al.split([1.0, 2.0, 3.0, 4.0], [1, 3])
    [Tensor([1.], dtype=float64), Tensor([2., 3.], dtype=float64), Tensor([4.], dtype=float64)]
    """
    return _split(x, indices_or_sections, axis, "split", equal=True)


def _split(x: Any, spec: Any, axis: int, where: str, *, equal: bool) -> list[Tensor]:
    t = as_tensor(x, where)
    a = _axis(axis, t.ndim, where)
    n = t.shape[a]
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        k = int(spec)
        if k <= 0:
            raise ValueError(f"{where}: the number of sections must be positive, got {k}")
        if equal and n % k:
            raise ValueError(f"{where}: axis {a} of length {n} does not divide into {k} equal "
                             "sections (use array_split)")
        sizes = [n // k + (i < n % k) for i in range(k)]
        bounds = [0, *np.cumsum(sizes).tolist()]
    else:
        points = [_int(p, "a split index", where) for p in spec]
        bounds = [0, *[min(max(p + n if p < 0 else p, 0), n) for p in points], n]
        bounds = [bounds[0], *[max(b, bounds[0]) for b in bounds[1:]]]
    return _pieces(t, bounds, a)


def chunk(x: Any, chunks: int, axis: int = 0) -> list[Tensor]:
    """``x`` split along ``axis`` into at most ``chunks`` parts of ``ceil(n / chunks)``
    elements (the last smaller), as ``torch.chunk``.

    Example
    -------
    >>> [p.shape for p in al.chunk(np.arange(5.0), 3)]
    [(2,), (2,), (1,)]
    """
    t = as_tensor(x, "chunk")
    k = _int(chunks, "chunks", "chunk")
    if k <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {k}")
    a = _axis(axis, t.ndim, "chunk")
    n = t.shape[a]
    size = max(math.ceil(n / k), 1)
    return _pieces(t, list(range(0, n, size)) + [n] if n else [0, 0], a)


# ---------------------------------------------------------------------------------------------
# Repetition, flips, rolls


def repeat(x: Any, repeats: Any, axis: Any = None) -> Tensor:
    """Each element repeated ``repeats`` times (an int or one count per element) along
    ``axis`` (``None``: of the flattened array), as ``np.repeat``.

    Example
    -------
    >>> al.repeat([1.0, 2.0], 2)
    Tensor([1., 1., 2., 2.], dtype=float64)
    """
    t = as_tensor(x, "repeat")
    if axis is None:
        t, a = t.reshape(-1), 0
    else:
        a = _axis(axis, t.ndim, "repeat")
    r = _ints(repeats, "repeat", "repeats")
    if (r < 0).any():
        raise ValueError("repeat: repeats must be non-negative")
    try:
        idx = np.repeat(np.arange(t.shape[a]), r)
    except ValueError:
        raise ValueError(f"repeat: {r.size} repeat counts for an axis of length {t.shape[a]}"
                         ) from None
    return t[_along(a, idx)]


def repeat_interleave(x: Any, repeats: Any, axis: Any = None) -> Tensor:
    """Alias of :func:`repeat` (PyTorch's name).

    Example
    -------
    >>> al.repeat_interleave([[1.0, 2.0]], [1, 2], axis=1)
    Tensor([[1., 2., 2.]], dtype=float64)
    """
    return repeat(as_tensor(x, "repeat_interleave"), repeats, axis)


def tile(x: Any, reps: Any) -> Tensor:
    """``x`` repeated as whole blocks, ``reps[i]`` times along axis ``i``, as ``np.tile``
    (PyTorch's ``Tensor.repeat``).

    Example
    -------
    >>> al.tile([1.0, 2.0], 2)
    Tensor([1., 2., 1., 2.], dtype=float64)
    """
    t = as_tensor(x, "tile")
    r = [_int(v, "reps", "tile") for v in (reps if isinstance(reps, (tuple, list)) else (reps,))]
    if any(v < 0 for v in r):
        raise ValueError(f"tile: reps must be non-negative, got {tuple(r)}")
    d = max(len(r), t.ndim)
    r = [1] * (d - len(r)) + r
    shape = (1,) * (d - t.ndim) + t.shape
    spread = t.reshape(tuple(v for n in shape for v in (1, n)))
    big = spread.broadcast_to(tuple(v for k, n in zip(r, shape) for v in (k, n)))
    return big.reshape(tuple(k * n for k, n in zip(r, shape)))


def flip(x: Any, axis: Any = None) -> Tensor:
    """``x`` with the order of elements reversed along ``axis`` (``None``: every axis).

    Example
    -------
    >>> al.flip([1.0, 2.0, 3.0])
    Tensor([3., 2., 1.], dtype=float64)
    """
    t = as_tensor(x, "flip")
    axes = normalize_axes(axis, t.ndim, "flip")
    return t[tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(t.ndim))]


def roll(x: Any, shift: Any, axis: Any = None) -> Tensor:
    """Elements shifted by ``shift`` along ``axis`` (``None``: the flattened array), wrapping
    around, as ``np.roll``.

    Example
    -------
    >>> al.roll([1.0, 2.0, 3.0], 1)
    Tensor([3., 1., 2.], dtype=float64)
    """
    t = as_tensor(x, "roll")
    if axis is None:
        return roll(t.reshape(-1), shift, 0).reshape(t.shape)
    shifts = shift if isinstance(shift, (tuple, list)) else (shift,)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    if len(shifts) != len(axes):
        shifts = shifts * len(axes) if len(shifts) == 1 else shifts
    if len(shifts) != len(axes):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(axes)} axes")
    for s, a in zip(shifts, axes):
        a = _axis(a, t.ndim, "roll")
        n = t.shape[a]
        s = _int(s, "shift", "roll") % n if n else 0
        if s:
            t = ops.concatenate(t[_along(a, slice(n - s, None))], t[_along(a, slice(0, n - s))],
                                axis=a)
    return t


# ---------------------------------------------------------------------------------------------
# Axes, flattening, grids, stacking


def moveaxis(x: Any, source: Any, destination: Any) -> Tensor:
    """``x`` with axes ``source`` moved to ``destination`` (ints or sequences), the others
    keeping their order (``np.moveaxis``).

    Example
    -------
    >>> al.moveaxis(np.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    t = as_tensor(x, "moveaxis")
    src = [_axis(v, t.ndim, "moveaxis") for v in (source if isinstance(source, (tuple, list))
                                                  else (source,))]
    dst = [_axis(v, t.ndim, "moveaxis") for v in (destination if isinstance(
        destination, (tuple, list)) else (destination,))]
    if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"moveaxis: source {source!r} and destination {destination!r} must be "
                         "as many distinct axes")
    order = [d for d in range(t.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return t.transpose(*order)


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """``x`` with two axes exchanged (the function form of ``Tensor.swapaxes``).

    Example
    -------
    >>> al.swapaxes(np.zeros((2, 3)), 0, 1).shape
    (3, 2)
    """
    return as_tensor(x, "swapaxes").swapaxes(axis1, axis2)


def flatten(x: Any, start_axis: int = 0, end_axis: int = -1) -> Tensor:
    """Axes ``start_axis`` to ``end_axis`` (inclusive) merged into one (``torch.flatten``).

    Example
    -------
    >>> al.flatten(np.zeros((2, 3, 4)), 1).shape
    (2, 12)
    """
    t = as_tensor(x, "flatten")
    if t.ndim == 0:
        return t.reshape(1)
    s, e = _axis(start_axis, t.ndim, "flatten"), _axis(end_axis, t.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis}")
    return t.reshape(t.shape[:s] + (-1,) + t.shape[e + 1:])


def unflatten(x: Any, axis: int, sizes: Sequence[int]) -> Tensor:
    """Axis ``axis`` split into axes of ``sizes`` (one may be ``-1``), as ``torch.unflatten``.

    Example
    -------
    >>> al.unflatten(np.zeros((2, 12)), 1, (3, -1)).shape
    (2, 3, 4)
    """
    t = as_tensor(x, "unflatten")
    a = _axis(axis, t.ndim, "unflatten")
    sizes = tuple(_int(s, "sizes", "unflatten") for s in sizes)
    known = math.prod(s for s in sizes if s != -1)
    full = tuple(t.shape[a] // known if s == -1 and known else s for s in sizes)
    if math.prod(full) != t.shape[a]:
        raise ValueError(f"unflatten: sizes {sizes} do not fit axis {a} of length {t.shape[a]}")
    return t.reshape(t.shape[:a] + full + t.shape[a + 1:])


def meshgrid(*xs: Any, indexing: str = "xy") -> list[Tensor]:
    """Coordinate grids from 1-D tensors, as ``np.meshgrid`` (``indexing='xy'`` or ``'ij'``).

    Example
    -------
    >>> [g.shape for g in al.meshgrid([1.0, 2.0, 3.0], [4.0, 5.0])]
    [(2, 3), (2, 3)]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r:.40}")
    ts = [as_tensor(v, "meshgrid").reshape(-1) for v in xs]
    shape = [t.shape[0] for t in ts]
    if indexing == "xy" and len(ts) > 1:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(ts):
        pos = (1 - i if i < 2 else i) if indexing == "xy" and len(ts) > 1 else i
        view = [1] * len(ts)
        view[pos] = t.shape[0]
        out.append(t.reshape(tuple(view)).broadcast_to(tuple(shape)))
    return out


def _seq(xs: Any, where: str) -> list[Tensor]:
    if isinstance(xs, (Tensor, np.ndarray, str)) or not isinstance(xs, (list, tuple)) or not xs:
        raise TypeError(f"{where}: expected a non-empty list or tuple of tensors, got "
                        f"{type(xs).__name__}")
    return [as_tensor(v, where) for v in xs]


def vstack(xs: Any) -> Tensor:
    """Tensors stacked vertically (1-D ones become rows), as ``np.vstack``.

    Example
    -------
    >>> al.vstack([[1.0, 2.0], [3.0, 4.0]])
    Tensor([[1., 2.],
            [3., 4.]], dtype=float64)
    """
    ts = [t.reshape(1, -1) if t.ndim < 2 else t for t in _seq(xs, "vstack")]
    return ops.concatenate(*ts, axis=0)


def hstack(xs: Any) -> Tensor:
    """Tensors stacked horizontally (along axis 1, or 0 for 1-D ones), as ``np.hstack``.

    Example
    -------
    >>> al.hstack([[1.0, 2.0], [3.0]])
    Tensor([1., 2., 3.], dtype=float64)
    """
    ts = [t.reshape(1) if t.ndim == 0 else t for t in _seq(xs, "hstack")]
    return ops.concatenate(*ts, axis=0 if ts[0].ndim == 1 else 1)
