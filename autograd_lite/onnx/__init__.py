"""ONNX export of forward and gradient graphs (the optional extra ``onnx``: ``onnx`` and
``onnxruntime``).

:func:`export` calls ``f`` once on Tensors, walks the recorded graph and writes one ONNX node (or
a short fixed pattern) per primitive: the op table's names map to emitters in
:data:`EMITTERS`; ops that cannot be exported are listed with the reason in
:data:`NOT_EXPORTABLE` (only ``inv``, ``solve``, ``cholesky``, ``svd``, ``svdvals``); the few
ops whose ONNX Runtime CPU kernel has no float64 and no exact pattern are computed in float32
inside a float64 graph (:data:`VIA_FLOAT32`).
Parameters become named initializers; everything that depends on no
input and no parameter is folded into constants. With ``gradients_of=``, the backward pass is
recorded too (``create_graph=True`` makes it a graph of the same primitives) and the model
outputs the loss *and* its gradients.

Like every tracing exporter (``torch.jit.trace``, ``torch.onnx``), the graph records what ``f``
did to these example inputs: values computed from an input without a recorded op (a Python
``if`` on data, a comparison, a dropout mask, the masks some VJPs compute, such as relu's
``x > 0``) are frozen as constants. ``check_trace=True`` (the default) traces ``f`` a second time
on other inputs of the same shapes and warns with :class:`TraceWarning`, naming the frozen
constants, when the two graphs differ.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

try:
    import onnx
    from onnx import helper, numpy_helper
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError("autograd_lite.onnx needs the 'onnx' package: "
                      "pip install 'autograd-lite[onnx]'") from None

from .. import nn
from ..engine import cotangents, enable_grad, toposort
from ..interop import load_trained
from ..tensor import Tensor
from ._builder import Builder, elem_type
from ._emitters import EMITTERS, NOT_EXPORTABLE
from ._emitters_conv import CONV_EMITTERS
from ._emitters_math import MATH_EMITTERS, VIA_FLOAT32

__all__ = ["export", "export_checkpoint", "EMITTERS", "NOT_EXPORTABLE", "VIA_FLOAT32",
           "TraceWarning", "DEFAULT_OPSET"]

EMITTERS.update(MATH_EMITTERS)    # one table: the core ops', the math/activation ops' and the
EMITTERS.update(CONV_EMITTERS)    # scan/conv/pool/einsum ops' emitters

DEFAULT_OPSET = 18          # ReduceMax/ReduceMin with axes as an input; ScatterElements add
IR_VERSION = 10             # what onnxruntime >= 1.20 reads


class TraceWarning(UserWarning):
    """The exported graph froze values that depend on the example inputs."""


def export(f: Callable, example_inputs: Any, path: str | os.PathLike | None = None, *,
           input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None,
           dynamic_axes: Mapping[str, Any] | None = None, opset: int | None = None,
           gradients_of: Any = None, check_trace: bool = True) -> onnx.ModelProto:
    """Trace ``f(*example_inputs)`` and write it as an ONNX model to ``path`` (if given).

    Parameters
    ----------
    f : a function of Tensors, or an ``nn.Module`` (exported in eval mode, as ``torch.onnx``
        does: ``Dropout`` is the identity). Parameters of a Module that ``f`` is, is a method of
        or closes over are named by their paths (``layers.0.weight``).
    example_inputs : a Tensor or array, or a tuple of them: the graph inputs.
    input_names, output_names : names of the graph's inputs and outputs (default: the Tensors'
        ``name``, else ``input0``, ``output0``, ...). Gradients are named ``grad_<parameter>``.
    dynamic_axes : ``{name: {axis: "dim name"}}`` or ``{name: [axis, ...]}``: axes left
        symbolic (a dynamic batch). The trace is repeated with that axis one longer, and an
        error is raised if the graph depends on its length (e.g. a mean's ``1/N``).
    opset : the ONNX opset (default and minimum 18).
    gradients_of : Tensors, or example inputs (or a Module, for all its parameters): the first
        output must then be a scalar loss, and the model also outputs its gradient with
        respect to each.
    check_trace : trace again on other inputs (rolled along axis 0; floats also mapped to
        ``0.5 − x``) and warn (:class:`TraceWarning`) about constants that changed.

    Returns the ``onnx.ModelProto`` (checked with ``onnx.checker.check_model``). ``f`` is
    called once more per check (dynamic axes, ``check_trace``): keep it free of side effects.

    Example
    -------
    >>> model = nn.MLP([4, 8, 3], rng=0)
    >>> m = export(model, np.zeros((2, 4), np.float32), input_names=["x"],
    ...            output_names=["logits"])        # and a path to write model.onnx
    >>> [n.op_type for n in m.graph.node]
    ['MatMul', 'Add', 'Relu', 'MatMul', 'Add']
    >>> [i.name for i in m.graph.initializer]
    ['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']
    """
    opset = DEFAULT_OPSET if opset is None else int(opset)
    if opset < DEFAULT_OPSET or opset > onnx.defs.onnx_opset_version():
        raise ValueError(f"onnx.export: opset must be in [{DEFAULT_OPSET}, "
                         f"{onnx.defs.onnx_opset_version()}], got {opset}")
    inputs = _inputs(example_inputs)
    dyn = _dynamic(dynamic_axes)
    trace = dict(f=f, input_names=input_names, output_names=output_names, dyn=dyn, opset=opset,
                 gradients_of=gradients_of)
    raw = example_inputs if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    trace["examples"] = list(raw)     # what gradients_of may refer to (arrays or Tensors)
    was_training = isinstance(f, nn.Module) and f.training
    if was_training:
        f.eval()
    try:
        model, _ = _trace(inputs=inputs, **trace)
        if dyn:
            _check_dynamic(model, inputs, trace)
        if check_trace:
            _check_values(model, inputs, trace)
    finally:
        if was_training:
            f.train()
    onnx.checker.check_model(model, full_check=True)
    if path is not None:
        onnx.save(model, os.fspath(path))
    return model


def _inputs(example_inputs: Any) -> list[Tensor]:
    xs = example_inputs if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    out = []
    for i, x in enumerate(xs):
        if not isinstance(x, Tensor):
            try:
                x = Tensor(np.asarray(x))
            except (TypeError, ValueError) as e:
                raise TypeError(f"onnx.export: example input {i}: {e}") from None
        out.append(x)
    return out


def _dynamic(dynamic_axes: Any) -> dict[str, dict[int, str]]:
    out: dict[str, dict[int, str]] = {}
    if dynamic_axes is not None and not isinstance(dynamic_axes, Mapping):
        raise TypeError(f"onnx.export: dynamic_axes must be a dict {{name: {{axis: 'dim'}}}} or "
                        f"{{name: [axis, ...]}}, got {type(dynamic_axes).__name__}")
    for name, axes in (dynamic_axes or {}).items():
        if isinstance(axes, Mapping):
            out[name] = {int(a): str(d) for a, d in axes.items()}
        else:
            out[name] = {int(a): f"{name}_dim{int(a)}" for a in axes}
    return out


def _leaf_inputs(xs: list[Tensor]) -> list[Tensor]:
    """Leaves the trace starts from: float inputs require grad, so every op on them records."""
    out = []
    for x in xs:
        if x.is_leaf and (x.requires_grad or x.dtype.kind != "f"):
            out.append(x)
        else:
            out.append(Tensor(x._data, requires_grad=x.dtype.kind == "f", name=x.name))
    return out


def _param_names(f: Any, wrt: Any) -> dict:
    """Parameter → its path in a Module that ``f`` is, is a method of or closes over (or that
    ``gradients_of`` is)."""
    owners = [f, wrt, getattr(f, "__self__", None)]
    for cell in getattr(f, "__closure__", None) or ():
        try:
            owners.append(cell.cell_contents)
        except ValueError:   # an empty cell
            pass
    names: dict = {}
    for owner in owners:
        if isinstance(owner, nn.Module):
            for path, p in owner.named_parameters():
                names.setdefault(p, path)
    return names


def _trace(f: Callable, inputs: list[Tensor], input_names: Any, output_names: Any,
           dyn: dict, opset: int, gradients_of: Any,
           examples: list) -> tuple[onnx.ModelProto, list[np.ndarray]]:
    """The ONNX model of ``f`` on ``inputs``, and the values of its outputs."""
    xs = _leaf_inputs(inputs)
    in_names = list(input_names) if input_names is not None else [
        x.name or f"input{i}" for i, x in enumerate(inputs)]
    if len(in_names) != len(xs):
        raise ValueError(f"onnx.export: {len(in_names)} input names for {len(xs)} inputs")
    outs, out_names, seed, names = _record(f, xs, in_names, output_names, gradients_of, examples)
    unknown = set(dyn) - set(in_names) - set(out_names)
    if unknown:
        raise ValueError(f"onnx.export: dynamic_axes names {sorted(unknown)}, which are not "
                         f"inputs {in_names} or outputs {out_names}")
    order = toposort(outs, all_nodes=True)[::-1]         # parents first
    live, params = _live(order, xs, seed)
    _check_ops(t for t in order if t in live and t._parents)
    b = Builder(opset, live, {id(x._data): (n, x._data) for x, n in zip(xs, in_names)})
    graph_inputs = []
    for x, n in zip(xs, in_names):
        b.values[x] = b.reserve(n)
        graph_inputs.append(_value_info(n, x._data, dyn))
    for i, p in enumerate(params):
        n = b.reserve(names.get(p) or p.name or f"param{i}")
        b.initializers.append(numpy_helper.from_array(np.array(p._data, order="C"), n))
        b.values[p] = n
    if seed is not None:
        b.values[seed] = b.const(seed._data, "one")
    renames: dict[str, str] = {}   # a node's output name -> the Tensor's (or output's) name
    for t in order:
        if t in live and t._parents:
            v = b.values[t] = EMITTERS[t._op.name](b, t)
            if t.name and v not in renames and b.nodes and v in b.nodes[-1].output:
                renames[v] = b.fresh(t.name)
    produced = {o for n in b.nodes for o in n.output}
    for o, n in zip(outs, out_names):
        v = b.name(o)
        b.reserve(n)
        if v in produced and v not in renames:
            renames[v] = n
        else:
            b.nodes.append(helper.make_node("Identity", [renames.get(v, v)], [n]))
    for node in b.nodes:
        node.input[:] = [renames.get(v, v) for v in node.input]
        node.output[:] = [renames.get(v, v) for v in node.output]
    graph = helper.make_graph(b.nodes, getattr(f, "__name__", type(f).__name__), graph_inputs,
                              [_value_info(n, o._data, dyn) for o, n in zip(outs, out_names)],
                              b.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="autograd_lite")
    model.ir_version = min(IR_VERSION, onnx.IR_VERSION)
    return model, [o._data for o in outs]


def _record(f: Callable, xs: list[Tensor], in_names: list[str], output_names: Any,
            gradients_of: Any, examples: list) -> tuple[list, list[str], Any, dict]:
    """Run ``f`` (and, with ``gradients_of``, its backward pass with ``create_graph``): the
    output Tensors, their names, the backward's seed (or ``None``), the parameters' names."""
    with enable_grad():
        result = f(*xs)
    outs = list(result) if isinstance(result, (tuple, list)) else [result]
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"onnx.export: output {i} of f is a {type(o).__name__}, not a Tensor")
    out_names = list(output_names) if output_names is not None else [
        o.name or f"output{i}" for i, o in enumerate(outs)]
    if len(out_names) != len(outs):
        raise ValueError(f"onnx.export: {len(out_names)} output names for {len(outs)} outputs")
    names = _param_names(f, gradients_of)
    if gradients_of is None:
        return outs, out_names, None, names
    wrt = (gradients_of.parameters() if isinstance(gradients_of, nn.Module)
           else list(gradients_of))
    swap = {id(x): t for x, t in zip(examples, xs)}
    wrt = [swap.get(id(w), w) for w in wrt]
    seed = Tensor(np.ones_like(outs[0]._data), requires_grad=True)
    outs += _gradients(outs[0], wrt, seed)
    for i, w in enumerate(wrt):
        label = names.get(w) or w.name or next(
            (n for n, x in zip(in_names, xs) if x is w), f"param{i}")
        out_names.append(f"grad_{label}")
    return outs, out_names, seed, names


def _live(order: list, xs: list[Tensor], seed: Any) -> tuple[set, list]:
    """The Tensors that depend on an input or a parameter (the rest is folded into constants),
    and the parameters: leaves that require grad, other than the inputs."""
    leaves = set(xs)
    arrays = {id(x._data): x._data for x in xs}
    live: set = set()
    params = []
    for t in order:
        if t._parents:
            if any(p in live for p in t._parents) or _reads_input(t._params, arrays):
                live.add(t)
        elif t is seed:        # a constant, but the backward pass is recorded from it
            live.add(t)
        elif t in leaves or t.requires_grad:
            live.add(t)
            if t not in leaves:
                params.append(t)
    return live, params


def _reads_input(params: Any, arrays: dict) -> bool:
    """Whether an op's params hold an input's array (or a view of it), such as the target
    in the index of the composed cross-entropy's gather and of its VJP's scatter."""
    if not params:
        return False
    stack = list(params.values())
    while stack:
        v = stack.pop()
        if isinstance(v, (tuple, list)):
            stack.extend(v)
        elif isinstance(v, np.ndarray):
            while isinstance(v, np.ndarray):
                if arrays.get(id(v)) is v:
                    return True
                v = v.base
    return False


def _gradients(loss: Tensor, wrt: list, seed: Tensor) -> list[Tensor]:
    if loss.size != 1:
        raise ValueError(f"onnx.export: gradients_of needs a scalar first output (the loss), "
                         f"got shape {loss.shape}")
    for i, w in enumerate(wrt):
        if not isinstance(w, Tensor) or not w.requires_grad:
            raise TypeError(f"onnx.export: gradients_of[{i}] must be a Tensor that requires "
                            f"grad, got {w!r:.60}")
    with enable_grad():   # a seed that requires grad: every step of backward is recorded
        gs = cotangents(loss, wrt, seed, create_graph=True)
    return [Tensor(np.zeros_like(w._data)) if g is None else
            g if isinstance(g, Tensor) else Tensor(np.asarray(g)) for g, w in zip(gs, wrt)]


def _check_ops(nodes: Any) -> None:
    missing: dict[str, str] = {}
    for t in nodes:
        name = t._op.name
        if name not in EMITTERS:
            missing[name] = NOT_EXPORTABLE.get(name, "no ONNX emitter yet")
    if missing:
        raise ValueError("onnx.export: cannot export " + "; ".join(
            f"{k} ({v})" for k, v in missing.items()))


def _value_info(name: str, arr: np.ndarray, dyn: dict) -> onnx.ValueInfoProto:
    axes = dyn.get(name, {})
    shape = [axes.get(i, n) for i, n in enumerate(arr.shape)]
    return helper.make_tensor_value_info(name, elem_type(arr.dtype), shape)


# ---------------------------------------------------------------------------------------------
# Trace checks: trace again and compare the graphs


def _graph_key(model: onnx.ModelProto) -> tuple:
    g = model.graph
    return tuple((n.op_type, tuple(n.input), tuple(n.output),
                  tuple(a.SerializeToString() for a in n.attribute)) for n in g.node)


def _differing(a: onnx.ModelProto, b: onnx.ModelProto) -> list[str]:
    """Initializers that differ between two traces, described by the node reading them."""
    inits = {t.name: numpy_helper.to_array(t) for t in b.graph.initializer}
    readers = {}
    for n in a.graph.node:
        for v in n.input:
            readers.setdefault(v, n.op_type)
    out = []
    for t in a.graph.initializer:
        other = inits.get(t.name)
        mine = numpy_helper.to_array(t)
        if other is None or other.shape != mine.shape or not np.array_equal(
                other, mine, equal_nan=True):
            out.append(f"{t.name} (read by {readers.get(t.name, '?')})")
    return out


def _check_dynamic(model: onnx.ModelProto, inputs: list[Tensor], trace: dict) -> None:
    names = [i.name for i in model.graph.input]
    grown = []
    for x, n in zip(inputs, names):
        d = x._data
        for axis in sorted(trace["dyn"].get(n, {})):
            if d.shape[axis] == 0:
                raise ValueError(f"onnx.export: dynamic axis {axis} of input {n!r} is empty")
            d = np.concatenate([d, np.take(d, [0], axis=axis)], axis=axis)
        grown.append(Tensor(d, name=x.name))
    other, _ = _trace(inputs=grown, **{**trace, "input_names": names})
    diff = _differing(model, other)
    if diff or _graph_key(model) != _graph_key(other):
        raise ValueError("onnx.export: the graph depends on the length of a dynamic axis: "
                         + (", ".join(diff[:5]) if diff else "its nodes change")
                         + ". Export it without dynamic_axes (one model per batch size), or "
                         "avoid size-dependent constants (a mean's 1/N: use a sum, or the "
                         "fused cross-entropy).")


def _check_values(model: onnx.ModelProto, inputs: list[Tensor], trace: dict) -> None:
    """Trace again on other inputs of the same shapes and dtypes — rolled by one along axis 0
    (so class indices stay valid), floating-point ones also mapped ``x → 0.5 − x`` (so signs
    and ties change). Where constants changed, run the exported model on those inputs: warn
    unless it still computes what ``f`` does (a frozen softmax shift, for one, is harmless)."""
    others = []
    for x in inputs:
        d = np.roll(x._data, 1, axis=0) if x.ndim else x._data
        others.append(Tensor(0.5 - d if d.dtype.kind == "f" else d, name=x.name))
    names = [i.name for i in model.graph.input]
    try:
        with np.errstate(all="ignore"):
            other, want = _trace(inputs=others, **{**trace, "input_names": names})
    except Exception:   # f rejects the other inputs: nothing to compare
        return
    diff = _differing(model, other)
    if not diff and _graph_key(model) == _graph_key(other):
        return
    try:
        got = _evaluate(model, [x._data for x in others])
        if all(_agree(g, w) for g, w in zip(got, want)):
            return
    except Exception:   # the model cannot run on them (e.g. a frozen shape): it does not fit
        pass
    warnings.warn("onnx.export: the exported graph froze values computed from the example "
                  "inputs, so it computes f only for inputs like these: "
                  + (", ".join(diff[:5]) if diff else "the nodes changed")
                  + ". (Comparisons, masks and indices made outside recorded ops are "
                  "constants of a trace.)", TraceWarning, stacklevel=3)


def _evaluate(model: onnx.ModelProto, feeds: list[np.ndarray]) -> list[np.ndarray]:
    """Run ``model`` with ONNX Runtime, or with onnx's reference evaluator without it."""
    named = {i.name: v for i, v in zip(model.graph.input, feeds)}
    try:
        import onnxruntime
    except ImportError:
        from onnx.reference import ReferenceEvaluator
        return ReferenceEvaluator(model).run(None, named)
    sess = onnxruntime.InferenceSession(model.SerializeToString(),
                                        providers=["CPUExecutionProvider"])
    return sess.run(None, named)


def _agree(got: np.ndarray, want: np.ndarray) -> bool:
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return False
    if want.dtype.kind != "f":
        return bool(np.array_equal(got, want))
    tol = {2: 1e-2, 4: 1e-4}.get(want.dtype.itemsize, 1e-9)
    return bool(np.allclose(got, want, rtol=tol, atol=tol, equal_nan=True))


# ---------------------------------------------------------------------------------------------
# Checkpoints of ``autograd-lite train``


def export_checkpoint(checkpoint: str | os.PathLike, out: str | os.PathLike, *,
                      opset: int | None = None) -> Path:
    """Export a model trained by ``autograd-lite train`` (its output directory, or the
    ``model.npz`` next to its ``config.json``) as ONNX: input ``x`` ``(batch, features)``,
    output ``logits`` ``(batch, classes)``, the batch axis dynamic.

    Example
    -------
    >>> export_checkpoint("runs/digits", "digits.onnx")  # doctest: +SKIP
    PosixPath('digits.onnx')
    """
    model = load_trained(checkpoint)
    if not Path(out).resolve().parent.is_dir():
        raise FileNotFoundError(f"export: the directory of {os.fspath(out)!r} does not exist")
    sizes, dtype = model.sizes, model.parameters()[0].dtype
    x = np.zeros((1, sizes[0]), dtype=dtype)
    export(model, x, out, input_names=["x"], output_names=["logits"],
           dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, opset=opset)
    return Path(out)
