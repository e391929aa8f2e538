"""Index notation for :func:`~autograd_lite.notation.explain`.

One letter is one axis throughout an explanation: axes that an op identifies (the aligned axes
of an elementwise op, the contracted and kept axes of ``matmul`` and ``einsum``, the batch and
channel axes of a convolution) share a class (union–find over ``(node, axis)``), and each class
gets a letter in the order the forward pass first meets it (``n`` for the first, usually the
batch). ``matmul``, ``einsum`` and ``conv2d`` nodes get index forms of their VJPs::

    dW[i,j] = Σ_n A[n,i]·dZ[n,j]
    dW[o,c,k,l] = Σ_{n,h,w} X[n,c,h·s+k·d−p, w·s+l·d−p]·dY[n,o,h,w]

and convolutions their matrix form (``Xcol = unfold(X)``, ``dWmat = Xcolᵀ @ dYmat``,
``dX = fold(dYmat @ Wmat)``) with the shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .engine import Node

__all__ = ["axis_letters", "index_rule", "conv_rows", "conv_matrix_rule", "einsum_matrix_rule"]

_LETTERS = "nijklmpqrstuvabcdefghxyzwo" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ELEMENTWISE = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "where", "neg", "exp",
               "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "clip", "astype"}


class _Classes:
    """Union–find over (node id, axis)."""

    def __init__(self) -> None:
        self.parent: dict[tuple, tuple] = {}

    def find(self, a: tuple) -> tuple:
        self.parent.setdefault(a, a)
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: tuple, b: tuple) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def _shape(n: Node) -> tuple:
    return tuple(getattr(n._data, "shape", ()))


def _link(node: Node, cls: _Classes) -> None:
    """Unite the axes the op at ``node`` identifies."""
    op, ps, out = node._op.name, node._parents, _shape(node)
    key = id(node)
    if op in ELEMENTWISE:
        for p in ps:
            s = _shape(p)
            for k in range(1, len(s) + 1):   # right-aligned, as broadcasting
                if s[-k] == out[-k]:
                    cls.union((key, len(out) - k), (id(p), len(s) - k))
    elif op == "matmul" and len(ps) == 2:
        a, b = _shape(ps[0]), _shape(ps[1])
        if len(a) >= 2 and len(b) >= 2:
            cls.union((id(ps[0]), len(a) - 1), (id(ps[1]), len(b) - 2))
            cls.union((key, len(out) - 2), (id(ps[0]), len(a) - 2))
            cls.union((key, len(out) - 1), (id(ps[1]), len(b) - 1))
            for k in range(3, len(out) + 1):
                for p, s in ((ps[0], a), (ps[1], b)):
                    if len(s) >= k and s[-k] == out[-k]:
                        cls.union((key, len(out) - k), (id(p), len(s) - k))
    elif op == "einsum":
        ins, o = node._params["spec"]
        first: dict[str, tuple] = {c: (key, i) for i, c in enumerate(o)}
        for p, s in zip(ps, ins):
            for i, c in enumerate(s):
                if c in first and _shape(p)[i] != 1:
                    cls.union(first[c], (id(p), i))
                elif c not in first:
                    first[c] = (id(p), i)
    elif op in ("conv2d", "conv1d"):
        x, w = ps
        cls.union((key, 0), (id(x), 0))
        cls.union((key, 1), (id(w), 0))
        if node._params["groups"] == 1:
            cls.union((id(x), 1), (id(w), 1))
    elif op in ("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "conv_transpose2d"):
        cls.union((key, 0), (id(ps[0]), 0))                    # the batch axis
        if op != "conv_transpose2d":
            cls.union((key, 1), (id(ps[0]), 1))                # the channels
    elif op == "reshape":
        s = _shape(ps[0])
        for i, (a, b) in enumerate(zip(s, out)):               # the unchanged leading axes
            if a != b:
                break
            cls.union((key, i), (id(ps[0]), i))
    elif op == "transpose":
        for i, a in enumerate(node._params["axes"]):
            cls.union((key, i), (id(ps[0]), a))


def axis_letters(order: list[Node]) -> Callable[[Node], list[str]]:
    """``letters(node)``: the letter of each axis of ``node`` (consistent across ``order``,
    the nodes in forward order)."""
    cls = _Classes()
    for n in order:
        if getattr(n, "_op", None) is not None:
            _link(n, cls)
    names: dict[tuple, str] = {}
    for n in order:
        for i in range(len(_shape(n))):
            root = cls.find((id(n), i))
            if root not in names:
                names[root] = _LETTERS[len(names) % len(_LETTERS)]
    return lambda n: [names[cls.find((id(n), i))] for i in range(len(_shape(n)))]


def _ref(name: str, letters: list[str]) -> str:
    return f"{name}[{','.join(letters)}]" if letters else name


def _sum(letters: list[str]) -> str:
    if not letters:
        return ""
    return f"Σ_{letters[0]} " if len(letters) == 1 else f"Σ_{{{','.join(letters)}}} "


def index_rule(node: Node, i: int, names: Callable[[Node], str],
               letters: Callable[[Node], list[str]]) -> tuple[str, str] | None:
    """The VJP of ``node`` for input ``i`` in index notation, ``(lhs, rhs)`` (``None``: no
    index form for this op)."""
    op = node._op.name
    g = "d" + names(node)
    if op == "matmul":
        x, y = node._parents
        if x._data.ndim < 2 or y._data.ndim < 2:
            return None
        lo, lx, ly = letters(node), letters(x), letters(y)
        if i == 0:
            return (f"d{_ref(names(x), lx)}",
                    f"{_sum([ly[-1]])}{_ref(g, lo)}·{_ref(names(y), ly)}")
        summed = [c for c in lo if c not in ly]
        return f"d{_ref(names(y), ly)}", f"{_sum(summed)}{_ref(names(x), lx)}·{_ref(g, lo)}"
    if op == "einsum":
        ps = node._parents
        ls = [letters(p) for p in ps]
        lo = letters(node)
        target = ls[i]
        factors = [_ref(g, lo)] + [_ref(names(p), lp) for j, (p, lp) in enumerate(zip(ps, ls))
                                   if j != i]
        have = set(lo).union(*(lp for j, lp in enumerate(ls) if j != i))
        summed = sorted(have - set(target), key=_LETTERS.index)
        note = "" if len(set(target)) == len(target) else "   (on the diagonal, 0 elsewhere)"
        return f"d{_ref(names(ps[i]), target)}", f"{_sum(summed)}{'·'.join(factors)}{note}"
    if op == "conv2d":
        x, w = node._parents
        n_, c, hx, wx = letters(x)
        o, cw, k, l_ = letters(w)
        _, _, h, wo = letters(node)
        p = node._params
        (sh, sw), (dh, dw), (pt, _, pl, _) = p["stride"], p["dilation"], p["pads"]
        row = _affine(h, sh, k, dh, pt)
        col = _affine(wo, sw, l_, dw, pl)
        if i == 1:
            return (f"d{_ref(names(w), [o, cw, k, l_])}", f"{_sum([n_, h, wo])}"
                    f"{names(x)}[{n_},{c},{row},{col}]·{_ref(g, [n_, o, h, wo])}")
        return (f"d{_ref(names(x), [n_, c, hx, wx])}", f"{_sum([o, k, l_])}"
                f"{_ref(g, [n_, o, h, wo])}·{names(w)}[{o},{cw},{k},{l_}]  where "
                f"{row} = {hx}, {col} = {wx}")
    return None


def einsum_matrix_rule(node: Node, i: int, names: Callable[[Node], str]) -> str:
    """An einsum's VJP as the einsum it runs: ``einsum('nj,ij->ni', dZ, W)``."""
    ins, out = node._params["spec"]
    others = [j for j in range(len(ins)) if j != i]
    subs = ",".join([out] + [ins[j] for j in others]) + "->" + ins[i]
    args = ", ".join(["d" + names(node)] + [names(node._parents[j]) for j in others])
    return f"einsum('{subs}', {args})"


def _affine(i: str, s: int, k: str, d: int, p: int) -> str:
    text = f"{i}·{s}" if s != 1 else i
    text += f"+{k}·{d}" if d != 1 else f"+{k}"
    return text + (f"−{p}" if p else "")


def _prod(dims: Any) -> str:
    return "·".join(str(d) for d in dims)


def conv_rows(node: Node, names: Callable[[Node], str]) -> list[str]:
    """The matrices a ``conv2d`` node really is (text rows for ``explain``)."""
    x, w = node._parents
    N, C, _, _ = x._data.shape
    Co, cg, kh, kw = w._data.shape
    _, _, Ho, Wo = node._data.shape
    m, k = (N, Ho, Wo), (cg, kh, kw)
    X, W, Y = names(x), names(w), names(node)
    rows = [f"    Xcol = unfold({X})  ({_prod(m)}, {_prod(k)}) = ({N * Ho * Wo}, {cg * kh * kw})"
            + (f" per group of {node._params['groups']}" if node._params["groups"] > 1 else ""),
            f"    Wmat = {W} reshaped  ({_prod(k)}, {Co}),   "
            f"{Y}mat = Xcol @ Wmat  ({N * Ho * Wo}, {Co})"]
    return rows


def conv_matrix_rule(node: Node, i: int, names: Callable[[Node], str]) -> tuple[str, str]:
    """``(rule, shapes)`` of a conv2d VJP in matrix form."""
    x, w = node._parents
    N, C, H, W_ = x._data.shape
    Co, cg, kh, kw = w._data.shape
    _, _, Ho, Wo = node._data.shape
    M, K = N * Ho * Wo, cg * kh * kw
    g = "d" + names(node)
    if i == 1:
        return (f"Xcolᵀ @ {g}mat  (reshaped to {tuple(w._data.shape)})",
                f"({K}, {Co}) = ({K}, {M}) @ ({M}, {Co})")
    return (f"fold({g}mat @ Wmatᵀ) = conv_transpose2d({g}, {names(w)})",
            f"{tuple(x._data.shape)} ⇐ ({M}, {K}) = ({M}, {Co}) @ ({Co}, {K})")
