"""NumPy functions on Tensors: ``Tensor.__array_function__`` (NEP 18).

``np.sum(t)``, ``np.dot(a, b)``, ``np.where(c, a, b)``, ``np.concatenate([a, b])`` ... on
Tensors call the Tensor counterpart, so the result is a Tensor and the graph is recorded (NumPy
ufuncs such as ``np.exp`` and ``np.matmul`` already go through ``__array_ufunc__``). Functions
that only inspect values or shapes (``np.shape``, ``np.allclose``, ``np.argmax`` ...) return
NumPy results, as they would on the arrays. Any other NumPy function raises a ``TypeError``
naming it, instead of silently returning a plain array cut from the graph: use ``t.data`` for a
constant result. NumPy's ``out=`` is refused (a Tensor is never written behind the graph's
back), and so are arguments the Tensor counterpart does not have.

Functions the library gains later (``np.var``, ``np.cumsum``, ``np.einsum``, ...) are found by
name, ``autograd_lite.<name>``, at call time (the ``LATER`` and ``LINALG`` lists).

Importing this module installs the hook on ``Tensor`` (as :mod:`autograd_lite.api` installs the
generated methods).
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from . import api
from .tensor import Tensor, as_tensor

__all__ = ["array_function", "HANDLED"]


def _plain(*names: str) -> Callable:
    """A handler that refuses NumPy-only keywords unless they have their default value."""
    def wrap(fn: Callable) -> Callable:
        def handler(*args: Any, **kwargs: Any) -> Any:
            for key in list(kwargs):
                if key not in names:
                    if kwargs[key] is None or kwargs[key] is np._NoValue:
                        del kwargs[key]
                        continue
                    raise TypeError(f"np.{fn.__name__} on a Tensor: the argument {key}= is not "
                                    f"supported (only {', '.join(names) or 'none'}); "
                                    f"use the Tensor method, or t.data for a constant result")
            return fn(*args, **kwargs)
        handler.__name__ = fn.__name__
        return handler
    return wrap


def _t(x: Any, where: str) -> Tensor:
    return as_tensor(x, f"np.{where}")


@_plain("axis", "keepdims")
def sum(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return _t(a, "sum").sum(axis, keepdims)


@_plain("axis", "keepdims")
def mean(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _t(a, "mean").mean(axis, keepdims)


@_plain("axis", "keepdims")
def max(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return _t(a, "max").max(axis, keepdims)


@_plain("axis", "keepdims")
def min(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return _t(a, "min").min(axis, keepdims)


@_plain()
def dot(a: Any, b: Any) -> Tensor:
    a, b = _t(a, "dot"), _t(b, "dot")
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim > 2 or b.ndim > 2:
        raise TypeError(f"np.dot on Tensors: shapes {a.shape} and {b.shape}; only up to 2-D "
                        "operands are supported (use al.matmul or np.einsum for stacks)")
    return a @ b


@_plain()
def where(condition: Any, *xy: Any) -> Any:
    if not xy:   # np.where(cond): the indices, not differentiable
        return np.where(condition._data if isinstance(condition, Tensor) else condition)
    if len(xy) != 2:
        raise TypeError("np.where: give a condition alone, or a condition, x and y")
    return api.where(condition, *xy)


@_plain("axis")
def concatenate(arrays: Any, axis: Any = 0) -> Tensor:
    if axis is None:
        return api.concatenate([_t(a, "concatenate").reshape(-1) for a in arrays])
    return api.concatenate(list(arrays), axis)


@_plain("axis")
def stack(arrays: Any, axis: int = 0) -> Tensor:
    return api.stack(list(arrays), axis)


def clip(a: Any, a_min: Any = np._NoValue, a_max: Any = np._NoValue, out: Any = None, *,
         min: Any = np._NoValue, max: Any = np._NoValue,  # noqa: A002 - NumPy's names
         **kwargs: Any) -> Tensor:
    if out is not None or kwargs:
        raise TypeError(f"np.clip on a Tensor: out= and {sorted(kwargs)} are not supported")
    lo = None if a_min is np._NoValue else a_min
    hi = None if a_max is np._NoValue else a_max
    lo = lo if min is np._NoValue else min
    hi = hi if max is np._NoValue else max
    for bound in (lo, hi):
        if isinstance(bound, (Tensor, np.ndarray)) and np.ndim(bound):
            raise TypeError("np.clip on a Tensor: array bounds are not supported (use "
                            "al.maximum / al.minimum)")
    lo, hi = (float(b) if isinstance(b, (Tensor, np.ndarray, np.generic)) else b
              for b in (lo, hi))
    return api.clip(a, lo, hi)


@_plain("axes")
def transpose(a: Any, axes: Any = None) -> Tensor:
    return _t(a, "transpose").transpose(axes)


def reshape(a: Any, *args: Any, **kwargs: Any) -> Tensor:
    shape = kwargs.pop("shape", kwargs.pop("newshape", args[0] if args else None))
    order = kwargs.pop("order", args[1] if len(args) > 1 else "C")
    if order != "C" or kwargs or shape is None:
        raise TypeError("np.reshape on a Tensor: only a shape (C order) is supported")
    return _t(a, "reshape").reshape(shape)


@_plain("axis")
def squeeze(a: Any, axis: Any = None) -> Tensor:
    return _t(a, "squeeze").squeeze(axis)


@_plain("axis")
def expand_dims(a: Any, axis: Any) -> Tensor:
    t = _t(a, "expand_dims")
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    nd = t.ndim + len(axes)
    for ax in sorted(operator.index(x) % nd if -nd <= x < nd else x for x in axes):
        t = t.unsqueeze(ax)
    return t


@_plain("shape")
def broadcast_to(array: Any, shape: Any) -> Tensor:
    return api.broadcast_to(array, shape)


@_plain("axis1", "axis2")
def swapaxes(a: Any, axis1: int, axis2: int) -> Tensor:
    return _t(a, "swapaxes").swapaxes(axis1, axis2)


@_plain()
def copy(a: Any) -> Tensor:
    return _t(a, "copy").clone()


HANDLED: dict[Any, Callable] = {
    np.sum: sum, np.mean: mean, np.max: max, np.amax: max, np.min: min, np.amin: min,
    np.dot: dot, np.where: where, np.concatenate: concatenate, np.stack: stack, np.clip: clip,
    np.transpose: transpose, np.reshape: reshape, np.squeeze: squeeze,
    np.expand_dims: expand_dims, np.broadcast_to: broadcast_to, np.swapaxes: swapaxes,
    np.copy: copy,
}

# Functions of values or shapes, with no gradient: the NumPy result on the arrays.
VALUES = {np.shape, np.ndim, np.size, np.allclose, np.isclose, np.array_equal, np.array_equiv,
          np.argmax, np.argmin, np.argsort, np.nonzero, np.argwhere, np.count_nonzero,
          np.array2string, np.array_repr, np.array_str, np.may_share_memory,
          np.shares_memory, np.result_type, np.iscomplexobj, np.isrealobj, np.any, np.all,
          np.unique, np.zeros_like, np.ones_like, np.empty_like, np.full_like}   # (arrays: use
# al.zeros_like / al.ones_like for Tensors)

# Functions whose Tensor counterpart has the same name in autograd_lite.api once it exists.
LATER = {"var", "std", "prod", "cumsum", "cumprod", "einsum", "tensordot", "outer", "inner",
         "trace", "diag", "diagonal", "tile", "repeat", "flip", "roll", "pad", "split",
         "array_split", "moveaxis", "tril", "triu", "take_along_axis", "vstack", "hstack",
         "sort", "round", "around", "cross", "kron", "logaddexp", "median", "quantile"}
LINALG = {"det", "inv", "solve", "slogdet", "cholesky", "norm", "svd", "svdvals", "matrix_norm",
          "vector_norm"}   # np.linalg.NAME → al.linalg.NAME


def _raw(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, (list, tuple)):
        return type(x)(_raw(v) for v in x)
    return x


def array_function(self: Tensor, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
    """``Tensor.__array_function__``: route a NumPy function to its Tensor counterpart."""
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented
    handler = HANDLED.get(func)
    if handler is not None:
        return handler(*args, **kwargs)
    if func in VALUES:
        return func(*_raw(args), **{k: _raw(v) for k, v in kwargs.items()})
    name = getattr(func, "__name__", str(func))
    space = np.linalg if func is getattr(np.linalg, name, None) else np
    later = None
    if name in (LATER if space is np else LINALG) and func is getattr(space, name, None):
        home = sys.modules[__package__]                         # al.NAME, at call time
        later = getattr(home.linalg if space is np.linalg else home, name, None)
    name = f"linalg.{name}" if space is np.linalg else name
    if later is not None:
        if kwargs.get("out") is not None:
            raise TypeError(f"np.{name} on a Tensor: out= is not supported")
        return later(*args, **{k: v for k, v in kwargs.items() if v is not None or k != "out"})
    raise TypeError(f"np.{name} has no autograd_lite counterpart: on a Tensor it would return a "
                    f"plain array cut from the graph. Use np.{name}(t.data) for a constant "
                    f"result, or the autograd_lite operations (see the README's op table)")


Tensor.__array_function__ = array_function  # type: ignore[attr-defined]
