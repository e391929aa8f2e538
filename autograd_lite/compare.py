"""Two implementations of one function, side by side: ``compare_gradients``.

Made for fused vs composed softmax cross-entropy, usable for any pair of functions of the same
inputs. The report holds the outputs and their difference, each input's gradient difference
(absolute, relative and in ULPs of the input's dtype), the size of each graph (nodes, and bytes of
the arrays it keeps alive) and median forward and backward times. ``str(report)`` is a plain-text
table; in a notebook the report shows as an HTML table.

:func:`random_logits` and :func:`softmax_stability` are what ``autograd-lite compare`` runs: the
logits it draws (options checked first, and the memory the comparison needs estimated by
:func:`estimate_memory`) and what the naive softmax (no max subtraction) gives against the
stable one.
"""

from __future__ import annotations

import gc
import html
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .preflight import OptionError, check_memory, finite_float, nonnegative_int, positive_int
from .tensor import Tensor
from .viz import graph_stats

__all__ = ["compare_gradients", "GradientReport", "GradientDiff", "Implementation",
           "random_logits", "estimate_memory", "softmax_stability", "Stability", "PAIRS",
           "Pair", "PairReport", "compare_op", "peak_memory"]


@dataclass
class Implementation:
    """What one implementation produced and cost."""

    name: str
    value: np.ndarray        # the output
    nodes: int               # graph_stats(out).nodes: values (inputs, constants) + ops
    graph_bytes: int         # bytes of the arrays its graph keeps alive, the inputs' excluded
    forward_s: float         # median seconds to build the output (and its graph)
    backward_s: float        # median seconds of backward()


@dataclass
class GradientDiff:
    """How far apart the two gradients of one input are (maxima over its elements)."""

    input: int
    shape: tuple
    dtype: str
    max_abs: float
    max_rel: float           # |a − b| / max(|a|, |b|)
    max_ulps: float          # |a − b| in units in the last place of ``dtype`` at max(|a|, |b|)


@dataclass
class GradientReport:
    """The result of :func:`compare_gradients`; ``str()`` for terminals, HTML in notebooks."""

    a: Implementation
    b: Implementation
    value_diff: float        # max |a − b| over the outputs
    gradients: list[GradientDiff]

    def summary_rows(self) -> list[tuple[str, str, str, str]]:
        """(quantity, first, second, difference or ratio second/first)."""
        a, b = self.a, self.b
        return [
            ("output", _value(a.value), _value(b.value), f"|Δ| {self.value_diff:.3g}"),
            ("graph nodes", str(a.nodes), str(b.nodes), _ratio(b.nodes, a.nodes)),
            ("graph bytes", _bytes(a.graph_bytes), _bytes(b.graph_bytes),
             _ratio(b.graph_bytes, a.graph_bytes)),
            ("forward (median)", _seconds(a.forward_s), _seconds(b.forward_s),
             _ratio(b.forward_s, a.forward_s)),
            ("backward (median)", _seconds(a.backward_s), _seconds(b.backward_s),
             _ratio(b.backward_s, a.backward_s)),
        ]

    def gradient_rows(self) -> list[tuple[str, str, str, str, str]]:
        """(input, shape and dtype, max abs diff, max rel diff, max ULPs)."""
        return [(str(d.input), f"{d.shape} {d.dtype}", f"{d.max_abs:.3g}", f"{d.max_rel:.3g}",
                 f"{d.max_ulps:.3g}") for d in self.gradients]

    def _tables(self) -> Iterator[tuple[tuple[str, ...], list]]:
        head = ("", self.a.name, self.b.name, f"difference / {self.b.name}÷{self.a.name}")
        yield head, self.summary_rows()
        yield (("gradient of input", "shape, dtype", "max |Δ|", "max relative", "max ULPs"),
               self.gradient_rows())

    def __str__(self) -> str:
        title = f"compare_gradients: {self.a.name} vs {self.b.name}"
        return "\n\n".join([title] + [_text_table(h, r) for h, r in self._tables()])

    def _repr_html_(self) -> str:
        title = f"<p><b>compare_gradients</b>: {html.escape(self.a.name)} vs " \
                f"{html.escape(self.b.name)}</p>"
        return title + "".join(_html_table(h, r) for h, r in self._tables())


def compare_gradients(f: Callable[..., Tensor], g: Callable[..., Tensor], *inputs: Any,
                      names: Sequence[str] = ("fused", "composed"),
                      repeat: int = 20) -> GradientReport:
    """Run ``f`` and ``g`` on the same inputs and report how their outputs, gradients, graphs and
    timings differ.

    Floating-point inputs become leaves that require grad (sharing the data, not copied); other
    inputs (e.g. integer class targets) are passed through unchanged. A non-scalar output is
    backpropagated with a gradient of ones. Times are medians over ``repeat`` rounds, ``f`` and
    ``g`` taking turns, with the garbage collector paused.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> z, y = rng.normal(size=(64, 10)), rng.integers(0, 10, 64)
    >>> report = compare_gradients(lambda z: al.cross_entropy(z, y),
    ...                            lambda z: al.cross_entropy(z, y, fused=False), z)
    >>> print(str(report).splitlines()[0])
    compare_gradients: fused vs composed
    >>> "graph nodes        4          17" in str(report)    # one fused node vs the composition
    True
    """
    for name, fn in (("f", f), ("g", g)):
        if not callable(fn):
            raise TypeError(f"compare_gradients: {name} must be callable, got "
                            f"{type(fn).__name__}")
    if len(names) != 2:
        raise ValueError(f"compare_gradients: names must be two strings, got {names!r}")
    if repeat < 1:
        raise ValueError(f"compare_gradients: repeat must be at least 1, got {repeat}")
    arrays = [x._data if isinstance(x, Tensor) else np.asarray(x) for x in inputs]
    for i, a in enumerate(arrays):
        if a.dtype.kind not in "biuf":
            raise TypeError(f"compare_gradients: input {i} must be numbers, got "
                            f"{type(inputs[i]).__name__} with dtype {a.dtype}")
    diff = [a.dtype.kind == "f" for a in arrays]
    if not any(diff):
        raise ValueError("compare_gradients: no floating-point input to differentiate")

    def run(fn: Callable, name: str) -> tuple[Tensor, list, float, float]:
        leaves = [Tensor(a, requires_grad=True) if d else a for a, d in zip(arrays, diff)]
        t0 = time.perf_counter()
        out = fn(*leaves)
        t1 = time.perf_counter()
        if not isinstance(out, Tensor) or not out.requires_grad:
            raise TypeError(f"compare_gradients: {name} must return a Tensor that depends on "
                            f"its floating-point inputs, got {type(out).__name__}")
        out.backward(np.ones(out.shape, dtype=out.dtype))
        t2 = time.perf_counter()
        return out, leaves, t1 - t0, t2 - t1

    fns = dict(zip(names, (f, g)))
    first = {name: run(fn, name) for name, fn in fns.items()}   # also a warm-up
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for name, fn in fns.items():
                times[name].append(run(fn, name)[2:])
    finally:
        if was_enabled:
            gc.enable()

    sides = []
    for name in names:
        out, _, _, _ = first[name]
        fwd = statistics.median(t for t, _ in times[name])
        bwd = statistics.median(t for _, t in times[name])
        stats = graph_stats(out, exclude=arrays)   # bytes the graph adds to the inputs
        sides.append(Implementation(name, out._data, stats.nodes, stats.bytes, fwd, bwd))
    a, b = sides
    if a.value.shape != b.value.shape:
        raise ValueError(f"compare_gradients: {a.name} returned shape {a.value.shape} but "
                         f"{b.name} returned {b.value.shape}; they must compute the same thing")
    value_diff = _max(np.abs(a.value.astype(np.float64) - b.value.astype(np.float64)))
    grads = []
    for i, d in enumerate(diff):
        if d:
            ga, gb = (_grad(first[name][1][i]) for name in names)
            grads.append(_gradient_diff(i, ga, gb, arrays[i].dtype))
    return GradientReport(a, b, value_diff, grads)


# ---------------------------------------------------------------------------------------------
# What `autograd-lite compare` runs

DTYPES = ("float32", "float64")


def random_logits(batch: int, classes: int, *, dtype: str = "float32", seed: int = 0,
                  scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Logits ``scale × N(0, 1)`` of shape ``(batch, classes)`` and random integer targets,
    from ``seed``. Every option is checked first, and sizes whose comparison would not fit in
    the available memory (:func:`estimate_memory`) are refused before anything is allocated
    (:class:`~autograd_lite.preflight.OptionError`).

    Example
    -------
    >>> z, y = random_logits(4, 3, scale=1000.0)
    >>> z.shape, z.dtype, y.shape
    ((4, 3), dtype('float32'), (4,))
    """
    positive_int("batch", batch)
    positive_int("classes", classes)
    nonnegative_int("seed", seed)
    finite_float("scale", scale)
    if dtype not in DTYPES:
        raise OptionError("dtype", f"expected one of {', '.join(DTYPES)}, got {dtype!r}")
    check_memory("batch", estimate_memory(batch, classes, dtype),
                 f"comparing fused and composed cross-entropy on ({batch}, {classes}) {dtype} "
                 f"logits")
    rng = np.random.default_rng(seed)
    z = (scale * rng.standard_normal((batch, classes))).astype(dtype)
    return z, rng.integers(0, classes, batch)


def estimate_memory(batch: int, classes: int, dtype: str = "float32") -> int:
    """Bytes comparing fused and composed cross-entropy on ``(batch, classes)`` logits needs,
    slightly over-estimated: the peak measured with tracemalloc is about 77 bytes per logit in
    float32 and 97 in float64 (the float64 draw, both graphs and their gradients)."""
    return batch * classes * (40 + 10 * np.dtype(dtype).itemsize)


@dataclass
class Stability:
    """The naive softmax (no max subtraction) against the stable one, on the same logits."""

    naive: float             # naive cross-entropy (may be nan or inf)
    stable: float            # the composed, max-subtracted cross-entropy
    limit: float             # exp overflows above this in ``dtype``
    largest: float           # the largest logit
    dtype: str

    def __str__(self) -> str:
        return (f"naive softmax (no max subtraction): loss {self.naive:.8g}\n"
                f"stable (max subtracted first):      loss {self.stable:.8g}\n"
                f"exp overflows above {self.limit:.1f} in {self.dtype}; the largest logit here "
                f"is {self.largest:.4g}")


def softmax_stability(logits: Any, target: Any) -> Stability:
    """Cross-entropy with the naive softmax and with the stable one, and why they differ.

    Example
    -------
    >>> print(softmax_stability(*random_logits(8, 3, scale=1000.0)))
    naive softmax (no max subtraction): loss nan
    ...
    """
    from .functional import cross_entropy, naive_cross_entropy

    z = logits._data if isinstance(logits, Tensor) else np.asarray(logits)
    with np.errstate(all="ignore"):
        naive = naive_cross_entropy(z, target).item()
    stable = cross_entropy(z, target, fused=False).item()
    return Stability(naive, stable, float(np.log(np.finfo(z.dtype).max)), float(np.max(z)),
                     str(z.dtype))


# ---------------------------------------------------------------------------------------------
# Measures


def _grad(leaf: Tensor) -> np.ndarray:
    return np.zeros(leaf.shape, leaf.dtype) if leaf.grad is None else leaf.grad._data


def _max(x: np.ndarray) -> float:
    return float(np.max(x)) if x.size else 0.0


def _gradient_diff(i: int, ga: np.ndarray, gb: np.ndarray, dtype: np.dtype) -> GradientDiff:
    a, b = ga.astype(np.float64), gb.astype(np.float64)
    delta = np.abs(a - b)
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(delta == 0, 0.0, delta / scale)
        ulps = np.where(delta == 0, 0.0, delta / np.spacing(scale.astype(dtype)))
    return GradientDiff(i, tuple(ga.shape), str(dtype), _max(delta), _max(rel), _max(ulps))


# ---------------------------------------------------------------------------------------------
# Formatting


def _value(v: np.ndarray) -> str:
    return f"{v.item():.8g}" if v.size == 1 else f"array{v.shape}"


def _ratio(x: float, y: float) -> str:
    return f"{x / y:.2f}×" if y else "–"


def _bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} KiB" if n < 1024 ** 2 else f"{n / 1024 ** 2:.1f} MiB"


def _seconds(t: float) -> str:
    return f"{t * 1e6:.1f} µs" if t < 1e-3 else f"{t * 1e3:.2f} ms"


def _text_table(head: Sequence[str], rows: list) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _html_table(head: Sequence[str], rows: list) -> str:
    cell = lambda tag, c: f"<{tag}>{html.escape(str(c))}</{tag}>"
    th = "".join(cell("th", c) for c in head)
    body = "".join("<tr>" + "".join(cell("td", c) for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


# ---------------------------------------------------------------------------------------------
# The fusion lab: every fused/composed pair, compared the same way


@dataclass(frozen=True)
class Pair:
    """One fused op and its twins: ``forms`` maps a form's name (``"fused"``, ``"composed"``, and
    ``"naive"`` or ``"stable composed"`` where one exists) to ``f(*inputs) -> Tensor``;
    ``make_inputs(scale, rng, **sizes)`` draws float64 inputs (floats are differentiated, integer
    arrays pass through); ``scale_means`` says what the sweep's scale multiplies."""

    name: str
    forms: dict
    make_inputs: Callable[..., list]
    describe: Callable[..., str]
    scale_means: str


def _ce_pair() -> Pair:
    from .functional import cross_entropy, naive_cross_entropy

    def make(scale: float, rng: np.random.Generator, batch: int = 64, classes: int = 10,
             **_: Any) -> list:
        return [scale * rng.standard_normal((batch, classes)), rng.integers(0, classes, batch)]
    return Pair("cross_entropy",
                {"fused": lambda z, y: cross_entropy(z, y),
                 "composed": lambda z, y: cross_entropy(z, y, fused=False),
                 "naive": lambda z, y: naive_cross_entropy(z, y)}, make,
                lambda batch=64, classes=10, **_: f"({batch}, {classes}) logits, class targets, "
                "mean", "logits = scale × N(0, 1)")


def _log_softmax_pair() -> Pair:
    from . import fused
    from .functional import softmax

    def make(scale: float, rng: np.random.Generator, batch: int = 64, classes: int = 10,
             **_: Any) -> list:
        return [scale * rng.standard_normal((batch, classes))]
    return Pair("log_softmax",
                {"fused": lambda z: fused.log_softmax(z),
                 "composed": lambda z: fused.log_softmax(z, fused=False),
                 "naive": lambda z: softmax(z, naive=True).log()}, make,
                lambda batch=64, classes=10, **_: f"({batch}, {classes}) logits, last axis",
                "logits = scale × N(0, 1)")


def _bce_pair() -> Pair:
    from . import fused

    def make(scale: float, rng: np.random.Generator, batch: int = 64, classes: int = 10,
             **_: Any) -> list:
        return [scale * rng.standard_normal((batch, classes)),
                (rng.random((batch, classes)) < 0.5).astype(np.float64)]
    bce = fused.binary_cross_entropy_with_logits
    return Pair("bce_with_logits",
                {"fused": lambda z, y: bce(z, y),
                 "composed": lambda z, y: bce(z, y, fused=False),
                 "stable composed": lambda z, y: fused.stable_composed(z, y)}, make,
                lambda batch=64, classes=10, **_: f"({batch}, {classes}) logits, 0/1 targets, "
                "mean", "logits = scale × N(0, 1)")


def _layer_norm_pair() -> Pair:
    from . import fused

    def make(scale: float, rng: np.random.Generator, batch: int = 64, classes: int = 10,
             **_: Any) -> list:
        return [scale * (3 + rng.standard_normal((batch, classes))),
                rng.standard_normal(classes), rng.standard_normal(classes)]
    return Pair("layer_norm",
                {"fused": lambda x, w, b: fused.layer_norm(x, x.shape[-1], w, b),
                 "composed": lambda x, w, b: fused.layer_norm(x, x.shape[-1], w, b, fused=False)},
                make, lambda batch=64, classes=10, **_: f"({batch}, {classes}) input, weight "
                "and bias", "x = scale × (3 + N(0, 1))")


def _attention_pair() -> Pair:
    from . import fused
    from .functional import softmax

    def make(scale: float, rng: np.random.Generator, seq: int = 128, dim: int = 16,
             **_: Any) -> list:
        q = rng.standard_normal((seq, dim)) * np.sqrt(scale)
        return [q, rng.standard_normal((seq, dim)) * np.sqrt(scale),
                rng.standard_normal((seq, dim))]
    sdpa = fused.scaled_dot_product_attention
    return Pair("attention",
                {"fused": lambda q, k, v: sdpa(q, k, v),
                 "composed": lambda q, k, v: sdpa(q, k, v, fused=False),
                 "naive": lambda q, k, v: softmax(q @ k.mT / np.sqrt(q.shape[-1]),
                                                  naive=True) @ v}, make,
                lambda seq=128, dim=16, **_: f"q, k, v of shape ({seq}, {dim})",
                "q, k = √scale × N(0, 1): scores of order scale")


PAIRS: dict[str, Pair] = {p.name: p for p in (_ce_pair(), _log_softmax_pair(), _bce_pair(),
                                              _layer_norm_pair(), _attention_pair())}


@dataclass
class PairReport:
    """:func:`compare_op`'s result: the :class:`GradientReport` of the fused and composed forms
    plus graph edges and peak memory during forward + backward."""

    title: str
    report: GradientReport
    edges: tuple[int, int]
    peak: tuple[int, int]
    graphs: tuple = ()        # the two outputs, for drawing side by side in HTML

    def extra_rows(self) -> list[tuple[str, str, str, str]]:
        (ea, eb), (pa, pb) = self.edges, self.peak
        return [("graph edges", str(ea), str(eb), _ratio(eb, ea)),
                ("peak memory (fwd + bwd)", _bytes(pa), _bytes(pb), _ratio(pb, pa))]

    def __str__(self) -> str:
        r = self.report
        head = ("", r.a.name, r.b.name, f"difference / {r.b.name}÷{r.a.name}")
        return f"{self.title}\n\n{r}\n\n{_text_table(head, self.extra_rows())}"

    def _repr_html_(self) -> str:
        r = self.report
        head = ("", r.a.name, r.b.name, f"{r.b.name}÷{r.a.name}")
        out = f"<p><b>{html.escape(self.title)}</b></p>{r._repr_html_()}" \
              f"{_html_table(head, self.extra_rows())}"
        return out + _side_by_side_svg(dict(zip((r.a.name, r.b.name), self.graphs)))


def _side_by_side_svg(roots: dict) -> str:
    """Both graphs in one SVG picture (empty without Graphviz's ``dot``)."""
    if not roots:
        return ""
    from . import viz
    try:
        return viz.draw_side_by_side(roots).pipe(format="svg").decode()
    except Exception:   # no dot program: the tables stand alone
        return ""


def peak_memory(fn: Callable[..., Tensor], *inputs: Any) -> int:
    """Peak bytes allocated while ``fn(*inputs)`` runs forward and backward (``tracemalloc``;
    float inputs become fresh leaves sharing their data, so they are not counted)."""
    import tracemalloc
    leaves = [Tensor(a, requires_grad=True) if np.asarray(a).dtype.kind == "f" else a
              for a in inputs]
    gc.collect()
    tracemalloc.start()
    try:
        out = fn(*leaves)
        out.backward(np.ones(out.shape, out.dtype))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def compare_op(op: str = "cross_entropy", *, dtype: Any = np.float32, scale: float = 1.0,
               seed: int = 0, repeat: int = 20, **sizes: Any) -> PairReport:
    """Compare the fused and composed forms of one of :data:`PAIRS` on random inputs: output and
    gradient differences, graph nodes, edges and bytes, peak memory, median times.

    ``sizes``: ``batch``, ``classes`` (cross_entropy, log_softmax, bce_with_logits, layer_norm:
    its features) or ``seq``, ``dim`` (attention).

    Example
    -------
    >>> r = compare_op("layer_norm", dtype=np.float64, batch=8, classes=4, repeat=2)
    >>> (r.report.a.nodes, r.report.b.nodes), r.edges      # nodes and edges: fused, composed
    ((5, 27), (4, 30))
    """
    if op not in PAIRS:
        raise ValueError(f"compare_op: unknown op {op!r}; expected one of {', '.join(PAIRS)}")
    pair = PAIRS[op]
    rng = np.random.default_rng(seed)
    inputs = [a.astype(dtype) if a.dtype.kind == "f" else a
              for a in pair.make_inputs(scale, rng, **sizes)]
    fused, composed = pair.forms["fused"], pair.forms["composed"]
    report = compare_gradients(fused, composed, *inputs, repeat=repeat)
    leaves = [Tensor(a, requires_grad=True) if a.dtype.kind == "f" else a for a in inputs]
    outs = (fused(*leaves), composed(*leaves))
    edges = tuple(graph_stats(o).edges for o in outs)
    peaks = (peak_memory(fused, *inputs), peak_memory(composed, *inputs))
    title = (f"{op}: {pair.describe(**sizes)}, {np.dtype(dtype).name}, "
             f"{pair.scale_means.replace('scale', f'{scale:g}')} (seed {seed})")
    return PairReport(title, report, edges, peaks, outs)
