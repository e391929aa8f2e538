"""One training epoch on the 8×8 digits: MLP 64-128-128-10 (ReLU), batch 64, Adam, float32.

An epoch is 23 steps over the 1,438 training images (shuffled once, the last batch partial), each
step forward + fused cross-entropy + backward + Adam update. Rows (ms per epoch), all starting
from the same weights on the same batches:

* ``autograd_lite`` — ``nn.MLP``, ``functional.cross_entropy``, ``optim.Adam``;
* ``PyTorch`` (the reference) — the same model, loss and optimizer;
* ``floor: hand NumPy`` — :func:`benchmarks.mlp_step.floor_step`'s in-place backprop (adapted to
  two hidden layers of this size) and an in-place Adam update (PyTorch's rule);
* ``kernel: matmuls`` — the epoch's matrix products alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from . import mlp_step
from .common import Case, have

SIZES = [64, 128, 128, 10]
BATCH = 64
LR = 1e-3
BETAS, EPS = (0.9, 0.999), 1e-8


def _batches(n: int) -> list[np.ndarray]:
    order = np.random.default_rng(0).permutation(n)
    return [order[i:i + BATCH] for i in range(0, n, BATCH)]


def _autograd_lite(X: np.ndarray, y: np.ndarray, state: dict) -> Callable[[], object]:
    from autograd_lite import functional, nn, optim

    model = nn.MLP(SIZES, rng=0)
    model.load_state_dict(state)
    opt = optim.Adam(model.parameters(), lr=LR)
    batches = [(X[i], y[i]) for i in _batches(len(X))]

    def epoch() -> float:
        for xb, yb in batches:
            loss = functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss.item()
    return epoch


def _torch(X: np.ndarray, y: np.ndarray, state: dict) -> Callable[[], object]:
    import torch

    layers: list = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        if i:
            layers.append(torch.nn.ReLU())
        lin = torch.nn.Linear(a, b)
        with torch.no_grad():      # same initial weights (ours are stored transposed)
            lin.weight.copy_(torch.from_numpy(state[f"layers.{2 * i}.weight"].T.copy()))
            lin.bias.copy_(torch.from_numpy(state[f"layers.{2 * i}.bias"]))
        layers.append(lin)
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    batches = [(torch.from_numpy(X[i]), torch.from_numpy(y[i])) for i in _batches(len(X))]
    ce = torch.nn.functional.cross_entropy

    def epoch() -> float:
        for xb, yb in batches:
            loss = ce(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss.item()
    return epoch


def _params(state: dict) -> list[np.ndarray]:
    return [state[f"layers.{2 * i}.{k}"].copy() for i in range(len(SIZES) - 1)
            for k in ("weight", "bias")]


def _floor(X: np.ndarray, y: np.ndarray, state: dict) -> Callable[[], object]:
    params = _params(state)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    batches = [(X[i], y[i]) for i in _batches(len(X))]
    b1, b2 = BETAS
    t = [0]

    def epoch() -> float:
        for xb, yb in batches:
            loss, grads = mlp_step.floor_step(params, xb, yb)
            t[0] += 1
            step = LR / (1 - b1 ** t[0])
            root = np.sqrt(1 - b2 ** t[0])
            for p, g, mi, vi in zip(params, grads, m, v):
                mi *= b1
                mi += (1 - b1) * g
                vi *= b2
                g *= g
                g *= 1 - b2
                vi += g
                denom = np.sqrt(vi)
                denom /= root
                denom += EPS
                np.divide(mi, denom, out=denom)
                denom *= step
                p -= denom
        return loss
    return epoch


def _kernel(X: np.ndarray, state: dict) -> Callable[[], object]:
    W1, _, W2, _, W3, _ = _params(state)
    xs = [X[i] for i in _batches(len(X))]

    def matmuls() -> object:
        for xb in xs:
            A1 = xb @ W1
            A2 = A1 @ W2
            G3 = A2 @ W3
            A2.T @ G3, G3 @ W3.T, A1.T @ A2, A2 @ W2.T, xb.T @ A1
        return G3
    return matmuls


def implementations(X: np.ndarray | None = None, y: np.ndarray | None = None
                    ) -> dict[str, Callable[[], object]]:
    """One zero-argument epoch per implementation (each returns the last batch's loss)."""
    from autograd_lite import data, nn

    if X is None or y is None:
        split = data.load_digits()
        X, y = split.X_train, split.y_train
    state = nn.MLP(SIZES, rng=0).state_dict()
    fns = {"autograd_lite": _autograd_lite(X, y, state)}
    if have("torch"):
        fns["PyTorch"] = _torch(X, y, state)
    fns["floor: hand NumPy"] = _floor(X, y, state)
    fns["kernel: matmuls"] = _kernel(X, state)
    return fns


def cases(quick: bool = False) -> Iterator[Case]:
    if quick:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((3 * BATCH, SIZES[0])).astype(np.float32)
        fns = implementations(X, rng.integers(0, SIZES[-1], 3 * BATCH))
    else:
        fns = implementations()
    steps = -(-(3 * BATCH if quick else 1438) // BATCH)
    yield Case("train_epoch", f"digits, {steps} steps", fns, "autograd_lite", unit="ms",
               reference="PyTorch" if have("torch") else None, floor="floor: hand NumPy",
               kernel="kernel: matmuls", notes={"autograd_lite": "Adam, float32"})
