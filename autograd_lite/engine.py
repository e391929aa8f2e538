"""The graph and the backward pass, independent of NumPy.

This module owns grad mode (``no_grad``, ``enable_grad``, ``is_grad_enabled``), what a graph node
is, the iterative topological sort and the single backward driver. ``Tensor`` and ``Scalar`` are
both ``Node`` subclasses; they supply how to seed, run a node's VJP and store a gradient.

What a node must provide is :class:`NodeProtocol`; :class:`Node` gives every attribute a
class-level default, so a leaf sets only what it needs.
"""

from __future__ import annotations

import itertools
import operator
import os
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

__all__ = [
    "AnomalyError",
    "Node",
    "NodeProtocol",
    "backward",
    "cotangents",
    "detect_anomaly",
    "enable_grad",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "toposort",
]


# ---------------------------------------------------------------------------------------------
# Grad mode: one flag per thread, changed only through the context managers below.


class _GradMode(threading.local):
    enabled: bool = True
    anomaly: bool = False


_mode = _GradMode()
# One token per mode change in progress in any thread (no_grad, enable_grad, detect_anomaly, a
# backward pass): appended on entry, popped on exit (each atomic). While it is empty, every
# thread runs with the defaults, and recording (once per op) skips reading its thread's flags:
# a thread-local read costs about as much as ten bytecodes.
_CHANGED: list = []


def is_grad_enabled() -> bool:
    """Whether new operations are recorded in the graph (in the current thread).

    Example
    -------
    >>> with al.no_grad():
    ...     al.is_grad_enabled()
    False
    """
    return _mode.enabled


@contextmanager
def _set_mode(attr: str, flag: bool) -> Iterator[None]:
    """Set one of this thread's mode flags (``enabled``, ``anomaly``) for a ``with`` block."""
    prev = getattr(_mode, attr)
    _CHANGED.append(None)
    setattr(_mode, attr, flag)
    try:
        yield
    finally:
        setattr(_mode, attr, prev)
        _CHANGED.pop()


def no_grad() -> Any:
    """Context manager (and decorator) under which no operation is recorded.

    Example
    -------
    >>> x = al.Tensor([1.0], requires_grad=True)
    >>> with no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """
    return _set_mode("enabled", False)


def enable_grad() -> Any:
    """Context manager (and decorator) that re-enables recording inside ``no_grad``.

    Example
    -------
    >>> x = al.Tensor([1.0], requires_grad=True)
    >>> with al.no_grad(), enable_grad():
    ...     (x * 2).requires_grad
    True
    """
    return _set_mode("enabled", True)


# ---------------------------------------------------------------------------------------------
# Anomaly mode: also one flag per thread. Off, it costs one flag test per recorded op and per
# backward; on, every op checks its output and records where the user created its node.


class AnomalyError(FloatingPointError):
    """Raised in anomaly mode by the first op whose output or gradient is not finite."""


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on (in the current thread); see :func:`detect_anomaly`.

    Example
    -------
    >>> with detect_anomaly():
    ...     is_anomaly_enabled()
    True
    """
    return _mode.anomaly


def detect_anomaly(enabled: bool = True) -> Any:
    """Context manager (and decorator) that finds where a NaN or infinity first appears.

    While on (in the current thread), every operation on Tensors checks its result: the first op
    whose output is not finite although its inputs were, or whose VJP sends a non-finite gradient
    to an input, raises :class:`AnomalyError` (a ``FloatingPointError``) naming the op, its
    inputs' shapes and dtypes and the line of your code that created the node. Slow (each node
    records a short traceback); off by default, and free when off. Scalar graphs get the
    backward check (op and inputs, no creation line).

    Example
    -------
    >>> x = al.Tensor([0.0, 1.0], requires_grad=True)
    >>> with detect_anomaly():
    ...     y = (x.sqrt() * 2).sum()   # sqrt'(0) is infinite
    ...     y.backward()               # doctest: +ELLIPSIS
    Traceback (most recent call last):
    autograd_lite.engine.AnomalyError: detect_anomaly: the gradient that sqrt's VJP sends ...
    """
    return _set_mode("anomaly", bool(enabled))


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_CONTEXTLIB = os.path.dirname(contextmanager.__code__.co_filename) + os.sep + "contextlib.py"


def creation_site(limit: int = 3) -> traceback.StackSummary:
    """The innermost ``limit`` frames of the current stack outside autograd_lite (and
    contextlib): where user code is calling in from."""
    frames = [f for f in traceback.extract_stack()
              if not f.filename.startswith(_PACKAGE) and f.filename != _CONTEXTLIB]
    return traceback.StackSummary.from_list(frames[-limit:])


def format_site(site: traceback.StackSummary | None) -> str:
    """``file:line (function): source`` of the innermost frame of a creation site."""
    if not site:
        return ("an unknown line (the node was created outside detect_anomaly(); build the "
                "graph inside it to record where)")
    f = site[-1]
    return f"{f.filename}:{f.lineno} (in {f.name}){': ' + f.line if f.line else ''}"


def _check_cotangents(node: Node, cots: Any) -> None:
    """Anomaly mode, backward: the first non-finite cotangent a node's VJP produced."""
    for i, c in enumerate(cots):
        if c is not None and not node._is_finite(c):
            op = getattr(node._op, "name", "?")
            raise AnomalyError(
                f"detect_anomaly: the gradient that {op}'s VJP sends to its input {i} is not "
                f"finite (inputs: {node._describe_inputs()}); the {op} node was created at "
                f"{format_site(getattr(node, '_trace', None))}")


# ---------------------------------------------------------------------------------------------
# Nodes


class NodeProtocol(Protocol):
    """What the topological sort and the backward driver need from a graph node."""

    _parents: tuple            # input nodes, in argument order (empty for a leaf)
    requires_grad: bool        # whether gradients flow to / through this node
    _hooks: list | None        # hooks (or retain_grad()); None when there are none
    _retains_grad: bool        # keep .grad on this intermediate node

    def _vjp(self, g: Any, create_graph: bool) -> Any:
        """The cotangent of each parent (``None`` where one needs none), shaped like it; the
        sequence may stop early (the parents past its end get none)."""

    def _store_grad(self, g: Any, create_graph: bool) -> None:
        """Accumulate ``g`` into ``.grad``."""

    def _seed(self, grad: Any, create_graph: bool) -> Any:
        """The initial cotangent of a root (``grad`` given by the user, or ``None``)."""

    def _wrap_grad(self, g: Any) -> Any:
        """The cotangent as a hook sees it."""

    def _unwrap_grad(self, g: Any, create_graph: bool, hook: Any = None) -> Any:
        """A hook's result as a cotangent (checked: shape and dtype)."""

    def _is_finite(self, g: Any) -> bool:
        """Anomaly mode: whether a cotangent is all finite."""

    def _describe_inputs(self) -> str:
        """Anomaly mode: the inputs' shapes and dtypes as text."""


_ids = itertools.count()
# The clock: every recorded node and every tracked in-place write takes the next tick, so a
# node's parents have smaller ticks than it (reverse tick order is a topological order) and a
# write is "after" a node exactly when its tick is larger.
_TICK = itertools.count(1)


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
    _hooks: list | None = None    # set (possibly empty) once hooks or retain_grad() are used
    _seq: int = 0                 # the clock's tick when an op recorded this node (leaves: 0)

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
        if self._hooks is None:   # backward takes its rare path only where _hooks is set
            self._hooks = []

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

    def _unwrap_grad(self, g: Any, create_graph: bool, hook: Any = None) -> Any:
        return g

    def _is_finite(self, g: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def _describe_inputs(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


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
    emit = order.append
    # Nodes are keys themselves: their hash is object identity (Tensor's ``==`` is elementwise,
    # but a set compares identity first, and distinct live objects never share a hash).
    visited: set = set()
    seen = visited.add
    stack: list = list(reversed(roots))
    # Written for speed (it runs over every node of every backward): a node is pushed again
    # under the post marker, below its parents, and is emitted when the marker pops.
    push, pop = stack.append, stack.pop
    post = _POST
    while stack:
        node = pop()
        if node is post:
            emit(pop())
            continue
        if node in visited:
            continue
        seen(node)
        push(node)
        push(post)
        parents = node._parents
        if parents:
            for p in reversed(parents):
                if (all_nodes or p.requires_grad) and p not in visited:
                    push(p)
    order.reverse()
    return order


_POST = object()   # toposort's marker: "the node below me has all its parents emitted"
_BY_TICK = operator.attrgetter("_seq")


def backward_order(root: Node) -> list:
    """The nodes that require grad and reach ``root``, latest recorded first: the order the
    backward pass visits them (each after every node that consumes it, since a node is
    recorded after its inputs). Cheaper than :func:`toposort`: no post-order bookkeeping,
    one sort by the clock.
    """
    seen = {root}
    order = [root]
    add, emit = seen.add, order.append
    for node in order:   # (the list grows as it is read: a breadth-first walk, no stack)
        for p in node._parents:
            if p.requires_grad and p not in seen:
                add(p)
                emit(p)
    order.sort(key=_BY_TICK, reverse=True)
    return order


def backward(root: NodeProtocol, grad: Any = None, *, create_graph: bool = False,
             retain_grads: bool = False, _into: dict | None = None,
             _vjp: Callable | None = None) -> None:
    """Accumulate d(root)/d(leaf) into ``.grad`` of every leaf that requires grad.

    Parameters
    ----------
    root : the output node. A non-scalar root needs ``grad`` (its shape).
    grad : the upstream gradient (cotangent) of ``root``; ones for a scalar root by default.
    create_graph : record the backward pass itself, so gradients can be differentiated again.
    retain_grads : also keep ``.grad`` on every intermediate node (for drawing and teaching).

    Leaf gradients accumulate across calls; intermediate nodes keep none unless asked (via
    ``retain_grads`` or ``node.retain_grad()``). The graph is left intact.

    ``_into`` (used by :func:`cotangents`): a dict ``{node: None}`` filled with those nodes'
    cotangents instead of writing ``.grad`` anywhere. ``_vjp`` (used by the vectorised
    Jacobian): ``_vjp(node, g, create_graph)`` replaces ``node._vjp``, and ``grad`` is the
    root's cotangent as given (a batch of them), not seeded.

    Example
    -------
    >>> x = al.Tensor([1.0, 2.0], requires_grad=True)
    >>> backward((x * x).sum())
    >>> x.grad
    Tensor([2., 4.], dtype=float64)
    """
    if not isinstance(root, Node):
        raise TypeError(f"backward: expected a Tensor or Scalar to backpropagate from, got "
                        f"{type(root).__name__}")
    if not root.requires_grad:
        raise RuntimeError("backward: the root does not require grad (no input that requires "
                           "grad reaches it, or it was computed under no_grad)")
    order = backward_order(root)
    # Cotangents, keyed by node (see toposort), each popped when its node is reached.
    grads: dict = {root: root._seed(grad, create_graph) if _vjp is None else grad}
    pop, get = grads.pop, grads.get   # hot loop (once per node): local bound methods
    every = retain_grads or _into is not None   # visit every node (store or collect)
    anomaly = _mode.anomaly
    prev_mode = _mode.enabled   # as _set_mode, without a generator's cost per call
    _CHANGED.append(None)
    _mode.enabled = create_graph
    try:
        for node in order:
            g = pop(node, None)
            if g is None:
                continue
            parents = node._parents
            # The rare cases (a leaf, hooks or retain_grad(), retain_grads=, cotangents()) in
            # one test: _hooks is None unless the node has hooks or retains its gradient.
            if every or not parents or node._hooks is not None:
                g = _visit(node, g, create_graph, retain_grads, _into)
                if not parents:
                    continue
            cots = node._vjp(g, create_graph) if _vjp is None else _vjp(node, g, create_graph)
            if anomaly:
                _check_cotangents(node, cots)
            i = 0
            for c in cots:   # (a counter costs less than zip(parents, cots) here)
                if c is not None:
                    p = parents[i]
                    prev = get(p)
                    grads[p] = c if prev is None else prev + c
                i += 1
    finally:
        _mode.enabled = prev_mode
        _CHANGED.pop()


def _visit(node: Node, g: Any, create_graph: bool, retain_grads: bool,
           into: dict | None) -> Any:
    """Run ``node``'s hooks on its complete cotangent ``g``, then store it (a leaf, a retained
    intermediate) or collect it (``cotangents``); the cotangent after the hooks."""
    if node._hooks:
        for fn in list(node._hooks):
            new = fn(node._wrap_grad(g))
            if new is not None:
                g = node._unwrap_grad(new, create_graph, fn)
    if into is not None:          # cotangents(): collect, leave every .grad alone
        if node in into:
            into[node] = g
    elif not node._parents or retain_grads or node._retains_grad:
        node._store_grad(g, create_graph)
    return g


def cotangents(root: Node, inputs: list | tuple, grad: Any = None, *,
               create_graph: bool = False, _vjp: Callable | None = None) -> list:
    """The cotangents ``gᵀ ∂root/∂x`` for each node ``x`` in ``inputs``, writing no ``.grad``.

    The same driver as :func:`backward` (hooks run as usual), but pure: gradients are returned
    (``None`` for an input that ``root`` does not depend on) instead of accumulated on leaves.
    Used by the function transforms (``grad``, ``vjp``, ``jacobian``, ...).

    Example
    -------
    >>> x = al.Tensor([1.0, 2.0], requires_grad=True)
    >>> cotangents((x * x).sum(), [x])      # 2x; x.grad is untouched
    [array([2., 4.])]
    >>> print(x.grad)
    None
    """
    into: dict = dict.fromkeys(inputs)   # keyed by node (identity), as in backward
    if root.requires_grad:
        backward(root, grad, create_graph=create_graph, _into=into, _vjp=_vjp)
    return [into[x] for x in inputs]
