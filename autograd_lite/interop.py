"""Interchange with other frameworks: PyTorch modules and optimizer state, and DLPack arrays.

``torch`` is imported lazily, inside the functions that need it; it is never a dependency.

Weights: :func:`to_torch` builds the equivalent ``torch.nn`` module with the same weights and
:func:`load_torch_state_dict` reads a PyTorch state dict back. ``Linear`` stores its weight as
``(in, out)`` here and ``(out, in)`` in PyTorch: the transpose happens here, once, in both
directions (and for the optimizer's moments). Each supported module type has one entry in
:data:`TORCH_MODULES`.

Arrays: :func:`from_dlpack` wraps any DLPack producer (a PyTorch or JAX CPU tensor, a NumPy
array, ...) as a Tensor without copying; ``Tensor.__dlpack__`` goes the other way.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from . import nn, optim
from .tensor import Tensor

__all__ = ["to_torch", "load_torch_state_dict", "optimizer_to_torch", "load_trained",
           "save_torch", "from_dlpack", "TORCH_MODULES"]


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError("this needs PyTorch (pip install torch); autograd_lite itself does not "
                          "depend on it") from None
    return torch


# ---------------------------------------------------------------------------------------------
# Modules


class _Param(NamedTuple):
    """One parameter's correspondence: our path, PyTorch's key, and whether to transpose."""

    ours: str
    theirs: str
    transpose: bool


def _linear(m: nn.Linear, torch: Any, build: Callable) -> Any:
    t = torch.nn.Linear(m.in_features, m.out_features, bias=m.bias is not None,
                        dtype=_torch_dtype(torch, m.weight.dtype))
    return t


def _sequential(m: nn.Module, torch: Any, build: Callable) -> Any:
    return torch.nn.Sequential(*(build(c) for c in m))


def _simple(name: str) -> Callable:
    return lambda m, torch, build: getattr(torch.nn, name)()


TORCH_MODULES: dict[type, tuple[Callable, Callable]] = {
    # our class: (build the torch module, its parameters as (ours, theirs, transpose) tuples)
    nn.Linear: (_linear, lambda m: [("weight", "weight", True)]
                + ([("bias", "bias", False)] if m.bias is not None else [])),
    nn.Sequential: (_sequential, lambda m: [(f"{i}", f"{i}", None) for i in range(len(m))]),
    nn.MLP: (lambda m, torch, build: build(m.layers), lambda m: [("layers", "", None)]),
    nn.ReLU: (_simple("ReLU"), lambda m: []),
    nn.Tanh: (_simple("Tanh"), lambda m: []),
    nn.Sigmoid: (_simple("Sigmoid"), lambda m: []),
    nn.Dropout: (lambda m, torch, build: torch.nn.Dropout(m.p), lambda m: []),
}
"""Supported module types. Each entry lists a module's own parameters (``transpose`` a bool)
and its submodules (``transpose`` None: recurse, joining paths with a dot)."""


def _entry(m: nn.Module) -> tuple[Callable, Callable]:
    entry = TORCH_MODULES.get(type(m))
    if entry is None:
        supported = ", ".join(c.__name__ for c in TORCH_MODULES)
        raise TypeError(f"to_torch: no PyTorch equivalent for {type(m).__name__} (supported: "
                        f"{supported}); compose your model from these, or build the torch "
                        "module yourself and use load_torch_state_dict's key mapping")
    return entry


def _join(a: str, b: str) -> str:
    return f"{a}.{b}" if a and b else a or b


def _params(m: nn.Module, ours: str = "", theirs: str = "") -> Iterator[_Param]:
    """Every parameter of ``m`` as (our path, PyTorch key, transpose)."""
    for o, t, transpose in _entry(m)[1](m):
        if transpose is None:
            child = getattr(m, o) if not isinstance(m, nn.Sequential) else m[int(o)]
            yield from _params(child, _join(ours, o), _join(theirs, t))
        else:
            yield _Param(_join(ours, o), _join(theirs, t), transpose)


def _torch_dtype(torch: Any, dtype: np.dtype) -> Any:
    return getattr(torch, np.dtype(dtype).name)


def to_torch(module: nn.Module) -> Any:
    """The equivalent ``torch.nn`` module, with copies of the same weights (and the same
    training/eval mode).

    Example
    -------
    >>> model = nn.MLP([4, 8, 3], rng=0)
    >>> tm = to_torch(model)          # torch.nn.Sequential(Linear, ReLU, Linear)
    >>> tm[0].weight.shape            # (out, in), the transpose of model.layers[0].weight
    torch.Size([8, 4])
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"to_torch: expected an autograd_lite nn.Module, got "
                        f"{type(module).__name__}")
    torch = _torch()

    def build(m: nn.Module) -> Any:
        t = _entry(m)[0](m, torch, build)
        t.train(m.training)
        return t

    out = build(module)
    state = module.state_dict()
    with torch.no_grad():
        theirs = out.state_dict()
        for p in _params(module):
            w = state[p.ours].T if p.transpose else state[p.ours]
            theirs[p.theirs].copy_(torch.from_numpy(np.ascontiguousarray(w)))
    return out


def load_torch_state_dict(module: nn.Module, state_dict: Mapping[str, Any]) -> nn.Module:
    """Load a PyTorch ``state_dict`` (of the module :func:`to_torch` builds) into ``module``,
    transposing ``Linear`` weights back; names, shapes and dtypes are checked.

    Example
    -------
    >>> model = nn.Linear(3, 2, rng=0)
    >>> tm = to_torch(model)
    >>> _ = tm.weight.data.fill_(0.5)
    >>> load_torch_state_dict(model, tm.state_dict()).weight.shape   # (in, out) again
    (3, 2)
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"load_torch_state_dict: expected a mapping of names to tensors, got "
                        f"{type(state_dict).__name__}")
    pairs = list(_params(module))
    expected = {p.theirs for p in pairs}
    missing = sorted(expected - set(state_dict))
    unexpected = sorted(set(state_dict) - expected)
    if missing or unexpected:
        raise KeyError(f"load_torch_state_dict: {type(module).__name__}: missing keys {missing}, "
                       f"unexpected keys {unexpected}")
    state = {}
    for p in pairs:
        v = state_dict[p.theirs]
        v = v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)
        state[p.ours] = v.T if p.transpose else v
    module.load_state_dict(state)   # returns (missing, unexpected) keys, as PyTorch's
    return module


# ---------------------------------------------------------------------------------------------
# Optimizers


def optimizer_to_torch(optimizer: optim.Optimizer, module: nn.Module, torch_module: Any) -> Any:
    """The same optimizer in PyTorch over ``torch_module``'s parameters (built by
    :func:`to_torch` from ``module``), hyperparameters and state translated: Adam/AdamW moments
    (transposed with their ``Linear`` weights) and step counts, SGD momentum buffers. Training
    continues where it left off.

    Example
    -------
    >>> model = nn.MLP([4, 3], rng=0)
    >>> opt = optim.Adam(model.parameters(), lr=1e-3)
    >>> tm = to_torch(model)
    >>> optimizer_to_torch(opt, model, tm).defaults["lr"]
    0.001
    """
    if not isinstance(optimizer, optim.Optimizer) or not isinstance(module, nn.Module):
        raise TypeError(f"optimizer_to_torch: expected an autograd_lite optimizer and Module, "
                        f"got {type(optimizer).__name__} and {type(module).__name__}")
    torch = _torch()
    theirs = dict(torch_module.named_parameters())
    ours = {id(p): q for q in _params(module) for p in [_lookup(module, q.ours)]}
    params, plan = [], []
    for i, p in enumerate(optimizer.params):
        q = ours.get(id(p))
        if q is None:
            raise ValueError(f"optimizer_to_torch: parameter {i} of the optimizer is not a "
                             f"parameter of the given {type(module).__name__}")
        params.append(theirs[q.theirs])
        plan.append(q.transpose)
    if isinstance(optimizer, optim.Adam):
        cls = torch.optim.AdamW if optimizer.decoupled else torch.optim.Adam
        out = cls(params, lr=optimizer.lr, betas=optimizer.betas, eps=optimizer.eps,
                  weight_decay=optimizer.weight_decay)
        keys = {"m": "exp_avg", "v": "exp_avg_sq"}
    elif isinstance(optimizer, optim.SGD):
        out = torch.optim.SGD(params, lr=optimizer.lr, momentum=optimizer.momentum,
                              weight_decay=optimizer.weight_decay, nesterov=optimizer.nesterov)
        keys = {"momentum_buffer": "momentum_buffer"}
    else:
        raise TypeError(f"optimizer_to_torch: no PyTorch equivalent for "
                        f"{type(optimizer).__name__}")
    for tp, transpose, state in zip(params, plan, optimizer.state):
        if not state:
            continue
        new = {theirs_key: torch.from_numpy(np.ascontiguousarray(
            state[k].T if transpose else state[k])).clone() for k, theirs_key in keys.items()
            if k in state}
        if "step" in state:
            new["step"] = torch.tensor(float(state["step"]))
        out.state[tp] = new
    return out


def _lookup(module: nn.Module, path: str) -> Tensor:
    return dict(module.named_parameters())[path]


def load_trained(checkpoint: str | os.PathLike) -> nn.MLP:
    """The model ``autograd-lite train`` wrote (its ``--out`` directory, or the ``model.npz``
    next to its ``config.json``), in eval mode: the starting point of an export.

    Example
    -------
    >>> torch_model = load_trained("runs/digits").to_torch()   # doctest: +SKIP
    """
    ckpt = Path(checkpoint)
    folder = ckpt if ckpt.is_dir() else ckpt.parent
    weights = ckpt if ckpt.is_file() else folder / "model.npz"
    config_path = folder / "config.json"
    for p in (weights, config_path):
        if not p.is_file():
            raise FileNotFoundError(f"{os.fspath(p)!r} not found; expected the output directory "
                                    "of 'autograd-lite train' (model.npz and config.json)")
    try:
        config = json.loads(config_path.read_text())
        sizes, dtype = [int(s) for s in config["sizes"]], np.dtype(config.get("dtype", "float32"))
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{os.fspath(config_path)!r} is not a training config (it needs "
                         f"'sizes' and 'dtype'): {e!r}") from None
    model = nn.MLP(sizes, dtype=dtype, rng=0)
    nn.load(weights, model)
    return model.eval()


def save_torch(checkpoint: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write the model ``autograd-lite train`` wrote as a PyTorch module file (``torch.save``
    of :func:`to_torch`'s module; read it with ``torch.load(out, weights_only=False)``).

    Example
    -------
    >>> save_torch("runs/digits", "digits.pt")   # doctest: +SKIP
    PosixPath('digits.pt')
    """
    module = to_torch(load_trained(checkpoint))
    _torch().save(module, os.fspath(out))
    return Path(out)


# ---------------------------------------------------------------------------------------------
# DLPack


def from_dlpack(x: Any, *, requires_grad: bool = False) -> Tensor:
    """A Tensor sharing memory with ``x``, any object with ``__dlpack__`` on the CPU (PyTorch,
    JAX, CuPy host arrays, NumPy >= 1.22): no copy is made.

    Example
    -------
    >>> import torch
    >>> from_dlpack(torch.arange(3.0))     # writes to either show in the other
    Tensor([0., 1., 2.], dtype=float32)
    """
    if isinstance(x, Tensor):
        arr = x._data
    elif not hasattr(x, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ (a PyTorch, JAX or "
                        f"NumPy array), got {type(x).__name__}")
    else:
        try:
            arr = np.from_dlpack(x)
        except (BufferError, RuntimeError, TypeError, ValueError) as e:
            raise BufferError(f"from_dlpack: cannot share the memory of this "
                              f"{type(x).__name__} with NumPy (it must live on the CPU, and a "
                              f"PyTorch tensor that requires grad must be detached first): "
                              f"{e}") from None
    return Tensor(arr, requires_grad=requires_grad)
