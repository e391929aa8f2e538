"""The training loop behind ``autograd-lite train``: :func:`fit`, :func:`evaluate`, :func:`run`.

:func:`fit` is the loop everyone knows from PyTorch — forward, cross-entropy (fused or composed),
``zero_grad``, ``backward``, ``step`` — over shuffled minibatches, with a progress bar showing the
running loss and accuracy (tqdm when installed, the ``progress`` extra; otherwise a line per
epoch). :func:`run` is the whole command: data, model, optimizer, training, and the files written
to the output directory (checkpoint, config, per-epoch CSV and, with matplotlib — the ``plot``
extra — a loss/accuracy curve PNG).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import data as datasets
from . import functional, nn, optim
from .engine import no_grad

__all__ = ["History", "Config", "fit", "evaluate", "run", "DEFAULTS"]

LOSSES = ("fused", "composed")
OPTIMIZERS = ("sgd", "adam")

# Defaults per dataset (epochs, Adam learning rate), chosen so each trains in seconds and reaches
# >= 96 % test accuracy on digits and >= 97 % on moons and spirals.
DEFAULTS: dict[str, dict[str, Any]] = {
    "digits": {"epochs": 20, "lr": 3e-3},
    "moons": {"epochs": 30, "lr": 1e-2},
    "spirals": {"epochs": 60, "lr": 1e-2},
}
SGD_LR = 0.1   # SGD (momentum 0.9) default learning rate


@dataclass
class History:
    """Per-epoch figures of a training run."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)   # mean loss over the epoch's batches
    train_acc: list[float] = field(default_factory=list)    # accuracy over the epoch's batches
    test_acc: list[float] = field(default_factory=list)     # after the epoch (NaN: no test set)

    def to_csv(self, path: str | Path) -> Path:
        """Write one row per epoch."""
        path = Path(path)
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["epoch", "train_loss", "train_acc", "test_acc"])
            for row in zip(self.epoch, self.train_loss, self.train_acc, self.test_acc):
                w.writerow([row[0]] + [f"{v:.6g}" for v in row[1:]])
        return path


def _loss(logits: Any, y: np.ndarray, loss: str) -> Any:
    return functional.cross_entropy(logits, y, fused=loss == "fused")


def evaluate(model: nn.Module, X: np.ndarray, y: np.ndarray, batch_size: int = 1024) -> float:
    """Classification accuracy of ``model`` (in eval mode, recording nothing) on ``X, y``.

    Example
    -------
    >>> evaluate(model, split.X_test, split.y_test)
    0.972
    """
    was_training = model.training
    model.eval()
    correct = 0
    with no_grad():
        for xb, yb in datasets.DataLoader(X, y, batch_size):
            correct += int((model(xb)._data.argmax(axis=-1) == yb).sum())
    model.train(was_training)
    return correct / len(X)


def _progress_bar(total: int, enabled: bool) -> Any:
    if enabled and importlib.util.find_spec("tqdm") is not None:
        from tqdm.auto import tqdm
        return tqdm(total=total, unit="step", leave=True, file=sys.stderr)
    return None


def fit(model: nn.Module, optimizer: optim.Optimizer, X: np.ndarray, y: np.ndarray, *,
        epochs: int, batch_size: int = 64, loss: str = "fused", seed: int = 0,
        X_test: np.ndarray | None = None, y_test: np.ndarray | None = None,
        progress: bool = True, log: Callable[[str], Any] = print) -> History:
    """Train ``model`` with ``optimizer`` on integer class labels ``y`` for ``epochs`` epochs.

    Each epoch visits the shuffled data (order from ``seed``) in minibatches of ``batch_size``
    (the last one may be smaller) and takes one optimizer step per batch on the mean
    cross-entropy, ``fused`` (one node) or ``composed`` (log-softmax from primitives). ``X`` is
    cast to the dtype of the model's first parameter.

    Example
    -------
    >>> model = nn.MLP([2, 64, 64, 2], rng=0)
    >>> hist = fit(model, optim.Adam(model.parameters(), lr=1e-2), X, y, epochs=30)
    >>> hist.train_loss[-1]
    """
    if loss not in LOSSES:
        raise ValueError(f"fit: loss must be one of {LOSSES}, got {loss!r}")
    dtype = model.parameters()[0].dtype
    X = np.asarray(X, dtype=dtype)
    if X_test is not None:
        X_test = np.asarray(X_test, dtype=dtype)
    loader = datasets.DataLoader(X, y, batch_size, shuffle=True, seed=seed)
    hist = History()
    bar = _progress_bar(epochs * len(loader), progress)
    model.train()
    try:
        for epoch in range(1, epochs + 1):
            total_loss, correct, seen = 0.0, 0, 0
            for xb, yb in loader:
                logits = model(xb)
                L = _loss(logits, yb, loss)
                optimizer.zero_grad()
                L.backward()
                optimizer.step()
                total_loss += L.item() * len(yb)
                correct += int((logits._data.argmax(axis=-1) == yb).sum())
                seen += len(yb)
                if bar is not None:
                    bar.update()
                    bar.set_postfix({"epoch": f"{epoch}/{epochs}",
                                     "loss": f"{total_loss / seen:.4f}",
                                     "acc": f"{correct / seen:.3f}"}, refresh=False)
            test_acc = evaluate(model, X_test, y_test) if X_test is not None else float("nan")
            hist.epoch.append(epoch)
            hist.train_loss.append(total_loss / seen)
            hist.train_acc.append(correct / seen)
            hist.test_acc.append(test_acc)
            if bar is None and progress:
                log(f"epoch {epoch}/{epochs}  loss {total_loss / seen:.4f}  "
                    f"acc {correct / seen:.3f}  test acc {test_acc:.3f}")
    finally:
        if bar is not None:
            bar.close()
    return hist


@dataclass
class Config:
    """Everything ``autograd-lite train`` needs (``None`` epochs/lr: the dataset's default)."""

    data: str = "digits"
    hidden: tuple[int, ...] = (64, 64)
    epochs: int | None = None
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float | None = None
    loss: str = "fused"
    seed: int = 0
    dtype: str = "float32"
    model: str = "mlp"   # "mlp" | "cnn" (nn.DigitsCNN, digits only)

    def resolved(self) -> Config:
        """A copy with the dataset defaults filled in, after checking every choice."""
        for name, value, choices in (("data", self.data, datasets.DATASETS),
                                     ("optimizer", self.optimizer, OPTIMIZERS),
                                     ("loss", self.loss, LOSSES),
                                     ("dtype", self.dtype, ("float32", "float64"))):
            if value not in choices:
                raise ValueError(f"train: {name} must be one of {choices}, got {value!r}")
        if self.model not in ("mlp", "cnn") or (self.model == "cnn" and self.data != "digits"):
            raise ValueError(f"train: model must be 'mlp' or 'cnn' (digits only), got "
                             f"{self.model!r} on {self.data!r}")
        d = DEFAULTS[self.data] if self.model == "mlp" else nn.DigitsCNN.DEFAULTS
        lr = self.lr if self.lr is not None else d["lr"] if self.optimizer == "adam" else SGD_LR
        epochs = self.epochs if self.epochs is not None else d["epochs"]
        return Config(self.data, tuple(self.hidden), epochs, self.batch_size, self.optimizer, lr,
                      self.loss, self.seed, self.dtype, self.model)


def make_optimizer(name: str, params: list, lr: float) -> optim.Optimizer:
    """``"adam"`` → Adam(lr); ``"sgd"`` → SGD(lr, momentum=0.9)."""
    if name == "adam":
        return optim.Adam(params, lr=lr)
    return optim.SGD(params, lr=lr, momentum=0.9)


@dataclass
class Result:
    """What :func:`run` produced."""

    model: nn.Module
    history: History
    train_acc: float
    test_acc: float
    files: list[Path]


def run(config: Config, out: str | Path | None = None, *, progress: bool = True,
        log: Callable[[str], Any] = print) -> Result:
    """Train an MLP as ``config`` says; write checkpoint, config, CSV and curve PNG to ``out``.

    Example
    -------
    >>> res = run(Config(data="moons", epochs=5), "runs/moons")
    >>> res.test_acc
    """
    cfg = config.resolved()
    split = datasets.load(cfg.data, seed=cfg.seed, dtype=cfg.dtype)
    sizes = [split.X_train.shape[1], *cfg.hidden, split.n_classes]
    model = (nn.MLP(sizes, dtype=cfg.dtype, rng=cfg.seed) if cfg.model == "mlp" else
             nn.DigitsCNN(dtype=cfg.dtype, rng=cfg.seed))
    opt = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr)
    log(f"training {model.__class__.__name__}{model.sizes} on {cfg.data} "
        f"({len(split.X_train)} train / {len(split.X_test)} test), {cfg.optimizer} lr={cfg.lr}, "
        f"{cfg.loss} cross-entropy, {cfg.epochs} epochs of batch {cfg.batch_size}, {cfg.dtype}")
    hist = fit(model, opt, split.X_train, split.y_train, epochs=cfg.epochs,
               batch_size=cfg.batch_size, loss=cfg.loss, seed=cfg.seed, X_test=split.X_test,
               y_test=split.y_test, progress=progress, log=log)
    train_acc = evaluate(model, split.X_train.astype(cfg.dtype), split.y_train)
    test_acc = evaluate(model, split.X_test.astype(cfg.dtype), split.y_test)
    log(f"final train accuracy {train_acc:.4f}  test accuracy {test_acc:.4f}")
    files = [] if out is None else write_outputs(Path(out), model, hist, cfg, log)
    return Result(model, hist, train_acc, test_acc, files)


def write_outputs(out: Path, model: nn.Module, hist: History, cfg: Config,
                  log: Callable[[str], Any] = print) -> list[Path]:
    """Write ``model.npz``, ``config.json``, ``history.csv`` and (with matplotlib)
    ``curves.png`` to ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    config = out / "config.json"
    config.write_text(json.dumps({**asdict(cfg), "sizes": model.sizes}, indent=2) + "\n")
    files = [nn.save(model, out / "model.npz"), config, hist.to_csv(out / "history.csv")]
    if importlib.util.find_spec("matplotlib") is not None:
        files.append(plot_history(hist, out / "curves.png", title=f"{cfg.data}, {cfg.loss} loss"))
    else:
        log("note: matplotlib is not installed (pip install 'autograd-lite[plot]'), so no "
            "curves.png; the per-epoch figures are in history.csv")
    for f in files:
        log(f"wrote {f}")
    return files


def plot_history(hist: History, path: str | Path, title: str = "") -> Path:
    """Loss and accuracy per epoch, side by side, saved as a PNG (matplotlib, no pyplot state)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(9, 3.5), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(hist.epoch, hist.train_loss, marker=".")
    ax_loss.set(xlabel="epoch", ylabel="train loss", yscale="log", title="loss")
    ax_acc.plot(hist.epoch, hist.train_acc, marker=".", label="train (running)")
    if not np.all(np.isnan(hist.test_acc)):
        ax_acc.plot(hist.epoch, hist.test_acc, marker=".", label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    ax_acc.legend()
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=100)
    return Path(path)
