"""Bad-input rows for the linear-algebra primitives and composites, and the predicates."""

from __future__ import annotations

import numpy as np

import autograd_lite as al
from autograd_lite import Tensor as T

from .bad_inputs_table import NOT_NUMBERS, backward_ok, bad, ok, x

ROWS = [
    *[bad(f"{name}: {what}", (lambda f=f, v=v: f(v, np.ones(2))), TypeError, name)
      for name, f in {"outer": al.outer, "inner": al.inner, "dot": al.dot,
                      "tensordot": lambda a, b: al.tensordot(a, b, 0)}.items()
      for what, v in NOT_NUMBERS.items()],
    *[bad(f"slogdet: {what}", (lambda v=v: al.slogdet(v)), TypeError, "slogdet")
      for what, v in NOT_NUMBERS.items()],
    *[bad(f"{name}: a (2, 3) matrix", (lambda f=f: f(x())), ValueError,
          f"{name}: expected square matrices (..., n, n), got shape (2, 3)")
      for name, f in {"inv": al.inv, "det": al.det, "cholesky": al.cholesky,
                      "slogdet": al.slogdet}.items()],
    *[bad(f"svd: {what}", (lambda v=v: al.svd(v)), TypeError, "svd")
      for what, v in NOT_NUMBERS.items()],
    *[bad(f"{name}: a vector", (lambda f=f: f(np.ones(3))), ValueError,
          f"{name}: expected matrices (..., m, n), got shape (3,)")
      for name, f in {"svd": al.svd, "svdvals": al.svdvals}.items()],
    *[bad(f"{name}: nan", (lambda f=f: f(np.full((2, 2), np.nan))), ValueError,
          f"{name}: the matrix ((2, 2)) holds inf or nan")
      for name, f in {"svd": al.svd, "svdvals": al.svdvals}.items()],
    bad("svd: full_matrices not a bool", lambda: al.svd(np.eye(2), full_matrices="yes"),
        TypeError, "svd: full_matrices must be a bool"),
    ok("norm: the nuclear norm of a zero matrix has gradient 0",
       lambda: al.norm(T(np.zeros((2, 3)), requires_grad=True), "nuc"),
       lambda r: r.data == 0 and backward_ok(r)),
    ok("svd: an empty matrix", lambda: al.svd(T(np.zeros((0, 2)), requires_grad=True))[2],
       lambda r: r.shape == (2, 2)),
    *[bad(f"{name}: float16", (lambda f=f: f(np.eye(2, dtype=np.float16))), TypeError,
          f"{name}: float16 arrays ((2, 2)) are not supported by NumPy's linalg")
      for name, f in {"inv": al.inv, "det": al.det, "cholesky": al.cholesky, "svd": al.svd,
                      "svdvals": al.svdvals, "slogdet": al.slogdet,
                      "solve": lambda a: al.solve(a, np.ones(2))}.items()],
    bad("inv: a singular matrix", lambda: al.inv(np.ones((2, 2))), ValueError,
        "inv: the matrix ((2, 2)) is singular"),
    bad("cholesky: not positive-definite", lambda: al.cholesky(-np.eye(2)), ValueError,
        "cholesky: the matrix ((2, 2)) is not positive-definite"),
    bad("solve: b with the wrong rows", lambda: al.solve(np.eye(3), np.ones(2)), ValueError,
        "solve: a (3, 3) and b (2,) do not fit (b needs 3 rows"),
    bad("solve: a singular matrix", lambda: al.solve(np.zeros((2, 2)), np.ones(2)), ValueError,
        "solve: the matrix ((2, 2)) is singular"),
    bad("solve: batches that do not broadcast",
        lambda: al.solve(np.ones((2, 3, 3)), np.ones((4, 3, 1))), ValueError,
        "solve: batch dimensions of a (2, 3, 3) and b (4, 3, 1) cannot be broadcast"),
    bad("tensordot: lengths differ", lambda: al.tensordot(x(), np.ones((2, 3)), 1), ValueError,
        "tensordot: axis 1 of a (2, 3) and axis 0 of b (2, 3) differ in length"),
    bad("tensordot: a string axes", lambda: al.tensordot(x(), x(), "a"), TypeError,
        "tensordot: axes must be an int or a pair of axis lists"),
    bad("tensordot: too many axes", lambda: al.tensordot(x(), x(), 3), ValueError,
        "tensordot: axes=3 needs at least 3 dimensions in both"),
    bad("dot: inner lengths differ", lambda: al.dot(x(), np.ones(2)), ValueError,
        "tensordot: axis 1 of a (2, 3) and axis 0 of b (2,) differ in length"),
]

_PREDICATES = {"isnan": al.isnan, "isfinite": al.isfinite, "logical_not": al.logical_not,
               "isclose": lambda v: al.isclose(v, 1.0), "equal": lambda v: al.equal(v, 1.0),
               "logical_and": lambda v: al.logical_and(x(), v)}

ROWS += [
    *[bad(f"{name}: {what}", (lambda f=f, v=v: f(v)), TypeError, name)
      for name, f in _PREDICATES.items() for what, v in NOT_NUMBERS.items()],
    bad("less: shapes (2, 3) and (2,)", lambda: al.less(x(), np.ones(2)), ValueError,
        "less: shapes (2, 3) and (2,) cannot be broadcast together"),
    bad("isclose: shapes (2, 3) and (4,)", lambda: al.isclose(x(), np.ones(4)), ValueError,
        "isclose: shapes (2, 3) and (4,) cannot be broadcast together"),
    bad("allclose: a negative rtol", lambda: al.allclose(x(), x(), rtol=-1), ValueError,
        "allclose: rtol must be a non-negative number"),
]
