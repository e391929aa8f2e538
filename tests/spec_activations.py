"""Specs of the activations in ``autograd_lite/ops/activations.py``: NumPy references written
from the definitions, PyTorch's ``torch.nn.functional`` as the oracle.

Piecewise-linear activations read inputs drawn away from their kinks (the "clip" domain, scaled
so that the samples straddle each bound).
"""

from __future__ import annotations

import math

import numpy as np

import autograd_lite as al

from .spec import UNARY_SHAPES, Spec

_erf = np.vectorize(math.erf, otypes=[float])


def _f(name):
    import torch
    return getattr(torch.nn.functional, name)


def _cases(*params):
    return [((s,), p) for p in (params or ({},)) for s in UNARY_SHAPES]


def _spec(name, ref, *params, domain="any", scale=1.0):
    return Spec(lambda x, **kw: getattr(al, name)(x * scale, **kw),
                lambda x, **kw: ref(x * scale, **kw),
                lambda x, **kw: _f(name)(x * scale, **kw), _cases(*params), domain=domain)


def _softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def _gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + _erf(x / np.sqrt(2)))


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * (np.exp(x) - 1))


_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)

SPECS = {
    "gelu": _spec("gelu", _gelu, {}, {"approximate": "tanh"}),
    "silu": _spec("silu", lambda x: x / (1 + np.exp(-x))),
    "softplus": _spec("softplus", _softplus, {}, {"beta": 2.0, "threshold": 1.0},
                      {"beta": 0.5, "threshold": 20.0}, domain="nonzero"),
    "mish": _spec("mish", lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    "logsigmoid": _spec("logsigmoid", lambda x: np.log(1 / (1 + np.exp(-x)))),
    "softsign": _spec("softsign", lambda x: x / (1 + np.abs(x)), domain="nonzero"),
    "elu": _spec("elu", _elu, {}, {"alpha": 0.5}, domain="nonzero"),
    "celu": _spec("celu", lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(x / alpha)),
                  {}, {"alpha": 2.0}, domain="nonzero"),
    "selu": _spec("selu", lambda x: _SELU[1] * _elu(x, _SELU[0]), domain="nonzero"),
    "leaky_relu": _spec("leaky_relu", lambda x, negative_slope=0.01:
                        np.where(x > 0, x, negative_slope * x), {}, {"negative_slope": 0.2},
                        domain="nonzero"),
    "hardtanh": _spec("hardtanh", lambda x, min_val=-1.0, max_val=1.0:
                      np.clip(x, min_val, max_val), {}, {"min_val": -0.5, "max_val": 1.0},
                      domain="clip"),
    "relu6": _spec("relu6", lambda x: np.minimum(np.maximum(x, 0), 6), domain="clip", scale=6.0),
    # torch's own hardsigmoid backward multiplies by a float32 1/6 (3e-8 off): relu6 instead
    "hardsigmoid": Spec(lambda x: al.hardsigmoid(x * 4.0), lambda x: np.clip(x * 4 / 6 + 0.5, 0, 1),
                        lambda x: _f("relu6")(x * 4.0 + 3) / 6, _cases(), domain="clip"),
    "hardswish": _spec("hardswish", lambda x: x * np.clip(x + 3, 0, 6) / 6, domain="clip",
                       scale=4.0),
}
