"""autograd_lite: a small, readable reverse-mode automatic differentiation engine on NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import data, functional, nn, ops, optim
from .compare import compare_gradients
from .engine import (
    AnomalyError,
    backward,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .interop import from_dlpack
from .scalar import Scalar, grads, scalars, values
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
from .transforms import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from .viz import draw_graph, draw_side_by_side, explain, graph_stats, save_graph

__version__ = "0.1.0"


def _t(x: Any, where: str) -> Tensor:
    """``x`` as a Tensor; bad data (strings, None, objects, ragged lists) is reported by name."""
    try:
        return as_tensor(x)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{where}: {str(e).removeprefix('Tensor: ')}") from None


def add(x: Any, y: Any) -> Tensor:
    """``x + y`` with broadcasting."""
    return ops.add(_t(x, "add"), _operand(y, "add"))


def sub(x: Any, y: Any) -> Tensor:
    """``x − y`` with broadcasting."""
    return ops.sub(_t(x, "sub"), _operand(y, "sub"))


def mul(x: Any, y: Any) -> Tensor:
    """``x ⊙ y`` with broadcasting."""
    return ops.mul(_t(x, "mul"), _operand(y, "mul"))


def div(x: Any, y: Any) -> Tensor:
    """``x / y`` with broadcasting."""
    return ops.div(_t(x, "div"), _operand(y, "div"))


def matmul(x: Any, y: Any) -> Tensor:
    """Matrix product with NumPy's ``@`` rules (1-D operands, broadcast batch dimensions)."""
    return ops.matmul(_t(x, "matmul"), _operand(y, "matmul"))


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise maximum; at ties each input gets half the gradient."""
    return ops.maximum(_t(x, "maximum"), _operand(y, "maximum"))


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise minimum; at ties each input gets half the gradient."""
    return ops.minimum(_t(x, "minimum"), _operand(y, "minimum"))


def where(cond: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``cond`` is true, else ``y`` (the condition carries no gradient)."""
    c = np.asarray(cond._data if isinstance(cond, Tensor) else cond)
    if c.dtype.kind not in "biuf":
        raise TypeError(f"where: the condition must be boolean (or numbers), got dtype {c.dtype}")
    return ops.where(_t(x, "where"), _operand(y, "where"), cond=c.astype(bool, copy=False))


def exp(x: Any) -> Tensor:
    """Elementwise ``e**x``."""
    return ops.exp(_t(x, "exp"))


def log(x: Any) -> Tensor:
    """Elementwise natural logarithm."""
    return ops.log(_t(x, "log"))


def sqrt(x: Any) -> Tensor:
    """Elementwise square root."""
    return ops.sqrt(_t(x, "sqrt"))


def tanh(x: Any) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return ops.tanh(_t(x, "tanh"))


def sigmoid(x: Any) -> Tensor:
    """Elementwise logistic function ``1 / (1 + e**−x)``, stable for large ``|x|``."""
    return ops.sigmoid(_t(x, "sigmoid"))


def relu(x: Any) -> Tensor:
    """Elementwise ``max(x, 0)``; its gradient at 0 is 0."""
    return ops.relu(_t(x, "relu"))


def clip(x: Any, lo: float | None = None, hi: float | None = None) -> Tensor:
    """Limit ``x`` to ``[lo, hi]``."""
    return _t(x, "clip").clip(lo, hi)


def _operand(y: Any, where: str) -> Any:
    """The second operand of a binary function, checked to hold numbers (Python numbers stay
    numbers, so they take the dtype of the Tensor they meet)."""
    if isinstance(y, (Tensor, int, float)):
        return y
    kind = np.asarray(y).dtype.kind if not isinstance(y, np.ndarray) else y.dtype.kind
    if kind not in "biuf":
        raise TypeError(f"{where}: expected numbers (a Tensor, ndarray, list or Python number), "
                        f"got {type(y).__name__} with dtype {np.asarray(y).dtype}")
    return y


def _sequence(xs: Any, where: str) -> list[Tensor]:
    if isinstance(xs, (Tensor, np.ndarray, str)) or not hasattr(xs, "__iter__"):
        raise TypeError(f"{where}: expected a list or tuple of tensors, got {type(xs).__name__}")
    ts = [_t(x, where) for x in xs]
    if not ts:
        raise ValueError(f"{where}: need at least one tensor")
    return ts


def concatenate(xs: Any, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    ts = _sequence(xs, "concatenate")
    return ops.concatenate(*ts, axis=axis)


def stack(xs: Any, axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    ts = _sequence(xs, "stack")
    shapes = {t.shape for t in ts}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    return ops.concatenate(*[t.unsqueeze(axis) for t in ts], axis=axis)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis``."""
    return _t(x, "sum").sum(axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``."""
    return _t(x, "mean").mean(axis, keepdims)


def reshape(x: Any, shape: Any) -> Tensor:
    """``x`` in a new shape."""
    return _t(x, "reshape").reshape(shape)


def transpose(x: Any, axes: Any = None) -> Tensor:
    """Permute the axes of ``x``."""
    return _t(x, "transpose").transpose(axes)


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """Broadcast ``x`` to ``shape``."""
    return _t(x, "broadcast_to").broadcast_to(shape)


softmax = functional.softmax
log_softmax = functional.log_softmax
logsumexp = functional.logsumexp
cross_entropy = functional.cross_entropy

__all__ = [
    "GradcheckError", "Tensor", "add", "arange", "as_tensor", "backward", "broadcast_to", "clip",
    "concatenate", "data", "div", "enable_grad", "exp", "eye", "full", "functional", "gradcheck",
    "is_grad_enabled", "log", "log_softmax", "logsumexp", "matmul", "maximum", "mean", "minimum",
    "mul", "nn", "no_grad", "ones", "ones_like", "optim", "rand", "randn", "relu", "reshape",
    "sigmoid", "softmax", "sqrt", "stack", "sub", "sum", "tanh", "tensor", "transpose", "where",
    "zeros", "zeros_like",
    "grad", "gradgradcheck", "hessian", "hvp", "jacobian", "jvp", "value_and_grad", "vjp",
    "Scalar", "grads", "scalars", "values",
    "compare_gradients", "cross_entropy",
    "draw_graph", "draw_side_by_side", "explain", "graph_stats", "save_graph",
    "AnomalyError", "detect_anomaly", "is_anomaly_enabled",
    "from_dlpack",
]
