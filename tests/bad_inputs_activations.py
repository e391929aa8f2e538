"""Bad-input rows for the activations with parameters (and the binary math functions)."""

from __future__ import annotations

import numpy as np

import autograd_lite as al

from .bad_inputs_table import NOT_NUMBERS, backward_ok, bad, ok, x

_WITH_PARAMS = {"gelu": al.gelu, "softplus": al.softplus, "elu": al.elu, "celu": al.celu,
                "leaky_relu": al.leaky_relu, "hardtanh": al.hardtanh}

ROWS = [
    *[bad(f"{name}: {what}", (lambda f=f, v=v: f(v)), TypeError, name)
      for name, f in _WITH_PARAMS.items() for what, v in NOT_NUMBERS.items()],
    bad("gelu: an unknown approximation", lambda: al.gelu(x(), approximate="erf"), ValueError,
        "gelu: approximate must be 'none' or 'tanh', got 'erf'"),
    bad("softplus: beta 0", lambda: al.softplus(x(), beta=0), ValueError,
        "softplus: beta must be positive, got 0.0"),
    bad("softplus: a string threshold", lambda: al.softplus(x(), threshold="a"), TypeError,
        "softplus: threshold must be a real number"),
    bad("softplus: an unknown keyword", lambda: al.softplus(x(), alpha=1.0), TypeError,
        "softplus(x, beta=1.0, threshold=20.0)"),
    bad("elu: alpha NaN", lambda: al.elu(x(), alpha=float("nan")), ValueError,
        "elu: alpha must be finite"),
    bad("celu: alpha 0", lambda: al.celu(x(), 0.0), ValueError,
        "celu: alpha must be positive"),
    bad("leaky_relu: a list slope", lambda: al.leaky_relu(x(), [0.1]), TypeError,
        "leaky_relu: negative_slope must be a real number"),
    bad("hardtanh: min_val above max_val", lambda: al.hardtanh(x(), 1.0, -1.0), ValueError,
        "hardtanh: min_val must be below max_val, got 1.0 and -1.0"),
    bad("arctan2: shapes (2, 3) vs (4,)", lambda: al.arctan2(x(), np.ones(4)), ValueError,
        "arctan2: shapes (2, 3) vs (4,) cannot be broadcast together"),
    bad("%: shapes (2, 3) % (2,)", lambda: x() % np.ones(2), ValueError,
        "remainder: shapes (2, 3) % (2,) cannot be broadcast together"),
    *[ok(f"{name}: an empty (0, 3) array", (lambda f=f: f(al.Tensor(np.zeros((0, 3)),
                                                                    requires_grad=True))),
         lambda r: r.shape == (0, 3) and backward_ok(r))
      for name, f in {"gelu": al.gelu, "sin": al.sin, "erf": al.erf, "softplus": al.softplus,
                      "hardswish": al.hardswish}.items()],
]
