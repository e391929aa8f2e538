"""Containers: ``ModuleList``, ``ModuleDict``, ``ParameterList``, as PyTorch's.

A container registers its items under their index or key (``"blocks.0.weight"``), so they are
found by ``parameters()``, saved by ``state_dict()`` and switched by ``train()``/``eval()``
(re-exported from :mod:`autograd_lite.nn`). A plain list or dict of modules on a ``Module`` is
refused with an error pointing here.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .module import Module, Parameter
from .tensor import Tensor

__all__ = ["ModuleList", "ModuleDict", "ParameterList"]


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
