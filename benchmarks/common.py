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


def interleaved_times(fns: dict[str, Callable[[], object]], repeat: int, warmup: int = 2,
                      gc_off: bool = True) -> dict[str, list[float]]:
    """Wall times in seconds of each function over ``repeat`` rounds, one call each per round.

    The order within a round rotates from round to round, so no implementation always runs
    right after the same neighbour (BLAS thread pools and caches carry state across calls).
    """
    for _ in range(warmup):
        for f in fns.values():
            f()
    keys = list(fns)
    times: dict[str, list[float]] = {k: [] for k in keys}
    was_enabled = gc.isenabled()
    if gc_off:
        gc.disable()
    try:
        for r in range(repeat):
            for k in keys[r % len(keys):] + keys[:r % len(keys)]:
                f = fns[k]
                t0 = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t0)
            if gc_off:
                gc.collect(0)   # young objects only: a full collection (~0.1 s with torch
                                # imported) would dominate the run
    finally:
        if was_enabled:
            gc.enable()
    return times


def interleaved(fns: dict[str, Callable[[], object]], repeat: int, warmup: int = 2,
                gc_off: bool = True) -> dict[str, float]:
    """Median wall time in seconds of each function, timed round-robin over ``repeat`` rounds."""
    times = interleaved_times(fns, repeat, warmup, gc_off)
    return {k: statistics.median(v) for k, v in times.items()}


def paired_ratios(times: dict[str, list[float]], reference: str) -> dict[str, float]:
    """Median over rounds of each implementation's time / the reference's in the same round.

    Calls in one round run seconds apart at most, so they share the machine's load; on a busy
    machine this ratio is steadier than the ratio of the two medians.
    """
    ref = times[reference]
    return {k: statistics.median(t / r for t, r in zip(v, ref)) for k, v in times.items()}


def rows_with_ratios(benchmark: str, medians: dict[str, float], reference: str, unit: str,
                     scale: float, notes: dict[str, str] | None = None,
                     ratios: dict[str, float] | None = None) -> list[Row]:
    """Rows for ``medians`` (seconds), scaled into ``unit``, with ratios to ``reference``.

    ``ratios`` (e.g. from :func:`paired_ratios`) replaces the default median / reference median.
    """
    ref = medians[reference]
    rows = []
    for k, v in medians.items():
        ratio = (ratios or {}).get(k, v / ref)
        rows.append(Row(benchmark, k, v * scale, unit, None if k == reference else ratio,
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
