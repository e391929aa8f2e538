"""The ``Optimizer`` base class (state, ``state_dict``), ``SGD`` (momentum, dampening, Nesterov,
weight decay), ``Adam`` and ``AdamW`` (with AMSGrad). Users reach them, with ``RMSprop``,
``Adagrad``, gradient clipping (:mod:`autograd_lite.optimizers`) and the learning-rate schedulers
(:mod:`autograd_lite.schedulers`), through :mod:`autograd_lite.optim`.

Each follows PyTorch's update rule exactly (same order of operations, bias
correction and ``eps`` added after the square root), so runs can be compared step by step.
State lives in ``self.state``, one dict per parameter.
Updates are written in NumPy, in place into each ``p.data``; gradients are only read (a gradient
array may be shared with other tensors, so it is never modified).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .inplace import touch
from .module import Module
from .tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]


def _hyper(owner: str, name: str, value: Any, hi: float | None = None) -> float:
    """A finite real hyperparameter ``>= 0`` (and ``< hi`` when given), else a clear error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {type(value).__name__} "
                        f"{value!r:.40}")
    if not (0.0 <= value < math.inf if hi is None else 0.0 <= value < hi):
        bound = ">= 0 and finite" if hi is None else f"in [0, {hi:g})"
        raise ValueError(f"{owner}: {name} must be {bound}, got {value}")
    return float(value)


class Optimizer:
    """Base class: holds the parameters and one state dict per parameter."""

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        where = type(self).__name__
        if isinstance(params, (Tensor, Module)) or not isinstance(params, Iterable):
            raise TypeError(f"{where}: params must be an iterable of Tensors (e.g. "
                            f"model.parameters()), got {type(params).__name__}")
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad or p.dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}: parameter {i} must be a floating-point "
                                f"Tensor that requires grad, got {p!r:.60}")
        self.lr = _hyper(where, "lr", lr)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Drop every parameter's gradient (``p.grad = None``)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        for p, state in zip(self.params, self.state):
            if p.grad is not None:
                self._update(p._data, p.grad._data, state)
                touch(p)   # graphs recorded before this step must not backpropagate

    def _update(self, x: np.ndarray, g: np.ndarray, state: dict) -> None:  # pragma: no cover
        raise NotImplementedError

    # -- checkpoints ---------------------------------------------------------------------------

    def _hyperparameters(self) -> dict[str, Any]:
        """The public numeric settings (``lr``, ``momentum``, ``betas``...) of this optimizer."""
        return {k: v for k, v in vars(self).items()
                if not k.startswith("_") and k not in ("params", "state")
                and isinstance(v, (numbers.Real, tuple))}

    def state_dict(self) -> dict[str, np.ndarray]:
        """Everything needed to resume exactly, as flat numeric arrays (``save`` writes them).

        PyTorch's layout, flattened: ``state.<i>.<name>`` for parameter ``i``'s state (Adam's
        ``step``, ``m``, ``v``; SGD's ``momentum_buffer``) and ``hyper.<name>`` for the
        hyperparameters (``lr``, ``betas``...). Arrays are copies.

        Example
        -------
        >>> model = al.nn.MLP([2, 3], rng=0)
        >>> opt = Adam(model.parameters())
        >>> sorted(opt.state_dict())
        ['hyper.amsgrad', 'hyper.betas', 'hyper.eps', 'hyper.lr', 'hyper.weight_decay']
        >>> al.nn.save(opt, "optimizer.npz")              # doctest: +SKIP
        >>> al.nn.load("optimizer.npz", opt)              # doctest: +SKIP
        """
        out = {f"hyper.{k}": np.array(v) for k, v in self._hyperparameters().items()}
        for i, state in enumerate(self.state):
            for k, v in state.items():
                out[f"state.{i}.{k}"] = np.array(v)
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> Optimizer:
        """Restore :meth:`state_dict`'s arrays: per-parameter state (checked against each
        parameter's shape and dtype) and hyperparameters. Nothing changes when a check fails."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"{where}: expected a mapping of names to arrays, got "
                            f"{type(state).__name__}")
        hyper = self._hyperparameters()
        missing = [f"hyper.{k}" for k in hyper if f"hyper.{k}" not in state]
        known = {f"hyper.{k}" for k in hyper}
        unexpected = [k for k in state if not k.startswith("state.") and k not in known]
        if missing or unexpected:
            raise KeyError(f"{where}: missing keys {missing}, unexpected keys {unexpected} "
                           f"(a state of another optimizer?)")
        new_hyper = {}
        for k, old in hyper.items():
            v = np.asarray(state[f"hyper.{k}"])
            if v.shape != np.shape(old):
                raise ValueError(f"{where}: hyper.{k} has shape {v.shape}, expected "
                                 f"{np.shape(old)}")
            new_hyper[k] = tuple(v.tolist()) if isinstance(old, tuple) else type(old)(v.item())
        per_param: list[dict[str, Any]] = [{} for _ in self.params]
        for key, v in state.items():
            if not key.startswith("state."):
                continue
            i, _, name = key[6:].partition(".")
            if not i.isdigit() or int(i) >= len(self.params) or not name:
                raise KeyError(f"{where}: unexpected key {key!r} ({len(self.params)} parameters)")
            p, v = self.params[int(i)], np.asarray(v)
            if v.ndim == 0 and v.dtype.kind in "biu":
                per_param[int(i)][name] = int(v)          # a step count
            elif v.shape != p.shape or v.dtype != p.dtype:
                raise ValueError(f"{where}: {key} has shape {v.shape} and dtype {v.dtype}; "
                                 f"parameter {i} has shape {p.shape} and dtype {p.dtype}")
            else:
                per_param[int(i)][name] = np.array(v)     # an owned, writable copy
        for k, v in new_hyper.items():
            setattr(self, k, v)
        self.state = per_param
        return self


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's rule::

        g ← g + weight_decay · x
        b ← g (first step), else momentum · b + (1 − dampening) · g
        g ← g + momentum · b (Nesterov), else b      (only when momentum ≠ 0)
        x ← x − lr · g

    Example
    -------
    >>> w = al.Tensor([1.0, 2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> (w * w).sum().backward(); opt.step(); opt.zero_grad()
    >>> w
    Tensor([0.8, 1.6], dtype=float64, requires_grad=True)
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, momentum: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False,
                 dampening: float = 0.0) -> None:
        super().__init__(params, lr)
        momentum = _hyper("SGD", "momentum", momentum)
        self.dampening = _hyper("SGD", "dampening", dampening)
        if nesterov and (momentum <= 0 or self.dampening != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0")
        self.momentum = momentum
        self.weight_decay = _hyper("SGD", "weight_decay", weight_decay)
        self.nesterov = nesterov

    def _update(self, x: np.ndarray, g: np.ndarray, state: dict) -> None:
        if self.weight_decay:
            g = g + self.weight_decay * x
        if self.momentum:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = np.array(g)    # an array even for 0-d
            else:
                b *= self.momentum
                b += g if self.dampening == 0 else (1 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        x -= self.lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's rule, ``t`` counting steps from 1::

        g ← g + weight_decay · x                     (L2 penalty; AdamW decouples it)
        m ← β₁ m + (1 − β₁) g ;  v ← β₂ v + (1 − β₂) g²
        v̂ ← max(v̂, v) (amsgrad=True), else v̂ = v
        x ← x − lr / (1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + eps)

    Example
    -------
    >>> w = al.Tensor([1.0, -1.0], requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w                                          # each moves by lr on its first step
    Tensor([ 0.9, -0.9], dtype=float64, requires_grad=True)
    """

    decoupled = False

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(params, lr)
        where = type(self).__name__
        self.amsgrad = bool(amsgrad)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{where}: betas must be a pair of numbers, got {betas!r:.40}")
        self.betas = (_hyper(where, "betas", betas[0], 1.0),
                      _hyper(where, "betas", betas[1], 1.0))
        self.eps = _hyper(where, "eps", eps)
        self.weight_decay = _hyper(where, "weight_decay", weight_decay)

    def _update(self, x: np.ndarray, g: np.ndarray, state: dict) -> None:
        b1, b2 = self.betas
        if not state:
            state["step"] = 0
            state["m"] = np.zeros_like(x)
            state["v"] = np.zeros_like(x)
        state["step"] = t = state["step"] + 1
        m, v = state["m"], state["v"]
        if self.weight_decay:
            if self.decoupled:
                x *= 1 - self.lr * self.weight_decay
            else:
                g = g + self.weight_decay * x
        # In place, through one scratch array d (the same operations, in the same order, as
        # m += (1 − β₁)(g − m); v += (1 − β₂) g²; x −= step_size · m / (√v / √(1 − β₂ᵗ) + eps)).
        d = np.empty_like(m)             # (an ndarray even for a 0-d parameter)
        np.subtract(g, m, out=d)
        d *= 1 - b1
        m += d                           # m ← β₁ m + (1 − β₁) g, as torch's lerp
        np.multiply(g, g, out=d)
        d *= 1 - b2
        v *= b2
        v += d
        step_size = self.lr / (1 - b1 ** t)
        if self.amsgrad:
            v = state["v_max"] = np.maximum(state.get("v_max", v), v)
        np.sqrt(v, out=d)
        d /= np.sqrt(1 - b2 ** t)
        d += self.eps
        np.divide(m, d, out=d)
        d *= step_size
        x -= d


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch's rule: first
    ``x ← x · (1 − lr · weight_decay)``, then the Adam step without the L2 term.
    ``weight_decay`` defaults to 0.01, as in PyTorch.

    Example
    -------
    >>> w = al.Tensor([1.0], requires_grad=True)
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * 0.0).sum().backward(); opt.step()    # a zero gradient: only the decay acts
    >>> w
    Tensor([0.95], dtype=float64, requires_grad=True)
    """

    decoupled = True

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01, amsgrad: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
