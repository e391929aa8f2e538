"""Specs of the square-matrix primitives in ``ops/linalg.py``: random matrices shifted by
``3·I`` (well conditioned); Cholesky reads ``X Xᵀ + 3·I`` (symmetric positive-definite). The SVD of
random rectangular matrices (distinct singular values almost surely) is checked through a
function that does not depend on the signs of the singular vector pairs."""

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


def _svd_invariant(u, s, vh):
    """Σ_i s_i u_i³ (v_i³)ᵀ: uses U, S and Vh, unchanged when a pair (u_i, v_i) flips sign."""
    k = s.shape[-1]
    return ((u[..., :k] ** 3) * s[..., None, :]) @ (vh[..., :k, :] ** 3)


SQUARE = [(((3, 3),), {}), (((2, 3, 3),), {}), (((1, 1),), {}), (((2, 2, 4, 4),), {})]
ANY = [(((4, 3),), {}), (((3, 5),), {}), (((2, 3, 3),), {}), (((2, 1, 4, 2),), {}),
       (((1, 1),), {}), (((3, 1),), {})]
SVD = [(shapes, {"full_matrices": full}) for (shapes, _), full in
       [(c, f) for c in ANY[:4] for f in (False, True)]]
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
    "svdvals": Spec(al.svdvals, lambda x: np.linalg.svd(x, compute_uv=False),
                    lambda x: _t("svdvals")(x), ANY),
    "svd": Spec(lambda x, **kw: _svd_invariant(*al.svd(x, **kw)),
                lambda x, **kw: _svd_invariant(*np.linalg.svd(x, **kw)),
                lambda x, **kw: _svd_invariant(*_t("svd")(x, **kw)), SVD),
}
