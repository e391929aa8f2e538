"""Run the benchmarks: ``python -m benchmarks [NAME ...] [options]``.

Each workload is a module ``benchmarks/<name>.py`` listed in ``WORKLOADS``, with a function
``cases(quick: bool = False) -> Iterable[Case]`` (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence

from .common import (
    Config,
    Goal,
    Row,
    blas_summary,
    environment,
    format_markdown,
    format_summary,
    format_table,
    goals,
    measure,
    pinned_threads,
    to_json,
)

WORKLOADS = ["softmax_ce", "mlp_step", "op_overhead", "chain_1e6", "hessian", "train_epoch",
             "scalar_mlp", "fusion"]


def run(names: Sequence[str], cfg: Config, progress: bool = False
        ) -> tuple[list[Row], list[Goal]]:
    """Measure every case of the named workloads; return the rows and the checked goals."""
    rows: list[Row] = []
    goal_list: list[Goal] = []
    for name in names:
        mod = importlib.import_module(f"benchmarks.{name}")
        for case in mod.cases(quick=cfg.quick):
            if progress:
                print(f"# {case.workload} {case.variant} ...", file=sys.stderr, flush=True)
            case_rows = measure(case, cfg)
            rows += case_rows
            goal_list += goals(case, case_rows)
    return rows, goal_list


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("names", nargs="*", help=f"workloads to run (default: all of {WORKLOADS})")
    p.add_argument("--rounds", type=int, default=None, help="timed rounds per case (default 15)")
    p.add_argument("--repeat", type=int, dest="rounds", help=argparse.SUPPRESS)  # old name
    p.add_argument("--gc", choices=("on", "off"), default="on",
                   help="the garbage collector during timed blocks (default on, as users run; "
                        "off for the engine-only view)")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS and PyTorch threads (default: the number of cores)")
    p.add_argument("--pause", type=float, default=None,
                   help="seconds of pause before each block (default 0.15)")
    p.add_argument("--block", type=float, default=None,
                   help="target seconds per timed block (default 0.1)")
    p.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test, not a measure)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--markdown", metavar="PATH", help="also write the README table (markdown)")
    p.add_argument("--plot", metavar="PATH", nargs="?", const="benchmarks/ratios.png",
                   help="also draw the ratios figure (default path benchmarks/ratios.png)")
    p.add_argument("--from-json", metavar="PATH",
                   help="do not measure: render the table, markdown and figure from a saved run")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    names = args.names or WORKLOADS
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        p.error(f"unknown workload(s) {unknown}; choose from {WORKLOADS}")
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        env = saved["environment"]
        rows = [Row.from_dict(r) for r in saved["rows"]]
        goal_list = [Goal(**g) for g in saved["goals"]]
    else:
        cfg = Config(gc=args.gc == "on", quick=args.quick)
        if args.quick:
            cfg.rounds, cfg.pause, cfg.block_s = 2, 0.0, 0.002
        for opt, attr in (("rounds", "rounds"), ("pause", "pause"), ("block", "block_s")):
            if getattr(args, opt) is not None:
                setattr(cfg, attr, getattr(args, opt))
        with pinned_threads(args.threads) as threads:
            env = environment(threads, cfg)
            print(header(env), flush=True)
            rows, goal_list = run(names, cfg, progress=True)
    print(format_table(rows))
    if goal_list:
        print()
        print("\n".join(f"goal {'met   ' if g.met else 'MISSED'} {g.workload} {g.variant}: "
                        f"{g.impl} {g.ratio:.2f}× {g.against} (≤ {g.limit:g}×)"
                        for g in goal_list))
    if args.json and not args.from_json:
        with open(args.json, "w") as f:
            json.dump(to_json(env, rows, goal_list), f, indent=1, ensure_ascii=False)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(header(env, markdown=True) + "\n\n" + format_summary(rows, goal_list)
                    + "\n\nEvery row:\n\n" + format_markdown(rows, goal_list) + "\n")
    if args.plot:
        from .plot import plot_ratios
        plot_ratios(rows, args.plot, title=blas_summary(env))
    return 0


def header(env: dict, markdown: bool = False) -> str:
    """What ran where: versions, threads, BLAS kernel, settings."""
    lines = [f"CPU {env['cpu']} ({env['cores']} cores), Python {env['python']}, "
             f"NumPy {env['numpy']}",
             f"BLAS/threads: {blas_summary(env)}",
             f"gc {env['gc']} during timed blocks; {env['rounds']} rounds, pause "
             f"{env['pause s']} s before each block of ≈ {env['block s']} s; load average at "
             f"start {tuple(round(x, 2) for x in env['load average at start'] or ())}"]
    extras = [f"{k} {env[k]}" for k in ("autograd", "micrograd") if k in env]
    if extras:
        lines.append("also: " + ", ".join(extras))
    if markdown:
        return "\n".join(f"> {ln}  " for ln in lines)
    return "\n".join(f"# {ln}" for ln in lines)


if __name__ == "__main__":
    sys.exit(main())
