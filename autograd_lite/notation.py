"""``explain``: the backward pass written as equations, in the order it runs.

Each node backward visits gives its forward equation and one line per input that gets a
gradient: the rule from the op table (``Op.rules``) with ``g``, ``x``, ``y``, ``out`` replaced by
names, and the shapes that make it line up (a broadcast input shows the sum that undoes it).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np

from .engine import Node, toposort
from .notation_index import (
    axis_letters,
    conv_matrix_rule,
    conv_rows,
    einsum_matrix_rule,
    index_rule,
)
from .ops.einsum import subscripts
from .viz import _forward, _is_scalar, _names, _op, _shape, _value

__all__ = ["Explanation", "Step", "explain"]

_SYMBOL = re.compile(r"(?<![^\W²])(g|x|y|out)(ᵀ?)(?!\w)")   # "tanh²x" counts
_SIMPLE = re.compile(r"^[\sgxyout()ᵀ²⊙@/+−*\-0-9.]*$")   # rules made only of symbols and operators


def _transposed(shape: tuple) -> tuple:
    return shape[:-2] + (shape[-1], shape[-2]) if len(shape) >= 2 else shape


def _fill(rule: str, table: dict[str, tuple[str, str]]) -> str:
    """Replace the symbols g, x, y, out (``xᵀ`` too) by ``table[sym]`` = (plain, transposed)."""
    def sub(m: re.Match) -> str:
        sym, t = m.group(1), m.group(2)
        return table[sym][bool(t)] if sym in table else m.group(0)
    return _SYMBOL.sub(sub, rule)


@dataclass(frozen=True)
class Step:
    """One gradient line of :func:`explain`: ``grad = rule   shapes`` for one input of a node."""

    target: str          # the input receiving the gradient, e.g. "W1"
    grad: str            # the gradient's name, "dW1"
    rule: str            # the rule with names substituted, "A0ᵀ @ dZ1"
    shapes: str          # "(784, 256) = (784, 128) @ (128, 256)" ("" for Scalars)
    shape: tuple | None  # the gradient's shape (None for Scalars)
    accumulate: bool     # another path already contributed: this one is added (+=)


@dataclass(frozen=True)
class Explanation:
    """The backward pass as equations; ``str()`` is plain text, Jupyter shows HTML."""

    root: str
    rows: tuple[tuple[str, str, str, str], ...]   # (lhs, "=" / "+=", rule, shapes); a header
    steps: tuple[Step, ...]                       # or text row has only its lhs set

    def __str__(self) -> str:
        eqs = [r for r in self.rows if r[1]]
        w1 = max((len(r[0]) for r in eqs), default=0)
        w2 = max((len(r[2]) for r in eqs if len(r[2]) <= 30), default=0)
        return "\n".join(f"{a:<{w1}} {op:<2} {b:<{w2}}   {c}".rstrip() if op else a
                         for a, op, b, c in self.rows)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"


def _raw_shape(node: Node, i: int) -> tuple | None:
    """The shape of input ``i``'s cotangent before broadcasting is undone (runs its VJP on
    zeros); ``None`` when the op gives that input no gradient."""
    op = node._op
    xs = [p._data for p in node._parents]
    params = node._params or {}
    g = np.zeros(node._data.shape, dtype=node._data.dtype)
    with np.errstate(all="ignore"):
        c = op.vjp(i, g, node._data, xs, params)
    return None if c is None else tuple(np.shape(c))


def _with_shapes(rule: str, text: str, raw: tuple, shape: tuple,
                 dims: dict[str, tuple]) -> tuple[str, str]:
    """``(rule, shapes)`` for one Tensor gradient line.

    ``raw`` is the VJP's result shape, ``shape`` the input's; rules made only of symbols and
    operators show every operand's shape (``(784, 256) = (784, 128) @ (128, 256)``), and a
    broadcast input gets the sum that undoes the broadcast (``Σ_batch``).
    """
    shapes = _shape(raw)
    if _SIMPLE.match(text) and len(_SYMBOL.findall(text)) > 1:
        shapes = _fill(text, {k: (_shape(v), _shape(_transposed(v))) for k, v in dims.items()})
        if raw == shape:
            shapes = f"{_shape(raw)} = {shapes}"
    if raw == shape:
        return rule, shapes
    axes = _summed_axes(raw, shape)
    lead = len(raw) - len(shape)
    sub = "batch" if lead and axes == tuple(range(lead)) else "axis" + ",".join(map(str, axes))
    rule = f"Σ_{sub} {rule}" if " " not in rule else f"Σ_{sub} ({rule})"
    ax = "axes" if len(axes) > 1 else "axis"
    return rule, f"{_shape(shape)} = sum over {ax} {', '.join(map(str, axes))} of {shapes}"


def _summed_axes(raw: tuple, shape: tuple) -> tuple[int, ...]:
    lead = len(raw) - len(shape)
    return tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and raw[lead + i] != 1)


NOTATIONS = ("matrix", "index", "both")


def explain(root: Node, notation: str = "matrix") -> Explanation:
    """The backward pass from ``root`` written as matrix equations, in the order it runs.

    For every node backward visits, its forward equation, then one line per input that gets a
    gradient: the rule from the op table (``Op.rules``) with ``g``, ``x``, ``y``, ``out`` replaced
    by names (``name=`` or a generated ``t<k>``; gradients are prefixed with ``d``) and the shapes
    that make it line up. A broadcast input shows the sum that undoes the broadcast; a second
    path into the same node is written ``+=`` (the gradients add).

    ``notation="index"`` writes the VJPs of ``matmul``, ``einsum`` and ``conv2d`` nodes in
    index notation (``dW[i,j] = Σ_n A[n,i]·dZ[n,j]``; one letter is one axis throughout);
    ``"both"`` puts the index form beside the matrix form (``⇔``). A convolution's matrix form
    is the product it really is: ``Xcol = unfold(X)``, ``dWmat = Xcolᵀ @ dYmat``,
    ``dX = fold(dYmat @ Wmatᵀ)``, with the shapes.

    Example
    -------
    >>> from autograd_lite.examples import mlp_example
    >>> print(explain(mlp_example(batch=4, sizes=(3, 5, 2))))   # doctest: +ELLIPSIS
    Backward pass of loss, ...
    Z1 = add(t2, b1)  (4, 5)
      dt2 =  dZ1                   (4, 5)
      db1 =  Σ_batch dZ1           (5,) = sum over axis 0 of (4, 5)
    t2 = matmul(A0, W1)  (4, 5)
      dW1 =  A0ᵀ @ dt2             (3, 5) = (3, 4) @ (4, 5)
    """
    if not isinstance(root, Node):
        raise TypeError(f"explain: expected a Tensor or Scalar, got {type(root).__name__}")
    if notation not in NOTATIONS:
        raise ValueError(f"explain: notation must be one of {NOTATIONS}, got {notation!r}")
    if not root.requires_grad:
        raise ValueError("explain: the root does not require grad, so backward would not run")
    order = _forward([root])
    names = _names(order)
    scalar = _is_scalar(root)
    letters = axis_letters(order) if notation != "matrix" and not scalar else None
    rname = names[id(root)]

    def shape_of(n: Node) -> tuple:
        return () if scalar else tuple(n._data.shape)

    def name_of(p: Node) -> str:
        if not p.requires_grad and not p._parents and _value(p).size == 1:
            return f"{_value(p).item():.4g}"   # constants such as 1/N read best as numbers
        return names[id(p)]

    rows: list[tuple[str, str, str, str]] = [
        (f"Backward pass of {rname}, node by node in the order backward visits them "
         f"(dX = ∂{rname}/∂X):", "", "", ""),
        ("", "", "", ""),
        (f"d{rname}", "=", "1" if _value(root).size == 1 else "the given upstream gradient",
         "" if scalar else _shape(shape_of(root))),
    ]
    steps: list[Step] = []
    seen: set[int] = set()
    for node in toposort(root):
        op = _op(node)
        if op is None:
            continue
        nm = names[id(node)]
        args = ", ".join(name_of(p) for p in node._parents)
        if op.name == "einsum":
            args = f"'{subscripts(node._params['spec'])}', {args}"
        shape_note = "" if scalar else f"  {_shape(shape_of(node))}"
        rows.append((f"{nm} = {op.name}({args}){shape_note}", "", "", ""))
        conv = op.name == "conv2d" and not scalar
        if conv and notation != "index":
            rows.extend((r, "", "", "") for r in conv_rows(node, lambda n: names[id(n)]))
        syms = {"g": (f"d{nm}", f"d{nm}ᵀ"), "out": (nm, nm + "ᵀ")}
        dims = {"g": shape_of(node), "out": shape_of(node)}
        for i, p in enumerate(node._parents[:2]):
            syms["xy"[i]] = (name_of(p), name_of(p) + "ᵀ")
            dims["xy"[i]] = shape_of(p)
        for i, p in enumerate(node._parents):
            if not p.requires_grad:
                continue
            text = op.rules[min(i, len(op.rules) - 1)]   # variadic ops have one rule
            rule, shapes, shape, idx = _fill(text, syms), "", None, None
            if not scalar:
                raw = _raw_shape(node, i)
                if raw is None:
                    continue
                shape = shape_of(p)
                rule, shapes = _with_shapes(rule, text, raw, shape, dims)
                if op.name == "einsum":
                    rule = einsum_matrix_rule(node, i, lambda n: names[id(n)])
                if conv and notation != "index":
                    rule, shapes = conv_matrix_rule(node, i, lambda n: names[id(n)])
                idx = None if letters is None else index_rule(node, i, lambda n: names[id(n)],
                                                              letters)
                if idx is not None:
                    lhs_idx, rule = idx[0], (idx[1] if notation == "index" else
                                             f"{idx[1]}   ⇔   d{names[id(p)]} = {rule}")
            acc = id(p) in seen
            seen.add(id(p))
            target = names[id(p)]
            rows.append((f"  {lhs_idx}" if idx else f"  d{target}", "+=" if acc else "=", rule,
                         shapes + ("   (another path: gradients add)" if acc else "")))
            steps.append(Step(target, f"d{target}", rule, shapes, shape, acc))
    return Explanation(rname, tuple(rows), tuple(steps))
