"""RMSprop, Adagrad, AMSGrad, SGD dampening, gradient clipping and the learning-rate schedulers:
step by step against torch.optim (float32, 50 steps, to 1e-6)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import optim
from autograd_lite.nn import Parameter

torch = pytest.importorskip("torch")

SHAPES = [(4, 3), (3,), ()]
STEPS = 50

CONFIGS = [
    ("RMSprop", dict(lr=1e-2)),
    ("RMSprop", dict(lr=1e-2, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("RMSprop", dict(lr=5e-3, momentum=0.9)),
    ("RMSprop", dict(lr=5e-3, momentum=0.5, centered=True, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5,
                     eps=1e-6)),
    ("Adam", dict(lr=1e-2, amsgrad=True)),
    ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=0.05, betas=(0.8, 0.99))),
    ("AdamW", dict(lr=1e-2, amsgrad=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.5, weight_decay=0.1)),
]


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
    return init, grads


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in
                                                        enumerate(CONFIGS)])
def test_each_step_matches_torch_in_float32(name, kwargs):
    init, grads = _problem()
    ours = [Parameter(a.copy()) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(optim, name)(ours, **kwargs)
    ref = getattr(torch.optim, name)(theirs, **kwargs)
    for step, gs in enumerate(grads):
        for p, t, g in zip(ours, theirs, gs):
            p.grad = al.Tensor(g.copy())
            t.grad = torch.tensor(g.copy())
        opt.step()
        ref.step()
        for p, t in zip(ours, theirs):
            assert p.dtype == np.float32
            np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-6, atol=1e-6,
                                       err_msg=f"{name} {kwargs} step {step}")


def test_gradients_are_read_not_written_and_state_is_per_parameter():
    p = Parameter(np.ones(3, np.float32))
    g = al.Tensor(np.full(3, 2.0, np.float32))
    p.grad = g
    for cls in (optim.RMSprop, optim.Adagrad):
        opt = cls([p], lr=0.1)
        opt.step()
        np.testing.assert_array_equal(g.data, 2.0)
        assert isinstance(opt.state, list) and len(opt.state) == 1 and opt.state[0]["step"] == 1


def test_bad_hyperparameters_are_clear_errors():
    p = [Parameter(np.ones(2))]
    with pytest.raises(ValueError, match="SGD: nesterov=True needs momentum > 0 and dampening"):
        optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="RMSprop: alpha must be >= 0"):
        optim.RMSprop(p, alpha=-1.0)
    with pytest.raises(TypeError, match="Adagrad: lr_decay must be a real number"):
        optim.Adagrad(p, lr_decay="x")


# -- clipping ----------------------------------------------------------------------------------


@pytest.mark.parametrize("max_norm, norm_type", [(1.0, 2.0), (0.5, 1.0), (2.0, math.inf),
                                                 (100.0, 2.0), (0.3, 3.0)])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    rng = np.random.default_rng(1)
    gs = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    ours = [Parameter(np.zeros(s, np.float32)) for s in SHAPES]
    theirs = [torch.zeros(s, requires_grad=True) for s in SHAPES]
    shared = []
    for p, t, g in zip(ours, theirs, gs):
        p.grad = al.Tensor(g.copy())
        shared.append(p.grad.data)
        t.grad = torch.tensor(g.copy())
    total = optim.clip_grad_norm_(ours, max_norm, norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total.item(), ref.item(), rtol=1e-6)
    for p, t, g, s in zip(ours, theirs, gs, shared):
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(s, g)                  # the old gradient array untouched


def test_clip_grad_value_and_errors():
    p = Parameter(np.zeros(4))
    p.grad = al.Tensor([-3.0, -0.5, 0.5, 3.0])
    q = Parameter(np.zeros(1))                               # no gradient: skipped
    optim.clip_grad_value_([p, q], 1.0)
    np.testing.assert_array_equal(p.grad.data, [-1.0, -0.5, 0.5, 1.0])
    assert q.grad is None
    p.grad = al.Tensor([np.inf, 0.0, 0.0, 0.0])
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm of order 2.0"):
        optim.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    with pytest.raises(TypeError, match="clip_grad_norm_: item 0 is a int, not a Tensor"):
        optim.clip_grad_norm_([1], 1.0)
    with pytest.raises(ValueError, match="clip_grad_value_: clip_value must be >= 0"):
        optim.clip_grad_value_([p], -1.0)


# -- schedulers --------------------------------------------------------------------------------


SCHEDULERS = [
    ("StepLR", dict(step_size=7, gamma=0.5), "SGD", dict(lr=0.1)),
    ("MultiStepLR", dict(milestones=[30, 5, 12], gamma=0.3), "SGD", dict(lr=0.1)),
    ("ExponentialLR", dict(gamma=0.95), "RMSprop", dict(lr=0.01)),
    ("LambdaLR", dict(lr_lambda=lambda step: 1 / (1 + 0.1 * step)), "Adam", dict(lr=0.01)),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=20), "SGD", dict(lr=0.1)),
    ("LinearLR", {}, "Adam", dict(lr=0.01)),
    ("CosineAnnealingLR", dict(T_max=15, eta_min=0.001), "SGD", dict(lr=0.1)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=STEPS), "SGD", dict(lr=0.1, momentum=0.9)),
    ("OneCycleLR", dict(max_lr=0.5, epochs=5, steps_per_epoch=10, anneal_strategy="linear",
                        three_phase=True, pct_start=0.25), "SGD", dict(lr=0.1, momentum=0.9)),
    ("OneCycleLR", dict(max_lr=0.01, total_steps=STEPS), "Adam", dict(lr=0.01)),
    ("OneCycleLR", dict(max_lr=0.01, total_steps=STEPS, cycle_momentum=False), "Adagrad",
     dict(lr=0.01)),
]


@pytest.mark.parametrize("name, kwargs, opt_name, opt_kwargs", SCHEDULERS,
                         ids=[f"{s[0]}-{i}" for i, s in enumerate(SCHEDULERS)])
def test_schedulers_match_torch_over_50_steps(name, kwargs, opt_name, opt_kwargs):
    init, grads = _problem(1)
    ours = [Parameter(a.copy()) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(optim, opt_name)(ours, **opt_kwargs)
    ref = getattr(torch.optim, opt_name)(theirs, **opt_kwargs)
    sched = getattr(optim, name)(opt, **kwargs)
    rsched = getattr(torch.optim.lr_scheduler, name)(ref, **kwargs)
    for step, gs in enumerate(grads[:STEPS - 1]):
        assert math.isclose(opt.lr, ref.param_groups[0]["lr"], rel_tol=1e-9, abs_tol=1e-15), step
        assert sched.get_last_lr() == [opt.lr]
        if "momentum" in ref.param_groups[0]:
            assert math.isclose(opt.momentum, ref.param_groups[0]["momentum"], rel_tol=1e-12)
        if "betas" in ref.param_groups[0]:
            assert math.isclose(opt.betas[0], ref.param_groups[0]["betas"][0], rel_tol=1e-12)
        for p, t, g in zip(ours, theirs, gs):
            p.grad = al.Tensor(g.copy())
            t.grad = torch.tensor(g.copy())
        opt.step()
        ref.step()
        sched.step()
        rsched.step()
        for p, t in zip(ours, theirs):
            np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_one_cycle_refuses_to_step_past_total_steps_and_optimizers_without_momentum():
    opt = optim.SGD([Parameter(np.zeros(1))], lr=0.1)
    s = optim.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        s.step()
    with pytest.raises(ValueError, match="OneCycleLR: stepped 4 times, more than total_steps = 3"):
        s.step()
    with pytest.raises(ValueError, match="OneCycleLR: Adagrad has no momentum or betas"):
        optim.OneCycleLR(optim.Adagrad([Parameter(np.zeros(1))]), max_lr=1.0, total_steps=3)
    with pytest.raises(ValueError, match="OneCycleLR: give total_steps, or epochs"):
        optim.OneCycleLR(opt, max_lr=1.0)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(mode="max", patience=2, factor=0.5, cooldown=2),
    dict(threshold_mode="abs", threshold=0.1, patience=1, min_lr=0.02),
])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    metrics = np.concatenate([np.linspace(5, 1, 10), np.full(15, 1.0), np.linspace(1, 0.5, 5),
                              np.full(30, 0.5)])
    metrics[::7] += 0.05
    opt = optim.SGD([Parameter(np.zeros(1))], lr=0.5)
    ref = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    s = optim.ReduceLROnPlateau(opt, **kwargs)
    rs = torch.optim.lr_scheduler.ReduceLROnPlateau(ref, **kwargs)
    lrs = []
    for m in metrics:
        s.step(m)
        rs.step(float(m))
        lrs.append(opt.lr)
        assert math.isclose(opt.lr, ref.param_groups[0]["lr"], rel_tol=1e-12)
    assert len(set(lrs)) > 1                                 # it did reduce


def test_scheduler_state_dict_round_trip():
    opt = optim.SGD([Parameter(np.zeros(1))], lr=1.0)
    s = optim.StepLR(opt, step_size=2)
    for _ in range(3):
        s.step()
    state = s.state_dict()
    opt2 = optim.SGD([Parameter(np.zeros(1))], lr=1.0)
    s2 = optim.StepLR(opt2, step_size=5)
    s2.load_state_dict(state)
    s.step()
    s2.step()
    assert opt.lr == opt2.lr and s2.last_epoch == 4
    with pytest.raises(KeyError, match=r"StepLR.load_state_dict: unexpected keys \['bogus'\]"):
        s2.load_state_dict({"bogus": 1})
