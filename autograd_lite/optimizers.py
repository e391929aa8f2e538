"""More optimizers — ``RMSprop``, ``Adagrad`` — and gradient clipping, with PyTorch's rules.

Like those in :mod:`autograd_lite.optim` (which re-exports these), each updates ``p.data`` in
place from ``p.grad`` (only read), keeping its state in ``self.state``: one dict of arrays per
parameter. Clipping replaces each ``p.grad`` by a new clipped tensor (a gradient array may be
shared, so it is never written).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _hyper
from .tensor import Tensor

__all__ = ["RMSprop", "Adagrad", "clip_grad_norm_", "clip_grad_value_"]


class RMSprop(Optimizer):
    """RMSprop, PyTorch's rule::

        g ← g + weight_decay · x
        s ← α s + (1 − α) g²
        a ← √(s − ḡ²) with ḡ ← α ḡ + (1 − α) g (centered=True), else √s;  a ← a + eps
        b ← momentum · b + g / a ;  x ← x − lr · b        (momentum > 0)
        x ← x − lr · g / a                                 (otherwise)

    Example
    -------
    >>> w = al.nn.Parameter(np.ones(2)); w.grad = al.tensor([1.0, -1.0])
    >>> al.optim.RMSprop([w], lr=0.01).step(); w.data.round(6)   # first: g/√(0.01 g²) = ±10
    array([0.9, 1.1])
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False) -> None:
        super().__init__(params, lr)
        self.alpha = _hyper("RMSprop", "alpha", alpha)
        self.eps = _hyper("RMSprop", "eps", eps)
        self.weight_decay = _hyper("RMSprop", "weight_decay", weight_decay)
        self.momentum = _hyper("RMSprop", "momentum", momentum)
        self.centered = bool(centered)

    def _update(self, x: np.ndarray, g: np.ndarray, state: dict) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(x)
        state["step"] += 1
        if self.weight_decay:
            g = g + self.weight_decay * x
        s = state["square_avg"]
        s *= self.alpha
        s += (1 - self.alpha) * (g * g)
        if self.centered:
            ga = state.setdefault("grad_avg", np.zeros_like(x))
            ga += (1 - self.alpha) * (g - ga)          # torch's lerp
            avg = np.sqrt(s - ga * ga)
        else:
            avg = np.sqrt(s)
        avg += self.eps
        if self.momentum > 0:
            b = state.setdefault("momentum_buffer", np.zeros_like(x))
            b *= self.momentum
            b += g / avg
            x -= self.lr * b
        else:
            x -= self.lr * (g / avg)


class Adagrad(Optimizer):
    """Adagrad, PyTorch's rule (``t`` counting steps from 1)::

        g ← g + weight_decay · x
        S ← S + g²                  (S starts at initial_accumulator_value)
        x ← x − lr / (1 + (t − 1)·lr_decay) · g / (√S + eps)

    Example
    -------
    >>> w = al.nn.Parameter(np.ones(2)); w.grad = al.tensor([2.0, -0.5])
    >>> al.optim.Adagrad([w], lr=0.1).step(); w.data        # first step: lr·sign(g)
    array([0.9, 1.1])
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10) -> None:
        super().__init__(params, lr)
        self.lr_decay = _hyper("Adagrad", "lr_decay", lr_decay)
        self.weight_decay = _hyper("Adagrad", "weight_decay", weight_decay)
        self.initial_accumulator_value = _hyper("Adagrad", "initial_accumulator_value",
                                                initial_accumulator_value)
        self.eps = _hyper("Adagrad", "eps", eps)

    def _update(self, x: np.ndarray, g: np.ndarray, state: dict) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(x, self.initial_accumulator_value)
        state["step"] = t = state["step"] + 1
        if self.weight_decay:
            g = g + self.weight_decay * x
        clr = self.lr / (1 + (t - 1) * self.lr_decay)
        s = state["sum"]
        s += g * g
        std = np.sqrt(s)
        std += self.eps
        x -= clr * (g / std)


# ---------------------------------------------------------------------------------------------
# Gradient clipping (PyTorch's torch.nn.utils.clip_grad_norm_ / clip_grad_value_)


def _with_grads(parameters: Any, where: str) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    elif not isinstance(parameters, Iterable):
        raise TypeError(f"{where}: expected a Tensor or an iterable of Tensors (e.g. "
                        f"model.parameters()), got {type(parameters).__name__}")
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{where}: item {i} is a {type(p).__name__}, not a Tensor")
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so their joint ``norm_type``-norm is at most ``max_norm``
    (by ``max_norm / (norm + 1e-6)`` when larger, as PyTorch); returns the norm before clipping.

    Example
    -------
    >>> w = al.nn.Parameter(np.zeros(2)); w.grad = al.tensor([3.0, 4.0])
    >>> al.optim.clip_grad_norm_([w], max_norm=1.0), w.grad.data.round(6)
    (Tensor(5., dtype=float64), array([0.6, 0.8]))
    """
    where = "clip_grad_norm_"
    _hyper(where, "max_norm", max_norm)
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real) or norm_type <= 0:
        raise ValueError(f"{where}: norm_type must be a positive number or inf, got "
                         f"{norm_type!r}")
    params = _with_grads(parameters, where)
    if not params:
        return Tensor(np.array(0.0, dtype=np.float32))
    grads = [p.grad._data for p in params]
    dtype = np.result_type(*grads)
    if math.isinf(norm_type):
        norms = [np.max(np.abs(g), initial=0) for g in grads]
        total = np.max(np.array(norms, dtype=dtype))
    else:
        norms = [np.sum(np.abs(g) ** norm_type) ** (1.0 / norm_type) for g in grads]
        total = np.sum(np.array(norms, dtype=dtype) ** norm_type) ** (1.0 / norm_type)
    total = np.asarray(total, dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"{where}: the total norm of order {norm_type} of the gradients is "
                           f"{total}; it cannot be clipped (error_if_nonfinite=True)")
    coef = min(max_norm / (total + 1e-6), 1.0)
    for p in params:
        g = p.grad._data
        p.grad = Tensor._leaf(g * np.asarray(coef, dtype=g.dtype))
    return Tensor._leaf(total)


def clip_grad_value_(parameters: Any, clip_value: float) -> None:
    """Clamp every gradient element to ``[−clip_value, clip_value]``, as PyTorch.

    Example
    -------
    >>> w = al.nn.Parameter(np.zeros(3)); w.grad = al.tensor([-5.0, 0.5, 2.0])
    >>> al.optim.clip_grad_value_([w], 1.0); w.grad
    Tensor([-1. ,  0.5,  1. ], dtype=float64)
    """
    v = _hyper("clip_grad_value_", "clip_value", clip_value)
    for p in _with_grads(parameters, "clip_grad_value_"):
        p.grad = Tensor._leaf(np.clip(p.grad._data, -v, v))
