"""Stride-1 convolution kernels on the padded grid (used by :mod:`autograd_lite.ops.conv`).

With the padded channel-major input ``xp (C, N, Hp, Wp)`` flattened to ``(C, N·Hp·Wp)``, the
window of output pixel ``(n, i, j)`` at kernel tap ``(k, l)`` starts at flat position
``n·Hp·Wp + (i + k·dh)·Wp + j + l·dw``: a tap is a *shift* of the flattened images. So instead of
the ``kH·kW`` shifted copies of im2col, ``kW`` copies ``X_l`` (the images shifted by ``l·dw``)
serve every kernel row: row ``k`` reads them ``k·dh·Wp`` further on, a view. Products run over
the padded grid's positions (the outputs in the right and bottom margins are computed and
dropped, or multiplied by the zeros of ``g`` placed on that grid), which costs
``Hp·Wp / (H'·W')`` times the im2col product's arithmetic for a ``kH``-times smaller copy —
``conv.py`` takes this path when the margins are thin (``GRID_SLACK``).

* forward: ``Y = Σ_k W[:, :, k] @ X_l`` read at row ``k`` (``kH`` products, ``C·kW`` deep);
* weight gradient: ``dW[:, :, k] = G @ X_lᵀ`` read at row ``k``, ``G`` the chunk's ``g`` on the
  padded grid.

Both run chunk by chunk of the batch (the chunks given by the caller), reusing their buffers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np


def _shifted(xp: np.ndarray, ksize: tuple, dilation: tuple, groups: int, out_hw: tuple,
             chunks: list, dtype: Any) -> Iterator[tuple[int, int, int, np.ndarray]]:
    """For each chunk ``(a, z)``: ``a``, ``z``, the number ``q`` of grid positions up to its
    last output pixel, and its ``kW`` shifted copies as ``(groups, C/groups·kW, q + (kH-1)·dh·Wp)``
    (one buffer, refilled)."""
    C, _, Hp, Wp = xp.shape
    (kh, kw), (dh, dw), (Ho, Wo), m = ksize, dilation, out_hw, Hp * Wp
    flat, B = xp.reshape(C, -1), chunks[0][1]
    buf = np.empty((C, kw, (B - 1) * m + Ho * Wp + (kh - 1) * dh * Wp), dtype=dtype)
    for a, z in chunks:
        q = (z - a - 1) * m + (Ho - 1) * Wp + Wo
        qx, s = q + (kh - 1) * dh * Wp, a * m
        for j in range(kw):
            buf[:, j, :qx] = flat[:, s + j * dw:s + j * dw + qx]
        yield a, z, q, buf[:, :, :qx].reshape(groups, -1, qx)


def conv_rows(xp: np.ndarray, w: np.ndarray, dilation: tuple, groups: int, out_hw: tuple,
              chunks: list, dtype: Any) -> np.ndarray:
    """The stride-1 convolution ``(N, C_out, H', W')`` of the padded channel-major ``xp``."""
    C, N, Hp, Wp = xp.shape
    Co, cg, kh, kw = w.shape
    (Ho, Wo), step = out_hw, dilation[0] * Wp
    wk = w.reshape(groups, Co // groups, cg, kh, kw).transpose(3, 0, 1, 2, 4).reshape(
        kh, groups, Co // groups, cg * kw)                     # row k: (groups, og, cg·kW)
    y = np.empty((N, Co, Ho, Wo), dtype=dtype)
    acc = np.empty((2, groups, Co // groups, chunks[0][1] * Hp * Wp), dtype=dtype)
    for a, z, q, rows in _shifted(xp, (kh, kw), dilation, groups, out_hw, chunks, xp.dtype):
        for k in range(kh):
            np.matmul(wk[k], rows[:, :, k * step:k * step + q], out=acc[min(k, 1), :, :, :q])
            if k:
                acc[0, :, :, :q] += acc[1, :, :, :q]
        grid = acc[0].reshape(Co, -1)[:, :(z - a) * Hp * Wp].reshape(Co, z - a, Hp, Wp)
        y[a:z] = grid[:, :, :Ho, :Wo].transpose(1, 0, 2, 3)
    return y


def weight_rows(xp: np.ndarray, g: np.ndarray, ksize: tuple, dilation: tuple, groups: int,
                chunks: list, dtype: Any) -> np.ndarray:
    """The stride-1 weight gradient ``(C_out, C/groups, kH, kW)`` of the padded channel-major
    ``xp`` and the output gradient ``g (N, C_out, H', W')``."""
    C, N, Hp, Wp = xp.shape
    _, Co, Ho, Wo = g.shape
    (kh, kw), step = ksize, dilation[0] * Wp
    og = Co // groups
    grid = np.zeros((Co, chunks[0][1], Hp, Wp), dtype=dtype)   # the chunk's g; the zeros stay
    acc = np.zeros((kh, groups, og, C // groups * kw), dtype=dtype)
    for a, z, q, rows in _shifted(xp, ksize, dilation, groups, (Ho, Wo), chunks, dtype):
        grid[:, :z - a, :Ho, :Wo] = g[a:z].transpose(1, 0, 2, 3)
        G = grid.reshape(groups, og, -1)[:, :, :q]
        for k in range(kh):
            acc[k] += np.matmul(G, rows[:, :, k * step:k * step + q].transpose(0, 2, 1))
    return np.ascontiguousarray(acc.reshape(kh, Co, C // groups, kw).transpose(1, 2, 0, 3))


def transpose_rows(g: np.ndarray, w: np.ndarray, pads: tuple, dilation: tuple, groups: int,
                   out_hw: tuple, chunks: list, dtype: Any) -> np.ndarray:
    """The stride-1 transposed convolution ``(N, C, H, W)`` of ``g (N, C_out, H', W')``: per
    chunk, ``g`` on the padded grid, the columns ``Wmatᵀ @ G`` and each kernel tap one shifted
    addition of the chunk's flattened images (col2im). A tap's shifted addition stays inside
    its image but for the grid's margins, whose columns are zeros: each chunk is complete on
    its own, so its buffers are reused."""
    N, Co, Hg, Wg = g.shape
    _, cg, kh, kw = w.shape
    (t, b, left, r), (H, W), (dh, dw) = pads, out_hw, dilation
    C, og, Hp, Wp = groups * cg, Co // groups, t + H + max(b, 0), left + W + max(r, 0)
    m, B = Hp * Wp, chunks[0][1]
    wmat = w.reshape(groups, og, cg * kh * kw).transpose(0, 2, 1)
    grid = np.zeros((Co, B, Hp, Wp), dtype=dtype)              # the chunk's g; the zeros stay
    cols = np.empty((groups, cg * kh * kw, B * m), dtype=dtype)
    # zeros: the margins' taps add (zeros) past the chunk, never into uninitialised memory
    flat = np.zeros((C, B * m + (kh - 1) * dh * Wp + (kw - 1) * dw), dtype=dtype)
    dx = np.empty((N, C, H, W), dtype=dtype)
    for a, z in chunks:
        M = (z - a) * m
        grid[:, :z - a, :Hg, :Wg] = g[a:z].transpose(1, 0, 2, 3)
        np.matmul(wmat, grid.reshape(groups, og, -1)[:, :, :M], out=cols[:, :, :M])
        taps = cols.reshape(C, kh * kw, -1)
        flat[:, :M] = taps[:, 0, :M]
        for tap in range(1, kh * kw):
            shift = tap // kw * dh * Wp + tap % kw * dw
            flat[:, shift:shift + M] += taps[:, tap, :M]
        images = flat[:, :M].reshape(C, z - a, Hp, Wp)
        dx[a:z] = images[:, :, t:t + H, left:left + W].transpose(1, 0, 2, 3)
    return dx
