"""One convolution step: ``Conv2d(16 → 32, 3×3, padding 1)`` forward + backward (weight and input
gradients) on a batch of 64 × 16 × 32 × 32 float32. ms per step. Rows:

* ``autograd_lite`` — ``al.conv2d`` + ``backward`` (the op table's VJPs: the forward's columns
  reused for the weight gradient, the input gradient as ``conv_transpose2d``);
* ``PyTorch`` (the reference) and MyGrad's ``conv_nd`` when importable (its input gradient is
  of the padded input: the interior is compared);
* ``floor: hand NumPy`` — the fastest plain NumPy step written here: NHWC im2col, one product
  forward, ``Xcolᵀ @ dYmat`` reusing the forward's columns for the weight gradient, the input
  gradient as a convolution of the padded output gradient with the flipped kernel;
* ``kernel: matmuls`` — the floor's three matrix products alone, on columns built beforehand.

Goals (issue 17): within 3× PyTorch and 1.1× the hand-written floor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .common import Case, have

N, C, H, W, Co, K = 64, 16, 32, 32, 32, 3
DTYPE = np.float32


def _windows(xp: np.ndarray, k: int) -> np.ndarray:
    """(N·H'·W', k·k·C) columns of an NHWC array (stride 1)."""
    n, hp, wp, c = xp.shape
    s = xp.strides
    win = as_strided(xp, (n, hp - k + 1, wp - k + 1, k, k, c), (s[0], s[1], s[2], s[1], s[2],
                                                                 s[3]), writeable=False)
    return win.reshape(-1, k * k * c)


def _padded_nhwc(a: np.ndarray, p: int) -> np.ndarray:
    """An NCHW array as NHWC with ``p`` zeros around each image."""
    n, c, h, w = a.shape
    out = np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=a.dtype)
    out[:, p:p + h, p:p + w] = a.transpose(0, 2, 3, 1)
    return out


def _floor(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> Callable[[], object]:
    """Forward + backward of a 3×3, padding-1, stride-1 convolution, by hand."""
    o, c, k, _ = w.shape
    n, _, h, wd = x.shape
    p = k // 2

    def step() -> tuple:
        cols = _windows(_padded_nhwc(x, p), k)                 # (N·H·W, k·k·C)
        wmat = w.transpose(2, 3, 1, 0).reshape(-1, o)          # (k·k·C, Co)
        y = (cols @ wmat).reshape(n, h, wd, o).transpose(0, 3, 1, 2)
        gp = _padded_nhwc(g, p)
        gmat = gp[:, p:p + h, p:p + wd].reshape(-1, o)         # (N·H·W, Co)
        dw = (cols.T @ gmat).reshape(k, k, c, o).transpose(3, 2, 0, 1)
        wflip = w[:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(-1, c)   # (k·k·Co, C)
        dx = (_windows(gp, k) @ wflip).reshape(n, h, wd, c).transpose(0, 3, 1, 2)
        return np.ascontiguousarray(y), dw, np.ascontiguousarray(dx)
    return step


def _kernel(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> Callable[[], object]:
    o, c, k, _ = w.shape
    cols = np.ascontiguousarray(_windows(_padded_nhwc(x, 1), k))
    gcols = np.ascontiguousarray(_windows(_padded_nhwc(g, 1), k))
    gmat = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(-1, o)
    wmat = np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(-1, o))
    wflip = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(-1, c))

    def matmuls() -> object:
        cols @ wmat, cols.T @ gmat
        return gcols @ wflip
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
    fns["kernel: matmuls"] = _kernel(x, w, g)
    return fns


def cases(quick: bool = False) -> Iterator[Case]:
    batch = 2 if quick else N
    yield Case("conv_step", f"batch {batch}", implementations(*inputs(batch=batch)),
               "autograd_lite", unit="ms", reference="PyTorch" if have("torch") else None,
               floor="floor: hand NumPy", kernel="kernel: matmuls",
               goals={"reference": 3.0, "floor": 1.1},
               notes={"autograd_lite": "fwd + bwd (dW, dX)"})
