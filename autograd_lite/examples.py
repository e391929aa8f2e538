"""Small named example graphs, shared by ``autograd-lite graph``/``explain``/``compare`` and docs.

Each builder returns the loss ``Tensor`` of a small, seeded computation whose parameters (and the
interesting intermediates) carry names, so drawings and :func:`~autograd_lite.notation.explain` read
like the equations in a textbook.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import functional
from .tensor import Tensor

__all__ = ["EXAMPLES", "build", "cross_entropy_example", "mlp_example"]


def cross_entropy_example(fused: bool, batch: int = 4, classes: int = 3, seed: int = 0) -> Tensor:
    """Mean softmax cross-entropy of ``batch`` rows of logits ``Z`` against integer targets ``Y``.

    ``fused=True`` is one ``cross_entropy`` node; ``fused=False`` the same loss composed from
    primitives (logsumexp, subtraction, indexing, mean), drawn node by node.

    Example
    -------
    >>> cross_entropy_example(fused=False).backward()
    """
    rng = np.random.default_rng(seed)
    z = Tensor(rng.standard_normal((batch, classes)), requires_grad=True, name="Z")
    y = rng.integers(0, classes, size=batch)
    loss = functional.cross_entropy(z, y, fused=fused)
    loss.name = "loss"
    return loss


def mlp_example(batch: int = 128, sizes: tuple[int, int, int] = (784, 256, 10), seed: int = 0,
                fused: bool = True) -> Tensor:
    """A 2-layer MLP, ``relu(A0 @ W1 + b1) @ W2 + b2``, with mean cross-entropy loss.

    Names follow the usual layer notation: ``A0`` the input batch, ``Z1``/``Z2`` the
    pre-activations, ``A1`` the hidden activations, ``W1 b1 W2 b2`` the parameters.

    Example
    -------
    >>> mlp_example(batch=4, sizes=(3, 5, 2)).shape    # the scalar loss
    ()
    """
    rng = np.random.default_rng(seed)
    n_in, n_hidden, n_out = sizes
    a0 = Tensor(rng.standard_normal((batch, n_in)), name="A0")
    w1 = Tensor(rng.standard_normal((n_in, n_hidden)) * np.sqrt(2 / n_in), requires_grad=True,
                name="W1")
    b1 = Tensor(np.zeros(n_hidden), requires_grad=True, name="b1")
    w2 = Tensor(rng.standard_normal((n_hidden, n_out)) * np.sqrt(1 / n_hidden),
                requires_grad=True, name="W2")
    b2 = Tensor(np.zeros(n_out), requires_grad=True, name="b2")
    y = rng.integers(0, n_out, size=batch)
    z1 = a0 @ w1 + b1
    z1.name = "Z1"
    a1 = z1.relu()
    a1.name = "A1"
    z2 = a1 @ w2 + b2
    z2.name = "Z2"
    loss = functional.cross_entropy(z2, y, fused=fused)
    loss.name = "loss"
    return loss


EXAMPLES: dict[str, Callable[[], Tensor]] = {
    "ce-composed": lambda: cross_entropy_example(fused=False),
    "ce-fused": lambda: cross_entropy_example(fused=True),
    "mlp": mlp_example,
    "mlp-small": lambda: mlp_example(batch=8, sizes=(4, 5, 3)),
}
"""Named examples: ``autograd-lite graph NAME`` and ``autograd-lite explain NAME``."""


def build(name: str) -> Tensor:
    """The loss of the named example (a fresh graph each call)."""
    try:
        return EXAMPLES[name]()
    except KeyError:
        raise ValueError(f"unknown example {name!r}; choose from {', '.join(EXAMPLES)}") from None
