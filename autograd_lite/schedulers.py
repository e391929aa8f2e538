"""Learning-rate schedulers with PyTorch's names, arguments and step semantics.

A scheduler sets ``optimizer.lr`` (and, for ``OneCycleLR``, the momentum or Adam's β₁). As in
PyTorch, constructing one already applies the value for step 0, and ``scheduler.step()`` is
called once per epoch (or per batch for ``OneCycleLR``) *after* ``optimizer.step()``.
``get_last_lr()`` returns ``[lr]`` (one group: this library's optimizers have one learning
rate). Each scheduler's counters are in ``state_dict()`` / ``load_state_dict()``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "LambdaLR", "LinearLR",
           "CosineAnnealingLR", "OneCycleLR", "ReduceLROnPlateau"]


def _check(owner: str, name: str, value: Any, lo: float = 0.0, hi: float = math.inf,
           integer: bool = False) -> Any:
    ok = not isinstance(value, bool) and isinstance(value, numbers.Integral if integer
                                                    else numbers.Real)
    if not ok or not lo <= value <= hi:
        kind = "an int" if integer else "a number"
        raise ValueError(f"{owner}: {name} must be {kind} in [{lo:g}, {hi:g}], got {value!r}")
    return int(value) if integer else float(value)


class LRScheduler:
    """Base class: ``lr_at(step)`` gives the learning rate after ``step`` calls to ``step()``."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an optimizer, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = -1
        self.step()

    def lr_at(self, step: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self) -> None:
        """Advance one step and set the optimizer's learning rate."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> list[float]:
        """The learning rate set by the last ``step()`` (a list, as PyTorch's)."""
        return [self.optimizer.lr]

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's settings and counters (not the optimizer, nor functions)."""
        return {k: v for k, v in vars(self).items() if k != "optimizer" and not callable(v)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        unknown = set(state) - set(self.state_dict())
        if unknown:
            raise KeyError(f"{type(self).__name__}.load_state_dict: unexpected keys "
                           f"{sorted(unknown)}")
        vars(self).update(state)


class StepLR(LRScheduler):
    """``lr = base_lr · gamma^(step // step_size)``.

    Example
    -------
    >>> opt = al.optim.SGD([al.nn.Parameter(np.zeros(1))], lr=1.0)
    >>> s = al.optim.StepLR(opt, step_size=2, gamma=0.5)
    >>> [(s.step(), opt.lr)[1] for _ in range(4)]
    [1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _check("StepLR", "step_size", step_size, 1, integer=True)
        self.gamma = _check("StepLR", "gamma", gamma)
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        return self.base_lr * self.gamma ** (step // self.step_size)


class MultiStepLR(LRScheduler):
    """``lr = base_lr · gamma^(number of milestones ≤ step)``.

    Example
    -------
    >>> opt = al.optim.SGD([al.nn.Parameter(np.zeros(1))], lr=1.0)
    >>> s = al.optim.MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
    >>> [(s.step(), opt.lr)[1] for _ in range(4)]
    [0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Optimizer, milestones: Any, gamma: float = 0.1) -> None:
        self.milestones = sorted(_check("MultiStepLR", "milestones", m, 0, integer=True)
                                 for m in milestones)
        self.gamma = _check("MultiStepLR", "gamma", gamma)
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        return self.base_lr * self.gamma ** sum(m <= step for m in self.milestones)


class ExponentialLR(LRScheduler):
    """``lr = base_lr · gamma^step``.

    Example
    -------
    >>> opt = al.optim.SGD([al.nn.Parameter(np.zeros(1))], lr=1.0)
    >>> s = al.optim.ExponentialLR(opt, gamma=0.5); s.step(); opt.lr
    0.5
    """

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = _check("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        return self.base_lr * self.gamma ** step


class LambdaLR(LRScheduler):
    """``lr = base_lr · lr_lambda(step)`` for a function of the step count.

    Example
    -------
    >>> opt = al.optim.SGD([al.nn.Parameter(np.zeros(1))], lr=1.0)
    >>> s = al.optim.LambdaLR(opt, lambda step: 1 / (1 + step)); s.step(); opt.lr
    0.5
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Any) -> None:
        if not callable(lr_lambda):
            raise TypeError(f"LambdaLR: lr_lambda must be a function of the step, got "
                            f"{type(lr_lambda).__name__}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        return self.base_lr * float(self.lr_lambda(step))


class LinearLR(LRScheduler):
    """The learning rate scaled by a factor going linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` steps, then constant.

    Example
    -------
    >>> opt = al.optim.SGD([al.nn.Parameter(np.zeros(1))], lr=1.0)
    >>> s = al.optim.LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> [opt.lr] + [(s.step(), opt.lr)[1] for _ in range(4)]
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5) -> None:
        self.start_factor = _check("LinearLR", "start_factor", start_factor, 1e-300, 1.0)
        self.end_factor = _check("LinearLR", "end_factor", end_factor, 0.0, 1.0)
        self.total_iters = _check("LinearLR", "total_iters", total_iters, 0, integer=True)
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        if self.total_iters == 0:
            return self.base_lr * self.end_factor
        frac = min(step, self.total_iters) / self.total_iters
        return self.base_lr * (self.start_factor + (self.end_factor - self.start_factor) * frac)


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base_lr − eta_min)·(1 + cos(π·step/T_max))/2`` (periodic beyond
    ``T_max``, as PyTorch's).

    Example
    -------
    >>> opt = al.optim.SGD([al.nn.Parameter(np.zeros(1))], lr=1.0)
    >>> s = al.optim.CosineAnnealingLR(opt, T_max=2)
    >>> [round((s.step(), opt.lr)[1], 6) for _ in range(2)]
    [0.5, 0.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max = _check("CosineAnnealingLR", "T_max", T_max, 1, integer=True)
        self.eta_min = _check("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (
            1 + math.cos(math.pi * step / self.T_max)) / 2


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin), PyTorch's: the learning rate rises from
    ``max_lr/div_factor`` to ``max_lr`` over the first ``pct_start`` of ``total_steps`` and
    anneals to ``max_lr/(div_factor·final_div_factor)`` (``three_phase``: back to the start
    first), while the momentum (SGD, RMSprop) or β₁ (Adam) moves the opposite way between
    ``max_momentum`` and ``base_momentum``. Step it once per batch.

    Example
    -------
    >>> opt = al.optim.SGD([al.nn.Parameter(np.zeros(1))], lr=0.1, momentum=0.9)
    >>> s = al.optim.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    >>> round(opt.lr, 6), opt.momentum      # max_lr / div_factor, max_momentum
    (0.04, 0.95)
    """

    def __init__(self, optimizer: Optimizer, max_lr: float, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: float = 0.85,
                 max_momentum: float = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False) -> None:
        name = "OneCycleLR"
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError(f"{name}: give total_steps, or epochs and steps_per_epoch")
            total_steps = (_check(name, "epochs", epochs, 1, integer=True)
                           * _check(name, "steps_per_epoch", steps_per_epoch, 1, integer=True))
        self.total_steps = _check(name, "total_steps", total_steps, 1, integer=True)
        pct = _check(name, "pct_start", pct_start, 0.0, 1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{name}: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        self.max_lr = _check(name, "max_lr", max_lr)
        initial = self.max_lr / _check(name, "div_factor", div_factor, 1e-300)
        low = initial / _check(name, "final_div_factor", final_div_factor, 1e-300)
        base_m = _check(name, "base_momentum", base_momentum)
        max_m = _check(name, "max_momentum", max_momentum)
        n = float(pct * self.total_steps)
        # (end step, start lr, end lr, start momentum, end momentum) per phase
        self.phases = ([(n - 1, initial, self.max_lr, max_m, base_m),
                        (2 * n - 2, self.max_lr, initial, base_m, max_m),
                        (self.total_steps - 1, initial, low, max_m, max_m)] if three_phase else
                       [(n - 1, initial, self.max_lr, max_m, base_m),
                        (self.total_steps - 1, self.max_lr, low, base_m, max_m)])
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum and not hasattr(optimizer, "momentum") and not hasattr(
                optimizer, "betas"):
            raise ValueError(f"{name}: {type(optimizer).__name__} has no momentum or betas to "
                             "cycle; pass cycle_momentum=False")
        super().__init__(optimizer)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def lr_at(self, step: int) -> float:
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, more than total_steps = "
                             f"{self.total_steps}")
        start = 0.0
        for i, (end, lr0, lr1, m0, m1) in enumerate(self.phases):
            if step <= end or i == len(self.phases) - 1:
                pct = (step - start) / (end - start)
                if self.cycle_momentum:
                    self._set_momentum(self._anneal(m0, m1, pct))
                return self._anneal(lr0, lr1, pct)
            start = end
        raise AssertionError("unreachable")  # pragma: no cover

    def _set_momentum(self, m: float) -> None:
        opt = self.optimizer
        if hasattr(opt, "betas"):
            opt.betas = (m, opt.betas[1])
        else:
            opt.momentum = m


class ReduceLROnPlateau:
    """Multiply the learning rate by ``factor`` when a metric has not improved for more than
    ``patience`` steps, PyTorch's rule (``mode``, ``threshold``, ``threshold_mode``,
    ``cooldown``, ``min_lr``, ``eps`` as there). Call ``step(metric)``.

    Example
    -------
    >>> opt = al.optim.SGD([al.nn.Parameter(np.zeros(1))], lr=1.0)
    >>> s = al.optim.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    >>> [(s.step(loss), opt.lr)[1] for loss in [3.0, 2.0, 2.0, 2.0, 2.0, 2.0]]
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float = 0.0, eps: float = 1e-8) -> None:
        name = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an optimizer, got {type(optimizer).__name__}")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{name}: mode must be 'min' or 'max' and threshold_mode 'rel' or "
                             f"'abs', got {mode!r} and {threshold_mode!r}")
        self.optimizer = optimizer
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor = _check(name, "factor", factor, 0.0, 1.0 - 1e-12)
        self.patience = _check(name, "patience", patience, 0, integer=True)
        self.threshold = _check(name, "threshold", threshold)
        self.cooldown = _check(name, "cooldown", cooldown, 0, integer=True)
        self.min_lr = _check(name, "min_lr", min_lr)
        self.eps = _check(name, "eps", eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0

    def _is_better(self, a: float) -> bool:
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return a < (self.best * (1 - self.threshold) if rel else self.best - self.threshold)
        return a > (self.best * (1 + self.threshold) if rel else self.best + self.threshold)

    def step(self, metrics: Any) -> None:
        """Record the metric of one epoch and reduce the learning rate if it has plateaued."""
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            raise TypeError(f"ReduceLROnPlateau.step: expected a number (the metric), got "
                            f"{type(metrics).__name__}") from None
        self.last_epoch += 1
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            old = self.optimizer.lr
            new = max(old * self.factor, self.min_lr)
            if old - new > self.eps:
                self.optimizer.lr = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0

    get_last_lr = LRScheduler.get_last_lr
    state_dict = LRScheduler.state_dict
    load_state_dict = LRScheduler.load_state_dict
