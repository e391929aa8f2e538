"""The ``autograd-lite`` command: ``compare``, ``graph``, ``explain``, ``train``, ``bench``.

Each subcommand has an ``_add_<name>(subparsers)`` that declares its arguments and a
``_run_<name>(args) -> int`` that runs it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run the benchmarks (from a source checkout)",
                       description="Run benchmarks/ and print medians and ratios against "
                                   "references measured in the same process.")
    p.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    p.add_argument("--repeat", type=int, default=None, help="timed repetitions per measurement")
    p.set_defaults(run=_run_bench)


def _run_bench(args: argparse.Namespace) -> int:
    try:
        from benchmarks.__main__ import main as bench_main
    except ImportError:
        print("autograd-lite bench: the benchmarks live in the source tree; run it from a "
              "checkout of the repository (python -m benchmarks)", file=sys.stderr)
        return 2
    argv = list(args.names)
    if args.repeat is not None:
        argv += ["--repeat", str(args.repeat)]
    return bench_main(argv)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-lite",
        description="autograd_lite: reverse-mode autodiff on NumPy. Compare fused and composed "
                    "softmax cross-entropy, draw graphs, train small models.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _SUBCOMMANDS:
        add(sub)
    return parser


_SUBCOMMANDS = [_add_bench]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    return int(args.run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
