"""Optimizers: PyTorch's update rules step by step, in-place updates, untouched gradients."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import optim
from autograd_lite.nn import Parameter

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=3e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("AdamW", dict(lr=1e-2)),
    ("AdamW", dict(lr=1e-2, betas=(0.85, 0.95), eps=1e-7, weight_decay=0.2)),
]
SHAPES = [(4, 3), (3,), ()]


def _run_ours(name, kwargs, init, grads):
    params = [Parameter(a.copy()) for a in init]
    opt = getattr(optim, name)(params, **kwargs)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = al.Tensor(g.copy())
        opt.step()
        yield [p.data.copy() for p in params]


def _problem(dtype, n_steps=12):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(n_steps)]
    return init, grads


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_matches_torch_step_by_step_float32(name, kwargs):
    torch = pytest.importorskip("torch")
    init, grads = _problem(np.float32)
    tparams = [torch.tensor(a, requires_grad=True) for a in init]
    topt = getattr(torch.optim, name)(tparams, **kwargs)
    for step, ours in zip(grads, _run_ours(name, kwargs, init, grads)):
        for p, g in zip(tparams, step):
            p.grad = torch.from_numpy(g.copy())
        topt.step()
        for a, p in zip(ours, tparams):
            assert a.dtype == np.float32
            np.testing.assert_allclose(a, p.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_sgd_rules_by_hand():
    x0, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    (x1, ), (x2, ) = _run_ours("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01),
                               [x0], [[g], [g]])
    d1 = g + 0.01 * x0                        # first step: buffer = gradient
    np.testing.assert_allclose(x1, x0 - 0.1 * d1)
    b2 = 0.9 * d1 + (g + 0.01 * x1)           # dampening 0
    np.testing.assert_allclose(x2, x1 - 0.1 * b2)
    (n1, ), = _run_ours("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), [x0], [[g]])
    np.testing.assert_allclose(n1, x0 - 0.1 * (g + 0.9 * g))


def test_adam_first_step_is_lr_times_sign():
    x0 = np.array([1.0, -2.0, 3.0])
    g = np.array([1e-3, -5.0, 200.0])
    (x1, ), = _run_ours("Adam", dict(lr=0.01, eps=1e-12), [x0], [[g]])
    np.testing.assert_allclose(x1, x0 - 0.01 * np.sign(g), rtol=1e-9)


def test_adamw_decay_is_decoupled_from_the_gradient():
    x0, g = np.array([2.0]), np.array([0.0])
    (x1, ), = _run_ours("AdamW", dict(lr=0.1, weight_decay=0.5), [x0], [[g]])
    np.testing.assert_allclose(x1, x0 * (1 - 0.1 * 0.5))        # zero gradient: only decay
    (a1, ), = _run_ours("Adam", dict(lr=0.1, weight_decay=0.5), [x0], [[g]])
    np.testing.assert_allclose(a1, x0 - 0.1, rtol=1e-6)          # L2 term goes through Adam


@pytest.mark.parametrize("name, kwargs", CONFIGS[1:2] + CONFIGS[6:7])
def test_updates_in_place_and_never_touch_gradients(name, kwargs):
    p = Parameter(np.ones(3))
    data = p.data
    g = np.array([1.0, 2.0, 3.0])
    shared = al.Tensor(g)                      # the same array may back other tensors
    opt = getattr(optim, name)([p], **kwargs)
    for _ in range(3):
        p.grad = shared
        opt.step()
    assert p.data is data and not np.array_equal(data, 1.0)
    np.testing.assert_array_equal(g, [1.0, 2.0, 3.0])


def test_parameters_without_grad_are_skipped_and_zero_grad_clears():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = al.Tensor(np.ones(2))
    opt.step()
    np.testing.assert_array_equal(b.data, 1.0)
    assert not np.array_equal(a.data, 1.0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_training_a_model_with_backward():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    layer = al.nn.Linear(3, 1, dtype=np.float64, rng=0)
    opt = optim.SGD(layer.parameters(), lr=0.1, momentum=0.5)
    for _ in range(200):
        loss = ((layer(X)[:, 0] - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(layer.weight.data[:, 0], [1.0, -2.0, 0.5], atol=1e-6)
    np.testing.assert_allclose(layer.bias.data, [0.3], atol=1e-6)


def test_errors_name_the_optimizer():
    with pytest.raises(ValueError, match="SGD: got an empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="Adam: parameter 0 must be a floating-point Tensor"):
        optim.Adam([al.Tensor([1.0])])
    with pytest.raises(ValueError, match="SGD: nesterov=True needs momentum > 0"):
        optim.SGD([Parameter([1.0])], nesterov=True)
    with pytest.raises(ValueError, match=r"AdamW: betas must be in \[0, 1\)"):
        optim.AdamW([Parameter([1.0])], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Adam: lr must be >= 0"):
        optim.Adam([Parameter([1.0])], lr=-1.0)
