"""PyTorch weight and optimizer-state exchange, and DLPack zero-copy arrays."""

from __future__ import annotations

import json

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import functional as F
from autograd_lite import interop, nn, optim

torch = pytest.importorskip("torch")


def _close(a, b, dtype=np.float32):
    tol = 1e-6 if np.dtype(dtype) == np.float32 else 1e-12
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _out(tm, x):
    with torch.no_grad():
        return tm(torch.from_numpy(x)).numpy()


MODELS = [
    lambda dt: nn.MLP([5, 16, 16, 3], activation="relu", dtype=dt, rng=0),
    lambda dt: nn.MLP([5, 8, 3], activation="tanh", dtype=dt, rng=1),
    lambda dt: nn.Sequential(nn.Linear(5, 7, bias=False, dtype=dt, rng=2), nn.Sigmoid(),
                             nn.Dropout(0.3), nn.Linear(7, 2, dtype=dt, rng=3)).eval(),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", MODELS, ids=["mlp-relu", "mlp-tanh", "sequential"])
def test_to_torch_gives_the_same_outputs(make, dtype, rng):
    model = make(dtype)
    tm = model.to_torch()
    x = rng.normal(size=(4, 5)).astype(dtype)
    out = _out(tm, x)
    assert out.dtype == dtype
    _close(out, model(x).data, dtype)
    assert tm.training == model.training


def test_linear_weights_are_transposed_once():
    lin = nn.Linear(3, 2, rng=0)
    tl = lin.to_torch()
    assert tuple(tl.weight.shape) == (2, 3)
    np.testing.assert_array_equal(tl.weight.detach().numpy(), lin.weight.data.T)
    tl.weight.data[0, 0] = 100.0           # a copy: changing one leaves the other alone
    assert lin.weight.data[0, 0] != 100.0


def test_load_torch_state_dict_round_trip(rng):
    model = nn.MLP([5, 16, 3], rng=0)
    tm = model.to_torch()
    with torch.no_grad():
        for p in tm.parameters():
            p.mul_(-2.0).add_(0.1)
    model.load_torch_state_dict(tm.state_dict())
    x = rng.normal(size=(6, 5)).astype(np.float32)
    _close(_out(tm, x), model(x).data)


def test_load_torch_state_dict_checks_keys_and_shapes():
    model = nn.MLP([5, 16, 3], rng=0)
    sd = model.to_torch().state_dict()
    with pytest.raises(KeyError, match=r"missing keys \['2.bias'\]"):
        model.load_torch_state_dict({k: v for k, v in sd.items() if k != "2.bias"})
    with pytest.raises(KeyError, match=r"unexpected keys \['extra'\]"):
        model.load_torch_state_dict({**sd, "extra": torch.zeros(1)})
    with pytest.raises(ValueError, match="shape"):
        model.load_torch_state_dict({**sd, "0.weight": torch.zeros(16, 4)})
    with pytest.raises(ValueError, match="dtype"):
        model.load_torch_state_dict({**sd, "0.bias": torch.zeros(16, dtype=torch.float64)})
    with pytest.raises(TypeError, match="mapping"):
        model.load_torch_state_dict([1, 2])


def test_unsupported_module_is_named():
    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="no PyTorch equivalent for Custom"):
        nn.Sequential(nn.Linear(2, 2), Custom()).to_torch()


@pytest.mark.parametrize("make_opt", [
    lambda ps: optim.Adam(ps, lr=1e-2),
    lambda ps: optim.AdamW(ps, lr=1e-2, weight_decay=0.1),
    lambda ps: optim.Adam(ps, lr=1e-2, betas=(0.8, 0.99), weight_decay=0.01),
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
], ids=["adam", "adamw", "adam-l2", "sgd-nesterov"])
def test_training_continues_in_torch_with_the_same_optimizer_state(make_opt, rng):
    """Three steps here, then the model and optimizer state go to PyTorch: the next 10 steps
    agree to 1e-5 (Adam moments transposed with the Linear weights, step counts kept)."""
    model = nn.MLP([5, 16, 3], rng=0)
    opt = make_opt(model.parameters())
    x, y = rng.normal(size=(8, 5)).astype(np.float32), rng.integers(0, 3, 8)
    for _ in range(3):
        _step(model, opt, x, y)
    tm = model.to_torch()
    topt = interop.optimizer_to_torch(opt, model, tm)
    if isinstance(opt, optim.Adam):
        st = topt.state[tm[0].weight]
        assert float(st["step"]) == 3
        np.testing.assert_array_equal(st["exp_avg"].numpy(), opt.state[0]["m"].T)
    _train_any(model, opt, tm, topt, x, y, steps=10)


def test_wrong_types_are_named():
    with pytest.raises(TypeError, match="to_torch: expected an autograd_lite nn.Module, got dict"):
        interop.to_torch({})
    model = nn.MLP([2, 3], rng=0)
    with pytest.raises(TypeError, match="optimizer_to_torch: expected an autograd_lite"):
        interop.optimizer_to_torch(torch.optim.SGD(model.to_torch().parameters(), lr=0.1),
                                   model, model.to_torch())


def test_optimizer_over_other_parameters_is_refused():
    model = nn.MLP([2, 3], rng=0)
    opt = optim.Adam([nn.Parameter(np.ones(2))])
    with pytest.raises(ValueError, match="not a parameter of the given MLP"):
        interop.optimizer_to_torch(opt, model, model.to_torch())


# ---------------------------------------------------------------------------------------------
# DLPack


def test_from_dlpack_shares_memory_with_torch():
    src = torch.arange(6.0).reshape(2, 3)
    t = al.from_dlpack(src)
    assert isinstance(t, al.Tensor) and t.shape == (2, 3) and t.dtype == np.float32
    src[0, 0] = 42.0
    assert t.data[0, 0] == 42.0


def test_from_dlpack_shares_memory_with_numpy():
    a = np.arange(4.0)
    t = interop.from_dlpack(a, requires_grad=True)
    a[1] = -1.0
    assert t.data[1] == -1.0 and t.requires_grad
    assert np.shares_memory(interop.from_dlpack(t).data, a)


def test_from_dlpack_errors():
    with pytest.raises(TypeError, match="from_dlpack: expected an object with __dlpack__"):
        al.from_dlpack([1.0, 2.0])
    with pytest.raises(BufferError, match="detached first"):
        al.from_dlpack(torch.ones(2, requires_grad=True))


def test_tensor_to_torch_and_numpy_without_copy():
    t = al.Tensor(np.arange(6.0).reshape(3, 2))
    assert t.__dlpack_device__() == (1, 0)
    tt = torch.from_dlpack(t)
    n = np.from_dlpack(t)
    t.data[2, 1] = 7.0
    assert tt[2, 1].item() == 7.0 and n[2, 1] == 7.0


def test_jax_round_trip():
    jnp = pytest.importorskip("jax.numpy")
    t = al.Tensor(np.arange(3.0, dtype=np.float32))
    np.testing.assert_array_equal(np.asarray(jnp.from_dlpack(t)), t.data)
    np.testing.assert_array_equal(al.from_dlpack(jnp.arange(3.0)).data, np.arange(3.0))


def test_docstring_examples_run():
    import doctest
    assert doctest.testmod(interop, extraglobs={"torch": torch}).failed == 0


def test_a_trained_checkpoint_goes_to_torch(tmp_path, rng):
    from autograd_lite import train
    res = train.run(train.Config(data="moons", epochs=1, hidden=(8,)), tmp_path, progress=False,
                    log=lambda *_: None)
    model = interop.load_trained(tmp_path / "model.npz")
    assert not model.training
    x = rng.normal(size=(5, 2)).astype(np.float32)
    _close(model(x).data, res.model(x).data)
    _close(_out(model.to_torch(), x), res.model(x).data)
    path = interop.save_torch(tmp_path, tmp_path / "model.pt")
    _close(_out(torch.load(path, weights_only=False), x), res.model(x).data)


def test_load_trained_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="autograd-lite train"):
        interop.load_trained(tmp_path)
    nn.save(nn.MLP([2, 3], rng=0), tmp_path / "model.npz")
    (tmp_path / "config.json").write_text('{"dtype": "float32"}')
    with pytest.raises(ValueError, match="not a training config"):
        interop.load_trained(tmp_path)


# ---------------------------------------------------------------------------------------------
# Convolutional and other layers, running statistics, more optimizers


def _conv_net(dt):
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1, dtype=dt, rng=0), nn.BatchNorm2d(6, dtype=dt), nn.ReLU6(),
        nn.MaxPool2d(2), nn.Conv2d(6, 8, 3, stride=2, padding="valid", groups=2, dtype=dt,
                                   rng=1),
        nn.GELU(), nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False),
        nn.ConvTranspose2d(8, 4, 2, stride=2, dtype=dt, rng=2), nn.SiLU(),
        nn.AdaptiveAvgPool2d((2, 3)), nn.Flatten(), nn.Identity(),
        nn.Linear(24, 5, dtype=dt, rng=3), nn.LeakyReLU(0.2), nn.Softplus(beta=2.0), nn.ELU(),
        nn.Hardswish(), nn.Mish(), nn.LogSoftmax(dim=-1))


def _seq_net(dt):
    return nn.Sequential(nn.Conv1d(4, 6, 3, padding=1, dtype=dt, rng=0),
                         nn.BatchNorm1d(6, dtype=dt), nn.Tanh(), nn.Flatten(),
                         nn.Linear(6 * 7, 3, dtype=dt, rng=1), nn.SELU(), nn.Hardtanh(-0.5, 0.5))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make,shape", [(_conv_net, (4, 3, 8, 8)), (_seq_net, (5, 4, 7))],
                         ids=["conv2d", "conv1d"])
def test_layers_and_running_statistics_go_to_torch(make, shape, dtype, rng):
    """A few training-mode passes fill the batch-norm running statistics; the torch module has
    them too: the same outputs in eval mode, and in training mode on a new batch."""
    model = make(dtype)
    for _ in range(3):
        model(rng.normal(1.0, 2.0, size=shape).astype(dtype))
    model.eval()
    tm = model.to_torch()
    x = rng.normal(size=shape).astype(dtype)
    out = _out(tm, x)
    assert out.dtype == dtype
    _close(out, model(x).data, dtype)
    sd = tm.state_dict()
    bn = next(k for k in sd if k.endswith("running_var"))
    assert int(sd[bn.replace("running_var", "num_batches_tracked")]) == 3
    model.train()
    tm.train()
    x = rng.normal(size=shape).astype(dtype)
    _close(tm(torch.from_numpy(x)).detach().numpy(), model(x).data, dtype)


def test_running_statistics_come_back(rng):
    model = _conv_net(np.float32)
    tm = model.to_torch()
    with torch.no_grad():
        for _ in range(2):
            tm(torch.from_numpy(rng.normal(3.0, 2.0, size=(4, 3, 8, 8)).astype(np.float32)))
    model.load_torch_state_dict(tm.state_dict())
    bn = model[1]
    np.testing.assert_array_equal(bn.running_mean, tm[1].running_mean.numpy())
    np.testing.assert_array_equal(bn.running_var, tm[1].running_var.numpy())
    assert bn.num_batches_tracked == 2
    model.eval()
    tm.eval()
    x = rng.normal(size=(2, 3, 8, 8)).astype(np.float32)
    _close(_out(tm, x), model(x).data)
    seq = _seq_net(np.float32)
    ts = seq.to_torch()
    with torch.no_grad():
        ts(torch.from_numpy(rng.normal(2.0, 1.0, size=(5, 4, 7)).astype(np.float32)))
    seq.load_torch_state_dict(ts.state_dict())
    np.testing.assert_array_equal(seq[1].running_mean.data, ts[1].running_mean.numpy())
    assert int(seq[1].num_batches_tracked.data) == 1
    with pytest.raises(ValueError, match="running_mean"):
        model.load_torch_state_dict({**tm.state_dict(), "1.running_mean": torch.zeros(2)})


def test_embedding_and_containers(rng):
    emb = nn.Embedding(10, 4, padding_idx=0, rng=0)
    te = emb.to_torch()
    idx = rng.integers(0, 10, (3, 5))
    _close(te(torch.from_numpy(idx)).detach().numpy(), emb(idx).data)
    assert te.padding_idx == 0
    layers = nn.ModuleList([nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1)])
    heads = nn.ModuleDict({"a": nn.Linear(2, 2, rng=2), "b": nn.Conv1d(1, 2, 2, rng=3)})
    tl, th = layers.to_torch(), heads.to_torch()
    assert list(tl.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert sorted(th.state_dict()) == ["a.bias", "a.weight", "b.bias", "b.weight"]
    x = rng.normal(size=(6, 3)).astype(np.float32)
    h, t = x, torch.from_numpy(x)
    for ours, theirs in zip(layers, tl):
        h, t = ours(h), theirs(t)
    _close(t.detach().numpy(), h.data)
    z = rng.normal(size=(2, 1, 5)).astype(np.float32)
    _close(_out(th["b"], z), heads["b"](z).data)
    layers.load_torch_state_dict(tl.state_dict())
    bil = nn.Bilinear(3, 4, 2, rng=5)
    a, b = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(5, 4)).astype(np.float32)
    _close(bil.to_torch()(torch.from_numpy(a), torch.from_numpy(b)).detach().numpy(),
           bil(a, b).data)
    with pytest.raises(TypeError, match="asymmetric padding"):
        nn.Conv2d(1, 1, 3, padding=((1, 0), (0, 1))).to_torch()


def test_digits_cnn_run_goes_to_torch(tmp_path, rng):
    from autograd_lite import train
    res = train.run(train.Config(data="digits", model="cnn", epochs=1, max_steps=2), tmp_path,
                    progress=False, log=lambda *_: None)
    model = interop.load_trained(tmp_path)
    assert type(model) is nn.DigitsCNN and not model.training
    x = rng.normal(size=(3, 64)).astype(np.float32)
    res.model.eval()
    _close(model(x).data, res.model(x).data)
    path = interop.save_torch(tmp_path, tmp_path / "cnn.pt")
    _close(_out(torch.load(path, weights_only=False), x), res.model(x).data)


def _step(model, opt, x, y):
    """One training step here: the cross-entropy loss, backward, the optimizer's update."""
    L = F.cross_entropy(model(x), y)
    opt.zero_grad()
    L.backward()
    opt.step()
    return L


def _train_any(model, opt, tm, topt, x, y, steps):
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(steps):
        L = _step(model, opt, x, y)
        tl = torch.nn.functional.cross_entropy(tm(tx), ty)
        topt.zero_grad()
        tl.backward()
        topt.step()
        np.testing.assert_allclose(L.item(), tl.item(), rtol=1e-5)
    theirs = tm.state_dict()
    for p in interop._params(model):
        q = theirs[p.theirs].numpy()
        np.testing.assert_allclose(_lookup_param(model, p.ours), q.T if p.transpose else q,
                                   rtol=1e-5, atol=1e-6, err_msg=p.ours)


def _lookup_param(model, path):
    return dict(model.named_parameters())[path].data


@pytest.mark.parametrize("make_opt", [
    lambda ps: optim.Adam(ps, lr=1e-2, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=1e-2, amsgrad=True),
    lambda ps: optim.RMSprop(ps, lr=1e-3),
    lambda ps: optim.RMSprop(ps, lr=1e-3, momentum=0.9, centered=True, weight_decay=0.01),
    lambda ps: optim.Adagrad(ps, lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1),
], ids=["amsgrad", "adamw-amsgrad", "rmsprop", "rmsprop-centered-momentum", "adagrad"])
@pytest.mark.parametrize("net", ["mlp", "cnn"])
def test_more_optimizers_continue_in_torch(make_opt, net, rng):
    if net == "mlp":
        model = nn.MLP([5, 16, 3], rng=0)
        x = rng.normal(size=(8, 5)).astype(np.float32)
    else:
        model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(12, 3, rng=1))
        x = rng.normal(size=(8, 1, 4, 4)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    opt = make_opt(model.parameters())
    for _ in range(3):
        _step(model, opt, x, y)
    tm = model.to_torch()
    topt = interop.optimizer_to_torch(opt, model, tm)
    _train_any(model, opt, tm, topt, x, y, steps=10)


def test_a_trained_checkpoint_continues_training_in_torch(tmp_path, rng):
    """A run written by ``autograd-lite train`` (model.npz, optimizer.npz, config.json) goes to
    PyTorch with its Adam moments and step counts: the next 10 steps agree to 1e-5."""
    from autograd_lite import train
    out = tmp_path / "run"
    cfg = train.Config(data="moons", hidden=(8,), epochs=1, max_steps=5)
    train.run(cfg, out, progress=False, log=lambda s: None)
    model = interop.load_trained(out)
    saved = json.loads((out / "config.json").read_text())
    opt = train.make_optimizer(saved["optimizer"], model.parameters(), saved["lr"])
    nn.load(out / "optimizer.npz", opt)
    assert opt.state[0]["step"] == 5
    tm = model.to_torch()
    topt = interop.optimizer_to_torch(opt, model, tm)
    x, y = rng.normal(size=(16, 2)).astype(np.float32), rng.integers(0, 2, 16)
    _train_any(model, opt, tm, topt, x, y, steps=10)
