"""Layer normalisation, fused and composed, as PyTorch's ``F.layer_norm``.

Over the last ``len(normalized_shape)`` axes (``n`` elements per row):

    μ = mean(x),  σ = sqrt(mean((x − μ)²) + eps),  x̂ = (x − μ)/σ,  y = x̂ ⊙ w + b

The fused form is one node saving only ``μ`` and ``1/σ`` (one number per row each, as PyTorch
does); its VJP is the closed form, a projection that removes the mean and the ``x̂`` component:

    dx = (1/σ)·(ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)),  ĝ = g ⊙ w
    dw = Σ_rows g ⊙ x̂,  db = Σ_rows g

Under ``create_graph=True`` the VJP recomputes ``μ`` and ``1/σ`` from ``x`` with ops, so the second
derivative sees them as functions of ``x``. ``fused=False`` composes the same from ``mean``,
``sub``, ``mul``, ``sqrt``, ``div`` (about a dozen nodes, several full-size arrays kept).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor, as_tensor
from .common import recording

__all__ = ["layer_norm"]


def _stats(x: Any, axes: tuple, eps: float) -> tuple[Any, Any]:
    """``μ`` and ``1/σ`` along ``axes`` (kept); with ops, so Tensors record them."""
    mu = x.mean(axis=axes, keepdims=True)
    xc = x - mu
    return mu, ((xc * xc).mean(axis=axes, keepdims=True) + eps) ** -0.5


def _forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, *, axes: tuple, eps: float,
             affine: tuple[bool, bool]) -> tuple[np.ndarray, tuple]:
    mu = x.mean(axis=axes, keepdims=True)
    y = x - mu
    rstd = (np.square(y).mean(axis=axes, keepdims=True) + eps) ** -0.5
    y *= rstd
    if affine[0]:
        y *= w
    if affine[1]:
        y += b
    return y, (mu, rstd)


def _xhat(x: Any, saved: tuple, axes: tuple, eps: float) -> tuple[Any, Any]:
    mu, rstd = _stats(x, axes, eps) if recording(x) else saved
    return (x - mu) * rstd, rstd


def _vjp_x(g: Any, out: Any, x: Any, w: Any, b: Any, *, saved: tuple, axes: tuple, eps: float,
           affine: tuple[bool, bool]) -> Any:
    xhat, rstd = _xhat(x, saved, axes, eps)
    gw = g * w if affine[0] else g
    mean = lambda a: a.mean(axis=axes, keepdims=True)
    return (gw - mean(gw) - xhat * mean(gw * xhat)) * rstd


def _rows(a: Any, axes: tuple) -> Any:
    """Summed over the leading (batch) axes: the shape of ``normalized_shape``."""
    lead = tuple(range(a.ndim - len(axes)))
    return a.sum(axis=lead) if lead else a


def _vjp_w(g: Any, out: Any, x: Any, w: Any, b: Any, *, saved: tuple, axes: tuple, eps: float,
           affine: tuple[bool, bool]) -> Any:
    return _rows(g * _xhat(x, saved, axes, eps)[0], axes)


def _vjp_b(g: Any, out: Any, x: Any, w: Any, b: Any, *, axes: tuple, **_: Any) -> Any:
    return _rows(g, axes)


_layer_norm = ops.Op(
    "layer_norm", _forward, (_vjp_x, _vjp_w, _vjp_b), saves=True,
    rules=("(1/σ)(ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)), ĝ = g ⊙ w", "Σ_rows g ⊙ x̂", "Σ_rows g"),
    internal="reached as layer_norm(..., fused=True)",
    summary="Fused layer normalisation ``(x − μ)/σ ⊙ w + b`` over the trailing axes; saves "
    "only μ and 1/σ per row.")


def _check(x: Any, normalized_shape: Any, weight: Any, bias: Any,
           eps: float) -> tuple[Tensor, tuple, list]:
    name = "layer_norm"
    t = as_tensor(x, name, floating=True)
    ns = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else normalized_shape
    try:
        ns = tuple(int(n) for n in ns)
    except TypeError:
        raise TypeError(f"{name}: normalized_shape must be an int or a tuple of ints, got "
                        f"{normalized_shape!r:.40}") from None
    if not ns or len(ns) > t.ndim or t.shape[t.ndim - len(ns):] != ns:
        raise ValueError(f"{name}: normalized_shape {ns} must be the trailing dimensions of the "
                         f"input's shape {t.shape}")
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps >= 0:
        raise ValueError(f"{name}: eps must be a non-negative number, got {eps!r}")
    params = []
    for what, p in (("weight", weight), ("bias", bias)):
        if p is not None:
            p = as_tensor(p, name, what=what, floating=True)
            if p.shape != ns:
                raise ValueError(f"{name}: {what} has shape {p.shape}, expected normalized_shape "
                                 f"{ns}")
        params.append(p)
    return t, ns, params


def layer_norm(x: Any, normalized_shape: Any, weight: Any = None, bias: Any = None,
               eps: float = 1e-5, *, fused: bool = True) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` axes, then scale and shift, as
    PyTorch's ``F.layer_norm`` (biased variance; ``eps`` inside the square root).

    ``fused=True``: one node saving μ and 1/σ per row, the closed-form VJP
    ``(1/σ)(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))``; ``fused=False``: composed from primitives.

    Example
    -------
    >>> x = Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    >>> layer_norm(x, 3, eps=0.0)
    Tensor([[-1.22474487,  0.        ,  1.22474487]], dtype=float64, op=layer_norm)
    >>> np.allclose(layer_norm(x, 3).data, layer_norm(x, 3, fused=False).data)
    True
    """
    t, ns, (w, b) = _check(x, normalized_shape, weight, bias, eps)
    axes = tuple(range(t.ndim - len(ns), t.ndim))
    if fused:
        one = np.ones((), t.dtype)
        return _layer_norm(t, one if w is None else w, one * 0 if b is None else b, axes=axes,
                           eps=float(eps), affine=(w is not None, b is not None))
    mu = t.mean(axis=axes, keepdims=True)
    xc = t - mu
    y = xc / ops.sqrt((xc * xc).mean(axis=axes, keepdims=True) + eps)
    if w is not None:
        y = y * w
    return y if b is None else y + b
