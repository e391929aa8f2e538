"""BLAS threads for small problems: :func:`blas_threads` and :func:`auto_threads` (the library's own
worker threads are :mod:`autograd_lite.threads`).

A multi-threaded BLAS (OpenBLAS's default: one thread per core) splits even a small matrix
product between its threads, which then wait for each other at every call; when the cores are
busy with other work, a waiting thread waits for a descheduled one. The small models
``autograd-lite train`` builds are made of such products (the digits CNN's largest is
``(64, 288) @ (288, 1024)``): on a shared two-core machine its default run took 58 s with
OpenBLAS's two threads and 16 s with one. So the training loop asks for one BLAS thread when
the model is small (:func:`auto_threads`), through threadpoolctl when it is installed (the
``blas`` extra; NumPy and graphviz stay the only required packages).
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["SMALL", "auto_threads", "blas_threads", "can_limit", "training_threads"]

SMALL = 1 << 20   # parameters with fewer elements than this make a small model


def can_limit() -> bool:
    """Whether BLAS threads can be limited at run time (threadpoolctl is importable)."""
    return importlib.util.find_spec("threadpoolctl") is not None


def auto_threads(sizes: Iterable[int]) -> int | None:
    """The BLAS thread limit for a model whose parameters have ``sizes`` elements: 1 when the
    largest has fewer than :data:`SMALL` (its products are too small to share between cores),
    ``None`` (BLAS's own default) otherwise.

    Example
    -------
    >>> auto_threads([32 * 9, 64 * 288, 640]), auto_threads([4096 * 4096])
    (1, None)
    """
    return 1 if max(sizes, default=0) < SMALL else None


@contextlib.contextmanager
def blas_threads(n: int | None) -> Iterator[int | None]:
    """Within the block, BLAS uses at most ``n`` threads (``None`` or 0: BLAS's default). Yields
    the limit in force, ``None`` when none was applied (also when threadpoolctl is missing).

    Example
    -------
    >>> with blas_threads(1) as n:
    ...     _ = np.ones((2, 2)) @ np.ones((2, 2))
    >>> n in (1, None)
    True
    """
    if not n or not can_limit():
        yield None
        return
    import numpy  # noqa: F401  (load the BLAS before threadpoolctl looks for it)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(n), user_api="blas"):
        yield int(n)


def training_threads(threads: int | None, sizes: Iterable[int],
                     log: Callable[[str], Any] = print) -> contextlib.AbstractContextManager:
    """The BLAS limit a training run works under: ``threads`` if given (0: BLAS's default), else
    :func:`auto_threads` of the parameters' ``sizes``; says so through ``log`` when a limit the
    user asked for cannot be applied."""
    if threads and not can_limit():
        log("threadpoolctl is not installed, --threads is ignored (pip install "
            "'autograd-lite[blas]', or set OPENBLAS_NUM_THREADS before starting)")
    return blas_threads(threads if threads is not None else auto_threads(sizes))
