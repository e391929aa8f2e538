"""Predicates without gradient: ``isnan``/``isinf``/``isfinite``, ``isclose``/``allclose``,
the comparisons as functions, and ``logical_and``/``or``/``xor``/``not``.

Each returns a boolean Tensor (``allclose``: a Python ``bool``, as NumPy and PyTorch) that is
not part of any graph; use it as a mask (``al.where``) or a test.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ..tensor import Tensor, as_tensor

METHODS = ["isnan", "isinf", "isfinite", "isclose", "allclose", "logical_and", "logical_or",
           "logical_xor", "logical_not"]


def _predicate(fn: np.ufunc, name: str, what: str, args: str, shows: str) -> Any:
    """``name(x)`` or ``name(x, y)`` (by ``fn.nin``) over Tensor data, with a running example."""
    def predicate(*xs: Any) -> Tensor:
        if len(xs) != fn.nin:
            raise TypeError(f"{name} takes {fn.nin} argument(s), got {len(xs)}")
        arrays = [as_tensor(x, name).data for x in xs]
        try:
            return Tensor(fn(*arrays))
        except ValueError:
            raise ValueError(f"{name}: shapes {' and '.join(str(a.shape) for a in arrays)} "
                             "cannot be broadcast together") from None
    predicate.__name__ = predicate.__qualname__ = name
    predicate.__signature__ = inspect.Signature(   # type: ignore[attr-defined]
        [inspect.Parameter(v, inspect.Parameter.POSITIONAL_ONLY) for v in "xy"[:fn.nin]],
        return_annotation=Tensor)
    predicate.__doc__ = (f"{what} (a boolean Tensor, no gradient).\n\nExample\n-------\n"
                         f">>> al.{name}({args})\nTensor({shows}, dtype=bool)\n")
    return predicate


# name: (NumPy ufunc, what it tests, example arguments, what the example prints)
_PREDICATES = {
    "isnan": (np.isnan, "Where ``x`` is NaN", "[1.0, np.nan]", "[False,  True]"),
    "isinf": (np.isinf, "Where ``x`` is ±inf", "[1.0, -np.inf]", "[False,  True]"),
    "isfinite": (np.isfinite, "Where ``x`` is neither NaN nor ±inf", "[1.0, np.nan]",
                 "[ True, False]"),
    "logical_not": (np.logical_not, "Elementwise not (nonzero is true)", "[0.0, 2.0]",
                    "[ True, False]"),
    "equal": (np.equal, "Where ``x == y``", "[1.0, 2.0], 2.0", "[False,  True]"),
    "not_equal": (np.not_equal, "Where ``x != y``", "[1.0, 2.0], 2.0", "[ True, False]"),
    "less": (np.less, "Where ``x < y``", "[1.0, 2.0], 2.0", "[ True, False]"),
    "less_equal": (np.less_equal, "Where ``x <= y``", "[1.0, 3.0], 2.0", "[ True, False]"),
    "greater": (np.greater, "Where ``x > y``", "[1.0, 3.0], 2.0", "[False,  True]"),
    "greater_equal": (np.greater_equal, "Where ``x >= y``", "[1.0, 2.0], 2.0", "[False,  True]"),
    "logical_and": (np.logical_and, "Elementwise and (nonzero is true)", "[1.0, 1.0], [0.0, 2.0]",
                    "[False,  True]"),
    "logical_or": (np.logical_or, "Elementwise or (nonzero is true)", "[0.0, 0.0], [0.0, 2.0]",
                   "[False,  True]"),
    "logical_xor": (np.logical_xor, "Elementwise exclusive or (nonzero is true)",
                    "[1.0, 1.0], [0.0, 2.0]", "[ True, False]"),
}
globals().update({name: _predicate(fn, name, *rest)
                  for name, (fn, *rest) in _PREDICATES.items()})
__all__ = [*_PREDICATES, "isclose", "allclose"]


def _tolerances(rtol: Any, atol: Any, where: str) -> tuple[float, float]:
    for name, v in (("rtol", rtol), ("atol", atol)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not v >= 0:
            raise ValueError(f"{where}: {name} must be a non-negative number, got {v!r:.40}")
    return float(rtol), float(atol)


def isclose(x: Any, y: Any, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> Tensor:
    """Where ``|x − y| <= atol + rtol·|y|`` (``np.isclose``; a boolean Tensor, no gradient).

    Example
    -------
    >>> al.isclose([1.0, 1.1], 1.0)
    Tensor([ True, False], dtype=bool)
    """
    rtol, atol = _tolerances(rtol, atol, "isclose")
    a, b = as_tensor(x, "isclose").data, as_tensor(y, "isclose").data
    try:
        return Tensor(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=bool(equal_nan)))
    except ValueError:
        raise ValueError(f"isclose: shapes {a.shape} and {b.shape} cannot be broadcast "
                         "together") from None


def allclose(x: Any, y: Any, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> bool:
    """Whether every element is close (see :func:`isclose`): a Python ``bool``.

    Example
    -------
    >>> al.allclose([1.0, 2.0], [1.0, 2.0 + 1e-9])
    True
    """
    _tolerances(rtol, atol, "allclose")
    return bool(isclose(x, y, rtol, atol, equal_nan).data.all())
