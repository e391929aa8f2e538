"""Interchange with other frameworks: PyTorch modules and optimizer state, and DLPack arrays.

``torch`` is imported lazily, inside the functions that need it; it is never a dependency.

Weights: :func:`to_torch` builds the equivalent ``torch.nn`` module with the same weights and
:func:`load_torch_state_dict` reads a PyTorch state dict back. ``Linear`` stores its weight as
``(in, out)`` here and ``(out, in)`` in PyTorch: the transpose happens here, once, in both
directions (and for the optimizer's moments). Batch-norm running statistics travel as
PyTorch's buffers (``running_mean``, ``running_var``, ``num_batches_tracked``). Each supported
module type has one entry in :data:`TORCH_MODULES`.

Arrays: :func:`from_dlpack` wraps any DLPack producer (a PyTorch or JAX CPU tensor, a NumPy
array, ...) as a Tensor without copying; ``Tensor.__dlpack__`` goes the other way.
"""

from __future__ import annotations

import json
import math
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
    """One parameter's (or buffer's) correspondence: our path, PyTorch's key, whether to
    transpose, and the module owning it under ``name`` (for buffers)."""

    ours: str
    theirs: str
    transpose: bool
    owner: Any = None
    name: str = ""


def _dt(torch: Any, m: Any) -> Any:
    """The torch dtype of ``m``'s parameters (or running statistics)."""
    w = getattr(m, "weight", None)
    arr = w if w is not None else getattr(m, "running_mean", None)
    return _torch_dtype(torch, np.asarray(arr._data if isinstance(arr, Tensor) else arr).dtype
                        if arr is not None else np.float32)


def _linear(m: nn.Linear, torch: Any, build: Callable) -> Any:
    return torch.nn.Linear(m.in_features, m.out_features, bias=m.bias is not None,
                           dtype=_dt(torch, m))


def _conv(name: str) -> Callable:
    def make(m: Any, torch: Any, build: Callable) -> Any:
        opts = dict(m.options)
        pad = opts.get("padding", 0)
        if isinstance(pad, (tuple, list)) and any(isinstance(v, (tuple, list)) for v in pad):
            raise TypeError(f"to_torch: {type(m).__name__} with asymmetric padding {pad} has no "
                            f"torch.nn.{name} equivalent (pad the input with F.pad instead)")
        return getattr(torch.nn, name)(m.in_channels, m.out_channels, m.kernel_size, **opts,
                                       bias=m.bias is not None, dtype=_dt(torch, m))
    return make


def _batch_norm(name: str) -> Callable:
    def make(m: Any, torch: Any, build: Callable) -> Any:
        return getattr(torch.nn, name)(m.num_features, eps=m.eps, momentum=m.momentum,
                                       affine=m.weight is not None,
                                       track_running_stats=m.track_running_stats,
                                       dtype=_dt(torch, m))
    return make


def _batch_norm_items(m: Any) -> list:
    own = [("weight", "weight", False), ("bias", "bias", False)] if m.weight is not None else []
    stats = ["running_mean", "running_var", "num_batches_tracked"]
    return own + ([(k, k, "buffer") for k in stats] if m.track_running_stats else [])


def _digits_cnn(m: Any, torch: Any, build: Callable) -> Any:
    from collections import OrderedDict
    return torch.nn.Sequential(OrderedDict([
        ("unflatten", torch.nn.Unflatten(1, (1, m.side, m.side))),
        ("features", build(m.features)), ("head", build(m.head))]))


def _simple(name: str) -> Callable:
    return lambda m, torch, build: getattr(torch.nn, name)()


def _configured(m: Any, torch: Any, build: Callable) -> Any:
    """An activation module: PyTorch's class of the same name, with the same arguments."""
    return getattr(torch.nn, type(m).__name__)(**m.kwargs)


def _children(m: nn.Module) -> list:
    return [(k, k, None) for k in m.__dict__.get("_modules", {})]


_NONE: Callable = lambda m: []     # noqa: E731  (a module without parameters)
_WEIGHT_BIAS: Callable = lambda m: [("weight", "weight", False)] + (  # noqa: E731
    [("bias", "bias", False)] if m.bias is not None else [])

TORCH_MODULES: dict[type, tuple[Callable, Callable]] = {
    # our class: (build the torch module, its items as (ours, theirs, kind) tuples)
    nn.Linear: (_linear, lambda m: [("weight", "weight", True)]
                + ([("bias", "bias", False)] if m.bias is not None else [])),
    nn.Sequential: (lambda m, torch, build: torch.nn.Sequential(*(build(c) for c in m)),
                    _children),
    nn.ModuleList: (lambda m, torch, build: torch.nn.ModuleList([build(c) for c in m]),
                    _children),
    nn.ModuleDict: (lambda m, torch, build: torch.nn.ModuleDict(
        {k: build(c) for k, c in m.__dict__["_modules"].items()}), _children),
    nn.MLP: (lambda m, torch, build: build(m.layers), lambda m: [("layers", "", None)]),
    nn.DigitsCNN: (_digits_cnn, _children),
    nn.Conv1d: (_conv("Conv1d"), _WEIGHT_BIAS),
    nn.Conv2d: (_conv("Conv2d"), _WEIGHT_BIAS),
    nn.ConvTranspose2d: (_conv("ConvTranspose2d"), _WEIGHT_BIAS),
    nn.MaxPool2d: (lambda m, torch, build: torch.nn.MaxPool2d(**m.options), _NONE),
    nn.AvgPool2d: (lambda m, torch, build: torch.nn.AvgPool2d(**m.options), _NONE),
    nn.AdaptiveAvgPool2d: (lambda m, torch, build: torch.nn.AdaptiveAvgPool2d(**m.options),
                           _NONE),
    nn.BatchNorm1d: (_batch_norm("BatchNorm1d"), _batch_norm_items),
    nn.BatchNorm2d: (_batch_norm("BatchNorm2d"), _batch_norm_items),
    nn.Bilinear: (lambda m, torch, build: torch.nn.Bilinear(
        m.in1_features, m.in2_features, m.out_features, bias=m.bias is not None,
        dtype=_dt(torch, m)), _WEIGHT_BIAS),
    nn.Embedding: (lambda m, torch, build: torch.nn.Embedding(
        m.num_embeddings, m.embedding_dim, padding_idx=m.padding_idx, dtype=_dt(torch, m)),
        lambda m: [("weight", "weight", False)]),
    nn.Flatten: (lambda m, torch, build: torch.nn.Flatten(m.start_dim, m.end_dim), _NONE),
    nn.Identity: (_simple("Identity"), _NONE),
    nn.Softmax: (lambda m, torch, build: torch.nn.Softmax(dim=m.dim), _NONE),
    nn.LogSoftmax: (lambda m, torch, build: torch.nn.LogSoftmax(dim=m.dim), _NONE),
    nn.ReLU: (_simple("ReLU"), _NONE),
    nn.Tanh: (_simple("Tanh"), _NONE),
    nn.Sigmoid: (_simple("Sigmoid"), _NONE),
    nn.Dropout: (lambda m, torch, build: torch.nn.Dropout(m.p), _NONE),
    **{getattr(nn, name): (_configured, _NONE) for name in (
        "GELU", "SiLU", "Softplus", "ELU", "SELU", "CELU", "LeakyReLU", "Hardtanh", "ReLU6",
        "Hardsigmoid", "Hardswish", "Mish", "LogSigmoid", "Softsign")},
}
"""Supported module types. Each entry lists a module's own parameters (kind: whether to
transpose), its buffers (kind ``"buffer"``: running statistics) and its submodules (kind
``None``: recurse, joining paths with a dot)."""


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


def _items(m: nn.Module, ours: str = "", theirs: str = "") -> Iterator[_Param]:
    """Every parameter and buffer of ``m`` as (our path, PyTorch key, transpose or
    ``"buffer"``, owner, name)."""
    for o, t, kind in _entry(m)[1](m):
        if kind is None:
            child = m.__dict__.get("_modules", {}).get(o)
            child = getattr(m, o) if child is None else child
            yield from _items(child, _join(ours, o), _join(theirs, t))
        else:
            yield _Param(_join(ours, o), _join(theirs, t), kind, m, o)


def _params(m: nn.Module) -> Iterator[_Param]:
    """Every parameter of ``m`` as (our path, PyTorch key, transpose)."""
    return (p for p in _items(m) if p.transpose != "buffer")


def _buffer_value(p: _Param) -> np.ndarray:
    v = getattr(p.owner, p.name)
    return np.asarray(v._data if isinstance(v, Tensor) else v)


def _set_buffer(p: _Param, value: np.ndarray) -> None:
    """Write a running statistic back (a registered buffer in place, else the attribute)."""
    v = getattr(p.owner, p.name)
    if isinstance(v, Tensor):
        v._data[...] = value
    elif isinstance(v, np.ndarray):
        setattr(p.owner, p.name, np.asarray(value, dtype=v.dtype).copy())
    else:
        setattr(p.owner, p.name, type(v)(value))


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
        for p in _items(module):
            if p.transpose == "buffer":
                w = _buffer_value(p)
            else:
                w = state[p.ours].T if p.transpose else state[p.ours]
            theirs[p.theirs].copy_(torch.from_numpy(np.array(w, order="C")))
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
    pairs = list(_items(module))
    expected = {p.theirs for p in pairs}
    missing = sorted(expected - set(state_dict))
    unexpected = sorted(set(state_dict) - expected)
    if missing or unexpected:
        raise KeyError(f"load_torch_state_dict: {type(module).__name__}: missing keys {missing}, "
                       f"unexpected keys {unexpected}")
    state, buffers = {}, []
    for p in pairs:
        v = state_dict[p.theirs]
        v = v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)
        if p.transpose == "buffer":
            have = _buffer_value(p)
            if v.shape != have.shape:
                raise ValueError(f"load_torch_state_dict: {p.theirs!r} has shape {v.shape}, "
                                 f"the module's {p.ours} {have.shape}")
            buffers.append((p, v))
        else:
            state[p.ours] = v.T if p.transpose else v
    if any(isinstance(getattr(p.owner, p.name), Tensor) for p, _ in buffers):
        state.update({p.ours: v for p, v in buffers if isinstance(getattr(p.owner, p.name),
                                                                    Tensor)})
    module.load_state_dict(state)   # checks names, shapes and dtypes
    for p, v in buffers:
        if not isinstance(getattr(p.owner, p.name), Tensor):
            _set_buffer(p, v)
    return module


# ---------------------------------------------------------------------------------------------
# Optimizers


def optimizer_to_torch(optimizer: optim.Optimizer, module: nn.Module, torch_module: Any) -> Any:
    """The same optimizer in PyTorch over ``torch_module``'s parameters (built by
    :func:`to_torch` from ``module``), hyperparameters and state translated: Adam/AdamW moments
    (and AMSGrad's ``v_max``; transposed with their ``Linear`` weights) and step counts, SGD
    momentum buffers, RMSprop's square/gradient averages and momentum buffers, Adagrad's sums.
    Training continues where it left off.

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
                  weight_decay=optimizer.weight_decay, amsgrad=optimizer.amsgrad)
        keys = {"m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq"}
    elif isinstance(optimizer, optim.RMSprop):
        out = torch.optim.RMSprop(params, lr=optimizer.lr, alpha=optimizer.alpha,
                                  eps=optimizer.eps, weight_decay=optimizer.weight_decay,
                                  momentum=optimizer.momentum, centered=optimizer.centered)
        keys = {k: k for k in ("square_avg", "grad_avg", "momentum_buffer")}
    elif isinstance(optimizer, optim.Adagrad):
        out = torch.optim.Adagrad(params, lr=optimizer.lr, lr_decay=optimizer.lr_decay,
                                  weight_decay=optimizer.weight_decay, eps=optimizer.eps,
                                  initial_accumulator_value=optimizer.initial_accumulator_value)
        keys = {"sum": "sum"}
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


def load_trained(checkpoint: str | os.PathLike) -> nn.Module:
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
        kind = config.get("model", "mlp")
        if kind not in ("mlp", "cnn"):
            raise ValueError(f"unknown model {kind!r} (expected 'mlp' or 'cnn')")
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{os.fspath(config_path)!r} is not a training config (it needs "
                         f"'sizes' and 'dtype'): {e!r}") from None
    if kind == "cnn":     # sizes = [side², c1, c2, classes] (nn.DigitsCNN.sizes)
        model: nn.Module = nn.DigitsCNN(tuple(sizes[1:3]), sizes[3], int(math.isqrt(sizes[0])),
                                        dtype=dtype, rng=0)
    else:
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
