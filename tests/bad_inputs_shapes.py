"""Bad-input rows for the composite shape and indexing functions."""

from __future__ import annotations

import numpy as np

import autograd_lite as al

from .bad_inputs_table import NOT_NUMBERS, backward_ok, bad, ok, x

_TAKES_X = {"pad": lambda v: al.pad(v, 1), "split": lambda v: al.split(v, 1),
            "chunk": lambda v: al.chunk(v, 1), "repeat": lambda v: al.repeat(v, 2),
            "tile": lambda v: al.tile(v, 2), "flip": al.flip, "roll": lambda v: al.roll(v, 1),
            "diag": al.diag, "triu": al.triu, "moveaxis": lambda v: al.moveaxis(v, 0, 0),
            "gather": lambda v: al.gather(v, 0, np.zeros((1,), int)),
            "vstack": lambda v: al.vstack([v])}

ROWS = [
    *[bad(f"{name}: {what}", (lambda f=f, v=v: f(v)), TypeError, name)
      for name, f in _TAKES_X.items() for what, v in NOT_NUMBERS.items()],
    bad("pad: an unknown mode", lambda: al.pad(x(), 1, "mirror"), ValueError,
        "pad: mode must be one of"),
    bad("pad: a negative width", lambda: al.pad(x(), -1), TypeError,
        "pad: pad_width must be non-negative ints"),
    bad("pad: widths for 3 axes on a 2-D tensor", lambda: al.pad(x(), ((1, 1),) * 3), ValueError,
        "pad: pad_width ((1, 1), (1, 1), (1, 1)) does not fit 2 axes"),
    bad("pad: reflect an empty axis", lambda: al.pad(np.zeros((0, 2)), 1, "reflect"),
        ValueError, "pad: cannot pad an empty axis of shape (0, 2) in mode 'reflect'"),
    ok("pad: constant on an empty array", lambda: al.pad(al.Tensor(np.zeros((0, 3)),
                                                                    requires_grad=True), 1),
       lambda r: r.shape == (2, 5) and backward_ok(r)),
    bad("split: unequal sections", lambda: al.split(x(), 2, axis=1), ValueError,
        "split: axis 1 of length 3 does not divide into 2 equal sections (use array_split)"),
    bad("split: a float section", lambda: al.split(x(), [1.5]), TypeError,
        "split: a split index must be an int"),
    bad("chunk: zero chunks", lambda: al.chunk(x(), 0), ValueError,
        "chunk: chunks must be positive, got 0"),
    bad("repeat: wrong number of counts", lambda: al.repeat(x(), [1, 2], axis=1), ValueError,
        "repeat: 2 repeat counts for an axis of length 3"),
    bad("repeat: float counts", lambda: al.repeat(x(), 1.5), TypeError,
        "repeat: repeats must be integers"),
    bad("tile: negative reps", lambda: al.tile(x(), -1), ValueError,
        "tile: reps must be non-negative"),
    bad("roll: more shifts than axes", lambda: al.roll(x(), (1, 2, 3), (0, 1)), ValueError,
        "roll: 3 shifts for 2 axes"),
    bad("diag: a 3-D tensor", lambda: al.diag(np.zeros((2, 2, 2))), ValueError,
        "diag: expected a 1-D or 2-D tensor, got shape (2, 2, 2)"),
    bad("diagonal: equal axes", lambda: al.diagonal(x(), 0, 1, 1), ValueError,
        "diagonal: axis1 and axis2 must differ"),
    bad("trace: a 1-D tensor", lambda: al.trace([1.0, 2.0]), ValueError,
        "diagonal: needs at least 2 dimensions"),
    bad("triu: a 1-D tensor", lambda: al.triu([1.0, 2.0]), ValueError,
        "triu: needs at least 2 dimensions, got shape (2,)"),
    bad("gather: index out of range", lambda: al.gather(x(), 1, np.array([[3], [0]])),
        IndexError, "gather: index out of range for axis 1 of length 3"),
    bad("gather: index larger than x", lambda: al.gather(x(), 1, np.zeros((3, 1), int)),
        ValueError, "gather: index (3, 1) is larger than x (2, 3) outside axis 1"),
    bad("gather: float index", lambda: al.gather(x(), 1, np.zeros((2, 1))), TypeError,
        "gather: index must be integers, got dtype float64"),
    bad("scatter_add: src smaller than index",
        lambda: al.scatter_add(x(), 1, np.zeros((2, 2), int), np.ones((2, 1))), ValueError,
        "scatter_add: src (2, 1) must cover index (2, 2)"),
    bad("index_add: wrong source shape",
        lambda: al.index_add(x(), 0, np.array([0, 1]), np.ones((2, 2))), ValueError,
        "index_add: expected a 1-D index and source of shape (2, 3)"),
    bad("moveaxis: repeated axes", lambda: al.moveaxis(x(), (0, 0), (0, 1)), ValueError,
        "moveaxis: source (0, 0) and destination (0, 1) must be as many distinct axes"),
    bad("flatten: start after end", lambda: al.flatten(np.zeros((2, 3, 4)), 2, 0), ValueError,
        "flatten: start_axis 2 comes after end_axis 0"),
    bad("unflatten: sizes that do not fit", lambda: al.unflatten(x(), 1, (2, 2)), ValueError,
        "unflatten: sizes (2, 2) do not fit axis 1 of length 3"),
    bad("meshgrid: unknown indexing", lambda: al.meshgrid([1.0], indexing="xyz"), ValueError,
        "meshgrid: indexing must be 'xy' or 'ij'"),
    bad("vstack: a bare tensor", lambda: al.vstack(x()), TypeError,
        "vstack: expected a non-empty list or tuple of tensors, got Tensor"),
    bad("hstack: an empty list", lambda: al.hstack([]), TypeError,
        "hstack: expected a non-empty list or tuple"),
]
