"""The vectorised backward: a batch of cotangents backpropagated at once.

A Jacobian row is a VJP with a basis vector as the upstream gradient. Instead of one backward
pass per row, :func:`jacobian` stacks the basis vectors along a leading *batch* axis and runs the
one backward driver (:func:`engine.cotangents`) once, with :func:`batched_vjp` in place of each
node's ``_vjp``: every node's cotangent then has shape ``(B,) + node.shape``. This is what
PyTorch's ``vectorize=True`` and JAX's ``vmap(vjp)`` do, without a batching interpreter: each op
declares how its VJPs take the batch axis (``Op.batch``):

* ``True``: the plain VJPs already do (elementwise rules: ``g`` broadcasts against the inputs,
  aligned on the right);
* a tuple of batched VJPs, one per input (the axis-dependent rules: reductions, reshape,
  transpose, indexing, concatenation, 1-D ``matmul``), which may return ``NotImplemented`` for
  cases they leave to the fallback;
* ``False`` (the default): the fallback, the plain VJP run on each slice ``g[b]`` and the results
  stacked, so every op stays correct, only slower.

Broadcasting is undone centrally here too, by :func:`fit` (the batch axis is never summed).
Under ``create_graph`` (a Jacobian inside another transform) the batched rules are recorded like
any VJP, so the result can be differentiated again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops
from .engine import cotangents, toposort
from .inplace import _WRITES
from .ops.core import Op
from .tensor import Tensor

__all__ = ["BUDGET", "batched_vjp", "fit", "jacobian"]

BUDGET = 1 << 22
"""Elements per batched intermediate: the batch is split into chunks so that the largest node
times the chunk's rows stays below this (32 MiB in float64)."""


def fit(c: Any, x: np.ndarray, batch: int, name: str, i: int) -> Any:
    """A batched cotangent ``c`` for input ``i`` of op ``name`` fitted to ``(batch,) + x.shape``:
    the broadcast axes after the batch axis summed, cast to ``x``'s dtype.

    Example
    -------
    >>> fit(np.ones((4, 2, 3)), np.zeros(3), 4, "add", 0)
    array([[2., 2., 2.],
           [2., 2., 2.],
           [2., 2., 2.],
           [2., 2., 2.]])
    """
    shape = (batch,) + x.shape
    cs = c.shape
    if cs != shape:
        lead = len(cs) - len(shape)
        if lead < 0 or cs[0] != batch or any(n != 1 and n != m for n, m in
                                             zip(x.shape, cs[1 + lead:])):
            raise RuntimeError(f"{name} (input {i}): the batched VJP returned shape {tuple(cs)}, "
                               f"which broadcasting from {shape} cannot explain (a rule declared "
                               f"batch-safe is not)")
        axes = tuple(range(1, 1 + lead)) + tuple(
            1 + lead + k for k, n in enumerate(x.shape) if n == 1 and cs[1 + lead + k] != 1)
        if axes:
            c = c.sum(axis=axes, keepdims=True)
        if lead:
            c = c.reshape(shape)
    if c.dtype != x.dtype:
        c = c.astype(x.dtype)
    return c


def _per_slice(op: Op, i: int, g: Any, out: Any, xs: Any, params: dict, x: np.ndarray) -> Any:
    """The fallback: the plain VJP on each slice of the batch, stacked."""
    rows = []
    for b in range(g.shape[0]):
        c = op.vjp(i, g[b], out, xs, params)
        if c is None:
            return None
        rows.append(ops.core.fit(c, x, op.name, i))
    if not any(isinstance(r, Tensor) for r in rows):
        return np.stack(rows)
    return ops.concatenate(*[r.reshape((1,) + x.shape) for r in rows], axis=0)


def batched_vjp(node: Tensor, g: Any, create_graph: bool) -> list:
    """``Tensor._vjp`` for a batch of cotangents ``g`` of shape ``(B,) + node.shape``: each
    parent's cotangents, ``(B,) + parent.shape`` (``None`` where it needs none)."""
    if _WRITES[0] > node._seq:   # the same in-place check as an ordinary backward
        node._check_unmodified()
    op, parents, params = node._op, node._parents, node._params
    xs: Any = parents if create_graph else [p._data for p in parents]
    out: Any = node if create_graph else node._data
    batch = op.batch
    cots: list = [None] * len(parents)
    passed = False
    for i, p in enumerate(parents):
        if not p.requires_grad or op.vjps[0 if op.variadic else i] is None:
            continue
        if batch is True:
            c = op.vjp(i, g, out, xs, params)
        elif batch is False:
            c = NotImplemented
        else:
            rule = batch[0 if op.variadic else i]
            c = rule(g, out, xs, i, **params) if op.variadic else rule(g, out, *xs, **params)
        if c is NotImplemented:
            c = _per_slice(op, i, g, out, xs, params, p._data)
        if c is None:
            continue
        c = fit(c, p._data, g.shape[0], op.name, i)
        if c is g:   # one array sent to two inputs: the second gets a copy (as Tensor._vjp)
            if passed and not create_graph:
                c = c.copy()
            passed = True
        cots[i] = c
    return cots


def jacobian(y: Tensor, xs: list[Tensor], create_graph: bool) -> list | None:
    """The Jacobians of ``y`` with respect to each of ``xs`` (``y.shape + x.shape``), from
    batched backward passes (chunks of at most :data:`BUDGET` elements per node); ``None`` when
    the graph has hooks (they would see batched gradients), for the row-by-row path.

    Example
    -------
    >>> x = al.Tensor([1.0, 2.0], requires_grad=True)
    >>> jacobian(x * x, [x], create_graph=False)
    [array([[2., 0.],
           [0., 4.]])]
    """
    n = y.size
    order = toposort(y)
    if not n or any(node._hooks for node in order):
        return None
    widest = max(node._data.size for node in order)
    chunk = max(1, min(n, BUDGET // max(widest, 1)))
    parts: list[list] = [[] for _ in xs]
    for start in range(0, n, chunk):
        b = min(chunk, n - start)
        seed = np.zeros((b, n), dtype=y.dtype)
        seed[np.arange(b), start + np.arange(b)] = 1
        seed = seed.reshape((b,) + y.shape)
        cots = cotangents(y, xs, Tensor(seed) if create_graph else seed,
                          create_graph=create_graph, _vjp=batched_vjp)
        for part, c, x in zip(parts, cots, xs):
            if c is None:
                c = np.zeros((b,) + x.shape, dtype=x.dtype)
            part.append(Tensor(c) if create_graph and not isinstance(c, Tensor) else c)
    jacs = []
    for part, x in zip(parts, xs):
        if len(part) == 1:
            j = part[0]
        elif create_graph:
            j = ops.concatenate(*part, axis=0)
        else:
            j = np.concatenate(part)
        j = j.reshape(y.shape + x.shape)
        if not create_graph and not j.flags.writeable:
            j = np.array(j)   # (a broadcast view)
        jacs.append(j)
    return jacs
