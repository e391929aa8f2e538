"""Linear-algebra primitives: the matrix product."""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import Op


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
            summary="Matrix product with NumPy's ``@`` rules (1-D operands, broadcast batch "
            "dimensions).",
            example=">>> al.matmul([[1.0, 2.0]], [[3.0], [4.0]])\n"
            "Tensor([[11.]], dtype=float64)",
            public="matmul", ufunc=np.matmul, check=_matmul_check)
