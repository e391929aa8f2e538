"""Containers and layers beyond ``Linear``: ``ModuleList``, ``ModuleDict``, ``ParameterList``,
``Embedding``, ``BatchNorm1d``, ``Identity``, ``Flatten`` and a module for every activation.

All follow PyTorch's names, arguments and semantics (re-exported from :mod:`autograd_lite.nn`).
A container registers its items under their index or key (``"layers.0.weight"``), so they are
found by ``parameters()``, saved by ``state_dict()`` and switched by ``train()``/``eval()``.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from . import api
from .engine import no_grad
from .nn import Module, Parameter, _rng
from .tensor import Tensor, as_tensor

__all__ = ["ModuleList", "ModuleDict", "ParameterList", "Identity", "Flatten", "Embedding",
           "BatchNorm1d", "GELU", "SiLU", "Softplus", "ELU", "SELU", "CELU", "LeakyReLU",
           "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Mish", "LogSigmoid", "Softsign"]


# ---------------------------------------------------------------------------------------------
# Containers


class _Indexed(Module):
    """A list of registered items named ``"0"``, ``"1"``, ...: the shared part of ModuleList
    and ParameterList (``_store`` is the registry dict holding them)."""

    _store = "_modules"

    def _items(self) -> list:
        return list(self.__dict__[self._store].values())

    def _item(self, value: Any) -> Any:   # pragma: no cover - overridden
        raise NotImplementedError

    def _reset(self, items: list) -> None:
        for name in list(self.__dict__[self._store]):
            delattr(self, name)
        for i, v in enumerate(items):
            setattr(self, str(i), self._item(v))

    def __len__(self) -> int:
        return len(self.__dict__[self._store])

    def __iter__(self) -> Iterator:
        return iter(self._items())

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return type(self)(self._items()[i])
        return self._items()[self._index(i)]

    def __setitem__(self, i: int, value: Any) -> None:
        setattr(self, str(self._index(i)), self._item(value))

    def __delitem__(self, i: int | slice) -> None:
        items = self._items()
        del items[i if isinstance(i, slice) else self._index(i)]
        self._reset(items)

    def _index(self, i: Any) -> int:
        try:
            i = operator.index(i)
        except TypeError:
            raise TypeError(f"{type(self).__name__}: indices must be ints or slices, got "
                            f"{type(i).__name__}") from None
        if not -len(self) <= i < len(self):
            raise IndexError(f"{type(self).__name__}: index {i} is out of range for "
                             f"{len(self)} items")
        return i % len(self)

    def append(self, value: Any) -> _Indexed:
        """Add an item at the end."""
        setattr(self, str(len(self)), self._item(value))
        return self

    def extend(self, values: Iterable) -> _Indexed:
        """Add each item of ``values`` at the end."""
        if isinstance(values, (Module, Tensor)) or not isinstance(values, Iterable):
            raise TypeError(f"{type(self).__name__}.extend: expected an iterable, got "
                            f"{type(values).__name__}")
        for v in values:
            self.append(v)
        return self

    def insert(self, index: int, value: Any) -> None:
        """Insert an item before ``index``."""
        items = self._items()
        items.insert(operator.index(index), value)
        self._reset(items)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} is a container, not a layer: iterate "
                                  "over it in your module's forward (or use nn.Sequential)")


class ModuleList(_Indexed):
    """A list of modules, each registered (``model.blocks.0.weight``), as PyTorch's.

    Example
    -------
    >>> blocks = al.nn.ModuleList([al.nn.Linear(4, 4, rng=i) for i in range(3)])
    >>> len(blocks), len(blocks.parameters())
    (3, 6)
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _item(self, value: Any) -> Module:
        if not isinstance(value, Module):
            raise TypeError(f"ModuleList: items must be Modules, got {type(value).__name__}")
        return value


class ParameterList(_Indexed):
    """A list of parameters, each registered (``"0"``, ``"1"``, ...), as PyTorch's; arrays and
    Tensors are made Parameters.

    Example
    -------
    >>> ps = al.nn.ParameterList([np.zeros(2), np.ones(3)])
    >>> [p.shape for p in ps]
    [(2,), (3,)]
    """

    _store = "_params"

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def _item(self, value: Any) -> Parameter:
        if isinstance(value, Parameter):
            return value
        if isinstance(value, Module):
            raise TypeError("ParameterList: items must be arrays or Parameters, got a Module "
                            "(use ModuleList)")
        try:
            return Parameter(value)
        except (TypeError, ValueError) as e:
            raise type(e)(f"ParameterList: {str(e).removeprefix('Tensor: ')}") from None

    def extra_repr(self) -> str:
        return ", ".join(f"{p.shape} {p.dtype}" for p in self)


class ModuleDict(Module):
    """A dict of modules, each registered under its key (``model.heads.cls.weight``).

    Example
    -------
    >>> heads = al.nn.ModuleDict({"cls": al.nn.Linear(4, 3), "reg": al.nn.Linear(4, 1)})
    >>> sorted(heads.keys()), heads["reg"].out_features
    (['cls', 'reg'], 1)
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: keys must be non-empty strings without '.', got "
                           f"{key!r:.40}")
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: values must be Modules, got {type(module).__name__}")
        if key not in self._modules and hasattr(self, key):
            raise KeyError(f"ModuleDict: key {key!r} clashes with an attribute of ModuleDict")
        setattr(self, key, module)

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"ModuleDict: no module {key!r}; keys are "
                           f"{list(self._modules)}") from None

    def __delitem__(self, key: str) -> None:
        self[key]   # noqa: B018 - the named KeyError
        delattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def keys(self) -> list[str]:
        return list(self._modules)

    def values(self) -> list[Module]:
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        return list(self._modules.items())

    def update(self, modules: Mapping[str, Module] | Iterable) -> None:
        """Add (or replace) modules from a mapping or from ``(key, module)`` pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, m in pairs:
            self[key] = m

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleDict is a container, not a layer: call its modules "
                                  "in your module's forward")


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


# ---------------------------------------------------------------------------------------------
# Activation modules: each calls the function of the same (snake_case) name, looked up at call
# time in the generated API, with its PyTorch keyword arguments.


class _Activation(Module):
    function: str = ""
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
        if self._fn(missing_ok=True) is not None:
            self(np.zeros(1))   # the function's own checks, now rather than at the first call

    def _fn(self, missing_ok: bool = False) -> Any:
        fn = getattr(api, self.function, None)
        if fn is None and not missing_ok:
            raise NotImplementedError(f"{type(self).__name__}: autograd_lite.{self.function} "
                                      "is not available in this version")
        return fn

    def forward(self, x: Any) -> Tensor:
        return self._fn()(x, **self.kwargs)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())


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
