"""The ``autograd-lite`` command: ``compare``, ``graph``, ``explain``, ``train``, ``bench``.

Each subcommand has an ``_add_<name>(subparsers)`` that declares its arguments and a
``_run_<name>(args) -> int`` that runs it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def _add_compare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="fused vs composed softmax cross-entropy, side by side",
                       description="Compute the cross-entropy of random logits twice - one fused "
                                   "primitive and the same loss composed from primitives - and "
                                   "report loss and gradient differences (absolute, relative, "
                                   "ULPs), graph sizes and median forward/backward times; also "
                                   "what the naive softmax (no max subtraction) gives.")
    p.add_argument("--batch", type=int, default=64, help="rows of logits (default 64)")
    p.add_argument("--classes", type=int, default=10, help="classes per row (default 10)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="logits = scale × standard normal; try 1000 to overflow the naive softmax")
    p.add_argument("--repeat", type=int, default=20, help="timed rounds (default 20)")
    p.add_argument("--graph-dir", default=None, metavar="DIR",
                   help="also write both graphs there (SVG, or DOT without Graphviz's dot)")
    p.set_defaults(run=_run_compare)


def _run_compare(args: argparse.Namespace) -> int:
    import numpy as np

    from .compare import compare_gradients
    from .functional import cross_entropy, naive_cross_entropy
    from .tensor import Tensor

    if args.batch < 1 or args.classes < 1 or args.repeat < 1:
        print("autograd-lite compare: --batch, --classes and --repeat must be positive",
              file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    z = (args.scale * rng.standard_normal((args.batch, args.classes))).astype(args.dtype)
    y = rng.integers(0, args.classes, args.batch)
    print(f"cross_entropy of ({args.batch}, {args.classes}) {args.dtype} logits = {args.scale:g} "
          f"× N(0, 1) (seed {args.seed}), integer targets, mean over the batch\n")
    fused = lambda z: cross_entropy(z, y)
    composed = lambda z: cross_entropy(z, y, fused=False)
    print(compare_gradients(fused, composed, z, repeat=args.repeat))
    with np.errstate(all="ignore"):
        naive = naive_cross_entropy(z, y).item()
    limit = np.log(np.finfo(z.dtype).max)
    print(f"\nnaive softmax (no max subtraction): loss {naive:.8g}\n"
          f"stable (max subtracted first):      loss "
          f"{cross_entropy(z, y, fused=False).item():.8g}\n"
          f"exp overflows above {limit:.1f} in {z.dtype}; the largest logit here is "
          f"{np.max(z):.4g}")
    if args.graph_dir:
        _write_graphs(args.graph_dir, {"fused": fused, "composed": composed},
                      Tensor(z, requires_grad=True, name="logits"))
    return 0


def _write_graphs(directory: str, fns: dict, z: object) -> None:
    """Draw each function's graph into ``directory`` (SVG, or DOT source without ``dot``)."""
    import os

    from . import viz
    os.makedirs(directory, exist_ok=True)
    for name, fn in fns.items():
        dot = viz.draw_graph(fn(z), title=f"{name} cross-entropy")
        try:
            path = viz.save_graph(dot, os.path.join(directory, f"{name}.svg"))
        except viz.GraphvizNotFoundError:
            path = viz.save_graph(dot, os.path.join(directory, f"{name}.dot"))
        print(f"wrote {path}")


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


def _add_train(sub: argparse._SubParsersAction) -> None:
    from .train import DEFAULTS
    defaults = ", ".join(f"{k} {v['epochs']} epochs / lr {v['lr']}" for k, v in DEFAULTS.items())
    p = sub.add_parser("train", help="train an MLP classifier (digits, moons, spirals)",
                       description="Train an MLP with fused or composed cross-entropy; write a "
                                   "checkpoint, config, per-epoch CSV and loss/accuracy curves "
                                   f"to --out. Adam defaults per dataset: {defaults}; SGD "
                                   "(momentum 0.9) lr 0.1.")
    p.add_argument("--data", choices=["digits", "moons", "spirals"], default="digits")
    p.add_argument("--hidden", type=_sizes, default=(64, 64),
                   help="hidden layer sizes, comma separated (default 64,64)")
    p.add_argument("--epochs", type=int, default=None, help="default: per dataset")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="adam")
    p.add_argument("--lr", type=float, default=None, help="default: per dataset and optimizer")
    p.add_argument("--loss", choices=["fused", "composed"], default="fused")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--out", default="runs/train", help="output directory (default runs/train)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=_run_train)


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}"
                                         ) from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive, got {text!r}")
    return sizes


def _run_train(args: argparse.Namespace) -> int:
    from .train import Config, run
    cfg = Config(data=args.data, hidden=args.hidden, epochs=args.epochs,
                 batch_size=args.batch_size, optimizer=args.optimizer, lr=args.lr,
                 loss=args.loss, seed=args.seed, dtype=args.dtype)
    run(cfg, args.out, progress=not args.no_progress)
    return 0


def _add_graph(sub: argparse._SubParsersAction) -> None:
    from .examples import EXAMPLES
    p = sub.add_parser("graph", help="draw a named example's graph to SVG/PNG/DOT",
                       description="Draw the computation graph of a named example with Graphviz. "
                                   "Several examples are drawn side by side in one picture. "
                                   "SVG/PNG need the `dot` program; DOT source does not.")
    p.add_argument("examples", nargs="+", metavar="EXAMPLE", choices=list(EXAMPLES),
                   help=f"one or more of: {', '.join(EXAMPLES)}")
    p.add_argument("--format", choices=["svg", "png", "pdf", "dot"], default=None,
                   help="output format (default: from -o's suffix, else svg)")
    p.add_argument("-o", "--output", default=None,
                   help="output file (default: EXAMPLE.FORMAT in the current directory)")
    p.add_argument("--values", action="store_true", help="show values (or summary statistics)")
    p.add_argument("--grads", action="store_true",
                   help="run backward first and show every node's gradient")
    p.add_argument("--rankdir", choices=["LR", "TB"], default="LR",
                   help="layout direction: inputs left (LR) or on top (TB)")
    p.set_defaults(run=_run_graph)


def _run_graph(args: argparse.Namespace) -> int:
    import os

    from . import examples, viz
    roots = {}
    for name in args.examples:
        loss = examples.build(name)
        if args.grads:
            loss.backward(retain_grads=True)
        roots[f"{name}: {viz.graph_stats(loss).nodes} nodes"] = loss
    fmt = args.format or (os.path.splitext(args.output)[1].lstrip(".") if args.output else "")
    fmt = fmt or "svg"
    out = args.output or f"{'_'.join(args.examples)}.{fmt}"
    opts = dict(show_values=args.values, show_grads=args.grads, rankdir=args.rankdir)
    if len(roots) == 1:
        dot = viz.draw_graph(next(iter(roots.values())), **opts)
    else:
        dot = viz.draw_side_by_side(roots, **opts)
    try:
        viz.save_graph(dot, out, format=fmt)
    except viz.GraphvizNotFoundError as e:
        print(f"autograd-lite graph: {e}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


def _add_explain(sub: argparse._SubParsersAction) -> None:
    from .examples import EXAMPLES
    p = sub.add_parser("explain", help="print a named example's backward pass as equations",
                       description="Print the backward pass of a named example as matrix "
                                   "equations: each rule from the op table, with the shapes "
                                   "that make it line up.")
    p.add_argument("example", choices=list(EXAMPLES), metavar="EXAMPLE",
                   help=f"one of: {', '.join(EXAMPLES)}")
    p.set_defaults(run=_run_explain)


def _run_explain(args: argparse.Namespace) -> int:
    from . import examples
    from .notation import explain
    print(explain(examples.build(args.example)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-lite",
        description="autograd_lite: reverse-mode autodiff on NumPy. Compare fused and composed "
                    "softmax cross-entropy, draw graphs, train small models.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _SUBCOMMANDS:
        add(sub)
    return parser


_SUBCOMMANDS = [_add_compare, _add_bench, _add_train, _add_graph, _add_explain]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:   # e.g. `autograd-lite compare | head`: stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
