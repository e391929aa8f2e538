"""The Hessian of a small MLP's loss with respect to all its parameters (49 and 97 of them).

``loss(θ) = mean((tanh(X W1 + b1) w2 + b2 − y)²)`` on 32 points in 4 dimensions, hidden width 8
(49 parameters) or 16 (97), float64; θ is one flat vector. ms per full Hessian. Rows:

* ``autograd_lite`` — ``al.hessian(loss)(θ)``;
* ``PyTorch`` (the reference) — ``torch.autograd.functional.hessian(loss, θ, vectorize=True)``;
* ``HIPS autograd`` — ``autograd.hessian`` when importable;
* ``floor: hand NumPy`` — forward-over-reverse written by hand and batched over all P basis
  directions at once: the gradient's tangent along every direction, a handful of (P, B, H)
  array operations and matrix products.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .common import Case, have

N_IN, BATCH = 4, 32
HIDDEN = (8, 16)        # 49 and 97 parameters
QUICK_HIDDEN = (2,)


def n_params(h: int) -> int:
    return N_IN * h + h + h + 1


def problem(h: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parameters θ, inputs X (B, 4) and targets y (B,)."""
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(n_params(h)) * 0.5
    return theta, rng.standard_normal((BATCH, N_IN)), rng.standard_normal(BATCH)


def _split(theta: object, h: int) -> tuple:
    a, b = N_IN * h, N_IN * h + h
    return theta[:a].reshape((N_IN, h)), theta[a:b], theta[b:b + h], theta[b + h:]


def loss(theta: object, X: object, y: object, h: int, tanh: Callable) -> object:
    """The loss, for any array type with slicing, ``reshape``, ``@`` and ``tanh``."""
    W1, b1, w2, b2 = _split(theta, h)
    r = tanh(X @ W1 + b1) @ w2 + b2 - y
    return (r * r).mean()


def floor_hessian(theta: np.ndarray, X: np.ndarray, y: np.ndarray, h: int) -> np.ndarray:
    """The Hessian by hand: tangents of the gradient along all P basis directions at once."""
    W1, b1, w2, b2 = _split(theta, h)
    B, P = X.shape[0], theta.size
    A = np.tanh(X @ W1 + b1)                       # (B, H)
    d = (2.0 / B) * (A @ w2 + b2 - y)              # dL/dout, (B,)
    D = 1 - A * A                                  # tanh'
    dA = d[:, None] * w2                           # (B, H)
    V = np.eye(P)                                  # one direction per row
    dW1 = V[:, :N_IN * h].reshape(P, N_IN, h)
    db1 = V[:, N_IN * h:N_IN * h + h]
    dw2 = V[:, N_IN * h + h:N_IN * h + 2 * h]
    db2 = V[:, -1]
    Zt = X @ dW1 + db1[:, None, :]                 # (P, B, H): tangent of X W1 + b1
    At = D * Zt                                    # tangent of A
    dt = (2.0 / B) * (At @ w2 + dw2 @ A.T + db2[:, None])   # tangent of d, (P, B)
    g_w2 = At.transpose(0, 2, 1) @ d + dt @ A      # (P, H)
    g_b2 = dt.sum(axis=1)                          # (P,)
    dAt = dt[:, :, None] * w2 + d[None, :, None] * dw2[:, None, :]   # tangent of dA
    dZt = dAt * D - 2 * dA * A * At                # tangent of dZ = dA ⊙ (1 − A²)
    g_W1 = X.T @ dZt                               # (P, 4, H)
    g_b1 = dZt.sum(axis=1)                         # (P, H)
    return np.concatenate([g_W1.reshape(P, -1), g_b1, g_w2, g_b2[:, None]], axis=1)


def _ours(theta: np.ndarray, X: np.ndarray, y: np.ndarray, h: int) -> Callable[[], object]:
    import autograd_lite as al

    hess = al.hessian(lambda t: loss(t, X, y, h, al.tanh))
    return lambda: hess(theta)


def _torch(theta: np.ndarray, X: np.ndarray, y: np.ndarray, h: int) -> Callable[[], object]:
    import torch

    tt, tX, ty = (torch.from_numpy(a) for a in (theta, X, y))
    f = lambda t: loss(t, tX, ty, h, torch.tanh)
    return lambda: torch.autograd.functional.hessian(f, tt, vectorize=True).numpy()


def _hips(theta: np.ndarray, X: np.ndarray, y: np.ndarray, h: int) -> Callable[[], object]:
    import autograd
    import autograd.numpy as anp

    hess = autograd.hessian(lambda t: loss(t, X, y, h, anp.tanh))
    return lambda: hess(theta)


def implementations(theta: np.ndarray, X: np.ndarray, y: np.ndarray, h: int
                    ) -> dict[str, Callable[[], object]]:
    """One zero-argument call per implementation, each returning the (P, P) Hessian."""
    fns = {"autograd_lite": _ours(theta, X, y, h)}
    if have("torch"):
        fns["PyTorch"] = _torch(theta, X, y, h)
    if have("autograd"):
        fns["HIPS autograd"] = _hips(theta, X, y, h)
    fns["floor: hand NumPy"] = lambda: floor_hessian(theta, X, y, h)
    return fns


def cases(quick: bool = False) -> Iterator[Case]:
    for h in QUICK_HIDDEN if quick else HIDDEN:
        fns = implementations(*problem(h), h)
        yield Case("hessian", f"{n_params(h)} params", fns, "autograd_lite", unit="ms",
                   reference="PyTorch" if have("torch") else None, floor="floor: hand NumPy",
                   goals={"reference": 1.0},
                   notes={"PyTorch": "autograd.functional.hessian(vectorize=True)"})
