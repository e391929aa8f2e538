"""The training loop: :func:`fit` and :func:`evaluate`, with the :class:`Progress` and
:class:`History` a run directory saves (:mod:`autograd_lite.train` builds the whole command on
them).

:func:`fit` is the loop everyone knows from PyTorch — forward, cross-entropy (fused or composed),
``zero_grad``, ``backward``, ``step`` — over shuffled minibatches, with a progress bar showing the
running loss and accuracy (tqdm when installed, the ``progress`` extra; otherwise a line per
epoch). Ctrl-C (SIGINT, in the main thread) stops it cleanly at the end of the current step; a
second Ctrl-C aborts.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import data as datasets
from . import functional, nn, optim
from .checkpoint import atomic_write
from .engine import no_grad

__all__ = ["LOSSES", "History", "Progress", "fit", "evaluate"]

LOSSES = ("fused", "composed")


@dataclass
class Progress:
    """Where a run is: steps taken, epochs completed, and the running figures of the epoch in
    progress (``batch`` batches into it). Saved as ``progress.json`` so :func:`resume` can
    continue exactly."""

    step: int = 0
    epoch: int = 0
    batch: int = 0
    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    interrupted: bool = False
    per_epoch: int = 0          # batches per epoch


@dataclass
class History:
    """Per-epoch figures of a training run."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)   # mean loss over the epoch's batches
    train_acc: list[float] = field(default_factory=list)    # accuracy over the epoch's batches
    test_acc: list[float] = field(default_factory=list)     # after the epoch (NaN: no test set)
    progress: Progress = field(default_factory=Progress, repr=False)   # where training stopped

    def figures(self) -> dict[str, list]:
        """The four per-epoch lists, by name."""
        return {"epoch": self.epoch, "train_loss": self.train_loss, "train_acc": self.train_acc,
                "test_acc": self.test_acc}

    def to_csv(self, path: str | Path) -> Path:
        """Write one row per epoch (atomically); a fractional epoch is an interrupted one."""
        text = io.StringIO()
        w = csv.writer(text)
        w.writerow(["epoch", "train_loss", "train_acc", "test_acc"])
        for row in zip(self.epoch, self.train_loss, self.train_acc, self.test_acc):
            epoch = str(row[0]) if float(row[0]).is_integer() else f"{row[0]:.4f}"
            w.writerow([epoch] + [f"{v:.6g}" for v in row[1:]])
        return atomic_write(path, lambda f: f.write(text.getvalue().encode()), what="train")


def _loss(logits: Any, y: np.ndarray, loss: str) -> Any:
    return functional.cross_entropy(logits, y, fused=loss == "fused")


def evaluate(model: nn.Module, X: np.ndarray, y: np.ndarray, batch_size: int = 1024) -> float:
    """Classification accuracy of ``model`` (in eval mode, recording nothing) on ``X, y``.

    Example
    -------
    >>> evaluate(model, split.X_test, split.y_test)      # doctest: +SKIP
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


def _progress_bar(total: int, initial: int, enabled: bool) -> Any:
    if enabled and importlib.util.find_spec("tqdm") is not None:
        from tqdm.auto import tqdm
        return tqdm(total=total, initial=initial, unit="step", leave=True, file=sys.stderr)
    return None


@contextlib.contextmanager
def _stop_on_interrupt(enabled: bool, log: Callable[[str], Any]) -> Iterator[list[bool]]:
    """While training: the first SIGINT (Ctrl-C) sets ``flag[0]`` (stop after this step), a second
    one raises ``KeyboardInterrupt`` as usual. Only in the main thread."""
    flag = [False]
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield flag
        return
    old = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if flag[0]:
            raise KeyboardInterrupt
        flag[0] = True
        log("\ninterrupted: stopping at the end of this step (Ctrl-C again to abort)")

    signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, old)


def fit(model: nn.Module, optimizer: optim.Optimizer, X: np.ndarray, y: np.ndarray, *,
        epochs: int, batch_size: int = 64, loss: str = "fused", seed: int = 0,
        X_test: np.ndarray | None = None, y_test: np.ndarray | None = None,
        progress: bool = True, log: Callable[[str], Any] = print, max_steps: int | None = None,
        start: Progress | None = None, history: History | None = None,
        catch_interrupt: bool = True) -> History:
    """Train ``model`` with ``optimizer`` on integer class labels ``y`` for ``epochs`` epochs.

    Each epoch visits the shuffled data (order from ``seed``) in minibatches of ``batch_size``
    (the last one may be smaller) and takes one optimizer step per batch on the mean
    cross-entropy, ``fused`` (one node) or ``composed`` (log-softmax from primitives). ``X`` is
    cast to the dtype of the model's first parameter. Training stops early after ``max_steps``
    optimizer steps in total, or at the end of the step during which Ctrl-C was pressed
    (``catch_interrupt``; ``Progress.interrupted`` then says so). ``start`` and ``history``
    (from an earlier, stopped call) continue that run exactly where it stopped.

    Returns the per-epoch :class:`History`; its ``progress`` is the :class:`Progress` reached.

    Example
    -------
    >>> X, y = datasets.make_moons(200, seed=0)
    >>> model = nn.MLP([2, 16, 2], rng=0)
    >>> hist = fit(model, optim.Adam(model.parameters(), lr=1e-2), X, y, epochs=3,
    ...            progress=False)
    >>> hist.epoch, hist.progress.step
    ([1, 2, 3], 12)
    """
    if loss not in LOSSES:
        raise ValueError(f"fit: loss must be one of {LOSSES}, got {loss!r}")
    dtype = model.parameters()[0].dtype
    X = np.asarray(X, dtype=dtype)
    if X_test is not None:
        X_test = np.asarray(X_test, dtype=dtype)
    loader = datasets.DataLoader(X, y, batch_size, shuffle=True, seed=seed)
    hist = History() if history is None else history
    at = Progress() if start is None else Progress(**{**asdict(start), "interrupted": False})
    at.per_epoch = len(loader)
    loader.skip_epochs(at.epoch)
    total = epochs * len(loader) if max_steps is None else min(max_steps, epochs * len(loader))
    bar = _progress_bar(total, at.step, progress)
    model.train()
    try:
        with _stop_on_interrupt(catch_interrupt, log) as stop:
            limit = float("inf") if max_steps is None else max_steps
            while at.epoch < epochs and not stop[0] and at.step < limit:
                for i, (xb, yb) in enumerate(loader):
                    if i < at.batch:
                        continue          # done before the run was stopped
                    logits = model(xb)
                    L = _loss(logits, yb, loss)
                    optimizer.zero_grad()
                    L.backward()
                    optimizer.step()
                    at.step += 1
                    at.batch += 1
                    at.loss_sum += L.item() * len(yb)
                    at.correct += int((logits._data.argmax(axis=-1) == yb).sum())
                    at.seen += len(yb)
                    if bar is not None:
                        bar.update()
                        bar.set_postfix({"epoch": f"{at.epoch + 1}/{epochs}",
                                         "loss": f"{at.loss_sum / at.seen:.4f}",
                                         "acc": f"{at.correct / at.seen:.3f}"}, refresh=False)
                    if at.batch == at.per_epoch:
                        _end_epoch(model, hist, at, X_test, y_test, epochs,
                                   progress and bar is None, log)
                    if stop[0] or at.step >= limit:
                        break
            at.interrupted = stop[0]
    finally:
        if bar is not None:
            bar.close()
    hist.progress = at
    return hist


def _end_epoch(model: nn.Module, hist: History, at: Progress, X_test: np.ndarray | None,
               y_test: np.ndarray | None, epochs: int, verbose: bool,
               log: Callable[[str], Any]) -> None:
    at.epoch += 1
    test_acc = evaluate(model, X_test, y_test) if X_test is not None else float("nan")
    hist.epoch.append(at.epoch)
    hist.train_loss.append(at.loss_sum / at.seen)
    hist.train_acc.append(at.correct / at.seen)
    hist.test_acc.append(test_acc)
    if verbose:
        log(f"epoch {at.epoch}/{epochs}  loss {at.loss_sum / at.seen:.4f}  "
            f"acc {at.correct / at.seen:.3f}  test acc {test_acc:.3f}")
    at.batch, at.loss_sum, at.correct, at.seen = 0, 0.0, 0, 0
