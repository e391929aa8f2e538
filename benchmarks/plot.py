"""The ratios figure: each workload's headline row against its reference library and its floor.

``python -m benchmarks --plot`` draws it after a run (``--from-json run.json --plot`` redraws a
saved run). One horizontal bar pair per case, on a log scale: the paired median ratio of the
``main`` implementation to the reference library (PyTorch, or micrograd for Scalar workloads)
and to the hand-written NumPy floor, with the quartiles as error bars; 1× is marked.
"""

from __future__ import annotations

from .common import Row


def plot_ratios(rows: list[Row], path: str, title: str = "") -> None:
    """Draw the figure to ``path`` (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mains = [r for r in rows if r.role == "main" and r.kind == "time"]
    labels = [f"{r.workload} {r.variant}" for r in mains]
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(mains) + 1.6))
    height = 0.38
    right = 1.0
    for k, (attr, color, name) in enumerate((("vs_reference", "tab:blue", "× reference library"),
                                             ("vs_floor", "tab:orange", "× hand-NumPy floor"))):
        ys, meds, errs = [], [], [[], []]
        for i, r in enumerate(mains):
            s = getattr(r, attr)
            if s is None:
                continue
            ys.append(i + (k - 0.5) * height)
            meds.append(s.median)
            errs[0].append(s.median - s.q1)
            errs[1].append(s.q3 - s.median)
        ax.barh(ys, meds, height=height, color=color, label=name, xerr=errs, capsize=2)
        for y, m, up in zip(ys, meds, errs[1]):
            ax.text((m + up) * 1.06, y, f"{m:.2f}×", va="center", fontsize=7)
        right = max([right, *(m + u for m, u in zip(meds, errs[1]))])
    ax.set_xscale("log")
    ax.set_xlim(right=right * 2.2)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(mains)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("autograd_lite time / other time (paired medians; < 1 is faster)")
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
