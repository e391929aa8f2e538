"""One training step's gradients for an MLP 784-256-128-10 (ReLU), batch 128, float32.

Forward, softmax cross-entropy (mean over the batch) and backward to every weight and bias: ms per
step. The reference is hand-written NumPy backprop of the same network (stable softmax,
``dZ = (P − Y)/N``, ``dW = Aᵀ dZ``, ``db = Σ dZ``, ``dA = dZ Wᵀ``, ReLU mask; no gradient for the
input). autograd_lite runs twice: with the loss composed from primitives (``log_softmax`` then
indexing and ``mean``) and, once ``functional.cross_entropy`` exists, with the fused
cross-entropy node. PyTorch and HIPS ``autograd`` are timed too when importable. All are timed
interleaved in one process; only the reference row has no ratio.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import numpy as np

from .common import Row, have, interleaved_times, paired_ratios, rows_with_ratios

SIZES = (784, 256, 128, 10)
BATCH = 128
DTYPE = np.float32


def problem(seed: int = 0) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Weights ``[W1, b1, W2, b2, W3, b3]`` (He init), a batch ``X`` and integer labels ``y``."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        params.append((rng.standard_normal((n_in, n_out)) * np.sqrt(2 / n_in)).astype(DTYPE))
        params.append(np.zeros(n_out, dtype=DTYPE))
    X = rng.standard_normal((BATCH, SIZES[0])).astype(DTYPE)
    y = rng.integers(0, SIZES[-1], size=BATCH)
    return params, X, y


def numpy_step(params: list[np.ndarray], X: np.ndarray, Y: np.ndarray
               ) -> tuple[float, list[np.ndarray]]:
    """Loss and gradients by hand-written backprop (``Y`` one-hot)."""
    W1, b1, W2, b2, W3, b3 = params
    n = X.shape[0]
    Z1 = X @ W1 + b1
    A1 = np.maximum(Z1, 0)
    Z2 = A1 @ W2 + b2
    A2 = np.maximum(Z2, 0)
    Z3 = A2 @ W3 + b3
    S = Z3 - Z3.max(axis=1, keepdims=True)           # stable softmax
    E = np.exp(S)
    sumE = E.sum(axis=1, keepdims=True)
    P = E / sumE
    loss = float(np.mean(np.log(sumE[:, 0]) - (S * Y).sum(axis=1)))
    dZ3 = (P - Y) / n
    dW3 = A2.T @ dZ3
    db3 = dZ3.sum(axis=0)
    dZ2 = (dZ3 @ W3.T) * (Z2 > 0)
    dW2 = A1.T @ dZ2
    db2 = dZ2.sum(axis=0)
    dZ1 = (dZ2 @ W2.T) * (Z1 > 0)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0)
    return loss, [dW1, db1, dW2, db2, dW3, db3]


def _numpy(params: list[np.ndarray], X: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    Y = np.eye(SIZES[-1], dtype=DTYPE)[y]
    return lambda: numpy_step(params, X, Y)


def _autograd_lite(params: list[np.ndarray], X: np.ndarray, y: np.ndarray,
                   fused: bool) -> Callable[[], object]:
    import autograd_lite as al

    ps = [al.Tensor(p, requires_grad=True) for p in params]
    W1, b1, W2, b2, W3, b3 = ps
    Xt = al.Tensor(X)
    rows = np.arange(X.shape[0])

    def step() -> tuple[float, list[np.ndarray]]:
        for p in ps:
            p.grad = None
        h = (Xt @ W1 + b1).relu()
        h = (h @ W2 + b2).relu()
        z = h @ W3 + b3
        if fused:
            loss = al.functional.cross_entropy(z, y, fused=True)
        else:
            loss = -(al.log_softmax(z)[rows, y]).mean()
        loss.backward()
        return loss.item(), [p.grad.data for p in ps]
    return step


def _torch(params: list[np.ndarray], X: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    import torch
    import torch.nn.functional as F

    ps = [torch.tensor(p, requires_grad=True) for p in params]
    W1, b1, W2, b2, W3, b3 = ps
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step() -> tuple[float, list[np.ndarray]]:
        for p in ps:
            p.grad = None
        h = torch.relu(Xt @ W1 + b1)
        h = torch.relu(h @ W2 + b2)
        loss = F.cross_entropy(h @ W3 + b3, yt)
        loss.backward()
        return loss.item(), [p.grad.numpy() for p in ps]
    return step


def _hips(params: list[np.ndarray], X: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    import autograd
    import autograd.numpy as anp

    rows = np.arange(X.shape[0])

    def loss(ps: list) -> object:
        W1, b1, W2, b2, W3, b3 = ps
        h = anp.maximum(anp.dot(X, W1) + b1, 0)
        h = anp.maximum(anp.dot(h, W2) + b2, 0)
        z = anp.dot(h, W3) + b3
        z = z - anp.max(z, axis=1, keepdims=True)   # stable (autograd.scipy needs SciPy)
        return -anp.mean(z[rows, y] - anp.log(anp.sum(anp.exp(z), axis=1)))

    vg = autograd.value_and_grad(loss)
    return lambda: vg(params)


def implementations(params: list[np.ndarray], X: np.ndarray, y: np.ndarray
                    ) -> dict[str, Callable[[], object]]:
    """One zero-argument step per available implementation, hand NumPy (the reference) first.

    Each step returns ``(loss, [gradient per parameter])`` (HIPS: the same, as a tuple).
    """
    import autograd_lite as al

    fns = {"hand NumPy": _numpy(params, X, y)}
    if hasattr(al.functional, "cross_entropy"):
        fns["autograd_lite (fused loss)"] = _autograd_lite(params, X, y, fused=True)
    fns["autograd_lite (composed loss)"] = _autograd_lite(params, X, y, fused=False)
    if have("torch"):
        fns["PyTorch"] = _torch(params, X, y)
    if have("autograd"):
        fns["HIPS autograd"] = _hips(params, X, y)
    return fns


def run(repeat: int | None = None) -> list[Row]:
    """Medians in ms per step, with ratios to hand-written NumPy."""
    fns = implementations(*problem())
    times = interleaved_times(fns, repeat or 200)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return rows_with_ratios("mlp_step", medians, "hand NumPy", "ms/step", 1e3,
                            {"PyTorch": "F.cross_entropy"}, paired_ratios(times, "hand NumPy"))
