"""Layers beyond ``Linear``: ``Embedding``, ``BatchNorm1d``, ``Bilinear``, ``Identity``,
``Flatten``, ``Softmax``/``LogSoftmax``, a module for every activation function and one for
every loss (``criterion = nn.MSELoss()``).

All follow PyTorch's names, arguments and semantics (re-exported from :mod:`autograd_lite.nn`);
each forward is composed of Tensor operations, so gradients come from the primitives.
"""

from __future__ import annotations

import math
import numbers
import operator
import sys
from typing import Any

import numpy as np

from . import api, functional, losses
from .engine import no_grad
from .module import Module, Parameter, _rng
from .tensor import Tensor, as_tensor

__all__ = ["Identity", "Flatten", "Embedding", "BatchNorm1d", "Bilinear", "Softmax",
           "LogSoftmax", "GELU", "SiLU", "Softplus", "ELU", "SELU", "CELU", "LeakyReLU",
           "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Mish", "LogSigmoid", "Softsign",
           "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "NLLLoss",
           "CrossEntropyLoss", "KLDivLoss", "MarginRankingLoss", "CosineEmbeddingLoss"]


# ---------------------------------------------------------------------------------------------
# Layers


class Identity(Module):
    """Returns its input unchanged (a placeholder layer), as PyTorch's ``nn.Identity``.

    Example
    -------
    >>> al.nn.Identity()(al.tensor([1.0, 2.0]))
    Tensor([1., 2.], dtype=float64)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:   # ignores its arguments, as PyTorch
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Axes ``start_dim`` … ``end_dim`` merged into one (by default all but the batch axis), as
    PyTorch's ``nn.Flatten``.

    Example
    -------
    >>> al.nn.Flatten()(np.zeros((2, 3, 4))).shape
    (2, 12)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = operator.index(start_dim)
        self.end_dim = operator.index(end_dim)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x, "Flatten")
        nd = max(x.ndim, 1)
        lo, hi = self.start_dim, self.end_dim
        if not (-nd <= lo < nd and -nd <= hi < nd) or lo % nd > hi % nd:
            raise ValueError(f"Flatten: start_dim={lo}, end_dim={hi} do not select a range of "
                             f"axes of an input of shape {x.shape}")
        if x.ndim == 0:
            return x.reshape(1)
        lo, hi = lo % nd, hi % nd
        return x.reshape(x.shape[:lo] + (-1,) + x.shape[hi + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


def _size(owner: str, what: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
        raise ValueError(f"{owner}: {what} must be a positive int, got {v!r:.40}")
    return int(v)


class Embedding(Module):
    """A lookup table: row ``i`` of ``weight`` (``num_embeddings × embedding_dim``, initialised
    ``N(0, 1)`` as in PyTorch) for each integer index ``i``; the gradient of a repeated index is
    the sum. With ``padding_idx`` that row starts at zero and receives no gradient.

    Example
    -------
    >>> emb = al.nn.Embedding(10, 3, rng=0)
    >>> emb(np.array([[1, 2], [4, 1]])).shape
    (2, 2, 3)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 *, dtype: Any = np.float32,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        self.num_embeddings = _size("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = _size("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= operator.index(padding_idx) < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} is out of range for "
                                 f"{num_embeddings} embeddings")
            padding_idx = operator.index(padding_idx) % num_embeddings
        self.padding_idx = padding_idx
        w = _rng(rng).standard_normal((num_embeddings, embedding_dim))
        if padding_idx is not None:
            w[padding_idx] = 0.0
        self.weight = Parameter(w, dtype=dtype)

    def forward(self, indices: Any) -> Tensor:
        idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"Embedding: indices must be integers, got dtype {idx.dtype}")
        bad = (idx < 0) | (idx >= self.num_embeddings)
        if bad.any():
            pos = tuple(int(i) for i in np.argwhere(bad)[0])
            raise IndexError(f"Embedding: index {idx[pos]} at position {list(pos)} is out of "
                             f"range for {self.num_embeddings} embeddings")
        out = self.weight[idx]
        if self.padding_idx is None:
            return out
        pad = (idx == self.padding_idx)[..., None]
        return api.where(pad, self.weight.detach()[idx], out)   # no gradient to the padding row

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


class BatchNorm1d(Module):
    """Batch normalisation over ``(N, C)`` or ``(N, C, L)`` inputs, exactly as PyTorch's.

    In training (or with ``track_running_stats=False``) each channel is normalised with the
    batch mean and biased variance; the running statistics are updated as
    ``r ← (1 − momentum)·r + momentum·batch`` with the *unbiased* variance (``momentum=None``:
    the cumulative average). In evaluation they are used instead. ``affine`` adds a learnable
    per-channel ``weight`` (ones) and ``bias`` (zeros). Buffers ``running_mean``,
    ``running_var`` and ``num_batches_tracked`` are saved in ``state_dict``.

    Example
    -------
    >>> bn = al.nn.BatchNorm1d(2)
    >>> y = bn(np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32))
    >>> y.data.round(4)
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
    >>> bn.running_mean.data, bn.running_var.data     # the running variance is unbiased
    (array([0.2, 0.4], dtype=float32), array([1.1, 1.7], dtype=float32))
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *,
                 dtype: Any = np.float32) -> None:
        super().__init__()
        self.num_features = _size("BatchNorm1d", "num_features", num_features)
        for what, v in (("eps", eps), ("momentum", 0.0 if momentum is None else momentum)):
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 <= v < np.inf:
                raise ValueError(f"BatchNorm1d: {what} must be a finite number >= 0, got {v!r}")
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if affine:
            self.weight = Parameter(np.ones(num_features), dtype=dtype)
            self.bias = Parameter(np.zeros(num_features), dtype=dtype)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x, "BatchNorm1d")
        c = self.num_features
        if x.ndim not in (2, 3) or x.shape[1] != c:
            raise ValueError(f"BatchNorm1d({c}): expected input of shape (N, {c}) or "
                             f"(N, {c}, L), got {x.shape}")
        axes = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, c) if x.ndim == 2 else (1, c, 1)
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            n = x.size // c
            if n <= 1:
                raise ValueError(f"BatchNorm1d: expected more than 1 value per channel when "
                                 f"training, got input of shape {x.shape}")
            mean = x.mean(axes, keepdims=True)
            d = x - mean
            var = (d * d).mean(axes, keepdims=True)
            if self.training and self.track_running_stats:
                self._update_running(mean._data.reshape(c), var._data.reshape(c) * (n / (n - 1)))
        else:
            d = x - self.running_mean._data.reshape(shape)
            var = self.running_var._data.reshape(shape)
        y = d / (var + self.eps) ** 0.5
        if self.affine:
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        return y

    def _update_running(self, mean: np.ndarray, unbiased_var: np.ndarray) -> None:
        with no_grad():
            self.num_batches_tracked.copy_(self.num_batches_tracked._data + 1)
            m = (1.0 / float(self.num_batches_tracked._data) if self.momentum is None
                 else self.momentum)
            for buf, batch in ((self.running_mean, mean), (self.running_var, unbiased_var)):
                buf.copy_((1 - m) * buf._data + m * batch)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class Bilinear(Module):
    """``y = x₁ᵀ A x₂ + b`` for each output feature, as PyTorch's ``nn.Bilinear``: ``weight`` of
    shape ``(out_features, in1_features, in2_features)`` (PyTorch's layout) and ``bias`` of
    shape ``(out_features,)``, both initialised from ``U(−1/√in1, 1/√in1)``.

    Example
    -------
    >>> bil = al.nn.Bilinear(3, 4, 2, rng=0)
    >>> bil(np.ones((5, 3)), np.ones((5, 4))).shape
    (5, 2)
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, *, dtype: Any = np.float32,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        self.in1_features = _size("Bilinear", "in1_features", in1_features)
        self.in2_features = _size("Bilinear", "in2_features", in2_features)
        self.out_features = _size("Bilinear", "out_features", out_features)
        r = _rng(rng)
        bound = 1.0 / math.sqrt(in1_features)
        shape = (out_features, in1_features, in2_features)
        self.weight = Parameter(r.uniform(-bound, bound, shape), dtype=dtype)
        self.bias = Parameter(r.uniform(-bound, bound, out_features), dtype=dtype) if bias else None

    def forward(self, x1: Any, x2: Any) -> Tensor:
        x1, x2 = as_tensor(x1, "Bilinear"), as_tensor(x2, "Bilinear")
        n1, n2, out = self.in1_features, self.in2_features, self.out_features
        if x1.ndim == 0 or x1.shape[-1] != n1 or x2.shape != x1.shape[:-1] + (n2,):
            raise ValueError(f"Bilinear({n1}, {n2} → {out}): expected inputs of shapes (..., {n1}) "
                             f"and (..., {n2}) with the same leading shape, got {x1.shape} and "
                             f"{x2.shape}")
        w = self.weight.transpose(1, 0, 2).reshape(n1, out * n2)      # [i, (o, j)]
        h = (x1 @ w).reshape(x1.shape[:-1] + (out, n2))                # Σ_i x1_i A_oij
        y = (h * x2.unsqueeze(-2)).sum(-1)                              # Σ_j (...) x2_j
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return (f"{self.in1_features}, {self.in2_features} → {self.out_features}, "
                f"bias={self.bias is not None}")


class Softmax(Module):
    """:func:`autograd_lite.functional.softmax` along ``dim`` as a module (PyTorch's name).

    Example
    -------
    >>> al.nn.Softmax(dim=-1)(np.zeros((1, 2)))
    Tensor([[0.5, 0.5]], dtype=float64)
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = operator.index(dim)

    def forward(self, x: Any) -> Tensor:
        return functional.softmax(x, axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """:func:`autograd_lite.functional.log_softmax` along ``dim`` as a module.

    Example
    -------
    >>> al.nn.LogSoftmax(dim=-1)(np.zeros(2)).data.round(4)
    array([-0.6931, -0.6931])
    """

    def forward(self, x: Any) -> Tensor:
        return functional.log_softmax(x, axis=self.dim)


# ---------------------------------------------------------------------------------------------
# Function modules: activations and losses. Each calls one function with the keyword arguments
# given at construction (PyTorch's names and order).


class _Configured(Module):
    """A module holding the keyword arguments of one function (``defaults``: names, values)."""

    defaults: dict[str, Any] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        name = type(self).__name__
        names = list(self.defaults)
        if len(args) > len(names):
            raise TypeError(f"{name}: takes at most {len(names)} arguments ({names}), got "
                            f"{len(args)}")
        unknown = set(kwargs) - set(names)
        if unknown:
            raise TypeError(f"{name}: unexpected arguments {sorted(unknown)}; it takes {names}")
        self.kwargs = {**self.defaults, **dict(zip(names, args)), **kwargs}

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r:.40}" for k, v in self.kwargs.items())


class _Activation(_Configured):
    """Calls ``autograd_lite.<function>``, looked up at call time (it may be an op or a
    composite, from any module)."""

    function: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self._fn(missing_ok=True) is not None:
            self(np.zeros(1))   # the function's own checks, now rather than at the first call

    def _fn(self, missing_ok: bool = False) -> Any:
        fn = getattr(sys.modules[__package__], self.function, None)
        if fn is None and not missing_ok:
            raise NotImplementedError(f"{type(self).__name__}: autograd_lite.{self.function} "
                                      "is not available in this version")
        return fn

    def forward(self, x: Any) -> Tensor:
        return self._fn()(x, **self.kwargs)


def _activation(cls: str, function: str, **defaults: Any) -> type:
    args = ", ".join(f"{k}={v!r}" for k, v in defaults.items())
    doc = (f"``autograd_lite.{function}({'x' + (', ' + args if args else '')})`` as a module, "
           f"as PyTorch's ``nn.{cls}``.\n\n    Example\n    -------\n"
           f"    >>> al.nn.{cls}()\n    {cls}({args})\n")
    return type(cls, (_Activation,), {"function": function, "defaults": defaults,
                                      "__doc__": doc, "__module__": __name__})


GELU = _activation("GELU", "gelu", approximate="none")
SiLU = _activation("SiLU", "silu")
Softplus = _activation("Softplus", "softplus", beta=1.0, threshold=20.0)
ELU = _activation("ELU", "elu", alpha=1.0)
SELU = _activation("SELU", "selu")
CELU = _activation("CELU", "celu", alpha=1.0)
LeakyReLU = _activation("LeakyReLU", "leaky_relu", negative_slope=0.01)
Hardtanh = _activation("Hardtanh", "hardtanh", min_val=-1.0, max_val=1.0)
ReLU6 = _activation("ReLU6", "relu6")
Hardsigmoid = _activation("Hardsigmoid", "hardsigmoid")
Hardswish = _activation("Hardswish", "hardswish")
Mish = _activation("Mish", "mish")
LogSigmoid = _activation("LogSigmoid", "logsigmoid")
Softsign = _activation("Softsign", "softsign")


class _Loss(_Configured):
    """Calls a loss function on ``(input, target, ...)``."""

    function: Any = None

    def forward(self, *inputs: Any) -> Tensor:
        return type(self).function(*inputs, **self.kwargs)


def _loss(cls: str, function: Any, **defaults: Any) -> type:
    doc = (f"``{function.__qualname__}`` as a module "
           f"(``criterion(input, target)``), as PyTorch's ``nn.{cls}``.\n\n"
           f"    Example\n    -------\n    >>> al.nn.{cls}(reduction='sum').kwargs['reduction']\n"
           f"    'sum'\n")
    return type(cls, (_Loss,), {"function": staticmethod(function), "defaults": defaults,
                                "__doc__": doc, "__module__": __name__})


MSELoss = _loss("MSELoss", losses.mse_loss, reduction="mean")
L1Loss = _loss("L1Loss", losses.l1_loss, reduction="mean")
SmoothL1Loss = _loss("SmoothL1Loss", losses.smooth_l1_loss, reduction="mean", beta=1.0)
HuberLoss = _loss("HuberLoss", losses.huber_loss, reduction="mean", delta=1.0)
BCELoss = _loss("BCELoss", losses.binary_cross_entropy, weight=None, reduction="mean")
NLLLoss = _loss("NLLLoss", losses.nll_loss, weight=None, ignore_index=-100, reduction="mean")
def _cross_entropy(input: Any, target: Any, *, ignore_index: int = -100,  # noqa: A002
                   **kwargs: Any) -> Tensor:
    """PyTorch's ``ignore_index`` default, which applies to class-index targets only."""
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    return functional.cross_entropy(input, target, **kwargs,
                                    ignore_index=ignore_index if t.dtype.kind in "iu" else None)


_cross_entropy.__qualname__ = "cross_entropy"
CrossEntropyLoss = _loss("CrossEntropyLoss", _cross_entropy, weight=None,
                         ignore_index=-100, reduction="mean", label_smoothing=0.0)
KLDivLoss = _loss("KLDivLoss", losses.kl_div, reduction="mean", log_target=False)
MarginRankingLoss = _loss("MarginRankingLoss", losses.margin_ranking_loss, margin=0.0,
                          reduction="mean")
CosineEmbeddingLoss = _loss("CosineEmbeddingLoss", losses.cosine_embedding_loss, margin=0.0,
                            reduction="mean")
