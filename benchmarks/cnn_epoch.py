"""One training epoch of the digits CNN (``nn.DigitsCNN``: two 3×3 convolutions with ReLU and 2×2
max pooling, dropout 0.3, a linear head; Adam, lr 2e-3, batch 64 over the 1,438 training images,
float32). ms per epoch. Every row starts from the same weights, sees the same batches and drops
the same units (each draws its dropout masks from a copy of the model's generator). Rows:

* ``autograd_lite`` — ``nn.DigitsCNN``, ``cross_entropy``, ``optim.Adam``;
* ``PyTorch`` (the reference) — the same layers, loss and optimizer;
* ``floor: hand NumPy`` — the same step written by hand in NHWC: im2col convolutions (the
  columns reused for the weight gradients, the input gradient as a convolution with the flipped
  kernel), pooling before the ReLU (they commute; the ReLU then runs on a quarter of the data),
  :func:`benchmarks.mlp_step.floor_step`'s in-place cross-entropy and
  :func:`benchmarks.train_epoch.adam_step`'s in-place Adam.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .common import Case, have
from .train_epoch import adam_step

BATCH = 64
LR = 2e-3


def _windows(xp: np.ndarray, k: int) -> np.ndarray:
    """(N·H'·W', k·k·C) columns of an NHWC array (stride 1)."""
    n, hp, wp, c = xp.shape
    s = xp.strides
    win = as_strided(xp, (n, hp - k + 1, wp - k + 1, k, k, c), (s[0], s[1], s[2], s[1], s[2],
                                                                 s[3]), writeable=False)
    return win.reshape(-1, k * k * c)



def _batches(n: int, seed: int = 0) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i:i + BATCH] for i in range(0, n, BATCH)]


def _model() -> tuple[object, list[np.ndarray], float]:
    """The model, copies of its initial parameters ``[W1, b1, W2, b2, Wh, bh]`` and its dropout
    probability."""
    from autograd_lite import nn

    model = nn.DigitsCNN(rng=0)
    f, h = model.features, model.head
    params = [np.array(p.data) for p in (f[0].weight, f[0].bias, f[3].weight, f[3].bias,
                                         h.weight, h.bias)]
    return model, params, f[-1].p


def _ours(X: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    import autograd_lite as al
    from autograd_lite import optim

    model, _, _ = _model()
    opt = optim.Adam(model.parameters(), lr=LR)
    batches = _batches(len(X))

    return _epoch(batches, lambda idx: al.cross_entropy(model(X[idx]), y[idx]), opt)


def _epoch(batches: list, loss_of: Callable[[Any], Any], opt: Any) -> Callable[[], float]:
    """One pass over ``batches``: ``loss_of(batch)``, zero_grad, backward, step (either
    library's optimizer); returns the summed loss."""
    def epoch() -> float:
        total = 0.0
        for idx in batches:
            loss = loss_of(idx)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        return total
    return epoch


def _torch(X: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    import torch

    ref, params, p = _model()
    rng = copy.deepcopy(ref.features[-1].rng)      # the same dropout masks as ours
    tnn = torch.nn
    features = tnn.Sequential(tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                              tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                              tnn.Flatten())
    head = tnn.Linear(256, 10)
    W1, b1, W2, b2, Wh, bh = params
    with torch.no_grad():
        for t, a in ((features[0].weight, W1), (features[0].bias, b1), (features[3].weight, W2),
                     (features[3].bias, b2), (head.weight, Wh.T), (head.bias, bh)):
            t.copy_(torch.from_numpy(np.ascontiguousarray(a)))
    opt = torch.optim.Adam([*features.parameters(), *head.parameters()], lr=LR)
    tX = torch.from_numpy(X.reshape(-1, 1, 8, 8))
    ty = torch.from_numpy(y)
    batches = [torch.from_numpy(b) for b in _batches(len(X))]
    ce = tnn.functional.cross_entropy

    def loss_of(idx: Any) -> Any:
        h = features(tX[idx])
        keep = rng.random(tuple(h.shape)) >= p
        h = h * torch.from_numpy((keep / (1.0 - p)).astype(np.float32))
        return ce(head(h), ty[idx])
    return _epoch(batches, loss_of, opt)


def _pad(a: np.ndarray) -> np.ndarray:
    """An NHWC array with one zero around each image."""
    n, h, w, c = a.shape
    out = np.zeros((n, h + 2, w + 2, c), dtype=a.dtype)
    out[:, 1:-1, 1:-1] = a
    return out


def _conv(a: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """3×3, padding 1 convolution of NHWC ``a``: the output and the columns."""
    n, h, wd, _ = a.shape
    cols = _windows(_pad(a), 3)
    z = cols @ w.transpose(2, 3, 1, 0).reshape(-1, w.shape[0])
    z += b
    return z.reshape(n, h, wd, -1), cols


def _pool_relu(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2×2 max pooling then ReLU (= ReLU then pooling): the output and the pooled maxima."""
    n, h, w, c = z.shape
    top = z.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))
    return np.maximum(top, 0), top


def _unpool_relu(g: np.ndarray, z: np.ndarray, top: np.ndarray) -> np.ndarray:
    """The gradient through ``_pool_relu``: to where the positive maxima were (ties among zeros
    get nothing: the ReLU's gradient is 0 there)."""
    n, h, w, c = z.shape
    g = g * (top > 0)
    at = z.reshape(n, h // 2, 2, w // 2, 2, c) == top[:, :, None, :, None, :]
    return (at * g[:, :, None, :, None, :]).reshape(n, h, w, c)


def floor_step(params: list[np.ndarray], xb: np.ndarray, yb: np.ndarray, mask: np.ndarray
               ) -> tuple[float, list[np.ndarray]]:
    """Loss and gradients of one batch by hand (NHWC), ``mask`` the scaled dropout mask."""
    W1, b1, W2, b2, Wh, bh = params
    n = xb.shape[0]
    rows = np.arange(n)
    z1, cols1 = _conv(xb.reshape(n, 8, 8, 1), W1, b1)
    a1, top1 = _pool_relu(z1)
    z2, cols2 = _conv(a1, W2, b2)
    a2, top2 = _pool_relu(z2)
    f = a2.transpose(0, 3, 1, 2).reshape(n, -1)                 # flattened as NCHW
    f *= mask
    Z = f @ Wh
    Z += bh
    Z -= Z.max(axis=1, keepdims=True)
    picked = Z[rows, yb]
    E = np.exp(Z, out=Z)
    s = E.sum(axis=1)
    loss = float(np.mean(np.log(s) - picked))
    E *= (1.0 / n / s)[:, None]
    E[rows, yb] -= 1.0 / n
    dWh, dbh = f.T @ E, E.sum(axis=0)
    df = E @ Wh.T
    df *= mask
    dz2 = _unpool_relu(df.reshape(n, -1, 2, 2).transpose(0, 2, 3, 1), z2, top2)
    g2 = dz2.reshape(-1, W2.shape[0])
    dW2 = (cols2.T @ g2).reshape(3, 3, W2.shape[1], W2.shape[0]).transpose(3, 2, 0, 1)
    wflip = W2[:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(-1, W2.shape[1])
    da1 = (_windows(_pad(dz2), 3) @ wflip).reshape(a1.shape)
    dz1 = _unpool_relu(da1, z1, top1)
    g1 = dz1.reshape(-1, W1.shape[0])
    dW1 = (cols1.T @ g1).reshape(3, 3, 1, W1.shape[0]).transpose(3, 2, 0, 1)
    return loss, [dW1, g1.sum(axis=0), dW2, g2.sum(axis=0), dWh, dbh]


def _floor(X: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    ref, params, p = _model()
    rng = copy.deepcopy(ref.features[-1].rng)
    m = [np.zeros_like(q) for q in params]
    v = [np.zeros_like(q) for q in params]
    batches = [(X[i], y[i]) for i in _batches(len(X))]
    t = [0]

    def epoch() -> float:
        total = 0.0
        for xb, yb in batches:
            keep = rng.random((len(xb), params[4].shape[0])) >= p
            loss, grads = floor_step(params, xb, yb, (keep / (1.0 - p)).astype(np.float32))
            t[0] += 1
            adam_step(params, grads, m, v, t[0], lr=LR)
            total += loss
        return total
    return epoch


def inputs() -> tuple[np.ndarray, np.ndarray]:
    """The digits' training images (float32 rows of 64) and labels."""
    from autograd_lite.data import load_digits
    d = load_digits()
    return d.X_train.astype(np.float32), d.y_train


def implementations(X: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], object]]:
    """One zero-argument epoch per implementation, each returning the epoch's summed loss."""
    fns = {"autograd_lite": _ours(X, y)}
    if have("torch"):
        fns["PyTorch"] = _torch(X, y)
    fns["floor: hand NumPy"] = _floor(X, y)
    return fns


def cases(quick: bool = False) -> Iterator[Case]:
    if quick:
        rng = np.random.default_rng(0)
        X, y = rng.standard_normal((2 * BATCH, 64)).astype(np.float32), rng.integers(0, 10, 128)
    else:
        X, y = inputs()
    steps = len(_batches(len(X)))
    yield Case("cnn_epoch", f"digits, {steps} steps", implementations(X, y), "autograd_lite",
               unit="ms", reference="PyTorch" if have("torch") else None,
               floor="floor: hand NumPy", warmup=0, max_rounds=7,
               notes={"autograd_lite": "Adam, float32"})
