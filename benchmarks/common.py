"""Timing helpers shared by the benchmarks.

Machines here are noisy (shared cores), so implementations are timed *interleaved*: each round
runs every implementation once, in turn, and the report uses medians over rounds. Ratios are
always taken against a reference measured in the same process.
"""

from __future__ import annotations

import gc
import importlib.util
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Row:
    """One line of a benchmark table."""

    benchmark: str
    impl: str
    median: float          # in ``unit``
    unit: str              # "µs/op", "ms/step", "MiB", ...
    ratio: float | None = None   # median / reference median (None for the reference itself)
    reference: str = ""
    note: str = ""


def have(module: str) -> bool:
    """Whether an optional package (torch, autograd, micrograd) is importable."""
    return importlib.util.find_spec(module) is not None


def interleaved(fns: dict[str, Callable[[], object]], repeat: int, warmup: int = 2,
                gc_off: bool = True) -> dict[str, float]:
    """Median wall time in seconds of each function, timed round-robin over ``repeat`` rounds."""
    for _ in range(warmup):
        for f in fns.values():
            f()
    times: dict[str, list[float]] = {k: [] for k in fns}
    was_enabled = gc.isenabled()
    if gc_off:
        gc.disable()
    try:
        for _ in range(repeat):
            for k, f in fns.items():
                t0 = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t0)
            if gc_off:
                gc.collect()
    finally:
        if was_enabled:
            gc.enable()
    return {k: statistics.median(v) for k, v in times.items()}


def rows_with_ratios(benchmark: str, medians: dict[str, float], reference: str, unit: str,
                     scale: float, notes: dict[str, str] | None = None) -> list[Row]:
    """Rows for ``medians`` (seconds), scaled into ``unit``, with ratios to ``reference``."""
    ref = medians[reference]
    rows = []
    for k, v in medians.items():
        rows.append(Row(benchmark, k, v * scale, unit, None if k == reference else v / ref,
                        reference, (notes or {}).get(k, "")))
    return rows


def format_table(rows: list[Row]) -> str:
    """A plain-text table of rows."""
    head = ("benchmark", "implementation", "median", "unit", "ratio", "note")
    body = [(r.benchmark, r.impl, f"{r.median:.3g}", r.unit,
             "reference" if r.ratio is None else f"{r.ratio:.2f}× {r.reference}", r.note)
            for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(b) for b in body])
