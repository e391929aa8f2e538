"""What the fused pairs share: the axis they work along, telling an ordinary backward (arrays)
from a recorded one (``create_graph=True``: Tensors), where a VJP must recompute what it saved so
that the second derivative sees it as a function of the inputs, and the composed softmax forms
such a VJP recomputes (also behind :func:`autograd_lite.functional.softmax` and ``log_softmax``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ops
from ..engine import Node
from ..tensor import Tensor

__all__ = ["recording", "one_axis", "keep", "array", "in_float32", "composed_log_softmax",
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


def in_float32(kernel: Callable) -> Callable:
    """``kernel`` (a fused forward or ordinary-backward VJP on arrays) run in float32 when its
    first argument is a float16 array, its result rounded to float16 once, as PyTorch's CPU
    kernels accumulate: in float16, a softmax VJP's ``g − Σ g·p`` cancels to ~10 % error where
    it is small (an ulp of 1 is 1e-3).

    Example
    -------
    >>> in_float32(lambda x: (x + 0.0004) - x)(np.ones(1, np.float16))   # in float16: 0
    array([0.0004], dtype=float16)
    """
    @functools.wraps(kernel)
    def run(*args: Any, **params: Any) -> Any:
        first = args[0]
        if type(first) is np.ndarray and first.dtype == np.float16:
            return kernel(*(a.astype(np.float32) if type(a) is np.ndarray
                            and a.dtype == np.float16 else a for a in args),
                          **params).astype(np.float16)
        return kernel(*args, **params)
    return run


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
