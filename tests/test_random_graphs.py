"""Differential tests on random expression graphs (hypothesis).

A graph is a *recipe*: a few float64 input shapes, a seed for their values and the constants,
and a list of instructions ``(op, argument indices, params)``. Value ``k`` of the recipe is input
``k`` for ``k < n_inputs``, else the result of instruction ``k − n_inputs``; an instruction may
use any earlier value, so recipes have fan-out, a node used twice by one op (``x * x``),
broadcasting between shapes such as ``(2, 1)`` and ``(3,)``, reductions (sum/mean/max, any
axis, keepdims), basic and integer-array indexing (repeated indices), matmul, transposes, safe
elementwise functions (``log(x*x + 1)``, ``exp(tanh x)``, ...), softmax/log_softmax/logsumexp
and cross-entropy (fused and composed; class-index, constant-probability and differentiable
probability targets, with weights, smoothing and every reduction). The output is a weighted
sum of every value no instruction consumes, with random weights, so the upstream gradient of
each sink is non-uniform.

The same recipe is interpreted twice — once with autograd_lite, once with PyTorch — and every
input's gradient is checked against central finite differences (``gradcheck``) and, when torch
is importable, against torch's. Graphs whose values sit within 1e-4 of a kink (relu, abs, a
near-tie in max/maximum) or grow beyond 1e4 are rejected (finite differences are meaningless
there); exact ties follow PyTorch's even split and are kept.

Examples per test: 40 in CI (the ``ci`` hypothesis profile in ``conftest.py``); set
``AUTOGRAD_LITE_THOROUGH=1`` for the ``thorough`` profile (500 per test, random seeds)::

    AUTOGRAD_LITE_THOROUGH=1 python -m pytest -q tests/test_random_graphs.py
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd_lite as al

KINK = 1e-4      # reject graphs with a value this close to a kink (relu, abs, max ties)
BIG = 1e4        # reject graphs whose values grow beyond this (finite differences lose digits)

Instr = tuple[str, tuple[int, ...], dict]


@dataclass
class Recipe:
    shapes: list[tuple[int, ...]]
    seed: int
    steps: list[Instr]

    def inputs(self) -> list[np.ndarray]:
        rng = np.random.default_rng(self.seed)
        return [rng.uniform(-1.5, 1.5, size=s) for s in self.shapes]

    def __repr__(self) -> str:   # what hypothesis prints for a failing example
        lines = [f"inputs {self.shapes} (seed {self.seed})"]
        n = len(self.shapes)
        for k, (op, args, params) in enumerate(self.steps):
            shown = {p: v for p, v in params.items() if p not in ("target", "weight", "w")}
            lines.append(f"  v{n + k} = {op}({', '.join(f'v{a}' for a in args)}) {shown}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The two interpreters. An instruction's meaning is written once, against a small "library"
# adapter (autograd_lite or torch) for the calls whose spelling differs.


class AL:
    """autograd_lite, through its public functions, methods and operators."""

    name = "autograd_lite"

    def __init__(self) -> None:
        self.exp, self.log, self.sqrt, self.tanh = al.exp, al.log, al.sqrt, al.tanh
        self.sigmoid, self.relu, self.maximum = al.sigmoid, al.relu, al.maximum
        self.kinks: list[str] = []   # reasons a graph is too close to a non-differentiable point

    def const(self, a: np.ndarray) -> Any:
        return al.Tensor(a)

    def reduce(self, fn: str, x: Any, axis: int | None, keepdims: bool) -> Any:
        if fn == "max":
            self._near_tie(x.data, axis)
        return getattr(x, fn)(axis=axis, keepdims=keepdims)

    def index(self, x: Any, index: tuple) -> Any:
        return x[index]

    def transpose(self, x: Any) -> Any:
        return x.transpose()

    def softmax(self, fn: str, x: Any, axis: int) -> Any:
        if fn == "logsumexp":
            return al.logsumexp(x, axis=axis, keepdims=True)
        return getattr(al, fn)(x, axis=axis)

    def cross_entropy(self, z: Any, target: Any, *, fused: bool, **kw: Any) -> Any:
        return al.cross_entropy(z, target, fused=fused, **kw)

    def prob_target(self, y: Any) -> Any:
        return al.softmax(y, axis=-1)

    def index_target(self, t: np.ndarray) -> Any:
        return t

    # -- guards ----------------------------------------------------------------------------
    def watch_kink(self, x: Any, what: str) -> None:
        v = np.abs(x.data)
        if np.any((v > 0) & (v < KINK)):
            self.kinks.append(what)

    def watch_tie(self, a: Any, b: Any) -> None:
        d = np.abs(a.data - b.data)
        if np.any((d > 0) & (d < KINK)):
            self.kinks.append("maximum near a tie")

    def _near_tie(self, x: np.ndarray, axis: int | None) -> None:
        flat = np.moveaxis(x, axis, -1) if axis is not None else x.reshape(-1)
        top = np.max(flat, axis=-1, keepdims=True)
        gap = top - flat
        if np.any((gap > 0) & (gap < KINK)):
            self.kinks.append("max near a tie")


class Torch:
    """The same calls in PyTorch (imported only when available)."""

    name = "torch"

    def __init__(self) -> None:
        import torch
        import torch.nn.functional as F
        self.torch, self.F = torch, F
        self.exp, self.log, self.sqrt, self.tanh = torch.exp, torch.log, torch.sqrt, torch.tanh
        self.sigmoid, self.relu, self.maximum = torch.sigmoid, torch.relu, torch.maximum

    def const(self, a: np.ndarray) -> Any:
        return self.torch.from_numpy(np.array(a))

    def reduce(self, fn: str, x: Any, axis: int | None, keepdims: bool) -> Any:
        fn = "amax" if fn == "max" else fn    # amax splits ties evenly, like autograd_lite
        if axis is None:
            r = getattr(x, fn)()
            return r.reshape([1] * x.ndim) if keepdims else r
        return getattr(x, fn)(dim=axis, keepdim=keepdims)

    def index(self, x: Any, index: tuple) -> Any:
        return x[tuple(self.torch.from_numpy(i) if isinstance(i, np.ndarray) else i
                       for i in index)]

    def transpose(self, x: Any) -> Any:
        return x.permute(tuple(reversed(range(x.ndim))))

    def softmax(self, fn: str, x: Any, axis: int) -> Any:
        if fn == "logsumexp":
            return self.torch.logsumexp(x, dim=axis, keepdim=True)
        return getattr(self.torch, fn)(x, dim=axis)

    def cross_entropy(self, z: Any, target: Any, *, fused: bool, weight: Any = None,
                      **kw: Any) -> Any:
        w = None if weight is None else self.const(weight)
        return self.F.cross_entropy(z, target, weight=w, **kw)

    def prob_target(self, y: Any) -> Any:
        return self.torch.softmax(y, dim=-1)

    def index_target(self, t: np.ndarray) -> Any:
        return self.torch.from_numpy(t.astype(np.int64))

    def watch_kink(self, x: Any, what: str) -> None:
        pass

    def watch_tie(self, a: Any, b: Any) -> None:
        pass


UNARY: dict[str, Callable] = {
    "neg": lambda L, x: -x,
    "tanh": lambda L, x: L.tanh(x),
    "sigmoid": lambda L, x: L.sigmoid(x),
    "exp_tanh": lambda L, x: L.exp(L.tanh(x)),
    "log_sq1": lambda L, x: L.log(x * x + 1),
    "sqrt_sq1": lambda L, x: L.sqrt(x * x + 1.0),
    "square": lambda L, x: x ** 2,
    "relu": lambda L, x: (L.watch_kink(x, "relu"), L.relu(x))[1],
    "abs": lambda L, x: (L.watch_kink(x, "abs"), abs(x))[1],
}

BINARY: dict[str, Callable] = {
    "add": lambda L, x, y: x + y,
    "sub": lambda L, x, y: x - y,
    "mul": lambda L, x, y: x * y,
    "div_safe": lambda L, x, y: x / (y * y + 1),
    "pow_pos": lambda L, x, y: (x * x + 1) ** L.tanh(y),
    "maximum": lambda L, x, y: (L.watch_tie(x, y), L.maximum(x, y))[1],
}


def run(recipe: Recipe, xs: list, L: Any) -> Any:
    """Interpret ``recipe`` on the inputs ``xs`` with library ``L``; return the scalar output."""
    vals = list(xs)
    used: set[int] = set()
    for op, args, p in recipe.steps:
        a = [vals[i] for i in args]
        used.update(args)
        if op in UNARY:
            v = UNARY[op](L, *a)
        elif op in BINARY:
            v = BINARY[op](L, *a)
        elif op in ("sum", "mean", "max"):
            v = L.reduce(op, a[0], p["axis"], p["keepdims"])
        elif op == "index":
            v = L.index(a[0], p["index"])
        elif op == "matmul":
            v = a[0] @ a[1]
        elif op == "transpose":
            v = L.transpose(a[0])
        elif op in ("softmax", "log_softmax", "logsumexp"):
            v = L.softmax(op, a[0], p["axis"])
        elif op == "cross_entropy":
            kind = p["kind"]
            target = (L.index_target(p["target"]) if kind == "index" else
                      L.const(p["target"]) if kind == "prob" else L.prob_target(a[1]))
            v = L.cross_entropy(a[0], target, fused=p["fused"], weight=p["weight"],
                                reduction=p["reduction"], label_smoothing=p["smoothing"])
        else:  # pragma: no cover - a recipe bug
            raise AssertionError(op)
        vals.append(v)
    sinks = [k for k in range(len(vals)) if k not in used]
    total = None
    for k, w in zip(sinks, recipe_weights(recipe, vals, sinks)):
        term = (vals[k] * L.const(w)).sum()
        total = term if total is None else total + term
    return total


def recipe_weights(recipe: Recipe, vals: list, sinks: list[int]) -> list[np.ndarray]:
    rng = np.random.default_rng(recipe.seed + 1)
    return [rng.uniform(0.5, 1.5, size=tuple(vals[k].shape)) for k in sinks]


# ---------------------------------------------------------------------------------------------
# The strategy: instructions are drawn one by one, each valid for the shapes built so far.

DIMS = st.integers(1, 3)
SHAPES = st.lists(DIMS, min_size=0, max_size=3).map(tuple)


def _shape_after(op: str, shapes: list, args: tuple, p: dict) -> tuple:
    """The shape an instruction produces (NumPy computes it on empty arrays)."""
    a = [np.zeros(shapes[i]) for i in args]
    if op in UNARY or op in ("softmax", "log_softmax", "transpose"):
        return a[0].T.shape if op == "transpose" else a[0].shape
    if op in BINARY:
        return np.broadcast_shapes(a[0].shape, a[1].shape)
    if op in ("sum", "mean", "max"):
        return np.sum(a[0], axis=p["axis"], keepdims=p["keepdims"]).shape
    if op == "logsumexp":
        return np.sum(a[0], axis=p["axis"], keepdims=True).shape
    if op == "index":
        return a[0][p["index"]].shape
    if op == "matmul":
        return np.matmul(a[0], a[1]).shape
    if op == "cross_entropy":
        return a[0].shape[:1] if p["reduction"] == "none" else ()
    raise AssertionError(op)  # pragma: no cover


GROUPS = {
    "cross_entropy": ["cross_entropy"], "matmul": ["matmul", "transpose"], "index": ["index"],
    "reduce": ["sum", "mean", "max"], "softmax": ["softmax", "log_softmax", "logsumexp"],
    "binary": list(BINARY), "unary": list(UNARY),
}


def _fits(op: str, shapes: list, i: int, j: int) -> bool:
    try:
        _shape_after(op, shapes, (i, j), {})
    except ValueError:
        return False
    return True


def _index(draw: Any, shape: tuple) -> tuple:
    n = shape[0]
    kind = draw(st.sampled_from(["int", "slice", "last", "newaxis", "array", "array_last"]))
    if kind == "int":
        return (draw(st.integers(-n, n - 1)),)
    if kind == "slice":
        start = draw(st.integers(0, n - 1))
        return (slice(start, draw(st.integers(start + 1, n))),)
    if kind == "last":
        return (Ellipsis, draw(st.integers(0, shape[-1] - 1)))
    if kind == "newaxis":
        return (slice(None), None) if draw(st.booleans()) else (None,)
    m = n if kind == "array" else shape[-1]
    idx = np.array(draw(st.lists(st.integers(0, m - 1), min_size=1, max_size=4)))
    return (idx,) if kind == "array" else (Ellipsis, idx)


def _step(draw: Any, shapes: list, rng: np.random.Generator) -> Instr | None:
    """One instruction valid for the values so far, or None when the drawn op does not fit."""
    k = len(shapes)
    pick = st.integers(0, k - 1).map(lambda i: k - 1 - i)   # shrinks towards recent values
    group = draw(st.sampled_from(list(GROUPS)))    # a group first, so rare ops are not rare
    op = draw(st.sampled_from(GROUPS[group]))
    i = draw(pick)
    s = shapes[i]
    if op in UNARY or op == "transpose":
        return op, (i,), {}
    if op in BINARY or op == "matmul":
        fits = [j for j in range(k) if _fits(op, shapes, i, j)]   # often i itself: x ⊙ x
        if not fits:
            return None
        return op, (i, draw(st.sampled_from(fits))), {}
    if op in ("sum", "mean", "max"):
        axis = draw(st.none() | st.integers(-len(s), len(s) - 1)) if s else None
        return op, (i,), {"axis": axis, "keepdims": draw(st.booleans())}
    if not s:
        return None
    if op == "index":
        return op, (i,), {"index": _index(draw, s)}
    if op in ("softmax", "log_softmax", "logsumexp"):
        return op, (i,), {"axis": draw(st.integers(-len(s), len(s) - 1))}
    matrices = [j for j in range(k) if len(shapes[j]) == 2]   # cross-entropy: (N, C) logits
    if not matrices:
        return None
    i = draw(st.sampled_from(matrices))
    n, c = s = shapes[i]
    kind = draw(st.sampled_from(["index", "prob", "node"]))
    p = {"fused": draw(st.booleans()), "kind": kind,
         "reduction": draw(st.sampled_from(["mean", "sum", "none"])),
         "smoothing": draw(st.sampled_from([0.0, 0.1])),
         "weight": rng.uniform(0.5, 2.0, size=c) if draw(st.booleans()) else None}
    args: tuple[int, ...] = (i,)
    if kind == "index":
        p["target"] = rng.integers(0, c, size=n)
    elif kind == "prob":
        p["target"] = rng.dirichlet(np.ones(c), size=n)
    else:
        same = [j for j in range(k) if shapes[j] == s]
        args = (i, draw(st.sampled_from(same)))
    return "cross_entropy", args, p


@st.composite
def recipes(draw: Any, max_steps: int = 12) -> Recipe:
    shapes = [draw(st.tuples(DIMS, DIMS)), *draw(st.lists(SHAPES, max_size=2))]  # one matrix
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed + 2)
    all_shapes = list(shapes)
    steps: list[Instr] = []
    for _ in range(draw(st.integers(4, max_steps))):
        instr = _step(draw, all_shapes, rng)
        if instr is not None:
            steps.append(instr)
            all_shapes.append(_shape_after(instr[0], all_shapes, instr[1], instr[2]))
    return Recipe(shapes, seed, steps)


def _al_forward(recipe: Recipe) -> Callable:
    def f(*xs: Any) -> Any:
        return run(recipe, xs, AL())
    return f


def _well_conditioned(recipe: Recipe) -> None:
    """Reject graphs near a kink, or with huge or non-finite values (see the docstring)."""
    L = AL()
    out = run(recipe, [al.Tensor(x) for x in recipe.inputs()], L)
    assume(not L.kinks)
    assume(np.isfinite(out.data) and abs(out.data) < BIG)


# ---------------------------------------------------------------------------------------------
# Tests

@given(recipe=recipes())
def test_random_graph_gradients_match_finite_differences(recipe):
    _well_conditioned(recipe)
    assert al.gradcheck(_al_forward(recipe), recipe.inputs(), seed=recipe.seed)


HAVE_TORCH = importlib.util.find_spec("torch") is not None


@pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is an optional oracle")
@given(recipe=recipes())
def test_random_graph_gradients_match_torch(recipe):
    import torch
    _well_conditioned(recipe)
    xs = [al.Tensor(x, requires_grad=True) for x in recipe.inputs()]
    out = run(recipe, xs, AL())
    out.backward()
    ts = [torch.tensor(x, requires_grad=True) for x in recipe.inputs()]
    t_out = run(recipe, ts, Torch())
    t_out.backward()
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for k, (x, t) in enumerate(zip(xs, ts)):
        a = np.zeros(x.shape) if x.grad is None else x.grad.data
        b = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"input {k}")


def test_recipes_cover_every_instruction():
    """The strategy reaches every op (a guard against a generator that silently stops)."""
    from hypothesis import HealthCheck, settings

    seen: set[str] = set()

    @settings(max_examples=400, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(recipe=recipes())
    def collect(recipe):
        seen.update(op for op, _, _ in recipe.steps)
        seen.update(f"ce:{p['kind']}:{p['fused']}" for op, _, p in recipe.steps
                    if op == "cross_entropy")

    collect()
    expected = {*UNARY, *BINARY, "sum", "mean", "max", "index", "matmul", "transpose",
                "softmax", "log_softmax", "logsumexp", "cross_entropy",
                *(f"ce:{k}:{f}" for k in ("index", "prob", "node") for f in (True, False))}
    assert expected <= seen, sorted(expected - seen)
