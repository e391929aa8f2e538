"""Per-op cost: a chain of N elementwise ops on a (4,) float64 vector, then sum + backward.

The chain repeats ``x * 0.9``, ``x + 0.1``, ``tanh(x)``, ``x * 1.1``, ``x + (−0.05)`` (Python
floats as constants). The arrays are tiny, so the figure is bookkeeping: recording a node,
lifting constants, sorting the graph, running each VJP. µs per op (forward + backward), for
N = 10, 100, 1,000 and 10,000 (the goal: linear in N with the garbage collector on). Rows:

* ``autograd_lite``; ``PyTorch`` (the reference); ``HIPS autograd`` when importable;
* ``floor: hand NumPy`` — the same forward + backward written by hand: the forward keeps only
  ``tanh``'s outputs, the backward multiplies one gradient array in place (``+ c`` passes it on);
* ``kernel: NumPy forward`` — the forward alone on plain arrays, no backward.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .common import Case, have

SHAPE = (4,)
LENGTHS = (10, 100, 1000, 10000)
_PATTERN = (("mul", 0.9), ("add", 0.1), ("tanh", None), ("mul", 1.1), ("add", -0.05))


def make_chain(n_ops: int) -> list[tuple[str, float | None]]:
    """The first ``n_ops`` ops of the repeating pattern."""
    return [_PATTERN[i % len(_PATTERN)] for i in range(n_ops)]


CHAIN = make_chain(200)


def chain(x: object, tanh: Callable, ops: list | None = None) -> object:
    """Apply the chain of ``ops`` (default ``CHAIN``) to ``x`` (anything with ``*``, ``+``)."""
    for kind, c in CHAIN if ops is None else ops:
        if kind == "mul":
            x = x * c
        elif kind == "add":
            x = x + c
        else:
            x = tanh(x)
    return x


def floor_grad(x0: np.ndarray, ops: list) -> np.ndarray:
    """d sum(chain(x)) / dx by hand: keep tanh's outputs, backpropagate in place."""
    saved = []
    x = x0
    for kind, c in ops:
        if kind == "mul":
            x = x * c
        elif kind == "add":
            x = x + c
        else:
            x = np.tanh(x)
            saved.append(x)
    g = np.ones_like(x)
    for kind, c in reversed(ops):
        if kind == "mul":
            g *= c
        elif kind == "tanh":
            t = saved.pop()
            g *= 1 - t * t
    return g


def _autograd_lite(x0: np.ndarray, ops: list) -> Callable[[], object]:
    import autograd_lite as al

    def step() -> np.ndarray:
        x = al.Tensor(x0, requires_grad=True)
        chain(x, al.tanh, ops).sum().backward()
        return x.grad.data
    return step


def _torch(x0: np.ndarray, ops: list) -> Callable[[], object]:
    import torch

    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)

    def step() -> object:
        x.grad = None
        chain(x, torch.tanh, ops).sum().backward()
        return x.grad.numpy()
    return step


def _hips(x0: np.ndarray, ops: list) -> Callable[[], object]:
    import autograd
    import autograd.numpy as anp

    dfdx = autograd.grad(lambda x: anp.sum(chain(x, anp.tanh, ops)))
    return lambda: dfdx(x0)


def implementations(x0: np.ndarray, ops: list, hips: bool = True, torch: bool = True
                    ) -> dict[str, Callable[[], object]]:
    """One step per implementation; each returns the gradient except the forward-only kernel.
    ``hips=False`` / ``torch=False`` leave those out (and unimported)."""
    fns = {"autograd_lite": _autograd_lite(x0, ops)}
    if torch and have("torch"):
        fns["PyTorch"] = _torch(x0, ops)
    if hips and have("autograd"):
        fns["HIPS autograd"] = _hips(x0, ops)
    fns["floor: hand NumPy"] = lambda: floor_grad(x0, ops)
    fns["kernel: NumPy forward"] = lambda: chain(x0, np.tanh, ops).sum()
    return fns


def cases(quick: bool = False) -> Iterator[Case]:
    x0 = np.random.default_rng(0).standard_normal(SHAPE)
    for n in (10, 50) if quick else LENGTHS:
        yield Case("op_overhead", f"N={n}", implementations(x0, make_chain(n)), "autograd_lite",
                   unit="µs", per=n, per_label="/op",
                   reference="PyTorch" if have("torch") else None,
                   floor="floor: hand NumPy", kernel="kernel: NumPy forward",
                   goals={"reference": 0.6, "floor": 2.5})
