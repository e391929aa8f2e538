"""Run the benchmarks: ``python -m benchmarks [NAME ...] [--repeat N]``.

Each benchmark is a module ``benchmarks/<name>.py`` listed in ``BENCHMARKS`` with a
``run(repeat: int | None) -> list[Row]``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .common import format_table

BENCHMARKS = ["op_overhead", "mlp_step", "train_epoch", "scalar_mlp", "softmax_ce", "conv_step",
              "einsum", "cnn_epoch"]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {BENCHMARKS})")
    p.add_argument("--repeat", type=int, default=None, help="timed rounds per measurement")
    args = p.parse_args(argv)
    names = args.names or BENCHMARKS
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        p.error(f"unknown benchmark(s) {unknown}; choose from {BENCHMARKS}")
    rows = []
    for name in names:
        mod = importlib.import_module(f"benchmarks.{name}")
        rows += mod.run(args.repeat)
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
