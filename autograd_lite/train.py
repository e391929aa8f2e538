"""``autograd-lite train`` as functions: :func:`run` and :func:`resume`, on the loop of
:mod:`autograd_lite.loop` (:func:`fit`, :func:`evaluate`, re-exported here).

:func:`run` is the whole command: options checked and memory estimated
first, then data, model, optimizer, training, and the run directory (checkpoint, optimizer state,
config, progress, per-epoch CSV and, with matplotlib — the ``plot`` extra — a loss/accuracy curve
PNG), also after an interruption. :func:`resume` continues a run bit for bit.
"""

from __future__ import annotations

import importlib.util
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from . import data as datasets
from . import nn, optim
from .blas import training_threads
from .checkpoint import atomic_write, load, save
from .loop import LOSSES, History, Progress, evaluate, fit
from .preflight import (
    OptionError,
    check_memory,
    finite_float,
    nonnegative_int,
    output_dir,
    positive_int,
)

__all__ = ["History", "Progress", "Config", "Result", "fit", "evaluate", "run", "resume",
           "parse_sizes", "estimate_memory", "DEFAULTS"]

OPTIMIZERS = ("sgd", "adam")

# Defaults per dataset (epochs, Adam learning rate), chosen so each trains in seconds and reaches
# >= 96 % test accuracy on digits and >= 97 % on moons and spirals.
DEFAULTS: dict[str, dict[str, Any]] = {
    "digits": {"epochs": 20, "lr": 3e-3},
    "moons": {"epochs": 30, "lr": 1e-2},
    "spirals": {"epochs": 60, "lr": 1e-2},
}
SGD_LR = 0.1   # SGD (momentum 0.9) default learning rate




def parse_sizes(text: str) -> tuple[int, ...]:
    """``"64,64"`` → ``(64, 64)``; every item a positive integer (``"64,,64"`` is an error).

    Example
    -------
    >>> parse_sizes("128, 64")
    (128, 64)
    """
    items = [s.strip() for s in str(text).split(",")]
    if not all(s.isdigit() and int(s) > 0 for s in items):
        raise OptionError("hidden", f"expected comma-separated positive integers such as "
                                    f"64,64, got {text!r}")
    return tuple(int(s) for s in items)


@dataclass
class Config:
    """Everything ``autograd-lite train`` needs (``hidden``: sizes, or text such as ``"64,64"``;
    ``None`` epochs/lr: the dataset's default; ``max_steps``: stop after this many optimizer
    steps in total)."""

    data: str = "digits"
    hidden: tuple[int, ...] = (64, 64)
    epochs: int | None = None
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float | None = None
    loss: str = "fused"
    seed: int = 0
    dtype: str = "float32"
    max_steps: int | None = None
    model: str = "mlp"   # "mlp" | "cnn" (nn.DigitsCNN, digits only)
    threads: int | None = None   # BLAS threads: None auto (1 for a small model), 0 BLAS's own

    def resolved(self) -> Config:
        """A copy with the dataset defaults filled in, after checking every option
        (:class:`~autograd_lite.preflight.OptionError` names the first bad one)."""
        for name, value, choices in (("data", self.data, datasets.DATASETS),
                                     ("optimizer", self.optimizer, OPTIMIZERS),
                                     ("loss", self.loss, LOSSES),
                                     ("dtype", self.dtype, ("float32", "float64"))):
            if value not in choices:
                raise OptionError(name, f"expected one of {', '.join(choices)}, got {value!r}")
        hidden = parse_sizes(self.hidden) if isinstance(self.hidden, str) else self.hidden
        try:
            hidden = tuple(positive_int("hidden", h) for h in hidden)
        except TypeError:
            raise OptionError("hidden", f"expected a sequence of positive integers, got "
                                        f"{self.hidden!r:.40}") from None
        if self.model not in ("mlp", "cnn") or (self.model == "cnn" and self.data != "digits"):
            raise OptionError("model", f"expected 'mlp' or 'cnn' (cnn with --data digits only), "
                                       f"got {self.model!r} with data {self.data!r}")
        d = DEFAULTS[self.data] if self.model == "mlp" else nn.DigitsCNN.DEFAULTS
        lr = self.lr if self.lr is not None else d["lr"] if self.optimizer == "adam" else SGD_LR
        return Config(self.data, hidden,
                      positive_int("epochs", d["epochs"] if self.epochs is None else self.epochs),
                      positive_int("batch_size", self.batch_size), self.optimizer,
                      finite_float("lr", lr, positive=True), self.loss,
                      nonnegative_int("seed", self.seed), self.dtype,
                      None if self.max_steps is None else positive_int("max_steps",
                                                                       self.max_steps),
                      self.model,
                      None if self.threads is None else nonnegative_int("threads", self.threads))


def estimate_memory(cfg: Config, n_in: int, n_out: int) -> int:
    """Bytes a run of ``cfg`` needs, roughly: weights, gradients and optimizer state (Adam's
    ``m`` and ``v``; SGD's momentum), the update's temporaries for the largest layer (three
    arrays of its size with Adam, two with SGD), and activations and their gradients for one
    batch."""
    sizes = [n_in, *cfg.hidden, n_out]
    layers = [a * b + b for a, b in zip(sizes[:-1], sizes[1:])]
    adam = cfg.optimizer == "adam"
    params = (4 if adam else 3) * sum(layers) + (3 if adam else 2) * max(layers)
    return np.dtype(cfg.dtype).itemsize * (params + 4 * cfg.batch_size * sum(sizes))


def make_optimizer(name: str, params: list, lr: float) -> optim.Optimizer:
    """``"adam"`` → Adam(lr); ``"sgd"`` → SGD(lr, momentum=0.9)."""
    if name == "adam":
        return optim.Adam(params, lr=lr)
    return optim.SGD(params, lr=lr, momentum=0.9)


@dataclass
class Result:
    """What :func:`run` or :func:`resume` produced (``progress.interrupted``: stopped by
    Ctrl-C; ``out``: the run directory actually written, if any)."""

    model: nn.Module
    history: History
    train_acc: float
    test_acc: float
    files: list[Path]
    progress: Progress = field(default_factory=Progress)
    out: Path | None = None


RUN_FILES = ("model.npz", "optimizer.npz", "config.json", "progress.json", "history.csv",
             "curves.png")


def next_run_dir(out: str | Path) -> Path:
    """``out`` if it holds no run yet, else the first of ``out-2``, ``out-3``... that does not:
    an earlier run is never overwritten."""
    out = Path(out)
    candidate, k = out, 1
    while candidate.is_dir() and any((candidate / f).exists() for f in RUN_FILES):
        k += 1
        candidate = out.with_name(f"{out.name}-{k}")
    return candidate


def _prepare(cfg: Config, out: str | Path | None, log: Callable[[str], Any]
             ) -> tuple[datasets.Split, Path | None]:
    """Checks before work: data, memory, output directory."""
    split = datasets.load(cfg.data, seed=cfg.seed, dtype=cfg.dtype)
    need = estimate_memory(cfg, split.X_train.shape[1], split.n_classes)
    check_memory("hidden", need, f"an MLP with hidden layers {','.join(map(str, cfg.hidden))} "
                                 f"in {cfg.dtype} ({cfg.optimizer})")
    if out is None:
        return split, None
    target = next_run_dir(out)
    if target != Path(out):
        log(f"{out} holds an earlier run; writing this one to {target}")
    return split, output_dir("out", target)


def run(config: Config, out: str | Path | None = None, *, progress: bool = True,
        log: Callable[[str], Any] = print) -> Result:
    """Train an MLP as ``config`` says; write the run directory ``out`` (a new numbered one,
    ``out-2``..., when ``out`` already holds a run). Options, memory and ``out`` are checked
    before any training (:class:`~autograd_lite.preflight.OptionError`).

    Example
    -------
    >>> res = run(Config(data="moons", epochs=5), "runs/moons")   # doctest: +SKIP
    >>> res.test_acc                                           # doctest: +SKIP
    """
    cfg = config.resolved()
    split, out_dir = _prepare(cfg, out, log)
    sizes = [split.X_train.shape[1], *cfg.hidden, split.n_classes]
    model = (nn.MLP(sizes, dtype=cfg.dtype, rng=cfg.seed) if cfg.model == "mlp" else
             nn.DigitsCNN(dtype=cfg.dtype, rng=cfg.seed))
    opt = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr)
    log(f"training {model.__class__.__name__}{model.sizes} on {cfg.data} "
        f"({len(split.X_train)} train / {len(split.X_test)} test), {cfg.optimizer} lr={cfg.lr}, "
        f"{cfg.loss} cross-entropy, {cfg.epochs} epochs of batch {cfg.batch_size}, {cfg.dtype}")
    return _train(cfg, split, model, opt, out_dir, Progress(), History(), progress, log)


def resume(out: str | Path, *, epochs: int | None = None, max_steps: int | None = None,
           progress: bool = True, log: Callable[[str], Any] = print,
           threads: int | None = None) -> Result:
    """Continue the run in directory ``out`` (written by :func:`run`, perhaps interrupted) from
    where it stopped, bit for bit as if it had never stopped; ``epochs`` / ``max_steps``
    replace the run's own totals (to train longer); ``threads`` the BLAS thread limit.

    Example
    -------
    >>> resume("runs/moons", epochs=10)          # doctest: +SKIP
    """
    d = Path(out)
    missing = [f for f in RUN_FILES[:4] if not (d / f).is_file()]
    if missing:
        raise OptionError("resume", f"{str(d)!r} is not a run directory written by "
                                    f"`autograd-lite train` (missing {', '.join(missing)})")
    try:
        saved = json.loads((d / "config.json").read_text())
        state = json.loads((d / "progress.json").read_text())
        known = {f.name for f in fields(Config)}
        cfg = Config(**{k: v for k, v in saved.items() if k in known})
        at = Progress(**state["progress"])
        hist = History(**state["history"])
    except (ValueError, TypeError, KeyError) as e:
        raise OptionError("resume", f"cannot read the run in {str(d)!r}: {e}") from None
    cfg.hidden = tuple(cfg.hidden)
    if epochs is not None:
        cfg.epochs = epochs
    if max_steps is not None:
        cfg.max_steps = max_steps
    cfg.threads = threads   # where the run continues, not what it computes
    cfg = cfg.resolved()
    if at.epoch >= cfg.epochs or (cfg.max_steps is not None and at.step >= cfg.max_steps):
        raise OptionError("epochs", f"the run in {str(d)!r} already finished {at.epoch} "
                                    f"epochs ({at.step} steps); pass a larger --epochs or "
                                    f"--max-steps to train longer")
    split, _ = _prepare(cfg, None, log)
    model = (nn.MLP(saved["sizes"], dtype=cfg.dtype, rng=cfg.seed) if cfg.model == "mlp" else
             nn.DigitsCNN(dtype=cfg.dtype, rng=cfg.seed))
    opt = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr)
    load(d / "model.npz", model)
    model.set_rng_states(state.get("rng", {}))
    load(d / "optimizer.npz", opt)
    output_dir("out", d, create=False)
    log(f"resuming {d} at epoch {at.epoch + 1}, batch {at.batch + 1} (step {at.step + 1}); "
        f"training to {cfg.epochs} epochs")
    return _train(cfg, split, model, opt, d, at, hist, progress, log)


def _train(cfg: Config, split: datasets.Split, model: nn.Module, opt: optim.Optimizer,
           out: Path | None, at: Progress, hist: History, progress: bool,
           log: Callable[[str], Any]) -> Result:
    with training_threads(cfg.threads, (p.size for p in model.parameters()), log):
        hist = fit(model, opt, split.X_train, split.y_train, epochs=cfg.epochs,
                   batch_size=cfg.batch_size, loss=cfg.loss, seed=cfg.seed, X_test=split.X_test,
                   y_test=split.y_test, progress=progress, log=log, max_steps=cfg.max_steps,
                   start=at, history=hist)
        train_acc = evaluate(model, split.X_train.astype(cfg.dtype), split.y_train)
        test_acc = evaluate(model, split.X_test.astype(cfg.dtype), split.y_test)
    at = hist.progress
    if at.interrupted:
        log(f"stopped after step {at.step} (epoch {at.epoch + 1}, batch {at.batch}): train "
            f"accuracy {train_acc:.4f}  test accuracy {test_acc:.4f}")
    else:
        log(f"final train accuracy {train_acc:.4f}  test accuracy {test_acc:.4f}")
    files = [] if out is None else write_outputs(out, model, opt, hist, at, cfg, test_acc, log)
    if out is not None and (at.interrupted or at.epoch < cfg.epochs):
        log(f"continue this run with: autograd-lite train --resume {out}")
    return Result(model, hist, train_acc, test_acc, files, at, out)


def write_outputs(out: Path, model: nn.Module, opt: optim.Optimizer, hist: History,
                  at: Progress, cfg: Config, test_acc: float = float("nan"),
                  log: Callable[[str], Any] = print) -> list[Path]:
    """Write the run directory (atomically; returns the paths): ``model.npz``, ``optimizer.npz``,
    ``config.json``, ``progress.json`` (where the run stopped, the history at full precision, the
    dropout generators), ``history.csv`` (a fractional last epoch: interrupted), ``curves.png``."""
    def text(path: Path, obj: Any) -> Path:
        data = (json.dumps(obj, indent=2) + "\n").encode()
        return atomic_write(path, lambda f: f.write(data), what="train")

    shown = History(**{k: list(v) for k, v in hist.figures().items()})
    if at.batch:            # an epoch in progress: shown as a fractional epoch
        shown.epoch.append(at.epoch + at.batch / at.per_epoch)
        shown.train_loss.append(at.loss_sum / at.seen)
        shown.train_acc.append(at.correct / at.seen)
        shown.test_acc.append(test_acc)
    files = [save(model, out / "model.npz"), save(opt, out / "optimizer.npz"),
             text(out / "config.json", {**asdict(cfg), "sizes": model.sizes}),
             text(out / "progress.json", {"progress": asdict(at), "history": hist.figures(),
                                          "rng": model.rng_states()}),
             shown.to_csv(out / "history.csv")]
    if importlib.util.find_spec("matplotlib") is not None:
        files.append(plot_history(shown, out / "curves.png", title=f"{cfg.data}, {cfg.loss} loss"))
    else:
        log("note: matplotlib is not installed (pip install 'autograd-lite[plot]'), so no "
            "curves.png; the per-epoch figures are in history.csv")
    for f in files:
        log(f"wrote {f}")
    return files


def plot_history(hist: History, path: str | Path, title: str = "") -> Path:
    """Loss and accuracy per epoch, side by side, saved as a PNG (matplotlib, no pyplot state;
    written atomically)."""
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
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100)
    return atomic_write(path, lambda f: f.write(png.getvalue()), what="plot_history")
