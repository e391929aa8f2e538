"""The training loop, accuracies on the shipped datasets, and ``autograd-lite train`` end to end."""

from __future__ import annotations

import csv
import importlib.util
import json
import re

import numpy as np
import pytest

from autograd_lite import data, nn, optim, train
from autograd_lite.cli import main


def _fit_moons(loss: str, steps: int = 50) -> nn.Module:
    split = data.load("moons", seed=0, dtype=np.float64)
    batch = len(split.X_train) // steps                   # one epoch = `steps` steps
    model = nn.MLP([2, 16, 16, 2], dtype=np.float64, rng=0)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    train.fit(model, opt, split.X_train, split.y_train, epochs=1, batch_size=batch, loss=loss,
              seed=0, progress=False)
    return model


def test_fused_and_composed_losses_train_identically_in_float64():
    fused, composed = _fit_moons("fused"), _fit_moons("composed")
    start = nn.MLP([2, 16, 16, 2], dtype=np.float64, rng=0).state_dict()
    for (k, a), b in zip(fused.state_dict().items(), composed.state_dict().values()):
        assert np.abs(a - start[k]).max() > 1e-2            # the weights did move
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9, err_msg=k)


@pytest.mark.parametrize("name, minimum", [("digits", 0.96), ("moons", 0.97), ("spirals", 0.97)])
def test_default_settings_reach_the_target_test_accuracy(name, minimum):
    res = train.run(train.Config(data=name), progress=False, log=lambda s: None)
    assert res.test_acc >= minimum
    assert res.train_acc >= minimum
    assert len(res.history.epoch) == train.DEFAULTS[name]["epochs"]
    assert res.history.train_loss[-1] < res.history.train_loss[0] / 4


def test_fit_progress_without_tqdm_prints_one_line_per_epoch(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tqdm" else real(name, *a))
    lines = []
    split = data.load("moons")
    model = nn.MLP([2, 8, 2], rng=0)
    hist = train.fit(model, optim.SGD(model.parameters(), lr=0.1), split.X_train, split.y_train,
                     epochs=3, X_test=split.X_test, y_test=split.y_test, log=lines.append)
    assert len(lines) == 3 and lines[-1].startswith("epoch 3/3  loss ")
    assert hist.epoch == [1, 2, 3] and all(0 <= a <= 1 for a in hist.test_acc)


def test_evaluate_restores_the_mode_and_records_nothing():
    model = nn.MLP([2, 4, 2], rng=0)
    X, y = data.make_moons(50)
    acc = train.evaluate(model, X, y)
    assert 0 <= acc <= 1 and model.training
    assert all(p.grad is None for p in model.parameters())


def test_config_errors_name_the_option():
    with pytest.raises(ValueError, match="loss: expected one of fused, composed"):
        train.Config(loss="sparse").resolved()
    with pytest.raises(ValueError, match="fit: loss must be one of"):
        model = nn.MLP([2, 2], rng=0)
        train.fit(model, optim.SGD(model.parameters()), np.zeros((2, 2)), np.zeros(2, int),
                  epochs=1, loss="nope")


def _read_history(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_cli_train_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--data", "moons", "--hidden", "16,16", "--epochs", "4",
                 "--batch-size", "32", "--optimizer", "sgd", "--lr", "0.1", "--loss", "composed",
                 "--seed", "3", "--dtype", "float64", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    m = re.search(r"final train accuracy (\d\.\d{4})  test accuracy (\d\.\d{4})", text)
    assert m and float(m.group(2)) > 0.8
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "curves.png", "history.csv",
                                                     "model.npz", "optimizer.npz",
                                                     "progress.json"]
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config = json.loads((out / "config.json").read_text())
    assert config["sizes"] == [2, 16, 16, 2] and config["loss"] == "composed"
    rows = _read_history(out / "history.csv")
    assert [r["epoch"] for r in rows] == ["1", "2", "3", "4"]
    model = nn.MLP(config["sizes"], dtype=config["dtype"])
    nn.load(out / "model.npz", module=model)
    split = data.load("moons", seed=3, dtype=np.float64)
    assert f"{train.evaluate(model, split.X_test, split.y_test):.4f}" == m.group(2)


def test_cli_train_without_matplotlib_writes_a_csv_and_a_note(tmp_path, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    assert main(["train", "--data", "spirals", "--epochs", "1", "--no-progress",
                 "--out", str(tmp_path)]) == 0
    assert "matplotlib is not installed" in capsys.readouterr().out
    assert not (tmp_path / "curves.png").exists()
    assert len(_read_history(tmp_path / "history.csv")) == 1


def test_cli_train_rejects_bad_arguments(capsys):
    assert main(["train", "--hidden", "64,x"]) == 2
    assert "argument --hidden: expected comma-separated positive integers" in \
        capsys.readouterr().err
