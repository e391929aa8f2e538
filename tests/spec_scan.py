"""Specs of the scans (``ops/scan.py``), ``prod`` and the p-norm (``ops/reduce.py``) and the
indexing ops (``ops/indexing.py``)."""

from __future__ import annotations

import numpy as np

import autograd_lite as al
from autograd_lite import ops

from .spec import Spec, reductions


def _t(name):
    import torch
    return getattr(torch, name)


def _scan_cases():
    cases = [(((),), {"axis": 0}), (((),), {"axis": None}), (((4,),), {"axis": None})]
    for s in ((4,), (2, 3), (2, 3, 4)):
        for axis in (0, -1) + ((None, 1) if len(s) == 3 else ()):
            cases.append(((s,), {"axis": axis}))
    return cases


def _torch_scan(name):
    def f(x, *, axis):
        if axis is None:
            return getattr(x.reshape(-1), name)(0)
        return getattr(x, name)(axis)
    return f


def _np_scan(fn):
    def f(x, *, axis):
        if axis is not None and x.ndim == 0:
            return x.copy()
        return fn(x, axis=axis)
    return f


def _np_logcumsumexp(x, axis):
    return np.log(np.cumsum(np.exp(x), axis=axis))


def _torch_prod(x, *, axis, keepdims):
    import torch
    if axis is None:
        out = torch.prod(x)
        return out.reshape((1,) * x.ndim) if keepdims else out
    axes = (axis,) if isinstance(axis, int) else axis
    for a in sorted((a % max(x.ndim, 1) for a in axes), reverse=True):
        x = torch.prod(x, dim=a, keepdim=True)
    return x if keepdims else x.reshape([n for i, n in enumerate(x.shape)
                                         if i not in [a % max(x.ndim, 1) for a in axes]])


def _norm_cases():
    cases = []
    for ord_ in (2.0, 1.0, 3.0, 1.5):
        cases += [(((3,),), {"p": ord_, "axis": None, "keepdims": False}),
                  (((2, 3),), {"p": ord_, "axis": -1, "keepdims": True}),
                  (((2, 3, 4),), {"p": ord_, "axis": (0, 2), "keepdims": False})]
    return cases + [(((),), {"p": 2.0, "axis": None, "keepdims": False})]


def _np_norm(x, *, p, axis, keepdims):
    return np.sum(np.abs(x) ** p, axis=axis, keepdims=keepdims) ** (1 / p)


def _torch_norm(x, *, p, axis, keepdims):
    import torch
    return torch.linalg.vector_norm(x, p, dim=axis, keepdim=keepdims)


_IDX = np.array([[0, 2], [3, 3], [1, 0]])
_TAKE = [(((3, 4),), {"indices": _IDX, "axis": 1}),
         (((4, 3),), {"indices": _IDX.T, "axis": 0}),
         (((1, 4),), {"indices": _IDX, "axis": 1}),          # x broadcast against indices
         (((3, 4),), {"indices": np.array([[1], [0], [2]]), "axis": -1}),
         (((2, 3, 4),), {"indices": np.array([[[0, 1, 1, 0]], [[1, 1, 0, 0]]]), "axis": 1})]


def _np_scatter(g, *, indices, axis, shape):
    z = np.zeros(shape)
    grid = list(np.ogrid[tuple(slice(0, n) for n in indices.shape)])
    grid[axis] = indices
    np.add.at(z, tuple(grid), g)
    return z


SPECS = {
    "cumsum": Spec(lambda x, **kw: al.cumsum(x, **kw), _np_scan(np.cumsum), _torch_scan("cumsum"),
                   _scan_cases()),
    "cumprod": Spec(lambda x, **kw: x.cumprod(**kw), _np_scan(np.cumprod),
                    _torch_scan("cumprod"), _scan_cases()),
    "logcumsumexp": Spec(lambda x, **kw: al.logcumsumexp(x, **kw), _np_scan(_np_logcumsumexp),
                         _torch_scan("logcumsumexp"), _scan_cases()),
    "prod": Spec(lambda x, **kw: x.prod(**kw), lambda x, **kw: np.prod(x, **kw), _torch_prod,
                 reductions()),
    "vector_norm": Spec(lambda x, **kw: ops.OPS["vector_norm"](x, **kw), _np_norm, _torch_norm,
                        _norm_cases(), domain="nonzero"),
    "take_along_axis": Spec(lambda x, **kw: al.take_along_axis(x, **kw),
                            lambda x, *, indices, axis: np.take_along_axis(x, indices, axis),
                            lambda x, *, indices, axis: _t("take_along_dim")(
                                x, _t("as_tensor")(indices), axis), _TAKE),
    "scatter_along": Spec(lambda g, **kw: ops.OPS["scatter_along"](g, **kw), _np_scatter, None,
                          [(((3, 2),), {"indices": _IDX, "axis": 1, "shape": (3, 4)}),
                           (((2, 3),), {"indices": _IDX.T % 3, "axis": 0, "shape": (3, 3)})]),
}
