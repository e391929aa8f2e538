"""What a primitive is: :class:`Op`, the registry ``OPS`` and the helpers every rule shares.

An op is data plus NumPy rules: a forward, one VJP per input, its derivative as text, and how it
is exposed (its public name, its Tensor method, its NumPy ufunc, how user arguments become its
arrays and parameters). It does not know ``Tensor``: calling an op on plain arrays runs the
forward; calling it with any graph node among the arguments hands the call to that node's class
(``type(node)._record``), which records it. That is how one VJP rule serves both an ordinary
backward (arrays) and ``create_graph=True`` (Tensors, so gradients of gradients are recorded).

A VJP is ``vjp(g, out, *inputs, **params)`` (``g`` the cotangent of ``out``), written only with
operators, common ``ndarray``/``Tensor`` methods and other ops. ``None`` means "no gradient for
this input". A variadic op (``concatenate``) has one VJP ``vjp(g, out, inputs, argnum,
**params)``. Either way, callers go through :meth:`Op.vjp`. Broadcasting is undone once,
centrally, by :func:`unbroadcast`, never inside a rule.
"""

from __future__ import annotations

import functools
import inspect
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..engine import Node

__all__ = ["OPS", "Op", "normalize_axes", "unbroadcast", "error_kind", "describe", "weak_number"]

OPS: dict[str, Op] = {}


class Op:
    """One primitive.

    Parameters
    ----------
    name : the op's name (in graphs, errors and ``explain``).
    forward : ``forward(*arrays, **params) -> ndarray``.
    vjps : one VJP per input (``None``: not differentiable); for ``variadic=True`` a 1-tuple
        holding ``vjp(g, out, inputs, argnum, **params)``.
    rules : the derivative of each input as text (``"g ⊙ y"``), for docs and ``explain``.
    summary : one line saying what the op computes (the public docstring's first line).
    example : a doctest showing a call and what it prints (required for public ops).
    public : the name of the generated function ``autograd_lite.NAME``.
    internal : for an op with no public name, why (how users reach it instead).
    method : the name of the generated ``Tensor`` method (``None``: none).
    ufunc : the NumPy ufunc that reaches this op through ``Tensor.__array_ufunc__``.
    front : ``front(*args, **kwargs) -> (inputs, params)``: how the public function's arguments
        become the op's array inputs and validated parameters (default: every argument is an
        input, no parameters).
    check : ``check(*arrays, **params)`` raising a clear error; called only when the forward
        failed, to turn a NumPy error into a message naming this op.
    reads_values : whether a VJP reads input or output values (backward's in-place check skips
        ops that need only shapes and params).
    saves : the forward returns ``(out, saved)``; ``saved`` reaches every VJP as ``saved=``.
    batch : how the VJPs take a cotangent with a leading batch axis (``g`` of shape
        ``(B,) + out.shape``, for the vectorised Jacobian; see :mod:`autograd_lite.vectorize`):
        ``True`` when the plain VJPs already do (results broadcast, batch axis first), else one
        batched VJP per input, same signature; ``False`` (default): run the plain VJP per slice.
    """

    __slots__ = ("name", "forward", "vjps", "rules", "summary", "example", "public", "method",
                 "ufunc", "front", "check", "reads_values", "saves", "variadic", "arity",
                 "internal", "batch")

    def __init__(self, name: str, forward: Callable, vjps: Sequence[Callable | None], *,
                 rules: Sequence[str], summary: str = "", example: str = "",
                 public: str | None = None, internal: str = "", method: str | None = None,
                 ufunc: Any = None,
                 front: Callable | None = None, check: Callable | None = None,
                 reads_values: bool = True, saves: bool = False, variadic: bool = False,
                 batch: bool | Sequence[Callable | None] = False) -> None:
        if name in OPS:
            raise ValueError(f"Op: an op named {name!r} already exists")
        self.name = name
        self.forward = forward
        self.vjps = tuple(vjps)
        self.rules = tuple(rules)
        self.summary = summary
        self.example = example
        self.public = public
        self.internal = internal
        self.method = method
        self.ufunc = ufunc
        self.front = front
        self.check = check
        self.reads_values = reads_values
        self.saves = saves
        self.variadic = variadic
        self.arity = None if variadic else len(self.vjps)
        self.batch = batch if isinstance(batch, bool) else tuple(batch)
        OPS[name] = self

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def __call__(self, *args: Any, **params: Any) -> Any:
        for a in args:
            if isinstance(a, Node):   # a graph node among the inputs: its class records the call
                return a._record(self, args, params)
        out = self.forward(*args, **params)   # plain arrays: what VJPs run in a plain backward
        return out[0] if self.saves else out

    def vjp(self, i: int, g: Any, out: Any, xs: Sequence[Any], params: dict) -> Any:
        """The cotangent of input ``i`` (``None`` when it gets none): the one way to run a rule."""
        if self.variadic:
            return self.vjps[0](g, out, xs, i, **params)
        f = self.vjps[i]
        if f is None:
            return None
        return f(g, out, *xs, **params) if params else f(g, out, *xs)

    def signature(self) -> inspect.Signature:
        """The public function's signature (the ``front``'s, or one argument per input)."""
        if self.front is not None:
            return inspect.signature(self.front)
        names = "xyz"[: self.arity] if self.arity <= 3 else [f"x{i}" for i in range(self.arity)]
        return inspect.Signature([inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY)
                                  for n in names])

    def docstring(self) -> str:
        """The generated public docstring: summary, derivative, example."""
        rules = "; ".join(self.rules)
        return (f"{self.summary}\n\nDerivative (VJP, ``g`` the upstream gradient): {rules}.\n\n"
                f"Example\n-------\n{self.example}\n")


# ---------------------------------------------------------------------------------------------
# Helpers shared by the rules


_ONES: dict = {}


def shared_ones(shape: tuple, dtype: np.dtype) -> np.ndarray:
    """A shared read-only array of ones (the seed of a scalar root: its shape is one of few).

    Example
    -------
    >>> shared_ones((1,), np.dtype(np.float32)).flags.writeable
    False
    """
    arr = _ONES.get((shape, dtype))
    if arr is None:
        arr = np.ones(shape, dtype)
        arr.flags.writeable = False
        _ONES[shape, dtype] = arr
    return arr


def in_float32(kernel: Callable) -> Callable:
    """``kernel`` (a forward, or a VJP on arrays) run in float32 when its
    first argument is a float16 array, its result rounded to float16 once, as PyTorch's CPU
    kernels accumulate: in float16, a softmax VJP's ``g − Σ g·p`` cancels to ~10 % error where
    it is small (an ulp of 1 is 1e-3).

    Example
    -------
    >>> in_float32(lambda x: (x + 0.0004) - x)(np.ones(1, np.float16))   # in float16: 0
    array([0.0004], dtype=float16)
    """
    @functools.wraps(kernel)
    def run(*args: Any, **params: Any) -> Any:
        first = args[0]
        if type(first) is np.ndarray and first.dtype == np.float16:
            return kernel(*(a.astype(np.float32) if type(a) is np.ndarray
                            and a.dtype == np.float16 else a for a in args),
                          **params).astype(np.float16)
        return kernel(*args, **params)
    return run


def weak_number(a: float, ref: np.dtype | None) -> np.ndarray:
    """A Python number as a 0-d array, "weak" as NumPy 2 treats it (NEP 50): of the dtype
    ``ref`` of the array it meets when that can hold it, else float64 (or NumPy's int).

    Example
    -------
    >>> weak_number(2.0, np.dtype(np.float32)).dtype, weak_number(3, np.dtype(np.int8)).dtype
    (dtype('float32'), dtype('int8'))
    """
    if ref is not None and (ref.kind == "f" or (ref.kind in "iu" and isinstance(a, int))):
        try:
            return np.asarray(a, dtype=ref)
        except OverflowError:
            raise OverflowError(f"the Python integer {a} does not fit in {ref}") from None
    return np.asarray(a, dtype=None if isinstance(a, int) else np.float64)


def describe(datas: Sequence[Any]) -> str:
    """``(2, 3) float64, () float64``: the shapes and dtypes of arrays, for error messages."""
    return ", ".join(f"{tuple(np.shape(d))} {getattr(d, 'dtype', type(d).__name__)}"
                     for d in datas)


def error_kind(e: Exception) -> type:
    """The builtin exception class to re-raise ``e`` as (NumPy's own subclasses, such as
    ``_UFuncNoLoopError``, cannot be constructed from a message alone)."""
    for kind in (MemoryError, OverflowError, IndexError, TypeError, ValueError):
        if isinstance(e, kind):
            return kind
    return type(e)


def op_error(op: Op, datas: Sequence[Any], params: dict, e: Exception) -> Exception:
    """A NumPy error from ``op``'s forward, as an error naming the op, shapes and dtypes."""
    if op.check is not None:
        try:
            op.check(*datas, **params)
        except (ValueError, TypeError, IndexError) as err:
            return err
    extra = ", ".join(f"{k}={v!r:.60}" for k, v in params.items())
    return error_kind(e)(f"{op.name}: invalid inputs ({describe(datas)}"
                         f"{'; ' + extra if extra else ''}): {e}")


def unbroadcast(g: Any, shape: tuple, where: str = "", argnum: int | None = None) -> Any:
    """Sum ``g`` back down to ``shape``: the inverse of NumPy broadcasting ``shape`` up to g's.

    Only what broadcasting explains is undone (leading axes, and axes of length 1 in ``shape``);
    any other mismatch is a bug in a VJP and raises, naming ``where`` (and the input
    ``argnum``): a gradient is never reshaped to fit.
    """
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead > 0 and gshape[lead:] == shape:   # only leading axes added (a bias): the fast case
        axes = tuple(range(lead))   # (an array's .sum goes through NumPy's Python wrapper)
        return np.add.reduce(g, axis=axes) if type(g) is np.ndarray else g.sum(axis=axes)
    if lead >= 0 and all(n == 1 or n == m for n, m in zip(shape, gshape[lead:])):
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                          if n == 1 and gshape[lead + i] != 1)
        g = g.sum(axis=axes, keepdims=True)
        return g.reshape(shape) if lead else g
    if argnum is not None:
        where = f"{where} (input {argnum})"
    raise RuntimeError(f"{where or 'unbroadcast'}: the gradient has shape {tuple(gshape)}, which "
                       f"broadcasting from the input's shape {tuple(shape)} cannot explain "
                       f"(a VJP returned a wrongly shaped cotangent)")


def fit(c: Any, x: Any, name: str, i: int) -> Any:
    """A VJP's cotangent ``c`` for input ``i`` of op ``name`` fitted to that input's array
    ``x``: broadcast axes summed (:func:`unbroadcast`), cast to ``x``'s dtype (hot path of
    ``Tensor._vjp``)."""
    if c.shape != x.shape:
        c = unbroadcast(c, x.shape, name, i)
    if c.dtype is not x.dtype and c.dtype != x.dtype:
        c = c.astype(x.dtype)
    return c


def normalize_axes(axis: Any, ndim: int, where: str = "") -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple of ints) as a sorted tuple of non-negative ints.

    A 0-d array accepts axis 0 and -1 (as NumPy's reductions and PyTorch do) and reduces to
    itself. Errors name ``where``.
    """
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else axis
    prefix = f"{where}: " if where else ""
    try:
        axes = [operator.index(a) for a in axes]
    except TypeError:
        raise TypeError(f"{prefix}axis must be None, an int or a tuple of ints, got "
                        f"{axis!r:.40}") from None
    span = ndim if ndim else 1
    out = []
    for a in axes:
        if not -span <= a < span:
            raise ValueError(f"{prefix}axis {a} is out of range for an array with {ndim} "
                             "dimensions")
        out.append(a % span)
    if len(set(out)) != len(out):
        raise ValueError(f"{prefix}repeated axis in {axis!r}")
    return tuple(sorted(out)) if ndim else ()


def data(x: Any) -> Any:
    """The array behind ``x`` (masks and selections computed from it carry no gradient)."""
    return x._data if isinstance(x, Node) else x


def kept(g: Any, shape: tuple, axis: Any, keepdims: bool) -> Any:
    """A reduction's cotangent reshaped so it broadcasts against the input (keepdims form)."""
    if keepdims or not shape:
        return g
    if axis is None:   # every axis (the common ``x.sum()``: no axis normalisation)
        return g.reshape((1,) * len(shape))
    axes = normalize_axes(axis, len(shape))
    return g.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))


def check_broadcast(name: str, symbol: str) -> Callable:
    """A ``check`` for binary elementwise ops: the shapes must broadcast."""
    def check(x: Any, y: Any, **_: Any) -> None:
        try:
            np.broadcast_shapes(np.shape(x), np.shape(y))
        except ValueError:
            raise ValueError(f"{name}: shapes {tuple(np.shape(x))} {symbol} "
                             f"{tuple(np.shape(y))} cannot be broadcast together") from None
    return check
