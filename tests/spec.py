"""The test-spec table: one entry per primitive in ``autograd_lite.ops.OPS``.

Each spec says how to call the op on Tensors, its NumPy reference, the same in PyTorch, the input
domain and the cases (input shapes and keyword parameters). ``test_ops.py`` runs every case
forward against NumPy, backward against central finite differences and against PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autograd_lite as al
from autograd_lite import ops

# every broadcasting pair the suite covers
BINARY_SHAPES = [
    ((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((2, 3), (1, 3)), ((1, 3), (2, 1)),
    ((2, 3), ()), ((), (2, 3)), ((3,), (2, 3)), ((2, 3), (3,)), ((2, 1, 3), (4, 1)),
    ((4, 2, 3), (4, 2, 3)),
]
UNARY_SHAPES = [(), (3,), (2, 3), (1, 3), (2, 3, 4)]


@dataclass
class Spec:
    fn: Callable[..., Any]                 # builds the op from Tensors
    ref: Callable[..., Any]                # NumPy reference
    torch: Callable[..., Any] | None       # PyTorch equivalent (receives torch tensors)
    cases: list[tuple[tuple, dict]]        # (input shapes, keyword params)
    domain: str = "any"                    # "any" | "pos" | "nonzero" | "distinct"
    diff: tuple[bool, ...] | None = None   # which inputs are differentiable (default: all)
    extra: dict = field(default_factory=dict)


def unary(shapes=UNARY_SHAPES):
    return [((s,), {}) for s in shapes]


def binary(shapes=BINARY_SHAPES):
    return [(s, {}) for s in shapes]


def reductions(shapes=((3,), (2, 3), (2, 3, 4))):
    cases = [(((),), {"axis": None, "keepdims": False})]
    for s in shapes:
        for axis in [None, 0, -1] + ([(0, 2)] if len(s) == 3 else []):
            for keepdims in (False, True):
                cases.append(((s,), {"axis": axis, "keepdims": keepdims}))
    return cases


def _t(name):
    import torch
    return getattr(torch, name)


def _torch_reduce(name):
    def f(x, axis, keepdims):
        import torch
        if axis is None:
            axis = tuple(range(x.ndim))
        if name == "sum":
            return torch.sum(x, dim=axis, keepdim=keepdims)
        if name == "logsumexp":
            return torch.logsumexp(x, dim=axis, keepdim=keepdims)
        return (torch.amax if name == "max" else torch.amin)(x, dim=axis, keepdim=keepdims)
    return f


GETITEM_INDICES = [
    ((5,), 2), ((5,), slice(1, 4)), ((2, 3), (slice(None), 1)), ((2, 3), (None, 1)),
    ((2, 3, 4), (Ellipsis, 0)), ((2, 3), np.array([[True, False, True], [False, True, True]])),
    ((5,), np.array([0, 2, 2, 4])), ((3, 4), (np.array([0, 2, 0]), np.array([1, 1, 1]))),
    ((3, 4), (slice(0, 2), np.array([3, 0, 3]))),
]

SPECS: dict[str, Spec] = {
    "add": Spec(lambda x, y: x + y, np.add, lambda x, y: x + y, binary()),
    "sub": Spec(lambda x, y: x - y, np.subtract, lambda x, y: x - y, binary()),
    "mul": Spec(lambda x, y: x * y, np.multiply, lambda x, y: x * y, binary()),
    "div": Spec(lambda x, y: x / y, np.divide, lambda x, y: x / y, binary(), domain="nonzero"),
    "pow": Spec(lambda x, y: x ** y, np.power, lambda x, y: x ** y, binary(), domain="pos"),
    "neg": Spec(lambda x: -x, np.negative, lambda x: -x, unary()),
    "exp": Spec(al.exp, np.exp, lambda x: x.exp(), unary()),
    "log": Spec(al.log, np.log, lambda x: x.log(), unary(), domain="pos"),
    "sqrt": Spec(al.sqrt, np.sqrt, lambda x: x.sqrt(), unary(), domain="pos"),
    "abs": Spec(abs, np.abs, lambda x: x.abs(), unary(), domain="nonzero"),
    "tanh": Spec(al.tanh, np.tanh, lambda x: x.tanh(), unary()),
    "sigmoid": Spec(al.sigmoid, lambda x: 1 / (1 + np.exp(-x)), lambda x: x.sigmoid(), unary()),
    "relu": Spec(al.relu, lambda x: np.maximum(x, 0), lambda x: x.relu(), unary(),
                 domain="nonzero"),
    "maximum": Spec(al.maximum, np.maximum, lambda x, y: _t("maximum")(x, y), binary(),
                    domain="distinct"),
    "minimum": Spec(al.minimum, np.minimum, lambda x, y: _t("minimum")(x, y), binary(),
                    domain="distinct"),
    "where": Spec(lambda x, y, *, cond: al.where(cond, x, y),
                  lambda x, y, *, cond: np.where(cond, x, y),
                  lambda x, y, *, cond: _t("where")(_t("as_tensor")(cond), x, y),
                  [(((2, 3), (2, 3)), {"cond": np.array([[True, False, True], [False] * 3])}),
                   (((3,), ()), {"cond": np.array([True, False, True])}),
                   (((2, 1), (1, 3)), {"cond": np.array([[True, False, False], [True] * 3])})]),
    "clip": Spec(lambda x, **kw: x.clip(**kw), lambda x, *, lo, hi: np.clip(x, lo, hi),
                 lambda x, *, lo, hi: x.clamp(lo, hi),
                 [(((2, 3),), {"lo": -0.5, "hi": 0.5}), (((4,),), {"lo": None, "hi": 0.3}),
                  (((4,),), {"lo": -0.3, "hi": None})], domain="clip"),
    "astype": Spec(lambda x, *, dtype: x.astype(dtype).astype(np.float64),
                   lambda x, *, dtype: x.astype(dtype).astype(np.float64),
                   lambda x, *, dtype: x.float().double(),
                   [(((2, 3),), {"dtype": np.float32})], extra={"atol": 1e-4, "eps": 1e-2}),
    "matmul": Spec(lambda x, y: x @ y, np.matmul, lambda x, y: x @ y,
                   binary([((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
                           ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)),
                           ((3,), (5, 3, 2)), ((5, 2, 3), (3,))])),
    "sum": Spec(lambda x, **kw: x.sum(**kw), lambda x, **kw: np.sum(x, **kw),
                _torch_reduce("sum"), reductions()),
    "max": Spec(lambda x, **kw: x.max(**kw), lambda x, **kw: np.max(x, **kw),
                _torch_reduce("max"), reductions()),
    "min": Spec(lambda x, **kw: x.min(**kw), lambda x, **kw: np.min(x, **kw),
                _torch_reduce("min"), reductions()),
    "logsumexp": Spec(lambda x, **kw: al.ops.logsumexp(x, **kw),
                      lambda x, *, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis,
                                                                 keepdims=keepdims)),
                      _torch_reduce("logsumexp"), reductions()),
    "reshape": Spec(lambda x, *, shape: x.reshape(shape), lambda x, *, shape: x.reshape(shape),
                    lambda x, *, shape: x.reshape(shape),
                    [(((2, 3),), {"shape": (3, 2)}), (((2, 3, 4),), {"shape": (4, -1)}),
                     (((6,),), {"shape": (1, 6, 1)}), (((),), {"shape": (1, 1)})]),
    "transpose": Spec(lambda x, *, axes: x.transpose(axes), lambda x, *, axes: x.transpose(axes),
                      lambda x, *, axes: x.permute(*axes) if axes else x.T,
                      [(((2, 3),), {"axes": None}), (((2, 3, 4),), {"axes": (1, 2, 0)}),
                       (((2, 3, 4),), {"axes": (2, 0, 1)})]),
    "broadcast_to": Spec(lambda x, *, shape: x.broadcast_to(shape),
                         lambda x, *, shape: np.broadcast_to(x, shape),
                         lambda x, *, shape: x.expand(*shape),
                         [(((3,),), {"shape": (2, 3)}), (((2, 1),), {"shape": (2, 4)}),
                          (((),), {"shape": (2, 2)}), (((1, 3),), {"shape": (4, 2, 3)})]),
    "getitem": Spec(lambda x, *, index: x[index], lambda x, *, index: x[index],
                    lambda x, *, index: x[_torch_index(index)],
                    [((s,), {"index": i}) for s, i in GETITEM_INDICES]),
    "scatter_add": Spec(lambda g, *, index, shape: ops.scatter_add(g, index=index, shape=shape),
                        lambda g, *, index, shape: _np_scatter(g, index, shape),
                        None,
                        [(((4,),), {"index": np.array([0, 2, 2, 4]), "shape": (5,)}),
                         (((3,),), {"index": (slice(0, 3),), "shape": (5,)}),
                         (((2, 2),), {"index": (np.array([0, 0]), slice(1, 3)),
                                      "shape": (2, 4)})]),
    "concatenate": Spec(lambda *xs, axis: al.concatenate(xs, axis=axis),
                        lambda *xs, axis: np.concatenate(xs, axis=axis),
                        lambda *xs, axis: _t("cat")(xs, dim=axis),
                        [(((2, 3), (1, 3)), {"axis": 0}), (((2, 3), (2, 1), (2, 2)), {"axis": 1}),
                         (((3,), (2,)), {"axis": -1})]),
    "cross_entropy": Spec(lambda x, **kw: al.cross_entropy(x, **kw),
                          lambda x, **kw: np_cross_entropy(x, **kw),
                          lambda x, **kw: _torch_cross_entropy(x, **kw),
                          [(((4, 5),), {"target": np.array([0, 3, 1, 4])}),
                           (((4, 5),), {"target": np.array([2, 2, 0, 1]), "reduction": "none"}),
                           (((5,),), {"target": np.array(3), "reduction": "sum"}),
                           (((2, 3, 4),), {"target": np.array([[0, 1, 3], [3, 2, 1]]),
                                           "weight": np.array([0.5, 1.0, 2.0, 1.5]),
                                           "ignore_index": 1, "label_smoothing": 0.2}),
                           (((3, 4),), {"target": np.array([[0.2, 0.3, 0.0, 0.5], [1, 0, 0, 0],
                                                            [0.6, 0.1, 0.4, 0.2]]),
                                        "weight": np.array([1.0, 2.0, 0.5, 1.0]),
                                        "label_smoothing": 0.1})]),
}


def np_cross_entropy(x, *, target, weight=None, ignore_index=None, reduction="mean",
                     label_smoothing=0.0):
    """PyTorch's cross-entropy in plain NumPy, classes on the last axis."""
    n, eps = x.shape[-1], label_smoothing
    m = x.max(-1, keepdims=True)
    logp = x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))
    w = np.ones(n) if weight is None else weight
    if target.dtype.kind == "f":                    # probabilities
        y = w * ((1 - eps) * target + eps / n)
        denom = target.size // n
    else:                                           # class indices
        keep = np.ones(target.shape, bool) if ignore_index is None else target != ignore_index
        t = np.where(keep, target, 0)
        y = ((1 - eps) * np.eye(n)[t] * w[t][..., None] + eps / n * w) * keep[..., None]
        denom = np.sum(w[t] * keep)
    loss = -(y * logp).sum(-1)
    return {"none": loss, "sum": loss.sum(), "mean": loss.sum() / denom}[reduction]


def _torch_cross_entropy(x, *, target, **kw):
    """torch.nn.functional.cross_entropy with the class axis moved from last to 1."""
    import torch
    t = torch.as_tensor(target)
    if x.ndim > 2:
        x = x.movedim(-1, 1)
        t = t.movedim(-1, 1) if t.is_floating_point() else t
    if kw.get("weight") is not None:
        kw["weight"] = torch.as_tensor(kw["weight"], dtype=x.dtype)
    if kw.get("ignore_index", 0) is None:
        del kw["ignore_index"]
    if t.is_floating_point():
        t = t.to(x.dtype)
    return torch.nn.functional.cross_entropy(x, t, **kw)


def _np_scatter(g, index, shape):
    z = np.zeros(shape)
    np.add.at(z, index, g)
    return z


def _torch_index(index):
    import torch
    if isinstance(index, np.ndarray):
        return torch.as_tensor(index)
    if isinstance(index, tuple):
        return tuple(_torch_index(i) for i in index)
    return index


def make_inputs(spec: Spec, shapes: tuple, rng: np.random.Generator) -> list[np.ndarray]:
    """Random float64 inputs of the given shapes inside the spec's domain."""
    for _ in range(1000):
        xs = [np.asarray(_sample(spec.domain, s, rng), dtype=np.float64) for s in shapes]
        # "distinct": keep the two inputs of maximum/minimum away from their kink (x == y)
        if spec.domain != "distinct" or np.all(np.abs(xs[0] - xs[1]) > 0.1):
            return xs
    raise RuntimeError("could not sample distinct inputs")


def _sample(domain: str, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    if domain == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "nonzero":   # away from the kinks of abs, relu and the pole of 1/x
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)
    if domain == "clip":      # away from the clip boundaries
        return rng.choice([-1.0, 1.0], shape) * rng.choice([0.1, 0.2, 0.8, 1.2], shape)
    return np.asarray(rng.normal(size=shape))


def _family_specs() -> None:
    """Merge the ``SPECS`` of every ``tests/spec_<family>.py`` (one file per op family, so a new
    family adds a file instead of editing this one)."""
    import importlib
    import pathlib

    for path in sorted(pathlib.Path(__file__).parent.glob("spec_*.py")):
        module = importlib.import_module(f"tests.{path.stem}")
        clash = set(module.SPECS) & set(SPECS)
        assert not clash, f"{path.name}: specs defined twice: {sorted(clash)}"
        SPECS.update(module.SPECS)


_family_specs()


def cases():
    """(op name, case index, shapes, params) for every case in the table (pytest ids)."""
    for name, spec in SPECS.items():
        for k, (shapes, params) in enumerate(spec.cases):
            yield name, k, shapes, params
