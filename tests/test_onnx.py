"""ONNX export: every primitive against ONNX Runtime (forward and gradients, driven by the op
spec table), models with fused and composed cross-entropy, dynamic axes, trace checks, names,
checkpoints of ``autograd-lite train`` and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import autograd_lite as al  # noqa: E402
from autograd_lite import functional as F  # noqa: E402
from autograd_lite import nn, ops  # noqa: E402
from autograd_lite import onnx as al_onnx  # noqa: E402
from tests import spec  # noqa: E402

TOL = {np.float64: 1e-12, np.float32: 1e-5}


def run(model: onnx.ModelProto, *feeds: np.ndarray) -> list[np.ndarray]:
    """Run ``model`` in ONNX Runtime (CPU) on ``feeds``, in the order of its inputs."""
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, dict(zip(names, feeds)))


def close(got, want, dtype) -> None:
    want = np.asarray(want)
    assert np.asarray(got).shape == want.shape
    np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype])


def check_loss_and_gradients(graph: onnx.ModelProto, loss, model, x, y, dtype) -> None:
    """The exported graph's outputs (the loss, then one gradient per parameter) against
    ``loss(x, y)`` and its backward pass in autograd_lite."""
    got = run(graph, x, y)
    L = loss(x, y)
    model.zero_grad()
    L.backward()
    close(got[0], L.data, dtype)
    for g, p in zip(got[1:], model.parameters()):
        close(g, p.grad.data, dtype)


def test_every_op_exports_or_says_why_not():
    exported, refused = set(al_onnx.EMITTERS), set(al_onnx.NOT_EXPORTABLE)
    assert not exported & refused, "an op is both exported and listed as not exportable"
    missing = set(ops.OPS) - exported - refused
    assert not missing, (f"ops with neither an ONNX emitter (autograd_lite/onnx/_emitters.py "
                         f"EMITTERS) nor a reason in NOT_EXPORTABLE: {sorted(missing)}")
    stale = (exported | refused) - set(ops.OPS)
    assert not stale, f"entries for ops that no longer exist: {sorted(stale)}"
    assert all(isinstance(r, str) and r.strip() for r in al_onnx.NOT_EXPORTABLE.values())


EXPORTED_CASES = [c for c in spec.cases() if c[0] in al_onnx.EMITTERS]


def _tol(model: onnx.ModelProto, dtype) -> type:
    """The tolerance's dtype: float32's when a float64 model casts to float32 around an op
    whose ONNX Runtime CPU kernel has no float64 (``al_onnx.VIA_FLOAT32``)."""
    to_f32 = any(n.op_type == "Cast" and n.attribute[0].i == onnx.TensorProto.FLOAT
                 for n in model.graph.node)
    return np.float32 if dtype == np.float64 and to_f32 else dtype


def _export_or_skip(*args, **kw) -> onnx.ModelProto:
    """Export, skipping (only) when the graph holds an op listed in NOT_EXPORTABLE (det's
    gradient needs inv, ...)."""
    try:
        return al_onnx.export(*args, **kw)
    except ValueError as e:
        refused = [n for n in al_onnx.NOT_EXPORTABLE if f"cannot export {n} (" in str(e)
                   or f"; {n} (" in str(e)]
        if not refused:
            raise
        pytest.skip(f"the graph needs {refused}, not exportable")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,k,shapes,params", EXPORTED_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in EXPORTED_CASES])
def test_forward_matches_onnx_runtime(name, k, shapes, params, dtype, rng):
    s = spec.SPECS[name]
    xs = [x.astype(dtype) for x in spec.make_inputs(s, shapes, rng)]
    params = {k: (v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v)
              for k, v in params.items()}
    f = lambda *ts: s.fn(*ts, **params)
    model = al_onnx.export(f, xs, check_trace=False)
    onnx.checker.check_model(model, full_check=True)
    want = f(*[al.Tensor(x) for x in xs])
    (got,) = run(model, *xs)
    assert got.dtype == want.dtype
    close(got, want.data, _tol(model, dtype))


FIRST_CASES = [c for c in EXPORTED_CASES if c[1] == 0]


@pytest.mark.parametrize("name,k,shapes,params", FIRST_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in FIRST_CASES])
def test_float16_forward(name, k, shapes, params, rng):
    """Every exported op runs in ONNX Runtime on float16 too (patterns computed in float16,
    scatters accumulated in float32), to float16's precision."""
    s = spec.SPECS[name]
    xs = [x.astype(np.float16) for x in spec.make_inputs(s, shapes, rng)]
    params = {k: (v.astype(np.float16) if isinstance(v, np.ndarray) and v.dtype.kind == "f"
                  else v) for k, v in params.items()}
    f = lambda *ts: s.fn(*ts, **params)
    model = al_onnx.export(f, xs, check_trace=False)
    want = f(*[al.Tensor(x) for x in xs]).data
    (got,) = run(model, *xs)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=1e-2,
                               atol=1e-2)


@pytest.mark.parametrize("name,k,shapes,params", EXPORTED_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in EXPORTED_CASES])
def test_gradients_match_backward(name, k, shapes, params, rng):
    """The exported backward pass (random upstream gradient) equals ``backward()``'s."""
    s = spec.SPECS[name]
    xs = [al.Tensor(x, requires_grad=True) for x in spec.make_inputs(s, shapes, rng)]
    out = s.fn(*xs, **params)
    upstream = rng.normal(size=out.shape)
    f = lambda *ts: (s.fn(*ts, **params) * upstream).sum()
    model = _export_or_skip(f, xs, gradients_of=xs, check_trace=False)
    loss, *grads = run(model, *[x.data for x in xs])
    L = f(*xs)
    L.backward()
    tol = _tol(model, np.float64)
    close(loss, L.data, tol)
    for x, g in zip(xs, grads):
        close(g, np.zeros(x.shape) if x.grad is None else x.grad.data, tol)


# ---------------------------------------------------------------------------------------------
# Models


def _mlp_problem(dtype, activation="relu", n=6, seed=0):
    r = np.random.default_rng(seed)
    model = nn.MLP([5, 16, 4], activation=activation, dtype=dtype, rng=seed)
    return model, r.normal(size=(n, 5)).astype(dtype), r.integers(0, 4, n)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fused", [True, False])
def test_mlp_loss_and_gradients(fused, dtype):
    model, x, y = _mlp_problem(dtype)
    loss = lambda x, y: F.cross_entropy(model(x), y, fused=fused)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", al_onnx.TraceWarning)
        m = al_onnx.export(loss, (x, y), input_names=["x", "y"], output_names=["loss"],
                           gradients_of=model)
    names = [o.name for o in m.graph.output]
    assert names == ["loss"] + [f"grad_{k}" for k, _ in model.named_parameters()]
    kinds = {n.op_type for n in m.graph.node}
    assert ("SoftmaxCrossEntropyLoss" in kinds) == fused
    assert ("GatherElements" in kinds) == (not fused)
    check_loss_and_gradients(m, loss, model, x, y, dtype)


def test_composed_gradients_generalise_to_new_inputs():
    """Nothing frozen (tanh, composed loss): one export computes the gradients of any batch."""
    model, x, y = _mlp_problem(np.float64, "tanh")
    loss = lambda x, y: F.cross_entropy(model(x), y, fused=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", al_onnx.TraceWarning)
        m = al_onnx.export(loss, (x, y), gradients_of=model)
    _, x2, y2 = _mlp_problem(np.float64, seed=1)
    got = run(m, x2, y2)
    L = loss(x2, y2)
    model.zero_grad()
    L.backward()
    close(got[0], L.data, np.float64)
    for g, p in zip(got[1:], model.parameters()):
        close(g, p.grad.data, np.float64)


def test_fused_forward_takes_the_target_as_an_input():
    model, x, y = _mlp_problem(np.float32)
    loss = lambda x, y: F.cross_entropy(model(x), y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", al_onnx.TraceWarning)
        m = al_onnx.export(loss, (x, y))
    y2 = (y + 1) % 4
    close(run(m, x, y2)[0], loss(x, y2).data, np.float32)


def test_frozen_values_are_reported():
    """relu's VJP mask (x > 0) is computed outside recorded ops: the gradient graph is only
    valid for inputs like the example, and export says so."""
    model, x, y = _mlp_problem(np.float64, "relu")
    loss = lambda x, y: F.cross_entropy(model(x), y, fused=False)
    with pytest.warns(al_onnx.TraceWarning, match="froze values"):
        al_onnx.export(loss, (x, y), gradients_of=model)


@pytest.mark.parametrize("kw", [
    dict(weight=np.array([0.5, 2.0, 1.0, 1.5])), dict(ignore_index=2),
    dict(weight=np.array([0.5, 2.0, 1.0, 1.5]), ignore_index=1, reduction="sum"),
    dict(reduction="none"), dict(axis=1, reduction="none"), dict(axis=0),
])
def test_fused_cross_entropy_options(kw, rng):
    axis = kw.get("axis", -1)
    z = rng.normal(size=(3, 4, 4) if axis == 1 else (4, 6) if axis == 0 else (6, 4))
    tshape = tuple(n for i, n in enumerate(z.shape) if i != axis % z.ndim)
    y = rng.integers(0, 4, tshape)
    f = lambda z, y: F.cross_entropy(z, y, **kw)
    m = al_onnx.export(f, (z, y))
    assert m.graph.node[-1].op_type in ("SoftmaxCrossEntropyLoss", "Transpose")
    assert any(n.op_type == "SoftmaxCrossEntropyLoss" for n in m.graph.node)
    close(run(m, z, y)[0], f(z, y).data, np.float64)


@pytest.mark.parametrize("kw", [dict(), dict(label_smoothing=0.1), dict(reduction="none"),
                                dict(weight=np.array([1.0, 2.0, 0.5]), reduction="sum")])
def test_probability_targets(kw, rng):
    z, t = rng.normal(size=(5, 3)), rng.dirichlet(np.ones(3), 5)
    f = lambda z, t: F.cross_entropy(z, t, **kw)
    m = al_onnx.export(f, (z, t))
    close(run(m, z, t)[0], f(z, t).data, np.float64)


# ---------------------------------------------------------------------------------------------
# Dynamic axes, names, files


def test_dynamic_batch_axis(tmp_path):
    model, x, _ = _mlp_problem(np.float32)
    path = tmp_path / "mlp.onnx"
    al_onnx.export(model, x, path, input_names=["x"], output_names=["logits"],
                   dynamic_axes={"x": {0: "batch"}, "logits": [0]})
    m = onnx.load(path)
    assert m.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert m.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "logits_dim0"
    for n in (1, 11):
        xb = np.random.default_rng(n).normal(size=(n, 5)).astype(np.float32)
        close(run(m, xb)[0], model(xb).data, np.float32)


def test_dynamic_axis_refused_when_the_graph_depends_on_it():
    model, x, y = _mlp_problem(np.float32)
    f = lambda x: model(x).mean()           # the mean's 1/N is a constant of the trace
    with pytest.raises(ValueError, match="depends on the length of a dynamic axis"):
        al_onnx.export(f, x, dynamic_axes={"input0": [0]})


def test_names_and_initializers():
    model, x, _ = _mlp_problem(np.float32)

    def f(x):
        h = model(x)
        h.name = "logits"
        return h.relu()

    m = al_onnx.export(f, al.Tensor(x, name="pixels"))
    assert [i.name for i in m.graph.input] == ["pixels"]
    assert [o.name for o in m.graph.output] == ["output0"]
    assert {i.name for i in m.graph.initializer} == {k for k, _ in model.named_parameters()}
    assert "logits" in {o for n in m.graph.node for o in n.output}


def test_constants_are_folded():
    w = al.Tensor(np.arange(3.0))           # a constant: its exp is computed once, at export
    m = al_onnx.export(lambda x: x * w.exp() + (w * 2).sum(), np.ones(3))
    assert [n.op_type for n in m.graph.node] == ["Mul", "Add"]
    close(run(m, np.ones(3))[0], np.exp(np.arange(3.0)) + 6, np.float64)


def test_export_checkpoint_of_a_trained_model(tmp_path):
    from autograd_lite import train
    train.run(train.Config(data="moons", epochs=1, hidden=(8,)), tmp_path, progress=False,
              log=lambda *_: None)
    out = al_onnx.export_checkpoint(tmp_path, tmp_path / "model.onnx")
    m = onnx.load(out)
    model = nn.MLP([2, 8, 2], rng=0)
    nn.load(tmp_path / "model.npz", model)
    xb = np.random.default_rng(0).normal(size=(7, 2)).astype(np.float32)
    close(run(m, xb)[0], model(xb).data, np.float32)


# ---------------------------------------------------------------------------------------------
# Errors


def test_errors_are_clear(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="opset must be in"):
        al_onnx.export(lambda x: x * 2, np.ones(2), opset=11)
    with pytest.raises(TypeError, match="output 0 of f is a float"):
        al_onnx.export(lambda x: 2.0, np.ones(2))
    with pytest.raises(ValueError, match="scalar first output"):
        x = al.Tensor(np.ones(2), requires_grad=True)
        al_onnx.export(lambda x: x * 2, x, gradients_of=[x])
    with pytest.raises(ValueError, match="2 input names for 1 inputs"):
        al_onnx.export(lambda x: x * 2, np.ones(2), input_names=["a", "b"])
    with pytest.raises(TypeError, match="onnx.export: example input 1"):
        al_onnx.export(lambda x, y: x, (np.ones(2), "text"))
    with pytest.raises(TypeError, match=r"gradients_of\[0\] must be a Tensor that requires"):
        al_onnx.export(lambda x: x.sum(), np.ones(2), gradients_of=[al.Tensor(np.ones(2))])
    with pytest.raises(ValueError, match=r"dynamic_axes names \['batch'\]"):
        al_onnx.export(lambda x: x * 2, np.ones(2), dynamic_axes={"batch": [0]})
    with pytest.raises(TypeError, match="dynamic_axes must be a dict"):
        al_onnx.export(lambda x: x * 2, np.ones(2), dynamic_axes=[0])
    monkeypatch.delitem(al_onnx.EMITTERS, "tanh")
    monkeypatch.setitem(al_onnx.NOT_EXPORTABLE, "tanh", "testing")
    with pytest.raises(ValueError, match=r"cannot export tanh \(testing\)"):
        al_onnx.export(lambda x: x.tanh(), np.ones(2))
    with pytest.raises(FileNotFoundError, match="autograd-lite train"):
        al_onnx.export_checkpoint(tmp_path, tmp_path / "m.onnx")


def test_docstring_examples_run():
    import doctest
    assert doctest.testmod(al_onnx).failed == 0


def test_module_is_exported_in_eval_mode():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Dropout(0.5, rng=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", al_onnx.TraceWarning)
        m = al_onnx.export(model, np.ones((2, 3), np.float32))
    assert model.training
    assert [n.op_type for n in m.graph.node] == ["MatMul", "Add"]


def _attention(q, k, v):
    d = q.shape[-1]
    return F.softmax(q @ k.mT * (1.0 / np.sqrt(d)), axis=-1) @ v


def _layer_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / (var + eps).sqrt() * gamma + beta


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_composed_attention_and_layer_norm(dtype, rng):
    """Attention and layer norm composed from primitives: forward and gradients. Softmax's
    detached max is a frozen constant, but a harmless one: no warning."""
    q, k, v = (rng.normal(size=(2, 5, 4)).astype(dtype) for _ in range(3))
    gamma, beta = (al.Tensor(rng.normal(size=4).astype(dtype), requires_grad=True)
                   for _ in range(2))
    f = lambda q, k, v: _layer_norm(_attention(q, k, v), gamma, beta)
    with warnings.catch_warnings():
        warnings.simplefilter("error", al_onnx.TraceWarning)
        m = al_onnx.export(f, (q, k, v))
    close(run(m, q, k, v)[0], f(q, k, v).data, dtype)
    loss = lambda q, k, v: (f(q, k, v) ** 2).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error", al_onnx.TraceWarning)
        m = al_onnx.export(loss, (q, k, v), gradients_of=[gamma, beta, q])
    got = run(m, q, k, v)
    L = loss(q, k, v)
    L.backward()
    close(got[0], L.data, dtype)
    close(got[1], gamma.grad.data, dtype)
    close(got[2], beta.grad.data, dtype)
    assert got[3].shape == q.shape


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_logsumexp_of_infinite_rows(dtype):
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [1000.0, 1000.0], [0.0, -np.inf]], dtype)
    with np.errstate(divide="ignore"):        # log 0 = −inf on the all −inf row
        m = al_onnx.export(lambda x: al.logsumexp(x, axis=-1), x)
        want = al.logsumexp(x, axis=-1).data
    (got,) = run(m, x)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    np.testing.assert_allclose(got, want, rtol=1e-3 if dtype == np.float16 else TOL[dtype])


@pytest.mark.parametrize("fused", [True, False])
def test_float16_mlp(fused):
    model, x, y = _mlp_problem(np.float16)
    loss = lambda x, y: F.cross_entropy(model(x), y, fused=fused)
    m = al_onnx.export(loss, (x, y))
    np.testing.assert_allclose(run(m, x, y)[0], loss(x, y).data, rtol=2e-3)


# ---------------------------------------------------------------------------------------------
# A CNN: convolutions, pooling, flatten. ONNX Runtime's Conv, ConvTranspose and AveragePool
# have no float64 kernel: a float64 graph computes them as Einsums of strided windows (exact).


def _cnn(dtype, pool="max"):
    Pool = nn.MaxPool2d if pool == "max" else nn.AvgPool2d
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, dtype=dtype, rng=0), nn.ReLU(), Pool(2),
        nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, dtype=dtype, rng=1), nn.Tanh(),
        nn.Flatten(), nn.Linear(6 * 2 * 2, 3, dtype=dtype, rng=2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pool", ["max", "avg"])
def test_cnn_forward_and_gradients(pool, dtype, rng):
    model = _cnn(dtype, pool)
    x = rng.normal(size=(5, 2, 8, 8)).astype(dtype)
    y = rng.integers(0, 3, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", al_onnx.TraceWarning)   # nothing frozen in the forward
        m = al_onnx.export(model, x, input_names=["x"], output_names=["logits"],
                           dynamic_axes={"x": [0], "logits": [0]})
    kinds = {n.op_type for n in m.graph.node}
    if dtype == np.float32:
        assert {"Conv", "MaxPool" if pool == "max" else "AveragePool"} <= kinds
    else:
        assert "Einsum" in kinds and not kinds & {"Conv", "AveragePool", "Cast"}
    tol = dtype
    for n in (5, 2):
        xb = rng.normal(size=(n, 2, 8, 8)).astype(dtype)
        close(run(m, xb)[0], model(xb).data, tol)
    loss = lambda x, y: F.cross_entropy(model(x), y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", al_onnx.TraceWarning)   # relu and max-pool masks
        g = al_onnx.export(loss, (x, y), gradients_of=model)
    if dtype == np.float32:     # conv2d's input gradient
        assert "ConvTranspose" in {n.op_type for n in g.graph.node}
    check_loss_and_gradients(g, loss, model, x, y, tol)


def test_digits_cnn_checkpoint(tmp_path):
    """``autograd-lite train --model cnn`` then ``export``: the batch axis stays dynamic."""
    from autograd_lite import train
    train.run(train.Config(data="digits", model="cnn", epochs=1, max_steps=2), tmp_path,
              progress=False, log=lambda *_: None)
    out = al_onnx.export_checkpoint(tmp_path, tmp_path / "cnn.onnx")
    m = onnx.load(out)
    assert "Conv" in {n.op_type for n in m.graph.node}
    model = nn.DigitsCNN(rng=0)
    nn.load(tmp_path / "model.npz", model)
    model.eval()
    for n in (1, 7):
        xb = np.random.default_rng(n).normal(size=(n, 64)).astype(np.float32)
        close(run(m, xb)[0], model(xb).data, np.float32)


def test_not_exportable_ops_say_why(rng):
    a = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    with pytest.raises(ValueError, match=r"cannot export inv \(ONNX's standard opset has no "
                                         r"matrix inverse"):
        al_onnx.export(lambda a: al.inv(a), a)
    assert set(al_onnx.NOT_EXPORTABLE) == {"inv", "solve", "cholesky", "svd", "svdvals"}
    m = al_onnx.export(lambda a: al.det(a), a)             # det exports; its gradient needs inv
    close(run(m, a)[0], np.linalg.det(a), np.float32)
    x = al.Tensor(a, requires_grad=True)
    with pytest.raises(ValueError, match=r"cannot export inv"):
        al_onnx.export(lambda a: al.det(a), x, gradients_of=[x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float64_casts_only_around_float_only_kernels(dtype, rng):
    """A float64 graph casts to float32 only around ops in VIA_FLOAT32 (Det here), never
    around ops ONNX Runtime has in float64 (log1p's Log, cumprod's Mul) or computes exactly
    by a pattern (conv2d)."""
    a = rng.normal(size=(2, 3, 3)).astype(dtype)
    w = rng.normal(size=(1, 2, 2, 2)).astype(dtype)
    f = lambda a: al.cumprod(al.log1p(al.square(al.det(a))), axis=-1) + al.conv2d(
        a[None], w).sum()
    m = al_onnx.export(f, a)
    casts = [n for n in m.graph.node if n.op_type == "Cast"]
    assert len(casts) == (2 if dtype == np.float64 else 0)   # det's input and output
    assert "det" in al_onnx.VIA_FLOAT32 and "conv2d" not in al_onnx.VIA_FLOAT32
    close(run(m, a)[0], f(a).data, np.float32)
