"""Parameter initialisers, ``nn.init`` as in PyTorch: each fills a tensor in place (a tracked
write, under ``no_grad``) and returns it.

Fans: for a 2-D tensor this library's ``Linear`` layout ``(in_features, out_features)`` is used,
``fan_in = shape[0]``, ``fan_out = shape[1]`` (the transpose of PyTorch's ``(out, in)`` layout,
so the same layer gets the same fans as in PyTorch); for 3-D and more, PyTorch's convolution
layout ``(out_channels, in_channels, *kernel)``: ``fan_in = shape[1]·Πkernel``,
``fan_out = shape[0]·Πkernel``. Random draws take ``rng`` (a ``numpy.random.Generator`` or a
seed), not a global state.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .engine import no_grad
from .tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "orthogonal_", "trunc_normal_", "eye_", "dirac_"]

Rng = np.random.Generator | int | None


def _rng(rng: Rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _fill(t: Any, values: Any, where: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{where}: expected a Tensor (e.g. a Parameter), got {type(t).__name__}")
    if t.dtype.kind != "f":
        raise TypeError(f"{where}: expected a floating-point tensor, got dtype {t.dtype}")
    with no_grad():
        t.copy_(np.asarray(values, dtype=t.dtype))
    return t


def _fans(t: Tensor, where: str) -> tuple[int, int]:
    if not isinstance(t, Tensor):
        raise TypeError(f"{where}: expected a Tensor (e.g. a Parameter), got {type(t).__name__}")
    if t.ndim < 2:
        raise ValueError(f"{where}: fan in and fan out need a tensor with at least 2 dimensions, "
                         f"got shape {t.shape}")
    if t.ndim == 2:
        return t.shape[0], t.shape[1]
    receptive = math.prod(t.shape[2:])
    return t.shape[1] * receptive, t.shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table): 1 for linear and sigmoid,
    5/3 for tanh, √2 for relu, √(2/(1 + slope²)) for leaky_relu (slope ``param``, default 0.01),
    3/4 for selu.

    Example
    -------
    >>> round(al.nn.init.calculate_gain("relu"), 6)
    1.414214
    """
    linear = {"linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
              "conv_transpose2d", "conv_transpose3d"}
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, numbers.Real):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, *, rng: Rng = None) -> Tensor:
    """Fill with draws from ``U(a, b)``.

    Example
    -------
    >>> w = al.nn.init.uniform_(al.nn.Parameter(np.empty(3)), -1, 1, rng=0)
    >>> bool((abs(w.data) <= 1).all())
    True
    """
    if not a <= b:
        raise ValueError(f"uniform_: needs a <= b, got a={a}, b={b}")
    return _fill(tensor, _rng(rng).uniform(a, b, np.shape(tensor)), "uniform_")


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, *, rng: Rng = None) -> Tensor:
    """Fill with draws from ``N(mean, std²)``.

    Example
    -------
    >>> al.nn.init.normal_(al.nn.Parameter(np.empty((2, 2))), std=0.02, rng=0).shape
    (2, 2)
    """
    if not std >= 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    return _fill(tensor, _rng(rng).normal(mean, std, np.shape(tensor)), "normal_")


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``.

    Example
    -------
    >>> al.nn.init.constant_(al.nn.Parameter(np.empty(2)), 0.5)
    Tensor([0.5, 0.5], dtype=float64, requires_grad=True)
    """
    return _fill(tensor, val, "constant_")


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros.

    Example
    -------
    >>> al.nn.init.zeros_(al.nn.Parameter(np.ones(2)))
    Tensor([0., 0.], dtype=float64, requires_grad=True)
    """
    return _fill(tensor, 0.0, "zeros_")


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones.

    Example
    -------
    >>> al.nn.init.ones_(al.nn.Parameter(np.zeros((2, 3)))).data.sum()
    np.float64(6.0)
    """
    return _fill(tensor, 1.0, "ones_")


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, *, rng: Rng = None) -> Tensor:
    """Glorot uniform: ``U(−a, a)``, ``a = gain·√(6 / (fan_in + fan_out))``.

    Example
    -------
    >>> w = al.nn.init.xavier_uniform_(al.nn.Parameter(np.empty((4, 2))), rng=0)
    >>> bool((abs(w.data) <= 1.0).all())     # a = √(6/6)
    True
    """
    fan_in, fan_out = _fans(tensor, "xavier_uniform_")
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, _rng(rng).uniform(-a, a, tensor.shape), "xavier_uniform_")


def xavier_normal_(tensor: Tensor, gain: float = 1.0, *, rng: Rng = None) -> Tensor:
    """Glorot normal: ``N(0, std²)``, ``std = gain·√(2 / (fan_in + fan_out))``.

    Example
    -------
    >>> al.nn.init.xavier_normal_(al.nn.Parameter(np.empty((4, 2))), rng=0).shape
    (4, 2)
    """
    fan_in, fan_out = _fans(tensor, "xavier_normal_")
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, _rng(rng).normal(0.0, std, tensor.shape), "xavier_normal_")


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str, where: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{where}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor, where)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", *, rng: Rng = None) -> Tensor:
    """He uniform: ``U(−b, b)``, ``b = gain·√(3 / fan)`` (``fan`` by ``mode``; ``a`` the
    negative slope of leaky_relu). PyTorch's defaults.

    Example
    -------
    >>> w = al.nn.init.kaiming_uniform_(al.nn.Parameter(np.empty((6, 3))), rng=0)
    >>> bool((abs(w.data) <= 1.0).all())     # b = √(2/(1+a²))·√(3/6) ≈ 1
    True
    """
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    return _fill(tensor, _rng(rng).uniform(-bound, bound, tensor.shape), "kaiming_uniform_")


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", *, rng: Rng = None) -> Tensor:
    """He normal: ``N(0, std²)``, ``std = gain / √fan``.

    Example
    -------
    >>> al.nn.init.kaiming_normal_(al.nn.Parameter(np.empty((6, 3))), nonlinearity="relu",
    ...                            rng=0).shape
    (6, 3)
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    return _fill(tensor, _rng(rng).normal(0.0, std, tensor.shape), "kaiming_normal_")


def orthogonal_(tensor: Tensor, gain: float = 1.0, *, rng: Rng = None) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain`` (PyTorch's construction: the Q of a QR
    decomposition of a normal matrix, signs fixed by R's diagonal; trailing axes flattened).

    Example
    -------
    >>> w = al.nn.init.orthogonal_(al.nn.Parameter(np.empty((3, 3))), rng=0)
    >>> np.allclose(w.data @ w.data.T, np.eye(3))
    True
    """
    if not isinstance(tensor, Tensor) or tensor.ndim < 2:
        raise ValueError(f"orthogonal_: needs a tensor with at least 2 dimensions, got "
                         f"{getattr(tensor, 'shape', type(tensor).__name__)}")
    rows = tensor.shape[0]
    cols = tensor.size // rows if rows else 0
    flat = _rng(rng).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape), "orthogonal_")


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, *, rng: Rng = None) -> Tensor:
    """Fill with draws from ``N(mean, std²)`` kept inside ``[a, b]`` (absolute bounds, as
    PyTorch's; drawn by rejection, so ``[a, b]`` must hold a fair share of the distribution).

    Example
    -------
    >>> w = al.nn.init.trunc_normal_(al.nn.Parameter(np.empty(1000)), std=0.02, a=-0.04,
    ...                              b=0.04, rng=0)
    >>> bool((abs(w.data) <= 0.04).all())
    True
    """
    if not (std > 0 and a < b):
        raise ValueError(f"trunc_normal_: needs std > 0 and a < b, got std={std}, a={a}, b={b}")
    gen, n = _rng(rng), int(np.prod(np.shape(tensor)))
    kept = np.empty(0)
    for _ in range(100):
        draw = gen.normal(mean, std, max(2 * (n - kept.size), 16))
        kept = np.concatenate([kept, draw[(draw >= a) & (draw <= b)]])
        if kept.size >= n:
            return _fill(tensor, kept[:n].reshape(np.shape(tensor)), "trunc_normal_")
    raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] holds too little of N({mean}, "
                     f"{std}²) to sample from")


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal, as ``np.eye``).

    Example
    -------
    >>> al.nn.init.eye_(al.nn.Parameter(np.empty((2, 3)))).data
    array([[1., 0., 0.],
           [0., 1., 0.]])
    """
    if not isinstance(tensor, Tensor) or tensor.ndim != 2:
        raise ValueError(f"eye_: needs a 2-D tensor, got "
                         f"{getattr(tensor, 'shape', type(tensor).__name__)}")
    return _fill(tensor, np.eye(*tensor.shape), "eye_")


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight ``(out, in, *kernel)`` with the Dirac delta, as
    PyTorch: ``tensor[g·out/groups + d, d, centre] = 1`` for ``d < min(out/groups, in)`` in each
    of the ``groups`` groups, so the convolution preserves (the first) input channels.

    Example
    -------
    >>> al.nn.init.dirac_(al.nn.Parameter(np.empty((2, 2, 3)))).data
    array([[[0., 1., 0.],
            [0., 0., 0.]],
    <BLANKLINE>
           [[0., 0., 0.],
            [0., 1., 0.]]])
    """
    if not isinstance(tensor, Tensor) or tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: needs a 3-, 4- or 5-D tensor, got "
                         f"{getattr(tensor, 'shape', type(tensor).__name__)}")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1 \
            or tensor.shape[0] % groups:
        raise ValueError(f"dirac_: groups must be a positive integer dividing dim 0 of shape "
                         f"{tensor.shape}, got {groups!r}")
    out = tensor.shape[0] // groups
    d = np.arange(min(out, tensor.shape[1]))
    values = np.zeros(tensor.shape)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        values[(g * out + d, d, *centre)] = 1
    return _fill(tensor, values, "dirac_")
