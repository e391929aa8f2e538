"""One convolution step: ``Conv2d(16 → 32, 3×3, padding 1)`` forward + backward (weight and input
gradients) on a batch of 64 × 16 × 32 × 32 float32. ms per step. Rows:

* ``autograd_lite`` — ``al.conv2d`` + ``backward`` (the op table's VJPs, run apart: the
  forward and the weight gradient each copy the padded input's shifted rows, see
  ``autograd_lite/ops/conv_grid.py``; the input gradient as ``conv_transpose2d``);
* ``PyTorch`` (the reference) and MyGrad's ``conv_nd`` when importable (its input gradient is
  of the padded input: the interior is compared);
* ``floor: hand NumPy`` — the fastest plain NumPy step written here: a channel-major
  (C, N, H, W) padded copy, flattened; in chunks of 3 images, its k copies shifted by one
  column each (``X_j``, ``(C·k, 3·Hp·Wp)``) give tap (i, j)'s windows as ``X_j`` read i rows
  further on (a view), so the forward is k products ``W[:, :, i] @ X_j`` over the padded grid
  and the weight gradient k products ``G @ X_jᵀ`` (``G``: the chunk's dY on the padded grid,
  zeros in the margins); the input gradient as ``Wmatᵀ @ G`` added back into the windows
  (col2im), each of the k·k taps one shifted addition of the chunk's flattened images; every
  result written to its NCHW place chunk by chunk, every buffer chunk-sized and reused. One
  loop over the chunks: each chunk's copies and grid serve the forward and both gradients
  while in cache, made once (an autodiff step, running them apart, makes them twice). The
  same in three loops (``floor, unfused``, as the library runs it) measured as fast on a
  loaded machine (1 thread: 0.91–1.02× the fused; the fused chunk's working set outgrows the
  1 MB L2) and could not be measured with 2 threads there; the fused loop, doing strictly less
  work, stays the floor. Measured alternatives that lost (1 thread): im2col (the
  k·k window copies to ``Xcolᵀ (C·k·k, 3·H·W)``, one product each way, fused: kept as the
  ``floor, im2col`` row, 7–8 % slower: its column copy, three times as large, outweighs the
  13 % of products the grid's margins add); batch-sized ``G`` and col2im accumulator (page
  faults: ≈ 25 % slower input gradient); NHWC im2col (window copies of 16-float runs, the
  transposes to and from NCHW); the input gradient as a convolution of the padded output
  gradient with the flipped kernel (a 288-row column matrix to copy: ≈ 12 ms more); row-by-row
  col2im additions (≈ 7 ms more); the whole batch at once (40 MB temporaries, page faults,
  nothing in cache: ≈ 9 ms more); chunks of 4 images (≈ 8 ms more with im2col; 2 or 4 on the
  grid: no better); nine thin products over shifted slices with no copy at all (K = 16
  forward, N = 16 for the weight gradient: slower than k copies);
* ``floor, unfused`` — the floor's code in three loops (forward, input gradient, weight
  gradient), as an autodiff step runs it;
* ``floor, im2col`` — the previous floor (fused), described above;
* ``kernel: matmuls`` — im2col's three matrix products alone, on columns built beforehand
  (the fewest flops).

Goals (issue 17): within 3× PyTorch and 1.1× the hand-written floor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .common import Case, have

N, C, H, W, Co, K = 64, 16, 32, 32, 32, 3
DTYPE = np.float32


def _padded(a: np.ndarray, p: int) -> np.ndarray:
    """An NCHW batch as a channel-major (C, N, H, W) copy with ``p`` zeros around each image."""
    n, c, h, w = a.shape
    out = np.zeros((c, n, h + 2 * p, w + 2 * p), dtype=a.dtype)
    out[:, :, p:p + h, p:p + w] = a.transpose(1, 0, 2, 3)
    return out


def _cols(xp: np.ndarray, k: int) -> np.ndarray:
    """``(C·k·k, n·H·W)`` columns of a padded channel-major batch (stride 1): row-wise copies."""
    c, n, hp, wp = xp.shape
    s = xp.strides
    win = as_strided(xp, (c, k, k, n, hp - k + 1, wp - k + 1),
                     (s[0], s[2], s[3], s[1], s[2], s[3]), writeable=False)
    return win.reshape(c * k * k, -1)


def _floor(x: np.ndarray, w: np.ndarray, g: np.ndarray, fused: bool = True
           ) -> Callable[[], object]:
    """Forward + backward of a k×k, padding k//2, stride-1 convolution, by hand, over chunks of
    ``B`` images on the padded grid: each chunk's k shifted copies feed the forward's k products
    and the weight gradient's; dY on the chunk's grid serves the weight and input gradients
    (:class:`_Col2im`). ``fused``: one loop, each chunk's copies and grid used while in cache;
    else three loops as an autodiff step runs them (the copies and the grid made twice)."""
    o, c, k, _ = w.shape
    n, _, h, wd = x.shape
    p, B = k // 2, 3
    hp, wp = h + 2 * p, wd + 2 * p
    m, span = hp * wp, (B - 1) * hp * wp + (h + k - 1) * wp
    chunks = [(a, min(a + B, n)) for a in range(0, n, B)]

    def step() -> tuple:
        xp, back = _padded(x, p), _Col2im(w, x, B)
        wk = np.ascontiguousarray(w.transpose(2, 0, 1, 3)).reshape(k, o, c * k)   # row i
        xf, y = xp.reshape(c, -1), np.empty((n, o, h, wd), dtype=x.dtype)
        dw = np.zeros((k, o, c * k), dtype=x.dtype)
        rows, acc = np.empty((c, k, span), dtype=x.dtype), np.empty((2, o, B * m), dtype=x.dtype)

        def shifted(a: int, z: int) -> tuple[int, np.ndarray]:
            q = (z - a - 1) * m + (h - 1) * wp + wd            # up to the last output pixel
            for j in range(k):                                 # the images shifted by j
                rows[:, j, :q + (k - 1) * wp] = xf[:, a * m + j:a * m + j + q + (k - 1) * wp]
            return q, rows[:, :, :q + (k - 1) * wp].reshape(c * k, -1)

        def weight(a: int, z: int, q: int, r: np.ndarray) -> None:
            grid = back.grid(g, a, z)
            for i in range(k):                                 # kernel row i: i rows further
                dw[i] += grid[:, :q] @ r[:, i * wp:i * wp + q].T

        for a, z in chunks:
            q, r = shifted(a, z)
            for i in range(k):
                np.matmul(wk[i], r[:, i * wp:i * wp + q], out=acc[min(i, 1), :, :q])
                if i:
                    acc[0, :, :q] += acc[1, :, :q]
            done = acc[0, :, :(z - a) * m].reshape(o, z - a, hp, wp)
            y[a:z] = done[:, :, :h, :wd].transpose(1, 0, 2, 3)
            if fused:
                weight(a, z, q, r)
                back.add(a, z)
        for a, z in () if fused else chunks:
            back.grid(g, a, z)
            back.add(a, z)
        for a, z in () if fused else chunks:
            weight(a, z, *shifted(a, z))
        return y, dw.reshape(k, o, c, k).transpose(1, 2, 0, 3), back.dx
    return step


class _Col2im:
    """The input gradient chunk by chunk: dY on a chunk-sized padded grid (zeros in the
    margins), ``Wmatᵀ @ G`` into a reused buffer, each of the k·k taps one shifted addition of
    the chunk's flattened images (the margins' zero columns spill past them), the interior
    written to its NCHW place."""

    def __init__(self, w: np.ndarray, x: np.ndarray, B: int) -> None:
        o, c, k, _ = w.shape
        n, _, h, wd = x.shape
        self.k, self.wp, self.m = k, wd + k - 1, (h + k - 1) * (wd + k - 1)
        self.wmat, self.dx = w.reshape(o, -1), np.empty_like(x)
        self.G = np.zeros((o, B, h + k - 1, wd + k - 1), dtype=x.dtype)
        self.cols = np.empty((c * k * k, B * self.m), dtype=x.dtype)
        self.flat = np.zeros((c, B * self.m + (k - 1) * (self.wp + 1)), dtype=x.dtype)

    def grid(self, g: np.ndarray, a: int, z: int) -> np.ndarray:
        h, wd = g.shape[2:]
        self.G[:, :z - a, :h, :wd] = g[a:z].transpose(1, 0, 2, 3)
        return self.G.reshape(self.G.shape[0], -1)

    def add(self, a: int, z: int) -> None:
        k, wp, M, (c, h, wd) = self.k, self.wp, (z - a) * self.m, self.dx.shape[1:]
        np.matmul(self.wmat.T, self.G.reshape(self.G.shape[0], -1)[:, :M], out=self.cols[:, :M])
        taps = self.cols.reshape(c, k * k, -1)
        self.flat[:, :M] = taps[:, 0, :M]
        for tap in range(1, k * k):
            shift = tap // k * wp + tap % k
            self.flat[:, shift:shift + M] += taps[:, tap, :M]
        done = self.flat[:, :M].reshape(c, z - a, h + k - 1, wp)
        self.dx[a:z] = done[:, :, k // 2:k // 2 + h, k // 2:k // 2 + wd].transpose(1, 0, 2, 3)


def _grid(g: np.ndarray, k: int) -> np.ndarray:
    """``g`` channel-major on the padded grid (zeros in the right and bottom margins)."""
    n, o, h, wd = g.shape
    grid = np.zeros((o, n, h + k - 1, wd + k - 1), dtype=g.dtype)
    grid[:, :, :h, :wd] = g.transpose(1, 0, 2, 3)
    return grid.reshape(o, -1)


def _floor_im2col(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> Callable[[], object]:
    """The same step with im2col: in chunks of ``B`` images, the windows copied row-wise to
    ``Xcolᵀ (C·k·k, B·H·W)``, one product forward and ``dYmat @ Xcol`` for the weight gradient
    while the chunk's columns are in cache; the input gradient as in :func:`_floor`."""
    o, c, k, _ = w.shape
    n, _, h, wd = x.shape
    p, B = k // 2, 3                                           # 3 images: 1.8 MB of columns

    def step() -> tuple:
        xp, wmat = _padded(x, p), w.reshape(o, -1)             # the weight as PyTorch stores it
        gmat = np.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(o, n, h * wd)
        y = np.empty((n, o, h, wd), dtype=x.dtype)
        dw = np.zeros((o, c * k * k), dtype=x.dtype)
        back = _Col2im(w, x, B)
        for a in range(0, n, B):
            cols = _cols(xp[:, a:a + B], k)                    # (C·k·k, B·H·W)
            y[a:a + B] = (wmat @ cols).reshape(o, -1, h, wd).transpose(1, 0, 2, 3)
            dw += gmat[:, a:a + B].reshape(o, -1) @ cols.T
            back.grid(g, a, min(a + B, n))
            back.add(a, min(a + B, n))
        return y, dw.reshape(w.shape), back.dx
    return step


def _kernel(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> Callable[[], object]:
    o, c, k, _ = w.shape
    n, _, h, wd = g.shape
    cols = _cols(_padded(x, k // 2), k)
    gmat = np.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(o, -1)
    grid, wmat = _grid(g, k), w.reshape(o, -1)

    def matmuls() -> object:
        wmat @ cols, gmat @ cols.T
        return wmat.T @ grid
    return matmuls


def _ours(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> Callable[[], object]:
    import autograd_lite as al

    def step() -> tuple:
        tx = al.Tensor(x, requires_grad=True)
        tw = al.Tensor(w, requires_grad=True)
        y = al.conv2d(tx, tw, padding=1)
        y.backward(g)
        return y.data, tw.grad.data, tx.grad.data
    return step


def _torch(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> Callable[[], object]:
    import torch

    tx0, tw0, tg = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(g)

    def step() -> tuple:
        tx = tx0.detach().requires_grad_()
        tw = tw0.detach().requires_grad_()
        y = torch.nn.functional.conv2d(tx, tw, padding=1)
        y.backward(tg)
        return y.detach().numpy(), tw.grad.numpy(), tx.grad.numpy()
    return step


def _mygrad(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> Callable[[], object]:
    import mygrad as mg
    from mygrad.nnet.layers import conv_nd

    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))

    def step() -> tuple:
        tx, tw = mg.tensor(xp), mg.tensor(w)
        y = conv_nd(tx, tw, stride=1)
        y.backward(g)
        return y.data, tw.grad, tx.grad[:, :, 1:-1, 1:-1]   # the padded input's interior
    return step


def inputs(seed: int = 0, batch: int = N) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The benchmark's input batch, weight and upstream gradient (float32)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, C, H, W)).astype(DTYPE)
    w = (rng.standard_normal((Co, C, K, K)) * 0.1).astype(DTYPE)
    g = rng.standard_normal((batch, Co, H, W)).astype(DTYPE)
    return x, w, g


def implementations(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> dict[str, Callable]:
    """One zero-argument step per implementation; each but the kernel returns ``(y, dw, dx)``."""
    fns = {"autograd_lite": _ours(x, w, g)}
    if have("torch"):
        fns["PyTorch"] = _torch(x, w, g)
    if have("mygrad"):
        fns["MyGrad conv_nd"] = _mygrad(x, w, g)
    fns["floor: hand NumPy"] = _floor(x, w, g)
    fns["floor, unfused"] = _floor(x, w, g, fused=False)
    fns["floor, im2col"] = _floor_im2col(x, w, g)
    fns["kernel: matmuls"] = _kernel(x, w, g)
    return fns


def cases(quick: bool = False) -> Iterator[Case]:
    batch = 2 if quick else N
    yield Case("conv_step", f"batch {batch}", implementations(*inputs(batch=batch)),
               "autograd_lite", unit="ms", reference="PyTorch" if have("torch") else None,
               floor="floor: hand NumPy", kernel="kernel: matmuls",
               goals={"reference": 3.0, "floor": 1.1},
               notes={"autograd_lite": "fwd + bwd (dW, dX)"})
