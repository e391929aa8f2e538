"""The library's own worker threads, for kernels that split into blocks of rows.

NumPy's ufuncs release the GIL, so the row blocks of one large ``exp`` (the fused cross-entropy's
forward) or one in-place product (its backward) run in parallel on several threads:
:func:`run_blocks` hands out blocks of a fixed size (small enough to stay in a core's cache
between passes) to whichever thread is free. One thread by default: on a machine whose cores
are busy (or for small arrays) threads do not pay; set the count with :func:`set_num_threads`
(or the environment variable ``AUTOGRAD_LITE_NUM_THREADS``), as ``torch.set_num_threads`` sets
PyTorch's. Arrays under :data:`MIN_BLOCK_BYTES` per thread always run on the calling thread
alone.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

__all__ = ["set_num_threads", "get_num_threads", "run_blocks"]

MIN_BLOCK_BYTES = 1 << 20
"""The least work (bytes of the array split) worth handing to one more thread."""

_LOCK = threading.Lock()
_STATE: dict = {"n": 1, "pool": None}


def set_num_threads(n: int) -> None:
    """Use ``n`` threads (the calling one included) for the kernels that split into row blocks.

    Example
    -------
    >>> al.set_num_threads(2); al.get_num_threads()
    2
    >>> al.set_num_threads(1)                   # the default: the calling thread alone
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r:.40}")
    with _LOCK:
        if n != _STATE["n"]:
            pool, _STATE["pool"], _STATE["n"] = _STATE["pool"], None, n
            if pool is not None:
                pool.shutdown(wait=False)


def get_num_threads() -> int:
    """The number of threads the row-block kernels use (see :func:`set_num_threads`).

    Example
    -------
    >>> al.set_num_threads(1); al.get_num_threads()
    1
    """
    return _STATE["n"]


def run_blocks(fn: Callable[[Iterator[slice]], object], n_rows: int, block_rows: int,
               nbytes: int) -> None:
    """Call ``fn(blocks)`` once on each thread taking part; ``blocks`` yields slices of
    ``block_rows`` rows (the last one shorter) taken in turn from one queue, so the blocks are
    the same whatever the number of threads, each is taken once, and a thread that runs ahead
    (or starts first: the calling thread always takes part) takes more of them. One thread when
    there is one thread or little work (``nbytes`` in all). An exception is raised here."""
    block_rows = max(block_rows, 1)
    n_blocks = -(-n_rows // block_rows)
    k = min(_STATE["n"], n_blocks, nbytes // MIN_BLOCK_BYTES)
    if k <= 1:
        fn(slice(a, min(a + block_rows, n_rows)) for a in range(0, n_rows, block_rows))
        return
    taken = itertools.count()         # (next() on it is atomic: each block goes to one thread)

    def blocks() -> Iterator[slice]:
        for i in taken:
            if i >= n_blocks:
                return
            yield slice(i * block_rows, min((i + 1) * block_rows, n_rows))
    _on_threads([(fn, blocks()) for _ in range(k)])


def _on_threads(calls: list) -> None:
    """Run ``f(arg)`` for each ``(f, arg)``: the first on the calling thread, the others on the
    pool (made again after each :func:`set_num_threads`: its size is n − 1)."""
    with _LOCK:              # (submitted under the lock: set_num_threads cannot shut it first)
        pool = _STATE["pool"]
        if pool is None:
            pool = _STATE["pool"] = ThreadPoolExecutor(max(_STATE["n"] - 1, 1),
                                                       thread_name_prefix="autograd_lite")
        futures = [pool.submit(f, arg) for f, arg in calls[1:]]
    try:
        calls[0][0](calls[0][1])
    finally:
        for f in futures:
            f.result()


def _from_environment() -> None:
    n = os.environ.get("AUTOGRAD_LITE_NUM_THREADS")
    if n:
        try:
            set_num_threads(int(n))
        except ValueError:
            raise ValueError("AUTOGRAD_LITE_NUM_THREADS must be a positive int, "
                             f"got {n!r}") from None


_from_environment()
