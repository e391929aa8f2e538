"""Datasets and minibatches."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_lite import data
from autograd_lite.data import DataLoader


def test_loader_covers_every_sample_once_per_epoch_in_batches():
    X, y = np.arange(10)[:, None] * 1.0, np.arange(10)
    loader = DataLoader(X, y, batch_size=4, shuffle=True, seed=0)
    assert len(loader) == 3
    for _ in range(2):
        batches = list(loader)
        assert [len(b[1]) for b in batches] == [4, 4, 2]       # the partial batch is kept
        seen = np.concatenate([yb for _, yb in batches])
        assert sorted(seen) == list(range(10))
        for xb, yb in batches:
            np.testing.assert_array_equal(xb[:, 0], yb)        # rows stay paired


def test_loader_drop_last_and_order():
    loader = DataLoader(np.arange(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [b.tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]   # no shuffle: in order


def test_loader_shuffle_is_seeded_and_differs_per_epoch():
    def epochs(seed):
        loader = DataLoader(np.arange(20), batch_size=20, shuffle=True, seed=seed)
        return [next(iter(loader)).tolist() for _ in range(2)]

    a, b = epochs(3), epochs(3)
    assert a == b and a[0] != a[1] and epochs(4) != a


def test_loader_errors():
    with pytest.raises(ValueError, match="X has 3 samples but y has 2"):
        DataLoader(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        DataLoader(np.zeros(3), batch_size=0)


def test_moons_shape_balance_and_geometry():
    X, y = data.make_moons(400, noise=0.0, seed=1)
    assert X.shape == (400, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [200, 200]
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, rtol=1e-6)              # unit circle
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, rtol=1e-6)
    assert (upper[:, 1] >= 0).all() and (lower[:, 1] <= 0.5).all()
    np.testing.assert_array_equal(data.make_moons(50, seed=2)[0], data.make_moons(50, seed=2)[0])


def test_spirals_shape_and_classes():
    X, y = data.make_spirals(100, k=4, noise=0.0, seed=0, dtype=np.float64)
    assert X.shape == (400, 2) and X.dtype == np.float64
    assert np.bincount(y).tolist() == [100] * 4
    r = np.hypot(*X.T)
    assert r.max() == pytest.approx(1.0) and r.min() == 0.0
    with pytest.raises(ValueError, match="need k >= 2"):
        data.make_spirals(10, k=1)


def test_digits_are_shipped_with_a_fixed_split():
    d = data.load_digits()
    assert d.X_train.shape == (1438, 64) and d.X_test.shape == (359, 64)
    assert d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert d.X_train.min() == 0.0 and d.X_train.max() == 1.0
    assert d.n_classes == 10
    counts = np.bincount(np.concatenate([d.y_train, d.y_test]))
    assert counts.sum() == 1797 and counts.min() >= 174
    again = data.load_digits()
    np.testing.assert_array_equal(again.y_test, d.y_test)
    images = data.load_digits(dtype=np.float64, flatten=False).X_train
    assert images.shape == (1438, 8, 8) and images.dtype == np.float64
    np.testing.assert_array_equal(images.reshape(1438, 64), d.X_train)
    assert set(np.unique(images * 16)) <= set(range(17))          # pixels 0..16


def test_digits_match_scikit_learn():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    ref = sklearn_datasets.load_digits()
    with np.load(data.DIGITS_PATH) as f:
        np.testing.assert_array_equal(f["images"], ref.images)
        np.testing.assert_array_equal(f["labels"], ref.target)


def test_load_by_name():
    for name in data.DATASETS:
        split = data.load(name, seed=0)
        assert len(split.X_train) > len(split.X_test) > 0
        assert split.X_train.shape[1] == split.X_test.shape[1]
    assert data.load("spirals").n_classes == 3
    assert data.load("moons", dtype=np.float64).X_train.dtype == np.float64
    with pytest.raises(ValueError, match="unknown dataset 'mnist'"):
        data.load("mnist")
