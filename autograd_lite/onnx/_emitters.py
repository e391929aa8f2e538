"""One emitter per primitive: ``emit(b, t) -> value name`` writes the ONNX node (or short fixed
pattern) computing Tensor ``t`` from its parents ``t._parents`` and params ``t._params``.

A new primitive joins the exporter with one entry in :data:`EMITTERS`, or one in
:data:`NOT_EXPORTABLE` with the reason; ``tests/test_onnx.py`` fails until it has one of the two.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from onnx import helper

from ..ops import normalize_axes
from ._builder import INT64_MIN, Builder, elem_type

Emitter = Callable[[Builder, Any], str]


def _same(op_type: str) -> Emitter:
    """An elementwise ONNX op whose inputs are cast to the output's dtype first (NumPy promotes
    mixed dtypes; ONNX wants them equal)."""
    def emit(b: Builder, t: Any) -> str:
        return b.node(op_type, [b.typed(p, t.dtype) for p in t._parents])
    emit.__doc__ = f"ONNX {op_type}"
    return emit


def _where(b: Builder, t: Any) -> str:
    x, y = t._parents
    cond = np.asarray(t._params["cond"]).astype(bool)
    return b.node("Where", [b.const(cond, "cond"), b.typed(x, t.dtype), b.typed(y, t.dtype)])


def _clip(b: Builder, t: Any) -> str:
    lo, hi = t._params["lo"], t._params["hi"]
    bounds = ["" if v is None else b.const(np.asarray(v, dtype=t.dtype)) for v in (lo, hi)]
    return b.node("Clip", [b.name(t._parents[0]), *bounds])


def _astype(b: Builder, t: Any) -> str:
    return b.typed(t._parents[0], t.dtype)


def _reduce(op_type: str) -> Emitter:
    def emit(b: Builder, t: Any) -> str:
        (x,) = t._parents
        xin = b.typed(x, t.dtype)
        axes = normalize_axes(t._params["axis"], x.ndim)
        if x.ndim == 0 or not axes:
            return b.node("Identity", [xin])
        return b.node(op_type, [xin, b.ints(axes)], keepdims=int(t._params["keepdims"]))
    emit.__doc__ = f"ONNX {op_type} over the normalised axes"
    return emit


def _logsumexp(b: Builder, t: Any) -> str:
    """max + log Σ exp(x − max), the max replaced by 0 where it is not finite (as
    ops.logsumexp: −inf rows stay −inf, +inf rows +inf)."""
    (x,) = t._parents
    xin = b.name(x)
    if x.ndim == 0:
        return b.node("Identity", [xin])
    axes = b.ints(normalize_axes(t._params["axis"], x.ndim))
    m = b.node("ReduceMax", [xin, axes], keepdims=1)
    zero = b.const(np.zeros((), dtype=x.dtype))
    finite = b.node("Equal", [b.node("Sub", [m, m]), zero])   # (IsInf has no float16 in 18)
    m = b.node("Where", [finite, m, zero])
    s = b.node("ReduceSum", [b.node("Exp", [b.node("Sub", [xin, m])]), axes], keepdims=1)
    out = b.node("Add", [b.node("Log", [s]), m])
    return out if t._params["keepdims"] else b.node("Squeeze", [out, axes])


def _reshape(b: Builder, t: Any) -> str:
    (x,) = t._parents
    return b.reshape(b.name(x), x.shape, t.shape)


def _transpose(b: Builder, t: Any) -> str:
    (x,) = t._parents
    axes = t._params["axes"]
    perm = list(range(x.ndim))[::-1] if axes is None else [a % x.ndim for a in axes]
    return b.node("Transpose", [b.name(x)], perm=perm)


def _broadcast_to(b: Builder, t: Any) -> str:
    """``Expand``; a dimension the input already has is written as 1 (ONNX broadcasts both
    ways), so a dynamic batch axis stays symbolic."""
    (x,) = t._parents
    shape = list(t.shape)
    lead = len(shape) - x.ndim
    for i, n in enumerate(x.shape):
        if n == shape[lead + i]:
            shape[lead + i] = 1
    return b.node("Expand", [b.name(x), b.ints(shape)])


# ---------------------------------------------------------------------------------------------
# Indexing: basic indices as Slice/Squeeze/Unsqueeze; the "along an axis" pattern of
# take_along_axis (what the composed cross-entropy uses) as GatherElements/ScatterElements;
# any other advanced index as a gather at constant flat positions.


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))
               for i in items)


def _items(index: Any, ndim: int) -> list:
    items = list(index) if isinstance(index, tuple) else [index]
    real = sum(1 for i in items if i is not None and i is not Ellipsis)
    if Ellipsis in items:
        k = items.index(Ellipsis)
        items[k:k + 1] = [slice(None)] * (ndim - real)
        return items
    return items + [slice(None)] * (ndim - real)


def _basic_getitem(b: Builder, x: str, shape: tuple, index: Any) -> str:
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    d = out = 0
    for it in _items(index, len(shape)):
        if it is None:
            unsqueeze.append(out)
            out += 1
            continue
        n = shape[d]
        if isinstance(it, slice):
            start, stop, step = it.indices(n)
            if (start, stop, step) != (0, n, 1):
                stop = INT64_MIN if step < 0 and stop < 0 else stop
                starts.append(start), ends.append(stop), axes.append(d), steps.append(step)
            out += 1
        else:
            i = int(it) % n
            starts.append(i), ends.append(i + 1), axes.append(d), steps.append(1)
            squeeze.append(d)
        d += 1
    if axes:
        x = b.node("Slice", [x, b.ints(starts), b.ints(ends), b.ints(axes), b.ints(steps)])
    if squeeze:
        x = b.node("Squeeze", [x, b.ints(squeeze)])
    if unsqueeze:
        x = b.node("Unsqueeze", [x, b.ints(unsqueeze)])
    return x if (axes or squeeze or unsqueeze) else b.node("Identity", [x])


def _along(index: Any, shape: tuple) -> int | None:
    """The axis ``a`` when ``index`` is ``take_along_axis``'s: an integer array for axis ``a``
    and ``arange`` grids for every other axis (``functional._along``), else ``None``."""
    nd = len(shape)
    if not isinstance(index, tuple) or len(index) != nd or nd == 0:
        return None
    if not all(isinstance(i, np.ndarray) and i.dtype.kind in "iu" and i.ndim == nd
               for i in index):
        return None
    for a in range(nd):
        idx = index[a]
        if all(i == a or (index[i].shape == (1,) * i + (shape[i],) + (1,) * (nd - i - 1)
                          and idx.shape[i] == shape[i]
                          and np.array_equal(index[i].ravel(), np.arange(shape[i])))
               for i in range(nd)):
            return a
    return None


def _index_input(b: Builder, arr: np.ndarray) -> str:
    """An integer index array as an int64 value (a graph input when it is one)."""
    src = b.array(arr)
    if src is None:
        return b.const(arr.astype(np.int64), "index")
    return src if arr.dtype == np.int64 else b.node("Cast", [src], to=elem_type(np.int64))


def _flat_positions(shape: tuple, index: Any) -> np.ndarray:
    return np.arange(math.prod(shape), dtype=np.int64).reshape(shape)[index]


def _getitem(b: Builder, t: Any) -> str:
    (x,) = t._parents
    index = t._params["index"]
    if _is_basic(index):
        return _basic_getitem(b, b.name(x), x.shape, index)
    a = _along(index, x.shape)
    if a is not None:
        return b.node("GatherElements", [b.name(x), _index_input(b, index[a])], axis=a)
    flat = b.node("Reshape", [b.name(x), b.ints([-1])])
    return b.node("Gather", [flat, b.const(_flat_positions(x.shape, index), "positions")])


def _zeros(b: Builder, shape: tuple, dtype: Any) -> str:
    value = helper.make_tensor("value", elem_type(dtype), [1], [0])
    return b.node("ConstantOfShape", [b.ints(shape)], value=value)


def scatter_added(b: Builder, shape: tuple, index: str, updates: str, dtype: Any,
                  axis: int) -> str:
    """Zeros of ``shape`` with ``updates`` added at ``index`` along ``axis``
    (``ScatterElements``, reduction add; float16 accumulates in float32, which ONNX Runtime's
    CPU kernel needs)."""
    work = np.dtype(np.float32 if np.dtype(dtype) == np.float16 else dtype)
    if work != dtype:
        updates = b.node("Cast", [updates], to=elem_type(work))
    out = b.node("ScatterElements", [_zeros(b, shape, work), index, updates], axis=axis,
                 reduction="add")
    return out if work == dtype else b.node("Cast", [out], to=elem_type(dtype))


def _scatter_add(b: Builder, t: Any) -> str:
    (g,) = t._parents
    index, shape = t._params["index"], tuple(t._params["shape"])
    a = _along(index, shape)
    if a is not None:
        return scatter_added(b, shape, _index_input(b, index[a]), b.name(g), t.dtype, a)
    pos = _flat_positions(shape, index)
    upd = b.node("Reshape", [b.node("Expand", [b.name(g), b.ints(pos.shape)]), b.ints([-1])])
    flat = scatter_added(b, (math.prod(shape),), b.const(pos.reshape(-1), "positions"), upd,
                         t.dtype, 0)
    return b.node("Reshape", [flat, b.ints(shape)])


def _concatenate(b: Builder, t: Any) -> str:
    return b.node("Concat", [b.typed(p, t.dtype) for p in t._parents],
                  axis=t._params["axis"] % t.ndim)


# ---------------------------------------------------------------------------------------------
# The fused cross-entropy


def _cross_entropy(b: Builder, t: Any) -> str:
    """Class indices: ONNX ``SoftmaxCrossEntropyLoss`` (weight, ignore_index, reduction), the
    class axis moved to 1. Probabilities: ``LogSoftmax`` and the weighted sum."""
    z, target = t._parents
    p = t._params
    axis, reduction, eps = p["axis"], p["reduction"], p["label_smoothing"]
    if target.dtype.kind == "f":
        return _soft_cross_entropy(b, t)
    if eps:             # SoftmaxCrossEntropyLoss has no label smoothing
        return _smoothed_cross_entropy(b, t)
    scores = b.name(z)
    labels = _index_input(b, target._data)    # integer targets are never recorded values
    if z.ndim == 1:
        scores = b.node("Unsqueeze", [scores, b.ints([0])])
        labels = b.node("Unsqueeze", [labels, b.ints([0])])
    elif axis != 1:
        others = [i for i in range(z.ndim) if i != axis]
        scores = b.node("Transpose", [scores], perm=[others[0], axis, *others[1:]])
    inputs = [scores, labels]
    if p["weight"] is not None:
        inputs.append(b.const(np.asarray(p["weight"], dtype=z.dtype), "class_weight"))
    attrs: dict = {"reduction": reduction}
    if p["ignore_index"] is not None:
        attrs["ignore_index"] = int(p["ignore_index"])
    out = b.node("SoftmaxCrossEntropyLoss", inputs, **attrs)
    if z.ndim == 1 and reduction == "none":
        out = b.node("Squeeze", [out, b.ints([0])])
    return out


def _smoothed_cross_entropy(b: Builder, t: Any) -> str:
    """Class indices with label smoothing: −((1 − ε)·w[y]·log p[y] + (ε/C)·Σ_c w_c log p_c),
    ignored positions masked out, the mean taken over Σ w[y] of the counted positions."""
    z, target = t._parents
    p = t._params
    axis, eps, dt = p["axis"], p["label_smoothing"], z.dtype
    n_classes, weight = z.shape[axis], p["weight"]
    logp = b.node("LogSoftmax", [b.name(z)], axis=axis)
    labels, mask = _index_input(b, target._data), None
    if p["ignore_index"] is not None:
        keep = b.node("Not", [b.node("Equal", [labels, b.const(np.int64(p["ignore_index"]))])])
        labels = b.node("Where", [keep, labels, b.const(np.int64(0))])
        mask = b.node("Cast", [keep], to=elem_type(dt))
    picked = b.node("Squeeze", [b.node("GatherElements", [
        logp, b.node("Unsqueeze", [labels, b.ints([axis])])], axis=axis), b.ints([axis])])
    counted = mask             # w[y]·mask: the weight of each position in the mean
    if weight is not None:
        w_y = b.node("Gather", [b.const(np.asarray(weight, dt), "class_weight"), labels])
        counted = w_y if mask is None else b.node("Mul", [w_y, mask])
    hot = b.const(np.asarray(1 - eps, dt))
    if counted is not None:
        hot = b.node("Mul", [hot, counted])
    wc = (np.ones(n_classes) if weight is None else np.asarray(weight)) * (eps / n_classes)
    wc = wc.astype(dt).reshape([-1 if i == axis else 1 for i in range(z.ndim)])
    spread = b.node("ReduceSum", [b.node("Mul", [logp, b.const(wc)]), b.ints([axis])],
                    keepdims=0)
    if mask is not None:
        spread = b.node("Mul", [spread, mask])
    loss = b.node("Neg", [b.node("Add", [b.node("Mul", [hot, picked]), spread])])
    if p["reduction"] == "none":
        return loss
    if p["reduction"] == "sum" or counted is None:
        return b.node("ReduceSum" if p["reduction"] == "sum" else "ReduceMean", [loss],
                      keepdims=0)
    return b.node("Div", [b.node("ReduceSum", [loss], keepdims=0),
                          b.node("ReduceSum", [counted], keepdims=0)])


def _soft_cross_entropy(b: Builder, t: Any) -> str:
    z, target = t._parents
    p = t._params
    axis, eps, n_classes = p["axis"], p["label_smoothing"], z.shape[p["axis"]]
    logp = b.node("LogSoftmax", [b.name(z)], axis=axis)
    y = b.typed(target, z.dtype)
    if eps:
        y = b.node("Add", [b.node("Mul", [y, b.const(np.asarray(1 - eps, z.dtype))]),
                           b.const(np.asarray(eps / n_classes, z.dtype))])
    if p["weight"] is not None:
        shape = [-1 if i == axis else 1 for i in range(z.ndim)]
        y = b.node("Mul", [y, b.const(np.asarray(p["weight"], z.dtype).reshape(shape))])
    loss = b.node("Neg", [b.node("ReduceSum", [b.node("Mul", [y, logp]), b.ints([axis])],
                                 keepdims=0)])
    if p["reduction"] == "none":
        return loss
    return b.node("ReduceMean" if p["reduction"] == "mean" else "ReduceSum", [loss], keepdims=0)


EMITTERS: dict[str, Emitter] = {
    "add": _same("Add"), "sub": _same("Sub"), "mul": _same("Mul"), "div": _same("Div"),
    "pow": _same("Pow"), "neg": _same("Neg"),
    "exp": _same("Exp"), "log": _same("Log"), "sqrt": _same("Sqrt"), "abs": _same("Abs"),
    "tanh": _same("Tanh"), "sigmoid": _same("Sigmoid"), "relu": _same("Relu"),
    "maximum": _same("Max"), "minimum": _same("Min"),
    "where": _where, "clip": _clip, "astype": _astype,
    "matmul": _same("MatMul"),
    "sum": _reduce("ReduceSum"), "max": _reduce("ReduceMax"), "min": _reduce("ReduceMin"),
    "logsumexp": _logsumexp,
    "reshape": _reshape, "transpose": _transpose, "broadcast_to": _broadcast_to,
    "getitem": _getitem, "scatter_add": _scatter_add, "concatenate": _concatenate,
    "cross_entropy": _cross_entropy,
    "sin": _same("Sin"), "cos": _same("Cos"), "sign": _same("Sign"), "floor": _same("Floor"),
    "ceil": _same("Ceil"), "round": _same("Round"), "reciprocal": _same("Reciprocal"),
}
"""Op name → emitter. One entry per exportable primitive."""

_NO_OP = ("ONNX's standard opset has no {} (ONNX Runtime's com.microsoft contrib domain is "
          "not portable), and an unrolled pattern would grow with the matrix size")
NOT_EXPORTABLE: dict[str, str] = {
    "inv": _NO_OP.format("matrix inverse"),
    "solve": _NO_OP.format("linear solve"),
    "cholesky": _NO_OP.format("Cholesky factorisation"),
    "svd": _NO_OP.format("singular value decomposition"),
    "svdvals": _NO_OP.format("singular value decomposition"),
}
"""Op name → why it cannot be exported (a meta-test checks every op is in one of the two)."""


# ---------------------------------------------------------------------------------------------
# The fused ops of autograd_lite.fused (their backward is recorded with primitives under
# create_graph, so gradient graphs need only these forwards)


def _softmax_like(op_type: str) -> Emitter:
    def emit(b: Builder, t: Any) -> str:
        (x,) = t._parents
        xin = b.name(x)
        if x.ndim == 0:    # softmax of one number is 1, its log 0
            zero = b.node("Sub", [xin, xin])
            return b.node("Exp", [zero]) if op_type == "Softmax" else zero
        return b.node(op_type, [xin], axis=int(t._params["axis"]))
    emit.__doc__ = f"ONNX {op_type} along the axis"
    return emit


def _layer_norm(b: Builder, t: Any) -> str:
    """(x − μ)/sqrt(var + eps) ⊙ w + b from ReduceMean, Sub, Mul, Sqrt, Div."""
    x, w, bias = t._parents
    p, dt = t._params, t.dtype
    axes = b.ints(p["axes"])
    xc = b.node("Sub", [b.name(x), b.node("ReduceMean", [b.name(x), axes], keepdims=1)])
    var = b.node("ReduceMean", [b.node("Mul", [xc, xc]), axes], keepdims=1)
    sd = b.node("Sqrt", [b.node("Add", [var, b.const(np.asarray(p["eps"], dtype=dt))])])
    y = b.node("Div", [xc, sd])
    if p["affine"][0]:
        y = b.node("Mul", [y, b.typed(w, dt)])
    if p["affine"][1]:
        y = b.node("Add", [y, b.typed(bias, dt)])
    return y


def _bce_with_logits(b: Builder, t: Any) -> str:
    """(1 − y)·z + l·softplus(−z), softplus(−z) = log(1 + e^−|z|) − min(z, 0), l = 1 +
    (pos_weight − 1)·y, times weight, then the reduction."""
    z, y = t._parents
    p, dt = t._params, t.dtype
    zn, yn = b.name(z), b.typed(y, dt)
    one, zero = b.const(np.ones((), dt)), b.const(np.zeros((), dt))
    e = b.node("Exp", [b.node("Neg", [b.node("Abs", [zn])])])
    sp = b.node("Sub", [b.node("Log", [b.node("Add", [one, e])]), b.node("Min", [zn, zero])])
    if p["pos_weight"] is not None:
        pw1 = b.const(np.asarray(p["pos_weight"], dt) - 1, "pos_weight_minus_1")
        sp = b.node("Mul", [sp, b.node("Add", [one, b.node("Mul", [pw1, yn])])])
    loss = b.node("Add", [b.node("Mul", [b.node("Sub", [one, yn]), zn]), sp])
    if p["weight"] is not None:
        loss = b.node("Mul", [loss, b.const(np.asarray(p["weight"], dt), "weight")])
    if p["reduction"] == "none" or z.ndim == 0:
        return loss
    op_type = "ReduceMean" if p["reduction"] == "mean" else "ReduceSum"
    return b.node(op_type, [loss, b.ints(list(range(z.ndim)))], keepdims=0)


def _attention(b: Builder, t: Any) -> str:
    """softmax(q kᵀ·scale + mask) v (the composed form; rows with nothing to attend to get P = 0
    from a constant mask, as the op does)."""
    q, k, v = t._parents
    p, dt = t._params, t.dtype
    perm = list(range(k.ndim))
    perm[-2:] = perm[-1], perm[-2]
    kt = b.node("Transpose", [b.typed(k, dt)], perm=perm)
    qs = b.node("Mul", [b.typed(q, dt), b.const(np.asarray(p["scale"], dt))])
    s = b.node("MatMul", [qs, kt])
    mask = p["mask"]
    if p["causal"]:
        mask = np.tril(np.ones((q.shape[-2], k.shape[-2]), bool))
    live = None
    if mask is not None:
        live = (mask if mask.dtype == bool else mask > -np.inf).any(axis=-1, keepdims=True)
        if mask.dtype == bool:
            s = b.node("Where", [b.const(mask | ~live, "mask"), s,
                                 b.const(np.asarray(-np.inf, dt))])
        else:
            s = b.node("Add", [s, b.const(np.where(live, mask, 0).astype(dt), "mask")])
    probs = b.node("Softmax", [s], axis=-1)
    if live is not None and not live.all():
        probs = b.node("Mul", [probs, b.const(live.astype(dt), "live_rows")])
    return b.node("MatMul", [probs, b.typed(v, dt)])


EMITTERS.update({
    "log_softmax": _softmax_like("LogSoftmax"), "softmax": _softmax_like("Softmax"),
    "layer_norm": _layer_norm, "binary_cross_entropy_with_logits": _bce_with_logits,
    "scaled_dot_product_attention": _attention,
})
