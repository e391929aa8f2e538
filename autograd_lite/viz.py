"""Seeing the graph: Graphviz drawings and graph statistics.

* :func:`draw_graph` returns a drawing (a ``graphviz.Digraph``) of a ``Tensor`` or ``Scalar`` graph
  (value nodes as records, op nodes as ellipses, the fused cross-entropy visibly distinct),
  laid out top-down or left-right from the graph's shape. Building it needs only the ``graphviz``
  Python package; rendering it (:func:`save_graph`, inline SVG in Jupyter) needs Graphviz's
  ``dot`` program. Without ``dot`` a drawing still displays — as its DOT source under one line
  saying how to install Graphviz — and never raises.
* :func:`graph_stats` counts nodes, edges, ops by kind and the bytes held by the graph's arrays.

(``explain``, the backward pass as equations, is in :mod:`autograd_lite.notation`.)

Nodes are read through a small duck-typed protocol shared by ``Tensor`` and ``Scalar``:
``_parents``, ``_op`` (with ``.name`` and ``.rules``), ``name``, ``requires_grad``, ``grad``, and
the value as ``.data`` (an ndarray) or ``.value`` (a float). Ids in the DOT source and generated
names (``t3``) come from a counter in traversal order, never from ``id()``, so the same graph
always gives the same source.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .checkpoint import atomic_write
from .engine import Node, toposort
from .preflight import OptionError
from .viz_labels import op_label

if TYPE_CHECKING:
    import graphviz

__all__ = ["GraphStats", "GraphvizNotFoundError", "draw_graph", "draw_side_by_side",
           "graph_format", "graph_stats", "save_graph"]

FUSED_OPS = frozenset({"cross_entropy"})
"""Op names drawn as fused kernels (one node standing for a whole composed subgraph)."""

INSTALL_HINT = ("Rendering needs Graphviz's `dot` program, which was not found on PATH. Install "
                "it with `sudo apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
                "(macOS) or `conda install -c conda-forge graphviz`; the DOT source is available "
                "without it as `graph.source` (or save with format='dot').")
NO_DOT_NOTE = ("// Graphviz's `dot` program is not installed, so here is the DOT source; to see "
               "the picture install it (apt-get install graphviz / brew install graphviz / conda "
               "install -c conda-forge graphviz)")

_STYLE = {
    "param": {"fillcolor": "#cfe2ff"},                                   # leaf requiring grad
    "const": {"fillcolor": "#f2f2f2", "style": "filled,dashed", "fontcolor": "#555555"},
    "value": {"fillcolor": "#ffffff"},                                   # intermediate result
    "root": {"fillcolor": "#d9f2d0", "penwidth": "2"},
    "op": {"shape": "ellipse", "fillcolor": "#fff2cc"},
    "fused": {"shape": "doubleoctagon", "fillcolor": "#ff9f43", "fontname": "Helvetica-Bold",
              "penwidth": "2"},
    "more": {"shape": "note", "fillcolor": "#eeeeee", "fontcolor": "#333333"},
    "highlight": {"color": "#d62728", "penwidth": "3"},
}


# ---------------------------------------------------------------------------------------------
# Reading nodes (Tensor or Scalar)


def _roots(root: Node | Sequence[Node]) -> list[Node]:
    iterable = isinstance(root, Iterable) and not isinstance(root, str)
    roots = [root] if isinstance(root, Node) else list(root) if iterable else []
    if not roots or not all(isinstance(r, Node) for r in roots):
        raise TypeError(f"expected a Tensor or Scalar (or a list of them), got {root!r:.80}")
    return roots


def _value(node: Node) -> np.ndarray:
    """The node's value as an array (``Tensor.data`` or ``Scalar.value``)."""
    data = getattr(node, "data", None)
    return np.asarray(node.value if data is None else data)


def _grad(node: Node) -> np.ndarray | None:
    g = node.grad
    if g is None:
        return None
    return np.asarray(g._data if isinstance(g, Node) else g)


def _is_scalar(node: Node) -> bool:
    return not hasattr(node, "data")


def _op(node: Node) -> Any:
    return getattr(node, "_op", None) if node._parents else None


def _shape(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _forward(roots: list[Node]) -> list[Node]:
    """Every node reachable from ``roots`` (constants too), inputs first."""
    order = toposort(roots, all_nodes=True)
    order.reverse()
    return order


def _names(order: list[Node]) -> dict[int, str]:
    """``name`` where set, else ``t<k>`` with k the node's position in forward order."""
    return {id(n): n.name or f"t{k}" for k, n in enumerate(order)}


# ---------------------------------------------------------------------------------------------
# graph_stats


@dataclass(frozen=True)
class GraphStats:
    """Size of a graph as :func:`draw_graph` draws it.

    ``nodes`` = value nodes + op nodes, ``edges`` = one per op input plus one per op output,
    ``ops`` counts op applications by primitive name, ``bytes`` the memory of the arrays the graph
    holds: node values, and arrays kept in op params (masks, a fused op's saved residuals), each
    underlying buffer counted once.
    """

    nodes: int
    edges: int
    values: int
    ops: Counter = field(default_factory=Counter)
    bytes: int = 0

    def __str__(self) -> str:
        kinds = ", ".join(f"{k}×{n}" for k, n in sorted(self.ops.items()))
        return (f"{self.nodes} nodes ({self.values} values, {sum(self.ops.values())} ops), "
                f"{self.edges} edges, {self.bytes:,} bytes; ops: {kinds or 'none'}")


def _owner(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def graph_stats(root: Node | Sequence[Node], *, exclude: Iterable[Any] = ()) -> GraphStats:
    """Count the nodes, edges, ops and array bytes of the graph behind ``root``.

    ``exclude``: arrays (or Tensors) whose buffers are not counted in ``bytes`` — e.g. the
    caller's own inputs, to see what a graph adds.

    Example
    -------
    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> print(graph_stats((x * x).sum()))
    5 nodes (3 values, 2 ops), 5 edges, 40 bytes; ops: mul×1, sum×1
    """
    order = _forward(_roots(root))
    skip = {id(_owner(getattr(a, "_data", a))) for a in exclude}
    ops: Counter = Counter()
    edges = 0
    buffers: dict[int, int] = {}
    for n in order:
        op = _op(n)
        if op is not None:
            ops[op.name] += 1
            edges += len(n._parents) + 1
        if _is_scalar(n):
            buffers[id(n)] = 8
            continue
        for a in (n._data, *_arrays(getattr(n, "_params", None))):
            base = _owner(a)
            if id(base) not in skip:
                buffers[id(base)] = base.nbytes
    n_ops = sum(ops.values())
    return GraphStats(nodes=len(order) + n_ops, edges=edges, values=len(order), ops=ops,
                      bytes=sum(buffers.values()))


def _arrays(obj: Any) -> Iterator[np.ndarray]:
    """Arrays inside a node's params (constants such as masks, and saved residuals)."""
    if isinstance(obj, np.ndarray):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for x in obj:
            yield from _arrays(x)
    elif isinstance(obj, dict):
        for x in obj.values():
            yield from _arrays(x)


# ---------------------------------------------------------------------------------------------
# draw_graph


def _esc(s: str) -> str:
    """Escape a record-label field."""
    return re.sub(r'([{}|<>"\\])', r"\\\1", s)


def _numbers(a: np.ndarray, max_items: int) -> str:
    if a.size <= max_items:
        if a.ndim == 0:
            return f"{a.item():.4g}"
        return np.array2string(a, precision=4, separator=", ", max_line_width=10**6,
                               floatmode="maxprec").replace("\n", "")
    a = a.astype(np.float64, copy=False)
    return f"mean {a.mean():.4g}  std {a.std():.4g}  [{a.min():.4g}, {a.max():.4g}]"


def _value_label(node: Node, name: str, *, values: bool, grads: bool, shapes: bool,
                 brace: bool) -> str:
    fields = [name]
    if shapes and not _is_scalar(node):
        fields.append(f"{_shape(node._data.shape)} {node._data.dtype}")
    if values:
        fields.append(("data " if _is_scalar(node) else "") + _numbers(_value(node), 6))
    g = _grad(node) if grads else None
    if g is not None:
        fields.append("grad " + _numbers(g, 6))
    body = "|".join(_esc(f) for f in fields)
    return "{" + body + "}" if brace else body


_DRAWING: type | None = None


def _drawing(**kwargs: Any) -> graphviz.Digraph:
    """A new, empty :class:`Drawing` (the class is made on first use: importing graphviz is
    deferred so that ``import autograd_lite`` stays fast)."""
    global _DRAWING
    if _DRAWING is None:
        import graphviz

        class Drawing(graphviz.Digraph):
            """A ``graphviz.Digraph`` that displays everywhere: as SVG in Jupyter when Graphviz's
            ``dot`` is installed; otherwise (or if ``dot`` fails) as text, the DOT source under
            one line on installing Graphviz. Displaying never raises."""

            def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                                  **kwargs: Any) -> dict[str, Any]:
                try:
                    return super()._repr_mimebundle_(include, exclude, **kwargs)
                except (graphviz.ExecutableNotFound, graphviz.CalledProcessError, OSError):
                    return {"text/plain": self.as_text()}

            def as_text(self) -> str:
                """The DOT source, under one comment line saying how to see the picture."""
                return f"{NO_DOT_NOTE}\n{self.source}"

        _DRAWING = Drawing
    return _DRAWING(**kwargs)


def _choose_rankdir(order: list[Node]) -> str:
    """``"TB"`` or ``"LR"``: whichever gives a picture closest to a 3:2 landscape.

    A graph is ``ranks`` deep (values and ops alternate along its longest path) and ``width``
    nodes wide at its widest level. Laid out left to right a node is about 2.2 × 0.35 inches (its
    record fields side by side), top to bottom about 1.3 × 0.6 (fields stacked).
    """
    level: dict[int, int] = {}
    for n in order:
        level[id(n)] = 1 + max((level.get(id(p), -1) for p in n._parents), default=-1)
    counts = Counter(level.values())
    ranks = 2 * max(counts) + 1
    width = max(counts.values())
    lr = (ranks * 2.2) / (width * 0.35)
    tb = (width * 1.3) / (ranks * 0.6)
    return "LR" if abs(math.log(lr / 1.5)) <= abs(math.log(tb / 1.5)) else "TB"


def draw_graph(root: Node | Sequence[Node], *, show_values: bool = False,
               show_grads: bool = False, show_shapes: bool = True, rankdir: str = "auto",
               max_nodes: int | None = 100, highlight: Iterable[Any] = (),
               edge_labels: bool = False, title: str | None = None,
               id_prefix: str = "") -> graphviz.Digraph:
    """Draw the graph behind ``root`` (a Tensor or Scalar, or a list of them).

    Value nodes are records: the name (``name=`` or a generated ``t<k>``), shape and dtype,
    the values (or mean/std/min/max for more than 6 elements) with ``show_values``, and the
    gradient with ``show_grads`` when one is stored (leaves after ``backward``; every node after
    ``backward(retain_grads=True)``). Parameters (leaves requiring grad) are blue, constants grey
    and dashed, roots green; op nodes are yellow ellipses named after the primitive, the fused
    cross-entropy an orange double octagon.

    Parameters
    ----------
    rankdir : Graphviz direction, ``"LR"`` (inputs left) or ``"TB"`` (inputs on top); ``"auto"``
        (the default) picks the one that gives the least elongated picture: ``TB`` for long
        chains, ``LR`` for shallow, wide graphs.
    max_nodes : above this many drawn nodes (values + ops; 100 by default) only the
        ``max_nodes`` nodes nearest the roots are drawn, with one placeholder node naming how
        many nodes and which ops it stands for; ``None`` draws everything.
    highlight : nodes, value names or op names to outline in red.
    edge_labels : label each input edge with its shape (and ``x``/``y``… for multi-input ops).
    title : a caption above the drawing.
    id_prefix : prefix for the DOT node ids (to combine drawings, see :func:`draw_side_by_side`).

    The returned drawing (a ``graphviz.Digraph``) shows inline in Jupyter — as SVG, or without
    Graphviz's ``dot`` as its DOT source and a line on installing Graphviz; ``.source`` is the DOT
    text; :func:`save_graph` writes SVG/PNG/PDF/DOT.

    Example
    -------
    >>> W = Tensor(np.ones((3, 2)), requires_grad=True, name="W")
    >>> dot = draw_graph((Tensor(np.ones((4, 3))) @ W).relu().sum())
    >>> dot.graph_attr["rankdir"]                     # a chain: top to bottom
    'TB'
    >>> save_graph(dot, "graph.svg")                  # doctest: +SKIP
    'graph.svg'
    """
    if rankdir not in ("auto", "LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be auto, LR, RL, TB or BT, got {rankdir!r}")
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be positive or None, got {max_nodes}")
    roots = _roots(root)
    order = _forward(roots)
    names = _names(order)
    index = {id(n): k for k, n in enumerate(order)}
    root_ids = {id(r) for r in roots}
    marked = {id(h) for h in highlight if isinstance(h, Node)}
    marked_names = {h for h in highlight if isinstance(h, str)}

    # Keep the nodes nearest the roots: toposort puts every consumer before its inputs, so any
    # prefix of the reversed forward order is closed under "consumer of" (no dangling outputs).
    kept = order
    if max_nodes is not None:
        budget, cut = max_nodes, len(order)
        for i in range(len(order) - 1, -1, -1):
            budget -= 1 + (_op(order[i]) is not None)
            if budget < 0:
                cut = i + 1
                break
        else:
            cut = 0
        kept = order[cut:] if cut else order
    kept_ids = {id(n) for n in kept}
    dropped = len(order) - len(kept)
    if rankdir == "auto":
        rankdir = _choose_rankdir(kept)

    graph_attr = {"rankdir": rankdir, "fontname": "Helvetica"}
    if title:
        graph_attr.update(label=title, labelloc="t", fontsize="14")
    dot = _drawing(graph_attr=graph_attr,
                           node_attr={"shape": "record", "style": "filled", "fontsize": "10",
                                      "fontname": "Helvetica", "height": "0.3"},
                           edge_attr={"fontsize": "9", "fontname": "Helvetica",
                                      "arrowsize": "0.7"})
    brace = rankdir in ("TB", "BT")
    vid = {id(n): f"{id_prefix}v{k}" for k, n in enumerate(order)}
    more = f"{id_prefix}more"
    if dropped:
        rest = Counter(_op(n).name for n in order[:dropped] if _op(n) is not None)
        top = ", ".join(f"{k}×{v}" for k, v in rest.most_common(4))
        dot.node(more, f"… {dropped + sum(rest.values()):,} more nodes not drawn\n"
                       f"(max_nodes={max_nodes}; {top})", **_STYLE["more"])
    for n in kept:
        op = _op(n)
        if id(n) in root_ids:
            kind = "root"
        elif op is not None:
            kind = "value"
        else:
            kind = "param" if n.requires_grad else "const"
        attrs = dict(_STYLE[kind])
        if id(n) in marked or n.name in marked_names:
            attrs.update(_STYLE["highlight"])
        literal = kind == "const" and _value(n).size == 1   # e.g. the 1/N of a mean
        label = _value_label(n, names[id(n)], values=show_values or literal, grads=show_grads,
                             shapes=show_shapes, brace=brace)
        dot.node(vid[id(n)], label, **attrs)
        if op is None:
            continue
        opid = f"{id_prefix}op{index[id(n)]}"
        attrs = dict(_STYLE["fused" if op.name in FUSED_OPS else "op"])
        if op.name in marked_names:
            attrs.update(_STYLE["highlight"])
        dot.node(opid, op_label(n), **attrs)
        dot.edge(opid, vid[id(n)])
        many = len(n._parents) > 1
        linked_more = False
        for i, p in enumerate(n._parents):
            if id(p) not in kept_ids:
                if not linked_more:
                    dot.edge(more, opid, style="dashed")
                    linked_more = True
                continue
            label = None
            if edge_labels:
                arg = ("xyzw"[i] if i < 4 else f"x{i}") + " " if many else ""
                label = arg + ("" if _is_scalar(p) else _shape(p._data.shape))
            dot.edge(vid[id(p)], opid, label=label)
    return dot


def draw_side_by_side(drawings: dict[str, Node | Sequence[Node]], **kwargs: Any
                      ) -> graphviz.Digraph:
    """Several graphs in one picture, each in a captioned box (keyword arguments as
    :func:`draw_graph`; it displays as :func:`draw_graph`'s drawings do).

    Example
    -------
    >>> z, y = Tensor(np.zeros((4, 3)), requires_grad=True), np.array([0, 1, 2, 0])
    >>> both = draw_side_by_side({"composed": al.cross_entropy(z, y, fused=False),
    ...                           "fused": al.cross_entropy(z, y)}, rankdir="TB")
    >>> both.source.count("subgraph cluster")
    2
    """
    if not isinstance(drawings, Mapping):
        raise TypeError(f"draw_side_by_side: expected a dict of caption → graph root, got "
                        f"{type(drawings).__name__}")
    outer = None
    for i, (caption, root) in enumerate(drawings.items()):
        d = draw_graph(root, id_prefix=f"g{i}_", **kwargs)
        if outer is None:
            outer = _drawing(graph_attr=dict(d.graph_attr), node_attr=d.node_attr,
                             edge_attr=d.edge_attr)
        d.name = f"cluster_{i}"
        d.graph_attr.update(label=caption, labelloc="t", fontsize="14", style="rounded",
                            color="#999999")
        outer.subgraph(d)
    if outer is None:
        raise ValueError("draw_side_by_side: nothing to draw")
    return outer


# ---------------------------------------------------------------------------------------------
# Saving


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is needed to render a drawing and is not installed."""


_FORMATS = ("svg", "png", "pdf", "dot", "gv")
_SOURCE = ("dot", "gv")


def graph_format(path: str | os.PathLike | None, format: str | None = None) -> str:  # noqa: A002
    """The format a drawing saved to ``path`` is written in: ``format`` if given, else the file's
    suffix, else ``"svg"``; a suffix that is not a drawing format, or one that contradicts
    ``format`` (PNG bytes in ``out.svg``), raises
    :class:`~autograd_lite.preflight.OptionError` (a ``ValueError``) naming ``path`` or
    ``format``.

    Example
    -------
    >>> graph_format("graph.PNG"), graph_format("graph", "pdf"), graph_format(None)
    ('png', 'pdf', 'svg')
    """
    choices = ", ".join(_FORMATS)
    if format is not None and (not isinstance(format, str) or format.lower() not in _FORMATS):
        raise OptionError("format", f"unknown format {format!r}; choose from {choices}")
    fmt = format.lower() if format else None
    suffix = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() if path else ""
    if suffix and suffix not in _FORMATS:
        if fmt is None:
            raise OptionError("path", f"unknown format {suffix!r} (from the suffix of "
                                      f"{os.fspath(path)!r}); use a .svg, .png, .pdf, .dot or "
                                      f".gv file name")
        raise OptionError("path", f"the suffix .{suffix} of {os.fspath(path)!r} is not a "
                                  f"{fmt} file name; use .{fmt}")
    if fmt and suffix and fmt != suffix and not {fmt, suffix} <= set(_SOURCE):
        raise OptionError("format", f"format {fmt!r} contradicts the suffix of "
                                    f"{os.fspath(path)!r}; use a .{fmt} file name or format "
                                    f"{suffix!r}")
    return fmt or suffix or "svg"


def save_graph(dot: graphviz.Digraph, path: str | os.PathLike,
               format: str | None = None, *,  # noqa: A002 - mirrors graphviz's name
               source_without_dot: bool = False) -> str:
    """Write a drawing to ``path`` as SVG, PNG, PDF or DOT source; return the path written.

    The format comes from :func:`graph_format` (``format``, else the suffix). DOT source needs
    nothing else; the other formats run Graphviz's ``dot`` and, when it is missing, raise
    :class:`GraphvizNotFoundError` (with install instructions) — or, with
    ``source_without_dot=True``, write the DOT source next to it instead (``path`` with the
    suffix ``.dot``) and return that path. The file is written atomically.

    Example
    -------
    >>> save_graph(draw_graph(loss), "loss.svg")      # doctest: +SKIP
    'loss.svg'
    """
    import graphviz

    if not isinstance(dot, graphviz.Digraph):
        raise TypeError(f"save_graph: expected a drawing (graphviz.Digraph, from draw_graph), got "
                        f"{type(dot).__name__}")
    path = os.fspath(path)
    try:
        fmt = graph_format(path, format)
    except OptionError as e:
        raise ValueError(f"save_graph: {e.message}") from None
    if fmt in _SOURCE:
        data = dot.source.encode()
    else:
        try:
            data = dot.pipe(format=fmt)
        except graphviz.ExecutableNotFound:
            if not source_without_dot:
                raise GraphvizNotFoundError(INSTALL_HINT) from None
            path = os.path.splitext(path)[0] + ".dot"
            data = dot.source.encode()
    atomic_write(path, lambda f: f.write(data), what="save_graph")
    return path
