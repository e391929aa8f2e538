"""The conv, einsum and CNN-epoch benchmarks compare like with like (nothing here is timed;
tests/test_benchmarks.py checks every implementation against the floor at tiny sizes)."""

from __future__ import annotations

import numpy as np

from benchmarks import cnn_epoch, conv_step, einsum


def test_conv_step_shapes_and_kernel_products():
    fns = conv_step.implementations(*conv_step.inputs(batch=2))
    y, dw, dx = fns["autograd_lite"]()
    assert y.shape == (2, 32, 32, 32) and dw.shape == (32, 16, 3, 3) and dx.shape == (2, 16, 32, 32)
    assert fns["kernel: matmuls"]().shape == (16 * 3 * 3, 2 * 34 * 34)   # dX columns, padded grid


def test_einsum_gradients_are_float32_and_the_kernel_is_the_forward():
    a, b, c, g = einsum.inputs(batch=2)
    fns = einsum.implementations(a, b, c, g)
    out = fns["autograd_lite"]()
    assert len(out) == 4 and all(np.asarray(o).dtype == np.float32 for o in out)
    np.testing.assert_allclose(fns["kernel: NumPy einsum forward"](), out[0], rtol=1e-4,
                               atol=1e-3)


def test_cnn_epoch_floor_gradients_match_autograd_lite_with_dropout_off():
    import autograd_lite as al

    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((5, 64)).astype(np.float32), rng.integers(0, 10, 5)
    model, params, _ = cnn_epoch._model()
    model.features[-1].p = 0.0                      # identity: compare gradients alone
    loss = al.cross_entropy(model(X), y)
    loss.backward()
    ours = [model.features[0].weight, model.features[0].bias, model.features[3].weight,
            model.features[3].bias, model.head.weight, model.head.bias]
    floor_loss, grads = cnn_epoch.floor_step(params, X, y, np.float32(1.0))
    np.testing.assert_allclose(floor_loss, loss.item(), rtol=1e-5)
    for t, g in zip(ours, grads):
        np.testing.assert_allclose(g, t.grad.data, rtol=1e-4, atol=1e-6)
