"""What the fused pairs share: the axis they work along, telling an ordinary backward (arrays)
from a recorded one (``create_graph=True``: Tensors), where a VJP must recompute what it saved so
that the second derivative sees it as a function of the inputs, and the composed softmax forms
such a VJP recomputes (also behind :func:`autograd_lite.functional.softmax` and ``log_softmax``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..engine import Node
from ..tensor import Tensor

__all__ = ["recording", "one_axis", "keep", "array", "composed_log_softmax",
           "composed_softmax"]


def recording(*xs: Any) -> bool:
    """Whether a VJP runs under ``create_graph=True`` (its inputs are graph nodes)."""
    return any(isinstance(x, Node) for x in xs)


def one_axis(axis: Any, ndim: int, name: str) -> int | None:
    """``axis`` as a non-negative int (``None`` for a 0-d input, which takes axis 0 or -1)."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int, got {axis!r:.40}")
    ops.normalize_axes(axis, ndim, name)
    return int(axis) % ndim if ndim else None


def keep(a: Any, axis: int | None) -> Any:
    """A sum along ``axis``, kept (length 1) so it broadcasts back (all of a 0-d array)."""
    return a.sum(axis=axis, keepdims=True)


def array(a: Any) -> np.ndarray:
    """``a`` as an ndarray (NumPy returns scalars for 0-d results; in-place work needs arrays)."""
    return a if type(a) is np.ndarray else np.asarray(a)


def composed_log_softmax(x: Any, axis: int) -> Any:
    """``(x − m) − log Σ exp(x − m)`` of primitives on a checked floating-point Tensor (plain
    NumPy on an ndarray); ``m``, the max, is a constant."""
    m = x.max(axis=axis, keepdims=True)
    shifted = x - (m.detach() if isinstance(m, Tensor) else m)
    return shifted - ops.logsumexp(shifted, axis=axis, keepdims=True)


def composed_softmax(x: Tensor, axis: int, naive: bool = False) -> Tensor:
    """``exp(x − m) / Σ exp(x − m)`` of primitives on a checked floating-point Tensor (no
    shift when ``naive``)."""
    if not naive:
        x = x - x.max(axis=axis, keepdims=True).detach()
    with np.errstate(over="ignore", invalid="ignore"):
        e = x.exp()
        return e / e.sum(axis=axis, keepdims=True)
