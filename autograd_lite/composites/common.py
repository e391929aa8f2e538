"""Helpers shared by the composite families: coercion and argument checks naming the function."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..ops.core import normalize_axes
from ..tensor import Tensor


def _int(v: Any, what: str, where: str) -> int:
    if isinstance(v, bool):
        raise TypeError(f"{where}: {what} must be an int, got {v!r:.40}")
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{where}: {what} must be an int, got {v!r:.40}") from None


def _axis(axis: Any, ndim: int, where: str) -> int:
    return normalize_axes(_int(axis, "axis", where), ndim, where)[0]


def _along(axis: int, index: Any) -> tuple:
    return (slice(None),) * axis + (index,)


def _ints(v: Any, where: str, what: str) -> np.ndarray:
    a = np.asarray(v.data if isinstance(v, Tensor) else v)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{where}: {what} must be integers, got dtype {a.dtype}")
    return a
