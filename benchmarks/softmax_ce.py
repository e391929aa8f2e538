"""Softmax cross-entropy, forward + backward, on (4096, 1000) float32 logits, integer targets.

Rows (ms per forward + backward):

* ``autograd_lite fused`` — ``cross_entropy(z, y)``: one node, closed-form VJP; its ``exp`` and
  gradient passes run in row blocks on ``--threads`` threads (``al.set_num_threads``);
* ``autograd_lite composed`` — ``cross_entropy(z, y, fused=False)``: every step a node;
* ``PyTorch F.cross_entropy`` (the reference; its threads pinned by the runner) and ``PyTorch
  composed`` (``logsumexp``, ``gather``, ``mean``);
* ``floor: hand NumPy`` — the fused kernel's passes written directly, in place: in blocks of
  rows of about 1 MiB, ``exp`` of the unshifted logits into a fresh array, its row sums and the
  scaling to ``softmax/N``, each block while it is in cache (rows whose sum overflows or
  underflows done again, shifted by their max: the shift cancels), the loss from the log of the
  sums and the picked logits, ``1/N`` subtracted at the targets (no row-max pass, no second
  array). On one thread: with ``--threads 1`` the fused row compares like for like, above it the
  floor is single-threaded;
* ``kernel: exp + copy`` — one ``exp`` pass into a fresh array plus one copy of it: the least
  memory traffic any forward + backward must make.

Peak memory (tracemalloc, NumPy rows only: PyTorch's allocator is invisible to it) is reported in
MiB and in logits-sized arrays (the goal: one array plus O(N)).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np

from .common import Case, have, memory_rows, peak_traced_mib

SHAPE = (4096, 1000)
BLOCK_BYTES = 1 << 20        # as the fused kernel's blocks
_LIMIT = {t: 0.9 * math.log(float(np.finfo(t).max)) for t in "efd"}
QUICK_SHAPE = (64, 10)
DTYPE = np.float32


def floor_step(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Loss and gradient with the fused kernel's passes, in place: blocks of rows, each block's
    ``exp(z)`` (unshifted) summed and scaled to ``softmax/N`` while it is in cache; rows whose
    sum left the safe range done again, shifted by their max; ``1/N`` subtracted at the
    targets."""
    n, c = z.shape
    rows = np.arange(n)
    lim = _LIMIT[z.dtype.char]
    e = np.empty_like(z)
    s = np.empty(n, z.dtype)
    b = max(BLOCK_BYTES // max(z[:1].nbytes, 1), 1)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for i in range(0, n, b):
            eb = e[i:i + b]
            np.exp(z[i:i + b], out=eb)
            eb *= (1.0 / n / np.add.reduce(eb, axis=1, out=s[i:i + b]))[:, None]
    picked = z[rows, y]
    if not (s.min() >= c * math.exp(-lim) and s.max() < math.exp(lim)):
        bad = np.flatnonzero(~((s >= c * math.exp(-lim)) & (s < math.exp(lim))))
        zb = z[bad]                                       # (a copy) shifted by the row max
        m = zb.max(axis=1, keepdims=True)
        zb -= m
        picked[bad] -= m[:, 0]
        np.exp(zb, out=zb)
        s[bad] = zb.sum(axis=1)
        e[bad] = zb * (1.0 / n / s[bad])[:, None]
    loss = float(np.add.reduce(np.log(s) - picked) / n)
    e[rows, y] -= 1.0 / n                    # (P − Y) / N
    return loss, e


def _floor(z: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    return lambda: floor_step(z, y)


def _kernel(z: np.ndarray) -> Callable[[], object]:
    return lambda: np.exp(z).copy()


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
        return loss.item(), t.grad.numpy()
    return step


def implementations(z: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], object]]:
    """Every implementation; each returns ``(loss, gradient)`` except the kernel."""
    fns = {"autograd_lite fused": _ours(z, y, True), "autograd_lite composed": _ours(z, y, False)}
    if have("torch"):
        fns["PyTorch F.cross_entropy"] = _torch(z, y, False)
        fns["PyTorch composed"] = _torch(z, y, True)
    fns["floor: hand NumPy"] = _floor(z, y)
    fns["kernel: exp + copy"] = _kernel(z)
    return fns


def cases(quick: bool = False) -> Iterator[Case]:
    shape = QUICK_SHAPE if quick else SHAPE
    rng = np.random.default_rng(0)
    z = rng.standard_normal(shape).astype(DTYPE)
    y = rng.integers(0, shape[1], shape[0])
    fns = implementations(z, y)
    case = Case("softmax_ce", f"{shape} float32", fns, "autograd_lite fused",
                reference="PyTorch F.cross_entropy" if have("torch") else None,
                floor="floor: hand NumPy", kernel="kernel: exp + copy",
                goals={"reference": 0.9, "floor": 1.4, "memory:floor": 1.05},
                notes={"autograd_lite composed": "fused=False"})
    size = z.nbytes / 2 ** 20
    peaks = {k: peak_traced_mib(fns[k]) for k in
             ("autograd_lite fused", "autograd_lite composed", "floor: hand NumPy")}
    case.extra = memory_rows(case, peaks, "floor: hand NumPy",
                             notes={k: f"{v / size:.2f} logits-sized arrays"
                                    for k, v in peaks.items()})
    yield case
