"""A batched bilinear form ``einsum("bij,bjk,bkl->bil", A, B, C)`` forward + backward (gradients
of all three operands) on 32 batches of 64 × 64 float32 matrices.

Timed interleaved in one process (medians, ms per step; ratios paired per round):

* ``hand NumPy`` — the reference: ``A @ B @ C`` and the three gradients as batched matmuls;
* ``autograd_lite einsum`` — ``al.einsum`` + ``backward`` (NumPy's contraction order, each
  pairwise step a batched matrix product; the VJPs are einsums with exchanged subscripts);
* ``NumPy einsum`` — ``np.einsum(..., optimize=True)`` forward only, for scale;
* ``PyTorch torch.einsum`` forward + backward when importable.

The workload functions (:func:`implementations`) take plain arrays, so another runner can reuse
them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .common import Row, have, interleaved_times, paired_ratios, rows_with_ratios

SHAPE = (32, 64, 64)
SUBSCRIPTS = "bij,bjk,bkl->bil"


def _hand(a: np.ndarray, b: np.ndarray, c: np.ndarray, g: np.ndarray) -> Callable[[], object]:
    def step() -> tuple:
        ab = a @ b
        out = ab @ c
        dab = g @ c.transpose(0, 2, 1)
        dc = ab.transpose(0, 2, 1) @ g
        da = dab @ b.transpose(0, 2, 1)
        db = a.transpose(0, 2, 1) @ dab
        return out, da, db, dc
    return step


def _ours(a: np.ndarray, b: np.ndarray, c: np.ndarray, g: np.ndarray) -> Callable[[], object]:
    import autograd_lite as al

    def step() -> tuple:
        ts = [al.Tensor(x, requires_grad=True) for x in (a, b, c)]
        out = al.einsum(SUBSCRIPTS, *ts)
        out.backward(g)
        return (out.data, *(t.grad.data for t in ts))
    return step


def _numpy_forward(a: np.ndarray, b: np.ndarray, c: np.ndarray, g: np.ndarray) -> Callable:
    return lambda: np.einsum(SUBSCRIPTS, a, b, c, optimize=True)


def _torch(a: np.ndarray, b: np.ndarray, c: np.ndarray, g: np.ndarray) -> Callable[[], object]:
    import torch

    xs = [torch.from_numpy(x) for x in (a, b, c)]
    tg = torch.from_numpy(g)

    def step() -> tuple:
        ts = [x.detach().requires_grad_() for x in xs]
        out = torch.einsum(SUBSCRIPTS, *ts)
        out.backward(tg)
        return (out.detach(), *(t.grad for t in ts))
    return step


def inputs(seed: int = 0, batch: int = SHAPE[0]) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((batch, *SHAPE[1:])).astype(np.float32) for _ in range(4))


def implementations(a, b, c, g) -> dict[str, Callable[[], object]]:
    fns = {"hand NumPy": _hand(a, b, c, g), "autograd_lite einsum": _ours(a, b, c, g),
           "NumPy einsum (forward only)": _numpy_forward(a, b, c, g)}
    if have("torch"):
        fns["PyTorch torch.einsum"] = _torch(a, b, c, g)
    return fns


def check(fns: dict[str, Callable]) -> None:
    ref = [np.asarray(x, dtype=np.float64) for x in fns["hand NumPy"]()]
    for name in ("autograd_lite einsum", "PyTorch torch.einsum"):
        if name in fns:
            for x, r in zip(fns[name](), ref):
                np.testing.assert_allclose(np.asarray(x, dtype=np.float64), r, rtol=1e-3,
                                           atol=1e-2, err_msg=name)


def run(repeat: int | None = None) -> list[Row]:
    """Medians (ms per forward + backward) vs hand NumPy, ratios paired per round."""
    fns = implementations(*inputs())
    check(fns)
    times = interleaved_times(fns, repeat or 20)
    ratios = paired_ratios(times, "hand NumPy")
    medians = {k: float(np.median(v)) for k, v in times.items()}
    notes = {k: "fwd + bwd (3 grads)" for k in fns}
    notes["NumPy einsum (forward only)"] = "forward only"
    if "PyTorch torch.einsum" in ratios:
        r = ratios["autograd_lite einsum"] / ratios["PyTorch torch.einsum"]
        notes["autograd_lite einsum"] += f"; {r:.2f}× PyTorch"
    return rows_with_ratios("einsum", medians, "hand NumPy", "ms", 1e3, notes, ratios)


if __name__ == "__main__":
    from .common import format_table
    print(format_table(run()))
