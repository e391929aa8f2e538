"""Scalar graphs against micrograd: an MLP 2-16-16-1 on 100 points, and a 900-op chain.

``mlp``: forward over the whole batch of 100 two-dimensional points (ReLU hidden layers, a linear
output, summed squared error), zeroing the parameters' gradients and backward: ms per pass. Both
engines run the *same* Python code with the same weights (``forward`` below); only the number type
differs (``micrograd.engine.Value`` or ``autograd_lite.Scalar``), so they build the same graph
(about 64,600 nodes). A third row builds the same network through the NumPy bridge
(``X @ W + b`` on object arrays of Scalars).

``chain``: 900 ops (``* 0.9``, ``+ 0.1``, ``relu``) then backward, ms per chain; micrograd's
recursive topological sort fails not far above this depth.

Rows: ``autograd_lite Scalar`` (and, for the MLP, the NumPy-bridge variant), ``micrograd`` (the
reference, when importable) and ``floor: Python floats`` — the same forward and backward written
by hand on plain floats (no graph). With the garbage collector on (the runner's default)
micrograd pays for its graphs' reference cycles, which only the collector frees; Scalar graphs
are freed by reference counting. ``python -m benchmarks scalar_mlp --gc off`` shows the engines
alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .common import Case, have

SIZES = (2, 16, 16, 1)
N_POINTS = 100
CHAIN_OPS = 900


def problem(seed: int = 0, n_points: int = N_POINTS
            ) -> tuple[list[tuple[list[list[float]], list[float]]], list, list]:
    """Layers ``[(W rows per neuron, biases), ...]``, points and ±1 targets, as Python floats."""
    rng = random.Random(seed)
    layers = [([[rng.uniform(-1, 1) for _ in range(n_in)] for _ in range(n_out)], [0.0] * n_out)
              for n_in, n_out in zip(SIZES[:-1], SIZES[1:])]
    points = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(n_points)]
    targets = [rng.choice((-1.0, 1.0)) for _ in range(n_points)]
    return layers, points, targets


def forward(layers: list, points: list, targets: list) -> Any:
    """Summed squared error of the MLP (micrograd's ``Neuron``: ``sum(w·x, b)``, then ReLU)."""
    loss = 0.0
    for x, t in zip(points, targets):
        for i, (W, b) in enumerate(layers):
            x = [sum((wi * xi for wi, xi in zip(w, x)), bj) for w, bj in zip(W, b)]
            if i < len(layers) - 1:
                x = [v.relu() for v in x]
        d = x[0] - t
        loss = d * d + loss
    return loss


def _loop_step(make: Callable[[float], Any], n_points: int) -> Callable[[], object]:
    floats, points, targets = problem(n_points=n_points)
    layers = [([[make(v) for v in w] for w in W], [make(v) for v in b]) for W, b in floats]
    params = [p for W, b in layers for p in [*(v for w in W for v in w), *b]]
    zero = 0.0 if type(params[0]).__module__.startswith("micrograd") else None

    def step() -> object:
        loss = forward(layers, points, targets)
        for p in params:
            p.grad = zero
        loss.backward()
        return params[0].grad
    return step


def _bridge_step(n_points: int) -> Callable[[], object]:
    from autograd_lite.scalar import Scalar, scalars

    floats, points, targets = problem(n_points=n_points)
    Ws = [scalars(np.array(W).T) for W, _ in floats]   # (n_in, n_out), so that h @ W
    bs = [scalars(b) for _, b in floats]
    X = np.array(points)
    T = np.array(targets)
    relu = np.frompyfunc(Scalar.relu, 1, 1)
    params = [p for a in Ws + bs for p in a.flat]

    def step() -> object:
        h = X
        for i, (W, b) in enumerate(zip(Ws, bs)):
            h = h @ W + b
            if i < len(Ws) - 1:
                h = relu(h)
        d = h[:, 0] - T
        loss = (d * d).sum()
        for p in params:
            p.grad = None
        loss.backward()
        return params[0].grad
    return step


def _chain_step(make: Callable[[float], Any], n_ops: int) -> Callable[[], object]:
    def step() -> object:
        x0 = make(0.5)
        x = x0
        for i in range(n_ops):
            k = i % 3
            x = x * 0.9 if k == 0 else x + 0.1 if k == 1 else x.relu()
        x.backward()
        return x0.grad
    return step


def floor_mlp(layers: list, points: list, targets: list) -> tuple[float, list]:
    """The MLP's loss and gradients by hand in Python floats: forward, then backprop per point."""
    grads = [([[0.0] * len(w) for w in W], [0.0] * len(b)) for W, b in layers]
    loss = 0.0
    last = len(layers) - 1
    for x, t in zip(points, targets):
        acts = [x]
        for i, (W, b) in enumerate(layers):
            z = [sum((wi * xi for wi, xi in zip(w, x)), bj) for w, bj in zip(W, b)]
            x = z if i == last else [v if v > 0 else 0.0 for v in z]
            acts.append(x)
        d = x[0] - t
        loss += d * d
        dz = [2 * d]
        for i in range(last, -1, -1):
            W, _ = layers[i]
            gW, gb = grads[i]
            inp = acts[i]
            for j, dj in enumerate(dz):
                gb[j] += dj
                row = gW[j]
                for k, xk in enumerate(inp):
                    row[k] += dj * xk
            if i:
                dz = [sum(W[j][k] * dz[j] for j in range(len(dz))) if inp[k] > 0 else 0.0
                      for k in range(len(inp))]
    return loss, grads


def floor_chain(x0: float, n_ops: int = CHAIN_OPS) -> float:
    """d chain(x) / dx by hand: the forward keeps ReLU's masks, the backward multiplies."""
    x, masks = x0, []
    for i in range(n_ops):
        k = i % 3
        if k == 0:
            x = x * 0.9
        elif k == 1:
            x = x + 0.1
        else:
            masks.append(x > 0)
            x = x if x > 0 else 0.0
    g = 1.0
    for i in range(n_ops - 1, -1, -1):
        k = i % 3
        if k == 0:
            g *= 0.9
        elif k == 2 and not masks.pop():
            g = 0.0
    return g


def _implementations(kind: str, n: int) -> dict[str, Callable[[], object]]:
    """``kind`` "mlp" (``n`` points) or "chain" (``n`` ops): one step per implementation."""
    from autograd_lite import Scalar

    step = _loop_step if kind == "mlp" else _chain_step
    fns = {"autograd_lite Scalar": step(Scalar, n)}
    if kind == "mlp":
        fns["autograd_lite Scalar, X @ W + b"] = _bridge_step(n)
    if have("micrograd"):
        from micrograd.engine import Value
        fns["micrograd"] = step(Value, n)
    if kind == "mlp":
        args = problem(n_points=n)
        fns["floor: Python floats"] = lambda: floor_mlp(*args)[1][0][0][0][0]   # as the steps
    else:
        fns["floor: Python floats"] = lambda: floor_chain(0.5, n)
    return fns


def cases(quick: bool = False) -> Iterator[Case]:
    for kind, n in (("mlp", 3 if quick else N_POINTS), ("chain", 30 if quick else CHAIN_OPS)):
        fns = _implementations(kind, n)
        yield Case(f"scalar_{kind}", f"{n} points" if kind == "mlp" else f"{n} ops", fns,
                   "autograd_lite Scalar", unit="ms",
                   reference="micrograd" if "micrograd" in fns else None,
                   floor="floor: Python floats",
                   goals={"reference": 0.5 if kind == "mlp" else 1.0},
                   warmup=0 if kind == "mlp" else 1, max_rounds=5 if kind == "mlp" else None)
