"""Gradient checking: the engine's VJPs (and their own VJPs) against central finite differences
in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import ops
from .engine import cotangents, enable_grad, no_grad
from .tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "numerical_vjp"]


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when an analytic gradient disagrees with the numeric one."""


def _prepare(inputs: Sequence[Any], f: Any, eps: float, where: str) -> list:
    """Float inputs become fresh float64 leaves that require grad; others (integer targets,
    None) pass through. Non-numeric or non-finite inputs, a bad ``f`` or ``eps`` raise."""
    if not callable(f):
        raise TypeError(f"{where}: f must be callable, got {type(f).__name__}")
    if not 0 < eps < np.inf:
        raise ValueError(f"{where}: eps must be positive and finite, got {eps!r}")
    if isinstance(inputs, (Tensor, np.ndarray)):
        inputs = (inputs,)
    out = []
    for i, x in enumerate(inputs):
        if x is None:
            out.append(x)
            continue
        arr = x._data if isinstance(x, Tensor) else np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{where}: input {i} must be numbers, got {type(x).__name__} with "
                            f"dtype {arr.dtype}")
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise ValueError(f"{where}: input {i} has non-finite values (NaN or inf); finite "
                             "differences need finite inputs")
        if arr.dtype.kind == "f":
            out.append(Tensor(arr.astype(np.float64), requires_grad=True))
        else:
            out.append(x)
    return out


def _scalar_of(f: Callable, xs: list, u: np.ndarray) -> float:
    with no_grad():
        y = f(*xs)
    return float(np.sum(u * np.asarray(y._data if isinstance(y, Tensor) else y)))


def numerical_vjp(f: Callable, xs: list, u: np.ndarray, eps: float) -> list:
    """``uᵀ J`` for each float input of ``f`` by central differences (inputs are float64)."""
    result = []
    for x in xs:
        if not (isinstance(x, Tensor) and x.requires_grad):
            result.append(None)
            continue
        flat = x._data.reshape(-1)
        num = np.zeros(flat.shape)
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = _scalar_of(f, xs, u)
            flat[k] = orig - eps
            minus = _scalar_of(f, xs, u)
            flat[k] = orig
            num[k] = (plus - minus) / (2 * eps)
        result.append(num.reshape(x.shape))
    return result


def gradcheck(f: Callable[..., Tensor], inputs: Sequence[Any], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-4, *, seed: int = 0,
              raise_exception: bool = True) -> bool:
    """Check ``f``'s gradients against central finite differences in float64.

    A random upstream gradient ``u`` (fixed by ``seed``) is backpropagated, so a VJP that ignores
    its incoming gradient is caught. Every floating-point input is checked; integer inputs
    (e.g. class targets) pass through unchanged.

    An element passes when ``|analytic − numeric| <= atol + rtol·|numeric|``. The default
    ``rtol=1e-4`` is tighter than PyTorch's 1e-3: central differences in float64 with ``eps=1e-6``
    are accurate to about 1e-8, and 1e-3 would let a VJP that is 0.1% off pass.

    Returns ``True``; on a mismatch raises :class:`GradcheckError` naming the input, the worst
    element and both values (or returns ``False`` when ``raise_exception=False``).

    Example
    -------
    >>> gradcheck(lambda x: (x * x).sum(axis=0), [np.random.randn(3, 2)])
    True
    """
    xs = _prepare(inputs, f, eps, "gradcheck")
    out = f(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: f must return a Tensor, got {type(out).__name__}")
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(out.shape)
    if not out.requires_grad:
        analytic = [np.zeros(x.shape) if isinstance(x, Tensor) and x.requires_grad else None
                    for x in xs]
    else:
        out.backward(u)
        analytic = [None if not (isinstance(x, Tensor) and x.requires_grad) else
                    (np.zeros(x.shape) if x.grad is None else x.grad._data) for x in xs]
    numeric = numerical_vjp(f, xs, u, eps)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        if a is None:
            continue
        err = np.abs(a - n) - (atol + rtol * np.abs(n))
        bad = ~(err <= 0)  # NaN counts as a failure
        if bad.any():
            k = np.unravel_index(int(np.argmax(np.where(np.isnan(err), np.inf, err))), a.shape)
            msg = (f"gradcheck: input {i} (shape {xs[i].shape}): {int(bad.sum())} of {a.size} "
                   f"elements differ; worst at index {tuple(int(j) for j in k)}: analytic "
                   f"{a[k]!r}, numeric {n[k]!r} (atol={atol}, rtol={rtol})")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(f: Callable[..., Tensor], inputs: Sequence[Any], eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-4, *, seed: int = 0,
                  raise_exception: bool = True) -> bool:
    """Check ``f``'s second derivatives against central finite differences in float64.

    The first-order VJP ``(x, u) -> uᵀ ∂f/∂x`` is built with ``create_graph=True`` for a random
    upstream gradient ``u`` (fixed by ``seed``), and :func:`gradcheck` then checks *its* VJP, with
    a second random upstream gradient, against finite differences of that function. This covers
    every recorded backward rule, including those whose second derivative is identically zero
    (their first VJP must still be a correct, recorded function of ``u``).

    Example
    -------
    >>> gradgradcheck(lambda x: (x * x * x).sum(axis=0), [np.random.randn(3, 2)])
    True
    """
    xs = _prepare(inputs, f, eps, "gradgradcheck")
    out = f(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradgradcheck: f must return a Tensor, got {type(out).__name__}")
    u = np.random.default_rng(seed + 1).standard_normal(out.shape)
    diff = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradgradcheck: no floating-point input to differentiate")

    def first_vjp(*args: Any) -> Tensor:
        *ys, g = args
        with enable_grad():            # gradcheck evaluates this under no_grad, too
            y = f(*ys)
            cots = cotangents(y, [ys[i] for i in diff], g, create_graph=True)
        flat = [Tensor(np.zeros(ys[i].size)) if c is None else c.reshape(-1)
                for i, c in zip(diff, cots)]
        return ops.concatenate(*flat, axis=0)

    return gradcheck(first_vjp, [*xs, u], eps, atol, rtol, seed=seed,
                     raise_exception=raise_exception)
