"""Creation functions: tensors from data, shapes and random generators."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .ops import error_kind
from .tensor import Tensor

__all__ = ["tensor", "zeros", "ones", "zeros_like", "ones_like", "randn", "rand", "arange", "eye",
           "full"]

ArrayLike = Any


def tensor(data: ArrayLike, requires_grad: bool = False, dtype: Any = None,
           name: str | None = None) -> Tensor:
    """A new Tensor holding a copy of ``data``.

    Example
    -------
    >>> al.tensor([1, 2], dtype=np.float32)
    Tensor([1., 2.], dtype=float32)
    """
    raw = data._data if isinstance(data, Tensor) else data
    if dtype is not None:
        raw = np.array(raw, dtype=dtype, copy=True)
    elif isinstance(raw, np.ndarray):
        raw = raw.copy()
    return Tensor(raw, requires_grad=requires_grad, name=name)


def _shape(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, numbers.Integral):
            raise TypeError(f"shape must be non-negative integers, got {shape!r}")
        if s < 0:
            raise ValueError(f"shape must be non-negative integers, got {shape!r}")
    return tuple(int(s) for s in shape)


def _factory(name: str, make: Callable[[], np.ndarray], requires_grad: bool) -> Tensor:
    """``Tensor(make())``, with NumPy's errors (a bad shape or dtype, an allocation too large
    for memory) re-raised naming the factory."""
    try:
        return Tensor(make(), requires_grad=requires_grad)
    except (MemoryError, TypeError, ValueError) as e:
        msg = str(e).removeprefix("Tensor: ")
        raise error_kind(e)(f"{name}: {msg}") from None


def _raw(t: Any) -> Any:
    return t._data if isinstance(t, Tensor) else t


def zeros(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros.

    Example
    -------
    >>> al.zeros(2, 3).shape
    (2, 3)
    """
    return _factory("zeros", lambda: np.zeros(_shape(shape), dtype=dtype), requires_grad)


def ones(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of ones.

    Example
    -------
    >>> al.ones(2)
    Tensor([1., 1.], dtype=float64)
    """
    return _factory("ones", lambda: np.ones(_shape(shape), dtype=dtype), requires_grad)


def full(shape: Sequence[int], value: float, dtype: Any = np.float64,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``value``.

    Example
    -------
    >>> al.full((2,), 7.0)
    Tensor([7., 7.], dtype=float64)
    """
    return _factory("full", lambda: np.full(_shape((shape,)), value, dtype=dtype), requires_grad)


def zeros_like(t: ArrayLike, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype) of ``t``.

    Example
    -------
    >>> al.zeros_like(al.ones(2, dtype=np.float32))
    Tensor([0., 0.], dtype=float32)
    """
    return _factory("zeros_like", lambda: np.zeros_like(_raw(t), dtype=dtype), requires_grad)


def ones_like(t: ArrayLike, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype) of ``t``.

    Example
    -------
    >>> al.ones_like([[0.0, 0.0]])
    Tensor([[1., 1.]], dtype=float64)
    """
    return _factory("ones_like", lambda: np.ones_like(_raw(t), dtype=dtype), requires_grad)


def randn(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False,
          rng: np.random.Generator | int | None = None) -> Tensor:
    """Standard normal samples (``rng`` a Generator or seed for reproducibility).

    Example
    -------
    >>> al.randn(2, 3, rng=0).shape
    (2, 3)
    """
    r = np.random.default_rng(rng)
    return _factory("randn", lambda: r.standard_normal(_shape(shape)).astype(dtype, copy=False),
                    requires_grad)


def rand(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False,
         rng: np.random.Generator | int | None = None) -> Tensor:
    """Uniform samples in [0, 1).

    Example
    -------
    >>> bool(((al.rand(100, rng=0).data >= 0) & (al.rand(100, rng=0).data < 1)).all())
    True
    """
    r = np.random.default_rng(rng)
    return _factory("rand", lambda: r.random(_shape(shape)).astype(dtype, copy=False),
                    requires_grad)


def arange(*args: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values, as ``np.arange`` (integer arguments give float64 by default).

    Example
    -------
    >>> al.arange(3)
    Tensor([0., 1., 2.], dtype=float64)
    """
    def make() -> np.ndarray:
        arr = np.arange(*args, dtype=dtype)
        return arr.astype(np.float64) if dtype is None and arr.dtype.kind in "iu" else arr
    return _factory("arange", make, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = np.float64,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix.

    Example
    -------
    >>> al.eye(2)
    Tensor([[1., 0.],
            [0., 1.]], dtype=float64)
    """
    return _factory("eye", lambda: np.eye(n, m, dtype=dtype), requires_grad)
