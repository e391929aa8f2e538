"""A batched bilinear form ``einsum("bij,bjk,bkl->bil", A, B, C)`` forward + backward (gradients
of all three operands) on 32 batches of 64 × 64 float32 matrices. ms per step. Rows:

* ``autograd_lite`` — ``al.einsum`` + ``backward`` (NumPy's contraction order, each pairwise
  step a batched matrix product; the VJPs are einsums with exchanged subscripts);
* ``PyTorch`` (the reference) — ``torch.einsum`` forward + backward;
* ``floor: hand NumPy`` — ``A @ B @ C`` and the three gradients as batched matmuls (six
  products);
* ``kernel: NumPy einsum forward`` — ``np.einsum(..., optimize=True)``, the forward alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .common import Case, have

SHAPE = (32, 64, 64)
SUBSCRIPTS = "bij,bjk,bkl->bil"


def _floor(a: np.ndarray, b: np.ndarray, c: np.ndarray, g: np.ndarray) -> Callable[[], object]:
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


def _torch(a: np.ndarray, b: np.ndarray, c: np.ndarray, g: np.ndarray) -> Callable[[], object]:
    import torch

    xs = [torch.from_numpy(x) for x in (a, b, c)]
    tg = torch.from_numpy(g)

    def step() -> tuple:
        ts = [x.detach().requires_grad_() for x in xs]
        out = torch.einsum(SUBSCRIPTS, *ts)
        out.backward(tg)
        return (out.detach().numpy(), *(t.grad.numpy() for t in ts))
    return step


def inputs(seed: int = 0, batch: int = SHAPE[0]) -> tuple[np.ndarray, ...]:
    """``A, B, C`` and the upstream gradient (float32)."""
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((batch, *SHAPE[1:])).astype(np.float32) for _ in range(4))


def implementations(a: np.ndarray, b: np.ndarray, c: np.ndarray, g: np.ndarray
                    ) -> dict[str, Callable[[], object]]:
    """One zero-argument step per implementation; each but the kernel returns
    ``(out, dA, dB, dC)``."""
    fns = {"autograd_lite": _ours(a, b, c, g)}
    if have("torch"):
        fns["PyTorch"] = _torch(a, b, c, g)
    fns["floor: hand NumPy"] = _floor(a, b, c, g)
    fns["kernel: NumPy einsum forward"] = lambda: np.einsum(SUBSCRIPTS, a, b, c, optimize=True)
    return fns


def cases(quick: bool = False) -> Iterator[Case]:
    batch = 2 if quick else SHAPE[0]
    yield Case("einsum", f"{batch}×64×64 ×3", implementations(*inputs(batch=batch)),
               "autograd_lite", unit="ms", reference="PyTorch" if have("torch") else None,
               floor="floor: hand NumPy", kernel="kernel: NumPy einsum forward",
               notes={"autograd_lite": "fwd + bwd (3 grads)"})
