"""Activation functions as primitives: stable forwards and closed-form VJPs written with ops
(so they differentiate again).

Conventions at kinks (as PyTorch): ``leaky_relu'(0) = negative_slope``; ``elu``, ``celu`` and
``selu`` take the negative branch's slope at 0; ``hardtanh``/``relu6`` pass no gradient at
their bounds (``min_val < x < max_val`` strictly), ``hardsigmoid`` none at ±3; ``hardswish``
has slope ``x/3 + ½`` on ``(−3, 3)``, 0 at −3 and 1 at 3. ``softplus`` is linear where
``beta·x > threshold``. Every forward is finite at ±1e4 in float32 (``softplus``,
``logsigmoid``, ``silu``, ``mish``, ``gelu`` never form ``e**(large)``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .core import Op, data, in_float32
from .elementwise import absolute, exp, masked, sigmoid, tanh, where
from .math import _erfc, erfc

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_K_TANH = math.sqrt(2 / math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _number(name: str, what: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: {what} must be a real number, got {v!r:.40}")
    if not math.isfinite(v):
        raise ValueError(f"{name}: {what} must be finite, got {v!r}")
    return float(v)


def _front(name: str, **defaults: Any) -> Any:
    """A front taking ``x`` and the named real parameters (with their defaults)."""
    import inspect

    def front(x: Any, *args: Any, **kwargs: Any) -> tuple:
        bound = sig.bind(x, *args, **kwargs)
        bound.apply_defaults()
        params = {k: _number(name, k, v) for k, v in bound.arguments.items() if k != "x"}
        check = _CHECKS.get(name)
        if check:
            check(**params)
        return (x,), params

    sig = inspect.Signature(
        [inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=v)
           for k, v in defaults.items()])
    front.__signature__ = sig  # type: ignore[attr-defined]
    return front


def _positive(name: str, what: str) -> Any:
    def check(**params: float) -> None:
        if params[what] <= 0:
            raise ValueError(f"{name}: {what} must be positive, got {params[what]}")
    return check


def _ordered(min_val: float, max_val: float) -> None:
    if not min_val < max_val:
        raise ValueError(f"hardtanh: min_val must be below max_val, got {min_val} and {max_val}")


_CHECKS = {"softplus": _positive("softplus", "beta"), "celu": _positive("celu", "alpha"),
           "hardtanh": _ordered}


def _act(name: str, forward: Any, vjp: Any, rule: str, summary: str, shows: str, *,
         front: Any = None, arg: str = "[-1.0, 0.0, 2.0]") -> Op:
    call = f"al.{name}({arg})"
    return Op(name, forward, (vjp,), rules=(rule,), summary=summary,
              example=f">>> {call}\n{shows}", public=name, method=name, front=front, batch=True)


def _np_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0, -x))


def _nonpos(x: Any) -> Any:
    """``x`` where ``x <= 0``, else 0 (so ``exp`` of it never overflows, nor its gradient)."""
    return where(x, 0.0, cond=data(x) <= 0)


# ---------------------------------------------------------------------------------------------
# Smooth


def _gelu(x: np.ndarray, *, approximate: str) -> np.ndarray:
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_K_TANH * (x + 0.044715 * x * x * x)))
    return x * (0.5 * _erfc(-x * _SQRT_HALF))   # Φ via erfc: accurate in the left tail


def _gelu_vjp(g: Any, out: Any, x: Any, *, approximate: str) -> Any:
    if approximate == "tanh":
        t = tanh(_K_TANH * (x + 0.044715 * x * x * x))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _K_TANH * (1 + 0.134145 * x * x))
    return g * (0.5 * erfc(-x * _SQRT_HALF) + x * (_INV_SQRT_2PI * exp(-0.5 * x * x)))


def _gelu_front(x: Any, approximate: str = "none") -> tuple:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r:.40}")
    return (x,), {"approximate": approximate}


gelu = _act("gelu", _gelu, _gelu_vjp, "g ⊙ (Φ(x) + x φ(x)) (or the tanh form's derivative)",
            "Gaussian error linear unit ``x Φ(x)`` (``approximate='tanh'``: "
            "``½x(1 + tanh(√(2/π)(x + 0.044715x³)))``).",
            "Tensor([-0.15865525,  0.        ,  1.95449974], dtype=float64)", front=_gelu_front)

silu = _act("silu", lambda x: x * _np_sigmoid(x),
            lambda g, out, x: g * (sigmoid(x) * (1 + x * (1 - sigmoid(x)))),
            "g ⊙ σ(x)(1 + x(1 − σ(x)))", "Sigmoid-weighted linear unit ``x σ(x)`` (swish).",
            "Tensor([-0.26894142,  0.        ,  1.76159416], dtype=float64)")


def _softplus(x: np.ndarray, *, beta: float, threshold: float) -> np.ndarray:
    bx = x * beta
    return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta)


def _softplus_vjp(g: Any, out: Any, x: Any, *, beta: float, threshold: float) -> Any:
    return g * where(sigmoid(x * beta), 1.0, cond=data(x) * beta <= threshold)


softplus = _act("softplus", _softplus, _softplus_vjp, "g ⊙ σ(βx) (g where βx > threshold)",
                "``log(1 + e**(βx)) / β``, computed stably; ``x`` itself where ``βx > "
                "threshold`` (as PyTorch).",
                "Tensor([0.31326169, 0.69314718, 2.12692801], dtype=float64)",
                front=_front("softplus", beta=1.0, threshold=20.0))

mish = _act("mish", lambda x: x * np.tanh(np.logaddexp(0, x)),
            lambda g, out, x: g * _mish_slope(x), "g ⊙ (tanh sp(x) + x σ(x)(1 − tanh² sp(x)))",
            "``x tanh(softplus(x))``.",
            "Tensor([-0.30340146,  0.        ,  1.94395896], dtype=float64)")


def _mish_slope(x: Any) -> Any:
    t = tanh(softplus(x, beta=1.0, threshold=20.0))
    return t + x * sigmoid(x) * (1 - t * t)


logsigmoid = _act("logsigmoid", lambda x: -np.logaddexp(0, -x),
                  lambda g, out, x: g * sigmoid(-x), "g ⊙ σ(−x)",
                  "``log σ(x) = −softplus(−x)``, computed stably.",
                  "Tensor([-1.31326169, -0.69314718, -0.12692801], dtype=float64)")

softsign = _act("softsign", lambda x: x / (1 + np.abs(x)),
                lambda g, out, x: g / ((1 + absolute(x)) * (1 + absolute(x))),
                "g / (1 + |x|)²", "``x / (1 + |x|)``.",
                "Tensor([-0.5       ,  0.        ,  0.66666667], dtype=float64)")

# ---------------------------------------------------------------------------------------------
# Exponential linear units


def _elu_forward(x: np.ndarray, alpha: float, scale: float = 1.0, inner: float = 1.0):
    """``scale·x`` for ``x > 0``, else ``scale·alpha·(e^(x/inner) − 1)``."""
    return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) / inner))


def _elu_vjp(g: Any, x: Any, alpha: float, scale: float = 1.0, inner: float = 1.0) -> Any:
    neg = exp(_nonpos(x) * (1 / inner)) * (alpha / inner)
    return g * (scale * where(1.0, neg, cond=data(x) > 0))


elu = _act("elu", lambda x, *, alpha: _elu_forward(x, alpha),
           lambda g, out, x, *, alpha: _elu_vjp(g, x, alpha), "g ⊙ (1 if x > 0 else α eˣ)",
           "Exponential linear unit: ``x`` for ``x > 0``, else ``α(eˣ − 1)``.",
           "Tensor([-0.63212056,  0.        ,  2.        ], dtype=float64)",
           front=_front("elu", alpha=1.0))
celu = _act("celu", lambda x, *, alpha: _elu_forward(x, alpha, inner=alpha),
            lambda g, out, x, *, alpha: _elu_vjp(g, x, alpha, inner=alpha),
            "g ⊙ (1 if x > 0 else e^(x/α))",
            "Continuously differentiable ELU: ``x`` for ``x > 0``, else ``α(e^(x/α) − 1)``.",
            "Tensor([-0.63212056,  0.        ,  2.        ], dtype=float64)",
            front=_front("celu", alpha=1.0))
selu = _act("selu", lambda x: _elu_forward(x, _SELU_ALPHA, _SELU_SCALE),
            lambda g, out, x: _elu_vjp(g, x, _SELU_ALPHA, _SELU_SCALE),
            "g ⊙ λ(1 if x > 0 else α eˣ)",
            "Scaled ELU with PyTorch's constants ``λ ≈ 1.0507``, ``α ≈ 1.6733``.",
            "Tensor([-1.11133074,  0.        ,  2.10140197], dtype=float64)")

# ---------------------------------------------------------------------------------------------
# Piecewise linear


def _leaky_vjp(g: Any, out: Any, x: Any, *, negative_slope: float) -> Any:
    return g * np.where(data(x) > 0, 1.0, negative_slope).astype(g.dtype, copy=False)


leaky_relu = _act("leaky_relu", lambda x, *, negative_slope: np.where(x > 0, x,
                                                                       x * negative_slope),
                  _leaky_vjp, "g ⊙ (1 if x > 0 else negative_slope)",
                  "``x`` for ``x > 0``, else ``negative_slope · x`` (default 0.01).",
                  "Tensor([-0.01,  0.  ,  2.  ], dtype=float64)",
                  front=_front("leaky_relu", negative_slope=0.01))


def _inside(x: Any, lo: float, hi: float, like: Any) -> np.ndarray:
    xd = data(x)
    return ((xd > lo) & (xd < hi)).astype(like.dtype, copy=False)


hardtanh = _act("hardtanh", lambda x, *, min_val, max_val: np.clip(x, min_val, max_val),
                lambda g, out, x, *, min_val, max_val: masked(g, _inside(x, min_val, max_val, g)),
                "g ⊙ [min_val < x < max_val]",
                "``x`` clipped to ``[min_val, max_val]`` (default [−1, 1]); no gradient at "
                "or beyond the bounds.", "Tensor([-1.,  0.,  1.], dtype=float64)",
                front=_front("hardtanh", min_val=-1.0, max_val=1.0))
relu6 = _act("relu6", lambda x: np.clip(x, 0, 6), lambda g, out, x: masked(g, _inside(x, 0, 6, g)),
             "g ⊙ [0 < x < 6]", "``min(max(x, 0), 6)``.",
             "Tensor([0., 0., 6.], dtype=float64)", arg="[-1.0, 0.0, 7.0]")


# hardsigmoid and hardswish: PyTorch's formulas and rounding, bit for bit (float16 through
# float32, as its CPU kernels), so a later kink (``1 / hardswish(-1)`` is −3 in both) falls on
# the same side; integers give float64 (true division).
hardsigmoid = _act("hardsigmoid", in_float32(lambda x: np.clip(x + 3, 0, 6) / 6),
                   lambda g, out, x: masked(g, _inside(x, -3, 3, g)) / 6, "g/6 ⊙ [−3 < x < 3]",
                   "Piecewise-linear sigmoid ``min(max(x + 3, 0), 6) / 6``.",
                   "Tensor([0.33333333, 0.5       , 0.83333333], dtype=float64)")


def _hardswish_vjp(g: Any, out: Any, x: Any) -> Any:
    xd = data(x)
    middle = where(x * (1 / 3) + 0.5, 1.0, cond=xd < 3)
    return g * where(middle, 0.0, cond=xd > -3)


hardswish = _act("hardswish", in_float32(lambda x: x * np.clip(x + 3, 0, 6) / 6),
                 _hardswish_vjp,
                 "g ⊙ (0 if x ≤ −3, x/3 + ½ if x < 3, else 1)",
                 "``x · hardsigmoid(x)``.",
                 "Tensor([-0.33333333,  0.        ,  1.66666667], dtype=float64)")
