"""BLAS thread limits for small problems (autograd_lite.blas) and ``train --threads``."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from autograd_lite import blas, nn, train
from autograd_lite.cli import main


def _blas_threads() -> set[int]:
    from threadpoolctl import threadpool_info

    return {d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"}


def test_auto_threads_is_one_for_small_models_only():
    small = [p.size for p in nn.DigitsCNN(rng=0).parameters()]
    assert blas.auto_threads(small) == 1
    assert blas.auto_threads([blas.SMALL]) is None
    assert blas.auto_threads([]) == 1


def test_blas_threads_limits_inside_the_block_and_restores_after():
    pytest.importorskip("threadpoolctl")
    before = _blas_threads()
    with blas.blas_threads(1) as n:
        assert n == 1 and _blas_threads() == {1}
    assert _blas_threads() == before
    for none in (None, 0):
        with blas.blas_threads(none) as n:
            assert n is None and _blas_threads() == before


def test_without_threadpoolctl_nothing_is_limited_and_a_request_is_reported(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "threadpoolctl" else real(name, *a))
    said = []
    with blas.training_threads(2, [10], said.append) as n:
        assert n is None
    assert "threadpoolctl is not installed, --threads is ignored" in said[0]
    with blas.training_threads(None, [10], said.append) as n:   # auto: silent
        assert n is None and len(said) == 1


@pytest.mark.parametrize("option, expected", [(None, {1}), ("3", {3}), ("0", None)])
def test_train_runs_under_the_requested_limit(monkeypatch, tmp_path, option, expected):
    pytest.importorskip("threadpoolctl")
    seen, real_fit = [], train.fit
    before = _blas_threads()

    def fit(*a, **kw):
        seen.append(_blas_threads())
        return real_fit(*a, **kw)

    monkeypatch.setattr(train, "fit", fit)
    args = ["train", "--data", "moons", "--epochs", "1", "--no-progress", "--out",
            str(tmp_path / "run")]
    assert main(args + ([] if option is None else ["--threads", option])) == 0
    assert seen == [expected or before] and _blas_threads() == before
    # a resumed run takes --threads too (where it runs, not what it computes)
    assert main(["train", "--resume", str(tmp_path / "run"), "--epochs", "2", "--no-progress",
                 "--threads", "2"]) == 0
    assert seen[-1] == {2}


def test_train_threads_must_be_a_nonnegative_int(capsys):
    assert main(["train", "--threads", "-1"]) == 2
    assert "--threads: expected an integer >= 0, got -1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="threads: expected an integer >= 0"):
        train.Config(threads=-2).resolved()


def test_threads_does_not_change_what_is_computed():
    pytest.importorskip("threadpoolctl")
    results = [train.run(train.Config(data="moons", epochs=1, dtype="float64", threads=t),
                         progress=False, log=lambda s: None) for t in (1, 0)]
    for a, b in zip(*(r.model.parameters() for r in results)):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12)
