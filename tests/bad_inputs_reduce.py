"""Bad-input rows for the scans, ``prod``, ``take_along_axis`` and the composite reductions."""

from __future__ import annotations

import numpy as np

import autograd_lite as al

from .bad_inputs_table import NOT_NUMBERS, backward_ok, bad, ok, x

T = al.Tensor

_TAKES_X = {"cumsum": al.cumsum, "cumprod": al.cumprod, "logcumsumexp": al.logcumsumexp,
            "prod": al.prod, "var": al.var, "std": al.std, "norm": al.norm, "sort": al.sort,
            "argmax": al.argmax, "cummax": al.cummax, "median": al.median,
            "take_along_axis": lambda v: al.take_along_axis(v, np.zeros((1,), int), 0)}

ROWS = [
    *[bad(f"{name}: {what}", (lambda f=f, v=v: f(v)), TypeError, name)
      for name, f in _TAKES_X.items() for what, v in NOT_NUMBERS.items()],
    *[bad(f"{name}: axis out of range", (lambda f=f: f(x(), axis=2)), ValueError,
          f"{name}: axis 2 is out of range for an array with 2 dimensions")
      for name, f in {"cumsum": al.cumsum, "cumprod": al.cumprod, "prod": al.prod,
                      "logcumsumexp": al.logcumsumexp, "var": al.var, "sort": al.sort,
                      "argmax": al.argmax, "cummax": al.cummax}.items()],
    bad("cumsum: a tuple axis", lambda: al.cumsum(x(), axis=(0, 1)), TypeError,
        "cumsum: axis must be None or an int, got (0, 1)"),
    bad("prod: a float axis", lambda: al.prod(x(), axis=0.5), TypeError, "prod: axis must be"),
    ok("prod: an empty axis is 1", lambda: al.prod(T(np.zeros((0, 3)), requires_grad=True), 0),
       lambda r: r.data.tolist() == [1.0, 1.0, 1.0] and backward_ok(r)),
    ok("cumsum: a 0-d array along axis 0", lambda: al.cumsum(T(2.0, requires_grad=True), 0),
       lambda r: r.shape == () and backward_ok(r)),
    ok("cumprod: an empty (0, 3) array", lambda: al.cumprod(T(np.zeros((0, 3)),
                                                             requires_grad=True), 0),
       lambda r: r.shape == (0, 3) and backward_ok(r)),
    bad("take_along_axis: float indices", lambda: al.take_along_axis(x(), np.ones((2, 1)), 1),
        TypeError, "take_along_axis: indices must be integers, got dtype float64"),
    bad("take_along_axis: index out of range",
        lambda: al.take_along_axis(x(), np.full((2, 1), 3), 1), IndexError,
        "take_along_axis: index out of range for axis 1 of length 3"),
    bad("take_along_axis: fewer dimensions",
        lambda: al.take_along_axis(x(), np.zeros(2, int), 1), ValueError,
        "take_along_axis: indices need as many dimensions as x"),
    bad("take_along_axis: shapes that do not broadcast",
        lambda: al.take_along_axis(x(), np.zeros((3, 1), int), 1), ValueError,
        "take_along_axis: indices (3, 1) do not broadcast against x (2, 3) outside axis 1"),
    bad("var: ddof and correction", lambda: al.var(x(), ddof=1, correction=1), ValueError,
        "var: give ddof (NumPy) or correction (PyTorch), not both"),
    bad("std: a negative ddof", lambda: al.std(x(), ddof=-1), TypeError,
        "std: ddof/correction must be a non-negative number"),
    ok("var: one element with ddof=1 is NaN", lambda: al.var([1.0], ddof=1),
       lambda r: bool(np.isnan(r.data))),
    bad("norm: an unknown matrix ord", lambda: al.norm(x(), "spectral"), ValueError,
        "norm: matrix ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, got 'spectral'"),
    bad("norm: a negative vector ord", lambda: al.norm(x(), -2, axis=1), ValueError,
        "norm: a vector ord must be a positive number, 0 or ±inf, got -2"),
    bad("norm: an ord on a 3-D tensor without axis", lambda: al.norm(np.ones((2, 2, 2)), 1),
        ValueError, "norm: ord=1 needs a 1-D or 2-D tensor (or axis), got shape (2, 2, 2)"),
    bad("topk: k too large", lambda: al.topk(x(), 4), ValueError,
        "topk: k must be an int in [0, 3], got 4"),
    bad("quantile: q outside [0, 1]", lambda: al.quantile(x(), 1.5), ValueError,
        "quantile: q must be a number in [0, 1], got 1.5"),
    bad("argsort: a string axis", lambda: al.argsort(x(), "a"), TypeError,
        "argsort: axis must be an int"),
]
