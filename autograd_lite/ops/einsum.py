"""``einsum``: index notation as a primitive.

``einsum("ni,ij->nj", A, W)`` is ``out[n,j] = Σ_i A[n,i]·W[i,j]``. The subscripts are NumPy's
(``...`` broadcasting, repeated letters for diagonals and traces, an implicit output when ``->``
is missing); the front rewrites them explicitly (``...`` as letters) so every rule below reads
one letter as one axis.

The VJP for each operand is itself an einsum with the subscripts exchanged: the operand's
subscripts become the output and the upstream gradient ``g`` takes the output's place::

    out = einsum("ni,ij->nj", A, W)   ⇒   dA = einsum("nj,ij->ni", g, W)
                                          dW = einsum("ni,nj->ij", A, g)

Two cases need a constant operand: a letter repeated in the operand (a diagonal, ``"ii->i"``)
is written with a fresh letter and an identity matrix ties the two (``dA[i,k] = g[i]·δ[i,k]``);
a letter only that operand has (summed away, ``"ij->i"``) comes back through a vector of ones
(``dA[i,j] = g[i]·1[j]``). Since the VJP is an einsum op, it is recorded under
``create_graph=True``: einsum is differentiable to any order.
"""

from __future__ import annotations

import string
from collections import Counter
from typing import Any

import numpy as np

from .core import Op, data
from .shape import broadcast_to

Spec = tuple[tuple[str, ...], str]   # (subscripts of each operand, output subscripts)


def _parse(subscripts: Any, shapes: list[tuple], where: str = "einsum") -> Spec:
    """NumPy subscripts as an explicit spec, ``...`` replaced by letters (right-aligned)."""
    if not isinstance(subscripts, str):
        raise TypeError(f"{where}: subscripts must be a string such as 'ij,jk->ik', got "
                        f"{type(subscripts).__name__} (the interleaved operand/list form is not "
                        "supported)")
    text = subscripts.replace(" ", "")
    lhs, arrow, rhs = text.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"{where}: {subscripts!r} names {len(ins)} operand(s), got "
                         f"{len(shapes)}")
    bad = set(text.replace("...", "").replace(",", "").replace("->", "")) - set(
        string.ascii_letters)
    if bad or rhs.count("...") > 1 or any(s.count("...") > 1 for s in ins):
        raise ValueError(f"{where}: invalid subscripts {subscripts!r}: use letters, ',', at most "
                         "one '...' per term and one '->'")
    used = set(text)
    free = [c for c in string.ascii_letters if c not in used]
    ell_n = 0
    for s, shape in zip(ins, shapes):
        named = len(s.replace("...", ""))
        if ("..." not in s and named != len(shape)) or named > len(shape):
            raise ValueError(f"{where}: subscripts {s!r} do not fit an operand of shape "
                             f"{shape} ({len(shape)} axes)")
        if "..." in s:
            ell_n = max(ell_n, len(shape) - named)
    ell = "".join(free[:ell_n])
    out_ins = []
    for s, shape in zip(ins, shapes):
        if "..." in s:
            m = len(shape) - len(s.replace("...", ""))
            s = s.replace("...", ell[ell_n - m:] if m else "")
        out_ins.append(s)
    if arrow:
        if "..." not in rhs and ell_n and any("..." in s for s in ins):
            rhs = rhs   # explicit output without '...': the ellipsis axes are summed
        out = rhs.replace("...", ell)
        counts = Counter(out)
        missing = [c for c in out if c not in "".join(out_ins)]
        if missing or any(n > 1 for n in counts.values()):
            raise ValueError(f"{where}: output subscripts {rhs!r} must be distinct letters that "
                             f"appear in the operands")
    else:
        counts = Counter("".join(out_ins))
        out = ell + "".join(sorted((c for c, n in counts.items() if n == 1 and c not in ell),
                                   key=string.ascii_letters.index))
    sizes: dict[str, int] = {}
    for s, shape in zip(out_ins, shapes):
        for c, n in zip(s, shape):
            if sizes.get(c, 1) not in (1, n) and n != 1:
                raise ValueError(f"{where}: letter {c!r} stands for axes of sizes {sizes[c]} "
                                 f"and {n} in {subscripts!r} (shapes {shapes})")
            sizes[c] = max(sizes.get(c, 1), n)
    return tuple(out_ins), out


def _text(spec: Spec) -> str:
    return ",".join(spec[0]) + "->" + spec[1]


def _front(subscripts: str, *operands: Any, optimize: Any = "greedy") -> tuple:
    shapes = [tuple(np.shape(data(x))) for x in operands]
    if not operands:
        raise ValueError("einsum: need at least one operand")
    if optimize not in (False, True, "greedy", "optimal"):
        raise ValueError(f"einsum: optimize must be False, True, 'greedy' or 'optimal', got "
                         f"{optimize!r}")
    return operands, {"spec": _parse(subscripts, shapes), "optimize": optimize}


def _forward(*xs: np.ndarray, spec: Spec, optimize: Any) -> np.ndarray:
    ins, out = spec
    if len(xs) == 1:
        return np.einsum(_text(spec), xs[0])
    if len(xs) == 2 or not optimize:
        return _pair(xs[0], xs[1], spec, optimize) if len(xs) == 2 else np.einsum(
            _text(spec), *xs)
    path = np.einsum_path(_text(spec), *xs, optimize=optimize)[0][1:]
    arrays, subs = list(xs), list(ins)
    for pos in path:                      # NumPy's contraction order, each step a product
        picked = sorted(pos, reverse=True)
        ops_ = [arrays.pop(p) for p in picked]
        ss = [subs.pop(p) for p in picked]
        rest = "".join(subs) + out
        keep = "".join(dict.fromkeys(c for s in ss for c in s if c in rest))
        arrays.append(_pair(ops_[0], ops_[1], ((ss[0], ss[1]), keep), optimize)
                      if len(ops_) == 2 else np.einsum(",".join(ss) + "->" + keep, *ops_))
        subs.append(keep)
    return np.einsum(f"{subs[0]}->{out}", arrays[0])


def _pair(a: np.ndarray, b: np.ndarray, spec: Spec, optimize: Any) -> np.ndarray:
    """Two operands: a batched matrix product when the letters allow (BLAS), else np.einsum."""
    (sa, sb), out = spec
    if (len(set(sa)) != len(sa) or len(set(sb)) != len(sb) or len(set(out)) != len(out)
            or any(a.shape[sa.index(c)] != b.shape[sb.index(c)] for c in set(sa) & set(sb))):
        return np.einsum(_text(spec), a, b, optimize=optimize)
    batch = [c for c in sa if c in sb and c in out]
    contr = [c for c in sa if c in sb and c not in out]
    left = [c for c in sa if c not in sb]
    right = [c for c in sb if c not in sa]
    if any(c not in out for c in left):      # summed over in one operand only: sum it first
        keep = "".join(c for c in sa if c in sb or c in out)
        return _pair(np.einsum(f"{sa}->{keep}", a), b, ((keep, sb), out), optimize)
    if any(c not in out for c in right):
        keep = "".join(c for c in sb if c in sa or c in out)
        return _pair(a, np.einsum(f"{sb}->{keep}", b), ((sa, keep), out), optimize)
    size = {c: n for s, x in ((sa, a), (sb, b)) for c, n in zip(s, x.shape)}
    prod = lambda cs: int(np.prod([size[c] for c in cs], dtype=np.int64))
    am = a.transpose([sa.index(c) for c in batch + left + contr]).reshape(
        prod(batch), prod(left), prod(contr))
    bm = b.transpose([sb.index(c) for c in batch + contr + right]).reshape(
        prod(batch), prod(contr), prod(right))
    res = np.matmul(am, bm).reshape([size[c] for c in batch + left + right])
    order = batch + left + right
    return res.transpose([order.index(c) for c in out])


def _vjp(g: Any, out: Any, xs: Any, i: int, *, spec: Spec, optimize: Any,
         batched: bool = False) -> Any:
    ins, out_s = spec
    target = ins[i]
    used = set("".join(ins) + out_s)
    fresh = iter(c for c in string.ascii_letters if c not in used)
    shape = data(xs[i]).shape
    lead = next(fresh) if batched else ""   # a batch of cotangents: one more letter in front
    dtype = data(g).dtype
    unique, extra_subs, extra = "", [], []
    for c, n in zip(target, shape):
        if c in unique:                       # a diagonal: a fresh letter tied by δ
            f = next(fresh)
            unique += f
            extra_subs.append(c + f)
            extra.append(np.eye(n, dtype=dtype))
        else:
            unique += c
    others = [ins[j] for j in range(len(ins)) if j != i]
    present = set(out_s + "".join(others) + "".join(extra_subs))
    for c, n in zip(unique, shape):
        if c not in present:                  # summed in this operand only: back via ones
            extra_subs.append(c)
            extra.append(np.ones(n, dtype=dtype))
    subs = (lead + out_s, *others, *extra_subs)
    operands = [g, *(xs[j] for j in range(len(xs)) if j != i), *extra]
    res = einsum(*operands, spec=(subs, lead + unique), optimize=optimize)
    full = np.broadcast_shapes(res.shape, g.shape[:1] + shape if batched else shape)
    # a letter of size 1 elsewhere but n here: the operand's axis was not broadcast, the rest was
    return res if full == res.shape else broadcast_to(res, shape=full)


einsum = Op("einsum", _forward, (_vjp,),
            rules=("einsum(g, other operands → this operand's subscripts)",),
            summary="Einstein summation with NumPy's subscripts (``...``, repeated letters, "
            "implicit output); ``optimize`` chooses the contraction order (``'greedy'`` by "
            "default; two operands run as one batched matrix product when they can).",
            example=">>> al.einsum('ij,jk->ik', [[1.0, 2.0]], [[3.0], [4.0]])\n"
            "Tensor([[11.]], dtype=float64)",
            public="einsum", front=_front, variadic=True,
            batch=(lambda g, out, xs, i, **params: _vjp(g, out, xs, i, batched=True, **params),))


def subscripts(spec: Spec) -> str:
    """The explicit subscripts of a recorded einsum (``'ni,ij->nj'``), for ``explain``."""
    return _text(spec)
