"""The Module base class and the basic modules, built on the Tensor API.

A :class:`Module` registers the :class:`Parameter` and ``Module`` values assigned to its attributes
(so ``parameters()``, ``state_dict()`` and ``repr`` see them without any bookkeeping in
subclasses). :class:`Linear`, :class:`Sequential`, :class:`MLP`, the activations and
:class:`Dropout` are small modules written with ordinary Tensor operations; their gradients come
from the same primitives as everything else.

Users reach these through :mod:`autograd_lite.nn`, which gathers the modules of every file
(this one, ``containers``, ``layers``, ``conv_layers``, ``normalization``, ``init``) and the
checkpoint functions into one namespace.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from .inplace import touch
from .tensor import Tensor, as_tensor

__all__ = [
    "Parameter", "Module", "Linear", "Sequential", "MLP", "ReLU", "Tanh", "Sigmoid", "Dropout",
    "IncompatibleKeys",
]


class IncompatibleKeys(NamedTuple):
    """What ``Module.load_state_dict`` could not match (PyTorch's ``_IncompatibleKeys``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _refuse_plain(owner: Module, name: str, value: Any) -> None:
    """Raise if ``value`` is a plain container of modules or parameters (Module uses this)."""
    if _holds_state(value):
        raise TypeError(
            f"{type(owner).__name__}.{name}: a plain {type(value).__name__} holding Modules or "
            f"Parameters would be neither trained nor saved (they are not registered); use "
            f"nn.ModuleList, nn.ModuleDict or nn.ParameterList instead")


def _holds_state(value: Any) -> bool:
    """Whether a plain list, tuple, set or dict (at any depth) holds a Module or Parameter."""
    items = value.values() if isinstance(value, dict) else value
    return isinstance(value, (list, tuple, set, frozenset, dict)) and any(
        isinstance(v, (Parameter, Module)) or _holds_state(v) for v in items)


class Parameter(Tensor):
    """A Tensor that is a model's learnable state: a floating-point leaf with ``requires_grad``.

    Assigning a Parameter to a :class:`Module` attribute registers it.

    Example
    -------
    >>> w = Parameter(np.zeros((3, 2), dtype=np.float32))
    >>> w.requires_grad
    True
    """

    def __init__(self, data: Any, dtype: Any = None, name: str | None = None) -> None:
        super().__init__(data, requires_grad=True, dtype=dtype, name=name)


class Module:
    """Base class of models: subclasses set attributes in ``__init__`` and define ``forward``.

    Attributes holding a :class:`Parameter` or a ``Module`` are registered (in assignment order),
    so parameters are found recursively and named by their attribute path
    (``"layers.0.weight"``).

    Example
    -------
    >>> class Affine(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = Parameter(np.ones(3))
    ...     def forward(self, x):
    ...         return x * self.w
    >>> Affine().named_parameters()
    [('w', Tensor([1., 1., 1.], dtype=float64, requires_grad=True))]
    """

    training: bool = True

    def __init__(self) -> None:
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.setdefault("_params", {})      # tolerate a subclass that skips super().__init__
        modules = d.setdefault("_modules", {})
        buffers = d.setdefault("_buffers", {})
        if name in buffers and not isinstance(value, (Parameter, Module)):
            buffers[name] = None if value is None else as_tensor(value, "register_buffer")
            object.__setattr__(self, name, buffers[name])
            return
        params.pop(name, None)
        modules.pop(name, None)
        buffers.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
        elif isinstance(value, Module):
            modules[name] = value
        else:
            _refuse_plain(self, name, value)
            if type(value) in (list, tuple, dict, set):   # checked again by named_parameters
                d.setdefault("_plain", set()).add(name)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.__dict__.get("_params", {}).pop(name, None)
        self.__dict__.get("_modules", {}).pop(name, None)
        self.__dict__.get("_buffers", {}).pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value: Any) -> None:
        """Register an array as state saved in ``state_dict`` but not trained (statistics)."""
        self.__dict__.setdefault("_buffers", {})[name] = None
        setattr(self, name, value)

    def named_buffers(self) -> list[tuple[str, Tensor]]:
        """``(path, buffer)`` pairs of this module and its submodules."""
        return [(f"{path}.{name}" if path else name, b) for path, m in self.named_modules()
                for name, b in m.__dict__.get("_buffers", {}).items() if b is not None]

    def forward(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}: define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # -- traversal -------------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """``(path, module)`` for this module and every submodule, depth first (iterative: any
        nesting depth)."""
        for path, _, m in _walk(self, prefix):
            yield path, m

    def rng_states(self) -> dict[str, Any]:
        """The states of the submodules' random generators (``Dropout.rng``) by module path:
        with the weights, what a checkpoint needs to continue a run exactly
        (:meth:`set_rng_states` restores them)."""
        return {path: m.rng.bit_generator.state for path, m in self.named_modules()
                if isinstance(getattr(m, "rng", None), np.random.Generator)}

    def set_rng_states(self, states: dict[str, Any]) -> None:
        """Restore what :meth:`rng_states` returned (paths this model lacks raise KeyError)."""
        modules = dict(self.named_modules())
        for path, state in states.items():
            modules[path].rng.bit_generator.state = state

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """``(path, parameter)`` pairs, each shared parameter once (under its first path)."""
        seen: set[int] = set()
        out = []
        for path, m in self.named_modules():
            for name in m.__dict__.get("_plain", ()):   # a plain list filled after assignment
                _refuse_plain(m, name, m.__dict__.get(name))
            for name, p in m.__dict__.get("_params", {}).items():
                if id(p) not in seen:
                    seen.add(id(p))
                    out.append((f"{path}.{name}" if path else name, p))
        return out

    def parameters(self) -> list[Parameter]:
        """Every parameter of this module and its submodules (what an optimizer updates)."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """The number of scalar parameters."""
        return sum(p.size for p in self.parameters())

    def zero_grad(self) -> None:
        """Drop every parameter's gradient (``p.grad = None``)."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        """Switch this module and its submodules to training mode (``Dropout`` active)."""
        for _, m in self.named_modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode (``Dropout`` is the identity)."""
        return self.train(False)

    # -- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameter and buffer path → a copy of its array (a snapshot)."""
        return {name: p._data.copy() for name, p in self.named_parameters() + self.named_buffers()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy ``state`` into parameters and buffers; returns ``(missing_keys, unexpected_keys)``
        (``strict``: they raise ``KeyError``). A wrong shape or dtype raises ``ValueError``."""
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of names to arrays, got "
                            f"{type(state).__name__}")
        params = dict(self.named_parameters() + self.named_buffers())
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        params = {k: p for k, p in params.items() if k in state}
        where = type(self).__name__
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: {where}: missing keys {missing}, unexpected keys "
                           f"{unexpected}")
        arrays = {}
        for k, p in params.items():
            v = state[k]
            v = v._data if isinstance(v, Tensor) else np.asarray(v)
            if v.shape != p.shape:
                raise ValueError(f"load_state_dict: {where}: key {k!r} has shape {v.shape}, the "
                                 f"parameter has shape {p.shape}")
            if v.dtype != p.dtype:
                raise ValueError(f"load_state_dict: {where}: key {k!r} has dtype {v.dtype}, the "
                                 f"parameter has dtype {p.dtype}")
            arrays[k] = v
        for k, p in params.items():
            np.copyto(p._data, arrays[k])
            touch(p)
        return IncompatibleKeys(missing, unexpected)

    # -- repr ------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr``."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for path, depth, m in _walk(self):   # iterative: any nesting depth
            n = m.num_parameters()
            head = f"{type(m).__name__}({m.extra_repr()})" + (f"  # {n:,} parameters" if n else "")
            label = f"({path.rsplit('.', 1)[-1]}): " if depth else ""
            lines.append("  " * depth + label + head)
        return "\n".join(lines)

    # -- PyTorch exchange (see autograd_lite.interop; torch is imported only when called) ---
    def to_torch(self) -> Any:
        """The equivalent ``torch.nn`` module with the same weights (Linear transposed)."""
        from .interop import to_torch
        return to_torch(self)

    def load_torch_state_dict(self, state_dict: Mapping[str, Any]) -> Module:
        """Load the ``state_dict`` of the PyTorch module :meth:`to_torch` builds."""
        from .interop import load_torch_state_dict
        return load_torch_state_dict(self, state_dict)


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


class Linear(Module):
    """``y = x @ weight + bias``: an affine map from ``in_features`` to ``out_features``.

    ``weight`` is stored as ``(in_features, out_features)`` — the transpose of PyTorch's layout —
    so the forward reads like the math, ``x @ W + b``, for a batch ``x`` of shape
    ``(n, in_features)``. Initialisation is PyTorch's default for ``nn.Linear``: weight and bias
    drawn from ``U(−1/√in_features, 1/√in_features)``.

    Parameters
    ----------
    in_features, out_features : sizes of each input and output sample.
    bias : add a learnable bias (default True).
    dtype : parameter dtype (float32 by default, as in PyTorch).
    rng : a ``numpy.random.Generator`` or seed for the initialisation.

    Example
    -------
    >>> layer = Linear(3, 2, rng=0)
    >>> layer(np.ones((4, 3), dtype=np.float32)).shape
    (4, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 dtype: Any = np.float32, rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        for size in (in_features, out_features):
            if isinstance(size, bool) or not isinstance(size, numbers.Integral):
                raise TypeError(f"Linear: in_features and out_features must be ints, got "
                                f"{in_features!r} and {out_features!r}")
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Linear: in_features and out_features must be positive, got "
                             f"{in_features} and {out_features}")
        self.in_features = in_features
        self.out_features = out_features
        r = _rng(rng)
        bound = 1.0 / math.sqrt(in_features)
        try:
            self.weight = Parameter(r.uniform(-bound, bound, (in_features, out_features)),
                                    dtype=dtype)
        except MemoryError as e:
            raise MemoryError(f"Linear({in_features} → {out_features}): {e}") from None
        self.bias = (Parameter(r.uniform(-bound, bound, out_features), dtype=dtype) if bias
                     else None)

    def forward(self, x: Any) -> Tensor:
        try:
            x = as_tensor(x, type(self).__name__)
        except (TypeError, ValueError) as e:
            raise type(e)(f"Linear: {str(e).removeprefix('Tensor: ')}") from None
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features} → {self.out_features}): expected an input "
                             f"whose last axis has {self.in_features} features, got shape "
                             f"{x.shape}")
        y = x @ self.weight
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return f"{self.in_features} → {self.out_features}, bias={self.bias is not None}"


def _walk(root: Module, prefix: str = "") -> Iterator[tuple[str, int, Module]]:
    """``(path, depth, module)`` for ``root`` and every submodule, depth first, without
    recursion (a stack of iterators), so nesting depth is not limited by Python's stack."""
    yield prefix, 0, root
    stack = [(prefix, iter(root.__dict__.get("_modules", {}).items()))]
    while stack:
        path, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        name, m = child
        sub = f"{path}.{name}" if path else name
        yield sub, len(stack), m
        stack.append((sub, iter(m.__dict__.get("_modules", {}).items())))


class Sequential(Module):
    """Modules applied one after another; ``model[i]`` is the i-th (registered as ``"i"``).

    Example
    -------
    >>> model = Sequential(Linear(2, 8, rng=0), Tanh(), Linear(8, 1, rng=1))
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, not a Module")
            setattr(self, str(i), m)

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def forward(self, x: Any) -> Any:
        # Nested Sequentials are entered without a call (a stack of iterators), so nesting
        # depth is not limited by Python's stack; any other module is called as usual.
        stack = [iter(self._modules.values())]
        while stack:
            m = next(stack[-1], None)
            if m is None:
                stack.pop()
            elif type(m).forward is Sequential.forward and type(m).__call__ is Module.__call__:
                stack.append(iter(m._modules.values()))
            else:
                x = m(x)
        return x


class ReLU(Module):
    """``max(x, 0)`` elementwise."""

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x, type(self).__name__).relu()


class Tanh(Module):
    """``tanh(x)`` elementwise."""

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x, type(self).__name__).tanh()


class Sigmoid(Module):
    """``1 / (1 + e^−x)`` elementwise."""

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x, type(self).__name__).sigmoid()


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by ``1/(1−p)``.

    In evaluation mode (``model.eval()``) it is the identity. The mask is a constant of the graph,
    so the gradient is ``g ⊙ mask / (1−p)``.

    Example
    -------
    >>> drop = Dropout(0.5, rng=0)
    >>> drop(np.ones(4)).data          # each entry 0 (dropped) or 2 (kept, scaled by 1/(1−p))
    array([2., 0., 0., 0.])
    """

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise TypeError(f"Dropout: p must be a real number, got {type(p).__name__}")
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = p
        self.rng = _rng(rng)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x, type(self).__name__)
        if not self.training or self.p == 0.0:
            return x
        keep = self.rng.random(x.shape) >= self.p
        return x * (keep / (1.0 - self.p)).astype(x.dtype)

    def extra_repr(self) -> str:
        return f"p={self.p}"


_ACTIVATIONS: dict[str, Callable[[], Module]] = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


class MLP(Module):
    """A multilayer perceptron: ``Linear`` layers of the given ``sizes``, an activation between
    each pair (none after the last: it outputs logits).

    Parameters
    ----------
    sizes : ``[in, hidden..., out]``, at least two sizes.
    activation : ``"relu"``, ``"tanh"``, ``"sigmoid"`` or a zero-argument callable making a Module.
    dtype, rng : passed to each :class:`Linear` (one generator for all layers, so a seed fixes
        the whole model).

    Example
    -------
    >>> model = MLP([64, 128, 10], rng=0)
    >>> model(np.zeros((5, 64), dtype=np.float32)).shape
    (5, 10)
    """

    def __init__(self, sizes: list[int] | tuple[int, ...], activation: str | Callable = "relu",
                 *, dtype: Any = np.float32,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        try:
            sizes = [operator.index(s) for s in sizes]
        except TypeError:
            raise TypeError(f"MLP: sizes must be a list of ints, got {sizes!r:.60}") from None
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got {sizes}")
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"MLP: unknown activation {activation!r}; choose from "
                                 f"{sorted(_ACTIVATIONS)} or pass a Module class")
            make = _ACTIVATIONS[activation]
        else:
            make = activation
        self.sizes = sizes
        r = _rng(rng)
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            if i:
                layers.append(make())
            layers.append(Linear(n_in, n_out, dtype=dtype, rng=r))
        self.layers = Sequential(*layers)

    def forward(self, x: Any) -> Tensor:
        return self.layers(x)

    def extra_repr(self) -> str:
        return f"{self.sizes}"
