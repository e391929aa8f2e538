"""Scaled dot-product attention, fused (blocked, FlashAttention's memory trick in NumPy) and
composed, as PyTorch's ``F.scaled_dot_product_attention``.

    S = q kᵀ·scale (+ mask),  P = softmax(S) row by row,  out = P v

Composed, every step is a node and backward keeps ``S``, ``P`` and their intermediates: memory
quadratic in the sequence length N. Fused, the forward walks over blocks of ``BLOCK`` query rows,
keeps only ``out`` and one log-sum-exp per row (``lse``, stored as its two parts: the row max ``m``
and ``log Σ exp(S − m)``, so that backward's recomputed ``P = exp(S − m − log Σ)`` is as accurate
as the forward's — from ``lse`` alone its error would grow with |lse|), and backward recomputes
each block's ``P``:

    per block of rows:  dV += Pᵀ g,  dP = g vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
                        dQ = dS k·scale,  dK += dSᵀ q·scale

(the blocks hold whole rows, so ``rowsum(dP ⊙ P)`` is computed exactly where FlashAttention, which
also splits the keys, uses the equal ``rowsum(g ⊙ out)`` — less accurate for nearly one-hot P)

so peak memory grows linearly in N. The cotangents come out of one blocked pass: the first VJP
the engine calls computes those of every input that required grad at the forward (``needs``) and
hands the others to their VJPs (which the engine calls next, with the same ``g``) through the
node's saved slot, released as they are taken. Under ``create_graph=True`` the VJP is
the composed rule written with ops (``P`` recomputed with the composed softmax, so the N×N matrix
is stored for that graph): differentiable again, at the composed form's memory cost.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional, ops
from ..tensor import Tensor, as_tensor
from .common import recording

__all__ = ["scaled_dot_product_attention", "BLOCK"]

BLOCK = 256     # query rows per block: the fused form's working set is BLOCK × N per batch entry


def _swap(a: Any) -> Any:
    return a.swapaxes(-1, -2)


def _block_mask(mask: Any, causal: bool, i: int, rows: int, cols: int) -> Any:
    """The mask for query rows ``i:i+rows``: ``None``, a boolean (True: attend) or additive."""
    if causal:
        r = np.arange(i, i + rows)[:, None]
        return np.arange(cols)[None, :] <= r
    if mask is None or mask.shape[-2] == 1:
        return mask
    return mask[..., i:i + rows, :]


def _scores(qb: Any, k: Any, m: Any, scale: float) -> Any:
    """``qb kᵀ·scale`` with the block's mask applied (arrays)."""
    s = (qb * scale) @ _swap(k)          # scaling q's block is cheaper than scaling the scores
    if m is None:
        return s
    if m.dtype == bool:
        return np.where(m, s, -np.inf)
    s += m
    return s


def _probs(s: Any, m: Any) -> Any:
    """The composed softmax of the masked scores; rows with nothing to attend to get P = 0 (so
    output and gradients 0, as PyTorch) instead of 0/0."""
    if m is None:
        return functional.softmax(s, axis=-1)
    live = (m if m.dtype == bool else m > -np.inf).any(axis=-1, keepdims=True)
    if m.dtype == bool:
        s = ops.where(s, -np.inf, cond=m | ~live)
    else:
        s = s + np.where(live, m, 0)
    p = functional.softmax(s, axis=-1)
    return p if live.all() else p * live


def _forward(q: np.ndarray, k: np.ndarray, v: np.ndarray, *, mask: Any, causal: bool,
             scale: float, needs: tuple = (True,) * 3) -> tuple[np.ndarray, dict]:
    n, cols = q.shape[-2], k.shape[-2]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2],
                                () if mask is None else mask.shape[:-2])
    out = np.empty(batch + (n, v.shape[-1]), np.result_type(q, k, v))
    lse = np.empty(batch + (n, 2), out.dtype)          # per row: m and log Σ exp(s − m)
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(0, n, BLOCK):
            s = _scores(q[..., i:i + BLOCK, :], k, _block_mask(mask, causal, i, min(BLOCK, n - i),
                                                                 cols), scale)
            m = s.max(axis=-1, keepdims=True)
            m[~np.isfinite(m)] = 0          # a fully masked row: no shift
            p = np.exp(np.subtract(s, m, out=s), out=s)
            total = p.sum(axis=-1, keepdims=True)
            total[total == 0] = np.inf      # ... and output 0, lse = inf: P = 0 in backward too
            out[..., i:i + BLOCK, :] = (p @ v) / total
            lse[..., i:i + BLOCK, :1] = m
            lse[..., i:i + BLOCK, 1:] = np.log(total)
    return out, {"lse": lse, "pending": None}


def _blocked_backward(g: np.ndarray, out: np.ndarray, q: np.ndarray, k: np.ndarray,
                      v: np.ndarray, lse: np.ndarray, *, mask: Any, causal: bool,
                      scale: float, needs: tuple = (True,) * 3) -> list:
    """dq, dk, dv in one pass over the blocks (``None`` for those not in ``needs``)."""
    n, cols = q.shape[-2], k.shape[-2]
    dq = np.empty(np.broadcast_shapes(out.shape[:-2], q.shape[:-2]) + q.shape[-2:], out.dtype)
    dk = dv = None
    with np.errstate(invalid="ignore"):
        for i in range(0, n, BLOCK):
            rows = slice(i, i + BLOCK)
            qb, gb = q[..., rows, :], g[..., rows, :]
            s = _scores(qb, k, _block_mask(mask, causal, i, min(BLOCK, n - i), cols), scale)
            s -= lse[..., rows, :1]
            p = np.exp(np.subtract(s, lse[..., rows, 1:], out=s), out=s)    # the block's P
            if needs[2]:
                dvb = _swap(p) @ gb
                dv = dvb if dv is None else dv.__iadd__(dvb)
            if not (needs[0] or needs[1]):
                continue
            ds = gb @ _swap(v)                          # dP
            # D = rowsum(dP ⊙ P) from the block's full rows (more accurate than FlashAttention's
            # rowsum(g ⊙ out) when P is nearly one-hot: dP − D then cancels exactly)
            ds -= np.einsum("...ij,...ij->...i", ds, p)[..., None]
            ds *= p                                     # dS = P ⊙ (dP − D)
            if needs[0]:
                dq[..., rows, :] = ds @ k
                dq[..., rows, :] *= scale
            if needs[1]:
                dkb = _swap(ds) @ (qb * scale)
                dk = dkb if dk is None else dk.__iadd__(dkb)
    return [dq if needs[0] else None, dk, dv]


def _recorded_backward(g: Any, out: Any, q: Any, k: Any, v: Any, *, mask: Any, causal: bool,
                       scale: float, **_: Any) -> list:
    """The composed rule with ops (for ``create_graph=True``): P stored whole."""
    p = _probs((q @ _swap(k)) * scale, _block_mask(mask, causal, 0, q.shape[-2], k.shape[-2]))
    dp = g @ _swap(v)
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True)) * scale
    return [ds @ k, _swap(ds) @ q, _swap(p) @ g]


def _vjp(i: int) -> Any:
    def vjp(g: Any, out: Any, q: Any, k: Any, v: Any, *, saved: dict, **params: Any) -> Any:
        if recording(g, q, k, v):
            return _recorded_backward(g, out, q, k, v, **params)[i]
        pending = saved["pending"]
        if pending is None or pending[0] is not g or pending[i + 1] is None:
            # the first of this backward's calls: every needed cotangent in one pass
            want = tuple(bool(n) or j == i for j, n in enumerate(params["needs"]))
            pending = saved["pending"] = [g, *_blocked_backward(
                g, out, q, k, v, saved["lse"], **{**params, "needs": want})]
        cot, pending[i + 1] = pending[i + 1], None
        if all(c is None for c in pending[1:]):
            saved["pending"] = None
        return cot
    return vjp


_attention = ops.Op(
    "scaled_dot_product_attention", _forward, (_vjp(0), _vjp(1), _vjp(2)), saves=True,
    rules=("dS k·scale, dS = P ⊙ (g vᵀ − rowsum(g vᵀ ⊙ P))", "dSᵀ q·scale", "Pᵀ g"),
    internal="reached as scaled_dot_product_attention(..., fused=True)",
    summary="Fused attention ``softmax(q kᵀ·scale + mask) v`` over blocks of query rows; keeps "
    "only the output and one log-sum-exp per row, recomputing P in backward.")


def _check(q: Any, k: Any, v: Any, mask: Any, causal: bool,
           scale: Any) -> tuple[Tensor, Tensor, Tensor, Any, float]:
    name = "scaled_dot_product_attention"
    q, k, v = (as_tensor(a, name, what=w, floating=True)
               for a, w in ((q, "query"), (k, "key"), (v, "value")))
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ValueError(f"{name}: query, key and value need at least 2 dimensions (..., L, E), "
                         f"got shapes {q.shape}, {k.shape}, {v.shape}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{name}: shapes do not fit: query {q.shape} (..., L, E), key {k.shape} "
                         f"(..., S, E), value {v.shape} (..., S, Ev)")
    try:
        np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"{name}: batch dimensions of query {q.shape}, key {k.shape} and value "
                         f"{v.shape} do not broadcast") from None
    if mask is not None:
        if causal:
            raise ValueError(f"{name}: pass either mask or causal=True, not both (as PyTorch)")
        mask = np.asarray(mask._data if isinstance(mask, Tensor) else mask)
        if mask.dtype.kind not in "bf":
            raise TypeError(f"{name}: mask must be boolean (True: attend) or float (added to the "
                            f"scores), got dtype {mask.dtype}")
        mask = mask.reshape((1,) * max(0, 2 - mask.ndim) + mask.shape)
        try:
            np.broadcast_shapes(mask.shape, q.shape[:-1] + (k.shape[-2],))
        except ValueError:
            raise ValueError(f"{name}: mask of shape {mask.shape} does not broadcast to the "
                             f"scores' shape {q.shape[:-1] + (k.shape[-2],)}") from None
        if mask.dtype != bool:
            mask = mask.astype(q.dtype)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1]) if q.shape[-1] else 1.0
    return q, k, v, mask, float(scale)


def scaled_dot_product_attention(q: Any, k: Any, v: Any, mask: Any = None, causal: bool = False,
                                 scale: float | None = None, *, fused: bool = True) -> Tensor:
    """``softmax(q kᵀ·scale + mask) v``, as PyTorch's ``F.scaled_dot_product_attention``.

    Parameters
    ----------
    q, k, v : ``(..., L, E)``, ``(..., S, E)``, ``(..., S, Ev)``; batch dimensions broadcast.
    mask : boolean (True: may attend) or float (added to the scores), broadcastable to
        ``(..., L, S)``; PyTorch's ``attn_mask``. A constant. A row with nothing to attend to
        gives output 0 and gradients 0 (as PyTorch), not NaN.
    causal : attend only to positions ``j ≤ i`` (PyTorch's ``is_causal``; not with ``mask``).
    scale : default ``1/√E``.
    fused : blocked, keeping only ``out`` and one log-sum-exp per row (memory linear in L);
        ``False``: composed from ``matmul``, the softmax and ``matmul``, keeping ``L × S``
        matrices for backward.

    Example
    -------
    >>> q = k = v = Tensor(np.eye(2))
    >>> scaled_dot_product_attention(q, k, v, scale=0.0)      # uniform weights: the mean row
    Tensor([[0.5, 0.5],
            [0.5, 0.5]], dtype=float64)
    """
    q, k, v, mask, scale = _check(q, k, v, mask, causal, scale)
    if fused:
        needs = (q.requires_grad, k.requires_grad, v.requires_grad)
        return _attention(q, k, v, mask=mask, causal=bool(causal), scale=scale, needs=needs)
    m = _block_mask(mask, bool(causal), 0, q.shape[-2], k.shape[-2])
    return _probs((q @ _swap(k)) * scale, m) @ v
