"""The conv and einsum benchmarks compare like with like (nothing here is timed)."""

from __future__ import annotations

import numpy as np

from benchmarks import conv_step, einsum


def test_conv_step_implementations_compute_the_same_step():
    fns = conv_step.implementations(*conv_step.inputs(batch=4))
    conv_step.check(fns)       # raises naming the implementation that differs
    y, dw, dx = fns["autograd_lite"]()
    assert y.shape == (4, 32, 32, 32) and dw.shape == (32, 16, 3, 3) and dx.shape == (4, 16, 32, 32)


def test_einsum_implementations_compute_the_same_gradients():
    fns = einsum.implementations(*einsum.inputs(batch=4))
    einsum.check(fns)
    out = fns["autograd_lite einsum"]()
    assert len(out) == 4 and all(np.asarray(o).dtype == np.float32 for o in out)


def test_cnn_epoch_models_start_from_the_same_weights():
    torch = __import__("pytest").importorskip("torch")
    from benchmarks import cnn_epoch
    X, y = cnn_epoch.inputs()
    fns = cnn_epoch.implementations(X[:64], y[:64])
    ours, theirs = fns["autograd_lite"](), fns["PyTorch"]()
    assert np.isfinite(ours) and np.isfinite(theirs)
    assert abs(ours - theirs) < 0.25 * abs(theirs)   # same model, same batches (dropout differs)
    assert torch.get_num_threads() >= 1
