"""Tensor methods composed of primitives: transposes, ``mean``, squeezing, expanding.

A mixin of ``Tensor``: each method calls the generated primitive methods (``reshape``,
``transpose``, ``sum``, ``broadcast_to``), so none has a VJP of its own.
"""

from __future__ import annotations

from typing import Any

from .ops import normalize_axes

__all__ = ["Methods"]


class Methods:
    """Composite methods of ``Tensor``."""

    shape: tuple
    ndim: int

    @property
    def T(self) -> Any:
        """All axes reversed (the transpose of a matrix)."""
        return self.transpose()

    @property
    def mT(self) -> Any:
        """The last two axes swapped (batched matrix transpose)."""
        if self.ndim < 2:
            raise ValueError(f"mT: needs at least 2 dimensions, got shape {self.shape}")
        return self.swapaxes(-1, -2)

    def permute(self, *axes: Any) -> Any:
        """The axes permuted (PyTorch's name for ``transpose`` with axes)."""
        return self.transpose(*axes)

    def swapaxes(self, a: int, b: int) -> Any:
        """Axes ``a`` and ``b`` exchanged."""
        a, b = (normalize_axes(i, self.ndim, "swapaxes")[0] for i in (a, b))
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return self.transpose(*axes)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Any:
        """Mean over ``axis``: the sum divided by the number of elements reduced.

        Example
        -------
        >>> al.Tensor([[1.0, 2.0], [3.0, 5.0]]).mean(axis=0)
        Tensor([2. , 3.5], dtype=float64)
        """
        n = 1
        for a in normalize_axes(axis, self.ndim, "mean"):
            n *= self.shape[a]
        return self.sum(axis, keepdims) * (1.0 / n if n else float("nan"))

    def expand(self, *shape: Any) -> Any:
        """Broadcast to ``shape`` (``-1`` keeps a dimension), as in PyTorch."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        lead = len(shape) - self.ndim
        full = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
        return self.broadcast_to(full)

    def squeeze(self, axis: Any = None) -> Any:
        """Remove axes of length one (all of them, or those in ``axis``)."""
        axes = normalize_axes(axis, self.ndim, "squeeze")
        for a in axes if axis is not None else ():
            if self.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} of shape {self.shape} has length "
                                 f"{self.shape[a]}, not 1")
        return self.reshape(tuple(n for i, n in enumerate(self.shape)
                                  if i not in axes or n != 1))

    def unsqueeze(self, axis: int) -> Any:
        """Insert an axis of length one at position ``axis``."""
        (axis,) = normalize_axes(axis, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def flatten(self) -> Any:
        """The elements as a 1-D tensor."""
        return self.reshape(-1)
