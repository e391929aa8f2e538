"""Shape primitives: reshape, transpose, broadcast, indexing, concatenation.

None of them reads values in its VJP; each moves the cotangent back where its elements came from.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .core import Op, data, normalize_axes
from .spellings import dim_alias


def _ints(args: tuple, where: str) -> tuple[int, ...]:
    """``f(x, 2, 3)``, ``f(x, (2, 3))`` and ``f(x, [2, 3])`` alike, as a tuple of ints."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    try:
        return tuple(operator.index(a) for a in args)
    except TypeError:
        raise TypeError(f"{where}: expected ints, got {args!r:.60}") from None


def _reshape_front(x: Any, *shape: Any) -> tuple:
    return (x,), {"shape": _ints(shape, "reshape")}


def _reshape_check(x: np.ndarray, *, shape: tuple) -> None:
    raise ValueError(f"reshape: cannot reshape an array of shape {tuple(x.shape)} "
                     f"({x.size} elements) into {shape}")


reshape = Op("reshape", lambda x, *, shape: np.reshape(x, shape),
             (lambda g, out, x, *, shape: g.reshape(x.shape),),
             rules=("g reshaped back to x's shape",),
             summary="The same elements in a new shape (one dimension may be -1).",
             example=">>> al.reshape([1.0, 2.0, 3.0, 4.0], (2, 2))\n"
             "Tensor([[1., 2.],\n        [3., 4.]], dtype=float64)",
             public="reshape", method="reshape", front=_reshape_front, check=_reshape_check,
             reads_values=False,
             batch=(lambda g, out, x, *, shape: g.reshape((g.shape[0],) + x.shape),))


def _transpose_front(x: Any, *axes: Any) -> tuple:
    ndim = np.ndim(data(x))
    if not axes or axes == (None,):
        return (x,), {"axes": tuple(reversed(range(ndim)))}
    perm = _ints(axes, "transpose")
    norm = [a % ndim for a in perm if -ndim <= a < ndim]
    if len(perm) != ndim or sorted(norm) != list(range(ndim)):
        raise ValueError(f"transpose: axes {perm} are not a permutation of the {ndim} axes of an "
                         f"array of shape {np.shape(data(x))}")
    return (x,), {"axes": tuple(norm)}


transpose = Op("transpose", lambda x, *, axes: np.transpose(x, axes),
               (lambda g, out, x, *, axes: g.transpose(tuple(np.argsort(axes))),),
               rules=("g with the axes permuted back",),
               summary="The axes permuted (reversed when none are given); negative axes count "
               "from the end.",
               example=">>> al.transpose([[1.0, 2.0]]).shape\n(2, 1)",
               public="transpose", method="transpose", front=_transpose_front,
               reads_values=False,
               batch=(lambda g, out, x, *, axes:
                      g.transpose((0,) + tuple(1 + int(a) for a in np.argsort(axes))),))


def _broadcast_front(x: Any, shape: Any) -> tuple:
    return (x,), {"shape": _ints((shape,), "broadcast_to")}


def _broadcast_check(x: np.ndarray, *, shape: tuple) -> None:
    raise ValueError(f"broadcast_to: cannot broadcast shape {tuple(x.shape)} to {shape}")


broadcast_to = Op("broadcast_to", lambda x, *, shape: np.broadcast_to(x, shape),
                  (lambda g, out, x, *, shape: g,),  # summed back to x's shape centrally
                  rules=("g summed over the broadcast axes",),
                  summary="``x`` broadcast to ``shape`` (the gradient is summed back).",
                  example=">>> al.broadcast_to([1.0, 2.0], (2, 2))\n"
                  "Tensor([[1., 2.],\n        [1., 2.]], dtype=float64)",
                  public="broadcast_to", method="broadcast_to", front=_broadcast_front,
                  check=_broadcast_check, reads_values=False, batch=True)


def _is_basic(index: Any) -> bool:
    """Basic indexing (ints, slices, None, ...) never repeats an element."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))
               for i in items)


def _scatter_add(g: np.ndarray, *, index: Any, shape: tuple) -> np.ndarray:
    z = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        z[index] = g
    else:
        np.add.at(z, index, g)   # repeated integer indices accumulate
    return z


def _getitem_check(x: np.ndarray, *, index: Any) -> None:
    try:
        x[index]
    except IndexError as e:
        raise IndexError(f"getitem: index {index!r:.60} is invalid for shape {tuple(x.shape)}: "
                         f"{e}") from None


def batched_index(index: Any) -> Any:
    """``index`` for arrays with one more (batch) axis in front, or ``None`` when NumPy would
    not keep that axis first (advanced indices separated by a slice, ``None`` or ``...`` move
    to the front)."""
    items = index if isinstance(index, tuple) else (index,)
    advanced = [not (i is None or i is Ellipsis or isinstance(i, slice)) for i in items]
    if any(isinstance(i, np.ndarray) for i in items):   # ints count as advanced with arrays
        runs = sum(a and not b for a, b in zip(advanced, [False] + advanced))
        if runs > 1:
            return None
    return (slice(None),) + items


def _getitem_batch(g: Any, out: Any, x: Any, *, index: Any) -> Any:
    bindex = batched_index(index)
    if bindex is None:
        return NotImplemented   # the per-slice path
    return scatter_add(g, index=bindex, shape=(g.shape[0],) + x.shape)


def _scatter_add_batch(g: Any, out: Any, x: Any, *, index: Any, shape: tuple) -> Any:
    bindex = batched_index(index)
    return NotImplemented if bindex is None else g[bindex]


getitem = Op("getitem", lambda x, *, index: x[index],
             (lambda g, out, x, *, index: scatter_add(g, index=index, shape=x.shape),),
             rules=("g scattered (added) back into zeros of x's shape",), check=_getitem_check,
             internal="reached by indexing, t[index]", reads_values=False,
             batch=(_getitem_batch,))

scatter_add = Op("scatter_add", _scatter_add,
                 (lambda g, out, x, *, index, shape: g[index],),
                 rules=("g gathered at the index",), internal="the VJP of getitem",
                 reads_values=False, batch=(_scatter_add_batch,))


def _concatenate(*xs: np.ndarray, axis: int) -> tuple:
    out = np.concatenate(xs, axis=axis)
    bounds = np.cumsum([0] + [x.shape[axis] for x in xs]).tolist()
    return out, bounds   # each input's [start, stop) along the axis, for the VJP


def _concat_vjp(g: Any, out: Any, xs: Any, argnum: int, *, axis: int, saved: list) -> Any:
    return g[(slice(None),) * axis + (slice(saved[argnum], saved[argnum + 1]),)]


def _concat_batch(g: Any, out: Any, xs: Any, argnum: int, *, axis: int, saved: list) -> Any:
    return g[(slice(None),) * (axis + 1) + (slice(saved[argnum], saved[argnum + 1]),)]


def _concat_front(xs: Any, axis: int = 0) -> tuple:
    if isinstance(xs, (np.ndarray, str)) or not isinstance(xs, (list, tuple)):
        raise TypeError(f"concatenate: expected a list or tuple of tensors, got "
                        f"{type(xs).__name__}")
    if not xs:
        raise ValueError("concatenate: need at least one tensor")
    (axis,) = normalize_axes(axis, max(np.ndim(data(xs[0])), 1), "concatenate")
    return tuple(xs), {"axis": axis}


def _concat_check(*xs: np.ndarray, axis: int) -> None:
    shapes = [tuple(x.shape) for x in xs]
    raise ValueError(f"concatenate: shapes {shapes} do not agree except along axis {axis}")


concatenate = Op("concatenate", _concatenate, (_concat_vjp,),
                 rules=("the slice of g that input occupies",),
                 summary="Tensors joined along an existing axis.",
                 example=">>> al.concatenate([[1.0], [2.0, 3.0]])\n"
                 "Tensor([1., 2., 3.], dtype=float64)",
                 public="concatenate", front=dim_alias("concatenate")(_concat_front),
                 check=_concat_check, saves=True, variadic=True, reads_values=False,
                 batch=(_concat_batch,))
