"""Normalisation layers built on the fused ops: :class:`LayerNorm` (re-exported as
``autograd_lite.nn.LayerNorm``)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .fused import layer_norm
from .module import Module, Parameter
from .tensor import Tensor

__all__ = ["LayerNorm"]


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` axes, as PyTorch's
    ``nn.LayerNorm``: ``(x − μ)/sqrt(var + eps) ⊙ weight + bias``, weight initialised to ones,
    bias to zeros.

    Parameters
    ----------
    normalized_shape : an int or a tuple: the trailing dimensions to normalise over.
    eps : added to the variance (default 1e-5).
    elementwise_affine : learn ``weight`` (and ``bias``, unless ``bias=False``).
    fused : use the fused op (one node, closed-form VJP); ``False`` composes it from primitives.
    dtype : parameter dtype (float32 by default, as in PyTorch).

    Example
    -------
    >>> ln = LayerNorm(3)
    >>> y = ln(np.array([[1.0, 2.0, 3.0]], dtype=np.float32))
    >>> np.round(y.data, 4)
    array([[-1.2247,  0.    ,  1.2247]], dtype=float32)
    """

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, *, fused: bool = True, dtype: Any = np.float32) -> None:
        super().__init__()
        ns = ((normalized_shape,) if isinstance(normalized_shape, numbers.Integral)
              else tuple(normalized_shape))
        if not ns or any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1
                         for n in ns):
            raise ValueError(f"LayerNorm: normalized_shape must be positive ints, got "
                             f"{normalized_shape!r}")
        self.normalized_shape = tuple(int(n) for n in ns)
        self.eps = eps
        self.fused = fused
        self.weight = Parameter(np.ones(self.normalized_shape), dtype=dtype) \
            if elementwise_affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape), dtype=dtype) \
            if elementwise_affine and bias else None

    def forward(self, x: Any) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps,
                          fused=self.fused)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.weight is not None}, fused={self.fused}")
