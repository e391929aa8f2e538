"""The ONNX graph under construction: unique names, nodes, constants (deduplicated), casts.

Emitters (``_emitters.py``) see only this small API: ``name(t)`` for a recorded Tensor's value,
``typed(t, dtype)`` for it in a given dtype, ``node(...)`` to add a node, ``const(array)`` and
``ints(values)`` for constants. Tensors that depend on no input and no parameter are *folded*:
their value, computed when ``f`` ran, becomes a constant the first time an emitter asks for it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

INT64_MIN = -(2 ** 63)


def elem_type(dtype: Any) -> int:
    """The ONNX element type of a NumPy dtype."""
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


class Builder:
    """Collects nodes and initializers; maps each recorded Tensor to the name of its value."""

    def __init__(self, opset: int, live: set, inputs: dict) -> None:
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.values: dict = {}            # Tensor -> value name (keyed by identity)
        self.live = live                  # Tensors that depend on an input or a parameter
        self.inputs = inputs              # id(ndarray of a graph input) -> (name, ndarray)
        self._used: set[str] = set()
        self._consts: dict[tuple, str] = {}

    # -- names -----------------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        """A value name starting with ``base`` not used before."""
        base = base or "v"
        name, i = base, 0
        while name in self._used:
            i += 1
            name = f"{base}_{i}"
        self._used.add(name)
        return name

    def reserve(self, name: str) -> str:
        if name in self._used:
            raise ValueError(f"onnx.export: the name {name!r} is used twice (input, output, "
                             "parameter or Tensor names must be unique)")
        self._used.add(name)
        return name

    # -- values ----------------------------------------------------------------------------
    def name(self, t: Any) -> str:
        """The value name of Tensor ``t`` (a folded constant the first time, if not live)."""
        v = self.values.get(t)
        if v is None:
            src = self.array(t._data)
            v = self.values[t] = src if src is not None else self.const(t._data)
        return v

    def typed(self, t: Any, dtype: Any) -> str:
        """``t``'s value in ``dtype`` (a Cast node, or a constant converted here)."""
        dtype = np.dtype(dtype)
        if t._data.dtype == dtype:
            return self.name(t)
        if t not in self.live and t not in self.values and self.array(t._data) is None:
            return self.const(t._data.astype(dtype))
        return self.node("Cast", [self.name(t)], to=elem_type(dtype))

    def array(self, arr: np.ndarray) -> str | None:
        """The graph input holding ``arr`` (or a reshaped view of it), else ``None``.

        Functions often unwrap an input Tensor and pass its array on (the fused cross-entropy
        does with its target); such an array is still the input, not a constant."""
        hit = self.inputs.get(id(arr))
        if hit is not None and hit[1] is arr:
            return hit[0]
        base = arr.base
        while isinstance(base, np.ndarray):
            hit = self.inputs.get(id(base))
            if hit is not None and hit[1] is base and arr.size == base.size \
                    and arr.flags.c_contiguous and base.flags.c_contiguous:
                return self.reshape(hit[0], base.shape, arr.shape)
            base = base.base
        return None

    def reshape(self, x: str, old: tuple, new: tuple) -> str:
        """``Reshape`` keeping every leading dimension shared by ``old`` and ``new`` symbolic
        (ONNX's 0 = "copy this dimension"), so a dynamic batch axis survives."""
        target = list(new)
        for i, (a, b) in enumerate(zip(old, new)):
            if a != b or a == 0:
                break
            target[i] = 0
        return self.node("Reshape", [x, self.ints(target)])

    # -- nodes and constants ---------------------------------------------------------------
    def node(self, op_type: str, inputs: list[str], n_out: int = 1, **attrs: Any) -> Any:
        """Append a node; its output name (a list of names when ``n_out > 1``)."""
        outs = [self.fresh(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=self.fresh(f"n_{op_type}"),
                                           **attrs))
        return outs[0] if n_out == 1 else outs

    def const(self, value: Any, hint: str = "const") -> str:
        """An initializer holding ``value`` (equal small constants share one)."""
        arr = np.array(value, copy=None, order="C")   # (ascontiguousarray makes 0-d 1-d)
        key = None
        if arr.size <= 64:
            key = (arr.dtype.str, arr.shape, arr.tobytes())
            if key in self._consts:
                return self._consts[key]
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(arr, name))
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values: Any) -> str:
        """A 1-D int64 constant (shapes, axes, starts, ...)."""
        return self.const(np.asarray(list(values), dtype=np.int64).reshape(-1), "ints")
