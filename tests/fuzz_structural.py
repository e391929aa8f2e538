"""Structural forms for the differential fuzzer: reductions, shapes, indexing, selection,
matmul, joins, the softmax family and cross-entropy, each drawing its parameters (negative axes
included) for the shapes it is given, with its PyTorch twin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import autograd_lite as al
from autograd_lite import ops

from .fuzz_forms import KINK, Form, _nd, _near, binary_forms, elementwise_ops, unary_forms

# ---------------------------------------------------------------------------------------------
# Structural forms: reductions, shapes, indexing, selection, matmul, joins, softmax family,
# cross-entropy. Each draws its parameters (negative axes included) for the argument shapes.


def _axis_draw(rng: np.random.Generator, nd: int, allow_tuple: bool = True) -> Any:
    """None, an int (negative half the time) or a tuple of two axes (mixed signs)."""
    r = rng.random()
    if nd == 0 or r < 0.2:
        return None
    a = int(rng.integers(0, nd))
    if allow_tuple and nd >= 2 and r > 0.75:
        b = int(rng.choice([i for i in range(nd) if i != a]))
        return (a - nd if rng.random() < 0.5 else a, b - nd if rng.random() < 0.5 else b)
    return a - nd if rng.random() < 0.5 else a


def _dims(axis: Any, nd: int) -> tuple:
    if axis is None:
        return tuple(range(nd))
    return tuple(a % nd for a in (axis if isinstance(axis, tuple) else (axis,)))


def _torch_reduce(fn: str) -> Callable:
    def f(ts, p, torch):
        x = ts[0]
        if x.ndim == 0:
            return x * 1.0
        g = {"max": torch.amax, "min": torch.amin, "sum": torch.sum, "mean": torch.mean,
             "logsumexp": torch.logsumexp}[fn]
        return g(x, dim=_dims(p["axis"], x.ndim), keepdim=p["keepdims"])
    return f


def _tie_kink(xs, p) -> bool:
    """A tie (or near tie) for the max/min of a reduction group."""
    x = _nd(xs[0]).astype(np.float64)
    if x.ndim == 0:
        return False
    dims = _dims(p["axis"], x.ndim)
    moved = np.moveaxis(x, dims, tuple(range(-len(dims), 0))).reshape(
        x.shape[:0] + tuple(n for i, n in enumerate(x.shape) if i not in dims) + (-1,))
    srt = np.sort(moved, axis=-1)
    return bool(np.any(srt[..., 1:] - srt[..., :-1] < KINK)) if srt.shape[-1] > 1 else False


def reduction_forms() -> list[Form]:
    forms = []
    for fn in ("sum", "mean", "max", "min", "logsumexp"):
        paths = {"method": lambda x, p, _fn=fn: getattr(x, _fn)(axis=p["axis"],
                                                               keepdims=p["keepdims"])}
        if callable(getattr(al, fn, None)):
            paths["function"] = lambda x, p, _fn=fn: getattr(al, _fn)(x, axis=p["axis"],
                                                                      keepdims=p["keepdims"])
        if fn in ops.OPS:
            paths["ops"] = lambda x, p, _fn=fn: ops.OPS[_fn](x, axis=p["axis"],
                                                           keepdims=p["keepdims"])
        for how, f in paths.items():
            def make(rng, shapes, dtype):
                return {"axis": _axis_draw(rng, len(shapes[0])), "keepdims": rng.random() < 0.5}
            forms.append(Form(f"{fn}:{how}", fn, 1, make,
                              lambda xs, p, _f=f: _f(xs[0], p), _torch_reduce(fn),
                              _tie_kink if fn in ("max", "min") else (lambda xs, p: False)))
    return forms


def softmax_forms() -> list[Form]:
    forms = []
    for fn in ("softmax", "log_softmax"):
        for how in ("function", "method", "functional"):
            def make(rng, shapes, dtype):
                nd = len(shapes[0])
                axis = int(rng.integers(-max(nd, 1), max(nd, 1)))
                offset = float(rng.choice([0.0, 0.0, 0.0, 50.0, 1000.0]))
                return {"axis": axis, "offset": offset}

            def run_al(xs, p, _fn=fn, _how=how):
                x = xs[0] + p["offset"] if p["offset"] else xs[0]
                if _how == "method":
                    return getattr(x, _fn)(axis=p["axis"])
                mod = al.functional if _how == "functional" else al
                return getattr(mod, _fn)(x, axis=p["axis"])

            def run_torch(ts, p, torch, _fn=fn):
                x = ts[0] + p["offset"] if p["offset"] else ts[0]
                return getattr(torch, _fn)(x, dim=p["axis"])
            forms.append(Form(f"{fn}:{how}", fn, 1, make, run_al, run_torch))
    return forms


def _reshape_target(rng: np.random.Generator, shape: tuple) -> tuple:
    n = int(np.prod(shape))
    dims = []
    rest = n
    for _ in range(int(rng.integers(0, 4))):
        divs = [d for d in range(1, rest + 1) if rest % d == 0]
        d = int(rng.choice(divs))
        dims.append(d)
        rest //= d
    dims.append(rest)
    rng.shuffle(dims)
    if rng.random() < 0.3:
        dims[int(rng.integers(0, len(dims)))] = -1
    return tuple(dims)


def shape_forms() -> list[Form]:
    def perm(rng, nd):
        axes = [int(a) for a in rng.permutation(nd)]
        return tuple(a - nd if rng.random() < 0.5 else a for a in axes)

    def t_perm(ts, p, torch):
        x = ts[0]
        axes = p["axes"] if p["axes"] is not None else tuple(reversed(range(x.ndim)))
        return x.permute(*[a % x.ndim for a in axes]) if x.ndim else x * 1.0

    def bshape(rng, shape):
        out = [int(rng.integers(1, 3)) for _ in range(int(rng.integers(0, 2)))]
        return tuple(out) + tuple(int(rng.integers(1, 3)) if n == 1 else n for n in shape)

    def squeeze_axis(rng, shape):
        ones = [i for i, n in enumerate(shape) if n == 1]
        if not ones or rng.random() < 0.2:
            return None
        a = int(rng.choice(ones))
        return a - len(shape) if rng.random() < 0.5 else a

    def t_squeeze(ts, p, torch):
        x = ts[0]
        if p["axis"] is None:
            return x.reshape([n for n in x.shape if n != 1])
        return x.squeeze(p["axis"])

    F = Form
    return [
        F("reshape:method", "reshape", 1, lambda r, s, d: {"shape": _reshape_target(r, s[0])},
          lambda xs, p: xs[0].reshape(p["shape"]), lambda ts, p, t: ts[0].reshape(p["shape"])),
        F("reshape:method-varargs", "reshape", 1,
          lambda r, s, d: {"shape": _reshape_target(r, s[0])},
          lambda xs, p: xs[0].reshape(*p["shape"]), lambda ts, p, t: ts[0].reshape(p["shape"])),
        F("reshape:function", "reshape", 1, lambda r, s, d: {"shape": _reshape_target(r, s[0])},
          lambda xs, p: al.reshape(xs[0], p["shape"]),
          lambda ts, p, t: ts[0].reshape(p["shape"])),
        F("flatten:method", "reshape", 1, lambda r, s, d: {}, lambda xs, p: xs[0].flatten(),
          lambda ts, p, t: ts[0].reshape(-1)),
        F("transpose:method", "transpose", 1,
          lambda r, s, d: {"axes": perm(r, len(s[0])) if r.random() < 0.8 else None},
          lambda xs, p: xs[0].transpose(*(p["axes"] or ())), t_perm),
        F("transpose:function", "transpose", 1,
          lambda r, s, d: {"axes": perm(r, len(s[0])) if r.random() < 0.8 else None},
          lambda xs, p: al.transpose(xs[0], p["axes"]), t_perm),
        F("permute:method", "transpose", 1, lambda r, s, d: {"axes": perm(r, len(s[0]))},
          lambda xs, p: xs[0].permute(p["axes"]), t_perm),
        F("swapaxes:method", "transpose", 1,
          lambda r, s, d: None if len(s[0]) < 2 else {
              "ab": (int(r.integers(-len(s[0]), len(s[0]))), int(r.integers(-len(s[0]),
                                                                             len(s[0]))))},
          lambda xs, p: xs[0].swapaxes(*p["ab"]), lambda ts, p, t: ts[0].swapaxes(*p["ab"])),
        F("mT:property", "transpose", 1, lambda r, s, d: None if len(s[0]) < 2 else {},
          lambda xs, p: xs[0].mT, lambda ts, p, t: ts[0].mT),
        F("T:property", "transpose", 1, lambda r, s, d: {"axes": None}, lambda xs, p: xs[0].T,
          t_perm),
        F("broadcast_to:method", "broadcast_to", 1, lambda r, s, d: {"shape": bshape(r, s[0])},
          lambda xs, p: xs[0].broadcast_to(p["shape"]),
          lambda ts, p, t: ts[0].expand(p["shape"])),
        F("broadcast_to:function", "broadcast_to", 1,
          lambda r, s, d: {"shape": bshape(r, s[0])},
          lambda xs, p: al.broadcast_to(xs[0], p["shape"]),
          lambda ts, p, t: ts[0].expand(p["shape"])),
        F("expand:method", "broadcast_to", 1, lambda r, s, d: {"shape": bshape(r, s[0])},
          lambda xs, p: xs[0].expand(*p["shape"]), lambda ts, p, t: ts[0].expand(p["shape"])),
        F("squeeze:method", "reshape", 1, lambda r, s, d: {"axis": squeeze_axis(r, s[0])},
          lambda xs, p: xs[0].squeeze(p["axis"]), t_squeeze),
        F("unsqueeze:method", "reshape", 1,
          lambda r, s, d: {"axis": int(r.integers(-len(s[0]) - 1, len(s[0]) + 1))},
          lambda xs, p: xs[0].unsqueeze(p["axis"]), lambda ts, p, t: ts[0].unsqueeze(p["axis"])),
    ]


# -- indexing: every index kind; PyTorch reads the same elements through a flat gather (it has
#    no negative-step slices), which has exactly the same gradient (repeats accumulate).


def _index_part(rng: np.random.Generator, n: int) -> Any:
    kind = rng.choice(["int", "slice", "negstep", "array", "full"])
    if kind == "int":
        return int(rng.integers(-n, n))
    if kind == "slice":
        a = int(rng.integers(-n, n))
        return slice(a, None) if rng.random() < 0.5 else slice(None, a or None)
    if kind == "negstep":
        return slice(None, None, -int(rng.integers(1, 3)))
    if kind == "array":            # repeated and negative integers
        return rng.integers(-n, n, size=int(rng.integers(1, 5)))
    return slice(None)


def draw_index(rng: np.random.Generator, shape: tuple) -> Any:
    nd = len(shape)
    r = rng.random()
    if nd and r < 0.12:                                    # a boolean mask over all axes
        return np.asarray(rng.random(shape) < 0.5)
    if nd and r < 0.2:                                     # a mask along axis 0
        return rng.random(shape[0]) < 0.6
    parts = [_index_part(rng, n) for n in shape[:int(rng.integers(0, nd + 1))]]
    if parts and sum(isinstance(q, np.ndarray) for q in parts) > 1 and rng.random() < 0.5:
        parts = [q if not isinstance(q, np.ndarray) else slice(None) for q in parts]
    if rng.random() < 0.3:
        parts.insert(int(rng.integers(0, len(parts) + 1)), None)
    if rng.random() < 0.3:
        parts.insert(int(rng.integers(0, len(parts) + 1)), Ellipsis)
        if nd and rng.random() < 0.5:
            parts.append(int(rng.integers(-shape[-1], shape[-1])))
    index = tuple(parts)
    try:
        np.empty(shape)[index]
    except (IndexError, ValueError):
        return ()
    return index if rng.random() < 0.7 or len(index) != 1 else index[0]


def _torch_getitem(ts, p, torch):
    x = ts[0]
    where = np.arange(int(np.prod(x.shape)), dtype=np.int64).reshape(tuple(x.shape))[p["index"]]
    return x.reshape(-1)[torch.from_numpy(np.array(where, dtype=np.int64))]


def index_forms() -> list[Form]:
    make = lambda r, s, d: {"index": draw_index(r, s[0])}  # noqa: E731
    return [Form("getitem:operator", "getitem", 1, make, lambda xs, p: xs[0][p["index"]],
                 _torch_getitem),
            Form("getitem:ops", "getitem", 1, make,
                 lambda xs, p: ops.getitem(xs[0], index=p["index"]), _torch_getitem)]


def selection_forms() -> list[Form]:
    bounds = (-1.0, -0.5, 0.0, 0.5, 1.0, None)

    def make_clip(rng, shapes, dtype):
        lo, hi = rng.choice(len(bounds), size=2)
        lo, hi = bounds[lo], bounds[hi]
        if lo is None and hi is None:
            return None
        if lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        return {"lo": lo, "hi": hi}

    def clip_kink(xs, p):
        x = _nd(xs[0])
        return any(b is not None and _near(x - b) for b in (p["lo"], p["hi"]))

    t_clip = lambda ts, p, torch: torch.clamp(ts[0], p["lo"], p["hi"])  # noqa: E731

    def make_where(rng, shapes, dtype):
        s = np.broadcast_shapes(*shapes)
        cshape = s[int(rng.integers(0, len(s) + 1)):]
        return {"cond": np.asarray(rng.random(cshape) < 0.5)}

    def t_where(ts, p, torch):
        return torch.where(torch.from_numpy(p["cond"]), ts[0], ts[1])

    def t_cast(ts, p, torch):
        return ts[0].to(getattr(torch, np.dtype(p["via"]).name)).to(
            getattr(torch, np.dtype(p["back"]).name))

    def cast(dtype):
        return {np.dtype(np.float64): np.float32, np.dtype(np.float32): np.float64,
                np.dtype(np.float16): np.float32}[np.dtype(dtype)]

    F = Form
    return [
        F("clip:method", "clip", 1, make_clip, lambda xs, p: xs[0].clip(p["lo"], p["hi"]),
          t_clip, clip_kink),
        F("clip:function", "clip", 1, make_clip, lambda xs, p: al.clip(xs[0], p["lo"], p["hi"]),
          t_clip, clip_kink),
        F("clip:ops", "clip", 1, make_clip,
          lambda xs, p: ops.clip(xs[0], lo=p["lo"], hi=p["hi"]), t_clip, clip_kink),
        F("where:function", "where", 2, make_where,
          lambda xs, p: al.where(p["cond"], xs[0], xs[1]), t_where),
        F("where:ops", "where", 2, make_where,
          lambda xs, p: ops.where(xs[0], xs[1], cond=p["cond"]), t_where),
        F("astype:method", "astype", 1, lambda r, s, d: {"via": cast(d), "back": d},
          lambda xs, p: xs[0].astype(p["via"]).astype(p["back"]), t_cast, fd_ok=False),
        F("astype:function", "astype", 1, lambda r, s, d: {"via": cast(d), "back": d},
          lambda xs, p: al.astype(al.astype(xs[0], p["via"]), p["back"]), t_cast, fd_ok=False),
    ]


def _matmul_shape(rng: np.random.Generator, shape: tuple, left: bool) -> tuple | None:
    """A shape that multiplies ``shape`` (on its right when ``left``)."""
    if not shape:
        return None
    k = shape[-1] if left else (shape[0] if len(shape) == 1 else shape[-2])
    n = int(rng.integers(1, 4))
    if rng.random() < 0.3:
        return (k,)
    batch = shape[:-2] if rng.random() < 0.5 else ()
    return batch + ((k, n) if left else (n, k))


def matmul_forms() -> list[Form]:
    def make_pair(rng, shapes, dtype):
        try:
            np.matmul(np.empty(shapes[0]), np.empty(shapes[1]))
        except ValueError:
            return None
        return {}

    def make_const(rng, shapes, dtype, left):
        s = _matmul_shape(rng, shapes[0], left)
        return None if s is None else {"c": rng.uniform(-1, 1, s).astype(dtype)}

    t_mm = lambda ts, p, torch: torch.matmul(ts[0], ts[1])  # noqa: E731
    F = Form
    return [
        F("matmul:operator", "matmul", 2, make_pair, lambda xs, p: xs[0] @ xs[1], t_mm),
        F("matmul:function", "matmul", 2, make_pair, lambda xs, p: al.matmul(xs[0], xs[1]), t_mm),
        F("matmul:ufunc", "matmul", 2, make_pair, lambda xs, p: np.matmul(xs[0], xs[1]), t_mm),
        F("matmul:ops", "matmul", 2, make_pair, lambda xs, p: ops.matmul(xs[0], xs[1]), t_mm),
        F("matmul:rhs-array", "matmul", 1, lambda r, s, d: make_const(r, s, d, True),
          lambda xs, p: xs[0] @ p["c"],
          lambda ts, p, torch: torch.matmul(ts[0], torch.from_numpy(p["c"]))),
        F("matmul:reflected-array", "matmul", 1, lambda r, s, d: make_const(r, s, d, False),
          lambda xs, p: p["c"] @ xs[0],
          lambda ts, p, torch: torch.matmul(torch.from_numpy(p["c"]), ts[0])),
    ]


def join_forms() -> list[Form]:
    def make(rng, shapes, dtype, stack):
        if len({tuple(s) for s in shapes}) != 1 or (not stack and not shapes[0]):
            return None
        nd = len(shapes[0]) + (1 if stack else 0)
        a = int(rng.integers(0, nd))
        return {"axis": a - nd if rng.random() < 0.5 else a}

    F = Form
    return [
        F("concatenate:function", "concatenate", 2, lambda r, s, d: make(r, s, d, False),
          lambda xs, p: al.concatenate(list(xs), axis=p["axis"]),
          lambda ts, p, torch: torch.cat(list(ts), dim=p["axis"])),
        F("concatenate:ops", "concatenate", 3, lambda r, s, d: make(r, s, d, False),
          lambda xs, p: ops.concatenate(*xs, axis=p["axis"] % xs[0].ndim),
          lambda ts, p, torch: torch.cat(list(ts), dim=p["axis"])),
        F("stack:function", "concatenate", 2, lambda r, s, d: make(r, s, d, True),
          lambda xs, p: al.stack(list(xs), axis=p["axis"]),
          lambda ts, p, torch: torch.stack(list(ts), dim=p["axis"])),
    ]


def cross_entropy_forms() -> list[Form]:
    """Fused and composed; class indices (with -100 padding, sometimes all of it), any-real
    probabilities (constant, or a graph value: then the target gets a gradient too), class
    weights, smoothing, every reduction, class axis 1 or -1 (explicit beyond two axes)."""
    def make(rng, shapes, dtype, node):
        s = shapes[0]
        if not s or (node and tuple(shapes[1]) != tuple(s)):
            return None
        nd = len(s)
        axis = (int(rng.choice([1, -1])) if nd > 2 else
                (None if rng.random() < 0.5 else int(rng.choice([-1, nd - 1]))))
        ax = -1 if axis is None else axis
        c = s[ax]
        if c == 0:
            return None
        pos = s[:ax % nd] + s[ax % nd + 1:]
        kind = "node" if node else str(rng.choice(["index", "index", "prob"]))
        p = {"axis": axis, "fused": bool(rng.random() < 0.5), "kind": kind,
             "reduction": str(rng.choice(["mean", "sum", "none"])),
             "smoothing": float(rng.choice([0.0, 0.0, 0.1])),
             "weight": rng.uniform(0.5, 2.0, c).astype(dtype) if rng.random() < 0.3 else None}
        if kind == "index":
            t = rng.integers(0, c, size=pos)
            r = rng.random()
            if r < 0.1:
                t[...] = -100                      # an all-padding batch
            elif r < 0.4:
                t[rng.random(pos) < 0.3] = -100
            p["target"] = t
        elif kind == "prob":
            p["target"] = rng.normal(size=s).astype(dtype)     # any finite reals
        return p

    def run_al(xs, p):
        target = xs[1] if p["kind"] == "node" else p["target"]
        kw = {} if p["axis"] is None else {"axis": p["axis"]}
        return al.cross_entropy(xs[0], target, weight=p["weight"], reduction=p["reduction"],
                                label_smoothing=p["smoothing"], fused=p["fused"], **kw)

    def run_torch(ts, p, torch):
        z = ts[0]
        t = ts[1] if p["kind"] == "node" else torch.from_numpy(p["target"])
        ax = -1 if p["axis"] is None else p["axis"]
        if z.ndim > 2 and ax % z.ndim != 1:
            z = z.movedim(-1, 1)
            if t.is_floating_point():
                t = t.movedim(-1, 1)
        w = None if p["weight"] is None else torch.from_numpy(p["weight"])
        out = torch.nn.functional.cross_entropy(z, t, weight=w, reduction=p["reduction"],
                                                label_smoothing=p["smoothing"])
        if p["reduction"] == "none" and ts[0].ndim > 2 and ax % ts[0].ndim != 1:
            return out       # positions keep their order: (N, d1, ...) either way
        return out

    return [Form("cross_entropy:function", "cross_entropy", 1,
                 lambda r, s, d: make(r, s, d, False), run_al, run_torch),
            Form("cross_entropy:function-node-target", "cross_entropy", 2,
                 lambda r, s, d: make(r, s, d, True), run_al, run_torch)]


STRUCTURAL = {   # op-table entries (and public composites) given forms by hand
    "sum", "max", "min", "logsumexp", "reshape", "transpose", "broadcast_to", "getitem",
    "where", "clip", "astype", "matmul", "concatenate", "cross_entropy",
}
NOT_FUZZED = {"scatter_add": "internal: the VJP of getitem, reached through every getitem's "
                             "second-order check"}
# Ops merged from the op-family branches after this fuzzer was written: the elementwise ones
# without parameters joined automatically (sin ... hardswish, arctan2 ... hypot); these need a
# form (parameters, shapes, a PyTorch twin) and are listed here, by name, until they get one.
PENDING = {
    "gelu", "softplus", "elu", "celu", "leaky_relu", "hardtanh",          # elementwise, params
    "take_along_axis", "scatter_along", "prod", "vector_norm", "cumsum", "cumprod",
    "logcumsumexp", "inv", "det", "logabsdet", "solve", "cholesky", "svd", "svdvals", "einsum",
    "conv1d", "conv2d", "conv2d_weight", "conv_transpose2d", "unfold", "fold",
    "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "pool_scatter",
    "scaled_dot_product_attention", "binary_cross_entropy_with_logits", "layer_norm",
}
NOT_FUZZED.update({n: "pending: needs a form in fuzz_structural.py" for n in PENDING})


def all_forms() -> list[Form]:
    unary, binary = elementwise_ops()
    forms = [f for n in unary for f in unary_forms(n)] + [f for n in binary
                                                           for f in binary_forms(n)]
    return (forms + reduction_forms() + softmax_forms() + shape_forms() + index_forms()
            + selection_forms() + matmul_forms() + join_forms() + cross_entropy_forms())
