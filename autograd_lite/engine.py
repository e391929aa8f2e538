"""The graph and the backward pass, independent of NumPy.

This module owns grad mode (``no_grad``, ``enable_grad``, ``is_grad_enabled``), what a graph node
is, the iterative topological sort and the single backward driver. ``Tensor`` and ``Scalar`` are
both ``Node`` subclasses; they supply how to seed, run a node's VJP and store a gradient.

A node's protocol (all attributes have class-level defaults, so a leaf sets only what it needs):

``_parents``
    tuple of input nodes, in argument order (empty for a leaf).
``requires_grad``
    whether gradients flow to/through this node.
``_vjp(g, create_graph)``
    the cotangents for each parent (``None`` where a parent needs none), already shaped like it.
``_store_grad(g, create_graph)``
    accumulate ``g`` into ``.grad``.
``_seed(grad, create_graph)``
    the initial cotangent of a root (``grad`` given by the user, or ``None``).
``_wrap_grad(g)`` / ``_unwrap_grad(g)``
    convert between the raw cotangent and what hooks see.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "Node",
    "backward",
    "cotangents",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "toposort",
]


# ---------------------------------------------------------------------------------------------
# Grad mode: one flag per thread, changed only through the context managers below.


class _GradMode(threading.local):
    enabled: bool = True


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether new operations are recorded in the graph (in the current thread)."""
    return _mode.enabled


@contextmanager
def _set_grad_enabled(flag: bool) -> Iterator[None]:
    prev = _mode.enabled
    _mode.enabled = flag
    try:
        yield
    finally:
        _mode.enabled = prev


def no_grad() -> Any:
    """Context manager (and decorator) under which no operation is recorded.

    Example
    -------
    >>> with no_grad():
    ...     y = x * 2          # y.requires_grad is False
    """
    return _set_grad_enabled(False)


def enable_grad() -> Any:
    """Context manager (and decorator) that re-enables recording inside ``no_grad``."""
    return _set_grad_enabled(True)


# ---------------------------------------------------------------------------------------------
# Nodes


_ids = itertools.count()


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_fn")

    def __init__(self, hooks: list, fn: Callable) -> None:
        self._hooks = hooks
        self._fn = fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


class Node:
    """Base class of everything that lives in a graph (``Tensor`` and ``Scalar``)."""

    # Class-level defaults: a node sets only the attributes it needs.
    _parents: tuple = ()
    requires_grad: bool = False
    grad: Any = None
    name: str | None = None
    _retains_grad: bool = False
    _hooks: list | None = None

    @property
    def is_leaf(self) -> bool:
        """True for nodes not produced by a recorded operation."""
        return not self._parents

    @property
    def id(self) -> int:
        """A small integer, stable for the node's life, in creation order (for drawings)."""
        i = self.__dict__.get("_uid")
        if i is None:
            i = self.__dict__["_uid"] = next(_ids)
        return i

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this intermediate node after ``backward``."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this node does not require grad")
        self._retains_grad = True

    def register_hook(self, fn: Callable[[Any], Any]) -> RemovableHandle:
        """Call ``fn(grad)`` when the gradient flowing into this node is complete.

        ``fn`` may return a replacement gradient (same shape) or ``None`` to keep it.
        """
        if not callable(fn):
            raise TypeError(f"register_hook: the hook must be callable, got {type(fn).__name__}")
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a node that does not "
                               "require grad")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return RemovableHandle(self._hooks, fn)

    def backward(self, grad: Any = None, *, create_graph: bool = False,
                 retain_grads: bool = False) -> None:
        """Backpropagate from this node; see :func:`backward`."""
        backward(self, grad, create_graph=create_graph, retain_grads=retain_grads)

    # -- to be supplied by subclasses ------------------------------------------------------
    def _vjp(self, g: Any, create_graph: bool) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    def _store_grad(self, g: Any, create_graph: bool) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _seed(self, grad: Any, create_graph: bool) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _wrap_grad(self, g: Any) -> Any:
        return g

    def _unwrap_grad(self, g: Any, create_graph: bool) -> Any:
        return g


# ---------------------------------------------------------------------------------------------
# Topological sort and the backward driver


def toposort(roots: Node | list[Node] | tuple[Node, ...], *, all_nodes: bool = False) -> list:
    """Nodes reachable from ``roots``, each after every node that consumes it (roots first).

    Iterative depth-first search (no recursion, so graphs millions of nodes deep are fine),
    deterministic: parents are visited in argument order. By default only nodes that require
    grad are followed; ``all_nodes=True`` includes constants too (for drawing).
    """
    if isinstance(roots, Node):
        roots = (roots,)
    order: list = []
    visited: set[int] = set()
    stack: list = list(reversed(roots))
    # Written for speed (it runs over every node of every backward): a node is pushed again
    # under the _POST marker, below its parents, and is emitted when the marker pops.
    push, pop = stack.append, stack.pop
    while stack:
        node = pop()
        if node is _POST:
            order.append(pop())
            continue
        k = id(node)
        if k in visited:
            continue
        visited.add(k)
        push(node)
        push(_POST)
        for p in reversed(node._parents):
            if (all_nodes or p.requires_grad) and id(p) not in visited:
                push(p)
    order.reverse()
    return order


_POST = object()   # toposort's marker: "the node below me has all its parents emitted"


def backward(root: Node, grad: Any = None, *, create_graph: bool = False,
             retain_grads: bool = False, _into: dict | None = None) -> None:
    """Accumulate d(root)/d(leaf) into ``.grad`` of every leaf that requires grad.

    Parameters
    ----------
    root : the output node. A non-scalar root needs ``grad`` (its shape).
    grad : the upstream gradient (cotangent) of ``root``; ones for a scalar root by default.
    create_graph : record the backward pass itself, so gradients can be differentiated again.
    retain_grads : also keep ``.grad`` on every intermediate node (for drawing and teaching).

    Leaf gradients accumulate across calls; intermediate nodes keep none unless asked (via
    ``retain_grads`` or ``node.retain_grad()``). The graph is left intact.

    ``_into`` (used by :func:`cotangents`): a dict ``{id(node): None}`` filled with those nodes'
    cotangents instead of writing ``.grad`` anywhere.
    """
    if not root.requires_grad:
        raise RuntimeError("backward: the root does not require grad (no input that requires "
                           "grad reaches it, or it was computed under no_grad)")
    order = toposort(root)
    grads: dict[int, Any] = {id(root): root._seed(grad, create_graph)}
    pop = grads.pop   # hot loop (once per node): a local bound method
    prev_mode = _mode.enabled   # as _set_grad_enabled, without a generator's cost per call
    _mode.enabled = create_graph
    try:
        for node in order:
            g = pop(id(node), None)
            if g is None:
                continue
            if node._hooks:
                for fn in list(node._hooks):
                    new = fn(node._wrap_grad(g))
                    if new is not None:
                        g = node._unwrap_grad(new, create_graph)
            parents = node._parents
            if _into is not None:         # cotangents(): collect, leave every .grad alone
                if id(node) in _into:
                    _into[id(node)] = g
                if not parents:
                    continue
            elif not parents:
                if node.requires_grad:
                    node._store_grad(g, create_graph)
                continue
            elif retain_grads or node._retains_grad:
                node._store_grad(g, create_graph)
            cots = node._vjp(g, create_graph)
            for p, c in zip(parents, cots):
                if c is None:
                    continue
                k = id(p)
                grads[k] = grads[k] + c if k in grads else c
    finally:
        _mode.enabled = prev_mode


def cotangents(root: Node, inputs: list | tuple, grad: Any = None, *,
               create_graph: bool = False) -> list:
    """The cotangents ``gᵀ ∂root/∂x`` for each node ``x`` in ``inputs``, writing no ``.grad``.

    The same driver as :func:`backward` (hooks run as usual), but pure: gradients are returned
    (``None`` for an input that ``root`` does not depend on) instead of accumulated on leaves.
    Used by the function transforms (``grad``, ``vjp``, ``jacobian``, ...).

    Example
    -------
    >>> (gx,) = cotangents((x * x).sum(), [x])      # 2x; x.grad is untouched
    """
    into: dict[int, Any] = dict.fromkeys(map(id, inputs))
    if root.requires_grad:
        backward(root, grad, create_graph=create_graph, _into=into)
    return [into[id(x)] for x in inputs]
