"""One training epoch on the 8×8 digits: MLP 64-128-128-10 (ReLU), batch 64, Adam, float32.

An epoch is 23 steps over the 1,438 training images (shuffled, the last batch partial), each step
forward + fused cross-entropy + backward + Adam update. autograd_lite and PyTorch (when importable)
train the same initial weights on the same batches, timed interleaved in one process; ms per
epoch, ratio against PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .common import Row, have, interleaved, rows_with_ratios

SIZES = [64, 128, 128, 10]
BATCH = 64
LR = 1e-3


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


def implementations() -> dict[str, Callable[[], object]]:
    """One zero-argument epoch per available implementation (reference first)."""
    from autograd_lite import data, nn

    split = data.load_digits()
    state = nn.MLP(SIZES, rng=0).state_dict()
    fns = {}
    if have("torch"):
        fns["PyTorch"] = _torch(split.X_train, split.y_train, state)
    fns["autograd_lite"] = _autograd_lite(split.X_train, split.y_train, state)
    return fns


def run(repeat: int | None = None) -> list[Row]:
    """Medians in ms per epoch, with the ratio to PyTorch when it is importable."""
    fns = implementations()
    reference = next(iter(fns))
    medians = interleaved(fns, repeat or 30)
    n_steps = len(_batches(1438))
    notes = {k: f"{n_steps} steps, Adam, float32" for k in fns}
    return rows_with_ratios("train_epoch", medians, reference, "ms/epoch", 1e3, notes)
