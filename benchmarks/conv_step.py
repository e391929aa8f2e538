"""One convolution step: ``Conv2d(16 → 32, 3×3, padding 1)`` forward + backward (weight and input
gradients) on a batch of 64 × 16 × 32 × 32 float32.

Timed interleaved in one process (medians, ms per step; ratios paired per round):

* ``hand NumPy`` — the reference: the fastest plain NumPy step written here (NHWC im2col, one
  product forward, ``Xcolᵀ @ dYmat`` reusing the forward's columns for the weight gradient, the
  input gradient as a convolution of the padded output gradient with the flipped kernel);
* ``autograd_lite`` — ``al.conv2d`` + ``backward`` (the op table's VJPs: the forward's columns
  reused for the weight gradient, the input gradient as ``conv_transpose2d``);
* ``PyTorch`` (same threads) and MyGrad's ``conv_nd`` when importable.

Goals (issue 17): within 3× PyTorch, ≥ 4× faster than MyGrad, within 1.1× hand NumPy.
The workload functions (:func:`implementations`) take plain arrays, so another runner can reuse
them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .common import Row, have, interleaved_times, paired_ratios, rows_with_ratios

N, C, H, W, Co, K = 64, 16, 32, 32, 32, 3
DTYPE = np.float32


def _windows(xp: np.ndarray, k: int) -> np.ndarray:
    """(N, H', W', k·k·C) columns of an NHWC array (stride 1)."""
    n, hp, wp, c = xp.shape
    s = xp.strides
    win = as_strided(xp, (n, hp - k + 1, wp - k + 1, k, k, c), (s[0], s[1], s[2], s[1], s[2],
                                                                 s[3]), writeable=False)
    return win.reshape(-1, k * k * c)


def _hand_numpy(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> Callable[[], object]:
    """Forward + backward of a 3×3, padding-1, stride-1 convolution, by hand."""
    o, c, k, _ = w.shape
    n, _, h, wd = x.shape
    p = k // 2

    def step() -> tuple:
        xp = np.zeros((n, h + 2 * p, wd + 2 * p, c), dtype=x.dtype)
        xp[:, p:p + h, p:p + wd] = x.transpose(0, 2, 3, 1)
        cols = _windows(xp, k)                                  # (N·H·W, k·k·C)
        wmat = w.transpose(2, 3, 1, 0).reshape(-1, o)           # (k·k·C, Co)
        y = (cols @ wmat).reshape(n, h, wd, o).transpose(0, 3, 1, 2)
        gp = np.zeros((n, h + 2 * p, wd + 2 * p, o), dtype=g.dtype)
        gp[:, p:p + h, p:p + wd] = g.transpose(0, 2, 3, 1)
        gmat = gp[:, p:p + h, p:p + wd].reshape(-1, o)         # (N·H·W, Co)
        dw = (cols.T @ gmat).reshape(k, k, c, o).transpose(3, 2, 0, 1)
        wflip = w[:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(-1, c)   # (k·k·Co, C)
        dx = (_windows(gp, k) @ wflip).reshape(n, h, wd, c).transpose(0, 3, 1, 2)
        return np.ascontiguousarray(y), dw, np.ascontiguousarray(dx)
    return step


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
        return y.detach(), tw.grad, tx.grad
    return step


def _mygrad(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> Callable[[], object]:
    import mygrad as mg
    from mygrad.nnet.layers import conv_nd

    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))

    def step() -> tuple:
        tx, tw = mg.tensor(xp), mg.tensor(w)
        y = conv_nd(tx, tw, stride=1)
        y.backward(g)
        return y.data, tw.grad, tx.grad
    return step


def inputs(seed: int = 0, batch: int = N) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The benchmark's input batch, weight and upstream gradient (float32)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, C, H, W)).astype(DTYPE)
    w = (rng.standard_normal((Co, C, K, K)) * 0.1).astype(DTYPE)
    g = rng.standard_normal((batch, Co, H, W)).astype(DTYPE)
    return x, w, g


def implementations(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> dict[str, Callable]:
    fns = {"hand NumPy": _hand_numpy(x, w, g), "autograd_lite": _ours(x, w, g)}
    if have("torch"):
        fns["PyTorch"] = _torch(x, w, g)
    if have("mygrad"):
        fns["MyGrad conv_nd"] = _mygrad(x, w, g)
    return fns


def check(fns: dict[str, Callable]) -> None:
    """Every implementation computes the same step (so the timing compares like with like)."""
    ref = [np.asarray(a, dtype=np.float64) for a in fns["hand NumPy"]()]
    for name, f in fns.items():
        if name.startswith("MyGrad"):
            continue   # its input gradient is of the padded input
        for a, b in zip(ref, f()):
            np.testing.assert_allclose(np.asarray(b, dtype=np.float64), a, rtol=1e-3, atol=1e-2,
                                       err_msg=name)


def run(repeat: int | None = None) -> list[Row]:
    """Medians (ms per forward + backward) vs hand NumPy, ratios paired per round."""
    fns = implementations(*inputs())
    check(fns)
    times = interleaved_times(fns, repeat or 15)
    ratios = paired_ratios(times, "hand NumPy")
    medians = {k: float(np.median(v)) for k, v in times.items()}
    notes = {k: "fwd + bwd (dW, dX)" for k in fns}
    if "PyTorch" in medians:
        vs = {k: f"{ratios[k] / ratios['PyTorch']:.2f}× PyTorch" for k in fns if k != "PyTorch"}
        notes.update({k: f"{notes[k]}; {v}" for k, v in vs.items()})
    notes["autograd_lite"] += " (goal ≤ 3× PyTorch, ≤ 1.1× hand)"
    return rows_with_ratios("conv_step", medians, "hand NumPy", "ms", 1e3, notes, ratios)


if __name__ == "__main__":
    from .common import format_table
    print(format_table(run()))
