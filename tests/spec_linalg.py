"""Specs of the square-matrix primitives in ``ops/linalg.py``: random matrices shifted by
``3·I`` (well conditioned); Cholesky reads ``X Xᵀ + 3·I`` (symmetric positive-definite)."""

from __future__ import annotations

import numpy as np

import autograd_lite as al
from autograd_lite import ops

from .spec import Spec


def _eye(x):
    n = x.shape[-1]
    if type(x).__module__.startswith("torch"):
        import torch
        return torch.eye(n, dtype=x.dtype)
    return np.eye(n)


def _shift(x):
    return x + 3 * _eye(x)


def _spd(x):
    return x @ x.mT + 3 * _eye(x)


def _t(name):
    import torch
    return getattr(torch.linalg, name)


SQUARE = [(((3, 3),), {}), (((2, 3, 3),), {}), (((1, 1),), {}), (((2, 2, 4, 4),), {})]
SOLVE = [(((3, 3), (3,)), {}), (((3, 3), (3, 2)), {}), (((2, 3, 3), (3,)), {}),
         (((2, 3, 3), (2, 3, 1)), {}), (((3, 3), (4, 3, 2)), {}), (((2, 1, 3, 3), (5, 3, 2)), {})]

SPECS = {
    "inv": Spec(lambda x: al.inv(_shift(x)), lambda x: np.linalg.inv(_shift(x)),
                lambda x: _t("inv")(_shift(x)), SQUARE),
    "det": Spec(lambda x: al.det(_shift(x)), lambda x: np.linalg.det(_shift(x)),
                lambda x: _t("det")(_shift(x)), SQUARE),
    "logabsdet": Spec(lambda x: ops.OPS["logabsdet"](_shift(x)),
                      lambda x: np.linalg.slogdet(_shift(x))[1],
                      lambda x: _t("slogdet")(_shift(x))[1], SQUARE),
    "solve": Spec(lambda a, b: al.solve(_shift(a), b), lambda a, b: np.linalg.solve(_shift(a), b),
                  lambda a, b: _t("solve")(_shift(a), b), SOLVE),
    "cholesky": Spec(lambda x: al.cholesky(_spd(x)), lambda x: np.linalg.cholesky(_spd(x)),
                     lambda x: _t("cholesky")(_spd(x)), SQUARE),
}
