"""The ``autograd-lite`` command (also ``python -m autograd_lite``): ``compare``, ``graph``,
``explain``, ``train``, ``export``.

A thin shell: each subcommand is one entry in :data:`COMMANDS` (help, description, arguments)
and one ``_run_<name>(args) -> int`` that calls the library. Options are checked by the library
before any work (:class:`~autograd_lite.preflight.OptionError`); a bad one ends in one line naming
it and exit status 2, never a traceback. Ctrl-C ends with status 130.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import autograd_lite

from . import compare, examples, notation, preflight, train, viz
from .preflight import OptionError

EXIT_USAGE, EXIT_INTERRUPTED = 2, 130
BENCH_MOVED = ("the benchmarks live in the source tree, outside the installed package: from a "
               "checkout run `python -m benchmarks [NAME...] [--repeat N]`")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``autograd-lite train: error: argument --epochs: ...``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _arg(*flags: str, **kwargs: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    return flags, kwargs


_EXAMPLE_NAMES = ", ".join(examples.EXAMPLES)
_TRAIN_DEFAULTS = ", ".join(f"{k} {v['epochs']} epochs / lr {v['lr']}"
                            for k, v in train.DEFAULTS.items())

COMMANDS: dict[str, dict[str, Any]] = {
    "compare": dict(
        help="fused vs composed softmax cross-entropy, side by side",
        description="Compute the cross-entropy of random logits twice - one fused primitive and "
                    "the same loss composed from primitives - and report loss and gradient "
                    "differences (absolute, relative, ULPs), graph sizes and median "
                    "forward/backward times; also what the naive softmax (no max subtraction) "
                    "gives.",
        args=[_arg("--batch", type=int, default=64, help="rows of logits (default 64)"),
              _arg("--classes", type=int, default=10, help="classes per row (default 10)"),
              _arg("--dtype", choices=["float32", "float64"], default="float32"),
              _arg("--seed", type=int, default=0, help="random seed (default 0)"),
              _arg("--scale", type=float, default=1.0,
                   help="logits = scale × standard normal; try 1000 to overflow the naive "
                        "softmax"),
              _arg("--repeat", type=int, default=20, help="timed rounds (default 20)"),
              _arg("--graph-dir", default=None, metavar="DIR",
                   help="also write both graphs there (SVG, or DOT without Graphviz's dot)"),
              # the fusion lab: any pair, and the stability sweep
              _arg("--op", choices=list(compare.PAIRS), default="cross_entropy",
                   help="which fused/composed pair (default cross_entropy); --classes is "
                        "layer_norm's feature count"),
              _arg("--seq", type=int, default=128, help="attention: sequence length (default 128)"),
              _arg("--dim", type=int, default=16, help="attention: head dimension (default 16)"),
              _arg("--sweep", action="store_true",
                   help="stability sweep instead: inputs scaled 1e-3 … 1e5 in float16/32/64, "
                        "each form's gradient error in ULPs against a longdouble reference"),
              _arg("--sweep-out", default=None, metavar="FILE",
                   help="where the sweep goes (default sweep_OP.png; CSV without matplotlib)")]),
    "graph": dict(
        help="draw a named example's graph to SVG/PNG/PDF/DOT",
        description="Draw the computation graph of a named example with Graphviz. Several "
                    "examples are drawn side by side in one picture. SVG/PNG/PDF need the `dot` "
                    "program; DOT source does not. The format is --format, else -o's suffix, "
                    "else svg; the two must agree.",
        args=[_arg("examples", nargs="+", metavar="EXAMPLE", choices=list(examples.EXAMPLES),
                   help=f"one or more of: {_EXAMPLE_NAMES}"),
              _arg("--format", choices=["svg", "png", "pdf", "dot", "gv"], default=None,
                   help="output format (default: from -o's suffix, else svg)"),
              _arg("-o", "--output", default=None,
                   help="output file (default: EXAMPLE.FORMAT in the current directory)"),
              _arg("--values", action="store_true", help="show values (or summary statistics)"),
              _arg("--grads", action="store_true",
                   help="run backward first and show every node's gradient"),
              _arg("--rankdir", choices=["auto", "LR", "TB"], default="auto",
                   help="layout: inputs left (LR), on top (TB), or chosen from the graph's "
                        "shape (auto, the default)")]),
    "explain": dict(
        help="print a named example's backward pass as equations",
        description="Print the backward pass of a named example as matrix equations: each rule "
                    "from the op table, with the shapes that make it line up.",
        args=[_arg("example", choices=list(examples.EXAMPLES), metavar="EXAMPLE",
                   help=f"one of: {_EXAMPLE_NAMES}")]),
    "train": dict(
        help="train an MLP or CNN classifier (digits, moons, spirals); Ctrl-C stops cleanly",
        description="Train an MLP with fused or composed cross-entropy; write a run directory "
                    "(checkpoint, optimizer state, config, progress, per-epoch CSV, loss/accuracy "
                    "curves) to --out - a new numbered one (OUT-2, ...) if OUT holds a run "
                    "already. Ctrl-C stops at the end of the current step and writes what was "
                    "trained (exit status 130); --resume continues a run exactly. Adam defaults "
                    f"per dataset: {_TRAIN_DEFAULTS}; SGD (momentum 0.9) lr {train.SGD_LR}.",
        args=[_arg("--data", choices=["digits", "moons", "spirals"], default=None,
                   help="dataset (default digits)"),
              _arg("--model", choices=["mlp", "cnn"], default=None,
                   help="mlp (default) or cnn: two 3×3 conv layers, pooling, a linear head "
                        "(digits only)"),
              _arg("--hidden", default=None,
                   help="hidden layer sizes, comma separated (default 64,64)"),
              _arg("--epochs", type=int, default=None, help="default: per dataset"),
              _arg("--max-steps", type=int, default=None,
                   help="stop after this many optimizer steps in total"),
              _arg("--batch-size", type=int, default=None, help="default 64"),
              _arg("--optimizer", choices=["sgd", "adam"], default=None,
                   help="default adam"),
              _arg("--lr", type=float, default=None, help="default: per dataset and optimizer"),
              _arg("--loss", choices=["fused", "composed"], default=None,
                   help="default fused"),
              _arg("--seed", type=int, default=None, help="default 0"),
              _arg("--dtype", choices=["float32", "float64"], default=None,
                   help="default float32"),
              _arg("--out", default=None, help="run directory (default runs/train)"),
              _arg("--threads", type=int, default=None, metavar="N",
                   help="BLAS threads (default: 1 for the small models train builds, whose "
                        "products threads slow down; 0: BLAS's own default; needs "
                        "threadpoolctl, the blas extra)"),
              _arg("--resume", default=None, metavar="DIR",
                   help="continue the run in DIR (only --epochs, --max-steps and --threads may "
                        "change)"),
              _arg("--no-progress", action="store_true", help="no progress bar")]),
    "export": dict(
        help="export a model trained by 'train' to ONNX",
        description="Write the model that 'autograd-lite train' saved (its run directory or "
                    "model.npz) as ONNX: input x (batch, features), output logits, the batch "
                    "axis dynamic. Needs the onnx extra: pip install 'autograd-lite[onnx]'.",
        args=[_arg("checkpoint", help="run directory of autograd-lite train, or its model.npz"),
              _arg("-o", "--output", default="model.onnx",
                   help="file to write (default model.onnx)"),
              _arg("--opset", type=int, default=None, help="ONNX opset (default 18)")]),
}

# library option name -> command-line spelling, where they differ
_FLAGS = {"path": "-o/--output", "output": "-o/--output", "examples": "EXAMPLE",
          "checkpoint": "CHECKPOINT"}


def _flag(option: str) -> str:
    return _FLAGS.get(option, "--" + option.replace("_", "-"))


# ---------------------------------------------------------------------------------------------
# compare


def _run_compare(args: argparse.Namespace) -> int:
    from .functional import cross_entropy
    from .tensor import Tensor

    if args.sweep or args.op != "cross_entropy":
        return _run_lab(args)
    repeat = preflight.positive_int("repeat", args.repeat)
    graph_dir = None if args.graph_dir is None else preflight.output_dir("graph_dir",
                                                                         args.graph_dir)
    z, y = compare.random_logits(args.batch, args.classes, dtype=args.dtype, seed=args.seed,
                                 scale=args.scale)
    print(f"cross_entropy of ({args.batch}, {args.classes}) {args.dtype} logits = "
          f"{args.scale:g} × N(0, 1) (seed {args.seed}), integer targets, mean over the batch\n")
    fused = lambda z: cross_entropy(z, y)
    composed = lambda z: cross_entropy(z, y, fused=False)
    print(compare.compare_gradients(fused, composed, z, repeat=repeat))
    print()
    print(compare.softmax_stability(z, y))
    if graph_dir is not None:
        leaf = Tensor(z, requires_grad=True, name="logits")
        for name, fn in (("fused", fused), ("composed", composed)):
            dot = viz.draw_graph(fn(leaf), title=f"{name} cross-entropy")
            path = viz.save_graph(dot, graph_dir / f"{name}.svg", source_without_dot=True)
            print(f"wrote {path}")
    return 0


def _run_lab(args: argparse.Namespace) -> int:
    """``compare --op OP`` (other than cross_entropy) and ``compare --sweep``."""
    sizes = {k: preflight.positive_int(k, getattr(args, k))
             for k in ("batch", "classes", "seq", "dim")}
    if args.sweep:
        from .sweep import sweep_op
        out = preflight.output_file("sweep_out", args.sweep_out or f"sweep_{args.op}.png")
        table = sweep_op(args.op, seed=args.seed)
        print(table)
        print(f"\nwrote {table.save(str(out))}")
        return 0
    repeat = preflight.positive_int("repeat", args.repeat)
    scale = preflight.finite_float("scale", args.scale)
    print(compare.compare_op(args.op, dtype=args.dtype, scale=scale, seed=args.seed,
                             repeat=repeat, **sizes))
    return 0


# ---------------------------------------------------------------------------------------------
# graph, explain


def _run_graph(args: argparse.Namespace) -> int:
    fmt = viz.graph_format(args.output, args.format)
    out = args.output or f"{'_'.join(args.examples)}.{fmt}"
    preflight.output_file("path", out)
    roots = {}
    for name in args.examples:
        loss = examples.build(name)
        if args.grads:
            loss.backward(retain_grads=True)
        roots[f"{name}: {viz.graph_stats(loss).nodes} nodes"] = loss
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


def _run_explain(args: argparse.Namespace) -> int:
    print(notation.explain(examples.build(args.example)))
    return 0


# ---------------------------------------------------------------------------------------------
# train

_RESUMABLE = {"epochs", "max_steps", "no_progress", "resume", "command", "run", "threads"}


def _run_train(args: argparse.Namespace) -> int:
    progress = not args.no_progress
    if args.resume is not None:
        given = [k for k, v in vars(args).items() if k not in _RESUMABLE and v is not None]
        if given:
            raise OptionError(given[0], f"cannot be changed when resuming: --resume takes the "
                                        f"run's options from {args.resume}/config.json (only "
                                        f"--epochs, --max-steps and --threads may be given)")
        res = train.resume(args.resume, epochs=args.epochs, max_steps=args.max_steps,
                           progress=progress, threads=args.threads)
    else:
        known = {f.name for f in dataclasses.fields(train.Config)}
        options = {k: v for k, v in vars(args).items() if k in known and v is not None}
        res = train.run(train.Config(**options), args.out or "runs/train", progress=progress)
    return EXIT_INTERRUPTED if res.progress.interrupted else 0


def _run_export(args: argparse.Namespace) -> int:
    try:
        from .onnx import export_checkpoint
    except ImportError as e:
        raise OptionError("checkpoint", f"exporting needs the onnx extra "
                                        f"(pip install 'autograd-lite[onnx]'): {e}") from None
    try:
        path = export_checkpoint(args.checkpoint, args.output, opset=args.opset)
    except (FileNotFoundError, ValueError) as e:
        raise OptionError("checkpoint", str(e)) from None
    print(f"wrote {path}")
    return 0


# ---------------------------------------------------------------------------------------------
# The parser and main


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="autograd-lite",
        description="autograd_lite: reverse-mode autodiff on NumPy. Compare fused and composed "
                    "softmax cross-entropy, draw graphs, train small models.")
    parser.add_argument("--version", action="version",
                        version=f"autograd-lite {autograd_lite.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    runners: dict[str, Callable[[argparse.Namespace], int]] = {
        "compare": _run_compare, "graph": _run_graph, "explain": _run_explain,
        "train": _run_train, "export": _run_export}
    for name, spec in COMMANDS.items():
        p = sub.add_parser(name, help=spec["help"], description=spec["description"])
        for flags, kwargs in spec["args"]:
            p.add_argument(*flags, **kwargs)
        p.set_defaults(run=runners[name])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        print(f"autograd-lite: error: there is no bench command; {BENCH_MOVED}", file=sys.stderr)
        return EXIT_USAGE
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_USAGE
    prog = f"autograd-lite {args.command}"
    try:
        return int(args.run(args) or 0)
    except OptionError as e:
        print(f"{prog}: error: argument {_flag(e.option)}: {e.message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:   # e.g. `autograd-lite compare | head`: stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit
        return 0
    except (OSError, MemoryError) as e:   # e.g. the disk filled up after the checks
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
