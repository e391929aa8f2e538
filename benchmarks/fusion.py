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

Timed by the runner in blocks (ratios of the fused form to the composed one, its floor, and to
PyTorch); peak memory (MiB, tracemalloc, measured apart from the timing) for our two forms —
PyTorch's allocator is invisible to tracemalloc. Targets (issue 18): fused beats composed on peak
memory in every pair, and on time in every pair but attention at small N.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .common import Case, have, memory_rows, peak_traced_mib

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


def workloads(rng: np.random.Generator | None = None, quick: bool = False
              ) -> dict[str, dict[str, Callable]]:
    """Each pair's implementations (name → a no-argument forward + backward step)."""
    from autograd_lite import fused
    rng = rng or np.random.default_rng(0)
    rows, cols, ln_shape = (64, 10, (64, 32)) if quick else (ROWS, COLS, LN_SHAPE)
    z = rng.standard_normal((rows, cols)).astype(DTYPE)
    y = (rng.random((rows, cols)) < 0.5).astype(DTYPE)
    pw = (0.5 + rng.random(cols)).astype(DTYPE)
    x = rng.standard_normal(ln_shape).astype(DTYPE)
    w, b = (rng.standard_normal(ln_shape[1]).astype(DTYPE) for _ in range(2))
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
            "fused": _ours(lambda a, c, d: fused.layer_norm(a, ln_shape[1], c, d), [x, w, b]),
            "composed": _ours(lambda a, c, d: fused.layer_norm(a, ln_shape[1], c, d,
                                                                fused=False), [x, w, b]),
            "_torch": lambda F: _torch(lambda a, c, d: F.layer_norm(a, (ln_shape[1],), c, d),
                                       [x, w, b])},
    }
    sdpa = fused.scaled_dot_product_attention
    for n in (16,) if quick else ATTENTION_N:
        q, k, v = (rng.standard_normal((n, HEAD_DIM)).astype(DTYPE) for _ in range(3))
        out[f"attention N={n}"] = {
            "fused": _ours(lambda a, c, d: sdpa(a, c, d), [q, k, v]),
            "composed": _ours(lambda a, c, d: sdpa(a, c, d, fused=False), [q, k, v]),
            "_torch": lambda F, q=q, k=k, v=v: _torch(F.scaled_dot_product_attention, [q, k, v])}
    return out


def F_tensor(a: np.ndarray) -> object:  # noqa: N802  (a torch constant from an array)
    import torch
    return torch.from_numpy(a)


def cases(quick: bool = False) -> Iterator[Case]:
    """One case per pair: fused (main) against composed (the floor it must beat) and PyTorch
    (the reference), plus the peak memory of our two forms.

    Run it on one BLAS thread (``python -m benchmarks fusion --threads 1``): on a shared,
    oversubscribed machine the blocked attention's many small matrix products otherwise measure
    thread hand-offs, not work."""
    rng = np.random.default_rng(0)
    pairs = workloads(rng, quick=quick)
    for name, impls in pairs.items():
        fns = {"fused": impls["fused"], "composed": impls["composed"]}
        if have("torch"):
            import torch.nn.functional as F
            fns["PyTorch"] = impls["_torch"](F)
        big = name.startswith("attention N=") and int(name.split("=")[1]) >= 1024
        case = Case("fusion", name, fns, "fused", floor="composed",
                    reference="PyTorch" if have("torch") else None,
                    goals={} if name.startswith("attention") else {"floor": 1.0},
                    notes={"fused": "one node, closed-form VJP", "composed": "primitives"},
                    max_rounds=5 if big else None)
        peaks = {k: peak_traced_mib(fns[k]) for k in ("fused", "composed")}
        case.extra = memory_rows(case, peaks, "composed", "peak memory (target < 1× composed)")
        yield case
