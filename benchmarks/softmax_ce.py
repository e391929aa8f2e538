"""Softmax cross-entropy, forward + backward, on (4096, 1000) float32 logits and integer targets.

Timed interleaved in one process (medians, ms per forward + backward):

* ``hand NumPy`` — the reference: stable softmax, the loss, ``(P − Y)/N``, written directly;
* ``fused`` — ``cross_entropy(z, y)``: one node, closed-form VJP;
* ``composed`` — ``cross_entropy(z, y, fused=False)``: ``log_softmax``, indexing, mean, each a node;
* ``PyTorch F.cross_entropy`` and ``PyTorch composed`` (the same steps as ours) when importable.

Peak memory (MiB, tracemalloc, measured apart from the timing) is reported for the NumPy-based
implementations; PyTorch's allocator is invisible to tracemalloc. The issue's targets: fused
≥ 3× faster than composed, ≤ ½ its peak memory, within 1.15× of hand NumPy.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import numpy as np

from .common import Row, have, interleaved, rows_with_ratios

SHAPE = (4096, 1000)
DTYPE = np.float32


def _hand_numpy(z: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    rows = np.arange(len(y))

    def step() -> tuple:
        shifted = z - z.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(s[:, 0]) - shifted[rows, y])
        grad = e / s              # P
        grad[rows, y] -= 1        # P − Y
        grad /= len(y)            # (P − Y)/N
        return loss, grad
    return step


def _ours(z: np.ndarray, y: np.ndarray, fused: bool) -> Callable[[], object]:
    import autograd_lite as al

    def step() -> tuple:
        t = al.Tensor(z, requires_grad=True)
        loss = al.cross_entropy(t, y, fused=fused)
        loss.backward()
        return loss.item(), t.grad.data
    return step


def _torch(z: np.ndarray, y: np.ndarray, composed: bool) -> Callable[[], object]:
    import torch

    tz = torch.from_numpy(z)
    ty = torch.from_numpy(y)

    def step() -> tuple:
        t = tz.detach().requires_grad_()
        if composed:
            logp = t - t.logsumexp(dim=1, keepdim=True)
            loss = -logp.gather(1, ty[:, None]).mean()
        else:
            loss = torch.nn.functional.cross_entropy(t, ty)
        loss.backward()
        return loss.item(), t.grad
    return step


def implementations(z: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], object]]:
    fns = {"hand NumPy": _hand_numpy(z, y), "fused": _ours(z, y, True),
           "composed": _ours(z, y, False)}
    if have("torch"):
        fns["PyTorch F.cross_entropy"] = _torch(z, y, False)
        fns["PyTorch composed"] = _torch(z, y, True)
    return fns


def peak_mib(fn: Callable[[], object]) -> float:
    """Peak traced memory of one call, in MiB (the inputs already exist, so are not counted)."""
    fn()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


def run(repeat: int | None = None) -> list[Row]:
    """Medians (ms per forward + backward) vs hand NumPy, then peak memory (MiB) vs composed."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal(SHAPE).astype(DTYPE)
    y = rng.integers(0, SHAPE[1], SHAPE[0])
    fns = implementations(z, y)
    medians = interleaved(fns, repeat or 30)
    speedup = medians["composed"] / medians["fused"]
    notes = {k: "fwd + bwd" for k in fns}
    notes["fused"] = f"fwd + bwd; composed/fused = {speedup:.2f}× (target ≥ 3×, ≤ 1.15× hand)"
    rows = rows_with_ratios("softmax_ce", medians, "hand NumPy", "ms", 1e3, notes)
    peaks = {k: peak_mib(fns[k]) for k in ("composed", "fused", "hand NumPy")}
    mem_notes = {"fused": "peak memory (target ≤ 0.5× composed)"}
    rows += rows_with_ratios("softmax_ce", peaks, "composed", "MiB", 1.0,
                             {k: mem_notes.get(k, "peak memory") for k in peaks})
    return rows
