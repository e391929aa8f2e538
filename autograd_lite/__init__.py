"""autograd_lite: a small, readable reverse-mode automatic differentiation engine on NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import functional, ops
from .engine import backward, enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck
from .tensor import (
    Tensor,
    arange,
    as_tensor,
    eye,
    full,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)

__version__ = "0.1.0"


def _t(x: Any) -> Tensor:
    return as_tensor(x)


def add(x: Any, y: Any) -> Tensor:
    """``x + y`` with broadcasting."""
    return ops.add(_t(x), y)


def sub(x: Any, y: Any) -> Tensor:
    """``x − y`` with broadcasting."""
    return ops.sub(_t(x), y)


def mul(x: Any, y: Any) -> Tensor:
    """``x ⊙ y`` with broadcasting."""
    return ops.mul(_t(x), y)


def div(x: Any, y: Any) -> Tensor:
    """``x / y`` with broadcasting."""
    return ops.div(_t(x), y)


def matmul(x: Any, y: Any) -> Tensor:
    """Matrix product with NumPy's ``@`` rules (1-D operands, broadcast batch dimensions)."""
    return ops.matmul(_t(x), y)


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise maximum; at ties each input gets half the gradient."""
    return ops.maximum(_t(x), y)


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise minimum; at ties each input gets half the gradient."""
    return ops.minimum(_t(x), y)


def where(cond: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``cond`` is true, else ``y`` (the condition carries no gradient)."""
    c = cond.data if isinstance(cond, Tensor) else cond
    return ops.where(_t(x), y, cond=np.asarray(c, dtype=bool))


def exp(x: Any) -> Tensor:
    """Elementwise ``e**x``."""
    return ops.exp(_t(x))


def log(x: Any) -> Tensor:
    """Elementwise natural logarithm."""
    return ops.log(_t(x))


def sqrt(x: Any) -> Tensor:
    """Elementwise square root."""
    return ops.sqrt(_t(x))


def tanh(x: Any) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return ops.tanh(_t(x))


def sigmoid(x: Any) -> Tensor:
    """Elementwise logistic function ``1 / (1 + e**−x)``, stable for large ``|x|``."""
    return ops.sigmoid(_t(x))


def relu(x: Any) -> Tensor:
    """Elementwise ``max(x, 0)``; its gradient at 0 is 0."""
    return ops.relu(_t(x))


def clip(x: Any, lo: float | None = None, hi: float | None = None) -> Tensor:
    """Limit ``x`` to ``[lo, hi]``."""
    return _t(x).clip(lo, hi)


def concatenate(xs: Any, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    return ops.concatenate(*[_t(x) for x in xs], axis=axis)


def stack(xs: Any, axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    ts = [_t(x) for x in xs]
    if not ts:
        raise ValueError("stack: need at least one tensor")
    shapes = {t.shape for t in ts}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    return ops.concatenate(*[t.unsqueeze(axis) for t in ts], axis=axis)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis``."""
    return _t(x).sum(axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``."""
    return _t(x).mean(axis, keepdims)


def reshape(x: Any, shape: Any) -> Tensor:
    """``x`` in a new shape."""
    return _t(x).reshape(shape)


def transpose(x: Any, axes: Any = None) -> Tensor:
    """Permute the axes of ``x``."""
    return _t(x).transpose(axes)


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """Broadcast ``x`` to ``shape``."""
    return _t(x).broadcast_to(shape)


softmax = functional.softmax
log_softmax = functional.log_softmax
logsumexp = functional.logsumexp

__all__ = [
    "GradcheckError", "Tensor", "add", "arange", "as_tensor", "backward", "broadcast_to", "clip",
    "concatenate", "div", "enable_grad", "exp", "eye", "full", "functional", "gradcheck",
    "is_grad_enabled", "log", "log_softmax", "logsumexp", "matmul", "maximum", "mean", "minimum",
    "mul", "no_grad", "ones", "ones_like", "rand", "randn", "relu", "reshape", "sigmoid",
    "softmax", "sqrt", "stack", "sub", "sum", "tanh", "tensor", "transpose", "where", "zeros",
    "zeros_like",
]
