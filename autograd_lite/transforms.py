"""Function transforms: ``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ``jacobian``, ``hessian``,
``hvp``.

They are pure: each differentiated argument becomes a fresh node, the function is run once, and
:func:`engine.cotangents` (the same driver as ``.backward()``) returns the gradients instead of
writing ``.grad`` on anything. Arrays and Tensors go in; ndarrays come out. A differentiated
argument may also be a container — a dict, list or tuple of arrays, nested (a pytree, as in JAX
and HIPS autograd) — and its gradient comes back in the same structure:
``grad(loss)({"w": W, "b": b})`` is ``{"w": dW, "b": db}``.

Transforms compose (``grad(grad(f))``, ``hessian = jacobian(grad(f))``, mixed partials), to any
depth and with closures: a transform called *inside another transform* always records its
backward pass (``create_graph=True``) and returns Tensors, so every enclosing transform can
differentiate through it, whether its inputs reach the inner call as arguments or as variables
the inner function closes over (``grad(lambda x: x * grad(lambda y: x * y)(2.0))(1.0) == 2``).
Deciding from the arguments alone would miss the closed-over ones and silently treat them as
constants ("perturbation confusion").

Levels need no tags: every call makes fresh nodes for its own differentiated arguments (an
identity node when the argument is an enclosing transform's Tensor), and collects cotangents only
at those nodes, so an inner derivative never leaks into an outer one nor the reverse.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from . import ops
from .engine import cotangents, enable_grad
from .tensor import Tensor, as_tensor
from .vectorize import jacobian as _batched_jacobian

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp"]

Argnums = int | Sequence[int]


class _Depth(threading.local):
    value: int = 0


_depth = _Depth()


@contextmanager
def _inside() -> Iterator[None]:
    """Run the user's function one transform deeper, with recording on (even under no_grad)."""
    _depth.value += 1
    try:
        with enable_grad():
            yield
    finally:
        _depth.value -= 1


def _leaf(x: Any, where: str) -> Tensor:
    """A fresh node for a differentiated argument.

    Inside another transform a Tensor that requires grad gets an identity node (still connected
    to the outer graph, so the result can be differentiated again); anything else becomes a new
    leaf sharing the data (the caller's tensor is never touched).
    """
    if isinstance(x, Tensor) and x.requires_grad and _depth.value:
        return ops.reshape(x, shape=x.shape)
    try:
        t = Tensor(x._data if isinstance(x, Tensor) else x)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{where}: {str(e).removeprefix('Tensor: ')}") from None
    if t.dtype.kind != "f":
        raise TypeError(f"{where}: can only differentiate with respect to floating-point "
                        f"inputs, got dtype {t.dtype} (convert it, e.g. x.astype(np.float64))")
    t.requires_grad = True
    return t


def _traced() -> bool:
    """Whether the results must stay in the graph: an enclosing transform is active, and may
    differentiate them through the arguments *or* through anything ``f`` closes over."""
    return _depth.value > 0


def _result(c: Any, x: Tensor, traced: bool) -> Any:
    """A cotangent as the transform returns it: ndarray, or a Tensor when traced."""
    if c is None:
        c = np.zeros(x.shape, dtype=x.dtype)
        return Tensor(c) if traced else c
    if traced:
        return c if isinstance(c, Tensor) else Tensor(c)
    c = c._data if isinstance(c, Tensor) else c
    return c if type(c) is np.ndarray and c.flags.writeable else np.array(c)


def _output(y: Any, traced: bool) -> Any:
    return y if traced else np.array(y._data)


def _argnums(argnums: Argnums, n: int, where: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if isinstance(a, bool) or not isinstance(a, int):
            raise TypeError(f"{where}: argnums must be an int or a tuple of ints, got "
                            f"{argnums!r:.40}")
        if not -n <= a < n:
            raise ValueError(f"{where}: argnums {argnums!r} is out of range for f called with "
                             f"{n} positional argument(s)")
    nums = tuple(a % n for a in nums)
    if len(set(nums)) != len(nums):
        raise ValueError(f"{where}: repeated argument in argnums {argnums!r}")
    return nums


# ---------------------------------------------------------------------------------------------
# Containers (pytrees): a differentiated argument may be a dict, list or tuple of arrays (nested),
# as in JAX and HIPS autograd; its gradient has the same structure. A list or tuple of plain
# numbers (nested lists too) is array data, as NumPy reads it.


def _is_container(x: Any) -> bool:
    if isinstance(x, dict):
        return True
    if not isinstance(x, (list, tuple)):
        return False
    return not all(isinstance(e, (int, float, np.number)) or
                   (isinstance(e, list) and not _is_container(e)) for e in x)


def _flatten(tree: Any) -> tuple[list, Callable[[Sequence[Any]], Any]]:
    """The leaves of ``tree`` in order, and a function rebuilding its structure from new leaves.

    Example
    -------
    >>> leaves, rebuild = _flatten({"w": np.ones(2), "b": (np.zeros(1), np.zeros(3))})
    >>> len(leaves), rebuild([1, 2, 3])
    (3, {'w': 1, 'b': (2, 3)})
    """
    if not _is_container(tree):
        return [tree], lambda leaves: leaves[0]
    keys = list(tree) if isinstance(tree, dict) else range(len(tree))
    parts = [_flatten(tree[k]) for k in keys]
    sizes = [len(leaves) for leaves, _ in parts]

    def rebuild(leaves: Sequence[Any]) -> Any:
        items, i = [], 0
        for (_, sub), n in zip(parts, sizes):
            items.append(sub(leaves[i:i + n]))
            i += n
        if isinstance(tree, dict):
            return dict(zip(keys, items))
        if isinstance(tree, tuple) and hasattr(tree, "_fields"):   # a namedtuple
            return type(tree)(*items)
        return type(tree)(items)
    return [leaf for leaves, _ in parts for leaf in leaves], rebuild


def _call(f: Callable, args: tuple, kwargs: dict, argnums: Argnums, where: str,
          tree_out: bool = False) -> tuple[Any, list[Tensor], bool, list]:
    """Run ``f`` with the differentiated arguments replaced by fresh nodes.

    The other positional ndarrays become constant Tensors (so ``f`` sees Tensors throughout);
    anything else (Tensors, numbers, keyword arguments) is passed as given. A differentiated
    container gets a fresh node per leaf; the last result is one ``(count, rebuild)`` per
    differentiated argument, to give its gradient the argument's structure. With ``tree_out``
    ``f`` may return a container of Tensors (``vjp``, ``jvp``); the caller flattens it.
    """
    if not callable(f):
        raise TypeError(f"{where}: f must be callable, got {type(f).__name__}")
    nums = _argnums(argnums, len(args), where)
    args = [Tensor(a) if isinstance(a, np.ndarray) and i not in nums else a
            for i, a in enumerate(args)]
    xs: list[Tensor] = []
    trees = []
    for a in nums:
        leaves, rebuild = _flatten(args[a])
        nodes = [_leaf(leaf, where) for leaf in leaves]
        args[a] = rebuild(nodes)
        xs += nodes
        trees.append((len(nodes), rebuild))
    traced = _traced()       # decided before f runs (f itself runs one level deeper)
    with _inside():
        y = f(*args, **kwargs)
    outs = _flatten(y)[0] if tree_out else [y]
    for out in outs:
        if not isinstance(out, Tensor):
            what = " (or a container of Tensors)" if tree_out else ""
            raise TypeError(f"{where}: f must return a Tensor{what} computed from its Tensor "
                            f"arguments, got {type(out).__name__} (use autograd_lite operations, "
                            "not NumPy, inside f)")
    return y, xs, traced, trees


def _pack(results: list, argnums: Argnums, trees: list) -> Any:
    """Per-leaf results regrouped per argument (in its structure), one or a tuple of them."""
    out, i = [], 0
    for n, rebuild in trees:
        out.append(rebuild(results[i:i + n]))
        i += n
    return out[0] if isinstance(argnums, int) else tuple(out)


def value_and_grad(f: Callable[..., Tensor], argnums: Argnums = 0) -> Callable[..., tuple]:
    """``f`` and its gradient with respect to the arguments in ``argnums``, in one pass.

    ``f`` takes Tensors (arrays are wrapped) and returns a scalar Tensor. The gradient is an
    ndarray (a tuple of them when ``argnums`` is a tuple); no ``.grad`` is written anywhere.

    Example
    -------
    >>> value, g = value_and_grad(lambda x: (x * x).sum())(np.array([1.0, 2.0]))
    >>> value, g
    (array(5.), array([2., 4.]))
    """
    def wrapped(*args: Any, **kwargs: Any) -> tuple:
        y, xs, traced, trees = _call(f, args, kwargs, argnums, "grad")
        if y.size != 1:
            raise TypeError(f"grad: f must return a scalar (one element), got a Tensor of shape "
                            f"{y.shape}; use jacobian or vjp for non-scalar outputs")
        cots = cotangents(y, xs, create_graph=traced)
        return _output(y, traced), _pack([_result(c, x, traced) for c, x in zip(cots, xs)],
                                         argnums, trees)
    return wrapped


def grad(f: Callable[..., Tensor], argnums: Argnums = 0) -> Callable[..., Any]:
    """The gradient of scalar-valued ``f`` with respect to the arguments in ``argnums``.

    Example
    -------
    >>> grad(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))
    array([ 3., 12.])
    >>> grad(grad(lambda x: x ** 3))(np.array(2.0))          # second derivative: 6x
    array(12.)
    """
    vg = value_and_grad(f, argnums)
    return lambda *args, **kwargs: vg(*args, **kwargs)[1]


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], tuple]]:
    """``f(*primals)`` and a function mapping an upstream gradient ``u`` to ``uᵀ J``.

    ``vjp_fn(u)`` returns one cotangent per primal (a tuple); it can be called many times (the
    graph of ``f`` is kept by ``vjp_fn``). ``f`` may return a container of Tensors (a dict, list
    or tuple, nested, as JAX); ``u`` then has the same structure, or a ``ValueError`` names the
    place where it differs.

    Example
    -------
    >>> out, vjp_fn = vjp(lambda x: x * x, np.array([1.0, 2.0]))
    >>> vjp_fn(np.array([1.0, 10.0]))
    (array([ 2., 40.]),)
    >>> out, vjp_fn = vjp(lambda x: {"sq": x * x, "sum": x.sum()}, np.array([1.0, 2.0]))
    >>> vjp_fn({"sq": np.array([1.0, 0.0]), "sum": np.array(1.0)})
    (array([3., 1.]),)
    """
    nums = tuple(range(len(primals)))
    y, xs, traced, trees = _call(f, primals, {}, nums, "vjp", tree_out=True)
    ys, rebuild = _flatten(y)

    def vjp_fn(u: Any) -> tuple:
        paths = _tangent_leaves(y, u, "u", "vjp", "upstream gradient")
        us = [ui for _, ui in paths]
        for (path, ui), yi in zip(paths, ys):
            if np.shape(ui) != yi.shape:
                at = f" (at {path})" if len(ys) > 1 else ""
                raise ValueError(f"vjp: the upstream gradient has shape {np.shape(ui)}, but "
                                 f"f's output has shape {yi.shape}{at}")
        create = traced or any(isinstance(ui, Tensor) and ui.requires_grad for ui in us)
        if len(ys) == 1:
            cots = cotangents(ys[0], xs, us[0], create_graph=create)
        else:
            root = _inner(ys, us)
            cots = ([None] * len(xs) if root is None
                    else cotangents(root, xs, create_graph=create))
        return _pack([_result(c, x, create) for c, x in zip(cots, xs)], nums, trees)
    return rebuild([_output(yi, traced) for yi in ys]), vjp_fn


def _inner(ys: Sequence[Any], us: Sequence[Any]) -> Tensor | None:
    """``Σ ⟨y_i, u_i⟩`` as one scalar node, recorded (``None`` if no term has a graph)."""
    total = None
    with enable_grad():
        for y, u in zip(ys, us):
            if y is not None and y.requires_grad:
                u = u if isinstance(u, Tensor) else np.asarray(u, dtype=y.dtype)
                term = (y * u).sum()
                total = term if total is None else total + term
    return total


def _keys(d: dict) -> str:
    return ", ".join(sorted(map(repr, d))) or "(none)"


def _tangent_leaves(primal: Any, tangent: Any, path: str, where: str = "jvp",
                    what: str = "tangent") -> list[tuple[str, Any]]:
    """The leaves of ``tangent`` (with their paths) in the order of ``primal``'s leaves; the two
    must have the same structure: dicts with the same keys (in any order), lists or tuples of
    the same length, arrays where ``primal`` has arrays. (Also matches ``vjp``'s upstream
    gradient against ``f``'s output.)"""
    ref = "the primal" if what == "tangent" else "the output"
    if not _is_container(primal):
        if _is_container(tangent):
            raise ValueError(f"{where}: the {what} {path} is a {type(tangent).__name__} of "
                             f"several arrays, but {ref} there is one array")
        return [(path, tangent)]
    if isinstance(primal, dict):
        if not isinstance(tangent, dict) or set(tangent) != set(primal):
            got = (f"keys {_keys(tangent)}" if isinstance(tangent, dict)
                   else f"a {type(tangent).__name__}")
            raise ValueError(f"{where}: the {what} {path} must be a dict with {ref}'s keys "
                             f"{_keys(primal)}, got {got}")
        keys: Any = list(primal)
    else:
        if not isinstance(tangent, (list, tuple)) or len(tangent) != len(primal):
            got = (f"{len(tangent)}" if isinstance(tangent, (list, tuple))
                   else f"a {type(tangent).__name__}")
            raise ValueError(f"{where}: the {what} {path} must be a list or tuple of "
                             f"{len(primal)} items, as {ref}, got {got}")
        keys = range(len(primal))
    return [leaf for k in keys
            for leaf in _tangent_leaves(primal[k], tangent[k], f"{path}[{k!r}]", where, what)]


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
        ) -> tuple[Any, Any]:
    """``f(*primals)`` and the forward-mode derivative ``J v`` along ``tangents``.

    A primal may be a container (a dict, list or tuple of arrays, nested, as in :func:`grad`);
    its tangent then has the same structure (dicts with the same keys, sequences of the same
    length, an array of the primal's shape at every leaf). ``f`` returns a Tensor or a container
    of Tensors; the tangent output then has the same structure.

    Implemented with two reverse passes (the "double-VJP trick"): ``u ↦ uᵀ J`` is recorded for
    a dummy ``u``, and is linear in ``u``, so differentiating ``⟨uᵀ J, v⟩`` with respect to ``u``
    gives ``J v``. This costs about twice a VJP rather than a true forward-mode pass.

    Example
    -------
    >>> jvp(lambda x: x * x, (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
    (array([1., 4.]), array([2., 0.]))
    >>> jvp(lambda p: (p["w"] * p["b"]).sum(), ({"w": np.ones(2), "b": np.ones(2)},),
    ...     ({"w": np.array([1.0, 2.0]), "b": np.zeros(2)},))
    (array(2.), array(3.))
    >>> jvp(lambda x: (x * x, x.sum()), (np.array([1.0, 2.0]),), (np.ones(2),))
    ((array([1., 4.]), array(3.)), (array([2., 4.]), array(2.)))
    """
    for name, v in (("primals", primals), ("tangents", tangents)):
        if not isinstance(v, (list, tuple)):
            raise TypeError(f"jvp: {name} must be a tuple or list (one entry per argument of "
                            f"f), got {type(v).__name__}")
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: got {len(primals)} primal(s) but {len(tangents)} tangent(s)")
    vs = [leaf for i, (p, t) in enumerate(zip(primals, tangents))
          for leaf in _tangent_leaves(p, t, f"tangents[{i}]")]
    y, xs, traced, _ = _call(f, primals, {}, tuple(range(len(primals))), "jvp", tree_out=True)
    for x, (path, v) in zip(xs, vs):
        if np.shape(v) != x.shape:
            raise ValueError(f"jvp: tangent of shape {np.shape(v)} for a primal of shape "
                             f"{x.shape} (at {path})")
    ys, rebuild = _flatten(y)
    us = [Tensor(np.zeros(yi.shape, dtype=yi.dtype), requires_grad=True) for yi in ys]
    root = _inner(ys, us)
    with enable_grad():
        cots = [None] * len(xs) if root is None else cotangents(root, xs, create_graph=True)
        inner = _inner(cots, [v for _, v in vs])
    jvs = [None] * len(us) if inner is None else cotangents(inner, us, create_graph=traced)
    return (rebuild([_output(yi, traced) for yi in ys]),
            rebuild([_result(jv, u, traced) for jv, u in zip(jvs, us)]))


def jacobian(f: Callable[..., Tensor], argnums: Argnums = 0, *,
             vectorize: bool = True) -> Callable[..., Any]:
    """The Jacobian of ``f``: shape ``f(x).shape + x.shape`` (a tuple for a tuple ``argnums``).

    Reverse mode from a single forward pass: row ``k`` is the VJP of the ``k``-th basis vector.
    With ``vectorize=True`` (the default; PyTorch's ``vectorize=True``, JAX's ``jacrev``)
    all rows are backpropagated at once, as one batch of cotangents (see
    :mod:`autograd_lite.vectorize`; ops whose VJPs cannot take a batch run slice by slice, and a
    graph with hooks falls back to rows); ``vectorize=False`` runs one backward pass per row.

    Example
    -------
    >>> jacobian(lambda x: x * x)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    vectorize_ = bool(vectorize)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        y, xs, traced, trees = _call(f, args, kwargs, argnums, "jacobian")
        jacs = _batched_jacobian(y, xs, traced) if vectorize_ else None
        if jacs is not None:
            return _pack(jacs, argnums, trees)
        rows: list[list] = [[] for _ in xs]
        for k in range(y.size):
            e = np.zeros(y.size, dtype=y.dtype)
            e[k] = 1
            cots = cotangents(y, xs, e.reshape(y.shape), create_graph=traced)
            for row, c, x in zip(rows, cots, xs):
                row.append(_result(c, x, traced))
        jacs = [_stack(row, y.shape + x.shape, x, traced) for row, x in zip(rows, xs)]
        return _pack(jacs, argnums, trees)
    return wrapped


def _stack(rows: list, shape: tuple, x: Tensor, traced: bool) -> Any:
    if not rows:                                    # f returned an empty Tensor
        return np.zeros(shape, dtype=x.dtype)
    if traced:
        return ops.concatenate(*[r.reshape((1,) + x.shape) for r in rows], axis=0).reshape(shape)
    return np.stack(rows).reshape(shape)


def hessian(f: Callable[..., Tensor], argnums: Argnums = 0, *,
            vectorize: bool = True) -> Callable[..., Any]:
    """The Hessian of scalar-valued ``f``: shape ``x.shape + x.shape``.

    ``jacobian(grad(f))``: the gradient is computed with its backward pass recorded, then
    differentiated, all rows at once (``vectorize=True``, one batched backward pass through the
    gradient's graph) or row by row. For large inputs use :func:`hvp` instead. For a container
    argument the result is nested as in JAX: ``hessian(f)(d)[a][b]`` is the block
    ``∂²f / ∂d[a] ∂d[b]`` of shape ``d[a].shape + d[b].shape``; likewise for a tuple
    ``argnums``, ``hessian(f, (0, 1))(x, y)[i][j]`` is ``∂²f / ∂x_i ∂x_j``.

    Example
    -------
    >>> hessian(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    >>> hessian(lambda d: d["a"] ** 2 * d["b"])({"a": np.array(1.0), "b": np.array(3.0)})
    {'a': {'a': array(6.), 'b': array(2.)}, 'b': {'a': array(2.), 'b': array(0.)}}
    >>> hessian(lambda x, y: x ** 2 * y, argnums=(0, 1))(1.0, 3.0)
    ((array(6.), array(2.)), (array(2.), array(0.)))
    """
    dense = jacobian(grad(f, argnums), argnums, vectorize=vectorize)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "hessian")
        if not isinstance(argnums, int) or _is_container(args[nums[0]]):
            return _tree_hessian(f, nums, isinstance(argnums, int), args, kwargs, vectorize)
        return dense(*args, **kwargs)
    return wrapped


def _tree_hessian(f: Callable[..., Tensor], nums: tuple[int, ...], single: bool, args: tuple,
                  kwargs: dict, vectorize: bool) -> Any:
    """The Hessian in container arguments (or a tuple ``argnums``): that of ``f`` over all their
    leaves raveled into one vector, cut into one block per pair of leaves, nested in the
    arguments' structure (the tuple of them, unless ``single``)."""
    parts = [_flatten(args[a]) for a in nums]       # one by one: a tuple of plain numbers is
    leaves = [leaf for ls, _ in parts for leaf in ls]   # not one array here
    counts = np.cumsum([0] + [len(ls) for ls, _ in parts]).tolist()

    def rebuild(ls: Sequence[Any]) -> Any:
        trees = tuple(rb(ls[i:j]) for (_, rb), i, j in zip(parts, counts, counts[1:]))
        return trees[0] if single else trees
    flat = [as_tensor(leaf, "hessian", what="a leaf of the input") for leaf in leaves]
    shapes, sizes = [t.shape for t in flat], [t.size for t in flat]
    ends = np.cumsum(sizes).tolist()
    starts = [e - n for e, n in zip(ends, sizes)]
    vec = ops.concatenate(*[t.reshape(-1) for t in flat], axis=0)

    def f_flat(v: Tensor) -> Tensor:
        new = rebuild([v[s:e].reshape(shape) for s, e, shape in zip(starts, ends, shapes)])
        new_args = list(args)
        for a, arg in zip(nums, (new,) if single else new):
            new_args[a] = arg
        return f(*new_args, **kwargs)
    h = hessian(f_flat, vectorize=vectorize)(vec)
    blocks = [[h[s1:e1, s2:e2].reshape(a + b) for s2, e2, b in zip(starts, ends, shapes)]
              for s1, e1, a in zip(starts, ends, shapes)]
    return rebuild([rebuild(row) for row in blocks])


def hvp(f: Callable[..., Tensor], x: Any, v: Any) -> Any:
    """The Hessian-vector product ``H v`` of scalar-valued ``f`` at ``x``, without building H.

    One forward pass, one recorded backward pass (the gradient as a graph), and one backward pass
    through it with upstream gradient ``v`` (``H`` is symmetric, so ``vᵀ H = (H v)ᵀ``): a few
    times the cost of a gradient and O(size of x) memory, whatever the size of ``x``.

    Example
    -------
    >>> hvp(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([ 6., 12.])
    """
    _, grad_vjp = vjp(grad(f), x)
    return grad_vjp(v)[0]
