"""The primitive table: each primitive's NumPy forward and its VJPs, side by side.

A primitive is an :class:`Op`. Calling it is polymorphic: with plain ``ndarray`` arguments it just
runs the forward (this is what VJPs do during an ordinary backward pass, so the backward pass
records nothing and costs plain NumPy); with any ``Tensor`` argument it records a node.

Each VJP is a function ``vjp(g, out, *inputs, **params)`` returning the cotangent for one input,
written only with operators, ``ndarray``/``Tensor`` common methods and other ops, so the same rule
runs on arrays (``create_graph=False``) and on Tensors (``create_graph=True``: gradients of
gradients). ``None`` in place of a VJP means "no gradient for this input". Broadcasting is undone
once, centrally, by :func:`unbroadcast` (called by ``Tensor._vjp``), never inside a rule.

Conventions at non-differentiable points (same as PyTorch):

* ``relu'(0) = 0``, ``abs'(0) = 0``;
* ``max``/``min`` reductions split the gradient evenly between tied elements;
* ``maximum``/``minimum`` give half the gradient to each input where they are equal;
* ``clip`` passes the gradient where ``lo <= x <= hi`` (boundaries included).

Adding an op = one ``Op(...)`` entry here + one entry in ``tests/spec.py``.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import AnomalyError, _mode, creation_site, format_site

__all__ = ["Op", "OPS", "unbroadcast", "normalize_axes"]

OPS: dict[str, Op] = {}


class Op:
    """One primitive: a NumPy ``forward``, one VJP per input, and its derivative as text.

    Parameters
    ----------
    name : the op's name (shown in graphs and errors).
    forward : ``forward(*arrays, **params) -> ndarray``.
    vjps : one ``vjp(g, out, *inputs, **params)`` per input (``None``: not differentiable), or a
        single such function taking ``argnum=`` for variadic ops (``variadic=True``).
    rules : the derivative of each input as text (``"g ⊙ y"``), used by docs and ``explain``.
    check : optional ``check(*arrays, **params)`` raising a clear ``ValueError``; called only
        when the forward fails, to turn a NumPy error into a message naming this op.
    reads_values : whether a VJP reads input or output values (``False`` when it needs only
        shapes and params): backward's in-place check skips ops that don't.
    saves : the forward returns ``(out, saved)``: ``saved`` (residuals only the VJPs need, e.g.
        a fused op's softmax) is kept with the node's params and reaches every VJP as ``saved=``.
    """

    __slots__ = ("name", "forward", "vjps", "rules", "check", "variadic", "doc", "saves",
                 "reads_values")

    def __init__(self, name: str, forward: Callable, vjps: Any, *, rules: Sequence[str],
                 check: Callable | None = None, variadic: bool = False, doc: str = "",
                 saves: bool = False, reads_values: bool = True) -> None:
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.rules = tuple(rules)
        self.check = check
        self.variadic = variadic
        self.doc = doc or f"{name}: " + "; ".join(rules)
        self.saves = saves
        self.reads_values = reads_values
        OPS[name] = self

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def __call__(self, *args: Any, **params: Any) -> Any:
        # Hot path: written for speed (this runs once per recorded operation).
        ref = None
        for a in args:
            if isinstance(a, Tensor):
                ref = a._data.dtype
                break
        else:  # only arrays: plain NumPy (the path VJPs take in an ordinary backward)
            out = self.forward(*args, **params)
            return out[0] if self.saves else out
        xs = []
        datas = []
        record = False
        for a in args:
            if isinstance(a, Tensor):
                if a.requires_grad:
                    record = True
            else:
                try:
                    a = _constant(a, ref)
                except TypeError as e:
                    raise TypeError(f"{self.name}: {e}") from None
            xs.append(a)
            datas.append(a._data)
        try:
            out = self.forward(*datas, **params) if params else self.forward(*datas)
        except (ValueError, TypeError, IndexError) as e:
            raise _op_error(self, datas, params, e) from None
        if self.saves:  # (out, saved): the residuals travel with the params to the VJPs
            out, saved = out
            params = {**params, "saved": saved}
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        t = _new(Tensor)
        t._data = out
        if record and _mode.enabled:
            t._parents = tuple(xs)
            t._op = self
            t._params = params
            t.requires_grad = True
            t._born = _WRITES[0]
        if _mode.anomaly:
            _anomaly_forward(self, t, datas)
        return t


_new = object.__new__


def _constant(a: Any, ref: np.dtype) -> Tensor:
    """A constant Tensor for a non-Tensor operand.

    Python numbers take the dtype of the Tensor they meet when it is floating point (as NumPy
    treats Python scalars), so ``float32_tensor * 2.0`` stays float32; arrays keep their dtype.
    """
    cls = type(a)
    if cls is float or cls is int:
        # Written for speed: the 0-d array of a Python number is made once and shared
        # (read-only); zeros are not cached (-0.0 == 0.0 would share an entry).
        key = (cls, a, ref)
        arr = _NUMBERS.get(key)
        if arr is None:
            arr = _number(a, ref)
            if a and len(_NUMBERS) < 1024:
                arr.flags.writeable = False
                _NUMBERS[key] = arr
    elif isinstance(a, (int, float)) and not isinstance(a, bool):
        arr = _number(a, ref)
    else:
        arr = _as_data(a)
    t = _new(Tensor)
    t._data = arr
    return t


_NUMBERS: dict[tuple, np.ndarray] = {}   # (type, value, dtype) -> read-only 0-d array


def _number(a: float, ref: np.dtype) -> np.ndarray:
    if ref.kind == "f":
        return np.asarray(a, dtype=ref)
    return np.asarray(a, dtype=None if isinstance(a, int) else np.float64)


def _as_data(a: Any) -> np.ndarray:
    if type(a) is np.ndarray:
        return a
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"expected numbers (a Tensor, ndarray, list or Python number), got "
                        f"{type(a).__name__} with dtype {arr.dtype}")
    return arr


def _describe(datas: Sequence[np.ndarray]) -> str:
    return ", ".join(f"{tuple(d.shape)} {d.dtype}" for d in datas)


def error_kind(e: Exception) -> type:
    """The builtin exception class to re-raise ``e`` as (NumPy's own subclasses, such as
    ``_UFuncNoLoopError``, cannot be constructed from a message alone)."""
    for kind in (MemoryError, IndexError, TypeError, ValueError):
        if isinstance(e, kind):
            return kind
    return type(e)


def _anomaly_forward(op: Op, t: Tensor, datas: list) -> None:
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
                           f"({_describe(datas)}) at {format_site(site)}")


def _op_error(op: Op, datas: list, params: dict, e: Exception) -> Exception:
    if op.check is not None:
        try:
            op.check(*datas, **params)
        except (ValueError, TypeError, IndexError) as err:
            return err
    extra = ", ".join(f"{k}={v!r}" for k, v in params.items() if k != "index")
    return error_kind(e)(f"{op.name}: invalid inputs ({_describe(datas)}"
                         f"{'; ' + extra if extra else ''}): {e}")


# ---------------------------------------------------------------------------------------------
# Central helpers


def unbroadcast(g: Any, shape: tuple) -> Any:
    """Sum ``g`` back down to ``shape`` (the inverse of NumPy broadcasting ``shape`` up to g's)."""
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead))
    if 1 in shape:   # (the common case, a bias, has none: skip the scan)
        axes += tuple(lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
    if axes:
        g = g.sum(axis=axes)
    return g if g.shape == shape else g.reshape(shape)


def normalize_axes(axis: Any, ndim: int, where: str = "") -> tuple[int, ...]:
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative ints; errors name
    ``where`` (the calling function) when given."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    prefix = f"{where}: " if where else ""
    for a in axes:
        try:
            a = operator.index(a)
        except TypeError:
            raise TypeError(f"{prefix}axis must be None, an int or a tuple of ints, got "
                            f"{axis!r:.40}") from None
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"{prefix}axis {a} is out of range for an array with {ndim} "
                             "dimensions")
        out.append(a % builtins.max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{prefix}repeated axis in {axis!r}")
    return tuple(sorted(out))


def _data(x: Any) -> Any:
    """The array behind ``x`` (constants such as masks never carry gradient)."""
    return x._data if isinstance(x, Tensor) else x


def _kept(g: Any, shape: tuple, axis: Any, keepdims: bool) -> Any:
    """Reshape a reduction's cotangent so it broadcasts against the input (keepdims form)."""
    if keepdims or not shape:   # a 0-d input reduces to 0-d whatever the axis (0 or -1)
        return g
    axes = normalize_axes(axis, len(shape))
    return g.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))


def _check_broadcast(name: str, symbol: str) -> Callable:
    def check(x: np.ndarray, y: np.ndarray, **_: Any) -> None:
        try:
            np.broadcast_shapes(x.shape, y.shape)
        except ValueError:
            raise ValueError(f"{name}: shapes {tuple(x.shape)} {symbol} {tuple(y.shape)} cannot "
                             f"be broadcast together") from None
    return check


def _binary(name: str, symbol: str, forward: Callable, vjps: tuple, rules: tuple,
            reads_values: bool = True) -> Op:
    return Op(name, forward, vjps, rules=rules, check=_check_broadcast(name, symbol),
              reads_values=reads_values)


# ---------------------------------------------------------------------------------------------
# Elementwise arithmetic

add = _binary("add", "+", operator.add,
              (lambda g, out, x, y: g,
               lambda g, out, x, y: g),
              ("g", "g"), reads_values=False)

sub = _binary("sub", "-", operator.sub,
              (lambda g, out, x, y: g,
               lambda g, out, x, y: -g),
              ("g", "−g"), reads_values=False)

mul = _binary("mul", "*", operator.mul,
              (lambda g, out, x, y: g * y,
               lambda g, out, x, y: g * x),
              ("g ⊙ y", "g ⊙ x"))

div = _binary("div", "/", operator.truediv,
              (lambda g, out, x, y: g / y,
               lambda g, out, x, y: -g * out / y),
              ("g / y", "−g ⊙ x / y²"))

pow = _binary("pow", "**", np.power,  # noqa: A001 - the op is called pow
              (lambda g, out, x, y: g * y * x ** (y - 1),
               lambda g, out, x, y: g * out * log(x)),
              ("g ⊙ y ⊙ x^(y−1)", "g ⊙ x^y ⊙ log x"))

neg = Op("neg", operator.neg, (lambda g, out, x: -g,), rules=("−g",), reads_values=False)

# ---------------------------------------------------------------------------------------------
# Elementwise functions


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0, -x))


exp = Op("exp", np.exp, (lambda g, out, x: g * out,), rules=("g ⊙ exp(x)",))
log = Op("log", np.log, (lambda g, out, x: g / x,), rules=("g / x",))
sqrt = Op("sqrt", np.sqrt, (lambda g, out, x: g / (2 * out),), rules=("g / (2√x)",))
abs = Op("abs", np.abs,  # noqa: A001 - the op is called abs
         (lambda g, out, x: g * np.sign(_data(x)),), rules=("g ⊙ sign(x)",))
tanh = Op("tanh", np.tanh, (lambda g, out, x: g * (1 - out * out),), rules=("g ⊙ (1 − tanh²x)",))
sigmoid = Op("sigmoid", _sigmoid, (lambda g, out, x: g * (out * (1 - out)),),
             rules=("g ⊙ σ(x)(1 − σ(x))",))
relu = Op("relu", lambda x: np.maximum(x, 0), (lambda g, out, x: g * (_data(x) > 0),),
          rules=("g ⊙ [x > 0]",))


def _select(a: Any, b: Any, like: Any) -> np.ndarray:
    """1 where a > b, ½ where a == b, 0 elsewhere, in the dtype of ``like``."""
    a, b = _data(a), _data(b)
    return ((a > b) + 0.5 * (a == b)).astype(like.dtype, copy=False)


maximum = _binary("maximum", "vs", np.maximum,
                  (lambda g, out, x, y: g * _select(x, y, g),
                   lambda g, out, x, y: g * _select(y, x, g)),
                  ("g ⊙ [x > y] (½ at ties)", "g ⊙ [y > x] (½ at ties)"))

minimum = _binary("minimum", "vs", np.minimum,
                  (lambda g, out, x, y: g * _select(y, x, g),
                   lambda g, out, x, y: g * _select(x, y, g)),
                  ("g ⊙ [x < y] (½ at ties)", "g ⊙ [y < x] (½ at ties)"))


def _where_check(x: np.ndarray, y: np.ndarray, *, cond: np.ndarray) -> None:
    try:
        np.broadcast_shapes(cond.shape, x.shape, y.shape)
    except ValueError:
        raise ValueError(f"where: condition {tuple(cond.shape)}, x {tuple(x.shape)} and y "
                         f"{tuple(y.shape)} cannot be broadcast together") from None


where = Op("where", lambda x, y, *, cond: np.where(cond, x, y),
           (lambda g, out, x, y, *, cond: g * cond,
            lambda g, out, x, y, *, cond: g * ~cond),
           rules=("g ⊙ cond", "g ⊙ ¬cond"), check=_where_check, reads_values=False)

clip = Op("clip", lambda x, *, lo, hi: np.clip(x, lo, hi),
          (lambda g, out, x, *, lo, hi: g * _inside(_data(x), lo, hi),),
          rules=("g ⊙ [lo ≤ x ≤ hi]",))


def _inside(x: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
    m = np.ones(x.shape, dtype=bool)
    if lo is not None:
        m &= x >= lo
    if hi is not None:
        m &= x <= hi
    return m


astype = Op("astype", lambda x, *, dtype: x.astype(dtype),
            (lambda g, out, x, *, dtype: g.astype(x.dtype),), rules=("g cast back to x.dtype",),
            reads_values=False)

# ---------------------------------------------------------------------------------------------
# Linear algebra


def _matmul_check(x: np.ndarray, y: np.ndarray) -> None:
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"matmul: {tuple(x.shape)} @ {tuple(y.shape)}: both operands need at "
                         "least one dimension (use * for scalars)")
    k1 = x.shape[-1]
    k2 = y.shape[-2] if y.ndim > 1 else y.shape[0]
    if k1 != k2:
        raise ValueError(f"matmul: {tuple(x.shape)} @ {tuple(y.shape)}: inner dimensions {k1} "
                         f"and {k2} differ")
    try:
        np.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: {tuple(x.shape)} @ {tuple(y.shape)}: batch dimensions "
                         f"{tuple(x.shape[:-2])} and {tuple(y.shape[:-2])} cannot be broadcast"
                         ) from None


def _matmul_dx(g: Any, out: Any, x: Any, y: Any) -> Any:
    if y.ndim == 1:                      # (..., n) @ (n,) -> (...): dx = g[..., None] * y
        return g[..., None] * y
    if x.ndim == 1:                      # (n,) @ (..., n, m) -> (..., m): dx = Σ y ⊙ g
        return (g[..., None, :] @ y.mT)[..., 0, :]
    return g @ y.mT


def _matmul_dy(g: Any, out: Any, x: Any, y: Any) -> Any:
    if x.ndim == 1:                      # (n,) @ (..., n, m): dy = x ⊗ g
        if y.ndim == 1:
            return g * x
        return x[:, None] * g[..., None, :]
    if y.ndim == 1:                      # (..., k, n) @ (n,): dy = Σ_k xᵀ g
        return (x.mT @ g[..., None])[..., 0]
    return x.mT @ g


matmul = Op("matmul", np.matmul, (_matmul_dx, _matmul_dy), rules=("g @ yᵀ", "xᵀ @ g"),
            check=_matmul_check)

# ---------------------------------------------------------------------------------------------
# Reductions


def _reduce_check(name: str) -> Callable:
    def check(x: np.ndarray, *, axis: Any, keepdims: bool) -> None:
        axes = normalize_axes(axis, x.ndim, name)
        if name != "sum" and any(x.shape[a] == 0 for a in axes):
            raise ValueError(f"{name}: cannot reduce an empty axis of an array of shape "
                             f"{tuple(x.shape)} (axis={axis!r})")
    return check


sum = Op("sum", lambda x, *, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),  # noqa: A001
         (lambda g, out, x, *, axis, keepdims:
          broadcast_to(_kept(g, x.shape, axis, keepdims), shape=x.shape),),
         rules=("g broadcast back over the summed axes",), check=_reduce_check("sum"),
         reads_values=False)


def _extreme_vjp(g: Any, out: Any, x: Any, *, axis: Any, keepdims: bool) -> Any:
    xd = _data(x)
    od = _kept(_data(out), xd.shape, axis, keepdims)
    mask = (xd == od).astype(g.dtype)
    mask /= mask.sum(axis=axis, keepdims=True)   # ties share the gradient evenly
    return _kept(g, xd.shape, axis, keepdims) * mask


max = Op("max", lambda x, *, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),  # noqa: A001
         (_extreme_vjp,), rules=("g routed to the maximum (split evenly at ties)",),
         check=_reduce_check("max"))
min = Op("min", lambda x, *, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims),  # noqa: A001
         (_extreme_vjp,), rules=("g routed to the minimum (split evenly at ties)",),
         check=_reduce_check("min"))


def _logsumexp(x: np.ndarray, *, axis: Any, keepdims: bool) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # -inf rows stay -inf, +inf rows stay +inf
    s = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return s if keepdims else (np.squeeze(s, axis=axis) if axis is not None else s.reshape(()))


logsumexp = Op("logsumexp", _logsumexp,
               (lambda g, out, x, *, axis, keepdims:
                _kept(g, x.shape, axis, keepdims)
                * exp(x - _kept(out, x.shape, axis, keepdims)),),
               rules=("g ⊙ softmax(x)",), check=_reduce_check("logsumexp"))

# ---------------------------------------------------------------------------------------------
# Shape


def _reshape_check(x: np.ndarray, *, shape: tuple) -> None:
    raise ValueError(f"reshape: cannot reshape an array of shape {tuple(x.shape)} "
                     f"({x.size} elements) into {shape}")


reshape = Op("reshape", lambda x, *, shape: np.reshape(x, shape),
             (lambda g, out, x, *, shape: g.reshape(x.shape),),
             rules=("g reshaped back to x's shape",), check=_reshape_check, reads_values=False)


def _transpose_check(x: np.ndarray, *, axes: Any) -> None:
    raise ValueError(f"transpose: axes {axes!r} are not a permutation of the {x.ndim} axes of an "
                     f"array of shape {tuple(x.shape)}")


transpose = Op("transpose", lambda x, *, axes: np.transpose(x, axes),
               (lambda g, out, x, *, axes:
                g.transpose(None if axes is None else tuple(np.argsort(axes))),),
               rules=("g with the axes permuted back",), check=_transpose_check, reads_values=False)


def _broadcast_check(x: np.ndarray, *, shape: tuple) -> None:
    raise ValueError(f"broadcast_to: cannot broadcast shape {tuple(x.shape)} to {shape}")


broadcast_to = Op("broadcast_to", lambda x, *, shape: np.broadcast_to(x, shape),
                  (lambda g, out, x, *, shape: g,),  # summed back to x's shape by unbroadcast
                  rules=("g summed over the broadcast axes",), check=_broadcast_check,
                  reads_values=False)


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
        raise IndexError(f"getitem: index {index!r} is invalid for shape {tuple(x.shape)}: {e}"
                         ) from None


getitem = Op("getitem", lambda x, *, index: x[index],
             (lambda g, out, x, *, index: scatter_add(g, index=index, shape=x.shape),),
             rules=("g scattered (added) back into zeros of x's shape",), check=_getitem_check,
             reads_values=False)

scatter_add = Op("scatter_add", _scatter_add,
                 (lambda g, out, x, *, index, shape: g[index],),
                 rules=("g gathered at the index",), reads_values=False)


def _concat_vjp(g: Any, out: Any, *xs: Any, axis: int, argnum: int) -> Any:
    ax = axis % out.ndim
    start = 0
    for x in xs[:argnum]:
        start += x.shape[ax]
    return g[(slice(None),) * ax + (slice(start, start + xs[argnum].shape[ax]),)]


def _concat_check(*xs: np.ndarray, axis: int) -> None:
    shapes = [tuple(x.shape) for x in xs]
    if not xs:
        raise ValueError("concatenate: need at least one array")
    raise ValueError(f"concatenate: shapes {shapes} do not agree except along axis {axis}")


concatenate = Op("concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis), _concat_vjp,
                 rules=("the slice of g that input occupies",), check=_concat_check,
                 variadic=True, reads_values=False)


from .tensor import _WRITES, Tensor  # noqa: E402  (Tensor's methods call back into this module)
