"""Scalar graphs against micrograd: an MLP 2-16-16-1 on 100 points, and a 900-op chain.

``mlp``: forward over the whole batch of 100 two-dimensional points (ReLU hidden layers, a linear
output, summed squared error), zeroing the parameters' gradients and backward: ms per pass. Both
engines run the *same* Python code with the same weights (``forward`` below); only the number type
differs (``micrograd.engine.Value`` or ``autograd_lite.Scalar``), so they build the same graph
(about 64,600 nodes). A third row builds the same network through the NumPy bridge
(``X @ W + b`` on object arrays of Scalars).

``chain``: 900 ops (``* 0.9``, ``+ 0.1``, ``relu``) then backward, ms per chain; micrograd's
recursive topological sort fails not far above this depth.

Python's cyclic garbage collector is off in the ``gc off`` rows (as in every benchmark here) and
on in the ``gc on`` rows: micrograd's closures capture their own output, so its graphs are
reference cycles that only the collector frees, while Scalar graphs are freed by reference
counting. With the collector on, each implementation is timed in its own block so that it pays
for its own garbage. Ratios are against micrograd in the same run and gc setting; without
micrograd only autograd_lite rows are printed.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Callable
from typing import Any

import numpy as np

from .common import Row, have, interleaved, rows_with_ratios

SIZES = (2, 16, 16, 1)
N_POINTS = 100
CHAIN_OPS = 900


def problem(seed: int = 0) -> tuple[list[tuple[list[list[float]], list[float]]], list, list]:
    """Layers ``[(W rows per neuron, biases), ...]``, points and ±1 targets, as Python floats."""
    rng = random.Random(seed)
    layers = [([[rng.uniform(-1, 1) for _ in range(n_in)] for _ in range(n_out)], [0.0] * n_out)
              for n_in, n_out in zip(SIZES[:-1], SIZES[1:])]
    points = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(N_POINTS)]
    targets = [rng.choice((-1.0, 1.0)) for _ in range(N_POINTS)]
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


def _loop_step(make: Callable[[float], Any]) -> Callable[[], object]:
    floats, points, targets = problem()
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


def _bridge_step() -> Callable[[], object]:
    from autograd_lite.scalar import Scalar, scalars

    floats, points, targets = problem()
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


def _chain_step(make: Callable[[float], Any]) -> Callable[[], object]:
    def step() -> object:
        x0 = make(0.5)
        x = x0
        for i in range(CHAIN_OPS):
            k = i % 3
            x = x * 0.9 if k == 0 else x + 0.1 if k == 1 else x.relu()
        x.backward()
        return x0.grad
    return step


def _implementations(kind: str) -> dict[str, Callable[[], object]]:
    from autograd_lite import Scalar

    fns = {}
    if have("micrograd"):
        from micrograd.engine import Value
        fns["micrograd"] = _loop_step(Value) if kind == "mlp" else _chain_step(Value)
    fns["autograd_lite Scalar"] = _loop_step(Scalar) if kind == "mlp" else _chain_step(Scalar)
    if kind == "mlp":
        fns["autograd_lite Scalar, X @ W + b"] = _bridge_step()
    return fns


def _each_with_gc_on(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Medians with the collector on, each implementation in its own block, so that it pays for
    collecting its own garbage (micrograd's cyclic graphs) and never for another's."""
    medians = {}
    for name, fn in fns.items():
        gc.collect()
        medians.update(interleaved({name: fn}, repeat, warmup=1, gc_off=False))
    gc.collect()
    return medians


def run(repeat: int | None = None) -> list[Row]:
    """Medians in ms per pass (gc off, then gc on), with ratios to micrograd when installed."""
    rows = []
    for kind, n in (("mlp", repeat or 9), ("chain", repeat or 200)):
        fns = _implementations(kind)
        reference = "micrograd" if "micrograd" in fns else "autograd_lite Scalar"
        for gc_off in (True, False):
            medians = (interleaved(fns, n, warmup=1) if gc_off
                       else _each_with_gc_on(fns, max(3, n // 3)))
            note = "gc off" if gc_off else "gc on"
            rows += rows_with_ratios(f"scalar_{kind}", medians, reference, "ms", 1e3,
                                     dict.fromkeys(fns, note))
    return rows
