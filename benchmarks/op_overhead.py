"""Per-op overhead: a chain of 200 elementwise ops on a (4,) float64 vector, then sum + backward.

The arrays are tiny, so the figure is almost all bookkeeping (recording a node, sorting the graph,
running each VJP): µs per op, forward + backward, i.e. the time of one whole chain divided by its
200 ops. Compared, timed interleaved in one process: autograd_lite, PyTorch and HIPS ``autograd``
when importable, and plain NumPy running the forward alone (a floor: no recording, no backward).
Ratios are against PyTorch when it is importable, else against the NumPy forward.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import numpy as np

from .common import Row, have, interleaved_times, paired_ratios, rows_with_ratios

N_OPS = 200
SHAPE = (4,)

# The chain repeats this pattern: multiply and add Python-float constants, and a unary op.
# The constants keep values bounded, so every implementation computes the same finite numbers.
_PATTERN = (("mul", 0.9), ("add", 0.1), ("tanh", None), ("mul", 1.1), ("add", -0.05))
CHAIN = [_PATTERN[i % len(_PATTERN)] for i in range(N_OPS)]


def chain(x: object, tanh: Callable) -> object:
    """Apply the ``CHAIN`` of ops to ``x`` (any array type with ``*``, ``+`` and ``tanh``)."""
    for kind, c in CHAIN:
        if kind == "mul":
            x = x * c
        elif kind == "add":
            x = x + c
        else:
            x = tanh(x)
    return x


def _autograd_lite(x0: np.ndarray) -> Callable[[], object]:
    import autograd_lite as al

    def step() -> np.ndarray:
        x = al.Tensor(x0, requires_grad=True)
        chain(x, al.tanh).sum().backward()
        return x.grad.data
    return step


def _torch(x0: np.ndarray) -> Callable[[], object]:
    import torch

    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)

    def step() -> object:
        x.grad = None
        chain(x, torch.tanh).sum().backward()
        return x.grad
    return step


def _hips(x0: np.ndarray) -> Callable[[], object]:
    import autograd
    import autograd.numpy as anp

    dfdx = autograd.grad(lambda x: anp.sum(chain(x, anp.tanh)))
    return lambda: dfdx(x0)


def _numpy_forward(x0: np.ndarray) -> Callable[[], object]:
    return lambda: chain(x0, np.tanh).sum()


def implementations(x0: np.ndarray) -> dict[str, Callable[[], object]]:
    """One zero-argument step per available implementation (reference first)."""
    fns = {}
    if have("torch"):
        fns["PyTorch"] = _torch(x0)
    fns["autograd_lite"] = _autograd_lite(x0)
    if have("autograd"):
        fns["HIPS autograd"] = _hips(x0)
    fns["NumPy forward only"] = _numpy_forward(x0)
    return fns


def run(repeat: int | None = None) -> list[Row]:
    """Medians in µs per op (one chain's time / 200), with ratios to the reference."""
    x0 = np.random.default_rng(0).standard_normal(SHAPE)
    fns = implementations(x0)
    reference = "PyTorch" if "PyTorch" in fns else "NumPy forward only"
    times = interleaved_times(fns, repeat or 300)
    medians = {k: statistics.median(v) for k, v in times.items()}
    notes = {k: "fwd + bwd" for k in fns}
    notes["NumPy forward only"] = "fwd only, no graph"
    return rows_with_ratios("op_overhead", medians, reference, "µs/op", 1e6 / N_OPS, notes,
                            paired_ratios(times, reference))
