"""The fusion lab's pairs, fused vs composed, forward + backward, at realistic sizes, and the same
op in PyTorch on CPU:

* ``log_softmax`` of (4096, 1000) float32 logits (``F.log_softmax``);
* ``bce_with_logits`` of (4096, 1000) float32 logits and 0/1 targets, ``pos_weight`` per class
  (``F.binary_cross_entropy_with_logits``);
* ``layer_norm`` of (4096, 1024) float32 with weight and bias (``F.layer_norm``);
* ``attention`` with q, k, v of (N, 64) float32, N from 16 to 2048
  (``F.scaled_dot_product_attention``): the crossover row is the smallest N from which on the
  blocked fused form beats the composed one in time (on one BLAS thread it did at every N measured:
  below one block it is a single node doing the same products; above, it skips the N×N
  elementwise passes of the composed softmax); in memory it wins at every N.

Timed interleaved in one process (medians, ms per forward + backward; ratios against the composed
form); peak memory (MiB, tracemalloc, measured apart from the timing) for our two forms —
PyTorch's allocator is invisible to tracemalloc. Targets (issue 18): fused beats composed on peak
memory in every pair, and on time in every pair but attention at small N.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .common import Row, have, interleaved, rows_with_ratios
from .softmax_ce import peak_mib

ROWS, COLS = 4096, 1000
LN_SHAPE = (4096, 1024)
ATTENTION_N = (16, 64, 256, 1024, 2048)
HEAD_DIM = 64
DTYPE = np.float32


def _ours(f: Callable, arrays: list) -> Callable[[], object]:
    """Forward + backward of ``f`` on fresh leaves (float arrays; others pass through)."""
    import autograd_lite as al

    def step() -> list:
        leaves = [al.Tensor(a, requires_grad=True) for a in arrays]
        out = f(*leaves)
        out.backward(np.ones(out.shape, out.dtype))
        return [t.grad.data for t in leaves]
    return step


def _torch(f: Callable, arrays: list) -> Callable[[], object]:
    import torch
    ts = [torch.from_numpy(a) for a in arrays]

    def step() -> list:
        leaves = [t.detach().requires_grad_() for t in ts]
        out = f(*leaves)
        out.backward(torch.ones_like(out))
        return [t.grad for t in leaves]
    return step


def workloads(rng: np.random.Generator | None = None) -> dict[str, dict[str, Callable]]:
    """Each pair's implementations (name → a no-argument forward + backward step)."""
    from autograd_lite import fused
    rng = rng or np.random.default_rng(0)
    z = rng.standard_normal((ROWS, COLS)).astype(DTYPE)
    y = (rng.random((ROWS, COLS)) < 0.5).astype(DTYPE)
    pw = (0.5 + rng.random(COLS)).astype(DTYPE)
    x = rng.standard_normal(LN_SHAPE).astype(DTYPE)
    w, b = (rng.standard_normal(LN_SHAPE[1]).astype(DTYPE) for _ in range(2))
    bce = fused.binary_cross_entropy_with_logits
    out = {
        "log_softmax": {
            "fused": _ours(lambda t: fused.log_softmax(t), [z]),
            "composed": _ours(lambda t: fused.log_softmax(t, fused=False), [z]),
            "_torch": lambda F: _torch(lambda t: F.log_softmax(t, dim=-1), [z])},
        "bce_with_logits": {
            "fused": _ours(lambda t: bce(t, y, pos_weight=pw), [z]),
            "composed": _ours(lambda t: bce(t, y, pos_weight=pw, fused=False), [z]),
            "_torch": lambda F: _torch(lambda t: F.binary_cross_entropy_with_logits(
                t, F_tensor(y), pos_weight=F_tensor(pw)), [z])},
        "layer_norm": {
            "fused": _ours(lambda a, c, d: fused.layer_norm(a, LN_SHAPE[1], c, d), [x, w, b]),
            "composed": _ours(lambda a, c, d: fused.layer_norm(a, LN_SHAPE[1], c, d,
                                                                fused=False), [x, w, b]),
            "_torch": lambda F: _torch(lambda a, c, d: F.layer_norm(a, (LN_SHAPE[1],), c, d),
                                       [x, w, b])},
    }
    sdpa = fused.scaled_dot_product_attention
    for n in ATTENTION_N:
        q, k, v = (rng.standard_normal((n, HEAD_DIM)).astype(DTYPE) for _ in range(3))
        out[f"attention N={n}"] = {
            "fused": _ours(lambda a, c, d: sdpa(a, c, d), [q, k, v]),
            "composed": _ours(lambda a, c, d: sdpa(a, c, d, fused=False), [q, k, v]),
            "_torch": lambda F, q=q, k=k, v=v: _torch(F.scaled_dot_product_attention, [q, k, v])}
    return out


def F_tensor(a: np.ndarray) -> object:  # noqa: N802  (a torch constant from an array)
    import torch
    return torch.from_numpy(a)


def run(repeat: int | None = None) -> list[Row]:
    """Per pair: ms per forward + backward vs composed (and PyTorch), then peak MiB vs composed.

    BLAS (and PyTorch) run on one thread where ``threadpoolctl`` is installed: on a shared,
    oversubscribed machine the blocked attention's many small matrix products otherwise measure
    thread hand-offs, not work. Every implementation gets the same limit."""
    import contextlib
    limit: contextlib.AbstractContextManager = contextlib.nullcontext()
    if have("threadpoolctl"):
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(1)
    threads = None
    if have("torch"):
        import torch
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
    try:
        with limit:
            return _run(repeat)
    finally:
        if threads is not None:
            torch.set_num_threads(threads)


def _run(repeat: int | None) -> list[Row]:
    rows: list[Row] = []
    wins: dict[int, bool] = {}
    for name, impls in workloads().items():
        fns = {k: v for k, v in impls.items() if not k.startswith("_")}
        if have("torch"):
            import torch.nn.functional as F
            fns["PyTorch"] = impls["_torch"](F)
        big = name.startswith("attention N=") and int(name.split("=")[1]) >= 1024
        medians = interleaved(fns, repeat or (5 if big else 20), warmup=1)
        speed = medians["composed"] / medians["fused"]
        if name.startswith("attention"):
            wins[int(name.split("=")[1])] = speed > 1
        notes = {k: "fwd + bwd" for k in fns}
        notes["fused"] = f"fwd + bwd; composed/fused = {speed:.2f}×"
        rows += rows_with_ratios(f"fusion {name}", medians, "composed", "ms", 1e3, notes)
        peaks = {k: peak_mib(fns[k]) for k in ("composed", "fused")}
        rows += rows_with_ratios(f"fusion {name}", peaks, "composed", "MiB", 1.0,
                                 {"fused": "peak memory (target < 1× composed)",
                                  "composed": "peak memory"})
    losing = [n for n, won in wins.items() if not won]
    later = [n for n in wins if not losing or n > max(losing)]
    crossover = float(min(later)) if later else float("nan")
    rows.append(Row("fusion attention", "crossover", crossover, "N",
                    note="smallest N from which on fused attention beats composed in time" +
                    (" (every N measured)" if not losing else "")))
    return rows
