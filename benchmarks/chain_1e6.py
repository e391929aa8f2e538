"""A chain of 10⁶ elementwise ops, forward + backward: time and peak memory against PyTorch.

The same chain as ``op_overhead`` (``* c``, ``+ c``, ``tanh`` on a (4,) float64 vector) at a
length where the graph's memory and the garbage collector's full collections count. Time: µs per
op, a few rounds (each call takes seconds). Peak memory: each implementation runs once in a fresh
subprocess (``python -m benchmarks.chain_1e6 --probe NAME``), which resets the kernel's
high-water mark of its resident memory (``/proc/self/clear_refs``) after a warm-up and reports
the peak above its resident size at the start of the call: PyTorch's allocator is counted too.
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
from collections.abc import Iterator

import numpy as np

from . import op_overhead
from .common import Case, have, memory_rows

N_OPS = 10 ** 6
QUICK_N = 2000


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(field)


def probe(name: str, n_ops: int) -> float:
    """Peak resident memory (MiB) of one call of implementation ``name``, above the start."""
    x0 = np.random.default_rng(0).standard_normal(op_overhead.SHAPE)
    make = lambda n: op_overhead.implementations(x0, op_overhead.make_chain(n), hips=False,
                                                 torch=name == "PyTorch")[name]
    make(1000)()                         # imports, first-call caches
    fn = make(n_ops)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")                     # reset VmHWM to the current resident size
    start = _status_kib("VmRSS")
    fn()
    return (_status_kib("VmHWM") - start) / 1024


def peak_mib(name: str, n_ops: int) -> float | None:
    """:func:`probe` in a fresh interpreter; None where /proc is not available."""
    res = subprocess.run([sys.executable, "-m", "benchmarks.chain_1e6", "--probe", name,
                          "--n", str(n_ops)], capture_output=True, text=True, timeout=600)
    if res.returncode != 0:
        return None
    return float(res.stdout.strip().splitlines()[-1])


def cases(quick: bool = False) -> Iterator[Case]:
    n = QUICK_N if quick else N_OPS
    x0 = np.random.default_rng(0).standard_normal(op_overhead.SHAPE)
    fns = op_overhead.implementations(x0, op_overhead.make_chain(n), hips=False)
    del fns["kernel: NumPy forward"]        # op_overhead shows it; each call here is seconds
    case = Case("chain_1e6", f"N={n:,}", fns, "autograd_lite", unit="µs", per=n,
                per_label="/op", reference="PyTorch" if have("torch") else None,
                floor="floor: hand NumPy",
                goals={"reference": 0.8, "memory:PyTorch": 0.8}, warmup=0, max_rounds=3)
    names = [k for k in ("autograd_lite", "PyTorch", "floor: hand NumPy")[:1 if quick else 3]
             if k in fns]
    peaks = {k: peak_mib(k, n) for k in names}
    peaks = {k: v for k, v in peaks.items() if v is not None}
    if peaks:
        ref = "PyTorch" if "PyTorch" in peaks else "floor: hand NumPy"
        per_op = {k: f"{v * 2 ** 20 / n:.0f} bytes/op" for k, v in peaks.items()}
        case.extra = memory_rows(case, peaks, ref, notes=per_op)
    yield case


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--probe", required=True)
    p.add_argument("--n", type=int, default=N_OPS)
    a = p.parse_args()
    print(probe(a.probe, a.n))
