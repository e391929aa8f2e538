"""The public functions and Tensor methods, generated from the op table.

For every op with a ``public`` name this module defines ``autograd_lite.<public>``; for every op
with a ``method`` name, the same function becomes that ``Tensor`` method (``x.sum(0)`` is
``al.sum(x, 0)``); ops with a ``ufunc`` are reached from NumPy (``np.exp(t)``); the binary
arithmetic ops become operators (``+ - * / ** @`` and their reflected forms). One function per
op: its arguments go through the op's ``front`` (validation, defaults) and :func:`as_tensor`, its
docstring is the op's summary, rule and example.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import ops
from .fused import log_softmax as _log_softmax
from .fused import softmax as _softmax
from .ops.spellings import dim_alias
from .tensor import Tensor, as_tensor

__all__: list[str] = ["stack"]   # extended below with every generated public name

record = Tensor._record
_NO_PARAMS: dict = {}


def _operands(inputs: Any, where: str) -> list:
    """The op's inputs: Tensors as they are, Python numbers left weak (they take the dtype of
    the Tensor they meet), anything else a constant Tensor; at least one Tensor."""
    out = []
    tensor = False
    for x in inputs:
        if isinstance(x, Tensor):
            tensor = True
        elif type(x) is float or type(x) is int:
            pass
        else:
            x = as_tensor(x, where)
            tensor = True
        out.append(x)
    if not tensor and out:
        out[0] = as_tensor(out[0], where)
    return out


def _function(op: ops.Op) -> Callable[..., Tensor]:
    name = op.public or op.method
    front = op.front
    arity = op.arity
    signature = op.signature()

    def function(*args: Any, **kwargs: Any) -> Tensor:
        if front is None:
            if kwargs or len(args) != arity:
                _bad_call(name, signature, args, kwargs)
            if arity == 1 and type(args[0]) is Tensor:   # the common case, straight to recording
                return record(op, args, _NO_PARAMS)
            return op(*_operands(args, name))
        try:
            inputs, params = front(*args, **kwargs)
        except TypeError:
            _bad_call(name, signature, args, kwargs)   # a wrong call, said plainly
            raise                                      # else the front's own (named) error
        if len(inputs) == 1 and type(inputs[0]) is Tensor:   # (x.sum(), ...: straight to it)
            return record(op, inputs, params)
        return op(*_operands(inputs, name), **params)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = op.docstring()
    function.__signature__ = signature  # type: ignore[attr-defined]
    return function


def _bad_call(name: str, signature: Any, args: tuple, kwargs: dict) -> None:
    try:
        signature.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{name}{signature}: {e}") from None


def _operator(op: ops.Op, reflected: bool) -> Callable[[Tensor, Any], Tensor]:
    # Straight to recording (``self`` is a Tensor): operators are the hottest path of all.
    if reflected:
        return lambda self, other: record(op, (other, self), _NO_PARAMS)
    return lambda self, other: record(op, (self, other), _NO_PARAMS)


_OPERATORS = {"add": "add", "sub": "sub", "mul": "mul", "truediv": "div", "pow": "pow",
              "matmul": "matmul", "mod": "remainder"}

for _op in list(ops.OPS.values()):
    if _op.public is None and _op.method is None:
        continue
    _fn = _function(_op)
    if _op.public:
        globals()[_op.public] = _fn
        __all__.append(_op.public)
    if _op.method:
        setattr(Tensor, _op.method, _fn)
for _dunder, _name in _OPERATORS.items():
    setattr(Tensor, f"__{_dunder}__", _operator(ops.OPS[_name], False))
    setattr(Tensor, f"__r{_dunder}__", _operator(ops.OPS[_name], True))
Tensor.__neg__ = lambda self: record(ops.neg, (self,), _NO_PARAMS)  # type: ignore
Tensor.__abs__ = lambda self: record(ops.absolute, (self,), _NO_PARAMS)  # type: ignore
# x.softmax() is al.softmax(x): the fused op by default, fused=False for the composed twin
Tensor.softmax = dim_alias("softmax")(  # type: ignore
    lambda self, axis=-1, *, fused=True: _softmax(self, axis, fused=fused))
Tensor.log_softmax = dim_alias("log_softmax")(  # type: ignore
    lambda self, axis=-1, *, fused=True: _log_softmax(self, axis, fused=fused))
del _op, _fn, _dunder, _name


def mean(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
         keepdim: bool | None = None) -> Tensor:
    """Mean over ``axis`` (alias ``dim``; see :meth:`Tensor.mean`).

    Example
    -------
    >>> al.mean([1.0, 2.0, 6.0])
    Tensor(3., dtype=float64)
    """
    return as_tensor(x, "mean").mean(axis, keepdims, dim=dim, keepdim=keepdim)


@dim_alias("stack")
def stack(xs: Any, axis: int = 0) -> Tensor:
    """Tensors of one shape joined along a new axis.

    Example
    -------
    >>> al.stack([[1.0, 2.0], [3.0, 4.0]], axis=1)
    Tensor([[1., 3.],
            [2., 4.]], dtype=float64)
    """
    if isinstance(xs, (Tensor, str)) or not isinstance(xs, (list, tuple)):
        raise TypeError(f"stack: expected a list or tuple of tensors, got {type(xs).__name__}")
    ts = [as_tensor(x, "stack") for x in xs]
    if not ts:
        raise ValueError("stack: need at least one tensor")
    shapes = {t.shape for t in ts}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    (axis,) = ops.normalize_axes(axis, ts[0].ndim + 1, "stack")
    return ops.concatenate(*[t.unsqueeze(axis) for t in ts], axis=axis)


__all__.append("mean")


def cat(tensors: Any, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Alias of :func:`concatenate` with PyTorch's name and ``dim=`` (``axis=`` also works).

    Example
    -------
    >>> al.cat([[[1.0]], [[2.0]]], dim=1)
    Tensor([[1., 2.]], dtype=float64)
    """
    return globals()["concatenate"](tensors, axis=dim if axis is None else axis)


__all__.append("cat")


from . import composites  # noqa: E402  (the functions composed of primitives, same layer)
from .composites import *  # noqa: E402,F403

__all__ += composites.__all__
