"""The op table: every primitive, declared once, by family.

Each family module declares its :class:`Op` entries (forward, VJPs, rule text, public name,
Tensor method, ufunc); :data:`OPS` maps each op's name to it. Importing this package registers
them all. Adding an op = its entry in a family module + its line in ``tests/spec.py``; the public
function, the Tensor method, the NumPy ufunc route, the docs table and the bad-input checks follow
from the entry.
"""

from __future__ import annotations

from . import activations, elementwise, indexing, linalg, math, reduce, scan, shape
from .core import OPS, Op, describe, error_kind, normalize_axes, op_error, unbroadcast
from .elementwise import (
    absolute,
    add,
    astype,
    clip,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow_,
    relu,
    sigmoid,
    sqrt,
    sub,
    tanh,
    where,
)
from .linalg import matmul
from .reduce import logsumexp, reduce_max, reduce_min, reduce_sum
from .shape import broadcast_to, concatenate, getitem, reshape, scatter_add, transpose

# families registered after the basic ones (registration order is the op table's order)
from . import conv, einsum, pool  # noqa: E402, I001  isort: skip

__all__ = [
    "OPS", "Op", "describe", "error_kind", "normalize_axes", "op_error", "unbroadcast",
    "activations", "elementwise", "indexing", "linalg", "math", "reduce", "scan", "shape",
    "table",
    "absolute", "add", "astype", "clip", "div", "exp", "log", "maximum", "minimum", "mul", "neg",
    "pow_", "relu", "sigmoid", "sqrt", "sub", "tanh", "where", "matmul", "logsumexp",
    "reduce_max", "reduce_min", "reduce_sum", "broadcast_to", "concatenate", "getitem", "reshape",
    "scatter_add", "transpose", "conv", "einsum", "pool",
]


def table() -> str:
    """The op table as Markdown (the README's primitive list is this text)."""
    rows = ["| op | public | method | derivative (VJP per input) |", "|---|---|---|---|"]
    for op in OPS.values():
        rules = "; ".join(r.replace("|", "\\|") for r in op.rules)
        rows.append(f"| `{op.name}` | {f'`al.{op.public}`' if op.public else '(internal)'} | "
                    f"{f'`.{op.method}()`' if op.method else ''} | {rules} |")
    return "\n".join(rows)
