"""In-place changes and the version count that keeps them from corrupting a gradient.

The semantics are PyTorch's. The tracked ways to change a tensor's values are its in-place
methods (``add_``, ``sub_``, ``mul_``, ``div_``, ``copy_``, ``fill_``, ``zero_``), item
assignment ``t[i] = v``, augmented assignment (``t -= v``) and assigning ``t.data = array``.
Each stamps the tensor with a new write count; a recorded node notes the count when it is made,
and backward refuses to run a node whose VJP reads values that were written after it was
recorded. ``t.data`` itself is the plain ``ndarray`` behind the tensor: like PyTorch's ``.data``
it is the documented escape hatch, and writes made *through* it are not tracked.

An in-place change is never recorded in the graph: on a tensor that requires grad it must happen
under ``no_grad()`` (an optimizer step), else it raises; augmented assignment on a tensor inside a
graph records the out-of-place result instead (``h += b`` is ``h = h + b``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .engine import _TICK, _mode

__all__ = ["InPlace", "touch"]

_WRITES = [0]   # the clock's tick at the latest tracked write


def touch(t: Any) -> None:
    """Record that ``t``'s values were changed in place."""
    _WRITES[0] = t._written = next(_TICK)


def _raw(x: Any) -> Any:
    return x._data if isinstance(x, InPlace) else x


class InPlace:
    """The in-place methods of ``Tensor``, and the check that a recorded node still has the values
    it read (a mixin: it uses ``_data``, ``requires_grad`` and the node attributes)."""

    _data: np.ndarray
    requires_grad: bool
    _written: int = 0    # the clock's tick at the last tracked in-place change
    _shared: bool = False   # a Python number's constant, shared by every graph: never changes

    @property
    def data(self) -> np.ndarray:
        """The values as a plain ``ndarray`` (shared, not copied).

        Writes through it are not tracked (as PyTorch's ``.data``): use the in-place methods, or
        ``with no_grad(): t -= ...``, whenever a graph might still need the old values.
        Assigning ``t.data = array`` replaces the values and is tracked.
        """
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        arr = np.asarray(_raw(value))
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"data: expected numbers, got {type(value).__name__} with dtype "
                            f"{arr.dtype}")
        if self._shared:
            raise ValueError("data: this is the shared constant of a Python number that an op "
                             "lifted; it cannot change (make a Tensor of your own)")
        self._data = arr
        touch(self)

    def _check_unmodified(self) -> None:
        """Raise if an array this node's VJP reads was changed in place after it was recorded."""
        op = self._op
        if not op.reads_values:
            return
        born = self._seq
        for i, p in enumerate(self._parents):
            if p._written > born:
                what = f"input {i} of {op.name} ({_describe(p)})"
                break
        else:
            if self._written <= born:
                return
            what = f"the output of {op.name} ({_describe(self)})"
        raise RuntimeError(f"backward: {what} was modified in place after {op.name} recorded it, "
                           f"so its gradient would be computed from the new values. Run the "
                           f"forward pass again after modifying it (or modify a copy).")

    def _inplace(self, where: str, write: Callable[[np.ndarray], Any]) -> Any:
        if self.requires_grad and _mode.enabled:
            raise RuntimeError(f"{where}: this tensor requires grad, and an in-place change is "
                               "not recorded in the graph; do it under no_grad() (as an "
                               "optimizer step does) or use the out-of-place form")
        if not self._data.flags.writeable:
            raise ValueError(f"{where}: this tensor's array is read-only (a broadcast view or a "
                             "shared constant); make a copy first")
        try:
            write(self._data)
        except (TypeError, ValueError) as e:   # casting (int += float), shapes
            raise type(e)(f"{where}: {e}") from None
        touch(self)
        return self

    def add_(self, other: Any, *, alpha: float = 1.0) -> Any:
        """``self += alpha · other`` in place (tracked)."""
        return self._inplace("add_", lambda a: np.add(a, alpha * _raw(other), out=a))

    def sub_(self, other: Any, *, alpha: float = 1.0) -> Any:
        """``self −= alpha · other`` in place (tracked)."""
        return self._inplace("sub_", lambda a: np.subtract(a, alpha * _raw(other), out=a))

    def mul_(self, other: Any) -> Any:
        """``self ⊙= other`` in place (tracked)."""
        return self._inplace("mul_", lambda a: np.multiply(a, _raw(other), out=a))

    def div_(self, other: Any) -> Any:
        """``self /= other`` in place (tracked)."""
        return self._inplace("div_", lambda a: np.true_divide(a, _raw(other), out=a))

    def copy_(self, src: Any) -> Any:
        """Copy ``src``'s values into this tensor (broadcasting; tracked)."""
        return self._inplace("copy_", lambda a: np.copyto(a, _raw(src)))

    def fill_(self, value: float) -> Any:
        """Set every element to ``value`` (tracked)."""
        return self._inplace("fill_", lambda a: a.fill(value))

    def zero_(self) -> Any:
        """Set every element to 0 (tracked).

        Example
        -------
        >>> t = al.Tensor([1.0, 2.0]); t.zero_()
        Tensor([0., 0.], dtype=float64)
        """
        return self._inplace("zero_", lambda a: a.fill(0))

    def __setitem__(self, index: Any, value: Any) -> None:
        self._inplace("setitem", lambda a: a.__setitem__(_index(index), _raw(value)))

    def _augmented(self, other: Any, op: Any, ufunc: Any) -> Any:
        if _mode.enabled and (self.requires_grad or getattr(other, "requires_grad", False)):
            if self.requires_grad and not self._parents:   # type: ignore[attr-defined]
                raise RuntimeError(f"a leaf tensor that requires grad cannot be changed in place "
                                   f"({ufunc.__name__}); do it under no_grad() (as an optimizer "
                                   "step does)")
            return op(self, other)   # recorded out of place: h += b is h = h + b
        return self._inplace(ufunc.__name__, lambda a: ufunc(a, _raw(other), out=a))

    def __iadd__(self, other: Any) -> Any:
        return self._augmented(other, lambda a, b: a + b, np.add)

    def __isub__(self, other: Any) -> Any:
        return self._augmented(other, lambda a, b: a - b, np.subtract)

    def __imul__(self, other: Any) -> Any:
        return self._augmented(other, lambda a, b: a * b, np.multiply)

    def __itruediv__(self, other: Any) -> Any:
        return self._augmented(other, lambda a, b: a / b, np.true_divide)


def _describe(t: Any) -> str:
    name = f"'{t.name}', " if t.name else ""
    return f"{name}shape {t._data.shape}, {t._data.dtype}"


def _index(index: Any) -> Any:
    """Tensors and lists inside an index become arrays (so it can be stored and reused)."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    if isinstance(index, InPlace):
        return index._data
    if isinstance(index, list):
        return np.asarray(index)
    return index
