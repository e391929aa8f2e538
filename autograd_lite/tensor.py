"""``Tensor``: an ``ndarray`` plus graph bookkeeping, and the array factories.

Operators and methods delegate to the primitives in :mod:`autograd_lite.ops`; composite
functions (``mean``, ``squeeze``, ``stack``, ...) are written here with those primitives.
"""

from __future__ import annotations

import numbers
import operator
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from .engine import Node

__all__ = [
    "Tensor", "tensor", "as_tensor", "zeros", "ones", "zeros_like", "ones_like", "randn", "rand",
    "arange", "eye", "full",
]

ArrayLike = Any


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    """Python numbers and integer lists become float64; ndarrays keep their dtype."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        try:
            arr = np.asarray(data, dtype=dtype)
        except (TypeError, ValueError) as e:
            raise TypeError(f"Tensor: cannot convert {type(data).__name__} to dtype {dtype}: {e}"
                            ) from None
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
    else:
        try:
            arr = np.asarray(data)
        except ValueError as e:  # ragged lists
            raise ValueError(f"Tensor: data must be rectangular: {e}") from None
        if arr.dtype.kind in "iu":
            arr = arr.astype(np.float64)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Tensor: expected numeric data, got {type(data).__name__} with dtype "
                        f"{arr.dtype}")
    return arr


class Tensor(Node):
    """An n-dimensional array that records the operations applied to it.

    Parameters
    ----------
    data : array-like. Python numbers and lists of ints become float64; ndarrays keep their
        dtype (the array is used as is, not copied; ``tensor(...)`` copies).
    requires_grad : accumulate ``d(output)/d(self)`` into ``.grad`` on ``backward()``.
        Only floating-point tensors can require grad.
    dtype : convert the data to this dtype.
    name : a label for drawings and ``explain``.

    Example
    -------
    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    Tensor([2., 4., 6.], dtype=float64)
    """

    __array_priority__ = 1000

    def __init__(self, data: ArrayLike, requires_grad: bool = False, dtype: Any = None,
                 name: str | None = None) -> None:
        self._data = _to_array(data, dtype)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Tensor: name must be a string, got {type(name).__name__}")
        if requires_grad:
            if self._data.dtype.kind != "f":
                raise TypeError(f"Tensor: only floating-point tensors can require grad, got "
                                f"dtype {self._data.dtype} (pass dtype=np.float64 or float data)")
            self.requires_grad = True
        if name is not None:
            self.name = name

    @classmethod
    def _node(cls, data: np.ndarray, parents: tuple, op: Any, params: dict | None) -> Tensor:
        """A Tensor made by an op (no checks: the op guarantees ``data`` is an ndarray)."""
        t = object.__new__(cls)
        t._data = data
        if parents:
            t._parents = parents
            t._op = op
            t._params = params
            t.requires_grad = True
        return t

    _op: Any = None
    _params: dict | None = None
    _born: int = 0       # _WRITES[0] when the op recorded this node
    _written: int = 0    # _WRITES[0] just after the last tracked in-place write of .data

    @property
    def data(self) -> np.ndarray:
        """The values as an ``ndarray`` (a view of them, not a copy).

        Writes through it (``t.data[...] = v``, ``t.data -= lr * g``) change the tensor and are
        tracked: a graph that saved this tensor for its backward pass then refuses to run
        backward (the gradient would be computed from the new values), as PyTorch's version
        counter does. Assigning ``t.data = array`` replaces the values and is tracked too.
        """
        view = self.__dict__.get("_view")
        if view is None or view.base is not self._data:
            view = self._data.view(_Tracked)
            view._owner = weakref.ref(self)      # weak: no reference cycle tensor ⇄ view
            self._view = view
        return view

    @data.setter
    def data(self, value: ArrayLike) -> None:
        self._data = _to_array(value, None)
        _touch(self)

    # -- engine protocol -------------------------------------------------------------------
    def _check_unmodified(self) -> None:
        """Raise if an array this node's VJP reads was written in place after it was recorded."""
        op = self._op
        if not op.reads_values:
            return
        born = self._born
        for i, p in enumerate(self._parents):
            if p._written > born:
                what = f"input {i} of {op.name} ({_describe(p)})"
                break
        else:
            if self._written <= born:
                return
            what = f"the output of {op.name} ({_describe(self)})"
        raise RuntimeError(f"backward: {what} was modified in place after {op.name} recorded it, "
                           f"so its gradient would be computed from the new values. Run the "
                           f"forward pass again after modifying it (or modify a copy).")

    def _vjp(self, g: Any, create_graph: bool) -> list:
        if self._born != _WRITES[0]:   # something was written since this node was recorded
            self._check_unmodified()
        op = self._op
        parents = self._parents
        params = self._params
        if create_graph:
            xs: Sequence[Any] = parents
            out: Any = self
        else:
            xs = [p._data for p in parents]
            out = self._data
        vjps = op.vjps
        variadic = op.variadic
        # Hot path (once per node per backward): fill a preallocated list, skip the ** call
        # when there are no params, and compare dtypes by identity before equality.
        cots: list = [None] * len(parents)
        i = -1
        for p in parents:
            i += 1
            if not p.requires_grad:
                continue
            if variadic:
                c = vjps(g, out, *xs, argnum=i, **params)
            else:
                f = vjps[i]
                if f is None:
                    continue
                c = f(g, out, *xs, **params) if params else f(g, out, *xs)
            if c is None:
                continue
            pd = p._data
            if c.shape != pd.shape:
                c = _fit(c, pd.shape, op, i)
            if c.dtype is not pd.dtype and c.dtype != pd.dtype:
                c = c.astype(pd.dtype)
            cots[i] = c
        return cots

    def _store_grad(self, g: Any, create_graph: bool) -> None:
        if not isinstance(g, Tensor):
            if type(g) is not np.ndarray or not g.flags.writeable:
                g = np.array(g)   # broadcast views and NumPy scalars become real arrays
            g = Tensor._node(g, (), None, None)
        prev = self.grad
        if prev is None:
            self.grad = g
        elif create_graph or prev.requires_grad:
            self.grad = prev + g
        else:
            self.grad = Tensor._node(prev._data + g._data, (), None, None)

    def _seed(self, grad: Any, create_graph: bool) -> Any:
        if grad is None:
            if self._data.size != 1:
                raise RuntimeError(f"backward: the output has shape {self.shape}; a non-scalar "
                                   "output needs an explicit grad= of that shape")
            g = np.ones_like(self._data)
        else:
            try:
                g = grad._data if isinstance(grad, Tensor) else np.asarray(grad, dtype=self.dtype)
            except (TypeError, ValueError):
                raise TypeError(f"backward: grad must be numbers of the output's shape "
                                f"{self.shape}, got {type(grad).__name__} {grad!r:.40}") from None
            if g.shape != self.shape:
                raise ValueError(f"backward: grad has shape {g.shape}, but the output has shape "
                                 f"{self.shape}")
            if create_graph and isinstance(grad, Tensor):
                return grad   # a recorded upstream gradient stays differentiable (jvp, gradgrad)
        return Tensor(g) if create_graph else g

    def _wrap_grad(self, g: Any) -> Tensor:
        return g if isinstance(g, Tensor) else Tensor._node(np.asarray(g), (), None, None)

    def _is_finite(self, g: Any) -> bool:
        return bool(np.isfinite(g._data if isinstance(g, Tensor) else g).all())

    def _describe_inputs(self) -> str:
        return ", ".join(f"{p.shape} {p.dtype}" for p in self._parents)

    def _unwrap_grad(self, g: Any, create_graph: bool) -> Any:
        arr = g._data if isinstance(g, Tensor) else np.asarray(g)
        if arr.shape != self.shape:
            raise ValueError(f"hook returned a gradient of shape {arr.shape}, expected "
                             f"{self.shape}")
        if create_graph:
            return g if isinstance(g, Tensor) else Tensor(arr)
        return arr

    # -- attributes ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def op(self) -> Any:
        """The primitive that produced this tensor (``None`` for a leaf)."""
        return self._op

    @property
    def T(self) -> Tensor:
        """All axes reversed (the transpose of a matrix)."""
        return self.transpose()

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped (batched matrix transpose)."""
        if self.ndim < 2:
            raise ValueError(f"mT: needs at least 2 dimensions, got shape {self.shape}")
        axes = list(range(self.ndim))
        axes[-1], axes[-2] = axes[-2], axes[-1]
        return self.transpose(*axes)

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="Tensor(")
        extra = f", dtype={self.dtype}"
        if self._op is not None:
            extra += f", op={self._op.name}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        if self.name:
            extra += f", name={self.name!r}"
        return f"Tensor({body}{extra})"

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is not None and dtype != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        op = _UFUNCS.get(ufunc) if method == "__call__" and not kwargs else None
        if op is None:
            if ufunc in _COMPARISONS and method == "__call__" and not kwargs:
                return Tensor(ufunc(*(_raw(x) for x in inputs)))
            return NotImplemented
        return op(*inputs)

    __hash__ = Node.__hash__

    # -- conversion ------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as an ``ndarray`` (shared, not copied; writes are tracked as for ``.data``)."""
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, got shape "
                             f"{self.shape}")
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __bool__(self) -> bool:
        return bool(self.item()) if self._data.size == 1 else bool(self._data)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor._node(self._data, (), None, None)

    def zero_grad(self) -> None:
        """Drop the accumulated gradient (``.grad = None``)."""
        self.grad = None

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` on a leaf in place and return it."""
        if self._parents:
            raise RuntimeError("requires_grad_: only leaves can change requires_grad")
        if flag and self._data.dtype.kind != "f":
            raise TypeError(f"requires_grad_: only floating-point tensors can require grad, got "
                            f"dtype {self._data.dtype}")
        self.requires_grad = bool(flag)
        return self

    def astype(self, dtype: Any) -> Tensor:
        """This tensor converted to ``dtype`` (differentiable between float dtypes)."""
        try:
            dtype = np.dtype(dtype)
        except TypeError as e:
            raise TypeError(f"astype: {e}") from None
        if dtype.kind not in "biuf":
            raise TypeError(f"astype: expected a numeric dtype, got {dtype}")
        if dtype == self.dtype:
            return self
        return ops.astype(self, dtype=dtype)

    # -- arithmetic ------------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return ops.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    # comparisons: boolean tensors, never part of the graph
    def __lt__(self, other: Any) -> Tensor:
        return Tensor(self._data < _raw(other))

    def __le__(self, other: Any) -> Tensor:
        return Tensor(self._data <= _raw(other))

    def __gt__(self, other: Any) -> Tensor:
        return Tensor(self._data > _raw(other))

    def __ge__(self, other: Any) -> Tensor:
        return Tensor(self._data >= _raw(other))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor(self._data == _raw(other))

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor(self._data != _raw(other))

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index=_index(index))

    # -- methods ---------------------------------------------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (int, tuple or None for all)."""
        return ops.sum(self, axis=_axis(axis, "sum"), keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis``: the sum divided by the number of elements reduced."""
        axes = ops.normalize_axes(_axis(axis, "mean"), self.ndim, "mean")
        n = 1
        for a in axes:
            n *= self.shape[a]
        return self.sum(axis, keepdims) * (1.0 / n if n else float("nan"))

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; tied elements share the gradient equally."""
        return ops.max(self, axis=_axis(axis, "max"), keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``; tied elements share the gradient equally."""
        return ops.min(self, axis=_axis(axis, "min"), keepdims=keepdims)

    def logsumexp(self, axis: Any = -1, keepdims: bool = False) -> Tensor:
        """``log Σ exp(x)`` over ``axis``, computed stably (the max is subtracted first)."""
        return ops.logsumexp(self, axis=_axis(axis, "logsumexp"), keepdims=keepdims)

    def reshape(self, *shape: Any) -> Tensor:
        """The same data in a new shape (one dimension may be -1)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            shape = tuple(operator.index(s) for s in shape)
        except TypeError:
            raise TypeError(f"reshape: the shape must be ints, got {shape!r:.40}") from None
        if shape == self.shape:
            return self
        return ops.reshape(self, shape=shape)

    def transpose(self, *axes: Any) -> Tensor:
        """Permute the axes (reverse them when none are given)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)) or axes == (None,):
            axes = axes[0]
        axes = tuple(axes) if axes else None
        return ops.transpose(self, axes=axes)

    permute = transpose

    def swapaxes(self, a: int, b: int) -> Tensor:
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return self.transpose(*axes)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        """A view broadcast to ``shape`` (the gradient is summed back)."""
        shape = tuple(shape)
        return self if shape == self.shape else ops.broadcast_to(self, shape=shape)

    def expand(self, *shape: Any) -> Tensor:
        """Broadcast to ``shape`` (``-1`` keeps a dimension), as in PyTorch."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        lead = len(shape) - self.ndim
        full = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
        return self.broadcast_to(full)

    def squeeze(self, axis: Any = None) -> Tensor:
        """Remove axes of length one (all of them, or those in ``axis``)."""
        if axis is None:
            shape = tuple(n for n in self.shape if n != 1)
        else:
            axes = ops.normalize_axes(axis, self.ndim)
            for a in axes:
                if self.shape[a] != 1:
                    raise ValueError(f"squeeze: axis {a} of shape {self.shape} has length "
                                     f"{self.shape[a]}, not 1")
            shape = tuple(n for i, n in enumerate(self.shape) if i not in axes)
        return self.reshape(shape)

    def unsqueeze(self, axis: int) -> Tensor:
        """Insert an axis of length one at position ``axis``."""
        nd = self.ndim + 1
        if not -nd <= axis < nd:
            raise ValueError(f"unsqueeze: axis {axis} out of range for shape {self.shape}")
        axis %= nd
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def flatten(self) -> Tensor:
        return self.reshape(-1)

    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def sqrt(self) -> Tensor:
        return ops.sqrt(self)

    def abs(self) -> Tensor:
        return ops.abs(self)

    def tanh(self) -> Tensor:
        return ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return ops.sigmoid(self)

    def relu(self) -> Tensor:
        return ops.relu(self)

    def clip(self, lo: float | None = None, hi: float | None = None) -> Tensor:
        """Limit values to ``[lo, hi]``; the gradient passes where ``lo <= x <= hi``."""
        if lo is None and hi is None:
            raise ValueError("clip: give at least one of lo and hi")
        for bound in (lo, hi):
            if bound is not None and (isinstance(bound, bool)
                                      or not isinstance(bound, numbers.Real)):
                raise TypeError(f"clip: lo and hi must be real numbers or None, got {lo!r:.20} "
                                f"and {hi!r:.20}")
        return ops.clip(self, lo=lo, hi=hi)

    def softmax(self, axis: int = -1) -> Tensor:
        from . import functional
        return functional.softmax(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        from . import functional
        return functional.log_softmax(self, axis=axis)


# ---------------------------------------------------------------------------------------------
# In-place safety: a global count of tracked writes. A recorded node notes the count when it is
# made (``_born``); a write stamps the tensor with the new count (``_written``). Backward checks
# a node's inputs only when the count has moved since the node was recorded, so the common case
# costs one comparison per node.

_WRITES = [0]


def _touch(t: Tensor | None) -> None:
    """Record that ``t``'s values were changed in place."""
    if t is not None:
        _WRITES[0] += 1
        t._written = _WRITES[0]


def _touch_view(view: _Tracked) -> None:
    ref = view._owner
    if ref is not None:
        _touch(ref())


def _describe(t: Tensor) -> str:
    name = f"'{t.name}', " if t.name else ""
    return f"{name}shape {t._data.shape}, {t._data.dtype}"


class _Tracked(np.ndarray):
    """A view of a Tensor's values that reports in-place writes to its tensor.

    Item assignment, ufuncs writing into it (``+=``, ``np.add(..., out=...)``) and ``fill`` are
    tracked; views taken from it (slices, reshapes) keep reporting. Results of computations are
    plain ndarrays.
    """

    _owner: weakref.ref | None = None

    def __array_finalize__(self, obj: Any) -> None:
        if obj is not None and self.base is obj:
            owner = getattr(obj, "_owner", None)
            if owner is not None:
                self._owner = owner

    def __setitem__(self, key: Any, value: Any) -> None:
        np.ndarray.__setitem__(self.view(np.ndarray), key, value)
        _touch_view(self)

    def fill(self, value: Any) -> None:
        self.view(np.ndarray).fill(value)
        _touch_view(self)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        plain = tuple(x.view(np.ndarray) if isinstance(x, _Tracked) else x for x in inputs)
        out = kwargs.get("out")
        if out:
            kwargs["out"] = tuple(x.view(np.ndarray) if isinstance(x, _Tracked) else x
                                  for x in out)
        result = getattr(ufunc, method)(*plain, **kwargs)
        if out:
            for x in out:
                if isinstance(x, _Tracked):
                    _touch_view(x)
            return out[0] if len(out) == 1 else out   # in-place operators return the view
        return result


def _raw(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _axis(axis: Any, where: str) -> Any:
    if axis is None or isinstance(axis, (int, np.integer)):
        return None if axis is None else int(axis)
    try:
        return tuple(operator.index(a) for a in axis)
    except TypeError:
        raise TypeError(f"{where}: axis must be None, an int or a tuple of ints, got "
                        f"{axis!r:.40}") from None


def _index(index: Any) -> Any:
    """Tensors and lists inside an index become arrays (so the index can be stored and reused)."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _fit(c: Any, shape: tuple, op: Any, i: int) -> Any:
    """Sum a cotangent's broadcast axes back out, so it has its input's shape."""
    c = ops.unbroadcast(c, shape)
    if c.shape != shape:  # pragma: no cover - an op table bug, not a user error
        raise RuntimeError(f"{op.name}: VJP for input {i} has shape {c.shape}, expected {shape}")
    return c


# ---------------------------------------------------------------------------------------------
# Factories


def as_tensor(x: ArrayLike) -> Tensor:
    """``x`` if it is a Tensor, else a constant Tensor wrapping it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def tensor(data: ArrayLike, requires_grad: bool = False, dtype: Any = None,
           name: str | None = None) -> Tensor:
    """A new Tensor holding a copy of ``data``."""
    return Tensor(np.array(_raw(data), dtype=dtype, copy=True) if dtype is not None
                  else _copy(data), requires_grad=requires_grad, name=name)


def _copy(data: Any) -> Any:
    data = _raw(data)
    return data.copy() if isinstance(data, np.ndarray) else data


def _shape(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, numbers.Integral):
            raise TypeError(f"shape must be non-negative integers, got {shape!r}")
        if s < 0:
            raise ValueError(f"shape must be non-negative integers, got {shape!r}")
    return tuple(int(s) for s in shape)


def _factory(name: str, make: Any, requires_grad: bool) -> Tensor:
    """``Tensor(make())``, with NumPy's errors (a bad shape or dtype, an allocation too large
    for memory) re-raised naming the factory."""
    try:
        return Tensor(make(), requires_grad=requires_grad)
    except (MemoryError, TypeError, ValueError) as e:
        msg = str(e).removeprefix("Tensor: ")
        raise ops.error_kind(e)(f"{name}: {msg}") from None


def zeros(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros."""
    return _factory("zeros", lambda: np.zeros(_shape(shape), dtype=dtype), requires_grad)


def ones(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _factory("ones", lambda: np.ones(_shape(shape), dtype=dtype), requires_grad)


def full(shape: Sequence[int], value: float, dtype: Any = np.float64,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``value``."""
    return _factory("full", lambda: np.full(_shape((shape,)), value, dtype=dtype), requires_grad)


def zeros_like(t: ArrayLike, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype) of ``t``."""
    return _factory("zeros_like", lambda: np.zeros_like(_raw(t), dtype=dtype), requires_grad)


def ones_like(t: ArrayLike, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype) of ``t``."""
    return _factory("ones_like", lambda: np.ones_like(_raw(t), dtype=dtype), requires_grad)


def randn(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False,
          rng: np.random.Generator | int | None = None) -> Tensor:
    """Standard normal samples (``rng`` a Generator or seed for reproducibility)."""
    r = np.random.default_rng(rng)
    return _factory("randn", lambda: r.standard_normal(_shape(shape)).astype(dtype, copy=False),
                    requires_grad)


def rand(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False,
         rng: np.random.Generator | int | None = None) -> Tensor:
    """Uniform samples in [0, 1)."""
    r = np.random.default_rng(rng)
    return _factory("rand", lambda: r.random(_shape(shape)).astype(dtype, copy=False),
                    requires_grad)


def arange(*args: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values, as ``np.arange`` (integer arguments give float64 by default)."""
    def make() -> np.ndarray:
        arr = np.arange(*args, dtype=dtype)
        return arr.astype(np.float64) if dtype is None and arr.dtype.kind in "iu" else arr
    return _factory("arange", make, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = np.float64,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix."""
    return _factory("eye", lambda: np.eye(n, m, dtype=dtype), requires_grad)


from . import ops  # noqa: E402  (ops builds Tensors; imported last to break the cycle)

_UFUNCS = {
    np.add: ops.add, np.subtract: ops.sub, np.multiply: ops.mul, np.true_divide: ops.div,
    np.power: ops.pow, np.negative: ops.neg, np.matmul: ops.matmul, np.exp: ops.exp,
    np.log: ops.log, np.sqrt: ops.sqrt, np.absolute: ops.abs, np.tanh: ops.tanh,
    np.maximum: ops.maximum, np.minimum: ops.minimum,
}
_COMPARISONS = {np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal}
