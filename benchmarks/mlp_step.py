"""One training step's gradients for an MLP 784-256-128-10 (ReLU), float32, batches 32/128/2048.

Forward, softmax cross-entropy (mean over the batch) and backward to every weight and bias: ms per
step. Rows:

* ``autograd_lite`` (fused loss) — the headline row; ``autograd_lite composed loss`` (at batch
  128 only) builds the loss from primitives;
* ``PyTorch`` (the reference, ``F.cross_entropy``) and ``HIPS autograd`` when importable;
* ``floor: hand NumPy`` — hand-written backprop, in place wherever NumPy allows: ``Z += b``,
  ReLU in place, ``exp`` in place, ``dZ = softmax/N`` in place with ``1/N`` subtracted at the
  targets, the ReLU mask applied in place; no gradient for the input ``X``;
* ``kernel: matmuls`` — the eight matrix products alone (three forward, five backward).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .common import Case, have

SIZES = (784, 256, 128, 10)
QUICK_SIZES = (12, 8, 6, 4)
BATCHES = (32, 128, 2048)
DTYPE = np.float32


def problem(batch: int = 128, seed: int = 0, sizes: tuple[int, ...] = SIZES
            ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Weights ``[W1, b1, W2, b2, W3, b3]`` (He init), a batch ``X`` and integer labels ``y``."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((n_in, n_out)) * np.sqrt(2 / n_in)).astype(DTYPE))
        params.append((0.1 * rng.standard_normal(n_out)).astype(DTYPE))
    X = rng.standard_normal((batch, sizes[0])).astype(DTYPE)
    y = rng.integers(0, sizes[-1], size=batch)
    return params, X, y


def floor_step(params: list[np.ndarray], X: np.ndarray, y: np.ndarray
               ) -> tuple[float, list[np.ndarray]]:
    """Loss and gradients by hand-written backprop, in place wherever NumPy allows."""
    W1, b1, W2, b2, W3, b3 = params
    n = X.shape[0]
    rows = np.arange(n)
    A1 = X @ W1
    A1 += b1
    np.maximum(A1, 0, out=A1)
    A2 = A1 @ W2
    A2 += b2
    np.maximum(A2, 0, out=A2)
    Z3 = A2 @ W3
    Z3 += b3
    Z3 -= Z3.max(axis=1, keepdims=True)               # stable softmax
    picked = Z3[rows, y]
    E = np.exp(Z3, out=Z3)
    s = E.sum(axis=1)
    loss = float(np.mean(np.log(s) - picked))
    E *= (1.0 / n / s)[:, None]                       # dZ3 = softmax / N − Y / N, in place
    E[rows, y] -= 1.0 / n
    dZ3 = E
    dW3 = A2.T @ dZ3
    db3 = dZ3.sum(axis=0)
    dZ2 = dZ3 @ W3.T
    dZ2 *= A2 > 0
    dW2 = A1.T @ dZ2
    db2 = dZ2.sum(axis=0)
    dZ1 = dZ2 @ W2.T
    dZ1 *= A1 > 0
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0)
    return loss, [dW1, db1, dW2, db2, dW3, db3]


def _kernel(params: list[np.ndarray], X: np.ndarray) -> Callable[[], object]:
    W1, _, W2, _, W3, _ = params
    A1, A2 = X @ W1, (X @ W1) @ W2
    G3 = (A2 @ W3)

    def matmuls() -> object:
        X @ W1, A1 @ W2, A2 @ W3                       # forward
        A2.T @ G3, G3 @ W3.T, A1.T @ A2, A2 @ W2.T     # backward: dW3, dA2, dW2, dA1
        return X.T @ A1                                # dW1
    return matmuls


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
            loss = al.functional.cross_entropy(z, y)
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


def implementations(params: list[np.ndarray], X: np.ndarray, y: np.ndarray,
                    composed: bool = True) -> dict[str, Callable[[], object]]:
    """One zero-argument step per implementation; each but the kernel returns
    ``(loss, [gradient per parameter])``."""
    fns = {"autograd_lite": _autograd_lite(params, X, y, fused=True)}
    if composed:
        fns["autograd_lite composed loss"] = _autograd_lite(params, X, y, fused=False)
    if have("torch"):
        fns["PyTorch"] = _torch(params, X, y)
    if have("autograd"):
        fns["HIPS autograd"] = _hips(params, X, y)
    fns["floor: hand NumPy"] = lambda: floor_step(params, X, y)
    fns["kernel: matmuls"] = _kernel(params, X)
    return fns


def cases(quick: bool = False) -> Iterator[Case]:
    for batch in ((4,) if quick else BATCHES):
        fns = implementations(*problem(batch, sizes=QUICK_SIZES if quick else SIZES),
                              composed=batch == 128 or quick)
        limit = 1.15 if batch < 128 else 1.03
        yield Case("mlp_step", f"batch {batch}", fns, "autograd_lite", unit="ms",
                   reference="PyTorch" if have("torch") else None,
                   floor="floor: hand NumPy", kernel="kernel: matmuls",
                   goals={"floor": limit}, notes={"PyTorch": "F.cross_entropy"})
