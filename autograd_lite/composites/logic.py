"""Predicates without gradient: ``isnan``/``isinf``/``isfinite``, ``isclose``/``allclose``,
the comparisons as functions, and ``logical_and``/``or``/``xor``/``not``.

Each returns a boolean Tensor (``allclose``: a Python ``bool``, as NumPy and PyTorch) that is
not part of any graph; use it as a mask (``al.where``) or a test.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, as_tensor

__all__ = ["isnan", "isinf", "isfinite", "isclose", "allclose", "equal", "not_equal", "less",
           "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_xor",
           "logical_not"]

METHODS = ["isnan", "isinf", "isfinite", "isclose", "allclose", "logical_and", "logical_or",
           "logical_xor", "logical_not"]


def _unary(fn: Any, name: str, doc: str) -> Any:
    def predicate(x: Any) -> Tensor:
        return Tensor(fn(as_tensor(x, name).data))
    predicate.__name__ = predicate.__qualname__ = name
    predicate.__doc__ = doc
    return predicate


def _binary(fn: Any, name: str, doc: str) -> Any:
    def predicate(x: Any, y: Any) -> Tensor:
        a, b = as_tensor(x, name).data, as_tensor(y, name).data
        try:
            return Tensor(fn(a, b))
        except ValueError:
            raise ValueError(f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast "
                             "together") from None
    predicate.__name__ = predicate.__qualname__ = name
    predicate.__doc__ = doc
    return predicate


def _doc(what: str, call: str, shows: str) -> str:
    return f"{what} (a boolean Tensor, no gradient).\n\nExample\n-------\n>>> {call}\n{shows}\n"


isnan = _unary(np.isnan, "isnan", _doc("Where ``x`` is NaN", "al.isnan([1.0, np.nan])",
                                       "Tensor([False,  True], dtype=bool)"))
isinf = _unary(np.isinf, "isinf", _doc("Where ``x`` is ±inf", "al.isinf([1.0, -np.inf])",
                                       "Tensor([False,  True], dtype=bool)"))
isfinite = _unary(np.isfinite, "isfinite",
                  _doc("Where ``x`` is neither NaN nor ±inf", "al.isfinite([1.0, np.nan])",
                       "Tensor([ True, False], dtype=bool)"))
logical_not = _unary(np.logical_not, "logical_not",
                     _doc("Elementwise not (nonzero is true)", "al.logical_not([0.0, 2.0])",
                          "Tensor([ True, False], dtype=bool)"))

equal = _binary(np.equal, "equal", _doc("Where ``x == y``", "al.equal([1.0, 2.0], 2.0)",
                                        "Tensor([False,  True], dtype=bool)"))
not_equal = _binary(np.not_equal, "not_equal",
                    _doc("Where ``x != y``", "al.not_equal([1.0, 2.0], 2.0)",
                         "Tensor([ True, False], dtype=bool)"))
less = _binary(np.less, "less", _doc("Where ``x < y``", "al.less([1.0, 2.0], 2.0)",
                                     "Tensor([ True, False], dtype=bool)"))
less_equal = _binary(np.less_equal, "less_equal",
                     _doc("Where ``x <= y``", "al.less_equal([1.0, 3.0], 2.0)",
                          "Tensor([ True, False], dtype=bool)"))
greater = _binary(np.greater, "greater", _doc("Where ``x > y``", "al.greater([1.0, 3.0], 2.0)",
                                              "Tensor([False,  True], dtype=bool)"))
greater_equal = _binary(np.greater_equal, "greater_equal",
                        _doc("Where ``x >= y``", "al.greater_equal([1.0, 2.0], 2.0)",
                             "Tensor([False,  True], dtype=bool)"))
logical_and = _binary(np.logical_and, "logical_and",
                      _doc("Elementwise and (nonzero is true)",
                           "al.logical_and([1.0, 1.0], [0.0, 2.0])",
                           "Tensor([False,  True], dtype=bool)"))
logical_or = _binary(np.logical_or, "logical_or",
                     _doc("Elementwise or (nonzero is true)",
                          "al.logical_or([0.0, 0.0], [0.0, 2.0])",
                          "Tensor([False,  True], dtype=bool)"))
logical_xor = _binary(np.logical_xor, "logical_xor",
                      _doc("Elementwise exclusive or (nonzero is true)",
                           "al.logical_xor([1.0, 1.0], [0.0, 2.0])",
                           "Tensor([ True, False], dtype=bool)"))


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
