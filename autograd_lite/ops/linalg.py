"""Linear-algebra primitives: the matrix product, and for square matrices the determinant
(and log-|det|), the inverse, linear solves and the Cholesky factor."""

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


def _matmul_dy_batch(g: Any, out: Any, x: Any, y: Any) -> Any:
    # (n,) @ (n,) -> (): g is a batch of scalars, so dy = g ⊗ x (the others broadcast as is)
    return g[..., None] * x if x.ndim == 1 and y.ndim == 1 else _matmul_dy(g, out, x, y)


matmul = Op("matmul", np.matmul, (_matmul_dx, _matmul_dy), rules=("g @ yᵀ", "xᵀ @ g"),
            summary="Matrix product with NumPy's ``@`` rules (1-D operands, broadcast batch "
            "dimensions).",
            example=">>> al.matmul([[1.0, 2.0]], [[3.0], [4.0]])\n"
            "Tensor([[11.]], dtype=float64)",
            public="matmul", ufunc=np.matmul, check=_matmul_check,
            batch=(_matmul_dx, _matmul_dy_batch))


# ---------------------------------------------------------------------------------------------
# Square matrices: det, inverse, solve, Cholesky (batched over leading axes)
#
# Gradients assume invertible (for cholesky: positive-definite) matrices; at a singular matrix
# the backward raises the same clear error as ``inv`` (PyTorch falls back to an SVD there).


def _square_check(name: str) -> Any:
    def check(x: np.ndarray, *rest: Any, **_: Any) -> None:
        if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
            raise ValueError(f"{name}: expected square matrices (..., n, n), got shape "
                             f"{tuple(x.shape)}")
        if rest:
            b = rest[0]
            n = x.shape[-1]
            rows = b.shape[0] if b.ndim == 1 else (b.shape[-2] if b.ndim >= 2 else None)
            if rows != n:
                raise ValueError(f"{name}: a {tuple(x.shape)} and b {tuple(b.shape)} do not "
                                 f"fit (b needs {n} rows: (n,) or (..., n, k))")
            try:
                np.broadcast_shapes(x.shape[:-2], b.shape[:-2] if b.ndim > 1 else ())
            except ValueError:
                raise ValueError(f"{name}: batch dimensions of a {tuple(x.shape)} and b "
                                 f"{tuple(b.shape)} cannot be broadcast") from None
        if name == "cholesky":
            raise ValueError(f"cholesky: the matrix ({tuple(x.shape)}) is not positive-definite")
        raise ValueError(f"{name}: the matrix ({tuple(x.shape)}) is singular")
    return check


def _lift(g: Any) -> Any:
    """A batch of scalars as a batch of 1×1 matrices (to scale matrices)."""
    return g[..., None, None]


inv = Op("inv", np.linalg.inv, (lambda g, out, x: -(out.mT @ g @ out.mT),),
         rules=("−X⁻ᵀ g X⁻ᵀ",),
         summary="The inverse of square matrices (batched over leading axes).",
         example=">>> al.inv([[2.0, 0.0], [0.0, 4.0]])\n"
         "Tensor([[0.5 , 0.  ],\n        [0.  , 0.25]], dtype=float64)",
         public="inv", check=_square_check("inv"), batch=True)

det = Op("det", np.linalg.det, (lambda g, out, x: _lift(g * out) * inv(x).mT,),
         rules=("g ⊙ det(X) X⁻ᵀ",),
         summary="The determinant of square matrices (batched); its gradient needs an "
         "invertible matrix.",
         example=">>> al.det([[1.0, 2.0], [3.0, 4.0]])\nTensor(-2., dtype=float64)",
         public="det", check=_square_check("det"), batch=True)

logabsdet = Op("logabsdet", lambda x: np.linalg.slogdet(x)[1],
               (lambda g, out, x: _lift(g) * inv(x).mT,), rules=("g ⊙ X⁻ᵀ",),
               internal="reached through al.slogdet (which adds the sign)",
               check=_square_check("slogdet"), batch=True)


def _solve_da(g: Any, out: Any, a: Any, b: Any) -> Any:
    gb = _solve_db(g, out, a, b)
    if b.ndim == 1:
        return -(gb[..., :, None] * out[..., None, :])
    return -(gb @ out.mT)


def _solve_db(g: Any, out: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:                  # b a vector (NumPy 2): g has shape (..., n)
        return solve(a.mT, g[..., None])[..., 0]
    return solve(a.mT, g)


solve = Op("solve", np.linalg.solve, (_solve_da, _solve_db),
           rules=("−(A⁻ᵀ g) Xᵀ", "A⁻ᵀ g"),
           summary="``X`` with ``A X = b`` (``b`` a vector ``(n,)`` or matrices ``(..., n, k)``, "
           "as NumPy 2; batch axes broadcast).",
           example=">>> al.solve([[2.0, 0.0], [0.0, 4.0]], [2.0, 2.0])\n"
           "Tensor([1. , 0.5], dtype=float64)",
           public="solve", check=_square_check("solve"), batch=True)


def _cholesky_vjp(g: Any, out: Any, x: Any) -> Any:
    # PyTorch's rule: M = tril(Lᵀ g), symmetrised with the diagonal once; gA = L⁻ᵀ M L⁻¹.
    n = x.shape[-1]
    lower = np.tril(np.ones((n, n), dtype=bool))
    strict = np.tril(np.ones((n, n), dtype=bool), -1)
    m = (out.mT @ g) * lower
    m = 0.5 * (m + (m * strict).mT)
    y = solve(out.mT, m)
    return solve(out.mT, y.mT).mT


cholesky = Op("cholesky", np.linalg.cholesky, (_cholesky_vjp,),
              rules=("L⁻ᵀ Φ(Lᵀ g) L⁻¹ (Φ: the lower triangle, symmetrised)",),
              summary="The lower Cholesky factor ``L`` (``A = L Lᵀ``) of symmetric "
              "positive-definite matrices; only their lower triangle is read, and the gradient "
              "is symmetric (as PyTorch).",
              example=">>> al.cholesky([[4.0, 2.0], [2.0, 2.0]])\n"
              "Tensor([[2., 0.],\n        [1., 1.]], dtype=float64)",
              public="cholesky", check=_square_check("cholesky"), batch=True)
