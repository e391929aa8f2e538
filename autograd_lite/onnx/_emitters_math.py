"""Emitters for the elementwise functions and activations of ``ops/math.py`` and
``ops/activations.py``: one ONNX op where ONNX Runtime's CPU kernel serves every float dtype,
else a short fixed pattern of ops that do (so a float64 model stays float64).

``Asin``, ``Acos`` and ``Atan`` have no float64 kernel in ONNX Runtime: float64 graphs compute
``atan`` by range reduction and a short series (to a few ulp) and the others through it. Where
ONNX has the op but ONNX Runtime's CPU kernel is float32/float16 only (``Erf``; ``Det`` in
``_emitters_conv``) and no exact short pattern exists, float64 values are cast to
float32 around that one node (:func:`float_only`): the model runs, computing that op to float32
precision; :data:`VIA_FLOAT32` lists those ops.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._builder import Builder, elem_type
from ._emitters import Emitter, _reduce

VIA_FLOAT32: dict[str, str] = {}
"""Op name → the ONNX op whose ONNX Runtime CPU kernel has no float64 (float64 values are cast
to float32 around it; filled in below and by ``_emitters_conv``)."""


def float_only(b: Builder, op_type: str, xs: list[str], dtype: Any, *rest: str,
               **attrs: Any) -> str:
    """``op_type`` on the float values ``xs`` (then the non-float inputs ``rest``), computed in
    float32 when ``dtype`` is float64 (ONNX Runtime's CPU kernel has no float64)."""
    if np.dtype(dtype) != np.float64:
        return b.node(op_type, [*xs, *rest], **attrs)
    f32, f64 = elem_type(np.float32), elem_type(np.float64)
    y = b.node(op_type, [*(b.node("Cast", [x], to=f32) for x in xs), *rest], **attrs)
    return b.node("Cast", [y], to=f64)


def _c(b: Builder, t: Any, v: float) -> str:
    """A scalar constant in ``t``'s dtype."""
    return b.const(np.asarray(v, dtype=t.dtype))


def _x(b: Builder, t: Any, i: int = 0) -> str:
    return b.typed(t._parents[i], t.dtype)


def _pattern(fn: Any, doc: str) -> Emitter:
    """An emitter from ``fn(b, t, x) -> value``: a short fixed pattern on the input value."""
    def emit(b: Builder, t: Any) -> str:
        return fn(b, t, _x(b, t))
    emit.__doc__ = doc
    return emit


def _softplus(b: Builder, t: Any, z: str) -> str:
    """Stable ``log(1 + e^z)`` = ``max(z, 0) + log(1 + e^(−|z|))``."""
    tail = b.node("Log", [b.node("Add", [_c(b, t, 1), b.node("Exp", [
        b.node("Neg", [b.node("Abs", [z])])])])])
    return b.node("Add", [b.node("Max", [z, _c(b, t, 0)]), tail])


def _sinh_cosh(sign: str) -> Any:
    def fn(b: Builder, t: Any, x: str) -> str:
        e, en = b.node("Exp", [x]), b.node("Exp", [b.node("Neg", [x])])
        return b.node("Mul", [b.node(sign, [e, en]), _c(b, t, 0.5)])
    return fn


def _asinh(b: Builder, t: Any, x: str) -> str:
    """``sign(x)·log(|x| + √(x² + 1))`` (no cancellation for negative x)."""
    a = b.node("Abs", [x])
    r = b.node("Sqrt", [b.node("Add", [b.node("Mul", [x, x]), _c(b, t, 1)])])
    return b.node("Mul", [b.node("Sign", [x]), b.node("Log", [b.node("Add", [a, r])])])


def _acosh(b: Builder, t: Any, x: str) -> str:
    r = b.node("Sqrt", [b.node("Mul", [b.node("Sub", [x, _c(b, t, 1)]),
                                      b.node("Add", [x, _c(b, t, 1)])])])
    return b.node("Log", [b.node("Add", [x, r])])


def _atanh(b: Builder, t: Any, x: str) -> str:
    one = _c(b, t, 1)
    q = b.node("Div", [b.node("Add", [one, x]), b.node("Sub", [one, x])])
    return b.node("Mul", [b.node("Log", [q]), _c(b, t, 0.5)])


def _atan(b: Builder, t: Any, x: str) -> str:
    """ONNX ``Atan``; in float64 (no ONNX Runtime kernel): ``|x| > 1`` reflected to ``1/|x|``,
    three argument halvings ``z/(1 + √(1 + z²))`` (to ``z < 0.1``), nine terms of the series
    ``z − z³/3 + ...``, then ``·8``, ``π/2 −`` for the reflected, the sign put back."""
    if np.dtype(t.dtype) != np.float64:
        return b.node("Atan", [x])
    a = b.node("Abs", [x])
    big = b.node("Greater", [a, _c(b, t, 1)])
    z = b.node("Where", [big, b.node("Reciprocal", [a]), a])
    for _ in range(3):
        root = b.node("Sqrt", [b.node("Add", [_c(b, t, 1), b.node("Mul", [z, z])])])
        z = b.node("Div", [z, b.node("Add", [_c(b, t, 1), root])])
    w = b.node("Mul", [z, z])
    poly = _c(b, t, 1 / 17)
    for k in range(7, -1, -1):      # Horner: 1 − w(1/3 − w(1/5 − ... w/17))
        poly = b.node("Sub", [_c(b, t, 1 / (2 * k + 1)), b.node("Mul", [w, poly])])
    r = b.node("Mul", [_c(b, t, 8), b.node("Mul", [z, poly])])
    r = b.node("Where", [big, b.node("Sub", [_c(b, t, math.pi / 2), r]), r])
    return b.node("Mul", [b.node("Sign", [x]), r])


def _asin(b: Builder, t: Any, x: str) -> str:
    """``atan(x / √((1 − x)(1 + x)))``."""
    if t.dtype != np.float64:
        return b.node("Asin", [x])
    one = _c(b, t, 1)
    root = b.node("Sqrt", [b.node("Mul", [b.node("Sub", [one, x]), b.node("Add", [one, x])])])
    return _atan(b, t, b.node("Div", [x, root]))


def _acos(b: Builder, t: Any, x: str) -> str:
    """``2·atan(√((1 − x)/(1 + x)))``."""
    if t.dtype != np.float64:
        return b.node("Acos", [x])
    one = _c(b, t, 1)
    q = b.node("Sqrt", [b.node("Div", [b.node("Sub", [one, x]), b.node("Add", [one, x])])])
    return b.node("Mul", [_c(b, t, 2), _atan(b, t, q)])


def _arctan2(b: Builder, t: Any) -> str:
    """``atan(y/x)`` plus ±π where ``x < 0`` (the sign of ``y``; ``y = 0`` takes +π), and 0 at
    ``(0, 0)`` (as NumPy)."""
    y, x = _x(b, t, 0), _x(b, t, 1)
    zero = _c(b, t, 0)
    origin = b.node("And", [b.node("Equal", [x, zero]), b.node("Equal", [y, zero])])
    q = b.node("Where", [origin, zero, b.node("Div", [y, x])])
    a = _atan(b, t, q)
    turn = b.node("Where", [b.node("Less", [y, zero]), _c(b, t, -math.pi), _c(b, t, math.pi)])
    return b.node("Add", [a, b.node("Where", [b.node("Less", [x, zero]), turn, zero])])


def _erf(b: Builder, t: Any, x: str) -> str:
    return float_only(b, "Erf", [x], t.dtype)


def _erfc(b: Builder, t: Any, x: str) -> str:
    return b.node("Sub", [_c(b, t, 1), _erf(b, t, x)])


def _trunc(b: Builder, t: Any, x: str) -> str:
    return b.node("Mul", [b.node("Sign", [x]), b.node("Floor", [b.node("Abs", [x])])])


def _fmod(b: Builder, t: Any) -> str:
    return b.node("Mod", [_x(b, t, 0), _x(b, t, 1)], fmod=1)


def _remainder(b: Builder, t: Any) -> str:
    """C's fmod, then ``+ y`` where it is nonzero and its sign differs from ``y``'s."""
    y = _x(b, t, 1)
    r = _fmod(b, t)
    zero = _c(b, t, 0)
    fix = b.node("And", [b.node("Not", [b.node("Equal", [r, zero])]),
                         b.node("Not", [b.node("Equal", [b.node("Less", [r, zero]),
                                                         b.node("Less", [y, zero])])])])
    return b.node("Where", [fix, b.node("Add", [r, y]), r])


def _hypot(b: Builder, t: Any) -> str:
    """``m·√((x/m)² + (y/m)²)`` with ``m = max(|x|, |y|)`` (1 where both are 0): no overflow
    for large arguments, as NumPy."""
    x, y = _x(b, t, 0), _x(b, t, 1)
    m = b.node("Max", [b.node("Abs", [x]), b.node("Abs", [y])])
    s = b.node("Where", [b.node("Equal", [m, _c(b, t, 0)]), _c(b, t, 1), m])
    u, v = b.node("Div", [x, s]), b.node("Div", [y, s])
    return b.node("Mul", [s, b.node("Sqrt", [b.node("Add", [b.node("Mul", [u, u]),
                                                          b.node("Mul", [v, v])])])])


def _gelu(b: Builder, t: Any, x: str) -> str:
    if t._params["approximate"] == "tanh":
        inner = b.node("Add", [x, b.node("Mul", [_c(b, t, 0.044715),
                                                 b.node("Mul", [x, b.node("Mul", [x, x])])])])
        th = b.node("Tanh", [b.node("Mul", [_c(b, t, math.sqrt(2 / math.pi)), inner])])
        return b.node("Mul", [b.node("Mul", [_c(b, t, 0.5), x]),
                              b.node("Add", [_c(b, t, 1), th])])
    phi = b.node("Mul", [_c(b, t, 0.5), _erfc(b, t, b.node("Mul", [
        x, _c(b, t, -math.sqrt(0.5))]))])
    return b.node("Mul", [x, phi])


def _softplus_act(b: Builder, t: Any, x: str) -> str:
    beta, threshold = t._params["beta"], t._params["threshold"]
    bx = b.node("Mul", [x, _c(b, t, beta)])
    sp = b.node("Div", [_softplus(b, t, bx), _c(b, t, beta)])
    return b.node("Where", [b.node("Greater", [bx, _c(b, t, threshold)]), x, sp])


def _elu_like(b: Builder, t: Any, x: str, alpha: float, scale: float = 1.0,
              inner: float = 1.0) -> str:
    neg = b.node("Div", [b.node("Min", [x, _c(b, t, 0)]), _c(b, t, inner)])
    neg = b.node("Mul", [_c(b, t, alpha), b.node("Sub", [b.node("Exp", [neg]), _c(b, t, 1)])])
    out = b.node("Where", [b.node("Greater", [x, _c(b, t, 0)]), x, neg])
    return out if scale == 1.0 else b.node("Mul", [_c(b, t, scale), out])


def _hardsigmoid(b: Builder, t: Any, x: str) -> str:
    y = b.node("Add", [b.node("Div", [x, _c(b, t, 6)]), _c(b, t, 0.5)])
    return b.node("Clip", [y, _c(b, t, 0), _c(b, t, 1)])


def _clip_to(lo: str, hi: str) -> Any:
    def fn(b: Builder, t: Any, x: str) -> str:
        p = t._params
        return b.node("Clip", [x, _c(b, t, p.get(lo, 0.0)), _c(b, t, p.get(hi, 6.0))])
    return fn


def _sigmoid_mul(b: Builder, t: Any, x: str) -> str:
    return b.node("Mul", [x, b.node("Sigmoid", [x])])


_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)

MATH_EMITTERS: dict[str, Emitter] = {
    "tan": _pattern(lambda b, t, x: b.node("Div", [b.node("Sin", [x]), b.node("Cos", [x])]),
                    "sin x / cos x"),
    "arcsin": _pattern(_asin, "Asin (float64: through atan)"),
    "arccos": _pattern(_acos, "Acos (float64: through atan)"),
    "arctan": _pattern(_atan, "Atan (float64: reduction and series)"),
    "arctan2": _arctan2,
    "sinh": _pattern(_sinh_cosh("Sub"), "(eˣ − e⁻ˣ)/2"),
    "cosh": _pattern(_sinh_cosh("Add"), "(eˣ + e⁻ˣ)/2"),
    "arcsinh": _pattern(_asinh, "sign(x) log(|x| + √(x² + 1))"),
    "arccosh": _pattern(_acosh, "log(x + √((x − 1)(x + 1)))"),
    "arctanh": _pattern(_atanh, "½ log((1 + x)/(1 − x))"),
    "log1p": _pattern(lambda b, t, x: b.node("Log", [b.node("Add", [x, _c(b, t, 1)])]),
                      "log(x + 1)"),
    "expm1": _pattern(lambda b, t, x: b.node("Sub", [b.node("Exp", [x]), _c(b, t, 1)]),
                      "eˣ − 1"),
    "log2": _pattern(lambda b, t, x: b.node("Div", [b.node("Log", [x]), _c(b, t, math.log(2))]),
                     "log x / log 2"),
    "log10": _pattern(lambda b, t, x: b.node("Div", [b.node("Log", [x]),
                                                    _c(b, t, math.log(10))]),
                      "log x / log 10"),
    "exp2": _pattern(lambda b, t, x: b.node("Pow", [_c(b, t, 2), x]), "Pow(2, x)"),
    "square": _pattern(lambda b, t, x: b.node("Mul", [x, x]), "x·x"),
    "rsqrt": _pattern(lambda b, t, x: b.node("Reciprocal", [b.node("Sqrt", [x])]), "1/√x"),
    "erf": _pattern(_erf, "Erf (float32 in ONNX Runtime)"),
    "erfc": _pattern(_erfc, "1 − Erf(x) (float32 in ONNX Runtime)"),
    "trunc": _pattern(_trunc, "sign(x)·floor(|x|)"),
    "fmod": _fmod, "remainder": _remainder, "hypot": _hypot,
    "softsign": _pattern(lambda b, t, x: b.node("Div", [x, b.node("Add", [
        b.node("Abs", [x]), _c(b, t, 1)])]), "x / (1 + |x|)"),
    "gelu": _pattern(_gelu, "x·Φ(x) with Erf, or the tanh form"),
    "silu": _pattern(_sigmoid_mul, "x·σ(x)"),
    "softplus": _pattern(_softplus_act, "stable softplus(βx)/β, x above the threshold"),
    "mish": _pattern(lambda b, t, x: b.node("Mul", [x, b.node("Tanh", [_softplus(b, t, x)])]),
                     "x·tanh(softplus(x))"),
    "logsigmoid": _pattern(lambda b, t, x: b.node("Neg", [_softplus(b, t, b.node("Neg", [x]))]),
                           "−softplus(−x)"),
    "elu": _pattern(lambda b, t, x: _elu_like(b, t, x, t._params["alpha"]), "ELU"),
    "celu": _pattern(lambda b, t, x: _elu_like(b, t, x, t._params["alpha"],
                                               inner=t._params["alpha"]), "CELU"),
    "selu": _pattern(lambda b, t, x: _elu_like(b, t, x, _SELU[0], _SELU[1]), "SELU"),
    "leaky_relu": _pattern(lambda b, t, x: b.node("Where", [
        b.node("Greater", [x, _c(b, t, 0)]), x,
        b.node("Mul", [x, _c(b, t, t._params["negative_slope"])])]), "LeakyRelu"),
    "hardtanh": _pattern(_clip_to("min_val", "max_val"), "Clip"),
    "relu6": _pattern(_clip_to("lo", "hi"), "Clip(x, 0, 6)"),
    "hardsigmoid": _pattern(_hardsigmoid, "Clip(x/6 + ½, 0, 1)"),
    "hardswish": _pattern(lambda b, t, x: b.node("Mul", [x, _hardsigmoid(b, t, x)]),
                          "x·hardsigmoid(x)"),
    "prod": _reduce("ReduceProd"),
}
"""Emitters of the math and activation ops."""

VIA_FLOAT32.update({"erf": "Erf", "erfc": "Erf", "gelu": "Erf (approximate='none')"})
