"""The benchmark runner's machinery: cases, blocked timing, paired ratios, tables.

A workload module yields :class:`Case` objects (one comparison each: several implementations of
the same computation) and the runner measures them with :func:`measure`:

* each implementation runs in **blocks**: collect garbage, pause (so that the threads another
  library left busy-spinning fall asleep: OpenBLAS workers spin ≈ 0.1 s after a call, PyTorch's
  OpenMP threads ≈ 8 ms), warm-up calls, then a timed block of calls sized to last ≈ ``block_s``;
* the order of the implementations **rotates** from round to round;
* each round yields one time per implementation, and the ratios are **paired**: the median over
  rounds of (time / reference's time in the same round), with quartiles;
* the garbage collector is **on** during the block unless ``gc=False`` (the engine-only view);
  the objects alive before a case is timed (modules such as torch's, the inputs) are frozen
  (``gc.freeze``), so a collection inside a block scans that block's objects, not the other
  libraries' imported modules.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any


def have(module: str) -> bool:
    """Whether an optional package (torch, autograd, micrograd) is importable."""
    return importlib.util.find_spec(module) is not None


@dataclass
class Case:
    """One timed comparison: implementations of the same computation.

    ``impls`` maps a display name to a zero-argument callable doing one forward + backward (or
    one step, one epoch...). Roles are given by name: ``main`` is autograd_lite's headline row,
    ``reference`` the other library it is compared with (PyTorch, or micrograd for scalars),
    ``floor`` the fastest hand-written NumPy doing the same work, ``kernel`` the raw cost of
    the arithmetic alone. ``goals`` maps a role name (``"reference"``, ``"floor"``) to the
    largest acceptable median ratio of ``main`` to it.
    """

    workload: str
    variant: str
    impls: dict[str, Callable[[], object]]
    main: str
    unit: str = "ms"                    # "ms" or "µs"
    per: int = 1                        # the time is divided by this (ops per call, ...)
    per_label: str = ""                 # e.g. "/op": shown after the unit
    reference: str | None = None
    floor: str | None = None
    kernel: str | None = None
    goals: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    warmup: int = 1                     # untimed calls before each block
    max_rounds: int | None = None       # caps the rounds for slow cases
    extra: list[Row] = field(default_factory=list)   # rows measured otherwise (memory)

    def role(self, name: str) -> str:
        """``main``, ``reference``, ``floor``, ``kernel`` or ``other``."""
        for role in ("main", "reference", "floor", "kernel"):
            if getattr(self, role) == name:
                return role
        return "other"


@dataclass
class Stat:
    """A median with its quartiles."""

    median: float
    q1: float
    q3: float

    @classmethod
    def of(cls, values: list[float]) -> Stat:
        if len(values) < 2:
            v = values[0] if values else math.nan
            return cls(v, v, v)
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
        return cls(statistics.median(values), q1, q3)

    def scaled(self, k: float) -> Stat:
        return Stat(self.median * k, self.q1 * k, self.q3 * k)


@dataclass
class Row:
    """One implementation's result in one case: a time (or a memory peak) and its ratios."""

    workload: str
    variant: str
    impl: str
    role: str
    value: Stat
    unit: str
    vs_reference: Stat | None = None
    vs_floor: Stat | None = None
    reference: str | None = None
    floor: str | None = None
    kind: str = "time"                  # "time" or "memory"
    note: str = ""
    calls: int = 0                      # calls per timed block

    @classmethod
    def from_dict(cls, d: dict) -> Row:
        d = dict(d)
        for k in ("value", "vs_reference", "vs_floor"):
            if d.get(k) is not None:
                d[k] = Stat(**d[k])
        return cls(**d)


@dataclass
class Goal:
    """A goal of the issue, checked against one run."""

    workload: str
    variant: str
    impl: str
    against: str
    limit: float
    ratio: float
    kind: str = "time"

    @property
    def met(self) -> bool:
        return self.ratio <= self.limit


@dataclass
class Config:
    """How to measure (see the module docstring)."""

    rounds: int = 15
    pause: float = 0.15      # seconds: > OpenBLAS's ≈ 0.1 s of spinning after a call
    block_s: float = 0.1     # target duration of a timed block
    max_calls: int = 2000
    gc: bool = True
    quick: bool = False      # tiny sizes, for the smoke tests


def _block_calls(fn: Callable[[], object], cfg: Config, warm: bool = True) -> int:
    """How many calls make a block of about ``cfg.block_s``: the second of two calls decides,
    the first being the one that imports, fills caches and grows the allocator (only one call
    when not ``warm``: cases of seconds per call)."""
    if warm:
        fn()
    t0 = time.perf_counter()
    fn()
    t = time.perf_counter() - t0
    return max(1, min(cfg.max_calls, round(cfg.block_s / max(t, 1e-9))))


def time_blocks(case: Case, cfg: Config) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Per-call seconds (divided by ``case.per``) of each implementation, one value per round."""
    names = list(case.impls)
    calls = {name: _block_calls(case.impls[name], cfg, case.warmup > 0) for name in names}
    rounds = min(cfg.rounds, case.max_rounds or cfg.rounds)
    times: dict[str, list[float]] = {name: [] for name in names}
    was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()      # the objects alive now (modules, inputs) are never scanned again: a
    try:             # collection in a block costs what the block's own objects cost
        for r in range(rounds):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                fn, n = case.impls[name], calls[name]
                t0 = time.perf_counter()
                gc.collect()                 # each block pays for its own garbage only
                # pause: other libraries' worker threads stop spinning and sleep
                time.sleep(max(0.0, cfg.pause - (time.perf_counter() - t0)))
                for _ in range(case.warmup):
                    fn()
                if cfg.gc:
                    gc.enable()
                else:
                    gc.disable()
                t0 = time.perf_counter()
                for _ in range(n):
                    fn()
                t = time.perf_counter() - t0
                gc.enable()
                times[name].append(t / n / case.per)
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()
        else:
            gc.disable()
    return times, calls


def paired(times: dict[str, list[float]], against: str | None) -> dict[str, Stat | None]:
    """Each implementation's ratio to ``against``, round by round: median and quartiles."""
    if against is None or against not in times:
        return dict.fromkeys(times)
    ref = times[against]
    return {k: Stat.of([t / r for t, r in zip(v, ref)]) for k, v in times.items()}


UNITS = {"ms": 1e3, "µs": 1e6, "s": 1.0}


def measure(case: Case, cfg: Config) -> list[Row]:
    """Time a case in blocks and return one row per implementation, plus its extra rows."""
    times, calls = time_blocks(case, cfg)
    vs_ref = paired(times, case.reference)
    vs_floor = paired(times, case.floor)
    rows = []
    for name, ts in times.items():
        rows.append(Row(case.workload, case.variant, name, case.role(name),
                        Stat.of(ts).scaled(UNITS[case.unit]), case.unit + case.per_label,
                        vs_ref[name], vs_floor[name],
                        case.reference if case.reference in times else None,
                        case.floor if case.floor in times else None,
                        note=case.notes.get(name, ""), calls=calls[name]))
    return rows + case.extra


def goals(case: Case, rows: list[Row]) -> list[Goal]:
    """The case's goals, checked on its rows (the main implementation's paired ratios)."""
    main = next((r for r in rows if r.impl == case.main and r.kind == "time"), None)
    out = []
    for role, limit in case.goals.items():
        if role.startswith("memory:"):            # memory goals: ratio rows carry them
            row = next((r for r in rows if r.kind == "memory" and r.impl == case.main), None)
            if row is not None and row.vs_reference is not None:
                out.append(Goal(case.workload, case.variant, case.main, str(row.reference), limit,
                                row.vs_reference.median, "memory"))
            continue
        stat = None if main is None else {"reference": main.vs_reference,
                                           "floor": main.vs_floor}[role]
        if stat is not None:
            against = case.reference if role == "reference" else case.floor
            out.append(Goal(case.workload, case.variant, case.main, str(against), limit,
                            stat.median))
    return out


def memory_rows(case: Case, peaks: dict[str, float], reference: str, note: str = "",
                notes: dict[str, str] | None = None) -> list[Row]:
    """Rows for peak memory (MiB) of some implementations, as ratios to ``reference``."""
    ref = peaks.get(reference)
    return [Row(case.workload, case.variant, name, case.role(name), Stat(v, v, v), "MiB peak",
                None if not ref else Stat(v / ref, v / ref, v / ref),
                reference=reference if ref else None, kind="memory",
                note=(notes or {}).get(name, note))
            for name, v in peaks.items()]


def peak_traced_mib(fn: Callable[[], object]) -> float:
    """Peak memory of one call traced by tracemalloc, in MiB (NumPy's arrays are traced;
    PyTorch's allocator is not). Inputs made before the call are not counted."""
    import tracemalloc

    fn()
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


# ---------------------------------------------------------------- threads and environment

@contextlib.contextmanager
def pinned_threads(n: int | None) -> Iterator[dict[str, Any]]:
    """Within the block, BLAS (threadpoolctl) and PyTorch use ``n`` threads (default: the
    cores); yields what is in force, for the report header; restores the previous settings."""
    n = n or os.cpu_count() or 1
    info: dict[str, Any] = {"threads requested": n}
    with contextlib.ExitStack() as stack:
        try:
            import numpy  # noqa: F401  (load the BLAS before asking threadpoolctl)
            from threadpoolctl import threadpool_info, threadpool_limits
            stack.enter_context(threadpool_limits(limits=n, user_api="blas"))
        except ImportError:
            threadpool_info = None
        if have("torch"):
            import torch
            before = torch.get_num_threads()
            torch.set_num_threads(n)
            stack.callback(torch.set_num_threads, before)
        if threadpool_info is None:
            info["pools"] = "threadpoolctl not installed: BLAS threads not pinned"
        else:
            info["pools"] = [{k: p.get(k) for k in ("user_api", "internal_api", "prefix",
                                                     "version", "architecture",
                                                     "threading_layer", "num_threads")}
                             for p in threadpool_info()]
        import autograd_lite as al
        if hasattr(al, "set_num_threads"):          # the library's own pool, where it has one
            stack.callback(al.set_num_threads, al.get_num_threads())
            al.set_num_threads(n)
            info["autograd_lite threads"] = n
        yield info


def environment(threads: dict[str, Any], cfg: Config) -> dict[str, Any]:
    """Versions, thread counts, BLAS kernel, the CPU and the measuring settings."""
    import numpy as np

    env: dict[str, Any] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "load average at start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
        "gc": "on" if cfg.gc else "off",
        "rounds": cfg.rounds, "pause s": cfg.pause, "block s": cfg.block_s,
    }
    if have("torch"):
        import torch
        env["torch"] = torch.__version__
        env["torch threads"] = torch.get_num_threads()
    for mod in ("autograd", "micrograd"):
        if have(mod):
            from importlib.metadata import PackageNotFoundError, version
            try:
                env[mod] = version(mod)
            except PackageNotFoundError:
                env[mod] = "?"
    env.update(threads)
    return env


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def blas_summary(env: dict[str, Any]) -> str:
    """One line: the BLAS library, its kernel and threads; PyTorch's threads."""
    parts = []
    pools = env.get("pools")
    if isinstance(pools, list):
        for p in pools:
            if p["user_api"] == "blas":
                parts.append(f"{p['internal_api']} {p['version']} kernel {p['architecture']}, "
                             f"{p['num_threads']} threads ({p['threading_layer']})")
    else:
        parts.append(str(pools))
    if "torch threads" in env:
        parts.append(f"PyTorch {env['torch']} {env['torch threads']} threads")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if env.get(var):
            parts.append(f"{var}={env[var]}")
    return "; ".join(parts)


# ---------------------------------------------------------------- output

def _ratio(s: Stat | None) -> str:
    if s is None:
        return ""
    if s.q1 == s.q3:
        return f"{s.median:.2f}×"
    return f"{s.median:.2f}× [{s.q1:.2f}–{s.q3:.2f}]"


def _value(r: Row) -> str:
    v = r.value
    if r.kind == "memory" or v.q1 == v.q3:
        return f"{v.median:.3g} {r.unit}"
    return f"{v.median:.3g} [{v.q1:.3g}–{v.q3:.3g}] {r.unit}"


_ROLE_MARK = {"main": "**", "reference": "", "floor": "", "kernel": "", "other": ""}


def format_table(rows: list[Row]) -> str:
    """A plain-text table: median [quartiles] and paired ratios to the reference and floor."""
    head = ("workload", "variant", "implementation", "median [q1–q3]", "× reference",
            "× floor", "note")
    body = [(r.workload, r.variant, r.impl, _value(r),
             "reference" if r.role == "reference" and r.kind == "time" else _ratio(r.vs_reference),
             "floor" if r.role == "floor" and r.kind == "time" else _ratio(r.vs_floor), r.note)
            for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(b) for b in body])


def format_markdown(rows: list[Row], goal_list: list[Goal]) -> str:
    """The README table (one row per implementation) and the goals, met or missed."""
    out = ["| workload | implementation | median [q1–q3] | × reference | × floor |",
           "|---|---|---|---|---|"]
    for r in rows:
        mark = _ROLE_MARK[r.role]
        ref = ("reference" if r.role == "reference" and r.kind == "time"
               else _ratio(r.vs_reference))
        flo = "floor" if r.role == "floor" and r.kind == "time" else _ratio(r.vs_floor)
        if r.kind == "memory" and r.vs_reference is not None and r.reference != r.impl:
            ref = f"{ref} {r.reference}"
        name = f"{mark}{r.impl}{mark}"
        out.append(f"| {r.workload} {r.variant} | {name} | {_value(r)} | {ref} | {flo} |")
    if goal_list:
        out += ["", "| workload | goal | measured | |", "|---|---|---|---|"]
        for g in goal_list:
            what = "peak memory" if g.kind == "memory" else "time"
            out.append(f"| {g.workload} {g.variant} | {g.impl} {what} ≤ {g.limit:g}× "
                       f"{g.against} | {g.ratio:.2f}× | {'✔' if g.met else '✘'} |")
    return "\n".join(out)


def format_summary(rows: list[Row], goal_list: list[Goal]) -> str:
    """One markdown row per case: the main implementation's time and its paired ratios to the
    reference and the floor (the kernel's ratio to the floor beside), and the case's goals."""
    out = ["| workload | autograd_lite | × reference | × floor | kernel × floor | goals |",
           "|---|---|---|---|---|---|"]
    cases: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        cases.setdefault((r.workload, r.variant), []).append(r)
    for (workload, variant), rs in cases.items():
        main = next((r for r in rs if r.role == "main" and r.kind == "time"), None)
        if main is None:
            continue
        kernel = next((r for r in rs if r.role == "kernel" and r.kind == "time"), None)
        mem = next((r for r in rs if r.role == "main" and r.kind == "memory"), None)
        gs = [g for g in goal_list if (g.workload, g.variant) == (workload, variant)]
        goal_text = "; ".join(
            f"{'memory ' if g.kind == 'memory' else ''}≤ {g.limit:g}× "
            f"{'floor' if g.against.startswith('floor') else g.against.split()[0]} "
            f"{'✔' if g.met else '✘'}" for g in gs)
        ref = _ratio(main.vs_reference)
        if main.reference:
            ref += f" {main.reference}"
        value = _value(main) + (f"; {mem.value.median:.3g} MiB peak ({mem.note})" if mem else "")
        out.append(f"| {workload} {variant} | {value} | {ref} | {_ratio(main.vs_floor)} | "
                   f"{_ratio(kernel.vs_floor) if kernel else ''} | {goal_text} |")
    return "\n".join(out)


def to_json(env: dict[str, Any], rows: list[Row], goal_list: list[Goal]) -> dict[str, Any]:
    return {"environment": env, "rows": [asdict(r) for r in rows],
            "goals": [asdict(g) for g in goal_list]}
