"""Specs of the elementwise functions in ``autograd_lite/ops/math.py``.

Inputs are drawn from the table's domains and mapped into each function's domain inside the
call (``0.45·x`` into (−1, 1) for arcsin, ``1 + x`` above 1 for arccosh), the same way in the
NumPy reference and in PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

import autograd_lite as al

from .spec import Spec, binary, unary


def _t(name):
    import torch
    return getattr(torch, name)


def _u(name, ref, torch_name=None, *, domain="any", pre=None, **extra):
    """A unary spec: ``al.NAME(pre(x))`` vs ``ref(pre(x))`` vs ``torch.NAME(pre(x))``."""
    pre = pre or (lambda v: v)
    return Spec(lambda x: getattr(al, name)(pre(x)), lambda x: ref(pre(x)),
                lambda x: _t(torch_name or name)(pre(x)), unary(), domain=domain, extra=extra)


def _unit(v):
    return v * 0.45          # "nonzero" domain -> 0.135 <= |v| <= 0.9


def _above_one(v):
    return v + 1.0           # "pos" domain -> [1.5, 3]


_erf = np.vectorize(math.erf, otypes=[float])
_erfc = np.vectorize(math.erfc, otypes=[float])

SPECS = {
    "sin": _u("sin", np.sin),
    "cos": _u("cos", np.cos),
    "tan": _u("tan", np.tan, pre=lambda v: v * 0.5),
    "arcsin": _u("arcsin", np.arcsin, "asin", domain="nonzero", pre=_unit),
    "arccos": _u("arccos", np.arccos, "acos", domain="nonzero", pre=_unit),
    "arctan": _u("arctan", np.arctan, "atan"),
    "sinh": _u("sinh", np.sinh),
    "cosh": _u("cosh", np.cosh),
    "arcsinh": _u("arcsinh", np.arcsinh, "asinh"),
    "arccosh": _u("arccosh", np.arccosh, "acosh", domain="pos", pre=_above_one),
    "arctanh": _u("arctanh", np.arctanh, "atanh", domain="nonzero", pre=_unit),
    "log1p": _u("log1p", np.log1p, domain="pos"),
    "expm1": _u("expm1", np.expm1),
    "log2": _u("log2", np.log2, domain="pos"),
    "log10": _u("log10", np.log10, domain="pos"),
    "exp2": _u("exp2", np.exp2),
    "square": _u("square", np.square),
    "reciprocal": _u("reciprocal", np.reciprocal, domain="nonzero"),
    "rsqrt": _u("rsqrt", lambda v: 1 / np.sqrt(v), domain="pos"),
    "erf": _u("erf", _erf),
    "erfc": _u("erfc", _erfc),
    "sign": _u("sign", np.sign, domain="nonzero"),
    "floor": _u("floor", np.floor, pre=lambda v: v * 3),
    "ceil": _u("ceil", np.ceil, pre=lambda v: v * 3),
    "round": _u("round", np.round, pre=lambda v: v * 3),
    "trunc": _u("trunc", np.trunc, pre=lambda v: v * 3),
    "arctan2": Spec(al.arctan2, np.arctan2, lambda y, x: _t("atan2")(y, x), binary(),
                    domain="nonzero"),
    "remainder": Spec(lambda x, y: x % y, np.remainder, lambda x, y: _t("remainder")(x, y),
                      binary(), domain="nonzero"),
    "fmod": Spec(al.fmod, np.fmod, lambda x, y: _t("fmod")(x, y), binary(), domain="nonzero"),
    "hypot": Spec(al.hypot, np.hypot, lambda x, y: _t("hypot")(x, y), binary(),
                  domain="nonzero"),
}
