"""Convolution, pooling and 2-D batch-norm layers, and the small digits CNN.

Each layer is a thin :class:`~autograd_lite.nn.Module` over one op of the table
(``conv2d``, ``max_pool2d``, ...), with PyTorch's arguments, weight layouts and default
initialisation: ``kaiming_uniform_(a=√5)`` — i.e. ``U(−1/√fan_in, 1/√fan_in)`` — for weights and
``U(−1/√fan_in, 1/√fan_in)`` for biases, ``fan_in = C_in/groups · kH · kW`` (for
``ConvTranspose2d``, PyTorch's ``fan_in`` of its ``(C_in, C_out/groups, kH, kW)`` weight is
``C_out/groups · kH · kW``). :class:`BatchNorm2d` keeps running statistics exactly as PyTorch
(unbiased variance in the running estimate, biased in the normalisation; ``momentum=None`` is a
cumulative average).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from . import api
from .layers import Flatten
from .module import Dropout, Linear, Module, Parameter, ReLU, Sequential, _rng
from .tensor import Tensor, as_tensor

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d",
           "AdaptiveAvgPool2d", "BatchNorm2d", "DigitsCNN"]


def _uniform(rng: np.random.Generator, bound: float, shape: tuple, dtype: Any) -> Parameter:
    return Parameter(rng.uniform(-bound, bound, shape), dtype=dtype)


def _positive(where: str, **sizes: Any) -> None:
    for name, v in sizes.items():
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{where}: {name} must be a positive int, got {v!r}")


class _ConvNd(Module):
    """Shared by the convolution layers: PyTorch's arguments (``in_channels, out_channels,
    kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True``) checked, weight and bias
    made and initialised as PyTorch. A transposed convolution's weight is ``(C_in,
    C_out/groups, *kernel)``."""

    op: Any = None
    ndim = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True, *,
                 dtype: Any = np.float32, rng: Any = None) -> None:
        super().__init__()
        where = type(self).__name__
        kernel = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else \
            (kernel_size,) * self.ndim
        _positive(where, in_channels=in_channels, out_channels=out_channels, groups=groups,
                  **{f"kernel_size[{i}]": k for i, k in enumerate(kernel)})
        if len(kernel) != self.ndim:
            raise ValueError(f"{where}: kernel_size must be an int or {self.ndim} ints, got "
                             f"{kernel_size!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{where}: in_channels={in_channels} and out_channels="
                             f"{out_channels} must be divisible by groups={groups}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = kernel
        self.options = {"stride": stride, "padding": padding, "dilation": dilation,
                        "groups": groups}
        outer, inner = (in_channels, out_channels) if self.transposed else \
            (out_channels, in_channels)
        weight_shape = (outer, inner // groups) + kernel
        r = _rng(rng)
        bound = 1.0 / math.sqrt(math.prod(weight_shape[1:]))   # 1/√fan_in: kaiming_uniform(a=√5)
        self.weight = _uniform(r, bound, weight_shape, dtype)   # and the bias rule coincide
        self.bias = _uniform(r, bound, (out_channels,), dtype) if bias else None

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x, type(self).__name__)
        y = self.op(x, self.weight, **self.options)
        if self.bias is None:
            return y
        return y + self.bias.reshape((1, -1) + (1,) * (y.ndim - 2))

    def extra_repr(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.options.items())
        return (f"{self.in_channels} → {self.out_channels}, kernel_size={self.kernel_size}"
                f"{', ' + opts if opts else ''}, bias={self.bias is not None}")


class Conv2d(_ConvNd):
    """2-D convolution layer: ``conv2d(x, weight) + bias``, weight ``(C_out, C_in/groups, kH,
    kW)``.

    Example
    -------
    >>> conv = Conv2d(3, 8, 3, padding=1, rng=0)
    >>> conv.weight.shape, conv(np.zeros((2, 3, 5, 5), dtype=np.float32)).shape
    ((8, 3, 3, 3), (2, 8, 5, 5))
    """

    op = staticmethod(api.conv2d)


class Conv1d(_ConvNd):
    """1-D convolution layer: ``conv1d(x, weight) + bias``, weight ``(C_out, C_in/groups, k)``.

    Example
    -------
    >>> Conv1d(2, 4, 3, rng=0)(np.zeros((1, 2, 10), dtype=np.float32)).shape
    (1, 4, 8)
    """

    op = staticmethod(api.conv1d)
    ndim = 1


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution layer, weight ``(C_in, C_out/groups, kH, kW)`` (PyTorch's).

    Example
    -------
    >>> up = ConvTranspose2d(4, 2, 2, stride=2, rng=0)
    >>> up(np.zeros((1, 4, 3, 3), dtype=np.float32)).shape
    (1, 2, 6, 6)
    """

    op = staticmethod(api.conv_transpose2d)
    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, *, dtype: Any = np.float32, rng: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, dtype=dtype, rng=rng)
        self.options["output_padding"] = output_padding


class _Pool(Module):
    op: Any = None

    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options

    def forward(self, x: Any) -> Tensor:
        return self.op(as_tensor(x, type(self).__name__), **self.options)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.options.items())


class MaxPool2d(_Pool):
    """``max_pool2d`` as a layer.

    Example
    -------
    >>> MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).shape
    (1, 1, 2, 2)
    """

    op = staticmethod(api.max_pool2d)

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 ceil_mode: bool = False) -> None:
        super().__init__(kernel_size=kernel_size, stride=stride, padding=padding,
                         dilation=dilation, ceil_mode=ceil_mode)


class AvgPool2d(_Pool):
    """``avg_pool2d`` as a layer; ``count_include_pad=False`` averages the real inputs only.

    Example
    -------
    >>> x = np.ones((1, 1, 2, 2))
    >>> AvgPool2d(2, padding=1)(x).data.ravel()
    array([0.25, 0.25, 0.25, 0.25])
    >>> AvgPool2d(2, padding=1, count_include_pad=False)(x).data.ravel()
    array([1., 1., 1., 1.])
    """

    op = staticmethod(api.avg_pool2d)

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__(kernel_size=kernel_size, stride=stride, padding=padding,
                         ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                         divisor_override=divisor_override)


class AdaptiveAvgPool2d(_Pool):
    """``adaptive_avg_pool2d`` as a layer.

    Example
    -------
    >>> AdaptiveAvgPool2d(1)(np.ones((2, 3, 5, 5))).shape
    (2, 3, 1, 1)
    """

    op = staticmethod(api.adaptive_avg_pool2d)

    def __init__(self, output_size: Any) -> None:
        super().__init__(output_size=output_size)


class BatchNorm2d(Module):
    """Batch normalisation over ``(N, H, W)`` per channel, as PyTorch's ``nn.BatchNorm2d``.

    Training: normalise with the batch mean and biased variance; update
    ``running_mean ← (1 − m)·running_mean + m·mean`` and ``running_var`` likewise with the
    *unbiased* variance (``momentum=None``: a cumulative average). Evaluation: normalise with the
    running statistics. ``weight`` (γ, ones) and ``bias`` (β, zeros) are learnable with
    ``affine=True``. The running statistics are plain arrays, not parameters: ``state_dict()``
    (parameters only, in this library) does not carry them — save them alongside if needed.

    Example
    -------
    >>> bn = BatchNorm2d(3)
    >>> y = bn(np.random.default_rng(0).normal(2.0, 3.0, (4, 3, 5, 5)))
    >>> bool(abs(y.data.mean()) < 1e-6), [round(float(m), 1) for m in bn.running_mean]
    (True, [0.2, 0.2, 0.2])
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *,
                 dtype: Any = np.float32) -> None:
        super().__init__()
        _positive("BatchNorm2d", num_features=num_features)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(np.ones(num_features), dtype=dtype) if affine else None
        self.bias = Parameter(np.zeros(num_features), dtype=dtype) if affine else None
        self.track_running_stats = track_running_stats
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)
        self.num_batches_tracked = 0

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x, "BatchNorm2d")
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d({self.num_features}): expected (N, "
                             f"{self.num_features}, H, W), got shape {x.shape}")
        axes = (0, 2, 3)
        if self.training or not self.track_running_stats:
            mean = x.mean(axes, keepdims=True)
            centered = x - mean
            var = (centered * centered).mean(axes, keepdims=True)
            if self.training and self.track_running_stats:
                self._update(mean.data.reshape(-1), var.data.reshape(-1), x.size // x.shape[1])
        else:
            mean = self.running_mean.reshape(1, -1, 1, 1).astype(x.dtype)
            var = self.running_var.reshape(1, -1, 1, 1).astype(x.dtype)
            centered = x - mean
        y = centered / api.sqrt(var + self.eps)
        if self.weight is not None:
            y = y * self.weight.reshape(1, -1, 1, 1) + self.bias.reshape(1, -1, 1, 1)
        return y

    def _update(self, mean: np.ndarray, var: np.ndarray, n: int) -> None:
        if n < 2:
            raise ValueError(f"BatchNorm2d: expected more than 1 value per channel when "
                             f"training, got {n}")
        self.num_batches_tracked += 1
        m = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
        dt = self.running_mean.dtype
        self.running_mean = ((1 - m) * self.running_mean + m * mean).astype(dt)
        self.running_var = ((1 - m) * self.running_var + m * var * n / (n - 1)).astype(dt)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class DigitsCNN(Module):
    """The small CNN of ``autograd-lite train --model cnn``: two 3×3 convolutions (padding 1),
    each followed by ReLU and 2×2 max pooling, then dropout (0.3) and a linear head.

    Takes ``(n, 64)`` rows (flattened 8×8 digits) or ``(n, 1, 8, 8)`` images.

    Example
    -------
    >>> model = DigitsCNN(rng=0)
    >>> model(np.zeros((5, 64), dtype=np.float32)).shape
    (5, 10)
    """

    DEFAULTS = {"epochs": 25, "lr": 2e-3}   # autograd-lite train --model cnn (Adam)

    def __init__(self, channels: tuple[int, int] = (32, 64), classes: int = 10, side: int = 8,
                 dropout: float = 0.3, *, dtype: Any = np.float32, rng: Any = None) -> None:
        super().__init__()
        r = _rng(rng)
        c1, c2 = channels
        self.side = side
        self.sizes = [side * side, c1, c2, classes]   # (what config.json records for the MLP)
        self.features = Sequential(
            Conv2d(1, c1, 3, padding=1, dtype=dtype, rng=r), ReLU(), MaxPool2d(2),
            Conv2d(c1, c2, 3, padding=1, dtype=dtype, rng=r), ReLU(), MaxPool2d(2), Flatten(),
            *([Dropout(dropout, rng=r)] if dropout else []))
        self.head = Linear(c2 * (side // 4) ** 2, classes, dtype=dtype, rng=r)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x, "DigitsCNN")
        if x.ndim == 2:
            x = x.reshape(x.shape[0], 1, self.side, self.side)
        return self.head(self.features(x))

    def extra_repr(self) -> str:
        return f"channels={self.sizes[1:3]}, classes={self.sizes[3]}"
