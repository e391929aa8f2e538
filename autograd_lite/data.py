"""Datasets and minibatches, with NumPy alone.

* :class:`DataLoader` — minibatches of ``(X, y)`` arrays, shuffled from a seed, the last partial
  batch kept or dropped.
* :func:`make_moons`, :func:`make_spirals` — generated 2-D classification problems.
* :func:`load_digits` — the 8×8 handwritten digits (1,797 images, 10 classes, pixels 0..16),
  shipped in the package as ``datasets/digits.npz`` (uint8 images and labels, 45 kB), with a fixed
  train/test split. It is the test set of the UCI "Optical Recognition of Handwritten Digits" data
  (E. Alpaydin, C. Kaynak; CC BY 4.0), the copy carried by scikit-learn's ``load_digits``. The
  file was built once with::

      d = sklearn.datasets.load_digits()
      np.savez_compressed("digits.npz", images=d.images.astype(np.uint8),
                          labels=d.target.astype(np.uint8))

* :func:`load` — any of the three by name, as a :class:`Split`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "DataLoader", "Split", "make_moons", "make_spirals", "train_test_split", "load_digits", "load",
    "DATASETS",
]

DIGITS_PATH = Path(__file__).parent / "datasets" / "digits.npz"


class DataLoader:
    """Minibatches ``(X[idx], y[idx])`` over the first axis; iterate once per epoch.

    Parameters
    ----------
    X, y : arrays with the same first dimension (``y`` may be ``None``: batches are then ``X``).
    batch_size : samples per batch.
    shuffle : a new random order each epoch, from one generator seeded with ``seed`` (so the
        sequence of epochs is reproducible).
    drop_last : drop the last batch when it is smaller than ``batch_size``.

    Example
    -------
    >>> X, y = np.zeros((100, 3)), np.arange(100) % 2
    >>> loader = DataLoader(X, y, batch_size=64, shuffle=True, seed=0)
    >>> [xb.shape for xb, yb in loader]
    [(64, 3), (36, 3)]
    """

    def __init__(self, X: np.ndarray, y: np.ndarray | None = None, batch_size: int = 32, *,
                 shuffle: bool = False, drop_last: bool = False, seed: int | None = None) -> None:
        self.X = _samples(X, "X")
        self.y = None if y is None else _samples(y, "y")
        if self.y is not None and len(self.y) != len(self.X):
            raise ValueError(f"DataLoader: X has {len(self.X)} samples but y has {len(self.y)}")
        _count("DataLoader", "batch_size", batch_size, 1)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rng = np.random.default_rng(seed)

    def skip_epochs(self, k: int) -> None:
        """Advance the shuffling as ``k`` epochs would, without producing batches (to resume a
        run: the next epoch then visits the data in the order it would have)."""
        _count("DataLoader.skip_epochs", "k", k, 0)
        if self.shuffle:
            for _ in range(k):
                self.rng.permutation(len(self.X))

    def __len__(self) -> int:
        n, b = len(self.X), self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.X)
        order = self.rng.permutation(n) if self.shuffle else None
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            idx = slice(start, start + self.batch_size)
            if order is not None:
                idx = order[idx]
            if self.y is None:
                yield self.X[idx]
            else:
                yield self.X[idx], self.y[idx]


def _samples(a: Any, name: str) -> np.ndarray:
    """An array of numbers with a first (sample) axis, else a clear error."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"DataLoader: {name} must be an array of numbers, got "
                        f"{type(a).__name__} with dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(f"DataLoader: {name} needs a first axis of samples, got a scalar")
    return arr


def _count(where: str, name: str, value: Any, least: int) -> int:
    """An int ``>= least`` (a size or a count), else a clear error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an int, got {type(value).__name__} "
                        f"{value!r:.40}")
    if value < least:
        raise ValueError(f"{where}: {name} must be >= {least}, got {value}")
    return int(value)


class Split(NamedTuple):
    """A dataset divided into training and test arrays."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def train_test_split(X: np.ndarray, y: np.ndarray, test_fraction: float = 0.2,
                     seed: int = 0) -> Split:
    """Shuffle with ``seed`` and hold out ``round(test_fraction · n)`` samples for testing."""
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"train_test_split: test_fraction must be in [0, 1], got "
                         f"{test_fraction!r}")
    if len(X) != len(y):
        raise ValueError(f"train_test_split: X has {len(X)} samples but y has {len(y)}")
    n = len(X)
    order = np.random.default_rng(seed).permutation(n)
    n_test = round(test_fraction * n)
    test, train = order[:n_test], order[n_test:]
    return Split(X[train], y[train], X[test], y[test])


def make_moons(n: int = 1000, noise: float = 0.1, seed: int = 0,
               dtype: Any = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (labels 0 and 1) with Gaussian noise of std ``noise``.

    Example
    -------
    >>> X, y = make_moons(200, seed=0)     # X (200, 2), y (200,) int64
    """
    _count("make_moons", "n", n, 0)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    t = rng.uniform(0.0, np.pi, n)
    X = np.stack([np.where(y == 0, np.cos(t), 1.0 - np.cos(t)),
                  np.where(y == 0, np.sin(t), 0.5 - np.sin(t))], axis=1)
    X += noise * rng.standard_normal(X.shape)
    return X.astype(dtype), y.astype(np.int64)


def make_spirals(n_per_class: int = 300, k: int = 3, noise: float = 0.1, seed: int = 0,
                 dtype: Any = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """``k`` interleaved spiral arms (labels ``0..k-1``), radius 0 → 1.

    Arm ``j`` turns through 4 radians as the radius grows, starting at angle ``2πj/k``; the angle
    gets Gaussian noise of std ``noise`` radians.

    Example
    -------
    >>> X, y = make_spirals(100, k=3, seed=0)   # X (300, 2), y (300,) int64
    """
    _count("make_spirals", "n_per_class", n_per_class, 0)
    if _count("make_spirals", "k", k, 0) < 2:
        raise ValueError(f"make_spirals: need k >= 2 classes, got {k}")
    rng = np.random.default_rng(seed)
    r = np.tile(np.linspace(0.0, 1.0, n_per_class), k)
    y = np.repeat(np.arange(k), n_per_class)
    theta = 2 * np.pi * y / k + 4.0 * r + noise * rng.standard_normal(r.shape)
    X = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    return X.astype(dtype), y.astype(np.int64)


def load_digits(dtype: Any = np.float32, flatten: bool = True) -> Split:
    """The 8×8 digits with a fixed split: 1,438 training and 359 test images (seed 0).

    Pixels are scaled from 0..16 to [0, 1]; ``flatten`` gives ``(n, 64)`` rows, else
    ``(n, 8, 8)`` images. Labels are int64 in 0..9.

    Example
    -------
    >>> d = load_digits()
    >>> d.X_train.shape, d.X_test.shape
    ((1438, 64), (359, 64))
    """
    with np.load(DIGITS_PATH, allow_pickle=False) as f:
        images, labels = f["images"], f["labels"]
    X = images.astype(dtype) / 16
    if flatten:
        X = X.reshape(len(X), -1)
    return train_test_split(X, labels.astype(np.int64), test_fraction=0.2, seed=0)


def load(name: str, seed: int = 0, dtype: Any = np.float32) -> Split:
    """``"digits"``, ``"moons"`` or ``"spirals"`` as a :class:`Split` (generated ones from
    ``seed``; the digits split is fixed)."""
    if name == "digits":
        return load_digits(dtype=dtype)
    if name == "moons":
        return train_test_split(*make_moons(1000, seed=seed, dtype=dtype), seed=seed)
    if name == "spirals":
        return train_test_split(*make_spirals(300, k=3, seed=seed, dtype=dtype), seed=seed)
    raise ValueError(f"data.load: unknown dataset {name!r}; choose from {DATASETS}")


DATASETS = ("digits", "moons", "spirals")
