"""The stability sweep: each form of a function, on inputs scaled over many decades, in float16,
float32 and float64, its gradient error in ULPs against a ``longdouble`` reference.

``stability_sweep(forms, make_inputs, scales, dtypes)`` works for any functions of the same inputs
(a user's own pair too); :func:`sweep_op` runs it for one of :data:`autograd_lite.compare.PAIRS`.
The result is a :class:`SweepTable`: ``str()`` a text table, ``to_csv``, and ``plot`` (matplotlib,
the ``plot`` extra) — error against scale, one line per form and dtype, overflow (NaN/inf) and
underflow (significant gradient entries flushed to 0) marked.

The error of a gradient is normwise: ``max |g − g_ref|`` in units in the last place of the dtype
at ``max |g_ref|``, so 1 ULP is as exact as the dtype allows and ``2**p`` (p the mantissa bits)
means no correct digit left.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .compare import PAIRS
from .tensor import Tensor

__all__ = ["stability_sweep", "sweep_op", "SweepTable", "SweepRow", "SCALES", "DTYPES"]

SCALES = tuple(float(s) for s in 10.0 ** np.arange(-3, 5.5, 0.5))   # 1e-3 … 1e5
DTYPES = ("float16", "float32", "float64")


@dataclass
class SweepRow:
    """One form, one dtype, one scale."""

    form: str
    dtype: str
    scale: float
    ulps: float        # normwise gradient error in ULPs (inf: a NaN or inf gradient)
    status: str        # "ok", "overflow" (NaN/inf), "underflow" (gradient flushed to 0), "error"


@dataclass
class SweepTable:
    """The rows of a :func:`stability_sweep`; ``str()``, :meth:`to_csv`, :meth:`plot`."""

    rows: list[SweepRow]
    title: str = "stability sweep"
    scale_means: str = "inputs × scale"

    def series(self) -> dict[tuple[str, str], list[SweepRow]]:
        """The rows by (form, dtype), in scale order."""
        out: dict[tuple[str, str], list[SweepRow]] = {}
        for r in self.rows:
            out.setdefault((r.form, r.dtype), []).append(r)
        return out

    def __str__(self) -> str:
        series = self.series()
        head = ["scale"] + [f"{f} {d}" for f, d in series]
        scales = sorted({r.scale for r in self.rows})
        cells = {(r.form, r.dtype, r.scale): _cell(r) for r in self.rows}
        body = [[f"{s:g}"] + [cells.get((f, d, s), "") for f, d in series] for s in scales]
        widths = [max(len(c) for c in col) for col in zip(head, *body)]
        line = lambda cs: "  ".join(c.rjust(w) for c, w in zip(cs, widths))
        return "\n".join([f"{self.title} — gradient error in ULPs ({self.scale_means})",
                          line(head), line(["-" * w for w in widths])] + [line(b) for b in body]
                         + ["(ovf: NaN/inf gradient; unf: significant entries flushed to 0)"])

    def to_csv(self, path: Any = None) -> str:
        """The rows as CSV (written to ``path`` if given); returns the text."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["form", "dtype", "scale", "ulps", "status"])
        for r in self.rows:
            w.writerow([r.form, r.dtype, f"{r.scale:g}", f"{r.ulps:.6g}", r.status])
        text = buf.getvalue()
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    def plot(self, path: Any = None, ax: Any = None) -> Any:
        """Error (ULPs, log scale) against scale, one line per form (colour) and dtype (line
        style); NaN/inf marked ✕ on the top edge, underflow ▼. Needs matplotlib; saves to ``path``
        if given; returns the figure."""
        if ax is None:
            import matplotlib.pyplot as plt
            fig, ax = plt.subplots(figsize=(7.5, 5.2))
        else:
            fig = ax.figure
        forms = list(dict.fromkeys(r.form for r in self.rows))
        dtypes = list(dict.fromkeys(r.dtype for r in self.rows))
        finite = [r.ulps for r in self.rows if np.isfinite(r.ulps)]
        top = max([10.0] + finite) * 10
        styles = ["-", "--", ":", "-."]
        colors = ["C0", "C3", "C2", "C1", "C4"]
        for (form, dtype), rows in self.series().items():
            c, ls = colors[forms.index(form) % 5], styles[dtypes.index(dtype) % 4]
            xs = [r.scale for r in rows]
            ys = [max(r.ulps, 0.5) if np.isfinite(r.ulps) else np.nan for r in rows]
            ax.plot(xs, ys, ls, color=c, marker=".", label=f"{form} {dtype}")
            bad = [r.scale for r in rows if r.status == "overflow"]
            ax.plot(bad, [top * 2.0 ** dtypes.index(dtype)] * len(bad), "x", color=c, ms=7)
            low = [(r.scale, max(r.ulps, 0.5)) for r in rows if r.status == "underflow"]
            if low:
                ax.plot(*zip(*low), "v", color=c, ms=7)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.axhline(top, color="0.8", lw=0.8)
        ax.set_xlabel(f"scale ({self.scale_means})")
        ax.set_ylabel("gradient error (ULPs)")
        ax.set_title(f"{self.title}\n✕ NaN/inf gradient, ▼ underflow", fontsize=9)
        ax.legend(fontsize=7, ncol=len(forms), loc="upper center", bbox_to_anchor=(0.5, -0.16))
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=110)
        return fig

    def save(self, path: str) -> str:
        """A plot when ``path`` ends in ``.png``/``.svg``/``.pdf`` and matplotlib is installed,
        else CSV (``path`` with a ``.csv`` suffix). Returns the path written."""
        import os
        root, ext = os.path.splitext(path)
        if ext.lower() in (".png", ".svg", ".pdf"):
            try:
                import matplotlib
                matplotlib.use("Agg")
                import matplotlib.pyplot as plt
            except ImportError:
                path = root + ".csv"
            else:
                plt.close(self.plot(path))
                return path
        self.to_csv(path)
        return path

    def _repr_html_(self) -> str:
        import html
        return f"<pre>{html.escape(str(self))}</pre>"


def _cell(r: SweepRow) -> str:
    if r.status == "overflow":
        return "ovf"
    if r.status == "error":
        return "err"
    return f"{r.ulps:.3g}" + (" unf" if r.status == "underflow" else "")


def _run(fn: Callable, arrays: list, u: Any) -> list:
    leaves = [Tensor(a, requires_grad=True) if a.dtype.kind == "f" else a for a in arrays]
    with np.errstate(all="ignore"):
        out = fn(*leaves)
        out.backward(np.broadcast_to(np.asarray(u, out.dtype), out.shape).copy())
    return [leaf.grad.data if leaf.grad is not None else np.zeros(leaf.shape, leaf.dtype)
            for leaf in leaves if isinstance(leaf, Tensor)]


def _error(grads: list, refs: list, dtype: np.dtype) -> tuple[float, str]:
    if not all(np.isfinite(g).all() for g in grads):
        return float("inf"), "overflow"
    worst, status = 0.0, "ok"
    for g, ref in zip(grads, refs):
        ref = ref.astype(np.longdouble)
        big = float(np.max(np.abs(ref))) if ref.size else 0.0
        delta = float(np.max(np.abs(g.astype(np.longdouble) - ref))) if ref.size else 0.0
        info = np.finfo(dtype)   # below the smallest normal number a gradient is 0 to the dtype
        unit = float(np.spacing(dtype.type(min(max(big, float(info.tiny)), float(info.max)))))
        worst = max(worst, delta / unit if delta else 0.0)
        floor = max(big * 2.0 ** -10, float(np.finfo(dtype).tiny))   # representable, significant
        if big and ((g == 0) & (np.abs(ref) > floor)).any():
            status = "underflow"
    return worst, status


def stability_sweep(forms: dict[str, Callable[..., Tensor]], make_inputs: Callable[..., list],
                    scales: Sequence[float] = SCALES, dtypes: Sequence[Any] = DTYPES, *,
                    reference: Callable[..., Tensor] | None = None, seed: int = 0,
                    title: str = "stability sweep", scale_means: str = "inputs × scale"
                    ) -> SweepTable:
    """Each form's gradient error, in ULPs, over ``scales`` × ``dtypes``.

    ``make_inputs(scale, rng)`` returns float64 arrays (the same draws at every scale: the rng is
    re-seeded); float arrays are rounded to each dtype and differentiated, others pass through.
    The reference is ``reference`` (default: the first form) run in ``longdouble`` on the same
    rounded inputs; a fixed random upstream gradient is backpropagated.

    Example
    -------
    >>> from autograd_lite.fused import softmax
    >>> t = stability_sweep({"fused": softmax, "naive": lambda x: softmax(x, naive=True)},
    ...                     lambda s, rng: [s * rng.standard_normal(4)], [1.0, 1e3], ["float32"])
    >>> [r.status for r in t.rows]            # fused at 1, 1e3; naive at 1, 1e3
    ['ok', 'ok', 'ok', 'overflow']
    """
    if not forms:
        raise ValueError("stability_sweep: no forms to sweep")
    reference = reference or next(iter(forms.values()))
    rows = []
    for name, fn in forms.items():
        for dtype in map(np.dtype, dtypes):
            for scale in scales:
                rng = np.random.default_rng(seed)
                with np.errstate(all="ignore"):   # float16 overflows at 65504: inputs become inf
                    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a
                              for a in make_inputs(scale, rng)]
                high = [a.astype(np.longdouble) if a.dtype.kind == "f" else a for a in arrays]
                try:
                    with np.errstate(all="ignore"):
                        shape = fn(*[Tensor(a) if a.dtype.kind == "f" else a for a in arrays]).shape
                    u = np.random.default_rng(seed + 1).standard_normal(shape)
                    refs = _run(reference, high, u)
                    grads = _run(fn, arrays, u.astype(dtype))
                except (ValueError, ArithmeticError) as e:
                    rows.append(SweepRow(name, dtype.name, float(scale), float("nan"),
                                         f"error: {e}"[:60]))
                    continue
                with np.errstate(all="ignore"):
                    ulps, status = _error(grads, refs, dtype)
                rows.append(SweepRow(name, dtype.name, float(scale), ulps, status))
    return SweepTable(rows, title, scale_means)


def sweep_op(op: str, scales: Sequence[float] = SCALES, dtypes: Sequence[Any] = DTYPES, *,
             seed: int = 0, **sizes: Any) -> SweepTable:
    """:func:`stability_sweep` of every form of ``PAIRS[op]`` (fused, composed, naive/stable
    composed), the fused form in ``longdouble`` the reference. Small default sizes.

    Example
    -------
    >>> t = sweep_op("bce_with_logits", [1.0, 100.0], ["float64"], batch=4, classes=3)
    >>> [(r.form, r.scale, r.status) for r in t.rows if r.form == "composed"]
    [('composed', 1.0, 'ok'), ('composed', 100.0, 'overflow')]
    """
    if op not in PAIRS:
        raise ValueError(f"sweep_op: unknown op {op!r}; expected one of {', '.join(PAIRS)}")
    pair = PAIRS[op]
    sizes = {"batch": 16, "classes": 10, "seq": 32, "dim": 8, **sizes}
    return stability_sweep(pair.forms, lambda s, rng: pair.make_inputs(s, rng, **sizes), scales,
                           dtypes, seed=seed, title=f"{op} ({pair.describe(**sizes)})",
                           scale_means=pair.scale_means)
