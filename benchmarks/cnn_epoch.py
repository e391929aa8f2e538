"""One training epoch of the digits CNN (``nn.DigitsCNN``: two 3×3 convolutions with ReLU and 2×2
max pooling, dropout, a linear head; Adam, batch 64 over the 1,438 training images), against the
same model in PyTorch (same initial weights, same batches).

Timed interleaved in one process (medians, ms per epoch; ratios paired per round). The workload
functions (:func:`implementations`) take plain arrays, so another runner can reuse them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .common import Row, have, interleaved_times, paired_ratios, rows_with_ratios

BATCH = 64


def _batches(n: int, seed: int = 0) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i:i + BATCH] for i in range(0, n, BATCH)]


def _ours(X: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    import autograd_lite as al
    from autograd_lite import nn, optim

    model = nn.DigitsCNN(rng=0)
    opt = optim.Adam(model.parameters(), lr=2e-3)
    batches = _batches(len(X))

    def epoch() -> float:
        total = 0.0
        for idx in batches:
            loss = al.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        return total
    return epoch


def _torch(X: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    import torch

    from autograd_lite import nn as aln

    ref = aln.DigitsCNN(rng=0)             # copy its initial weights into the PyTorch model
    tnn = torch.nn
    model = tnn.Sequential(tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                           tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                           tnn.Flatten(), tnn.Dropout(0.3), tnn.Linear(256, 10))
    with torch.no_grad():
        for t, a in ((model[0].weight, ref.features[0].weight), (model[0].bias,
                     ref.features[0].bias), (model[3].weight, ref.features[3].weight),
                     (model[3].bias, ref.features[3].bias), (model[8].weight,
                     ref.head.weight.T), (model[8].bias, ref.head.bias)):
            t.copy_(torch.from_numpy(np.ascontiguousarray(a.data)))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    tX = torch.from_numpy(X.reshape(-1, 1, 8, 8))
    ty = torch.from_numpy(y)
    batches = [torch.from_numpy(b) for b in _batches(len(X))]

    def epoch() -> float:
        total = 0.0
        for idx in batches:
            loss = tnn.functional.cross_entropy(model(tX[idx]), ty[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        return total
    return epoch


def inputs() -> tuple[np.ndarray, np.ndarray]:
    from autograd_lite.data import load_digits
    d = load_digits()
    return d.X_train.astype(np.float32), d.y_train


def implementations(X: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], object]]:
    fns = {"autograd_lite": _ours(X, y)}
    if have("torch"):
        fns["PyTorch"] = _torch(X, y)
    return fns


def run(repeat: int | None = None) -> list[Row]:
    """Medians (ms per epoch) against PyTorch (or alone without it)."""
    fns = implementations(*inputs())
    times = interleaved_times(fns, repeat or 5, warmup=1)
    ref = "PyTorch" if "PyTorch" in fns else "autograd_lite"
    ratios = paired_ratios(times, ref)
    medians = {k: float(np.median(v)) for k, v in times.items()}
    notes = {k: f"one epoch, {len(_batches(len(inputs()[0])))} Adam steps" for k in fns}
    return rows_with_ratios("cnn_epoch", medians, ref, "ms", 1e3, notes, ratios)


if __name__ == "__main__":
    from .common import format_table
    print(format_table(run()))
