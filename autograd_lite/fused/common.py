"""What the fused pairs share: the axis they work along, and telling an ordinary backward (arrays)
from a recorded one (``create_graph=True``: Tensors), where a VJP must recompute what it saved so
that the second derivative sees it as a function of the inputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..engine import Node
from ..tensor import Tensor, as_tensor

__all__ = ["recording", "floating", "one_axis", "keep", "array"]


def recording(*xs: Any) -> bool:
    """Whether a VJP runs under ``create_graph=True`` (its inputs are graph nodes)."""
    return any(isinstance(x, Node) for x in xs)


def floating(x: Any, name: str, what: str = "input") -> Tensor:
    """``x`` as a floating-point Tensor, else a clear error naming ``name``."""
    try:
        t = as_tensor(x, name)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{name}: {what}: {str(e).removeprefix('Tensor: ')}") from None
    if t.dtype.kind != "f":
        raise TypeError(f"{name}: expected floating-point input, got dtype {t.dtype}")
    return t


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
