"""Containers (registration, no silent loss of state), Embedding, BatchNorm1d, Identity, Flatten,
activation modules and nn.init, against PyTorch where it is installed."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn
from autograd_lite.nn import Linear, Module, Parameter

# -- containers --------------------------------------------------------------------------------


class Tower(Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Linear(3, 3, rng=i) for i in range(3)])
        self.heads = nn.ModuleDict({"a": Linear(3, 1, rng=5), "b": Linear(3, 2, rng=6)})
        self.scales = nn.ParameterList([np.ones(3), np.zeros(1)])

    def forward(self, x):
        for b in self.blocks:
            x = b(x).tanh()
        x = x * self.scales[0]
        return self.heads["a"](x) + self.scales[1]


def test_containers_register_train_and_save_their_items():
    m = Tower()
    names = [n for n, _ in m.named_parameters()]
    assert names[:2] == ["blocks.0.weight", "blocks.0.bias"]
    assert "heads.b.bias" in names and "scales.1" in names
    assert len(m.parameters()) == 6 + 4 + 2
    m(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for n, p in m.named_parameters() if not n.startswith("heads.b"))
    state = m.state_dict()
    m2 = Tower()
    m2.load_state_dict(state)
    for k, v in m2.state_dict().items():
        np.testing.assert_array_equal(v, state[k])
    m.eval()
    assert not m.blocks[2].training and not m.heads["b"].training


def test_module_list_behaves_like_a_list():
    ml = nn.ModuleList()
    a, b, c = Linear(1, 1), Linear(1, 2), Linear(1, 3)
    ml.append(a).extend([b])
    ml.insert(0, c)
    assert list(ml) == [c, a, b] and ml[-1] is b and len(ml) == 3
    assert isinstance(ml[1:], nn.ModuleList) and list(ml[1:]) == [a, b]
    del ml[0]
    assert list(ml) == [a, b] and [n for n, _ in ml.named_parameters()][0] == "0.weight"
    ml[1] = c
    assert ml[1] is c and b not in [m for _, m in ml.named_modules()]
    with pytest.raises(TypeError, match="ModuleList: items must be Modules, got int"):
        ml.append(3)
    with pytest.raises(IndexError, match="ModuleList: index 5 is out of range for 2 items"):
        ml[5]
    with pytest.raises(NotImplementedError, match="ModuleList is a container"):
        ml(np.ones(1))


def test_module_dict_and_parameter_list():
    md = nn.ModuleDict([("x", Linear(1, 1))])
    md["y"] = Linear(1, 2)
    assert md.keys() == ["x", "y"] and "y" in md and len(md) == 2
    del md["x"]
    assert list(md) == ["y"] and [n for n, _ in md.named_parameters()] == ["y.weight", "y.bias"]
    with pytest.raises(KeyError, match="no module 'z'"):
        md["z"]
    with pytest.raises(KeyError, match="clashes with an attribute"):
        md["keys"] = Linear(1, 1)
    with pytest.raises(KeyError, match="without '.'"):
        md["a.b"] = Linear(1, 1)
    pl = nn.ParameterList([al.Tensor([1.0, 2.0])])
    assert isinstance(pl[0], Parameter) and pl[0].requires_grad
    with pytest.raises(TypeError, match="ParameterList: items must be arrays or Parameters"):
        pl.append(Linear(1, 1))


@pytest.mark.parametrize("value", [
    [Linear(1, 1)], (Linear(1, 1),), {"a": Linear(1, 1)}, [[Parameter(np.ones(1))]],
    {"w": Parameter(np.ones(1))},
])
def test_plain_containers_of_state_are_refused_with_a_clear_error(value):
    m = Module()
    with pytest.raises(TypeError, match=r"Module\.layers: a plain .* would be neither trained "
                       r"nor saved .* use nn\.ModuleList, nn\.ModuleDict or nn\.ParameterList"):
        m.layers = value
    m.sizes = [1, 2, 3]          # plain data stays allowed
    m.config = {"act": "relu"}


def test_load_state_dict_non_strict_reports_missing_and_unexpected_keys():
    model = nn.MLP([2, 3, 1], rng=0)
    state = model.state_dict()
    del state["layers.2.bias"]
    state["extra"] = np.zeros(1)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["layers.2.bias"] and result.unexpected_keys == ["extra"]
    assert result == (["layers.2.bias"], ["extra"])
    assert model.load_state_dict(model.state_dict()) == ([], [])
    with pytest.raises(KeyError, match=r"missing keys \['layers.2.bias'\]"):
        model.load_state_dict(state)


# -- layers ------------------------------------------------------------------------------------


def test_identity_and_flatten():
    x = al.Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert nn.Identity(5, foo=1)(x) is x
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Flatten(-2, -1)(x).shape == (2, 12)
    assert nn.Flatten(1, 1)(x).shape == (2, 3, 4)
    nn.Flatten()(x).sum().backward()
    assert x.grad.shape == x.shape
    with pytest.raises(ValueError, match=r"Flatten: start_dim=2, end_dim=1 do not select"):
        nn.Flatten(2, 1)(x)


def test_embedding_matches_torch_with_repeats_and_padding():
    torch = pytest.importorskip("torch")
    idx = np.array([[1, 2, 1], [0, 4, 1]])
    for pad in (None, 1):
        emb = nn.Embedding(5, 3, padding_idx=pad, dtype=np.float64, rng=0)
        ref = torch.nn.Embedding(5, 3, padding_idx=pad, dtype=torch.float64)
        with torch.no_grad():
            ref.weight.copy_(torch.tensor(emb.weight.data))
        out, rout = emb(idx), ref(torch.tensor(idx))
        np.testing.assert_array_equal(out.data, rout.detach().numpy())
        g = np.random.default_rng(0).standard_normal(out.shape)
        out.backward(g)
        rout.backward(torch.tensor(g))
        np.testing.assert_allclose(emb.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-12)
    assert np.all(nn.Embedding(4, 2, padding_idx=-1, rng=0).weight.data[3] == 0)
    with pytest.raises(IndexError, match=r"Embedding: index 5 at position \[1\] is out of range"):
        nn.Embedding(5, 2)(np.array([0, 5]))
    with pytest.raises(TypeError, match="Embedding: indices must be integers"):
        nn.Embedding(5, 2)(np.array([0.0]))


@pytest.mark.parametrize("kwargs", [
    dict(), dict(momentum=0.3, eps=1e-3), dict(momentum=None), dict(affine=False),
    dict(track_running_stats=False),
])
@pytest.mark.parametrize("shape", [(8, 4), (5, 4, 3)])
def test_batchnorm1d_matches_torch_in_train_and_eval(kwargs, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    bn = nn.BatchNorm1d(4, **kwargs)
    ref = torch.nn.BatchNorm1d(4, **kwargs)
    if bn.affine:
        w, b = rng.uniform(0.5, 2, 4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
        with al.no_grad():
            bn.weight.copy_(w)
            bn.bias.copy_(b)
        with torch.no_grad():
            ref.weight.copy_(torch.tensor(w))
            ref.bias.copy_(torch.tensor(b))
    for step in range(4):
        x = (rng.standard_normal(shape) * 3 + step).astype(np.float32)
        xt = al.Tensor(x, requires_grad=True)
        xr = torch.tensor(x, requires_grad=True)
        out, rout = bn(xt), ref(xr)
        np.testing.assert_allclose(out.data, rout.detach().numpy(), rtol=1e-5, atol=2e-6)
        g = rng.standard_normal(shape).astype(np.float32)
        out.backward(g)
        rout.backward(torch.tensor(g))
        np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-4, atol=1e-5)
        if bn.affine:
            np.testing.assert_allclose(bn.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-4,
                                       atol=1e-5)
            bn.zero_grad()
            ref.zero_grad()
    if bn.track_running_stats:
        np.testing.assert_allclose(bn.running_mean.data, ref.running_mean.numpy(), rtol=1e-5)
        np.testing.assert_allclose(bn.running_var.data, ref.running_var.numpy(), rtol=1e-5)
        assert int(bn.num_batches_tracked.data) == int(ref.num_batches_tracked) == 4
        assert set(bn.state_dict()) == set(ref.state_dict())
    bn.eval()
    ref.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(bn(x).data, ref(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=2e-6)


def test_batchnorm1d_state_round_trip_and_errors():
    bn = nn.BatchNorm1d(3)
    bn(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    bn2 = nn.BatchNorm1d(3)
    bn2.load_state_dict(bn.state_dict())
    np.testing.assert_array_equal(bn2.running_var.data, bn.running_var.data)
    assert bn2.num_batches_tracked.data == 1
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected input of shape \(N, 3\)"):
        bn(np.ones((2, 4)))
    with pytest.raises(ValueError, match="expected more than 1 value per channel"):
        bn(np.ones((1, 3)))
    bn.eval()
    assert bn(np.ones((1, 3))).shape == (1, 3)


ACTIVATIONS = [("GELU", {}, "gelu"), ("GELU", dict(approximate="tanh"), "gelu"),
               ("SiLU", {}, "silu"), ("Softplus", dict(beta=2.0, threshold=5.0), "softplus"),
               ("ELU", dict(alpha=0.5), "elu"), ("SELU", {}, "selu"), ("CELU", {}, "celu"),
               ("LeakyReLU", dict(negative_slope=0.2), "leaky_relu"),
               ("Hardtanh", dict(min_val=-2.0, max_val=1.5), "hardtanh"), ("ReLU6", {}, "relu6"),
               ("Hardsigmoid", {}, "hardsigmoid"), ("Hardswish", {}, "hardswish"),
               ("Mish", {}, "mish"), ("LogSigmoid", {}, "logsigmoid"),
               ("Softsign", {}, "softsign")]


@pytest.mark.parametrize("cls, kwargs, fn", ACTIVATIONS)
def test_activation_modules_match_torch(cls, kwargs, fn):
    if not hasattr(al, fn):
        pytest.skip(f"autograd_lite.{fn} is not in this version")
    torch = pytest.importorskip("torch")
    x = np.linspace(-8, 8, 41)
    out = getattr(nn, cls)(**kwargs)(x)
    ref = getattr(torch.nn, cls)(**kwargs)(torch.tensor(x))
    np.testing.assert_allclose(out.data, ref.numpy(), rtol=1e-10, atol=1e-12)
    assert repr(getattr(nn, cls)(**kwargs)).startswith(cls + "(")


def test_activation_modules_check_arguments_and_missing_functions():
    with pytest.raises(TypeError, match=r"LeakyReLU: unexpected arguments \['slope'\]"):
        nn.LeakyReLU(slope=0.1)
    with pytest.raises(TypeError, match="SiLU: takes at most 0 arguments"):
        nn.SiLU(1.0)
    m = nn.Mish()
    m.function = "no_such_function"
    with pytest.raises(NotImplementedError, match="Mish: autograd_lite.no_such_function is not"):
        m(np.ones(2))


# -- init --------------------------------------------------------------------------------------


def test_fans_gains_and_bounds_follow_pytorch():
    torch = pytest.importorskip("torch")
    tinit = torch.nn.init
    for nl, param in [("relu", None), ("tanh", None), ("leaky_relu", 0.2), ("selu", None),
                      ("sigmoid", None), ("leaky_relu", None)]:
        assert math.isclose(nn.init.calculate_gain(nl, param), tinit.calculate_gain(nl, param))
    # a Linear weight here is the transpose of PyTorch's: the same layer, the same fans
    ours, theirs = Linear(30, 7).weight, torch.nn.Linear(30, 7).weight
    assert nn.init._fans(ours, "") == tinit._calculate_fan_in_and_fan_out(theirs)
    conv = np.empty((6, 3, 5, 5))
    assert nn.init._fans(Parameter(conv), "") == tinit._calculate_fan_in_and_fan_out(
        torch.empty(6, 3, 5, 5))


@pytest.mark.parametrize("name, kwargs, std", [
    ("xavier_uniform_", dict(gain=2.0), 2.0 * math.sqrt(2.0 / (400 + 300))),
    ("xavier_normal_", {}, math.sqrt(2.0 / (400 + 300))),
    ("kaiming_uniform_", dict(a=math.sqrt(5)), math.sqrt(2 / 6) / math.sqrt(400)),
    ("kaiming_normal_", dict(mode="fan_out", nonlinearity="relu"), math.sqrt(2) / math.sqrt(300)),
    ("uniform_", dict(a=-2.0, b=2.0), 4 / math.sqrt(12)),
    ("normal_", dict(mean=1.0, std=0.5), 0.5),
])
def test_random_initialisers_have_the_documented_spread(name, kwargs, std):
    w = Parameter(np.empty((400, 300), dtype=np.float32))
    before = w._written
    out = getattr(nn.init, name)(w, **kwargs, rng=0)
    assert out is w and w.dtype == np.float32 and w._written > before   # a tracked write
    assert abs(w.data.std() / std - 1) < 0.01
    if "uniform" in name and name != "uniform_":
        assert np.abs(w.data).max() <= std * math.sqrt(3) * (1 + 1e-6)


def test_trunc_normal_and_eye_as_pytorch():
    torch = pytest.importorskip("torch")
    w = nn.init.trunc_normal_(Parameter(np.empty((200, 300), dtype=np.float32)), mean=0.5,
                              std=1.0, a=-0.5, b=1.0, rng=0).data
    t = torch.nn.init.trunc_normal_(torch.empty(200, 300), mean=0.5, std=1.0, a=-0.5, b=1.0)
    assert w.dtype == np.float32 and w.min() >= -0.5 and w.max() <= 1.0
    assert abs(w.mean() - t.mean().item()) < 0.01 and abs(w.std() - t.std().item()) < 0.01
    np.testing.assert_array_equal(nn.init.eye_(Parameter(np.ones((3, 2)))).data,
                                  torch.nn.init.eye_(torch.ones(3, 2)).numpy())
    with pytest.raises(ValueError, match="trunc_normal_: needs std > 0 and a < b"):
        nn.init.trunc_normal_(Parameter(np.ones(3)), a=1.0, b=0.0)
    with pytest.raises(ValueError, match=r"trunc_normal_: \[a, b\] = \[50.0, 51.0\] holds too "
                       "little"):
        nn.init.trunc_normal_(Parameter(np.ones(3)), a=50.0, b=51.0, rng=0)
    with pytest.raises(ValueError, match=r"eye_: needs a 2-D tensor, got \(3,\)"):
        nn.init.eye_(Parameter(np.ones(3)))


def test_orthogonal_constant_zeros_ones_and_errors():
    for shape in [(4, 6), (6, 4), (3, 2, 2)]:
        w = nn.init.orthogonal_(Parameter(np.empty(shape)), gain=2.0, rng=1).data
        flat = w.reshape(shape[0], -1)
        small = flat @ flat.T if shape[0] <= flat.shape[1] else flat.T @ flat
        np.testing.assert_allclose(small, 4 * np.eye(len(small)), atol=1e-12)
    assert (nn.init.ones_(Parameter(np.zeros(3))).data == 1).all()
    assert (nn.init.zeros_(Parameter(np.ones(3))).data == 0).all()
    assert (nn.init.constant_(Parameter(np.ones(3)), -2.5).data == -2.5).all()
    with pytest.raises(ValueError, match=r"xavier_uniform_: fan in and fan out need a tensor with "
                       r"at least 2 dimensions, got shape \(3,\)"):
        nn.init.xavier_uniform_(Parameter(np.ones(3)))
    with pytest.raises(ValueError, match="kaiming_normal_: mode must be 'fan_in' or 'fan_out'"):
        nn.init.kaiming_normal_(Parameter(np.ones((2, 2))), mode="in")
    with pytest.raises(TypeError, match="zeros_: expected a Tensor"):
        nn.init.zeros_(np.ones(2))
    with pytest.raises(ValueError, match="calculate_gain: unsupported nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")


def test_a_plain_list_filled_after_assignment_is_caught_when_parameters_are_asked_for():
    class Late(Module):
        def __init__(self):
            super().__init__()
            self.layers = []                       # empty at assignment: nothing to refuse yet
            for i in range(2):
                self.layers.append(Linear(2, 2, rng=i))

    m = Late()
    for call in (m.parameters, m.state_dict, lambda: optim_of(m)):
        with pytest.raises(TypeError, match=r"Late\.layers: a plain list holding Modules"):
            call()


def optim_of(m):
    return al.optim.SGD(m.parameters(), lr=0.1)


def test_bilinear_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for bias in (True, False):
        ours = nn.Bilinear(3, 4, 2, bias=bias, dtype=np.float64, rng=0)
        ref = torch.nn.Bilinear(3, 4, 2, bias=bias, dtype=torch.float64)
        with torch.no_grad():
            ref.weight.copy_(torch.tensor(ours.weight.data))
            if bias:
                ref.bias.copy_(torch.tensor(ours.bias.data))
        x1, x2 = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 4))
        a, b = al.Tensor(x1, requires_grad=True), al.Tensor(x2, requires_grad=True)
        ta, tb = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
        out, rout = ours(a, b), ref(ta, tb)
        np.testing.assert_allclose(out.data, rout.detach().numpy(), rtol=1e-12)
        g = rng.standard_normal(out.shape)
        out.backward(g)
        rout.backward(torch.tensor(g))
        np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"Bilinear\(3, 4 → 2\): expected inputs of shapes"):
        ours(np.ones((5, 3)), np.ones((4, 4)))


def test_softmax_modules():
    x = np.random.default_rng(0).standard_normal((2, 3))
    np.testing.assert_array_equal(nn.Softmax(dim=0)(x).data, al.softmax(x, axis=0).data)
    np.testing.assert_array_equal(nn.LogSoftmax()(x).data, al.log_softmax(x).data)
    assert repr(nn.Softmax(1)) == "Softmax(dim=1)"


def test_readme_regression_example_runs_and_prints_what_it_shows(capsys):
    import pathlib
    import re

    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Losses, layers, optimizers and schedulers", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"# (mse .*)$", code, re.M).group(1)
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip() == shown


LOSS_MODULES = [
    ("MSELoss", dict(reduction="sum"), "float"), ("L1Loss", {}, "float"),
    ("SmoothL1Loss", dict(beta=0.5), "float"), ("HuberLoss", dict(delta=0.5), "float"),
    ("BCELoss", {}, "prob"), ("KLDivLoss", dict(reduction="batchmean"), "prob"),
    ("NLLLoss", dict(ignore_index=1), "index"), ("CrossEntropyLoss", {}, "index"),
    ("CrossEntropyLoss", dict(label_smoothing=0.1), "prob"),
    ("CrossEntropyLoss", dict(weight=np.array([1.0, 2.0, 0.5])), "index"),
]


@pytest.mark.parametrize("cls, kwargs, kind", LOSS_MODULES)
def test_loss_modules_match_torch(cls, kwargs, kind):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.uniform(0.05, 0.95, (4, 3)) if cls == "BCELoss" else rng.standard_normal((4, 3))
    if cls in ("NLLLoss", "KLDivLoss"):
        x = np.log(rng.dirichlet(np.ones(3), 4))
    t = {"float": rng.standard_normal((4, 3)), "prob": rng.dirichlet(np.ones(3), 4),
         "index": np.array([0, 2, 1, 2])}[kind]
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    ours = getattr(nn, cls)(**kwargs)(x, t)
    ref = getattr(torch.nn, cls)(**tkw)(torch.tensor(x), torch.tensor(t))
    np.testing.assert_allclose(ours.data, ref.numpy(), rtol=1e-10)
    assert repr(getattr(nn, cls)(**kwargs)).startswith(cls + "(")


def test_activation_modules_find_their_function_at_call_time(monkeypatch):
    seen = []

    def softsign(x):
        seen.append(True)
        return x / (1 + abs(al.as_tensor(x)))

    monkeypatch.setattr(al, "softsign", softsign, raising=False)
    m = nn.Softsign()
    np.testing.assert_allclose(m(np.array([1.0, -3.0])).data, [0.5, -0.75])
    assert len(seen) == 2          # once checking the arguments at construction, once here
