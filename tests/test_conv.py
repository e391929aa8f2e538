"""Convolution, pooling and einsum beyond the spec table: second order (gradgradcheck), PyTorch
parity over a grid of stride/padding/dilation/groups/odd sizes in float32 and float64, PyTorch's
tie routing in max pooling, the layers (initialisation, BatchNorm2d running statistics), einsum's
identities with matmul/tensordot/outer/inner/dot, and the digits CNN."""

from __future__ import annotations

import itertools
import os
import warnings

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn, ops

THOROUGH = os.environ.get("AUTOGRAD_LITE_THOROUGH") == "1"


# ---------------------------------------------------------------------------------------------
# second order


@pytest.mark.parametrize("kw", [
    {}, {"stride": 2, "padding": 1}, {"dilation": 2, "groups": 2, "padding": ((1, 0), (0, 2))},
])
@pytest.mark.parametrize("slack", [0.0, float("inf")])   # stride 1: im2col, the padded grid
def test_conv2d_gradgradcheck(kw, slack, rng, monkeypatch):
    monkeypatch.setattr(ops.conv, "GRID_SLACK", slack)
    x = rng.normal(size=(2, 2, 5, 4))
    w = rng.normal(size=(4, 2 // kw.get("groups", 1), 2, 3))
    assert al.gradgradcheck(lambda a, b: al.conv2d(a, b, **kw), [x, w])


def test_conv_transpose2d_and_conv1d_gradgradcheck(rng):
    x = rng.normal(size=(1, 2, 3, 3))
    w = rng.normal(size=(2, 2, 2, 3))
    assert al.gradgradcheck(lambda a, b: al.conv_transpose2d(a, b, stride=2, padding=1,
                                                             output_padding=1), [x, w])
    assert al.gradgradcheck(lambda a, b: al.conv1d(a, b, stride=2, padding=1),
                            [rng.normal(size=(2, 2, 7)), rng.normal(size=(3, 2, 3))])


def test_conv2d_weight_gradgradcheck(rng):
    f = lambda a, g: ops.conv.conv2d_weight(a, g, stride=(2, 1), pads=(1, 1, 0, 1),
                                            dilation=(1, 1), groups=1, ksize=(2, 2))
    assert al.gradgradcheck(f, [rng.normal(size=(1, 2, 4, 4)), rng.normal(size=(1, 3, 2, 4))])


@pytest.mark.parametrize("slack", [0.0, float("inf")])
def test_conv2d_weight_stride_one_gradgradcheck(slack, rng, monkeypatch):
    monkeypatch.setattr(ops.conv, "GRID_SLACK", slack)
    f = lambda a, g: ops.conv.conv2d_weight(a, g, stride=(1, 1), pads=(0, 1, 1, 0),
                                            dilation=(2, 1), groups=2, ksize=(2, 2))
    assert al.gradgradcheck(f, [rng.normal(size=(2, 4, 4, 3)), rng.normal(size=(2, 2, 3, 3))])


def test_pool_and_fold_gradgradcheck(rng):
    x = rng.normal(size=(1, 2, 5, 5))
    assert al.gradgradcheck(lambda a: al.max_pool2d(a, 2, 1) ** 2, [x])
    assert al.gradgradcheck(lambda a: al.avg_pool2d(a, 3, 2, 1, ceil_mode=True) ** 2, [x])
    assert al.gradgradcheck(lambda a: al.adaptive_avg_pool2d(a, (2, 3)) ** 2, [x])
    assert al.gradgradcheck(lambda a: al.unfold(a, 2, stride=2) ** 2, [x])
    assert al.gradgradcheck(lambda c: al.fold(c, (3, 3), 2) ** 2, [rng.normal(size=(1, 4, 4))])


@pytest.mark.parametrize("subscripts,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 2)]), ("ii->i", [(3, 3)]), ("...ij,...jk", [(2, 1, 2, 3), (3, 2)]),
    ("bij,bjk,bkl->bil", [(2, 2, 3), (2, 3, 2), (2, 2, 2)]), ("ij->", [(2, 3)]),
])
def test_einsum_gradgradcheck(subscripts, shapes, rng):
    xs = [rng.normal(size=s) for s in shapes]
    assert al.gradgradcheck(lambda *ts: al.einsum(subscripts, *ts) ** 2, xs)


def test_conv_hessian_vector_product_matches_finite_differences(rng):
    x, w = rng.normal(size=(1, 2, 4, 4)), rng.normal(size=(2, 2, 3, 3))
    f = lambda w_: (al.conv2d(x, w_, padding=1).tanh() ** 2).sum()
    v = rng.normal(size=w.shape)
    hv = al.hvp(f, w, v)
    g = lambda w_: np.asarray(al.grad(f)(w_))
    eps = 1e-6
    np.testing.assert_allclose(np.asarray(hv), (g(w + eps * v) - g(w - eps * v)) / (2 * eps),
                               rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# PyTorch parity grid, float32 and float64


def _grid():
    sizes = [(5, 6), (7, 4)] if not THOROUGH else [(5, 6), (7, 4), (8, 8), (9, 5)]
    strides = [1, 2, (2, 3)] if THOROUGH else [1, 2]
    pads = [0, 1, (2, 0)] if THOROUGH else [0, 1]
    dils = [1, 2] if THOROUGH else [1, 2]
    groups = [1, 2, 4] if THOROUGH else [1, 4]
    yield from itertools.product(sizes, strides, pads, dils, groups)


GRID = list(_grid()) if THOROUGH else list(_grid())[::2]   # default: every other combination


@pytest.mark.parametrize("slack", [0.0, float("inf")])   # stride 1: im2col, the padded grid
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_and_transpose_match_pytorch_over_a_grid(dtype, slack, rng, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(ops.conv, "GRID_SLACK", slack)
    F = torch.nn.functional
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-10}
    for (h, w_), s, p, d, g in GRID:
        x = rng.normal(size=(2, 4, h, w_)).astype(dtype)
        w = rng.normal(size=(4, 4 // g, 3, 2)).astype(dtype)
        kw = {"stride": s, "padding": p, "dilation": d, "groups": g}
        try:
            ty_ref = F.conv2d(torch.tensor(x), torch.tensor(w), **kw)
        except RuntimeError:
            continue   # the kernel does not fit: both reject it
        for fn, tfn, extra in ((al.conv2d, F.conv2d, {}),
                               (al.conv_transpose2d, F.conv_transpose2d, {})):
            X, W = al.Tensor(x, requires_grad=True), al.Tensor(w, requires_grad=True)
            tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
            y, ty = fn(X, W, **kw, **extra), tfn(tx, tw, **kw, **extra)
            assert y.dtype == dtype and y.shape == tuple(ty.shape), (kw, y.shape, ty.shape)
            np.testing.assert_allclose(y.data, ty.detach().numpy(), **tol, err_msg=str(kw))
            u = rng.normal(size=y.shape).astype(dtype)
            y.backward(u)
            ty.backward(torch.tensor(u))
            assert X.grad.dtype == dtype and W.grad.dtype == dtype
            np.testing.assert_allclose(X.grad.data, tx.grad.numpy(), **tol, err_msg=str(kw))
            np.testing.assert_allclose(W.grad.data, tw.grad.numpy(), **tol, err_msg=str(kw))
        assert ty_ref.shape


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pools_match_pytorch_over_a_grid(dtype, rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    shapes = [(5, 6), (7, 7)] + ([(8, 5), (9, 9)] if THOROUGH else [])
    combos = list(itertools.product(shapes, [2, 3], [None, 1, 2], [0, 1], [False, True]))
    for (h, w), k, s, p, ceil in combos if THOROUGH else combos[::2]:
        x = rng.normal(size=(2, 3, h, w)).astype(dtype)
        calls = [(al.max_pool2d, F.max_pool2d, {"dilation": 2 if k == 2 else 1}),
                 (al.avg_pool2d, F.avg_pool2d, {"count_include_pad": p == 0})]
        for fn, tfn, extra in calls:
            kw = {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": ceil, **extra}
            tx = torch.tensor(x, requires_grad=True)
            try:
                ty = tfn(tx, **kw)
            except RuntimeError:
                continue
            X = al.Tensor(x, requires_grad=True)
            y = fn(X, **kw)
            np.testing.assert_allclose(y.data, ty.detach().numpy(), **tol, err_msg=str(kw))
            u = rng.normal(size=y.shape).astype(dtype)
            y.backward(u)
            ty.backward(torch.tensor(u))
            np.testing.assert_allclose(X.grad.data, tx.grad.numpy(), **tol, err_msg=str(kw))


def test_float16_and_zeros_keep_their_dtype_and_values(rng):
    x = rng.normal(size=(1, 2, 5, 5))
    w = rng.normal(size=(3, 2, 3, 3))
    for fn, args in ((al.conv2d, (x, w)), (al.max_pool2d, (x, 2)), (al.avg_pool2d, (x, 2)),
                     (al.unfold, (x, 2)), (al.adaptive_avg_pool2d, (x, 2))):
        half = [a.astype(np.float16) if isinstance(a, np.ndarray) else a for a in args]
        y16, y64 = fn(*half), fn(*args)
        assert y16.dtype == np.float16
        np.testing.assert_allclose(y16.data.astype(np.float64), y64.data, rtol=2e-2, atol=3e-2)
    X = al.Tensor(np.zeros((1, 2, 4, 4)), requires_grad=True)
    W = al.Tensor(np.zeros((2, 2, 3, 3)), requires_grad=True)
    al.conv2d(X, W, padding=1).sum().backward()
    assert not X.grad.data.any() and W.grad.data.shape == (2, 2, 3, 3)


def test_max_pool_routes_ties_as_pytorch(rng):
    torch = pytest.importorskip("torch")
    for x in (np.zeros((1, 1, 4, 4)), np.round(rng.normal(size=(2, 2, 6, 6))),
              np.ones((1, 2, 5, 5))):
        for kw in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1},
                   {"kernel_size": 2, "stride": 1, "ceil_mode": True}):
            X = al.Tensor(x, requires_grad=True)
            al.max_pool2d(X, **kw).sum().backward()
            tx = torch.tensor(x, requires_grad=True)
            torch.nn.functional.max_pool2d(tx, **kw).sum().backward()
            np.testing.assert_array_equal(X.grad.data, tx.grad.numpy(), err_msg=str(kw))


def test_einsum_matches_torch_in_float32(rng):
    torch = pytest.importorskip("torch")
    xs = [rng.normal(size=s).astype(np.float32) for s in ((4, 5, 6), (4, 6, 3), (4, 3, 2))]
    ts = [al.Tensor(x, requires_grad=True) for x in xs]
    tt = [torch.tensor(x, requires_grad=True) for x in xs]
    y, ty = al.einsum("bij,bjk,bkl->bil", *ts), torch.einsum("bij,bjk,bkl->bil", *tt)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    y.sum().backward()
    ty.sum().backward()
    for a, b in zip(ts, tt):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# einsum identities


def test_einsum_identities_with_matmul(rng):
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 5))
    v = rng.normal(size=4)
    batch = rng.normal(size=(2, 3, 4))
    same = lambda p, q: np.testing.assert_allclose(np.asarray(p.data), np.asarray(q.data),
                                                   rtol=1e-12, atol=1e-12)
    same(al.matmul(a, b), al.einsum("ij,jk->ik", a, b))
    same(al.matmul(batch, b), al.einsum("...ij,jk->...ik", batch, b))
    same(al.matmul(a, v), al.einsum("ij,j->i", a, v))


def test_einsum_identities_with_tensordot_outer_inner_dot(rng):
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 5))
    v, u = rng.normal(size=4), rng.normal(size=4)
    batch = rng.normal(size=(2, 3, 4))
    same = lambda p, q: np.testing.assert_allclose(np.asarray(p.data), np.asarray(q.data),
                                                   rtol=1e-12, atol=1e-12)
    checked = 0
    for name, call, subscripts, args in (
            ("tensordot", lambda: al.tensordot(batch, b, axes=1), "nij,jk->nik", (batch, b)),
            ("outer", lambda: al.outer(v, u), "i,j->ij", (v, u)),
            ("inner", lambda: al.inner(v, u), "i,i->", (v, u)),
            ("dot", lambda: al.dot(a, b), "ij,jk->ik", (a, b))):
        if not hasattr(al, name):
            continue
        same(call(), al.einsum(subscripts, *args))
        checked += 1
    if not checked:
        pytest.skip("tensordot/outer/inner/dot are not on this branch (matmul checked)")


def test_einsum_gradients_are_the_matrix_rules(rng):
    """dA = g Wᵀ and dW = Aᵀ g: the exchanged-subscript einsums are the matmul VJPs."""
    A = al.Tensor(rng.normal(size=(5, 3)), requires_grad=True)
    W = al.Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    g = rng.normal(size=(5, 4))
    al.einsum("ni,ij->nj", A, W).backward(g)
    np.testing.assert_allclose(A.grad.data, g @ W.data.T, rtol=1e-12)
    np.testing.assert_allclose(W.grad.data, A.data.T @ g, rtol=1e-12)


def test_einsum_optimize_paths_agree(rng):
    xs = [rng.normal(size=s) for s in ((3, 4), (4, 5), (5, 6), (6, 2))]
    outs = [al.einsum("ij,jk,kl,lm->im", *xs, optimize=o).data
            for o in (False, True, "greedy", "optimal")]
    for o in outs[1:]:
        np.testing.assert_allclose(o, outs[0], rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# layers


def test_conv_layer_initialisation_follows_pytorch_bounds():
    for layer, fan_in in ((nn.Conv2d(6, 8, (3, 2), groups=2, rng=0), 3 * 3 * 2),
                          (nn.Conv1d(4, 2, 5, rng=1), 4 * 5),
                          (nn.ConvTranspose2d(4, 6, 3, groups=2, rng=2), 3 * 9)):
        bound = 1 / np.sqrt(fan_in)
        for p in (layer.weight, layer.bias):
            assert p.dtype == np.float32
            assert np.abs(p.data).max() <= bound
        assert np.abs(layer.weight.data).max() > 0.8 * bound     # spread over the interval
    assert nn.Conv2d(6, 8, 3, groups=2, rng=0).weight.shape == (8, 3, 3, 3)
    assert nn.ConvTranspose2d(4, 6, 3, groups=2, rng=0).weight.shape == (4, 3, 3, 3)


def test_conv2d_layer_matches_torch_with_the_same_weights(rng):
    torch = pytest.importorskip("torch")
    layer = nn.Conv2d(3, 4, 3, stride=2, padding=1, dtype=np.float64, rng=0)
    ref = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(layer.weight.data))
        ref.bias.copy_(torch.tensor(layer.bias.data))
    x = rng.normal(size=(2, 3, 7, 6))
    np.testing.assert_allclose(layer(x).data, ref(torch.tensor(x)).detach().numpy(), rtol=1e-12,
                               atol=1e-12)


def test_batchnorm2d_running_statistics_match_torch(rng):
    torch = pytest.importorskip("torch")
    for momentum in (0.1, None):
        bn = nn.BatchNorm2d(3, momentum=momentum, dtype=np.float64)
        ref = torch.nn.BatchNorm2d(3, momentum=momentum).double()
        for _ in range(3):
            x = rng.normal(1.5, 2.0, size=(4, 3, 5, 2))
            X, tx = al.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            y, ty = bn(X), ref(tx)
            np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
            u = rng.normal(size=x.shape)
            y.backward(u)
            ty.backward(torch.tensor(u))
            np.testing.assert_allclose(X.grad.data, tx.grad.numpy(), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(bn.running_mean, ref.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(bn.running_var, ref.running_var.numpy(), rtol=1e-12)
        np.testing.assert_allclose(bn.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-8)
        bn.eval()
        ref.eval()
        x = rng.normal(size=(2, 3, 4, 4))
        np.testing.assert_allclose(bn(x).data, ref(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-10, atol=1e-10)


def test_batchnorm2d_rejects_wrong_channels_and_single_values():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected \(N, 3, H, W\)"):
        nn.BatchNorm2d(3)(np.ones((2, 4, 2, 2)))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm2d(3)(np.ones((1, 3, 1, 1)))


def test_layers_reject_bad_sizes():
    with pytest.raises(ValueError, match="Conv2d: in_channels=3 and out_channels=4 must be "
                                         "divisible by groups=2"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Conv1d: in_channels must be a positive int"):
        nn.Conv1d(0, 4, 3)


def test_pool_layers_and_flatten():
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    assert nn.MaxPool2d(2)(x).data[0, 0].tolist() == [[5.0, 7.0], [13.0, 15.0]]
    assert nn.AvgPool2d(2, count_include_pad=False)(x).shape == (1, 2, 2, 2)
    assert nn.AdaptiveAvgPool2d((1, 2))(x).shape == (1, 2, 1, 2)
    assert nn.Flatten()(x).shape == (1, 32)
    assert nn.Flatten(0, 1)(x).shape == (2, 4, 4)
    assert "kernel_size=2" in repr(nn.MaxPool2d(2))


def test_digits_cnn_learns_a_few_steps(rng):
    from autograd_lite import optim
    from autograd_lite.data import load_digits
    d = load_digits()
    model = nn.DigitsCNN((16, 32), dropout=0.0, rng=0)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    X, y = d.X_train[:256], d.y_train[:256]
    losses = []
    for _ in range(30):
        loss = al.cross_entropy(model(X), y)
        for p in model.parameters():
            p.grad = None
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    assert model.num_parameters() == 16 * 9 + 16 + 32 * 16 * 9 + 32 + 128 * 10 + 10


def test_draw_graph_labels_show_conv_and_pool_hyperparameters():
    pytest.importorskip("graphviz")
    x = al.Tensor(np.ones((1, 1, 6, 6)), requires_grad=True)
    w = al.Tensor(np.ones((2, 1, 3, 3)), requires_grad=True)
    y = al.max_pool2d(al.conv2d(x, w, stride=2, padding=1), 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = al.draw_graph(y.sum()).source
    assert "conv2d\nkernel 3×3\nstride 2\npadding 1\"" in src   # every op and option:
    assert "max_pool2d\nkernel 2×2\nstride 2\"" in src        # tests/test_viz_labels.py


def test_train_config_and_cli_choose_the_cnn(tmp_path, capsys):
    from autograd_lite.cli import main
    from autograd_lite.train import Config, run
    res = run(Config(model="cnn", epochs=1), tmp_path / "cnn", progress=False, log=lambda s: None)
    assert isinstance(res.model, nn.DigitsCNN) and res.test_acc > 0.5
    loaded = nn.load(tmp_path / "cnn" / "model.npz")
    assert set(loaded) == {name for name, _ in res.model.named_parameters()}
    with pytest.raises(ValueError, match="expected 'mlp' or 'cnn' \\(cnn with --data digits"):
        Config(model="cnn", data="moons").resolved()
    assert main(["train", "--model", "cnn", "--data", "moons", "--out", str(tmp_path)]) == 2
    assert "argument --model: expected 'mlp' or 'cnn'" in capsys.readouterr().err
