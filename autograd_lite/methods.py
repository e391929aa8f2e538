"""Tensor methods composed of primitives: transposes, ``mean``, squeezing, expanding, and the
PyTorch spellings (``view``, ``clamp``, ``clone``, ``to``, ``float``, ``double``, ``t``), each
an alias of one implementation; the comparison operators (``<``, ``==``, ...).

A mixin of ``Tensor``: each method calls the generated primitive methods (``reshape``,
``transpose``, ``sum``, ``broadcast_to``), so none has a VJP of its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .ops import normalize_axes
from .ops.reduce import torch_aliases
from .ops.spellings import dim_alias

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

    def mean(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
             keepdim: bool | None = None) -> Any:
        """Mean over ``axis`` (alias ``dim``): the sum divided by the number of elements reduced.

        Example
        -------
        >>> al.Tensor([[1.0, 2.0], [3.0, 5.0]]).mean(axis=0)
        Tensor([2. , 3.5], dtype=float64)
        """
        axis, keepdims = torch_aliases("mean", axis, keepdims, dim, keepdim)
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

    @dim_alias("squeeze")
    def squeeze(self, axis: Any = None) -> Any:
        """Remove axes of length one (all of them, or those in ``axis``)."""
        axes = normalize_axes(axis, self.ndim, "squeeze")
        for a in axes if axis is not None else ():
            if self.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} of shape {self.shape} has length "
                                 f"{self.shape[a]}, not 1")
        return self.reshape(tuple(n for i, n in enumerate(self.shape)
                                  if i not in axes or n != 1))

    @dim_alias("unsqueeze")
    def unsqueeze(self, axis: int) -> Any:
        """Insert an axis of length one at position ``axis``."""
        (axis,) = normalize_axes(axis, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def flatten(self) -> Any:
        """The elements as a 1-D tensor."""
        return self.reshape(-1)

    # -- PyTorch spellings: aliases, each of one implementation above or in the op table -------
    def view(self, *shape: Any) -> Any:
        """Alias of :meth:`reshape` (PyTorch's name; the result is a new node, not a view)."""
        return self.reshape(*shape)

    def clamp(self, min: Any = None, max: Any = None) -> Any:  # noqa: A002 - PyTorch's names
        """Alias of :meth:`clip` with PyTorch's argument names.

        Example
        -------
        >>> al.Tensor([-2.0, 0.5, 3.0]).clamp(min=0.0)
        Tensor([0. , 0.5, 3. ], dtype=float64)
        """
        return self.clip(min, max)

    def clone(self) -> Any:
        """A copy recorded in the graph (gradients flow back through it), as PyTorch's."""
        return self.astype(self.dtype)

    def to(self, dtype: Any) -> Any:
        """Alias of :meth:`astype` (``t.to(np.float32)``); ``"cpu"`` returns the tensor itself."""
        if isinstance(dtype, str) and dtype == "cpu":
            return self
        return self.astype(dtype)

    def float(self) -> Any:
        """Alias of ``astype(np.float32)``."""
        return self.astype(np.float32)

    def double(self) -> Any:
        """Alias of ``astype(np.float64)``."""
        return self.astype(np.float64)

    def t(self) -> Any:
        """The transpose of a matrix (a 0-D or 1-D tensor is returned as it is), as PyTorch's."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with at most 2 dimensions, got shape "
                             f"{self.shape} (use .mT or .transpose(...))")
        return self.transpose() if self.ndim == 2 else self


def _comparison(fn: Any) -> Any:
    def compare(self: Any, other: Any) -> Any:   # a boolean constant: no gradient
        return self._leaf(np.asarray(fn(self._data, other._data if isinstance(other, Methods)
                                         else other)))   # (Methods: a Tensor)
    compare.__name__ = f"__{fn.__name__}__"
    return compare


for _name, _fn in (("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                   ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)):
    # set after the class is made, so Node's __hash__ stays (a class defining __eq__ loses it)
    setattr(Methods, f"__{_name}__", _comparison(_fn))
del _name, _fn
