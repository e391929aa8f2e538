"""Linear-algebra primitives: the matrix product; for square matrices the determinant (and
log-|det|), the inverse, linear solves and the Cholesky factor; for any matrices the singular
values and the SVD."""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import Op, data


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


def _dtype_check(name: str, *xs: np.ndarray) -> None:
    for x in xs:
        if x.dtype == np.float16:
            raise TypeError(f"{name}: float16 arrays ({tuple(x.shape)}) are not supported by "
                            "NumPy's linalg (as in PyTorch on the CPU); use float32 or float64")


def _square_check(name: str) -> Any:
    def check(x: np.ndarray, *rest: Any, **_: Any) -> None:
        _dtype_check(name, x, *rest)
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


# ---------------------------------------------------------------------------------------------
# Singular values and the SVD (any m × n, batched over leading axes)
#
# ``svd`` returns U, S and V = Vhᵀ packed in one array (..., m + 1 + n, w): rows [0, m) hold U,
# row m holds S, rows [m + 1, m + 1 + n) hold V; ``w`` is k = min(m, n) (reduced) or max(m, n)
# (full, zero-padded). One node, so one VJP sees the three cotangents together; al.svd unpacks.


def _matrices_check(name: str) -> Any:
    def check(x: np.ndarray, **_: Any) -> None:
        _dtype_check(name, x)
        if x.ndim < 2:
            raise ValueError(f"{name}: expected matrices (..., m, n), got shape "
                             f"{tuple(x.shape)}")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name}: the matrix ({tuple(x.shape)}) holds inf or nan")
    return check


def _svd_forward(x: np.ndarray, full_matrices: bool = False) -> np.ndarray:
    u, s, vh = np.linalg.svd(x, full_matrices=full_matrices)
    m, n = x.shape[-2:]
    w = max(u.shape[-1], vh.shape[-2])
    packed = np.zeros(x.shape[:-2] + (m + 1 + n, w), dtype=s.dtype)
    packed[..., :m, :u.shape[-1]] = u
    packed[..., m, :s.shape[-1]] = s
    packed[..., m + 1:, :vh.shape[-2]] = vh.swapaxes(-1, -2)
    return packed


def _svd_vjp(g: Any, out: Any, x: Any, full_matrices: bool = False) -> Any:
    # PyTorch's rule (real case). Columns beyond k of a full U or V get no gradient (they are an
    # arbitrary basis of the complement, as PyTorch ignores them). E[j, l] = s_l² − s_j², so a
    # repeated singular value makes the U/V terms inf or nan (the SVD is not differentiable
    # there); terms whose cotangent is exactly zero are skipped, so S alone stays finite.
    m, n = x.shape[-2:]
    k = min(m, n)
    u, s, v = out[..., :m, :k], out[..., m, :k], out[..., m + 1:, :k]
    gu, gs, gv = g[..., :m, :k], g[..., m, :k], g[..., m + 1:, :k]
    eye = np.eye(k, dtype=data(out).dtype)
    inner = gs[..., None, :] * eye
    use_u, use_v = bool(np.any(data(gu))), bool(np.any(data(gv)))
    if use_u or use_v:
        s2 = s * s
        e = s2[..., None, :] - s2[..., :, None] + eye
        if use_u:
            ugu = u.mT @ gu
            inner = inner + (ugu - ugu.mT) * s[..., None, :] / e
        if use_v:
            vgv = v.mT @ gv
            inner = inner + s[..., :, None] * (vgv - vgv.mT) / e
    ga = u @ inner @ v.mT
    if m > k and use_u:                  # (I − U Uᵀ) gU S⁻¹ Vᵀ
        gus = gu / s[..., None, :]
        ga = ga + (gus - u @ (u.mT @ gus)) @ v.mT
    if n > k and use_v:                  # U S⁻¹ gVᵀ (I − V Vᵀ)
        gvs = gv / s[..., None, :]
        ga = ga + u @ (gvs - v @ (v.mT @ gvs)).mT
    return ga


svd = Op("svd", _svd_forward, (_svd_vjp,),
         rules=("U [skew(Uᵀ gU) S / E + S skew(Vᵀ gV) / E + diag(gS)] Vᵀ "
                "+ (I − UUᵀ) gU S⁻¹ Vᵀ + U S⁻¹ gVᵀ (I − VVᵀ), E_jl = s_l² − s_j²",),
         internal="reached through al.svd (which unpacks U, S, Vh from this op's one array)",
         check=_matrices_check("svd"))


def _svdvals_vjp(g: Any, out: Any, x: Any) -> Any:
    # U diag(g) Vᵀ, with U, V from a (recorded, so differentiable) svd of x. A singular value
    # that is exactly 0 passes no gradient, as |x| at 0 (the SVD of a 1 × 1 matrix is |a|).
    m = x.shape[-2]
    p = svd(x, full_matrices=False)
    u, v = p[..., :m, :], p[..., m + 1:, :]
    g = g * (data(out) > 0).astype(data(out).dtype)
    return (u * g[..., None, :]) @ v.mT


svdvals = Op("svdvals", lambda x: np.linalg.svd(x, compute_uv=False), (_svdvals_vjp,),
             rules=("U diag(g) Vᵀ (0 for a singular value that is exactly 0)",),
             summary="The singular values of matrices ``(..., m, n)``, in descending order "
             "(``torch.linalg.svdvals``; ``np.linalg.svd(x, compute_uv=False)``).",
             example=">>> al.svdvals([[3.0, 0.0], [0.0, -4.0]])\n"
             "Tensor([4., 3.], dtype=float64)",
             public="svdvals", check=_matrices_check("svdvals"))
