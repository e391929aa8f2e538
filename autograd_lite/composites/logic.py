"""Predicates without gradient: ``isnan``/``isinf``/``isfinite``, ``isclose``/``allclose``,
the comparisons as functions, and ``logical_and``/``or``/``xor``/``not``.

Each returns a boolean Tensor (``allclose``: a Python ``bool``, as NumPy and PyTorch) that is
not part of any graph; use it as a mask (``al.where``) or a test.
"""

from __future__ import annotations

import inspect
import operator
from typing import Any

import numpy as np

from ..tensor import Tensor, as_tensor

METHODS = ["isnan", "isinf", "isfinite", "isclose", "allclose", "logical_and", "logical_or",
           "logical_xor", "logical_not"]


def _predicate(name: str, what: str, args: str, shows: str) -> Any:
    """``name(x)`` or ``name(x, y)``: NumPy's ufunc of that name over Tensor data, with a running
    example ``al.name(args)`` that prints ``shows``."""
    fn = getattr(np, name)

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


def _family(table: dict, what: str, args: str) -> dict:
    """One predicate per row ``name: (word, what the example prints)`` of ``table``, described
    by ``what.format(word)``, all with the example arguments ``args``."""
    return {name: _predicate(name, what.format(word), args, shows)
            for name, (word, shows) in table.items()}


_VALUE_TESTS = {
    "isnan": ("is NaN", "[False, False,  True]"),
    "isinf": ("is ±inf", "[False,  True, False]"),
    "isfinite": ("is neither NaN nor ±inf", "[ True, False, False]"),
}
# The comparisons' examples print what Python's own operators give on the same numbers.
_COMPARISONS = {"equal": ("==", operator.eq), "not_equal": ("!=", operator.ne),
                "less": ("<", operator.lt), "less_equal": ("<=", operator.le),
                "greater": (">", operator.gt), "greater_equal": (">=", operator.ge)}
_LOGIC = {
    "logical_and": ("and", "[False, False, False,  True]"),
    "logical_or": ("or", "[False,  True,  True,  True]"),
    "logical_xor": ("exclusive or", "[False,  True,  True, False]"),
}
_PREDICATES = {
    **_family(_VALUE_TESTS, "Where ``x`` {}", "[1.0, -np.inf, np.nan]"),
    **_family({name: (sym, np.array2string(np.array([op(v, 2.0) for v in (1.0, 2.0, 3.0)]),
                                           separator=", "))
               for name, (sym, op) in _COMPARISONS.items()},
              "Where ``x {} y``", "[1.0, 2.0, 3.0], 2.0"),
    **_family(_LOGIC, "Elementwise {} (nonzero is true)",
              "[0.0, 0.0, 1.0, 1.0], [0.0, 2.0, 0.0, 2.0]"),
    "logical_not": _predicate("logical_not", "Elementwise not (nonzero is true)", "[0.0, 2.0]",
                              "[ True, False]"),
}
globals().update(_PREDICATES)
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
