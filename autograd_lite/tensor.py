"""``Tensor``: an ``ndarray`` plus graph bookkeeping.

This module records nodes (``Tensor._record``, which every op call with a Tensor among its
arguments reaches), lifts constants, fits cotangents to their inputs' shapes (summing broadcast
axes, and raising on any other mismatch), and implements the engine's node protocol. Operators,
methods and public functions are generated from the op table in :mod:`autograd_lite.api`; the
in-place methods and version count live in :mod:`autograd_lite.inplace`, the methods composed of
primitives (``mean``, ``squeeze``, ...) in :mod:`autograd_lite.methods`.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

import numpy as np

from . import ops
from .engine import _CHANGED, _TICK, AnomalyError, Node, _mode, creation_site, format_site
from .inplace import _WRITES, InPlace, _index
from .methods import Methods
from .ops.core import describe, fit, op_error, shared_ones, weak_number

__all__ = ["Tensor", "as_tensor"]

ArrayLike = Any
_new = object.__new__
_GRAD_LOCK = threading.Lock()   # accumulation into .grad is atomic (threads share parameters)


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


def as_tensor(x: ArrayLike, where: str | None = None, *, what: str | None = None,
              floating: bool = False) -> Tensor:
    """``x`` itself if it is a Tensor, else a constant Tensor wrapping it.

    The one place user input becomes a Tensor: bad data (strings, None, objects, complex numbers,
    ragged lists) raises naming ``where``, the function the user called, and ``what``, the
    argument; ``floating=True`` also requires a floating-point dtype.

    Example
    -------
    >>> al.as_tensor([1, 2])
    Tensor([1., 2.], dtype=float64)
    >>> al.as_tensor(np.array([1, 2]), "softmax", floating=True)
    Traceback (most recent call last):
    TypeError: softmax: input must be floating point, got dtype int64
    """
    if isinstance(x, Tensor):
        t = x
    else:
        try:
            t = Tensor(x)
        except (TypeError, ValueError) as e:
            if where is None:
                raise
            arg = f"{what}: " if what else ""
            raise type(e)(f"{where}: {arg}{str(e).removeprefix('Tensor: ')}") from None
    if floating and t.dtype.kind != "f":
        raise TypeError(f"{where}: {what or 'input'} must be floating point, got dtype {t.dtype}")
    return t


class Tensor(InPlace, Methods, Node):
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
    _op: Any = None
    _params: dict | None = None

    def __init__(self, data: ArrayLike, requires_grad: bool = False, dtype: Any = None,
                 name: str | None = None) -> None:
        self._data = _to_array(data, dtype)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Tensor: name must be a string, got {type(name).__name__}")
        if requires_grad:
            if self._data.dtype.kind != "f":
                raise TypeError(f"Tensor: only floating-point tensors can require grad, got "
                                f"dtype {self._data.dtype} (pass dtype=np.float64 or float data)")
        self.requires_grad = bool(requires_grad)
        if name is not None:
            self.name = name

    @staticmethod
    def _leaf(data: np.ndarray) -> Tensor:
        """A constant Tensor around an ndarray (no checks)."""
        t = _new(Tensor)
        t._data = data
        t.requires_grad = False   # (an instance attribute: read fast on the hot paths)
        return t

    # -- recording -------------------------------------------------------------------------
    @staticmethod
    def _record(op: ops.Op, args: tuple, params: dict) -> Tensor:
        """Run ``op`` on the arrays behind ``args`` and record the node when an input requires
        grad (and grad mode is on). Non-Tensor arguments become constants."""
        # Hot path: written for speed (this runs once per recorded operation). Two inputs (``x *
        # 0.5`` first: a cached number, _constant's lookup inline; ``x * y``) or one Tensor by
        # hand; else the general loop.
        n = len(args)
        if n == 2:
            a, b = args
            if type(b) is float and isinstance(a, Tensor):
                c = _NUMBERS.get((float, b, a._data.dtype))
                b = _lift(op, b, a._data.dtype) if c is None else c
            elif type(a) is float and isinstance(b, Tensor):   # 1.0 - x
                c = _NUMBERS.get((float, a, b._data.dtype))
                a = _lift(op, a, b._data.dtype) if c is None else c
            elif not isinstance(a, Tensor) or not isinstance(b, Tensor):
                a, b = _inputs(op, args)[0]   # (x * array, x * 2, ...)
            xs = (a, b)
            datas = (a._data, b._data)
            record = a.requires_grad or b.requires_grad
        elif n == 1 and isinstance(args[0], Tensor):
            xs = args
            datas = (args[0]._data,)
            record = args[0].requires_grad
        else:
            xs, datas, record = _inputs(op, args)
        try:
            out = op.forward(*datas, **params) if params else op.forward(*datas)
        except (ValueError, TypeError, IndexError, OverflowError) as e:
            raise op_error(op, datas, params, e) from None
        if op.saves:   # (out, saved): the residuals travel with the params to the VJPs
            out, saved = out
            params = {**params, "saved": saved}
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        t = _new(Tensor)
        t._data = out
        if record and (not _CHANGED or _mode.enabled) and out.dtype.kind == "f":
            t.requires_grad = True
            t._parents = xs
            t._op = op
            t._params = params
            t._seq = next(_TICK)
            t._hooks = None   # (instance attributes, set here: read fast by backward)
        else:
            t.requires_grad = False
        if _CHANGED and _mode.anomaly:
            _anomaly_forward(op, t, datas)
        return t

    # -- engine protocol -------------------------------------------------------------------
    def _vjp(self, g: Any, create_graph: bool) -> Any:
        if _WRITES[0] > self._seq:   # something was written since this node was recorded
            self._check_unmodified()
        op = self._op
        parents = self._parents
        n = len(parents)
        if create_graph or n > 2 or op.variadic:
            return self._vjp_general(g, create_graph)
        # Hot path (once per node per backward): one or two inputs by hand, Op.vjp and fit
        # inlined; fit runs only when a cotangent's shape or dtype differs from its input's.
        params = self._params
        out = self._data
        vjps = op.vjps
        if n == 1:
            p = parents[0]
            if not p.requires_grad or vjps[0] is None:
                return (None,)
            x = p._data
            c = vjps[0](g, out, x, **params) if params else vjps[0](g, out, x)
            if c is not None and (c.shape != x.shape or c.dtype is not x.dtype):
                c = fit(c, x, op.name, 0)
            return (c,)
        p, q = parents
        x, y = p._data, q._data
        c = None
        if p.requires_grad and vjps[0] is not None:
            c = vjps[0](g, out, x, y, **params) if params else vjps[0](g, out, x, y)
            if c is not None and (c.shape != x.shape or c.dtype is not x.dtype):
                c = fit(c, x, op.name, 0)
        if not q.requires_grad or vjps[1] is None:
            return (c,)   # (x * 0.5: the driver reads no cotangent for the constant)
        d = vjps[1](g, out, x, y, **params) if params else vjps[1](g, out, x, y)
        if d is not None and (d.shape != y.shape or d.dtype is not y.dtype):
            d = fit(d, y, op.name, 1)
        if d is g and c is g:   # g itself went to both inputs: the second gets a copy
            d = g.copy()
        return (c, d)

    def _vjp_general(self, g: Any, create_graph: bool) -> list:
        """``_vjp`` for any number of inputs, variadic ops, and recorded (create_graph) rules."""
        op = self._op
        parents = self._parents
        params = self._params
        if create_graph:   # the rules run on Tensors, so the backward pass is recorded too
            xs, out = parents, self
        else:
            xs, out = [p._data for p in parents], self._data
        cots = []
        passed = False   # g itself went to an input already: another one gets a copy
        for i, p in enumerate(parents):
            c = None
            if p.requires_grad:
                c = op.vjp(i, g, out, xs, params)
                if c is not None:
                    c = fit(c, p._data, op.name, i)
                    if c is g:
                        if passed and not create_graph:
                            c = c.copy()
                        passed = True
            cots.append(c)
        return cots

    def _store_grad(self, g: Any, create_graph: bool) -> None:
        if not isinstance(g, Tensor):
            if (type(g) is not np.ndarray or g.base is not None or not g.flags.writeable
                    or self._parents):
                g = np.array(g)   # views, NumPy scalars, a retained intermediate's: own copy
            g = Tensor._leaf(g)
        with _GRAD_LOCK:
            prev = self.grad
            if prev is None:
                self.grad = g
            elif create_graph or prev.requires_grad or g.requires_grad:
                self.grad = prev + g
            else:
                self.grad = Tensor._leaf(np.asarray(prev._data + g._data))

    def _seed(self, grad: Any, create_graph: bool) -> Any:
        if grad is None:
            if self._data.size != 1:
                raise RuntimeError(f"backward: the output has shape {self.shape}; a non-scalar "
                                   "output needs an explicit grad= of that shape")
            g = shared_ones(self._data.shape, self._data.dtype)
        else:
            arr = self._gradient_of_my_shape(grad, "backward: grad")
            if create_graph and isinstance(grad, Tensor):
                return grad   # a recorded upstream gradient stays differentiable (jvp, gradgrad)
            g = np.array(arr, dtype=self.dtype) if create_graph else np.asarray(arr, self.dtype)
            if g is arr or g.base is not None:   # the caller's array, read-only: a leaf that
                g = g.view()                     # stores it copies it first (_store_grad)
                g.flags.writeable = False
        return Tensor(g) if create_graph else g

    def _gradient_of_my_shape(self, value: Any, where: str) -> np.ndarray:
        """A gradient given by the user or a hook, as an array: real numbers of this tensor's
        shape, else a clear error naming ``where``."""
        try:
            arr = np.asarray(value._data if isinstance(value, Tensor) else value)
        except (TypeError, ValueError):
            arr = np.asarray(None)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{where}: expected real numbers of shape {self.shape}, got "
                            f"{type(value).__name__} with dtype {arr.dtype}")
        if arr.shape != self.shape:
            raise ValueError(f"{where}: got shape {arr.shape}, expected {self.shape}")
        return arr

    def _wrap_grad(self, g: Any) -> Tensor:
        return g if isinstance(g, Tensor) else Tensor._leaf(np.asarray(g))

    def _is_finite(self, g: Any) -> bool:
        return bool(np.isfinite(g._data if isinstance(g, Tensor) else g).all())

    def _describe_inputs(self) -> str:
        return ", ".join(f"{p.shape} {p.dtype}" for p in self._parents)

    def _unwrap_grad(self, g: Any, create_graph: bool, hook: Any = None) -> Any:
        name = getattr(hook, "__name__", hook)
        arr = self._gradient_of_my_shape(g, f"hook {name!s:.40} returned a gradient")
        if create_graph and isinstance(g, Tensor):
            return g if g.dtype == self.dtype else g.astype(self.dtype)
        arr = np.array(arr, dtype=self.dtype)   # cast like a VJP's result, and never shared
        return Tensor(arr) if create_graph else arr

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
        if method == "__call__" and not kwargs:
            op = _UFUNCS.get(ufunc)
            if op is not None:
                return op(*inputs)
            if ufunc in _COMPARISONS:
                return Tensor(ufunc(*(_raw(x) for x in inputs)))
        return NotImplemented

    __hash__ = Node.__hash__

    # -- copying and pickling never walk the graph -----------------------------------------
    def __reduce_ex__(self, protocol: Any) -> tuple:
        """A pickled tensor carries its values (and a leaf's requires_grad), not its history."""
        return (_unpickle, (self._data, self.requires_grad and not self._parents, self.name))

    def __deepcopy__(self, memo: dict) -> Tensor:
        if self._parents:
            raise RuntimeError("deepcopy: only leaf tensors (not results of recorded operations) "
                               "can be deep-copied, as in PyTorch; use t.detach() first")
        t = _unpickle(self._data.copy(), self.requires_grad, self.name)
        if self.grad is not None:
            t.grad = copy.deepcopy(self.grad, memo)
        return t

    # -- conversion ------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as an ``ndarray`` (shared, not copied; see ``data``)."""
        return self._data

    def __dlpack__(self, **kwargs: Any) -> Any:
        """A DLPack capsule of the values, no copy (``torch.from_dlpack(t)``,
        ``np.from_dlpack(t)``); keyword arguments are NumPy's."""
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._data.__dlpack_device__()

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
        return Tensor._leaf(self._data)

    def zero_grad(self) -> None:
        """Drop the accumulated gradient (``.grad = None``)."""
        self.grad = None

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` on a leaf in place and return it."""
        if self._parents or self._shared:
            raise RuntimeError("requires_grad_: only leaves can change requires_grad"
                               + (" (this one is a shared constant)" if self._shared else ""))
        if flag and self._data.dtype.kind != "f":
            raise TypeError(f"requires_grad_: only floating-point tensors can require grad, got "
                            f"dtype {self._data.dtype}")
        self.requires_grad = bool(flag)
        return self

    # -- operators not in the op table ------------------------------------------------------
    def __pos__(self) -> Tensor:
        return self

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index=_index(index))


def _unpickle(data: np.ndarray, requires_grad: bool, name: str | None) -> Tensor:
    return Tensor(data, requires_grad=requires_grad, name=name)


# ---------------------------------------------------------------------------------------------
# Constants: a non-Tensor operand of an op


def _inputs(op: ops.Op, args: tuple) -> tuple[tuple, list, bool]:
    """``op``'s inputs as Tensors (constants for the others), their arrays, and whether any
    requires grad."""
    ref = next((a._data.dtype for a in args if isinstance(a, Tensor)), None)
    xs = tuple(a if isinstance(a, Tensor) else _lift(op, a, ref) for a in args)
    return xs, [x._data for x in xs], any(x.requires_grad for x in xs)


def _lift(op: ops.Op, a: Any, ref: np.dtype | None) -> Tensor:
    """The constant Tensor for a non-Tensor input ``a`` of ``op`` (errors name the op)."""
    try:
        return _constant(a, ref)
    except (TypeError, OverflowError) as e:
        raise type(e)(f"{op.name}: {e}") from None


def _constant(a: Any, ref: np.dtype) -> Tensor:
    """A constant Tensor for a non-Tensor operand.

    Python numbers are "weak", as NumPy 2 treats them (NEP 50): they take the dtype of the Tensor
    they meet when that dtype can hold them, so ``float32_tensor * 2.0`` stays float32 and
    ``int8_tensor * 3`` stays int8. Arrays keep their dtype.
    """
    cls = type(a)
    if cls is float or cls is int:
        # Written for speed: the 0-d array of a Python number is made once and shared
        # (read-only); zeros are not cached (-0.0 == 0.0 would share an entry).
        key = (cls, a, ref)
        t = _NUMBERS.get(key)
        if t is not None:
            return t
        arr = weak_number(a, ref)
        if a and len(_NUMBERS) < 1024:
            arr.flags.writeable = False
            t = _NUMBERS[key] = Tensor._leaf(arr)
            t._shared = True
            return t
    elif isinstance(a, (int, float)) and not isinstance(a, bool):
        arr = weak_number(a, ref)
    else:
        arr = a if type(a) is np.ndarray else np.asarray(a)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"expected numbers (a Tensor, ndarray, list or Python number), "
                            f"got {type(a).__name__} with dtype {arr.dtype}")
    return Tensor._leaf(arr)


_NUMBERS: dict[tuple, Tensor] = {}   # (type, value, dtype) -> constant of a read-only 0-d array


def _anomaly_forward(op: ops.Op, t: Tensor, datas: list) -> None:
    """Anomaly mode, forward: note where the node was created; raise if ``op`` turned finite
    inputs into a NaN or an infinity."""
    site = creation_site()
    if t._parents:
        t._trace = site
    out = t._data
    if out.dtype.kind == "f" and not np.isfinite(out).all() and all(
            np.isfinite(d).all() for d in datas if d.dtype.kind == "f"):
        what = "NaN" if np.isnan(out).any() else "an infinity"
        raise AnomalyError(f"detect_anomaly: {op.name} returned {what} from finite inputs "
                           f"({describe(datas)}) at {format_site(site)}")


def _raw(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


_UFUNCS = {op.ufunc: op for op in ops.OPS.values() if op.ufunc is not None}
_COMPARISONS = {np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal}
